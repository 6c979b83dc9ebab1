"""What every part of the daemon (instruments, call, printer, hygiene, UI) implements.

The daemon builds its components from the configuration (kiosk/wiring.py), starts them
in order, gives each the shared context, serves their routes and status, and stops them
in reverse order on shutdown."""

from __future__ import annotations

import abc
import dataclasses
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from hub.shared.hours import OpeningHours
    from hub.shared.tasks import TaskSupervisor
    from kiosk.appointments import AppointmentStore
    from kiosk.bus import EventBus
    from kiosk.lifecycle import Lifecycle
    from kiosk.settings import CabinSettings
    from kiosk.site_hours import SiteHours


@dataclasses.dataclass
class Context:
    """Everything a component may use. One per daemon."""

    settings: CabinSettings
    bus: EventBus
    lifecycle: Lifecycle
    appointments: AppointmentStore
    tasks: TaskSupervisor
    components: dict[str, Component] = dataclasses.field(default_factory=dict)
    # Shared with the local touchscreen UI process (kiosk/ui_auth.py).
    ui_token: str = ""
    # The site's hours as the hub pushed them (the daemon sets it; tests may not).
    hours: SiteHours | None = None
    # The hub link is up, so a doctor can come (the hub component sets it).
    doctors_reachable: bool = False

    @property
    def opening_hours(self) -> OpeningHours:
        return self.settings.hours if self.hours is None else self.hours.current


class Component(abc.ABC):
    """A part of the daemon. ``name`` is also its key in /api/status."""

    name: str

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open devices, start background tasks (through ctx.tasks). Must not block long."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Close devices, flush. Background tasks are cancelled by the daemon."""

    def status(self) -> Any:
        """JSON-ready summary for /api/status, or None to leave it out. No patient data."""
        return None

    def routes(self) -> list[web.AbstractRouteDef]:
        """HTTP routes this component serves."""
        return []
