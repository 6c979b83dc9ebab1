"""What a booking request can be refused for, by what the caller should do about it.

Every refusal carries a French message the coordinator reads as it is, a stable ``code``
for a booking platform, and for a bad field the field's name and its own message. A
refused request has changed nothing."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Problem:
    field: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class BookingError(Exception):
    """The root: an HTTP status, a stable code and a French message."""

    status = 400
    code = "refused"

    def __init__(self, message: str, *, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "code": self.code}
        if self.problems:
            body["problems"] = [p.to_json() for p in self.problems]
        return body


class BookingInvalid(BookingError):
    """Fix the fields named in ``problems`` and send again."""

    status = 422
    code = "invalid"


class SlotUnavailable(BookingError):
    """The slot cannot be booked (closed, past, full, too far ahead): choose another."""

    status = 409

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, problems=[Problem("start", message)])
        self.code = code


class BookingNotFound(BookingError):
    status = 404
    code = "not_found"


class AlreadyCancelled(BookingError):
    status = 409
    code = "already_cancelled"


class BookingOver(BookingError):
    """A booking whose slot has begun is history: it is not cancelled any more."""

    status = 409
    code = "over"


class NotYourSite(BookingError):
    """The caller does not serve this site (audited)."""

    status = 403
    code = "other_site"


class BadRequest(BookingError):
    """The request could not be read at all (not JSON, too large)."""

    status = 400
    code = "bad_request"
