"""The unit of work: the one place that commits, for requests, commands and jobs.

Services never commit; endpoints, views, commands and jobs neither. Their work runs inside a unit
that ends it by one rule:

* the work succeeded: commit;
* it raised a domain error (:class:`~banso.kit.errors.BansoError`) whose refusal was audited
  (``exc.audited``, set by ``audit.refuse``): commit, so the refusal is on record (A1); a service
  refuses before it changes anything, so the entry is all that commits;
* any other error: roll back.

A failing commit is an error like any other: it propagates (a request answers 500) and nothing
is reported as done. For requests the unit is the ``get_db`` dependency (``banso.web.deps``); a
page that re-renders a refused form settles the refusal early with :func:`settle`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from banso.kit.errors import BansoError


def keeps(exc: BaseException) -> bool:
    """Return True when an error ends its unit with a commit: a refusal whose audit entry is written (A1)."""
    return isinstance(exc, BansoError) and exc.audited


def commit(session: Session) -> None:
    """Commit; if that fails, roll back (the session stays usable for the error page) and re-raise."""
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise


def settle(session: Session, exc: BaseException) -> None:
    """End the work after ``exc``: commit an audited refusal, roll back anything else."""
    if keeps(exc):
        commit(session)
    else:
        session.rollback()


@contextmanager
def unit(session: Session, *, roll_back: bool = True) -> Iterator[Session]:
    """Run the work on ``session`` as one unit: commit on success, else :func:`settle`.

    ``roll_back=False`` leaves work that is not kept to the session's ``close()`` instead of rolling
    it back here: a request's error page is drawn after the unit ends and still reads the rows it
    loaded, which ``close()`` keeps and ``rollback()`` would expire.
    """
    try:
        yield session
    except BaseException as exc:
        if roll_back or keeps(exc):
            settle(session, exc)
        raise
    commit(session)


@contextmanager
def unit_of_work(sessions: Callable[[], Session]) -> Iterator[Session]:
    """Open a session from ``sessions``, run one :func:`unit` on it and close it (commands, jobs)."""
    with sessions() as session, unit(session):
        yield session
