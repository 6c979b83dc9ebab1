"""What every part of the hub may use. One per hub process."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

from hub.router import Router
from hub.settings import HubSettings
from hub.shared.tasks import TaskSupervisor
from hub.store import Database


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclasses.dataclass
class HubContext:
    settings: HubSettings
    db: Database
    router: Router
    tasks: TaskSupervisor
    clock: Callable[[], datetime] = utc_now
    # Demo only (`kiosk demo` sets it; no configuration file can): a secret that logs
    # the demo accounts in from the printed links, second factor included.
    demo_login_token: str | None = None
    # This process's name among hub instances (logs, presence).
    instance: str = "hub-1"
