"""Analytics benchmark (issue 6): snapshot → store → indicators, against a bare DuckDB scan and pandas.

One run measures, each step in a fresh process (so peak RSS is the step's own):

1. ``bare_auto``   ``SELECT count(*) FROM read_json_auto(files)``  (DuckDB's plain scan of the files)
2. ``bare_cols``   ``read_json`` with the same explicit columns the ingest reads, every column consumed
                   (the abstract index as JSON text, as the ingest reads it since store format 2)
   ``bare_map``    the same with the abstract index typed ``MAP(VARCHAR, INTEGER[])`` (the yardstick of
                   the runs before store format 2, kept for comparison)
3. ``ingest_store`` ``banso analyze ingest --no-match-keywords`` into a fresh store: the store alone
                   (what the issue calls the ingest: snapshot in, Parquet store of the needed fields out)
   ``indicators_store`` ``banso analyze indicators`` from that store: the first run also matches
                   every stored work's keywords (nothing was matched yet), then a re-run
4. ``ingest``      ``banso analyze ingest`` as it runs by default: the store plus the keyword matching
                   of every stored work against the shipped technology file (per part, as each part is
                   written, in two worker processes)
   ``indicators``  ``banso analyze indicators`` from that store (run twice: cold, then a re-run)
5. ``pandas``      benchmarks/baseline_pandas.py end to end (json.loads per line + pandas)

End to end is ingest + the first indicators run, for both orders of the keyword matching; the larger
of the two is the figure compared with pandas.

    python benchmarks/analytics.py --works 1000000 --workdir /tmp/bench [--snapshot DIR] [--skip-pandas]

Prints a JSON summary and a Markdown table for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """Return the CPU seconds (user + system) used by this process and its waited-for children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _tree_rss_mb() -> float:
    """Return the summed RSS of this process and all its descendants (Linux /proc), in MB."""
    parent: dict[int, int] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            parent[int(stat.split("/")[2])] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, todo = set(), [os.getpid()]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(c for c, pp in parent.items() if pp == pid and c not in tree)
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status") as fh:
                total += next(int(x.split()[1]) for x in fh if x.startswith("VmRSS:"))
        except (OSError, StopIteration):
            continue
    return total / 1024


class _TreeRssSampler:
    """Sample the process tree's summed RSS every 0.25 s (worker processes included)."""

    def __init__(self) -> None:
        import threading

        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.peak = max(self.peak, _tree_rss_mb())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return max(self.peak, _tree_rss_mb())


def _files(snapshot: Path) -> list[str]:
    return sorted(glob.glob(str(snapshot / "works" / "updated_date=*" / "part_*.gz")))


def step(name: str, a: argparse.Namespace) -> dict[str, Any]:
    """Run one step in this process and return its timing and peak RSS."""
    import duckdb

    t0 = time.perf_counter()
    cpu0 = _cpu_s()
    out: dict[str, Any] = {}
    sampler = _TreeRssSampler()
    if name in ("bare_auto", "bare_cols", "bare_map"):
        from banso.analytics.snapshot import READ_COLUMNS

        columns = dict(READ_COLUMNS)
        if name == "bare_map":
            columns["abstract_inverted_index"] = "MAP(VARCHAR, INTEGER[])"

        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        files = _files(a.snapshot)
        if name == "bare_auto":
            rows = con.execute("SELECT count(*) FROM read_json_auto($f, format = 'newline_delimited')",
                               {"f": files}).fetchall()[0][0]
        else:
            cols = ", ".join(f"count({c})" for c in columns)
            rows = con.execute(
                f"SELECT count(*), {cols} FROM read_json($f, format = 'newline_delimited', columns = $c)",
                {"f": files, "c": columns},
            ).fetchall()[0][0]
        out["rows"] = rows
    elif name in ("ingest", "ingest_store"):
        from banso.analytics import keywords
        from banso.analytics.ingest import ingest
        from banso.analytics.store import store_paths
        from banso.analytics.technologies import load_technologies

        shutil.rmtree(a.store, ignore_errors=True)
        # ingest: what `banso analyze ingest` does with the shipped technology file: read the snapshot into
        # the store, matching each part's keywords as soon as it is written (overlapping the next reads).
        # ingest_store: `--no-match-keywords`, the store alone.
        r = ingest(a.snapshot, a.store, decoder=a.decoder,
                   technologies=load_technologies() if name == "ingest" else None)
        out["read_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        if name == "ingest":
            table, matched_now = keywords.store_hits(a.store, store_paths(a.store).parts, load_technologies())
            out["keywords_s"] = time.perf_counter() - t1  # only reads the kept hits: all parts were matched
            out["keyword_hits"], out["parts_matched_after_ingest"] = table.num_rows, matched_now
        out.update(rows=r.rows_read, works=r.works_in_store, malformed=r.malformed,
                   store_mb=sum(p.stat().st_size for p in a.store.rglob("*.parquet")) / 1e6,
                   works_parquet_mb=(a.store / "works.parquet").stat().st_size / 1e6)
    elif name in ("indicators", "indicators_store"):
        from banso.analytics.engine import compute, write_outputs
        from banso.analytics.expressions import Window
        from banso.analytics.technologies import load_technologies

        techs = load_technologies()
        times = []
        for _ in range(2):
            t = time.perf_counter()
            run = compute(a.store, techs, Window.parse(a.window), engine=a.engine)
            write_outputs(run, a.workdir / "indicators")
            times.append(time.perf_counter() - t)
        out.update(cold_s=times[0], rerun_s=times[1], rows=run.indicators.num_rows, window_works=run.window_works)
    elif name == "pandas":
        import runpy

        sys.argv = ["baseline_pandas.py", str(a.snapshot), "--window", a.window, "--out", str(a.workdir / "pandas")]
        runpy.run_path(str(ROOT / "benchmarks" / "baseline_pandas.py"), run_name="__main__")
    out["seconds"] = time.perf_counter() - t0
    out["cpu_s"] = _cpu_s() - cpu0  # this process and its finished workers: the machine's load hardly moves it
    out["peak_tree_rss_mb"] = sampler.stop()  # this process and its workers together
    out["peak_rss_mb"] = _rss_mb()
    out["loadavg_1m_at_end"] = os.getloadavg()[0]  # the machine is shared: other load skews timings
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--works", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/banso-bench"))
    ap.add_argument("--snapshot", type=Path, help="reuse an existing synthetic snapshot")
    ap.add_argument("--window", default="2019:2023")
    ap.add_argument("--engine", default="duckdb")
    ap.add_argument("--skip-pandas", action="store_true")
    ap.add_argument("--decoder", default="duckdb", help="ingest decoder: duckdb, msgspec or both (both: "
                    "ingest runs once per decoder, the later steps use the last store)")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.workdir.mkdir(parents=True, exist_ok=True)
    a.store = a.store or a.workdir / "store"
    if a.step:
        print("RESULT " + json.dumps(step(a.step, a)))
        return
    summary: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                           "platform": platform.platform()}}
    if a.snapshot is None:
        from banso.analytics.synth import write_synthetic_snapshot

        a.snapshot = a.workdir / f"snapshot-{a.works}"
        if not _files(a.snapshot):
            t = time.perf_counter()
            r = write_synthetic_snapshot(a.snapshot, works=a.works, seed=a.seed, part_size=20_000, dates=4)
            summary["synth"] = {"seconds": time.perf_counter() - t, "works": r.works,
                                "mean_record_bytes": r.mean_record_bytes, "gz_mb": r.gz_bytes / 1e6}
    files = _files(a.snapshot)
    if "synth" not in summary:
        import gzip

        with gzip.open(files[0], "rb") as fh:
            sizes = [len(line) for line in fh]
        summary["synth"] = {"mean_record_bytes": sum(sizes) / len(sizes), "sampled_file": files[0]}
    summary["snapshot"] = {"path": str(a.snapshot), "files": len(files),
                           "gz_mb": sum(os.path.getsize(f) for f in files) / 1e6}
    decoders = ["duckdb", "msgspec"] if a.decoder == "both" else [a.decoder]
    steps = (["bare_auto", "bare_cols", "bare_map", "ingest_store", "indicators_store"]
             + [f"ingest:{d}" for d in decoders] + ["indicators"] + ([] if a.skip_pandas else ["pandas"]))
    store_only = a.workdir / "store-only"
    for s in steps:
        name, _, dec = s.partition(":")
        store = store_only if name.endswith("_store") else a.store
        cmd = [sys.executable, __file__, "--step", name, "--snapshot", str(a.snapshot), "--workdir", str(a.workdir),
               "--store", str(store), "--window", a.window, "--engine", a.engine, "--decoder", dec or "duckdb"]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode or line is None:
            print(proc.stdout[-2000:], proc.stderr[-4000:], file=sys.stderr)
            raise SystemExit(f"step {s} failed")
        summary[s] = json.loads(line[7:])
        if name == "ingest":
            summary["ingest"] = summary[s]
        if s == "pandas":
            summary[s].update(json.loads(next(x for x in proc.stdout.splitlines() if x.startswith("{"))))
        print(s, json.dumps(summary[s]), file=sys.stderr)
    works = summary["ingest"]["works"]
    ing, ind = summary["ingest"]["seconds"], summary["indicators"]
    ing_store, ind_store = summary["ingest_store"]["seconds"], summary["indicators_store"]
    e2e = max(ing + ind["cold_s"], ing_store + ind_store["cold_s"])
    summary["derived"] = {
        "works": works,
        "ingest_store_works_per_s": works / ing_store,
        "ingest_store_vs_bare_auto": ing_store / summary["bare_auto"]["seconds"],
        "ingest_store_vs_bare_cols": ing_store / summary["bare_cols"]["seconds"],
        "ingest_store_vs_bare_map": ing_store / summary["bare_map"]["seconds"],
        "ingest_works_per_s": works / ing,
        "ingest_vs_bare_auto": ing / summary["bare_auto"]["seconds"],
        "ingest_vs_bare_cols": ing / summary["bare_cols"]["seconds"],
        "ingest_vs_bare_map": ing / summary["bare_map"]["seconds"],
        "end_to_end_store_then_indicators_s": ing_store + ind_store["cold_s"],
        "end_to_end_matching_ingest_then_indicators_s": ing + ind["cold_s"],
        "end_to_end_s": e2e,
        # CPU seconds (process + workers) against the bare scan's: what the other agents' load moves least.
        "ingest_store_cpu_vs_bare_cols": summary["ingest_store"]["cpu_s"] / summary["bare_cols"]["cpu_s"],
        "ingest_cpu_vs_bare_cols": summary["ingest"]["cpu_s"] / summary["bare_cols"]["cpu_s"],
    }
    for dec in decoders:
        i = summary[f"ingest:{dec}"]
        summary["derived"][f"ingest_{dec}_s"] = i["seconds"]
        summary["derived"][f"ingest_{dec}_vs_bare_cols"] = i["seconds"] / summary["bare_cols"]["seconds"]
        if "pandas" in summary:
            summary["derived"][f"end_to_end_{dec}_vs_pandas"] = (
                summary["pandas"]["seconds"] / (i["seconds"] + ind["cold_s"]))
    if "pandas" in summary:
        p = summary["pandas"]["seconds"]
        summary["derived"].update(
            pandas_end_to_end_s=p,
            speedup_end_to_end_vs_pandas=p / e2e,
            speedup_rerun_indicators_vs_pandas=p / max(ind["rerun_s"], ind_store["rerun_s"]),
        )
    print(json.dumps(summary, indent=1))
    d = summary["derived"]
    rows = [
        ("works", f"{works:,}"),
        ("mean record size", f"{summary.get('synth', {}).get('mean_record_bytes', float('nan')):,.0f} bytes"),
        ("snapshot (gzip)", f"{summary['snapshot']['gz_mb']:.0f} MB in {summary['snapshot']['files']} files"),
        ("bare DuckDB read_json_auto count(*)", f"{summary['bare_auto']['seconds']:.1f} s"),
        ("bare DuckDB read_json, same columns", f"{summary['bare_cols']['seconds']:.1f} s"),
        ("bare DuckDB read_json, same columns but the abstract index as MAP",
         f"{summary['bare_map']['seconds']:.1f} s"),
        ("ingest, store only (--no-match-keywords)",
         f"{ing_store:.1f} s = {d['ingest_store_works_per_s']:,.0f} works/s, "
         + f"peak RSS {summary['ingest_store']['peak_tree_rss_mb']:.0f} MB"),
        ("ingest store only / bare auto, same-columns, MAP scan",
         (f"{d['ingest_store_vs_bare_auto']:.2f}× / {d['ingest_store_vs_bare_cols']:.2f}× / "
          f"{d['ingest_store_vs_bare_map']:.2f}×")),
        ("then indicators: first run (matches every work's keywords) / re-run",
         f"{ind_store['cold_s']:.2f} s / {ind_store['rerun_s']:.2f} s, "
         + f"peak RSS {ind_store['peak_tree_rss_mb']:.0f} MB"),
        ("ingest with keyword matching (the default)", f"{ing:.1f} s = {d['ingest_works_per_s']:,.0f} works/s, "
         + f"peak RSS {summary['ingest']['peak_rss_mb']:.0f} MB, "
         + f"with its workers {summary['ingest']['peak_tree_rss_mb']:.0f} MB"),
        ("ingest with matching / bare auto, same-columns, MAP scan",
         f"{d['ingest_vs_bare_auto']:.2f}× / {d['ingest_vs_bare_cols']:.2f}× / {d['ingest_vs_bare_map']:.2f}×"),
        ("CPU seconds: ingest store only / with matching, ÷ the strict bare scan's",
         f"{d['ingest_store_cpu_vs_bare_cols']:.2f}× / {d['ingest_cpu_vs_bare_cols']:.2f}×"),
        ("then indicators (cold / re-run)", f"{ind['cold_s']:.2f} s / {ind['rerun_s']:.2f} s, "
                                            + f"peak RSS {ind['peak_rss_mb']:.0f} MB"),
        ("end to end: store + indicators / matching ingest + indicators",
         (f"{d['end_to_end_store_then_indicators_s']:.1f} s / "
          f"{d['end_to_end_matching_ingest_then_indicators_s']:.1f} s")),
    ]
    if "pandas" in summary:
        rows += [
            ("pandas + json baseline, end to end", f"{d['pandas_end_to_end_s']:.1f} s, "
                                                   + f"peak RSS {summary['pandas']['peak_rss_mb']:.0f} MB"),
            ("end-to-end speed-up vs pandas (the slower end to end)", f"{d['speedup_end_to_end_vs_pandas']:.1f}×"),
            ("indicator re-run speed-up vs pandas", f"{d['speedup_rerun_indicators_vs_pandas']:.0f}×"),
        ]
    for dec in decoders:
        i = summary[f"ingest:{dec}"]
        rows.append((f"ingest --decoder {dec} / bare same-columns scan",
                     f"{i['seconds']:.1f} s = {d[f'ingest_{dec}_vs_bare_cols']:.2f}×, "
                     f"peak RSS {i['peak_rss_mb']:.0f} MB"
                     + (f"; end to end vs pandas {d[f'end_to_end_{dec}_vs_pandas']:.1f}×" if "pandas" in summary else "")))
    print("\n| measure | value |\n|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()
