"""Think-tank analysis outputs for the web pages: find and load them, recompute TOPSIS, draw charts.

The analysis is produced by ``banso analyze`` (or :mod:`banso.thinktank.demo`) into
``data_dir/analytics``::

    analytics/indicators/{indicators,technologies}.parquet, summary.json   (banso analyze indicators)
    analytics/priorities/ranking.parquet, weights.json                     (banso analyze prioritise)

Nothing here writes: a recomputed ranking lives only in the request that asked for it.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from banso.analytics import charts
from banso.analytics.prioritise import CRITERIA, prioritise
from banso.analytics.technologies import load_technologies
from banso.kit.errors import NotFound, ValidationFailed

INDICATORS, PRIORITIES = "indicators", "priorities"
SAMPLES = 400  # Monte Carlo samples for a recomputed ranking (fast enough for a request)
MAX_WEIGHT = 1000.0


def analytics_dir(data_dir: Path) -> Path:
    """Return the folder the pages read the analysis from."""
    return Path(data_dir) / "analytics"


def setup_commands(root: Path | str) -> list[str]:
    """Return the ``banso analyze`` commands that produce the analysis the pages read from ``root``."""
    return [
        "banso analyze synth --works 100000 --out snap",
        f"banso analyze ingest snap --store {root}/store",
        f"banso analyze indicators --store {root}/store --window 2019:2023 --out {root}/indicators",
        f"banso analyze prioritise --indicators {root}/indicators --out {root}/priorities",
    ]


def outputs_exist(root: Path) -> bool:
    """Return True when the indicator and priority outputs are all present."""
    return all((root / sub / name).is_file() for sub, name in (
        (INDICATORS, "indicators.parquet"), (INDICATORS, "technologies.parquet"), (PRIORITIES, "ranking.parquet")))


@dataclass
class Analysis:
    """One loaded analysis: the indicator tables, the saved ranking and the technology names."""

    root: Path
    technologies: pd.DataFrame
    indicators: pd.DataFrame
    ranking: pd.DataFrame | None
    weights: dict[str, float]
    settings: dict[str, Any]
    names: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def window(self) -> str:
        """Return the window as ``start–end``."""
        if self.technologies.empty:
            return ""
        t = self.technologies.iloc[0]
        return f"{int(t['window_start'])}–{int(t['window_end'])}"

    def name(self, tech_id: str, lang: str) -> str:
        """Return the technology's name in ``lang`` (its id when unknown)."""
        ja, en = self.names.get(tech_id, (tech_id, tech_id))
        return ja if lang == "ja" else en

    def technology(self, tech_id: str) -> dict[str, Any]:
        """Return the technologies row of ``tech_id``; NotFound when absent."""
        rows = self.technologies[self.technologies["technology"] == tech_id]
        if rows.empty:
            raise NotFound("技術が見つかりません / Technology not found")
        return _clean(rows.iloc[0].to_dict())

    def countries(self, tech_id: str) -> list[dict[str, Any]]:
        """Return the technology's country rows, best rank first."""
        rows = self.indicators[self.indicators["technology"] == tech_id].sort_values(
            ["rank_top10_fractional", "country"], na_position="last")
        return [_clean(r) for r in rows.to_dict("records")]

    def japan_rows(self, focus: str = "JP") -> list[dict[str, Any]]:
        """Return Japan's position per technology (technologies with works), in file order."""
        t = self.technologies[self.technologies["papers"] > 0]
        return [_clean(r) for r in t.to_dict("records")]


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """Return the row with NaN/NA as None and numpy scalars as Python values."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if v is None or (not isinstance(v, str) and not hasattr(v, "__len__") and pd.isna(v)):
            out[k] = None
        else:
            out[k] = v.item() if hasattr(v, "item") else v
    return out


_CACHE: dict[Path, tuple[tuple[float, ...], Analysis]] = {}
_LOCK = threading.Lock()


def _stamp(root: Path) -> tuple[float, ...]:
    paths = [root / INDICATORS / "indicators.parquet", root / INDICATORS / "technologies.parquet",
             root / PRIORITIES / "ranking.parquet", root / PRIORITIES / "weights.json"]
    return tuple(p.stat().st_mtime if p.is_file() else 0.0 for p in paths)


def load_analysis(data_dir: Path) -> Analysis | None:
    """Return the analysis under ``data_dir/analytics``, or None when none has been produced yet."""
    root = analytics_dir(data_dir)
    ind_dir = root / INDICATORS
    if not ((ind_dir / "indicators.parquet").is_file() and (ind_dir / "technologies.parquet").is_file()):
        return None
    stamp = _stamp(root)
    with _LOCK:
        hit = _CACHE.get(root)
        if hit and hit[0] == stamp:
            return hit[1]
    tech = pd.read_parquet(ind_dir / "technologies.parquet")
    ind = pd.read_parquet(ind_dir / "indicators.parquet")
    ranking = None
    if (root / PRIORITIES / "ranking.parquet").is_file():
        ranking = pd.read_parquet(root / PRIORITIES / "ranking.parquet")
    meta: dict[str, Any] = {}
    if (root / PRIORITIES / "weights.json").is_file():
        meta = json.loads((root / PRIORITIES / "weights.json").read_text(encoding="utf-8"))
    weights = {k: float(meta.get("weights", {}).get(k, v[0])) for k, v in CRITERIA.items()}
    names = {t.id: (t.name_ja, t.name_en) for t in load_technologies(None).technologies}
    analysis = Analysis(root, tech, ind, ranking, weights, meta, names)
    with _LOCK:
        _CACHE[root] = (stamp, analysis)
    return analysis


# ---------------------------------------------------------------------------------------------
# Prioritisation with posted weights


def criteria() -> list[str]:
    """Return the criterion names in order."""
    return list(CRITERIA)


def parse_weights(values: Mapping[str, str | None]) -> dict[str, float]:
    """Return the weights from form values (``w_<criterion>``); refuse non-numeric, negative or all zero."""
    out: dict[str, float] = {}
    for name in criteria():
        text = (values.get(name) or "").strip().replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            raise ValidationFailed(f"重み {name} は数値で入力してください / the weight of {name} must be a number",
                                   field=name) from None
        if not math.isfinite(value) or value < 0 or value > MAX_WEIGHT:
            raise ValidationFailed(
                f"重み {name} は 0 以上 {MAX_WEIGHT:g} 以下にしてください / "
                f"the weight of {name} must be between 0 and {MAX_WEIGHT:g}", field=name)
        out[name] = value
    if sum(out.values()) <= 0:
        raise ValidationFailed("重みがすべて 0 です。少なくとも一つは正にしてください / "
                               "the weights are all zero; make at least one positive")
    return out


def needs_of(analysis: Analysis) -> dict[str, tuple[float, str]]:
    """Return the needs scores the saved ranking was computed with (so a recompute keeps them)."""
    r = analysis.ranking
    if r is None or "needs" not in r:
        return {}
    return {str(t): (float(n), str(why)) for t, n, why in zip(r["technology"], r["needs"], r["needs_reason"])
            if why and why != "no need entered"}


def recompute(analysis: Analysis, weights: dict[str, float]) -> pd.DataFrame:
    """Return the TOPSIS ranking with sensitivity for ``weights`` (nothing is written)."""
    s = analysis.settings
    res = prioritise(analysis.technologies, analysis.indicators, weights=weights, needs=needs_of(analysis),
                     samples=SAMPLES, spread=float(s.get("spread", 0.3)), band=int(s.get("band", 5)),
                     seed=int(s.get("seed", 0)))
    return res.ranking


def ranking_rows(ranking: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the ranking rows with their per-criterion contributions as a dict."""
    names = criteria()
    rows = []
    for r in ranking.sort_values("rank").to_dict("records"):
        r = _clean(r)
        r["contributions"] = [(n, float(r.get(f"contribution_{n}") or 0.0)) for n in names]
        rows.append(r)
    return rows


# ---------------------------------------------------------------------------------------------
# Charts (PNG, rendered on the server: the CSP allows no inline scripts); drawn by banso.analytics.charts

DPI = 100
DEFAULT_XLABEL = "Top-10% share (fractional)"  # the label when the page's language has no font


def country_chart(analysis: Analysis, tech_id: str, *, lang: str, xlabel: str, other: str, top: int = 12) -> bytes:
    """Return a PNG bar chart of the technology's countries' top-10% shares (fractional)."""
    analysis.technology(tech_id)
    rows = analysis.countries(tech_id)
    shown = [r for r in rows if r["top10_share_fractional"] is not None][:top]
    rest = sum(r["top10_share_fractional"] or 0.0 for r in rows[len(shown):])
    labels = [r["country"] for r in shown] + ([other] if rest > 0 else [])
    values = [r["top10_share_fractional"] for r in shown] + ([rest] if rest > 0 else [])
    with charts.LOCK:
        use = charts.use_fonts(lang)
        fig = charts.country_shares(labels, values, xlabel=xlabel if use == lang else DEFAULT_XLABEL)
        return charts.png(fig, dpi=DPI)


def japan_chart(analysis: Analysis, *, lang: str, japan: str, leader: str, xlabel: str) -> bytes:
    """Return a PNG chart of Japan's top-10% share against the leader's, per technology."""
    with charts.LOCK:
        use = charts.use_fonts(lang)
        translated = use == lang

        def label(tech_id: str) -> str:
            name = analysis.name(tech_id, use)
            return name if len(name) <= 26 else name[:25] + "…"

        fig = charts.japan_position(analysis.technologies, label=label, japan=japan if translated else "Japan",
                                    leader=leader if translated else "Leader",
                                    xlabel=xlabel if translated else DEFAULT_XLABEL)
        return charts.png(fig, dpi=DPI)
