"""The consultation as the cabin runs it: one doctor, one call at a time.

- The doctor's console is at the hub; the hub tells the cabin when the doctor who took
  the patient is there (``attach``, with a channel that relays signaling through the
  hub) and when they left (``detach``). A reload or another tab is the hub's business:
  the cabin sees one doctor channel at a time. Losing the hub (``channel_lost``) is not
  losing the doctor: the call's media and data channel are peer-to-peer and go on.
- ``join`` starts a peer connection; when it connects the cabin goes
  waiting → in_consultation.
- The connection dropping (ICE failed, no frames for a while, the browser asking) gives
  "reconnecting" and a restart; without the doctor for
  ``call.doctor_absent_timeout_s`` the consultation ends (by="timeout") → checkout,
  keeping what was done (measurements, prescription are not touched here).
- Bus events go to the doctor over the data channel (WebSocket while it is closed);
  the doctor's requests become bus events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from hub.shared import console_messages as m
from hub.shared import wire
from kiosk.bus import Event
from kiosk.component import Context
from kiosk.events import (
    CallStateChanged,
    ChatMessage,
    ConsultationEndRequested,
    InstrumentStateChanged,
    MeasurementRequested,
    MeasurementTaken,
    PatientInstruction,
    PrintJobUpdated,
)
from kiosk.lifecycle import State, StateChanged, TransitionRefused
from video.peer import CabinPeer, rtc_configuration
from video.printing import PrintRelay, account_prescriber
from video.tracks import CallMedia

log = logging.getLogger(__name__)

CallState = Literal["waiting", "connecting", "connected", "reconnecting", "ended"]

# How often call quality is measured and sent to the doctor.
QUALITY_INTERVAL_S = 2.0
# No frame from the doctor's camera for this long while "connected": the path is dead
# (aioice itself only notices after ~30 s of failed consent checks).
NO_FRAMES_RESTART_S = 4.0
# A (re)started connection that has not connected by then is tried again.
CONNECT_TIMEOUT_S = 20.0
CALL_STATES = frozenset({State.WAITING, State.IN_CONSULTATION})


class DoctorChannel(Protocol):
    """Where signaling and snapshots for the doctor's console go (through the hub)."""

    async def send(self, message: m.CabinMessage) -> None: ...


class Consultation:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.call_state: CallState = "waiting"
        self.channel: DoctorChannel | None = None
        self.doctor: wire.DoctorProfile | None = None
        self.ice_servers: list[wire.IceServer] = []
        self.ice_policy: wire.IcePolicy = "all"
        self.peer: CabinPeer | None = None
        self.generation = 0
        self.restarts = 0
        self.exam_on = False
        self.printing = PrintRelay(ctx)
        self.media: CallMedia | None = None
        self._history: list[m.CabinMessage] = []
        self._history_session: str | None = None
        self._instruments: dict[str, m.InstrumentInfo] = {
            i.name: m.InstrumentInfo(name=i.name, kind=str(i.kind))
            for i in ctx.settings.instruments
        }
        self._absent_task: asyncio.Task[Any] | None = None
        self._connect_watch: asyncio.Task[Any] | None = None
        self._restarting = False
        self._frames_seen = (0, 0.0)
        self._lock = asyncio.Lock()

    # -- the doctor's console --------------------------------------------------------

    async def attach(
        self,
        channel: DoctorChannel,
        doctor: wire.DoctorProfile,
        ice_servers: list[wire.IceServer],
        ice_policy: wire.IcePolicy,
    ) -> None:
        """The doctor's console is there (again): it gets the whole state."""
        self.channel, self.doctor = channel, doctor
        self.ice_servers, self.ice_policy = list(ice_servers), ice_policy
        await self.send_snapshot()

    def channel_lost(self) -> None:
        """The hub is unreachable: nothing goes to the console until it is back; the call
        itself goes on peer-to-peer. Without a call the doctor's absence timer runs."""
        self.channel = None
        if self.call_state != "connected" or self.peer is None:
            self._start_absent_timer()

    async def detach(self, channel: DoctorChannel | None = None) -> None:
        """The doctor's console socket closed at the hub (a reload, a network blip, the
        page closed). The call's media is peer-to-peer: while it flows the call goes on;
        when the page is really gone its frames stop and the call restarts or ends like
        any dead connection (``_check_frames``), and the absence timer runs."""
        if channel is not None and channel is not self.channel:
            return
        self.channel_lost()

    async def send_snapshot(self) -> None:
        await self.send(self.state_message())
        await self.send(m.PatientOut(patient=self.current_patient()))
        for msg in self._session_history():
            await self.send(msg)

    def state_message(self) -> m.StateOut:
        return m.StateOut(
            cabin_state=self.ctx.lifecycle.state.value,
            call_state=self.call_state,
            doctor=None if self.doctor is None else self.doctor.display_name,
            prescriber=account_prescriber(self.doctor),
            exam_camera_available=self.ctx.settings.call.exam_camera is not None,
            exam_camera_on=self.exam_on,
            instruments=list(self._instruments.values()),
        )

    def current_patient(self) -> dict[str, Any] | None:
        checkin = self.ctx.components.get("checkin")
        getter = getattr(checkin, "current_patient", None)
        if getter is None:
            return None
        patient: dict[str, Any] | None = getter()
        return patient

    async def send(self, msg: m.CabinMessage) -> None:
        """Signaling and snapshots: through the hub."""
        if self.channel is not None:
            await self.channel.send(msg)

    async def send_event(self, msg: m.CabinMessage) -> None:
        """Live events: over the data channel when open, otherwise the WebSocket."""
        if self.peer is not None and self.peer.send(m.encode(msg)):
            return
        await self.send(msg)

    # -- messages from the doctor ----------------------------------------------------

    async def handle_raw(self, raw: str, via: Literal["ws", "datachannel"]) -> None:
        try:
            msg = m.parse_doctor_message(raw)
            _check_channel(msg, via)
        except m.MessageInvalid as exc:
            await self.send_event(m.ErrorOut(message=exc.message, in_reply_to=exc.in_reply_to))
            return
        try:
            await self.handle(msg)
        except m.MessageInvalid as exc:
            await self.send_event(
                m.ErrorOut(message=exc.message, in_reply_to=exc.in_reply_to or msg.id)
            )
        except Exception as exc:  # a failure (device, peer) must not end the console
            log.exception("call: handling '%s' failed", msg.type)
            await self.send_event(
                m.ErrorOut(
                    message=f"La cabine n'a pas pu traiter '{msg.type}' ({type(exc).__name__}).",
                    in_reply_to=msg.id,
                )
            )

    async def handle(self, msg: m.DoctorMessage) -> None:
        handler: Callable[[Any], Awaitable[None]] = getattr(self, f"_on_{msg.type}")
        async with self._lock:
            await handler(msg)

    async def _on_join(self, msg: m.Join) -> None:
        if self.ctx.lifecycle.state not in CALL_STATES:
            raise m.MessageInvalid("Aucun patient n'attend dans la cabine.", msg.id)
        await self._start_peer(restart=self.peer is not None or self.restarts > 0)

    async def _on_leave(self, msg: m.Leave) -> None:
        await self._close_peer()
        self._set_call_state("reconnecting" if self._in_consultation() else "waiting")
        self._start_absent_timer()

    async def _on_answer(self, msg: m.Answer) -> None:
        peer = self._peer_of(msg.generation, msg.id)
        try:
            await peer.accept_answer(msg.sdp)
        except ValueError as exc:
            raise m.MessageInvalid(str(exc), msg.id) from exc

    async def _on_ice_candidate(self, msg: m.IceCandidate) -> None:
        peer = self._peer_of(msg.generation, msg.id)
        try:
            await peer.add_candidate(msg)
        except ValueError as exc:
            raise m.MessageInvalid(str(exc), msg.id) from exc

    async def _on_ice_restart(self, msg: m.IceRestart) -> None:
        if self.peer is None:
            raise m.MessageInvalid("no call to restart: send 'join'", msg.id)
        if self._restarting or msg.generation != self.peer.generation:
            return  # one is under way, or the cabin already restarted that connection
        await self._restart("asked by the doctor's browser")

    async def _on_end(self, msg: m.End) -> None:
        self._require_consultation(msg)
        self.ctx.bus.publish(ConsultationEndRequested(by="doctor"))

    async def _on_measure(self, msg: m.Measure) -> None:
        self._require_consultation(msg)
        if msg.instrument not in self._instruments:
            raise m.MessageInvalid(f"unknown instrument '{msg.instrument}'", msg.id)
        self.ctx.bus.publish(MeasurementRequested(instrument=msg.instrument))
        await self.send_event(m.Accepted(request="measure", in_reply_to=msg.id))

    async def _on_instruction(self, msg: m.Instruction) -> None:
        self._require_consultation(msg)
        self.ctx.bus.publish(PatientInstruction(text=msg.text, source="doctor"))
        await self.send_event(m.Accepted(request="instruction", in_reply_to=msg.id))

    async def _on_chat(self, msg: m.Chat) -> None:
        self._require_consultation(msg)
        self.ctx.bus.publish(ChatMessage(sender="doctor", text=msg.text))

    async def _on_prescription(self, msg: m.Prescription) -> None:
        self._require_consultation(msg)
        await self.send_event(await self.printing.prescription(msg, self.doctor))

    async def _on_show_exam_camera(self, msg: m.ShowExamCamera) -> None:
        if self.ctx.settings.call.exam_camera is None:
            raise m.MessageInvalid("this cabin has no exam camera", msg.id)
        self.exam_on = msg.on
        if self.media is not None:
            self.media.media.set_exam_visible(msg.on)
        await self.send(self.state_message())

    def _require_consultation(self, msg: m.DoctorMessage) -> None:
        if not self._in_consultation():
            raise m.MessageInvalid("Pas de consultation en cours.", msg.id)

    def _in_consultation(self) -> bool:
        return self.ctx.lifecycle.state is State.IN_CONSULTATION

    def _peer_of(self, generation: int, msg_id: str | None) -> CabinPeer:
        if self.peer is None or self.peer.generation != generation:
            raise m.MessageInvalid(f"no call of generation {generation} (outdated?)", msg_id)
        return self.peer

    # -- the peer connection ---------------------------------------------------------

    async def _start_peer(self, restart: bool) -> None:
        await self._close_peer()
        if self.media is None:
            self.media = await CallMedia.open(self.ctx)
            self.media.media.set_exam_visible(self.exam_on)
        self.generation += 1
        configuration = rtc_configuration(
            self.ctx.settings.network.ice_servers, self.ice_servers, self.ice_policy
        )
        peer = CabinPeer(
            self.generation, configuration, self.media, self._peer_state, self._channel_message
        )
        self.peer = peer
        self._frames_seen = (0, asyncio.get_running_loop().time())
        self._set_call_state("reconnecting" if restart else "connecting")
        offer = await peer.offer(restart)
        await self.send(offer)
        self._connect_watch = self.ctx.tasks.spawn(
            self._watch_connect(peer), f"call-connect-{peer.generation}"
        )

    async def _close_peer(self) -> None:
        peer, self.peer = self.peer, None
        if self._connect_watch is not None and self._connect_watch is not asyncio.current_task():
            self._connect_watch.cancel()
        self._connect_watch = None
        if peer is not None:
            await peer.close()

    async def _restart(self, why: str) -> None:
        self._restarting = True
        try:
            self.restarts += 1
            log.info("call: restarting the connection (%s)", why)
            self._set_call_state("reconnecting")
            self._start_absent_timer()
            if self.channel is not None:
                await self._start_peer(restart=True)
            else:
                await self._close_peer()
        finally:
            self._restarting = False

    async def _watch_connect(self, peer: CabinPeer) -> None:
        await asyncio.sleep(CONNECT_TIMEOUT_S)
        if self.peer is peer and peer.state != "connected":
            async with self._lock:
                if self.peer is peer:
                    self._connect_watch = None
                    await self._restart("the connection did not come up")

    def _peer_state(self, peer: CabinPeer) -> None:
        if peer is not self.peer:
            return
        if peer.state == "connected":
            self._connected()
        elif peer.state == "failed":
            self.ctx.tasks.spawn(self._restart_locked(peer, "ICE failed"), "call-restart")

    async def _restart_locked(self, peer: CabinPeer, why: str) -> None:
        async with self._lock:
            if self.peer is peer and not self._restarting:
                await self._restart(why)

    def _connected(self) -> None:
        self._cancel_absent_timer()
        self._frames_seen = (0, asyncio.get_running_loop().time())
        if self.ctx.lifecycle.state is State.WAITING:
            try:
                self.ctx.lifecycle.transition(State.IN_CONSULTATION, "the doctor joined")
            except TransitionRefused as exc:
                log.warning("call connected but %s", exc)
        self._set_call_state("connected")

    def _channel_message(self, text: str) -> None:
        self.ctx.tasks.spawn(self.handle_raw(text, "datachannel"), "call-datachannel-message")

    def _set_call_state(self, state: CallState) -> None:
        if state == self.call_state:
            return
        self.call_state = state
        self.ctx.bus.publish(CallStateChanged(state=state))
        self.ctx.tasks.spawn(self.send(self.state_message()), "call-send-state")

    # -- the doctor's absence --------------------------------------------------------

    def _start_absent_timer(self) -> None:
        if self._absent_task is None and self._in_consultation():
            self._absent_task = self.ctx.tasks.spawn(self._absent_timeout(), "call-doctor-absent")

    def _cancel_absent_timer(self) -> None:
        if self._absent_task is not None:
            self._absent_task.cancel()
            self._absent_task = None

    async def _absent_timeout(self) -> None:
        await asyncio.sleep(self.ctx.settings.call.doctor_absent_timeout_s)
        self._absent_task = None
        if self._in_consultation() and self.call_state != "connected":
            log.info("call: the doctor did not come back, ending the consultation")
            self.ctx.bus.publish(ConsultationEndRequested(by="timeout"))

    # -- background loops (started by the component) ---------------------------------

    async def quality_loop(self) -> None:
        while True:
            await asyncio.sleep(QUALITY_INTERVAL_S)
            peer = self.peer
            if peer is None or peer.closed or self.call_state != "connected":
                continue
            try:
                quality = await peer.quality()
            except Exception:  # statistics are informative: never lose the call over them
                log.exception("call quality unavailable")
                continue
            await self.send_event(quality)
            self._check_frames(peer)

    def _check_frames(self, peer: CabinPeer) -> None:
        """Media stopped arriving: the path is dead. Only once media has flowed on this
        connection (a doctor without camera or microphone is no reason to restart)."""
        now = asyncio.get_running_loop().time()
        count, since = self._frames_seen
        received = peer.frames.video + peer.frames.audio
        if received != count:
            self._frames_seen = (received, now)
        elif received and now - since > NO_FRAMES_RESTART_S and not self._restarting:
            self.ctx.tasks.spawn(
                self._restart_locked(peer, "no frames from the doctor"), "call-restart"
            )

    async def bus_loop(self) -> None:
        async with self.ctx.bus.subscribe(
            StateChanged,
            MeasurementTaken,
            InstrumentStateChanged,
            ChatMessage,
            PrintJobUpdated,
            ConsultationEndRequested,
        ) as sub:
            async for event in sub:
                await self._on_event(event)

    async def _on_event(self, event: Event) -> None:
        if isinstance(event, StateChanged):
            await self._on_state_changed(event)
        elif isinstance(event, ConsultationEndRequested):
            await self._end(event.by)
        elif isinstance(event, MeasurementTaken):
            msg: m.CabinMessage = m.MeasurementOut(
                instrument=event.instrument,
                at=event.at.isoformat(),
                measurement=event.measurement.to_json()
                | {"intermediate": event.measurement.intermediate},
            )
            if not event.measurement.intermediate:
                self._remember(msg)
            await self.send_event(msg)
        elif isinstance(event, InstrumentStateChanged):
            info = m.InstrumentInfo(
                name=event.instrument,
                kind=event.kind,
                state=event.state,
                detail=event.detail,
                battery_percent=event.battery_percent,
            )
            self._instruments[event.instrument] = info
            await self.send_event(
                m.InstrumentStateOut(
                    instrument=event.instrument, **info.model_dump(exclude={"name"})
                )
            )
        elif isinstance(event, ChatMessage):
            chat = m.ChatOut(sender=event.sender, text=event.text, at=event.at.isoformat())
            self._remember(chat)
            if event.sender == "patient":
                await self.send_event(chat)
        elif isinstance(event, PrintJobUpdated):
            job = self.printing.job_message(event)
            self._remember(job)
            await self.send_event(job)

    async def _on_state_changed(self, event: StateChanged) -> None:
        if event.state not in CALL_STATES:
            self._cancel_absent_timer()
            self.exam_on = False
            if self.peer is not None or self.call_state != "waiting":
                async with self._lock:
                    await self._close_peer()
                    await self._close_media()
                self._set_call_state("ended")
        elif event.state is State.WAITING:
            self.call_state = "waiting"
        await self.send(self.state_message())
        await self.send(m.PatientOut(patient=self.current_patient()))

    async def _end(self, by: str) -> None:
        lc = self.ctx.lifecycle
        if lc.state is State.IN_CONSULTATION or (lc.state is State.WAITING and by == "doctor"):
            try:
                lc.transition(State.CHECKOUT, f"consultation ended by {by}")
            except TransitionRefused as exc:
                log.warning("could not end the consultation: %s", exc)

    async def _close_media(self) -> None:
        media, self.media = self.media, None
        if media is not None:
            await media.close()

    def _remember(self, msg: m.CabinMessage) -> None:
        self._session_history()
        self._history.append(msg)

    def _session_history(self) -> list[m.CabinMessage]:
        session = self.ctx.lifecycle.session_id
        if session != self._history_session:
            self._history, self._history_session = [], session
        return list(self._history)

    async def close(self) -> None:
        self._cancel_absent_timer()
        await self._close_peer()
        await self._close_media()
        self.channel = None


def _check_channel(msg: m.DoctorMessage, via: str) -> None:
    if via == "datachannel" and msg.type not in m.DATA_CHANNEL_TYPES:
        raise m.MessageInvalid(f"'{msg.type}' goes on the signaling socket", msg.id)
