"""The record mailed to the patient's GP through the configured relay ([records.smtp]):
SMTP with STARTTLS required (the relay's certificate verified against ``ca_file`` or the
system's CAs, the structure's client certificate presented when configured), the report
as PDF and the FHIR document as attachments.

What the message says outside its attachments (headers travel through every relay and
show in notification previews): the date of the consultation and the patient's birth
year, no name. The GP files the report from the PDF, which names the patient; the birth
year lets them tell two reports of the same day apart before opening them, and is
something they know of every patient of theirs. The attachments' file names carry the
date only. The Message-ID is the record's, so a resend (a reply lost after the relay
took the message) is recognisable as the same message."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from hub.records.delivery_errors import DeliveryFailed, file_problem
from hub.records.fhir_document import document_json
from hub.settings import SmtpSettings
from hub.shared import l10n
from hub.shared.prescription import PARIS, doctor_title
from hub.shared.record import ConsultationRecord
from hub.shared.report_pdf import render_report
from hub.store.models import RecordDelivery

FHIR_JSON = ("application", "fhir+json")
NO_STARTTLS = "STARTTLS extension not supported"  # aiosmtplib's words


def subject(record: ConsultationRecord) -> str:
    day = l10n.long_date(record.started_at.astimezone(PARIS).date())
    born = record.patient.birth_date.year
    return f"Compte rendu de téléconsultation du {day} — patient(e) né(e) en {born}"


def body(record: ConsultationRecord) -> str:
    start = record.started_at.astimezone(PARIS)
    day = l10n.long_date(start.date())
    doctor = doctor_title(record.practitioner.name)
    return (
        "Bonjour,\n\n"
        f"Votre patient(e) né(e) en {record.patient.birth_date.year} a été vu(e) en "
        f"téléconsultation le {day} à {start:%H h %M} par {doctor} "
        f"(RPPS {record.practitioner.rpps}), depuis la cabine de téléconsultation "
        f"« {record.site_name} ».\n\n"
        "Vous trouverez ci-joints :\n"
        "- le compte rendu de la consultation (PDF) ;\n"
        "- le même compte rendu au format FHIR R4 (document JSON), à intégrer au dossier "
        "du patient.\n\n"
        "Ce message est envoyé automatiquement par le service de téléconsultation ; "
        "merci de ne pas y répondre.\n"
    )


def message(record: ConsultationRecord, sender: str, to: str) -> EmailMessage:
    day = record.started_at.astimezone(PARIS).date().isoformat()
    domain = sender.rsplit("@", 1)[-1]
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject(record)
    msg["Date"] = format_datetime(record.signed_at or record.started_at)
    msg["Message-ID"] = f"<compte-rendu.{record.record_id}@{domain}>"
    msg.set_content(body(record))
    msg.add_attachment(
        render_report(record),
        maintype="application",
        subtype="pdf",
        filename=f"compte-rendu-{day}.pdf",
    )
    msg.add_attachment(
        document_json(record).encode(),
        maintype=FHIR_JSON[0],
        subtype=FHIR_JSON[1],
        filename=f"compte-rendu-{day}.fhir.json",
    )
    return msg


def tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    """ValueError naming the setting when a file cannot be used."""
    try:
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file is not None else None
        )
    except OSError as exc:  # ssl.SSLError is one
        raise ValueError(f"[records.smtp] ca_file {settings.ca_file}: {file_problem(exc)}") from exc
    if settings.client_cert is not None and settings.client_key is not None:
        try:
            context.load_cert_chain(settings.client_cert, settings.client_key)
        except OSError as exc:
            raise ValueError(
                f"[records.smtp] client_cert {settings.client_cert} / client_key "
                f"{settings.client_key}: {file_problem(exc)}"
            ) from exc
    return context


def _refusal(exc: Exception) -> DeliveryFailed | None:
    """The relay answered no: by its code (5xx: for good) and kind only, its text may
    quote the address."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = sorted({e.code for e in exc.recipients})
        permanent = all(code >= 500 for code in codes)
        return DeliveryFailed(
            f"destinataire refusé par le relais (SMTP {', '.join(map(str, codes))})",
            permanent=permanent,
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return DeliveryFailed(
            f"refus du relais SMTP ({exc.code}, {type(exc).__name__})",
            permanent=exc.code >= 500,
        )
    return None


def _failure(exc: Exception) -> DeliveryFailed:
    """What went wrong, without the relay's text: a refusal, or the relay away."""
    refused = _refusal(exc)
    if refused is not None:
        return refused
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        message = "le relais SMTP ne répond pas"
    elif isinstance(exc, ssl.SSLError):
        message = f"TLS avec le relais SMTP : {exc.reason}"
    elif isinstance(exc, aiosmtplib.SMTPException) and NO_STARTTLS in str(exc):
        # A relay that does not offer it (or someone on the way who removed it).
        message = "le relais SMTP ne propose pas STARTTLS"
    elif isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected | OSError):
        message = f"relais SMTP injoignable ({type(exc).__name__})"
    else:
        message = f"échec SMTP ({type(exc).__name__})"
    return DeliveryFailed(message, receiver_away=True)


class MailChannel:
    name = "mail"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.retries = settings
        self._context = tls_context(settings)  # a bad path stops the hub's start

    async def send(self, record: ConsultationRecord, delivery: RecordDelivery) -> None:
        s = self.settings
        msg = message(record, s.from_address, delivery.target)
        try:
            await aiosmtplib.send(
                msg,
                hostname=s.host,
                port=s.port,
                start_tls=s.starttls,  # True: a relay that does not offer it gets nothing
                use_tls=False,
                tls_context=self._context if s.starttls else None,
                timeout=s.timeout_s,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise _failure(exc) from exc
