"""Alerts to a webhook, each delivered once: to a real receiver (aiohttp, on loopback),
never again after a hub restart; one raised while the receiver was away (connection
refused, then 503) delivered once when it is back; a refused URL stops the hub's start."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.fleet import webhook
from hub.service import Hub
from hub.settings import load_hub_settings
from tests.hub.fleet import start_hub, write_hub_config
from tests.hub.test_fleet_support import (
    Receiver,
    alerts_of,
    alerts_toml,
    feed,
    free_port,
    receiving,
    row_cabin,
    status,
)
from tests.polling import until


async def rounds_after(hub: Hub, more: int) -> None:
    """Until the hub's alert loop and webhook sender have both gone round ``more`` times."""
    checks, rounds = hub.alerts.checks, hub.alerts.webhook.rounds
    await until(
        lambda: hub.alerts.checks >= checks + more and hub.alerts.webhook.rounds >= rounds + more,
        what=f"{more} more checks and webhook rounds",
    )


async def test_delivered_once_and_never_again_after_a_restart(tmp_path: Path) -> None:
    receiver = Receiver()
    sock = free_port()
    port = sock.getsockname()[1]
    sock.close()
    async with receiving(receiver, port) as url:
        config = write_hub_config(tmp_path / "hub", extra=alerts_toml(url))
        hub = await start_hub(config)
        try:
            await row_cabin(hub, "nangis-01")
            await feed(hub, "nangis-01", "status", status("out_of_service"))
            await until(lambda: len(receiver.posts) == 1, what="the alert delivered")
            await rounds_after(hub, 3)
        finally:
            await hub.stop()
        assert len(receiver.posts) == 1

        again = await start_hub(config)
        try:
            await rounds_after(again, 3)
            assert again.alerts.webhook.delivered == 0
            (alert,) = await alerts_of(again)
        finally:
            await again.stop()
        assert len(receiver.posts) == 1
        assert alert.sent_at is not None and alert.attempts == 1 and alert.last_error is None
        assert alert.cleared_at is None  # still out of service: still shown
        headers, body = receiver.posts[0]
        assert headers["Idempotency-Key"] == alert.key
        assert body["key"] == alert.key and body["kind"] == "out_of_service"
        assert body["severity"] == "critical" and body["cabin_id"] == "nangis-01"
        assert body["site_code"] == "NAN231" and body["cleared_at"] is None
        assert body["text"] == f"ALERTE — {alert.message}"


async def test_raised_while_the_receiver_was_away(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook, "FIRST_RETRY_S", 0.05)
    monkeypatch.setattr(webhook, "MAX_RETRY_S", 0.2)
    sock = free_port()  # bound, not listening: refused
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook/s3cr3t-token"
    hub = await start_hub(write_hub_config(tmp_path / "hub", extra=alerts_toml(url)))
    receiver = Receiver()
    try:
        await row_cabin(hub, "nangis-01")
        await feed(hub, "nangis-01", "status", status("out_of_service"))

        async def failed(at_least: int) -> bool:
            alerts = await alerts_of(hub)
            return bool(alerts) and alerts[0].attempts >= at_least and bool(alerts[0].last_error)

        await until(lambda: failed(2), what="two refused attempts")
        (alert,) = await alerts_of(hub)
        assert alert.sent_at is None
        assert alert.last_error is not None and "s3cr3t" not in alert.last_error

        # Back, but not well yet (503): still not delivered, still retried.
        receiver.answer = 503
        sock.close()
        async with receiving(receiver, port):
            await until(lambda: len(receiver.posts) >= 2, what="two answered with 503")
            (alert,) = await alerts_of(hub)
            assert alert.sent_at is None and alert.last_error == "HTTP 503"
            receiver.answer = 200

            async def delivered() -> bool:
                return all(a.sent_at is not None for a in await alerts_of(hub))

            await until(delivered, what="the alert delivered")
            accepted = len(receiver.posts)
            await rounds_after(hub, 3)
            assert len(receiver.posts) == accepted  # nothing after the 200
            (alert,) = await alerts_of(hub)
            # The refused attempts, the 503s, the one accepted: all counted.
            assert alert.last_error is None and alert.attempts >= accepted + 2
            assert {h["Idempotency-Key"] for h, _ in receiver.posts} == {alert.key}
    finally:
        await hub.stop()


async def test_a_refused_alert_does_not_hold_up_the_next(tmp_path: Path) -> None:
    """A 4xx refuses that alert (it is retried later, up to MAX_ATTEMPTS); the next goes on."""
    receiver = Receiver()
    sock = free_port()
    port = sock.getsockname()[1]
    sock.close()
    async with receiving(receiver, port) as url:
        hub = await start_hub(write_hub_config(tmp_path / "hub", extra=alerts_toml(url)))
        try:
            receiver.answer = 400
            await row_cabin(hub, "nangis-01")
            await row_cabin(hub, "chelles-01", "CHE132")
            await feed(hub, "nangis-01", "status", status("out_of_service"))
            await feed(hub, "chelles-01", "status", status("out_of_service"))
            await until(
                lambda: len({b["cabin_id"] for _, b in receiver.posts}) == 2,
                what="both alerts tried",
            )

            async def both_refused() -> bool:
                alerts = await alerts_of(hub)
                return len(alerts) == 2 and all(a.last_error == "HTTP 400" for a in alerts)

            # The hub stores the answer after the receiver has the POST: wait for it.
            await until(both_refused, what="both refusals stored")
            assert all(a.sent_at is None for a in await alerts_of(hub))
        finally:
            await hub.stop()


def test_a_webhook_url_that_is_not_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="webhook_url must be an http"):
        webhook.check_url("ftp://alerts.example.fr/hook")
    with pytest.raises(ValueError, match="webhook_url must be an http"):
        webhook.check_url("https:///no-host")
    webhook.check_url("https://alerts.example.fr/hook/abc")


def test_the_hub_does_not_start_with_a_bad_webhook_url(tmp_path: Path) -> None:
    config = write_hub_config(tmp_path / "hub", extra=alerts_toml("hooks.example.fr/x"))
    with pytest.raises(ValueError, match=r"\[alerts\] webhook_url"):
        Hub(load_hub_settings(config))
