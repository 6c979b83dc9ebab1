"""The demo's simulated people, who act only through the doors real people use: a
patient booked at the hub who checks in on the cabin's touchscreen API and leaves after
the checkout, and a hygiene referent who logs the disinfection step by step (contact
times included) on the same API. Made-up persons; nothing of them is logged."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from hub.shared.cabin_api import RUNTIME_FILE, UI_TOKEN_FILE, UI_TOKEN_HEADER

log = logging.getLogger(__name__)

# How long the simulated patient takes to pick up the prescription and leave.
LEAVE_AFTER_S = 10.0
# How often the demo looks at a simulated cabin's state.
POLL_S = 1.0
PUSH_WAIT_S = 30.0  # how long a fresh booking may take to reach the cabin
DEMO_REFERENT_PIN = "1234"  # config/demo.toml's referent


@dataclass(frozen=True)
class Person:
    family_name: str
    given_name: str
    birth_date: str
    sex: str
    reason: str


HELENE = Person("Dupont", "Hélène", "1948-03-02", "F", "Toux et fièvre depuis trois jours")
# The background cabins' patients, one after another.
VISITORS = (
    Person("Martin", "Paul", "1961-05-14", "M", "Douleur au genou droit"),
    Person("Lefèvre", "Jeanne", "1955-09-30", "F", "Renouvellement d'ordonnance"),
    Person("Nguyen", "Thi", "1979-01-12", "F", "Toux depuis une semaine"),
    Person("Benali", "Karim", "1988-07-21", "M", "Fièvre et maux de tête"),
)


class CabinApi:
    """A cabin's local API, with the touchscreen's token read from its state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    @property
    def url(self) -> str:
        url: str = json.loads((self.state_dir / RUNTIME_FILE).read_text())["url"]
        return url

    def _headers(self) -> dict[str, str]:
        return {UI_TOKEN_HEADER: (self.state_dir / UI_TOKEN_FILE).read_text().strip()}

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession(headers=self._headers()) as http,
            http.post(self.url + path, json=body or {}) as resp,
        ):
            answer: dict[str, Any] = await resp.json(content_type=None)
            if resp.status >= 400:
                raise RuntimeError(f"{path}: {resp.status} {answer.get('code', '')}")
            return answer

    async def get(self, path: str) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession(headers=self._headers()) as http,
            http.get(self.url + path) as resp,
        ):
            answer: dict[str, Any] = await resp.json(content_type=None)
            return answer

    async def state(self) -> str:
        return str((await self.get("/api/status"))["state"])

    async def wait_state(self, *states: str) -> str:
        while True:
            state = await self.state()
            if state in states:
                return state
            await asyncio.sleep(POLL_S)


async def check_in(cabin: CabinApi, person: Person, code: str) -> None:
    """The patient types the code and their identity, consents and answers."""
    await cabin.post("/api/ui/checkin/start")
    # Booked a moment ago at the hub: the push reaches the cabin within a second or two.
    async with asyncio.timeout(PUSH_WAIT_S):
        while True:
            try:
                await cabin.post("/api/ui/checkin/code", {"code": code})
                break
            except RuntimeError as exc:
                if "unknown_code" not in str(exc):
                    raise
                await asyncio.sleep(POLL_S)
    await cabin.post(
        "/api/ui/checkin/identity",
        {
            "family_name": person.family_name,
            "given_name": person.given_name,
            "birth_date": person.birth_date,
        },
    )
    await cabin.post("/api/ui/checkin/consent", {"teleconsultation": True, "data_processing": True})
    await cabin.post(
        "/api/ui/checkin/questionnaire",
        {"reason": "fever_cough", "allergies": "no", "treatments": "no"},
    )


async def leave_after_checkout(cabin: CabinApi, patience_s: float) -> None:
    """Leaves after the checkout, or gives up when no doctor came within ``patience_s``."""
    try:
        async with asyncio.timeout(patience_s):
            state = await cabin.wait_state("checkout", "awaiting_disinfection", "idle", "closed")
    except TimeoutError:
        if await cabin.state() == "waiting":
            await cabin.post("/api/ui/checkin/abandon")
            return
        state = await cabin.wait_state("checkout", "awaiting_disinfection", "idle", "closed")
    if state == "checkout":
        await asyncio.sleep(LEAVE_AFTER_S)
        await cabin.post("/api/ui/leave")


async def disinfect(cabin: CabinApi) -> None:
    """The referent logs in, starts every step, confirms each once its contact time has
    run (the cabin's own clock decides), and finishes."""
    await cabin.post("/api/hygiene/login", {"pin": DEMO_REFERENT_PIN})
    steps = (await cabin.get("/api/hygiene/checklist"))["steps"]
    for step in steps:
        await cabin.post(f"/api/hygiene/steps/{step['id']}/start")
    pending = [s["id"] for s in steps]
    while pending:
        await asyncio.sleep(POLL_S)
        for step_id in list(pending):
            try:
                await cabin.post(f"/api/hygiene/steps/{step_id}/confirm")
                pending.remove(step_id)
            except RuntimeError:
                continue  # its contact time is still running
    await cabin.post("/api/hygiene/finish")


Book = Callable[[Person], Awaitable[str]]


async def visitors(
    cabin: CabinApi, book: Book, every_s: float, patience_s: float, first: int = 0
) -> None:
    """Forever: when the cabin is free, a patient booked at the hub arrives, checks in,
    is seen (or not) by a doctor, leaves; the referent disinfects. Then a pause. Each
    cabin starts at its own ``first`` visitor: one person is not in two booths at once."""
    turn = first
    while True:
        await cabin.wait_state("idle")
        person = VISITORS[turn % len(VISITORS)]
        turn += 1
        try:
            code = await book(person)
            await check_in(cabin, person, code)
            await leave_after_checkout(cabin, patience_s)
            await cabin.wait_state("awaiting_disinfection")
            await disinfect(cabin)
        except (RuntimeError, aiohttp.ClientError, OSError) as exc:
            log.warning("demo visitor: %s", exc)
        await asyncio.sleep(every_s)
