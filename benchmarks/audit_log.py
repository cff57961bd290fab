"""Benchmark the audit log (A1–A3): appends/s, verification/s and proof sizes, against raw SHA-256.

Run:  .venv/bin/python benchmarks/audit_log.py --sizes 100000,1000000

For each size n it builds a fresh SQLite (WAL) log through ``service.record`` (commit every
``--batch`` appends), exports it, verifies the export with ``verify_log``, and measures proofs.
A smaller run commits after every append. The baseline is SHA-256 over the same leaf bytes in
the same process, so the numbers can be read as ratios on any machine.
"""

from __future__ import annotations

import argparse
import hashlib
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from banso.audit import checkpoints, merkle, service
from banso.audit.export import ExportReader, export_log
from banso.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditNode
from banso.audit.tags import AuditTag
from banso.audit.verify import verify_log
from banso.db.base import Base
from banso.db.engine import make_engine, make_session_factory

console = Console(width=None if sys.stdout.isatty() else 200)  # full table when redirected to a file
START = datetime(2026, 4, 1, tzinfo=UTC)
TAGS = [AuditTag.LOGIN, AuditTag.MFA_VERIFY, AuditTag.TOKEN_ISSUE, "information:item:read", "council:pledge:sign"]


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)


def _sessions(path: Path) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{path}")
    tables = [Base.metadata.tables[m.__tablename__] for m in (AuditEntry, AuditHead, AuditCheckpoint, AuditNode)]
    Base.metadata.create_all(engine, tables=tables)
    return make_session_factory(engine)


def _record(db: Session, i: int) -> None:
    service.record(db, tag=TAGS[i % len(TAGS)], now=START + timedelta(milliseconds=i), actor_id=i % 997,
                   actor_label=f"user{i % 997}@example.go.jp", subject=f"item:{i}", ip="192.0.2.10",
                   data={"council": i % 40, "item": i, "scope": "designated"})


def append_batched(sessions: sessionmaker[Session], n: int, batch: int, key: Ed25519PrivateKey) -> float:
    """Append n entries, committing every ``batch``; return seconds."""
    with _progress() as progress:
        task = progress.add_task(f"append {n:,} (commit every {batch})", total=n)
        start = time.perf_counter()
        db = sessions()
        for i in range(n):
            _record(db, i)
            if (i + 1) % batch == 0:
                db.commit()
                db.expunge_all()  # a long-lived session would otherwise track every entry it wrote
                progress.update(task, completed=i + 1)
        db.commit()
        elapsed = time.perf_counter() - start
        checkpoints.sign_checkpoint(db, key=key, now=START + timedelta(days=1))
        db.commit()
        db.close()
    return elapsed


def append_one_commit_each(sessions: sessionmaker[Session], n: int) -> float:
    """Append n entries, one transaction each (the web request shape); return seconds."""
    start = time.perf_counter()
    for i in range(n):
        with sessions() as db:
            _record(db, i)
            db.commit()
    return time.perf_counter() - start


def sha256_baseline(sessions: sessionmaker[Session], n: int) -> tuple[float, int]:
    """Return seconds spent hashing every stored leaf once with SHA-256, and the bytes hashed."""
    spent, total, last = 0.0, 0, -1
    sha = hashlib.sha256
    with sessions() as db:
        while True:
            rows = db.execute(select(AuditEntry.seq, AuditEntry.leaf).where(AuditEntry.seq > last)
                              .order_by(AuditEntry.seq).limit(20000)).all()
            if not rows:
                break
            leaves = [r[1] for r in rows]
            start = time.perf_counter()
            for leaf in leaves:
                sha(b"\x00" + leaf).digest()
            spent += time.perf_counter() - start
            total += sum(len(x) for x in leaves)
            last = rows[-1][0]
    return spent, total


@dataclass
class Result:
    """The numbers of one size."""

    n: int
    append_s: float
    export_s: float
    verify_s: float
    sha_s: float
    leaf_bytes: int
    incl_hashes: int
    incl_pure_ms: float
    incl_db_ms: float
    cons_hashes: int
    cons_pure_ms: float
    cons_db_ms: float
    export_mb: float


def run_size(n: int, batch: int, workdir: Path, key: Ed25519PrivateKey) -> Result:
    """Build, export, verify and prove a log of n entries."""
    sessions = _sessions(workdir / f"audit-{n}.db")
    append_s = append_batched(sessions, n, batch, key)
    size = n + 1  # + the checkpoint's own entry
    out = workdir / f"audit-{n}.jsonl"
    with sessions() as db:
        start = time.perf_counter()
        export_log(db, out, public_key=key.public_key())
        export_s = time.perf_counter() - start
        db.rollback()
    with out.open() as fh, _progress() as progress:
        reader = ExportReader(fh)
        task = progress.add_task(f"verify {size:,}", total=size)
        start = time.perf_counter()
        report = verify_log(reader.entries(), reader.checkpoints, key.public_key(), expected_size=reader.tree_size,
                            progress=lambda done: progress.update(task, completed=done))
        verify_s = time.perf_counter() - start
    assert report.ok and report.checkpoints == 1, report.summary()
    sha_s, leaf_bytes = sha256_baseline(sessions, size)
    with sessions() as db:
        hashes = list(db.scalars(select(AuditEntry.leaf_hash).order_by(AuditEntry.seq)))
        root = service.current_root(db)
        index = size // 2 + 1
        start = time.perf_counter()
        proof = merkle.inclusion_proof_from_hashes(index, hashes)
        incl_pure_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        proof_db = service.inclusion_proof_for(db, index, size)
        incl_db_ms = (time.perf_counter() - start) * 1000
        assert proof == proof_db and merkle.verify_inclusion_hash(hashes[index], index, size, proof, root)
        old = size // 2 + 3
        start = time.perf_counter()
        cons = merkle.consistency_proof_from_hashes(old, hashes)
        cons_pure_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        cons_db = service.consistency_proof_for(db, old, size)
        cons_db_ms = (time.perf_counter() - start) * 1000
        assert cons_db == cons
        assert merkle.verify_consistency(old, size, service.root_at(db, old), root, cons)
        db.rollback()
    return Result(n=n, append_s=append_s, export_s=export_s, verify_s=verify_s, sha_s=sha_s, leaf_bytes=leaf_bytes,
                  incl_hashes=len(proof), incl_pure_ms=incl_pure_ms, incl_db_ms=incl_db_ms, cons_hashes=len(cons),
                  cons_pure_ms=cons_pure_ms, cons_db_ms=cons_db_ms, export_mb=out.stat().st_size / 1e6)


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated log sizes")
    parser.add_argument("--batch", type=int, default=1000, help="appends per commit in the batched run")
    parser.add_argument("--single-n", type=int, default=5000, help="appends in the one-commit-per-append run")
    parser.add_argument("--workdir", type=Path, default=None, help="folder for the databases (default: a temp dir)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    key = Ed25519PrivateKey.generate()
    with tempfile.TemporaryDirectory(prefix="banso-audit-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        console.print(f"python {platform.python_version()} on {platform.machine()}, workdir {workdir}")
        single_s = append_one_commit_each(_sessions(workdir / "audit-single.db"), args.single_n)
        results = [run_size(n, args.batch, workdir, key) for n in sizes]

    table = Table("entries", "append/s (batched)", "verify/s", "SHA-256 leaves/s", "verify ÷ SHA-256",
                  "export s", "inclusion proof", "consistency proof", "incl. proof ms (pure / from DB)")
    for r in results:
        size = r.n + 1
        table.add_row(f"{r.n:,}", f"{r.n / r.append_s:,.0f}", f"{size / r.verify_s:,.0f}", f"{size / r.sha_s:,.0f}",
                      f"{r.sha_s / r.verify_s:.4f} ({r.verify_s / r.sha_s:,.0f}× slower)", f"{r.export_s:.1f}",
                      f"{r.incl_hashes} hashes = {r.incl_hashes * 32} B", f"{r.cons_hashes} hashes = {r.cons_hashes * 32} B",
                      f"{r.incl_pure_ms:.1f} / {r.incl_db_ms:.1f}")
    console.print(table)
    console.print(f"one commit per append: {args.single_n / single_s:,.0f} appends/s over {args.single_n:,} appends")
    for r in results:
        console.print(f"n={r.n:,}: mean leaf {r.leaf_bytes / (r.n + 1):.0f} B, export {r.export_mb:.0f} MB, "
                      f"append {r.append_s:.1f} s, verify {r.verify_s:.1f} s, SHA-256 baseline {r.sha_s:.2f} s, "
                      f"consistency proof {r.cons_pure_ms:.1f} ms pure, {r.cons_db_ms:.1f} ms from the DB")


if __name__ == "__main__":
    main()
