"""Consistent online snapshots of the database (O2): SQLite's backup API, PostgreSQL's ``pg_dump -Fc``.

Both take one transactionally consistent picture while the server keeps writing, and hand back the
sealed files that picture refers to, read in the same snapshot (``references``), so the backup can
prove it holds every one of them.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, inspect, make_url, text
from sqlalchemy.orm import Session

from banso.backup.references import referenced_files
from banso.db.engine import make_engine

PG_DUMP_CHUNK = 1 << 20


class DatabaseToolError(Exception):
    """pg_dump / pg_restore is missing, too old for the server, or failed."""


@dataclass(frozen=True)
class Snapshot:
    """What the snapshot saw: schema revision and the blobs its rows refer to."""

    kind: str  # "sqlite" | "postgresql"
    revision: str | None
    blobs: frozenset[str]


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None  # a database never migrated
    value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if value is None else str(value)


def _facts(conn: Connection, kind: str) -> Snapshot:
    with Session(bind=conn) as session:
        blobs = frozenset(ref.blob for ref in referenced_files(session))
    return Snapshot(kind=kind, revision=_revision(conn), blobs=blobs)


def sqlite_path(url: str) -> Path:
    """Return the file of a SQLite URL (ValueError for an in-memory database)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def sqlite_snapshot(url: str, dest: Path) -> Snapshot:
    """Copy the live SQLite database into ``dest`` with the backup API (one step: one consistent read)."""
    source = sqlite3.connect(sqlite_path(url), timeout=30)
    target = sqlite3.connect(dest)
    try:
        # pages=-1 copies everything in one step under one read transaction; in WAL mode writers go on.
        source.backup(target, pages=-1)
    finally:
        target.close()
        source.close()
    return inspect_sqlite(dest)


def inspect_sqlite(path: Path) -> Snapshot:
    """Open a SQLite snapshot, check its integrity and read its revision and referenced blobs."""
    check = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        verdict = check.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise DatabaseToolError(f"the database copy does not open: {exc}") from None
    finally:
        check.close()
    if not verdict or verdict[0] != "ok":
        raise DatabaseToolError(f"the database copy fails its integrity check: {verdict}")
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return _facts(conn, "sqlite")
    finally:
        engine.dispose()


def _major(version: str) -> int:
    # "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)": the first number after the product name.
    found = re.search(r"(?:\(PostgreSQL\)\s*)?(\d+)", version)
    if not found:
        raise DatabaseToolError(f"cannot read a version from {version!r}")
    return int(found.group(1))


def find_tool(name: str) -> Path:
    """Return the newest ``name`` (pg_dump, pg_restore) under /usr/lib/postgresql/*/bin, else on PATH."""
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if candidates:
        return candidates[-1]
    found = shutil.which(name)
    if found is None:
        raise DatabaseToolError(f"{name} が見つかりません / {name} not found: install the PostgreSQL client tools")
    return Path(found)


def tool_major(tool: Path) -> int:
    """Return the major version of a PostgreSQL client tool."""
    out = subprocess.run([str(tool), "--version"], capture_output=True, text=True, check=True).stdout
    return _major(out)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """Return a libpq URL without the password, and the environment carrying it (not on the command line)."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def check_versions(conn: Connection, tool: Path) -> None:
    """Refuse a client tool older than the server (pg_dump cannot read a newer server's catalog)."""
    server = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    client = tool_major(tool)
    if client < server:
        raise DatabaseToolError(
            f"{tool.name} {client} はサーバー {server} より古いため使えません / {tool} is version {client}, older than "
            f"the server ({server}); install the PostgreSQL {server} client tools")


@contextmanager
def _repeatable_read(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def pg_snapshot(url: str, sink: Callable[[Iterator[bytes]], None]) -> Snapshot:
    """Stream ``pg_dump -Fc`` of the database into ``sink`` and read the references in the same snapshot."""
    tool = find_tool("pg_dump")
    engine = make_engine(url)
    try:
        with _repeatable_read(engine) as conn:
            check_versions(conn, tool)
            # One snapshot for both: the dump and the reference list see exactly the same rows.
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            facts = _facts(conn, "postgresql")
            target, env = _libpq(url)
            _run_streaming([str(tool), "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot_id}",
                            "-d", target], env, sink)
        return facts
    finally:
        engine.dispose()


def _run_streaming(argv: list[str], env: dict[str, str], sink: Callable[[Iterator[bytes]], None]) -> None:
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        sink(iter(lambda: proc.stdout.read(PG_DUMP_CHUNK), b""))  # type: ignore[union-attr]
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        code = proc.wait()
    if code != 0:
        raise DatabaseToolError(f"{Path(argv[0]).name} failed (exit {code}): {err.strip()}")


def pg_restore(url: str, chunks: Iterator[bytes]) -> None:
    """Feed a ``pg_dump -Fc`` stream to ``pg_restore`` into the (empty) database at ``url``."""
    target, env = _libpq(url)
    err = _feed(["--no-owner", "--no-privileges", "--exit-on-error", "-d", target], chunks, env=env)
    if err is not None:
        raise DatabaseToolError(f"pg_restore failed: {err}")


def pg_dump_lists(chunks: Iterator[bytes]) -> None:
    """Check that a ``pg_dump -Fc`` stream opens (``pg_restore --list``); DatabaseToolError otherwise."""
    err = _feed(["--list"], chunks, env=None)
    if err is not None:
        raise DatabaseToolError(f"the database dump does not open: {err}")


def _feed(args: list[str], chunks: Iterator[bytes], *, env: dict[str, str] | None) -> str | None:
    """Stream ``chunks`` into ``pg_restore ARGS``; return its error text when it fails, else None."""
    proc = subprocess.Popen([str(find_tool("pg_restore")), *args], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stderr is not None
    try:
        for piece in chunks:
            proc.stdin.write(piece)
    except BrokenPipeError:
        pass  # pg_restore stopped early; its exit code and message say why
    finally:
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
    err = proc.stderr.read().decode(errors="replace")
    return err.strip() if proc.wait() != 0 else None


def database_is_empty(url: str) -> bool:
    """Return True when the database at ``url`` has no tables (the only kind a restore writes into)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                count = conn.execute(text("SELECT count(*) FROM information_schema.tables "
                                          "WHERE table_schema = current_schema()")).scalar_one()
            else:
                count = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")).scalar_one()
        return int(count) == 0
    finally:
        engine.dispose()
