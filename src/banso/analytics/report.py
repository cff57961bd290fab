"""Reports (T6): a Japanese/English HTML report with embedded charts, and an Excel workbook."""

from __future__ import annotations

import base64
import html
import io
import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager
from openpyxl import Workbook
from openpyxl.styles import Font

from banso.analytics.errors import AnalyticsError
from banso.analytics.technologies import load_technologies

_CJK_FONTS = ("Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "TakaoGothic", "Hiragino Sans")

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
}


def cjk_font() -> str | None:
    """Return the name of an installed CJK font (for Japanese labels), or None."""
    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in _CJK_FONTS if n in names), None)


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


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
) -> dict[str, Path]:
    """Write ``report_<lang>.html`` (charts embedded as PNG) and ``report.xlsx``; return their paths."""
    if lang not in ("ja", "en"):
        raise AnalyticsError(f"--lang must be ja or en (got {lang!r})")
    for name in ("technologies.parquet", "indicators.parquet"):
        if not (indicators_dir / name).is_file():
            raise AnalyticsError(f"{indicators_dir / name} not found (run `banso analyze indicators` first)")
    tech = pd.read_parquet(indicators_dir / "technologies.parquet")
    ind = pd.read_parquet(indicators_dir / "indicators.parquet")
    ranking = None
    if priorities_dir is not None:
        if not (priorities_dir / "ranking.parquet").is_file():
            raise AnalyticsError(f"{priorities_dir / 'ranking.parquet'} not found (run `banso analyze prioritise`)")
        ranking = pd.read_parquet(priorities_dir / "ranking.parquet")
    techs = load_technologies(technology_file)
    names = {t.id: (t.name_ja, t.name_en) for t in techs.technologies}
    font = cjk_font()
    if font:
        plt.rcParams["font.family"] = [font, "DejaVu Sans"]
    use_lang = lang if (lang == "en" or font) else "en"  # no CJK font: English chart labels
    T = {k: v[lang] for k, v in TEXT.items()}
    C = {k: v[use_lang] for k, v in TEXT.items()}
    active = tech[tech["papers"] > 0]
    charts: list[tuple[str, str]] = []
    if not active.empty:
        top = ind[ind["technology"].isin(active["technology"])]
        countries = (top.groupby("country")["top10_fractional"].sum().sort_values(ascending=False)
                     .head(6).index.tolist())
        fig, ax = plt.subplots(figsize=(9, 0.32 * len(active) + 1.5))
        left = [0.0] * len(active)
        labels = [_label(names, t, use_lang) for t in active["technology"]]
        for c in countries + [C["other"]]:
            vals = []
            for t in active["technology"]:
                rows = top[top["technology"] == t]
                s = rows[rows["country"] == c]["top10_share_fractional"].fillna(0).sum() if c != C["other"] else \
                    rows[~rows["country"].isin(countries)]["top10_share_fractional"].fillna(0).sum()
                vals.append(float(s))
            ax.barh(labels, vals, left=left, label=c)
            left = [a + b for a, b in zip(left, vals)]
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_title(C["shares"])
        ax.legend(ncol=7, loc="lower center", bbox_to_anchor=(0.5, 1.02 + 0.4 / max(1, len(active))), fontsize=8)
        charts.append((T["shares"], _png(fig)))
        fig, ax = plt.subplots(figsize=(9, 0.32 * len(active) + 1.5))
        jp = active["japan_top10_share"].fillna(0)
        leader = jp + active["japan_gap_to_leader"].fillna(0)
        ax.barh(labels, leader, color="#cccccc", label=C["leader"])
        ax.barh(labels, jp, color="#bc002d", label="JP")
        ax.invert_yaxis()
        ax.set_title(C["japan"])
        ax.legend(fontsize=8)
        charts.append((T["japan"], _png(fig)))
    if ranking is not None and not ranking.empty:
        fig, ax = plt.subplots(figsize=(9, 0.32 * len(ranking) + 1.5))
        labels = [f"{int(r)}. {_label(names, t, use_lang)}" for r, t in zip(ranking["rank"], ranking["technology"])]
        ax.barh(labels, ranking["closeness"], color="#1f4e79", label=C["closeness"])
        ax.barh(labels, ranking["p_keep_band"], height=0.25, color="#f5a623", label=C["p_keep_band"])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_title(C["ranking"])
        ax.legend(fontsize=8)
        charts.append((T["ranking"], _png(fig)))
    cols = ["technology", "papers", "leader", "runner_up", "lead_ratio", "monopoly_risk", "japan_rank",
            "japan_top10_share", "unknown_country_share"]
    head = "".join(f"<th>{html.escape(T[c])}</th>" for c in cols)
    body = []
    for _, r in tech.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if c == "technology":
                v = _label(names, v, lang) + f" <small>({html.escape(str(r[c]))})</small>"
                cells.append(f"<td>{v}</td>")
                continue
            if isinstance(v, float):
                v = "" if pd.isna(v) else f"{v:.3f}"
            cells.append(f"<td>{html.escape('' if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    rank_html = ""
    if ranking is not None:
        rcols = ["rank", "technology", "closeness", "p_keep_band", "explanation", "needs_reason"]
        rank_html = f"<h2>{html.escape(T['ranking'])}</h2><table><tr>" + "".join(
            f"<th>{html.escape(T[c])}</th>" for c in rcols) + "</tr>" + "".join(
            "<tr>" + "".join(
                f"<td>{html.escape(_label(names, r[c], lang) if c == 'technology' else (f'{r[c]:.3f}' if isinstance(r[c], float) else str(r[c])))}</td>"
                for c in rcols) + "</tr>" for _, r in ranking.iterrows()) + "</table>"
    window = f"{int(tech['window_start'].iloc[0])}–{int(tech['window_end'].iloc[0])}" if len(tech) else ""
    doc = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(T['title'])}</title>
<style>body{{font-family:'Noto Sans CJK JP','Noto Sans JP',sans-serif;margin:2rem;max-width:1100px}}
table{{border-collapse:collapse;font-size:.85rem}}td,th{{border:1px solid #ccc;padding:.2rem .4rem}}
img{{max-width:100%}}</style></head><body>
<h1>{html.escape(T['title'])}</h1>
<p>{html.escape(T['window'])}: {window}</p>
{''.join(f'<h2>{html.escape(t)}</h2><img alt="{html.escape(t)}" src="{src}">' for t, src in charts)}
<h2>{html.escape(T['table'])}</h2><table><tr>{head}</tr>{''.join(body)}</table>
{rank_html}
<h2>{html.escape(T['method'])}</h2><p>{html.escape(T['method_text'])}</p>
</body></html>"""
    out.mkdir(parents=True, exist_ok=True)
    html_path = out / f"report_{lang}.html"
    tmp = html_path.with_name(html_path.name + ".tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, html_path)
    xlsx = out / "report.xlsx"
    _workbook(xlsx, tech, ind, ranking, names)
    return {"html": html_path, "xlsx": xlsx}


def _workbook(path: Path, tech: pd.DataFrame, ind: pd.DataFrame, ranking: pd.DataFrame | None,
              names: dict[str, tuple[str, str]]) -> None:
    wb = Workbook()
    ws0 = wb.active
    ws0.title = "technologies"
    sheets: list[tuple[Any, pd.DataFrame]] = [(ws0, tech.assign(
        name_ja=[names.get(t, (t, t))[0] for t in tech["technology"]],
        name_en=[names.get(t, (t, t))[1] for t in tech["technology"]]))]
    sheets.append((wb.create_sheet("indicators"), ind))
    if ranking is not None:
        sheets.append((wb.create_sheet("ranking"), ranking))
    for ws, df in sheets:
        ws.append(list(df.columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in df.itertuples(index=False):
            ws.append([None if (not isinstance(v, str) and pd.isna(v)) else (v.item() if hasattr(v, "item") else v)
                       for v in row])
        ws.freeze_panes = "A2"
    tmp = path.with_name(path.name + ".tmp")
    wb.save(tmp)
    os.replace(tmp, path)
