"""Interim and final evaluations of adopted projects by evaluators the agency assigns (F6: 中間評価・事後評価).

The agency's staff open an evaluation (interim or final, with a due date) and assign evaluators — people
with the reviewer role who are not on the project's team nor of the lead's organisation. Each evaluator
first declares whether they have a conflict of interest (as reviewers do before reading a proposal, F3);
only after declaring none do they see the project's results reports and grade it (S/A/B/C with a
comment). The staff see every grade and comment side by side and record the overall result, which the
research representative is told (inbox and e-mail) with the note the agency chooses to give.

Evaluators see the evaluation page only — the project's title, plan period and submitted results
reports — never the project page with its money and council (policy.can_see_project is unchanged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts.models import User
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.guard import require_principal, require_visible
from banso.authz.policies import programme as policy
from banso.authz.principal import Principal
from banso.kit.clock import to_jst
from banso.kit.errors import Conflict, Forbidden, ValidationFailed
from banso.kit.japanese import format_date
from banso.kit.text import clean_text
from banso.notifications import service as notifications
from banso.programme import repository as repo
from banso.programme import service
from banso.programme.models import (
    EvaluationAssignment,
    EvaluationGrade,
    EvaluationKind,
    Project,
    ProjectEvaluation,
    ReportState,
    ResultsReport,
)
from banso.programme.report_schedule import reminder_stage, reports_of

_audit = audit.record_for
GRADES = tuple(g.value for g in EvaluationGrade)


def _kind_ja(kind: str) -> str:
    return "中間評価" if kind == EvaluationKind.INTERIM.value else "事後評価"


def _kind_en(kind: str) -> str:
    return "interim evaluation" if kind == EvaluationKind.INTERIM.value else "final evaluation"


def _assignments(session: Session, evaluation_id: int) -> list[EvaluationAssignment]:
    return list(session.scalars(select(EvaluationAssignment).where(EvaluationAssignment.evaluation_id == evaluation_id)
                                .order_by(EvaluationAssignment.id)))


def evaluations_of(session: Session, project_id: int) -> list[ProjectEvaluation]:
    """Return a project's evaluations, oldest first."""
    return list(session.scalars(select(ProjectEvaluation).where(ProjectEvaluation.project_id == project_id)
                                .order_by(ProjectEvaluation.id)))


def progress_of(session: Session, project_ids: list[int]) -> list[tuple[ProjectEvaluation, int, int]]:
    """Return the evaluations of these projects with how many evaluators are assigned and how many graded (the
    agency's status workbook; one statement)."""
    if not project_ids:
        return []
    rows = session.execute(
        select(ProjectEvaluation, func.count(EvaluationAssignment.id), func.count(EvaluationAssignment.grade))
        .outerjoin(EvaluationAssignment, EvaluationAssignment.evaluation_id == ProjectEvaluation.id)
        .where(ProjectEvaluation.project_id.in_(project_ids))
        .group_by(ProjectEvaluation.id).order_by(ProjectEvaluation.project_id, ProjectEvaluation.id)).all()
    return [(e, int(assigned), int(graded)) for e, assigned, graded in rows]


def _team_ids(session: Session, project: Project) -> set[int]:
    return {m.user_id for m in repo.members(session, project.proposal_id) if m.user_id is not None} | {project.lead_id}


def _check_evaluator(session: Session, project: Project, user: User | None) -> User:
    """An evaluator is an active reviewer outside the project's team and the lead's organisation."""
    if user is None or not user.is_active or "reviewer" not in (user.roles or []):
        raise ValidationFailed("評価者には審査員の役割を持つ有効な利用者を指定してください / an evaluator must be an "
                               "active person with the reviewer role", field="evaluator_ids")
    if user.id in _team_ids(session, project) or user.organization_id == project.organization_id:
        raise Conflict("研究チームの構成員又は研究代表者と同じ機関の者は評価者になれません / a member of the team or "
                       "of the lead's organisation cannot evaluate the project", field="evaluator_ids")
    return user


def eligible_evaluators(session: Session, project: Project) -> list[User]:
    """The people staff may assign: active reviewers outside the team and the lead's organisation."""
    team = _team_ids(session, project)
    users = session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.organization_id, User.id))
    return [u for u in users if "reviewer" in (u.roles or []) and u.id not in team
            and u.organization_id != project.organization_id]


@dataclass(frozen=True)
class ProjectEvaluations:
    """A project's evaluations as the project page shows them, and whether the reader may open one."""

    items: list[ProjectEvaluation]
    may_open: bool  # the agency's staff
    candidates: list[User]  # whom the staff may assign (empty for everyone else)


def project_evaluations(session: Session, *, project_id: int, actor: Principal) -> ProjectEvaluations:
    """Return the project's evaluations for a reader of the project page (404 for whoever may not see it)."""
    project = service.project_for_reader(session, project_id, actor)
    agency = repo.agency_by_id(session, project.agency_id)
    assert agency is not None
    staff = policy.is_agency_staff(actor, agency.organization_id)
    return ProjectEvaluations(items=evaluations_of(session, project.id), may_open=staff,
                              candidates=eligible_evaluators(session, project) if staff else [])


# ---------------------------------------------------------------------------------------------
# Opening


def open_evaluation(session: Session, *, project_id: int, kind: str, due_on: date, evaluator_ids: list[int],
                    now: datetime, actor: Principal) -> ProjectEvaluation:
    """Open an interim or final evaluation and assign its evaluators (the agency's staff)."""
    project = service.project_for_staff(session, project_id, actor)
    if kind not in (EvaluationKind.INTERIM.value, EvaluationKind.FINAL.value):
        raise ValidationFailed("評価の種類は中間評価又は事後評価です / kind must be interim or final", field="kind")
    if due_on <= to_jst(now).date():
        raise ValidationFailed("評価の期限は明日以降の日付にしてください / the due date must be after today",
                               field="due_on")
    ids = list(dict.fromkeys(evaluator_ids))
    if not ids:
        raise ValidationFailed("評価者を1人以上指定してください / assign at least one evaluator", field="evaluator_ids")
    users = accounts_repo.users_by_id(session, ids)
    evaluators = [_check_evaluator(session, project, users.get(i)) for i in ids]
    row = ProjectEvaluation(project_id=project.id, kind=kind, due_on=due_on, created_by_id=actor.user_id,
                            created_at=now)
    session.add(row)
    session.flush()
    for user in evaluators:
        session.add(EvaluationAssignment(evaluation_id=row.id, evaluator_id=user.id))
    session.flush()
    _audit(session, AuditTag.PROGRAMME_EVALUATION_OPEN, now=now, actor=actor, subject=f"project:{project.id}",
           data={"evaluation_id": row.id, "kind": kind, "due_on": due_on.isoformat(),
                 "evaluator_ids": [u.id for u in evaluators]})
    notifications.notify(
        session, recipient_ids=[u.id for u in evaluators], kind="programme.evaluation_assigned",
        title_ja=f"{_kind_ja(kind)}の評価者に指定されました", title_en=f"You were assigned to an {_kind_en(kind)}",
        body_ja=f"「{project.title}」の{_kind_ja(kind)}をお願いします。まず利益相反の有無を申告してください。"
                f"期限: {format_date(due_on, 'ja')}",
        body_en=f"Please evaluate \"{project.title}\" ({_kind_en(kind)}). First declare whether you have a conflict "
                f"of interest. Due: {format_date(due_on, 'en')}",
        link=f"/programme/evaluations/{row.id}", subject=f"evaluation:{row.id}", now=now, email_now=True)
    return row


# ---------------------------------------------------------------------------------------------
# Reading: one decision for the page and the API


@dataclass(frozen=True)
class EvaluationView:
    """An evaluation as one reader may see it, with what they may do (pages and the API share the flags)."""

    evaluation: ProjectEvaluation
    project: Project
    is_staff: bool
    own: EvaluationAssignment | None  # the reader's assignment, if an evaluator
    may_declare: bool
    may_read: bool  # the project's reports: staff, or an evaluator who declared no conflict
    may_grade: bool
    may_complete: bool
    reports: list[ResultsReport]  # submitted or accepted reports, when may_read
    assignments: list[EvaluationAssignment]  # every evaluator's declaration and grade: staff only
    names: dict[int, User]


def _load(session: Session, evaluation_id: int, actor: Principal) -> tuple[ProjectEvaluation, Project, bool,
                                                                          EvaluationAssignment | None]:
    row = session.get(ProjectEvaluation, evaluation_id)
    require_visible(row is not None, "evaluation")
    assert row is not None
    project = repo.project_by_id(session, row.project_id)
    assert project is not None
    agency = repo.agency_by_id(session, project.agency_id)
    assert agency is not None
    staff = policy.is_agency_staff(actor, agency.organization_id)
    own = next((a for a in _assignments(session, row.id) if a.evaluator_id == actor.user_id), None)
    require_visible(staff or own is not None, "evaluation")  # anyone else: 404, not 403 (I7 style)
    return row, project, staff, own


def get_evaluation(session: Session, *, evaluation_id: int, actor: Principal,
                   now: datetime | None = None) -> EvaluationView:
    """Return an evaluation for its staff and its evaluators (404 for everyone else); with ``now`` a read of
    what it holds (reports, grades, comments, conflict reasons) is audited, as proposal reads are."""
    row, project, staff, own = _load(session, evaluation_id, actor)
    open_ = row.completed_at is None
    may_read = staff or (own is not None and own.has_conflict is False)
    everyone = _assignments(session, row.id) if staff else []
    reports = [r for r in reports_of(session, project.id)
               if r.state in (ReportState.SUBMITTED.value, ReportState.ACCEPTED.value)] if may_read else []
    names = accounts_repo.users_by_id(session, {a.evaluator_id for a in everyone})
    if now is not None and (reports or any(a.grade or a.conflict_reason for a in everyone)):
        _audit(session, AuditTag.PROGRAMME_EVALUATION_READ, now=now, actor=actor,
               subject=f"project:{project.id}", data={"evaluation_id": row.id,
                                                       "report_ids": [r.id for r in reports]})
    return EvaluationView(
        evaluation=row, project=project, is_staff=staff, own=own,
        may_declare=open_ and own is not None and own.has_conflict is None,
        may_read=may_read, may_grade=open_ and own is not None and own.has_conflict is False,
        may_complete=open_ and staff and any(a.grade for a in everyone), reports=reports, assignments=everyone,
        names=names)


def evaluations_for(session: Session, *, actor: Principal) -> list[tuple[ProjectEvaluation, Project,
                                                                         EvaluationAssignment]]:
    """Return the evaluations ``actor`` is assigned to, open ones first."""
    rows = session.execute(
        select(ProjectEvaluation, Project, EvaluationAssignment)
        .join(EvaluationAssignment, EvaluationAssignment.evaluation_id == ProjectEvaluation.id)
        .join(Project, Project.id == ProjectEvaluation.project_id)
        .where(EvaluationAssignment.evaluator_id == actor.user_id)).all()
    found = [(e, p, a) for e, p, a in rows]
    return sorted(found, key=lambda t: (t[0].completed_at is not None, t[0].due_on, t[0].id))


# ---------------------------------------------------------------------------------------------
# Evaluators: declare, then grade


def declare_conflict(session: Session, *, evaluation_id: int, has_conflict: bool, reason: object, now: datetime,
                     actor: Principal) -> EvaluationAssignment:
    """Declare whether one has a conflict of interest with the project; final once made."""
    row, project, _, own = _load(session, evaluation_id, actor)
    if own is None:
        raise Forbidden("この評価の評価者ではありません / You are not an evaluator of this evaluation")
    if own.has_conflict is not None:
        raise Conflict("利益相反は申告済みです / You have already declared", field="has_conflict")
    if row.completed_at is not None:
        raise Conflict("この評価は完了しています / This evaluation is completed", field="has_conflict")
    text = clean_text(reason, "reason", max_length=2000, required=has_conflict, label="理由") or None
    own.has_conflict, own.conflict_reason, own.declared_at = has_conflict, text, now
    session.flush()
    _audit(session, AuditTag.PROGRAMME_EVALUATION_DECLARE, now=now, actor=actor, subject=f"project:{project.id}",
           data={"evaluation_id": row.id, "has_conflict": has_conflict})
    return own


def grade(session: Session, *, evaluation_id: int, grade_value: str, comment: object, now: datetime,
          actor: Principal) -> EvaluationAssignment:
    """Grade the project (S/A/B/C) with a comment; may be changed until the evaluation is completed."""
    row, project, _, own = _load(session, evaluation_id, actor)
    if own is None or own.has_conflict is not False:
        raise Forbidden("利益相反がないことを申告した評価者のみ評価できます / Only an evaluator who declared no "
                        "conflict may grade")
    if row.completed_at is not None:
        raise Conflict("この評価は完了しています / This evaluation is completed", field="grade")
    if grade_value not in GRADES:
        raise ValidationFailed("評価は S・A・B・C のいずれかです / grade must be S, A, B or C", field="grade")
    own.grade = grade_value
    own.comment = clean_text(comment, "comment", max_length=10_000, label="評価コメント")
    own.graded_at = now
    session.flush()
    _audit(session, AuditTag.PROGRAMME_EVALUATION_GRADE, now=now, actor=actor, subject=f"project:{project.id}",
           data={"evaluation_id": row.id, "grade": grade_value})
    return own


# ---------------------------------------------------------------------------------------------
# Staff: the overall result


def complete(session: Session, *, evaluation_id: int, result: str, note: object, now: datetime,
             actor: Principal) -> ProjectEvaluation:
    """Record the overall result (the agency's staff) and tell the research representative."""
    require_principal(actor)
    row, project, staff, _ = _load(session, evaluation_id, actor)
    if not staff:
        raise Forbidden("資金配分機関の担当者のみ評価結果を確定できます / Only the agency's staff record the result")
    if row.completed_at is not None:
        raise Conflict("この評価は完了しています / This evaluation is completed", field="result")
    if not any(a.grade for a in _assignments(session, row.id)):
        raise Conflict("評価者の評価がまだありません / No evaluator has graded yet", field="result")
    if result not in GRADES:
        raise ValidationFailed("評価結果は S・A・B・C のいずれかです / result must be S, A, B or C", field="result")
    row.result = result
    row.result_note = clean_text(note, "note", max_length=10_000, label="研究代表者への所見")
    row.completed_at = now
    session.flush()
    _audit(session, AuditTag.PROGRAMME_EVALUATION_COMPLETE, now=now, actor=actor, subject=f"project:{project.id}",
           data={"evaluation_id": row.id, "result": result})
    notifications.notify(
        session, recipient_ids=[project.lead_id], kind="programme.evaluation_result",
        title_ja=f"{_kind_ja(row.kind)}の結果", title_en=f"Result of the {_kind_en(row.kind)}",
        body_ja=f"「{project.title}」の{_kind_ja(row.kind)}の結果: {result}。所見: {row.result_note}",
        body_en=f"Result of the {_kind_en(row.kind)} of \"{project.title}\": {result}. Note: {row.result_note}",
        link=f"/programme/projects/{project.id}#evaluations", subject=f"project:{project.id}", now=now,
        email_now=True)
    return row


# ---------------------------------------------------------------------------------------------
# Reminders (called by reporting.run_due)


def remind_evaluators(session: Session, *, today: date, now: datetime) -> int:
    """Remind evaluators who have not graded an open evaluation: once due soon, once overdue."""
    sent = 0
    rows = session.execute(select(ProjectEvaluation, EvaluationAssignment)
                           .join(EvaluationAssignment, EvaluationAssignment.evaluation_id == ProjectEvaluation.id)
                           .where(ProjectEvaluation.completed_at.is_(None), EvaluationAssignment.grade.is_(None))
                           .order_by(EvaluationAssignment.id)).all()
    for evaluation, assignment in rows:
        if assignment.has_conflict:
            continue  # a declared conflict ends the task
        stage = reminder_stage(due=evaluation.due_on, today=today, sent=assignment.reminder_sent)
        if stage is None:
            continue
        assignment.reminder_sent = stage
        project = repo.project_by_id(session, evaluation.project_id)
        assert project is not None
        overdue = stage == "overdue"
        notifications.notify(
            session, recipient_ids=[assignment.evaluator_id], kind="programme.evaluation_due",
            title_ja="評価の期限を過ぎています" if overdue else "評価の期限が近づいています",
            title_en="An evaluation is overdue" if overdue else "An evaluation is due soon",
            body_ja=f"「{project.title}」の{_kind_ja(evaluation.kind)}の期限は{format_date(evaluation.due_on, 'ja')}です。",
            body_en=f"The {_kind_en(evaluation.kind)} of \"{project.title}\" is due on "
                    f"{format_date(evaluation.due_on, 'en')}.",
            link=f"/programme/evaluations/{evaluation.id}", subject=f"evaluation:{evaluation.id}", now=now,
            email_now=True)
        _audit(session, AuditTag.PROGRAMME_EVALUATION_REMIND, now=now, actor=None, subject=f"project:{project.id}",
               data={"evaluation_id": evaluation.id, "evaluator_id": assignment.evaluator_id, "stage": stage})
        sent += 1
    return sent
