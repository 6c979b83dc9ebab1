"""Figures and dates on the touchscreen: a decimal comma in French, a point in English,
dates in French form; the screen follows a language switch."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from textual.widgets import Digits

from devices.measurement import Measurement, Observation
from kiosk.events import MeasurementTaken
from kiosk.lifecycle import State
from kiosk.ui import i18n
from kiosk.ui.app import KioskApp
from kiosk.ui.screens.consultation import ConsultationScreen, measurement_lines
from kiosk.ui.screens.welcome import hours_lines, next_opening
from tests.ui.conftest import StartCabin
from tests.ui.pilot_helpers import on_screen, text_of, touch, touchscreen, until


@pytest.fixture(autouse=True)
def french_again() -> Iterator[None]:
    """The language is the UI's one global: each test starts and ends in French."""
    i18n.set_language(i18n.DEFAULT_LANGUAGE)
    yield
    i18n.set_language(i18n.DEFAULT_LANGUAGE)


def reading(kind: str, value: Any, unit: str) -> dict[str, Any]:
    """A measurement as the event stream brings it (JSON: the value is a float)."""
    return {
        "kind": kind,
        "observations": [{"code": "x", "display": kind, "value": value, "unit": unit}],
    }


@pytest.mark.parametrize(
    ("kind", "value", "unit", "french", "english"),
    [
        ("temperature", 37.8, "Cel", ("37,8", "Température (°C)"), ("37.8", "Temperature (°C)")),
        ("glucose", 6.1, "mmol/L", ("6,1", "Sucre dans le sang (mmol/L)"), ("6.1", None)),
        ("weight", 21.4, "kg", ("21,4", "Poids (kg)"), ("21.4", "Weight (kg)")),
        ("weight", 72.35, "kg", ("72,35", "Poids (kg)"), ("72.35", "Weight (kg)")),
        ("spo2", 97, "%", ("97", None), ("97", None)),
    ],
)
def test_measurement_in_each_language(
    kind: str,
    value: float,
    unit: str,
    french: tuple[str, str | None],
    english: tuple[str, str | None],
) -> None:
    for language, (big, caption) in (("fr", french), ("en", english)):
        i18n.set_language(language)
        shown = measurement_lines(reading(kind, value, unit))
        assert shown[0] == big, language
        if caption is not None:
            assert shown[1] == caption, language


def test_blood_pressure_and_what_is_not_a_number() -> None:
    bp = {
        "kind": "blood_pressure",
        "observations": [
            {"value": 128, "unit": "mm[Hg]"},
            {"value": 82, "unit": "mm[Hg]"},
        ],
    }
    assert measurement_lines(bp)[0] == "128/82"
    for bad in (None, "37.8", True, float("nan")):
        big, caption = measurement_lines(reading("temperature", bad, "Cel"))
        assert big == "--", bad
        assert caption.startswith("Mesure indisponible")


def test_opening_days_in_french_form() -> None:
    hours = {"2026-03-01": [], "2026-03-02": ["09:00-12:00"]}
    assert hours_lines(hours) == ["dimanche 1er mars : fermé", "lundi 2 mars : 09:00 – 12:00"]
    assert next_opening("2026-03-02T09:00:00+01:00") == "Prochaine ouverture : lundi 2 mars à 09:00"
    i18n.set_language("en")
    assert hours_lines(hours) == ["Sunday 1 March: closed", "Monday 2 March: 09:00 – 12:00"]
    assert next_opening("2026-03-02T09:00:00+01:00") == "Next opening: Monday 2 March at 09:00"


def big_value(app: KioskApp) -> str:
    return str(app.screen.query_one("#measure-value", Digits).value)


async def test_measurements_from_the_instruments_follow_the_language(
    start_cabin: StartCabin,
) -> None:
    """Decimal from the instrument, float on the wire, the same digits on the screen."""
    cabin = await start_cabin()
    await cabin.checked_in()
    cabin.ctx.lifecycle.transition(State.IN_CONSULTATION, "doctor joined")

    def taken(kind: str, code: str, value: str, unit: str) -> MeasurementTaken:
        obs = Observation(code, kind, Decimal(value), unit)
        return MeasurementTaken(instrument=kind, measurement=Measurement(kind, (obs,)))

    async with touchscreen(cabin) as (app, pilot):
        await on_screen(pilot, ConsultationScreen)
        cabin.ctx.bus.publish(taken("temperature", "8310-5", "37.8", "Cel"))
        await until(pilot, lambda: big_value(app) == "37,8", what="37,8 shown")
        assert text_of(app, "#measure-caption") == "Température (°C)"

        await touch(pilot, "#toggle-language")
        await until(pilot, lambda: big_value(app) == "37.8", what="37.8 in English")
        assert text_of(app, "#measure-caption") == "Temperature (°C)"

        cabin.ctx.bus.publish(taken("glucose", "15074-8", "6.1", "mmol/L"))
        await until(pilot, lambda: big_value(app) == "6.1", what="6.1 in English")
        cabin.ctx.bus.publish(taken("weight", "29463-7", "21.4", "kg"))
        await until(pilot, lambda: big_value(app) == "21.4", what="21.4 in English")

        await touch(pilot, "#toggle-language")
        await until(pilot, lambda: big_value(app) == "21,4", what="21,4 back in French")
        assert text_of(app, "#measure-caption") == "Poids (kg)"
