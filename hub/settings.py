"""The hub's configuration: one TOML file (``kiosk hub run --config FILE``), any field
overridable from the environment as KIOSK_HUB_<FIELD> (nested: KIOSK_HUB_TURN__SECRET)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from hub.shared.config_file import load_model
from hub.shared.hosts import is_loopback
from hub.shared.hours import OpeningHours
from hub.shared.wire import IcePolicy

DEFAULT_DATABASE = "sqlite+aiosqlite:////var/lib/kiosk-hub/hub.sqlite3"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlsSettings(_Section):
    certificate: Path
    private_key: Path


class StunServer(_Section):
    urls: list[str] = Field(min_length=1)

    @field_validator("urls")
    @classmethod
    def _stun_only(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("stun:", "stuns:")):
                raise ValueError(f"{url!r}: only stun: URLs here (TURN goes in [turn])")
        return urls


class TurnSettings(_Section):
    """coturn with ``use-auth-secret``: the hub hands out credentials that expire."""

    secret: SecretStr = Field(description="coturn's static-auth-secret")
    urls: list[str] = Field(
        min_length=1,
        description="e.g. turn:turn.example.fr:3478?transport=udp, "
        "turn:turn.example.fr:3478?transport=tcp, turns:turn.example.fr:443?transport=tcp",
    )
    ttl_s: int = Field(3600, ge=60, le=86400, description="lifetime of a handed-out credential")

    @field_validator("urls")
    @classmethod
    def _turn_only(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("turn:", "turns:")):
                raise ValueError(f"{url!r} is not a turn: or turns: URL")
        return urls


class AlertSettings(_Section):
    webhook_url: str | None = Field(None, description="alerts POSTed here as JSON; else logged")
    offline_after_minutes: int = Field(10, ge=1)
    awaiting_disinfection_after_minutes: int = Field(45, ge=1)
    battery_low_percent: int = Field(20, ge=1, le=100)
    check_interval_s: float = Field(15.0, gt=0)


class SiteConfig(_Section):
    """A place with cabins: its opening hours give the bookable slots."""

    code: str = Field(pattern=r"^[A-Z0-9]{3,16}$", description="booking code, e.g. NAN231")
    name: str = Field(min_length=1)
    address: str = Field(min_length=1)
    hours: OpeningHours
    consultation_minutes: int = Field(30, ge=5, le=180)


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KIOSK_HUB_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    listen_host: str = "127.0.0.1"
    listen_port: int = Field(8750, ge=0, le=65535, description="0: any free port (tests)")
    public_url: str | None = Field(None, description="the URL browsers and cabins use")
    tls: TlsSettings | None = None
    database_url: str = Field(DEFAULT_DATABASE, description="sqlite+aiosqlite:/// or postgresql")
    heartbeat_s: float = Field(15.0, ge=0.05, le=300, description="cabins ping this often")
    offline_after_heartbeats: int = Field(3, ge=2, description="missed pings before offline")
    session_hours: int = Field(12, ge=1, le=24, description="a login lasts a working day")
    enrolment_hours: int = Field(72, ge=1, description="an enrolment secret expires after")
    stun: list[StunServer] = Field(default_factory=list)
    turn: TurnSettings | None = None
    ice_policy: IcePolicy = Field("all", description="relay: media only through TURN")
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    sites: list[SiteConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> HubSettings:
        codes = [s.code for s in self.sites]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"site codes must be unique: {', '.join(dupes)}")
        if self.tls is None and not is_loopback(self.listen_host):
            raise ValueError(
                "plain HTTP is only allowed on localhost: configure [tls] to listen on "
                "another address (cabins and browsers reach the hub over HTTPS)"
            )
        if self.ice_policy == "relay" and self.turn is None:
            raise ValueError("ice_policy = 'relay' needs a [turn] server")
        if self.public_url is not None:
            parts = urlsplit(self.public_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"public_url {self.public_url!r} is not an http(s) URL")
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
        return (env_settings, init_settings)

    # Built once (the settings are frozen): looked up per cabin frame at fleet scale.
    _sites_by_code: dict[str, SiteConfig] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self._sites_by_code = {s.code: s for s in self.sites}

    def site(self, code: str) -> SiteConfig | None:
        return self._sites_by_code.get(code)

    @property
    def offline_after_s(self) -> float:
        return self.heartbeat_s * self.offline_after_heartbeats


def load_hub_settings(file: Path | str, **overrides: Any) -> HubSettings:
    return load_model(file, HubSettings, **overrides)
