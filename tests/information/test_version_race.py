"""Version numbers of one item are allocated without races (O4): concurrent new versions all succeed.

Each thread adds a version in its own session and transaction, as concurrent requests do. Before the
item row was locked, two transactions both read ``current_version`` = n and both inserted n + 1: on
PostgreSQL the second hit the unique (item, version) constraint and the request answered 500.
Runs on the test backend (PostgreSQL when BANSO_TEST_DATABASE_URL is set) in a fresh committed database.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select

from banso.information import service
from banso.information.deps import information_deps
from banso.information.models import Item, ItemVersion
from banso.kit.clock import FakeClock
from banso.kit.crypto import SecretBox
from banso.kit.unit import unit
from tests.support.app import START
from tests.support.councils import establish
from tests.support.factories import Factory
from tests.support.information import provide_item
from tests.support.live import fresh_database, live_context

WRITERS = 8


def test_concurrent_new_versions_of_one_item_get_consecutive_numbers(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        clock = FakeClock(START)
        ctx = live_context(tmp_path, url, clock)
        try:
            deps = information_deps(ctx)
            with ctx.sessions() as db:
                cast = establish(Factory(db, clock, SecretBox(ctx.settings.secret_key)), db, clock)
                item_id = provide_item(db, deps, cast, clock).id
                db.commit()
                provider = cast.company.principal()
            start = threading.Barrier(WRITERS)

            def add(n: int) -> None:
                with ctx.sessions() as session, unit(session):
                    start.wait(timeout=30)  # all at once, each in its own transaction
                    service.add_version(session, deps, item_id=item_id, actor=provider, now=clock.now(),
                                        body=f"改訂 {n}", note=f"revision {n}")

            with ThreadPoolExecutor(max_workers=WRITERS) as pool:
                failures = [f.exception() for f in [pool.submit(add, n) for n in range(WRITERS)]]
            assert [repr(f) for f in failures if f is not None] == []
            with ctx.sessions() as db:
                numbers = db.scalars(select(ItemVersion.version).where(ItemVersion.item_id == item_id)
                                     .order_by(ItemVersion.version)).all()
                current = db.scalar(select(Item.current_version).where(Item.id == item_id))
            assert numbers == list(range(1, WRITERS + 2))
            assert current == WRITERS + 1
        finally:
            ctx.engine.dispose()
