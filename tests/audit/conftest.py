"""Audit test fixtures: a real database per test (SQLite file, or PostgreSQL via BANSO_TEST_DATABASE_URL).

All database setup lives in ``audit_engine`` so it can be swapped for Alembic-migrated databases.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from banso.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditNode
from banso.config import get_settings
from banso.db.engine import make_engine, make_session_factory
from banso.kit.clock import FakeClock

AUDIT_TABLES = [AuditEntry.__table__, AuditNode.__table__, AuditHead.__table__, AuditCheckpoint.__table__]


@pytest.fixture
def audit_url(tmp_path: Path) -> Iterator[str]:
    """Return the URL of this test's database (the CLI tests pass it to ``--database-url``)."""
    base = os.environ.get("BANSO_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'audit.db'}"
        return
    # PostgreSQL: a private schema per test, so a shared (migrated) schema is never touched.
    schema = f"audit_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def audit_engine(audit_url: str) -> Iterator[Engine]:
    """Return an engine on a fresh database holding the audit tables."""
    engine = make_engine(audit_url)
    create_audit_tables(engine)
    yield engine
    engine.dispose()


def create_audit_tables(engine: Engine) -> None:
    """Create the audit tables (the lead swaps this for ``migrate.upgrade``)."""
    from banso.db.base import Base

    Base.metadata.create_all(engine, tables=AUDIT_TABLES)


@pytest.fixture
def audit_sessions(audit_engine: Engine) -> sessionmaker[Session]:
    """Return the session factory of the test database."""
    return make_session_factory(audit_engine)


@pytest.fixture
def audit_clock() -> FakeClock:
    """Return a fake clock."""
    return FakeClock(datetime(2026, 4, 1, 0, 0, 7, 123456, tzinfo=UTC))


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    """Return a fresh Ed25519 key."""
    return Ed25519PrivateKey.generate()


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the settings at a temporary data folder; return the signing key path."""
    key_path = tmp_path / "keys" / "audit-ed25519.pem"
    monkeypatch.setenv("BANSO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BANSO_AUDIT_KEY_PATH", str(key_path))
    monkeypatch.setenv("BANSO_MODE", "test")
    get_settings.cache_clear()
    yield key_path
    get_settings.cache_clear()
