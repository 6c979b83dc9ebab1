"""The delivery worker: each complete record's pending deliveries (mail to the GP, the
FHIR server), tried until delivered, with retries and a dead-letter list.

Shape of hub/fleet/webhook.py's, per delivery rather than per alert:
- due: ``state`` pending or retrying and ``next_attempt_at`` passed, for a channel the
  hub is configured for;
- claimed before the attempt by a conditional update (``attempts`` + 1, and
  ``next_attempt_at`` moved a lease ahead): of two hub instances one tries it, and a hub
  that dies during an attempt leaves it due again once the lease is over;
- the outcome in one transaction with its audit entry (``record_delivery``, ok or
  refused): delivered, or retrying with the next attempt after a doubled wait (capped,
  with jitter), or dead after ``max_attempts`` or a permanent refusal;
- a channel whose receiver is away (no connection, timeout, 5xx) ends that channel's
  round: the others due wait for the next one;
- an attempt that fails by a bug of the hub's (any other exception) is a failure too,
  logged by its class only.
A mail relay or FHIR server gets the same record again only when the outcome of an
attempt was lost (a crash, a timeout after the receiver took it): the mail carries the
record's Message-ID, the FHIR entry is a conditional create on the document's identifier.

It also completes, each round, the records whose halves are both there but that were not
completed where the last half arrived (hub/records/completion.py).

Public API: ``DeliveryWorker(ctx)`` (``start()``, ``wake()``, ``deliver_due()``,
``complete_ready()``), ``dead_letters(session)``, ``replay(session, id, now, actor)``,
``RECORDS_TOPIC`` (publish ``{"type": "record_completed"}`` there after committing a
completion to have the worker look at once; in this process the worker wakes by itself,
hub.records.completion.when_completed)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import traceback
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub import audit
from hub.context import HubContext
from hub.records.assemble import record_of
from hub.records.completion import complete, when_completed
from hub.records.delivery_errors import DeliveryFailed
from hub.records.fhir_post import FhirChannel
from hub.records.mail import MailChannel
from hub.shared.record import ConsultationRecord, RecordInvalid
from hub.store.models import Account, ConsultationRecordRow, RecordDelivery

log = logging.getLogger(__name__)

RECORDS_TOPIC = "records"
DUE_STATES = ("pending", "retrying")
BATCH = 20  # deliveries tried per round; the round after follows at once while some are due
# An attempt that has not ended within its channel's timeout and this margin is over: the
# delivery is due again (a hub that died mid-attempt, another instance takes it).
LEASE_MARGIN_S = 60.0
# A record whose halves did not make one (a doctor's account without an RPPS number) is
# tried again this often, not at every round: it waits for someone to put it right.
REFUSED_RETRY_S = 600.0
ACTOR = "hub"
ROLE = "system"


class Retries(Protocol):
    @property
    def max_attempts(self) -> int: ...
    @property
    def first_retry_s(self) -> float: ...
    @property
    def max_retry_s(self) -> float: ...
    @property
    def timeout_s(self) -> float: ...


class Channel(Protocol):
    name: str

    @property
    def retries(self) -> Retries: ...

    async def send(self, record: ConsultationRecord, delivery: RecordDelivery) -> None: ...


def retry_delay(retries: Retries, attempts: int) -> float:
    """The wait after the ``attempts``-th failure: doubled each time, capped, with jitter
    (hub instances that failed together do not retry together)."""
    delay = min(retries.max_retry_s, retries.first_retry_s * 2.0 ** max(0, attempts - 1))
    return delay * random.uniform(0.8, 1.0)


@dataclasses.dataclass
class Round:
    delivered: int = 0
    failed: int = 0
    more: bool = False


class DeliveryWorker:
    def __init__(self, ctx: HubContext, channels: list[Channel] | None = None) -> None:
        """ValueError (a bad certificate or key path: OSError) stops the hub's start."""
        self.ctx = ctx
        if channels is None:
            channels = []
            records = ctx.settings.records
            if records.smtp is not None:
                channels.append(MailChannel(records.smtp))
            if records.fhir.endpoint is not None:
                channels.append(FhirChannel(records.fhir))
        self.channels: dict[str, Channel] = {c.name: c for c in channels}
        self.rounds = 0  # finished rounds (tests wait on it)
        self.delivered = 0
        self._wake = asyncio.Event()
        self._refused_at: dict[str, float] = {}  # consultation id -> monotonic time

    def start(self) -> None:
        self.ctx.router.subscribe(RECORDS_TOPIC, self._on_records)
        self.ctx.tasks.spawn(self.loop(), "records-delivery")

    def stop(self) -> None:
        self.ctx.router.unsubscribe(RECORDS_TOPIC, self._on_records)

    async def _on_records(self, message: dict[str, Any]) -> None:
        self.wake()

    def wake(self) -> None:
        self._wake.set()

    async def loop(self) -> None:
        interval = self.ctx.settings.records.delivery_interval_s
        running = asyncio.get_running_loop()
        # A record completed in this process (by any thread): delivered now, not at the
        # next round. Unhooked when the loop ends (the hub's stop cancels it).
        unhook = when_completed(lambda: running.call_soon_threadsafe(self.wake))
        try:
            while True:
                outcome = Round()
                try:
                    await self.complete_ready()
                    outcome = await self.deliver_due()
                except Exception:  # the store may be briefly away: the next round tries again
                    log.exception("record deliveries: the round failed")
                self.rounds += 1
                if outcome.more:
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(interval):
                        await self._wake.wait()
                self._wake.clear()
        finally:
            unhook()

    async def complete_ready(self) -> int:
        """Completes the records that have both halves, signed, and are not completed."""
        now = self.ctx.clock()
        async with self.ctx.db.read() as s:
            ids = list(
                await s.scalars(
                    select(ConsultationRecordRow.consultation_id).where(
                        ConsultationRecordRow.completed_at.is_(None),
                        ConsultationRecordRow.signed_at.is_not(None),
                        ConsultationRecordRow.cabin_part.is_not(None),
                    )
                )
            )
        done = 0
        clock = asyncio.get_running_loop().time()
        for consultation_id in ids:
            tried = self._refused_at.get(consultation_id)
            if tried is not None and clock - tried < REFUSED_RETRY_S:
                continue
            async with self.ctx.db.transaction() as s:
                row = await s.get(ConsultationRecordRow, consultation_id, with_for_update=True)
                completed = row is not None and await complete(s, row, now, self.ctx.settings)
            if completed:
                done += 1
                self._refused_at.pop(consultation_id, None)
            elif row is not None and row.completed_at is None:
                self._refused_at[consultation_id] = clock
        return done

    async def deliver_due(self) -> Round:
        outcome = Round()
        if not self.channels:
            return outcome
        now = self.ctx.clock()
        async with self.ctx.db.read() as s:
            due = list(
                await s.scalars(
                    select(RecordDelivery)
                    .where(
                        RecordDelivery.state.in_(DUE_STATES),
                        RecordDelivery.channel.in_(self.channels),
                        RecordDelivery.next_attempt_at <= now,
                    )
                    .order_by(RecordDelivery.next_attempt_at, RecordDelivery.id)
                    .limit(BATCH + 1)
                )
            )
        away: set[str] = set()
        for delivery in due[:BATCH]:
            if delivery.channel in away:
                continue
            channel = self.channels[delivery.channel]
            if not await self._claim(delivery, channel):
                continue  # another instance has it
            try:
                await channel.send(await self._record(delivery), delivery)
            except Exception as exc:
                failure = exc if isinstance(exc, DeliveryFailed) else _internal(delivery, exc)
                await self._failed(delivery, channel, failure)
                outcome.failed += 1
                if failure.receiver_away:
                    away.add(delivery.channel)
                continue
            await self._delivered(delivery)
            outcome.delivered += 1
        outcome.more = len(due) > BATCH and not away
        return outcome

    async def _claim(self, delivery: RecordDelivery, channel: Channel) -> bool:
        lease = timedelta(seconds=channel.retries.timeout_s + LEASE_MARGIN_S)
        async with self.ctx.db.transaction() as s:
            result = await s.execute(
                update(RecordDelivery)
                .where(
                    RecordDelivery.id == delivery.id,
                    RecordDelivery.state.in_(DUE_STATES),
                    RecordDelivery.attempts == delivery.attempts,
                )
                .values(attempts=delivery.attempts + 1, next_attempt_at=self.ctx.clock() + lease)
            )
        delivery.attempts += 1
        return bool(getattr(result, "rowcount", 0))

    async def _record(self, delivery: RecordDelivery) -> ConsultationRecord:
        async with self.ctx.db.read() as s:
            row = await s.get(ConsultationRecordRow, delivery.consultation_id)
            account = None if row is None else await s.get(Account, row.doctor_id)
            if row is None or account is None:
                raise DeliveryFailed("dossier introuvable (purgé ?)", permanent=True)
            site = self.ctx.settings.site(row.site_code)
            try:
                return record_of(row, account, site.name if site else None)
            except RecordInvalid as exc:
                paths = ", ".join(sorted({p["path"] for p in exc.problems}))
                raise DeliveryFailed(f"dossier incomplet ({paths})", permanent=True) from None

    async def _delivered(self, delivery: RecordDelivery) -> None:
        now = self.ctx.clock()
        async with self.ctx.db.transaction() as s:
            await s.execute(
                update(RecordDelivery)
                .where(RecordDelivery.id == delivery.id)
                .values(state="delivered", delivered_at=now, next_attempt_at=None, last_error=None)
            )
            audit.record(
                s, at=now, actor=ACTOR, role=ROLE, action="record_delivery",
                target=delivery.consultation_id, channel=delivery.channel,
                attempt=delivery.attempts, state="delivered",
            )  # fmt: skip
        self.delivered += 1
        log.info(
            "record %s: %s delivery %s delivered (attempt %d)",
            delivery.consultation_id, delivery.channel, delivery.id, delivery.attempts,
        )  # fmt: skip

    async def _failed(
        self, delivery: RecordDelivery, channel: Channel, exc: DeliveryFailed
    ) -> None:
        now = self.ctx.clock()
        retries = channel.retries
        dead = exc.permanent or delivery.attempts >= retries.max_attempts
        state = "dead" if dead else "retrying"
        next_at = None if dead else now + timedelta(seconds=retry_delay(retries, delivery.attempts))
        async with self.ctx.db.transaction() as s:
            await s.execute(
                update(RecordDelivery)
                .where(RecordDelivery.id == delivery.id)
                .values(state=state, next_attempt_at=next_at, last_error=exc.message)
            )
            audit.record(
                s, at=now, actor=ACTOR, role=ROLE, action="record_delivery",
                target=delivery.consultation_id, outcome="refused", channel=delivery.channel,
                attempt=delivery.attempts, state=state, error=exc.message,
            )  # fmt: skip
        log.warning(
            "record %s: %s delivery %s failed, attempt %d (%s)%s",
            delivery.consultation_id, delivery.channel, delivery.id, delivery.attempts,
            exc.message, ": dead" if dead else "",
        )  # fmt: skip


def _internal(delivery: RecordDelivery, exc: Exception) -> DeliveryFailed:
    """An attempt that failed by a bug here, not by the receiver: counted as a failure
    (retried, then dead) rather than left claimed and unaudited. Logged by its class and
    where it was raised: its message may quote the record (pydantic's do)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    log.error(
        "record %s: %s delivery %s: internal error %s at %s",
        delivery.consultation_id, delivery.channel, delivery.id, type(exc).__name__, where,
    )  # fmt: skip
    return DeliveryFailed(f"erreur interne du hub ({type(exc).__name__})")


async def dead_letters(session: AsyncSession) -> list[RecordDelivery]:
    """The deliveries given up, oldest first."""
    rows = await session.scalars(
        select(RecordDelivery)
        .where(RecordDelivery.state == "dead")
        .order_by(RecordDelivery.created_at, RecordDelivery.id)
    )
    return list(rows)


class NotDead(ValueError):
    """Only a dead delivery is replayed."""


async def replay(
    session: AsyncSession, delivery_id: int, now: datetime, actor: str, role: str = "technician"
) -> RecordDelivery:
    """A dead delivery put back to pending, its attempts counted from zero again;
    LookupError for an unknown id, NotDead for one that is not dead. Audited."""
    delivery = await session.get(RecordDelivery, delivery_id, with_for_update=True)
    if delivery is None:
        raise LookupError(delivery_id)
    if delivery.state != "dead":
        raise NotDead(f"l'envoi {delivery_id} n'est pas abandonné (état : {delivery.state})")
    delivery.state = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now
    audit.record(
        session, at=now, actor=actor, role=role, action="record_delivery_replay",
        target=delivery.consultation_id, channel=delivery.channel, delivery_id=delivery.id,
    )  # fmt: skip
    return delivery
