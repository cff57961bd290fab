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

Work with a CPU-heavy middle (stamping a copy, rendering a page, validating an upload, O4) runs its
unit in steps, so that no transaction (on SQLite: the write lock; on PostgreSQL: a connection) is
held while it computes: :func:`read_step` (decide and read; on SQLite ``BEGIN DEFERRED``, no lock),
the heavy work with no transaction open (:func:`released` when there is no read step), then the
unit's own transaction for the writes, which decides again and records.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy import inspect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import Session

from banso.kit.errors import BansoError

# Execution option of a transaction that only reads: the SQLite engine (``banso.db.engine``) begins it
# DEFERRED, which in WAL mode takes no lock, where every other transaction begins IMMEDIATE.
READ_STEP: Final = "banso_read_step"
# Heavy steps (:func:`released`) running at once in one process. More would only share the same CPUs
# and, in CPython, the one interpreter lock: every other request's thread would wait for it too (O4).
HEAVY_AT_ONCE: Final = max(1, os.cpu_count() or 1)
_HEAVY = threading.BoundedSemaphore(HEAVY_AT_ONCE)


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


def _in_place(session: Session) -> bool:
    """Return True inside a savepoint (``begin_nested``): the steps then run in place, as one transaction.

    Why: committing would end the work of whoever opened the savepoint around us (a test's model
    machine, a caller that must roll back as a whole); their transaction is theirs to end.
    """
    return session.in_nested_transaction()


def release(session: Session) -> None:
    """Commit the unit's work so far (e.g. the sign-in's touch of the session row), so no transaction stays open."""
    if session.in_transaction() and not _in_place(session):
        commit(session)


@contextmanager
def released(session: Session) -> Iterator[None]:
    """Run heavy work with no transaction open: the unit's work so far is committed first (O4).

    At most :data:`HEAVY_AT_ONCE` heavy steps run at once; the others wait here, holding nothing of
    the database. The work must not touch ``session``; whatever follows opens the unit's next transaction.
    """
    if _in_place(session):
        yield
        return
    release(session)
    with _HEAVY:
        yield
    if session.in_transaction():
        raise RuntimeError("heavy work opened a transaction (it must not use the session)")


@contextmanager
def read_step(session: Session) -> Iterator[Session]:
    """Run a step of the unit that only reads, in a transaction of its own that takes no write lock (O4).

    The unit's work so far is committed first; the step's transaction is opened with :data:`READ_STEP`
    (SQLite: ``BEGIN DEFERRED``, a WAL reader that blocks no writer; PostgreSQL: an ordinary transaction)
    and ends when the step does, so nothing is held while the caller then computes. Rows loaded keep
    their values. An error goes to the enclosing unit, which settles it: an audited refusal the step
    raised is rolled back with the read and written again in a transaction that writes (:func:`settle`).
    Inside a savepoint the step runs in place (see :func:`_in_place`).
    """
    if _in_place(session):
        yield session
        return
    release(session)
    session.connection(execution_options={READ_STEP: True})
    yield session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read step must not write (SQLite: a deferred transaction cannot take the lock safely)")
    commit(session)  # nothing to write: ends the read; expire_on_commit=False keeps the loaded rows' values
