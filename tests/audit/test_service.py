"""The log service on a real database (A1, A3): appends, roots, rollback, concurrency, proofs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from banso.audit import merkle, service
from banso.audit.models import AuditEntry, AuditHead, AuditNode
from banso.audit.rules import canonical_entry
from banso.audit.tags import AuditTag
from banso.kit.clock import FakeClock
from banso.kit.errors import ValidationFailed


def _append(db: Session, clock: FakeClock, n: int, start: int = 0) -> list[AuditEntry]:
    out = []
    for i in range(start, start + n):
        clock.advance(seconds=1)
        out.append(service.record(db, tag=AuditTag.LOGIN, now=clock.now(), actor_id=i, actor_label=f"u{i}@example.jp",
                                  subject=f"user:{i}", ip="192.0.2.1", data={"i": i, "名前": "試験", "tags": ("a", "b")}))
    return out


def _leaves(db: Session) -> list[bytes]:
    return list(db.scalars(select(AuditEntry.leaf).order_by(AuditEntry.seq)))


def test_appends_get_consecutive_seq_and_roots_match_root_hash(
    audit_sessions: sessionmaker[Session], audit_clock: FakeClock
) -> None:
    with audit_sessions() as db:
        entries = _append(db, audit_clock, 13)
        db.commit()
    with audit_sessions() as db:
        assert service.tree_size(db) == 13
        leaves = _leaves(db)
        for e in db.scalars(select(AuditEntry).order_by(AuditEntry.seq)):
            assert e.root == merkle.root_hash(leaves[: e.seq + 1])
            assert e.leaf_hash == merkle.leaf_hash(e.leaf)
            assert e.leaf == canonical_entry(seq=e.seq, created_at=e.created_at, tag=e.tag, actor_id=e.actor_id,
                                             actor_label=e.actor_label, subject=e.subject, ip=e.ip, data=e.data)
        assert service.current_root(db) == merkle.root_hash(leaves)
        assert service.root_at(db, 13) == merkle.root_hash(leaves)
        assert service.root_at(db, 0) == merkle.EMPTY_ROOT
    assert [e.seq for e in entries] == list(range(13))


def test_canonical_bytes_are_sorted_compact_json_with_microsecond_utc() -> None:
    leaf = canonical_entry(seq=3, created_at=datetime(2026, 4, 1, 9, 0, 7, 5, tzinfo=UTC), tag=AuditTag.LOGOUT,
                           actor_id=7, actor_label="a@example.jp", subject="user:7", ip=None, data={"b": 1, "a": "日"})
    assert leaf == ('{"actor":7,"actor_label":"a@example.jp","data":{"a":"日","b":1},"ip":null,"seq":3,'
                    '"subject":"user:7","tag":"accounts:session:logout","ts":"2026-04-01T09:00:07.000005Z","v":1}'
                    ).encode()


def test_rollback_of_the_callers_transaction_leaves_no_entry_and_no_head_change(
    audit_sessions: sessionmaker[Session], audit_clock: FakeClock
) -> None:
    with audit_sessions() as db:
        _append(db, audit_clock, 3)
        db.commit()
        head_before = (db.get(AuditHead, 1).size, db.get(AuditHead, 1).frontier)  # type: ignore[union-attr]
    with audit_sessions() as db:
        _append(db, audit_clock, 2, start=3)
        db.flush()
        assert service.tree_size(db) == 5
        db.rollback()  # the action failed: its entries go with it (A1)
    with audit_sessions() as db:
        head = db.get(AuditHead, 1)
        assert head is not None and (head.size, head.frontier) == head_before
        assert db.scalar(select(func.count()).select_from(AuditEntry)) == 3
        # the subtree nodes the rolled-back appends completed went with them: a 3-leaf tree has one
        assert db.execute(select(AuditNode.level, AuditNode.idx)).all() == [(1, 0)]
        # the next append continues without a gap
        assert service.record(db, tag=AuditTag.LOGOUT, now=audit_clock.now()).seq == 3
        db.commit()


def test_rollback_on_an_empty_log_leaves_nothing(audit_sessions: sessionmaker[Session], audit_clock: FakeClock) -> None:
    with audit_sessions() as db:
        _append(db, audit_clock, 2)
        db.rollback()
    with audit_sessions() as db:
        assert service.tree_size(db) == 0
        assert db.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_rolled_back_savepoint_takes_only_its_own_entries(
    audit_sessions: sessionmaker[Session], audit_clock: FakeClock
) -> None:
    with audit_sessions() as db:
        _append(db, audit_clock, 2)
        nested = db.begin_nested()
        _append(db, audit_clock, 2, start=2)
        nested.rollback()
        after = _append(db, audit_clock, 1, start=4)
        db.commit()
    assert after[0].seq == 2
    with audit_sessions() as db:
        leaves = _leaves(db)
        assert len(leaves) == 3
        assert service.current_root(db) == merkle.root_hash(leaves)


def test_a_session_holding_a_stale_head_appends_after_the_newest_entry(
    audit_sessions: sessionmaker[Session], audit_clock: FakeClock
) -> None:
    a, b = audit_sessions(), audit_sessions()
    try:
        _append(a, audit_clock, 1)
        a.commit()  # expire_on_commit=False: ``a`` keeps its head object
        _append(b, audit_clock, 2, start=1)
        b.commit()
        entry = _append(a, audit_clock, 1, start=3)[0]
        a.commit()
        assert entry.seq == 3
        assert service.current_root(a) == merkle.root_hash(_leaves(a))
    finally:
        a.close()
        b.close()


def test_concurrent_appends_from_eight_threads_have_no_gaps_and_a_correct_root(
    audit_sessions: sessionmaker[Session], audit_clock: FakeClock
) -> None:
    threads, per_thread = 8, 25
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work(t: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with audit_sessions() as db:
                    service.record(db, tag=AuditTag.TOKEN_ISSUE, now=audit_clock.now(), actor_id=t, data={"i": i})
                    db.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    assert errors == []
    with audit_sessions() as db:
        seqs = list(db.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        assert seqs == list(range(threads * per_thread))
        leaves = _leaves(db)
        assert service.current_root(db) == merkle.root_hash(leaves)
        roots = list(db.scalars(select(AuditEntry.root).order_by(AuditEntry.seq)))
        assert all(r == merkle.root_hash(leaves[: i + 1]) for i, r in enumerate(roots))
        per_actor = dict(db.execute(select(AuditEntry.actor_id, func.count()).group_by(AuditEntry.actor_id)).all())
        assert per_actor == {t: per_thread for t in range(threads)}


def test_proofs_served_from_the_database_verify(audit_sessions: sessionmaker[Session], audit_clock: FakeClock) -> None:
    with audit_sessions() as db:
        _append(db, audit_clock, 21)
        db.commit()
        for size in (1, 2, 7, 8, 21):
            root = service.root_at(db, size)
            for seq in {0, size // 2, size - 1}:
                proof = service.inclusion_proof_for(db, seq, size)
                entry = service.get_entry(db, seq)
                assert entry is not None
                assert merkle.verify_inclusion(entry.leaf, seq, size, proof, root)
            for first in (0, 1, size // 2, size):
                proof = service.consistency_proof_for(db, first, size)
                assert merkle.verify_consistency(first, size, service.root_at(db, first), root, proof)
        with pytest.raises(ValidationFailed):
            service.inclusion_proof_for(db, 5, 5)
        with pytest.raises(ValidationFailed):
            service.inclusion_proof_for(db, 0, 22)
        with pytest.raises(ValidationFailed):
            service.consistency_proof_for(db, 3, 2)


def test_listing_and_reading_entries(audit_sessions: sessionmaker[Session], audit_clock: FakeClock) -> None:
    with audit_sessions() as db:
        _append(db, audit_clock, 6)
        db.commit()
        assert [e.seq for e in service.list_entries(db, limit=3)] == [5, 4, 3]
        assert [e.seq for e in service.list_entries(db, before=2)] == [1, 0]
        assert [e.seq for e in service.list_entries(db, actor_id=4)] == [4]
        assert service.get_entry(db, 99) is None
        assert service.latest_checkpoint(db) is None


def test_bad_input_is_refused_and_long_labels_are_cut(audit_sessions: sessionmaker[Session]) -> None:
    with audit_sessions() as db:
        with pytest.raises(ValidationFailed):
            service.record(db, tag="", now=datetime(2026, 1, 1, tzinfo=UTC))
        with pytest.raises(ValidationFailed):
            service.record(db, tag="x" * 101, now=datetime(2026, 1, 1, tzinfo=UTC))
        with pytest.raises(ValidationFailed):
            service.record(db, tag=AuditTag.LOGIN, now=datetime(2026, 1, 1))
        entry = service.record(db, tag=AuditTag.LOGIN_FAILED, now=datetime(2026, 1, 1, tzinfo=UTC),
                               actor_label="a" * 1000 + "@example.jp")
        db.commit()
        assert entry.actor_label is not None and len(entry.actor_label) == 254
        assert entry.leaf_hash == merkle.leaf_hash(entry.leaf)


def test_tags_follow_source_subject_action() -> None:
    values = [t.value for t in AuditTag]
    assert len(values) == len(set(values))
    assert all(len(v.split(":")) == 3 and all(v.split(":")) for v in values)
    assert AuditTag.CHECKPOINT_SIGN == "audit:checkpoint:sign"
