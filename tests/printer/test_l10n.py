"""hub.shared.l10n: figures and dates as a French (or English) reader writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.shared import l10n


@pytest.mark.parametrize(
    ("value", "french", "english"),
    [
        (21.4, "21,4", "21.4"),
        (37.8, "37,8", "37.8"),
        (6.1, "6,1", "6.1"),
        (62, "62", "62"),
        (0.8, "0,8", "0.8"),
        (Decimal("72.35"), "72,35", "72.35"),
        (Decimal("6.10"), "6,1", "6.1"),
        (Decimal("-0.5"), "-0,5", "-0.5"),
        (1234.5, "1\u202f234,5", "1,234.5"),
    ],
)
def test_number_in_each_language(value: l10n.Number, french: str, english: str) -> None:
    assert l10n.number(value) == french
    assert l10n.number(value, "fr") == french
    assert l10n.number(value, "en") == english


def test_nothing_is_rounded() -> None:
    """Babel's own pattern stops at three decimals; a figure is shown whole."""
    assert l10n.number(Decimal("21.3999999")) == "21,3999999"
    assert l10n.number(0.1 + 0.2) == "0,30000000000000004"


@given(st.decimals(min_value=0, max_value=999, places=2, allow_nan=False, allow_infinity=False))
def test_a_float_from_decimal_text_is_written_as_that_text(value: Decimal) -> None:
    """What JSON brings as a float (21.4) comes out as the text it was (21,4)."""
    expected = f"{value.normalize():f}".replace(".", ",")
    assert l10n.number(float(value), "fr") == expected


def test_quantity_puts_the_unit_after_a_space() -> None:
    assert l10n.quantity(21.4, "kg") == "21,4 kg"
    assert l10n.quantity(Decimal("37.8"), "°C") == "37,8 °C"
    assert l10n.quantity(6.1, "mmol/L", "en") == "6.1 mmol/L"


@pytest.mark.parametrize("value", [True, "21.4", None])
def test_what_is_not_a_number_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        l10n.exact(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN"), Decimal("-Inf")])
def test_nan_and_infinity_are_refused(value: l10n.Number) -> None:
    with pytest.raises(ValueError, match="finite"):
        l10n.number(value)


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language"):
        l10n.number(1, "de")


def test_dates() -> None:
    born, issued = date(1948, 3, 2), date(2026, 11, 23)
    assert l10n.numeric_date(born) == "02/03/1948"
    assert l10n.numeric_date(born, "en") == "02/03/1948"
    assert l10n.long_date(issued) == "23 novembre 2026"
    assert l10n.long_date(date(2026, 3, 1)) == "1er mars 2026"
    assert l10n.long_date(issued, "en") == "23 November 2026"
    assert l10n.long_date(date(2026, 3, 1), "en") == "1 March 2026"
    assert l10n.weekday_date(issued) == "lundi 23 novembre"
    assert l10n.weekday_date(date(2026, 3, 1)) == "dimanche 1er mars"
    assert l10n.weekday_date(date(2026, 3, 11)) == "mercredi 11 mars"
    assert l10n.weekday_date(issued, "en") == "Monday 23 November"
