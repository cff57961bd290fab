"""Pure rules of the audit log: the canonical entry bytes (A1) and the checkpoint note text (A2).

Both the append path and the offline verifier call these same functions, so what is hashed
at append time is exactly what the verifier recomputes from the stored columns.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from banso.kit.clock import as_utc

ENTRY_VERSION = 1
NOTE_ORIGIN = "banso.audit/v1"
MAX_TAG_LENGTH = 100


def format_ts(value: datetime) -> str:
    """Return ``value`` as ISO-8601 UTC with microseconds, e.g. ``2026-04-01T00:00:07.000000Z``."""
    if value.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def normalise_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return ``data`` as the plain JSON object that is both stored and hashed (tuples become lists)."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise TypeError("audit data must be a mapping")
    value = json.loads(json.dumps(dict(data), sort_keys=True, ensure_ascii=False, allow_nan=False))
    assert isinstance(value, dict)
    return value


def canonical_entry(
    *,
    seq: int,
    created_at: datetime,
    tag: str,
    actor_id: int | None,
    actor_label: str | None,
    subject: str | None,
    ip: str | None,
    data: Mapping[str, Any] | None,
) -> bytes:
    """Return the canonical bytes of an entry: the leaf that is hashed into the tree (A1)."""
    doc = {
        "v": ENTRY_VERSION,
        "seq": seq,
        "ts": format_ts(created_at),
        "tag": str(tag),
        "actor": actor_id,
        "actor_label": actor_label,
        "subject": subject,
        "ip": ip,
        "data": dict(data) if data is not None else {},
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


# Column name -> key in the canonical document, used to name what differs after tampering.
CANONICAL_FIELDS: dict[str, str] = {
    "seq": "seq",
    "created_at": "ts",
    "tag": "tag",
    "actor_id": "actor",
    "actor_label": "actor_label",
    "subject": "subject",
    "ip": "ip",
    "data": "data",
}


def differing_fields(leaf: bytes, recomputed: bytes) -> list[str]:
    """Return the column names whose values differ between two canonical entries."""
    try:
        stored = json.loads(leaf)
        fresh = json.loads(recomputed)
    except (ValueError, UnicodeDecodeError):
        return ["leaf"]
    if not isinstance(stored, dict) or not isinstance(fresh, dict):
        return ["leaf"]
    names = [col for col, key in CANONICAL_FIELDS.items() if stored.get(key) != fresh.get(key)]
    if stored.get("v") != fresh.get("v") or set(stored) != set(fresh):
        names.append("leaf")
    return names or ["leaf"]  # same values, different bytes: the leaf itself was rewritten


@dataclass(frozen=True)
class NoteFields:
    """What a checkpoint note states."""

    tree_size: int
    root: bytes
    timestamp: str


def checkpoint_note(*, tree_size: int, root: bytes, created_at: datetime) -> str:
    """Return the text a checkpoint signs (A2): origin, size, base64 root, time, one per line."""
    return f"{NOTE_ORIGIN}\n{tree_size}\n{base64.b64encode(root).decode()}\n{format_ts(created_at)}\n"


def parse_note(note: str) -> NoteFields | None:
    """Return the fields of a checkpoint note, or None when it is malformed."""
    if not isinstance(note, str) or not note.endswith("\n"):
        return None
    lines = note[:-1].split("\n")
    if len(lines) != 4 or lines[0] != NOTE_ORIGIN or not lines[1].isdigit() or str(int(lines[1])) != lines[1]:
        return None
    try:
        root = base64.b64decode(lines[2], validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(root) != 32 or base64.b64encode(root).decode() != lines[2]:
        return None
    return NoteFields(tree_size=int(lines[1]), root=root, timestamp=lines[3])
