"""``banso db``: migrations."""

from __future__ import annotations

import typer
from rich.console import Console

from banso.config import get_settings
from banso.db.engine import make_engine
from banso.migrations import migrate

app = typer.Typer(no_args_is_help=True)
console = Console()


@app.command()
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Migrate the database to the newest (or given) revision."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.sqlalchemy_url)
    from banso.information.sealed_legacy import migration_attributes
    from banso.sealed.pkcs11 import key_stores

    migrate.upgrade(engine, revision, attributes=migration_attributes(settings.data_dir, settings.secret_key,
                                                                     keys=key_stores(settings)))
    console.print(f"[green]database at revision {migrate.current_revision(engine)}[/green]")


@app.command()
def downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. -1 or base.")) -> None:
    """Migrate the database down."""
    engine = make_engine(get_settings().sqlalchemy_url)
    migrate.downgrade(engine, revision)
    console.print(f"database at revision {migrate.current_revision(engine)}")


@app.command()
def check() -> None:
    """Fail when the models and the migrated database disagree."""
    engine = make_engine(get_settings().sqlalchemy_url)
    current, head = migrate.current_revision(engine), migrate.head_revision()
    if current != head:
        console.print(f"[red]database is at {current}, migrations head is {head}: run `banso db upgrade`[/red]")
        raise typer.Exit(1)
    drift = migrate.model_drift(engine)
    if drift:
        for diff in drift:
            console.print(f"[red]drift:[/red] {diff}")
        raise typer.Exit(1)
    console.print("[green]models and migrations agree[/green]")


@app.command()
def revision(message: str = typer.Option(..., "-m", help="What the migration does.")) -> None:
    """Autogenerate a new migration from the models (developers)."""
    from alembic import command

    settings = get_settings()
    engine = make_engine(settings.sqlalchemy_url)
    command.revision(migrate.alembic_config(settings.sqlalchemy_url, engine), message=message, autogenerate=True)
