"""The hub of the end-to-end tests, as a process of its own (``kiosk hub run``), with what
its people would have done: a doctor's account, a booking platform's token, and a
technician enrolling cabins. Bookings go through its JSON API, as a platform's would.

The hub can be killed with SIGKILL and started again on the same database."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from hub.booking.tokens import add_token
from hub.cabins.enrolment import add_cabin
from hub.settings import load_hub_settings
from hub.store import Database
from kiosk.hub_link import credential
from kiosk.hub_link.enrol import enrol
from tests.hub.fleet import add_person, prepare, write_hub_config
from tests.kiosk.process import REPO

HUB_START_S = 30.0


class HubProcess:
    def __init__(self, folder: Path, *, extra: str = "", heartbeat_s: float = 0.5) -> None:
        self.folder = folder
        # Short slots: a day's second booking still starts within the cabin's arrival
        # window (30 min before the slot), whatever the time the test runs.
        self.config = write_hub_config(
            folder, heartbeat_s=heartbeat_s, extra=extra, consultation_minutes=10
        )
        self.settings = load_hub_settings(self.config)
        self.runtime = folder / "runtime.json"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.token = ""
        self.log = folder / "hub.log"

    async def prepare(self, doctors: dict[str, list[str]]) -> None:
        """Schema, sites, the doctors (username → sites) and the platform's token."""
        await prepare(self.settings)
        db = Database(self.settings.database_url)
        try:
            for username, sites in doctors.items():
                await add_person(db, username, roles=["doctor"], sites=sites, name=username)
            await add_person(db, "tech", roles=["technician"], sites=["*"])
            async with db.transaction() as s:
                self.token = await add_token(s, "plateforme", datetime.now(UTC))
        finally:
            await db.close()

    def start(self) -> str:
        self.runtime.unlink(missing_ok=True)
        env = dict(os.environ)
        if self.url:  # a restart: the cabins dial the address they were given
            env["KIOSK_HUB_LISTEN_PORT"] = str(urlsplit(self.url).port)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kiosk.cli", "hub", "run", "--config", str(self.config),
                 "--runtime-file", str(self.runtime), "--log-level", "INFO"],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + HUB_START_S
        while not self.runtime.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited: {self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError("the hub did not start")
            time.sleep(0.05)
        self.url = str(json.loads(self.runtime.read_text())["url"])
        return self.url

    def kill(self) -> None:
        """SIGKILL: no goodbye to anyone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`kiosk hub ...` against this hub's configuration, as an administrator runs it."""
        return subprocess.run(
            [sys.executable, "-m", "kiosk.cli", "hub", *args, "--config", str(self.config)],
            cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    async def enrol(self, cabin_id: str, site: str, state_dir: Path) -> None:
        """The technician's two steps: a secret at the hub, then the cabin trades it."""
        db = Database(self.settings.database_url)
        try:
            async with db.transaction() as s:
                secret = await add_cabin(s, cabin_id, site, datetime.now(UTC), timedelta(hours=1))
        finally:
            await db.close()
        token = await enrol(self.url, cabin_id, secret)
        credential.save(state_dir, credential.Credential(cabin_id, token))

    async def book(
        self, site: str, family: str, given: str, birth: str, sex: str | None = None
    ) -> str:
        """A booking platform books the site's next free slot; the patient's code."""
        auth = {"Authorization": f"Bearer {self.token}"}
        async with aiohttp.ClientSession(headers=auth) as http:
            free: list[dict[str, Any]] = []
            for days in (0, 1):  # late in the evening, today may have no slot left
                day = (datetime.now(UTC) + timedelta(days=days)).date().isoformat()
                async with http.get(f"{self.url}/api/v1/sites/{site}/slots?date={day}") as resp:
                    body = await resp.json()
                    assert resp.status == 200, body
                free = [s for s in body["slots"] if s["free"]]
                if free:
                    break
            booking: dict[str, Any] = {
                "site": site,
                "start": free[0]["start"],
                "family_name": family,
                "given_name": given,
                "birth_date": birth,
                "phone": "01 23 45 67 89",
                "reason": "Consultation de médecine générale",
            }
            if sex is not None:
                booking["sex"] = sex
            async with http.post(f"{self.url}/api/v1/bookings", json=booking) as resp:
                made = await resp.json()
                assert resp.status == 201, made
        return str(made["code"])


def hub_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="kiosk-e2e-hub-"))


async def wait_until_online(hub: HubProcess, cabin_url: str, within_s: float = 30.0) -> None:
    async with aiohttp.ClientSession() as http:
        deadline = time.monotonic() + within_s
        while True:
            async with http.get(cabin_url + "/api/status") as resp:
                status = await resp.json()
            if status["hub"]["state"] == "online":
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the cabin is not online at the hub: {status['hub']}")
            await asyncio.sleep(0.1)
