"""ORM tables of the accounts domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from banso.db.base import Base


class OrgKind(StrEnum):
    """Kinds of participant organisation (seed 2(2)②)."""

    MINISTRY = "ministry"  # 省庁
    FUNDING_AGENCY = "funding_agency"  # 資金配分機関
    COMPANY = "company"  # 企業
    STARTUP = "startup"  # スタートアップ
    UNIVERSITY = "university"  # 大学・研究機関
    THINK_TANK = "think_tank"  # シンクタンク


class Organization(Base):
    """An organisation (組織) whose people use banso."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name_ja: Mapped[str] = mapped_column(String(200), unique=True)
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    short_name: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime]

    people: Mapped[list[User]] = relationship(back_populates="organization")


class User(Base):
    """A person (利用者) with platform roles, a password and optionally a TOTP second factor."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    researcher_number: Mapped[str | None] = mapped_column(String(20))  # e-Rad 研究者番号
    # F7 (deemed export, みなし輸出): nationality as an ISO 3166-1 alpha-2 code (None: not recorded) and a
    # foreign affiliation (employment by or strong influence of a foreign government or body; None: none).
    nationality: Mapped[str | None] = mapped_column(String(2))
    foreign_affiliation: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="ja")
    # TOTP secret, encrypted with a key derived from BANSO_SECRET_KEY (never stored in clear).
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Last accepted TOTP time-step: a code from this step or an earlier one is a replay.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    organization: Mapped[Organization] = relationship(back_populates="people", lazy="joined")


class RecoveryCode(Base):
    """A one-time recovery code for the second factor, stored hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A server-side login session; the cookie holds only a random id whose hash is stored here."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    mfa_verified_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))


class ApiToken(Base):
    """An API token for scripts; only its SHA-256 is stored, its scopes never exceed the user's rights."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str] | None] = mapped_column(JSON)  # None: all of the user's permissions
    # I7: True only when issued from a session that had passed the second factor (or by an operator
    # who vouched for it, for a user with TOTP); otherwise the token never counts as a second factor.
    second_factor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class LoginThrottle(Base):
    """Failed-login counters per key (an e-mail address or a client address)."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime | None]
    locked_until: Mapped[datetime | None]


class AccountIdentity(Base):
    """A person's identity at a single sign-on provider (O3): the provider's (issuer, subject) pair.

    Once linked, the subject decides who signs in, whatever e-mail address the provider later sends.
    """

    __tablename__ = "account_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))  # the verified address it was linked by, if any
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]


class SsoRequest(Base):
    """A single sign-on started in a browser and not finished yet: its state, nonce and PKCE verifier.

    Only the state's SHA-256 is stored (the browser holds the state in a cookie); the verifier is
    sealed with the secret box. ``used_at`` makes each state good for one callback only.
    """

    __tablename__ = "sso_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(128))
    verifier_enc: Mapped[bytes] = mapped_column(LargeBinary)
    next_url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
