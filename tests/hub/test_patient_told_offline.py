"""A patient waiting in the booth is told plainly when no doctor can be reached: the
cabin's link to the hub is down. The touchscreen (Textual, driven by its Pilot) talks to a
real cabin daemon, itself connected to a real hub that the test stops and starts again."""

from __future__ import annotations

from urllib.parse import urlsplit

from hub.service import Hub
from kiosk.ui.screens.consultation import WaitingScreen
from tests.hub.conftest import MakeCabin
from tests.hub.fleet import check_in
from tests.polling import until
from tests.ui.conftest import RunningCabin
from tests.ui.pilot_helpers import on_screen, screen_text, touchscreen
from tests.ui.pilot_helpers import until as until_shown

NOTICE = "Le médecin ne peut pas être joint pour le moment"
# The link retries after at most 0.5 s, then 1 s, 2 s... (jittered): well within this.
BACK_S = 30.0


async def ui_state(cabin: RunningCabin) -> dict[str, object]:
    status, state = await cabin.get("/api/ui/state")
    assert status == 200, state
    return dict(state)


async def test_the_waiting_patient_is_told_when_no_doctor_can_be_reached(
    hub: Hub, make_cabin: MakeCabin
) -> None:
    daemon = await make_cabin("nangis-01", "NAN231")
    assert daemon.ctx is not None and hub.url is not None
    ctx = daemon.ctx
    await until(lambda: ctx.doctors_reachable, what="the cabin's link to the hub")
    await check_in(daemon)
    cabin = RunningCabin(daemon, ctx)
    async with touchscreen(cabin) as (app, pilot):
        await on_screen(pilot, WaitingScreen)
        assert NOTICE not in screen_text(app)
        assert (await ui_state(cabin))["doctors_reachable"] is True

        port = urlsplit(hub.url).port
        await hub.stop()
        await until_shown(pilot, lambda: NOTICE in screen_text(app), 10.0, "the notice")
        assert isinstance(app.screen, WaitingScreen)  # still waiting: nothing else changed
        assert (await ui_state(cabin))["doctors_reachable"] is False
        assert ctx.lifecycle.state.value == "waiting"

        again = Hub(hub.settings.model_copy(update={"listen_port": port}))
        await again.start()
        try:
            await until_shown(
                pilot, lambda: NOTICE not in screen_text(app), BACK_S, "the notice gone"
            )
            assert (await ui_state(cabin))["doctors_reachable"] is True
        finally:
            await again.stop()
