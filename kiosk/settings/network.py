"""Where the daemon's local API listens (this machine only: the touchscreen), and the
cabin's own ICE servers (the hub adds its STUN and TURN)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hub.shared.hosts import is_loopback


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


class NetworkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    listen_host: str = Field(
        "127.0.0.1", description="the touchscreen's API: a loopback address only"
    )
    listen_port: int = Field(8740, ge=0, le=65535, description="0: any free port (tests)")
    ice_servers: list[IceServer] = Field(default_factory=list)
    ice_loopback: bool = Field(
        False,
        description="tests/demo only: offer 127.0.0.1 as an ICE candidate (netns with only lo)",
    )

    @field_validator("listen_host")
    @classmethod
    def _loopback_only(cls, host: str) -> str:
        if not is_loopback(host):
            raise ValueError(
                "the cabin listens on this machine only (its touchscreen): nothing connects "
                "to a cabin from outside, the doctors' console is at the hub"
            )
        return host
