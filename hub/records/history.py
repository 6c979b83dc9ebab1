"""A doctor's own consultations ("Mes consultations"): when, where, who, the conclusion,
signed or not, and where the record went (each delivery's state). A doctor sees only the
consultations they took: every query here is bounded by their account.

Public API:
- ``HistoryQuery(text=None, day=None)``: a patient's name (any part of it, accents and
  case ignored) and/or a day (the site's local date); ``parse_query(params)`` from the
  page's query string, ``QueryInvalid`` (French) when it is not one.
- ``my_consultations(session, doctor_id, settings, query) -> list[dict]``: newest first,
  at most ``MAX_ITEMS``; each as the page shows it (``item_of``).
- ``own_consultation(session, doctor_id, consultation_id) -> (Consultation, row | None)``
  or ``None`` when it is not theirs (or does not exist: the same answer)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.records.assemble import cabin_part_of, fold, patient_search
from hub.settings import HubSettings
from hub.shared.record import RecordInvalid
from hub.store.models import Consultation, ConsultationRecordRow, RecordDelivery

MAX_ITEMS = 200  # a page; the search narrows it
SNIPPET_CHARS = 160
MAX_SEARCH_CHARS = 100
DEFAULT_ZONE = "Europe/Paris"

CHANNELS = {
    "mail": "Courriel au médecin traitant",
    "fhir": "Dossier de santé (FHIR)",
    "print": "Copie imprimée pour le patient",
}
STATES = {
    "pending": "en attente d'envoi",
    "retrying": "nouvel essai prévu",
    "delivered": "remis",
    "dead": "échec : signalé au technicien",
    "declined": "refusée par le patient",
    "failed": "échec de l'impression",
    "unanswered": "proposée, sans réponse du patient",
    "not_offered": "non proposée",
}


class QueryInvalid(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class HistoryQuery:
    text: str | None = None
    day: date | None = None


def parse_query(params: Mapping[str, str]) -> HistoryQuery:
    text = (params.get("q") or "").strip()
    if len(text) > MAX_SEARCH_CHARS:
        raise QueryInvalid(f"recherche trop longue ({MAX_SEARCH_CHARS} caractères au plus)")
    raw_day = (params.get("date") or "").strip()
    day = None
    if raw_day:
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            raise QueryInvalid("date attendue au format AAAA-MM-JJ") from None
    return HistoryQuery(text=fold(text) or None, day=day)


def _zone(settings: HubSettings, site_code: str) -> ZoneInfo:
    site = settings.site(site_code)
    return ZoneInfo(site.hours.timezone if site else DEFAULT_ZONE)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _patient(row: ConsultationRecordRow | None) -> tuple[str | None, str | None]:
    """The patient's name as shown, and as searched, from the cabin's part."""
    if row is None:
        return None, None
    try:
        part = cabin_part_of(row)
    except RecordInvalid:
        return None, row.patient_search
    if part is None:
        return None, row.patient_search
    return part.patient.display_name, row.patient_search or patient_search(part.patient)


async def my_consultations(
    session: AsyncSession, doctor_id: str, settings: HubSettings, query: HistoryQuery
) -> list[dict[str, Any]]:
    statement = (
        select(Consultation, ConsultationRecordRow)
        .outerjoin(ConsultationRecordRow, ConsultationRecordRow.consultation_id == Consultation.id)
        .where(Consultation.doctor_id == doctor_id)
        .order_by(Consultation.claimed_at.desc(), Consultation.id)
    )
    if query.text is not None:
        statement = statement.where(
            or_(
                ConsultationRecordRow.patient_search.like(_like(query.text), escape="\\"),
                # The cabin's part is there but the record not complete yet: read below.
                and_(
                    ConsultationRecordRow.patient_search.is_(None),
                    ConsultationRecordRow.cabin_part.is_not(None),
                ),
            )
        )
    if query.day is not None:
        # Any zone's day lies within these bounds; the site's own is checked below.
        start = datetime.combine(query.day, time(), ZoneInfo("UTC")) - timedelta(days=1)
        statement = statement.where(
            Consultation.claimed_at >= start, Consultation.claimed_at < start + timedelta(days=3)
        )
    items: list[tuple[Consultation, ConsultationRecordRow | None, str | None]] = []
    for consultation, row in (await session.execute(statement)).all():
        name, searched = _patient(row)
        if query.text is not None and (searched is None or query.text not in searched):
            continue
        zone = _zone(settings, consultation.site_code)
        if query.day is not None and consultation.claimed_at.astimezone(zone).date() != query.day:
            continue
        items.append((consultation, row, name))
        if len(items) >= MAX_ITEMS:
            break
    deliveries = await _deliveries(session, [c.id for c, _, _ in items])
    return [
        item_of(settings, consultation, row, name, deliveries.get(consultation.id, []))
        for consultation, row, name in items
    ]


async def _deliveries(session: AsyncSession, ids: Sequence[str]) -> dict[str, list[RecordDelivery]]:
    out: dict[str, list[RecordDelivery]] = {}
    if not ids:
        return out
    rows = await session.scalars(
        select(RecordDelivery)
        .where(RecordDelivery.consultation_id.in_(ids))
        .order_by(RecordDelivery.id)
    )
    for delivery in rows:
        out.setdefault(delivery.consultation_id, []).append(delivery)
    return out


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _snippet(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rstrip() + "…"


def item_of(
    settings: HubSettings,
    consultation: Consultation,
    row: ConsultationRecordRow | None,
    patient: str | None,
    deliveries: Sequence[RecordDelivery],
) -> dict[str, Any]:
    site = settings.site(consultation.site_code)
    report = dict(row.report) if row is not None else {}
    return {
        "consultation_id": consultation.id,
        "started_at": _iso(consultation.claimed_at),
        "ended_at": _iso(consultation.ended_at),
        "timezone": _zone(settings, consultation.site_code).key,
        "site_code": consultation.site_code,
        "site_name": site.name if site else consultation.site_code,
        "cabin_id": consultation.cabin_id,
        "patient": patient,
        "conclusion": _snippet(report.get("conclusion")),
        "report": report,
        "signed_at": _iso(row.signed_at) if row is not None else None,
        "completed_at": _iso(row.completed_at) if row is not None else None,
        "has_cabin_part": row is not None and row.cabin_part is not None,
        "deliveries": [
            {
                "channel": d.channel,
                "channel_label": CHANNELS.get(d.channel, d.channel),
                "state": d.state,
                "state_label": STATES.get(d.state, d.state),
                "attempts": d.attempts,
                "delivered_at": _iso(d.delivered_at),
            }
            for d in deliveries
        ],
    }


OwnConsultation: TypeAlias = tuple[Consultation, ConsultationRecordRow | None]


async def own_consultation(
    session: AsyncSession, doctor_id: str, consultation_id: str
) -> OwnConsultation | None:
    consultation = await session.get(Consultation, consultation_id)
    if consultation is None or consultation.doctor_id != doctor_id:
        return None
    return consultation, await session.get(ConsultationRecordRow, consultation_id)
