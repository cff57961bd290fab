"""Scheduled jobs: run inside `banso serve`/`banso demo` and as `banso jobs run-due` for cron.

Order matters: domain jobs first (they append audit entries and create notifications), then a
checkpoint is signed over everything they wrote (A2), then e-mail goes out.

The jobs run in one process at a time, however many workers and servers share the database
(:class:`JobLease`): on PostgreSQL the process holding a session advisory lock leads, on SQLite the
process holding an exclusive lock on a file beside the database. Both locks are released by the
operating system or the database server when their holder dies, so a standby takes over at its
next tick.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from banso.audit import checkpoints
from banso.audit import service as audit
from banso.councils import bylaws, export_control, meetings, notices, statements
from banso.councils import service as councils
from banso.councils.models import Council
from banso.kit.unit import unit_of_work
from banso.notifications import tasks as notification_tasks
from banso.programme import reporting
from banso.sealed.pending import pending_uploads

if TYPE_CHECKING:
    from banso.web.context import AppContext

log = logging.getLogger("banso.jobs")
# pg_try_advisory_lock key of the job leader: the bytes of "bansojob" (any fixed 64-bit value would do).
JOB_LOCK_KEY = int.from_bytes(b"bansojob", "big")


def _council_job(ctx: AppContext) -> list[str]:
    """Lapse or establish councils at their consent deadline and remind pending founders (C1)."""
    now = ctx.clock.now()
    with unit_of_work(ctx.sessions) as session:
        report = councils.run_due_councils(session, now=now)
        for reminder in report.reminders:
            council = session.get(Council, reminder.council_id)
            if council is not None:
                notices.consent_requested(session, council, [reminder.user_id], deadline=reminder.deadline,
                                          now=now, reminder=True)
        reminded = councils.remind_action_items(session, now=now)
        minutes = meetings.remind_minutes(session, now=now)  # C5: confirmations due soon
        votes = bylaws.run_due_bylaws(session, now=now)  # issue 13: amendment deadlines and reminders
        oral = statements.remind_statements(session, now=now)  # issue 13: written designations due soon
        checks = export_control.remind_pending(session, now=now)  # F7: deemed-export checks left pending
    done = [f"councils:action:remind sent={reminded}"] if reminded else []
    if votes.settled or votes.reminded or votes.withdrawn:
        done.append(f"councils:bylaws:due settled={votes.settled} reminded={votes.reminded} "
                    f"withdrawn={votes.withdrawn}")
    if minutes:
        done.append(f"councils:minutes:remind sent={minutes}")
    if oral:
        done.append(f"councils:statement:remind sent={oral}")
    if checks:
        done.append(f"councils:export:remind sent={checks}")
    if report.established or report.lapsed or report.reminders or report.expired_invitations:
        done.append(f"councils:due established={len(report.established)} lapsed={len(report.lapsed)} "
                    f"reminders={len(report.reminders)} expired={len(report.expired_invitations)}")
    return done


def _information_job(ctx: AppContext) -> list[str]:
    """Settle ballots at their deadline, lapse ended designations, publish due results, remind (I4–I6)."""
    from banso.information import service as information
    from banso.information.deps import information_deps

    with unit_of_work(ctx.sessions) as session:
        report = information.run_due_information(session, now=ctx.clock.now(), deps=information_deps(ctx))
    if report.settled or report.lapsed or report.published or report.reminders or report.released:
        return [(f"information:due settled={report.settled} lapsed={report.lapsed} "
                 f"published={report.published} reminders={report.reminders} released={report.released}")]
    return []


def _programme_job(ctx: AppContext) -> list[str]:
    """Make the results-report schedules, remind reports and F4 declaration reviews due soon or overdue (F4, F6)."""
    with unit_of_work(ctx.sessions) as session:
        report = reporting.run_due(session, now=ctx.clock.now())
    if report.scheduled or report.report_reminders or report.declaration_reminders or report.evaluation_reminders:
        return [(f"programme:due scheduled={report.scheduled} report_reminders={report.report_reminders} "
                 f"declaration_reminders={report.declaration_reminders} "
                 f"evaluation_reminders={report.evaluation_reminders}")]
    return []


def _checkpoint_job(ctx: AppContext) -> list[str]:
    """Sign a checkpoint when the log has grown since the last one (A2)."""
    with unit_of_work(ctx.sessions) as session:
        latest = audit.latest_checkpoint(session)
        size = audit.tree_size(session)
        if size > 0 and (latest is None or latest.tree_size < size):
            checkpoints.sign_checkpoint(session, key=ctx.signing_key, now=ctx.clock.now())
            return ["audit:checkpoint:sign"]
    return []


def _pending_job(ctx: AppContext) -> list[str]:
    """Delete the files kept across refused forms whose time is up (issue 14: they are short-lived)."""
    gone = pending_uploads(ctx).sweep(ctx.clock.now())
    return [f"pending:sweep removed={gone}"] if gone else []


JOBS: tuple[tuple[str, Callable[[AppContext], list[str]]], ...] = (
    ("councils", _council_job),
    ("information", _information_job),
    ("programme", _programme_job),
    ("checkpoint", _checkpoint_job),
    ("notifications", notification_tasks.run_due),
    ("pending", _pending_job),
)


def run_due(ctx: AppContext, *, ran: Callable[[str, bool], None] | None = None) -> list[str]:
    """Run every job that is due now and return what was done (each job is its own unit of work).

    ``ran(job, ok)`` hears of every run (the server counts them in /metrics); a failing job stops
    the rest, as before, and they run again at the next tick.
    """
    done: list[str] = []
    for name, job in JOBS:
        try:
            done += job(ctx)
        except Exception:
            if ran is not None:
                ran(name, False)
            raise
        if ran is not None:
            ran(name, True)
    return done


class JobLease:
    """Decide which process runs the scheduled jobs: the one holding the lock (one leader at a time).

    PostgreSQL: ``pg_try_advisory_lock`` on a connection of its own, outside the request pool, held
    for as long as this process leads; the server releases it when that connection ends, also when
    the process is killed. SQLite: ``flock`` on ``<database>.jobs.lock``, released by the kernel when
    the process ends. An in-memory SQLite database belongs to one process, which always leads.
    """

    def __init__(self, engine: Engine) -> None:
        self.url = engine.url
        self._connection: Connection | None = None
        self._engine: Engine | None = None
        self._file: int | None = None
        database = self.url.database if engine.dialect.name == "sqlite" else None
        self._lock_path = Path(f"{database}.jobs.lock") if database and database != ":memory:" else None
        self.postgres = engine.dialect.name == "postgresql"

    @property
    def leading(self) -> bool:
        """Return True while this process holds the lock."""
        return self._connection is not None or self._file is not None

    def hold(self) -> bool:
        """Take the lock if free, or check it is still held; return True when this process leads."""
        if self.postgres:
            return self._hold_advisory()
        if self._lock_path is None:
            return True
        return self._hold_file(self._lock_path)

    def _hold_advisory(self) -> bool:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                return True
            except SQLAlchemyError:  # the connection (and with it the lock) is gone: try again afresh
                log.warning("the job lock's database connection was lost; trying to take the lock again")
                self.release()
        if self._engine is None:
            self._engine = create_engine(self.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        connection = self._engine.connect()
        try:
            taken = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                            {"key": JOB_LOCK_KEY}).scalar())
        except BaseException:
            connection.close()
            raise
        if not taken:
            connection.close()
            return False
        self._connection = connection
        log.info("this process (pid %s) now runs the scheduled jobs", os.getpid())
        return True

    def _hold_file(self, path: Path) -> bool:
        if self._file is not None:
            return True
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._file = fd
        return True

    def release(self) -> None:
        """Give the lock up (at shutdown, or when its connection broke)."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            try:
                connection.close()  # ending the session releases the advisory lock
            except SQLAlchemyError:
                log.debug("closing the job lock connection failed", exc_info=True)
        if self._file is not None:
            fd, self._file = self._file, None
            os.close(fd)  # closing the descriptor releases the flock

    def close(self) -> None:
        """Release the lock and the lock's engine."""
        self.release()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

