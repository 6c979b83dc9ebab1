"""The optional details step of check-in: the patient's INS traits and own GP.

Pure functions over the session and the request body, no I/O. The checks are those of
hub.shared.ins (the same as the booking's); a refusal names the field and carries that
module's French message, and the caller changes nothing. What a booking carried is
offered to the patient to confirm (``prefill``)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from hub.shared.ins import GeneralPractitioner, Patient
from kiosk.checkin.rules import DetailsIn, fold_name
from kiosk.checkin.session import PatientSession

# The field a whole-model error (the INS number against the sex or birth date) belongs to.
_MODEL_FIELD = "ins_number"
_FIELDS = {"ins_number", "birth_place", "sex", "birth_date"}


class DetailsRefused(Exception):
    """A detail that does not hold: ``field`` (as in DetailsIn) and a French message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field)
        self.field, self.message = field, message


def message_of(exc: ValidationError) -> tuple[str, str]:
    """(field, French message) of the first error pydantic reported."""
    error = exc.errors()[0]
    loc = [str(p) for p in error["loc"]]
    field = loc[0] if loc and loc[0] in _FIELDS else _MODEL_FIELD
    cause = (error.get("ctx") or {}).get("error")
    message = str(cause) if cause is not None else str(error["msg"])
    return field, message


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _compact(number: str) -> str:
    return "".join(c for c in number if c.isalnum()).upper()


def build_details(
    session: PatientSession, body: DetailsIn
) -> tuple[Patient, GeneralPractitioner | None]:
    """The Patient and GP from what the patient gave, on top of the names the booking
    carried (or those typed); ``DetailsRefused`` when something does not hold."""
    booked = session.appt_patient
    number = _blank(body.ins_number)
    traits: dict[str, Any] = {
        "birth_name": booked.birth_name if booked else session.family_name,
        "first_names": booked.first_names if booked else session.given_name,
        "used_name": booked.used_name if booked else None,
        "birth_date": session.birth_date,
        "sex": body.sex or (booked.sex if booked else None) or session.appt_sex,
        "birth_place": _blank(body.birth_place),
        "ins_number": number,
    }
    # The booking's kind (NIR or NIA) stays with the booking's number.
    if booked is not None and number is not None and _compact(number) == booked.ins_number:
        traits["ins_kind"] = booked.ins_kind
    try:
        patient = Patient.model_validate(traits)
    except ValidationError as exc:
        raise DetailsRefused(*message_of(exc)) from None
    return patient, _practitioner(session, body)


def _practitioner(session: PatientSession, body: DetailsIn) -> GeneralPractitioner | None:
    name, mssante = _blank(body.gp_name), _blank(body.gp_mssante)
    if name is None:
        if mssante is not None:
            raise DetailsRefused("gp_name", "indiquez le nom du médecin traitant")
        return None
    booked = session.appt_gp
    same = booked is not None and fold_name(booked.name) == fold_name(name)
    try:
        return GeneralPractitioner.model_validate(
            {"name": name, "mssante": mssante, "rpps": booked.rpps if booked and same else None}
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(p) for p in error["loc"]]
        field = "gp_mssante" if loc and loc[0] == "mssante" else "gp_name"
        cause = (error.get("ctx") or {}).get("error")
        raise DetailsRefused(field, str(cause) if cause else str(error["msg"])) from None


def prefill(session: PatientSession) -> dict[str, Any]:
    """What the details screen shows first: the booking's traits and GP, if any."""
    booked, gp = session.appt_patient, session.appt_gp
    sex = booked.sex if booked is not None and booked.sex else session.appt_sex
    return {
        "from_booking": booked is not None or gp is not None,
        "ins_number": booked.ins_number if booked else None,
        "birth_place": booked.birth_place if booked else None,
        "sex": sex,
        "gp_name": gp.name if gp else None,
        "gp_mssante": gp.mssante if gp else None,
    }
