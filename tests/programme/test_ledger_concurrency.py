"""Concurrent disbursement requests cannot overdraw a commitment: separate sessions, each committing.

Runs on a SQLite file always and on PostgreSQL (a private schema, dropped afterwards) when
BANSO_TEST_DATABASE_URL is set — there the account row lock (SELECT … FOR UPDATE) is what
serialises the requests.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from banso.db.engine import make_engine, make_session_factory
from banso.kit.clock import FakeClock
from banso.kit.crypto import SecretBox
from banso.kit.errors import Conflict
from banso.migrations import migrate
from banso.programme import service
from banso.programme.council_link import CouncilsServiceGateway
from tests.support.factories import TEST_SECRET, Factory
from tests.support.programme import adopt, build_world, establish_council, submit

M = 1_000_000


def _engines(tmp_path: Path) -> Iterator[tuple[str, Engine, str | None]]:
    yield "sqlite", make_engine(f"sqlite:///{tmp_path / 'concurrency.db'}"), None
    url = os.environ.get("BANSO_TEST_DATABASE_URL")
    if url:
        schema = f"programme_conc_{uuid.uuid4().hex[:8]}"
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        yield "postgresql", make_engine(url, connect_args={"options": f"-csearch_path={schema}"}), schema


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_disbursements_never_overdraw(backend: str, tmp_path: Path) -> None:
    chosen = [e for e in _engines(tmp_path) if e[0] == backend]
    if not chosen:
        pytest.skip("PostgreSQL runs only with BANSO_TEST_DATABASE_URL")
    _, engine, schema = chosen[0]
    try:
        migrate.upgrade(engine)
        sessions = make_session_factory(engine)
        clock = FakeClock()
        with sessions() as db:
            w = build_world(db, Factory(db, clock, SecretBox(TEST_SECRET)), clock)
            project = adopt(db, w, clock, submit(db, w, clock))
            establish_council(db, w, clock, project)
            service.add_tranche(db, agency_code="JST", fiscal_year=2026, amount=1000 * M, now=clock.now(),
                                actor=w.staff.principal())
            service.commit_funds(db, project_id=project.id, fiscal_year=2026, amount=300 * M, now=clock.now(),
                                 actor=w.staff.principal())
            db.commit()
            staff, project_id = w.staff.principal(), project.id
        gateway = CouncilsServiceGateway()
        outcomes: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(8)

        def request() -> None:
            barrier.wait()
            with sessions() as db:
                try:
                    service.disburse(db, project_id=project_id, amount=70 * M, now=clock.now(), actor=staff,
                                     councils=gateway)
                    db.commit()
                    result = "paid"
                except Conflict:
                    db.rollback()
                    result = "refused"
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=request) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert sorted(outcomes) == ["paid"] * 4 + ["refused"] * 4  # 4 × 70m fit in 300m, the 5th does not
        with sessions() as db:
            report = service.reconcile(db, actor=None, agency_code="JST")
            assert report.ok
            assert (report.agencies[0].committed, report.agencies[0].disbursed) == (20 * M, 280 * M)
    finally:
        engine.dispose()
        if schema is not None:
            admin = make_engine(os.environ["BANSO_TEST_DATABASE_URL"])
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


