"""The configuration's sites, in the table that bookings, cabins and accounts refer to."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.settings import HubSettings
from hub.store import Database
from hub.store.models import Site


async def sync_sites(db: Database, settings: HubSettings) -> None:
    now = datetime.now(UTC)
    async with db.transaction() as s:
        for site in settings.sites:
            row = await s.get(Site, site.code)
            if row is None:
                s.add(Site(code=site.code, name=site.name, updated_at=now))
            elif row.name != site.name:
                row.name, row.updated_at = site.name, now
