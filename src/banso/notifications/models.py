"""ORM tables of the notifications domain.

A notification's text is rendered when it is created and stored as is, in both languages.
The sender decides who may know what (see ``service.notify``); the subject reference lets the
text be hidden later when the recipient loses access (I7), without deleting the record.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banso.db.base import Base


class Notification(Base):
    """A message (通知) to one person: title and body in Japanese and English, a link and a subject."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The inbox and the unread count: one recipient's visible rows, newest first.
        Index("ix_notifications_inbox", "recipient_id", "hidden", "read_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))  # e.g. council.consent_requested
    title_ja: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    body_ja: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))  # a local path, e.g. /councils/12
    # What the text is about, e.g. "council:12" or "council:12:meeting:3" (see hide_for_subject).
    subject: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)  # the digest scans the last day
    read_at: Mapped[datetime | None]
    # I7: the recipient lost access to the subject; the row stays, its text is never served again.
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_at: Mapped[datetime | None]
    # True: e-mail it on its own as soon as the mail job runs; False: only in the daily digest.
    email_now: Mapped[bool] = mapped_column(Boolean, default=False)
    emailed_at: Mapped[datetime | None]
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    email_error: Mapped[str | None] = mapped_column(String(500))
    # Set when the notification went out in a daily digest (so no digest repeats it).
    digested_at: Mapped[datetime | None]


class DigestSent(Base):
    """One daily digest e-mail sent to one person on one JST calendar day (at most one per day)."""

    __tablename__ = "notification_digests"
    __table_args__ = (UniqueConstraint("user_id", "day", name="uq_notification_digests_user_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)  # the JST calendar day
    sent_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer)
