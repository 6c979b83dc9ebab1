"""Crash safety of the record's parts: a cabin daemon killed with SIGKILL in the middle of
a consultation keeps what it had (each part is committed as it comes); restarted, it
goes on with the same parts; killed again just after the patient left (the lifecycle's
commit done, the handover not), the next start hands the finished session over."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hub.service import Hub
from kiosk.appointments import AppointmentStore
from kiosk.bus import EventBus
from kiosk.lifecycle import Lifecycle, LifecycleStore, State
from kiosk.record.parts import Parts, PartsStore
from kiosk.ui_auth import FILENAME, HEADER
from tests.appointments import push_appointment
from tests.cabin_toml import base_toml
from tests.checkin_steps import checkin_requests
from tests.hub.fleet import CALL, Console, cabin_hub_section, enrol_cabin
from tests.kiosk.process import DaemonProcess
from tests.kiosk.record.conftest import hub, rows_of  # noqa: F401 - the hub fixture
from tests.polling import until

CABIN = "nangis-01"


class Booth:
    """The cabin daemon as a process of its own, on one state folder."""

    def __init__(self, folder: Path, hub_url: str) -> None:
        self.state = folder / "state"
        self.config = folder / "cabin.toml"
        folder.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            base_toml(self.state, cabin_id=CABIN, network="ice_loopback = true")
            + CALL
            + cabin_hub_section(hub_url),
            encoding="utf-8",
        )
        self.process: DaemonProcess | None = None

    @property
    def database(self) -> Path:
        return self.state / "cabin.sqlite3"

    def start(self) -> DaemonProcess:
        self.process = DaemonProcess(self.config, self.state)
        return self.process

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process = None

    def parts(self, session_id: str) -> Parts | None:
        store = PartsStore(self.database)
        try:
            return store.get(session_id)
        finally:
            store.close()

    async def ui(self, path: str, body: Any = None) -> tuple[int, Any]:
        assert self.process is not None
        token = (self.state / FILENAME).read_text()
        async with (
            aiohttp.ClientSession(headers={HEADER: token}) as http,
            http.post(self.process.url + path, json=body or {}) as resp,
        ):
            return resp.status, await resp.json()


@pytest.fixture
def booth(tmp_path: Path, hub: Hub) -> Iterator[Booth]:  # noqa: F811
    assert hub.url is not None
    booth = Booth(tmp_path / "cabin", str(hub.url))
    try:
        yield booth
    finally:
        if booth.process is not None:
            booth.process.kill()


def observations_in(database: Path, session_id: str) -> int:
    return rows_of(database, "record_observations", session_id)


def lifecycle_state(database: Path) -> str:
    conn = sqlite3.connect(database)
    try:
        return str(conn.execute("SELECT state FROM lifecycle").fetchone()[0])
    finally:
        conn.close()


async def test_sigkill_keeps_the_parts_and_a_restart_hands_them_over(
    hub: Hub,  # noqa: F811
    booth: Booth,
) -> None:
    assert hub.url is not None
    await enrol_cabin(hub.db, hub.url, CABIN, "NAN231", booth.state)
    booth.start()
    appointments = AppointmentStore(booth.database)
    push_appointment(appointments, "123456", given_name="Hélène", family_name="Dupont", sex="F")
    appointments.close()
    for path, body in checkin_requests("123456", "Dupont", "Hélène", "1948-03-02"):
        status, answer = await booth.ui(path, body)
        assert status == 200, answer

    console = Console(str(hub.url), "dr.martin")
    await console.login()
    await console.connect()
    try:
        taken = await console.take_first()
        session_id = str(taken["session_id"])
        await until(lambda: booth.parts(session_id) is not None, what="the parts opened")
        assert booth.process is not None
        status, _ = booth.process.post("/test/transition", {"to": "in_consultation"})
        assert status == 200
        await console.send({"type": "measure", "instrument": "tensiometre"})
        await until(lambda: observations_in(booth.database, session_id) >= 2, 30.0,
                    what="a measurement kept")  # fmt: skip
    finally:
        await console.close()

    # SIGKILL in the middle of the consultation: the parts are on disk.
    booth.kill()
    kept = booth.parts(session_id)
    assert kept is not None and kept.consultation_id == taken["id"]
    assert kept.patient is not None and kept.patient.birth_name.upper() == "DUPONT"
    measured = kept.observations
    assert measured and {o.code for o in measured} >= {"8480-6", "8462-4"}

    # Restarted: recovered into checkout, with the same parts, now ended.
    booth.start()
    await until(lambda: lifecycle_state(booth.database) == State.CHECKOUT.value)
    after = await until(lambda: booth.parts(session_id), what="the parts after the restart")
    assert after.observations == measured and after.patient == kept.patient
    assert after.ended_at is not None

    # Killed again just after the patient left: the lifecycle's commit is done, the
    # handover is not (what `leave` commits first, before anything else runs).
    booth.kill()
    lifecycle = Lifecycle(LifecycleStore(booth.database), EventBus())
    lifecycle.transition(State.AWAITING_DISINFECTION, "patient left the booth")
    lifecycle.store.close()
    assert booth.parts(session_id) is not None

    # The next start hands the finished session over: the hub gets it, the parts go.
    booth.start()

    async def part_at_hub() -> dict[str, Any] | None:
        from hub.store.models import ConsultationRecordRow

        async with hub.db.read() as s:
            row = await s.get(ConsultationRecordRow, taken["id"])
        return None if row is None else row.cabin_part

    part = await until(part_at_hub, 30.0, what="the record at the hub")
    assert part["session_id"] == session_id and part["printed_copy"] == "not_offered"
    assert [o["code"] for o in part["observations"]] == [o.code for o in measured]
    await until(lambda: booth.parts(session_id) is None, what="the parts deleted")
    await until(lambda: observations_in(booth.database, session_id) == 0)
