"""Keeps the message catalogues in step with the code (for maintainers):

    .venv/bin/python -m kiosk.ui.catalogues

extracts every `_("...")` and `N_("...")` message of kiosk/ui, adds the new ones to each
locale/<lang>/LC_MESSAGES/kiosk.po with an empty translation, keeps existing
translations and drops messages the code no longer uses. Then translate the empty
French entries (a test fails until you do)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from kiosk.ui.i18n import DOMAIN, LANGUAGES, LOCALE_DIR

UI_DIR = Path(__file__).resolve().parent


def used_messages() -> list[str]:
    found = extract_from_dir(
        str(UI_DIR), method_map=[("**.py", "python")], keywords={"_": None, "N_": None}
    )
    ordered: dict[str, None] = {}
    for _file, _line, message, _comments, _context in found:
        ordered[str(message)] = None
    return list(ordered)


def update(language: str, messages: list[str]) -> int:
    """Rewrites one catalogue; returns how many messages still need a translation."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    known: dict[str, str] = {}
    if path.exists():
        with path.open("rb") as f:
            for entry in read_po(f):
                if entry.id:
                    known[str(entry.id)] = str(entry.string or "")
    catalogue = Catalog(locale=language, domain=DOMAIN, project="cabin-kiosk", version="0.1")
    for message in messages:
        catalogue.add(message, known.get(message, ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalogue, width=100, sort_output=False)
    return sum(1 for m in messages if not known.get(m))


def main() -> None:
    messages = used_messages()
    for language in LANGUAGES:
        missing = update(language, messages)
        note = " (message ids are English: none needed)" if language == "en" else ""
        print(f"{language}: {len(messages)} messages, {missing} without a translation{note}")


if __name__ == "__main__":
    main()
