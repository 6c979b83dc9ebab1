"""A hub and its cabins for tests: the hub's configuration, accounts, enrolment, and a
doctor's console spoken from Python (aiohttp), password and TOTP included."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from hub.auth.accounts import NewAccount, add_account
from hub.auth.passwords import hash_password
from hub.auth.totp import code_at
from hub.cabins.enrolment import add_cabin
from hub.service import Hub
from hub.settings import HubSettings, load_hub_settings
from hub.store import Database, migrate
from hub.sync_sites import sync_sites
from kiosk.daemon import Daemon
from kiosk.hub_link import credential
from kiosk.hub_link.enrol import enrol
from kiosk.settings import load_settings
from kiosk.ui_auth import HEADER
from tests.appointments import push_appointment
from tests.cabin_toml import base_toml
from tests.checkin_steps import checkin_requests

DOCTOR_PASSWORD = "correct horse battery staple"
WAIT_S = 20.0

SITE = """
[[sites]]
code = "{code}"
name = "{name}"
address = "1 place de la Mairie, 77000 Melun, France"
consultation_minutes = {minutes}
[sites.hours]
always_open = true
"""


def hub_toml(
    database: Path, *, heartbeat_s: float = 0.5, extra: str = "", consultation_minutes: int = 30
) -> str:
    sites = SITE.format(
        code="NAN231", name="Centre médico-social de Nangis", minutes=consultation_minutes
    ) + SITE.format(
        code="CHE132",
        name="Maison Départementale des Solidarités de Chelles",
        minutes=consultation_minutes,
    )
    return f"""
listen_host = "127.0.0.1"
listen_port = 0
database_url = "sqlite+aiosqlite:///{database}"
heartbeat_s = {heartbeat_s}
{extra}
{sites}
"""


def write_hub_config(folder: Path, **kwargs: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "hub.toml"
    path.write_text(hub_toml(folder / "hub.sqlite3", **kwargs), encoding="utf-8")
    return path


async def prepare(settings: HubSettings) -> None:
    """Schema and sites, as `kiosk hub migrate` and the first start do."""
    db = Database(settings.database_url)
    try:
        await migrate.upgrade(db)
        await sync_sites(db, settings)
    finally:
        await db.close()


async def start_hub(config: Path) -> Hub:
    settings = load_hub_settings(config)
    await prepare(settings)
    hub = Hub(settings)
    await hub.start()
    return hub


async def add_person(
    db: Database,
    username: str,
    *,
    roles: list[str],
    sites: list[str],
    name: str = "",
    password: str = DOCTOR_PASSWORD,
) -> None:
    async with db.transaction() as s:
        await add_account(
            s,
            NewAccount(
                username=username,
                display_name=name or username,
                roles=roles,
                password_hash=hash_password(password),
                sites=sites,
                rpps="10003456786" if "doctor" in roles else None,
                email=f"{username}@example.fr" if "doctor" in roles else None,
            ),
            datetime.now(UTC),
        )


async def enrol_cabin(
    db: Database, hub_url: str, cabin_id: str, site: str, state_dir: Path
) -> None:
    async with db.transaction() as s:
        secret = await add_cabin(s, cabin_id, site, datetime.now(UTC), timedelta(hours=1))
    token = await enrol(hub_url, cabin_id, secret)
    credential.save(state_dir, credential.Credential(cabin_id, token))


def cabin_hub_section(hub_url: str) -> str:
    return f'\n[hub]\nurls = ["{hub_url}"]\n'


# A blood-pressure monitor and a small synthetic camera: enough for a call in tests.
CALL = """
[[instruments]]
name = "tensiometre"
kind = "blood_pressure"
transport = "simulated"

[call.camera]
width = 320
height = 240
fps = 15
"""


class Cabins:
    """Cabin daemons in this process, each enrolled at ``hub`` and dialling out to it."""

    def __init__(self, folder: Path, hub: Hub) -> None:
        self.folder = folder
        self.hub = hub
        self.started: list[Daemon] = []

    async def __call__(
        self, cabin_id: str, site: str, *, enrol: bool = True, extra: str = CALL
    ) -> Daemon:
        assert self.hub.url is not None
        state = self.folder / cabin_id
        config = self.folder / f"{cabin_id}.toml"
        config.write_text(
            base_toml(state, cabin_id=cabin_id, network="ice_loopback = true")
            + extra
            + cabin_hub_section(self.hub.url),
            encoding="utf-8",
        )
        if enrol:
            await enrol_cabin(self.hub.db, self.hub.url, cabin_id, site, state)
        daemon = Daemon(load_settings(config))
        await daemon.start()
        self.started.append(daemon)
        return daemon

    async def stop(self) -> None:
        for daemon in reversed(self.started):
            await daemon.stop()


async def check_in(
    daemon: Daemon,
    given_name: str = "Hélène",
    family_name: str = "Dupont",
    code: str = "123456",
    **booking: Any,
) -> None:
    """A patient checks in on the cabin's touchscreen API with a booking pushed to it
    (``booking``: more of the booking's fields, e.g. the patient's GP)."""
    assert daemon.ctx is not None and daemon.url is not None
    push_appointment(
        daemon.ctx.appointments,
        code,
        given_name=given_name,
        family_name=family_name,
        sex="F",
        **booking,
    )
    async with aiohttp.ClientSession(headers={HEADER: daemon.ctx.ui_token}) as http:
        for path, body in checkin_requests(code, family_name, given_name, "1948-03-02"):
            async with http.post(daemon.url + path, json=body) as resp:
                assert resp.status == 200, await resp.text()


class Console:
    """A doctor (or anyone) in front of the hub, without a browser."""

    def __init__(self, hub_url: str, username: str, password: str = DOCTOR_PASSWORD) -> None:
        self.url = hub_url
        self.username = username
        self.password = password
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.secret: str | None = None
        self.recovery_codes: list[str] = []
        self._reader: asyncio.Task[None] | None = None

    @property
    def origin(self) -> dict[str, str]:
        return {"Origin": self.url}

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        async with self.http.post(self.url + path, json=body, headers=self.origin) as resp:
            return resp.status, await resp.json(content_type=None)

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.http.get(self.url + path, allow_redirects=False) as resp:
            try:
                return resp.status, await resp.json(content_type=None)
            except (json.JSONDecodeError, aiohttp.ContentTypeError, UnicodeDecodeError):
                return resp.status, None

    async def login(self, *, step_offset: int = 0) -> None:
        """Password, then the second factor (enrolled the first time)."""
        status, body = await self.post(
            "/login/password", {"username": self.username, "password": self.password}
        )
        assert status == 200, body
        if body["next"] == "enrol":
            status, enrolment = await self.get("/login/enrolment")
            assert status == 200, enrolment
            self.secret = enrolment["secret"]
            status, body = await self.post("/login/enrolment", {"code": self.code(step_offset)})
            assert status == 200, body
            self.recovery_codes = body["recovery_codes"]
        else:
            status, body = await self.post("/login/code", {"code": self.code(step_offset)})
            assert status == 200, body

    def code(self, step_offset: int = 0) -> str:
        assert self.secret is not None
        return code_at(self.secret, datetime.now(UTC) + timedelta(seconds=30 * step_offset))

    async def connect(self) -> None:
        self.ws = await self.http.ws_connect(self.url + "/doctor/ws", headers=self.origin)
        self._reader = asyncio.create_task(self._read(), name=f"console-{self.username}")

    async def take_first(self, within_s: float = WAIT_S) -> dict[str, Any]:
        """Takes the first patient the queue shows; the hub's ``consultation`` message."""
        async with asyncio.timeout(within_s):
            while True:
                msg = await self.inbox.get()
                entries = msg.get("entries") if msg.get("type") == "queue" else None
                if msg.get("type") == "queue_entry":
                    entries = [msg["entry"]]
                if msg.get("type") == "consultation":
                    return msg  # already ours (a reload)
                if entries:
                    entry = entries[0]
                    take = {"cabin_id": entry["cabin_id"], "session_id": entry["session_id"]}
                    await self.send({"type": "take", **take})
                    return await self.expect("consultation", within_s)

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                await self.inbox.put(json.loads(msg.data))

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        await self.ws.send_str(json.dumps(message))

    async def expect(self, type_: str, within_s: float = WAIT_S, **match: Any) -> dict[str, Any]:
        async with asyncio.timeout(within_s):
            while True:
                msg = await self.inbox.get()
                if msg.get("type") == type_ and all(msg.get(k) == v for k, v in match.items()):
                    return msg

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self.http.close()
