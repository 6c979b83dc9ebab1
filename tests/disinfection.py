"""A disinfection logged by the test, as the referent's finished checklist would log it
(the session's release only; the chained hygiene log is hygiene's own tests' business)."""

from __future__ import annotations

from datetime import UTC, datetime

from kiosk.db import Transaction
from kiosk.lifecycle import LifecycleStore


def mark_test_disinfection(store: LifecycleStore, session: str) -> None:
    with Transaction(store.conn) as conn:
        LifecycleStore.mark_disinfected(conn, session, "test-entry", datetime.now(UTC))
