"""A fixed, in-memory stand-in for the daemon's API, for deterministic snapshots only
(every behaviour is tested against the real daemon in test_flows.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

HOURS = {
    "2026-11-23": ["09:00-12:00", "13:30-17:00"],
    "2026-11-24": ["09:00-12:00"],
    "2026-11-25": [],
    "2026-11-26": ["09:00-12:00", "13:30-17:00"],
    "2026-11-27": ["09:00-12:00", "13:30-17:00"],
    "2026-11-28": ["09:00-12:00"],
    "2026-11-29": [],
}


def state_doc(state: str = "idle") -> dict[str, Any]:
    return {
        "state": state,
        "locked": state != "idle",
        "open_now": state != "closed",
        "next_change": "2026-11-24T09:00:00+01:00" if state == "closed" else None,
        "site": {
            "name": "Cabine de Nangis",
            "booking_hint": "Rendez-vous au 01 64 00 00 00 ou sur le site de la mairie",
            "walk_in": True,
        },
        "session_active": state not in ("idle", "closed"),
        "doctors_reachable": True,
        "hours": HOURS,
        "step": None,
        "inactivity_s": 90,
    }


CHECKLIST = {
    "session_id": "s1",
    "state": "cleaning",
    "referent": {"id": "marie", "name": "Marie L."},
    "steps": [
        {
            "id": "siege",
            "label_fr": "Désinfecter l'assise et les accoudoirs",
            "label_en": "Disinfect the seat and armrests",
            "contact_time_s": 60,
            "consumables": [],
            "status": "confirmed",
            "remaining_s": 0,
        },
        {
            "id": "ecran",
            "label_fr": "Essuyer l'écran tactile",
            "label_en": "Wipe the touchscreen",
            "contact_time_s": 60,
            "consumables": [],
            "status": "started",
            "remaining_s": 42,
        },
        {
            "id": "thermometre",
            "label_fr": "Thermomètre : changer le protège-sonde",
            "label_en": "Thermometer: replace the probe cover",
            "contact_time_s": 0,
            "consumables": ["protège-sonde"],
            "status": "pending",
            "remaining_s": 0,
        },
    ],
}

STATUS = {
    "state": "idle",
    "instruments": [
        {"name": "tensiometre", "kind": "blood_pressure", "state": "ready", "battery_percent": 80},
        {"name": "thermometre", "kind": "thermometer", "state": "low_battery", "detail": "piles"},
    ],
    "printer": {"queue": "PDF", "state": "idle", "jobs_pending": 0},
}


# A booking that carried the patient's INS traits and GP (the details screen confirms them).
BOOKED_DETAILS = {
    "from_booking": True,
    "ins_number": "248037505612373",
    "birth_place": "75056",
    "sex": "F",
    "gp_name": "Dr Anne Roux",
    "gp_mssante": "anne.roux@medecin.mssante.fr",
}


class FakeCabin:
    def __init__(self, state: str = "idle") -> None:
        self.docs: dict[str, dict[str, Any]] = {
            "/api/ui/state": state_doc(state),
            "/api/hygiene/checklist": CHECKLIST,
            "/api/status": STATUS,
            "/api/print/documents": {"value": []},  # DaemonClient wraps lists
            "/api/ui/checkin/details": BOOKED_DETAILS,
        }

    async def get(self, path: str) -> dict[str, Any]:
        return self.docs[path]

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return {}

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        return
        yield {}
