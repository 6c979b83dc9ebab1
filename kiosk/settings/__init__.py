"""The cabin's configuration: pydantic models, loaded from TOML with KIOSK_ overrides."""

from kiosk.settings.cabin import CabinSettings
from kiosk.settings.loader import ConfigError, ConfigProblem, load_settings

__all__ = ["CabinSettings", "ConfigError", "ConfigProblem", "load_settings"]
