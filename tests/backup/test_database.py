"""The database snapshot tools: pg_dump's version is checked against the server before a dump."""

from __future__ import annotations

from pathlib import Path

import pytest

from banso.backup import database
from tests.backup.conftest import PG_URL


@pytest.mark.parametrize(("line", "major"), [("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n", 15),
                                             ("pg_dump (PostgreSQL) 9.6.24\n", 9),
                                             ("pg_restore (PostgreSQL) 17beta1\n", 17)])
def test_tool_versions_are_read(line: str, major: int) -> None:
    """The major version is the first number after the product name, not the distribution's."""
    assert database._major(line) == major


@pytest.mark.skipif(not PG_URL, reason="needs the PostgreSQL server of BANSO_TEST_DATABASE_URL")
def test_older_pg_dump_is_refused(tmp_path: Path) -> None:
    """A pg_dump older than the server is refused with both versions named, before anything is dumped."""
    assert PG_URL
    old = tmp_path / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    engine = database.make_engine(PG_URL)
    try:
        with engine.connect() as conn, pytest.raises(database.DatabaseToolError, match="older than the server"):
            database.check_versions(conn, old)
        with engine.connect() as conn:
            database.check_versions(conn, database.find_tool("pg_dump"))  # the installed one is accepted
    finally:
        engine.dispose()
