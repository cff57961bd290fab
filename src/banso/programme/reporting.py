"""After adoption: the results reports a project owes and the F4 declaration review, with reminders (F4, F6).

A project owes its funding agency an annual results report (年次報告・実績報告) for each fiscal year of its
plan but the last, and a final report (最終報告) for the last; each is due on 31 May after the fiscal year it
covers ends (banso's default, as the agencies' 実績報告 are due in spring; ``report_schedule.REPORT_DUE``). The
research representative (研究代表者, the project lead) submits; the agency's staff accept it or return it
with a note, and a returned report is due again two weeks later. Reminders go out once when a report is due
within 30 days and once when it is overdue, to the lead (and to the agency's staff when overdue).

F4: a project whose plan reaches ¥1bn a year has its core-technology and leak-prevention declaration
reviewed every 12 months (``service.review_declaration``); the agency's staff are reminded once when the
review is due within 30 days and once when it is overdue.

Who may read a report is who may see the project (the team, the call's officer and the agency's staff:
``policy.can_see_project``); reports are not council content and never go to the council (the results
themselves are filed as council items by the researchers, I1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from banso.accounts.models import User
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.guard import require_visible
from banso.authz.policies import programme as policy
from banso.authz.principal import Principal
from banso.councils.models import Matter
from banso.information import service as information
from banso.information.deps import InformationDeps
from banso.information.models import Category, Item, Provenance
from banso.kit.clock import to_jst
from banso.kit.errors import Conflict, Forbidden, ValidationFailed
from banso.kit.japanese import fiscal_year_label, format_date
from banso.kit.text import clean_text
from banso.notifications import service as notifications
from banso.programme import evaluations, service
from banso.programme import repository as repo
from banso.programme.models import Agency, Project, ProjectState, ReportKind, ReportState, ResultsReport
from banso.programme.report_schedule import DUE_SOON, ensure_schedule, reminder_stage, reports_of

RETURNED_GRACE = timedelta(days=14)  # a returned report is due again this long after the return
SUMMARY_MAX = 20_000
OUTPUTS_MAX = 10_000
_DOI = re.compile(r"\b10\.\d{4,9}/\S+", re.ASCII)
_audit = audit.record_for


# ---------------------------------------------------------------------------------------------
# Rules (pure)


def is_overdue(report: ResultsReport, today: date) -> bool:
    """A report still owed (due or returned) after its due date."""
    return report.state in (ReportState.DUE.value, ReportState.RETURNED.value) and today > report.due_on


def dois(outputs: str | None) -> list[str]:
    """Return the DOIs named in a report's outputs (shown as links to doi.org)."""
    return [m.group(0).rstrip(".,;)") for m in _DOI.finditer(outputs or "")]


def _today(now: datetime) -> date:
    return to_jst(now).date()


# ---------------------------------------------------------------------------------------------
# Queries


def _agency_staff_ids(session: Session, agency: Agency) -> list[int]:
    """The active programme staff of the agency's organisation (who accept reports and review F4)."""
    users = session.scalars(select(User).where(User.organization_id == agency.organization_id,
                                               User.is_active.is_(True)).order_by(User.id))
    return [u.id for u in users if "agency_staff" in (u.roles or [])]


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class ReportsView:
    """A project's reports and what the reader may do with them (pages and the API use the same flags)."""

    project: Project
    reports: list[ResultsReport]
    may_submit: bool  # the research representative (project lead)
    may_decide: bool  # the agency's staff
    today: date


def project_reports(session: Session, *, project_id: int, actor: Principal, now: datetime) -> ReportsView:
    """Return a project's reports (404 for a reader who may not see the project)."""
    project = service.project_for_reader(session, project_id, actor)
    agency = repo.agency_by_id(session, project.agency_id)
    assert agency is not None
    reports = reports_of(session, project.id)
    read = [r.id for r in reports if r.summary is not None]
    if read:  # submitted contents are non-public programme records: every read is audited (as proposals are)
        _audit(session, AuditTag.PROGRAMME_REPORT_READ, now=now, actor=actor, subject=f"project:{project.id}",
               data={"report_ids": read})
    return ReportsView(project=project, reports=reports,
                       may_submit=actor.user_id == project.lead_id,
                       may_decide=policy.is_agency_staff(actor, agency.organization_id), today=_today(now))


def _report(session: Session, project: Project, report_id: int) -> ResultsReport:
    row = session.get(ResultsReport, report_id)
    require_visible(row is not None and row.project_id == project.id, "report")
    assert row is not None
    return row


# ---------------------------------------------------------------------------------------------
# Submitting and deciding


def submit_report(session: Session, *, project_id: int, report_id: int, summary: object, outputs: object,
                  now: datetime, actor: Principal) -> ResultsReport:
    """Submit (or resubmit after a return) a results report; only the research representative may."""
    project = service.project_for_reader(session, project_id, actor)
    row = _report(session, project, report_id)
    if actor.user_id != project.lead_id:
        raise Forbidden("成果報告は研究代表者が提出します / Only the research representative (project lead) submits "
                        "results reports")
    if row.state not in (ReportState.DUE.value, ReportState.RETURNED.value):
        raise Conflict("この報告は提出済みです / This report has already been submitted", field="report_id")
    text = clean_text(summary, "summary", max_length=SUMMARY_MAX, label="実施内容・成果の概要")
    listed = clean_text(outputs, "outputs", max_length=OUTPUTS_MAX, required=False, label="論文・特許等") or None
    row.summary, row.outputs = text, listed
    row.state = ReportState.SUBMITTED.value
    row.submitted_at, row.submitted_by_id = now, actor.user_id
    session.flush()
    _audit(session, AuditTag.PROGRAMME_REPORT_SUBMIT, now=now, actor=actor, subject=f"project:{project.id}",
           data={"report_id": row.id, "kind": row.kind, "fiscal_year": row.fiscal_year})
    agency = repo.agency_by_id(session, project.agency_id)
    assert agency is not None
    _tell(session, _agency_staff_ids(session, agency), project, row, now=now, kind="programme.report_submitted",
          title=("成果報告が提出されました", "A results report was submitted"),
          body=(f"「{project.title}」の{_label_ja(row)}が提出されました。確認してください。",
                f"The {_label_en(row)} of \"{project.title}\" was submitted. Please review it."))
    return row


def decide_report(session: Session, *, project_id: int, report_id: int, decision: str, note: object,
                  now: datetime, actor: Principal) -> ResultsReport:
    """Accept a submitted report, or return it with a note (the lead resubmits within two weeks)."""
    project = service.project_for_staff(session, project_id, actor)
    row = _report(session, project, report_id)
    if row.state != ReportState.SUBMITTED.value:
        raise Conflict("提出済みの報告のみ確認できます / Only a submitted report can be accepted or returned",
                       field="decision")
    if decision not in ("accept", "return"):
        raise ValidationFailed("判定は「受理」又は「差戻し」です / decision must be accept or return", field="decision")
    text = clean_text(note, "note", max_length=5000, required=decision == "return", label="コメント") or None
    row.decided_at, row.decided_by_id, row.decision_note = now, actor.user_id, text
    if decision == "accept":
        row.state = ReportState.ACCEPTED.value
    else:
        row.state = ReportState.RETURNED.value
        row.due_on = max(row.due_on, _today(now) + RETURNED_GRACE)
        row.reminder_sent = None
    session.flush()
    _audit(session, AuditTag.PROGRAMME_REPORT_DECIDE, now=now, actor=actor, subject=f"project:{project.id}",
           data={"report_id": row.id, "decision": decision, "due_on": row.due_on.isoformat()})
    if decision == "accept":
        title, body = (("成果報告が受理されました", "Your results report was accepted"),
                       (f"「{project.title}」の{_label_ja(row)}が受理されました。",
                        f"The {_label_en(row)} of \"{project.title}\" was accepted."))
    else:
        again_ja, again_en = format_date(row.due_on, "ja"), format_date(row.due_on, "en")
        title, body = (("成果報告が差し戻されました", "Your results report was returned"),
                       (f"「{project.title}」の{_label_ja(row)}が差し戻されました。コメント: {text}。再提出期限: {again_ja}",
                        (f"The {_label_en(row)} of \"{project.title}\" was returned. Note: {text}. "
                         f"Resubmit by {again_en}.")))
    _tell(session, [project.lead_id], project, row, now=now, kind="programme.report_decided", title=title,
          body=body)
    return row


def file_as_result(session: Session, deps: InformationDeps, *, project_id: int, report_id: int, now: datetime,
                   actor: Principal) -> Item:
    """Provide a submitted report to the project's council as a researcher-generated result (I1, I6, I13).

    Only the research representative, once; the council's own rules decide the rest: the lead must be a
    pledged member who may contribute, and a result is announced to the council and becomes public after
    the bylaws' prior-notice window unless a non-disclosure request is accepted (I6).
    """
    project = service.project_for_reader(session, project_id, actor)
    row = _report(session, project, report_id)
    if actor.user_id != project.lead_id:
        raise Forbidden("成果の提供は研究代表者が行います / Only the research representative provides the results")
    if row.state not in (ReportState.SUBMITTED.value, ReportState.ACCEPTED.value):
        raise Conflict("提出済みの報告のみ協議会に提供できます / Submit the report first", field="report_id")
    if row.filed_item_id is not None:
        raise Conflict("この報告は協議会に提供済みです / This report was already provided to the council",
                       field="report_id")
    if project.council_id is None:
        raise Conflict("このプロジェクトには協議会がありません / The project has no council", field="report_id")
    body = row.summary or ""
    if row.outputs:
        body = f"{body}\n\n【論文・特許等】\n{row.outputs}"
    item = information.create_item(
        session, deps, council_id=project.council_id, actor=actor, now=now,
        title=f"{project.title} — {_label_ja(row)}"[:300], summary=(row.summary or "")[:500], body=body,
        matter=Matter.RD_CONTENT_AND_RESULTS.value, category=Category.RESEARCH_RESULT.value,
        provenance=Provenance.RESEARCHER_GENERATED.value, is_result=True)
    row.filed_item_id = item.id
    _audit(session, AuditTag.PROGRAMME_REPORT_FILE, now=now, actor=actor, subject=f"project:{project.id}",
           data={"report_id": row.id, "item_id": item.id, "council_id": project.council_id})
    return item


# ---------------------------------------------------------------------------------------------
# Notices


def _label_ja(row: ResultsReport) -> str:
    return "最終報告" if row.kind == ReportKind.FINAL.value else f"{fiscal_year_label(row.fiscal_year)} 年次報告"


def _label_en(row: ResultsReport) -> str:
    return "final report" if row.kind == ReportKind.FINAL.value else f"{fiscal_year_label(row.fiscal_year, 'en')} annual report"


def _tell(session: Session, recipients: list[int], project: Project, row: ResultsReport, *, now: datetime,
          kind: str, title: tuple[str, str], body: tuple[str, str]) -> None:
    # Programme notices name the project and the report, never council content: the sender decides who
    # may know (the lead and the agency's staff both see the project, policy.can_see_project).
    if recipients:
        notifications.notify(session, recipient_ids=recipients, kind=kind, title_ja=title[0], title_en=title[1],
                             body_ja=body[0], body_en=body[1], link=f"/programme/projects/{project.id}#reports",
                             subject=f"project:{project.id}:report:{row.id}", now=now, email_now=True)


# ---------------------------------------------------------------------------------------------
# The scheduled job


@dataclass
class DueReport:
    """What one run of the programme job did."""

    scheduled: int = 0
    report_reminders: int = 0
    declaration_reminders: int = 0
    evaluation_reminders: int = 0


def run_due(session: Session, *, now: datetime) -> DueReport:
    """Job: make missing report schedules, remind reports due soon or overdue, remind F4 reviews (F4, F6).

    It runs every minute, so it reads only what may need work, in a fixed number of statements: active projects
    with no report at all (adopted before migration 0026; adoption makes the schedule since), reports still owed
    that fall due within the reminder window, and declarations due for review within it.
    """
    done = DueReport()
    today = _today(now)
    active = Project.state == ProjectState.ACTIVE.value
    unscheduled = session.scalars(select(Project).where(active, ~exists().where(
        ResultsReport.project_id == Project.id)).order_by(Project.id))
    for project in unscheduled:
        done.scheduled += len(ensure_schedule(session, project, now=now))
    agencies: dict[int, Agency] = {}

    def agency_of(project: Project) -> Agency:
        if project.agency_id not in agencies:
            found = repo.agency_by_id(session, project.agency_id)
            assert found is not None
            agencies[project.agency_id] = found
        return agencies[project.agency_id]

    owed = session.execute(
        select(ResultsReport, Project).join(Project, Project.id == ResultsReport.project_id)
        .where(active, ResultsReport.state.in_((ReportState.DUE.value, ReportState.RETURNED.value)),
               ResultsReport.due_on <= today + DUE_SOON).order_by(ResultsReport.id)).all()
    for row, project in owed:
        done.report_reminders += _remind_report(session, row, project, agency_of(project), today=today, now=now)
    reviews = session.scalars(select(Project).where(active, Project.declaration_required.is_(True),
                                                    Project.declaration_review_due <= today + DUE_SOON)
                              .order_by(Project.id))
    for project in reviews:
        done.declaration_reminders += _remind_declaration(session, project, agency_of(project), today=today,
                                                          now=now)
    done.evaluation_reminders = evaluations.remind_evaluators(session, today=today, now=now)
    return done


def _remind_report(session: Session, row: ResultsReport, project: Project, agency: Agency, *, today: date,
                   now: datetime) -> int:
    """Remind the lead of one owed report once due soon and once overdue (and the agency's staff when overdue)."""
    stage = reminder_stage(due=row.due_on, today=today, sent=row.reminder_sent)
    if stage is None:
        return 0
    row.reminder_sent = stage
    overdue = stage == "overdue"
    recipients = [project.lead_id] + (_agency_staff_ids(session, agency) if overdue else [])
    due_ja, due_en = format_date(row.due_on, "ja"), format_date(row.due_on, "en")
    _tell(session, recipients, project, row, now=now, kind="programme.report_due",
          title=("成果報告の提出期限を過ぎています", "A results report is overdue") if overdue
          else ("成果報告の提出期限が近づいています", "A results report is due soon"),
          body=(f"「{project.title}」の{_label_ja(row)}の提出期限は{due_ja}です。",
                f"The {_label_en(row)} of \"{project.title}\" is due on {due_en}."))
    _audit(session, AuditTag.PROGRAMME_REPORT_REMIND, now=now, actor=None, subject=f"project:{project.id}",
           data={"report_id": row.id, "stage": stage, "due_on": row.due_on.isoformat()})
    return 1


def _remind_declaration(session: Session, project: Project, agency: Agency, *, today: date, now: datetime) -> int:
    due = project.declaration_review_due
    if not project.declaration_required or due is None:
        return 0
    stage = reminder_stage(due=due, today=today, sent=project.declaration_reminder_sent)
    if stage is None:
        return 0
    project.declaration_reminder_sent = stage
    overdue = stage == "overdue"
    notifications.notify(
        session, recipient_ids=_agency_staff_ids(session, agency), kind="programme.declaration_review_due",
        title_ja="重要技術申告の定期確認の期限を過ぎています" if overdue else "重要技術申告の定期確認の期限が近づいています",
        title_en="A declaration review is overdue" if overdue else "A declaration review is due soon",
        body_ja=f"「{project.title}」の重要技術・技術流出防止措置の申告の定期確認期限は{format_date(due, 'ja')}です。",
        body_en=f"The periodic review of the core-technology and leak-prevention declaration of \"{project.title}\" "
                f"is due on {format_date(due, 'en')}.",
        link=f"/programme/projects/{project.id}#declaration", subject=f"project:{project.id}:declaration:{due.isoformat()}",
        now=now, email_now=True)
    _audit(session, AuditTag.PROGRAMME_DECLARATION_REMIND, now=now, actor=None, subject=f"project:{project.id}",
           data={"stage": stage, "due_on": due.isoformat()})
    return 1


# ---------------------------------------------------------------------------------------------
# The agency's status list


@dataclass(frozen=True)
class StatusRow:
    """One report on the agency's status list."""

    report: ResultsReport
    project: Project
    overdue: bool


def agency_status(session: Session, *, actor: Principal, now: datetime) -> list[StatusRow]:
    """Return the reports of every project the actor's agency funds: overdue first, then by due date."""
    today = _today(now)
    agencies = [a for a in session.scalars(select(Agency).order_by(Agency.id))
                if policy.is_agency_staff(actor, a.organization_id)]
    if not agencies:
        raise Forbidden("資金配分機関の担当者のみ閲覧できます / Only funding-agency staff may see this list")
    ids = [a.id for a in agencies]
    rows = session.execute(select(ResultsReport, Project).join(Project, Project.id == ResultsReport.project_id)
                           .where(Project.agency_id.in_(ids))).all()
    found = [StatusRow(report=r, project=p, overdue=is_overdue(r, today)) for r, p in rows]
    return sorted(found, key=lambda s: (not s.overdue, s.report.state == ReportState.ACCEPTED.value,
                                        s.report.due_on, s.report.id))
