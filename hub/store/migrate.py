"""Schema migrations (Alembic): ``kiosk hub migrate`` applies them; the hub refuses to
start on a database whose schema is not the one this code knows."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from hub.store.db import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class SchemaMismatch(RuntimeError):
    """The database's schema is not this hub's: migrate, or run the matching software."""


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    script = ScriptDirectory.from_config(_config())
    current = script.get_current_head()
    if current is None:
        raise RuntimeError("no migration script")
    return current


async def upgrade(db: Database) -> tuple[str | None, str]:
    """Brings the schema to the newest revision; (revision before, revision after)."""
    async with db.engine.begin() as conn:
        before = await conn.run_sync(_current)
        await conn.run_sync(lambda c: command.upgrade(_config(c), "head"))
        after = await conn.run_sync(_current)
    return before, after or head()


async def current_revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


async def check(db: Database) -> str:
    """The revision, when it is this code's; SchemaMismatch otherwise."""
    revision = await current_revision(db)
    expected = head()
    if revision == expected:
        return revision
    if revision is None:
        raise SchemaMismatch("the database has no schema yet: run 'kiosk hub migrate' first")
    known = {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}
    if revision not in known:
        raise SchemaMismatch(
            f"the database's schema {revision} is unknown to this hub (a newer release "
            "migrated it?): run the matching software"
        )
    raise SchemaMismatch(
        f"the database's schema {revision} is older than this hub's {expected}: "
        "run 'kiosk hub migrate'"
    )


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()
