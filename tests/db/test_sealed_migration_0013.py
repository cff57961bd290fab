"""Migration 0013 seals the last plaintext council content (issue 11, I11, I12).

A scratch SQLite database is built at 0012 and filled, the way the old code wrote them, with a
material-request answer in plaintext and items whose imported indicators lie in plaintext JSON. The
upgrade must seal the answer under the council's key and the indicators with each item's own data
key, drop both plaintext columns, survive being run again, and refuse to go down once sealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from banso.councils.service import _answer_label
from banso.db.engine import make_engine
from banso.information import content as info_content
from banso.information.deps import InformationDeps
from banso.information.models import Item
from banso.migrations import migrate
from banso.sealed import crypto
from banso.sealed import store as sealed
from tests.db.test_sealed_migration import NOW, _insert

BEFORE = "0012"
ANSWER = "回答: 駿河湾の試験海域は来年度下期に空きがある。"
INDICATORS = [{"type": "domain", "value": "kuroshio-relay.example", "comment": "sonar relay"},
              {"type": "ip-dst", "value": "198.51.100.77", "comment": ""}]


@dataclass
class Legacy:
    """The plaintext world at 0012."""

    engine: Engine
    deps: sealed.SealedDeps
    council: int
    request: int
    item: int  # with indicators
    bare_item: int  # without indicators


def _build(tmp_path: Path, *, with_content: bool = True) -> Legacy:
    engine = make_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    migrate.upgrade(engine, BEFORE, attributes={"sealed_deps": sealed.fake_deps()})
    deps = sealed.fake_deps()
    with engine.begin() as conn:
        org = _insert(conn, "organizations", kind="university")
        user = _insert(conn, "users", organization_id=org, email="a@example.jp", is_active=True)
        council = _insert(conn, "councils", proposer_id=user)
        request = _insert(conn, "council_material_requests", council_id=council, addressee_id=user,
                          created_by_id=user, answered_by_id=user, answer_text=ANSWER if with_content else None)
        items = [_insert(conn, "info_items", council_id=council, provider_id=user, provider_org_id=org,
                         current_designation_id=None, indicators=indicators if with_content else [],
                         wrapped_key=deps.council_keys.wrap(council, crypto.new_data_key()))
                 for indicators in (INDICATORS, [])]
    return Legacy(engine=engine, deps=deps, council=council, request=request, item=items[0], bare_item=items[1])


@pytest.fixture
def legacy(tmp_path: Path) -> Legacy:
    """Build a database at 0012 holding a plaintext answer and plaintext indicators."""
    return _build(tmp_path)


def _upgrade(legacy: Legacy, deps: sealed.SealedDeps | None = None, *, to: str = "head") -> None:
    migrate.upgrade(legacy.engine, to, attributes={"sealed_deps": deps or legacy.deps})


def _value(legacy: Legacy, sql: str, **params: object) -> Any:
    with legacy.engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar_one()


def _columns(legacy: Legacy, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(legacy.engine).get_columns(table)}


def _opened(legacy: Legacy) -> tuple[str, list[dict[str, str]], list[dict[str, str]]]:
    """Open the sealed answer and both items' indicators the way the services do."""
    deps = InformationDeps(store=legacy.deps.store, keys=legacy.deps.council_keys, fingerprint_key=b"f" * 32)
    with Session(legacy.engine) as session:
        answer = sealed.open_text(
            session, legacy.deps, sealed.council_scope(legacy.council),
            _value(legacy, "SELECT answer_sealed FROM council_material_requests WHERE id = :i", i=legacy.request),
            label=_answer_label(legacy.request), actor=None, now=NOW,
            refusal=sealed.Refusal(tag="test:integrity:failed", subject="test", data={}))
        found = [session.get(Item, i) for i in (legacy.item, legacy.bare_item)]
        assert found[0] is not None and found[1] is not None
        return (answer, info_content.indicators_of(session, deps, found[0], actor=None, now=NOW),
                info_content.indicators_of(session, deps, found[1], actor=None, now=NOW))


def test_upgrade_seals_answer_and_indicators_and_drops_the_plaintext(legacy: Legacy) -> None:
    _upgrade(legacy)
    assert migrate.current_revision(legacy.engine) == migrate.head_revision()
    assert "answer_text" not in _columns(legacy, "council_material_requests")
    assert "indicators" not in _columns(legacy, "info_items")
    stored = bytes(_value(legacy, "SELECT answer_sealed FROM council_material_requests WHERE id = :i",
                          i=legacy.request))
    assert ANSWER.encode() not in stored
    sealed_indicators = bytes(_value(legacy, "SELECT indicators_sealed FROM info_items WHERE id = :i",
                                     i=legacy.item))
    assert b"kuroshio-relay" not in sealed_indicators and b"198.51.100.77" not in sealed_indicators
    assert _value(legacy, "SELECT indicators_sealed FROM info_items WHERE id = :i", i=legacy.bare_item) is None
    assert _opened(legacy) == (ANSWER, INDICATORS, [])
    assert migrate.model_drift(legacy.engine) == []


class _CrashOnUnwrap:
    """The council key store, killed when the first item key is unwrapped (a crash mid-migration)."""

    def __init__(self, inner: crypto.KeyStore) -> None:
        self.inner = inner

    def wrap(self, council_id: int, data_key: bytes) -> bytes:
        return self.inner.wrap(council_id, data_key)  # the answer, sealed before the crash, opens later

    def unwrap(self, council_id: int, wrapped: bytes) -> bytes:
        raise crypto.KeyUnavailable("killed")

    def revoke(self, council_id: int) -> None:
        self.inner.revoke(council_id)


def test_an_interrupted_upgrade_is_run_again(legacy: Legacy) -> None:
    crashing = sealed.SealedDeps(store=legacy.deps.store, council_keys=_CrashOnUnwrap(legacy.deps.council_keys),
                                 commission_keys=legacy.deps.commission_keys,
                                 fingerprint_key=legacy.deps.fingerprint_key,
                                 proposal_keys=legacy.deps.proposal_keys)
    with pytest.raises(crypto.KeyUnavailable, match="killed"):
        _upgrade(legacy, crashing)
    assert migrate.current_revision(legacy.engine) == BEFORE
    assert "indicators" in _columns(legacy, "info_items")  # nothing dropped before everything was sealed
    _upgrade(legacy)
    assert migrate.current_revision(legacy.engine) == migrate.head_revision()
    assert _opened(legacy) == (ANSWER, INDICATORS, [])


def test_a_rerun_after_the_upgrade_changes_nothing(legacy: Legacy) -> None:
    # Up to 0013 itself: 0012 is stamped back below, and the revisions after 0013 are not re-runnable.
    _upgrade(legacy, to="0013")
    before = (_value(legacy, "SELECT answer_sealed FROM council_material_requests WHERE id = :i", i=legacy.request),
              _value(legacy, "SELECT indicators_sealed FROM info_items WHERE id = :i", i=legacy.item))
    url = legacy.engine.url.render_as_string(hide_password=False)
    command.stamp(migrate.alembic_config(url, legacy.engine), BEFORE)  # as if 0013 had not been recorded
    _upgrade(legacy, to="0013")
    after = (_value(legacy, "SELECT answer_sealed FROM council_material_requests WHERE id = :i", i=legacy.request),
             _value(legacy, "SELECT indicators_sealed FROM info_items WHERE id = :i", i=legacy.item))
    assert after == before and migrate.current_revision(legacy.engine) == "0013"


def test_downgrade_is_refused_once_content_is_sealed(legacy: Legacy) -> None:
    _upgrade(legacy)
    with pytest.raises(RuntimeError, match="0013 is one-way"):
        migrate.downgrade(legacy.engine, BEFORE)
    assert migrate.current_revision(legacy.engine) == "0013"
    # The later revisions were taken back on the way down (0021 drops info_items.provided_confidential, which the
    # ORM reads): bring the schema up again, then the sealed content still opens as the services open it.
    _upgrade(legacy)
    assert _opened(legacy) == (ANSWER, INDICATORS, [])


def test_downgrade_with_nothing_sealed_restores_the_schema(tmp_path: Path) -> None:
    legacy = _build(tmp_path, with_content=False)
    _upgrade(legacy)
    migrate.downgrade(legacy.engine, BEFORE)
    assert "answer_text" in _columns(legacy, "council_material_requests")
    assert "indicators" in _columns(legacy, "info_items")
    assert "indicators_sealed" not in _columns(legacy, "info_items")
    assert _value(legacy, "SELECT indicators FROM info_items WHERE id = :i", i=legacy.item) == "[]"
