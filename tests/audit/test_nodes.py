"""Proofs served from stored subtree nodes (A3): same proofs as the leaf-hash functions, few reads.

Every log here is built through the real ``service.record`` on the test database, so the
nodes under test are the ones appends write (or the migration backfills).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, select
from sqlalchemy.orm import Session, sessionmaker

from banso.audit import merkle, nodes, service
from banso.audit.models import AuditEntry, AuditNode
from banso.audit.service import AuditLogDamaged
from banso.audit.tags import AuditTag
from banso.db.engine import make_engine, make_session_factory
from banso.kit.clock import FakeClock
from banso.migrations import migrate


def _append(db: Session, clock: FakeClock, n: int) -> None:
    start = service.tree_size(db)
    for i in range(start, start + n):
        clock.advance(seconds=1)
        service.record(db, tag=AuditTag.LOGIN, now=clock.now(), actor_id=i, actor_label=f"u{i}@example.jp",
                       subject=f"user:{i}", data={"i": i})


def _hashes(db: Session) -> list[bytes]:
    return list(db.scalars(select(AuditEntry.leaf_hash).order_by(AuditEntry.seq)))


def _stored_nodes(db: Session) -> dict[tuple[int, int], bytes]:
    return {(n.level, n.idx): n.hash for n in db.scalars(select(AuditNode))}


def _expected_nodes(hashes: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete aligned subtree of level >= 1, hashed from the leaves the slow way."""
    out = {}
    level = 1
    while (1 << level) <= len(hashes):
        width = 1 << level
        for idx in range(len(hashes) // width):
            out[(level, idx)] = merkle.root_from_hashes(hashes[idx * width:(idx + 1) * width])
        level += 1
    return out


def _check_inclusion(db: Session, hashes: list[bytes], seq: int, size: int) -> None:
    proof = service.inclusion_proof_for(db, seq, size)
    assert proof == merkle.inclusion_proof_from_hashes(seq, hashes[:size]), (seq, size)
    assert merkle.verify_inclusion_hash(hashes[seq], seq, size, proof, service.root_at(db, size)), (seq, size)


def _check_consistency(db: Session, hashes: list[bytes], first: int, size: int) -> None:
    proof = service.consistency_proof_for(db, first, size)
    assert proof == merkle.consistency_proof_from_hashes(first, hashes[:size]), (first, size)
    assert merkle.verify_consistency(first, size, service.root_at(db, first), service.root_at(db, size), proof), (
        first, size)


def _check_all_proofs(db: Session, hashes: list[bytes], sizes: range | list[int], sample: int | None = None) -> None:
    rnd = random.Random(6962)
    for size in sizes:
        seqs: list[int] = list(range(size))
        firsts: list[int] = list(range(size + 1))
        if sample is not None and size > sample:
            seqs = sorted({0, size - 1, *rnd.sample(seqs, sample)})
            firsts = sorted({0, 1, size - 1, size, *rnd.sample(firsts, sample)})
        for seq in seqs:
            _check_inclusion(db, hashes, seq, size)
        for first in firsts:
            _check_consistency(db, hashes, first, size)


def test_appends_store_exactly_the_completed_subtrees_and_proofs_match(
    audit_sessions: sessionmaker[Session], audit_clock: FakeClock
) -> None:
    with audit_sessions() as db:
        for size in range(1, 71):
            _append(db, audit_clock, 1)
            db.commit()
            hashes = _hashes(db)
            assert len(hashes) == size
            assert _stored_nodes(db) == _expected_nodes(hashes), size
            # every inclusion and every consistency proof of the log as it is now
            _check_all_proofs(db, hashes, [size])
        # all smaller sizes stay servable from the larger log
        _check_all_proofs(db, _hashes(db), range(1, 71), sample=12)


def test_larger_logs_sampled(audit_sessions: sessionmaker[Session], audit_clock: FakeClock) -> None:
    with audit_sessions() as db:
        _append(db, audit_clock, 257)
        db.commit()
        hashes = _hashes(db)
        assert _stored_nodes(db) == _expected_nodes(hashes)
        _check_all_proofs(db, hashes, [127, 128, 129, 255, 256, 257], sample=20)


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _param_count(parameters: Any) -> int:
    if isinstance(parameters, dict):
        return len(parameters)
    return len(parameters or ())


def test_one_proof_reads_few_rows(
    audit_engine: Engine, audit_sessions: sessionmaker[Session], audit_clock: FakeClock
) -> None:
    n = 1000
    with audit_sessions() as db:
        for _ in range(10):
            _append(db, audit_clock, n // 10)
            db.commit()
    with audit_sessions() as db:
        hashes = _hashes(db)
    limit = 2 * math.log2(n) + 5
    for kind, a, b in (("inclusion", 0, n), ("inclusion", 617, n), ("inclusion", 999, 1000),
                       ("consistency", 1, n), ("consistency", 617, 999), ("consistency", 511, 1000)):
        with audit_sessions() as db, _statements(audit_engine) as seen:
            if kind == "inclusion":
                proof = service.inclusion_proof_for(db, a, b)
                assert proof == merkle.inclusion_proof_from_hashes(a, hashes[:b])
            else:
                proof = service.consistency_proof_for(db, a, b)
                assert proof == merkle.consistency_proof_from_hashes(a, hashes[:b])
        assert 0 < len(seen) <= limit, (kind, a, b, [s for s, _ in seen])
        reads = 0
        for statement, parameters in seen:
            low = " ".join(statement.lower().split())
            if "audit_entries" in low or "audit_nodes" in low:
                reads += 1
                # every read of leaf hashes or nodes names the rows it wants: no scan of the log
                assert " where " in low and (" in (" in low or " = " in low), statement
                assert "seq <" not in low and "order by" not in low, statement
            # a proof needs O(log² n) hashes, far fewer than the log's n rows
            assert _param_count(parameters) <= math.log2(n) ** 2, statement
        # the nodes are fetched together: one query for leaf hashes, one for the stored subtrees
        assert reads <= 2, (kind, a, b, [s for s, _ in seen])
        needed = (merkle.inclusion_proof_nodes_needed(a, b) if kind == "inclusion"
                  else merkle.consistency_proof_nodes_needed(a, b))
        assert len(needed) <= 2 * math.log2(n) + 2, (kind, a, b, len(needed))


def _proofs(db: Session, size: int) -> list[list[bytes]]:
    out = [service.inclusion_proof_for(db, seq, size) for seq in range(0, size, 7)]
    out += [service.consistency_proof_for(db, first, size) for first in range(0, size + 1, 5)]
    return out


def test_backfill_rebuilds_the_nodes(
    audit_engine: Engine, audit_sessions: sessionmaker[Session], audit_clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    size = 150
    with audit_sessions() as db:
        _append(db, audit_clock, size)
        db.commit()
        before_nodes = _stored_nodes(db)
        before = _proofs(db, size)
        db.execute(delete(AuditNode))
        db.commit()
        with pytest.raises(AuditLogDamaged):
            service.inclusion_proof_for(db, 3, size)
        with pytest.raises(AuditLogDamaged):
            service.consistency_proof_for(db, 3, size)
    monkeypatch.setattr(nodes, "_BATCH", 7)  # several pages, and a last page that is not full
    with audit_engine.begin() as conn:
        assert nodes.backfill_nodes(conn) == size
    with audit_sessions() as db:
        assert _stored_nodes(db) == before_nodes
        assert _proofs(db, size) == before
    # running it again (nodes present) gives the same table
    with audit_engine.begin() as conn:
        assert nodes.backfill_nodes(conn) == size
    with audit_sessions() as db:
        assert _stored_nodes(db) == before_nodes


def test_backfill_stops_at_a_gap_and_proofs_past_it_report_damage(
    audit_engine: Engine, audit_sessions: sessionmaker[Session], audit_clock: FakeClock
) -> None:
    with audit_sessions() as db:
        _append(db, audit_clock, 40)
        db.commit()
        hashes = _hashes(db)
        db.execute(delete(AuditEntry).where(AuditEntry.seq == 20))
        db.commit()
    with audit_engine.begin() as conn:
        assert nodes.backfill_nodes(conn) == 20
    with audit_sessions() as db:
        assert _stored_nodes(db) == _expected_nodes(hashes[:20])
        _check_all_proofs(db, hashes, [16, 20])
        with pytest.raises(AuditLogDamaged):
            service.inclusion_proof_for(db, 25, 40)
        with pytest.raises(AuditLogDamaged):
            service.inclusion_proof_for(db, 0, 21)  # needs leaf 20 itself
        with pytest.raises(AuditLogDamaged):
            service.consistency_proof_for(db, 20, 40)


def test_a_missing_node_is_reported_not_recomputed(
    audit_sessions: sessionmaker[Session], audit_clock: FakeClock
) -> None:
    with audit_sessions() as db:
        _append(db, audit_clock, 64)
        db.commit()
        # leaf 63's path in the 64-tree is leaf 62, node (1, 30), (2, 14), (3, 6), (4, 2), (5, 0)
        db.execute(delete(AuditNode).where(AuditNode.level == 3, AuditNode.idx == 6))
        db.commit()
        with pytest.raises(AuditLogDamaged, match="level 3, index 6"):
            service.inclusion_proof_for(db, 63, 64)
        with pytest.raises(AuditLogDamaged, match="level 3, index 6"):
            service.consistency_proof_for(db, 56, 64)  # the old tree's right part is exactly (3, 6)
        assert service.inclusion_proof_for(db, 0, 64) == merkle.inclusion_proof_from_hashes(0, _hashes(db))
        db.execute(delete(AuditEntry).where(AuditEntry.seq == 10))
        db.commit()
        with pytest.raises(AuditLogDamaged, match="entry 10"):
            service.inclusion_proof_for(db, 11, 12)


def test_migration_0009_backfills_an_existing_log(audit_url: str, audit_clock: FakeClock) -> None:
    """A log written before 0009 (here: nodes dropped by the downgrade) gets its nodes on upgrade."""
    engine = make_engine(audit_url)
    try:
        migrate.upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions() as db:
            _append(db, audit_clock, 77)
            db.commit()
            before_nodes = _stored_nodes(db)
            before = _proofs(db, 77)
        migrate.downgrade(engine, "0008")
        migrate.upgrade(engine)
        with sessions() as db:
            assert _stored_nodes(db) == before_nodes
            assert _proofs(db, 77) == before
            _append(db, audit_clock, 3)  # appends go on writing nodes after the backfill
            db.commit()
            assert _stored_nodes(db) == _expected_nodes(_hashes(db))
    finally:
        engine.dispose()


def test_pure_node_functions_match_hash_functions() -> None:
    for size in range(1, 40):
        hashes = [merkle.leaf_hash(b"e%d" % i) for i in range(size)]
        stored = {(0, i): h for i, h in enumerate(hashes)} | _expected_nodes(hashes)
        frontier = merkle.CompactRange()
        completed: dict[tuple[int, int], bytes] = {}
        for h in hashes:
            completed.update(frontier.append(h))
        assert completed == _expected_nodes(hashes)
        for seq in range(size):
            assert merkle.inclusion_proof_from_nodes(seq, size, stored) == merkle.inclusion_proof_from_hashes(
                seq, hashes)
        for first in range(size + 1):
            assert merkle.consistency_proof_from_nodes(first, size, stored) == (
                merkle.consistency_proof_from_hashes(first, hashes))
    with pytest.raises(ValueError):
        merkle.inclusion_proof_nodes_needed(3, 3)
    with pytest.raises(ValueError):
        merkle.consistency_proof_nodes_needed(4, 3)
    with pytest.raises(LookupError):
        merkle.inclusion_proof_from_nodes(0, 4, {})
