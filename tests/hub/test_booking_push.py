"""From the booking API to the booth: a booking made by a platform is pushed to the
cabins of its site only; its code checks in at that cabin near its slot, not at another
site's cabin, not the next day, not an hour early, and still with the hub stopped; a
cancellation reaches the cabin and the code then fails. Real cabin daemons (make_cabin),
the touchscreen's check-in as its API requests (tests/checkin_steps.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from hub.service import Hub
from kiosk.daemon import Daemon
from kiosk.ui_auth import HEADER
from tests.checkin_steps import checkin_requests
from tests.hub.conftest import MakeCabin
from tests.hub.test_booking_world import Api, Clock, new_token, patient
from tests.polling import until

BIRTH = "1948-03-02"


@pytest.fixture
async def platform(hub: Hub) -> AsyncIterator[Api]:
    api = Api(str(hub.url), await new_token(hub))
    try:
        yield api
    finally:
        await api.close()


async def book_next_slot(platform: Api, site: str, family_name: str) -> dict[str, Any]:
    """Books the site's first free slot (the test hub's sites are always open)."""
    status, day = await platform.get(f"/api/v1/sites/{site}/slots")
    free = [s for s in day["slots"] if not s["full"]]
    if not free:  # late in the evening: tomorrow's first slot
        tomorrow = (datetime.fromisoformat(day["date"]) + timedelta(days=1)).date()
        status, day = await platform.get(f"/api/v1/sites/{site}/slots?date={tomorrow}")
        free = [s for s in day["slots"] if not s["full"]]
    start = datetime.fromisoformat(free[0]["start"])
    status, booking = await platform.post(
        "/api/v1/bookings", patient(start, site=site, family_name=family_name)
    )
    assert status == 201, booking
    return dict(booking)


class Touchscreen:
    """The booth's screen, speaking the cabin daemon's check-in API."""

    def __init__(self, daemon: Daemon) -> None:
        assert daemon.ctx is not None and daemon.url is not None
        self.url = daemon.url
        self.http = aiohttp.ClientSession(headers={HEADER: daemon.ctx.ui_token})

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        async with self.http.post(self.url + path, json=body) as resp:
            return resp.status, await resp.json()

    async def start(self) -> None:
        status, body = await self.post("/api/ui/checkin/start", {})
        assert status == 200, body

    async def code(self, code: str) -> tuple[int, dict[str, Any]]:
        return await self.post("/api/ui/checkin/code", {"code": code})

    async def close(self) -> None:
        await self.http.close()


def fix_clock(daemon: Daemon) -> Clock:
    """The cabin's check-in compares the slot with this clock from now on."""
    assert daemon.ctx is not None
    clock = Clock()
    daemon.ctx.lifecycle.clock = clock
    return clock


async def test_the_code_works_at_its_cabin_at_its_time_even_with_the_hub_down(
    hub: Hub, make_cabin: MakeCabin, platform: Api
) -> None:
    nangis = await make_cabin("nangis-01", "NAN231")
    chelles = await make_cabin("chelles-01", "CHE132")
    await until(lambda: len(hub.gateway.connections) == 2, what="both cabins connected")
    assert nangis.ctx is not None and chelles.ctx is not None
    at_nangis, at_chelles_store = nangis.ctx.appointments, chelles.ctx.appointments
    booking = await book_next_slot(platform, "NAN231", "Dupont")
    other = await book_next_slot(platform, "CHE132", "Martin")

    await until(lambda: at_nangis.get(booking["id"]), what="the booking pushed to Nangis's cabin")
    stored = at_nangis.get(booking["id"])
    assert stored is not None
    assert stored.code == booking["code"]
    assert stored.slot_start == datetime.fromisoformat(booking["start"])
    assert (stored.family_name, stored.given_name, stored.birth_date.isoformat()) == (
        "Dupont",
        "Hélène",
        BIRTH,
    )
    assert stored.reason == "toux depuis une semaine" and stored.sex == "F"
    # Chelles has its own booking, and never Nangis's.
    await until(lambda: at_chelles_store.get(other["id"]), what="Chelles's booking on its cabin")
    assert at_chelles_store.get(booking["id"]) is None
    assert at_nangis.get(other["id"]) is None

    at_chelles = Touchscreen(chelles)
    try:
        await at_chelles.start()
        status, body = await at_chelles.code(booking["code"])
        assert (status, body["code"]) == (404, "unknown_code")
    finally:
        await at_chelles.close()

    # The hub goes away: the booth still has the booking.
    await hub.stop()
    slot = datetime.fromisoformat(booking["start"])
    clock = fix_clock(nangis)
    screen = Touchscreen(nangis)
    try:
        await screen.start()
        for wrong_time in (slot + timedelta(days=1), slot - timedelta(hours=1)):
            clock.fixed = wrong_time + timedelta(minutes=5)
            status, body = await screen.code(booking["code"])
            assert (status, body["code"]) == (404, "unknown_code"), wrong_time
        clock.fixed = slot + timedelta(minutes=5)
        for path, body in checkin_requests(booking["code"], "Dupont", "Hélène", BIRTH)[1:]:
            status, answer = await screen.post(path, body)
            assert status == 200, (path, answer)
        assert answer == {"state": "waiting"}
    finally:
        await screen.close()
    used = at_nangis.get(booking["id"])
    assert used is not None and used.used_at is not None


async def test_a_cancellation_reaches_the_cabin_and_the_code_then_fails(
    hub: Hub, make_cabin: MakeCabin, platform: Api
) -> None:
    # Booked before the cabin is even there: it gets it when it connects.
    booking = await book_next_slot(platform, "NAN231", "Dupont")
    kept = await book_next_slot(platform, "NAN231", "Petit")
    nangis = await make_cabin("nangis-01", "NAN231")
    assert nangis.ctx is not None
    appointments = nangis.ctx.appointments
    await until(lambda: appointments.get(booking["id"]), what="the booking on the cabin")
    await until(lambda: appointments.get(kept["id"]), what="the second booking on the cabin")

    status, cancelled = await platform.post(f"/api/v1/bookings/{booking['id']}/cancel")
    assert status == 200 and cancelled["status"] == "cancelled"
    await until(lambda: appointments.get(booking["id"]) is None, what="the cancellation pushed")
    assert appointments.get(kept["id"]) is not None

    clock = fix_clock(nangis)
    clock.fixed = datetime.fromisoformat(booking["start"]) + timedelta(minutes=5)
    screen = Touchscreen(nangis)
    try:
        await screen.start()
        status, body = await screen.code(booking["code"])
        assert (status, body["code"]) == (404, "unknown_code")
        clock.fixed = datetime.fromisoformat(kept["start"]) + timedelta(minutes=5)
        status, body = await screen.code(kept["code"])
        assert (status, body) == (200, {"step": "identity"})
    finally:
        await screen.close()
