"""A hub and a cabin daemon dialling out to it (tests/hub), and a consultation between
them: the patient checks in, a doctor takes them from the console (the hub tells the
cabin), measurements, a prescription printed through the real CUPS, the report signed."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devices.measurement import Measurement, Observation
from hub.service import Hub
from hub.store.models import AuditEntry, ConsultationRecordRow
from kiosk.bus import Subscription
from kiosk.daemon import Daemon
from kiosk.events import MeasurementTaken
from kiosk.lifecycle import State
from kiosk.record.component import RecordComponent
from kiosk.ui_auth import HEADER
from tests.hub import conftest as hub_fixtures
from tests.hub.conftest import MakeCabin
from tests.hub.fleet import Console, check_in
from tests.polling import until
from tests.printer.conftest import sample_prescription

CONCLUSION = "Bronchite aiguë probablement virale"
REPORT = {
    "reason": "Toux depuis 3 jours",
    "findings": "Auscultation : quelques sibilants",
    "conclusion": CONCLUSION,
    "advice": "Boire abondamment",
    "follow_up": "Revoir son médecin traitant sous 48 h",
}
PRINT_S = 60.0  # real CUPS + cups-pdf on a loaded 2-core machine

# The hub and its cabins of the hub's tests (tests/hub/conftest.py).
hub = hub_fixtures.hub
make_cabin = hub_fixtures.make_cabin


def blood_pressure(systolic: int = 128, diastolic: int = 84) -> Measurement:
    return Measurement(
        kind="blood_pressure",
        observations=(
            Observation("8480-6", "Systolic blood pressure", Decimal(systolic), "mm[Hg]"),
            Observation("8462-4", "Diastolic blood pressure", Decimal(diastolic), "mm[Hg]"),
        ),
        timestamp=datetime.now(UTC),
    )


def tables_with(database: Path, needle: str) -> dict[str, int]:
    """Every table of the cabin's database with rows holding ``needle`` anywhere."""
    conn = sqlite3.connect(database)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        found: dict[str, int] = {}
        for name in names:
            rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
            hits = sum(1 for row in rows if any(needle in str(v) for v in row))
            if hits:
                found[name] = hits
        return found
    finally:
        conn.close()


def rows_of(database: Path, table: str, session_id: str) -> int:
    conn = sqlite3.connect(database)
    try:
        return int(
            conn.execute(
                f'SELECT count(*) FROM "{table}" WHERE session_id = ?',
                (session_id,),
            ).fetchone()[0]
        )
    finally:
        conn.close()


class Visit:
    """One patient's consultation, from both ends."""

    def __init__(
        self, hub: Hub, cabin: Daemon, console: Console, measured: Subscription[MeasurementTaken]
    ) -> None:
        self.hub = hub
        self.cabin = cabin
        self.console = console
        self.consultation: dict[str, Any] = {}
        self._measured = measured

    def measured(self) -> list[tuple[str, Decimal]]:
        """(LOINC code, value) of every result measured in the booth since check-in (the
        simulated monitor measures too, as it does for the doctor)."""
        values: list[tuple[str, Decimal]] = []
        while (event := self._measured.get_nowait()) is not None:
            if not event.measurement.intermediate:
                values += [
                    (o.code, o.value) for o in event.measurement.observations if o.value is not None
                ]
        return values

    @property
    def ctx(self) -> Any:
        assert self.cabin.ctx is not None
        return self.cabin.ctx

    @property
    def record(self) -> RecordComponent:
        component = self.ctx.components["record"]
        assert isinstance(component, RecordComponent)
        return component

    @property
    def session_id(self) -> str:
        return str(self.consultation["session_id"])

    @property
    def consultation_id(self) -> str:
        return str(self.consultation["id"])

    @property
    def database(self) -> Path:
        return Path(self.ctx.settings.storage.database)

    async def doctor_takes(self) -> None:
        self.consultation = await self.console.take_first()
        await until(
            lambda: self.record.parts.get(self.session_id) is not None,
            what="the cabin opened the record's parts",
        )
        if self.ctx.lifecycle.state is State.WAITING:
            self.ctx.lifecycle.transition(State.IN_CONSULTATION, "doctor joined")

    def measure(self, measurement: Measurement | None = None) -> None:
        self.ctx.bus.publish(
            MeasurementTaken(instrument="tensiometre", measurement=measurement or blood_pressure())
        )

    async def prescribe(self) -> str:
        data = sample_prescription()
        printer = self.ctx.components["printer"]
        doc_id: str = await printer.submit_prescription(data, self.session_id)
        store = printer.store
        await until(
            lambda: store.get(doc_id)["state"] in ("completed", "failed"),
            PRINT_S,
            what="the prescription printed",
        )
        assert store.get(doc_id)["state"] == "completed"
        return str(data.get("number") or store.get(doc_id)["number"])

    async def sign(self, report: dict[str, Any] | None = None) -> None:
        await self.console.send({"type": "report_sign", "report": report or REPORT})
        await self.console.expect("report")

        def signed() -> bool:
            parts = self.record.parts.get(self.session_id)
            return parts is not None and parts.report is not None

        await until(signed, what="the cabin received the signed report")

    def checkout(self) -> None:
        self.ctx.lifecycle.transition(State.CHECKOUT, "doctor ended")

    async def ui(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        assert self.cabin.url is not None
        async with (
            aiohttp.ClientSession(headers={HEADER: self.ctx.ui_token}) as http,
            http.request(method, self.cabin.url + path, json=body) as resp,
        ):
            return resp.status, await resp.json()

    async def leave(self) -> None:
        status, answer = await self.ui("POST", "/api/ui/leave", {})
        assert status == 200, answer

    async def hub_row(self) -> ConsultationRecordRow | None:
        async with self.hub.db.read() as s:
            return await s.get(ConsultationRecordRow, self.consultation_id)

    async def cabin_part(self) -> dict[str, Any]:
        async def arrived() -> dict[str, Any] | None:
            row = await self.hub_row()
            return None if row is None else row.cabin_part

        part: dict[str, Any] = await until(arrived, what="the cabin's part at the hub")
        return part

    async def received(self) -> list[AuditEntry]:
        from sqlalchemy import select

        async with self.hub.db.read() as s:
            entries = await s.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "record_received",
                    AuditEntry.target == self.consultation_id,
                )
            )
            return list(entries)


@pytest.fixture
async def nangis(hub: Hub, make_cabin: MakeCabin) -> Daemon:
    cabin = await make_cabin("nangis-01", "NAN231")
    await until(lambda: len(hub.gateway.connections) == 1, what="the cabin connected")
    return cabin


@pytest.fixture
async def visit(hub: Hub, nangis: Daemon) -> AsyncIterator[Visit]:
    assert nangis.ctx is not None
    measured = nangis.ctx.bus.subscribe(MeasurementTaken)
    await check_in(nangis, "Hélène")
    console = Console(str(hub.url), "dr.martin")
    await console.login()
    await console.connect()
    try:
        yield Visit(hub, nangis, console, measured)
    finally:
        measured.close()
        await console.close()
