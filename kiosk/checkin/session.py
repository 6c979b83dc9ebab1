"""What the patient typed during one session. Memory only, wiped when the session ends.

The identity for the consultation record (``identity_for_record``): the INS traits the
patient confirmed or typed at the details step; else those the booking carried (the
patient matched its names and birth date); else, for a walk-in who gave none, the names
and birth date typed (the family name as birth name, the given name as first names)."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any, Literal

from hub.shared.ins import GeneralPractitioner, Patient
from kiosk.checkin.rules import answers_for_doctor

# "details": the optional INS traits and GP (skippable: consent may come straight after).
Step = Literal["code", "identity", "details", "consent", "questionnaire", "done"]


@dataclasses.dataclass
class PatientSession:
    """One patient's check-in. ``repr`` hides everything: it may end up in a traceback."""

    session_id: str | None
    step: Step = "code"
    walk_in: bool = False
    appointment_id: str | None = dataclasses.field(default=None, repr=False)
    appt_family: str = dataclasses.field(default="", repr=False)
    appt_given: str = dataclasses.field(default="", repr=False)
    appt_birth: date | None = dataclasses.field(default=None, repr=False)
    appt_sex: str | None = dataclasses.field(default=None, repr=False)  # from the booking
    # The INS traits and GP the booking carried, shown to the patient to confirm.
    appt_patient: Patient | None = dataclasses.field(default=None, repr=False)
    appt_gp: GeneralPractitioner | None = dataclasses.field(default=None, repr=False)
    family_name: str = dataclasses.field(default="", repr=False)
    given_name: str = dataclasses.field(default="", repr=False)
    birth_date: date | None = dataclasses.field(default=None, repr=False)
    age: int | None = dataclasses.field(default=None, repr=False)
    representative_present: bool = dataclasses.field(default=False, repr=False)
    # Given (or confirmed) at the details step; None when skipped.
    ins: Patient | None = dataclasses.field(default=None, repr=False)
    gp: GeneralPractitioner | None = dataclasses.field(default=None, repr=False)
    details_given: bool = dataclasses.field(default=False, repr=False)
    answers: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)

    def for_doctor(self) -> dict[str, Any] | None:
        """The patient as the doctor console shows it, once identified."""
        if self.birth_date is None:
            return None
        reason, answers = answers_for_doctor(self.answers)
        return {
            "family_name": self.family_name,
            "given_name": self.given_name,
            "birth_date": self.birth_date.isoformat(),
            "sex": self.sex,
            "age": self.age,
            "representative_present": self.representative_present,
            "walk_in": self.walk_in,
            "reason": reason,
            "answers": answers,
        }

    @property
    def sex(self) -> str | None:
        """The sex given at the details step, else the booking's."""
        if self.ins is not None and self.ins.sex is not None:
            return self.ins.sex
        return self.appt_sex

    def identity_for_record(self) -> tuple[Patient, GeneralPractitioner | None] | None:
        """The patient as the consultation record names them, and their GP; None before
        the identity step."""
        if self.birth_date is None:
            return None
        if self.details_given and self.ins is not None:
            return self.ins, self.gp
        if self.appt_patient is not None:
            return self.appt_patient, self.appt_gp
        return self.typed_patient(), self.gp if self.details_given else self.appt_gp

    def typed_patient(self) -> Patient:
        """The names and birth date typed at the identity step, as a Patient (raises
        pydantic's ValidationError when they cannot be one)."""
        sex = self.sex if self.sex in ("F", "M", "I") else None
        return Patient.model_validate(
            {
                "birth_name": self.family_name,
                "first_names": self.given_name,
                "birth_date": self.birth_date,
                "sex": sex,
            }
        )

    def wipe(self) -> None:
        """Overwrite what we can before dropping the object (defence in depth)."""
        self.family_name = self.given_name = self.appt_family = self.appt_given = ""
        self.birth_date = self.appt_birth = None
        self.appt_sex = None
        self.appt_patient = self.ins = None
        self.appt_gp = self.gp = None
        self.details_given = False
        self.age = None
        self.answers.clear()
