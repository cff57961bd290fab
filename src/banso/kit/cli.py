"""Helpers shared by the thin CLI modules: context, unit of work, error reporting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from sqlalchemy.orm import Session

from banso.config import get_settings
from banso.kit import unit
from banso.kit.errors import BansoError

if TYPE_CHECKING:
    from banso.web.context import AppContext

err_console = Console(stderr=True)


def app_context() -> "AppContext":
    """Return the wired AppContext for a command (imported lazily to keep `--help` fast)."""
    from banso.web.context import build_context

    return build_context(get_settings())


@contextmanager
def unit_of_work(ctx: "AppContext") -> Iterator[Session]:
    """Yield a session in one unit of work (``banso.kit.unit``); domain errors exit 1 with their message."""
    try:
        with unit.unit_of_work(ctx.sessions) as session:
            yield session
    except BansoError as exc:
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
