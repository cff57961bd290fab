"""Several workers (issue 17, O4): `banso serve --workers N`, and the scheduled jobs run by one process at a time.

The PostgreSQL tests run real `banso serve` processes against a database of their own on the test
server (scripts/test.sh's second pass) and skip on SQLite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select

from banso.app.jobs import JOBS, JobLease, run_due
from banso.app.metrics import forget_dead_workers
from banso.app.wiring import build_context
from banso.audit.models import AuditEntry
from banso.audit.tags import AuditTag
from banso.config import Mode, Settings
from banso.db.engine import make_engine, make_session_factory
from banso.kit.clock import FakeClock
from banso.migrations import migrate
from banso.web.context import AppContext
from tests.app.live import own_postgres_database, serve, wait_for
from tests.support.cli import banso
from tests.support.councils import propose
from tests.support.factories import Factory

FAST_TICKS = {"BANSO_CHECKPOINT_INTERVAL_SECONDS": "1"}


def test_sqlite_refuses_several_workers(tmp_path: Path) -> None:
    refused = banso(["serve", "--workers", "2"], tmp_path / "data")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "SQLite では1ワーカーのみです" in refused.stdout and "several workers need PostgreSQL" in refused.stdout
    assert banso(["serve", "--workers", "0"], tmp_path / "data").returncode == 2


def test_one_lease_leads_and_the_next_takes_over_when_it_ends(engine: Engine) -> None:
    first, second = JobLease(engine), JobLease(engine)
    try:
        assert first.hold() and first.leading
        assert not second.hold() and not second.leading  # another process (or app) of the same database
        assert first.hold()  # still leading at its next tick
        first.close()  # shutdown, or the process died: the lock goes with the connection (or the file)
        assert second.hold() and second.leading
    finally:
        first.close()
        second.close()


def test_run_due_reports_every_job(ctx: AppContext) -> None:
    heard: list[tuple[str, bool]] = []
    run_due(ctx, ran=lambda job, ok: heard.append((job, ok)))
    assert heard == [(name, True) for name, _ in JOBS]


def test_jobs_run_due_does_nothing_while_another_process_leads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert banso(["db", "upgrade"], data).returncode == 0
    engine = make_engine(f"sqlite:///{data / 'banso.db'}")
    lease = JobLease(engine)
    try:
        assert lease.hold()  # as a running server would
        skipped = banso(["jobs", "run-due"], data)
        assert skipped.returncode == 0, skipped.stderr
        assert "another process runs the scheduled jobs" in skipped.stdout
    finally:
        lease.close()
        engine.dispose()
    ran = banso(["jobs", "run-due"], data)
    assert ran.returncode == 0 and "ran:" in ran.stdout, ran.stdout + ran.stderr


# ---------------------------------------------------------------------------------------------
# PostgreSQL: real servers


@pytest.fixture
def pg_url(database_url: str) -> Iterator[str]:
    """Yield the URL of a fresh, migrated PostgreSQL database (skip on SQLite)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers need PostgreSQL (scripts/test.sh runs this in its PostgreSQL pass)")
    with own_postgres_database(database_url) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


def _settings(data: Path, url: str) -> Settings:
    return Settings(mode=Mode.DEVELOPMENT, data_dir=data, database_url=url)


class DueCouncils:
    """Commit council proposals whose consent deadline passed yesterday (due to lapse at the next tick, C1)."""

    def __init__(self, data: Path, url: str) -> None:
        self.ctx = build_context(_settings(data, url))
        self.clock = FakeClock(datetime.now(UTC) - timedelta(days=3))
        self.db = self.ctx.sessions()
        self.factory = Factory(self.db, self.clock, self.ctx.box)  # one factory: its names stay unique

    def add(self, count: int) -> None:
        """Propose ``count`` councils, due now."""
        for _ in range(count):
            propose(self.factory, self.db, self.clock, days=2)
        self.db.commit()

    def close(self) -> None:
        """Close the session and the engine."""
        self.db.close()
        self.ctx.engine.dispose()


def _lapses(url: str) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as db:
            return int(db.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.tag == AuditTag.COUNCIL_LAPSE.value)) or 0)
    finally:
        engine.dispose()


@pytest.mark.slow
def test_two_servers_run_each_due_job_once_and_a_standby_takes_over(pg_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    due = DueCouncils(data, pg_url)  # also makes the data folder's keys once, before both servers start
    with serve(data, pg_url, **FAST_TICKS) as first, serve(data, pg_url, **FAST_TICKS) as second:
        assert first.get("/readyz").json()["jobs"] == "leader"
        assert second.get("/readyz").json()["jobs"] == "standby"
        due.add(3)
        wait_for(lambda: _lapses(pg_url) >= 3, what="the leader lapsing the due councils")
        wait_for(lambda: first.metric("banso_job_runs_total", job="checkpoint") >= 3, what="three more ticks")
        assert _lapses(pg_url) == 3  # each due council lapsed exactly once
        assert second.metric("banso_job_leader") == 0
        assert sum(v for (name, _), v in second.metrics().items() if name == "banso_job_runs_total") == 0

        first.proc.kill()  # kill -9: no shutdown, the database ends the lock's session
        first.proc.wait()
        wait_for(lambda: second.get("/readyz").json()["jobs"] == "leader", what="the standby taking over")
        due.add(2)
        wait_for(lambda: _lapses(pg_url) >= 5, what="the new leader lapsing the new due councils")
        wait_for(lambda: second.metric("banso_job_runs_total", job="councils") >= 3, what="three more ticks")
        assert _lapses(pg_url) == 5
        assert second.metric("banso_job_leader") == 1
    due.close()


@pytest.mark.slow
def test_several_workers_serve_one_view_and_one_job_leader(pg_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with serve(data, pg_url, "--workers", "2", **FAST_TICKS) as server:
        workers: set[int] = set()
        asked = 0
        while len(workers) < 2 and asked < 200:
            # A new connection each time: the workers share the listening socket, whoever accepts answers.
            answer = httpx.get(server.url + "/readyz", timeout=10, headers={"Connection": "close"})
            assert answer.status_code == 200, answer.text
            workers.add(answer.json()["worker"])
            asked += 1
        assert len(workers) == 2, f"one worker answered all {asked} requests"
        assert server.metric("banso_http_requests_total", method="GET", route="/readyz", status="200") == asked
        wait_for(lambda: server.metric("banso_job_runs_total", job="checkpoint") >= 2, what="two job ticks")
        assert server.metric("banso_job_leader") == 1  # summed over both workers: one leads


def test_the_live_gauges_of_a_dead_worker_are_dropped(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    dead = tmp_path / f"gauge_livesum_{int(gone.stdout)}.db"  # a worker killed with in-flight requests
    alive = tmp_path / f"gauge_livesum_{os.getpid()}.db"
    counters = tmp_path / f"counter_{int(gone.stdout)}.db"  # its counts stay: counters never go back
    for path in (dead, alive, counters):
        path.write_bytes(b"")
    forget_dead_workers(tmp_path)
    assert not dead.exists() and alive.exists() and counters.exists()
