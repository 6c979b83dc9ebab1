"""The alert rules as pure functions: each rule's threshold (at, under, over), its key,
its words, and that a cabin without problems raises nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub.fleet import rules, words
from hub.settings import AlertSettings
from hub.shared import wire

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
RULES = AlertSettings(
    offline_after_minutes=10, awaiting_disinfection_after_minutes=45, battery_low_percent=20
)


def facts(
    *,
    online: bool = True,
    offline_since: datetime | None = None,
    status: wire.CabinStatus | None = None,
    chain_ok: bool = True,
    enrolled: bool = True,
) -> rules.CabinFacts:
    return rules.CabinFacts(
        cabin_id="nangis-01",
        site_code="NAN231",
        site_name="Nangis",
        zone=PARIS,
        enrolled=enrolled,
        online=online,
        offline_since=offline_since,
        status=status,
        hygiene_chain_ok=chain_ok,
        hygiene_chain_problem=None if chain_ok else "entry 3 does not follow entry 2",
    )


def cabin_status(state: str = "idle", **fields: object) -> wire.CabinStatus:
    data: dict[str, object] = {
        "state": state,
        "locked": state != "idle",
        "since": NOW - timedelta(hours=1),
        "session_active": False,
        **fields,
    }
    return wire.CabinStatus.model_validate(data)


def kinds(found: list[rules.Condition]) -> list[str]:
    return sorted(c.kind for c in found)


def test_a_healthy_cabin_raises_nothing() -> None:
    healthy = cabin_status(
        instruments=[
            {
                "name": "tensiometre",
                "kind": "blood_pressure",
                "state": "ready",
                "battery_percent": 87,
            }
        ],
        printer={"state": "idle"},
    )
    assert rules.conditions(facts(status=healthy), RULES, NOW) == []


@pytest.mark.parametrize(("minutes", "raised"), [(9.9, False), (10, True), (240, True)])
def test_offline_after_n_minutes(minutes: float, raised: bool) -> None:
    since = NOW - timedelta(minutes=minutes)
    found = rules.conditions(facts(online=False, offline_since=since), RULES, NOW)
    assert kinds(found) == (["offline"] if raised else [])
    if raised:
        (offline,) = found
        assert offline.key(NOW) == f"offline:nangis-01@{since.isoformat()}"
        assert offline.message.startswith("Nangis — cabine nangis-01 : hors ligne depuis")


def test_offline_words() -> None:
    since = datetime(2026, 3, 2, 9, 2, tzinfo=UTC)  # 10:02 in Paris
    (offline,) = rules.conditions(facts(online=False, offline_since=since), RULES, NOW)
    assert offline.message == (
        "Nangis — cabine nangis-01 : hors ligne depuis 28 min (le 02/03 à 10:02)."
    )


def test_a_cabin_never_enrolled_is_not_offline() -> None:
    since = NOW - timedelta(hours=5)
    assert (
        rules.conditions(facts(online=False, offline_since=since, enrolled=False), RULES, NOW) == []
    )


def test_out_of_service_at_once_keyed_by_its_start() -> None:
    since = NOW - timedelta(seconds=5)
    (found,) = rules.conditions(
        facts(status=cabin_status("out_of_service", since=since)), RULES, NOW
    )
    assert found.kind == "out_of_service"
    assert found.key(NOW) == f"out_of_service:nangis-01@{since.isoformat()}"
    assert "hors service" in found.message


@pytest.mark.parametrize(("minutes", "raised"), [(44, False), (45, True), (90, True)])
def test_awaiting_disinfection_over_n_minutes(minutes: int, raised: bool) -> None:
    since = NOW - timedelta(minutes=minutes)
    status = cabin_status("awaiting_disinfection", since=since, awaiting_disinfection_since=since)
    found = rules.conditions(facts(status=status), RULES, NOW)
    assert kinds(found) == (["awaiting_disinfection"] if raised else [])
    if raised:
        assert found[0].key(NOW) == f"awaiting_disinfection:nangis-01@{since.isoformat()}"
        assert "fermée aux patients" in found[0].message


def test_awaiting_disinfection_from_the_state_when_the_cabin_gave_no_time() -> None:
    status = cabin_status("awaiting_disinfection", since=NOW - timedelta(minutes=50))
    assert kinds(rules.conditions(facts(status=status), RULES, NOW)) == ["awaiting_disinfection"]


@pytest.mark.parametrize(("battery", "raised"), [(21, False), (20, True), (3, True), (None, False)])
def test_battery_at_or_below_the_threshold(battery: int | None, raised: bool) -> None:
    status = cabin_status(
        instruments=[
            {
                "name": "tensiometre",
                "kind": "blood_pressure",
                "state": "ready",
                "battery_percent": battery,
            },
            {"name": "oxymetre", "kind": "pulse_oximeter", "state": "ready", "battery_percent": 90},
        ]
    )
    found = rules.conditions(facts(status=status), RULES, NOW)
    assert kinds(found) == (["battery_low"] if raised else [])
    if raised:
        assert found[0].base == "battery_low:nangis-01:tensiometre"
        assert found[0].since is None  # the hub's first sight of it makes the key
        assert found[0].key(NOW) == f"battery_low:nangis-01:tensiometre@{NOW.isoformat()}"
        assert f"tensiometre (tensiomètre) à {battery} % (seuil 20 %)" in found[0].message


@pytest.mark.parametrize(
    ("printer", "expected"),
    [
        ({"state": "idle"}, []),
        ({"state": "printing"}, []),
        ({"state": "stopped", "message": "Filter failed"}, ["printer_error"]),
        ({"state": "unreachable"}, ["printer_error"]),
        ({"state": "error", "message": "Bourrage papier"}, ["printer_error"]),
        ({"state": "idle", "paper_low": True}, ["paper_low"]),
        ({"state": "stopped", "paper_low": True}, ["paper_low", "printer_error"]),
    ],
)
def test_printer(printer: dict[str, object], expected: list[str]) -> None:
    found = rules.conditions(facts(status=cabin_status(printer=printer)), RULES, NOW)
    assert kinds(found) == expected
    for condition in found:
        assert condition.base == f"{condition.kind}:nangis-01"
        assert rules.SEVERITY[condition.kind] == (
            "warning" if condition.kind == "paper_low" else "critical"
        )
    if printer.get("message"):
        assert str(printer["message"]) in found[0].message


def test_a_broken_hygiene_chain() -> None:
    (found,) = rules.conditions(facts(chain_ok=False), RULES, NOW)
    assert found.kind == "hygiene_chain"
    assert "entry 3 does not follow entry 2" in found.message


def test_base_of_a_key_even_when_an_instrument_name_holds_the_separator() -> None:
    condition = rules.Condition("battery_low", "nangis-01", "…", subject="a@b")
    assert rules.base_of(condition.key(NOW)) == "battery_low:nangis-01:a@b"


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=30), "moins d'une minute"),
        (timedelta(minutes=12, seconds=59), "12 min"),
        (timedelta(hours=2, minutes=5), "2 h 05"),
        (timedelta(days=3, hours=4), "3 j 4 h"),
        (timedelta(days=2), "2 j"),
        (timedelta(seconds=-5), "moins d'une minute"),
    ],
)
def test_durations_in_french(delta: timedelta, text: str) -> None:
    assert words.duration(delta) == text
