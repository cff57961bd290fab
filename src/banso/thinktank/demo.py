"""Demo analysis for the think-tank pages: synth → ingest → indicators (with intervals) → trends (with
intervals per window) → prioritise under ``data_dir/analytics``.

``banso demo`` calls :func:`prepare_demo_analytics` so the pages have something to show on first start.
The snapshot is synthetic, and every page, report and API answer built on it says so (issue 16).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from banso.analytics.engine import compute, write_outputs
from banso.analytics.expressions import Window
from banso.analytics.ingest import ingest
from banso.analytics.prioritise import run_prioritise
from banso.analytics.report import write_readme
from banso.analytics.synth import write_synthetic_snapshot
from banso.analytics.technologies import load_technologies
from banso.analytics.trends import TRENDS_FILE, compute_trends, write_trends
from banso.analytics.uncertainty import write_uncertainty
from banso.thinktank.service import INDICATORS, analytics_dir, outputs_exist

DEFAULT_WINDOW = "2019:2023"
# Four 5-year windows, every other year, the last one the indicators' own (2019–2023, so its rows equal the
# indicators'): at the demo's 12,000 works 3-year windows left two thirds of technology × window under the
# 50-work minimum (unranked); four indicator runs keep the demo and the tests that build it quick.
TREND_SPAN, TREND_SIZE, TREND_STEP = "2013:2023", 5, 2
BOOTSTRAP = 200  # resamples for the intervals (the indicators' window and every trend window)


def prepare_demo_analytics(data_dir: Path, *, works: int = 3000, seed: int = 7) -> Path:
    """Build a small synthetic analysis in ``data_dir/analytics``; skip what already exists.

    Runs the analytics package's functions as the CLI does (``banso analyze synth``, ``ingest``,
    ``indicators --bootstrap 200``, ``trends --bootstrap 200``, ``prioritise``) and returns the analytics
    folder. Idempotent; a demo folder made before trends existed gets its trends on the next start.
    """
    root = analytics_dir(data_dir)
    store = root / "store"
    if outputs_exist(root):
        if not (root / INDICATORS / TRENDS_FILE).is_file() and store.is_dir():
            _trends(store, root / INDICATORS, seed)
        return root
    root.mkdir(parents=True, exist_ok=True)
    snapshot = root / "snapshot"
    if not (snapshot / "works").is_dir():
        tmp = root / "snapshot.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        # Most works in a technology, so that technologies have enough works to rank (issue 16).
        write_synthetic_snapshot(tmp, works=works, seed=seed, processes=1, technology_share=0.9)
        tmp.rename(snapshot)
    ingest(snapshot, store, threads=1)
    techs = load_technologies(None)
    window = Window.parse(DEFAULT_WINDOW)
    run = compute(store, techs, window)
    write_outputs(run, root / INDICATORS)
    write_uncertainty(store, techs, window, root / INDICATORS, samples=BOOTSTRAP, seed=seed)
    _trends(store, root / INDICATORS, seed)
    write_readme(root / INDICATORS)
    run_prioritise(root / INDICATORS, root / "priorities", samples=500, seed=seed)
    return root


def _trends(store: Path, out: Path, seed: int) -> None:
    """``banso analyze trends --span 2013:2023 --window 5 --step 2 --bootstrap 200 --seed SEED``."""
    trends = compute_trends(store, load_technologies(None), Window.parse(TREND_SPAN), TREND_SIZE, TREND_STEP,
                            samples=BOOTSTRAP, seed=seed)
    write_trends(trends, out)
