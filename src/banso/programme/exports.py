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
from banso.programme import evaluations, reporting, service
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


def call_statistics_workbook(session: Session, *, actor: Principal, now: datetime) -> bytes:
    """Return statistics of the calls the actor manages (proposals, requested yen, adoption) as .xlsx."""
    rows: list[list[object]] = []
    for call in service.list_calls(session, actor=actor):
        visible = service.list_proposals(session, actor=actor, now=now, call_id=call.id)
        submitted = [p for p in visible if p.state not in ("withdrawn", "draft")]
        adopted = [p for p in submitted if p.state == "adopted"]
        rows.append([call.code, call.title_ja, call.project_type, call.state, call.cap_yen, len(submitted),
                     sum(p.total_yen for p in submitted), len(adopted), sum(p.total_yen for p in adopted),
                     round(len(adopted) / len(submitted), 3) if submitted else 0.0])
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "公募統計 Calls"
    _sheet(ws, ["公募 Code", "名称 Title", "類型 Type", "状態 State", "上限額 Cap", "提案数 Proposals",
                "提案額 Requested", "採択数 Adopted", "採択額 Adopted yen", "採択率 Rate"], rows, {5, 7, 9})
    out = io.BytesIO()
    wb.save(out)
    audit.record(session, tag=AuditTag.PROGRAMME_LEDGER_EXPORT, now=now, actor_id=actor.user_id,
                 actor_label=actor.label, subject="programme:calls", data={"format": "xlsx", "calls": len(rows)})
    return out.getvalue()


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
