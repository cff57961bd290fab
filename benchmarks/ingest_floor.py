"""Where one snapshot file's CPU goes in the DuckDB ingest, against DuckDB's bare scan of it (issue 16).

Runs each step on one ``part_*.gz`` of a synthetic snapshot with one DuckDB thread, in this process,
and prints the minimum CPU seconds (user + sys) of ``--reps`` runs per step:

- ``bare gz``            the yardstick: ``read_json`` of the ``.gz`` with the ingest's columns, every one counted
- ``gunzip``             ISA-L into a plain file, as ``snapshot.SnapshotReader.read`` does
- ``bare plain``         the same scan of the plain file (DuckDB's parse alone)
- ``projection``         the ingest's strict projection, every column consumed, nothing written
- ``projection, no index regex``  the same without the abstract index's shape check (measure only)
- ``copy``               the projection written as a store part (``store.copy_part_sql``)
- ``read``               the whole ``SnapshotReader.read`` of the file (gunzip + copy, temporary files)
- ``index <codec>``      the abstract index column alone written in each Parquet codec

    PYTHONPATH=src python benchmarks/ingest_floor.py --snapshot /tmp/perf/snap100k --reps 3

Results: benchmarks/RESULTS.md, "session 12: the ingest on a quiet machine".
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import duckdb

from banso.analytics import snapshot as snap
from banso.analytics.store import copy_part_sql


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--snapshot", type=Path, required=True)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    gz = min((a.snapshot / "works").glob("updated_date=*/part_*.gz"))
    work = Path(tempfile.mkdtemp(prefix="ingest-floor-"))
    plain, out = work / "plain.jsonl", work / "part.parquet"
    snap._gunzip(gz, plain)
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("SET enable_progress_bar = false")
    f = snap.SnapshotFile(gz, gz.name, "2025-01-01", gz.stat().st_size, 0.0)
    params = snap.SnapshotReader._params(plain, f, 0)
    counted = ", ".join(f"count({c})" for c in snap.READ_COLUMNS)
    bare = (f"SELECT count(*), {counted} FROM read_json($files, format = 'newline_delimited', columns = $columns, "
            "compression = $compression)")
    strict = snap._projection(ignore_errors=False)
    regex = "regexp_full_match(abstract_inverted_index, $index_shape)"
    no_regex = strict.replace(regex, "(abstract_inverted_index IS NOT NULL OR $index_shape IS NULL)")
    names = [row[0] for row in con.execute("DESCRIBE " + strict,
                                           {k: v for k, v in params.items() if "$" + k in strict}).fetchall()]

    def consumed(sql: str) -> str:
        return "SELECT count(*), " + ", ".join(f"count(x.{n})" for n in names) + f" FROM ({sql}) x"

    def query(sql: str, p: dict[str, object]) -> Callable[[], None]:
        used = {k: v for k, v in p.items() if "$" + k in sql}
        return lambda: con.execute(sql, used).fetchall() and None

    reader = snap.SnapshotReader(work, files=10**6, parallel=1)  # never the last file: one thread
    reader._threads_for_next_file = lambda: 1  # type: ignore[method-assign]
    con.execute("CREATE TABLE idx AS SELECT abstract_index AS a FROM read_parquet($p)",
                {"p": str(_write_part(con, strict, params, out))})
    steps: dict[str, Callable[[], None]] = {
        "bare gz": query(bare, dict(params, files=[str(gz)], compression="gzip")),
        "gunzip": lambda: snap._gunzip(gz, work / "again.jsonl"),
        "bare plain": query(bare, params),
        "projection": query(consumed(strict), params),
        "projection, no index regex": query(consumed(no_regex), params),
        "copy": query(copy_part_sql(strict, out), params),
        "read": lambda: reader.read(f, 0, out) and None,
    }
    for codec in ("zstd", "snappy", "lz4_raw", "uncompressed"):
        steps[f"index {codec}"] = query(
            f"COPY (SELECT a FROM idx) TO '{work / codec}.parquet' (FORMAT parquet, COMPRESSION {codec}, "
            "ROW_GROUP_SIZE 4096)", {})
    best: dict[str, float] = {}
    for _ in range(a.reps):
        for name, run in steps.items():
            c = _cpu()
            run()
            best[name] = min(best.get(name, float("inf")), _cpu() - c)
    yard = best["bare gz"]
    print(f"{gz} ({gz.stat().st_size / 1e6:.0f} MB gzip), one DuckDB thread, min of {a.reps} runs")
    for name, cpu in best.items():
        size = ""
        if name.startswith("index "):
            size = f"  {(work / name.split()[1]).with_suffix('.parquet').stat().st_size / 1e6:.1f} MB"
        print(f"{name:28s} {cpu:6.3f} CPU-s  {cpu / yard:5.2f}× bare gz{size}")
    reader.close()
    shutil.rmtree(work, ignore_errors=True)


def _write_part(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object], out: Path) -> Path:
    con.execute(copy_part_sql(sql, out), {k: v for k, v in params.items() if "$" + k in sql})
    return out


if __name__ == "__main__":
    main()
