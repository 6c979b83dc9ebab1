"""A day of a fleet, end to end, with the real processes: the hub (``kiosk hub run``) and
two cabin daemons (``kiosk run``, Nangis and Chelles) enrolled at it, two doctors in
headless Chromium, the machine's CUPS with its cups-pdf queue.

- Both doctors log in with a password and a TOTP code; one sees both waiting patients,
  the other only his site's; they take the same patient at once: one consultation, one
  "already taken". Another site's patient is refused to the second doctor. Both
  refusals are in the audit trail.
- The call through the hub's signaling: frames both ways, a measurement asked from the
  console, the patient's chat, a prescription printed.
- The hub is killed with SIGKILL during the call: the call goes on peer to peer, the
  doctor ends it over the data channel, the patient leaves, the referent disinfects; the
  cabin queues all of it. The hub restarts on its database: the cabin reconnects and what
  it queued arrives exactly once; the doctor's console recovers without a reload.
- A revoked cabin is cut off at once and refused."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hub.store import Database
from hub.store.models import (
    Booking,
    Consultation,
    HygieneEntryRow,
    SessionEventRow,
    WaitingPatientRow,
)
from tests.cabin_toml import base_toml
from tests.checkin_steps import checkin_requests
from tests.e2e.doctor_page import open_console, page_frames_advance, sign_prescription
from tests.e2e.hub_world import HubProcess, wait_until_online
from tests.e2e.world import REFERENT_PIN, Cabin, _hashes, eventually, stop_daemon
from tests.hub.fleet import CALL, cabin_hub_section
from tests.kiosk.process import DaemonProcess

CABIN_EXTRA = """
[printer]
queue = "PDF"

[hygiene.lock]
driver = "simulated"

[[hygiene.steps]]
id = "siege"
label_fr = "Désinfecter le siège"
label_en = "Disinfect the seat"
contact_time_s = 1

[[hygiene.referents]]
id = "marie"
name = "Marie L."
pin_hash = "{referent_hash}"
"""


PARIS = ZoneInfo("Europe/Paris")  # the test sites' zone (tests/hub/fleet.py)


async def start_cabin(hub: HubProcess, root: Path, cabin_id: str, site: str) -> Cabin:
    state = root / cabin_id
    config = root / f"{cabin_id}.toml"
    config.write_text(
        base_toml(state, cabin_id=cabin_id, network="ice_loopback = true")
        + CALL
        + CABIN_EXTRA.format(referent_hash=_hashes()["referent"])
        + cabin_hub_section(hub.url),
        encoding="utf-8",
    )
    await hub.enrol(cabin_id, site, state)
    daemon = await asyncio.to_thread(DaemonProcess, config, state, driven=False)
    cabin = Cabin(daemon)
    await wait_until_online(hub, cabin.url)
    return cabin


async def check_in(cabin: Cabin, code: str, family: str, given: str, birth: str) -> None:
    for path, body in checkin_requests(code, family, given, birth):
        status, answer = await cabin.ui(path, body)
        assert status == 200, (path, answer)


async def disinfect(cabin: Cabin) -> None:
    """The referent on the touchscreen's API: PIN, each step after its contact time."""
    status, body = await cabin.ui("/api/hygiene/login", {"pin": REFERENT_PIN})
    assert status == 200, body
    _, checklist = await cabin.request(
        "GET", "/api/hygiene/checklist", headers={"X-Kiosk-UI-Token": cabin.ui_token}
    )
    for step in checklist["steps"]:
        await cabin.ui(f"/api/hygiene/steps/{step['id']}/start")

        async def confirmed(step_id: str = step["id"]) -> bool:
            code, _ = await cabin.ui(f"/api/hygiene/steps/{step_id}/confirm")
            return code == 200

        await eventually(confirmed, f"step {step['id']} confirmed")
    status, body = await cabin.ui("/api/hygiene/finish")
    assert status == 200, body


def cabin_records(state: Path) -> tuple[int, list[str]]:
    """(transitions, hygiene hashes) in the cabin's own database."""
    conn = sqlite3.connect(f"file:{state / 'cabin.sqlite3'}?mode=ro", uri=True)
    try:
        transitions = int(conn.execute("SELECT count(*) FROM transitions").fetchone()[0])
        hashes = [str(r[0]) for r in conn.execute("SELECT hash FROM hygiene_log ORDER BY seq")]
    finally:
        conn.close()
    return transitions, hashes


async def first_outcome(page: Any) -> str:
    """What the page shows after its "Prendre en charge": the consultation or an error."""
    panel = page.locator("#consultation-panel:not([hidden])")
    error = page.locator("#errors:has-text('déjà été pris en charge')")
    await panel.or_(error).wait_for()
    return "consultation" if await panel.count() else "already taken"


async def test_a_fleet_day(tmp_path: Path, browser: Any) -> None:
    hub = HubProcess(tmp_path / "hub")
    await hub.prepare({"dr.martin": ["NAN231", "CHE132"], "dr.bernard": ["NAN231"]})
    hub.start()
    cabins: list[Cabin] = []
    db = Database(hub.settings.database_url)
    try:
        nangis = await start_cabin(hub, tmp_path, "nangis-01", "NAN231")
        cabins.append(nangis)
        chelles = await start_cabin(hub, tmp_path, "chelles-01", "CHE132")
        cabins.append(chelles)
        code_n = await hub.book("NAN231", "Dupont", "Hélène", "1948-03-02", "F")
        code_c = await hub.book("CHE132", "Petit", "Marcel", "1950-01-21", "M")
        await eventually(lambda: pushed(tmp_path / "nangis-01", code_n), "pushed to Nangis")
        await eventually(lambda: pushed(tmp_path / "chelles-01", code_c), "pushed to Chelles")
        await check_in(nangis, code_n, "Dupont", "Hélène", "1948-03-02")
        await check_in(chelles, code_c, "Petit", "Marcel", "1950-01-21")

        martin = await open_console(browser, hub.url, "dr.martin")
        bernard = await open_console(browser, hub.url, "dr.bernard")
        await martin.locator(".queue-entry").nth(1).wait_for()
        await bernard.locator(".queue-entry[data-cabin=nangis-01]").wait_for()
        assert await martin.locator(".queue-entry").count() == 2
        # The booking's time as the site reads it, whatever the doctor's browser's zone.
        async with db.read() as s:
            start = await s.scalar(
                select(Booking.slot_start).where(
                    Booking.code == code_n, Booking.site_code == "NAN231"
                )
            )
        assert start is not None
        local = (start if start.tzinfo else start.replace(tzinfo=UTC)).astimezone(PARIS)
        row_text = await martin.text_content(".queue-entry[data-cabin=nangis-01]") or ""
        assert local.strftime("%H:%M") in row_text, (row_text, local)
        assert await bernard.locator(".queue-entry").count() == 1  # his site only
        row = "Hélène" in (await bernard.text_content("#queue") or "")
        assert row and "Dupont" not in (await bernard.text_content("#queue") or "")

        # The same patient, taken by both at once.
        take = ".queue-entry[data-cabin=nangis-01] button.take"
        await asyncio.gather(martin.click(take), bernard.click(take))
        outcomes = await asyncio.gather(first_outcome(martin), first_outcome(bernard))
        assert sorted(outcomes) == ["already taken", "consultation"], outcomes
        page, other = (martin, bernard) if outcomes[0] == "consultation" else (bernard, martin)
        # Another site's patient, asked by the doctor who does not serve it.
        async with db.read() as s:
            waiting = await s.get(WaitingPatientRow, "chelles-01")
        assert waiting is not None
        take_other = json.dumps(
            {"type": "take", "cabin_id": "chelles-01", "session_id": waiting.session_id}
        )
        await bernard.evaluate("(text) => call.ws.send(text)", take_other)
        await bernard.wait_for_selector(
            "#errors:has-text('pas confié'), #errors:has-text('Terminez')"
        )

        # The call, signaled through the hub.
        await page.click("#join")
        await page_frames_advance(page)
        await nangis.wait_status(
            lambda s: (s["call"].get("received") or {}).get("video_frames", 0) > 10,
            "the cabin receives the doctor's video",
        )
        await page.click("button.measure[data-instrument=tensiometre]")
        await page.wait_for_selector("#measurements tr.measurement")
        status, _ = await nangis.ui("/api/ui/chat", {"text": "Je vous entends bien"})
        assert status == 200
        await page.wait_for_selector("#chat-log .patient:has-text('Je vous entends bien')")
        await sign_prescription(page, "Paracétamol 500 mg comprimé")
        await page.wait_for_selector("#print-jobs li[data-state=completed]", timeout=60_000)

        # The hub dies. The call does not: it is peer to peer.
        hub.kill()
        await nangis.wait_status(lambda s: s["hub"]["state"] != "online", "the link lost")
        await page_frames_advance(page)
        await page.click("#end")  # over the data channel
        await nangis.wait_status(lambda s: s["state"] == "checkout", "checkout without the hub")
        status, _ = await nangis.ui("/api/ui/leave")
        assert status == 200
        await disinfect(nangis)
        await nangis.wait_status(lambda s: s["state"] == "idle", "idle again")
        queued = (await nangis.status())["hub"]["outbox_pending"]
        assert queued > 0, "nothing queued while the hub was away"

        # The hub comes back on its database: everything arrives, once.
        hub.start()
        await wait_until_online(hub, nangis.url)
        await nangis.wait_status(lambda s: s["hub"]["outbox_pending"] == 0, "the outbox empty")
        transitions, hashes = cabin_records(tmp_path / "nangis-01")
        async with db.read() as s:
            events = await s.scalar(
                select(func.count()).where(SessionEventRow.cabin_id == "nangis-01")
            )
            keys = await s.scalar(
                select(func.count(func.distinct(SessionEventRow.key))).where(
                    SessionEventRow.cabin_id == "nangis-01"
                )
            )
            received = list(
                await s.scalars(
                    select(HygieneEntryRow.hash)
                    .where(HygieneEntryRow.cabin_id == "nangis-01")
                    .order_by(HygieneEntryRow.seq)
                )
            )
            ended = (await s.scalars(select(Consultation.ended_at))).all()
        assert events == keys == transitions, (events, keys, transitions)
        assert received == hashes and len(hashes) == 1
        assert all(e is not None for e in ended)
        # The console came back by itself, the consultation closed, Marcel still waits.
        await page.wait_for_selector("#link-state.ok")
        await page.wait_for_selector("#queue-panel:not([hidden])")
        assert "Hélène" not in (await page.text_content("body") or "")
        await martin.locator(".queue-entry[data-cabin=chelles-01]").wait_for()
        assert await other.locator("#link-state.ok").count() == 1

        # A revoked cabin is cut off at once, and refused when it dials again.
        revoked = hub.cli("cabins", "revoke", "chelles-01")
        assert revoked.returncode == 0, revoked.stderr
        await chelles.wait_status(lambda s: s["hub"]["state"] == "refused", "Chelles cut off")
        # Restarted (it would otherwise try again in minutes), it dials at once: refused.
        print(stop_daemon(chelles.daemon)[-3000:])
        cabins.remove(chelles)
        chelles = Cabin(
            await asyncio.to_thread(
                DaemonProcess, tmp_path / "chelles-01.toml", tmp_path / "chelles-01", driven=False
            )
        )
        cabins.append(chelles)
        await chelles.wait_status(lambda s: s["hub"]["state"] == "refused", "Chelles refused")

        def audit_lines() -> list[str]:
            return hub.cli("audit", "--limit", "200").stdout.splitlines()

        def connect_refused() -> bool:
            return any("cabin_connect" in ln and ln.endswith("refused") for ln in audit_lines())

        await eventually(connect_refused, "the refused connection in the audit")
        lines = audit_lines()
        audit = "\n".join(lines)
        assert any("\tclaim\t" in line and line.endswith("refused") for line in lines), audit
        assert any("cabin_revoke" in line for line in lines), audit
        # The prescription, from the cabin's record across the hub's crash: once, the doctor's.
        signed = [line.split("\t") for line in lines if "\tprescription\t" in line]
        assert len(signed) == 1 and signed[0][1] in ("dr.martin", "dr.bernard"), audit
        for private in ("Dupont", "Hélène", "Petit", "Marcel"):
            assert private not in hub.output(), f"{private} in the hub's log"
    finally:
        await db.close()
        for cabin in cabins:
            print(stop_daemon(cabin.daemon)[-3000:])
        hub.stop()
        print(hub.output()[-3000:])


def pushed(state: Path, code: str) -> bool:
    """The hub's booking is in the cabin's own store (its code checks in offline)."""
    conn = sqlite3.connect(f"file:{state / 'cabin.sqlite3'}?mode=ro", uri=True)
    try:
        return (
            conn.execute("SELECT 1 FROM appointments WHERE code = ?", (code,)).fetchone()
            is not None
        )
    finally:
        conn.close()
