"""A cabin with the hygiene component, in process: real SQLite, real HTTP (aiohttp test
server on loopback), the simulated lock, and a clock the test moves."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from hub.shared.tasks import TaskSupervisor
from hygiene.auth import hash_pin
from hygiene.component import HygieneComponent
from hygiene.escalation import Notifier
from hygiene.lock.simulated import SimulatedLock
from kiosk.api import build_app
from kiosk.appointments import AppointmentStore
from kiosk.bus import EventBus
from kiosk.component import Context
from kiosk.lifecycle import Lifecycle, LifecycleStore, State
from kiosk.settings import CabinSettings, load_settings
from kiosk.ui_auth import HEADER
from tests.cabin_toml import SIMULATED_INSTRUMENTS

REFERENT_PIN = "1234"
TECH_PIN = "987654"
# Hashed once per test run: argon2 is slow on purpose.
REFERENT_HASH = hash_pin(REFERENT_PIN)
TECH_HASH = hash_pin(TECH_PIN)
UI_TOKEN = "ui-test-token"

HYGIENE_TOML = """
[hygiene.escalation]
after_minutes = 30

[[hygiene.steps]]
id = "siege"
label_fr = "Désinfecter le siège"
label_en = "Disinfect the seat"
contact_time_s = 60

[[hygiene.steps]]
id = "ecran"
label_fr = "Désinfecter l'écran tactile"
label_en = "Disinfect the touchscreen"

[[hygiene.steps]]
id = "brassard"
label_fr = "Désinfecter le brassard"
label_en = "Disinfect the cuff"
when_used = ["blood_pressure"]
contact_time_s = 60

[[hygiene.steps]]
id = "thermometre"
label_fr = "Désinfecter le thermomètre, remplacer le protège-sonde"
label_en = "Disinfect the thermometer, replace the probe cover"
when_used = ["thermometer"]
consumables = ["protège-sonde"]

[[hygiene.steps]]
id = "otoscope"
label_fr = "Remplacer le spéculum de l'otoscope"
label_en = "Replace the otoscope speculum"
when_used = ["otoscope"]
consumables = ["spéculum"]

[[hygiene.referents]]
id = "amelie"
name = "Amélie Martin"
pin_hash = "{referent_hash}"
badge_uid = "04A1B2C3D4"

[[hygiene.technicians]]
id = "tech"
name = "Technicien"
pin_hash = "{tech_hash}"
"""


def hygiene_toml(extra: str = "") -> str:
    return (
        SIMULATED_INSTRUMENTS
        + HYGIENE_TOML.format(referent_hash=REFERENT_HASH, tech_hash=TECH_HASH)
        + extra
    )


@dataclasses.dataclass
class FakeClock:
    now: datetime = dataclasses.field(default_factory=lambda: datetime(2026, 11, 23, 9, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclasses.dataclass
class Cabin:
    ctx: Context
    component: HygieneComponent
    lock: Any  # SimulatedLock unless lock_from_config
    clock: FakeClock
    http: aiohttp.ClientSession
    server: TestServer

    async def close(self) -> None:
        """Stops it like the daemon does (a restart test then builds a new one)."""
        if self.http.closed:
            return
        await self.http.close()
        await self.server.close()
        await self.component.stop()
        await self.ctx.tasks.cancel_all(grace_s=1.0)
        self.ctx.appointments.close()
        self.ctx.lifecycle.store.close()

    @property
    def lifecycle(self) -> Lifecycle:
        return self.ctx.lifecycle

    def patient_session(self, *instruments: str) -> str:
        """A patient checks in, uses instruments, and leaves: awaiting_disinfection."""
        lc = self.lifecycle
        lc.transition(State.CHECK_IN, "test")
        for name in instruments:
            lc.record_instrument_used(name)
        session = lc.session_id
        assert session is not None
        lc.transition(State.AWAITING_DISINFECTION, "test")
        return session

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
        token: str | None = UI_TOKEN,
    ) -> tuple[int, Any]:
        headers = {HEADER: token} if token else {}
        kwargs: dict[str, Any] = {"headers": headers}
        if raw is not None:
            kwargs["data"] = raw
        elif body is not None:
            kwargs["json"] = body
        async with self.http.request(method, path, **kwargs) as resp:
            return resp.status, await resp.json()


MakeCabin = Callable[..., Any]


def make_settings(tmp_path: Path, extra: str = "", always_open: bool = True) -> CabinSettings:
    config = tmp_path / "cabin.toml"
    config.write_text(
        f"""
[site]
cabin_id = "test-01"
name = "Cabine de test"
address = "1 rue de la Paix, 77000 Melun, France"

[hours]
always_open = {str(always_open).lower()}

[storage]
state_dir = "{tmp_path / "state"}"
"""
        + hygiene_toml(extra),
        encoding="utf-8",
    )
    return load_settings(config)


@pytest.fixture
async def make_cabin(tmp_path: Path) -> AsyncIterator[MakeCabin]:
    """Builds (and at the end stops) cabins on the same state folder: a second one is the
    same cabin after a restart."""
    opened: list[Cabin] = []

    async def make(
        *,
        extra: str = "",
        notifier: Notifier | None = None,
        clock: FakeClock | None = None,
        is_open: Callable[[datetime], bool] | None = None,
        lock_from_config: bool = False,
    ) -> Cabin:
        settings = make_settings(tmp_path, extra)
        settings.storage.state_dir.mkdir(parents=True, exist_ok=True)
        clock = clock or FakeClock()
        bus = EventBus()
        store = LifecycleStore(settings.storage.database)
        lifecycle = Lifecycle(store, bus, is_open=is_open or (lambda _: True), clock=clock)
        lifecycle.recover()
        ctx = Context(
            settings=settings,
            bus=bus,
            lifecycle=lifecycle,
            appointments=AppointmentStore(settings.storage.database),
            tasks=TaskSupervisor(),
            ui_token=UI_TOKEN,
        )
        lock = None if lock_from_config else SimulatedLock(settings.hygiene.lock.fail_mode)
        component = HygieneComponent(ctx, clock=clock, lock=lock, notifier=notifier)
        ctx.components[component.name] = component
        await component.start()
        server = TestServer(build_app(ctx), host="127.0.0.1")
        await server.start_server()
        http = aiohttp.ClientSession(base_url=str(server.make_url("")))
        cabin = Cabin(ctx, component, component.lock, clock, http, server)
        opened.append(cabin)
        return cabin

    yield make
    for cabin in reversed(opened):
        await cabin.close()
