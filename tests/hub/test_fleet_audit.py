"""The administrators' audit page: the trail newest first, filtered by action, outcome,
actor and time, a page at a time; bad filters refused with a French message; who did
what and when, never a patient (a patient checked in and claimed leaves only ids)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from hub.service import Hub
from tests.hub.conftest import MakeCabin
from tests.hub.fleet import Console, add_person, check_in
from tests.hub.test_fleet_support import assert_no_patient


async def trail(admin: Console, **filters: Any) -> dict[str, Any]:
    status, body = await admin.get(f"/api/v1/audit?{urlencode(filters)}")
    assert status == 200, body
    return body


async def logged_in(hub: Hub, username: str) -> Console:
    console = Console(str(hub.url), username)
    await console.login()
    return console


async def test_filters_and_pages(hub: Hub) -> None:
    await add_person(hub.db, "admin", roles=["administrator"], sites=["*"])
    intruder = Console(str(hub.url), "dr.martin", password="not the password")
    status, _ = await intruder.post(
        "/login/password", {"username": "dr.martin", "password": "not the password"}
    )
    assert status == 401
    await intruder.close()
    doctor = await logged_in(hub, "dr.martin")
    await doctor.get("/api/v1/fleet")  # refused and audited
    await doctor.close()
    admin = await logged_in(hub, "admin")
    try:
        everything = await trail(admin)
        entries = everything["entries"]
        assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
        assert {"login", "totp_enrol", "access:fleet"} <= set(everything["actions"])
        assert everything["next_before"] is None
        assert set(entries[0]) == {
            "id",
            "at",
            "actor",
            "actor_role",
            "action",
            "target",
            "outcome",
            "client",
            "detail",
        }
        for entry in entries:
            assert all(isinstance(v, str) for v in entry["detail"].values())
        assert "not the password" not in str(everything)

        wrong = await trail(admin, action="login", outcome="refused")
        assert [(e["actor"], e["detail"].get("reason")) for e in wrong["entries"]] == [
            ("dr.martin", "password")
        ]
        martin = await trail(admin, actor="dr.martin")
        assert {e["actor"] for e in martin["entries"]} == {"dr.martin"}
        assert ("access:fleet", "refused") in {
            (e["action"], e["outcome"]) for e in martin["entries"]
        }

        now = datetime.now(UTC)
        assert (await trail(admin, **{"from": (now + timedelta(minutes=5)).isoformat()}))[
            "entries"
        ] == []
        assert (await trail(admin, to=(now - timedelta(hours=1)).isoformat()))["entries"] == []
        today = await trail(
            admin,
            **{
                "from": (now - timedelta(hours=1)).isoformat(),
                "to": (now + timedelta(minutes=5)).isoformat(),
            },
        )
        assert len(today["entries"]) == len(entries)

        first = await trail(admin, limit=2)
        assert len(first["entries"]) == 2 and first["next_before"] == first["entries"][1]["id"]
        second = await trail(admin, limit=2, before=first["next_before"])
        assert [e["id"] for e in second["entries"]] == [e["id"] for e in entries[2:4]]
    finally:
        await admin.close()


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("outcome=maybe", "outcome"),
        ("from=yesterday", "from"),
        ("from=2026-03-01T00:00:00", "from"),  # no time zone: which midnight?
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("action=DROP%20TABLE", "action"),
        ("colour=blue", "colour"),
        ("before=-3", "before"),
    ],
)
async def test_bad_filters_are_refused(hub: Hub, query: str, fragment: str) -> None:
    await add_person(hub.db, "admin", roles=["administrator"], sites=["*"])
    admin = await logged_in(hub, "admin")
    try:
        status, body = await admin.get(f"/api/v1/audit?{query}")
        assert status == 422
        assert body["error"] == "filtres invalides"
        assert any(fragment in p["field"] for p in body["problems"]), body
    finally:
        await admin.close()


async def test_contradictory_or_repeated_filters(hub: Hub) -> None:
    await add_person(hub.db, "admin", roles=["administrator"], sites=["*"])
    admin = await logged_in(hub, "admin")
    try:
        status, body = await admin.get(
            "/api/v1/audit?"
            + urlencode({"from": "2026-03-02T00:00:00+01:00", "to": "2026-03-01T00:00:00+01:00"})
        )
        assert status == 422 and "« to » doit suivre « from »" in body["error"]
        status, body = await admin.get("/api/v1/audit?actor=a&actor=b")
        assert status == 422 and body["error"] == "filtre donné plusieurs fois : actor"
    finally:
        await admin.close()


async def test_no_patient_in_the_trail(hub: Hub, make_cabin: MakeCabin) -> None:
    await add_person(hub.db, "admin", roles=["administrator"], sites=["*"])
    nangis = await make_cabin("nangis-01", "NAN231")
    await check_in(nangis, "Hélène", "Dupont")
    doctor = await logged_in(hub, "dr.martin")
    admin = await logged_in(hub, "admin")
    try:
        await doctor.connect()
        consultation = await doctor.take_first()
        claims = await trail(admin, action="claim")
        (claim,) = claims["entries"]
        assert claim["actor"] == "dr.martin" and claim["outcome"] == "ok"
        assert claim["detail"] == {"consultation": consultation["id"]}
        assert claim["target"] == f"nangis-01/{consultation['session_id']}"
        assert_no_patient(await trail(admin), "Hélène", "Dupont", "1948")
    finally:
        await doctor.close()
        await admin.close()
