"""The unit of work: the one place that commits, for requests, commands and jobs.

Services never commit; endpoints, views, commands and jobs neither. Their work runs inside a unit
that ends it by one rule:

* the work succeeded: commit;
* it raised a domain error (:class:`~banso.kit.errors.BansoError`) whose refusal was audited
  (``exc.audited``, set by ``audit.refuse``): the refusal stays on record (A1) and the refused work
  does not (roll back, write the entry again, commit; see :func:`settle`);
* any other error: roll back.

A failing commit is an error like any other: it propagates (a request answers 500) and nothing
is reported as done. For requests the unit is the ``get_db`` dependency (``banso.web.deps``); a
page that re-renders a refused form settles the refusal early with :func:`settle`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import inspect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from banso.kit.errors import BansoError


def keeps(exc: BaseException) -> bool:
    """Return True when an error ends its unit with a commit: a refusal whose audit entry is written (A1)."""
    return isinstance(exc, BansoError) and exc.audited


def discard(session: Session, *, detach: bool = False) -> None:
    """Roll back what was not committed; ``detach`` first lets go of the loaded rows, as they are.

    A request's error page is drawn after its session has closed and still shows who is signed in:
    rows detached before the rollback keep their values, where a rollback would expire them. Rows
    an earlier rollback of the request already expired (a refused form, then an error) are read
    again first, so nothing detached is left without its values.
    """
    if not detach:
        session.rollback()
        return
    stale = [obj for obj in session.identity_map.values() if inspect(obj).expired_attributes]
    session.expunge_all()
    session.rollback()
    for obj in stale:
        session.add(obj)
        try:
            session.refresh(obj)
        except InvalidRequestError:
            pass  # gone meanwhile: nothing to show of it
    session.expunge_all()
    session.rollback()


def commit(session: Session, *, detach: bool = False) -> None:
    """Commit; if that fails, :func:`discard` (so the session stays usable) and re-raise."""
    try:
        session.commit()
    except BaseException:
        discard(session, detach=detach)
        raise


def settle(session: Session, exc: BaseException, *, detach: bool = False) -> None:
    """End the work after ``exc``: keep an audited refusal (A1), roll back anything else.

    A refusal that can write its entry again (``exc.rewrite``, set by ``audit.refuse``) keeps that
    entry alone: everything the refused work changed is rolled back first.
    """
    if not keeps(exc):
        discard(session, detach=detach)
        return
    assert isinstance(exc, BansoError)
    if exc.rewrite is not None:
        discard(session, detach=detach)
        exc.rewrite(session)
    commit(session, detach=detach)


@contextmanager
def unit(session: Session, *, detach: bool = False) -> Iterator[Session]:
    """Run the work on ``session`` as one unit: commit on success, else :func:`settle` (see :func:`discard`)."""
    try:
        yield session
    except BaseException as exc:
        settle(session, exc, detach=detach)
        raise
    commit(session, detach=detach)


@contextmanager
def unit_of_work(sessions: Callable[[], Session]) -> Iterator[Session]:
    """Open a session from ``sessions``, run one :func:`unit` on it and close it (commands, jobs)."""
    with sessions() as session, unit(session):
        yield session
