"""Stored subtree nodes of the log (A3): fetch the few a proof needs, and backfill them.

``audit_nodes`` holds every complete, aligned subtree (level >= 1) of the log; level 0 is
``audit_entries.leaf_hash``. :func:`banso.audit.service.record` writes the nodes an append
completes; :func:`backfill_nodes` rebuilds them from the leaf hashes (migration 0009).

The backfill uses plain table constructs, not the ORM classes, so the migration that calls it
keeps working whatever later happens to the models.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
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


def _level_stream(conn: Connection | Session, level: int, count: int) -> Iterator[tuple[int, bytes]]:
    """Yield (index, hash) of the first ``count`` hashes of ``level`` (0: leaf hashes) in order, a page at a time."""
    start = 0
    while start < count:
        if level == 0:
            q = (sa.select(_entries.c.seq, _entries.c.leaf_hash)
                 .where(_entries.c.seq >= start, _entries.c.seq < count).order_by(_entries.c.seq))
        else:
            q = (sa.select(_nodes.c.idx, _nodes.c.hash)
                 .where(_nodes.c.level == level, _nodes.c.idx >= start, _nodes.c.idx < count).order_by(_nodes.c.idx))
        rows = conn.execute(q.limit(_BATCH)).all()
        if not rows:
            return
        for k, h in rows:
            yield int(k), bytes(h)
        start = int(rows[-1][0]) + 1


def check_nodes(conn: Connection | Session, size: int) -> str | None:
    """Return what is wrong with the stored nodes of a log of ``size`` verified entries, or None (A3).

    Level by level, each stored node must be the hash of its two children (level 0: the leaf hashes,
    which the caller has verified); every complete subtree must be stored, and nothing beyond them.
    Memory stays at one page per level: the levels are streamed in index order.
    """
    level = 1
    while size >> level:
        want = size >> level
        children = _level_stream(conn, level - 1, 2 * want)
        expect = 0
        for idx, h in _level_stream(conn, level, want):
            if idx != expect:
                return f"subtree node (level {level}, index {expect}) is missing"
            left, right = next(children, None), next(children, None)
            if left is None or right is None or (left[0], right[0]) != (2 * idx, 2 * idx + 1):
                return f"subtree node (level {level}, index {idx}) has no children to check it against"
            if merkle.node_hash(left[1], right[1]) != h:
                return f"subtree node (level {level}, index {idx}) does not match its children (changed?)"
            expect += 1
        if expect != want:
            return f"subtree node (level {level}, index {expect}) is missing"
        level += 1
    # Nothing beyond the complete subtrees (a node past the log, or of a level the log does not reach).
    for lvl, top, n in conn.execute(
        sa.select(_nodes.c.level, sa.func.max(_nodes.c.idx), sa.func.count()).group_by(_nodes.c.level)
    ).all():
        if lvl < 1 or int(top) >= size >> int(lvl) or int(n) != size >> int(lvl):
            return f"subtree nodes of level {lvl} do not fit a log of {size} entries (added?)"
    return None
