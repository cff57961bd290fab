"""Helpers shared by the thin CLI modules: the root command's context, unit of work, error reporting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, Protocol, TypeVar

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from banso.kit.errors import BansoError

T = TypeVar("T")

err_console = Console(stderr=True)


class SessionSource(Protocol):
    """Anything that opens database sessions (the application context)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...


class OnFirstUse(Generic[T]):
    """A value built the first time a command asks for it (``banso --help`` builds nothing)."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None

    def get(self) -> T:
        """Return the value, building it on the first call."""
        if self._value is None:
            self._value = self._build()
        return self._value


_root: list[OnFirstUse[object]] = []  # what the running command's root callback provided


def provide_root_object(build: Callable[[], object]) -> None:
    """Make ``build()`` the object every command of this process reads (``banso.app.cli`` calls this)."""
    _root[:] = [OnFirstUse(build)]


def root_object(kind: type[T]) -> T:
    """Return the object the root command provided, built on first use; it must be a ``kind``."""
    value = _root[0].get() if _root else None
    if isinstance(value, kind):
        return value
    raise RuntimeError(f"no {kind.__qualname__}: run this command through `banso` (banso.app.cli)")


@contextmanager
def unit_of_work(ctx: SessionSource) -> Iterator[Session]:
    """Yield a session that commits on success; domain errors exit 1 with their message."""
    session = ctx.sessions()
    try:
        yield session
        session.commit()
    except BansoError as exc:
        session.rollback()
        err_console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from None
    finally:
        session.close()
