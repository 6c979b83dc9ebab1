"""Touch widgets: big buttons, an on-screen numeric keypad, an AZERTY keyboard with the
French accents, and the bar every screen shows at the top (language, larger text)."""

from __future__ import annotations

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Static

from kiosk.ui.i18n import _, language

BACKSPACE = "\b"
CLEAR = "\x00"


class KeyPressed(Message):
    """A key of an on-screen keypad or keyboard was touched."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key


class KeyButton(Button):
    """A key: every touch counts, even a quick second touch on the same key (a plain
    Button ignores touches during its 0.2 s press animation: "99" would become "9")."""

    async def _on_click(self, event: events.Click) -> None:
        event.stop()
        self.press()


class Keypad(Widget):
    """0-9 with "erase one" and "erase all", in the telephone layout."""

    DEFAULT_CLASSES = "keypad"

    def compose(self) -> ComposeResult:
        with Grid(classes="keypad-grid"):
            for digit in "123456789":
                yield KeyButton(digit, name=digit, id=f"key-{digit}", classes="key")
            yield KeyButton(_("Clear"), name=CLEAR, id="key-clear", classes="key")
            yield KeyButton("0", name="0", id="key-0", classes="key")
            yield KeyButton("⌫", name=BACKSPACE, id="key-back", classes="key")

    @on(Button.Pressed, ".key")
    def _key(self, event: Button.Pressed) -> None:
        self.post_message(KeyPressed(event.button.name or ""))


AZERTY_ROWS = (
    "AZERTYUIOP",
    "QSDFGHJKLM",
    "WXCVBN-'",
    "ÉÈÊËÀÂÇÎÏÔÙÛÜ",
)


class AzertyKeyboard(Widget):
    """Capital letters (as on a French ID card), accents, hyphen, apostrophe, space."""

    DEFAULT_CLASSES = "keyboard"

    def compose(self) -> ComposeResult:
        index = 0
        for row in AZERTY_ROWS:
            with Horizontal(classes="keyboard-row"):
                for char in row:
                    yield KeyButton(char, name=char, id=f"kb-{index}", classes="kbkey")
                    index += 1
        with Horizontal(classes="keyboard-row"):
            yield KeyButton(_("Space"), name=" ", id="kb-space", classes="kbkey wide")
            yield KeyButton("⌫", name=BACKSPACE, id="kb-back", classes="kbkey")
            yield KeyButton(_("Clear"), name=CLEAR, id="kb-clear", classes="kbkey wide")

    @on(Button.Pressed, ".kbkey")
    def _key(self, event: Button.Pressed) -> None:
        self.post_message(KeyPressed(event.button.name or ""))


def apply_key(text: str, key: str, max_length: int) -> str:
    """The typed text after one key."""
    if key == BACKSPACE:
        return text[:-1]
    if key == CLEAR:
        return ""
    if len(text) >= max_length:
        return text
    return text + key


class TopBar(Widget):
    """Same place on every screen: the other language, larger text, spoken guidance."""

    DEFAULT_CLASSES = "topbar"

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static(self.title_text, classes="screen-title")
            other = "English" if language() == "fr" else "Français"
            yield Button(other, id="toggle-language", classes="bar-button")
            yield Button(_("Larger text"), id="toggle-large", classes="bar-button")
            yield Button(_("Voice"), id="toggle-voice", classes="bar-button")
