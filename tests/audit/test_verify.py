"""Export and offline verification (A3): every stored change is detected and named."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from banso.audit import checkpoints, merkle, service
from banso.audit.cli import app
from banso.audit.export import ExportReader, checkpoint_records, export_log, iter_entry_records
from banso.audit.models import AuditEntry, AuditHead
from banso.audit.rules import canonical_entry
from banso.audit.tags import AuditTag
from banso.audit.verify import verify_log
from banso.kit.clock import FakeClock

runner = CliRunner()
TAMPERED = 7
ENTRIES = AuditEntry.__table__


@pytest.fixture
def populated(
    audit_sessions: sessionmaker[Session], audit_clock: FakeClock, cli_env: Path
) -> Ed25519PrivateKey:
    """Fill the log: 12 entries, a checkpoint (size 13), 6 more, a second checkpoint (size 20)."""
    key = checkpoints.load_or_create_signing_key(cli_env)
    tags = list(AuditTag)
    with audit_sessions() as db:
        for i in range(18):
            if i == 12:
                checkpoints.sign_checkpoint(db, key=key, now=audit_clock.now())
            audit_clock.advance(seconds=3)
            service.record(db, tag=tags[i % len(tags)], now=audit_clock.now(), actor_id=100 + i,
                           actor_label=f"p{i}@example.jp", subject=f"user:{i}", ip="198.51.100.7",
                           data={"n": i, "note": "監査"})
        checkpoints.sign_checkpoint(db, key=key, now=audit_clock.now())
        db.commit()
    return key


def _verify_db(url: str, *extra: str) -> Any:
    return runner.invoke(app, ["verify", "--database-url", url, *extra])


def test_export_then_verify_is_ok(populated: Ed25519PrivateKey, audit_url: str, tmp_path: Path) -> None:
    out = tmp_path / "export" / "log.jsonl"
    result = runner.invoke(app, ["export", str(out), "--database-url", audit_url])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "banso.audit.export/v1" and header["tree_size"] == 21  # + the export entry
    assert header["key_id"] == checkpoints.key_id(populated)
    assert [json.loads(x)["type"] for x in lines[1:3]] == ["checkpoint", "checkpoint"]
    assert len(lines) == 1 + 2 + 21

    result = runner.invoke(app, ["verify", "--from-export", str(out)])
    assert result.exit_code == 0, result.output
    assert "OK: 21 entries" in result.output and "2 signed checkpoint(s)" in result.output

    pem = tmp_path / "witness.pem"
    pem.write_text(checkpoints.public_key_pem(populated))
    assert runner.invoke(app, ["verify", "--from-export", str(out), "--public-key", str(pem)]).exit_code == 0
    result = _verify_db(audit_url)
    assert result.exit_code == 0, result.output


def test_checkpoint_command_signs_the_current_log(populated: Ed25519PrivateKey, audit_url: str,
                                                  audit_sessions: sessionmaker[Session]) -> None:
    result = runner.invoke(app, ["checkpoint", "--database-url", audit_url])
    assert result.exit_code == 0, result.output
    with audit_sessions() as db:
        cp = service.latest_checkpoint(db)
        assert cp is not None and cp.tree_size == 21 == service.tree_size(db)
        assert checkpoints.verify_checkpoint(cp, populated.public_key())


TAMPERS: dict[str, Callable[[AuditEntry], dict[str, Any]]] = {
    "tag": lambda e: {"tag": "accounts:session:logout" if e.tag != "accounts:session:logout" else "x:y:z"},
    "data": lambda e: {"data": {"n": 999, "note": "監査"}},
    "actor_id": lambda e: {"actor_id": 4242},
    "actor_label": lambda e: {"actor_label": "someone-else@example.jp"},
    "subject": lambda e: {"subject": "user:999"},
    "ip": lambda e: {"ip": "203.0.113.9"},
    "created_at": lambda e: {"created_at": e.created_at + timedelta(microseconds=1)},
    "leaf": lambda e: {"leaf": e.leaf.replace(b'"n":7', b'"n":8')},
    "leaf_hash": lambda e: {"leaf_hash": merkle.leaf_hash(b"forged")},
    "root": lambda e: {"root": merkle.node_hash(e.root, e.root)},
}


def _tamper(sessions: sessionmaker[Session], seq: int, change: Callable[[AuditEntry], dict[str, Any]]) -> None:
    """Change one stored row directly with an UPDATE statement, bypassing the service."""
    with sessions() as db:
        entry = db.get(AuditEntry, seq)
        assert entry is not None
        db.execute(update(ENTRIES).where(ENTRIES.c.seq == seq).values(**change(entry)))
        db.commit()


@pytest.mark.parametrize("column", list(TAMPERS))
@pytest.mark.parametrize("source", ["database", "export"])
def test_tampering_with_any_column_is_detected_and_named(
    column: str, source: str, populated: Ed25519PrivateKey, audit_sessions: sessionmaker[Session],
    audit_url: str, tmp_path: Path,
) -> None:
    _tamper(audit_sessions, TAMPERED, TAMPERS[column])
    if source == "database":
        result = _verify_db(audit_url)
    else:
        out = tmp_path / "log.jsonl"
        assert runner.invoke(app, ["export", str(out), "--database-url", audit_url]).exit_code == 0
        result = runner.invoke(app, ["verify", "--from-export", str(out)])
    assert result.exit_code == 1, result.output
    assert f"entry seq {TAMPERED} " in result.output
    named = {"actor_id": "actor_id", "created_at": "created_at"}.get(column, column)
    assert named in result.output


def test_tampering_with_a_raw_json_column_via_sql_text_is_detected(
    populated: Ed25519PrivateKey, audit_sessions: sessionmaker[Session], audit_url: str, audit_engine: Engine
) -> None:
    from sqlalchemy import text

    with audit_engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET data = '{\"n\": 7, \"note\": \"changed\"}' WHERE seq = 7"))
    result = _verify_db(audit_url)
    assert result.exit_code == 1 and "entry seq 7 " in result.output and "data" in result.output


def test_deleted_rows_are_detected(populated: Ed25519PrivateKey, audit_sessions: sessionmaker[Session],
                                   audit_url: str) -> None:
    with audit_sessions() as db:
        db.execute(delete(ENTRIES).where(ENTRIES.c.seq == 4))
        db.commit()
    result = _verify_db(audit_url)
    assert result.exit_code == 1
    assert "entry seq 4 missing" in result.output


def test_deleting_the_newest_rows_is_detected(populated: Ed25519PrivateKey, audit_sessions: sessionmaker[Session],
                                              audit_url: str) -> None:
    with audit_sessions() as db:
        db.execute(delete(ENTRIES).where(ENTRIES.c.seq >= 18))
        db.commit()
    result = _verify_db(audit_url)
    assert result.exit_code == 1
    assert "entries 18..19 are missing" in result.output


def _rewrite_consistently(sessions: sessionmaker[Session], seq: int) -> None:
    """Forge entry ``seq`` and recompute every later leaf, hash, root and the head, as an insider would."""
    with sessions() as db:
        rows = list(db.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        frontier = merkle.CompactRange()
        for e in rows:
            if e.seq == seq:
                e.data = {**e.data, "n": -1}
            if e.seq >= seq:
                e.leaf = canonical_entry(seq=e.seq, created_at=e.created_at, tag=e.tag, actor_id=e.actor_id,
                                         actor_label=e.actor_label, subject=e.subject, ip=e.ip, data=e.data)
                e.leaf_hash = merkle.leaf_hash(e.leaf)
            frontier.append(e.leaf_hash)
            e.root = frontier.root()
        head = db.get(AuditHead, 1)
        assert head is not None
        head.frontier = json.dumps(frontier.to_hex())
        db.commit()


def test_a_consistent_rewrite_is_caught_by_the_checkpoint_that_covers_it(
    populated: Ed25519PrivateKey, audit_sessions: sessionmaker[Session], audit_url: str
) -> None:
    _rewrite_consistently(audit_sessions, 15)  # after checkpoint 1 (size 13), before checkpoint 2 (size 20)
    result = _verify_db(audit_url)
    assert result.exit_code == 1
    assert "tree size 20" in result.output and "entries 13..19" in result.output
    with audit_sessions() as db:
        report = verify_log(iter_entry_records(db, upto=20), checkpoint_records(db), populated.public_key())
    assert report.problem is not None and report.problem.kind == "checkpoint"
    assert report.problem.covers == (13, 19) and report.entries == 20


def test_a_checkpoint_signed_with_another_key_is_rejected(
    populated: Ed25519PrivateKey, audit_sessions: sessionmaker[Session], audit_url: str, audit_clock: FakeClock
) -> None:
    with audit_sessions() as db:
        checkpoints.sign_checkpoint(db, key=Ed25519PrivateKey.generate(), now=audit_clock.now())
        db.commit()
    result = _verify_db(audit_url)
    assert result.exit_code == 1
    assert "signed by another key" in result.output


def test_a_witness_pinned_key_rejects_an_export_resigned_by_an_attacker(
    populated: Ed25519PrivateKey, audit_sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    attacker = Ed25519PrivateKey.generate()
    out = tmp_path / "forged.jsonl"
    with audit_sessions() as db:
        export_log(db, out, public_key=attacker.public_key())
    pem = tmp_path / "witness.pem"
    pem.write_text(checkpoints.public_key_pem(populated))
    assert runner.invoke(app, ["verify", "--from-export", str(out)]).exit_code == 1  # checkpoints vs header key
    result = runner.invoke(app, ["verify", "--from-export", str(out), "--public-key", str(pem)])
    assert result.exit_code == 0, result.output  # the real key still verifies the real checkpoints


def test_a_malformed_export_is_refused_cleanly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "header", "format": "something-else"}\n')
    result = runner.invoke(app, ["verify", "--from-export", str(bad)])
    assert result.exit_code == 1 and "not a valid export" in result.output
    result = runner.invoke(app, ["verify", "--from-export", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 1 and "cannot read" in result.output


def test_verify_log_streams_an_export(populated: Ed25519PrivateKey, audit_sessions: sessionmaker[Session],
                                      tmp_path: Path) -> None:
    out = tmp_path / "log.jsonl"
    with audit_sessions() as db:
        summary = export_log(db, out, public_key=populated.public_key())
    seen: list[int] = []
    with out.open() as fh:
        reader = ExportReader(fh)
        report = verify_log(reader.entries(), reader.checkpoints, populated.public_key(),
                            expected_size=reader.tree_size, progress=seen.append)
    assert report.ok, report.summary()
    assert report.entries == summary.tree_size == 20 and report.checkpoints == 2
    assert seen[-1] == 20


def test_an_unreadable_row_is_named(populated: Ed25519PrivateKey, audit_engine: Engine, audit_url: str) -> None:
    if audit_engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's column types refuse a garbage timestamp")
    from sqlalchemy import text

    with audit_engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET created_at = 'garbage' WHERE seq = 7"))
    result = _verify_db(audit_url)
    assert result.exit_code == 1 and "entry seq 7 is unreadable" in result.output


def test_changed_missing_or_added_subtree_node_is_detected(populated: Ed25519PrivateKey, audit_url: str,
                                                          audit_engine: Engine) -> None:
    # Proofs are served from audit_nodes (A3); `verify` checks every stored node against the leaves.
    from banso.audit.models import AuditNode

    assert _verify_db(audit_url).exit_code == 0
    nodes_t = AuditNode.__table__
    with audit_engine.begin() as conn:
        original = conn.execute(select(nodes_t.c.hash).where(nodes_t.c.level == 2, nodes_t.c.idx == 1)).scalar_one()
        conn.execute(update(nodes_t).where(nodes_t.c.level == 2, nodes_t.c.idx == 1).values(hash=b"\x00" * 32))
    result = _verify_db(audit_url)
    assert result.exit_code != 0 and "level 2, index 1" in result.output and "does not match" in result.output
    with audit_engine.begin() as conn:
        conn.execute(delete(nodes_t).where(nodes_t.c.level == 2, nodes_t.c.idx == 1))
    result = _verify_db(audit_url)
    assert result.exit_code != 0 and "level 2, index 1" in result.output and "missing" in result.output
    with audit_engine.begin() as conn:
        conn.execute(nodes_t.insert().values(level=2, idx=1, hash=original))
        conn.execute(nodes_t.insert().values(level=3, idx=7, hash=original))  # beyond 20 entries
    result = _verify_db(audit_url)
    assert result.exit_code != 0 and "level 3" in result.output and "added?" in result.output
    with audit_engine.begin() as conn:
        conn.execute(delete(nodes_t).where(nodes_t.c.level == 3, nodes_t.c.idx == 7))
    assert _verify_db(audit_url).exit_code == 0
