"""Numbers and dates as a reader of the language writes them, through Babel: the one
place where the printed documents and the touchscreen turn a figure or a date into text.

French (the default): decimal comma, ``21,4 kg``, ``37,8``; dates ``02/03/1948``,
``23 novembre 2026``, ``1er mars 2026``. English: decimal point, ``21.4``; dates
``02/03/1948``, ``23 November 2026`` (the cabin is in France: day first, as the identity
screen asks).

A value is written exactly as given, never rounded (trailing zeros aside: ``6.10`` is
``6,1``): a ``Decimal`` keeps its digits, and a float (what JSON brings) is read back
through its shortest repr, the decimal text it came from, so 21.4 is written ``21,4`` and
never ``21,399999``."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Final

from babel.dates import format_date
from babel.numbers import format_decimal

DEFAULT_LANGUAGE: Final = "fr"
# Babel locales by UI language; fr_FR and en_GB both write dates day first.
LOCALES: Final = {"fr": "fr_FR", "en": "en_GB"}

Number = Decimal | int | float


def _locale(language: str) -> str:
    try:
        return LOCALES[language]
    except KeyError:
        raise ValueError(f"unsupported language {language!r}") from None


def exact(value: object) -> Decimal:
    """The decimal value of ``value``, without binary float digits. TypeError for what is
    not a number (a bool included), ValueError for NaN or an infinity: neither is a
    figure anyone can be shown."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise TypeError(f"not a number: {type(value).__name__}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not a finite number")
        return Decimal(repr(value))
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError("not a finite number")
    return result


def number(value: Number, language: str = DEFAULT_LANGUAGE) -> str:
    """``21,4`` in French, ``21.4`` in English: every significant digit, none added."""
    return format_decimal(exact(value), locale=_locale(language), decimal_quantization=False)


def quantity(value: Number, unit: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A value with its unit: ``21,4 kg``."""
    return f"{number(value, language)} {unit}"


def numeric_date(day: date, language: str = DEFAULT_LANGUAGE) -> str:
    """``02/03/1948``: the form of a birth date."""
    return format_date(day, format="dd/MM/yyyy", locale=_locale(language))


def long_date(day: date, language: str = DEFAULT_LANGUAGE) -> str:
    """``23 novembre 2026``, ``1er mars 2026``: the form of the date a document is issued."""
    return _day(day, "d MMMM y", language)


def weekday_date(day: date, language: str = DEFAULT_LANGUAGE) -> str:
    """``lundi 23 novembre``, ``dimanche 1er mars``: a day of the coming week."""
    return _day(day, "EEEE d MMMM", language)


def _day(day: date, pattern: str, language: str) -> str:
    # CLDR writes "1 mars"; French writes the first of the month "1er mars".
    if language == "fr" and day.day == 1:
        pattern = pattern.replace("d ", "d'er' ", 1)
    return format_date(day, pattern, locale=_locale(language))
