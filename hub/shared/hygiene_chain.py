"""The rule of the disinfection log's hash chain, for the cabin that writes it and the hub
that receives and checks it.

hash = sha256(prev_hash + canonical JSON of the entry), canonical = sorted keys, no
spaces, UTF-8; the first entry follows ``GENESIS_HASH``. The entry's content includes
its own ``seq``, so moving an entry changes its hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from typing import Any

GENESIS_HASH = "0" * 64


def canonical(content: Any) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def chain_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(content)).hexdigest()


@dataclasses.dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def first_break(entries: Iterable[tuple[dict[str, Any], str, str]]) -> ChainBreak | None:
    """Walks (content, prev_hash, hash) in seq order from the first entry; the first one
    that does not continue the chain, or None when all of it verifies."""
    prev = GENESIS_HASH
    expected_seq = 1
    for content, prev_hash, digest in entries:
        seq = content.get("seq")
        if seq != expected_seq:
            return ChainBreak(expected_seq, f"entry {expected_seq} is missing")
        if prev_hash != prev:
            return ChainBreak(expected_seq, "it does not follow the previous entry")
        if chain_hash(prev, content) != digest:
            return ChainBreak(expected_seq, "content does not match its hash")
        prev = digest
        expected_seq += 1
    return None
