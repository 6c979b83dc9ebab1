"""A booking's INS traits and GP, between hub.shared.ins's models and the store.

``Booking.identity`` keeps the traits beyond the booking's own columns (birth name, first
names, used name, birth place, INS number and its kind); the birth date and the sex are
the booking's. Read back, they are checked again by hub.shared.ins; a stored value that
no longer passes is left out (the booking still checks in by its names and birth date)
and logged without any patient data."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from hub.shared.ins import GeneralPractitioner, Patient
from hub.store.models import Booking

log = logging.getLogger(__name__)

# The Patient fields a booking keeps in Booking.identity.
IDENTITY_FIELDS = (
    "birth_name",
    "first_names",
    "used_name",
    "birth_place",
    "ins_number",
    "ins_kind",
)


def identity_of(patient: Patient | None) -> dict[str, Any] | None:
    """What Booking.identity stores of ``patient``."""
    if patient is None:
        return None
    return patient.model_dump(mode="json", include=set(IDENTITY_FIELDS))


def practitioner_of(gp: GeneralPractitioner | None) -> dict[str, Any] | None:
    """What Booking.general_practitioner stores of ``gp``."""
    return None if gp is None else gp.model_dump(mode="json")


def patient_of(booking: Booking) -> Patient | None:
    """The booking's patient with their INS traits, None when the booking took none."""
    if not booking.identity:
        return None
    data = {**booking.identity, "birth_date": booking.birth_date, "sex": booking.sex}
    try:
        return Patient.model_validate(data)
    except ValidationError:
        log.warning("booking %s: its stored INS traits no longer pass, left out", booking.id)
        return None


def gp_of(booking: Booking) -> GeneralPractitioner | None:
    """The patient's own GP as the booking gave them, or None."""
    if not booking.general_practitioner:
        return None
    try:
        return GeneralPractitioner.model_validate(booking.general_practitioner)
    except ValidationError:
        log.warning("booking %s: its stored GP no longer passes, left out", booking.id)
        return None
