"""The "hub" component: the cabin's one connection to the hub, and what flows over it.

- Out: the outbox (statuses, session events, hygiene entries), the waiting patient, the
  call's signaling to the doctor's console (through the hub).
- In: the site's hours, the appointments of the site (stored with their cursor, so they
  check in while the hub is unreachable), the doctor's arrival, messages and departure.

Without ``[hub]`` in the configuration, or before ``kiosk enrol``, the component only
says so in /api/status: the cabin works locally (check-in of stored appointments,
hygiene), and the patient is told no doctor can be reached."""

from __future__ import annotations

import json
import logging
import ssl
from typing import Any

from hub.shared import console_messages as m
from hub.shared import wire
from kiosk.component import Component, Context
from kiosk.events import DoctorsReachable
from kiosk.hub_link.credential import Credential, CredentialMissing, load
from kiosk.hub_link.link import HubLink
from kiosk.hub_link.outbox import Outbox
from kiosk.hub_link.reporter import Reporter, software_version

log = logging.getLogger(__name__)


class DoctorChannel:
    """The consultation's channel to the doctor's console: one per doctor_attached."""

    def __init__(self, link: HubLink, consultation_id: str) -> None:
        self.link = link
        self.consultation_id = consultation_id

    async def send(self, message: m.CabinMessage) -> None:
        await self.link.send_live(
            wire.ToDoctor(
                type="to_doctor",
                consultation_id=self.consultation_id,
                message=message.model_dump(mode="json"),
            )
        )


class HubLinkComponent(Component):
    name = "hub"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.settings = ctx.settings.hub
        self.outbox = Outbox(ctx.settings.storage.database)
        self.reporter = Reporter(ctx, self.outbox)
        self.link: HubLink | None = None
        self.problem = ""
        self.channel: DoctorChannel | None = None

    async def start(self) -> None:
        # Records are copied even without a hub: they are sent once there is one.
        self.reporter.copy_records()
        if self.settings is None:
            self.problem = "no [hub] in the configuration"
            return
        try:
            credential = load(self.ctx.settings.storage.state_dir)
        except CredentialMissing as exc:
            self.problem = str(exc)
            log.warning("hub link: %s", exc)
            return
        context = None
        if self.settings.ca_file is not None:
            context = ssl.create_default_context(cafile=str(self.settings.ca_file))
        self.link = HubLink(
            self.settings.urls, credential, self.outbox, self._hello, self, ssl_context=context
        )
        self.reporter.on_queued.append(self.link.wake)
        self.ctx.tasks.spawn(self.link.run(), "hub-link")
        self.ctx.tasks.spawn(self.reporter.run(self.link.send_live), "hub-reporter")

    async def stop(self) -> None:
        self.outbox.close()

    def _hello(self) -> wire.Hello:
        assert self.link is not None
        return wire.Hello(
            type="hello",
            protocol=wire.PROTOCOL,
            cabin_id=self.link.credential.cabin_id,
            software_version=software_version(),
            outbox_epoch=self.outbox.epoch,
            appointments_cursor=self.ctx.appointments.cursor,
        )

    @property
    def credential(self) -> Credential | None:
        return None if self.link is None else self.link.credential

    def status(self) -> Any:
        link = self.link
        return {
            "configured": self.settings is not None,
            "state": "not_enrolled" if link is None else link.state,
            "problem": self.problem if link is None else link.last_error,
            "since": None if link is None else link.since.isoformat(),
            "url": None if link is None else link.url,
            "outbox_pending": self.outbox.pending,
            "rtt_ms": None if link is None else link.rtt_ms,
            "site_hours_from_hub": bool(self.ctx.hours and self.ctx.hours.from_hub),
        }

    @property
    def reachable(self) -> bool:
        return self.link is not None and self.link.online

    # -- LinkHandlers ----------------------------------------------------------------

    def _reachable(self, reachable: bool) -> None:
        if reachable != self.ctx.doctors_reachable:
            self.ctx.doctors_reachable = reachable
            self.ctx.bus.publish(DoctorsReachable(reachable=reachable))

    async def on_welcome(self, welcome: wire.Welcome) -> None:
        self._reachable(True)
        site = welcome.site
        if self.ctx.hours is not None and self.ctx.hours.replace(site.code, site.name, site.hours):
            log.info("hub link: opening hours of site %s received", site.code)
        assert self.link is not None
        await self.link.send_live(self.reporter.waiting_frame())

    async def on_lost(self) -> None:
        self._reachable(False)
        if self.channel is not None:
            self.channel = None
            self._consultation().channel_lost()

    async def on_frame(self, frame: wire.Frame) -> None:
        if isinstance(frame, wire.Appointments):
            self.ctx.appointments.apply(frame.changes, frame.cursor)
            assert self.link is not None
            await self.link.send_live(
                wire.AppointmentsApplied(type="appointments_applied", cursor=frame.cursor)
            )
        elif isinstance(frame, wire.DoctorAttached):
            await self._doctor_attached(frame)
        elif isinstance(frame, wire.DoctorDetached):
            channel = self.channel
            if channel is not None and channel.consultation_id == frame.consultation_id:
                self.channel = None
                await self._consultation().detach(channel)
        elif isinstance(frame, wire.ReportSigned):
            # The patient's printed copy at checkout (kiosk/record).
            _call(self.ctx.components.get("record"), "report_signed", frame)
        elif isinstance(frame, wire.FromDoctor):
            channel = self.channel
            if channel is None or channel.consultation_id != frame.consultation_id:
                log.info("hub link: a message for another consultation was dropped")
                return
            await self._consultation().handle_raw(json.dumps(frame.message), "ws")

    async def _doctor_attached(self, frame: wire.DoctorAttached) -> None:
        assert self.link is not None
        consultation = self._consultation()
        if frame.session_id != self.ctx.lifecycle.session_id:
            log.info("hub link: the doctor came for a session that is over")
            await DoctorChannel(self.link, frame.consultation_id).send(
                m.StateOut(cabin_state=self.ctx.lifecycle.state.value, call_state="ended")
            )
            return
        self.channel = DoctorChannel(self.link, frame.consultation_id)
        _call(self.ctx.components.get("record"), "doctor_attached", frame)
        await consultation.attach(self.channel, frame.doctor, frame.ice_servers, frame.ice_policy)

    def _consultation(self) -> Any:
        call = self.ctx.components.get("call")
        return getattr(call, "consultation", None) or _NoCall()


def _call(component: Any, method: str, frame: wire.Frame) -> None:
    """A component's handler of a frame, when the cabin runs that component."""
    handler = getattr(component, method, None)
    if handler is not None:
        handler(frame)


class _NoCall:
    """A cabin configured without the call component (tests of other parts)."""

    async def attach(self, *args: Any) -> None:
        return None

    async def detach(self, *args: Any) -> None:
        return None

    def channel_lost(self) -> None:
        return None

    async def handle_raw(self, raw: str, via: str) -> None:
        return None


def hub_link_component(ctx: Context) -> Component:
    return HubLinkComponent(ctx)
