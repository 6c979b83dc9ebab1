"""The doctor's prescription, handed to the printer component (the consultation report is
signed at the hub; the patient's printed copy is kiosk/record's).

The printer (``ctx.components["printer"]``) validates and stores before printing; a
refused prescription comes back as an exception with ``.problems`` ([{path, message}])
that the console shows on the fields. Print progress arrives later as PrintJobUpdated."""

from __future__ import annotations

import logging
from typing import Any

from hub.shared import console_messages as m
from hub.shared.practitioner import format_phone
from hub.shared.wire import DoctorProfile
from kiosk.component import Context
from kiosk.events import PrintJobUpdated

log = logging.getLogger(__name__)


class PrintRelay:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _printer(self, msg_id: str | None) -> Any:
        printer = self.ctx.components.get("printer")
        if printer is None:
            raise m.MessageInvalid("Aucune imprimante dans cette cabine.", msg_id)
        return printer

    async def prescription(
        self, msg: m.Prescription, doctor: DoctorProfile | None = None
    ) -> m.CabinMessage:
        printer = self._printer(msg.id)
        data = with_account_prescriber(msg.prescription, doctor)
        try:
            result = await printer.submit_prescription(data, self.ctx.lifecycle.session_id)
        except Exception as exc:
            return _refused(exc, msg.id, "l'ordonnance")
        return m.Accepted(request="prescription", in_reply_to=msg.id, detail=_detail(result))

    def job_message(self, event: PrintJobUpdated) -> m.PrintJobOut:
        return m.PrintJobOut(
            document_id=event.document_id,
            document=event.document,
            state=event.state,
            message=event.message_doctor,
        )


def account_prescriber(doctor: DoctorProfile | None) -> dict[str, str]:
    """What the doctor's hub account says of the prescriber (empty fields left out)."""
    if doctor is None:
        return {}
    fields = {
        "name": doctor.display_name,
        "specialty": doctor.specialty,
        "rpps": doctor.rpps,
        "address": doctor.address,
        "phone": format_phone(doctor.phone) if doctor.phone else None,
        "email": doctor.email,
    }
    return {key: value for key, value in fields.items() if value}


def with_account_prescriber(
    prescription: dict[str, Any], doctor: DoctorProfile | None
) -> dict[str, Any]:
    """The logged-in doctor's account (name, specialty, RPPS, address, phone, e-mail)
    fills the prescriber fields the console left empty (what the doctor typed wins)."""
    if doctor is None:
        return prescription
    given = prescription.get("prescriber")
    if given is not None and not isinstance(given, dict):
        return prescription  # malformed: the printer's validation says so
    account = account_prescriber(doctor)
    prescriber = dict(given or {})
    for key, value in account.items():
        if value and not prescriber.get(key):
            prescriber[key] = value
    return {**prescription, "prescriber": prescriber}


def _detail(result: Any) -> str:
    return result if isinstance(result, str) else ""


def _refused(exc: Exception, msg_id: str | None, what: str) -> m.ErrorOut:
    problems = getattr(exc, "problems", None)
    if isinstance(problems, list):
        return m.ErrorOut(
            message=f"Impossible d'imprimer {what} : corrigez les champs signalés.",
            in_reply_to=msg_id,
            problems=[
                {"path": str(p.get("path", "")), "message": str(p.get("message", ""))}
                for p in problems
                if isinstance(p, dict)
            ],
        )
    # The message may quote patient data: log the type only.
    log.error("printing %s failed: %s", what, type(exc).__name__)
    return m.ErrorOut(
        message=f"L'impression de {what} a échoué : {type(exc).__name__}.", in_reply_to=msg_id
    )
