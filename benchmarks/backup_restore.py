"""Time a backup, its verification and a restore (O2; docs/operations.md "Backup and restore").

Run:  PYTHONPATH=src .venv/bin/python benchmarks/backup_restore.py [--items 2000] [--file-kb 100]
      [--database-url postgresql+psycopg://…/empty_db --restore-database-url postgresql+psycopg://…/other_empty_db]

Builds a fresh data folder (SQLite in it, or the given empty PostgreSQL database), migrates it, seeds two
councils with pledged members through the real services (the test helpers ``tests.support``) and then
``--items`` information items, each with one sealed file of ``--file-kb`` KiB of incompressible bytes,
in batches of 50 per unit of work. It then times, in this process, what the commands run:
``banso backup create`` (archive.create), ``banso backup verify`` (restore.verify) and ``banso restore``
(restore.restore, including the audit verification and the decryption of every referenced file),
and prints sizes and throughput. Results: benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support: the same seeding helpers the restore drill uses

from tests.backup.conftest import System, make_system, seed
from tests.support.information import ITEM_FIELDS

from banso.backup import archive, crypto, restore
from banso.information import service as information
from banso.information.deps import information_deps
from banso.information.service import Upload
from banso.kit.unit import unit_of_work

BATCH = 50


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _generate(system: System, items: int, file_kb: int) -> None:
    deps = information_deps(system.ctx)
    done = 0
    while done < items:
        with unit_of_work(system.ctx.sessions) as db:
            for _ in range(min(BATCH, items - done)):
                cast = system.casts[done % len(system.casts)]
                data = base64.encodebytes(os.urandom(file_kb * 768))  # random text: nothing to compress
                information.create_item(db, deps, council_id=cast.council.id, actor=cast.company.principal(),
                                        now=system.clock.now(), **{**ITEM_FIELDS, "title": f"観測 {done}"},
                                        files=[Upload(f"obs-{done}.txt", "text/plain", data)])
                done += 1
        print(f"  generated {done}/{items} items", end="\r", flush=True)
    print()


def main() -> int:
    """Generate a data set, then time backup, verify and restore."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--file-kb", type=int, default=100)
    parser.add_argument("--database-url", default=None, help="empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--restore-database-url", default=None, help="another empty PostgreSQL database")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="banso-backup-bench-"))
    try:
        t0 = time.perf_counter()
        system = make_system(work / "live", args.database_url)
        seed(system, councils=2, items=0, others=False)
        _generate(system, args.items, args.file_kb)
        print(f"data set: {args.items} items × {args.file_kb} KiB, generated in {time.perf_counter() - t0:.1f} s; "
              f"data folder {_size(work / 'live') / 1e6:.1f} MB")
        crypto.generate_keypair(work / "op.key", work / "op.pub")
        public, private = crypto.load_public(work / "op.pub"), crypto.load_private(work / "op.key")
        t = time.perf_counter()
        manifest = archive.create(system.settings, work / "backup", public, now=datetime.now(UTC))
        t_create = time.perf_counter() - t
        size = sum(int(e["size"]) for e in manifest.files)
        t = time.perf_counter()
        checked = restore.verify(work / "backup", private)
        t_verify = time.perf_counter() - t
        t = time.perf_counter()
        restored = restore.restore(work / "backup", private, work / "restored",
                                   database_url=args.restore_database_url)
        t_restore = time.perf_counter() - t
        db = next(e for e in manifest.files if e["path"].startswith("database."))
        print(f"backup: {len(manifest.files)} files, {size / 1e6:.1f} MB plaintext (database {db['size'] / 1e6:.1f} MB),"
              f" {_size(work / 'backup') / 1e6:.1f} MB on disk")
        for name, seconds in (("create", t_create), ("verify", t_verify), ("restore", t_restore)):
            print(f"  {name:8s} {seconds:7.1f} s  {size / 1e6 / seconds:6.1f} MB/s")
        print("verify:", "OK" if checked.ok else checked.problems)
        print("restore:", "OK" if restored.ok else restored.problems, "|", "; ".join(restored.notes))
        system.engine.dispose()
        return 0 if checked.ok and restored.ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
