"""Loading a cabin's TOML file, with errors that name the field and its line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.shared.config_file import ConfigError, ConfigProblem, load_model
from kiosk.settings.cabin import CabinSettings

__all__ = ["ConfigError", "ConfigProblem", "load_settings"]


def load_settings(file: Path | str, **overrides: Any) -> CabinSettings:
    return load_model(file, CabinSettings, **overrides)
