"""What is wrong with a cabin now: the alert rules, pure functions of what the hub knows
of it (its row) and the clock. No I/O here; hub/fleet/alerts.py stores what they find.

Each ``Condition`` names one occurrence of a problem. Its ``base`` says what is wrong
where (``offline:nangis-01``, ``battery_low:nangis-01:tensiometre``); its ``since``,
when the cabin or the hub knows when it began, makes the occurrence's key
(``offline:nangis-01@2026-03-01T09:02:00+00:00``), so a cabin that goes offline twice
gives two alerts and one that stays offline gives one. A problem with no known start
(a battery, a printer) gets the time the hub first saw it, once."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from hub.fleet import words
from hub.settings import AlertSettings, HubSettings
from hub.shared.wire import CabinStatus
from hub.store.models import Cabin

log = logging.getLogger(__name__)

AlertKind = Literal[
    "offline",
    "out_of_service",
    "awaiting_disinfection",
    "battery_low",
    "printer_error",
    "paper_low",
    "hygiene_chain",
]
Severity = Literal["critical", "warning"]
SEVERITY: dict[str, Severity] = {
    "offline": "critical",
    "out_of_service": "critical",
    "awaiting_disinfection": "warning",
    "battery_low": "warning",
    "printer_error": "critical",
    "paper_low": "warning",
    "hygiene_chain": "critical",
}
# Printer states (as the cabin reports them) that mean nothing prints.
PRINTER_ERROR_STATES = frozenset({"error", "unreachable", "stopped"})
KEY_SEPARATOR = "@"
UTC_ZONE = ZoneInfo("UTC")


def site_facts(settings: HubSettings, site_code: str) -> tuple[str, ZoneInfo]:
    """The site's name and time zone (a site since removed from the configuration: its
    code, and UTC)."""
    site = settings.site(site_code)
    if site is None:
        return site_code, UTC_ZONE
    return site.name, site.hours.zone


@dataclasses.dataclass(frozen=True)
class CabinFacts:
    """What the rules read of a cabin."""

    cabin_id: str
    site_code: str
    site_name: str
    zone: ZoneInfo
    enrolled: bool
    online: bool
    offline_since: datetime | None
    status: CabinStatus | None
    hygiene_chain_ok: bool
    hygiene_chain_problem: str | None

    @classmethod
    def of(cls, cabin: Cabin, site_name: str, zone: ZoneInfo) -> CabinFacts:
        return cls(
            cabin_id=cabin.id,
            site_code=cabin.site_code,
            site_name=site_name,
            zone=zone,
            enrolled=cabin.enrolled_at is not None,
            online=cabin.online,
            offline_since=cabin.offline_since,
            status=parse_status(cabin),
            hygiene_chain_ok=cabin.hygiene_chain_ok,
            hygiene_chain_problem=cabin.hygiene_chain_problem,
        )


def parse_status(cabin: Cabin) -> CabinStatus | None:
    """The cabin's last status, or None (none yet, or stored by a protocol we no longer read)."""
    if cabin.status is None:
        return None
    try:
        return CabinStatus.model_validate(cabin.status)
    except ValidationError:
        log.warning("cabin %s: its stored status is not readable", cabin.id)
        return None


@dataclasses.dataclass(frozen=True)
class Condition:
    kind: AlertKind
    cabin_id: str
    message: str  # French, for the technician; names no patient
    subject: str = ""  # the instrument, when there are several of a kind
    since: datetime | None = None

    @property
    def base(self) -> str:
        parts = [self.kind, self.cabin_id] + ([self.subject] if self.subject else [])
        return ":".join(parts)

    def key(self, first_seen: datetime) -> str:
        return f"{self.base}{KEY_SEPARATOR}{(self.since or first_seen).isoformat()}"


def base_of(key: str) -> str:
    """The ``base`` of a stored alert key (occurrence times never hold the separator)."""
    return key.rpartition(KEY_SEPARATOR)[0] or key


def conditions(facts: CabinFacts, rules: AlertSettings, now: datetime) -> list[Condition]:
    """Every problem of the cabin that deserves an alert now."""
    found: list[Condition] = []
    where = f"{facts.site_name} — cabine {facts.cabin_id}"
    if not facts.online and facts.offline_since is not None and facts.enrolled:
        gone = now - facts.offline_since
        if gone >= timedelta(minutes=rules.offline_after_minutes):
            found.append(
                Condition(
                    "offline",
                    facts.cabin_id,
                    f"{where} : hors ligne depuis {words.duration(gone)} "
                    f"({words.at_time(facts.offline_since, facts.zone)}).",
                    since=facts.offline_since,
                )
            )
    if not facts.hygiene_chain_ok:
        found.append(
            Condition(
                "hygiene_chain",
                facts.cabin_id,
                f"{where} : le journal de désinfection reçu ne se vérifie plus "
                f"({facts.hygiene_chain_problem or 'chaîne rompue'}).",
            )
        )
    status = facts.status
    if status is None:
        return found
    found.extend(_state_conditions(facts, status, rules, now, where))
    found.extend(_instrument_conditions(facts, status, rules, where))
    found.extend(_printer_conditions(facts, status, where))
    return found


def _state_conditions(
    facts: CabinFacts, status: CabinStatus, rules: AlertSettings, now: datetime, where: str
) -> list[Condition]:
    found = []
    if status.state == "out_of_service":
        found.append(
            Condition(
                "out_of_service",
                facts.cabin_id,
                f"{where} : hors service {words.at_time(status.since, facts.zone)}.",
                since=status.since,
            )
        )
    awaiting = status.awaiting_disinfection_since
    if awaiting is None and status.state == "awaiting_disinfection":
        awaiting = status.since
    if awaiting is not None:
        waited = now - awaiting
        if waited >= timedelta(minutes=rules.awaiting_disinfection_after_minutes):
            found.append(
                Condition(
                    "awaiting_disinfection",
                    facts.cabin_id,
                    f"{where} : attend sa désinfection depuis {words.duration(waited)} "
                    f"({words.at_time(awaiting, facts.zone)}) ; elle reste fermée aux "
                    "patients.",
                    since=awaiting,
                )
            )
    return found


def _instrument_conditions(
    facts: CabinFacts, status: CabinStatus, rules: AlertSettings, where: str
) -> list[Condition]:
    found = []
    for inst in status.instruments:
        battery = inst.battery_percent
        if battery is not None and battery <= rules.battery_low_percent:
            kind = words.label(words.INSTRUMENT_KINDS, inst.kind)
            found.append(
                Condition(
                    "battery_low",
                    facts.cabin_id,
                    f"{where} : batterie de {inst.name} ({kind}) à {battery} % "
                    f"(seuil {rules.battery_low_percent} %).",
                    subject=inst.name,
                )
            )
    return found


def _printer_conditions(facts: CabinFacts, status: CabinStatus, where: str) -> list[Condition]:
    printer = status.printer
    if printer is None:
        return []
    found = []
    if printer.state in PRINTER_ERROR_STATES:
        state = words.label(words.PRINTER_STATES, printer.state)
        detail = f" : {printer.message}" if printer.message else ""
        found.append(
            Condition("printer_error", facts.cabin_id, f"{where} : imprimante {state}{detail}.")
        )
    if printer.paper_low:
        found.append(
            Condition(
                "paper_low",
                facts.cabin_id,
                f"{where} : papier bientôt épuisé dans l'imprimante.",
            )
        )
    return found
