"""Run Alembic migrations programmatically (``banso db upgrade``, tests, demo)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from banso.migrations.registry import load_all_models

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(url: str, engine: Engine | None = None) -> Config:
    """Return an Alembic config pointing at banso's migrations and ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option(
        "file_template", "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s"
    )
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head", *, attributes: Mapping[str, object] | None = None) -> None:
    """Migrate the database of ``engine`` up to ``revision``; ``attributes`` reach data migrations (e.g. 0011)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False), engine)
    cfg.attributes.update(attributes or {})
    command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database of ``engine`` down to ``revision``."""
    command.downgrade(alembic_config(engine.url.render_as_string(hide_password=False), engine), revision)


def current_revision(engine: Engine) -> str | None:
    """Return the database's current revision (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """Return the newest migration's revision id."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head()


def model_drift(engine: Engine) -> list[object]:
    """Return the differences between the models and the migrated database (empty when they agree)."""
    metadata = load_all_models()
    with engine.connect() as conn:
        from banso.information.search_models import include_name  # hand-written full-text objects

        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True,
                                                     "include_name": include_name})
        return list(compare_metadata(ctx, metadata))
