"""The record POSTed to the configured FHIR server ([records.fhir] endpoint) as a
transaction.

What is sent: a Bundle of type ``transaction`` (POST [base]) with one entry, the record's
FHIR document (hub/records/fhir_document.py) created at the server's Bundle endpoint:
``request: {method: POST, url: Bundle, ifNoneExist: identifier=<system>|<value>}``. Why
not the document's resources as separate entries: a document is an attested whole, the
FHIR specification stores it as such ("Documents ... stored at the Bundle endpoint", R4
documents.html; the Composition/$document operation's ``persist`` parameter writes it
there too), and splitting it would lose the signature's unit. The document's
``Bundle.identifier`` is derived from the record id (the same record, the same
identifier), so the entry is a conditional create: a retry after a lost response finds
the first one and creates nothing (R4 http.html "conditional create", in a transaction
``Bundle.entry.request.ifNoneExist``, its query part only).

Outcomes: a 2xx whose transaction-response entry says 201 (created) or 200 (it existed:
sent before) is delivered; no connection, a timeout, a 5xx, 408 or 429: retried later;
another 4xx: the server refuses this record, dead at once (the technician's list)."""

from __future__ import annotations

import json
import ssl
from typing import Any

import aiohttp
from fhir.resources.R4B.bundle import Bundle

from hub.records.delivery_errors import DeliveryFailed, file_problem
from hub.records.fhir_document import build_document
from hub.settings import FhirSettings
from hub.shared.record import ConsultationRecord
from hub.store.models import RecordDelivery

FHIR_JSON = "application/fhir+json"
RETRYABLE_STATUS = frozenset({408, 429})


def transaction(record: ConsultationRecord) -> Bundle:
    """The transaction that creates the record's document once."""
    document = build_document(record)
    assert document.identifier is not None  # build_document always sets it
    ident = document.identifier
    entry = {
        "fullUrl": ident.value,
        "resource": document.model_dump(mode="json", exclude_none=True),
        "request": {
            "method": "POST",
            "url": "Bundle",
            "ifNoneExist": f"identifier={ident.system}|{ident.value}",
        },
    }
    return Bundle.model_validate(
        {"resourceType": "Bundle", "type": "transaction", "entry": [entry]}
    )


def transaction_json(record: ConsultationRecord) -> str:
    return transaction(record).model_dump_json(exclude_none=True)


def _created(answer: Any) -> bool:
    """The transaction-response's one entry says 200 or 201."""
    try:
        status = str(answer["entry"][0]["response"]["status"])
    except (KeyError, IndexError, TypeError):
        return False
    return status.startswith(("200", "201"))


class FhirChannel:
    name = "fhir"

    def __init__(self, settings: FhirSettings) -> None:
        if settings.endpoint is None:
            raise ValueError("no [records.fhir] endpoint")
        self.settings = settings
        self.retries = settings
        self.endpoint = settings.endpoint
        self._ssl: ssl.SSLContext | bool = True
        if settings.ca_file is not None:
            try:
                self._ssl = ssl.create_default_context(cafile=str(settings.ca_file))
            except OSError as exc:  # ssl.SSLError is one
                raise ValueError(
                    f"[records.fhir] ca_file {settings.ca_file}: {file_problem(exc)}"
                ) from exc

    async def send(self, record: ConsultationRecord, delivery: RecordDelivery) -> None:
        body = transaction_json(record).encode()
        headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.post(self.endpoint, data=body, headers=headers, ssl=self._ssl) as resp,
            ):
                status = resp.status
                text = await resp.text() if 200 <= status < 300 else ""
        except TimeoutError as exc:
            raise DeliveryFailed(
                f"le serveur FHIR ne répond pas en {self.settings.timeout_s:g} s",
                receiver_away=True,
            ) from exc
        except aiohttp.ClientError as exc:
            # Its class only: aiohttp's text names the URL, whose query may hold a token.
            raise DeliveryFailed(
                f"serveur FHIR injoignable ({type(exc).__name__})", receiver_away=True
            ) from exc
        if 200 <= status < 300:
            try:
                answer = json.loads(text)
            except json.JSONDecodeError:
                answer = None
            if _created(answer):
                return
            raise DeliveryFailed(f"réponse FHIR inattendue (HTTP {status})", receiver_away=True)
        if status >= 500 or status in RETRYABLE_STATUS:
            raise DeliveryFailed(f"serveur FHIR indisponible (HTTP {status})", receiver_away=True)
        raise DeliveryFailed(f"document refusé par le serveur FHIR (HTTP {status})", permanent=True)
