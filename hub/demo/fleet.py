"""`kiosk demo`: a hub and three cabins on this machine, as a department runs them.

The hub runs in this process (config/demo-hub.toml, SQLite in the demo's folder) with the
demo's accounts; the cabins are real daemons (`kiosk run` on config/demo.toml, each
named by KIOSK_SITE__... variables), enrolled with `kiosk enrol` as a technician would;
the touchscreen of the first (Nangis) is `kiosk ui` in this terminal. Chelles and
Moret-sur-Loing get simulated patients, booked at the hub, who check in on their own.
Everything goes through the real doors: the booking code, the cabins' WebSockets to the
hub, their local APIs."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import secrets
import signal
import sys
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub.cabins.enrolment import add_cabin
from hub.demo.accounts import create_demo_accounts
from hub.demo.booking import DemoBooker
from hub.demo.people import HELENE, CabinApi, Person, visitors
from hub.service import Hub
from hub.settings import HubSettings, load_hub_settings
from hub.store import Database, migrate
from hub.sync_sites import sync_sites

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
HUB_CONFIG = REPO / "config" / "demo-hub.toml"
CABIN_CONFIG = REPO / "config" / "demo.toml"
# A cabin daemon serves in about a second; allow for a loaded machine.
CABIN_START_S = 60.0
CABIN_STOP_S = 10.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


@dataclass(frozen=True)
class DemoCabin:
    cabin_id: str
    site: str
    name: str
    address: str
    simulated_patients: bool


CABINS = (
    DemoCabin("nangis-01", "NAN231", "Centre médico-social de Nangis",
              "13 boulevard Voltaire, 77370 Nangis, France", False),
    DemoCabin("chelles-01", "CHE132", "Maison Départementale des Solidarités de Chelles",
              "25 avenue du Gendarme Castermant, 77500 Chelles, France", True),
    DemoCabin("moret-01", "MSL123", "Communauté de Communes Moret Seine et Loing",
              "18 rue Gustave Prugnat, 77250 Moret-sur-Loing, France", True),
)  # fmt: skip


class DemoFleet:
    def __init__(
        self, state_dir: Path, *, port: int, visitor_every_s: float, patience_s: float
    ) -> None:
        self.state_dir = state_dir
        self.port = port
        self.visitor_every_s = visitor_every_s
        self.patience_s = patience_s
        self.token = secrets.token_urlsafe(24)
        self.hub: Hub | None = None
        self.processes: dict[str, asyncio.subprocess.Process] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.appointment: tuple[str, Person] | None = None

    # -- the hub ---------------------------------------------------------------------

    def hub_settings(self) -> HubSettings:
        database = self.state_dir / "hub" / "hub.sqlite3"
        return load_hub_settings(
            HUB_CONFIG, database_url=f"sqlite+aiosqlite:///{database}", listen_port=self.port
        )

    async def start_hub(self) -> Hub:
        settings = self.hub_settings()
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db)
            await sync_sites(db, settings)
            await create_demo_accounts(db)
        finally:
            await db.close()
        hub = Hub(settings, demo_login_token=self.token)
        await hub.start()
        self.hub = hub
        return hub

    @property
    def url(self) -> str:
        assert self.hub is not None and self.hub.url is not None
        return self.hub.url

    def link(self, role: str) -> str:
        return f"{self.url}/demo-login?token={self.token}&role={role}"

    # -- the cabins ------------------------------------------------------------------

    def cabin_dir(self, cabin: DemoCabin) -> Path:
        return self.state_dir / cabin.cabin_id

    def cabin_env(self, cabin: DemoCabin) -> dict[str, str]:
        return {
            **os.environ,
            "KIOSK_SITE__CABIN_ID": cabin.cabin_id,
            "KIOSK_SITE__NAME": cabin.name,
            "KIOSK_SITE__ADDRESS": cabin.address,
            "KIOSK_STORAGE__STATE_DIR": str(self.cabin_dir(cabin)),
            "KIOSK_NETWORK__LISTEN_PORT": "0",
            "KIOSK_HUB__URLS": f'["{self.url}"]',
        }

    async def enrol(self, cabin: DemoCabin) -> None:
        """As a technician: a one-time secret at the hub, then `kiosk enrol` on the cabin."""
        if (self.cabin_dir(cabin) / "hub-credential.json").exists():
            return  # enrolled in an earlier run (--state-dir)
        assert self.hub is not None
        async with self.hub.db.transaction() as s:
            secret = await add_cabin(
                s, cabin.cabin_id, cabin.site, datetime.now(UTC), timedelta(hours=1)
            )
        await self._kiosk(cabin, "enrol", "--config", str(CABIN_CONFIG), "--secret", secret)

    async def _kiosk(self, cabin: DemoCabin, *args: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kiosk.cli", *args,
            env=self.cabin_env(cabin),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"kiosk {args[0]} ({cabin.cabin_id}): {output.decode().strip()}")

    async def start_cabin(self, cabin: DemoCabin) -> CabinApi:
        folder = self.cabin_dir(cabin)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "runtime.json").unlink(missing_ok=True)
        await self.enrol(cabin)
        log_file = (folder / "daemon.log").open("ab")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "kiosk.cli", "run", "--config", str(CABIN_CONFIG),
            "--log-level", "WARNING",
            env=self.cabin_env(cabin),
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )  # fmt: skip
        log_file.close()
        self.processes[cabin.cabin_id] = proc
        async with asyncio.timeout(CABIN_START_S):
            while not (folder / "runtime.json").exists():
                if proc.returncode is not None:
                    raise RuntimeError(f"cabin {cabin.cabin_id} exited: see {folder}/daemon.log")
                await asyncio.sleep(0.1)
        return CabinApi(folder)

    async def start(self) -> None:
        await self.start_hub()
        await self.start_cabins()

    async def start_cabins(self) -> None:
        """The three cabins, the demo patient's booking, the simulated visitors."""
        self.booker = DemoBooker(self.hub_or_fail())
        apis = await asyncio.gather(*(self.start_cabin(c) for c in CABINS))
        self.apis = dict(zip((c.cabin_id for c in CABINS), apis, strict=True))
        code = await self.booker.book("NAN231", HELENE)
        self.appointment = (code, HELENE)
        for cabin in CABINS:
            if cabin.simulated_patients:
                self.spawn(self._visitors(cabin), f"demo-visitors-{cabin.cabin_id}")

    def hub_or_fail(self) -> Hub:
        assert self.hub is not None
        return self.hub

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(coro, name=name))

    async def _visitors(self, cabin: DemoCabin) -> None:
        async def book(person: Person) -> str:
            return await self.booker.book(cabin.site, person)

        first = CABINS.index(cabin)
        await visitors(
            self.apis[cabin.cabin_id], book, self.visitor_every_s, self.patience_s, first
        )

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for proc in self.processes.values():
            if proc.returncode is None:
                proc.terminate()
        for cabin_id, proc in self.processes.items():
            try:
                async with asyncio.timeout(CABIN_STOP_S):
                    await proc.wait()
            except TimeoutError:
                log.warning("cabin %s did not stop: killed", cabin_id)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self.hub is not None:
            await self.hub.stop()


def _die_with_parent() -> None:
    """In the cabin's child process: SIGTERM when the demo dies, even by SIGKILL, so no
    cabin daemon outlives the demo that started it (Linux's PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
