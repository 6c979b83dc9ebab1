"""Test/demo only: offer 127.0.0.1 as an ICE host candidate.

aioice leaves the loopback address out of its host candidates, so a call between the
cabin and a browser on the same machine inside a network namespace that has only
``lo`` finds no pair. ``network.ice_loopback = true`` wraps aioice's interface
enumeration (one function) to add it. Never set on a real cabin."""

from __future__ import annotations

import aioice.ice

from video.name_patch import NamePatch

LOOPBACK_V4 = "127.0.0.1"


def _with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    addresses = list(_HOOK.original(use_ipv4, use_ipv6))
    if use_ipv4 and LOOPBACK_V4 not in addresses:
        addresses.insert(0, LOOPBACK_V4)
    return addresses


_HOOK = NamePatch(aioice.ice, "get_host_addresses", _with_loopback)


def offer_loopback_candidates(enabled: bool) -> None:
    """Add (or stop adding) 127.0.0.1 to aioice's host candidates. Idempotent."""
    if enabled:
        _HOOK.install()
    else:
        _HOOK.uninstall()
