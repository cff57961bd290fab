"""Clock (時計) behind a Protocol so rules and tests can control time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    """Anything that tells the current time (timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


class FakeClock:
    """A clock that tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 4, 1, 0, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """Return the fake current time."""
        return self._now

    def advance(self, **kwargs: float) -> datetime:
        """Move the clock forward by ``timedelta(**kwargs)`` and return the new time."""
        self._now = self._now + timedelta(**kwargs)
        return self._now

    def set(self, when: datetime) -> None:
        """Jump to ``when``."""
        self._now = when


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (naive values from SQLite are UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_jst(value: datetime) -> datetime:
    """Return ``value`` in Japan Standard Time, for display."""
    return as_utc(value).astimezone(JST)
