"""Fixtures for the daemon's own tests: a cabin configuration in a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.settings import CabinSettings, load_settings

BASE_TOML = """
[site]
cabin_id = "test-01"
name = "Cabine de test"
address = "1 rue de la Paix, 77000 Melun, France"

[hours]
always_open = {always_open}

[hours.weekly]
{weekly}

[network]
listen_host = "127.0.0.1"
listen_port = 0

[storage]
state_dir = "{state_dir}"
"""

WriteConfig = Callable[..., Path]


@pytest.fixture
def write_config(tmp_path: Path) -> WriteConfig:
    def write(
        *,
        always_open: bool = True,
        weekly: str = 'monday = ["09:00-12:00", "13:30-17:00"]',
        extra: str = "",
        name: str = "cabin.toml",
    ) -> Path:
        path = tmp_path / name
        path.write_text(
            BASE_TOML.format(
                always_open=str(always_open).lower(),
                weekly=weekly,
                state_dir=tmp_path / "state",
            )
            + extra,
            encoding="utf-8",
        )
        return path

    return write


@pytest.fixture
def settings(write_config: WriteConfig) -> CabinSettings:
    return load_settings(write_config())
