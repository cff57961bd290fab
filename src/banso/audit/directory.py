"""Who and what an audit entry names, in words a person reads (issue 14): a port the composition root fills.

The log keeps ids (``actor_id``, ``subject = "item:7"``); the people, organisations, councils and items
they name live in domains above the toolkit, which the audit package must not import. ``banso.app``
implements :class:`AuditDirectory` over those domains and their policies and registers it in the
context's collaborators; the audit pages and exports read it back with :func:`directory_of`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.web.context import AppContext


@dataclass(frozen=True)
class PersonLabel:
    """A person as the audit page shows them: name and organisation (not the e-mail)."""

    name: str
    organisation: str


@dataclass(frozen=True)
class SubjectLabel:
    """A subject in words: ``kind`` is an English msgid ("Information item"), ``name`` what it is called
    when the viewer may know it, ``href`` only when the viewer may follow it (never a page that answers
    403 or 404)."""

    kind: str
    ident: str
    name: str | None = None
    href: str | None = None


@dataclass(frozen=True)
class PersonChoice:
    """A person in the filter's pick list."""

    user_id: int
    name: str


@dataclass(frozen=True)
class OrgChoice:
    """An organisation and its people, for the grouped pick lists of the audit page."""

    org_id: int
    name: str
    people: tuple[PersonChoice, ...]


@runtime_checkable
class AuditDirectory(Protocol):
    """Names for the ids an audit entry holds, decided for one viewer (implemented in ``banso.app``)."""

    def people(self, session: Session, user_ids: Iterable[int], *, locale: str) -> dict[int, PersonLabel]:
        """Return the name and organisation of each known person (one statement)."""
        ...

    def member_ids(self, session: Session, org_id: int) -> tuple[int, ...]:
        """Return the ids of the organisation's people (past and present accounts)."""
        ...

    def choices(self, session: Session, *, locale: str) -> list[OrgChoice]:
        """Return every organisation with its people, by name (the auditor's pick lists)."""
        ...

    def subjects(self, session: Session, viewer: Principal, subjects: Iterable[str], *,
                 locale: str) -> dict[str, SubjectLabel]:
        """Return a label for each subject, with a link only where ``viewer`` may follow it."""
        ...


class PlainDirectory:
    """The fallback when no directory is wired (a bare toolkit): ids shown as they are, nothing linked."""

    def people(self, session: Session, user_ids: Iterable[int], *, locale: str) -> dict[int, PersonLabel]:
        """Know nobody."""
        return {}

    def member_ids(self, session: Session, org_id: int) -> tuple[int, ...]:
        """Know no organisation."""
        return ()

    def choices(self, session: Session, *, locale: str) -> list[OrgChoice]:
        """Offer no pick list."""
        return []

    def subjects(self, session: Session, viewer: Principal, subjects: Iterable[str], *,
                 locale: str) -> dict[str, SubjectLabel]:
        """Show every subject as its raw value, unlinked."""
        return {s: SubjectLabel(kind="", ident=s) for s in subjects}


def directory_of(ctx: AppContext) -> AuditDirectory:
    """Return the wired directory (``banso.app.wiring``), or the plain fallback."""
    try:
        return ctx.collaborators.get(AuditDirectory)  # type: ignore[type-abstract]
    except LookupError:
        return PlainDirectory()
