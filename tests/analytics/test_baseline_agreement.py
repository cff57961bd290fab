"""The engine agrees with the independent pandas + json implementation kept in benchmarks/."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from banso.analytics.engine import compute
from banso.analytics.expressions import Window
from banso.analytics.technologies import load_technologies

BASELINE = Path(__file__).resolve().parents[2] / "benchmarks" / "baseline_pandas.py"


def test_engine_matches_pandas_baseline(synth_snapshot: Path, synth_store: Path) -> None:
    spec = importlib.util.spec_from_file_location("baseline_pandas", BASELINE)
    assert spec and spec.loader
    base = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(base)
    ind_p, tech_p = base.indicators(base.read(synth_snapshot), 2015, 2025)
    run = compute(synth_store, load_technologies(), Window(2015, 2025))
    got = {(r["technology"], r["country"]): r for r in run.indicators.to_pylist()}
    assert len(got) == len(ind_p) > 100
    for r in ind_p.to_dict("records"):
        g = got[(r["technology"], r["country"])]
        for col in ("papers_whole", "papers_fractional", "top10_whole", "top10_fractional",
                    "top10_share_fractional", "rank_top10_fractional", "rca", "h_index", "intl_collab_share"):
            mine = float("nan") if g[col] is None else g[col]
            assert mine == pytest.approx(r[col], nan_ok=True), col
    tech = {r["technology"]: r for r in run.technologies.to_pylist()}
    for r in tech_p.to_dict("records"):
        assert tech[r["technology"]]["leader"] == r["leader"]
        assert tech[r["technology"]]["hhi"] == pytest.approx(r["hhi"])
