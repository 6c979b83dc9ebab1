"""ICE servers from the configuration and from the hub, the relay-only policy, and the
loopback candidate switch."""

from __future__ import annotations

import aioice.ice
from aiortc.rtcconfiguration import RTCIceTransportPolicy

from hub.shared.wire import IceServer as HubIceServer
from kiosk.settings.network import IceServer
from video.loopback import offer_loopback_candidates
from video.peer import rtc_configuration


def test_no_ice_servers_means_none_not_a_public_default() -> None:
    assert rtc_configuration([]).iceServers == []
    assert rtc_configuration([], []).iceServers == []


def test_stun_and_turn_with_credentials() -> None:
    servers = [
        IceServer(urls=["stun:stun.example.fr:3478"]),
        IceServer(
            urls=["turn:turn.example.fr:3478?transport=udp", "turns:turn.example.fr:5349"],
            username="cabine-01",
            credential="s3cret",  # type: ignore[arg-type]
        ),
    ]
    config = rtc_configuration(servers)
    assert [s.urls for s in config.iceServers] == [
        ["stun:stun.example.fr:3478"],
        ["turn:turn.example.fr:3478?transport=udp", "turns:turn.example.fr:5349"],
    ]
    assert (config.iceServers[1].username, config.iceServers[1].credential) == (
        "cabine-01",
        "s3cret",
    )


def test_the_hubs_turn_credential_and_relay_policy() -> None:
    turn = HubIceServer(
        urls=["turn:127.0.0.1:3478?transport=udp"], username="1700000000:cabin-x", credential="k"
    )
    config = rtc_configuration([IceServer(urls=["stun:stun.example.fr"])], [turn], "relay")
    assert [s.urls for s in config.iceServers] == [
        ["stun:stun.example.fr"],
        ["turn:127.0.0.1:3478?transport=udp"],
    ]
    assert config.iceServers[1].username == "1700000000:cabin-x"
    assert config.iceTransportPolicy is RTCIceTransportPolicy.RELAY
    assert rtc_configuration([], [turn]).iceTransportPolicy is RTCIceTransportPolicy.ALL


def test_loopback_candidate_switch() -> None:
    original = aioice.ice.get_host_addresses
    try:
        offer_loopback_candidates(True)
        offer_loopback_candidates(True)  # idempotent
        addresses = aioice.ice.get_host_addresses(True, False)
        assert addresses.count("127.0.0.1") == 1
        assert "127.0.0.1" not in aioice.ice.get_host_addresses(False, True)
    finally:
        offer_loopback_candidates(False)
    assert aioice.ice.get_host_addresses is original
    assert "127.0.0.1" not in aioice.ice.get_host_addresses(True, False)
