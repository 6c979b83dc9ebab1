"""The alert loop: every ``check_interval_s`` (and at once when a cabin changes), the rules
(hub/fleet/rules.py) over every enrolled cabin, and the ``alerts`` table brought in line.

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


@dataclasses.dataclass
class Changes:
    raised: list[Alert] = dataclasses.field(default_factory=list)
    cleared: list[Alert] = dataclasses.field(default_factory=list)

    @property
    def cabin_ids(self) -> list[str]:
        return sorted({a.cabin_id for a in self.raised + self.cleared})


async def sync(session: AsyncSession, settings: HubSettings, now: datetime) -> Changes:
    """Raises what the rules find and clears what they no longer find, in one transaction."""
    cabins = (await session.scalars(select(Cabin).where(Cabin.revoked_at.is_(None)))).all()
    found: dict[str, rules.Condition] = {}
    for cabin in cabins:
        name, zone = rules.site_facts(settings, cabin.site_code)
        facts = rules.CabinFacts.of(cabin, name, zone)
        for condition in rules.conditions(facts, settings.alerts, now):
            found[condition.base] = condition
    changes = Changes()
    open_alerts = (await session.scalars(select(Alert).where(Alert.cleared_at.is_(None)))).all()
    still_open: set[str] = set()
    for alert in open_alerts:
        match = found.get(rules.base_of(alert.key))
        same = match is not None and (match.since is None or match.key(now) == alert.key)
        if same:
            still_open.add(rules.base_of(alert.key))
        else:
            alert.cleared_at = now
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
            session.add(alert)
            changes.raised.append(alert)
    return changes


class AlertMonitor:
    """The loop that raises and clears alerts, and the webhook sender it feeds."""

    def __init__(self, ctx: HubContext) -> None:
        """ValueError for a webhook URL that is not one: the hub does not start."""
        self.ctx = ctx
        self.webhook = WebhookSender(ctx)
        self.checks = 0  # completed checks (tests wait on it)
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self.ctx.router.subscribe(FLEET_TOPIC, self._on_fleet)
        self.ctx.tasks.spawn(self._loop(), "fleet-alerts")
        self.ctx.tasks.spawn(self.webhook.loop(), "fleet-webhook")

    async def stop(self) -> None:
        self.ctx.router.unsubscribe(FLEET_TOPIC, self._on_fleet)

    async def _on_fleet(self, message: dict[str, Any]) -> None:
        if message.get("type") == "cabin_changed":
            self._wake.set()  # never blocks the publisher: the loop does the work

    async def _loop(self) -> None:
        interval = self.ctx.settings.alerts.check_interval_s
        while True:
            try:
                await self.check()
            except Exception:  # the store may be briefly away: the next check tries again
                log.exception("fleet alerts: the check failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval):
                    await self._wake.wait()
            self._wake.clear()

    async def check(self) -> Changes:
        """One pass of the rules; what it raised goes to the webhook."""
        async with self._lock:
            now = self.ctx.clock()
            try:
                async with self.ctx.db.transaction() as s:
                    changes = await sync(s, self.ctx.settings, now)
            except IntegrityError:
                # Another hub instance raised the same occurrence first: it is raised.
                log.info("fleet alerts: an alert was raised elsewhere meanwhile")
                changes = Changes()
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
