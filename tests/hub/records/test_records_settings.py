"""The [records] section: what it refuses, each with a message that says what to fix;
certificate files that cannot be used stop the hub's start naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.context import HubContext
from hub.records.delivery import DeliveryWorker
from hub.router import LocalRouter
from hub.settings import load_hub_settings
from hub.shared.config_file import ConfigError
from hub.shared.tasks import TaskSupervisor
from tests.hub.fleet import write_hub_config
from tests.hub.records.world import HUB_ADDRESS, make_pki

SMTP = """
[records.smtp]
host = "{host}"
from_address = "teleconsultation@hub.mssante.fr"
{more}
"""


@pytest.mark.parametrize(
    ("records", "message"),
    [
        (
            SMTP.format(host="relay.example.fr", more="first_retry_s = 60\nmax_retry_s = 30"),
            "max_retry_s must not be below first_retry_s",
        ),
        (
            SMTP.format(host="relay.example.fr", more='client_cert = "/etc/kiosk/hub.pem"'),
            "client_cert and client_key go together",
        ),
        (
            SMTP.format(host="relay.example.fr", more="starttls = false"),
            "starttls = false is only allowed towards a relay on localhost",
        ),
        ('[records.fhir]\nendpoint = "ftp://fhir.example.fr"', "http:// or https:// URL"),
        ("[records.retention]\nrecords_days = 0", "greater than or equal to 1"),
    ],
)
def test_bad_records_settings_are_refused(tmp_path: Path, records: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_hub_settings(write_hub_config(tmp_path, extra=records))


def test_the_defaults(tmp_path: Path) -> None:
    records = load_hub_settings(write_hub_config(tmp_path)).records
    assert records.smtp is None and records.fhir.endpoint is None
    r = records.retention
    assert (r.records_days, r.audit_days, r.bookings_days) == (90, 365, 90)
    assert records.delivery_interval_s == 10.0


async def test_unusable_certificate_files_stop_the_start_with_the_setting_named(
    tmp_path: Path,
) -> None:
    pki = make_pki(tmp_path / "pki")
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("not a certificate\n")
    cases = [
        (
            f'[records.smtp]\nhost = "127.0.0.1"\nfrom_address = "{HUB_ADDRESS}"\n'
            f'ca_file = "{tmp_path / "missing.pem"}"',
            r"\[records.smtp\] ca_file .*missing.pem: No such file or directory",
        ),
        (
            f'[records.smtp]\nhost = "127.0.0.1"\nfrom_address = "{HUB_ADDRESS}"\n'
            f'client_cert = "{not_pem}"\nclient_key = "{pki.client_key}"',
            r"\[records.smtp\] client_cert .*not.pem / client_key .*client.key: not a usable PEM",
        ),
        (
            f'[records.fhir]\nendpoint = "https://fhir.example.fr"\nca_file = "{not_pem}"',
            r"\[records.fhir\] ca_file .*not.pem: not a usable PEM file",
        ),
    ]
    for n, (records, message) in enumerate(cases):
        settings = load_hub_settings(write_hub_config(tmp_path / str(n), extra=records))
        ctx = HubContext(settings=settings, db=None, router=LocalRouter(), tasks=TaskSupervisor())  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=message):
            DeliveryWorker(ctx)
