"""Think-tank analysis outputs for the web pages: find and load them, recompute TOPSIS, draw charts.

The analysis is produced by ``banso analyze`` (or :mod:`banso.thinktank.demo`) into
``data_dir/analytics``::

    analytics/indicators/{indicators,technologies}.parquet, summary.json   (banso analyze indicators)
    analytics/indicators/top_institutions.parquet                          (banso analyze indicators)
    analytics/indicators/trends.parquet                                    (banso analyze trends, optional)
    analytics/priorities/ranking.parquet, weights.json                     (banso analyze prioritise)

Files are only read here. The database holds what people enter (T5, T8): needs per technology entered
by needs-ministry officers and saved analyses, both versioned and audited; who may do what is decided
by :mod:`banso.authz.policies.thinktank` and nowhere else.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from banso.analytics import charts
from banso.analytics.countries import country_name, is_country_code, with_country_names
from banso.analytics.prioritise import CRITERIA, prioritise
from banso.analytics.report import trend_bands, trend_samples, trend_series
from banso.analytics.technologies import load_technologies
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.policies import thinktank as policy
from banso.authz.policies.thinktank import ThinktankAccess
from banso.authz.principal import Principal
from banso.kit.cells import restore_cell
from banso.kit.errors import BansoError, Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.text import clean_text
from banso.thinktank import repository as repo
from banso.thinktank.models import NeedVersion, SavedAnalysis

INDICATORS, PRIORITIES = "indicators", "priorities"
INSTITUTIONS_FILE, TRENDS_FILE = "top_institutions.parquet", "trends.parquet"
SAMPLES = 400  # Monte Carlo samples for a recomputed ranking (fast enough for a request)
MAX_WEIGHT = 1000.0


class NotComputed(BansoError):
    """An output of ``banso analyze`` that has not been produced yet (404): the message names the command.

    Not a :class:`NotFound`, whose message every answer replaces with one "not found" (I7: no telling "absent"
    from "hidden"): the think tank's analysis is open to every reader of the indicators, so saying that the
    trends were not computed, and how to compute them, tells nobody anything they may not know.
    """

    status_code = 404
    code = "not_computed"


class CountryNotInAnalysis(BansoError):
    """A well-formed country code the analysis has no rows for (404 with its reason, like :class:`NotComputed`).

    Not a :class:`NotFound`: which countries the analysis holds is open to every reader of the indicators (the
    page's select lists them), so the answer may say that this one is not among them (outside tester, session 11).
    """

    status_code = 404
    code = "country_not_in_analysis"


def asked_country(raw: str | None, present: list[str] | set[str]) -> str | None:
    """Return the country code asked for (``?country=``, upper case), or None when none was asked.

    A code that is not two letters, or two letters that name no ISO 3166-1 country, is ValidationFailed (422);
    a country code the analysis has no rows for (not in ``present``) is :class:`CountryNotInAnalysis` (404): the
    reader learns which of the two it is, instead of a silent fallback or an empty list (outside tester).
    """
    text = (raw or "").strip()
    if not text:
        return None
    if not (len(text) == 2 and text.isascii() and text.isalpha()):  # the shape, told apart from an unknown code
        raise ValidationFailed("国コードは JP のような 2 文字の英字（ISO 3166-1 alpha-2）で指定してください / "
                               "country must be a two-letter ISO 3166-1 alpha-2 code such as JP", field="country")
    code = text.upper()
    if code in present:
        return code
    if not is_country_code(code):
        raise ValidationFailed(f"{code} は ISO 3166-1 の国コードではありません / "
                               f"{code} is not an ISO 3166-1 country code", field="country")
    raise CountryNotInAnalysis(f"国コード {code}（{country_name(code, 'ja')}）はこの分析にありません / "
                               f"Country code {code} ({country_name(code, 'en')}) is not in this analysis")


def analytics_dir(data_dir: Path) -> Path:
    """Return the folder the pages read the analysis from."""
    return Path(data_dir) / "analytics"


def setup_commands(root: Path | str) -> list[str]:
    """Return the ``banso analyze`` commands that produce the analysis the pages read from ``root``."""
    return [
        "banso analyze synth --works 100000 --out snap",
        f"banso analyze ingest snap --store {root}/store",
        f"banso analyze indicators --store {root}/store --window 2019:2023 --out {root}/indicators --bootstrap 200",
        trends_command(root),
        f"banso analyze prioritise --indicators {root}/indicators --out {root}/priorities",
    ]


def trends_command(root: Path | str) -> str:
    """Return the command that computes the trends (with intervals per window) the pages read from ``root``."""
    # The last window is the indicators' 2019–2023 (setup_commands), so its rows equal the indicators'.
    return (f"banso analyze trends --store {root}/store --out {root}/indicators --span 2013:2023 --window 5 "
            f"--step 2 --bootstrap 200 --seed 0")


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
    summary: dict[str, Any] = field(default_factory=dict)
    institutions: pd.DataFrame | None = None
    trends: pd.DataFrame | None = None

    @property
    def synthetic(self) -> bool:
        """Return True when the indicators' summary says they come from synthetic data (issue 16)."""
        return bool(self.summary.get("synthetic"))

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
        return clean_row(rows.iloc[0].to_dict())

    def countries(self, tech_id: str) -> list[dict[str, Any]]:
        """Return the technology's country rows, best rank first."""
        rows = self.indicators[self.indicators["technology"] == tech_id].sort_values(
            ["rank_top10_fractional", "country"], na_position="last")
        return [clean_row(r) for r in rows.to_dict("records")]

    def japan_rows(self, focus: str = "JP") -> list[dict[str, Any]]:
        """Return Japan's position per technology (technologies with works), in file order."""
        t = self.technologies[self.technologies["papers"] > 0]
        return [clean_row(r) for r in t.to_dict("records")]

    # --- who leads (top_institutions.parquet) and trends (trends.parquet), session 11 ---

    def leading_institutions(self, tech_id: str, country: str | None = None) -> list[dict[str, Any]]:
        """Return the technology's leading institutions worldwide (``country`` None) or of one country,
        best first, each with the country's names (``country_ja``, ``country_en``); NotFound for an unknown
        technology. An indicators run older than the table has none (empty list)."""
        self.technology(tech_id)
        t = self.institutions
        if t is None:
            return []
        rows = t[(t["technology"] == tech_id) & (t["scope"] == ("all" if country is None else "country"))]
        if country is not None:
            rows = rows[rows["country"] == country]
        return [clean_row(r) for r in rows.sort_values(["rank", "institution_id"]).to_dict("records")]

    def institution_countries(self, tech_id: str) -> list[str]:
        """Return the countries with leading institutions listed in the technology (scope ``country``), A→Z."""
        t = self.institutions
        if t is None:
            return []
        rows = t[(t["technology"] == tech_id) & (t["scope"] == "country")]
        return sorted({str(c) for c in rows["country"].dropna()})

    @property
    def trend_samples(self) -> int:
        """Return the bootstrap resamples behind the trend intervals (0: none, or no trends)."""
        return trend_samples(self.trends) if self.trends is not None else 0

    def require_trends(self) -> pd.DataFrame:
        """Return the trends table, or :class:`NotComputed` saying how to compute it (Japanese first)."""
        if self.trends is None:
            # The folder as a placeholder: an API answer does not tell the server's paths (the page does, to staff).
            command = trends_command("DATA_DIR/analytics")
            raise NotComputed(f"推移（移動期間）が計算されていません。分析担当者が「{command}」で計算します / "
                              f"Trends over rolling windows have not been computed; an analyst runs {command}")
        return self.trends

    def trend_rows(self, tech_id: str, country: str | None = None) -> list[dict[str, Any]]:
        """Return the technology's trend rows (every country, or one), by window then rank, with the
        countries' names; NotFound for an unknown technology, NotComputed when no trends were computed."""
        self.technology(tech_id)
        t = self.require_trends()
        rows = t[t["technology"] == tech_id]
        if country is not None:
            rows = rows[rows["country"] == country]
        return [clean_row(r) for r in rows.sort_values(["window_start", "rank_top10_fractional", "country"]).to_dict(
            "records")]

    def has_trends(self, tech_id: str) -> bool:
        """Return True when trends were computed and the technology has rows in them."""
        return self.trends is not None and bool((self.trends["technology"] == tech_id).any())

    def trend_table(self, tech_id: str, focus: str = "JP") -> list[dict[str, Any]]:
        """Return one row per window for the page: the focus country's and the best other country's share, rank
        and intervals (a table as narrow as the page; the full series is in the API and the workbook)."""
        rows = self.trend_rows(tech_id)
        by_window: dict[int, list[dict[str, Any]]] = {}
        for r in rows:
            by_window.setdefault(int(r["window_start"]), []).append(r)
        table = []
        for start in sorted(by_window):
            group = by_window[start]
            mine = next((r for r in group if r["country"] == focus), None)
            # The best other country (ties by code): the leader, or the runner-up when the focus country leads.
            leader = next((r for r in group if r["country"] != focus), None)
            table.append({"window": f"{start}–{int(group[0]['window_end'])}", "works": group[0].get("works"),
                          "small_sample": bool(group[0].get("small_sample") or False),
                          "japan": mine, "leader": leader})
        return table


def clean_row(row: dict[str, Any]) -> dict[str, Any]:
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


def stamp(root: Path) -> tuple[float, ...]:
    """Return the modification times of the analysis files (a new run changes it)."""
    paths = [root / INDICATORS / "indicators.parquet", root / INDICATORS / "technologies.parquet",
             root / INDICATORS / "summary.json", root / INDICATORS / INSTITUTIONS_FILE,
             root / INDICATORS / TRENDS_FILE, root / INDICATORS / "uncertainty.parquet",
             root / PRIORITIES / "ranking.parquet", root / PRIORITIES / "weights.json"]
    return tuple(p.stat().st_mtime if p.is_file() else 0.0 for p in paths)


def load_analysis(data_dir: Path) -> Analysis | None:
    """Return the analysis under ``data_dir/analytics``, or None when none has been produced yet."""
    root = analytics_dir(data_dir)
    ind_dir = root / INDICATORS
    if not ((ind_dir / "indicators.parquet").is_file() and (ind_dir / "technologies.parquet").is_file()):
        return None
    stamp_now = stamp(root)
    with _LOCK:
        hit = _CACHE.get(root)
        if hit and hit[0] == stamp_now:
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
    summary: dict[str, Any] = {}
    if (ind_dir / "summary.json").is_file():
        summary = json.loads((ind_dir / "summary.json").read_text(encoding="utf-8"))
    # Country names beside the codes once, as every page, API answer and CSV shows them.
    optional = {name: with_country_names(pd.read_parquet(ind_dir / name)) if (ind_dir / name).is_file() else None
                for name in (INSTITUTIONS_FILE, TRENDS_FILE)}
    analysis = Analysis(root, tech, ind, ranking, weights, meta, names, summary,
                        institutions=optional[INSTITUTIONS_FILE], trends=optional[TRENDS_FILE])
    with _LOCK:
        _CACHE[root] = (stamp_now, analysis)
    return analysis


# ---------------------------------------------------------------------------------------------
# Prioritisation with posted weights


def criteria() -> list[str]:
    """Return the criterion names in order."""
    return list(CRITERIA)


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""A number as the think tank reads it: ASCII digits and a "." (no "," for a decimal point or thousands,
no "_", no other script's digits), after full-width forms are folded (NFKC, as kit/japanese.py does)."""


def decimal_number(value: object) -> float | None:
    """Return ``value`` (a form, file or API value) as a finite number, or None when it is not one.

    Python's ``float`` reads ``1_000``, ``٣`` (Arabic-Indic 3) and ``True``; a weight or level typed as
    ``1,000`` was read as 1.0 when "," was taken for a decimal point. All of them are refused (issue 16 F7).
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = unicodedata.normalize("NFKC", str(value if value is not None else "")).strip()
    return float(text) if _DECIMAL.fullmatch(text) else None


def parse_weights(values: Mapping[str, object]) -> dict[str, float]:
    """Return the weights from form or API values (criterion → number); refuse an unknown criterion,
    anything but a decimal number (:func:`decimal_number`), a negative weight or all zero."""
    unknown = sorted(set(values) - set(criteria()))
    if unknown:
        raise ValidationFailed(f"不明な重みです：{', '.join(unknown)}（使える重み：{', '.join(criteria())}） / "
                               f"unknown weight: {', '.join(unknown)} (weights are: {', '.join(criteria())})",
                               field=unknown[0])
    out: dict[str, float] = {}
    for name in criteria():
        value = decimal_number(values.get(name))
        if value is None:
            raise ValidationFailed(f"重み {name} は数値（0-9 と小数点 .）で入力してください / "
                                   f"the weight of {name} must be a decimal number (digits 0-9 and '.')",
                                   field=name)
        if not math.isfinite(value) or value < 0 or value > MAX_WEIGHT:
            raise ValidationFailed(
                f"重み {name} は 0 以上 {MAX_WEIGHT:g} 以下にしてください / "
                f"the weight of {name} must be between 0 and {MAX_WEIGHT:g}", field=name)
        out[name] = value
    if sum(out.values()) <= 0:
        raise ValidationFailed("重みがすべて 0 です。少なくとも一つは正にしてください / "
                               "the weights are all zero; make at least one positive")
    return out


def recompute(analysis: Analysis, weights: dict[str, float],
              needs: Mapping[str, tuple[float, str]] | None = None) -> pd.DataFrame:
    """Return the TOPSIS ranking with sensitivity for ``weights`` and ``needs`` (nothing is written)."""
    s = analysis.settings
    res = prioritise(analysis.technologies, analysis.indicators, weights=weights, needs=dict(needs or {}),
                     samples=SAMPLES, spread=float(s.get("spread", 0.3)), band=int(s.get("band", 5)),
                     seed=int(s.get("seed", 0)))
    return res.ranking


def ranking_rows(ranking: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the ranking rows with their per-criterion contributions as a dict."""
    names = criteria()
    rows = []
    for r in ranking.sort_values("rank").to_dict("records"):
        r = clean_row(r)
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


def trend_chart(analysis: Analysis, tech_id: str, *, lang: str, xlabel: str, ylabel: str, band: str) -> bytes:
    """Return a PNG line chart of the technology's top-10% share per rolling window: Japan against the
    leader of the last window (others light grey), with their 95 % intervals as bands when computed."""
    analysis.technology(tech_id)
    trends = analysis.require_trends()
    if not analysis.has_trends(tech_id):
        raise NotFound("この技術の推移はありません / No trends for this technology")
    wins, series = trend_series(trends, tech_id)
    bands = trend_bands(trends, tech_id, series)
    with charts.LOCK:
        use = charts.use_fonts(lang)
        translated = use == lang
        named = [(country_name(c, use), v, role) for c, v, role in series]
        fig = charts.share_trend(wins, named, bands=bands, size=(7.2, 3.2),
                                 xlabel=xlabel if translated else "Window (publication years)",
                                 ylabel=ylabel if translated else DEFAULT_XLABEL,
                                 band_label=band if translated else "95% interval")
        return charts.png(fig, dpi=DPI)


def trend_panels(analysis: Analysis, tech_ids: list[str], *, lang: str, band: str) -> bytes:
    """Return one PNG with a small trend panel per technology in ``tech_ids`` (the PDF report's page)."""
    trends = analysis.require_trends()
    with charts.LOCK:
        use = charts.use_fonts(lang)
        panels: list[tuple[str, list[str], charts.Series, charts.Bands | None]] = []
        for tech_id in tech_ids:
            wins, series = trend_series(trends, tech_id)
            named = [(country_name(c, use), v, role) for c, v, role in series if role != "other"]
            name = analysis.name(tech_id, use)
            panels.append((name if len(name) <= 30 else name[:29] + "…", wins, named,
                           trend_bands(trends, tech_id, series)))
        fig = charts.share_trend_panels(panels, band_label=band if use == lang else "95% interval")
        return charts.png(fig, dpi=DPI)


# ---------------------------------------------------------------------------------------------
# Who may do what (the policy's one decision, shown by pages and the API as it is)


def access(actor: Principal) -> ThinktankAccess:
    """Return what ``actor`` may do on the think-tank pages and API (:mod:`banso.authz.policies.thinktank`)."""
    return policy.access_for(actor)


def require_indicators(actor: Principal) -> ThinktankAccess:
    """Return the actor's access, or refuse when they may not read the indicators."""
    granted = access(actor)
    if not granted.read_indicators:
        raise Forbidden("分析結果を閲覧する権限がありません / You may not read the analysis")
    return granted


def require_rankings(actor: Principal) -> ThinktankAccess:
    """Return the actor's access, or refuse when they may not see rankings and needs (T8)."""
    granted = access(actor)
    if not granted.read_rankings:
        raise Forbidden("優先順位と社会実装ニーズを閲覧できるのは、シンクタンク・所管省庁・ニーズ省庁の担当者です / "
                        "Only think-tank analysts and ministry officers see rankings and needs")
    return granted


def require_run(actor: Principal) -> ThinktankAccess:
    """Return the actor's access, or refuse when they may not recompute or save rankings."""
    granted = require_rankings(actor)
    if not granted.run_analyses:
        raise Forbidden("重みを変えて再計算・保存できるのは分析担当者です / Only analysts recompute and save rankings")
    return granted


# ---------------------------------------------------------------------------------------------
# Needs (社会実装ニーズ): entered per technology, versioned, audited (T5, T8)

NEED_MIN, NEED_MAX = 1.0, 5.0
REASON_MAX = 2000
SOURCES = ("web", "api", "csv")


@dataclass(frozen=True)
class NeedRow:
    """A technology with its current need (None when nobody has entered one) and how many versions it has."""

    technology: str
    need: NeedVersion | None
    entered_by: str


def technology_names() -> dict[str, tuple[str, str]]:
    """Return the technologies needs may be entered for: id → (Japanese name, English name)."""
    return {t.id: (t.name_ja, t.name_en) for t in load_technologies(None).technologies}


def _technology(technology: str) -> str:
    tech = (technology or "").strip()
    if tech not in technology_names():
        raise NotFound("技術が見つかりません / Technology not found")
    return tech


def parse_level(value: object, *, label: str = "level") -> float:
    """Return a needs level 1–5 from a form or file value; refuse anything else with a clear message."""
    level = decimal_number(value)
    if level is None or not NEED_MIN <= level <= NEED_MAX:
        text = str(value if value is not None else "").strip()
        raise ValidationFailed(f"{label} は 1 から 5 の数値（0-9 と小数点 .）で入力してください / "
                               f"{label} must be a decimal number from 1 to 5 (got {text!r})", field="level")
    return level


def _add_need(session: Session, *, actor: Principal, now: datetime, technology: str, level: float, reason: str,
              source: str) -> NeedVersion:
    row = NeedVersion(technology=technology, version=repo.next_need_version(session, technology), level=level,
                      reason=reason, source=source, entered_by_id=actor.user_id, entered_at=now)
    _insert_version(session, row)
    audit.record_for(session, AuditTag.THINKTANK_NEEDS_ENTER, now=now, actor=actor,
                     subject=f"thinktank:need:{technology}",
                     data={"technology": technology, "version": row.version, "level": level, "source": source})
    return row


def _insert_version(session: Session, row: NeedVersion | SavedAnalysis) -> None:
    """Insert the next version; two people saving the same thing at once get a 409, not a 500 (O4)."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict("同時に別の版が保存されました。もう一度保存してください / "
                       "someone saved another version at the same moment; save again") from None


def _may_enter(session: Session, actor: Principal, now: datetime, subject: str) -> None:
    if not access(actor).enter_needs:
        audit.refuse(session, Forbidden("社会実装ニーズを入力できるのはニーズ省庁の担当官です / "
                                        "Only needs-ministry officers enter implementation needs"),
                     AuditTag.THINKTANK_NEEDS_REFUSED, now=now, actor=actor, subject=subject)


def enter_need(session: Session, *, actor: Principal, now: datetime, technology: str, level: object,
               reason: object, source: str = "web") -> NeedVersion:
    """Record a new version of a technology's need (level 1–5 and a reason), audited (T5, T8)."""
    tech = _technology(technology)
    _may_enter(session, actor, now, f"thinktank:need:{tech}")
    value = parse_level(level)
    text = clean_text(reason, "reason", max_length=REASON_MAX, label="理由 (reason)")
    return _add_need(session, actor=actor, now=now, technology=tech, level=value, reason=text, source=source)


def import_needs(session: Session, *, actor: Principal, now: datetime, text: str, name: str) -> list[NeedVersion]:
    """Import a needs CSV (technology, score 1–5, reason[, ministry]) as new versions; all rows or none.

    A bad row is refused with its line number and the reason; nothing of the file is recorded then.
    """
    _may_enter(session, actor, now, "thinktank:needs")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"technology", "score", "reason"} - set(reader.fieldnames or [])
    if missing:
        raise ValidationFailed(f"{name}: 列がありません / missing column(s): {', '.join(sorted(missing))}",
                               field="file")
    parsed: list[tuple[str, float, str]] = []
    known = technology_names()
    for line, r in enumerate(reader, start=2):
        where = f"{name}:{line}"
        tech = restore_cell((r.get("technology") or "").strip())
        if tech not in known:
            raise ValidationFailed(f"{where}: 技術IDが不明です / unknown technology id {tech!r}", field="file")
        level = parse_level(r.get("score"), label=f"{where}: score")
        reason = clean_text(restore_cell(r.get("reason") or ""), "file", max_length=REASON_MAX,
                            label=f"{where}: reason")
        who = (r.get("ministry") or "").strip()
        parsed.append((tech, level, f"{who}: {reason}" if who else reason))
    if not parsed:
        raise ValidationFailed(f"{name}: 行がありません / the file has no rows", field="file")
    rows = [_add_need(session, actor=actor, now=now, technology=t, level=lv, reason=why, source="csv")
            for t, lv, why in parsed]
    audit.record_for(session, AuditTag.THINKTANK_NEEDS_IMPORT, now=now, actor=actor, subject="thinktank:needs",
                     data={"file": name, "rows": len(rows)})
    return rows


def list_needs(session: Session, *, actor: Principal) -> list[NeedRow]:
    """Return every known technology with its current need (T8: needs reasons only for the policy's roles)."""
    require_rankings(actor)
    current = {n.technology: n for n in repo.current_needs(session)}
    names = repo.user_names(session, {n.entered_by_id for n in current.values()})
    return [NeedRow(t, current.get(t), names.get(current[t].entered_by_id, "") if t in current else "")
            for t in technology_names()]


def need_history(session: Session, *, actor: Principal, technology: str) -> list[tuple[NeedVersion, str]]:
    """Return every version of a technology's need, newest first, with who entered it."""
    require_rankings(actor)
    rows = repo.need_history(session, _technology(technology))
    names = repo.user_names(session, {n.entered_by_id for n in rows})
    return [(n, names.get(n.entered_by_id, "")) for n in rows]


def needs_for_ranking(session: Session) -> dict[str, tuple[float, str]]:
    """Return the current needs as the prioritisation reads them: technology → (level, reason)."""
    return {n.technology: (n.level, n.reason) for n in repo.current_needs(session)}


# ---------------------------------------------------------------------------------------------
# Rankings and saved analyses (versioned by name)

NAME_MAX = 200


def current_ranking(session: Session, analysis: Analysis, *, actor: Principal,
                    weights: dict[str, float] | None = None) -> pd.DataFrame:
    """Return the ranking for ``weights`` (the analysis's own when None) with the needs in the database."""
    require_rankings(actor)
    return recompute(analysis, weights or analysis.weights, needs_for_ranking(session))


def _ranking_json(ranking: pd.DataFrame) -> str:
    return json.dumps([clean_row(r) for r in ranking.sort_values("rank").to_dict("records")], ensure_ascii=False)


def save_analysis(session: Session, *, actor: Principal, now: datetime, analysis: Analysis, name: object,
                  weights: dict[str, float]) -> SavedAnalysis:
    """Save the ranking for ``weights`` under ``name``: a new version when the name exists; audited."""
    require_run(actor)
    label = clean_text(name, "name", max_length=NAME_MAX, label="名前 (name)", line=True)
    current = repo.current_needs(session)
    needs = {n.technology: [n.level, n.reason, n.version] for n in current}
    ranking = recompute(analysis, weights, {n.technology: (n.level, n.reason) for n in current})
    row = SavedAnalysis(name=label, version=repo.next_analysis_version(session, label),
                        weights=json.dumps(weights), needs=json.dumps(needs, ensure_ascii=False),
                        ranking=_ranking_json(ranking), window=analysis.window, created_by_id=actor.user_id,
                        created_at=now)
    _insert_version(session, row)
    audit.record_for(session, AuditTag.THINKTANK_ANALYSIS_SAVE, now=now, actor=actor,
                     subject=f"thinktank:analysis:{row.id}", data={"name": label, "version": row.version})
    return row


@dataclass(frozen=True)
class SavedView:
    """A saved analysis version as pages and the API show it."""

    row: SavedAnalysis
    created_by: str

    @property
    def weights(self) -> dict[str, float]:
        """Return the weights the ranking was computed with."""
        return {k: float(v) for k, v in json.loads(self.row.weights).items()}

    def ranking(self) -> pd.DataFrame:
        """Return the saved ranking as a table."""
        return pd.DataFrame(json.loads(self.row.ranking))


def list_saved(session: Session, *, actor: Principal) -> list[SavedView]:
    """Return every saved analysis version, newest first, with who saved it."""
    require_rankings(actor)
    rows = repo.list_analyses(session)
    names = repo.user_names(session, {r.created_by_id for r in rows})
    return [SavedView(r, names.get(r.created_by_id, "")) for r in rows]


def get_saved(session: Session, *, actor: Principal, analysis_id: int) -> SavedView:
    """Return one saved analysis version; NotFound when absent."""
    require_rankings(actor)
    row = repo.get_analysis(session, analysis_id)
    if row is None:
        raise NotFound("保存された分析が見つかりません / Saved analysis not found")
    return SavedView(row, repo.user_names(session, {row.created_by_id}).get(row.created_by_id, ""))
