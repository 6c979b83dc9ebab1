"""The patient's printed copy of the signed report: the record as the GP gets it
(hub.shared.report_pdf), built from the session's parts in the cabin."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.shared.record import MAX_OBSERVATIONS, ConsultationRecord
from kiosk.record.handover import Prescribed
from kiosk.record.parts import Parts


def can_print(parts: Parts | None) -> bool:
    """A signed report, its signer and the patient are known: the copy can be printed."""
    return (
        parts is not None
        and parts.report is not None
        and parts.signed_at is not None
        and parts.practitioner is not None
        and parts.patient is not None
    )


def copy_record(
    parts: Parts, prescribed: Prescribed, *, cabin_id: str, site_id: str, site_name: str
) -> ConsultationRecord:
    """The record to print (without the prescription's PDF: its number prints).
    Raises pydantic's ValidationError when the parts cannot make one."""
    assert parts.practitioner is not None and parts.patient is not None
    assert parts.report is not None and parts.signed_at is not None
    # The hub's clock signs, the cabin's started: a skew must not refuse the copy.
    started = min(parts.started_at, parts.signed_at)
    ended = max(parts.ended_at or datetime.now(UTC), started)
    return ConsultationRecord(
        record_id=parts.consultation_id,
        session_id=parts.session_id,
        cabin_id=cabin_id,
        site_id=site_id,
        site_name=site_name,
        started_at=started,
        ended_at=ended,
        practitioner=parts.practitioner,
        patient=parts.patient,
        general_practitioner=parts.general_practitioner,
        report=parts.report,
        observations=list(parts.observations[:MAX_OBSERVATIONS]),
        prescription_lines=prescribed.lines,
        prescription=prescribed.document,
        signed_at=max(parts.signed_at, started),
    )
