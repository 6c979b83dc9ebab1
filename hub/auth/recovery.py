"""One-time recovery codes, for a doctor who lost their phone: shown once at enrolment,
kept only as SHA-256 (they are random enough that a slow hash adds nothing)."""

from __future__ import annotations

import hashlib
import secrets

RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def new_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Codes like 'k7qm-x3pf-9tza' (about 70 bits each)."""
    return [
        "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))
        for _ in range(count)
    ]


def code_hash(code: str) -> str:
    normalised = code.strip().lower().replace(" ", "")
    return hashlib.sha256(normalised.encode()).hexdigest()


def looks_like_recovery_code(text: str) -> bool:
    return len(text.strip()) == 14 and text.strip().count("-") == 2
