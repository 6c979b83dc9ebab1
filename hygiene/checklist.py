"""A session's checklist: the protocol steps that apply to the instruments it used."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from hygiene.config import ProtocolStep
from kiosk.settings import CabinSettings

log = logging.getLogger(__name__)


def used_kinds(settings: CabinSettings, instrument_names: Iterable[str]) -> set[str] | None:
    """The instrument kinds a session used, or None when one of its instruments is no longer
    configured (its kind is unknown: the caller must then apply every step, to be safe)."""
    kinds: set[str] = set()
    for name in instrument_names:
        try:
            kinds.add(settings.instrument(name).kind.value)
        except KeyError:
            log.warning("instrument %s used by the session is not configured", name)
            return None
    return kinds


def checklist_for(steps: Sequence[ProtocolStep], kinds: set[str] | None) -> list[ProtocolStep]:
    """Steps with an empty ``when_used`` always apply; the others when one of their
    instrument kinds was used. ``kinds=None`` (unknown) applies every step."""
    return [s for s in steps if not s.when_used or kinds is None or kinds.intersection(s.when_used)]


def session_checklist(
    settings: CabinSettings, instruments_used: Iterable[str]
) -> list[ProtocolStep]:
    return checklist_for(settings.hygiene.steps, used_kinds(settings, instruments_used))
