"""The opening hours in force: the site's, as the hub last pushed them, kept in the cabin's
database so a cabin that restarts offline still opens and closes on time. Before the
first push, the cabin's own ``[hours]`` (closed all week when it has none)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from hub.shared.hours import OpeningHours
from kiosk.bus import Event, EventBus
from kiosk.db import Transaction, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS site_hours (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    site_code TEXT NOT NULL,
    site_name TEXT NOT NULL,
    hours TEXT NOT NULL,
    received_at TEXT NOT NULL
);
"""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SiteHoursChanged(Event):
    site_code: str


class SiteHours:
    def __init__(self, path: Path | str, configured: OpeningHours, bus: EventBus) -> None:
        self.conn = connect(path)
        self.conn.executescript(SCHEMA)
        self.bus = bus
        self.configured = configured
        self.site_code: str | None = None
        self._pushed: OpeningHours | None = None
        row = self.conn.execute("SELECT site_code, hours FROM site_hours").fetchone()
        if row is not None:
            self.site_code = str(row[0])
            self._pushed = OpeningHours.model_validate_json(row[1])

    @property
    def current(self) -> OpeningHours:
        return self._pushed or self.configured

    @property
    def from_hub(self) -> bool:
        return self._pushed is not None

    def is_open(self, at: datetime) -> bool:
        return self.current.is_open(at)

    def replace(self, site_code: str, site_name: str, hours: OpeningHours) -> bool:
        """Stores the hub's hours; True when they changed."""
        if hours == self._pushed and site_code == self.site_code:
            return False
        with Transaction(self.conn) as c:
            c.execute(
                "INSERT INTO site_hours (id, site_code, site_name, hours, received_at) "
                "VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "site_code = excluded.site_code, site_name = excluded.site_name, "
                "hours = excluded.hours, received_at = excluded.received_at",
                (site_code, site_name, hours.model_dump_json(), datetime.now(UTC).isoformat()),
            )
        self._pushed, self.site_code = hours, site_code
        self.bus.publish(SiteHoursChanged(site_code=site_code))
        return True

    def close(self) -> None:
        self.conn.close()
