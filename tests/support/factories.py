"""Factories with traits: organisations and people created through the real services (so they are
audited too), the password-hash cache that keeps them quick, and row counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts import security
from banso.accounts import service as accounts
from banso.accounts.models import Organization, User
from banso.audit.models import AuditEntry
from banso.authz.principal import AuthMethod, Principal
from banso.kit.clock import Clock, FakeClock
from banso.kit.crypto import SecretBox

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery staple"

_HASHES: dict[str, str] = {}
_VERIFIED: dict[tuple[str, str], bool] = {}


def hash_once(password: str) -> str:
    """Hash each test password once per run: tests create many people, and argon2 is slow on purpose."""
    if password not in _HASHES:
        _HASHES[password] = security.hash_password(password)
    return _HASHES[password]


def verify_once(hashed: str, password: str) -> bool:
    """Check each (hash, password) pair once per run, for worlds that sign in many people."""
    if (hashed, password) not in _VERIFIED:
        _VERIFIED[(hashed, password)] = security.verify_password(hashed, password)
    return _VERIFIED[(hashed, password)]


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

    def code(self, clock: Clock) -> str:
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


def audit_count(db: Session, tag: str) -> int:
    """Count audit entries with this tag."""
    return int(db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.tag == tag)) or 0)


def count_rows(db: Session, table: type[Any]) -> int:
    """Count the rows of a table (as committed or flushed: the session's cache is expired first)."""
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(table)) or 0)
