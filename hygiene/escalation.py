"""Escalation: a cabin left awaiting disinfection too long raises one alert per session
through a pluggable notifier (webhook first; e-mail or SMS can be added as Notifiers).
The alert carries the cabin and times only, never patient data."""

from __future__ import annotations

import abc
import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp

from hygiene.config import EscalationSettings
from hygiene.errors import HygieneError
from kiosk.component import Context
from kiosk.lifecycle import State, StateChanged

log = logging.getLogger(__name__)

# Re-check at least this often, so a clock step is noticed and a failed alert retried.
POLL_S = 60.0
# Between two webhook attempts (doubled each time): a receiver restarting gets time.
RETRY_BACKOFF_S = 2.0


class NotifyError(HygieneError):
    """The alert could not be delivered; the escalator tries again later."""


@dataclasses.dataclass(frozen=True)
class Alert:
    cabin_id: str
    site: str
    awaiting_since: datetime
    minutes: int

    def to_json(self) -> dict[str, Any]:
        return {
            "event": "disinfection_overdue",
            "cabin_id": self.cabin_id,
            "site": self.site,
            "awaiting_since": self.awaiting_since.isoformat(),
            "minutes": self.minutes,
            "message": f"Cabine {self.cabin_id} : désinfection en attente depuis "
            f"{self.minutes} min",
        }


class Notifier(abc.ABC):
    @abc.abstractmethod
    async def notify(self, alert: Alert) -> None:
        """Deliver the alert or raise NotifyError."""


class LogNotifier(Notifier):
    async def notify(self, alert: Alert) -> None:
        log.warning(
            "hygiene: cabin %s awaiting disinfection for %d min", alert.cabin_id, alert.minutes
        )


class WebhookNotifier(Notifier):
    """POSTs the alert as JSON; retries on network errors and 5xx answers."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 10.0,
        attempts: int = 3,
        backoff_s: float = RETRY_BACKOFF_S,
    ) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s

    async def notify(self, alert: Alert) -> None:
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        last = ""
        async with aiohttp.ClientSession(timeout=timeout) as http:
            for attempt in range(self.attempts):
                if attempt:
                    await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
                try:
                    async with http.post(self.url, json=alert.to_json()) as resp:
                        if resp.status < 300:
                            return
                        last = f"HTTP {resp.status}"
                        if resp.status < 500:
                            break  # the receiver refuses it: retrying will not help
                except (aiohttp.ClientError, TimeoutError) as exc:
                    last = type(exc).__name__
        raise NotifyError(f"webhook failed after {attempt + 1} attempt(s): {last}")


def make_notifier(settings: EscalationSettings) -> Notifier:
    if settings.webhook_url:
        return WebhookNotifier(
            settings.webhook_url,
            timeout_s=settings.webhook_timeout_s,
            attempts=settings.webhook_attempts,
        )
    return LogNotifier()


class Escalator:
    def __init__(self, ctx: Context, notifier: Notifier, clock: Callable[[], datetime]) -> None:
        self.ctx = ctx
        self.notifier = notifier
        self.clock = clock
        self.after = timedelta(minutes=ctx.settings.hygiene.escalation.after_minutes)
        self._escalated_session: str | None = None
        # The loop and a caller may check at once: one alert, not two.
        self._checking = asyncio.Lock()

    def awaiting_since(self) -> datetime | None:
        """When the current session ended (the cabin started waiting for its cleaning)."""
        lc = self.ctx.lifecycle
        if lc.state not in (State.AWAITING_DISINFECTION, State.CLEANING):
            return None
        session = lc.session_id or lc.store.undisinfected_session()
        record = None if session is None else lc.store.session(session)
        if record is None or record.ended_at is None:
            return lc.since
        return record.ended_at

    @property
    def escalated(self) -> bool:
        lc = self.ctx.lifecycle
        current = lc.session_id or lc.store.undisinfected_session()
        return current is not None and current == self._escalated_session

    async def check(self) -> bool:
        """Sends the alert if it is due and not sent yet for this session. True if sent."""
        async with self._checking:
            return await self._check()

    async def _check(self) -> bool:
        lc = self.ctx.lifecycle
        since = self.awaiting_since()
        if lc.state is not State.AWAITING_DISINFECTION or since is None or self.escalated:
            return False
        waited = self.clock() - since
        if waited < self.after:
            return False
        session = lc.session_id or lc.store.undisinfected_session()
        alert = Alert(
            cabin_id=self.ctx.settings.site.cabin_id,
            site=self.ctx.settings.site.name,
            awaiting_since=since,
            minutes=int(waited.total_seconds() // 60),
        )
        try:
            await self.notifier.notify(alert)
        except NotifyError as exc:
            log.warning("hygiene: escalation not delivered: %s", exc)
            return False
        self._escalated_session = session
        log.warning("hygiene: escalated, cabin awaiting disinfection for %d min", alert.minutes)
        return True

    async def run(self, poll_s: float = POLL_S) -> None:
        changes = self.ctx.bus.subscribe(StateChanged)
        try:
            while True:
                try:
                    await self.check()
                except Exception:  # keep escalating later rather than never again
                    log.exception("hygiene: escalation check failed")
                delay = poll_s
                since = self.awaiting_since()
                if since is not None and not self.escalated:
                    due = (since + self.after - self.clock()).total_seconds()
                    delay = min(poll_s, max(0.05, due))
                try:
                    async with asyncio.timeout(delay):
                        await changes.get()
                except TimeoutError:
                    pass
        finally:
            changes.close()
