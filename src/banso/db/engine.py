"""Engine and session factory for SQLite (embedded, WAL) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str, *, durable: bool = False, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys, a busy timeout and BEGIN IMMEDIATE.

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

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Any) -> None:
        # Why IMMEDIATE: almost every request appends to the audit log; taking the write
        # lock up front avoids SQLITE_BUSY on a read-to-write upgrade under concurrency.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory; services never commit, the unit of work's owner does."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def is_sqlite(engine: Engine) -> bool:
    """Return True for the embedded backend."""
    return engine.dialect.name == "sqlite"
