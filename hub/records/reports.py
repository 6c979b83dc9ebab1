"""The doctor's half of a consultation record: the report's draft and its signature.

The console keeps the draft at the hub as the doctor types (``report_draft``, debounced
by the page), so a reload or another computer finds it again; signing fixes it for good.
The history page signs a consultation that ended unsigned the same way.

Public API:
- ``parse_report(data) -> Report``: the report from the browser's JSON; ``RecordInvalid``
  lists each problem with its path (``report.conclusion``...), in French.
- ``check_signable(report)``: ``RecordInvalid`` when it cannot be signed (no conclusion).
- ``save_draft(session, consultation, report, now) -> ConsultationRecordRow``.
- ``sign_report(session, consultation, report, now, settings, actor=, client=) -> row``:
  stored with its ``signed_at``, audited (``report_signed``), then
  ``hub.records.completion.complete`` (the record may be whole now). The caller commits.
- ``ReportRefused``: the report is signed already (it no longer changes).
- ``report_message(consultation_id, row) -> dict``: the console's ``report`` message.
- ``signed_frame(row) -> wire.ReportSigned``: what the cabin prints the patient's copy from.

Nothing of the report's text is logged or audited: ids only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub import audit
from hub.records.completion import complete, row_for
from hub.settings import HubSettings
from hub.shared import wire
from hub.shared.document_errors import Problem
from hub.shared.prescription import problems_from
from hub.shared.record import RecordInvalid, Report
from hub.store.models import Consultation, ConsultationRecordRow

CONCLUSION_REQUIRED = "la conclusion est obligatoire pour signer"
ALREADY_SIGNED = "Ce compte rendu est déjà signé : il ne peut plus être modifié."
# The follow-up lines the console offers in one click (free text besides).
FOLLOW_UP_PRESETS = (
    "Revoir son médecin traitant sous 48 h",
    "Examens complémentaires",
    "Avis spécialisé",
)


class ReportRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_report(data: Any) -> Report:
    if not isinstance(data, Mapping):
        raise RecordInvalid([{"path": "report", "message": "objet JSON attendu"}])
    # An empty field is no field: the page sends what the doctor left blank as "".
    cleaned = {k: (None if isinstance(v, str) and not v.strip() else v) for k, v in data.items()}
    try:
        return Report.model_validate(cleaned)
    except ValidationError as exc:
        problems: list[Problem] = [
            {"path": f"report.{p['path']}", "message": p["message"]} for p in problems_from(exc)
        ]
        raise RecordInvalid(problems) from None


def check_signable(report: Report) -> None:
    if report.conclusion is None or not report.conclusion.strip():
        raise RecordInvalid([{"path": "report.conclusion", "message": CONCLUSION_REQUIRED}])


def _stored(report: Report) -> dict[str, Any]:
    return report.model_dump(mode="json", exclude_none=True)


async def _locked_row(session: AsyncSession, consultation: Consultation) -> ConsultationRecordRow:
    """The consultation's record row, locked for this transaction (PostgreSQL; SQLite's
    writes are serial): two signatures at once make one."""
    await session.execute(
        select(ConsultationRecordRow)
        .where(ConsultationRecordRow.consultation_id == consultation.id)
        .with_for_update()
    )
    return await row_for(session, consultation)


async def save_draft(
    session: AsyncSession, consultation: Consultation, report: Report, now: datetime
) -> ConsultationRecordRow:
    row = await _locked_row(session, consultation)
    if row.signed_at is not None:
        raise ReportRefused("report_signed", ALREADY_SIGNED)
    row.report = _stored(report)
    row.report_saved_at = now
    return row


async def sign_report(
    session: AsyncSession,
    consultation: Consultation,
    report: Report,
    now: datetime,
    settings: HubSettings,
    *,
    actor: str,
    client: str = "",
) -> ConsultationRecordRow:
    check_signable(report)
    row = await _locked_row(session, consultation)
    if row.signed_at is not None:
        raise ReportRefused("report_signed", ALREADY_SIGNED)
    row.report = _stored(report)
    row.report_saved_at = now
    row.signed_at = now
    audit.record(
        session, at=now, actor=actor, role="doctor", action="report_signed",
        target=consultation.id, client=client, cabin_id=consultation.cabin_id,
        session_id=consultation.session_id,
    )  # fmt: skip
    await session.flush()
    await complete(session, row, now, settings, actor=actor, role="doctor")
    return row


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def report_message(consultation_id: str, row: ConsultationRecordRow | None) -> dict[str, Any]:
    return {
        "type": "report",
        "consultation_id": consultation_id,
        "report": dict(row.report) if row is not None else {},
        "saved_at": _iso(row.report_saved_at) if row is not None else None,
        "signed_at": _iso(row.signed_at) if row is not None else None,
    }


def signed_frame(row: ConsultationRecordRow) -> wire.ReportSigned:
    assert row.signed_at is not None
    return wire.ReportSigned(
        type="report_signed",
        consultation_id=row.consultation_id,
        session_id=row.session_id,
        report=Report.model_validate(row.report),
        signed_at=row.signed_at,
    )
