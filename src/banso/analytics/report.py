"""Reports (T6): a Japanese/English HTML report with embedded charts, and an Excel workbook."""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from openpyxl import Workbook
from openpyxl.styles import Font

from banso.analytics import charts, config
from banso.analytics.countries import country_label, country_name, with_country_names
from banso.analytics.errors import AnalyticsError
from banso.analytics.prioritise import CRITERIA
from banso.analytics.technologies import load_technologies
from banso.kit.cells import excel_row, sheet_note

DPI = 110

TEXT: dict[str, dict[str, str]] = {
    "title": {"ja": "重要技術インテリジェンス報告", "en": "Critical technology intelligence report"},
    "window": {"ja": "対象期間（出版年）", "en": "Window (publication years)"},
    "shares": {"ja": "技術別 Top10%論文シェア（分数カウント）", "en": "Top-10% share by country (fractional)"},
    "japan": {"ja": "日本の位置（Top10%シェアと首位国との差）", "en": "Japan's position (top-10% share vs leader)"},
    "ranking": {"ja": "優先順位（TOPSIS）と感度（順位帯維持確率）",
                "en": "Priority ranking (TOPSIS) and sensitivity (P keeps rank band)"},
    "table": {"ja": "技術別指標", "en": "Technology indicators"},
    "method": {"ja": "方法", "en": "Method"},
    "method_text": {
        "ja": "国は所属機関の country_code から取得（自由記述は使用しない）。分数カウントは 1/国数。"
              "Top10%はサブフィールド×出版年ごとの同順位按分（Leiden 方式）。定義の詳細は docs/analytics.md。",
        "en": "Countries come from institution country_code (never free text). Fractional counting gives "
              "1/number of countries. Top 10% is tie-weighted within subfield × publication year (Leiden "
              "method). Full definitions in docs/analytics.md.",
    },
    "technology": {"ja": "技術", "en": "Technology"},
    "papers": {"ja": "論文数", "en": "Papers"},
    "leader": {"ja": "首位国", "en": "Leader"},
    "runner_up": {"ja": "第2位", "en": "Runner-up"},
    "lead_ratio": {"ja": "首位/2位比", "en": "Lead ratio"},
    "monopoly_risk": {"ja": "独占リスク", "en": "Monopoly risk"},
    "japan_rank": {"ja": "日本順位", "en": "Japan rank"},
    "japan_top10_share": {"ja": "日本シェア", "en": "Japan share"},
    "unknown_country_share": {"ja": "国不明率", "en": "Unknown-country share"},
    "other": {"ja": "その他", "en": "Other"},
    "rank": {"ja": "順位", "en": "Rank"},
    "closeness": {"ja": "理想解への近さ", "en": "Closeness"},
    "p_keep_band": {"ja": "順位帯維持確率", "en": "P(keeps band)"},
    "explanation": {"ja": "説明", "en": "Explanation"},
    "needs_reason": {"ja": "ニーズの理由", "en": "Needs reason"},
    # The words of the /thinktank/priorities page (its msgids and Japanese msgstrs), issue 16 F5.
    "raised_by": {"ja": "押し上げた基準", "en": "Raised by"},
    "held_back_by": {"ja": "押し下げた基準", "en": "Held back by"},
    "no_need": {"ja": "ニーズ未入力", "en": "No need entered"},
    "hhi": {"ja": "HHI", "en": "HHI"},
    "papers_ranked": {"ja": "論文数", "en": "Works"},
    "small_sample": {"ja": "少数標本（順位付けなし）", "en": "small sample (not ranked)"},
    "small_note": {"ja": "論文数が最小値 {n} 件未満の技術は順位付けしない（少数標本）。",
                   "en": "Technologies with fewer than {n} works are not ranked (small sample)."},
    "share_ci": {"ja": "日本シェア95%区間", "en": "Japan share 95% CI"},
    "rank_ci": {"ja": "日本順位95%区間", "en": "Japan rank 95% CI"},
    "ci_note": {"ja": "区間は論文のブートストラップ再標本化（{b} 回）による。",
                "en": "Intervals from bootstrap resampling of works ({b} resamples)."},
    "ci_chart": {"ja": "日本のTop10%シェアと95%信頼区間", "en": "Japan's top-10% share with 95% interval"},
    "ci_small": {"ja": "少数標本のため順位付けなし", "en": "small sample: not ranked"},
    "institutions": {"ja": "主要機関（Top10%論文数、機関単位の全数カウント）",
                     "en": "Leading institutions (top-10% output, whole counting per institution)"},
    "leading": {"ja": "上位機関", "en": "Leading institutions"},
    "japan_leading": {"ja": "日本の首位機関", "en": "Japan's leading institution"},
    "trends": {"ja": "Top10%シェアの推移（移動期間）", "en": "Top-10% share over rolling windows"},
    "trend_band": {"ja": "95%信頼区間", "en": "95% interval"},
    "trend_note": {"ja": "帯は各期間の論文のブートストラップ再標本化（{b} 回）による95%信頼区間（日本と首位国）。",
                   "en": "Bands: 95% intervals from bootstrap resampling of each window's works ({b} resamples; "
                         "Japan and the leader)."},
    "trend_more": {"ja": "残る {n} 技術の推移は Excel の trends シートにあります。",
                   "en": "The trends of the other {n} technologies are in the workbook's trends sheet."},
    "window_axis": {"ja": "期間（出版年）", "en": "Window (publication years)"},
    "share_axis": {"ja": "Top10%シェア（分数）", "en": "Top-10% share (fractional)"},
}

# The explanation of every table (issue 16): the workbook's first sheet "説明" and README.txt beside the CSV
# files, Japanese first, then English, one (ja, en) pair per line.
EXPLANATION: list[tuple[str, str]] = [
    ("重要技術インテリジェンス：出力の説明", "Critical technology intelligence: what the outputs are"),
    ("technologies：技術ごとの指標（論文数、首位国、第2位、首位/2位比、独占リスク、HHI、日本の順位・シェア、国不明率）。",
     ("technologies: one row per technology (papers, leader, runner-up, lead ratio, monopoly risk, HHI, Japan's "
     "rank and share, unknown-country share).")),
    ("indicators：技術×国ごとの指標（全数・分数カウント、Top10%論文数とシェア、順位、RCA、成長率、h指数、国際共著率）。",
     ("indicators: one row per technology × country (whole and fractional counts, top-10% papers and share, "
     "rank, RCA, growth, h-index, international collaboration).")),
    ("ranking：優先順位（TOPSIS）、順位帯維持確率（重みの摂動による感度）と基準ごとの寄与。",
     ("ranking: priority rank (TOPSIS), the probability of keeping the rank band under weight perturbation, "
     "and each criterion's contribution.")),
    ("国は所属機関の country_code から取得。分数カウントは 1/国数。Top10%はサブフィールド×出版年ごとの同順位按分（Leiden 方式）。",
     ("Countries come from institution country_code; fractional counting gives 1/number of countries; top 10% "
     "is tie-weighted within subfield × publication year (Leiden method).")),
    ("top_institutions：技術ごと（scope=all）と技術×国ごと（scope=country）の上位機関。Top10%論文数（機関ごとの全数）の正確な和で順位付けし、同値は同順位・機関ID昇順。名称とROR IDはOpenAlexの所属機関から（ROR IDがなければ空欄）。",
     ("top_institutions: the leading institutions per technology (scope=all) and per technology × country "
      "(scope=country), ranked on the exact sum of top-10% weights (whole counting per institution); equal "
      "sums share a rank and are listed by institution id. Names and ROR ids from OpenAlex (empty when none).")),
    ("trends：移動期間（--window 年、--step 年ごと）ごとの技術×国の論文数・Top10%シェア・順位。各期間は両端の出版年を含む。",
     ("trends: per rolling window (--window years, every --step years) the papers, top-10% share and rank "
      "per technology × country; each window includes both its first and last publication year.")),
    (("trends の区間（--bootstrap 指定時）：works は期間内の技術の論文数、small_sample は最小値未満、share_low/share_high と"
      "rank_low/rank_high は期間ごとにその期間の論文を復元抽出したブートストラップ（samples 回）による各国のTop10%シェアと順位の95%区間。"),
     ("trends intervals (with --bootstrap): works is the technology's works in the window, small_sample marks fewer "
      "than the minimum, share_low/share_high and rank_low/rank_high are every country's 95% bootstrap intervals "
      "of its top-10% share and rank, resampling that window's works (samples resamples).")),
    (("少数標本：論文数が最小値（BANSO_ANALYTICS_MIN_WORKS、既定50）未満の技術は small_sample=true と表示し、順位付けしない"
     "（優先順位・順位の信頼区間とも空欄）。"),
     ("Small sample: a technology with fewer works than the minimum (BANSO_ANALYTICS_MIN_WORKS, default 50) is "
     "marked small_sample=true and not ranked (no priority rank, no rank interval).")),
    (("信頼区間：share_low/share_high と rank_low/rank_high は、論文を復元抽出するブートストラップ（回数 samples、"
     "乱数シード指定で再現可能）による日本のTop10%シェアと順位の95%区間。"),
     ("Intervals: share_low/share_high and rank_low/rank_high are 95% bootstrap intervals of Japan's top-10% "
     "share and rank, resampling works with replacement (samples resamples; the same seed gives the same "
     "intervals).")),
    ("数式として実行されうる文字列は先頭に ' を付けて無効化しています。定義の詳細は docs/analytics.md。",
     ("Text a spreadsheet would run as a formula is neutralised with a leading '. Full definitions: "
     "docs/analytics.md.")),
]
EXPLANATION_SHEET = "説明"


def write_readme(out: Path) -> Path:
    """Write README.txt (Japanese, then English) beside the CSV tables of ``out``."""
    text = "\n".join(ja for ja, _ in EXPLANATION) + "\n\n" + "\n".join(en for _, en in EXPLANATION) + "\n"
    path = out / "README.txt"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
# Shown in both languages on every report of a synthetic snapshot (issue 16): never mistaken for real data.
SYNTHETIC_BANNER = ("合成データによるデモです。実在の論文・国・機関の実績を表すものではありません。 / "
                    "Demo on SYNTHETIC data: it does not describe real publications, countries or institutions.")


def is_synthetic(indicators_dir: Path) -> bool:
    """Return True when the indicators were computed from a synthetic snapshot (``summary.json``)."""
    try:
        summary = json.loads((indicators_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and summary.get("synthetic") is True


def _png(fig: Figure) -> str:
    return "data:image/png;base64," + base64.b64encode(charts.png(fig, dpi=DPI)).decode()


def _label(tech_names: dict[str, tuple[str, str]], tid: str, lang: str) -> str:
    ja, en = tech_names.get(tid, (tid, tid))
    name = ja if lang == "ja" else en
    return name if len(name) <= 28 else name[:27] + "…"


def write_report(
    indicators_dir: Path,
    out: Path,
    *,
    priorities_dir: Path | None = None,
    lang: str = "ja",
    technology_file: Path | None = None,
    trend_charts: int | None = None,
    html_report: bool = True,
) -> dict[str, Path]:
    """Write ``report_<lang>.html`` (charts embedded as PNG) and ``report.xlsx``; return their paths.

    ``trend_charts`` bounds the trend charts drawn (the ranking's first technologies; None: every technology,
    as the CLI's report): each takes a third of a second, so the web's report draws a dozen and says where
    the others are (the workbook's ``trends`` sheet has every series). ``html_report=False`` writes the
    workbook only (no chart is drawn): what filing a report into a council needs.
    """
    if lang not in ("ja", "en"):
        raise AnalyticsError(f"--lang は ja か en です（{lang!r}） / --lang must be ja or en (got {lang!r})")
    for name in ("technologies.parquet", "indicators.parquet"):
        if not (indicators_dir / name).is_file():
            raise AnalyticsError(f"{indicators_dir / name} がありません（先に `banso analyze indicators` を実行してください） / "
                                 f"{indicators_dir / name} not found (run `banso analyze indicators` first)")
    tech = pd.read_parquet(indicators_dir / "technologies.parquet")
    ind = pd.read_parquet(indicators_dir / "indicators.parquet")
    ranking = None
    if priorities_dir is not None:
        if not (priorities_dir / "ranking.parquet").is_file():
            raise AnalyticsError(f"{priorities_dir / 'ranking.parquet'} がありません（先に `banso analyze prioritise` を実行してください） / "
                                 f"{priorities_dir / 'ranking.parquet'} not found (run `banso analyze prioritise`)")
        ranking = pd.read_parquet(priorities_dir / "ranking.parquet")
    techs = load_technologies(technology_file)
    names = {t.id: (t.name_ja, t.name_en) for t in techs.technologies}
    T = {k: v[lang] for k, v in TEXT.items()}
    tech = _with_intervals(tech, indicators_dir)
    trends = _read_optional(indicators_dir / "trends.parquet")
    leaders = _read_optional(indicators_dir / "top_institutions.parquet")
    out.mkdir(parents=True, exist_ok=True)
    xlsx = out / "report.xlsx"
    _workbook(xlsx, tech, ind, ranking, names, synthetic=is_synthetic(indicators_dir), leaders=leaders,
              trends=trends)
    if not html_report:
        return {"xlsx": xlsx}
    figures = _figures(tech, ind, ranking, names, lang)
    chosen = _trend_choice(trends, ranking, trend_charts)
    trend_figures = _trend_figures(trends, names, lang, chosen)
    cols = ["technology", "papers", "leader", "runner_up", "lead_ratio", "monopoly_risk", "hhi", "japan_rank",
            "japan_top10_share", "unknown_country_share"] + [c for c in ("share_ci", "rank_ci") if c in tech]
    head = "".join(f"<th>{html.escape(T[c])}</th>" for c in cols)
    body = []
    for _, r in tech.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if c == "technology":
                v = html.escape(_label(names, v, lang)) + f" <small>({html.escape(str(r[c]))})</small>"
                cells.append(f"<td>{v}</td>")
                continue
            if c in ("leader", "runner_up") and isinstance(v, str):
                v = country_label(v, lang)
            if c in ("japan_rank", "rank_ci") and bool(r.get("small_sample", False)):
                v = f"— ({T['ci_small']})"  # issue 16: under the minimum sample nothing is ranked
            if isinstance(v, float):
                v = "" if pd.isna(v) else f"{v:.3f}"
            cells.append(f"<td>{html.escape('' if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    rank_html = _ranking_html(ranking, names, T, lang, priorities_dir) if ranking is not None else ""
    inst_html = _institutions_html(leaders, names, T, lang) if leaders is not None else ""
    ci_note = ""
    if "share_ci" in tech:
        ci_note = f"<p>{html.escape(T['ci_note'].format(b=int(tech['ci_samples'].max())))}</p>"
    banner = ""
    if is_synthetic(indicators_dir):
        banner = f'<p class="synthetic" role="alert"><strong>{html.escape(SYNTHETIC_BANNER)}</strong></p>'
    window = f"{int(tech['window_start'].iloc[0])}–{int(tech['window_end'].iloc[0])}" if len(tech) else ""
    doc = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(T['title'])}</title>
<style>body{{font-family:'Noto Sans CJK JP','Noto Sans JP',sans-serif;margin:2rem;max-width:1100px}}
table{{border-collapse:collapse;font-size:.85rem}}td,th{{border:1px solid #ccc;padding:.2rem .4rem}}
img{{max-width:100%}}.synthetic{{border:3px solid #bc002d;padding:.6rem;background:#fff3f3}}</style></head><body>
{banner}<h1>{html.escape(T['title'])}</h1>
<p>{html.escape(T['window'])}: {window}</p>
{''.join(f'<h2>{html.escape(t)}</h2><img alt="{html.escape(t)}" src="{src}">' for t, src in figures)}
<h2>{html.escape(T['table'])}</h2><table><tr>{head}</tr>{''.join(body)}</table>{ci_note}
{inst_html}
{_trends_html(trend_figures, T, trends, left_out=_trend_count(trends) - len(trend_figures))}
{rank_html}
<h2>{html.escape(T['method'])}</h2><p>{html.escape(T['method_text'])}</p>
</body></html>"""
    html_path = out / f"report_{lang}.html"
    tmp = html_path.with_name(html_path.name + ".tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, html_path)
    return {"html": html_path, "xlsx": xlsx}


def _figures(tech: pd.DataFrame, ind: pd.DataFrame, ranking: pd.DataFrame | None,
             names: dict[str, tuple[str, str]], lang: str) -> list[tuple[str, str]]:
    """Return the report's charts as (heading, PNG data URI); labels in English when no CJK font is installed."""
    T = {k: v[lang] for k, v in TEXT.items()}
    figures: list[tuple[str, str]] = []
    with charts.LOCK:
        use_lang = charts.use_fonts(lang)
        C = {k: v[use_lang] for k, v in TEXT.items()}

        def label(tech_id: str) -> str:
            return _label(names, tech_id, use_lang)

        active = tech[tech["papers"] > 0]
        if not active.empty:
            stacks = _share_stacks(active, ind, other=C["other"], lang=use_lang)
            figures.append((T["shares"], _png(charts.top10_shares(
                [label(t) for t in active["technology"]], stacks, title=C["shares"]))))
            figures.append((T["japan"], _png(charts.japan_position(
                tech, label=label, japan=country_name("JP", use_lang), leader=C["leader"], title=C["japan"]))))
            with_ci = active[active["share_low"].notna()] if "share_low" in active else active.iloc[0:0]
            if not with_ci.empty:
                figures.append((T["ci_chart"], _png(charts.japan_share_intervals(
                    [label(t) + (" *" if small else "") for t, small in
                     zip(with_ci["technology"], with_ci["small_sample"], strict=True)],
                    [float(x) for x in with_ci["japan_top10_share"].fillna(0.0)],
                    [float(x) for x in with_ci["share_low"]], [float(x) for x in with_ci["share_high"]],
                    title=C["ci_chart"]))))
        if ranking is not None and "small_sample" in ranking:
            ranking = ranking[~ranking["small_sample"].astype(bool)]
        if ranking is not None and not ranking.empty:
            figures.append((T["ranking"], _png(charts.ranking_sensitivity(
                [f"{int(r)}. {label(t)}" for r, t in zip(ranking["rank"], ranking["technology"], strict=True)],
                closeness=ranking["closeness"].tolist(), keeps_band=ranking["p_keep_band"].tolist(),
                labels_of_bars=(C["closeness"], C["p_keep_band"]), title=C["ranking"]))))
    return figures


def _share_stacks(active: pd.DataFrame, ind: pd.DataFrame, *, other: str,
                  lang: str = "en") -> list[tuple[str, list[float]]]:
    """Return (country, top-10% share per active technology) for the six largest countries, then the rest."""
    top = ind[ind["technology"].isin(active["technology"])]
    countries = (top.groupby("country")["top10_fractional"].sum().sort_values(ascending=False)
                 .head(6).index.tolist())
    stacks: list[tuple[str, list[float]]] = []
    for c in countries + [other]:
        vals = []
        for t in active["technology"]:
            rows = top[top["technology"] == t]
            s = rows[rows["country"] == c]["top10_share_fractional"].fillna(0).sum() if c != other else \
                rows[~rows["country"].isin(countries)]["top10_share_fractional"].fillna(0).sum()
            vals.append(float(s))
        stacks.append((country_name(c, lang) if c != other else c, vals))
    return stacks


def _workbook(path: Path, tech: pd.DataFrame, ind: pd.DataFrame, ranking: pd.DataFrame | None,
              names: dict[str, tuple[str, str]], *, synthetic: bool = False,
              leaders: pd.DataFrame | None = None, trends: pd.DataFrame | None = None) -> None:
    wb = Workbook()
    ws0 = wb.active
    ws0.title = "technologies"
    if "country" in ind:  # names beside the ISO codes (an indicator table without countries has none to name)
        ind = ind.assign(country_ja=[country_name(c, "ja") for c in ind["country"]],
                         country_en=[country_name(c, "en") for c in ind["country"]])
    sheets: list[tuple[Any, pd.DataFrame]] = [(ws0, tech.assign(
        name_ja=[names.get(t, (t, t))[0] for t in tech["technology"]],
        name_en=[names.get(t, (t, t))[1] for t in tech["technology"]]))]
    sheets.append((wb.create_sheet("indicators"), ind))
    if ranking is not None:
        sheets.append((wb.create_sheet("ranking"), ranking))
    if leaders is not None:
        sheets.append((wb.create_sheet("top_institutions"), with_country_names(leaders)))
    if trends is not None:  # session 11: the series over rolling windows (with their intervals when computed)
        sheets.append((wb.create_sheet("trends"), with_country_names(trends)))
    for ws, df in sheets:
        excel_row(ws, list(df.columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in df.itertuples(index=False):  # O1: names from the data stay text, never formulas
            excel_row(ws, [None if (not isinstance(v, str) and pd.isna(v)) else (v.item() if hasattr(v, "item") else v)
                           for v in row])
        sheet_note(ws)
        ws.freeze_panes = "A2"
    explained = wb.create_sheet(EXPLANATION_SHEET, 0)
    excel_row(explained, ["日本語", "English"])
    for cell in explained[1]:
        cell.font = Font(bold=True)
    for ja, en in EXPLANATION:
        excel_row(explained, [ja, en])
    explained.column_dimensions["A"].width = 90
    explained.column_dimensions["B"].width = 90
    if synthetic:
        about = wb.create_sheet("synthetic", 0)
        excel_row(about, [SYNTHETIC_BANNER])
        about["A1"].font = Font(bold=True, color="BC002D")
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    os.replace(tmp, path)


def _trends_html(figures: list[tuple[str, str]], T: dict[str, str], trends: pd.DataFrame | None = None,
                 left_out: int = 0) -> str:
    if not figures:
        return ""
    imgs = "".join(f'<img alt="{html.escape(t)}" src="{src}">' for t, src in figures)
    samples = trend_samples(trends) if trends is not None else 0
    note = f"<p>{html.escape(T['trend_note'].format(b=samples))}</p>" if samples else ""
    more = f"<p>{html.escape(T['trend_more'].format(n=left_out))}</p>" if left_out > 0 else ""
    return f"<h2>{html.escape(T['trends'])}</h2>{note}{imgs}{more}"


def _trend_count(trends: pd.DataFrame | None) -> int:
    return 0 if trends is None else len(set(trends["technology"]))


def _trend_choice(trends: pd.DataFrame | None, ranking: pd.DataFrame | None, limit: int | None) -> list[str] | None:
    """Return the technologies whose trend charts are drawn (None: all): the ranking's first ``limit`` with
    trends (ranked before unranked), then the others by id."""
    if trends is None or limit is None:
        return None
    have = sorted(set(trends["technology"]))
    order: list[str] = []
    if ranking is not None and "rank" in ranking:
        order = [str(t) for t in ranking.sort_values("rank", na_position="last")["technology"] if t in have]
    order += [t for t in have if t not in order]
    return order[:max(limit, 0)]


def trend_samples(trends: pd.DataFrame) -> int:
    """Return the number of bootstrap resamples behind the trend intervals (0: computed without them)."""
    if "samples" not in trends or trends.empty:
        return 0
    found = trends["samples"].dropna()
    return int(found.max()) if len(found) else 0


def trend_bands(trends: pd.DataFrame, technology: str,
                series: list[tuple[str, list[float | None], str]]) -> dict[str, tuple[list[float | None],
                                                                                 list[float | None]]]:
    """Return the 95 % interval per window of the ``japan`` and ``leader`` series of :func:`trend_series`
    (role → lower, upper), or nothing when the trends were computed without ``--bootstrap``."""
    if "share_low" not in trends:
        return {}
    t = trends[trends["technology"] == technology]
    starts = sorted({int(a) for a in t["window_start"]})
    bands = {}
    for country, _values, role in series:
        if role not in ("japan", "leader"):
            continue
        rows = t[t["country"] == country].set_index("window_start")
        low = [None if s not in rows.index or pd.isna(rows.at[s, "share_low"]) else float(rows.at[s, "share_low"])
               for s in starts]
        high = [None if s not in rows.index or pd.isna(rows.at[s, "share_high"])
                else float(rows.at[s, "share_high"]) for s in starts]
        bands[role] = (low, high)
    return bands


def trend_series(trends: pd.DataFrame, technology: str, focus: str = "JP",
                 others: int = 4) -> tuple[list[str], list[tuple[str, list[float | None], str]]]:
    """Return one technology's windows and its series: the focus country, the leader of the last window
    (the runner-up when the focus country leads) and the next ``others`` countries of that window."""
    t = trends[trends["technology"] == technology]
    wins = sorted({(int(a), int(b)) for a, b in zip(t["window_start"], t["window_end"], strict=True)})
    last = t[t["window_start"] == wins[-1][0]].sort_values(["rank_top10_fractional", "country"])
    order = [c for c in last["country"] if c != focus]
    roles = [(focus, "japan")] + [(c, "leader" if i == 0 else "other") for i, c in enumerate(order[:others + 1])]
    series = []
    for country, role in roles:
        rows = t[t["country"] == country].set_index("window_start")["top10_share_fractional"]
        # Every window listed has works of the technology: a country without a row there has none (0).
        series.append((country, [0.0 if s not in rows.index else None if pd.isna(rows[s]) else float(rows[s])
                                 for s, _ in wins], role))
    return [f"{a}–{b}" for a, b in wins], series


def _trend_figures(trends: pd.DataFrame | None, names: dict[str, tuple[str, str]],
                   lang: str, only: list[str] | None = None) -> list[tuple[str, str]]:
    """One chart per technology with trend rows: Japan against the leader over the rolling windows."""
    if trends is None or trends.empty:
        return []
    figures = []
    with charts.LOCK:
        use_lang = charts.use_fonts(lang)
        C = {k: v[use_lang] for k, v in TEXT.items()}
        for tech_id in sorted(set(trends["technology"])) if only is None else only:
            wins, series = trend_series(trends, tech_id)
            named = [(country_name(c, use_lang), v, role) for c, v, role in series]
            title = _label(names, tech_id, use_lang)
            figures.append((_label(names, tech_id, lang), _png(charts.share_trend(
                wins, named, title=title, bands=trend_bands(trends, tech_id, series), band_label=C["trend_band"],
                xlabel=C["window_axis"], ylabel=C["share_axis"]))))
    return figures


def _read_optional(path: Path) -> pd.DataFrame | None:
    """Return the table at ``path``, or None when an older indicators run did not write it."""
    return pd.read_parquet(path) if path.is_file() else None


def _institutions_html(leaders: pd.DataFrame, names: dict[str, tuple[str, str]], T: dict[str, str],
                       lang: str, top: int = 3) -> str:
    """The leading institutions per technology (scope all, first ``top``) and Japan's first, with country and ROR id."""
    def who(r: Any) -> str:
        name = r["institution"] if isinstance(r["institution"], str) else f"I{int(r['institution_id'])}"
        country = country_label(r["country"], lang) if isinstance(r["country"], str) else ""
        # The ROR id as text, not a link: a synthetic id has ROR's shape but names no registered organisation.
        ror = f" <small>ROR {html.escape(r['ror'].rsplit('/', 1)[-1])}</small>" if isinstance(r["ror"], str) else ""
        return f"{int(r['rank'])}. {html.escape(name)} <small>({html.escape(country)})</small>{ror}"

    rows = []
    for tech_id, group in leaders.groupby("technology", sort=True):
        world = group[group["scope"] == "all"].head(top)
        japan = group[(group["scope"] == "country") & (group["country"] == "JP")].head(1)
        rows.append(f"<tr><td>{html.escape(_label(names, str(tech_id), lang))}</td>"
                    f"<td>{'<br>'.join(who(r) for _, r in world.iterrows())}</td>"
                    f"<td>{'<br>'.join(who(r) for _, r in japan.iterrows())}</td></tr>")
    if not rows:
        return ""
    return (f"<h2>{html.escape(T['institutions'])}</h2><table><tr><th>{html.escape(T['technology'])}</th>"
            f"<th>{html.escape(T['leading'])}</th><th>{html.escape(T['japan_leading'])}</th></tr>"
            f"{''.join(rows)}</table>")


def _with_intervals(tech: pd.DataFrame, indicators_dir: Path) -> pd.DataFrame:
    """Mark small-sample technologies (``small_sample``: fewer works than the minimum, never ranked) and add
    Japan's bootstrap intervals when ``uncertainty.parquet`` is there (uncertainty.py): as numbers
    (``share_low`` … ``rank_high``, for the workbook and the chart) and as text (the HTML table)."""
    minimum = config.min_works()
    tech = tech.assign(small_sample=[int(p or 0) < minimum for p in tech["papers"].fillna(0)])
    path = indicators_dir / "uncertainty.parquet"
    if not path.is_file():
        return tech
    u = pd.read_parquet(path).set_index("technology")
    numbers = {c: [u.at[t, c] if t in u.index else None for t in tech["technology"]]
               for c in ("share_low", "share_high", "rank_low", "rank_high")}
    tech = tech.assign(**{c: pd.array(v, dtype="Float64" if c.startswith("share") else "Int64")
                          for c, v in numbers.items()})
    if "small_sample" in u:  # the bootstrap's own mark, made with the minimum of its run
        tech = tech.assign(small_sample=[bool(u.at[t, "small_sample"]) if t in u.index else s
                                         for t, s in zip(tech["technology"], tech["small_sample"], strict=True)])

    def span(t: str, low: str, high: str, fmt: str) -> str:
        if t not in u.index or u.at[t, low] is None or pd.isna(u.at[t, low]):
            return ""
        return f"{float(u.at[t, low]):{fmt}}–{float(u.at[t, high]):{fmt}}"

    return tech.assign(share_ci=[span(t, "share_low", "share_high", ".3f") for t in tech["technology"]],
                       rank_ci=[span(t, "rank_low", "rank_high", ".0f") for t in tech["technology"]],
                       ci_samples=[int(u["samples"].max()) if len(u) else 0] * len(tech))


NO_NEED = "no need entered"
"""The needs reason prioritise.py writes for a technology without a need (a value, shown as T["no_need"])."""


def _explanation(row: Any, T: dict[str, str], lang: str, stored: str) -> str:
    """Return a ranked row's explanation in ``lang``, as the priorities page writes it: the two criteria
    that raised it most and the two that held it back most, with their contributions (issue 16 F5).

    ``stored`` (prioritise.py's English text) is kept for a ranking without contribution columns.
    """
    found = [(n, row.get(f"contribution_{n}")) for n in CRITERIA]
    contrib = [(n, float(v)) for n, v in found if v is not None and not pd.isna(v)]
    if not contrib:
        return stored
    label = {n: CRITERIA[n][3] if lang == "ja" else CRITERIA[n][2] for n in CRITERIA}
    up = sorted((c for c in contrib if c[1] > 0), key=lambda c: -c[1])[:2]
    down = sorted((c for c in contrib if c[1] < 0), key=lambda c: c[1])[:2]
    parts = []
    if up:
        parts.append(f"{T['raised_by']}: " + ", ".join(f"{label[n]} (+{v:.2f})" for n, v in up))
    if down:
        parts.append(f"{T['held_back_by']}: " + ", ".join(f"{label[n]} ({v:.2f})" for n, v in down))
    return "; ".join(parts)


def _ranking_html(ranking: pd.DataFrame, names: dict[str, tuple[str, str]], T: dict[str, str], lang: str,
                  priorities_dir: Path | None) -> str:
    """Return the ranking table; small-sample technologies last, unranked and marked (issue 16)."""
    rcols = ["rank", "technology", "papers_ranked", "closeness", "p_keep_band", "explanation", "needs_reason"]
    rows = []
    for _, r in ranking.iterrows():
        small = bool(r.get("small_sample", False))
        cells = []
        for c in rcols:
            v = r.get("papers" if c == "papers_ranked" else c)
            if c == "technology":
                text = _label(names, str(v), lang)
            elif c == "rank":
                text = "—" if small or v is None or pd.isna(v) else str(int(v))
            elif c == "explanation" and small:
                text = T["small_sample"]
            elif c == "explanation":
                text = _explanation(r, T, lang, str(v or ""))
            elif c == "needs_reason" and v == NO_NEED:
                text = T["no_need"]
            elif isinstance(v, float):
                text = "" if pd.isna(v) else f"{v:.3f}"
            else:
                text = "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
            cells.append(f"<td>{html.escape(text)}</td>")
        rows.append(f'<tr class="{"small-sample" if small else ""}">' + "".join(cells) + "</tr>")
    note = ""
    meta = priorities_dir / "weights.json" if priorities_dir else None
    if meta is not None and meta.is_file():
        n = json.loads(meta.read_text(encoding="utf-8")).get("min_works")
        if n:
            note = f"<p>{html.escape(T['small_note'].format(n=n))}</p>"
    return (f"<h2>{html.escape(T['ranking'])}</h2>{note}<table><tr>"
            + "".join(f"<th>{html.escape(T[c])}</th>" for c in rcols) + "</tr>" + "".join(rows) + "</table>")
