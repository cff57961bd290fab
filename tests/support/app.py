"""The application context of a test: settings in a temporary folder, the fake clock, the secret box."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from banso.app.wiring import build_context
from banso.config import Mode, Settings
from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from tests.support.factories import TEST_SECRET

START = datetime(2026, 4, 1, 0, 0, 7, tzinfo=UTC)  # 2026-04-01 09:00 JST


def make_settings(folder: Path) -> Settings:
    """Return test settings with data below ``folder``."""
    # Rate limits off: one test may send hundreds of requests with one token (fuzzing, stateful
    # tests); tests/web/test_overload.py turns them on with its own small limits.
    return Settings(mode=Mode.TEST, data_dir=folder / "data", secret_key=TEST_SECRET, database_url="sqlite://",
                    rate_limit_per_second=0, rate_limit_anonymous_per_second=0)


def make_context(settings: Settings, engine: Engine, sessions: sessionmaker[Session], clock: FakeClock) -> AppContext:
    """Return the application's own wiring (``banso.app.wiring``) on these sessions and this clock."""
    return build_context(settings, engine=engine, sessions=sessions, clock=clock)

