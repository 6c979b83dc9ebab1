"""Alerts to the technicians' webhook ([alerts] webhook_url), each delivered once.

An alert whose ``sent_at`` is empty is due. Before a POST its ``attempts`` is raised in
the store (a conditional update: of two hub instances, one sends it); after a 2xx answer
``sent_at`` is stored, so a hub restarted later never sends it again. What is not known
is the outcome of a POST cut by a crash between the answer and that write: the alert is
sent again then, with the same ``Idempotency-Key`` header (its key) for the receiver.

Failures, by class: no connection, a timeout, a 5xx, 408 or 429 mean the receiver is
away: the round stops and the next one waits, doubling from FIRST_RETRY_S up to
MAX_RETRY_S. Another 4xx refuses this alert: the next alert goes on. An alert is given up
after MAX_ATTEMPTS (it stays on the dashboard with its last error). With no webhook
configured an alert is written to the log instead, and counts as delivered."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from sqlalchemy import select, update

from hub.cabins.gateway import FLEET_TOPIC
from hub.context import HubContext
from hub.fleet.rules import SEVERITY
from hub.store.models import Alert, Cabin

log = logging.getLogger(__name__)

# A receiver that takes longer than this to answer is treated as away (the POST is retried).
POST_TIMEOUT_S = 10.0
# After a failure the next round waits this long, doubled each time up to MAX_RETRY_S.
FIRST_RETRY_S = 2.0
MAX_RETRY_S = 600.0
# Attempts per alert before it is given up (a receiver away ~4 h at the capped backoff).
MAX_ATTEMPTS = 30
# Alerts sent per round; the round after follows at once while some are due.
BATCH = 50
RETRYABLE_STATUS = frozenset({408, 429})
ERROR_CHARS = 300


class DeliveryFailed(Exception):
    """A POST that did not deliver; ``receiver_away``: wait before the next one."""

    def __init__(self, message: str, *, receiver_away: bool) -> None:
        super().__init__(message)
        self.message = message[:ERROR_CHARS]
        self.receiver_away = receiver_away


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"[alerts] webhook_url must be an http:// or https:// URL (it starts with {url[:8]!r})"
        )


def describe(url: str) -> str:
    """The receiver as logs name it: its host only (a webhook's path often holds a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}"


def payload(alert: Alert, site_code: str, dashboard_url: str | None) -> dict[str, Any]:
    """What the receiver gets. ``text`` is what chat webhooks (Mattermost, Slack) show."""
    severity = SEVERITY.get(alert.kind, "warning")
    prefix = "ALERTE" if severity == "critical" else "Attention"
    return {
        "text": f"{prefix} — {alert.message}",
        "key": alert.key,
        "kind": alert.kind,
        "severity": severity,
        "cabin_id": alert.cabin_id,
        "site_code": site_code,
        "message": alert.message,
        "raised_at": alert.raised_at.isoformat(),
        "cleared_at": None if alert.cleared_at is None else alert.cleared_at.isoformat(),
        "dashboard": dashboard_url,
    }


class WebhookSender:
    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx
        self.url = ctx.settings.alerts.webhook_url
        if self.url is not None:
            check_url(self.url)  # a hub with a URL that is not one does not start
        self.delivered = 0
        self.rounds = 0  # finished rounds (tests wait on it)
        self._wake = asyncio.Event()
        self._failures = 0
        self._retry_at = 0.0  # time.monotonic() before which the receiver is left alone

    def wake(self) -> None:
        self._wake.set()

    @property
    def dashboard_url(self) -> str | None:
        base = self.ctx.settings.public_url
        return None if base is None else base.rstrip("/") + "/fleet"

    async def loop(self) -> None:
        interval = self.ctx.settings.alerts.check_interval_s
        timeout = aiohttp.ClientTimeout(total=POST_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                more = False
                try:
                    more = await self.deliver_due(http)
                except Exception:  # the store may be briefly away: the next round tries again
                    log.exception("alert webhook: the round failed")
                self.rounds += 1
                wait = interval
                if self._retry_at:
                    wait = min(wait, max(0.0, self._retry_at - time.monotonic()))
                if more and not self._retry_at:
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._wake.wait()
                self._wake.clear()

    async def deliver_due(self, http: aiohttp.ClientSession) -> bool:
        """Sends what is due; True when more alerts wait for the next round."""
        if self._retry_at and time.monotonic() < self._retry_at:
            return False
        self._retry_at = 0.0
        async with self.ctx.db.read() as s:
            rows = (
                await s.execute(
                    select(Alert, Cabin.site_code)
                    .join(Cabin, Cabin.id == Alert.cabin_id, isouter=True)
                    .where(Alert.sent_at.is_(None), Alert.attempts < MAX_ATTEMPTS)
                    .order_by(Alert.id)
                    .limit(BATCH + 1)
                )
            ).all()
        for alert, site_code in rows[:BATCH]:
            if not await self._claim(alert):
                continue  # another instance has it
            try:
                await self._deliver(http, alert, site_code or "")
            except DeliveryFailed as exc:
                await self._failed(alert, exc)
                if exc.receiver_away:
                    return False
                continue
            await self._sent(alert)
        return len(rows) > BATCH

    async def _claim(self, alert: Alert) -> bool:
        async with self.ctx.db.transaction() as s:
            result = await s.execute(
                update(Alert)
                .where(
                    Alert.id == alert.id,
                    Alert.sent_at.is_(None),
                    Alert.attempts == alert.attempts,
                )
                .values(attempts=alert.attempts + 1)
            )
        alert.attempts += 1
        return bool(getattr(result, "rowcount", 0))

    async def _deliver(self, http: aiohttp.ClientSession, alert: Alert, site_code: str) -> None:
        body = payload(alert, site_code, self.dashboard_url)
        if self.url is None:
            log.warning("ALERTE %s %s: %s", alert.kind, alert.cabin_id, alert.message)
            return
        headers = {"Idempotency-Key": alert.key, "Content-Type": "application/json"}
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            async with http.post(self.url, data=data, headers=headers) as resp:
                if 200 <= resp.status < 300:
                    return
                away = resp.status >= 500 or resp.status in RETRYABLE_STATUS
                raise DeliveryFailed(f"HTTP {resp.status}", receiver_away=away)
        except TimeoutError as exc:
            raise DeliveryFailed(
                f"pas de réponse en {POST_TIMEOUT_S:g} s", receiver_away=True
            ) from exc
        except aiohttp.ClientError as exc:
            # Never the URL itself in a stored or logged error: its path may hold a token.
            text = str(exc).replace(self.url, describe(self.url))
            raise DeliveryFailed(f"{type(exc).__name__}: {text}", receiver_away=True) from exc

    async def _sent(self, alert: Alert) -> None:
        now = self.ctx.clock()
        async with self.ctx.db.transaction() as s:
            await s.execute(
                update(Alert).where(Alert.id == alert.id).values(sent_at=now, last_error=None)
            )
        self._failures = 0
        self.delivered += 1
        await self._shown(alert)
        if self.url is not None:
            log.info("alert %s delivered to %s", alert.id, describe(self.url))

    async def _shown(self, alert: Alert) -> None:
        """Dashboards show each alert's delivery: they read it again."""
        await self.ctx.router.publish(
            FLEET_TOPIC, {"type": "alerts_changed", "cabin_ids": [alert.cabin_id]}
        )

    async def _failed(self, alert: Alert, exc: DeliveryFailed) -> None:
        async with self.ctx.db.transaction() as s:
            await s.execute(
                update(Alert).where(Alert.id == alert.id).values(last_error=exc.message)
            )
        await self._shown(alert)
        given_up = alert.attempts >= MAX_ATTEMPTS
        assert self.url is not None
        log.warning(
            "alert %s not delivered to %s (%s)%s",
            alert.id,
            describe(self.url),
            exc.message,
            ": given up" if given_up else "",
        )
        self._failures += 1
        delay = min(MAX_RETRY_S, FIRST_RETRY_S * 2 ** (self._failures - 1))
        # Jitter: hub instances that failed together do not retry together.
        self._retry_at = time.monotonic() + delay * random.uniform(0.8, 1.0)
