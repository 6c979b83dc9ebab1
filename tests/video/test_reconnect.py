"""The doctor's console comes back: another tab takes over, a rejoin cancels the
absence timer, and the data channel refuses what is not its business."""

from __future__ import annotations

from kiosk.daemon import Daemon
from kiosk.lifecycle import State
from tests.video.conftest import MakeSettings, RunningCabin
from tests.video.doctor_client import DoctorClient, wait_for


async def test_rejoin_before_the_timeout_keeps_the_consultation(
    make_settings: MakeSettings,
) -> None:
    daemon = Daemon(make_settings(absent=10))
    ctx = await daemon.start()
    cabin = RunningCabin(daemon, ctx)
    first, second = DoctorClient(cabin.url), DoctorClient(cabin.url)
    consultation = ctx.components["call"].consultation  # type: ignore[attr-defined]
    try:
        cabin.patient_waiting()
        await first.login()
        await first.connect()
        await first.send({"type": "join"})
        await wait_for(lambda: consultation.call_state == "connected")
        await first.close()  # the page is gone
        await wait_for(lambda: consultation.call_state == "reconnecting")
        assert consultation._absent_task is not None
        await second.login()
        await second.connect()
        await second.send({"type": "join"})
        await wait_for(lambda: consultation.call_state == "connected")
        assert consultation._absent_task is None
        assert consultation.generation == 2
        assert ctx.lifecycle.state is State.IN_CONSULTATION
    finally:
        await first.close()
        await second.close()
        await daemon.stop()


async def test_a_second_console_takes_over(cabin: RunningCabin) -> None:
    first, second = DoctorClient(cabin.url), DoctorClient(cabin.url)
    try:
        await first.login()
        await first.connect()
        await first.expect("state")
        await second.login()
        await second.connect()
        await second.expect("state")
        notice = await first.expect("error")
        assert "ailleurs" in notice["message"]
        assert first.ws is not None
        await wait_for(lambda: first.ws is not None and first.ws.closed)
    finally:
        await first.close()
        await second.close()


async def test_data_channel_refuses_signaling_and_garbage(cabin: RunningCabin) -> None:
    doctor = DoctorClient(cabin.url)
    try:
        cabin.patient_waiting()
        await doctor.login()
        await doctor.connect()
        await doctor.send({"type": "join"})
        await wait_for(lambda: doctor.channel is not None and doctor.channel.readyState == "open")
        generation = cabin.ctx.components["call"].consultation.generation  # type: ignore[attr-defined]
        doctor.channel.send("{garbage")
        assert "not JSON" in (await doctor.expect("error"))["message"]
        doctor.send_channel({"type": "ice_restart", "generation": generation, "id": "r1"})
        refused = await doctor.expect("error", in_reply_to="r1")
        assert "signaling socket" in refused["message"]
        consultation = cabin.ctx.components["call"].consultation  # type: ignore[attr-defined]
        assert consultation.generation == generation  # nothing restarted
        assert consultation.call_state == "connected"
    finally:
        await doctor.close()
