"""Reports out of the web (T6): HTML, PDF, Excel and CSV of the priorities and indicators; filing into a council.

Every report carries the ranking and its needs reasons, so only the roles the policy names may take one
(:mod:`banso.authz.policies.thinktank`, T8), and each one taken is audited (A1: export). The think tank's
own analysis is not council content: the one gate of I12 applies once a report is filed into a council,
where it becomes an item like any other (sealed, stamped per recipient, audited on every read).

The HTML report and the workbook are the analytics package's own (:func:`banso.analytics.report.write_report`,
formula cells neutralised by :mod:`banso.kit.cells`); the PDF is drawn with reportlab and a built-in
Japanese CID font, as the council pledge PDF is.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy.orm import Session

from banso.analytics.countries import country_label
from banso.analytics.report import write_report
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.principal import Principal
from banso.councils import service as councils
from banso.information import filing
from banso.information.deps import InformationDeps
from banso.information.models import Item
from banso.kit.cells import csv_row, csv_writer, note_row
from banso.kit.errors import Forbidden, NotFound, ValidationFailed
from banso.thinktank import service
from banso.thinktank.interfaces import CommissionFiler
from banso.thinktank.service import Analysis

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KINDS: dict[str, tuple[str, str]] = {
    "report.html": ("text/html; charset=utf-8", "html"),
    "report.pdf": ("application/pdf", "pdf"),
    "report.xlsx": (XLSX, "xlsx"),
    "priorities.csv": ("text/csv; charset=utf-8", "csv"),
    "indicators.csv": ("text/csv; charset=utf-8", "csv"),
    "institutions.csv": ("text/csv; charset=utf-8", "csv"),  # top_institutions, with country names (session 11)
    "trends.csv": ("text/csv; charset=utf-8", "csv"),  # the series over rolling windows, intervals when computed
}
RANKING_COLUMNS = ["rank", "technology", "closeness", "p_keep_band", "rank_p05", "rank_p95", "needs",
                   "needs_reason", "explanation"]
FONT = "HeiseiKakuGo-W5"  # Adobe-Japan1 CID font: every PDF viewer has it, nothing to embed


@dataclass(frozen=True)
class ReportFile:
    """One report as it leaves: bytes, content type and a file name."""

    data: bytes
    media_type: str
    filename: str


def _ranking(session: Session, analysis: Analysis, *, actor: Principal, saved_id: int | None) -> tuple[pd.DataFrame, str]:
    """Return the ranking a report shows (a saved analysis version, or the current one) and its label."""
    if saved_id is not None:
        saved = service.get_saved(session, actor=actor, analysis_id=saved_id)
        return saved.ranking(), f"{saved.row.name} v{saved.row.version}"
    return service.current_ranking(session, analysis, actor=actor), "current"


INDICATOR_TABLES = ("institutions.csv", "trends.csv")  # the current indicator outputs, not the ranking


def build(session: Session, analysis: Analysis, *, actor: Principal, kind: str, lang: str,
          saved_id: int | None = None) -> ReportFile:
    """Return the report ``kind`` (see :data:`KINDS`) of the analysis with its ranking (no audit entry)."""
    if kind not in KINDS:
        raise NotFound("レポートの種類が不明です / Unknown report kind")
    tables_only = kind in INDICATOR_TABLES
    if tables_only:
        # No ranking and no needs reason in them: the readers of the indicators take them, as on the page and the
        # API (outside tester, session 11: the ranking roles only, though the same rows were open to all readers).
        service.require_indicators(actor)
        if saved_id is not None:  # the tables are the current ones; a named analysis must still exist for the reader
            _ranking(session, analysis, actor=actor, saved_id=saved_id)
    elif not service.access(actor).export_reports:
        raise Forbidden("レポートを出力できるのは、シンクタンク・所管省庁・ニーズ省庁の担当者です / "
                        "Only think-tank analysts and ministry officers take reports")
    ranking = pd.DataFrame() if tables_only else _ranking(session, analysis, actor=actor, saved_id=saved_id)[0]
    media, _ext = KINDS[kind]
    data = _bytes(analysis, ranking, kind=kind, lang=lang)
    name = kind if kind != "report.html" else f"report_{lang}.html"
    return ReportFile(data, media, name)


def export(session: Session, analysis: Analysis, *, actor: Principal, now: datetime, kind: str, lang: str,
           saved_id: int | None = None) -> ReportFile:
    """Return a report and append its export to the audit log (A1)."""
    report = build(session, analysis, actor=actor, kind=kind, lang=lang, saved_id=saved_id)
    audit.record_for(session, AuditTag.THINKTANK_REPORT_EXPORT, now=now, actor=actor,
                     subject=f"thinktank:report:{kind}",
                     data={"kind": kind, "lang": lang, "analysis_id": saved_id, "bytes": len(report.data)})
    return report


def require_council_filer(actor: Principal) -> None:
    """Refuse anyone but an analyst filing a think-tank report into a council (T6) — page, API and CLI alike."""
    if not service.access(actor).file_reports:
        raise Forbidden("レポートを協議会に提出できるのは分析担当者です / Only analysts file reports into a council")


def file_into_council(session: Session, deps: InformationDeps, analysis: Analysis, *, actor: Principal,
                      now: datetime, council_id: int, saved_id: int | None = None) -> Item:
    """File the workbook and the CSV tables into a council as a think-tank item (T6), as the CLI does.

    The policy decides who may file (analysts); the council's policy then decides membership, pledge and
    council state through the same service the CLI uses (:func:`banso.information.filing.file_report`).
    """
    require_council_filer(actor)
    ranking, label = _ranking(session, analysis, actor=actor, saved_id=saved_id)
    ranking = without_reasons(ranking)
    with tempfile.TemporaryDirectory(prefix="banso-file-") as tmp:
        out = Path(tmp)
        (out / "report.xlsx").write_bytes(_rendered(analysis, ranking, "ja", html_report=False)["xlsx"])
        (out / "priorities.csv").write_bytes(_csv(ranking[[c for c in RANKING_COLUMNS if c in ranking]]))
        (out / "indicators.csv").write_bytes(_csv(analysis.indicators))
        paths = [out / "report.xlsx", out / "priorities.csv", out / "indicators.csv"]
        for name, table in (("institutions.csv", analysis.institutions), ("trends.csv", analysis.trends)):
            if table is not None:  # the tables this analysis has (trends are computed separately)
                (out / name).write_bytes(_csv(table))
                paths.append(out / name)
        item = filing.file_report(
            session, deps, council_id=council_id, actor=actor, now=now,
            title=f"技術動向分析レポート（{analysis.window}・{label}）",
            summary="シンクタンクの技術動向分析（国別指標・優先度・社会実装ニーズ）。", paths=paths)
    audit.record_for(session, AuditTag.THINKTANK_REPORT_FILE, now=now, actor=actor,
                     subject=f"council:{council_id}", data={"item_id": item.id, "analysis_id": saved_id})
    return item


# What may be filed as a commission deliverable: the formats a deliverable upload accepts (not HTML).
COMMISSION_KINDS = ("report.xlsx", "report.pdf", "priorities.csv", "indicators.csv")


def file_into_commission(session: Session, filer: CommissionFiler, analysis: Analysis, *, actor: Principal,
                         now: datetime, commission_id: int, kind: str = "report.xlsx",
                         saved_id: int | None = None) -> int:
    """File one report format as a deliverable of a commission (F5, T6); return the deliverable's id.

    The think tank's policy decides who may file (analysts); the commission's rules decide where (only
    people named on its roster who acknowledged the duty, while it is active: 404 otherwise). The filed
    copy carries the ranking without needs reasons (T8), as a copy filed into a council does.
    """
    if not service.access(actor).file_reports:
        raise Forbidden("レポートを委託に提出できるのは分析担当者です / Only analysts file reports into a commission")
    if kind not in COMMISSION_KINDS:
        raise ValidationFailed(f"提出できる形式は {', '.join(COMMISSION_KINDS)} です / kind must be one of "
                               f"{', '.join(COMMISSION_KINDS)}", field="kind")
    ranking, label = _ranking(session, analysis, actor=actor, saved_id=saved_id)
    data = _bytes(analysis, without_reasons(ranking), kind=kind, lang="ja")
    deliverable_id = filer.file(session, commission_id=commission_id, actor=actor, now=now,
                                title=f"技術動向分析レポート（{analysis.window}・{label}）", filename=kind,
                                content=data, content_type=KINDS[kind][0].split(";")[0])
    audit.record_for(session, AuditTag.THINKTANK_REPORT_FILE_COMMISSION, now=now, actor=actor,
                     subject=f"commission:{commission_id}",
                     data={"deliverable_id": deliverable_id, "kind": kind, "analysis_id": saved_id})
    return deliverable_id


def _bytes(analysis: Analysis, ranking: pd.DataFrame, *, kind: str, lang: str) -> bytes:
    """Return one report format of ``ranking`` (see :data:`KINDS`)."""
    if kind == "priorities.csv":
        return _csv(ranking[[c for c in RANKING_COLUMNS if c in ranking]])
    if kind == "indicators.csv":
        return _csv(analysis.indicators)
    if kind == "institutions.csv":
        if analysis.institutions is None:  # said as it is, like the trends (an indicators run older than the table)
            raise service.NotComputed("主要機関の表がありません。「banso analyze indicators」を実行し直してください / "
                                      "No institutions table; run banso analyze indicators again")
        return _csv(analysis.institutions)
    if kind == "trends.csv":
        return _csv(analysis.require_trends())  # NotComputed with the command when none were computed
    if kind == "report.pdf":
        return _pdf(analysis, ranking, lang=lang)
    if kind == "report.xlsx":
        return _rendered(analysis, ranking, lang, html_report=False)["xlsx"]
    return _rendered(analysis, ranking, lang)["html"]


def without_reasons(ranking: pd.DataFrame) -> pd.DataFrame:
    """Return the ranking with its needs reasons left blank (the levels stay).

    Why: a filed report is read by every member of the council (I7), most of whom are not in the roles
    that may see needs reasons (T8); the reasons stay in the think tank, the egress matrix holds it.
    """
    return ranking.assign(needs_reason="") if "needs_reason" in ranking else ranking


# ---------------------------------------------------------------------------------------------
# Formats


_RENDERED: OrderedDict[tuple[str, tuple[float, ...], str, str, bool], dict[str, bytes]] = OrderedDict()
_RENDERED_MAX = 8
_RENDERED_LOCK = threading.Lock()


def _rendered(analysis: Analysis, ranking: pd.DataFrame, lang: str, *, html_report: bool = True) -> dict[str, bytes]:
    """Return the HTML report and workbook for ``ranking``, drawn once per analysis run, ranking and language
    (the workbook alone with ``html_report=False``: no chart drawn, as a filed copy needs).

    Drawing the charts of the HTML report takes seconds; the same report asked again (the next format, a
    second reader) is served from memory until the analysis files change.
    """
    digest = hashlib.sha256(ranking.to_json(orient="split", double_precision=15).encode()).hexdigest()
    keys = [(str(analysis.root), service.stamp(analysis.root), digest, lang, full) for full in (True, False)]
    with _RENDERED_LOCK:
        for key in keys[:1] if html_report else keys:  # a full rendering serves a workbook-only ask too
            if key in _RENDERED:
                _RENDERED.move_to_end(key)
                return _RENDERED[key]
    key = keys[0] if html_report else keys[1]
    with tempfile.TemporaryDirectory(prefix="banso-report-") as tmp:
        paths = _report_files(analysis, ranking, Path(tmp), lang=lang, html_report=html_report)
        out = {k: p.read_bytes() for k, p in paths.items()}
    with _RENDERED_LOCK:
        _RENDERED[key] = out
        while len(_RENDERED) > _RENDERED_MAX:
            _RENDERED.popitem(last=False)
    return out


def _report_files(analysis: Analysis, ranking: pd.DataFrame, out: Path, *, lang: str,
                  html_report: bool = True) -> dict[str, Path]:
    """Write the analytics package's HTML report and workbook (or the workbook alone) for ``ranking`` into ``out``."""
    prio = out / "priorities"
    prio.mkdir()
    ranking.to_parquet(prio / "ranking.parquet", index=False)
    return write_report(analysis.root / service.INDICATORS, out / "report", priorities_dir=prio, lang=lang,
                        trend_charts=HTML_TRENDS, html_report=html_report)


def _csv(frame: pd.DataFrame) -> bytes:
    """Return ``frame`` as UTF-8 CSV (with BOM, for spreadsheets), formula cells neutralised (O1)."""
    buf = io.StringIO()
    writer = csv_writer(buf)
    writer.writerow(list(frame.columns))
    changed = False
    for row in frame.itertuples(index=False):
        values = [None if (not isinstance(v, str) and pd.isna(v)) else v for v in row]
        safe = csv_row(values)
        changed = changed or safe != values
        writer.writerow(safe)
    if changed:
        writer.writerow(note_row(len(frame.columns)))  # a full record: the upload check accepts it (F1)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


_PDF_TEXT: dict[str, dict[str, str]] = {
    "title": {"ja": "重要技術インテリジェンス報告", "en": "Critical technology intelligence report"},
    "window": {"ja": "対象期間（出版年）", "en": "Window (publication years)"},
    "synthetic": {"ja": "注意：合成データによる分析です（実在の論文ではありません）。",
                  "en": "Note: this analysis runs on synthetic data (not real publications)."},
    "ranking": {"ja": "優先順位（TOPSIS）", "en": "Priority ranking (TOPSIS)"},
    "japan": {"ja": "日本の位置（Top10%シェア）", "en": "Japan's position (top-10% share)"},
    "cols": {"ja": "順位|技術|理想解への近さ|順位帯維持確率|ニーズ|ニーズの理由",
             "en": "Rank|Technology|Closeness|P(keeps band)|Needs|Needs reason"},
    "institutions": {"ja": "主要機関（Top10%論文数、機関単位の全数カウント）",
                     "en": "Leading institutions (top-10% output, whole counting per institution)"},
    "inst_cols": {"ja": "技術|上位機関（世界）|日本の首位機関", "en": "Technology|Leading institutions (world)|"
                                                                  "Japan's leading institution"},
    "trends": {"ja": "Top10%シェアの推移（移動期間、優先順位の上位{n}技術）",
               "en": "Top-10% share over rolling windows (the {n} highest-ranked technologies)"},
    "trends_rest": {"ja": "全技術の推移は HTML レポートと Excel の trends シートにあります。",
                    "en": "Every technology's trend is in the HTML report and the workbook's trends sheet."},
    "trend_band": {"ja": "95%信頼区間", "en": "95% interval"},
}
PDF_TRENDS = 9  # trend panels in the PDF (3 × 3 on one page): the highest-ranked technologies
HTML_TRENDS = 12  # trend charts in the web's HTML report (a third of a second each); all are in the workbook


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _pdf(analysis: Analysis, ranking: pd.DataFrame, *, lang: str) -> bytes:
    """Return an A4 landscape PDF: Japan's position chart and the ranking with needs and their reasons."""
    T = {k: v["ja" if lang == "ja" else "en"] for k, v in _PDF_TEXT.items()}
    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=8, leading=11, wordWrap="CJK")
    h1 = ParagraphStyle("h1", parent=body, fontSize=16, leading=22, spaceAfter=6)
    h2 = ParagraphStyle("h2", parent=body, fontSize=12, leading=16, spaceBefore=8, spaceAfter=4)
    story: list[Any] = [Paragraph(escape(T["title"]), h1),
                        Paragraph(escape(f"{T['window']}: {analysis.window}"), body)]
    if analysis.synthetic:
        story.append(Paragraph(escape(T["synthetic"]), body))
    png = service.japan_chart(analysis, lang=lang, japan="日本" if lang == "ja" else "Japan",
                              leader="首位国" if lang == "ja" else "Leader",
                              xlabel="Top10%論文シェア（分数）" if lang == "ja" else "Top-10% share (fractional)")
    image = Image(io.BytesIO(png))
    scale = min(250 * mm / image.drawWidth, 120 * mm / image.drawHeight, 1.0)
    image.drawWidth, image.drawHeight = image.drawWidth * scale, image.drawHeight * scale
    story += [Paragraph(escape(T["japan"]), h2), image, Paragraph(escape(T["ranking"]), h2)]
    rows: list[list[Any]] = [[Paragraph(escape(c), body) for c in T["cols"].split("|")]]
    for r in ranking.sort_values("rank").to_dict("records"):
        reason = r.get("needs_reason") or ""
        rows.append([_fmt(r.get("rank")), Paragraph(escape(analysis.name(str(r["technology"]), lang)), body),
                     _fmt(r.get("closeness")), _fmt(r.get("p_keep_band"), 2), _fmt(r.get("needs"), 1),
                     Paragraph(escape("" if reason == "no need entered" else str(reason)), body)])
    table = Table(rows, colWidths=[14 * mm, 70 * mm, 28 * mm, 28 * mm, 16 * mm, 110 * mm], repeatRows=1)
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, 8), ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 4 * mm)]
    story += _pdf_institutions(analysis, T, body, h2, font, lang)
    story += _pdf_trends(analysis, ranking, T, body, h2, lang)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm,
                            topMargin=12 * mm, bottomMargin=12 * mm, title=T["title"], author="banso", invariant=1)
    doc.build(story)
    return buf.getvalue()


def _pdf_institutions(analysis: Analysis, T: dict[str, str], body: ParagraphStyle, h2: ParagraphStyle, font: str,
                      lang: str) -> list[Any]:
    """The PDF's leading-institutions table: the first three worldwide and Japan's first per technology (as
    the HTML report's), the ROR id as text (a synthetic id names no organisation)."""
    leaders = analysis.institutions
    if leaders is None or leaders.empty:
        return []

    def who(r: dict[str, Any]) -> str:
        name = r["institution"] if isinstance(r["institution"], str) else f"I{int(r['institution_id'])}"
        where = country_label(r["country"], lang) if isinstance(r["country"], str) else ""
        ror = f" ROR {r['ror'].rsplit('/', 1)[-1]}" if isinstance(r["ror"], str) else ""
        return escape(f"{int(r['rank'])}. {name} ({where}){ror}")

    rows: list[list[Any]] = [[Paragraph(escape(c), body) for c in T["inst_cols"].split("|")]]
    for tech_id, group in leaders.groupby("technology", sort=True):
        world = group[group["scope"] == "all"].sort_values(["rank", "institution_id"]).head(3)
        japan = group[(group["scope"] == "country") & (group["country"] == "JP")].sort_values(
            ["rank", "institution_id"]).head(1)
        rows.append([Paragraph(escape(analysis.name(str(tech_id), lang)), body),
                     Paragraph("<br/>".join(who(r) for r in world.to_dict("records")), body),
                     Paragraph("<br/>".join(who(r) for r in japan.to_dict("records")), body)])
    if len(rows) == 1:
        return []
    table = Table(rows, colWidths=[60 * mm, 130 * mm, 76 * mm], repeatRows=1)
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, 8), ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return [Paragraph(escape(T["institutions"]), h2), table, Spacer(1, 4 * mm)]


def _pdf_trends(analysis: Analysis, ranking: pd.DataFrame, T: dict[str, str], body: ParagraphStyle,
                h2: ParagraphStyle, lang: str) -> list[Any]:
    """The PDF's trend charts: the :data:`PDF_TRENDS` highest-ranked technologies with trends, one small
    panel each (Japan against the leader, bands when computed); the rest are in the HTML report and workbook."""
    trends = analysis.trends
    if trends is None or trends.empty:
        return []
    have = set(trends["technology"])
    order = [str(t) for t in ranking.sort_values("rank")["technology"]] if "rank" in ranking else []
    chosen = [t for t in order if t in have][:PDF_TRENDS] or sorted(have)[:PDF_TRENDS]
    png = service.trend_panels(analysis, chosen, lang=lang, band=T["trend_band"])
    image = Image(io.BytesIO(png))
    scale = min(265 * mm / image.drawWidth, 165 * mm / image.drawHeight, 1.0)
    image.drawWidth, image.drawHeight = image.drawWidth * scale, image.drawHeight * scale
    return [Paragraph(escape(T["trends"].format(n=len(chosen))), h2), image,
            Paragraph(escape(T["trends_rest"]), body)]


def commission_targets(session: Session, filer: CommissionFiler, *, actor: Principal) -> list[tuple[int, str]]:
    """Return the commissions ``actor`` may file a report into (analysts engaged in an active commission)."""
    if not service.access(actor).file_reports:
        return []
    return filer.targets(session, actor=actor)


def filing_targets(session: Session, *, actor: Principal) -> list[tuple[int, str]]:
    """Return the active councils ``actor`` may know exist (id, title) for the filing form; the filing
    itself is decided by the council's policy (membership, pledge)."""
    if not service.access(actor).file_reports:
        return []
    return [(c.id, c.title_ja) for c in councils.list_councils(session, actor=actor) if c.state == "active"]
