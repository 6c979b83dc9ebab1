"""The [records] section: what it refuses, each with a message that says what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.settings import load_hub_settings
from hub.shared.config_file import ConfigError
from tests.hub.fleet import write_hub_config

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
