"""Every query of the notifications domain.

Every read for a person filters on ``recipient_id`` and ``hidden``: another person's notification,
or one hidden because its recipient lost access (I7), is never found, listed or counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from banso.accounts.models import User
from banso.notifications.models import DigestSent, Notification


def _visible_to(user_id: int) -> Select[Notification]:
    return select(Notification).where(Notification.recipient_id == user_id, Notification.hidden.is_(False))


def list_for(
    session: Session, *, user_id: int, unread_only: bool, limit: int, before_id: int | None = None
) -> list[Notification]:
    """Return a person's visible notifications, newest first."""
    stmt = _visible_to(user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    if before_id is not None:
        stmt = stmt.where(Notification.id < before_id)
    return list(session.scalars(stmt.order_by(Notification.id.desc()).limit(limit)))


def unread(session: Session, *, user_id: int) -> list[Notification]:
    """Return a person's visible unread notifications (the gate then keeps those still knowable)."""
    return list(session.scalars(_visible_to(user_id).where(Notification.read_at.is_(None))))


def count_unread(session: Session, *, user_id: int) -> int:
    """Return how many visible notifications a person has not read."""
    stmt = (
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == user_id, Notification.hidden.is_(False), Notification.read_at.is_(None))
    )
    return int(session.scalar(stmt) or 0)


def get_for(session: Session, *, user_id: int, notification_id: int) -> Notification | None:
    """Return the notification if it is this person's and visible, else None."""
    return session.scalar(_visible_to(user_id).where(Notification.id == notification_id))


def mark_all_read(session: Session, *, user_id: int, now: datetime) -> int:
    """Set read_at on every visible unread notification of a person; return how many."""
    stmt = (
        update(Notification)
        .where(Notification.recipient_id == user_id, Notification.hidden.is_(False), Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def hide_subject(session: Session, *, user_id: int, subject: str, now: datetime | None) -> int:
    """Hide a person's visible notifications about ``subject`` and anything under it; return how many."""
    stmt = (
        update(Notification)
        .where(
            Notification.recipient_id == user_id,
            Notification.hidden.is_(False),
            or_(Notification.subject == subject,
                Notification.subject.like(_escape_like(subject) + ":%", escape="\\")),
        )
        .values(hidden=True, hidden_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def users_by_ids(session: Session, ids: Sequence[int]) -> dict[int, User]:
    """Return the users with these ids."""
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}


def pending_email(session: Session, *, max_attempts: int, limit: int) -> list[tuple[Notification, User]]:
    """Return visible, unread notifications waiting for their immediate e-mail, oldest first."""
    stmt = (
        select(Notification, User)
        .join(User, User.id == Notification.recipient_id)
        .where(
            Notification.email_now.is_(True),
            Notification.emailed_at.is_(None),
            Notification.hidden.is_(False),
            Notification.read_at.is_(None),
            Notification.email_attempts < max_attempts,
            User.is_active.is_(True),
        )
        .order_by(Notification.id)
        .limit(limit)
    )
    return [(n, u) for n, u in session.execute(stmt).all()]


def digest_candidates(session: Session, *, since: datetime, until: datetime) -> list[tuple[Notification, User]]:
    """Return visible unread notifications created in (since, until] not yet in a digest, by person."""
    stmt = (
        select(Notification, User)
        .join(User, User.id == Notification.recipient_id)
        .where(
            Notification.created_at > since,
            Notification.created_at <= until,
            Notification.hidden.is_(False),
            Notification.read_at.is_(None),
            Notification.digested_at.is_(None),
            User.is_active.is_(True),
        )
        .order_by(Notification.recipient_id, Notification.id)
    )
    return [(n, u) for n, u in session.execute(stmt).all()]


def digest_sent_on(session: Session, *, user_ids: Sequence[int], day: date) -> set[int]:
    """Return which of these people already got their digest on ``day`` (JST)."""
    if not user_ids:
        return set()
    stmt = select(DigestSent.user_id).where(DigestSent.day == day, DigestSent.user_id.in_(user_ids))
    return set(session.scalars(stmt))
