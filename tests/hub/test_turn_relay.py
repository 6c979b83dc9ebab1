"""TURN: the hub hands each side a short-lived credential (coturn's shared-secret scheme)
and, with ``ice_policy = "relay"``, the call goes only through the relay.

A real coturn (Debian's `turnserver`, `use-auth-secret`) on loopback ports, the hub and a
cabin daemon in this process, the doctor in headless Chromium, all in a network
namespace of the test's own (``unshare -n``, only ``lo``): the outer test re-runs the
inner one there. Both ends gather relay candidates only; the call connects, frames flow
both ways, the pair both ends nominated is relay-to-relay, and coturn saw an
allocation for the cabin's credential and for the doctor's."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.service import Hub
from hub.turn import turn_credential
from kiosk.lifecycle import State
from tests.chromium import CHROMIUM, headless_chromium
from tests.e2e.doctor_page import open_console, page_frames_advance, take_patient
from tests.hub.conftest import standard_accounts
from tests.hub.fleet import Cabins, check_in, start_hub, write_hub_config
from tests.netns import run_inner_in_own_netns
from tests.polling import until

NETNS_ENV = "KIOSK_TURN_TEST_NETNS"
IN_NETNS = os.environ.get(NETNS_ENV) == "1"
TURN_PORT = 3478
SECRET = "the-static-auth-secret-of-the-test"
STEP_S = 30.0


def test_turn_credentials_follow_coturns_scheme() -> None:
    username, password = turn_credential(SECRET, "cabin-nangis-01", 600, now=1_700_000_000)
    assert username == "1700000600:cabin-nangis-01"
    # coturn's TURN REST API: base64(HMAC-SHA1(secret, username)), as coturn computes it.
    import base64
    import hashlib
    import hmac

    expected = base64.b64encode(hmac.new(SECRET.encode(), username.encode(), hashlib.sha1).digest())
    assert password == expected.decode()


def test_relay_only_call_in_own_network_namespace() -> None:
    if IN_NETNS:
        pytest.skip("this is the outer test; the inner one is running")
    run_inner_in_own_netns(__file__, "test_relay_only_inner", NETNS_ENV, ("turnserver", CHROMIUM))


@pytest.fixture
def coturn(tmp_path: Path) -> Iterator[Path]:
    log = tmp_path / "turnserver.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1",
             f"--listening-port={TURN_PORT}", "--use-auth-secret",
             f"--static-auth-secret={SECRET}", "--realm=kiosk.test",
             "--allow-loopback-peers", "--no-tls", "--no-dtls", "--no-cli",
             "--min-port=49200", "--max-port=49300", "--fingerprint",
             "--log-file=stdout", "--verbose", "--pidfile", str(tmp_path / "turn.pid")],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while "listener opened on : 127.0.0.1:3478" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"coturn did not start: {log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield log
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
async def relay_hub(tmp_path: Path) -> AsyncIterator[Hub]:
    turn = f"""
ice_policy = "relay"
[turn]
secret = "{SECRET}"
urls = ["turn:127.0.0.1:{TURN_PORT}?transport=udp"]
ttl_s = 600
"""
    hub = await start_hub(write_hub_config(tmp_path / "hub", extra=turn))
    await standard_accounts(hub)
    try:
        yield hub
    finally:
        await hub.stop()


NOMINATED_JS = """async () => {
  const stats = await call.pc.getStats();
  const byId = new Map(); stats.forEach((s) => byId.set(s.id, s));
  for (const s of stats.values()) {
    if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') {
      return [byId.get(s.localCandidateId).candidateType,
              byId.get(s.remoteCandidateId).candidateType, s.bytesReceived, s.bytesSent];
    }
  }
  return null;
}"""


def cabin_nominated_types(consultation: Any) -> set[str]:
    """The candidate types of the pairs aioice nominated on the cabin's side (aiortc keeps
    them on its ICE transport's connection: private names, checked to exist)."""
    transports = consultation.peer.pc._RTCPeerConnection__iceTransports
    types = set()
    for transport in transports:
        for pair in transport._connection._nominated.values():
            types.add(pair.local_candidate.type)
            types.add(pair.remote_candidate.type)
    return types


def turn_log(path: Path) -> str:
    return path.read_text(errors="replace")


@pytest.mark.skipif(not IN_NETNS, reason="runs inside its own network namespace")
async def test_relay_only_inner(coturn: Path, relay_hub: Hub, tmp_path: Path) -> None:
    cabins = Cabins(tmp_path, relay_hub)
    try:
        daemon = await cabins("nangis-01", "NAN231")
        assert daemon.ctx is not None
        consultation = daemon.ctx.components["call"].consultation  # type: ignore[attr-defined]
        await until(lambda: "nangis-01" in relay_hub.gateway.connections, STEP_S, "connected")
        await check_in(daemon)
        async with headless_chromium() as browser:
            assert relay_hub.url is not None
            page = await open_console(browser, relay_hub.url, "dr.martin")
            assert await page.evaluate("() => call.icePolicy") == "relay"
            await take_patient(page, "nangis-01")
            await page.click("#join")
            await until(
                lambda: (
                    daemon.ctx is not None and daemon.ctx.lifecycle.state is State.IN_CONSULTATION
                ),
                STEP_S,
                "the call connected",
            )
            await page_frames_advance(page)
            peer = consultation.peer
            await until(lambda: peer.frames.video > 10, STEP_S, "the doctor's frames at the cabin")
            # Chromium's stats name the nominated pair a moment after media flows (seen
            # None here on a loaded machine): wait for it, then check its candidates.
            async def nominated() -> list[Any] | None:
                pair: list[Any] | None = await page.evaluate(NOMINATED_JS)
                return pair

            local, remote, _, _ = await until(nominated, STEP_S, "Chromium's nominated pair")
            assert (local, remote) == ("relay", "relay")

            async def media_through_the_pair() -> bool:
                pair = await nominated()  # None for a moment while Chromium re-nominates
                if pair is None:
                    return False
                local, remote, received, sent = pair
                assert (local, remote) == ("relay", "relay")
                return bool(received > 100_000 and sent > 100_000)

            await until(media_through_the_pair, STEP_S, "100 kB each way through the relay")
            assert cabin_nominated_types(consultation) == {"relay"}
        log = turn_log(coturn)
        assert ":cabin-nangis-01" in log, log[-3000:]  # the cabin's time-limited username
        assert ":doctor-" in log, log[-3000:]
    finally:
        await cabins.stop()
