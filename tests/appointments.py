"""An appointment as the hub pushes it, stored straight into a cabin (tests that do not
need a hub to book it)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hub.shared.wire import AppointmentChange
from kiosk.appointments import AppointmentStore


def push_appointment(store: AppointmentStore, code: str = "123456", **fields: Any) -> str:
    """Stores a booking now (5 minutes ago to 25 minutes from now); its id."""
    now = datetime.now(UTC)
    data: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "action": "upsert",
        "code": code,
        "slot_start": now - timedelta(minutes=5),
        "slot_end": now + timedelta(minutes=25),
        "family_name": "Dupont",
        "given_name": "Hélène",
        "birth_date": date(1948, 3, 2),
        "reason": "toux",
        **fields,
    }
    change = AppointmentChange.model_validate(data)
    store.apply([change], store.cursor)
    return change.id
