"""Which hub the cabin dials out to. The cabin's credential is not here: ``kiosk enrol``
stores it in the state directory (hub-credential.json, readable by the daemon only)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub.shared.hosts import is_loopback


class HubLinkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    urls: list[str] = Field(
        min_length=1,
        description="the hub's https:// URL(s); tried in turn when one is unreachable",
    )
    ca_file: Path | None = Field(
        None, description="CA certificate(s) of the hub's TLS, when not a public CA's"
    )

    @field_validator("urls")
    @classmethod
    def _https_off_loopback(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an https:// URL")
            if parts.scheme == "http" and not is_loopback(parts.hostname):
                raise ValueError(
                    f"{url!r}: plain http:// only to a hub on this machine; use https://"
                )
        return urls
