"""The hub's store: SQLAlchemy models, the database, Alembic migrations."""

from hub.store.db import Database

__all__ = ["Database"]
