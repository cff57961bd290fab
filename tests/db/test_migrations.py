"""Models and migrations agree; migrations run down and up again on both backends."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect

from banso.db.engine import make_engine
from banso.migrations import migrate
from banso.migrations.registry import load_all_models


def test_models_and_migrations_agree(engine: Engine) -> None:
    """CI fails when a model changes without a migration (or the other way round)."""
    assert migrate.current_revision(engine) == migrate.head_revision()
    drift = migrate.model_drift(engine)
    assert drift == [], f"models and migrations disagree: {drift}"


def test_every_table_is_migrated(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(load_all_models().tables) <= tables


def test_down_and_up_again(tmp_path: Path) -> None:
    """Every migration has a working downgrade (checked on a scratch SQLite database)."""
    eng = make_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    migrate.upgrade(eng)
    migrate.downgrade(eng, "base")
    assert migrate.current_revision(eng) is None
    assert [t for t in inspect(eng).get_table_names() if t != "alembic_version"] == []
    migrate.upgrade(eng)
    assert migrate.current_revision(eng) == migrate.head_revision()


def test_migration_files_are_date_prefixed() -> None:
    versions = Path(migrate.MIGRATIONS_DIR) / "versions"
    names = [p.name for p in versions.glob("*.py")]
    assert names, "no migrations found"
    assert all(name[:8].isdigit() and name[8] == "_" for name in names), names
