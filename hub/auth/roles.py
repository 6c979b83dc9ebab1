"""Who may do what. Each role sees only what it needs: a technician never sees a
patient's identity, a doctor only the patients of the sites assigned to them."""

from __future__ import annotations

from typing import Literal

Role = Literal["doctor", "coordinator", "technician", "administrator"]
ROLES: tuple[Role, ...] = ("doctor", "coordinator", "technician", "administrator")
# An account's site list may hold this instead of codes: every site.
ALL_SITES = "*"

# The page each role lands on after logging in (first role wins).
HOME: dict[str, str] = {
    "doctor": "/doctor",
    "coordinator": "/booking",
    "technician": "/fleet",
    "administrator": "/fleet",
}

# What each role may reach; checked by hub/web/guard.py on every route.
Permission = Literal[
    "console",  # the doctor's queue and consultations
    "booking",  # bookings with patient identities
    "fleet",  # cabins' state, no patient identity
    "audit",  # the audit trail
]
PERMISSIONS: dict[str, frozenset[Permission]] = {
    "doctor": frozenset({"console"}),
    "coordinator": frozenset({"booking"}),
    "technician": frozenset({"fleet"}),
    "administrator": frozenset({"fleet", "audit"}),
}


def allowed(roles: list[str], permission: Permission) -> bool:
    return any(permission in PERMISSIONS.get(role, frozenset()) for role in roles)


def home(roles: list[str]) -> str:
    for role in roles:
        if role in HOME:
            return HOME[role]
    return "/login"


def serves_site(sites: set[str], site_code: str) -> bool:
    return ALL_SITES in sites or site_code in sites
