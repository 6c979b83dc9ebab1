"""Loading a TOML configuration file (a cabin's or the hub's) into a pydantic model, with
errors that name the field and its line."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


@dataclasses.dataclass(frozen=True)
class ConfigProblem:
    path: str  # dotted field path, e.g. "instruments.0.port"
    message: str
    line: int | None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.path or '(file)'}: {self.message}"


class ConfigError(Exception):
    """The configuration file cannot be used. ``problems`` lists every error found."""

    def __init__(self, file: Path, problems: list[ConfigProblem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(f"{file}: " + "; ".join(str(p) for p in problems))


def read_toml(file: Path) -> tuple[str, dict[str, Any]]:
    """The file's text and its parsed table, or ConfigError (unreadable, not TOML)."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(file, [ConfigProblem("", f"cannot read: {exc.strerror}", None)]) from None
    except UnicodeDecodeError:
        raise ConfigError(file, [ConfigProblem("", "not UTF-8 text", None)]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise ConfigError(file, [ConfigProblem("", f"invalid TOML: {exc}", line)]) from None
    return text, data


def load_model(file: Path | str, model: type[M], **overrides: Any) -> M:
    """The file validated as ``model`` (top-level keys in ``overrides`` replace the file's)."""
    file = Path(file)
    text, data = read_toml(file)
    data.update(overrides)
    return validate(file, text, data, model)


def validate(file: Path, text: str, data: dict[str, Any], model: type[M]) -> M:
    try:
        return model(**data)
    except ValidationError as exc:
        problems = [
            ConfigProblem(
                ".".join(str(p) for p in err["loc"]),
                err["msg"],
                locate(text, tuple(err["loc"])),
            )
            for err in exc.errors()
        ]
        raise ConfigError(file, problems) from None


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"']+)\s*=")


def locate(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number of a field path in a TOML document.

    Walks table headers ([a.b] and [[a]], counting array items) and keys; returns the
    line of the deepest part of the path it finds, or None."""
    lines = text.splitlines()
    keys = [str(p) for p in loc]
    best: int | None = None
    # Table path currently open, with the index of each array-of-tables item.
    counters: dict[str, int] = {}
    current: list[str] = []
    for number, raw in enumerate(lines, start=1):
        header = _HEADER.match(raw)
        if header:
            name = header.group(2).replace(" ", "")
            parts = name.split(".")
            if header.group(1) == "[[":
                counters[name] = counters.get(name, -1) + 1
                parts = [*parts, str(counters[name])]
            current = parts
            if _is_prefix(current, keys):
                best = number
            continue
        key = _KEY.match(raw)
        if key:
            full = [*current, key.group(1).strip("\"'")]
            if _is_prefix(full, keys):
                best = number
    return best


def _is_prefix(candidate: list[str], path: list[str]) -> bool:
    return len(candidate) <= len(path) and path[: len(candidate)] == candidate
