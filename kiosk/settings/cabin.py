"""The whole configuration of one cabin."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from devices.config import InstrumentSettings
from hub.shared.hours import OpeningHours
from hygiene.config import HygieneSettings
from kiosk.settings.hub import HubLinkSettings
from kiosk.settings.network import NetworkSettings
from kiosk.settings.site import SiteSettings
from kiosk.settings.storage import RetentionSettings, StorageSettings
from printer.config import PrinterSettings
from video.config import CallSettings


class CabinSettings(BaseSettings):
    """Loaded from a TOML file; any field can be overridden by an environment variable
    KIOSK_<SECTION>__<FIELD> (e.g. KIOSK_NETWORK__LISTEN_PORT=8443)."""

    model_config = SettingsConfigDict(
        env_prefix="KIOSK_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    site: SiteSettings
    hours: OpeningHours = Field(default_factory=OpeningHours)
    instruments: list[InstrumentSettings] = Field(default_factory=list)
    printer: PrinterSettings = Field(default_factory=PrinterSettings)
    hygiene: HygieneSettings = Field(default_factory=HygieneSettings)
    network: NetworkSettings = Field(default_factory=NetworkSettings)
    call: CallSettings = Field(default_factory=CallSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    hub: HubLinkSettings | None = Field(None, description="the hub this cabin dials out to")
    demo: bool = Field(False, description="demo mode: simulated instruments, auto-login links")

    @model_validator(mode="after")
    def _unique_instrument_names(self) -> CabinSettings:
        names = [i.name for i in self.instruments]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"instrument names must be unique: {', '.join(dupes)}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init kwargs; the environment overrides it.
        return (env_settings, init_settings)

    def instrument(self, name: str) -> InstrumentSettings:
        for inst in self.instruments:
            if inst.name == name:
                return inst
        raise KeyError(name)

    def public_dump(self) -> dict[str, Any]:
        """The configuration without secrets (password and PIN hashes, credentials)."""
        data = self.model_dump(mode="json")
        for ref in [*data["hygiene"]["referents"], *data["hygiene"]["technicians"]]:
            ref["pin_hash"] = "***"
            if ref.get("badge_uid"):
                ref["badge_uid"] = "***"
        if data["site"].get("technician_pin_hash"):
            data["site"]["technician_pin_hash"] = "***"
        return data
