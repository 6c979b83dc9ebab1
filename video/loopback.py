"""Test/demo only: offer 127.0.0.1 as an ICE host candidate.

aioice leaves the loopback address out of its host candidates, so a call between the
cabin and a browser on the same machine inside a network namespace that has only
``lo`` finds no pair. ``network.ice_loopback = true`` wraps aioice's interface
enumeration (one function) to add it. Never set on a real cabin."""

from __future__ import annotations

from collections.abc import Callable

import aioice.ice

LOOPBACK_V4 = "127.0.0.1"
_original: Callable[[bool, bool], list[str]] | None = None


def _with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    assert _original is not None
    addresses = list(_original(use_ipv4, use_ipv6))
    if use_ipv4 and LOOPBACK_V4 not in addresses:
        addresses.insert(0, LOOPBACK_V4)
    return addresses


def offer_loopback_candidates(enabled: bool) -> None:
    """Add (or stop adding) 127.0.0.1 to aioice's host candidates. Idempotent."""
    global _original  # noqa: PLW0603 - one process-wide patch, undone by enabled=False
    if enabled and _original is None:
        _original = aioice.ice.get_host_addresses
        aioice.ice.get_host_addresses = _with_loopback
    elif not enabled and _original is not None:
        aioice.ice.get_host_addresses = _original  # type: ignore[assignment]
        _original = None
