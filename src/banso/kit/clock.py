"""Clock (時計) behind a Protocol so rules and tests can control time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
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


class OffsetClock:
    """The real clock plus an offset in seconds read from a file (demo and end-to-end tests only).

    The file is re-read when it changes, so a test can move a running server forward in time; a
    missing or empty file means no offset. Production refuses this (``Settings``).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._offset = timedelta(0)

    def now(self) -> datetime:
        """Return the real UTC time plus the current offset."""
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            self._stamp, self._offset = None, timedelta(0)
        else:
            if stamp != self._stamp:
                text = self.path.read_text(encoding="utf-8").strip()
                self._offset = timedelta(seconds=float(text or 0))
                self._stamp = stamp
        return datetime.now(UTC) + self._offset


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime (naive values from SQLite are UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_jst(value: datetime) -> datetime:
    """Return ``value`` in Japan Standard Time, for display."""
    return as_utc(value).astimezone(JST)
