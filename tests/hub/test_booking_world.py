"""No tests here: what the booking tests share (named like them, beside them). A hub
with the three real sites of config/hub.toml (seed 001) and their real hours, a clock
the test sets, a booking platform's token and a small JSON client."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp

from hub.booking.tokens import add_token
from hub.cabins.enrolment import add_cabin, enrol
from hub.service import Hub
from hub.settings import HubSettings, load_hub_settings
from tests.hub.fleet import prepare

CONFIG = Path(__file__).resolve().parents[2] / "config" / "hub.toml"
PARIS = ZoneInfo("Europe/Paris")
# A Monday in winter (+01:00), before Nangis opens at 09:00.
MONDAY = datetime(2026, 3, 2, 7, 30, tzinfo=PARIS)


def paris(day: datetime, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day.date(), time(hh, mm), tzinfo=PARIS)


class Clock:
    """The hub's clock: fixed when ``fixed`` is set, else the real time (a login's
    second factor is checked against the real time)."""

    def __init__(self, fixed: datetime | None = None) -> None:
        self.fixed = fixed

    def __call__(self) -> datetime:
        return (self.fixed or datetime.now(UTC)).astimezone(UTC)


def real_sites(folder: Path) -> HubSettings:
    real = load_hub_settings(CONFIG)
    folder.mkdir(parents=True, exist_ok=True)
    return HubSettings(
        listen_host="127.0.0.1",
        listen_port=0,
        database_url=f"sqlite+aiosqlite:///{folder / 'hub.sqlite3'}",
        heartbeat_s=0.5,
        sites=list(real.sites),
    )


async def start_real_hours_hub(folder: Path, clock: Clock) -> Hub:
    settings = real_sites(folder)
    await prepare(settings)
    hub = Hub(settings)
    hub.ctx.clock = clock
    await hub.start()
    return hub


async def new_token(hub: Hub, name: str = "plateforme-rdv") -> str:
    async with hub.db.transaction() as s:
        return await add_token(s, name, datetime.now(UTC))


async def enrolled_cabin(hub: Hub, cabin_id: str, site: str) -> None:
    """A cabin enrolled at the hub (its credential unused: it counts for capacity)."""
    now = datetime.now(UTC)
    async with hub.db.transaction() as s:
        secret = await add_cabin(s, cabin_id, site, now, timedelta(hours=1))
    async with hub.db.transaction() as s:
        await enrol(s, cabin_id, secret, now)


def patient(start: datetime, site: str = "NAN231", **fields: Any) -> dict[str, Any]:
    """A booking request as a platform sends it."""
    return {
        "site": site,
        "start": start.isoformat(),
        "family_name": "Dupont",
        "given_name": "Hélène",
        "birth_date": "1948-03-02",
        "phone": "06 12 34 56 78",
        "reason": "toux depuis une semaine",
        "sex": "F",
        **fields,
    }


class Api:
    """A booking platform (``token``) or anyone else speaking /api/v1/."""

    def __init__(self, hub_url: str, token: str | None = None, **headers: str) -> None:
        self.url = hub_url
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self.http = aiohttp.ClientSession(headers=headers)

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.http.get(self.url + path) as resp:
            return resp.status, await resp.json(content_type=None)

    async def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.post(self.url + path, json=body) as resp:
            return resp.status, await resp.json(content_type=None)

    async def close(self) -> None:
        await self.http.close()
