"""The booking API (/api/v1/) on the three real sites, the hub's clock set to a Monday:
a platform with its token books, lists and cancels; bad fields are refused one by one
in French and nothing changes; slots outside the hours, past, full or too far are
refused; two bookings for a slot's last place at once: one wins; codes differ where
arrival windows overlap; no token, a wrong or revoked one: 401; a doctor or technician:
403, audited; a coordinator's session books its own sites, from the hub's page only."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from hub import cli
from hub.booking import bookings, tokens
from hub.cabins.enrolment import add_cabin, revoke
from hub.service import Hub
from hub.store.models import AuditEntry, Booking, BookingChange
from tests.hub.fleet import Console, add_person, write_hub_config
from tests.hub.test_booking_world import (
    MONDAY,
    Api,
    Clock,
    enrolled_cabin,
    new_token,
    paris,
    patient,
    start_real_hours_hub,
)

PATIENT_DATA = ("Dupont", "Hélène", "1948", "612345678", "toux")


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
async def booking_hub(tmp_path: Path, clock: Clock) -> AsyncIterator[Hub]:
    hub = await start_real_hours_hub(tmp_path / "hub", clock)
    try:
        yield hub
    finally:
        await hub.stop()


@pytest.fixture
async def platform(booking_hub: Hub) -> AsyncIterator[Api]:
    api = Api(str(booking_hub.url), await new_token(booking_hub))
    try:
        yield api
    finally:
        await api.close()


async def rows(hub: Hub) -> tuple[int, int]:
    """Bookings and feed rows."""
    async with hub.db.read() as s:
        booked = await s.scalar(select(func.count()).select_from(Booking))
        changes = await s.scalar(select(func.count()).select_from(BookingChange))
    return int(booked or 0), int(changes or 0)


async def audit_of(hub: Hub, action: str) -> list[AuditEntry]:
    async with hub.db.read() as s:
        found = await s.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return list(found.all())


async def slot_at(api: Api, site: str, day: str, hhmm: str) -> dict[str, Any]:
    status, body = await api.get(f"/api/v1/sites/{site}/slots?date={day}")
    assert status == 200, body
    return next(s for s in body["slots"] if s["start"][11:16] == hhmm)


async def test_a_platform_books_lists_and_cancels(booking_hub: Hub, platform: Api) -> None:
    status, body = await platform.get("/api/v1/sites")
    assert status == 200
    assert [s["code"] for s in body["sites"]] == ["NAN231", "CHE132", "MSL123"]
    nangis = body["sites"][0]
    assert nangis["capacity"] == 1 and nangis["timezone"] == "Europe/Paris"
    assert nangis["weekly"]["monday"] == ["09:00-12:00", "13:30-17:00"]

    status, day = await platform.get("/api/v1/sites/NAN231/slots?date=2026-03-02")
    assert status == 200 and day["notice"] is None and len(day["slots"]) == 13
    assert day["slots"][0] == {
        "start": "2026-03-02T09:00:00+01:00",
        "end": "2026-03-02T09:30:00+01:00",
        "capacity": 1,
        "booked": 0,
        "free": 1,
        "full": False,
    }
    # Without a date: the site's today (the hub's clock says Monday 2 March).
    assert (await platform.get("/api/v1/sites/NAN231/slots"))[1]["date"] == "2026-03-02"

    status, booking = await platform.post("/api/v1/bookings", patient(paris(MONDAY, 9, 30)))
    assert status == 201, booking
    assert re.fullmatch(r"\d{6}", booking["code"])
    assert booking["start"] == "2026-03-02T09:30:00+01:00"
    assert booking["end"] == "2026-03-02T10:00:00+01:00"
    assert booking["status"] == "booked" and booking["created_by"] == "plateforme-rdv"
    assert booking["phone"] == "+33612345678"  # normalised
    assert (booking["family_name"], booking["birth_date"], booking["sex"]) == (
        "Dupont",
        "1948-03-02",
        "F",
    )
    assert (await slot_at(platform, "NAN231", "2026-03-02", "09:30"))["full"] is True

    status, listed = await platform.get("/api/v1/sites/NAN231/bookings?date=2026-03-02")
    assert status == 200 and [b["id"] for b in listed["bookings"]] == [booking["id"]]
    assert (await platform.get(f"/api/v1/bookings/{booking['id']}"))[1] == booking

    # The slot's only place is taken: refused, with the slot named.
    status, refused = await platform.post(
        "/api/v1/bookings", patient(paris(MONDAY, 9, 30), family_name="Martin")
    )
    assert status == 409 and refused["code"] == "full"
    assert (
        refused["error"] == "Le créneau le 02/03/2026 à 09:30 est complet : choisissez-en un autre."
    )
    assert refused["problems"] == [{"field": "start", "message": refused["error"]}]

    status, cancelled = await platform.post(f"/api/v1/bookings/{booking['id']}/cancel")
    assert status == 200, cancelled
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_by"] == "plateforme-rdv"
    assert (await slot_at(platform, "NAN231", "2026-03-02", "09:30"))["free"] == 1
    status, again = await platform.post(f"/api/v1/bookings/{booking['id']}/cancel")
    assert status == 409 and again == {
        "error": "Ce rendez-vous est déjà annulé.",
        "code": "already_cancelled",
    }
    # The day's list keeps the cancelled booking, marked.
    listed = (await platform.get("/api/v1/sites/NAN231/bookings?date=2026-03-02"))[1]
    assert [b["status"] for b in listed["bookings"]] == ["cancelled"]

    # Each change has its feed row; each is audited, by booking id, without the patient.
    async with booking_hub.db.read() as s:
        changes = (
            await s.scalars(
                select(BookingChange.booking_id).where(BookingChange.site_code == "NAN231")
            )
        ).all()
    assert list(changes) == [booking["id"], booking["id"]]
    for action in ("booking_create", "booking_cancel"):
        (entry,) = await audit_of(booking_hub, action)
        assert (entry.actor, entry.actor_role, entry.target, entry.outcome) == (
            "plateforme-rdv",
            "api",
            booking["id"],
            "ok",
        )
        assert entry.detail == {"site": "NAN231", "via": "token"}
    async with booking_hub.db.read() as s:
        trail = json.dumps([e.detail for e in (await s.scalars(select(AuditEntry))).all()])
        trail += " ".join(e.target for e in (await s.scalars(select(AuditEntry))).all())
    assert not any(data in trail for data in PATIENT_DATA)


async def test_bad_fields_are_each_refused_in_french_and_nothing_changes(
    booking_hub: Hub, platform: Api
) -> None:
    bad = patient(
        paris(MONDAY, 10),
        family_name="  ",
        given_name="J3an",
        birth_date="2030-01-01",
        phone="12345",
        sex="X",
        colour="bleu",
    )
    del bad["reason"]
    status, body = await platform.post("/api/v1/bookings", bad)
    assert status == 422 and body["code"] == "invalid"
    assert body["error"] == "Le rendez-vous n'est pas pris : corrigez les champs signalés."
    assert {p["field"]: p["message"] for p in body["problems"]} == {
        "family_name": "Le nom ne peut pas être vide",
        "given_name": "Lettres, espaces, traits d'union et apostrophes seulement",
        "birth_date": "La date de naissance ne peut pas être dans le futur",
        "phone": "Numéro de téléphone français attendu (0X XX XX XX XX ou +33 X ...)",
        "reason": "Le motif est obligatoire",
        "sex": "F, M ou rien",
        "colour": "Champ inconnu",
    }
    assert await rows(booking_hub) == (0, 0)
    assert await audit_of(booking_hub, "booking_create") == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"start": "2026-03-02T10:00:00"}, "start", "Le début du créneau doit indiquer son fuseau"),
        ({"start": "lundi 10h"}, "start", "Début du créneau attendu, avec son fuseau"),
        ({"start": 1772442000}, "start", "Début du créneau attendu"),
        ({"birth_date": "02/03/1948"}, "birth_date", "Date de naissance invalide : AAAA-MM-JJ"),
        ({"birth_date": "1948-02-30"}, "birth_date", "Date de naissance invalide : AAAA-MM-JJ"),
        ({"birth_date": -684000000}, "birth_date", "Date de naissance invalide"),
        ({"birth_date": "1890-05-01"}, "birth_date", "Date de naissance invalide (plus de 120"),
        ({"phone": "+44 20 7946 0958"}, "phone", "Numéro de téléphone français attendu"),
        ({"phone": "06 12 34 56"}, "phone", "Numéro de téléphone français attendu : 10"),
        ({"reason": "x" * 501}, "reason", "Trop long (500 caractères au plus)"),
        ({"family_name": "Dupont<script>"}, "family_name", "Lettres, espaces"),
        ({"site": "PAR001"}, "site", "Site inconnu : choisissez parmi NAN231, CHE132, MSL123"),
        ({"site": None}, "site", "Code de site attendu"),
    ],
)
async def test_each_bad_field_gets_its_own_message(
    booking_hub: Hub, platform: Api, fields: dict[str, Any], field: str, message: str
) -> None:
    status, body = await platform.post("/api/v1/bookings", {**patient(paris(MONDAY, 10)), **fields})
    assert status == 422, body
    problems = {p["field"]: p["message"] for p in body["problems"]}
    assert list(problems) == [field] and problems[field].startswith(message), problems
    assert await rows(booking_hub) == (0, 0)


async def test_a_body_that_is_not_a_booking_is_refused(booking_hub: Hub, platform: Api) -> None:
    status, body = await platform.post("/api/v1/bookings", ["NAN231"])
    assert (status, body["error"]) == (422, "La demande doit être un objet JSON.")
    async with platform.http.post(
        platform.url + "/api/v1/bookings", data=b"{not json", headers={"Content-Type": "x"}
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] == "Le corps de la requête n'est pas du JSON."
    assert await rows(booking_hub) == (0, 0)


@pytest.mark.parametrize(
    "case",
    [
        (paris(MONDAY, 12, 30), "outside_hours", "Pas de créneau le 02/03/2026 à 12:30 : le site"),
        (paris(MONDAY, 9, 15), "outside_hours", "Pas de créneau le 02/03/2026 à 09:15"),
        (paris(MONDAY + timedelta(days=1), 10), "outside_hours", "Pas de créneau le 03/03"),
        (paris(datetime(2026, 4, 6), 10), "outside_hours", "Pas de créneau le 06/04/2026"),
        (paris(MONDAY, 9), "past", "Le créneau le 02/03/2026 à 09:00 est passé."),
        (paris(MONDAY + timedelta(days=28 * 7), 10), "too_far", "Ce créneau est trop loin"),
    ],
)
async def test_a_slot_outside_hours_past_or_too_far_is_refused(
    booking_hub: Hub,
    platform: Api,
    clock: Clock,
    case: tuple[datetime, str, str],
) -> None:
    start, code, message = case
    clock.fixed = paris(MONDAY, 9, 10)
    status, body = await platform.post("/api/v1/bookings", patient(start))
    assert status == 409 and body["code"] == code, body
    assert body["error"].startswith(message), body["error"]
    assert await rows(booking_hub) == (0, 0)


async def test_a_slot_takes_as_many_patients_as_the_site_has_cabins(
    booking_hub: Hub, platform: Api
) -> None:
    await enrolled_cabin(booking_hub, "nangis-01", "NAN231")
    await enrolled_cabin(booking_hub, "nangis-02", "NAN231")
    await enrolled_cabin(booking_hub, "nangis-03", "NAN231")
    await enrolled_cabin(booking_hub, "chelles-01", "CHE132")
    async with booking_hub.db.transaction() as s:
        await revoke(s, "nangis-03", datetime.now(UTC))  # out of service: not counted
        await add_cabin(s, "nangis-04", "NAN231", datetime.now(UTC), timedelta(hours=1))
    sites = {s["code"]: s["capacity"] for s in (await platform.get("/api/v1/sites"))[1]["sites"]}
    assert sites == {"NAN231": 2, "CHE132": 1, "MSL123": 1}

    statuses = []
    for name in ("Durand", "Petit", "Moreau"):
        status, _ = await platform.post(
            "/api/v1/bookings", patient(paris(MONDAY, 10), family_name=name)
        )
        statuses.append(status)
    assert statuses == [201, 201, 409]
    slot = await slot_at(platform, "NAN231", "2026-03-02", "10:00")
    assert (slot["capacity"], slot["booked"], slot["free"], slot["full"]) == (2, 2, 0, True)


async def test_two_bookings_for_the_last_place_at_once_one_wins(
    booking_hub: Hub, platform: Api
) -> None:
    starts = [paris(MONDAY, h, m) for h, m in ((9, 30), (10, 0), (14, 0), (16, 30))]
    requests = [
        platform.post("/api/v1/bookings", patient(start, family_name=name))
        for start in starts
        for name in ("Laurent", "Lefebvre")
    ]
    outcomes = await asyncio.gather(*requests)
    for i in range(0, len(outcomes), 2):
        pair = sorted((outcomes[i][0], outcomes[i + 1][0]))
        assert pair == [201, 409], outcomes[i : i + 2]
        loser = outcomes[i] if outcomes[i][0] == 409 else outcomes[i + 1]
        assert loser[1]["code"] == "full"
    async with booking_hub.db.read() as s:
        per_slot = (
            await s.execute(
                select(Booking.slot_start, func.count())
                .where(Booking.cancelled_at.is_(None))
                .group_by(Booking.slot_start)
            )
        ).all()
    assert sorted(count for _, count in per_slot) == [1, 1, 1, 1]
    assert await rows(booking_hub) == (4, 4)
    assert len(await audit_of(booking_hub, "booking_create")) == 4


async def test_codes_differ_where_arrival_windows_overlap(
    booking_hub: Hub, platform: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    draws = iter(["004242", "004242", "000007", "004242", "004242", "000099"])
    monkeypatch.setattr(bookings, "draw_code", lambda: next(draws))

    async def book(hh: int, mm: int) -> str:
        status, body = await platform.post("/api/v1/bookings", patient(paris(MONDAY, hh, mm)))
        assert status == 201, body
        return str(body["code"])

    assert await book(9, 0) == "004242"
    # 09:30: the cabin takes it from 09:00 to 10:30, 09:00's until 10:00: another code.
    assert await book(9, 30) == "000007"
    # 13:30 (13:00 to 14:30) overlaps neither: the same code is fine.
    assert await book(13, 30) == "004242"
    # 10:30's window (10:00 to 11:30) touches 09:00's (until 10:00): another code again.
    assert await book(10, 30) == "000099"


async def test_no_token_a_wrong_or_a_revoked_one_is_refused(
    booking_hub: Hub, platform: Api
) -> None:
    url = str(booking_hub.url)
    nobody, stranger = Api(url), Api(url, "kbk_not-a-token")
    basic = Api(url, Authorization="Basic cGxhdGVmb3JtZTpzZWNyZXQ=")
    try:
        status, body = await nobody.get("/api/v1/sites")
        assert status == 401 and body["error"].startswith("Authentification requise")
        assert (await nobody.post("/api/v1/bookings", patient(paris(MONDAY, 10))))[0] == 401
        for api in (stranger, basic):
            status, body = await api.post("/api/v1/bookings", patient(paris(MONDAY, 10)))
            assert (status, body["error"]) == (401, "Jeton d'accès inconnu ou révoqué.")
        assert (await platform.get("/api/v1/sites"))[0] == 200
        async with booking_hub.db.transaction() as s:
            await tokens.revoke(s, "plateforme-rdv", datetime.now(UTC))
        status, body = await platform.post("/api/v1/bookings", patient(paris(MONDAY, 10)))
        assert status == 401
        assert (await platform.get("/api/v1/sites"))[0] == 401
    finally:
        for api in (nobody, stranger, basic):
            await api.close()
    assert await rows(booking_hub) == (0, 0)
    refused = await audit_of(booking_hub, "api_token")
    assert [(e.actor, e.outcome, e.detail["revoked"]) for e in refused] == [
        ("?", "refused", False),
        ("?", "refused", False),
        ("plateforme-rdv", "refused", True),
        ("plateforme-rdv", "refused", True),
    ]


async def test_a_doctor_or_a_technician_gets_403_audited(booking_hub: Hub, clock: Clock) -> None:
    await add_person(booking_hub.db, "dr.martin", roles=["doctor"], sites=["*"])
    await add_person(booking_hub.db, "tech", roles=["technician"], sites=["*"])
    clock.fixed = None  # the second factor is checked against the real time
    people = [Console(str(booking_hub.url), name) for name in ("dr.martin", "tech")]
    try:
        for person in people:
            await person.login()
        clock.fixed = MONDAY
        for person in people:
            assert (await person.get("/api/v1/sites"))[0] == 403
            status, body = await person.post("/api/v1/bookings", patient(paris(MONDAY, 10)))
            assert status == 403, body
            assert body["error"].startswith("Accès refusé")
            assert (await person.get("/booking"))[0] == 403
    finally:
        for person in people:
            await person.close()
    assert await rows(booking_hub) == (0, 0)
    async with booking_hub.db.read() as s:
        refusals = (
            await s.execute(
                select(AuditEntry.actor, AuditEntry.action, AuditEntry.target).where(
                    AuditEntry.outcome == "refused"
                )
            )
        ).all()
    for who in ("dr.martin", "tech"):
        assert (who, "access:booking", "/api/v1/sites") in refusals
        assert (who, "access:booking", "/api/v1/bookings") in refusals
        assert (who, "access:booking", "/booking") in refusals


async def test_a_coordinator_books_its_own_sites_from_the_hubs_page(
    booking_hub: Hub, platform: Api, clock: Clock
) -> None:
    await add_person(booking_hub.db, "coord.nangis", roles=["coordinator"], sites=["NAN231"])
    clock.fixed = None
    coordinator = Console(str(booking_hub.url), "coord.nangis")
    try:
        await coordinator.login()
        clock.fixed = MONDAY
        status, body = await coordinator.get("/api/v1/sites")
        assert status == 200 and [s["code"] for s in body["sites"]] == ["NAN231"]

        # Another site: refused and audited.
        status, body = await coordinator.get("/api/v1/sites/CHE132/slots?date=2026-03-02")
        assert status == 403 and body["code"] == "other_site"
        status, body = await coordinator.post(
            "/api/v1/bookings", patient(paris(MONDAY, 10), site="CHE132")
        )
        assert (
            status == 403 and body["error"] == "Vous ne gérez pas les rendez-vous du site CHE132."
        )
        status, chelles = await platform.post(
            "/api/v1/bookings", patient(paris(MONDAY, 10), site="CHE132")
        )
        assert status == 201
        assert (await coordinator.post(f"/api/v1/bookings/{chelles['id']}/cancel", {}))[0] == 403
        assert (await coordinator.get(f"/api/v1/bookings/{chelles['id']}"))[0] == 403

        # A write from elsewhere than the hub's page (no Origin, or another one): refused.
        for headers in ({}, {"Origin": "https://evil.example"}):
            async with coordinator.http.post(
                coordinator.url + "/api/v1/bookings",
                json=patient(paris(MONDAY, 10)),
                headers=headers,
            ) as resp:
                assert resp.status == 403
                assert (await resp.json())["error"].startswith("Origine refusée")
        assert await rows(booking_hub) == (1, 1)

        status, booking = await coordinator.post("/api/v1/bookings", patient(paris(MONDAY, 10)))
        assert status == 201 and booking["created_by"] == "coord.nangis"
        status, cancelled = await coordinator.post(f"/api/v1/bookings/{booking['id']}/cancel", {})
        assert status == 200 and cancelled["cancelled_by"] == "coord.nangis"
        async with coordinator.http.get(coordinator.url + "/booking") as resp:
            assert resp.status == 200 and "Rendez-vous des cabines" in await resp.text()
            assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    finally:
        await coordinator.close()
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(f"{booking_hub.url}/booking", allow_redirects=False) as resp,
    ):
        assert (resp.status, resp.headers["Location"]) == (303, "/login")
    created = await audit_of(booking_hub, "booking_create")
    assert [(e.actor, e.actor_role, e.detail["via"]) for e in created] == [
        ("plateforme-rdv", "api", "token"),
        ("coord.nangis", "coordinator", "session"),
    ]
    site_refusals = await audit_of(booking_hub, "booking_site")
    assert {e.detail["site"] for e in site_refusals} == {"CHE132"}
    assert len(site_refusals) == 4


async def test_a_booking_that_has_begun_is_not_cancelled(
    booking_hub: Hub, platform: Api, clock: Clock
) -> None:
    status, booking = await platform.post("/api/v1/bookings", patient(paris(MONDAY, 9)))
    assert status == 201
    clock.fixed = paris(MONDAY, 9, 5)
    status, body = await platform.post(f"/api/v1/bookings/{booking['id']}/cancel")
    assert status == 409 and body["code"] == "over"
    assert await rows(booking_hub) == (1, 1)
    status, body = await platform.post("/api/v1/bookings/0123456789abcdef/cancel")
    assert (status, body["error"]) == (404, "Rendez-vous introuvable.")
    status, body = await platform.get("/api/v1/sites/NAN231/slots?date=2-3-2026")
    assert status == 422 and body["problems"][0]["field"] == "date"
    assert (await platform.get("/api/v1/sites/PAR001/slots"))[0] == 404
    # A public holiday and a day over say why they have no slot.
    status, body = await platform.get("/api/v1/sites/NAN231/slots?date=2026-04-06")
    assert (body["slots"], body["notice"]) == ([], "Fermé ce jour : Lundi de Pâques.")
    body = (await platform.get("/api/v1/sites/NAN231/slots?date=2026-02-23"))[1]
    assert body["notice"] == "Les créneaux de ce jour sont passés."


# -- kiosk hub tokens ------------------------------------------------------------------


@pytest.fixture
def hub_cli(tmp_path: Path) -> Iterator[Any]:
    parser = argparse.ArgumentParser(prog="kiosk")
    cli.register(parser.add_subparsers())
    config = write_hub_config(tmp_path / "cli-hub")

    def run(*argv: str) -> int:
        args = parser.parse_args(["hub", *argv, "--config", str(config)])
        return int(args.handler(args))

    assert run("migrate") == 0
    yield run


def test_tokens_are_shown_once_listed_and_revoked(
    hub_cli: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert hub_cli("tokens", "add", "plateforme-rdv") == 0
    printed = capsys.readouterr().out
    (token,) = re.findall(r"^kbk_[\w-]{43}$", printed, flags=re.MULTILINE)
    assert hub_cli("tokens", "add", "plateforme-rdv") == 1
    assert "already exists" in capsys.readouterr().err
    assert hub_cli("tokens", "add", "pas bon") == 1
    capsys.readouterr()
    assert hub_cli("tokens", "list") == 0
    listed = capsys.readouterr().out
    assert "plateforme-rdv\tcoordinator\t" in listed and listed.rstrip().endswith("active")
    assert token not in listed and tokens.digest(token) not in listed
    assert hub_cli("tokens", "revoke", "plateforme-rdv") == 0
    assert hub_cli("tokens", "revoke", "plateforme-rdv") == 1
    assert hub_cli("tokens", "revoke", "inconnu") == 1
    capsys.readouterr()
    assert hub_cli("tokens", "list") == 0
    assert "\trevoked " in capsys.readouterr().out
