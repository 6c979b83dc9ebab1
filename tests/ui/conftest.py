"""A real daemon in this process (with the checkin component) for the UI tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from kiosk.component import Context
from kiosk.daemon import Daemon
from kiosk.settings import load_settings
from kiosk.ui_auth import HEADER
from tests.appointments import push_appointment
from tests.checkin_steps import checkin_requests
from tests.disinfection import mark_test_disinfection
from tests.kiosk.conftest import BASE_TOML
from tests.polling import until

# argon2 hash of "2468" (the technician PIN of the tests).
TECH_PIN = "2468"


def _tech_hash() -> str:
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024).hash(TECH_PIN)


class RunningCabin:
    def __init__(self, daemon: Daemon, ctx: Context) -> None:
        self.daemon = daemon
        self.ctx = ctx
        assert daemon.url is not None
        self.url = daemon.url
        self.headers = {HEADER: ctx.ui_token}

    def add_appointment(self, code: str = "123456", **fields: Any) -> None:
        """A booking as the hub pushes it (5 minutes ago to 25 minutes from now)."""
        push_appointment(self.ctx.appointments, code, **fields)

    async def checked_in(self) -> None:
        """A patient checked in through the API (for tests about later screens)."""
        self.add_appointment()
        for path, body in checkin_requests("123456", "Dupont", "Hélène", "1948-03-02"):
            status, answer = await self.post(path, body)
            assert status == 200, answer

    def disinfect(self) -> None:
        store = self.ctx.lifecycle.store
        session = store.undisinfected_session()
        assert session is not None
        mark_test_disinfection(store, session)

    async def post(self, path: str, body: Any = None) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession(headers=self.headers) as http,
            http.post(self.url + path, json=body if body is not None else {}) as resp,
        ):
            return resp.status, await resp.json()

    async def get(self, path: str) -> tuple[int, Any]:
        async with (
            aiohttp.ClientSession(headers=self.headers) as http,
            http.get(self.url + path) as resp,
        ):
            return resp.status, await resp.json()


StartCabin = Callable[..., Any]


async def wait_until(predicate: Callable[[], bool], within_s: float = 5.0) -> None:
    """Polls ``predicate`` until it holds; fails after ``within_s``."""
    await until(predicate, within_s)


@pytest.fixture
async def start_cabin(tmp_path: Path) -> AsyncIterator[StartCabin]:
    daemons: list[Daemon] = []

    async def start(
        *,
        always_open: bool = True,
        weekly: str = "",
        walk_in: bool = False,
        extra_site: str = "",
        extra: str = "",
        port: int = 0,
    ) -> RunningCabin:
        text = BASE_TOML.format(
            always_open=str(always_open).lower(),
            weekly=weekly,
            state_dir=tmp_path / "state",
        )
        site = f'walk_in = {str(walk_in).lower()}\ntechnician_pin_hash = "{_tech_hash()}"\n'
        site += 'booking_hint = "Prenez rendez-vous au 01 23 45 67 89"\n' + extra_site
        text = text.replace("[hours]", site + "\n[hours]", 1)
        text = text.replace("listen_port = 0", f"listen_port = {port}")
        path = tmp_path / "cabin.toml"
        path.write_text(text + extra, encoding="utf-8")
        daemon = Daemon(load_settings(path))
        ctx = await daemon.start()
        daemons.append(daemon)
        return RunningCabin(daemon, ctx)

    yield start
    for daemon in daemons:
        await daemon.stop()
