"""The object the root command provides to every command of its process (the application context).

Why here: ``kit`` imports nothing of banso above it, so it cannot build or even name the context.
``banso.app.cli``'s root callback provides a builder; ``banso.web.context.app_context`` reads it back
typed. Typer vendors its own click, so this does not ride on click's ``ctx.obj``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


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
