"""A consultation through the hub: the cabin's part of the record reaches the hub's
``consultation_records`` exactly once, with what was measured, prescribed and the
patient's answer about the printed copy; once the hub has acknowledged it, nothing of the
session is left in the cabin's database (invariant 3). The copy prints through the real
CUPS (cups-pdf): its text holds the report's conclusion."""

from __future__ import annotations

import time
from decimal import Decimal

from kiosk.lifecycle import State
from tests.kiosk.record.conftest import (
    CONCLUSION,
    PRINT_S,
    Visit,
    blood_pressure,
    rows_of,
    tables_with,
)
from tests.polling import until
from tests.printer.cups_env import pdf_text, printed_copies

# The lifecycle's tables name a session by its id only (no patient data): its current
# state (awaiting disinfection of that session, invariant 1) and the session log, kept
# for its own retention (kiosk/lifecycle/store.py).
SESSION_LOG = {"lifecycle", "sessions", "transitions"}
RECORD_TABLES = ("record_parts", "record_observations", "record_handovers", "print_documents")


async def test_the_record_reaches_the_hub_once_and_the_cabin_keeps_nothing(visit: Visit) -> None:
    await visit.doctor_takes()
    visit.measure(blood_pressure(131, 86))
    visit.measure()  # the second measure, as the doctor asks again
    number = await visit.prescribe()
    visit.checkout()
    await visit.sign()

    # The checkout asks; yes prints the report's copy.
    status, offer = await visit.ui("GET", "/api/ui/record/copy")
    assert (status, offer["ask"], offer["copy"]) == (200, True, "offered"), offer
    since = time.time()
    status, asked = await visit.ui("POST", "/api/ui/record/copy", {"print": True})
    assert status == 202, asked
    printer = visit.ctx.components["printer"]
    await until(
        lambda: printer.store.get(asked["document_id"])["state"] == "completed",
        PRINT_S,
        what="the copy printed",
    )
    copies = await until(
        lambda: printed_copies(visit.consultation_id, since), PRINT_S, what="cups-pdf's file"
    )
    text = " ".join(pdf_text(copies[0]).split())
    assert CONCLUSION in text
    assert "DUPONT" in text.upper()
    # Asked once: a second "yes" does not print it twice.
    status, again = await visit.ui("POST", "/api/ui/record/copy", {"print": True})
    assert (status, again["code"]) == (409, "already_asked")

    await visit.leave()
    part = await visit.cabin_part()
    assert part["session_id"] == visit.session_id
    assert part["printed_copy"] == "printed"
    assert (part["patient"]["birth_name"].upper(), part["patient"]["birth_date"]) == (
        "DUPONT",
        "1948-03-02",
    )
    values = [(o["code"], Decimal(str(o["value"]))) for o in part["observations"]]
    assert values == visit.measured()  # each result, once, in order
    assert ("8480-6", Decimal(131)) in values and ("8462-4", Decimal(84)) in values
    assert part["prescription"]["number"] == number
    assert part["prescription"]["pdf"]  # the PDF as printed (same bytes rendered again)
    assert part["prescription_lines"]

    # The hub acknowledged: nothing of the session in the cabin's database, table by table.
    database = visit.database
    await until(
        lambda: not any(rows_of(database, t, visit.session_id) for t in RECORD_TABLES),
        what="the session's rows gone",
    )
    await until(
        lambda: set(tables_with(database, visit.session_id)) <= SESSION_LOG,
        what="no table but the lifecycle's naming the session",
    )
    assert not tables_with(database, CONCLUSION)
    assert not tables_with(database, visit.consultation_id)
    # Exactly once: one record received.
    assert len(await visit.received()) == 1
    assert visit.ctx.lifecycle.state is State.AWAITING_DISINFECTION


async def test_a_declined_copy_is_said_so(visit: Visit) -> None:
    await visit.doctor_takes()
    visit.measure()
    visit.checkout()
    await visit.sign()
    status, offer = await visit.ui("GET", "/api/ui/record/copy")
    assert offer["ask"] is True, offer
    status, answer = await visit.ui("POST", "/api/ui/record/copy", {"print": False})
    assert (status, answer) == (200, {"copy": "declined"})
    await visit.leave()
    part = await visit.cabin_part()
    assert part["printed_copy"] == "declined"
    assert part["prescription"] is None and part["prescription_lines"] == []
    assert len(await visit.received()) == 1


async def test_without_a_signed_report_nothing_is_offered(visit: Visit) -> None:
    await visit.doctor_takes()
    visit.checkout()
    status, offer = await visit.ui("GET", "/api/ui/record/copy")
    assert (status, offer["ask"]) == (200, False)
    status, refused = await visit.ui("POST", "/api/ui/record/copy", {"print": True})
    assert (status, refused["code"]) == (409, "no_report")
    await visit.leave()
    part = await visit.cabin_part()
    assert part["printed_copy"] == "not_offered"
    assert part["observations"] == []
