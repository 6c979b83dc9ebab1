"""The fleet as the dashboard shows it: each cabin from its row (and its open alerts),
never from anything that holds a patient. Every field is named below (models that forbid
extra fields): what the cabin sent is copied field by field, never passed through."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.auth.roles import allowed, serves_site
from hub.auth.sessions import Principal
from hub.fleet import words
from hub.fleet.rules import (
    PRINTER_ERROR_STATES,
    SEVERITY,
    Severity,
    base_of,
    parse_status,
    site_facts,
)
from hub.settings import HubSettings
from hub.shared.wire import CabinStatus
from hub.store.models import Alert, Cabin, HygieneEntryRow


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlertView(_View):
    id: int
    key: str
    kind: str
    severity: Severity
    cabin_id: str
    label: str  # short, for the cabin's row: "Batterie faible : tensiometre"
    message: str  # whole, for the list and the webhook
    raised_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None

    @classmethod
    def of(cls, alert: Alert) -> AlertView:
        return cls(
            id=alert.id,
            key=alert.key,
            kind=alert.kind,
            severity=SEVERITY.get(alert.kind, "warning"),
            cabin_id=alert.cabin_id,
            label=alert_label(alert),
            message=alert.message,
            raised_at=alert.raised_at,
            sent_at=alert.sent_at,
            attempts=alert.attempts,
            last_error=alert.last_error,
        )


def alert_label(alert: Alert) -> str:
    label = words.label(words.ALERT_KINDS, alert.kind)
    parts = base_of(alert.key).split(":", 2)  # kind, cabin, and the instrument if any
    return f"{label} : {parts[2]}" if len(parts) == 3 else label


class Connection(_View):
    online: bool
    label: str  # en ligne, hors ligne, jamais connectée
    since: datetime | None
    last_seen_at: datetime | None


class StateView(_View):
    code: str
    label: str
    since: datetime
    locked: bool
    call_state: str | None
    call_label: str | None


class InstrumentView(_View):
    name: str
    kind: str
    kind_label: str
    state: str
    state_label: str
    detail: str
    battery_percent: int | None
    battery_low: bool


class PrinterView(_View):
    state: str
    label: str
    message: str
    paper_low: bool
    error: bool


class DisinfectionView(_View):
    at: datetime
    seq: int


class ChainView(_View):
    ok: bool
    label: str  # vérifiée, ROMPUE
    problem: str | None
    entries: int


class CabinView(_View):
    id: str
    site_code: str
    site_name: str
    connection: Connection
    state: StateView | None  # None until the cabin sent a status
    instruments: list[InstrumentView]
    printer: PrinterView | None
    last_disinfection: DisinfectionView | None
    awaiting_disinfection_since: datetime | None
    hygiene_chain: ChainView
    software_version: str | None
    status_at: datetime | None
    alerts: list[AlertView]


class SiteView(_View):
    code: str
    name: str
    cabins: list[CabinView]


class FleetView(_View):
    now: datetime
    sites: list[SiteView]
    alerts: list[AlertView]


def cabin_view(
    cabin: Cabin,
    site_name: str,
    alerts: Iterable[Alert],
    entries: int,
    battery_low_percent: int,
) -> CabinView:
    status = parse_status(cabin)
    return CabinView(
        id=cabin.id,
        site_code=cabin.site_code,
        site_name=site_name,
        connection=_connection(cabin),
        state=None if status is None else _state(status),
        instruments=[] if status is None else _instruments(status, battery_low_percent),
        printer=None if status is None else _printer(status),
        last_disinfection=None
        if status is None or status.last_disinfection is None
        else DisinfectionView(at=status.last_disinfection.at, seq=status.last_disinfection.seq),
        awaiting_disinfection_since=None if status is None else status.awaiting_disinfection_since,
        hygiene_chain=ChainView(
            ok=cabin.hygiene_chain_ok,
            label="vérifiée" if cabin.hygiene_chain_ok else "ROMPUE",
            problem=cabin.hygiene_chain_problem,
            entries=entries,
        ),
        software_version=cabin.software_version,
        status_at=cabin.status_at,
        alerts=[AlertView.of(a) for a in alerts],
    )


def _connection(cabin: Cabin) -> Connection:
    if cabin.online:
        return Connection(
            online=True,
            label="en ligne",
            since=cabin.online_since,
            last_seen_at=cabin.last_seen_at,
        )
    never = cabin.online_since is None and cabin.offline_since is None
    return Connection(
        online=False,
        label="jamais connectée" if never else "hors ligne",
        since=cabin.offline_since,
        last_seen_at=cabin.last_seen_at,
    )


def _state(status: CabinStatus) -> StateView:
    call = status.call_state
    return StateView(
        code=status.state,
        label=words.label(words.STATES, status.state),
        since=status.since,
        locked=status.locked,
        call_state=call,
        call_label=None if call is None else words.label(words.CALL_STATES, call),
    )


def _instruments(status: CabinStatus, battery_low_percent: int) -> list[InstrumentView]:
    return [
        InstrumentView(
            name=i.name,
            kind=i.kind,
            kind_label=words.label(words.INSTRUMENT_KINDS, i.kind),
            state=i.state,
            state_label=words.label(words.INSTRUMENT_STATES, i.state),
            detail=i.detail,
            battery_percent=i.battery_percent,
            battery_low=i.battery_percent is not None and i.battery_percent <= battery_low_percent,
        )
        for i in status.instruments
    ]


def _printer(status: CabinStatus) -> PrinterView | None:
    p = status.printer
    if p is None:
        return None
    return PrinterView(
        state=p.state,
        label=words.label(words.PRINTER_STATES, p.state),
        message=p.message,
        paper_low=p.paper_low,
        error=p.state in PRINTER_ERROR_STATES,
    )


async def cabin_views(
    session: AsyncSession,
    settings: HubSettings,
    sites: frozenset[str],
    cabin_ids: Iterable[str] | None = None,
) -> list[CabinView]:
    """The enrolled or enrolling cabins of ``sites`` (a principal's; "*" is all), by id."""
    query = select(Cabin).where(Cabin.revoked_at.is_(None)).order_by(Cabin.id)
    if cabin_ids is not None:
        query = query.where(Cabin.id.in_(list(cabin_ids)))
    cabins = [
        c for c in (await session.scalars(query)).all() if serves_site(set(sites), c.site_code)
    ]
    if not cabins:
        return []
    ids = [c.id for c in cabins]
    alerts: dict[str, list[Alert]] = {}
    open_alerts = await session.scalars(
        select(Alert)
        .where(Alert.cabin_id.in_(ids), Alert.cleared_at.is_(None))
        .order_by(Alert.raised_at.desc(), Alert.id.desc())
    )
    for alert in open_alerts:
        alerts.setdefault(alert.cabin_id, []).append(alert)
    counted = await session.execute(
        select(HygieneEntryRow.cabin_id, func.count())
        .where(HygieneEntryRow.cabin_id.in_(ids))
        .group_by(HygieneEntryRow.cabin_id)
    )
    counts = {cabin_id: int(n) for cabin_id, n in counted}
    low = settings.alerts.battery_low_percent
    return [
        cabin_view(
            c, site_facts(settings, c.site_code)[0], alerts.get(c.id, []), counts.get(c.id, 0), low
        )
        for c in cabins
    ]


async def open_alerts(session: AsyncSession, sites: frozenset[str]) -> list[AlertView]:
    """The open alerts of the cabins of ``sites``, newest first."""
    rows = await session.execute(
        select(Alert, Cabin.site_code)
        .join(Cabin, Cabin.id == Alert.cabin_id)
        .where(Alert.cleared_at.is_(None), Cabin.revoked_at.is_(None))
        .order_by(Alert.raised_at.desc(), Alert.id.desc())
    )
    return [AlertView.of(a) for a, site in rows if serves_site(set(sites), site)]


def fleet_view(
    settings: HubSettings, sites: frozenset[str], cabins: list[CabinView], now: datetime
) -> FleetView:
    """The cabins grouped by site: the configured sites the principal serves, in the
    configuration's order (even with no cabin yet), then any other site a cabin names."""
    by_site: dict[str, list[CabinView]] = {}
    for cabin in cabins:
        by_site.setdefault(cabin.site_code, []).append(cabin)
    groups = [
        SiteView(code=s.code, name=s.name, cabins=by_site.pop(s.code, []))
        for s in settings.sites
        if serves_site(set(sites), s.code)
    ]
    groups += [
        SiteView(code=code, name=code, cabins=rest) for code, rest in sorted(by_site.items())
    ]
    alerts = sorted(
        (a for c in cabins for a in c.alerts), key=lambda a: (a.raised_at, a.id), reverse=True
    )
    return FleetView(now=now, sites=groups, alerts=alerts)


def viewer(who: Principal) -> dict[str, Any]:
    """Who is looking, for the page: their name, and whether to offer the audit page."""
    return {"username": who.username, "audit": allowed(who.roles, "audit")}


async def load_fleet(
    session: AsyncSession, settings: HubSettings, sites: frozenset[str], now: datetime
) -> FleetView:
    return fleet_view(settings, sites, await cabin_views(session, settings, sites), now)
