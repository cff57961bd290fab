"""Settings refuse default secrets outside demo/development mode."""

from __future__ import annotations

import pytest

from banso.config import DEFAULT_SECRET_KEY, Mode, Settings


def test_production_refuses_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSO_MODE", "production")
    monkeypatch.setenv("BANSO_DATABASE_URL", "postgresql+psycopg://u@localhost/banso")
    monkeypatch.delenv("BANSO_SECRET_KEY", raising=False)
    with pytest.raises(ValueError, match="BANSO_SECRET_KEY"):
        Settings()


def test_production_requires_database_url() -> None:
    with pytest.raises(ValueError, match="BANSO_DATABASE_URL"):
        Settings(mode=Mode.PRODUCTION, secret_key="x" * 48, database_url=None)


def test_production_with_real_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSO_MODE", "production")
    monkeypatch.setenv("BANSO_SECRET_KEY", "s" * 48)
    monkeypatch.setenv("BANSO_DATABASE_URL", "postgresql+psycopg://u@localhost/banso")
    settings = Settings()
    assert settings.mode is Mode.PRODUCTION and settings.secure_cookies
    assert settings.sqlalchemy_url.startswith("postgresql")


def test_demo_may_keep_defaults(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(mode=Mode.DEMO, data_dir=tmp_path)
    assert settings.secret_key == DEFAULT_SECRET_KEY
    assert settings.sqlalchemy_url == f"sqlite:///{(tmp_path / 'banso.db').resolve()}"
    assert settings.signing_key_path == tmp_path / "keys" / "audit-ed25519.pem"
    assert not settings.secure_cookies


def test_short_secret_refused() -> None:
    with pytest.raises(ValueError):
        Settings(secret_key="too-short")


def test_production_refuses_a_clock_offset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="CLOCK_OFFSET"):
        Settings(mode=Mode.PRODUCTION, secret_key="x" * 40, database_url="sqlite:///x.db",
                 clock_offset_file=tmp_path / "offset")


def test_offset_clock_follows_its_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    from datetime import UTC, datetime, timedelta

    from banso.kit.clock import OffsetClock

    path = tmp_path / "offset"
    clock = OffsetClock(path)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)  # no file: no offset
    path.write_text(str(400 * 86400))
    assert clock.now() - datetime.now(UTC) > timedelta(days=399)
    path.write_text("0")
    os.utime(path, ns=(1, 1))  # a new mtime, even within the same clock tick
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)
