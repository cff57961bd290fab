"""Migration 0011 moves plaintext council content into the sealed store (issue 11, I11, I12).

A scratch SQLite database is built at the revision before 0011 and filled with plaintext rows the
way the old code wrote them; the plaintext answer files lie in the old folder. The upgrade must seal
every row, remove a plaintext file only after its sealed copy is committed, survive being run again
after a crash, and refuse to downgrade once anything is sealed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from banso.db.engine import make_engine
from banso.migrations import migrate
from banso.sealed import store as sealed
from banso.sealed.files import LocalFileStore
from banso.sealed.models import SealedKind

BEFORE = "0010"  # the revision before 0011
NOW = datetime(2026, 11, 1, tzinfo=UTC)
ANSWER = "回答資料: 相模湾の試験海域は埋まっている。".encode()
REPORT = "委託成果物: 量子技術の国際動向".encode()
MINUTES = "議事録: 試験海域の共用を確認した。"
DECISION = "駿河湾の試験海域の共用調整を開始する。"


def _filler(column: sa.Column[Any]) -> object:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.DateTime):
        return NOW
    if isinstance(kind, sa.Date):
        return date(2026, 11, 1)
    if isinstance(kind, sa.LargeBinary):
        return b"x"
    if isinstance(kind, sa.JSON):
        return {}
    if isinstance(kind, sa.Float | sa.Numeric):
        return 0
    return "x"


def _insert(conn: Connection, name: str, **values: object) -> int:
    """Insert a row as the old code would have, filling required columns not given with plain values."""
    table = sa.Table(name, sa.MetaData(), autoload_with=conn)
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key or column.server_default is not None:
            continue
        row[column.name] = _filler(column)
    result = conn.execute(table.insert().values(**row))
    return int(result.inserted_primary_key[0])


@dataclass
class Legacy:
    """The plaintext world before 0011."""

    engine: Engine
    plaintext: LocalFileStore
    deps: sealed.SealedDeps
    files: dict[str, int]  # "a", "b" (same bytes as a), "lost" (its plaintext is gone)
    deliverable: int
    commission: int
    meeting: int
    decision: int
    council: int
    digest: str


@pytest.fixture
def legacy(tmp_path: Path) -> Legacy:
    """Build a database at the revision before 0011 holding plaintext rows and plaintext files."""
    engine = make_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    migrate.upgrade(engine, BEFORE)
    plaintext = LocalFileStore(tmp_path / "councils" / "files")
    digest = plaintext.put(ANSWER)
    with engine.begin() as conn:
        org = _insert(conn, "organizations", kind="university")
        user = _insert(conn, "users", organization_id=org, email="a@example.jp", is_active=True)
        council = _insert(conn, "councils", proposer_id=user)
        request = _insert(conn, "council_material_requests", council_id=council, addressee_id=user,
                          created_by_id=user, answered_by_id=user, answer_text="別添のとおり")
        files = {name: _insert(conn, "council_material_files", request_id=request, sha256=sha, size=1,
                               uploaded_by_id=user, filename=f"{name}.txt")
                 for name, sha in (("a", digest), ("b", digest), ("lost", hashlib.sha256(b"gone").hexdigest()))}
        meeting = _insert(conn, "council_meetings", council_id=council, created_by_id=user, minutes_text=MINUTES)
        decision = _insert(conn, "council_decisions", council_id=council, meeting_id=meeting, created_by_id=user,
                           text=DECISION)
        assessment = _insert(conn, "programme_capability_assessments", organization_id=org, assessor_id=user)
        commission = _insert(conn, "programme_commissions", organization_id=org, assessment_id=assessment,
                             commissioned_by_id=user, commissioner_org_id=org, code="TT-OLD-1")
        deliverable = _insert(conn, "programme_commission_deliverables", commission_id=commission, task_id=None,
                              sha256=hashlib.sha256(REPORT).hexdigest(), content=REPORT, uploaded_by_id=user)
    return Legacy(engine=engine, plaintext=plaintext, deps=sealed.fake_deps(), files=files,
                  deliverable=deliverable, commission=commission, meeting=meeting, decision=decision,
                  council=council, digest=digest)


def _upgrade(legacy: Legacy, plaintext: LocalFileStore | None = None) -> None:
    migrate.upgrade(legacy.engine, "head", attributes={"sealed_deps": legacy.deps,
                                                       "plaintext_store": plaintext or legacy.plaintext})


def _row(legacy: Legacy, sql: str, **params: object) -> sa.Row[Any]:
    with legacy.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).one()


def _refusal() -> sealed.Refusal:
    return sealed.Refusal(tag="test:integrity:failed", subject="test", data={})


def test_upgrade_seals_every_plaintext_row_and_removes_the_plaintext_file(legacy: Legacy) -> None:
    _upgrade(legacy)
    assert migrate.current_revision(legacy.engine) == migrate.head_revision()
    scope = sealed.council_scope(legacy.council)
    with Session(legacy.engine) as session:
        for name in ("a", "b"):
            blob, wrapped = _row(legacy, "SELECT blob, wrapped_key FROM council_material_files WHERE id = :i",
                                 i=legacy.files[name])
            assert ANSWER not in legacy.deps.store.get(blob)
            opened = sealed.open_file(session, legacy.deps, scope, sealed.Envelope(wrapped_key=wrapped, blob=blob),
                                      label=sealed.file_label(SealedKind.MATERIAL_FILE, legacy.digest), actor=None,
                                      now=NOW, refusal=_refusal())
            assert opened == ANSWER
        content, blob, wrapped = _row(legacy, "SELECT content, blob, wrapped_key FROM "
                                      "programme_commission_deliverables WHERE id = :i", i=legacy.deliverable)
        assert content is None
        assert sealed.open_file(session, legacy.deps, sealed.commission_scope(legacy.commission),
                                sealed.Envelope(wrapped_key=wrapped, blob=blob),
                                label=sealed.file_label(SealedKind.DELIVERABLE, hashlib.sha256(REPORT).hexdigest()),
                                actor=None, now=NOW, refusal=_refusal()) == REPORT
        minutes, minutes_sha = _row(legacy, "SELECT minutes_sealed, minutes_sha256 FROM council_meetings "
                                    "WHERE id = :i", i=legacy.meeting)
        assert sealed.open_text(session, legacy.deps, scope, minutes, label=f"minutes:meeting:{legacy.meeting}",
                                actor=None, now=NOW, refusal=_refusal()) == MINUTES
        assert minutes_sha == hashlib.sha256(MINUTES.encode()).hexdigest()
        (decision,) = _row(legacy, "SELECT text_sealed FROM council_decisions WHERE id = :i", i=legacy.decision)
        assert sealed.open_text(session, legacy.deps, scope, decision, label=f"decision:{legacy.decision}",
                                actor=None, now=NOW, refusal=_refusal()) == DECISION
    columns = {c["name"] for t in ("council_meetings", "council_decisions")
               for c in sa.inspect(legacy.engine).get_columns(t)}
    assert "minutes_text" not in columns and "text" not in columns  # no plaintext column is left
    # The answer whose plaintext is lost stays unsealed (and is refused when read); nothing is guessed.
    assert _row(legacy, "SELECT blob FROM council_material_files WHERE id = :i", i=legacy.files["lost"])[0] is None
    # Both rows sharing the plaintext file are sealed, so the file is gone.
    with pytest.raises(FileNotFoundError):
        legacy.plaintext.get(legacy.digest)
    assert migrate.model_drift(legacy.engine) == []


class _CrashOnDelete(LocalFileStore):
    """A plaintext store whose first deletion fails, as a process killed right after the commit would."""

    def discard(self, digest: str) -> bool:
        raise OSError("killed")


def test_an_interrupted_upgrade_is_run_again(legacy: Legacy) -> None:
    with pytest.raises(OSError, match="killed"):
        _upgrade(legacy, _CrashOnDelete(legacy.plaintext.root))
    # The sealing was committed before any plaintext was touched: nothing is lost, nothing is stamped.
    assert migrate.current_revision(legacy.engine) == BEFORE
    assert legacy.plaintext.get(legacy.digest) == ANSWER
    first = _row(legacy, "SELECT blob FROM council_material_files WHERE id = :i", i=legacy.files["a"])[0]
    assert first is not None
    _upgrade(legacy)
    assert migrate.current_revision(legacy.engine) == migrate.head_revision()
    assert _row(legacy, "SELECT blob FROM council_material_files WHERE id = :i", i=legacy.files["a"])[0] == first
    with pytest.raises(FileNotFoundError):
        legacy.plaintext.get(legacy.digest)


def test_downgrade_is_refused_once_content_is_sealed(legacy: Legacy) -> None:
    _upgrade(legacy)
    with pytest.raises(RuntimeError, match="0013 is one-way"):  # 0013 sealed the legacy answer text
        migrate.downgrade(legacy.engine, BEFORE)
    with legacy.engine.begin() as conn:  # as if the request had never been answered: 0013 may go down
        conn.execute(sa.text("UPDATE council_material_requests SET answer_sealed = NULL"))
    with pytest.raises(RuntimeError, match="0011 is one-way"):
        migrate.downgrade(legacy.engine, BEFORE)
    assert migrate.current_revision(legacy.engine) == "0011"  # later revisions went down; 0011 refused
