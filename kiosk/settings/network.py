"""Where the daemon listens, TLS, and the ICE servers of the call."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator


class IceServer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    urls: list[str] = Field(min_length=1)
    username: str | None = None
    credential: SecretStr | None = None

    @field_validator("urls")
    @classmethod
    def _ice_schemes(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("stun:", "stuns:", "turn:", "turns:")):
                raise ValueError(f"{url!r} is not a stun:, stuns:, turn: or turns: URL")
        return urls

    @model_validator(mode="after")
    def _turn_needs_credentials(self) -> IceServer:
        if any(u.startswith("turn") for u in self.urls) and (
            self.username is None or self.credential is None
        ):
            raise ValueError("a TURN server needs a username and a credential")
        return self


class TlsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate: Path
    private_key: Path


class NetworkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    listen_host: str = "127.0.0.1"
    listen_port: int = Field(8740, ge=0, le=65535, description="0: any free port (tests)")
    public_url: str | None = Field(None, description="URL doctors use, when behind a proxy")
    tls: TlsSettings | None = None
    ice_servers: list[IceServer] = Field(default_factory=list)
    api_tokens_sha256: list[str] = Field(
        default_factory=list,
        description="SHA-256 (hex) of the bearer tokens allowed on /api/appointments",
    )
    ice_loopback: bool = Field(
        False,
        description="tests/demo only: offer 127.0.0.1 as an ICE candidate (netns with only lo)",
    )

    @field_validator("api_tokens_sha256")
    @classmethod
    def _hex_digests(cls, values: list[str]) -> list[str]:
        for v in values:
            if len(v) != 64 or any(c not in "0123456789abcdef" for c in v):
                raise ValueError("each token digest must be 64 lowercase hex characters")
        return values

    @model_validator(mode="after")
    def _plain_http_only_on_loopback(self) -> NetworkSettings:
        if self.tls is None and not _is_loopback(self.listen_host):
            raise ValueError(
                "plain HTTP is only allowed on localhost: configure [network.tls] "
                "to listen on another address (browsers need HTTPS for the camera)"
            )
        return self


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
