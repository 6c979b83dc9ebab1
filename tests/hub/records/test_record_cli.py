"""The records' commands on a real SQLite hub store: ``kiosk record show`` prints the FHIR
document or writes the PDF (each showing audited), ``kiosk hub records dead`` lists the
dead letters without patient data, ``kiosk hub records replay ID|--all`` puts them back
and the worker delivers them once; an unknown id is refused with exit status 1."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation

from hub.records.delivery import DeliveryWorker
from kiosk.cli import main
from tests.hub.records.conftest import OpenWorld
from tests.hub.records.sample import EXPECTED, START
from tests.hub.records.test_mail_delivery import pdf_text
from tests.hub.records.world import (
    GP_ADDRESS,
    REPORT,
    FhirServer,
    Relay,
    World,
    audited,
    completed_record,
    delivery,
    make_pki,
    open_consultation,
    sign,
)

ROOT = Path(__file__).parents[3]
UNREACHABLE = "serveur FHIR injoignable (ClientConnectorError)"


async def kiosk(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``kiosk ARGV`` in this process (its own event loop, in a thread): status, out, err
    (capfd: the command registers faulthandler on the real stderr)."""
    capfd.readouterr()
    status = await asyncio.to_thread(main, list(argv))
    out, err = capfd.readouterr()
    return status, out, err


async def test_show_prints_the_fhir_document(
    world_with: OpenWorld, capfd: pytest.CaptureFixture[str]
) -> None:
    world = await world_with()
    consultation_id = await completed_record(world)
    status, out, _ = await kiosk(
        capfd, "record", "show", consultation_id, "--format", "fhir", "--config", str(world.config)
    )
    assert status == 0
    bundle = Bundle.model_validate_json(out)
    assert bundle.type == "document" and bundle.entry is not None
    values = [
        (r.code.coding[0].code, Decimal(str(r.valueQuantity.value)))
        for r in (e.resource for e in bundle.entry)
        if isinstance(r, Observation) and r.code and r.code.coding and r.valueQuantity
    ]
    assert values == EXPECTED
    [shown] = await audited(world, "record_show")
    assert (shown.target, shown.client, shown.detail) == (
        consultation_id,
        "cli",
        {"format": "fhir"},
    )


async def test_show_writes_the_pdf(
    tmp_path: Path, world_with: OpenWorld, capfd: pytest.CaptureFixture[str]
) -> None:
    world = await world_with()
    consultation_id = await completed_record(world)
    out_file = tmp_path / "cr.pdf"
    status, out, _ = await kiosk(
        capfd, "record", "show", consultation_id, "--format", "pdf",
        "--config", str(world.config), "--output", str(out_file),
    )  # fmt: skip
    assert status == 0 and str(out_file) in out
    pdf = out_file.read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert REPORT.conclusion is not None and REPORT.conclusion in pdf_text(pdf, tmp_path)


async def test_show_refuses_an_unknown_or_unfinished_record(
    world_with: OpenWorld, capfd: pytest.CaptureFixture[str]
) -> None:
    world = await world_with()
    config = str(world.config)
    status, out, err = await kiosk(capfd, "record", "show", "nope", "--config", config)
    assert (status, out) == (1, "")
    assert err == "refused: no record for consultation nope\n"
    # Signed, the cabin's part not there yet.
    consultation_id = await open_consultation(world.db, session_id="s-43")
    await sign(world.db, world.settings, consultation_id, START)
    status, _, err = await kiosk(capfd, "record", "show", consultation_id, "--config", config)
    assert status == 1
    assert err == f"refused: the record of {consultation_id} is not whole yet (cabin_part)\n"
    assert await audited(world, "record_show") == []


async def dead_world(tmp_path: Path, world_with: OpenWorld) -> tuple[World, str, FhirServer]:
    """A record whose mail (a relay without STARTTLS) and FHIR (nothing listening)
    deliveries are dead after one attempt each."""
    server = FhirServer()
    relay = Relay(None)
    with relay:
        world = await world_with(
            relay.toml(make_pki(tmp_path / "pki"), max_attempts=1) + server.toml(max_attempts=1)
        )
        consultation_id = await completed_record(world)
        outcome = await DeliveryWorker(world.ctx()).deliver_due()
    assert outcome.failed == 2
    return world, consultation_id, server


async def test_dead_letters_listed_then_replayed(
    tmp_path: Path, world_with: OpenWorld, capfd: pytest.CaptureFixture[str]
) -> None:
    world, consultation_id, server = await dead_world(tmp_path, world_with)
    config = str(world.config)
    mail = await delivery(world, consultation_id, "mail")
    fhir = await delivery(world, consultation_id, "fhir")
    status, out, _ = await kiosk(capfd, "hub", "records", "dead", "--config", config)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "id\tconsultation\tchannel\tattempts\tlast error"
    assert sorted(lines[1:]) == sorted(
        [
            f"{mail.id}\t{consultation_id}\tmail\t1\t{mail.last_error}",
            f"{fhir.id}\t{consultation_id}\tfhir\t1\t{UNREACHABLE}",
        ]
    )
    assert GP_ADDRESS not in out and "Dupont" not in out

    status, _, err = await kiosk(capfd, "hub", "records", "replay", "999", "--config", config)
    assert (status, err) == (1, "refused: no delivery 999\n")
    status, out, _ = await kiosk(
        capfd, "hub", "records", "replay", str(fhir.id), "--config", config
    )
    assert status == 0
    assert f"delivery {fhir.id} (fhir, consultation {consultation_id}) replayed" in out
    status, _, err = await kiosk(
        capfd, "hub", "records", "replay", str(fhir.id), "--config", config
    )
    assert (status, err) == (
        1,
        f"refused: delivery {fhir.id} is pending: only a dead one is replayed\n",
    )

    await server.up()
    try:
        outcome = await DeliveryWorker(world.ctx()).deliver_due()
    finally:
        await server.down()
    assert outcome.delivered == 1  # the mail stays dead: not replayed
    assert (await delivery(world, consultation_id, "fhir")).state == "delivered"
    assert (server.posts, len(server.stored)) == (1, 1)

    status, out, _ = await kiosk(capfd, "hub", "records", "replay", "--all", "--config", config)
    assert status == 0 and f"delivery {mail.id} (mail" in out
    assert (await delivery(world, consultation_id, "mail")).state == "pending"
    replays = await audited(world, "record_delivery_replay", consultation_id)
    assert [(e.detail["channel"], e.actor_role) for e in replays] == [
        ("fhir", "technician"), ("mail", "technician"),
    ]  # fmt: skip
    status, out, _ = await kiosk(capfd, "hub", "records", "dead", "--config", config)
    assert out.splitlines()[1:] == []


async def test_the_console_script_lists_them(tmp_path: Path, world_with: OpenWorld) -> None:
    """The real entry point (the venv's `kiosk`), as a technician runs it."""
    world, consultation_id, _ = await dead_world(tmp_path, world_with)
    config = str(world.config)
    out, err, status = await run_kiosk("hub", "records", "dead", "--config", config)
    assert status == 0, err
    assert out.count(consultation_id) == 2
    out, err, status = await run_kiosk("hub", "records", "replay", "999", "--config", config)
    assert (out, err, status) == ("", "refused: no delivery 999\n", 1)


async def run_kiosk(*argv: str) -> tuple[str, str, int | None]:
    script = Path(sys.executable).with_name("kiosk")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = await asyncio.create_subprocess_exec(
        script, *argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return out.decode(), err.decode(), proc.returncode
