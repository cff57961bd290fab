"""Helpers shared by the thin CLI modules: unit of work, error reporting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from banso.kit import unit
from banso.kit.errors import BansoError

err_console = Console(stderr=True)


class SessionSource(Protocol):
    """Anything that opens database sessions (the application context)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...


@contextmanager
def unit_of_work(ctx: SessionSource) -> Iterator[Session]:
    """Yield a session in one unit of work (``banso.kit.unit``); domain errors exit 1 with their message."""
    try:
        with unit.unit_of_work(ctx.sessions) as session:
            yield session
    except BansoError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    except (OperationalError, ProgrammingError) as exc:
        if not _missing_table(exc):
            raise
        # A data folder whose database was never migrated: say what to run, not a SQLAlchemy traceback.
        err_console.print("[red]error:[/red] データベースが作成されていません。先に `banso db upgrade` を実行してください / "
                          "the database is not set up: run `banso db upgrade` first")
        raise typer.Exit(1) from None


def _missing_table(exc: Exception) -> bool:
    """Return True when ``exc`` says a table does not exist (SQLite's and PostgreSQL's wording)."""
    text = str(exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)
