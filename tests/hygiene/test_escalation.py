"""Escalation: a cabin awaiting disinfection longer than configured sends ONE alert, here to
a real aiohttp webhook receiver on loopback, and shows it in the status."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from hygiene.escalation import WebhookNotifier

from .conftest import Cabin, MakeCabin

# Bound for the background loop to deliver (it polls every 50 ms in that test).
DELIVERY_TIMEOUT_S = 5.0


async def manual(cabin: Cabin) -> Cabin:
    """Stops the component's own escalation loop: the test calls check() itself."""
    task = cabin.component.escalation_task
    assert task is not None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return cabin


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_with: int | None = None
        self.url = ""
        self.got = asyncio.Event()

    async def hook(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        self.got.set()
        if self.fail_with is not None:
            return web.Response(status=self.fail_with)
        return web.json_response({"ok": True})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    rec.url = f"http://127.0.0.1:{port}/hook"
    yield rec
    await runner.cleanup()


async def test_one_alert_after_the_delay(make_cabin: MakeCabin, receiver: Receiver) -> None:
    cabin = await manual(await make_cabin(notifier=WebhookNotifier(receiver.url)))  # 30 min
    esc = cabin.component.escalator
    cabin.patient_session("tensiometre")
    cabin.clock.advance(29 * 60)
    assert await esc.check() is False and receiver.received == []
    cabin.clock.advance(60)
    assert await esc.check() is True
    assert await esc.check() is False  # once per session
    [alert] = receiver.received
    assert alert["event"] == "disinfection_overdue" and alert["cabin_id"] == "test-01"
    assert alert["minutes"] == 30
    assert set(alert) == {"event", "cabin_id", "site", "awaiting_since", "minutes", "message"}
    status = cabin.component.status()
    assert status["escalated"] is True and status["awaiting_since"] == alert["awaiting_since"]


async def test_failed_delivery_is_retried_then_sent(
    make_cabin: MakeCabin, receiver: Receiver
) -> None:
    notifier = WebhookNotifier(receiver.url, attempts=3, backoff_s=0.01, timeout_s=5)
    cabin = await manual(await make_cabin(notifier=notifier))
    esc = cabin.component.escalator
    cabin.patient_session()
    cabin.clock.advance(31 * 60)
    receiver.fail_with = 503
    assert await esc.check() is False
    assert len(receiver.received) == 3  # every attempt made
    assert cabin.component.status()["escalated"] is False
    receiver.fail_with = None
    assert await esc.check() is True
    assert cabin.component.status()["escalated"] is True


async def test_no_alert_while_a_referent_is_cleaning(
    make_cabin: MakeCabin, receiver: Receiver
) -> None:
    cabin = await manual(await make_cabin(notifier=WebhookNotifier(receiver.url)))
    cabin.patient_session()
    code, _ = await cabin.call("POST", "/api/hygiene/login", {"pin": "1234"})
    assert code == 200
    cabin.clock.advance(120 * 60)
    assert await cabin.component.escalator.check() is False
    assert receiver.received == []


def test_webhook_is_chosen_from_the_configuration() -> None:
    from hygiene.config import EscalationSettings
    from hygiene.escalation import LogNotifier, make_notifier

    assert isinstance(make_notifier(EscalationSettings()), LogNotifier)
    hook = make_notifier(
        EscalationSettings(webhook_url="https://example.org/h", webhook_attempts=2)
    )
    assert isinstance(hook, WebhookNotifier) and hook.attempts == 2
    with pytest.raises(ValueError, match="pattern"):
        EscalationSettings(webhook_url="ftp://x")


async def test_the_background_loop_sends_it(make_cabin: MakeCabin, receiver: Receiver) -> None:
    cabin = await manual(await make_cabin(notifier=WebhookNotifier(receiver.url)))
    cabin.patient_session()
    cabin.clock.advance(45 * 60)
    loop = asyncio.get_running_loop().create_task(cabin.component.escalator.run(poll_s=0.05))
    try:
        async with asyncio.timeout(DELIVERY_TIMEOUT_S):
            await receiver.got.wait()
        cabin.clock.advance(60 * 60)
        await asyncio.sleep(0.2)  # several more polls: still one alert
        assert len(receiver.received) == 1 and receiver.received[0]["minutes"] == 45
    finally:
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
