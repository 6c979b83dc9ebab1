"""Message catalogues. The .po files under locale/ are the source; they are compiled
in memory (Babel) when the UI starts, so no build step can leave a stale .mo behind.

Message ids are English; French is the patient's default language."""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "kiosk"
LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

_current = DEFAULT_LANGUAGE


@cache
def catalogue(language: str) -> gettext.NullTranslations:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as f:
        po = read_po(f, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, po)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def set_language(language: str) -> None:
    global _current  # noqa: PLW0603 - one screen, one language at a time
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    _current = language


def language() -> str:
    return _current


def _(message: str) -> str:
    """The message in the screen's current language."""
    return catalogue(_current).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalogue(_current).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a message for extraction; translated later, where it is shown."""
    return message
