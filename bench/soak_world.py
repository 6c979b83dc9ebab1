"""bench_soak's world: the hub as a process (tests/e2e/hub_world.py's HubProcess) with one
site, two doctors and a booking platform's token, and ONE cabin daemon (``kiosk run`` as
a subprocess) enrolled at it, dialling out to it, with simulated instruments, the CUPS
"PDF" queue, the simulated door lock and a short hygiene checklist.

The site's slots last 5 minutes (the hub's shortest) and a patient may check in from 30
minutes before their slot (kiosk/appointments.py): a soak books a patient every few
seconds, so the slot's capacity (the site's enrolled cabins, hub/booking/bookings.py) is
raised by cabins enrolled straight in the hub's database that never connect."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from hub.cabins.enrolment import add_cabin, enrol
from hub.demo.people import HELENE, VISITORS, Person
from hub.settings import load_hub_settings
from hub.store import Database
from tests.cabin_toml import SIMULATED_INSTRUMENTS, base_toml
from tests.e2e.hub_world import HubProcess
from tests.kiosk.process import DaemonProcess

SITE = "SOAK01"
CABIN_ID = "soak-01"
LIGHT_DOCTOR = "dr.martin"  # the aiohttp + aiortc console
BROWSER_DOCTOR = "dr.bernard"  # the Chromium console
REFERENT_PIN = "1234"  # hub/demo/people.py's disinfect() types the demo referent's PIN
SLOT_MINUTES = 5  # the hub's shortest consultation
# Cabins enrolled at the site that never connect: the capacity of each slot. A slot is
# checked in at most 30 min early, so about 6 slots are open to a soak at a time.
PHANTOM_CABINS = 40
BOOK_AHEAD = timedelta(minutes=25)  # within the cabin's early-arrival margin (30 min)
SLOT_WAIT_S = 600.0  # every slot within reach full: wait for the next one to come in
PEOPLE = (HELENE, *VISITORS)

HUB_TOML = """
listen_host = "127.0.0.1"
listen_port = 0
database_url = "sqlite+aiosqlite:///{database}"

[[sites]]
code = "{site}"
name = "Maison de santé (soak)"
address = "1 place de la Mairie, 77000 Melun, France"
consultation_minutes = {minutes}
[sites.hours]
always_open = true
"""

CABIN_EXTRA = """
[hub]
urls = ["{hub_url}"]

[printer]
queue = "PDF"

[call]
doctor_absent_timeout_s = 300

[call.camera]
width = 320
height = 240
fps = 15

[hygiene.lock]
driver = "simulated"

[[hygiene.steps]]
id = "siege"
label_fr = "Désinfecter le siège"
label_en = "Disinfect the seat"
contact_time_s = 1

[[hygiene.steps]]
id = "ecran"
label_fr = "Essuyer l'écran tactile"
label_en = "Wipe the touchscreen"

[[hygiene.steps]]
id = "brassard"
label_fr = "Désinfecter le brassard du tensiomètre"
label_en = "Disinfect the blood pressure cuff"
when_used = ["blood_pressure"]
contact_time_s = 1

[[hygiene.referents]]
id = "referent-soak"
name = "Référente (soak)"
pin_hash = "{referent_hash}"
"""


@dataclass(frozen=True)
class Booked:
    person: Person
    code: str
    booking_id: str


class SoakHub(HubProcess):
    """HubProcess with the soak's own site (5-minute slots) and the hub's default
    heartbeat (15 s), as a deployed hub has."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.config.write_text(
            HUB_TOML.format(database=folder / "hub.sqlite3", site=SITE, minutes=SLOT_MINUTES),
            encoding="utf-8",
        )
        self.settings = load_hub_settings(self.config)
        self._people = itertools.cycle(PEOPLE)

    async def add_phantoms(self, count: int) -> None:
        db = Database(self.settings.database_url)
        now = datetime.now(UTC)
        try:
            async with db.transaction() as s:
                for i in range(count):
                    cid = f"phantom-{i:02d}"
                    await enrol(s, cid, await add_cabin(s, cid, SITE, now, timedelta(hours=1)), now)
        finally:
            await db.close()

    async def book_next(self) -> Booked:
        """The platform books the next patient into the first free slot the cabin can
        check in now (waits when every one of them is full)."""
        person = next(self._people)
        auth = {"Authorization": f"Bearer {self.token}"}
        deadline = time.monotonic() + SLOT_WAIT_S
        async with aiohttp.ClientSession(headers=auth) as http:
            while True:
                start = await self._free_slot(http)
                if start is not None:
                    made = await self._book(http, person, start)
                    if made is not None:
                        return Booked(person, str(made["code"]), str(made["id"]))
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no free slot within {SLOT_WAIT_S:.0f} s")
                await asyncio.sleep(5.0)

    async def _free_slot(self, http: aiohttp.ClientSession) -> str | None:
        now = datetime.now(UTC)
        for day in sorted({now.date(), (now + BOOK_AHEAD).date()}):
            url = f"{self.url}/api/v1/sites/{SITE}/slots?date={day.isoformat()}"
            async with http.get(url) as resp:
                body = await resp.json()
                if resp.status != 200:
                    raise RuntimeError(f"slots: {resp.status} {body}")
            for slot in body["slots"]:
                start = datetime.fromisoformat(slot["start"])
                if slot["free"] and now < start <= now + BOOK_AHEAD:
                    return str(slot["start"])
        return None

    async def _book(
        self, http: aiohttp.ClientSession, person: Person, start: str
    ) -> dict[str, Any] | None:
        booking = {
            "site": SITE,
            "start": start,
            "family_name": person.family_name,
            "given_name": person.given_name,
            "birth_date": person.birth_date,
            "sex": person.sex,
            "phone": "01 23 45 67 89",
            "reason": person.reason,
        }
        async with http.post(f"{self.url}/api/v1/bookings", json=booking) as resp:
            made: dict[str, Any] = await resp.json()
            if resp.status == 201:
                return made
            if resp.status == 409:  # taken meanwhile, or just passed: the next one
                return None
            raise RuntimeError(f"booking: {resp.status} {made}")


def write_cabin_config(root: Path, hub_url: str, referent_hash: str) -> Path:
    config = root / f"{CABIN_ID}.toml"
    config.write_text(
        base_toml(
            root / CABIN_ID,
            cabin_id=CABIN_ID,
            name="Cabine (soak)",
            network="ice_servers = []\nice_loopback = true",
        )
        + SIMULATED_INSTRUMENTS
        + CABIN_EXTRA.format(hub_url=hub_url, referent_hash=referent_hash),
        encoding="utf-8",
    )
    return config


async def start_cabin(hub: SoakHub, root: Path, env: dict[str, str] | None = None) -> DaemonProcess:
    """Enrolled at the hub (the technician's two steps), then ``kiosk run`` (with ``env``
    added to its environment)."""
    from hygiene.auth import hash_pin

    config = write_cabin_config(root, hub.url, hash_pin(REFERENT_PIN))
    state = root / CABIN_ID
    await hub.enrol(CABIN_ID, SITE, state)
    env = {"KIOSK_VIDEO_HEADLESS": "1", **(env or {})}
    return await asyncio.to_thread(DaemonProcess, config, state, driven=False, env=env)
