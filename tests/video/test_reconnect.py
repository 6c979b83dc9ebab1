"""The doctor's console comes back: another tab of the same doctor takes over, a rejoin
cancels the absence timer, and the data channel refuses what is not its business."""

from __future__ import annotations

from kiosk.lifecycle import State
from tests.video.conftest import MakeCabin, RunningCabin
from tests.video.doctor_client import DoctorClient, wait_for


def same_doctor(first: DoctorClient) -> DoctorClient:
    """The same doctor in a new page: their authenticator gives the next code."""
    again = DoctorClient(first.url, first.username)
    again.secret = first.secret
    return again


async def test_rejoin_before_the_timeout_keeps_the_consultation(make_cabin: MakeCabin) -> None:
    cabin = await make_cabin(absent=10)
    ctx = cabin.ctx
    first = DoctorClient(cabin.hub_url)
    consultation = ctx.components["call"].consultation  # type: ignore[attr-defined]
    second: DoctorClient | None = None
    try:
        await cabin.patient_waiting()
        await first.connect()
        await first.send({"type": "join"})
        await wait_for(lambda: consultation.call_state == "connected")
        await first.hang_up()  # the page is gone
        await wait_for(lambda: consultation.call_state == "reconnecting")
        assert consultation._absent_task is not None
        second = same_doctor(first)
        await second.connect(step_offset=1)  # the hub gives back the same consultation
        await second.send({"type": "join"})
        await wait_for(lambda: consultation.call_state == "connected")
        assert consultation._absent_task is None
        assert consultation.generation == 2
        assert ctx.lifecycle.state is State.IN_CONSULTATION
    finally:
        await first.close()
        if second is not None:
            await second.close()


async def test_a_second_console_takes_over(cabin: RunningCabin) -> None:
    first = DoctorClient(cabin.hub_url)
    second: DoctorClient | None = None
    try:
        await cabin.patient_waiting()
        await first.connect()
        await first.expect("state")
        second = same_doctor(first)
        await second.connect(step_offset=1)
        await second.expect("state")
        notice = await first.expect("error", code="replaced")
        assert "ailleurs" in notice["message"]
        await wait_for(lambda: first.ws is not None and first.ws.closed)
        # The newer console still speaks to the cabin.
        await second.send({"type": "chat", "id": "c1", "text": "Bonjour"})
        refused = await second.expect("error", in_reply_to="c1")  # no call yet: refused
        assert "consultation" in refused["message"].lower()
    finally:
        await first.close()
        if second is not None:
            await second.close()


async def test_data_channel_refuses_signaling_and_garbage(cabin: RunningCabin) -> None:
    doctor = DoctorClient(cabin.hub_url)
    try:
        await cabin.patient_waiting()
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
