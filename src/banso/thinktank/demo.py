"""Demo analysis for the think-tank pages: synth → ingest → indicators → prioritise under ``data_dir/analytics``.

``banso demo`` calls :func:`prepare_demo_analytics` so the pages have something to show on first start.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from banso.analytics.engine import compute, write_outputs
from banso.analytics.expressions import Window
from banso.analytics.ingest import ingest
from banso.analytics.prioritise import run_prioritise
from banso.analytics.synth import write_synthetic_snapshot
from banso.analytics.technologies import load_technologies
from banso.thinktank.service import analytics_dir, outputs_exist

DEFAULT_WINDOW = "2019:2023"


def prepare_demo_analytics(data_dir: Path, *, works: int = 3000, seed: int = 7) -> Path:
    """Build a small synthetic analysis in ``data_dir/analytics``; skip when its outputs already exist.

    Runs the analytics package's functions as the CLI does (``banso analyze synth``, ``ingest``,
    ``indicators``, ``prioritise``) and returns the analytics folder. Idempotent.
    """
    root = analytics_dir(data_dir)
    if outputs_exist(root):
        return root
    root.mkdir(parents=True, exist_ok=True)
    snapshot, store = root / "snapshot", root / "store"
    if not (snapshot / "works").is_dir():
        tmp = root / "snapshot.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        # Most works in a technology, so that technologies have enough works to rank (issue 16).
        write_synthetic_snapshot(tmp, works=works, seed=seed, processes=1, technology_share=0.9)
        tmp.rename(snapshot)
    ingest(snapshot, store, threads=1)
    run = compute(store, load_technologies(None), Window.parse(DEFAULT_WINDOW))
    write_outputs(run, root / "indicators")
    run_prioritise(root / "indicators", root / "priorities", samples=500, seed=seed)
    return root
