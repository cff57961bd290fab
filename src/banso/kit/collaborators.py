"""A typed registry of the collaborators the composition root built, looked up by their class.

Why: the toolkit's ``AppContext`` carries every domain's collaborators (information's file and key
stores, programme's council gateway, ...) without importing the domains. ``banso.app.wiring`` adds
each one under its class; the domain that owns the class reads it back, typed, with :meth:`get`.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class Collaborators:
    """Collaborators keyed by their class: each domain's object built once from the settings."""

    def __init__(self) -> None:
        self._by_kind: dict[type[object], object] = {}

    def add(self, kind: type[T], value: T) -> None:
        """Register ``value`` as the ``kind`` collaborator (a later call replaces it: tests swap in fakes)."""
        self._by_kind[kind] = value

    def get(self, kind: type[T]) -> T:
        """Return the ``kind`` collaborator; raise LookupError when the composition root did not wire one."""
        value = self._by_kind.get(kind)
        if isinstance(value, kind):
            return value
        raise LookupError(f"no {kind.__qualname__} collaborator is wired (see banso.app.wiring)")
