"""What the record pipeline's tests share: a migrated store with a site's cabins and a
doctor (``open_world``), a consultation, the cabin's part of its record (from
tests/hub/records/sample.py: the decoders' real measurements and the printer's
prescription) and the record completed (``completed_record``), a certificate authority
for the mail relay and the hub's client certificate, an SMTP relay (aiosmtpd, STARTTLS)
and a FHIR server (aiohttp) on loopback that keep what they receive, the delivery worker
running (``running_worker``) and waits on its deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import email
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
import uuid
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from hub.cabins.enrolment import add_cabin
from hub.cabins.ingest import apply_item
from hub.context import HubContext
from hub.records.delivery import DeliveryWorker
from hub.records.reports import sign_report
from hub.router import LocalRouter
from hub.settings import HubSettings, load_hub_settings
from hub.shared.record import Report
from hub.shared.tasks import TaskSupervisor
from hub.shared.wire import CabinRecord, OutboxItem, PrintedCopy
from hub.store import Database, migrate
from hub.store.models import Account, AuditEntry, Consultation, RecordDelivery
from hub.sync_sites import sync_sites
from tests.hub.fleet import add_person, write_hub_config
from tests.hub.records.sample import START, sample_record
from tests.polling import until

DOCTOR = "dr.martin"
DOCTOR_NAME = "Dr Claire Martin"
CABIN = "nangis-1"
OTHER_CABIN = "chelles-1"
SESSION = "s-42"
GP_ADDRESS = "anne.roux@medecin.mssante.fr"
HUB_ADDRESS = "teleconsultation@hub.mssante.fr"
CLIENT_CN = "hub-teleconsultation"
REPORT = Report(
    reason="Fièvre depuis 3 jours, toux",
    findings="Tension à 142/88, SpO2 97 %, 37,8 °C",
    conclusion="Bronchite aiguë probablement virale",
    advice="Boire abondamment, repos",
    follow_up="Revoir son médecin traitant sous 48 h si la fièvre persiste",
)


def context(settings: HubSettings, db: Database, now: dt.datetime | None = None) -> HubContext:
    ctx = HubContext(settings=settings, db=db, router=LocalRouter(), tasks=TaskSupervisor())
    if now is not None:
        ctx.clock = lambda: now
    return ctx


async def seed(db: Database, settings: HubSettings) -> None:
    await sync_sites(db, settings)
    await add_person(db, DOCTOR, roles=["doctor"], sites=["NAN231"], name=DOCTOR_NAME)
    async with db.transaction() as s:
        now = dt.datetime.now(dt.UTC)
        await add_cabin(s, CABIN, "NAN231", now, dt.timedelta(hours=1))
        await add_cabin(s, OTHER_CABIN, "CHE132", now, dt.timedelta(hours=1))


async def open_consultation(
    db: Database, cabin_id: str = CABIN, session_id: str = SESSION, claimed_at: dt.datetime = START
) -> str:
    async with db.transaction() as s:
        doctor = await s.scalar(select(Account.id).where(Account.username == DOCTOR))
        assert doctor is not None
        consultation = Consultation(
            id=uuid.uuid4().hex,
            cabin_id=cabin_id,
            session_id=session_id,
            site_code="NAN231",
            doctor_id=doctor,
            claimed_at=claimed_at,
        )
        s.add(consultation)
    return consultation.id


def cabin_part(
    consultation_id: str,
    session_id: str = SESSION,
    printed_copy: PrintedCopy = "printed",
    **changes: Any,
) -> CabinRecord:
    r = sample_record()
    data: dict[str, Any] = {
        "consultation_id": consultation_id,
        "session_id": session_id,
        "started_at": r.started_at,
        "ended_at": r.ended_at,
        "patient": r.patient,
        "general_practitioner": r.general_practitioner,
        "observations": r.observations,
        "prescription_lines": r.prescription_lines,
        "prescription": r.prescription,
        "printed_copy": printed_copy,
    }
    data.update(changes)
    return CabinRecord.model_validate(data)


def outbox_item(part: CabinRecord, seq: int) -> OutboxItem:
    return OutboxItem(
        type="outbox",
        seq=seq,
        key=f"record-{part.consultation_id}-{seq}",
        kind="consultation_record",
        created_at=part.ended_at,
        payload=part.model_dump(mode="json"),
    )


async def sign(db: Database, settings: HubSettings, consultation_id: str, at: dt.datetime) -> None:
    """The doctor signs the report, as the console does (hub/records/reports.py)."""
    async with db.transaction() as s:
        consultation = await s.get(Consultation, consultation_id)
        assert consultation is not None
        await sign_report(s, consultation, REPORT, at, settings, actor=DOCTOR)


@dataclasses.dataclass
class World:
    """A hub's configuration file, its settings and its migrated, seeded store."""

    config: Path
    settings: HubSettings
    db: Database
    seq: int = 0  # the cabin's last outbox sequence number

    def ctx(self, now: dt.datetime | None = None) -> HubContext:
        return context(self.settings, self.db, now)


async def open_world(folder: Path, records: str = "") -> World:
    """The caller closes ``world.db``."""
    config = write_hub_config(folder, extra=records)
    settings = load_hub_settings(config)
    db = Database(settings.database_url)
    await migrate.upgrade(db)
    await seed(db, settings)
    return World(config, settings, db)


async def receive_part(world: World, part: CabinRecord, at: dt.datetime) -> None:
    """The cabin's outbox item applied, as the gateway does."""
    world.seq += 1
    async with world.db.transaction() as s:
        await apply_item(s, CABIN, outbox_item(part, world.seq), at, world.settings)


async def completed_record(
    world: World,
    session_id: str = SESSION,
    printed_copy: PrintedCopy = "printed",
    at: dt.datetime | None = None,
) -> str:
    """A consultation whose cabin part came and whose report is signed (both ``at``, by
    default at the consultation's end: the record completes then): its id."""
    consultation_id = await open_consultation(world.db, session_id=session_id)
    part = cabin_part(consultation_id, session_id, printed_copy)
    await receive_part(world, part, at or part.ended_at)
    await sign(world.db, world.settings, consultation_id, at or part.ended_at)
    return consultation_id


# --- certificates ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


def _cert(
    subject: str,
    issuer: x509.Name | None,
    signer: ec.EllipticCurvePrivateKey | None,
    *,
    ca: bool = False,
    san: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    else:
        assert signer is not None
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    if san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    return builder.sign(signer or key, hashes.SHA256()), key


def make_pki(folder: Path) -> Pki:
    """A test CA, the relay's certificate for 127.0.0.1, and the hub's client certificate."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_cert, ca_key = _cert("Test MSSante CA", None, None, ca=True)
    server, server_key = _cert("127.0.0.1", ca_cert.subject, ca_key, san=True)
    client, client_key = _cert(CLIENT_CN, ca_cert.subject, ca_key)
    ca = _write(folder / "ca.pem", ca_cert, ca_key)
    s = _write(folder / "relay.pem", server, server_key)
    c = _write(folder / "client.pem", client, client_key)
    return Pki(ca, s, s.with_suffix(".key"), c, c.with_suffix(".key"))


# --- the mail relay -------------------------------------------------------------------


@dataclasses.dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool
    client_cn: str | None


class Inbox:
    """aiosmtpd's handler: what arrived, with whether it came over TLS and from which
    client certificate."""

    def __init__(self) -> None:
        self.mails: list[Received] = []
        self.refuse_rcpt: str | None = None  # e.g. "550 5.1.1 <address>: no such user"
        self._lock = threading.Lock()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_rcpt is not None:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.content
        assert isinstance(raw, bytes)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        extra = session.ssl or {}
        peer = extra.get("peercert") if isinstance(extra, dict) else None
        cn = None
        if peer:
            for rdn in peer.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        cn = value
        with self._lock:
            self.mails.append(
                Received(str(envelope.mail_from), list(envelope.rcpt_tos), parsed, bool(extra), cn)
            )
        return "250 Message accepted for delivery"

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.mails)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Relay:
    """aiosmtpd on 127.0.0.1 in its thread; with a PKI: STARTTLS required, client
    certificates verified against the CA (optional, the handler tells who presented one;
    or required, as an MSSanté operator's relay)."""

    def __init__(self, pki: Pki | None, *, require_client_cert: bool = False) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        context = None
        if pki is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
            context.load_cert_chain(pki.server_cert, pki.server_key)
            context.verify_mode = ssl.CERT_REQUIRED if require_client_cert else ssl.CERT_OPTIONAL
        self.controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=context is not None,
            ready_timeout=10.0,
        )

    def __enter__(self) -> Relay:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def toml(self, pki: Pki | None, *, client_cert: bool = True, **more: object) -> str:
        lines = [
            "[records.smtp]",
            'host = "127.0.0.1"',
            f"port = {self.port}",
            f'from_address = "{HUB_ADDRESS}"',
            "first_retry_s = 0.05",
            "max_retry_s = 0.2",
            "timeout_s = 5",
        ]
        if pki is not None:
            lines.append(f'ca_file = "{pki.ca}"')
        if pki is not None and client_cert:
            lines += [f'client_cert = "{pki.client_cert}"', f'client_key = "{pki.client_key}"']
        lines += [f"{k} = {json.dumps(v)}" for k, v in more.items()]
        return "\n".join(lines) + "\n"


# --- the FHIR server ------------------------------------------------------------------


class FhirServer:
    """A FHIR server's transaction endpoint (POST [base]) that honours a conditional
    create on a Bundle's identifier, as a real one does, and keeps what it stored.
    ``lose_next_response``: it stores the next one and drops the connection unanswered
    (a response lost on the way back); ``fail_with``: the next requests' statuses (503:
    up but unavailable), nothing stored."""

    def __init__(self, pki: Pki | None = None) -> None:
        self.port = free_port()
        self.pki = pki  # HTTPS with the relay's certificate (for 127.0.0.1) when given
        self.posts = 0
        self.stored: dict[str, dict[str, Any]] = {}
        self.lose_next_response = False
        self.fail_with: list[int] = []
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.pki is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}/fhir"

    async def _transaction(self, request: web.Request) -> web.StreamResponse:
        self.posts += 1
        if self.fail_with:
            return web.Response(status=self.fail_with.pop(0), text="unavailable")
        bundle = await request.json()
        assert request.content_type == "application/fhir+json"
        assert bundle["resourceType"] == "Bundle" and bundle["type"] == "transaction"
        responses = []
        for entry in bundle["entry"]:
            req = entry["request"]
            assert req["method"] == "POST" and req["url"] == "Bundle"
            condition = req["ifNoneExist"]
            if condition in self.stored:
                responses.append({"response": {"status": "200 OK"}})
            else:
                self.stored[condition] = entry["resource"]
                responses.append({"response": {"status": "201 Created"}})
        if self.lose_next_response:
            self.lose_next_response = False
            assert request.transport is not None
            request.transport.close()
            raise asyncio.CancelledError  # aiohttp: the handler ends with the connection
        return web.json_response(
            {"resourceType": "Bundle", "type": "transaction-response", "entry": responses},
            content_type="application/fhir+json",
        )

    async def up(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.add_routes([web.post("/fhir", self._transaction)])
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        tls = None
        if self.pki is not None:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(self.pki.server_cert, self.pki.server_key)
        await web.TCPSite(self._runner, "127.0.0.1", self.port, ssl_context=tls).start()

    async def down(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def toml(self, **more: object) -> str:
        lines = [
            "[records.fhir]",
            f'endpoint = "{self.url}"',
            "first_retry_s = 0.05",
            "max_retry_s = 0.2",
            "timeout_s = 5",
        ]
        lines += [f"{k} = {json.dumps(v)}" for k, v in more.items()]
        return "\n".join(lines) + "\n"


# --- the delivery worker --------------------------------------------------------------


@contextlib.asynccontextmanager
async def running_worker(world: World) -> AsyncIterator[DeliveryWorker]:
    """The hub's delivery worker, its loop running, stopped after."""
    ctx = world.ctx()
    worker = DeliveryWorker(ctx)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
        await ctx.tasks.cancel_all(5.0)


async def delivery(world: World, consultation_id: str, channel: str) -> RecordDelivery:
    async with world.db.read() as s:
        row = await s.scalar(
            select(RecordDelivery).where(
                RecordDelivery.consultation_id == consultation_id,
                RecordDelivery.channel == channel,
            )
        )
    assert row is not None
    return row


async def audited(world: World, action: str, target: str | None = None) -> list[AuditEntry]:
    async with world.db.read() as s:
        query = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        if target is not None:
            query = query.where(AuditEntry.target == target)
        return list(await s.scalars(query))


def fast_worker_toml() -> str:
    """[records] that looks for due deliveries every 20 ms (tests)."""
    return "[records]\ndelivery_interval_s = 0.02\n"


async def wait_state(
    world: World, consultation_id: str, channel: str, *states: str, within_s: float = 10.0
) -> RecordDelivery:
    """The delivery once it is in one of ``states``."""

    async def there() -> RecordDelivery | None:
        row = await delivery(world, consultation_id, channel)
        return row if row.state in states else None

    found: RecordDelivery | None = await until(
        there, within_s, f"the {channel} delivery {'/'.join(states)}"
    )
    assert found is not None
    return found


async def wait_outcomes(world: World, consultation_id: str, n: int) -> None:
    """Until ``n`` delivery attempts of the record have ended (their audit entries)."""

    async def ended() -> bool:
        return len(await audited(world, "record_delivery", consultation_id)) >= n

    done: bool = await until(ended, what=f"{n} delivery attempts ended")
    assert done
