"""Alembic environment: banso's metadata, SQLite batch mode, an engine passed in by banso."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from banso.information.search_models import include_name
from banso.migrations.registry import load_all_models

config = context.config
target_metadata = load_all_models()


def run_migrations_offline() -> None:
    """Emit SQL without a database connection."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations on the engine banso passed in (or one made from the URL)."""
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        from banso.db.engine import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

