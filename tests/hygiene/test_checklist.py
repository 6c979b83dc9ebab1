"""A session's checklist is derived from the instruments it used."""

from __future__ import annotations

from pathlib import Path

from hygiene.checklist import checklist_for, session_checklist, used_kinds

from .conftest import Cabin, MakeCabin, make_settings


def ids(steps: list) -> list[str]:  # type: ignore[type-arg]
    return [s.id for s in steps]


def test_always_steps_and_instrument_steps(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert ids(session_checklist(settings, [])) == ["siege", "ecran"]
    assert ids(session_checklist(settings, ["tensiometre"])) == ["siege", "ecran", "brassard"]
    assert ids(session_checklist(settings, ["thermometre", "tensiometre"])) == [
        "siege",
        "ecran",
        "brassard",
        "thermometre",
    ]
    # An oximeter has no step of its own in this protocol: only the always-steps.
    assert ids(session_checklist(settings, ["oxymetre"])) == ["siege", "ecran"]


def test_an_unknown_instrument_applies_every_step(tmp_path: Path) -> None:
    """A session that used an instrument since removed from the config: its kind is unknown,
    so nothing may be skipped."""
    settings = make_settings(tmp_path)
    assert used_kinds(settings, ["ancien-otoscope"]) is None
    assert ids(session_checklist(settings, ["ancien-otoscope"])) == [
        "siege",
        "ecran",
        "brassard",
        "thermometre",
        "otoscope",
    ]
    assert checklist_for(settings.hygiene.steps, set()) == settings.hygiene.steps[:2]


async def test_the_api_checklist_follows_the_session(make_cabin: MakeCabin) -> None:
    cabin: Cabin = await make_cabin()
    cabin.patient_session("thermometre")
    _, doc = await cabin.call("GET", "/api/hygiene/checklist")
    assert [s["id"] for s in doc["steps"]] == ["siege", "ecran", "thermometre"]
    thermo = doc["steps"][2]
    assert thermo["label_fr"].startswith("Désinfecter le thermomètre")
    assert thermo["label_en"].startswith("Disinfect the thermometer")
    assert thermo["consumables"] == ["protège-sonde"]
    assert thermo["status"] == "pending" and thermo["remaining_s"] == 0
    assert doc["steps"][0]["contact_time_s"] == 60 and doc["steps"][0]["ready_at"] is None
    # Instruments used after the session ended do not count (the next patient's).
    cabin.lifecycle.record_instrument_used("tensiometre")
    _, again = await cabin.call("GET", "/api/hygiene/checklist")
    assert again["steps"] == doc["steps"]


def test_public_dump_hides_every_pin_hash(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    dump = settings.public_dump()
    assert dump["hygiene"]["referents"][0]["pin_hash"] == "***"
    assert dump["hygiene"]["technicians"][0]["pin_hash"] == "***"
    assert dump["hygiene"]["referents"][0]["badge_uid"] == "***"
    assert "$argon2" not in str(dump) and "04A1B2C3D4" not in str(dump)


def test_a_cabin_without_a_protocol_gets_the_default_one() -> None:
    import pytest
    from pydantic import ValidationError

    from hygiene.config import HygieneSettings

    default = HygieneSettings()
    ids_ = [s.id for s in default.steps]
    assert {"siege", "ecran", "poignees", "bureau"} <= set(ids_)
    thermo = next(s for s in default.steps if s.id == "thermometre")
    assert thermo.when_used == ["thermometer"] and thermo.consumables == ["protège-sonde"]
    assert all(s.label_fr and s.label_en for s in default.steps)
    with pytest.raises(ValidationError, match="at least 1"):
        HygieneSettings(steps=[])
    with pytest.raises(ValidationError, match="unique"):
        HygieneSettings(steps=[default.steps[0], default.steps[0]])
