"""The BLE adapter of an instrument comes from its configuration (a cabin with two
adapters, or bluezoo's two in the tests, must not let BlueZ pick either)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from devices.ble.link import BleLink
from devices.config import InstrumentSettings
from devices.factory import make_link


def test_configured_adapter_reaches_the_ble_link() -> None:
    settings = InstrumentSettings.model_validate(
        {
            "name": "tensiometre",
            "kind": "blood_pressure",
            "transport": "ble",
            "address": "00:1A:7D:DA:71:02",
            "adapter": "hci0",
        }
    )
    link = make_link(settings)
    assert isinstance(link, BleLink)
    assert link._adapter == "hci0"
    assert link._bluez == {"adapter": "hci0"}


def test_no_adapter_lets_bluez_choose() -> None:
    settings = InstrumentSettings(
        name="t", kind="blood_pressure", transport="ble", address="00:1A:7D:DA:71:02"
    )
    link = make_link(settings)
    assert isinstance(link, BleLink) and link._bluez == {}


def test_bad_adapter_name_is_refused() -> None:
    with pytest.raises(ValidationError, match="adapter"):
        InstrumentSettings.model_validate(
            {"name": "t", "kind": "scale", "transport": "ble", "adapter": "/dev/hci0"}
        )
