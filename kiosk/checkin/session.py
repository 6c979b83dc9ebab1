"""What the patient typed during one session. Memory only, wiped when the session ends."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any, Literal

from kiosk.checkin.rules import answers_for_doctor

Step = Literal["code", "identity", "consent", "questionnaire", "done"]


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
    family_name: str = dataclasses.field(default="", repr=False)
    given_name: str = dataclasses.field(default="", repr=False)
    birth_date: date | None = dataclasses.field(default=None, repr=False)
    age: int | None = dataclasses.field(default=None, repr=False)
    representative_present: bool = dataclasses.field(default=False, repr=False)
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
            "sex": self.appt_sex,
            "age": self.age,
            "representative_present": self.representative_present,
            "walk_in": self.walk_in,
            "reason": reason,
            "answers": answers,
        }

    def wipe(self) -> None:
        """Overwrite what we can before dropping the object (defence in depth)."""
        self.family_name = self.given_name = self.appt_family = self.appt_given = ""
        self.birth_date = self.appt_birth = None
        self.appt_sex = None
        self.age = None
        self.answers.clear()
