"""The consultation report over the doctor's socket: the draft is kept at the hub and
comes back after a reload; a bad draft is refused and changes nothing; signing without a
conclusion is refused next to the field and changes nothing; signing stores it, audits
it, sends it to the cabin and completes the record when the cabin's part is there; a
signed report no longer changes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from hub.service import Hub
from hub.shared import wire
from hub.store.models import AuditEntry, ConsultationRecordRow, RecordDelivery
from kiosk.daemon import Daemon
from tests.hub.conftest import MakeCabin
from tests.hub.fleet import WAIT_S, Console, check_in
from tests.hub.records.sample import sample_record
from tests.polling import until

DRAFT = {
    "reason": "Toux depuis 3 jours",
    "findings": "Auscultation : quelques sibilants",
    "conclusion": "",
    "advice": "Boire abondamment",
    "follow_up": "Revoir son médecin traitant sous 48 h",
}


class Sent:
    """The frames the hub sends its cabins (the router's to_cabin, recorded)."""

    def __init__(self, hub: Hub) -> None:
        self.frames: list[Any] = []
        self._to_cabin = hub.ctx.router.to_cabin
        hub.ctx.router.to_cabin = self  # type: ignore[method-assign]

    async def __call__(self, cabin_id: str, frame: Any) -> bool:
        self.frames.append(frame)
        return await self._to_cabin(cabin_id, frame)

    def of(self, kind: type[Any]) -> list[Any]:
        return [f for f in self.frames if isinstance(f, kind)]


@pytest.fixture
async def nangis(hub: Hub, make_cabin: MakeCabin) -> Daemon:
    cabin = await make_cabin("nangis-01", "NAN231")
    await until(lambda: len(hub.gateway.connections) == 1, what="the cabin connected")
    await check_in(cabin, "Hélène")
    return cabin


@pytest.fixture
async def martin(hub: Hub, nangis: Daemon) -> AsyncIterator[Console]:
    console = Console(str(hub.url), "dr.martin")
    await console.login()
    await console.connect()
    try:
        yield console
    finally:
        await console.close()


async def row_of(hub: Hub, consultation_id: str) -> ConsultationRecordRow | None:
    async with hub.db.read() as s:
        return await s.get(ConsultationRecordRow, consultation_id)


async def test_hello_names_measurements_as_the_report_does(hub: Hub, martin: Console) -> None:
    hello = await martin.expect("hello")
    assert hello["measurement_labels"]["8480-6"] == "Pression artérielle systolique"
    assert hello["unit_labels"]["mm[Hg]"] == "mmHg"
    assert "Revoir son médecin traitant sous 48 h" in hello["follow_up_presets"]


async def test_the_draft_outlives_a_reload(hub: Hub, martin: Console) -> None:
    taken = await martin.take_first()
    first = await martin.expect("report")
    assert first == {
        "type": "report",
        "consultation_id": taken["id"],
        "report": {},
        "saved_at": None,
        "signed_at": None,
    }
    await martin.send({"type": "report_draft", "report": DRAFT})
    saved = await martin.expect("report_saved")
    row = await row_of(hub, taken["id"])
    assert row is not None and row.signed_at is None
    assert row.report_saved_at is not None and row.report_saved_at.isoformat() == saved["saved_at"]
    # Blank fields are not stored; the rest is, as typed (trimmed).
    assert row.report == {k: v for k, v in DRAFT.items() if v}

    # A bad draft: refused with the field's path, and the stored one stays.
    await martin.send(
        {"type": "report_draft", "report": {**DRAFT, "findings": "x" * 5000, "mood": "?"}}
    )
    refused = await martin.expect("error", in_reply_to="report_draft")
    assert refused["code"] == "report_invalid"
    paths = {p["path"] for p in refused["problems"]}
    assert paths == {"report.findings", "report.mood"}, refused
    assert refused["message"].startswith("Brouillon refusé")
    await martin.send({"type": "report_draft", "report": "not an object"})
    assert (await martin.expect("error", in_reply_to="report_draft"))["code"] == "report_invalid"
    assert (await row_of(hub, taken["id"])).report == row.report  # type: ignore[union-attr]

    # The page reloads (a new socket from the same browser takes over): the draft is back.
    ws = await martin.http.ws_connect(martin.url + "/doctor/ws", headers=martin.origin)
    try:
        seen: dict[str, dict[str, Any]] = {}
        async with asyncio.timeout(WAIT_S):
            while "report" not in seen:
                seen.setdefault((msg := await ws.receive_json())["type"], msg)
        assert seen["consultation"]["id"] == taken["id"]
        back = seen["report"]
        assert back["report"] == row.report and back["saved_at"] == saved["saved_at"]
        assert back["signed_at"] is None
    finally:
        await ws.close()


async def test_signing(hub: Hub, martin: Console) -> None:
    sent = Sent(hub)
    taken = await martin.take_first()
    await martin.expect("report")
    await martin.send({"type": "report_draft", "report": DRAFT})
    await martin.expect("report_saved")
    before = await row_of(hub, taken["id"])
    assert before is not None

    # Without a conclusion: refused, on the conclusion's field, nothing changes.
    await martin.send({"type": "report_sign", "report": {**DRAFT, "advice": "Autre conseil"}})
    refused = await martin.expect("error", in_reply_to="report_sign")
    assert refused["code"] == "report_refused"
    assert refused["problems"] == [
        {"path": "report.conclusion", "message": "la conclusion est obligatoire pour signer"}
    ]
    after = await row_of(hub, taken["id"])
    assert after is not None and after.signed_at is None
    assert after.report == before.report and after.report_saved_at == before.report_saved_at
    assert not sent.of(wire.ReportSigned)

    # The cabin's part is there already (the session ended first): signing completes.
    part = sample_record()
    async with hub.db.transaction() as s:
        row = await s.get(ConsultationRecordRow, taken["id"])
        assert row is not None
        row.cabin_part = wire.CabinRecord(
            consultation_id=taken["id"],
            session_id=taken["session_id"],
            started_at=row.started_at,
            ended_at=hub.ctx.clock(),
            patient=part.patient,
            observations=part.observations,
            printed_copy="declined",
        ).model_dump(mode="json")
        row.cabin_part_at = hub.ctx.clock()

    report = {**DRAFT, "conclusion": "Bronchite aiguë probablement virale"}
    await martin.send({"type": "report_sign", "report": report})
    signed = await martin.expect("report")
    assert signed["signed_at"] is not None
    assert signed["report"]["conclusion"] == "Bronchite aiguë probablement virale"
    row = await row_of(hub, taken["id"])
    assert row is not None and row.signed_at is not None
    assert row.signed_at.isoformat() == signed["signed_at"]
    assert row.completed_at is not None  # hub.records.completion ran
    frames = sent.of(wire.ReportSigned)
    assert len(frames) == 1
    frame = frames[0]
    assert (frame.consultation_id, frame.session_id) == (taken["id"], taken["session_id"])
    assert frame.report.conclusion == "Bronchite aiguë probablement virale"
    async with hub.db.read() as s:
        entries = list(
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "report_signed"))
        )
        deliveries = list(
            await s.scalars(
                select(RecordDelivery).where(RecordDelivery.consultation_id == taken["id"])
            )
        )
    assert [(e.actor, e.target, e.outcome) for e in entries] == [("dr.martin", taken["id"], "ok")]
    assert "Bronchite" not in str(entries[0].detail)  # ids only in the audit
    assert {(d.channel, d.state) for d in deliveries} == {("print", "declined")}

    # Signed: it no longer changes, neither by a draft nor by a second signature.
    await martin.send({"type": "report_draft", "report": {**report, "advice": "Changé"}})
    assert (await martin.expect("error", in_reply_to="report_draft"))["code"] == "report_signed"
    await martin.send({"type": "report_sign", "report": {**report, "advice": "Changé"}})
    assert (await martin.expect("error", in_reply_to="report_sign"))["code"] == "report_signed"
    last = await row_of(hub, taken["id"])
    assert last is not None and last.report == row.report and last.signed_at == row.signed_at


async def test_no_report_without_a_consultation(hub: Hub, martin: Console) -> None:
    await martin.expect("queue")
    await martin.send({"type": "report_draft", "report": DRAFT})
    refused = await martin.expect("error", in_reply_to="report_draft")
    assert refused["code"] == "no_consultation"
    async with hub.db.read() as s:
        assert await s.scalar(select(ConsultationRecordRow.consultation_id)) is None
