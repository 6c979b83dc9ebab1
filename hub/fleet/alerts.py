"""The alert loop: every ``check_interval_s`` the rules (hub/fleet/rules.py) over every
enrolled cabin, and the ``alerts`` table brought in line; when cabins change, within
``CHANGED_DELAY_S``, the same over those cabins only (a fleet of 2,000 sends a change
every few milliseconds: a whole pass per change kept the hub's store busy, see
bench/bench_hub.py). A pass reads first and writes only when an alert is raised or cleared.

- A condition with no open alert raises one: one row, its occurrence's key unique, so an
  occurrence is raised once, even by two hub instances or across a restart.
- An open alert whose condition is gone is cleared (``cleared_at``); it stays in the table.
- What was raised goes to the webhook (hub/fleet/webhook.py), which stores ``sent_at``.
The dashboard shows the open alerts; ``alerts_changed`` on the fleet topic tells it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cabins.gateway import FLEET_TOPIC
from hub.context import HubContext
from hub.fleet import rules
from hub.fleet.webhook import WebhookSender
from hub.settings import HubSettings
from hub.store.models import Alert, Cabin

log = logging.getLogger(__name__)

# Changes of cabins gathered this long are checked together.
CHANGED_DELAY_S = 0.2
PASS_SLICE = 100  # cabins evaluated between two turns of the hub's loop


@dataclasses.dataclass
class Changes:
    raised: list[Alert] = dataclasses.field(default_factory=list)
    cleared: list[Alert] = dataclasses.field(default_factory=list)

    @property
    def cabin_ids(self) -> list[str]:
        return sorted({a.cabin_id for a in self.raised + self.cleared})


async def sync(
    session: AsyncSession,
    settings: HubSettings,
    now: datetime,
    cabin_ids: Collection[str] | None = None,
    write: bool = True,
) -> Changes:
    """Raises what the rules find and clears what they no longer find, in one transaction:
    over every cabin, or over ``cabin_ids`` only (their alerts, nobody else's).
    ``write=False``: what it would change, with nothing touched (a read session)."""
    cabins_q = select(Cabin).where(Cabin.revoked_at.is_(None))
    alerts_q = select(Alert).where(Alert.cleared_at.is_(None))
    if cabin_ids is not None:
        cabins_q = cabins_q.where(Cabin.id.in_(cabin_ids))
        alerts_q = alerts_q.where(Alert.cabin_id.in_(cabin_ids))
    found: dict[str, rules.Condition] = {}
    # In slices, yielding to the loop between them: a whole fleet's rows and statuses
    # at once held the hub's loop for ~250 ms at 2,000 cabins (bench/bench_hub.py).
    rows = await session.stream_scalars(cabins_q.execution_options(yield_per=PASS_SLICE))
    async for cabins in rows.partitions():
        for cabin in cabins:
            name, zone = rules.site_facts(settings, cabin.site_code)
            facts = rules.CabinFacts.of(cabin, name, zone)
            for condition in rules.conditions(facts, settings.alerts, now):
                found[condition.base] = condition
        await asyncio.sleep(0)
    changes = Changes()
    open_alerts = (await session.scalars(alerts_q)).all()
    still_open: set[str] = set()
    for alert in open_alerts:
        match = found.get(rules.base_of(alert.key))
        same = match is not None and (match.since is None or match.key(now) == alert.key)
        if same:
            still_open.add(rules.base_of(alert.key))
        else:
            changes.cleared.append(alert)
    wanted = {c.key(now): c for base, c in found.items() if base not in still_open}
    if wanted:
        # An occurrence raised before (and cleared since) is not raised again.
        seen = set(await session.scalars(select(Alert.key).where(Alert.key.in_(wanted))))
        for key, new in wanted.items():
            if key in seen:
                continue
            alert = Alert(
                key=key,
                kind=new.kind,
                cabin_id=new.cabin_id,
                message=new.message,
                raised_at=now,
                cleared_at=None,
                sent_at=None,
                attempts=0,
                last_error=None,
            )
            changes.raised.append(alert)
    if write:  # after the reads above: nothing is flushed before they are done
        for alert in changes.cleared:
            alert.cleared_at = now
        session.add_all(changes.raised)
    return changes


class AlertMonitor:
    """The loop that raises and clears alerts, and the webhook sender it feeds."""

    def __init__(self, ctx: HubContext) -> None:
        """ValueError for a webhook URL that is not one: the hub does not start."""
        self.ctx = ctx
        self.webhook = WebhookSender(ctx)
        self.checks = 0  # completed checks (tests wait on it)
        self._wake = asyncio.Event()
        self._changed: set[str] = set()  # cabins changed since the last pass
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self.ctx.router.subscribe(FLEET_TOPIC, self._on_fleet)
        self.ctx.tasks.spawn(self._loop(), "fleet-alerts")
        self.ctx.tasks.spawn(self.webhook.loop(), "fleet-webhook")

    async def stop(self) -> None:
        self.ctx.router.unsubscribe(FLEET_TOPIC, self._on_fleet)

    async def _on_fleet(self, message: dict[str, Any]) -> None:
        cabin_id = message.get("cabin_id")
        if message.get("type") == "cabin_changed" and isinstance(cabin_id, str):
            self._changed.add(cabin_id)
            self._wake.set()  # never blocks the publisher: the loop does the work

    async def _loop(self) -> None:
        interval = self.ctx.settings.alerts.check_interval_s
        loop = asyncio.get_running_loop()
        next_full = loop.time()
        while True:
            try:
                if loop.time() >= next_full:
                    next_full = loop.time() + interval
                    self._changed.clear()  # the whole pass covers them
                    await self.check()
                elif self._changed:
                    changed, self._changed = self._changed, set()
                    await self.check(changed)
            except Exception:  # the store may be briefly away: the next check tries again
                log.exception("fleet alerts: the check failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, next_full - loop.time())):
                    await self._wake.wait()
                    await asyncio.sleep(CHANGED_DELAY_S)  # gather what changes meanwhile
            self._wake.clear()

    async def check(self, cabin_ids: Collection[str] | None = None) -> Changes:
        """One pass of the rules (over these cabins only, if given); what it raised goes
        to the webhook."""
        async with self._lock:
            now = self.ctx.clock()
            settings = self.ctx.settings
            async with self.ctx.db.read() as s:
                planned = await sync(s, settings, now, cabin_ids, write=False)
            changes = Changes()
            if planned.raised or planned.cleared:
                # Written over the cabins whose alerts change only: the write lock is
                # held for them, not for a pass over the fleet.
                try:
                    async with self.ctx.db.transaction() as s:
                        changes = await sync(s, settings, now, planned.cabin_ids)
                except IntegrityError:
                    # Another hub instance raised the same occurrence first: it is raised.
                    log.info("fleet alerts: an alert was raised elsewhere meanwhile")
            self.checks += 1
        for alert in changes.raised:
            log.warning("alert raised: %s (%s)", alert.kind, alert.cabin_id)
        if changes.raised:
            self.webhook.wake()
        if changes.raised or changes.cleared:
            await self.ctx.router.publish(
                FLEET_TOPIC, {"type": "alerts_changed", "cabin_ids": changes.cabin_ids}
            )
        return changes
