"""Catalogues complete, French by default; spoken guidance never blocks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from kiosk.ui import i18n
from kiosk.ui.speech import Speaker

UI = Path(i18n.__file__).parent


def _used_messages() -> set[str]:
    found = extract_from_dir(
        str(UI), method_map=[("**.py", "python")], keywords={"_": None, "N_": None}
    )
    return {str(message) for _file, _line, message, _comments, _ctx in found}


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_message_is_in_the_catalogue(language: str) -> None:
    with (UI / "locale" / language / "LC_MESSAGES" / "kiosk.po").open("rb") as f:
        catalogue = read_po(f)
    ids = {str(m.id) for m in catalogue if m.id}
    used = _used_messages()
    assert len(used) > 100
    assert used - ids == set(), "run: python -m kiosk.ui.catalogues, then translate"
    if language == "fr":
        untranslated = [m.id for m in catalogue if m.id and not m.string]
        assert untranslated == []


def test_french_by_default_and_switchable() -> None:
    i18n.set_language(i18n.DEFAULT_LANGUAGE)
    assert i18n._("Start") == "Commencer"
    i18n.set_language("en")
    assert i18n._("Start") == "Start"
    i18n.set_language("fr")
    with pytest.raises(ValueError, match="unsupported"):
        i18n.set_language("de")
    assert i18n.language() == "fr"


async def test_speech_is_off_by_default_and_never_blocks() -> None:
    quiet = Speaker()
    await quiet.say("Bonjour", "fr")
    assert quiet._process is None
    speaker = Speaker(enabled=True)
    if not speaker.available:
        pytest.skip("espeak-ng not installed")
    started = time.monotonic()
    await speaker.say("Bienvenue dans la cabine de téléconsultation. " * 20, "fr")
    assert time.monotonic() - started < 1.0  # returns while still speaking
    first = speaker._process
    assert first is not None and first.returncode is None
    await speaker.say("Touchez le bouton vert.", "fr")  # replaces the sentence
    assert first.returncode is not None
    await speaker.stop()
    assert speaker._process is None
