"""Prioritisation (T5): criteria from the indicator tables, needs from ministries, TOPSIS, sensitivity."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from banso.analytics import config
from banso.analytics import topsis as tp
from banso.analytics.errors import AnalyticsError
from banso.kit.cells import CSV_LINE_END, csv_cell, note_line

# criterion → (default weight, benefit?, label_en, label_ja); the labels are the think-tank pages' own (their
# msgids and the Japanese catalogue's msgstrs), so a report says what the page says (issue 16 F5).
CRITERIA: dict[str, tuple[float, bool, str, str]] = {
    "japan_share": (0.20, True, "Japan's top-10% share (strength)", "日本のTop10%論文シェア（強み）"),
    "japan_rank": (0.10, False, "Japan's rank (strength; 1 = best)", "日本の順位（強み、1が最上位）"),
    "japan_rca": (0.10, True, "Japan's revealed comparative advantage (RCA)", "日本の顕示比較優位（RCA）"),
    "monopoly_risk": (0.15, True, "Monopoly risk (dependence)", "独占リスク（依存）"),
    "leader_share": (0.15, True, "Leader's top-10% share (dependence)", "首位国のTop10%論文シェア（依存）"),
    "momentum": (0.10, True, "Japan's growth in papers (momentum)", "日本の論文数の伸び（勢い）"),
    "needs": (0.20, True, "Social-implementation needs (1–5)", "社会実装ニーズ（1–5）"),
}
_RISK = {"low": 1.0, "medium": 2.0, "high": 3.0}


@dataclass
class Priorities:
    """Ranking table and the weights used.

    ``ranking`` has the ranked technologies first (``rank`` 1…), then those with fewer works than
    ``min_works`` (``small_sample`` true, ``rank`` and the TOPSIS columns null).
    """

    ranking: pd.DataFrame
    weights: dict[str, float]
    min_works: int = 0


def load_weights(path: Path | None) -> dict[str, float]:
    """Read ``criterion: weight`` from YAML/JSON; unknown criteria or negative weights are errors."""
    weights = {k: v[0] for k, v in CRITERIA.items()}
    if path is None:
        return weights
    if not path.is_file():
        raise AnalyticsError(f"重みファイルが見つかりません: {path} / weights file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise AnalyticsError(f"{path}: YAML/JSON として読めません: {exc} / {path}: not valid YAML/JSON: {exc}") from None
    if isinstance(data, dict) and "weights" in data:
        data = data["weights"]
    if not isinstance(data, dict):
        raise AnalyticsError(f"{path}: 基準: 重み の対応表が必要です / "
                             f"{path}: expected a mapping criterion: weight ({', '.join(CRITERIA)})")
    for k, v in data.items():
        if k not in CRITERIA:
            raise AnalyticsError(f"{path}: 不明な基準 {k!r} です（{', '.join(CRITERIA)}） / "
                                 f"{path}: unknown criterion {k!r}; known: {', '.join(CRITERIA)}")
        if not isinstance(v, int | float) or v < 0:
            raise AnalyticsError(f"{path}: {k} の重みは 0 以上の数にしてください / "
                                 f"{path}: weight of {k} must be a non-negative number")
        weights[k] = float(v)
    if sum(weights.values()) <= 0:
        raise AnalyticsError(f"{path}: 重みがすべて 0 です / {path}: weights are all zero")
    return weights


def load_needs(path: Path | None, known: set[str]) -> dict[str, tuple[float, str]]:
    """Read the needs CSV (technology, score 1–5, reason[, ministry]); the mean score per technology."""
    if path is None:
        return {}
    if not path.is_file():
        raise AnalyticsError(f"ニーズファイルが見つかりません: {path} / needs file not found: {path}")
    rows: dict[str, list[tuple[float, str]]] = {}
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"technology", "score", "reason"} - set(reader.fieldnames or [])
        if missing:
            raise AnalyticsError(f"{path}: 列がありません: {', '.join(sorted(missing))} / "
                                 f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for i, r in enumerate(reader, start=2):
            tech = (r["technology"] or "").strip()
            if tech not in known:
                raise AnalyticsError(f"{path}:{i}: 不明な技術 ID {tech!r} です / {path}:{i}: unknown technology id {tech!r}")
            try:
                score = float(r["score"])
            except (TypeError, ValueError):
                score = float("nan")
            if not 1 <= score <= 5:
                raise AnalyticsError(f"{path}:{i}: スコアは 1 から 5 の数にしてください（{r['score']!r}） / "
                                     f"{path}:{i}: score must be a number from 1 to 5 (got {r['score']!r})")
            reason = (r["reason"] or "").strip()
            if not reason:
                raise AnalyticsError(f"{path}:{i}: ニーズごとに理由が必要です / {path}:{i}: a reason is required for each need")
            who = (r.get("ministry") or "").strip()
            rows.setdefault(tech, []).append((score, f"{who}: {reason}" if who else reason))
    return {t: (float(np.mean([s for s, _ in v])), " / ".join(x for _, x in v)) for t, v in rows.items()}


def criteria_matrix(tech: pd.DataFrame, ind: pd.DataFrame, needs: dict[str, tuple[float, str]],
                    focus_country: str = "JP") -> pd.DataFrame:
    """Return one row per technology (with works) and one column per criterion."""
    t = tech[tech["papers"] > 0].copy()
    if t.empty:
        raise AnalyticsError("期間に文献のある技術がなく、優先順位を付けられません / "
                             "no technology has works in the window: nothing to prioritise")
    jp = ind[ind["country"] == focus_country].set_index("technology")
    worst_rank = float(ind["rank_top10_fractional"].max() or 1) + 1
    out = pd.DataFrame({"technology": t["technology"].values})
    out["japan_share"] = t["japan_top10_share"].fillna(0.0).values
    out["japan_rank"] = t["japan_rank"].astype("float64").fillna(worst_rank).values
    out["japan_rca"] = [float(jp["rca"].get(x, 0.0) or 0.0) for x in out["technology"]]
    out["monopoly_risk"] = [_RISK.get(str(r), 1.0) for r in t["monopoly_risk"]]
    out["leader_share"] = (t["japan_top10_share"].fillna(0.0) + t["japan_gap_to_leader"].fillna(0.0)).values
    cagr = [jp["cagr"].get(x) if x in jp.index else None for x in out["technology"]]
    out["momentum"] = [0.0 if c is None or pd.isna(c) else float(c) for c in cagr]
    out["needs"] = [needs.get(x, (1.0, ""))[0] for x in out["technology"]]
    out["needs_reason"] = [needs.get(x, (0, "no need entered"))[1] for x in out["technology"]]
    return out


def prioritise(
    tech: pd.DataFrame,
    ind: pd.DataFrame,
    *,
    weights: dict[str, float],
    needs: dict[str, tuple[float, str]],
    samples: int = 2000,
    spread: float = 0.3,
    band: int = 5,
    seed: int = 0,
    focus_country: str = "JP",
    min_works: int | None = None,
) -> Priorities:
    """Rank technologies by TOPSIS on the criteria, with sensitivity and a per-criterion explanation.

    Technologies with fewer than ``min_works`` works in the window (default :func:`config.min_works`)
    are not ranked: their shares rest on a handful of papers (issue 16). They stay in the table, marked.
    """
    minimum = config.min_works() if min_works is None else min_works
    everything = criteria_matrix(tech, ind, needs, focus_country)
    papers = dict(zip(tech["technology"], tech["papers"], strict=True))
    everything.insert(1, "papers", [int(papers[t]) for t in everything["technology"]])
    everything.insert(2, "small_sample", everything["papers"] < minimum)
    cm = everything[~everything["small_sample"]].reset_index(drop=True)
    small = everything[everything["small_sample"]].reset_index(drop=True)
    names = list(CRITERIA)
    if not cm.empty:
        _rank(cm, names, weights, samples=samples, spread=spread, band=band, seed=seed)
    small["explanation"] = [f"small sample: {n} works < {minimum}; not ranked" for n in small["papers"]]
    ranking = pd.concat([cm.sort_values("rank") if not cm.empty else cm, small], ignore_index=True)
    # The same columns whether or not anything was ranked (readers index them): null for small samples.
    for col in ("closeness", "rank", "p_keep_band", "rank_p05", "rank_p95", *(f"contribution_{n}" for n in names)):
        if col not in ranking:
            ranking[col] = np.nan
    ranking["rank"] = ranking["rank"].astype("Int64")
    return Priorities(ranking.reset_index(drop=True), {n: float(weights[n]) for n in names}, minimum)


def _rank(cm: pd.DataFrame, names: list[str], weights: dict[str, float], *, samples: int, spread: float,
          band: int, seed: int) -> None:
    """Add TOPSIS closeness, rank, sensitivity, contributions and explanation columns to ``cm``."""
    x = cm[names].to_numpy(dtype=float)
    # Momentum may be negative; TOPSIS's vector normalisation needs non-negative columns.
    x[:, names.index("momentum")] -= min(0.0, x[:, names.index("momentum")].min())
    w = np.array([weights[n] for n in names])
    benefit = np.array([CRITERIA[n][1] for n in names])
    res = tp.topsis(x, w, benefit)
    sens = tp.sensitivity(x, w, benefit, samples=samples, spread=spread, band=band, seed=seed)
    contrib = tp.contributions(res)
    cm["closeness"] = res.closeness
    cm["rank"] = res.rank
    cm["p_keep_band"] = sens.p_keep_band
    cm["rank_p05"] = sens.rank_p05
    cm["rank_p95"] = sens.rank_p95
    for j, n in enumerate(names):
        cm[f"contribution_{n}"] = contrib[:, j]
    expl = []
    for i in range(len(cm)):
        order = np.argsort(-contrib[i])
        pos = [f"{names[j]} (+{contrib[i, j]:.2f})" for j in order[:2] if contrib[i, j] > 0]
        neg = [f"{names[j]} ({contrib[i, j]:.2f})" for j in order[::-1][:2] if contrib[i, j] < 0]
        expl.append("; ".join(p for p in (
            "raised by " + ", ".join(pos) if pos else "", "held back by " + ", ".join(neg) if neg else "") if p))
    cm["explanation"] = expl


def run_prioritise(
    indicators_dir: Path,
    out: Path,
    *,
    weights_file: Path | None = None,
    needs_file: Path | None = None,
    samples: int = 2000,
    spread: float = 0.3,
    band: int = 5,
    seed: int = 0,
    focus_country: str = "JP",
    min_works: int | None = None,
) -> Priorities:
    """Read the indicator tables, prioritise, write ``ranking.csv``/``.parquet`` and ``weights.json``."""
    for name in ("technologies.parquet", "indicators.parquet"):
        if not (indicators_dir / name).is_file():
            raise AnalyticsError(f"{indicators_dir / name} がありません（先に `banso analyze indicators` を実行してください） / "
                                 f"{indicators_dir / name} not found (run `banso analyze indicators` first)")
    tech = pd.read_parquet(indicators_dir / "technologies.parquet")
    ind = pd.read_parquet(indicators_dir / "indicators.parquet")
    weights = load_weights(weights_file)
    needs = load_needs(needs_file, set(tech["technology"]))
    if samples < 1 or not 0 <= spread < 1 or band < 1:
        raise AnalyticsError("samples ≥ 1、0 ≤ spread < 1、band ≥ 1 にしてください / "
                             "samples ≥ 1, 0 ≤ spread < 1 and band ≥ 1 are required")
    res = prioritise(tech, ind, weights=weights, needs=needs, samples=samples, spread=spread, band=band,
                     seed=seed, focus_country=focus_country, min_works=min_works)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / "ranking.parquet.tmp"
    res.ranking.to_parquet(tmp, index=False)
    os.replace(tmp, out / "ranking.parquet")
    tmp = out / "ranking.csv.tmp"
    neutral = res.ranking.map(csv_cell)  # O1: no formula cell in a CSV (banso.kit.cells); numbers untouched
    # CRLF records: pandas (the csv module) quotes a cell only for its line terminator's characters, so with LF a
    # needs reason holding a lone CR was written bare and a spreadsheet ran what followed it (banso.kit.cells).
    neutral.to_csv(tmp, index=False, lineterminator=CSV_LINE_END)
    if not neutral.equals(res.ranking):
        with tmp.open("a", encoding="utf-8", newline="") as f:
            f.write(note_line(len(neutral.columns)))
    os.replace(tmp, out / "ranking.csv")
    meta: dict[str, Any] = {"weights": res.weights, "min_works": res.min_works, "samples": samples,
                            "spread": spread, "band": band, "seed": seed,
                            "directions": {k: "benefit" if v[1] else "cost" for k, v in CRITERIA.items()}}
    (out / "weights.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return res
