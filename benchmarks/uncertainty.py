"""Cost of the bootstrap intervals (banso.analytics.uncertainty) on a synthetic snapshot.

    python benchmarks/uncertainty.py --works 100000 --dir /tmp/bench-unc [--samples 200]

Writes the snapshot and the store under --dir (reused when present), computes the indicators once
(for comparison), then times the bootstrap: reading the (technology, work) rows and resampling.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from banso.analytics import uncertainty
from banso.analytics.engine import compute
from banso.analytics.expressions import Window
from banso.analytics.ingest import ingest
from banso.analytics.synth import write_synthetic_snapshot
from banso.analytics.technologies import load_technologies


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--works", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--window", default="2019:2023")
    a = ap.parse_args()
    snap, store = a.dir / "snap", a.dir / "store"
    if not (snap / "works").is_dir():
        write_synthetic_snapshot(snap, works=a.works, seed=1, part_size=20_000, dates=4)
    if not (store / "works.parquet").is_file():
        ingest(snap, store)
    techs, window = load_technologies(), Window.parse(a.window)
    t = time.perf_counter()
    run = compute(store, techs, window)
    t_ind = time.perf_counter() - t
    t = time.perf_counter()
    rows = uncertainty.tech_work_rows(store, techs, window)
    t_rows = time.perf_counter() - t
    t = time.perf_counter()
    table = uncertainty.bootstrap(store, techs, window, samples=a.samples)
    t_all = time.perf_counter() - t
    print(json.dumps({"works": a.works, "window_works": run.window_works, "tech_work_rows": len(rows),
                      "samples": a.samples, "indicators_s": round(t_ind, 2), "rows_s": round(t_rows, 2),
                      "bootstrap_total_s": round(t_all, 2), "resampling_s": round(t_all - t_rows, 2),
                      "technologies": len(table)}, indent=1))


if __name__ == "__main__":
    main()
