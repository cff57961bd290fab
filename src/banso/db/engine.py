"""Engine and session factory for SQLite (embedded, WAL) and PostgreSQL."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from banso.kit.unit import READ_STEP


def make_engine(url: str, *, durable: bool = False, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE.

    A transaction opened with the execution option ``READ_STEP`` (``banso.kit.unit.read_step``) begins
    DEFERRED instead: it only reads, so in WAL mode it takes no lock and other writers go on.

    ``durable`` (production mode) makes SQLite sync the write-ahead log at every commit
    (``synchronous=FULL``): a commit then survives a power loss or an OS crash. Elsewhere
    ``NORMAL`` is enough: in WAL mode it never corrupts the database and keeps every commit
    through a crash of the process (``kill -9``); only a power loss may drop the last commits
    before a checkpoint, and demo and test data do not need that fsync per commit.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 40)
        return create_engine(url, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = kwargs.pop("connect_args", {})
    # The web server uses worker threads; each connection is used by one thread at a time.
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", 30)
    # Take transaction control from pysqlite so we can emit BEGIN IMMEDIATE ourselves.
    connect_args.setdefault("isolation_level", None)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    synchronous = "FULL" if durable else "NORMAL"

    folder = Path(parsed.database).parent if parsed.database and parsed.database != ":memory:" else None

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        try:
            cur.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            _raise_if_disk_full(exc, folder)
            raise
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Any) -> None:
        # Why IMMEDIATE: almost every request appends to the audit log; taking the write
        # lock up front avoids SQLITE_BUSY on a read-to-write upgrade under concurrency.
        # A read step never writes (kit.unit.read_step checks), so it needs no lock (O4).
        if conn.get_execution_options().get(READ_STEP):
            conn.exec_driver_sql("BEGIN DEFERRED")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


_SQLITE_IOERR = 10  # primary code; extended codes are 10 + n * 256
FULL_BELOW_BYTES = 64 * 1024  # less than this free in the database's folder counts as a full disk


def _raise_if_disk_full(exc: sqlite3.OperationalError, folder: Path | None) -> None:
    """Raise ENOSPC (from ``exc``) when ``exc`` is SQLITE_IOERR and the database's folder has no room.

    Why: opening WAL on a full disk fails with a bare "disk I/O error" (SQLITE_IOERR), which says
    nothing of the cause; only here is the database's folder known, so here it is looked at.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    if folder is None or code is None or code & 0xFF != _SQLITE_IOERR:
        return
    try:
        stat = os.statvfs(folder)
    except OSError:
        return
    if stat.f_bavail * stat.f_frsize < FULL_BELOW_BYTES:
        raise OSError(errno.ENOSPC, f"{os.strerror(errno.ENOSPC)} ({exc})", str(folder)) from exc


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory; services never commit, the unit of work's owner does."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def is_sqlite(engine: Engine) -> bool:
    """Return True for the embedded backend."""
    return engine.dialect.name == "sqlite"
