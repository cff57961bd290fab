"""API shapes of the notifications domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class NotificationRead(BaseModel):
    """One of the caller's notifications, in both languages."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title_ja: str
    title_en: str
    body_ja: str
    body_en: str
    link: str | None
    subject: str | None
    created_at: datetime
    read_at: datetime | None
    emailed_at: datetime | None


class InboxRead(BaseModel):
    """A page of the caller's inbox with the unread count."""

    items: list[NotificationRead]
    unread_count: int


class MarkedRead(BaseModel):
    """How many notifications were marked read."""

    marked: int
