"""The results reports a project owes (F6): the schedule rule and its creation at adoption.

Kept apart from :mod:`banso.programme.reporting` (submission, decisions, reminders) because adoption
(``service._create_project``) makes the schedule and ``reporting`` builds on ``service``: one module each
way, no import loop. An annual report (年次報告) for each fiscal year of the plan but the last and a final
report (最終報告) for the last, each due on 31 May after the fiscal year it covers (banso's default).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.programme import repository as repo
from banso.programme.models import Project, ReportKind, ReportState, ResultsReport

REPORT_DUE = (5, 31)  # month, day after the fiscal year ends (31 March) — banso's default
DUE_SOON = timedelta(days=30)  # remind once when a due date is this close


def due_on(fiscal_year: int) -> date:
    """Return when the report on ``fiscal_year`` is due (31 May after the year ends on 31 March)."""
    month, day = REPORT_DUE
    return date(fiscal_year + 1, month, day)


def schedule(plan_years: list[int]) -> list[tuple[str, int, date]]:
    """Return (kind, fiscal year, due date) of every report a plan owes: annual ones, then the final one."""
    years = sorted(set(plan_years))
    if not years:
        return []
    owed = [(ReportKind.ANNUAL.value, fy, due_on(fy)) for fy in years[:-1]]
    owed.append((ReportKind.FINAL.value, years[-1], due_on(years[-1])))
    return owed


def reminder_stage(*, due: date, today: date, sent: str | None) -> str | None:
    """Return the reminder due now for something due on ``due``: ``due_soon`` then ``overdue``, each once."""
    if today > due:
        return "overdue" if sent != "overdue" else None
    if due - today <= DUE_SOON and sent is None:
        return "due_soon"
    return None


def reports_of(session: Session, project_id: int) -> list[ResultsReport]:
    """Return a project's reports by due date."""
    return list(session.scalars(select(ResultsReport).where(ResultsReport.project_id == project_id)
                                .order_by(ResultsReport.due_on, ResultsReport.id)))


def ensure_schedule(session: Session, project: Project, *, now: datetime) -> list[ResultsReport]:
    """Create the reports ``project`` owes that do not exist yet (idempotent); return the new ones."""
    have = {(r.kind, r.fiscal_year) for r in reports_of(session, project.id)}
    plan = [line.fiscal_year for line in repo.budget(session, project.proposal_id)]
    created = []
    for kind, fiscal_year, due in schedule(plan):
        if (kind, fiscal_year) in have:
            continue
        row = ResultsReport(project_id=project.id, kind=kind, fiscal_year=fiscal_year, due_on=due,
                            state=ReportState.DUE.value, created_at=now)
        session.add(row)
        created.append(row)
    if created:
        session.flush()
        audit.record_for(session, AuditTag.PROGRAMME_REPORT_SCHEDULE, now=now, actor=None,
                         subject=f"project:{project.id}",
                         data={"reports": [{"kind": r.kind, "fiscal_year": r.fiscal_year,
                                            "due_on": r.due_on.isoformat()} for r in created]})
    return created
