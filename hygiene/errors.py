"""The hygiene package's exceptions, by what the caller should do."""

from __future__ import annotations


class HygieneError(Exception):
    """Root of the package's errors."""


class FlowError(HygieneError):
    """The referent's request does not fit the flow now (HTTP 409); nothing changed."""

    def __init__(self, message: str, **extra: object) -> None:
        super().__init__(message)
        self.extra = extra


class UnknownStep(HygieneError):
    """No step with that id in the current checklist (HTTP 404)."""


class AuthFailed(HygieneError):
    """Wrong PIN or badge (HTTP 401)."""

    def __init__(self, attempts_left: int) -> None:
        super().__init__("code incorrect")
        self.attempts_left = attempts_left


class LockedOut(HygieneError):
    """Too many wrong attempts: refused until ``until`` (HTTP 423)."""

    def __init__(self, until: str) -> None:
        super().__init__("trop d'essais : réessayez plus tard")
        self.until = until


class LockError(HygieneError):
    """The door-lock hardware did not do what it was told."""


class StorageError(HygieneError):
    """The log could not be written (disk full, database locked): nothing was recorded and
    the cabin stays as it was; the referent can try again (HTTP 503)."""
