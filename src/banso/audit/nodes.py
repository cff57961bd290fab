"""Stored subtree nodes of the log (A3): fetch the few a proof needs, and backfill them.

``audit_nodes`` holds every complete, aligned subtree (level >= 1) of the log; level 0 is
``audit_entries.leaf_hash``. :func:`banso.audit.service.record` writes the nodes an append
completes; :func:`backfill_nodes` rebuilds them from the leaf hashes (migration 0009).

The backfill uses plain table constructs, not the ORM classes, so the migration that calls it
keeps working whatever later happens to the models.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from banso.audit import merkle

_entries = sa.table("audit_entries", sa.column("seq", sa.BigInteger), sa.column("leaf_hash", sa.LargeBinary))
_nodes = sa.table("audit_nodes", sa.column("level", sa.Integer), sa.column("idx", sa.BigInteger),
                  sa.column("hash", sa.LargeBinary))

_BATCH = 5000


def fetch_nodes(session: Session, keys: Iterable[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """Return the stored hashes of ``keys`` (level 0: leaf hashes) in at most two queries.

    Keys that are not stored are simply absent from the answer; the caller decides that the
    log is damaged.
    """
    leaves: set[int] = set()
    upper: dict[int, set[int]] = {}
    for level, idx in keys:
        if level == 0:
            leaves.add(idx)
        else:
            upper.setdefault(level, set()).add(idx)
    out: dict[merkle.NodeKey, bytes] = {}
    if leaves:
        rows = session.execute(sa.select(_entries.c.seq, _entries.c.leaf_hash).where(_entries.c.seq.in_(leaves)))
        out.update(((0, int(seq)), bytes(h)) for seq, h in rows)
    if upper:
        cond = sa.or_(*(sa.and_(_nodes.c.level == level, _nodes.c.idx.in_(idxs)) for level, idxs in upper.items()))
        found = session.execute(sa.select(_nodes.c.level, _nodes.c.idx, _nodes.c.hash).where(cond))
        out.update(((int(level), int(idx)), bytes(h)) for level, idx, h in found)
    return out


def node_rows(done: Collection[tuple[merkle.NodeKey, bytes]]) -> list[dict[str, Any]]:
    """Return insert rows for the subtrees an append completed (:meth:`merkle.CompactRange.append`)."""
    return [{"level": level, "idx": idx, "hash": h} for (level, idx), h in done]


def backfill_nodes(conn: Connection) -> int:
    """Rebuild ``audit_nodes`` from the stored leaf hashes; return the number of leaves covered.

    Deletes any stored nodes first, then streams the leaf hashes in seq order (in pages, never
    all at once) through a :class:`merkle.CompactRange` and inserts the subtrees it completes.
    Stops at the first gap in ``seq``: nodes past a missing entry cannot be known, and a proof
    that needs them then reports the log as damaged rather than computing something else (A3).
    The caller owns the transaction (and, on a live log, must hold the head lock).
    """
    conn.execute(sa.delete(_nodes))
    frontier = merkle.CompactRange()
    pending: list[dict[str, Any]] = []
    while True:
        page = conn.execute(
            sa.select(_entries.c.seq, _entries.c.leaf_hash)
            .where(_entries.c.seq >= frontier.size)
            .order_by(_entries.c.seq)
            .limit(_BATCH)
        ).all()
        for seq, leaf_hash in page:
            if int(seq) != frontier.size:
                page = []
                break
            pending.extend(node_rows(frontier.append(bytes(leaf_hash))))
        if len(pending) >= _BATCH or (not page and pending):
            conn.execute(sa.insert(_nodes), pending)
            pending = []
        if len(page) < _BATCH:
            break
    if pending:
        conn.execute(sa.insert(_nodes), pending)
    return frontier.size
