"""Shared fixtures: a migrated real database (SQLite, or PostgreSQL via BANSO_TEST_DATABASE_URL),
a session rolled back after each test, the app wired to it, and the factory (tests/support/factories.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from banso.accounts import service as accounts
from banso.config import Settings
from banso.db.engine import make_engine
from banso.kit.clock import FakeClock
from banso.kit.crypto import SecretBox
from banso.migrations import migrate
from banso.web.context import AppContext
from tests.support.app import START, make_context, make_settings
from tests.support.factories import Factory, hash_once

# Defined ONCE, here: a session fixture imported into two conftests is two fixtures, so two tokens; this
# process's library keeps the first one's SOFTHSM2_CONF while the second points subprocesses elsewhere.
from tests.support.hsm import hsm_prefix, softhsm  # noqa: F401 - fixtures (keys in an HSM, issue 17)


def pytest_configure(config: pytest.Config) -> None:
    """Give each pytest-xdist worker a PostgreSQL database of its own (the PostgreSQL pass runs with ``-n``)."""
    _database_per_worker()


# The longest tests, longest first (measured session 11, `pytest -n 2 --durations=30`, both passes). Run first so
# that pytest-xdist's round-robin first batch spreads them over the workers and the rest fills in behind them;
# collected in file order they started near the end and one worker ran the 10-minute stateful model alone.
RUN_FIRST = (
    "tests/information/test_stateful.py::",
    "tests/ops/test_crash.py::",
    "tests/analytics/test_spark.py::",
    "tests/analytics/test_spark_cluster.py::",
    "tests/backup/test_cli.py::",
    "tests/browser/test_programme_e2e.py::",
    "tests/councils/test_stateful.py::",
    "tests/programme/test_registry.py::test_cli_import_and_export",
    "tests/councils/test_cli.py::",
    "tests/api/test_fuzz.py::",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the tests of :data:`RUN_FIRST` to the front, in that order; the rest keep theirs."""
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(RUN_FIRST) if item.nodeid.startswith(prefix)), len(RUN_FIRST))

    items.sort(key=rank)  # stable: the order within each group and of the rest is unchanged


def _database_per_worker() -> None:
    """Point BANSO_TEST_DATABASE_URL at ``<database>_<worker>``, created afresh, in an xdist worker.

    Why: the session fixture below resets and migrates the database named by the variable, and tests that
    start servers or open connections of their own read the same variable; two workers on one database
    would drop each other's schema. Rewriting the variable once, before any test module is collected,
    keeps every reader in a worker on that worker's database. SQLite (no variable) needs nothing: each
    worker has its own temporary folder.
    """
    base = os.environ.get("BANSO_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not base or not worker:
        return
    url = make_url(base)
    name = f"{url.database}_{worker}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    os.environ["BANSO_TEST_DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash each test password once per run: tests create many people, and argon2 is slow on purpose."""
    monkeypatch.setattr(accounts, "hash_password", hash_once)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the test database URL: PostgreSQL when BANSO_TEST_DATABASE_URL is set, else a SQLite file."""
    url = os.environ.get("BANSO_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'banso-test.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """Return an engine on a database built by running the Alembic migrations."""
    eng = make_engine(database_url)
    if eng.dialect.name == "postgresql":
        _reset_postgres(eng)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[object]:
    """Yield a connection inside an outer transaction that is rolled back after the test."""
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def session_factory(connection: object) -> sessionmaker[Session]:
    """Return a session factory whose commits become savepoints of the test's outer transaction."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)  # type: ignore[call-overload]


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session on the migrated database, rolled back after the test."""
    session = session_factory()
    try:
        yield session
    finally:
        session.close()


@pytest.fixture
def clock() -> FakeClock:
    """Return a controllable clock (2026-04-01 09:00 JST)."""
    return FakeClock(START)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Return test settings with data in a temporary folder."""
    return make_settings(tmp_path)


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    """Return the secret box for TOTP seeds."""
    return SecretBox(settings.secret_key)


@pytest.fixture
def ctx(settings: Settings, engine: Engine, session_factory: sessionmaker[Session], clock: FakeClock) -> AppContext:
    """Return an AppContext wired to the test transaction and the fake clock."""
    return make_context(settings, engine, session_factory, clock)


@pytest.fixture
def app(ctx: AppContext):  # type: ignore[no-untyped-def]
    """Return the FastAPI app on the test context (no background jobs)."""
    from banso.app.factory import create_app

    return create_app(ctx, background_jobs=False)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """Return an HTTP client for the app (cookies kept between calls)."""
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


# ---------------------------------------------------------------------------------------------
# Factories (tests/support/factories.py)


@pytest.fixture
def factory(db: Session, clock: FakeClock, box: SecretBox) -> Factory:
    """Return the factory."""
    return Factory(db, clock, box)
