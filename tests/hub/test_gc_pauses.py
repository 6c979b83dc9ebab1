"""The hub's GC accounting (/metrics) and the tuning `kiosk hub run` applies."""

from __future__ import annotations

import gc
import re

import aiohttp

from hub.gc_pauses import YOUNG_THRESHOLD, GcPauses, freeze_startup
from hub.service import Hub
from tests.hub.conftest import MakeCabin
from tests.polling import until


def test_a_full_collection_is_counted_with_its_pause() -> None:
    pauses = GcPauses()
    pauses.install()
    try:
        garbage: list[object] = []
        garbage.append(garbage)  # a cycle: only the collector frees it
        del garbage
        gc.collect()
    finally:
        pauses.uninstall()
    assert pauses.collections[2] == 1
    assert 0 < pauses.max_s[2] == pauses.total_s[2]
    gc.collect()  # after uninstall: not counted
    assert pauses.collections[2] == 1


def test_the_start_is_frozen_and_young_collections_made_rarer() -> None:
    before = gc.get_threshold()
    try:
        frozen = freeze_startup()
        assert frozen == gc.get_freeze_count() > 1000  # this process's modules at least
        assert gc.get_threshold() == (YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


async def metrics(hub: Hub) -> dict[str, float]:
    assert hub.url is not None
    async with aiohttp.ClientSession() as http, http.get(hub.url + "/metrics") as resp:
        text = await resp.text()
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^(hub_[a-z_]+(?:\{[^}]*\})?) (\S+)$", text, re.MULTILINE)
    }


async def test_metrics_show_the_collections_and_the_writer(hub: Hub, make_cabin: MakeCabin) -> None:
    await make_cabin("nangis-01", "NAN231")

    async def welcomed() -> bool:  # its hello went through the writer
        return (await metrics(hub))["hub_writer_pieces"] >= 1

    await until(welcomed, what="the cabin's hello committed by the writer")
    gc.collect()
    figures = await metrics(hub)
    assert figures['hub_gc_collections{generation="2"}'] >= 1
    assert figures['hub_gc_pause_max_seconds{generation="2"}'] > 0
    assert figures["hub_writer_transactions"] >= 1
