"""The record mailed to the patient's GP through a real relay (aiosmtpd on loopback):
STARTTLS with the test CA, the hub's client certificate presented; the envelope goes to
the GP's MSSanté address, the subject names no patient (the birth year only), the PDF's
text (pdftotext) holds the report, the FHIR attachment is a document Bundle whose
observations carry the values measured. A relay without STARTTLS gets nothing; an
addressee refused for good (550) is dead at once, without the relay's words; a relay
that requires a client certificate gets nothing from a hub without one."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from sqlalchemy import select

from hub.records.delivery import DeliveryWorker
from hub.store.models import AuditEntry, RecordDelivery
from tests.hub.records.conftest import OpenWorld
from tests.hub.records.sample import EXPECTED, HELENE_INS
from tests.hub.records.world import (
    CLIENT_CN,
    GP_ADDRESS,
    HUB_ADDRESS,
    REPORT,
    Relay,
    completed_record,
    delivery,
    make_pki,
)

PATIENT_WORDS = ("Dupont", "Hélène", "Helene", "Marie", "1948-03-02", "02/03/1948", "2A004")


def attachment(message: EmailMessage, content_type: str) -> tuple[str, bytes]:
    for part in message.iter_attachments():
        if part.get_content_type() == content_type:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return str(part.get_filename()), payload
    raise AssertionError(f"no {content_type} attachment")


def pdf_text(pdf: bytes, folder: Path) -> str:
    path = folder / "report.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=30
    )
    return " ".join(done.stdout.decode().split())


async def test_the_gp_gets_the_record_over_starttls(tmp_path: Path, world_with: OpenWorld) -> None:
    pki = make_pki(tmp_path / "pki")
    with Relay(pki) as relay:
        world = await world_with(relay.toml(pki))
        consultation_id = await completed_record(world)
        outcome = await DeliveryWorker(world.ctx()).deliver_due()
        assert (outcome.delivered, outcome.failed) == (1, 0)
    [mail] = relay.inbox.received()
    assert mail.tls and mail.client_cn == CLIENT_CN
    assert (mail.mail_from, mail.rcpt_tos) == (HUB_ADDRESS, [GP_ADDRESS])
    msg = mail.message
    assert msg["To"] == GP_ADDRESS
    subject = str(msg["Subject"])
    assert subject == (
        "Compte rendu de téléconsultation du 23 novembre 2026 — patient(e) né(e) en 1948"
    )
    body = msg.get_body(("plain",))
    assert body is not None
    outside = subject + str(body.get_content())
    for word in (*PATIENT_WORDS, HELENE_INS, HELENE_INS.replace(" ", "")):
        assert word not in outside
    assert consultation_id in str(msg["Message-ID"])

    name, pdf = attachment(msg, "application/pdf")
    assert name == "compte-rendu-2026-11-23.pdf"
    text = pdf_text(pdf, tmp_path)
    assert REPORT.conclusion is not None and REPORT.conclusion in text
    assert "DUPONT" in text.upper()  # the GP files it by the name inside

    name, fhir = attachment(msg, "application/fhir+json")
    assert name == "compte-rendu-2026-11-23.fhir.json"
    bundle = Bundle.model_validate_json(fhir)
    assert bundle.type == "document"
    assert bundle.entry is not None
    observations = [e.resource for e in bundle.entry if isinstance(e.resource, Observation)]
    measured = []
    for o in observations:
        assert o.code is not None and o.code.coding is not None and o.valueQuantity is not None
        measured.append((o.code.coding[0].code, Decimal(str(o.valueQuantity.value))))
    assert measured == EXPECTED

    async with world.db.read() as s:
        mailed = await s.scalar(select(RecordDelivery).where(RecordDelivery.channel == "mail"))
        audits = list(
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "record_delivery"))
        )
    assert mailed is not None
    assert (mailed.state, mailed.attempts, mailed.target) == ("delivered", 1, GP_ADDRESS)
    assert [(a.target, a.detail["channel"], a.detail["state"]) for a in audits] == [
        (consultation_id, "mail", "delivered")
    ]


async def test_a_relay_without_starttls_gets_nothing(tmp_path: Path, world_with: OpenWorld) -> None:
    pki = make_pki(tmp_path / "pki")
    with Relay(None) as relay:
        world = await world_with(relay.toml(pki))  # the hub requires STARTTLS
        await completed_record(world)
        outcome = await DeliveryWorker(world.ctx()).deliver_due()
        assert (outcome.delivered, outcome.failed) == (0, 1)
        assert relay.inbox.received() == []
    async with world.db.read() as s:
        mailed = await s.scalar(select(RecordDelivery).where(RecordDelivery.channel == "mail"))
    assert mailed is not None
    assert (mailed.state, mailed.attempts) == ("retrying", 1)
    assert mailed.last_error == "le relais SMTP ne propose pas STARTTLS"


async def test_a_refused_addressee_is_dead_at_once(tmp_path: Path, world_with: OpenWorld) -> None:
    pki = make_pki(tmp_path / "pki")
    with Relay(pki) as relay:
        relay.inbox.refuse_rcpt = f"550 5.1.1 <{GP_ADDRESS}>: unknown user"
        world = await world_with(relay.toml(pki))
        consultation_id = await completed_record(world)
        outcome = await DeliveryWorker(world.ctx()).deliver_due()
        assert (outcome.delivered, outcome.failed) == (0, 1)
        assert relay.inbox.received() == []
    mailed = await delivery(world, consultation_id, "mail")
    assert (mailed.state, mailed.attempts) == ("dead", 1)
    # The relay's own words quote the address: not kept.
    assert mailed.last_error == "destinataire refusé par le relais (SMTP 550)"


async def test_a_relay_that_requires_a_client_certificate_refuses_a_hub_without(
    tmp_path: Path, world_with: OpenWorld
) -> None:
    pki = make_pki(tmp_path / "pki")
    with Relay(pki, require_client_cert=True) as relay:
        world = await world_with(relay.toml(pki, client_cert=False))
        consultation_id = await completed_record(world)
        outcome = await DeliveryWorker(world.ctx()).deliver_due()
        assert (outcome.delivered, outcome.failed) == (0, 1)
        assert relay.inbox.received() == []
    mailed = await delivery(world, consultation_id, "mail")
    assert (mailed.state, mailed.attempts) == ("retrying", 1)
    # The relay ends the TLS session (TLS 1.3: after the client's side of the handshake):
    # an alert or the connection gone, by timing.
    assert mailed.last_error is not None
    assert mailed.last_error.startswith(("relais SMTP injoignable", "TLS avec le relais SMTP"))
