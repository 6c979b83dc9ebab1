"""bench_soak's doctors at the hub's console.

- ``LightDoctor``: the console spoken from Python (tests/hub/fleet.py's Console: password
  and second factor, /doctor/ws), with an aiortc peer that answers the cabin's offers
  (``iceServers=[]``, every remote track drained, a small synthetic camera), so the
  cabin reaches in_consultation as it does with a browser. One login for the whole soak,
  one peer connection per consultation, closed at its end.
- ``chromium_consultation``: the same consultation in headless Chromium, a fresh browser
  context (another login) each time, with tests/e2e/doctor_page.py's selectors.

Both take the cabin's waiting patient, ask for a blood-pressure measurement, sign a
prescription, wait for its print job to complete and end the consultation; both return
the printed document's id."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

from hub.demo.people import Person
from tests.e2e.doctor_page import (
    PRESCRIBER,
    open_console,
    page_frames_advance,
    sign_prescription,
    take_patient,
)
from tests.e2e.world import DOCTOR_RPPS
from tests.hub.fleet import Console

STEP_S = 60.0  # one step of a consultation (a print through CUPS is the slowest)
INSTRUMENT = "tensiometre"
MEDICATION = "Paracétamol 500 mg comprimé"
TOTP_STEP_S = 31.0  # a second-factor code serves once: logins one step apart at least


class ConsultationFailed(RuntimeError):
    """A step of the consultation did not happen (the soak stops, exit code 1)."""


class SmallCamera(VideoStreamTrack):
    """The doctor's camera: 320x240 frames (aiortc's default track is 640x480)."""

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame(width=320, height=240)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts, frame.time_base = pts, time_base or fractions.Fraction(1, 90000)
        return frame


def prescription(person: Person) -> dict[str, Any]:
    """What the console's form sends (hub/console/static/prescription.js)."""
    prescriber = {key.split(".", 1)[1]: value for key, value in PRESCRIBER.items()}
    return {
        "issued_at": datetime.now(UTC).isoformat(),
        "prescriber": {"name": "Dr Claire Martin", **prescriber, "rpps": DOCTOR_RPPS},
        "patient": {
            "family_name": person.family_name,
            "given_name": person.given_name,
            "sex": person.sex,
            "birth_date": person.birth_date,
        },
        "items": [
            {
                "medication": MEDICATION,
                "posology": "1 comprimé 3 fois par jour",
                "duration": "5 jours",
            }
        ],
    }


class LightDoctor(Console):
    def __init__(self, hub_url: str, username: str) -> None:
        super().__init__(hub_url, username)
        self.pc: RTCPeerConnection | None = None
        self.channel: Any = None
        self.messages: list[dict[str, Any]] = []  # this consultation's, from both paths
        self.arrived = asyncio.Event()
        self.queue: dict[str, str] = {}  # cabin → waiting session, as the console shows
        self.closed: set[str] = set()  # consultations the hub closed
        self.drains: list[asyncio.Task[None]] = []
        self.answering: list[asyncio.Task[None]] = []
        self.count = 0
        self.consultation: str | None = None

    async def open(self) -> None:
        await self.login()
        await self.connect()

    def _note(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "queue":
            self.queue = {e["cabin_id"]: e["session_id"] for e in message["entries"]}
        elif kind == "queue_entry":
            self.queue[message["entry"]["cabin_id"]] = message["entry"]["session_id"]
        elif kind == "queue_removed":
            self.queue.pop(message["cabin_id"], None)
        elif kind == "consultation_closed" and message.get("id"):
            self.closed.add(str(message["id"]))
        self.messages.append(message)
        self.arrived.set()

    async def _read(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(msg.data)
            if data.get("type") == "offer":
                self.answering.append(asyncio.create_task(self._answer(data)))
            self._note(data)

    async def wait(self, what: str, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first message of this consultation (kept, not consumed) that passes."""
        seen = 0
        try:
            async with asyncio.timeout(STEP_S):
                while True:
                    for message in self.messages[seen:]:
                        if check(message):
                            return message
                    seen = len(self.messages)
                    self.arrived.clear()
                    await self.arrived.wait()
        except TimeoutError:
            raise ConsultationFailed(f"{self.username}: no {what} within {STEP_S:.0f} s") from None

    async def until(self, what: str, check: Callable[[], bool]) -> None:
        try:
            async with asyncio.timeout(STEP_S):
                while not check():
                    self.arrived.clear()
                    await self.arrived.wait()
        except TimeoutError:
            raise ConsultationFailed(f"{self.username}: no {what} within {STEP_S:.0f} s") from None

    def refused(self, msg_id: str) -> Callable[[dict[str, Any]], bool]:
        def check(message: dict[str, Any]) -> bool:
            if message.get("type") == "error" and message.get("in_reply_to") == msg_id:
                raise ConsultationFailed(f"{msg_id} refused: {message.get('message')}")
            return False

        return check

    async def consult(self, cabin_id: str, person: Person) -> str:
        """The patient waiting in ``cabin_id``, seen from take to end; the prescription's
        document id."""
        self.count += 1
        n = self.count
        previous = self.consultation
        await self.until("close of the last consultation", lambda: previous in self.closed | {None})
        await self.until(f"{cabin_id} in the queue", lambda: cabin_id in self.queue)
        self.messages = []
        await self.send({"type": "take", "cabin_id": cabin_id, "session_id": self.queue[cabin_id]})
        taken = await self.wait("consultation", lambda m: m.get("type") == "consultation")
        self.consultation = str(taken["id"])
        await self.send({"type": "join", "id": f"join-{n}"})
        await self.wait(
            "consultation state",
            lambda m: m.get("type") == "state" and m.get("cabin_state") == "in_consultation",
        )
        await self.until("data channel", lambda: self.channel_open)

        self.send_channel({"type": "measure", "instrument": INSTRUMENT, "id": f"m-{n}"})
        refused = self.refused(f"m-{n}")
        await self.wait(
            "measurement",
            lambda m: (
                refused(m)
                or (
                    m.get("type") == "measurement"
                    and m.get("instrument") == INSTRUMENT
                    and not m["measurement"].get("intermediate")
                )
            ),
        )
        rx = f"rx-{n}"
        self.send_channel({"type": "prescription", "id": rx, "prescription": prescription(person)})
        refused = self.refused(rx)
        await self.wait("prescription accepted", lambda m: refused(m) or _accepted(m, rx))
        job = await self.wait("print job done", _print_done)
        if job["state"] != "completed":
            raise ConsultationFailed(f"print job {job['state']}: {job.get('message')}")
        self.send_channel({"type": "end", "id": f"end-{n}"})
        await self.wait(
            "checkout", lambda m: m.get("type") == "state" and m.get("cabin_state") == "checkout"
        )
        await self.close_call()
        return str(job["document_id"])

    @property
    def channel_open(self) -> bool:
        return self.channel is not None and self.channel.readyState == "open"

    def send_channel(self, message: dict[str, Any]) -> None:
        if not self.channel_open:
            raise ConsultationFailed("the data channel is not open")
        self.channel.send(json.dumps(message))

    async def _answer(self, offer: dict[str, Any]) -> None:
        await self.close_call()
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pc = pc
        pc.addTrack(AudioStreamTrack())
        pc.addTrack(SmallCamera())

        @pc.on("track")
        def on_track(track: Any) -> None:
            self.drains.append(asyncio.create_task(_drain(track)))

        @pc.on("datachannel")
        def on_channel(channel: Any) -> None:
            self.channel = channel
            channel.on("message", lambda text: self._note(json.loads(text)))
            channel.on("open", self.arrived.set)
            self.arrived.set()

        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await self.send(
            {"type": "answer", "sdp": pc.localDescription.sdp, "generation": offer["generation"]}
        )

    async def close_call(self) -> None:
        pc, self.pc, self.channel = self.pc, None, None
        if pc is not None:
            await pc.close()
        for task in self.drains:
            task.cancel()
        await asyncio.gather(*self.drains, return_exceptions=True)
        self.drains = []
        self.answering = [t for t in self.answering if not t.done()]

    async def close(self) -> None:
        for task in self.answering:
            task.cancel()
        await asyncio.gather(*self.answering, return_exceptions=True)
        await self.close_call()
        await super().close()


def _accepted(message: dict[str, Any], msg_id: str) -> bool:
    return message.get("type") == "accepted" and message.get("in_reply_to") == msg_id


def _print_done(message: dict[str, Any]) -> bool:
    return message.get("type") == "print_job" and message.get("state") in ("completed", "failed")


async def _drain(track: Any) -> None:
    with contextlib.suppress(MediaStreamError):
        while True:
            await track.recv()


class ChromiumDoctor:
    """Debian's headless Chromium, a new context (a login) per consultation."""

    def __init__(self, browser: Any, hub_url: str, username: str) -> None:
        self.browser = browser
        self.hub_url = hub_url
        self.username = username
        self.last_login = 0.0

    async def consult(self, cabin_id: str, person: Person, cabin_state: Any) -> str:
        wait = self.last_login + TOTP_STEP_S - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self.last_login = time.monotonic()
        page = await open_console(self.browser, self.hub_url, self.username)
        try:
            await page.locator(f".queue-entry[data-cabin={cabin_id}]").wait_for()
            await take_patient(page, cabin_id)
            await page.click("#join")
            await page_frames_advance(page)
            await cabin_state("in_consultation")
            await page.click(f"button.measure[data-instrument={INSTRUMENT}]")
            await page.wait_for_selector("#measurements tr.measurement")
            await sign_prescription(page, MEDICATION, sex=person.sex)
            done = page.locator("#print-jobs li[data-state=completed]")
            await done.wait_for(timeout=STEP_S * 1000)
            document_id = await done.get_attribute("data-id")
            await page.click("#end")
            await cabin_state("checkout")
            return str(document_id)
        finally:
            await page.context.close()
