"""Shared fixtures: a migrated real database (SQLite, or PostgreSQL via BANSO_TEST_DATABASE_URL),
a session rolled back after each test, the app wired to it, and factories with traits.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from banso.accounts import service as accounts
from banso.accounts.models import Organization, User
from banso.app.wiring import build_context
from banso.authz.principal import AuthMethod, Principal
from banso.config import Mode, Settings
from banso.db.engine import make_engine
from banso.kit.clock import FakeClock
from banso.kit.crypto import SecretBox
from banso.migrations import migrate
from banso.web.context import AppContext

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery staple"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


_HASHES: dict[str, str] = {}


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash each test password once per run: tests create many people, and argon2 is slow on purpose."""
    from banso.accounts import security

    def cached(password: str) -> str:
        if password not in _HASHES:
            _HASHES[password] = security.hash_password(password)
        return _HASHES[password]

    monkeypatch.setattr(accounts, "hash_password", cached)


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
    return FakeClock(datetime(2026, 4, 1, 0, 0, 7, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Return test settings with data in a temporary folder."""
    return Settings(mode=Mode.TEST, data_dir=tmp_path / "data", secret_key=TEST_SECRET, database_url="sqlite://")


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    """Return the secret box for TOTP seeds."""
    return SecretBox(settings.secret_key)


@pytest.fixture
def ctx(settings: Settings, engine: Engine, session_factory: sessionmaker[Session], clock: FakeClock) -> AppContext:
    """Return an AppContext wired to the test transaction and the fake clock."""
    return build_context(settings, engine=engine, sessions=session_factory, clock=clock)


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
# Factories with traits


@dataclass
class Person:
    """A test person: the ORM user, their password and TOTP secret."""

    user: User
    password: str
    totp_secret: str | None

    @property
    def email(self) -> str:
        """Return the e-mail."""
        return self.user.email

    def code(self, clock: FakeClock) -> str:
        """Return the TOTP code for the clock's current time."""
        assert self.totp_secret is not None
        return pyotp.TOTP(self.totp_secret).at(clock.now())

    def principal(self, *, mfa: bool = True) -> Principal:
        """Return the principal of a fully signed-in session."""
        return accounts.principal_for(self.user, method=AuthMethod.SESSION, mfa=mfa)


class Factory:
    """Creates organisations and people through the real services (so they are audited too)."""

    def __init__(self, db: Session, clock: FakeClock, box: SecretBox) -> None:
        self.db, self.clock, self.box = db, clock, box
        self._n = 0

    def org(self, *, kind: str = "university", name: str | None = None) -> Organization:
        """Create an organisation."""
        self._n += 1
        name = name or f"テスト組織{self._n}"
        return accounts.create_organization(
            self.db, name_ja=name, name_en=f"Test org {self._n}", kind=kind, now=self.clock.now(), actor=None
        )

    def person(
        self, *, roles: tuple[str, ...] = ("researcher",), org: Organization | None = None, with_totp: bool = True
    ) -> Person:
        """Create a person; trait ``with_totp`` enrols a second factor."""
        self._n += 1
        org = org or self.org()
        user = accounts.create_user(
            self.db, email=f"person{self._n}@test.example.jp", name_ja=f"試験 太郎{self._n}",
            name_en=f"Taro Test {self._n}", organization_id=org.id, roles=list(roles), password=PASSWORD,
            now=self.clock.now(), actor=None,
        )
        secret = None
        if with_totp:
            secret = pyotp.random_base32()
            accounts.enrol_with_secret(self.db, user=user, secret=secret, box=self.box, now=self.clock.now())
        self.db.flush()
        return Person(user=user, password=PASSWORD, totp_secret=secret)


@pytest.fixture
def factory(db: Session, clock: FakeClock, box: SecretBox) -> Factory:
    """Return the factory."""
    return Factory(db, clock, box)


def bearer(db: Session, person: Person, clock: FakeClock, scopes: list[str] | None = None) -> dict[str, str]:
    """Issue an API token for ``person`` and return the Authorization header.

    As an operator would for a verified person: the token counts as a second factor when the person
    has one enrolled (``banso tokens issue --second-factor``).
    """
    issued = accounts.issue_token(db, user=person.user, name="test", scopes=scopes, expires_in_days=30,
                                  now=clock.now(), actor=None, second_factor=person.totp_secret is not None)
    db.commit()
    return {"Authorization": f"Bearer {issued.raw}"}


def alert_text(html: str) -> str:
    """Return the text of the page's error alert."""
    found = re.search(r'<div class="alert alert-error"[^>]*>.*?<div class="alert-body">(.*?)</div>', html, re.DOTALL)
    assert found, "page shows no error"
    return found.group(1).strip()


def sign_in(client: TestClient, db: Session, person: Person, ctx: AppContext) -> str:
    """Start a fully verified web session for ``person`` through the services; return its CSRF token."""
    ctx.clock.advance(seconds=30)  # type: ignore[attr-defined]  # a fresh TOTP step: no replay
    new = accounts.login_with_password(db, email=person.email, password=person.password, ip="testclient",
                                       user_agent="pytest", now=ctx.clock.now(), settings=ctx.settings)
    if person.totp_secret:
        accounts.verify_second_factor(db, user=new.user, web_session=new.record, code=person.code(ctx.clock),
                                      box=ctx.box, now=ctx.clock.now(), ip="testclient", settings=ctx.settings)
    db.commit()
    from banso.web.deps import SESSION_COOKIE

    client.cookies.set(SESSION_COOKIE, new.cookie)
    return new.record.csrf_token
