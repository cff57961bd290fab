"""Plan changes after adoption (計画変更, F6, issue 15): requested by the research representative, approved or
returned by the funding agency, applied to the project's plan when approved, recorded with who and when.

Three kinds: a budget change (moves between cost categories and fiscal years, 費目間・年度間の流用), a team change
(研究体制: people added or taken off) and a schedule change (milestone due dates). A budget change that stays in
one fiscal year and moves at most :data:`~banso.programme.change_rules.APPROVAL_SHARE_PERCENT` % of that year's
direct costs is applied at once and the agency is notified (届出); everything else waits for the agency
(``change_rules`` cites JST and NEDO for the line). One change may be open at a time, so a decision always applies
to the plan it was requested against. Services never commit (the unit of work does).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.audit.tags import AuditTag
from banso.authz.policies import programme as policy
from banso.authz.principal import Principal
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.text import clean_text
from banso.notifications import service as notifications
from banso.programme import budget, change_rules, reporting, rules, service
from banso.programme import repository as repo
from banso.programme.budget import Category
from banso.programme.interfaces import CouncilGateway
from banso.programme.models import (
    Agency,
    BudgetItem,
    Milestone,
    PlanChange,
    PlanChangeKind,
    PlanChangeState,
    Project,
    ProposalMember,
)

_audit = service._audit  # one audit helper for the whole domain
REASON_MAX = 5000
KIND_LABELS = {PlanChangeKind.BUDGET.value: ("費目間・年度間の流用", "Budget move"),
               PlanChangeKind.TEAM.value: ("研究体制の変更", "Team change"),
               PlanChangeKind.SCHEDULE.value: ("実施日程の変更", "Schedule change")}


@dataclass(frozen=True)
class ChangeInput:
    """What the research representative asks for; only the part of its kind is read."""

    kind: str
    reason: str
    moves: Sequence[Mapping[str, object]] = ()  # budget: from_year, from_category, to_year, to_category, yen
    add: Sequence[Mapping[str, object]] = ()  # team: user_id, role, effort_percent
    remove: Sequence[int] = ()  # team: user ids
    milestones: Sequence[Mapping[str, object]] = ()  # schedule: id, due_on (date)


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class ChangesView:
    """A project's plan changes and what the reader may do (pages and the API use the same flags)."""

    project: Project
    changes: list[PlanChange]
    may_request: bool
    may_decide: bool  # the agency's staff (a change they requested themselves excepted, per change)
    years: list[int] = field(default_factory=list)
    cells: dict[tuple[int, Category], int] = field(default_factory=dict)
    milestones: list[Milestone] = field(default_factory=list)
    threshold_percent: int = change_rules.APPROVAL_SHARE_PERCENT


def _agency(session: Session, project: Project) -> Agency:
    agency = repo.agency_by_id(session, project.agency_id)
    assert agency is not None
    return agency


def _cells(session: Session, project: Project) -> dict[tuple[int, Category], int]:
    return {(i.fiscal_year, Category(i.category)): i.amount for i in repo.budget_items(session, project.proposal_id)
            if i.category != Category.INDIRECT}


def _years(session: Session, project: Project) -> list[int]:
    return [b.fiscal_year for b in repo.budget(session, project.proposal_id)]


def changes_of(session: Session, *, project_id: int, actor: Principal) -> ChangesView:
    """Return a project's plan changes to whoever sees the project (404 otherwise)."""
    project = service.project_for_reader(session, project_id, actor)
    agency = _agency(session, project)
    return ChangesView(project=project, changes=repo.plan_changes(session, project.id),
                       may_request=policy.can_request_plan_change(actor, lead_id=project.lead_id, state=project.state),
                       may_decide=policy.is_agency_staff(actor, agency.organization_id),
                       years=_years(session, project), cells=_cells(session, project),
                       milestones=repo.milestones(session, project.id))


# ---------------------------------------------------------------------------------------------
# Checking and applying each kind


def _check_budget(session: Session, project: Project, raw: Sequence[Mapping[str, object]]
                  ) -> tuple[list[change_rules.Move], float, bool]:
    moves = change_rules.parse_moves(raw, years=_years(session, project))
    cells = _cells(session, project)
    change_rules.apply_moves(cells, moves)  # 4xx when a cell would go below zero
    return (moves, change_rules.moved_share_percent(cells, moves),
            change_rules.needs_approval(cells, moves, _notified_within_years(session, project)))


def _stored_moves(row: PlanChange) -> list[change_rules.Move]:
    return [change_rules.Move(m["from"][0], Category(m["from"][1]), m["to"][0], Category(m["to"][1]), m["yen"])
            for m in row.detail["moves"]]


def _notified_within_years(session: Session, project: Project) -> dict[int, int]:
    """Return the yen moved inside each fiscal year by budget changes applied on notice (届出) so far."""
    notified = [m for c in repo.plan_changes(session, project.id)
                if c.kind == PlanChangeKind.BUDGET and c.state == PlanChangeState.NOTIFIED for m in _stored_moves(c)]
    return change_rules.moved_within_years(notified)


def _apply_budget(session: Session, project: Project, row: PlanChange, actor: Principal,
                  councils: CouncilGateway | None) -> None:
    moves = _stored_moves(row)
    after = change_rules.apply_moves(_cells(session, project), moves)  # the plan may have moved since: check again
    plan = {line.fiscal_year: line.amount for line in repo.budget(session, project.proposal_id)}
    if any(m.from_year != m.to_year for m in moves):  # 年度間: the fund ledger's commitments follow, same unit of work
        new_plan = change_rules.year_totals_after(plan, moves)
        targets = change_rules.commitment_targets(plan, new_plan, repo.committed_by_year(session, project.id))
        service.follow_plan(session, project=project, targets=targets, plan=new_plan,
                            now=row.decided_at or row.requested_at,
                            actor=actor, memo=f"計画変更 #{row.id} / plan change #{row.id}")
    items = {(i.fiscal_year, i.category): i for i in repo.budget_items(session, project.proposal_id)}
    for (fy, category), yen in after.items():
        item = items.get((fy, category.value))
        if item is None:
            session.add(BudgetItem(proposal_id=project.proposal_id, fiscal_year=fy, category=category.value,
                                   amount=yen))
        else:
            item.amount = yen
    session.flush()
    totals: dict[int, int] = {}
    for item in repo.budget_items(session, project.proposal_id):
        totals[item.fiscal_year] = totals.get(item.fiscal_year, 0) + item.amount
    for line in repo.budget(session, project.proposal_id):  # each year's total: direct + its stored indirect
        line.amount = totals.get(line.fiscal_year, 0)


def _check_team(session: Session, project: Project, change: ChangeInput) -> dict[str, Any]:
    if not change.add and not change.remove:
        raise ValidationFailed("追加又は離脱する人を指定してください / name someone to add or take off", field="add")
    team = {m.user_id for m in repo.members(session, project.proposal_id) if m.user_id is not None}
    added = []
    for i, entry in enumerate(change.add):
        where = f"add[{i}]"
        raw_id = entry.get("user_id")
        user = accounts_repo.user_by_id(session, raw_id) if type(raw_id) is int else None
        if user is None or not user.is_active:
            raise ValidationFailed(f"{where}: 有効な利用者を選んでください / pick an active user", field="add")
        if user.id in team or user.id == project.lead_id:
            raise ValidationFailed(f"{where}: 既に研究体制に含まれています / already on the team", field="add")
        added.append({"user_id": user.id, "role": budget.check_role(str(entry.get("role") or "member"), where=where),
                      "effort_percent": budget.check_effort(entry.get("effort_percent"), where=where)})
    for user_id in change.remove:
        if user_id == project.lead_id:  # the project is the representative's: naming another is not a plan change
            raise ValidationFailed("研究代表者は研究体制の変更で外せません（研究代表者の変更は計画変更ではなく配分機関との"
                                   "契約の変更です） / the research representative cannot be taken off the team by a plan "
                                   "change (changing the representative is a change of the contract, not of the plan)",
                                   field="remove")
        if user_id not in team:
            raise ValidationFailed(f"利用者 {user_id} は研究体制にいない人です / user {user_id} is not on the team", field="remove")
    return {"add": added, "remove": sorted(set(change.remove))}


def _apply_team(session: Session, project: Project, row: PlanChange, actor: Principal,
                councils: CouncilGateway | None) -> None:
    detail = row.detail
    members = repo.members(session, project.proposal_id)
    removed = [m.user_id for m in members if m.user_id in detail["remove"]]
    for member in members:
        if member.user_id in detail["remove"]:
            session.delete(member)
    present = {m.user_id for m in members}
    added = []
    for entry in detail["add"]:
        user = accounts_repo.user_by_id(session, entry["user_id"])
        if user is None or entry["user_id"] in present:
            continue  # gone or added since the request: nothing to add
        session.add(ProposalMember(proposal_id=project.proposal_id, user_id=user.id,
                                   organization_id=user.organization_id, name=user.name_ja, role=entry["role"],
                                   researcher_number=user.researcher_number, effort_percent=entry["effort_percent"]))
        added.append(user.id)
    session.flush()
    if councils is not None and project.council_id is not None:
        _follow_council(session, project, row, councils, actor=actor, added=added,
                        removed=[uid for uid in removed if uid is not None])


def _follow_council(session: Session, project: Project, row: PlanChange, councils: CouncilGateway, *,
                    actor: Principal, added: Sequence[int], removed: Sequence[int]) -> None:
    """The project council follows the team (C1): newcomers are invited and join by their own consent (a foreign
    one then goes through the F7 check on joining); leavers lose their membership with the change's reason."""
    assert project.council_id is not None
    now = row.decided_at or row.requested_at
    reason = f"計画変更（研究体制の変更）により研究体制から外れました / left the project team by plan change #{row.id}: "
    for user_id in removed:
        councils.remove_member(session, council_id=project.council_id, user_id=user_id,
                               reason=(reason + row.reason)[:2000], now=now, actor=actor)
    for user_id in added:
        councils.propose_member(session, council_id=project.council_id, user_id=user_id, now=now, actor=actor)


def _check_schedule(session: Session, project: Project, raw: Sequence[Mapping[str, object]]) -> list[dict[str, Any]]:
    if not raw:
        raise ValidationFailed("変更するマイルストーンを指定してください / name a milestone to move", field="milestones")
    mine = {m.id: m for m in repo.milestones(session, project.id)}
    years = sorted(_years(session, project))
    first, last = rules.fiscal_year_bounds(years[0])[0], rules.fiscal_year_bounds(years[-1])[1]
    out = []
    for i, entry in enumerate(raw):
        where = f"milestones[{i}]"
        mid, due = entry.get("id"), entry.get("due_on")
        if not isinstance(mid, int) or mid not in mine:
            raise ValidationFailed(f"{where}: このプロジェクトのマイルストーンではありません / not a milestone of this "
                                   "project", field="milestones")
        if not isinstance(due, date) or not first <= due <= last:
            raise ValidationFailed(f"{where}: 期限は実施期間内の日付です / the due date must fall within "
                                   f"{first.isoformat()}..{last.isoformat()}", field="milestones")
        out.append({"id": mid, "due_on": due.isoformat(), "was": mine[mid].due_on.isoformat()})
    return out


def _apply_schedule(session: Session, project: Project, row: PlanChange, actor: Principal,
                    councils: CouncilGateway | None) -> None:
    mine = {m.id: m for m in repo.milestones(session, project.id)}
    for entry in row.detail["milestones"]:
        if entry["id"] in mine:
            mine[entry["id"]].due_on = date.fromisoformat(entry["due_on"])


def _apply(session: Session, project: Project, row: PlanChange, actor: Principal,
           councils: CouncilGateway | None) -> None:
    {PlanChangeKind.BUDGET.value: _apply_budget, PlanChangeKind.TEAM.value: _apply_team,
     PlanChangeKind.SCHEDULE.value: _apply_schedule}[row.kind](session, project, row, actor, councils)
    project.updated_at = row.decided_at or row.requested_at


# ---------------------------------------------------------------------------------------------
# Requesting and deciding


def request_change(session: Session, *, project_id: int, change: ChangeInput, now: datetime,
                   actor: Principal) -> PlanChange:
    """Request a plan change (the research representative); a small budget move is applied on notice (届出)."""
    project = service.project_for_reader(session, project_id, actor)
    if not policy.can_request_plan_change(actor, lead_id=project.lead_id, state=project.state):
        raise Forbidden("計画変更を申請できるのは実施中のプロジェクトの研究代表者です / only the research representative "
                        "of an active project requests plan changes")
    if repo.open_plan_change(session, project.id) is not None:
        raise Conflict("審査中の計画変更があります。決定を待ってください / a plan change is awaiting the agency",
                       field="kind")
    reason = clean_text(change.reason, "reason", max_length=REASON_MAX, label="変更の理由")
    share: float | None = None
    if change.kind == PlanChangeKind.BUDGET:
        moves, share, approval = _check_budget(session, project, change.moves)
        detail: dict[str, Any] = {"moves": [m.as_json() for m in moves]}
    elif change.kind == PlanChangeKind.TEAM:
        detail, approval = _check_team(session, project, change), True
    elif change.kind == PlanChangeKind.SCHEDULE:
        detail, approval = {"milestones": _check_schedule(session, project, change.milestones)}, True
    else:
        raise ValidationFailed("変更の種類は「budget」「team」「schedule」のいずれかです / kind must be budget, team or "
                               "schedule", field="kind")
    row = PlanChange(project_id=project.id, kind=change.kind, reason=reason, detail=detail, share_percent=share,
                     state=(PlanChangeState.REQUESTED if approval else PlanChangeState.NOTIFIED).value,
                     requested_by_id=actor.user_id, requested_at=now)
    session.add(row)
    session.flush()
    if not approval:
        row.decided_at = now  # applied on notice: recorded as of the request, by the requester
        _apply(session, project, row, actor, None)  # a budget move inside one year: no council, no ledger change
    tag = AuditTag.PROGRAMME_PLAN_CHANGE_REQUEST if approval else AuditTag.PROGRAMME_PLAN_CHANGE_NOTIFY
    _audit(session, tag, now=now, actor=actor, subject=f"project:{project.id}",
           data={"change_id": row.id, "kind": row.kind, "state": row.state, "share_percent": share})
    _tell_staff(session, project, row, now=now)
    return row


def decide_change(session: Session, *, project_id: int, change_id: int, decision: str, reason: object,
                  now: datetime, actor: Principal, councils: CouncilGateway) -> PlanChange:
    """Approve a requested change (applied to the plan at once) or return it with a reason (the agency's staff).

    Applied in the caller's unit of work with what follows from it: a move between years moves the ledger's
    commitments; a team change invites newcomers to the project council and removes leavers from it.
    """
    project = service.project_for_staff(session, project_id, actor)
    row = session.get(PlanChange, change_id)
    if row is None or row.project_id != project.id:
        raise NotFound("見つかりません / not found")
    if not policy.can_decide_plan_change(actor, agency_org_id=_agency(session, project).organization_id,
                                         requested_by_id=row.requested_by_id):
        raise Forbidden("計画変更を決定できるのは配分機関の担当者です / only the agency's staff decide plan changes")
    if row.state != PlanChangeState.REQUESTED:
        raise Conflict("この計画変更は決定済みです / this plan change has already been decided", field="decision")
    if decision not in ("approve", "return"):
        raise ValidationFailed("決定は「承認」又は「差戻し」です / decision must be approve or return", field="decision")
    text = clean_text(reason, "reason", max_length=REASON_MAX, required=decision == "return", label="理由") or None
    row.decided_at, row.decided_by_id, row.decision_reason = now, actor.user_id, text
    row.state = (PlanChangeState.APPROVED if decision == "approve" else PlanChangeState.RETURNED).value
    if decision == "approve":
        _apply(session, project, row, actor, councils)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_PLAN_CHANGE_DECIDE, now=now, actor=actor, subject=f"project:{project.id}",
           data={"change_id": row.id, "kind": row.kind, "state": row.state})
    _tell_lead(session, project, row, now=now)
    return row


# ---------------------------------------------------------------------------------------------
# Notices (programme notices name the project, never council content: the lead and the agency's staff both
# see the project, policy.can_see_project)


def _notify(session: Session, recipients: list[int], project: Project, row: PlanChange, *, now: datetime,
            kind: str, title: tuple[str, str], body: tuple[str, str]) -> None:
    if recipients:
        notifications.notify(session, recipient_ids=recipients, kind=kind, title_ja=title[0], title_en=title[1],
                             body_ja=body[0], body_en=body[1], link=f"/programme/projects/{project.id}/changes",
                             subject=f"project:{project.id}:plan_change:{row.id}", now=now, email_now=True)


def _tell_staff(session: Session, project: Project, row: PlanChange, *, now: datetime) -> None:
    label_ja, label_en = KIND_LABELS[row.kind]
    staff = reporting._agency_staff_ids(session, _agency(session, project))
    if row.state == PlanChangeState.NOTIFIED:
        _notify(session, staff, project, row, now=now, kind="programme.plan_change_notified",
                title=("計画変更の届出がありました", "A plan change was notified"),
                body=(f"「{project.title}」の{label_ja}（直接経費の{row.share_percent}%）が届け出られ、反映されました。",
                      (f"A {label_en.lower()} of \"{project.title}\" ({row.share_percent}% of the direct costs) "
                       "was notified and applied.")))
    else:
        _notify(session, staff, project, row, now=now, kind="programme.plan_change_requested",
                title=("計画変更の承認申請があります", "A plan change awaits your approval"),
                body=(f"「{project.title}」の{label_ja}が申請されました。承認又は差戻しをしてください。",
                      f"A {label_en.lower()} of \"{project.title}\" was requested. Approve or return it."))


def _tell_lead(session: Session, project: Project, row: PlanChange, *, now: datetime) -> None:
    label_ja, label_en = KIND_LABELS[row.kind]
    if row.state == PlanChangeState.APPROVED:
        title = ("計画変更が承認されました", "Your plan change was approved")
        body = (f"「{project.title}」の{label_ja}が承認され、計画に反映されました。",
                f"The {label_en.lower()} of \"{project.title}\" was approved and applied to the plan.")
    else:
        title = ("計画変更が差し戻されました", "Your plan change was returned")
        body = (f"「{project.title}」の{label_ja}が差し戻されました。理由: {row.decision_reason}",
                f"The {label_en.lower()} of \"{project.title}\" was returned. Reason: {row.decision_reason}")
    _notify(session, [project.lead_id], project, row, now=now, kind="programme.plan_change_decided", title=title,
            body=body)
