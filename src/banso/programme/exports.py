"""Excel workbooks of the programme (openpyxl): the fund ledger and call statistics. Exports are audited.

Every cell goes through ``banso.kit.cells`` (O1): a memo typed as ``=HYPERLINK(...)`` stays text, and
each sheet's first cell carries a note saying so.
"""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.principal import Principal
from banso.kit.cells import excel_row, sheet_note
from banso.kit.clock import to_jst
from banso.programme import budget, evaluations, reporting, review, service, statistics
from banso.programme import repository as repo

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YEN_FORMAT = '"¥"#,##0'


def _sheet(ws: Worksheet, header: list[str], rows: list[list[object]], yen_columns: set[int]) -> None:
    excel_row(ws, header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        excel_row(ws, row)  # O1: typed text is never a formula
    sheet_note(ws)
    for col in yen_columns:
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = YEN_FORMAT
    for i, title in enumerate(header, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(title) * 2 + 2)
    ws.freeze_panes = "A2"


def ledger_workbook(session: Session, *, agency_code: str, actor: Principal | None, now: datetime) -> bytes:
    """Return the agency's ledger (transactions, balances by account, totals by fiscal year) as .xlsx."""
    report = service.reconcile(session, actor=actor, agency_code=agency_code)
    agency = repo.agency_by_code(session, agency_code.strip().upper())
    assert agency is not None and report.agencies
    rec = report.agencies[0]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "仕訳 Transactions"
    rows: list[list[object]] = []
    for tx in repo.transactions(session, agency_id=agency.id):
        legs = {p.amount > 0: p for p in repo.postings_of(session, tx.id)}
        debit_key = credit_key = ""
        accounts = {a.id: a.key for a in repo.accounts_of(session, agency.id)}
        if True in legs:
            debit_key = accounts.get(legs[True].account_id, "")
        if False in legs:
            credit_key = accounts.get(legs[False].account_id, "")
        rows.append([tx.id, tx.value_date.isoformat(), f"FY{tx.fiscal_year}", tx.kind, tx.project_id or "",
                     debit_key, credit_key, tx.amount, tx.memo or ""])
    _sheet(ws, ["ID", "日付 Date", "年度 FY", "種別 Kind", "プロジェクト Project", "借方 Debit", "貸方 Credit",
                "金額 Amount", "摘要 Memo"], rows, {8})
    ws2 = wb.create_sheet("残高 Balances")
    _sheet(ws2, ["勘定 Account", "種別 Kind", "プロジェクト Project", "残高 Balance", "仕訳合計 Postings", "照合 OK"],
           [[a.key, a.kind, a.project_id or "", a.balance, a.postings_sum, "OK" if a.ok else "NG"]
            for a in rec.accounts], {4, 5})
    ws3 = wb.create_sheet("年度別 By FY")
    _sheet(ws3, ["年度 FY", "予算措置 Tranches", "配分 Commitments", "取消 Releases", "支払 Disbursements",
                 "返還 Returns"],
           [[f"FY{y.fiscal_year}", y.tranche, y.commitment, y.release, y.disbursement, y.returned]
            for y in rec.years], {2, 3, 4, 5, 6})
    ws4 = wb.create_sheet("照合 Reconciliation")
    _sheet(ws4, ["項目 Item", "値 Value"], [
        ["受入累計 Received", rec.received], ["未配分 Available", rec.available],
        ["配分済未払 Committed", rec.committed], ["支払済 Disbursed", rec.disbursed],
        ["貸借一致 Sums to zero", "OK" if rec.sums_to_zero else "NG"],
        ["受入=未配分+配分+支払 Identity", "OK" if rec.identity_holds else "NG"],
        ["作成 Generated (JST)", to_jst(now).strftime("%Y-%m-%d %H:%M")],
    ], set())
    for row in range(2, 6):
        ws4.cell(row, 2).number_format = YEN_FORMAT
    out = io.BytesIO()
    wb.save(out)
    audit.record(session, tag=AuditTag.PROGRAMME_LEDGER_EXPORT, now=now, actor_id=actor.user_id if actor else None,
                 actor_label=actor.label if actor else "system", subject=f"ledger:{agency.code}",
                 data={"format": "xlsx"})
    return out.getvalue()


SEN_FORMAT = '#,##0.###'  # 千円 (the unit is in the header)
SEN_NOTE = "金額の単位は千円 / amounts in thousand yen (千円)"


def _sen(amount: int) -> int | float:
    """Return whole yen as a number of 千円 for a cell (a float only when the figure has yen below 1,000)."""
    value = budget.thousand_yen(amount)
    return int(value) if value == int(value) else float(value)


def _book(sheets: list[tuple[str, list[str], list[list[object]], set[int]]]) -> bytes:
    """Return a workbook of ``(title, header, rows, 千円 columns)`` sheets, Japanese headers, formulas neutralised."""
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for title, header, rows, sen_columns in sheets:
        ws = wb.create_sheet(title)
        _sheet(ws, header, rows, set())
        for col in sen_columns:
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
                cell.number_format = SEN_FORMAT
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


STATISTICS_HEADER = ["公募番号", "公募名", "類型", "状態", "上限額（千円）", "提案数", "提案額（千円）", "採択数",
                     "採択額（千円）", "採択率", "不採択数", "審査中", "取下げ", "審査委員割当", "利益相反申告",
                     "評点提出"]


def statistics_rows(stats: list[statistics.CallStats]) -> list[list[object]]:
    """Return the rows of the call statistics sheet (the page shows the same figures)."""
    return [[s.call.code, s.call.title_ja, s.call.project_type, s.call.state, _sen(s.call.cap_yen), s.proposals,
             _sen(s.requested_yen), s.adopted, _sen(s.adopted_yen),
             s.adoption_rate if s.adoption_rate is not None else "", s.rejected, s.submitted, s.withdrawn,
             s.assigned, s.declared, s.scored] for s in stats]


def call_statistics_workbook(session: Session, *, actor: Principal, now: datetime) -> bytes:
    """Return the statistics of the calls of the agencies the actor staffs as .xlsx (403 for anyone else):
    proposals by status, adoption rate, review progress; amounts in 千円. Audited."""
    stats = statistics.call_statistics(session, actor=actor, now=now, audited=False)
    content = _book([("公募統計", STATISTICS_HEADER, statistics_rows(stats), {5, 7, 9})])
    audit.record(session, tag=AuditTag.PROGRAMME_STATISTICS_EXPORT, now=now, actor_id=actor.user_id,
                 actor_label=actor.label, subject="programme:calls", data={"format": "xlsx", "calls": len(stats)})
    return content


PANEL_HEADER = ["受付番号", "提案名", "状態", "提案額（千円）", "審査委員", "担当割当", "利益相反", "評点合計",
                "コメント", "平均点", "審査結果", "重複・集中の指摘"]
CONFLICT_LABELS = {True: "あり", False: "なし"}


def panel_workbook(session: Session, *, call_id: int, actor: Principal, now: datetime) -> bytes:
    """Return the panel view (審査会) of a call as .xlsx: one row per proposal and reviewer, scores and comments side
    by side (the call's agency staff only, as the page; audited)."""
    view = review.panel_view(session, call_id=call_id, actor=actor, now=now)
    rows: list[list[object]] = []
    for row in view.rows:
        p = row.proposal
        decision = row.decision.outcome if row.decision is not None else ""
        lines: list[review.ReviewerLine | None] = list(row.reviewers) or [None]  # a proposal with no reviewer yet
        for line in lines:
            declared = line.declaration if line is not None else None
            score = line.score if line is not None else None
            rows.append([p.receipt_number or f"#{p.id}", p.title, p.state, _sen(p.total_yen),
                         line.name if line is not None else "", "割当" if line is not None and line.assigned else "",
                         CONFLICT_LABELS[declared.has_conflict] if declared is not None else "未申告",
                         score.total if score is not None else "", (score.comment or "") if score is not None else "",
                         row.mean_score if row.mean_score is not None else "", decision, row.flags or ""])
    content = _book([("審査会", PANEL_HEADER, rows, {4})])
    audit.record(session, tag=AuditTag.PROGRAMME_PANEL_EXPORT, now=now, actor_id=actor.user_id,
                 actor_label=actor.label, subject=f"call:{call_id}", data={"format": "xlsx", "rows": len(rows)})
    return content


FLAG_HEADER = ["種別", "e-Rad 研究者番号", "指標", "受付番号", "提案名", "状態", "自機関", "根拠"]
FLAG_KINDS = {"effort": "過度の集中（エフォート合計）", "similar_title": "不合理な重複（類似課題）",
              "same_funding": "不合理な重複（他の資金と同一課題）"}


def _evidence_text(evidence: dict[str, object]) -> str:
    """Return a flag's evidence as one line of text (another agency's parts already stripped of ids)."""
    parts = []
    for key, value in evidence.items():
        if key == "parts" and isinstance(value, list):
            value = "; ".join(f"{p.get('proposal_id') or '他機関'}: {p.get('effort_percent')}%"
                              for p in value if isinstance(p, dict))
        parts.append(f"{key}={value}")
    return " / ".join(parts)


def duplication_workbook(session: Session, *, actor: Principal, now: datetime, call_id: int | None = None) -> bytes:
    """Return the duplication/concentration flags (不合理な重複・過度の集中) as .xlsx: one row per flag and proposal
    named, another agency's proposal by receipt number only (as the page; agency staff only; audited)."""
    flags = review.duplication_flags(session, actor=actor, now=now, call_id=call_id)
    rows: list[list[object]] = []
    for flag in flags:
        evidence = _evidence_text(dict(flag.evidence))
        for named in flag.proposals:
            rows.append([FLAG_KINDS.get(flag.kind, flag.kind), flag.researcher_number, flag.score,
                         named.receipt_number or "", named.title or "（他機関の提案）", named.state,
                         "○" if named.own_agency else "", evidence])
    content = _book([("重複・集中", FLAG_HEADER, rows, set())])
    audit.record(session, tag=AuditTag.PROGRAMME_DUPLICATION_EXPORT, now=now, actor_id=actor.user_id,
                 actor_label=actor.label, subject="programme:duplication",
                 data={"format": "xlsx", "flags": len(flags), "call_id": call_id})
    return content


def after_adoption_workbook(session: Session, *, actor: Principal, now: datetime) -> bytes:
    """Return the results-report and evaluation status of the actor's agency's projects as .xlsx (F6)."""
    rows = reporting.agency_status(session, actor=actor, now=now)  # 403 for anyone but agency staff
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "成果報告 Reports"
    _sheet(ws, ["プロジェクト Project", "報告 Report", "年度 FY", "期限 Due", "状態 State", "期限超過 Overdue",
                "提出 Submitted (JST)"],
           [[r.project.title, "最終報告 final" if r.report.kind == "final" else "年次報告 annual",
             f"FY{r.report.fiscal_year}", r.report.due_on.isoformat(), r.report.state, "超過" if r.overdue else "",
             to_jst(r.report.submitted_at).strftime("%Y-%m-%d %H:%M") if r.report.submitted_at else ""]
            for r in rows], set())
    ws2 = wb.create_sheet("評価 Evaluations")
    projects = {r.project.id: r.project for r in rows}
    erows: list[list[object]] = [
        [projects[e.project_id].title, "中間評価 interim" if e.kind == "interim" else "事後評価 final",
         e.due_on.isoformat(), assigned, graded, e.result or ""]
        for e, assigned, graded in evaluations.progress_of(session, list(projects))]
    _sheet(ws2, ["プロジェクト Project", "評価 Evaluation", "期限 Due", "評価者 Evaluators", "評価済 Graded",
                 "総合評価 Result"], erows, set())
    out = io.BytesIO()
    wb.save(out)
    audit.record(session, tag=AuditTag.PROGRAMME_REPORTS_EXPORT, now=now, actor_id=actor.user_id,
                 actor_label=actor.label, subject="programme:reports",
                 data={"format": "xlsx", "reports": len(rows), "evaluations": len(erows)})
    return out.getvalue()
