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
