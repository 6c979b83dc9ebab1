"""Helpers of the fleet tests (no test here): a clock the test moves, cabins that exist
only as rows fed through the hub's real ingest, a webhook receiver, the patient data
that must never show."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import select

from hub.cabins import enrolment, ingest
from hub.service import Hub
from hub.shared import wire
from hub.store.models import Alert, Cabin

FORBIDDEN_KEYS = {"given_name", "family_name", "birth_date", "age", "reason", "patient", "phone"}


class ShiftedClock:
    """The real time plus whatever the test adds: "over N minutes" without waiting N minutes."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


async def row_cabin(hub: Hub, cabin_id: str, site: str = "NAN231") -> None:
    """An enrolled cabin that never connects (its status is fed with ``feed_status``)."""
    now = hub.ctx.clock()
    async with hub.db.transaction() as s:
        secret = await enrolment.add_cabin(s, cabin_id, site, now, timedelta(hours=1))
    async with hub.db.transaction() as s:
        await enrolment.enrol(s, cabin_id, secret, now)


async def feed(hub: Hub, cabin_id: str, kind: wire.OutboxKind, payload: dict[str, Any]) -> None:
    """One outbox item, applied by the hub's ingest as if the cabin had sent it."""
    now = hub.ctx.clock()
    async with hub.db.transaction() as s:
        cabin = await s.get(Cabin, cabin_id)
        assert cabin is not None
        seq = cabin.last_outbox_seq + 1
        item = wire.OutboxItem(
            type="outbox",
            seq=seq,
            key=f"test-item-{cabin_id}-{seq}",
            kind=kind,
            created_at=now,
            payload=payload,
        )
        await ingest.apply_item(s, cabin_id, item, now)


def status(state: str = "idle", **fields: Any) -> dict[str, Any]:
    """A CabinStatus as a cabin sends it."""
    since = fields.pop("since", datetime.now(UTC))
    return wire.CabinStatus(
        state=state,
        locked=state != "idle",
        since=since,
        session_active=False,
        software_version="1.2.3",
        **fields,
    ).model_dump(mode="json")


async def set_presence(hub: Hub, cabin_id: str, *, online: bool, at: datetime) -> None:
    async with hub.db.transaction() as s:
        cabin = await s.get(Cabin, cabin_id)
        assert cabin is not None
        cabin.online = online
        cabin.online_since = at if online else cabin.online_since
        cabin.offline_since = None if online else at


async def alerts_of(hub: Hub, cabin_id: str | None = None) -> list[Alert]:
    async with hub.db.read() as s:
        query = select(Alert).order_by(Alert.id)
        if cabin_id is not None:
            query = query.where(Alert.cabin_id == cabin_id)
        return list((await s.scalars(query)).all())


def keys_in(document: Any) -> Iterator[str]:
    if isinstance(document, dict):
        for key, value in document.items():
            yield str(key)
            yield from keys_in(value)
    elif isinstance(document, list):
        for value in document:
            yield from keys_in(value)


def assert_no_patient(document: Any, *words: str) -> None:
    """No patient field anywhere in ``document``, and none of ``words`` in its text."""
    text = json.dumps(document, ensure_ascii=False)
    leaked = FORBIDDEN_KEYS & set(keys_in(document))
    assert not leaked, f"patient fields in a fleet response: {leaked}"
    for word in words:
        assert word not in text, f"{word!r} in a fleet response"


class Receiver:
    """A webhook receiver: records each POST; ``answer`` is the status it replies."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.answer = 200

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.posts.append((dict(request.headers), body))
        return web.Response(status=self.answer)


def free_port() -> socket.socket:
    """A loopback port, bound but not listening: a connection to it is refused until the
    socket is closed and a receiver takes the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def receiving(receiver: Receiver, port: int) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/hook/s3cr3t-token", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}/hook/s3cr3t-token"
    finally:
        await runner.cleanup()


def alerts_toml(url: str | None = None, *, interval_s: float = 0.05) -> str:
    hook = f'webhook_url = "{url}"\n' if url else ""
    return f"[alerts]\n{hook}check_interval_s = {interval_s}\n"
