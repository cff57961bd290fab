"""Key rotation: every data key a scope's key wrapped, re-wrapped under a new key version (I11, O2).

Rotating a council's (or commission's) key-encryption key does not touch the content: every row
keeps its data key, only the wrapped form of that data key changes (unwrapped with the old version,
wrapped with the newest). The columns holding wrapped keys are declared by the composition root
(:class:`WrappedColumn`, ``banso.app.keys``), since they belong to several domains.

Each function works inside the caller's unit of work and never commits; ``banso.app.keys`` runs
the steps (new version, re-wrap, commit, retire the old versions) in the order that never destroys
a key some committed row still needs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from banso.sealed import crypto
from banso.sealed.crypto import KeyStore
from banso.sealed.store import join_text, split_text


@dataclass(frozen=True)
class WrappedColumn:
    """A column of data keys wrapped by a scope's key: raw wrapped keys, or sealed texts (``BST1``)."""

    name: str  # e.g. "info_items.wrapped_key", for reports
    scope_kind: str  # "council" | "commission"
    table: sa.Table  # the table updated
    key: sa.Column[int]  # its primary key
    value: sa.Column[bytes]  # the wrapped key, or the sealed text holding one
    owner: sa.ColumnElement[int]  # the council or commission id of the row
    source: sa.FromClause  # the table, joined to where ``owner`` lives
    sealed_text: bool = False

    def rows(self, session: Session, scope_id: int) -> Iterator[tuple[int, bytes]]:
        """Yield (primary key, stored value) of every row of the scope that holds a wrapped key."""
        query = (sa.select(self.key, self.value).select_from(self.source)
                 .where(self.owner == scope_id, self.value.is_not(None)).order_by(self.key))
        for pk, value in session.execute(query):
            yield pk, bytes(value)

    def wrapped_of(self, value: bytes) -> bytes | None:
        """Return the wrapped data key inside a stored value (None for a damaged sealed text)."""
        if not self.sealed_text:
            return value
        parts = split_text(value)
        return None if parts is None else parts[0]

    def replaced(self, value: bytes, wrapped: bytes) -> bytes:
        """Return the stored value with its wrapped data key replaced."""
        if not self.sealed_text:
            return wrapped
        parts = split_text(value)
        assert parts is not None  # wrapped_of found it
        return join_text(wrapped, parts[1])


@dataclass
class Rewrapped:
    """What one pass over a scope did: rows re-wrapped per column, rows that could not be."""

    counts: Counter[str] = field(default_factory=Counter)
    unreadable: list[str] = field(default_factory=list)  # "<column> #<id>: reason"

    @property
    def total(self) -> int:
        """Return how many rows were re-wrapped."""
        return sum(self.counts.values())


def _version(wrapped: bytes | None) -> int | None:
    if wrapped is None:
        return None
    try:
        return crypto.kek_version_of(wrapped)
    except crypto.TamperedCiphertext:
        return None


def versions_in_use(session: Session, columns: list[WrappedColumn], scope_id: int) -> Counter[int]:
    """Count the scope's wrapped keys by the key version that wrapped them (0: unreadable)."""
    found: Counter[int] = Counter()
    for column in columns:
        for _pk, value in column.rows(session, scope_id):
            found[_version(column.wrapped_of(value)) or 0] += 1
    return found


def rewrap(session: Session, keys: KeyStore, columns: list[WrappedColumn], scope_id: int, *,
           newest: int) -> Rewrapped:
    """Re-wrap under the newest key every data key of the scope wrapped by an older version."""
    done = Rewrapped()
    for column in columns:
        for pk, value in column.rows(session, scope_id):
            wrapped = column.wrapped_of(value)
            version = _version(wrapped)
            if wrapped is None or version is None:
                done.unreadable.append(f"{column.name} #{pk}: damaged")
                continue
            if version >= newest:
                continue
            try:
                again = keys.wrap(scope_id, keys.unwrap(scope_id, wrapped))
            except (crypto.KeyUnavailable, crypto.TamperedCiphertext) as exc:
                done.unreadable.append(f"{column.name} #{pk}: {exc.message}")
                continue
            # Only if nobody changed the row meanwhile (new minutes, say): the next pass sees the new value.
            updated = session.execute(sa.update(column.table)
                                      .where(column.key == pk, column.value == value)
                                      .values({column.value: column.replaced(value, again)}))
            if updated.rowcount:  # type: ignore[attr-defined]
                done.counts[column.name] += 1
    return done
