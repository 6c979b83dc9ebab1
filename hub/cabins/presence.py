"""Which cabins are online, since when, and cutting off those that must be.

Each second: a cabin revoked since the last look (by ``kiosk hub cabins revoke``, another
process) has its socket closed; a socket silent for ``offline_after_heartbeats``
heartbeats is closed (the link died without a FIN). Every heartbeat period the
cabins' last-seen times are written in one transaction, not one per heartbeat."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.cabins.writes import Writes
from hub.context import HubContext
from hub.shared import wire
from hub.store.models import Cabin

if TYPE_CHECKING:
    from hub.cabins.gateway import CabinConnection

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.0


class Presence:
    def __init__(
        self, ctx: HubContext, connections: dict[str, CabinConnection], writes: Writes
    ) -> None:
        self.ctx = ctx
        self.connections = connections
        self.writes = writes
        self._revocations_since: datetime = ctx.clock() - timedelta(seconds=5)
        self._last_flush = time.monotonic()

    async def online(self, s: AsyncSession, cabin: Cabin, now: datetime) -> None:
        cabin.online = True
        cabin.online_since = now
        cabin.offline_since = None
        cabin.last_seen_at = now

    async def offline(self, cabin_id: str) -> None:
        now = self.ctx.clock()

        async def stored(s: AsyncSession) -> None:
            await s.execute(
                update(Cabin)
                .where(Cabin.id == cabin_id)
                .values(online=False, offline_since=now, last_seen_at=now)
            )

        await self.writes.run(stored)
        log.info("cabin %s disconnected", cabin_id)

    async def loop(self) -> None:
        while True:
            await asyncio.sleep(CHECK_INTERVAL_S)
            try:
                await self._cut_revoked()
                await self._close_silent()
                if time.monotonic() - self._last_flush >= self.ctx.settings.heartbeat_s:
                    await self._flush_last_seen()
            except Exception:  # the database may be briefly away: try again next second
                log.exception("presence check failed")

    async def _cut_revoked(self) -> None:
        since = self._revocations_since
        now = self.ctx.clock()
        async with self.ctx.db.read() as s:
            revoked = set(await s.scalars(select(Cabin.id).where(Cabin.revoked_at >= since)))
        # Overlap one check period: a revocation committed during this query is seen next.
        self._revocations_since = now - timedelta(seconds=CHECK_INTERVAL_S)
        for cabin_id in revoked & set(self.connections):
            log.warning("cabin %s revoked: closing its connection", cabin_id)
            await self.connections[cabin_id].close(wire.CLOSE_AUTH_REFUSED, "cabin revoked")

    async def _close_silent(self) -> None:
        limit = time.monotonic() - self.ctx.settings.offline_after_s
        for connection in list(self.connections.values()):
            if connection.last_seen < limit:
                log.info("cabin %s silent: closing its connection", connection.cabin_id)
                await connection.close(wire.CLOSE_REPLACED, "no heartbeat")

    async def _flush_last_seen(self) -> None:
        self._last_flush = time.monotonic()
        if not self.connections:
            return
        now = self.ctx.clock()
        ids = list(self.connections)

        async def stored(s: AsyncSession) -> None:
            await s.execute(update(Cabin).where(Cabin.id.in_(ids)).values(last_seen_at=now))

        await self.writes.run(stored)
