"""Benchmark the audit page's filters (issue 14) on a log of n entries: each filter is one indexed SQL query.

Run:  .venv/bin/python benchmarks/audit_filters.py --size 100000

Builds a fresh SQLite (WAL) log through ``service.record`` (the real append path): 300 people, every
event type, subjects over 2,000 items and 50 councils, a checkpoint entry every 60 entries (the
system entries the page hides), 200 days of time. Then times one page (26 rows, as the page asks) of
each filter, median of 7 runs, prints SQLite's query plan, and times a filtered CSV export.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from banso.audit import export, reading, service
from banso.audit.directory import PlainDirectory
from banso.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditNode
from banso.audit.tags import AuditTag
from banso.authz.permissions import Role
from banso.authz.principal import AuthMethod, Principal
from banso.db.base import Base
from banso.db.engine import make_engine, make_session_factory

START = datetime(2026, 4, 1, tzinfo=UTC)
TAGS = [t for t in AuditTag if t != AuditTag.CHECKPOINT_SIGN]
AUDITOR = Principal(user_id=999_999, email="a@x", name="監査", organization_id=1, roles=frozenset({Role.AUDITOR}),
                    method=AuthMethod.SESSION, mfa=True)


def build(session_factory: Callable[[], Session], size: int, seed: int = 7) -> float:
    """Append ``size`` entries through ``service.record``; return the seconds it took."""
    rng = random.Random(seed)
    began = time.perf_counter()
    step = timedelta(days=200) / size
    with session_factory() as session:
        for seq in range(size):
            now = START + step * seq
            if seq % 60 == 59:
                service.record(session, tag=AuditTag.CHECKPOINT_SIGN, now=now, data={"tree_size": seq})
            else:
                actor = rng.randrange(1, 301)
                subject = f"item:{rng.randrange(1, 2001)}" if rng.random() < 0.6 else f"council:{rng.randrange(1, 51)}"
                data = {"reason": "閲覧範囲外のため拒否"} if rng.random() < 0.01 else {"n": seq}
                service.record(session, tag=rng.choice(TAGS), now=now, actor_id=actor, actor_label=f"user{actor}@x",
                               subject=subject, data=data)
            if seq % 2000 == 1999:
                session.commit()
        session.commit()
    return time.perf_counter() - began


CASES: list[tuple[str, dict[str, Any]]] = [
    ("default view (system entries hidden)", {}),
    ("everything about item 7 (subject)", {"subject": "item:7"}),
    ("who read item 7 (subject + tag)", {"subject": "item:7", "tags": [str(AuditTag.INFO_ITEM_READ)]}),
    ("one person", {"actor": "42"}),
    ("one person, one month (JST)", {"actor": "42", "day_from": "2026-06-01", "day_to": "2026-06-30"}),
    ("event group: council", {"group": "council"}),
    ("one day (JST)", {"day_from": "2026-07-15", "day_to": "2026-07-15"}),
    ("text in data (Japanese)", {"text": "閲覧範囲外"}),
    ("text in data, no match (worst case)", {"text": "該当なし"}),
    ("subject with no entries", {"subject": "item:999999"}),
]


def _params(raw: dict[str, Any]) -> reading.AuditQuery:
    return reading.parse_query(actor=raw.get("actor"), tags=raw.get("tags"), group=raw.get("group"),
                               subject=raw.get("subject"), day_from=raw.get("day_from"), day_to=raw.get("day_to"),
                               text=raw.get("text"))


def measure(session: Session) -> None:
    """Print one page's time for every case, and the plan SQLite chose."""
    directory = PlainDirectory()
    print(f"{'filter':42} {'rows':>5} {'median ms':>10} {'max ms':>8}  plan")
    for name, raw in CASES:
        query = _params(raw)
        times = []
        rows = 0
        for _ in range(7):
            session.expunge_all()
            t0 = time.perf_counter()
            page = reading.read_page(session, directory, AUDITOR, query, before=None, size=25, locale="ja")
            times.append((time.perf_counter() - t0) * 1000)
            rows = len(page.rows)
        stmt = service.filtered(reading.to_filter(session, directory, AUDITOR, query)).limit(26)
        compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
        plan = session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
        used = "; ".join(str(r[-1]) for r in plan)
        print(f"{name:42} {rows:>5} {statistics.median(times):>10.1f} {max(times):>8.1f}  {used}")


def measure_export(session: Session) -> None:
    """Time the CSV of one person's entries (the rows, names and file; the export's own entry rolled back)."""
    query = _params({"actor": "42"})
    t0 = time.perf_counter()
    rows = reading.export_entries(session, PlainDirectory(), AUDITOR, query, fmt="csv", now=datetime.now(UTC),
                                  locale="ja")
    body = export.csv_bytes(rows, lambda s: s)
    took = time.perf_counter() - t0
    session.rollback()
    print(f"CSV export of one person's entries: {len(rows)} rows, {len(body) / 1024:.0f} KiB, {took * 1000:.0f} ms")


def main() -> None:
    """Build the log and measure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'audit.db'}")
        Base.metadata.create_all(engine, tables=[AuditEntry.__table__, AuditNode.__table__, AuditHead.__table__,
                                                 AuditCheckpoint.__table__])
        sessions = make_session_factory(engine)
        took = build(sessions, args.size)
        print(f"{platform.python_implementation()} {platform.python_version()}, SQLite, {date.today()}: "
              f"{args.size:,} entries appended in {took:.1f} s")
        with sessions() as session:
            measure(session)
            measure_export(session)
        engine.dispose()


if __name__ == "__main__":
    main()
