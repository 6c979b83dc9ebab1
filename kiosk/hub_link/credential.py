"""The cabin's hub credential, got once by ``kiosk enrol`` and kept in the state directory,
readable by the daemon's user only. It is the cabin's only secret."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

FILE_NAME = "hub-credential.json"


class CredentialMissing(Exception):
    """The cabin was never enrolled (or its credential file was removed)."""


@dataclasses.dataclass(frozen=True)
class Credential:
    cabin_id: str
    secret: str

    def authorization(self) -> str:
        return f"Bearer {self.cabin_id}:{self.secret}"

    def __repr__(self) -> str:  # never print the secret
        return f"Credential(cabin_id={self.cabin_id!r})"


def path_in(state_dir: Path) -> Path:
    return state_dir / FILE_NAME


def save(state_dir: Path, credential: Credential) -> Path:
    state_dir.mkdir(parents=True, exist_ok=True)
    target = path_in(state_dir)
    partial = target.with_suffix(".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"cabin_id": credential.cabin_id, "credential": credential.secret}, f)
    partial.replace(target)
    return target


def load(state_dir: Path) -> Credential:
    target = path_in(state_dir)
    try:
        data = json.loads(target.read_text())
        return Credential(str(data["cabin_id"]), str(data["credential"]))
    except FileNotFoundError:
        why = f"{target} does not exist: enrol the cabin ('kiosk enrol')"
        raise CredentialMissing(why) from None
    except (ValueError, KeyError, TypeError):
        why = f"{target} is not a credential file: enrol the cabin again"
        raise CredentialMissing(why) from None
