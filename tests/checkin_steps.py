"""The touchscreen's check-in as API requests (path, JSON body), for tests that need a
patient checked in without driving the screens."""

from __future__ import annotations

from typing import Any


def checkin_requests(
    code: str, family_name: str, given_name: str, birth_date: str
) -> list[tuple[str, dict[str, Any]]]:
    """Start, appointment code, identity, both consents, a questionnaire (reason: pain)."""
    return [
        ("/api/ui/checkin/start", {}),
        ("/api/ui/checkin/code", {"code": code}),
        (
            "/api/ui/checkin/identity",
            {"family_name": family_name, "given_name": given_name, "birth_date": birth_date},
        ),
        ("/api/ui/checkin/consent", {"teleconsultation": True, "data_processing": True}),
        ("/api/ui/checkin/questionnaire", {"reason": "pain"}),
    ]
