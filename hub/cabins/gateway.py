"""The cabins' WebSocket: every cabin dials out here and keeps one socket up.

At the start: the credential (HTTP 401 before the upgrade when it is wrong or revoked),
then ``hello`` → ``welcome`` (the last outbox item applied, the site's hours, TURN
credentials), then the appointments the cabin has not stored yet. Then, until the
socket closes: heartbeats, outbox items (applied exactly once, acked), the waiting
patient, the call's signaling to the doctor's console. The frames that write to the
store (outbox items, the waiting patient, the appointments' cursor) are handled one at a
time, in order; heartbeats and the signaling are answered as they arrive, not after the
commits before them (the cabin sends those from loops of their own: nothing orders them
against its outbox). A bad frame gets ``error`` and changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hub import audit
from hub.cabins import enrolment, feed, ingest
from hub.cabins.presence import Presence
from hub.cabins.writes import Writes
from hub.console.queue import QUEUE_TOPIC, QueueChange, update_waiting
from hub.context import HubContext
from hub.shared import wire
from hub.store.models import Cabin, Site
from hub.turn import ice_servers_for
from hub.web.common import BodyInvalid, body_of, client_of, json_error

log = logging.getLogger(__name__)

# The cabin must say hello this soon after the upgrade.
HELLO_TIMEOUT_S = 10.0
# Frames of one cabin waiting for the store while its socket is read on: a cabin
# sending faster than the store keeps up is held back (TCP's backpressure) beyond this.
BACKLOG_FRAMES = 64
FLEET_TOPIC = "fleet"
CABIN_LINK_TOPIC = "cabin-link"  # {"cabin_id", "online"}: consoles attached to it act
BOOKINGS_TOPIC = "bookings"


class EnrolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cabin_id: wire.CabinId
    secret: str = Field(min_length=8, max_length=40)


class CabinConnection:
    """One cabin's socket. Sends are serialised: frames never interleave."""

    def __init__(self, cabin_id: str, site_code: str, ws: web.WebSocketResponse) -> None:
        self.cabin_id = cabin_id
        self.site_code = site_code
        self.ws = ws
        self.last_seen = time.monotonic()
        self.pushing = False
        self._lock = asyncio.Lock()

    async def send(self, frame: wire.Frame) -> None:
        if self.ws.closed:
            return
        text = wire.encode(frame)
        async with self._lock:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_str(text)

    async def close(self, code: int, reason: str) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close(code=code, message=reason.encode()[:120])


class CabinGateway:
    def __init__(self, ctx: HubContext) -> None:
        self.ctx = ctx
        self.connections: dict[str, CabinConnection] = {}
        # Frames' writes go through one writer, several frames a transaction (writes.py).
        self.writes = Writes(ctx.db)
        self.presence = Presence(ctx, self.connections, self.writes)
        self.heartbeats = 0
        self.outbox_items = 0

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.post(wire.ENROL_PATH, self.enrol),
            web.get(wire.CABIN_WS_PATH, self.websocket),
        ]

    async def start(self) -> None:
        self.ctx.router.subscribe(BOOKINGS_TOPIC, self._on_bookings)
        self.ctx.tasks.spawn(self.writes.loop(), "cabin-writes")
        self.ctx.tasks.spawn(self.presence.loop(), "cabin-presence")

    async def stop(self) -> None:
        self.ctx.router.unsubscribe(BOOKINGS_TOPIC, self._on_bookings)
        for connection in list(self.connections.values()):
            await connection.close(WSCloseCode.GOING_AWAY, "hub stopping")

    # -- enrolment -------------------------------------------------------------------

    async def enrol(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await body_of(request, EnrolIn)
        except BodyInvalid as exc:
            return exc.response
        now = self.ctx.clock()
        try:
            async with self.ctx.db.transaction() as s:
                credential = await enrolment.enrol(s, body.cabin_id, body.secret, now)
                audit.record(
                    s, at=now, actor=body.cabin_id, role="cabin", action="cabin_enrol",
                    target=body.cabin_id, client=client_of(request),
                )  # fmt: skip
        except enrolment.EnrolmentError as exc:
            async with self.ctx.db.transaction() as s:
                audit.record(
                    s, at=now, actor=body.cabin_id, role="cabin", action="cabin_enrol",
                    target=body.cabin_id, outcome="refused", client=client_of(request),
                    reason=str(exc),
                )  # fmt: skip
            return json_error(403, str(exc))
        log.info("cabin %s enrolled", body.cabin_id)
        return web.json_response({"cabin_id": body.cabin_id, "credential": credential})

    # -- the socket ------------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        cabin = await self._authenticate(request)
        if isinstance(cabin, web.Response):
            return cabin
        ws = web.WebSocketResponse(max_msg_size=wire.MAX_FRAME_BYTES)
        await ws.prepare(request)
        try:
            hello = await self._hello(ws, cabin.id)
        except (TimeoutError, wire.FrameInvalid) as exc:
            log.info("cabin %s: no valid hello (%s)", cabin.id, exc)
            await ws.close(code=wire.CLOSE_PROTOCOL, message=b"expected hello")
            return ws
        if hello.protocol != wire.PROTOCOL:
            reason = f"protocol {hello.protocol} not spoken here (hub speaks {wire.PROTOCOL})"
            await ws.close(code=wire.CLOSE_PROTOCOL, message=reason.encode())
            return ws
        connection = CabinConnection(cabin.id, cabin.site_code, ws)
        previous = self.connections.get(cabin.id)
        if previous is not None:
            await previous.close(wire.CLOSE_REPLACED, "replaced by a newer connection")
        self.connections[cabin.id] = connection
        self.ctx.router.attach_cabin(cabin.id, connection.send)
        try:
            await self._welcome(connection, hello)
            await self._read(connection)
        finally:
            self.ctx.router.detach_cabin(cabin.id, connection.send)
            if self.connections.get(cabin.id) is connection:
                del self.connections[cabin.id]
                await self.presence.offline(cabin.id)
                await self._fleet_changed(cabin.id)
                await self.ctx.router.publish(
                    CABIN_LINK_TOPIC, {"cabin_id": cabin.id, "online": False}
                )
        return ws

    async def _authenticate(self, request: web.Request) -> Cabin | web.Response:
        parsed = enrolment.parse_bearer(request.headers.get("Authorization", ""))
        cabin = None
        if parsed is not None:
            async with self.ctx.db.read() as s:
                cabin = await enrolment.authenticate(s, *parsed)
        if cabin is not None:
            return cabin
        now = self.ctx.clock()
        who = parsed[0] if parsed else "?"
        async with self.ctx.db.transaction() as s:
            audit.record(
                s, at=now, actor=who, role="cabin", action="cabin_connect", target=who,
                outcome="refused", client=client_of(request),
            )  # fmt: skip
        log.info("cabin connection refused (%s)", who)
        return json_error(401, "unknown cabin, wrong or revoked credential: enrol it again")

    async def _hello(self, ws: web.WebSocketResponse, cabin_id: str) -> wire.Hello:
        async with asyncio.timeout(HELLO_TIMEOUT_S):
            msg = await ws.receive()
        if msg.type is not WSMsgType.TEXT:
            raise wire.FrameInvalid("the first frame must be a text hello")
        frame = wire.parse_cabin_frame(msg.data)
        if not isinstance(frame, wire.Hello):
            raise wire.FrameInvalid(f"the first frame must be hello, not {frame.type}")
        if frame.cabin_id != cabin_id:
            raise wire.FrameInvalid("hello names another cabin than the credential")
        return frame

    async def _welcome(self, connection: CabinConnection, hello: wire.Hello) -> None:
        now = self.ctx.clock()
        settings = self.ctx.settings

        async def hello_applied(s: AsyncSession) -> tuple[int, Site | None]:
            cabin = await s.get(Cabin, connection.cabin_id, with_for_update=True)
            assert cabin is not None
            if cabin.outbox_epoch != hello.outbox_epoch:
                # A new cabin database: its sequence numbers start again.
                cabin.outbox_epoch = hello.outbox_epoch
                cabin.last_outbox_seq = 0
            cabin.software_version = hello.software_version or cabin.software_version
            cabin.appointments_cursor = hello.appointments_cursor
            await self.presence.online(s, cabin, now)
            return cabin.last_outbox_seq, await s.get(Site, cabin.site_code)

        acked, site_row = await self.writes.run(hello_applied)
        site = settings.site(connection.site_code)
        if site is None or site_row is None:
            await connection.close(wire.CLOSE_AUTH_REFUSED, "the cabin's site is not configured")
            return
        await connection.send(
            wire.Welcome(
                type="welcome",
                protocol=wire.PROTOCOL,
                server_time=now,
                acked_seq=acked,
                heartbeat_s=settings.heartbeat_s,
                site=wire.SiteInfo(code=site.code, name=site.name, hours=site.hours),
                ice_servers=ice_servers_for(settings, f"cabin-{connection.cabin_id}"),
                ice_policy=settings.ice_policy,
            )
        )
        log.info("cabin %s connected", connection.cabin_id)
        await self._fleet_changed(connection.cabin_id)
        await self.ctx.router.publish(
            CABIN_LINK_TOPIC, {"cabin_id": connection.cabin_id, "online": True}
        )
        await self._push_appointments(connection, hello.appointments_cursor)

    async def _read(self, connection: CabinConnection) -> None:
        """Heartbeats and the signaling at once; the rest in order by ``_in_order``, so
        a slow commit holds back neither a heartbeat's answer (the cabin calls a link
        dead after three silent periods) nor the call."""
        backlog: asyncio.Queue[wire.CabinFrame] = asyncio.Queue(BACKLOG_FRAMES)
        try:
            async with asyncio.TaskGroup() as group:
                in_order = group.create_task(self._in_order(connection, backlog))
                async for msg in connection.ws:
                    if msg.type is not WSMsgType.TEXT:
                        continue
                    connection.last_seen = time.monotonic()
                    try:
                        frame = wire.parse_cabin_frame(msg.data)
                    except wire.FrameInvalid as exc:
                        await connection.send(wire.ErrorFrame(type="error", message=exc.message))
                        continue
                    if isinstance(frame, wire.Heartbeat | wire.ToDoctor):
                        await self._handle(connection, frame)
                    else:
                        await backlog.put(frame)
                await backlog.join()  # what was read is handled before the socket is let go
                in_order.cancel()
        except ExceptionGroup as failed:  # the frame's failure, as it was raised here before
            raise failed.exceptions[0] from None

    async def _in_order(
        self, connection: CabinConnection, backlog: asyncio.Queue[wire.CabinFrame]
    ) -> None:
        while True:
            frame = await backlog.get()
            try:
                await self._handle(connection, frame)
            except wire.FrameInvalid as exc:
                await connection.send(wire.ErrorFrame(type="error", message=exc.message))
            finally:
                backlog.task_done()

    async def _handle(self, connection: CabinConnection, frame: Any) -> None:
        if isinstance(frame, wire.Heartbeat):
            self.heartbeats += 1
            await connection.send(wire.HeartbeatAck(type="heartbeat_ack", sent_at=frame.sent_at))
        elif isinstance(frame, wire.OutboxItem):
            await self._outbox(connection, frame)
        elif isinstance(frame, wire.WaitingPatientFrame):
            await self._waiting(connection, frame)
        elif isinstance(frame, wire.ToDoctor):
            message = {**frame.message, "_cabin": connection.cabin_id}
            await self.ctx.router.to_console(frame.consultation_id, message)
        elif isinstance(frame, wire.AppointmentsApplied):
            cursor = frame.cursor

            async def cursor_stored(s: AsyncSession) -> None:
                await s.execute(
                    update(Cabin)
                    .where(Cabin.id == connection.cabin_id, Cabin.appointments_cursor < cursor)
                    .values(appointments_cursor=cursor)
                )

            await self.writes.run(cursor_stored)
            await self._push_appointments(connection, frame.cursor)
        elif isinstance(frame, wire.Hello):
            raise wire.FrameInvalid("hello was already said")

    async def _outbox(self, connection: CabinConnection, item: wire.OutboxItem) -> None:
        now = self.ctx.clock()

        async def item_applied(s: AsyncSession) -> ingest.Applied | wire.FrameInvalid:
            try:
                return await ingest.apply_item(s, connection.cabin_id, item, now, self.ctx.settings)
            except wire.FrameInvalid as exc:  # raised before any write: the batch goes on
                return exc

        async def item_refused(s: AsyncSession, exc: wire.FrameInvalid) -> None:
            cabin = await s.get(Cabin, connection.cabin_id, with_for_update=True)
            if cabin is not None and item.seq > cabin.last_outbox_seq:
                cabin.last_outbox_seq = item.seq
            audit.record(
                s, at=now, actor=connection.cabin_id, role="cabin", action="outbox_item",
                target=f"{item.kind}#{item.seq}", outcome="refused", reason=exc.message,
            )  # fmt: skip

        applied = await self.writes.run(item_applied)
        if isinstance(applied, wire.FrameInvalid):
            # Refused but acknowledged, so that what follows it still flows; audited.
            exc = applied
            await self.writes.run(lambda s: item_refused(s, exc))
            await connection.send(wire.ErrorFrame(type="error", message=exc.message))
            await connection.send(wire.Ack(type="ack", seq=item.seq))
            return
        self.outbox_items += 1
        await connection.send(wire.Ack(type="ack", seq=item.seq))
        if applied.duplicate:
            return
        if applied.queue_removed:
            await self._queue_removed(connection)
        for consultation_id in applied.consultations_closed:
            await self.ctx.router.to_console(
                consultation_id, {"type": "consultation_closed", "_cabin": connection.cabin_id}
            )
        if applied.status_changed:
            await self._fleet_changed(connection.cabin_id)
        if applied.hygiene_break is not None:
            log.warning(
                "cabin %s: hygiene chain broken (%s)", connection.cabin_id, applied.hygiene_break
            )

    async def _waiting(self, connection: CabinConnection, frame: wire.WaitingPatientFrame) -> None:
        site = self.ctx.settings.site(connection.site_code)
        site_name = site.name if site is not None else connection.site_code

        async def stored(s: AsyncSession) -> QueueChange | None:
            return await update_waiting(
                s, connection.cabin_id, connection.site_code, site_name, frame
            )

        change = await self.writes.run(stored)
        if change is not None:
            await self.ctx.router.publish(QUEUE_TOPIC, change.message())

    async def _queue_removed(self, connection: CabinConnection) -> None:
        await self.ctx.router.publish(
            QUEUE_TOPIC,
            {
                "type": "queue_removed",
                "cabin_id": connection.cabin_id,
                "site": connection.site_code,
            },
        )

    async def _fleet_changed(self, cabin_id: str) -> None:
        await self.ctx.router.publish(FLEET_TOPIC, {"type": "cabin_changed", "cabin_id": cabin_id})

    # -- appointments ----------------------------------------------------------------

    async def _push_appointments(self, connection: CabinConnection, cursor: int) -> None:
        """The next page of changes; the cabin's ``appointments_applied`` asks for more."""
        async with self.ctx.db.read() as s:
            page = await feed.next_page(s, connection.site_code, cursor, self.ctx.clock())
        if page is not None:
            await connection.send(page)

    async def _on_bookings(self, message: dict[str, Any]) -> None:
        site = message.get("site")
        for connection in list(self.connections.values()):
            if connection.site_code == site:
                async with self.ctx.db.read() as s:
                    cabin = await s.get(Cabin, connection.cabin_id)
                    cursor = cabin.appointments_cursor if cabin else 0
                await self._push_appointments(connection, cursor)
