"""Every query of the accounts domain."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, delete, func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from banso.accounts.models import (
    AccountIdentity,
    ApiToken,
    LoginThrottle,
    Organization,
    RecoveryCode,
    SsoRequest,
    User,
    WebSession,
)

_Row = TypeVar("_Row", User, Organization)


def user_by_email(session: Session, email: str) -> User | None:
    """Return the user with this (normalised) e-mail."""
    return session.scalar(select(User).where(User.email == email))


def users_by_email(session: Session, emails: Iterable[str]) -> dict[str, User]:
    """Return the users with these (normalised) e-mails, by e-mail, in one query (unknown ones are left out)."""
    wanted = set(emails)
    if not wanted:
        return {}
    return {u.email: u for u in session.scalars(select(User).where(User.email.in_(wanted)))}


def user_by_id(session: Session, user_id: int) -> User | None:
    """Return the user with this id."""
    return session.get(User, user_id)


def _by_id(session: Session, model: type[_Row], column: Any, ids: Iterable[int]) -> dict[int, _Row]:
    """Return the rows of ``model`` with these ids: those the session already holds (loaded and not expired)
    from its identity map, the rest in one query (ids that do not exist are left out)."""
    found: dict[int, _Row] = {}
    missing: set[int] = set()
    for ident in set(ids):
        held = session.identity_map.get(identity_key(model, ident))
        if isinstance(held, model) and not inspect(held).expired_attributes:
            found[ident] = held
        else:
            missing.add(ident)
    if missing:
        found.update((row.id, row) for row in session.scalars(select(model).where(column.in_(missing))))
    return found


def users_by_id(session: Session, ids: Iterable[int]) -> dict[int, User]:
    """Return the users with these ids, by id, in one query at most (ids that do not exist are left out)."""
    return _by_id(session, User, User.id, ids)


def users(session: Session, stmt: Select[Any]) -> list[User]:
    """Return the users of ``stmt`` (a query restricted by a policy)."""
    return list(session.scalars(stmt))


def list_users(session: Session) -> list[User]:
    """Return every user, by organisation then name."""
    return list(session.scalars(select(User).order_by(User.organization_id, User.id)))


def org_by_name(session: Session, name_ja: str) -> Organization | None:
    """Return the organisation with this Japanese name."""
    return session.scalar(select(Organization).where(Organization.name_ja == name_ja))


def org_by_id(session: Session, org_id: int) -> Organization | None:
    """Return the organisation with this id."""
    return session.get(Organization, org_id)


def orgs_by_id(session: Session, ids: Iterable[int]) -> dict[int, Organization]:
    """Return the organisations with these ids, by id, in one query at most (unknown ids are left out)."""
    return _by_id(session, Organization, Organization.id, ids)


def list_orgs(session: Session) -> list[Organization]:
    """Return every organisation."""
    return list(session.scalars(select(Organization).order_by(Organization.id)))


def count_users(session: Session) -> int:
    """Return how many users exist."""
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def session_by_hash(session: Session, token_hash: str) -> WebSession | None:
    """Return the web session whose cookie hashes to ``token_hash``."""
    return session.scalar(select(WebSession).where(WebSession.token_hash == token_hash))


def session_with_user(session: Session, token_hash: str) -> tuple[WebSession, User] | None:
    """Return the web session whose cookie hashes to ``token_hash`` with its user, in one statement."""
    row = session.execute(select(WebSession, User).join(User, User.id == WebSession.user_id)
                          .where(WebSession.token_hash == token_hash)).first()
    return None if row is None else (row[0], row[1])


_TOKEN_BY_PREFIX = select(ApiToken).where(ApiToken.prefix == bindparam("prefix"))  # built once: every API request


def token_by_prefix(session: Session, prefix: str) -> ApiToken | None:
    """Return the API token with this public prefix."""
    return session.scalar(_TOKEN_BY_PREFIX, {"prefix": prefix})


def token_by_id(session: Session, token_id: int) -> ApiToken | None:
    """Return the API token with this id."""
    return session.get(ApiToken, token_id)


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    """Return a user's tokens, newest first."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())))


def unused_recovery_codes(session: Session, user_id: int) -> list[RecoveryCode]:
    """Return a user's recovery codes that have not been used."""
    return list(
        session.scalars(
            select(RecoveryCode).where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        )
    )


def delete_recovery_codes(session: Session, user_id: int) -> None:
    """Remove all of a user's recovery codes (before issuing a new set)."""
    for code in session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user_id)):
        session.delete(code)


def throttle_for(session: Session, key: str, *, lock: bool = False) -> LoginThrottle | None:
    """Return the throttle row for ``key`` (locked for update when asked)."""
    stmt = select(LoginThrottle).where(LoginThrottle.key == key)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def active_sessions_of(session: Session, user_id: int) -> list[WebSession]:
    """Return a user's sessions that are not revoked."""
    return list(
        session.scalars(select(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None)))
    )


def identity_of(session: Session, issuer: str, subject: str) -> AccountIdentity | None:
    """Return the linked identity for a provider's (issuer, subject) pair."""
    return session.scalar(select(AccountIdentity).where(AccountIdentity.issuer == issuer,
                                                        AccountIdentity.subject == subject))


def identity_of_user(session: Session, user_id: int, issuer: str) -> AccountIdentity | None:
    """Return the identity a person has linked at this issuer, if any."""
    return session.scalar(select(AccountIdentity).where(AccountIdentity.user_id == user_id,
                                                        AccountIdentity.issuer == issuer))


def sso_request_by_hash(session: Session, state_hash: str, *, lock: bool = False) -> SsoRequest | None:
    """Return the started single sign-on with this state hash (locked for the callback that uses it)."""
    stmt = select(SsoRequest).where(SsoRequest.state_hash == state_hash)
    return session.scalar(stmt.with_for_update() if lock else stmt)


def delete_sso_requests_before(session: Session, moment: datetime) -> None:
    """Delete the single sign-on requests started before ``moment`` (expired: their state is worthless)."""
    session.execute(delete(SsoRequest).where(SsoRequest.created_at < moment))
