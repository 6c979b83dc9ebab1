"""How a delivery attempt fails, by what the worker should do next."""

from __future__ import annotations

import ssl

ERROR_CHARS = 300  # record_deliveries.last_error


class DeliveryFailed(Exception):
    """An attempt that did not deliver. ``message`` is short, French, and carries no
    patient data (it is stored, shown to the technician and logged).

    - ``permanent``: the receiver refused this record for good (a 5xx SMTP reply, a
      4xx HTTP status): no retry, the delivery is dead at once (a replay can still try);
    - ``receiver_away``: no connection, a timeout, a 5xx HTTP status: the other
      deliveries of the channel wait for the next round too."""

    def __init__(self, message: str, *, permanent: bool = False, receiver_away: bool = False):
        super().__init__(message)
        self.message = message[:ERROR_CHARS]
        self.permanent = permanent
        self.receiver_away = receiver_away


def file_problem(exc: OSError) -> str:
    """Why a certificate, key or CA file cannot be used, in a few words."""
    if isinstance(exc, ssl.SSLError):
        return "not a usable PEM file (or the key does not match the certificate)"
    return exc.strerror or str(exc)
