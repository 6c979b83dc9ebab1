"""An unexpected error in the UI shows no trace and leaks nothing typed."""

from __future__ import annotations

import logging

import pytest

from kiosk.ui.app import KioskApp
from kiosk.ui.screens.checkin import CodeScreen
from kiosk.ui.widgets import KeyPressed
from tests.ui.fake_cabin import FakeCabin
from tests.ui.pilot_helpers import SIZE, keypad


class Broken(Exception):
    pass


class BrokenCodeScreen(CodeScreen):
    def on_key_pressed(self, event: KeyPressed) -> None:
        if len(self.code) >= 4:
            raise Broken(f"typed {self.code}")


async def test_a_crash_logs_the_class_only(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    app = KioskApp(FakeCabin("check_in"), listen=False)
    screen = BrokenCodeScreen()

    with caplog.at_level(logging.ERROR), pytest.raises(Broken):
        async with app.run_test(size=SIZE) as pilot:
            await app.show(screen)
            await pilot.pause()
            await keypad(pilot, "42421")
    assert app.return_code == 1
    assert "touchscreen UI failed: Broken" in caplog.text
    assert "4242" not in caplog.text
    captured = capsys.readouterr()
    assert "4242" not in captured.err + captured.out
    assert "Traceback" not in captured.err + captured.out


async def test_inactivity_check_while_the_app_shuts_down_is_harmless(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The inactivity timer can tick once more while the app closes (no screen left):
    seen as 'touchscreen UI failed: ScreenStackError' at the end of a referent flow."""
    app = KioskApp(FakeCabin("idle"), listen=False)
    assert not app.screen_stack  # not started, or already closed
    with caplog.at_level(logging.ERROR):
        await app._check_inactivity()
    assert "touchscreen UI failed" not in caplog.text
