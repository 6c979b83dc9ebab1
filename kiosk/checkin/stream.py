"""GET /api/ui/events: the bus events the touchscreen needs, as JSON over a WebSocket.

The first message is {"type": "Hello", "state": ...} so the screen starts from the
current state; then each event's to_json(). The screen only listens; anything it sends
is ignored. Events may carry patient data: they go to the local screen only."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from decimal import Decimal

from aiohttp import WSMsgType, web

from kiosk.bus import Event, Subscription
from kiosk.component import Context
from kiosk.events import (
    CallStateChanged,
    ChatMessage,
    DoctorsReachable,
    InstrumentStateChanged,
    MeasurementTaken,
    PatientInstruction,
    PrintJobUpdated,
)
from kiosk.lifecycle import StateChanged

log = logging.getLogger(__name__)


def _default(value: object) -> object:
    # Measurement values are Decimals; anything else unknown becomes its text.
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    return str(value)


def dumps(data: object) -> str:
    return json.dumps(data, default=_default, ensure_ascii=False)


EVENT_TYPES: tuple[type[Event], ...] = (
    StateChanged,
    DoctorsReachable,
    MeasurementTaken,
    PatientInstruction,
    ChatMessage,
    CallStateChanged,
    PrintJobUpdated,
    InstrumentStateChanged,
)
# A screen that does not answer pings for this long is gone: free its subscription.
HEARTBEAT_S = 10.0


async def stream_events(
    request: web.Request,
    ctx: Context,
    types: tuple[type[Event], ...],
    open_sockets: set[web.WebSocketResponse],
) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S)
    await ws.prepare(request)
    open_sockets.add(ws)
    sub: Subscription[Event] = ctx.bus.subscribe(*types)
    sender = ctx.tasks.spawn(_send(ws, sub, ctx), "ui-events-sender")
    try:
        async for msg in ws:
            if msg.type is WSMsgType.ERROR:
                break
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        sub.close()
        open_sockets.discard(ws)
        await ws.close()
    return ws


async def _send(ws: web.WebSocketResponse, sub: Subscription[Event], ctx: Context) -> None:
    lc = ctx.lifecycle
    await ws.send_json({"type": "Hello", "state": lc.state.value, "locked": lc.locked})
    async for event in sub:
        if ws.closed:
            return
        try:
            await ws.send_json(event.to_json(), dumps=dumps)
        except ConnectionError:
            return
