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
from hub.shared.practitioner import check_email
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


# --- consultation records: where they go, how long the hub keeps them -------------------


class _Retries(_Section):
    """A delivery that fails is tried again after ``first_retry_s``, the wait doubling up
    to ``max_retry_s``; after ``max_attempts`` it is dead (the technician's dead-letter
    list, `kiosk hub records dead`, from which it can be replayed)."""

    max_attempts: int = Field(20, ge=1, le=1000, description="then dead: the technician's list")
    first_retry_s: float = Field(30.0, gt=0, description="the wait after a first failure")
    max_retry_s: float = Field(3600.0, gt=0, description="the doubled wait stops growing here")

    @model_validator(mode="after")
    def _retry_bounds(self) -> _Retries:
        if self.max_retry_s < self.first_retry_s:
            raise ValueError("max_retry_s must not be below first_retry_s")
        return self


class SmtpSettings(_Retries):
    """The secure-mail relay (an MSSanté operator's, or the establishment's) that carries
    the record to the patient's GP. STARTTLS is required: a relay that does not offer it
    gets nothing. MSSanté operators authenticate the sending structure by its certificate."""

    host: str = Field(min_length=1)
    port: int = Field(587, ge=1, le=65535, description="submission port")
    from_address: str = Field(description="the hub's own MSSanté (or mail) address")
    starttls: bool = Field(True, description="false only towards a relay on localhost")
    ca_file: Path | None = Field(
        None, description="CA bundle to verify the relay; else the system's"
    )
    client_cert: Path | None = Field(None, description="the structure's certificate (PEM)")
    client_key: Path | None = Field(None, description="its private key (PEM)")
    timeout_s: float = Field(30.0, gt=0, le=300, description="connect, and each SMTP reply")

    @field_validator("from_address")
    @classmethod
    def _address(cls, value: str) -> str:
        return check_email(value)

    @model_validator(mode="after")
    def _check(self) -> SmtpSettings:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key go together")
        if not self.starttls and not is_loopback(self.host):
            raise ValueError("starttls = false is only allowed towards a relay on localhost")
        return self


class FhirSettings(_Retries):
    """The FHIR server that takes each record as a transaction Bundle."""

    endpoint: str | None = Field(None, description="the server's base URL; none: not sent")
    timeout_s: float = Field(30.0, gt=0, le=300)
    ca_file: Path | None = Field(
        None, description="CA bundle to verify the server; else the system's"
    )

    @field_validator("endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("endpoint must be an http:// or https:// URL")
        return value


class RetentionSettings(_Section):
    """How long the hub keeps each kind of data, in days.

    - records: the hub is a relay, not the medical file (the signing doctor's own file and
      the patient's DMP are, with their own 20-year rule, CSP R.1112-7): 90 days leave
      time to deliver, to replay a dead delivery and for the doctor's history; counted
      from completion, or from creation for a record never completed.
    - audit: 365 days, the upper end of the CNIL's recommendation on access logs
      (délibération 2021-122: "six mois à un an").
    - bookings: 90 days after the slot, long enough for the coordinator's follow-up; a
      booking holds identity data and no health data. The same choice as the records'.
    The purge runs every ``purge_interval_s``."""

    records_days: int = Field(90, ge=1)
    audit_days: int = Field(365, ge=1)
    bookings_days: int = Field(90, ge=1)
    purge_interval_s: float = Field(3600.0, gt=0)


class RecordsSettings(_Section):
    smtp: SmtpSettings | None = Field(None, description="none: records are not mailed")
    fhir: FhirSettings = Field(default_factory=FhirSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    # Deliveries due are looked for this often (and at once when a record completes here).
    delivery_interval_s: float = Field(10.0, gt=0)


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
    records: RecordsSettings = Field(default_factory=RecordsSettings)
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
