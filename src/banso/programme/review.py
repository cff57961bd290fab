"""Review as agencies run it and research integrity (F6, issue 15): reviewers assigned per proposal, the panel
view (scores and comments side by side), integrity disclosures and changes after adoption, and the
duplication/concentration check (不合理な重複・過度の集中). Services never commit (the unit of work does)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts.models import User
from banso.audit.tags import AuditTag
from banso.authz.guard import require_visible
from banso.authz.policies import programme as policy
from banso.authz.principal import Principal
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.text import clean_text
from banso.notifications import service as notifications
from banso.programme import integrity, service
from banso.programme import repository as repo
from banso.programme.models import (
    ConflictDeclaration,
    Disclosure,
    IntegritySignature,
    PanelDecision,
    Proposal,
    ProposalState,
    ReviewAssignment,
    Score,
)

_audit = service._audit  # one audit helper for the whole domain


def _proposal_for_staff(session: Session, proposal_id: int, actor: Principal,
                        now: datetime) -> tuple[Proposal, policy.ProposalStanding]:
    proposal = repo.proposal_by_id(session, proposal_id)
    if proposal is None:
        raise NotFound("提案が見つかりません / proposal not found")
    standing = service._standing(session, proposal, actor, now)
    require_visible(policy.can_see_proposal(actor, standing), "proposal")
    if not policy.can_manage_call(actor, standing.agency_org_id):
        raise Forbidden("審査委員の割当は配分機関の担当者のみ行えます / only the agency's staff assign reviewers")
    return proposal, standing


# ---------------------------------------------------------------------------------------------
# Reviewers per proposal


def assign_reviewer(session: Session, *, proposal_id: int, reviewer_id: int, now: datetime,
                    actor: Principal) -> ReviewAssignment:
    """Assign a reviewer (担当審査委員) to one proposal; from then on only assigned reviewers review it (F6)."""
    proposal, standing = _proposal_for_staff(session, proposal_id, actor, now)
    if proposal.state != ProposalState.SUBMITTED:
        raise Conflict(f"この提案は審査中ではありません（{proposal.state}） / the proposal is {proposal.state}",
                       field="state")
    user = accounts_repo.user_by_id(session, reviewer_id)
    if user is None or not policy.can_assign_reviewer(actor, standing, roles=user.roles, is_active=user.is_active,
                                                       reviewer_id=user.id, reviewer_org_id=user.organization_id):
        raise ValidationFailed("審査委員の役割を持つ有効な利用者で、提案者・研究体制の機関に属さない人を選んでください / "
                               "pick an active reviewer who is not an applicant nor of an applicant's organisation",
                               field="reviewer_id")
    if repo.assignment(session, proposal.id, user.id) is not None:
        raise Conflict("この審査委員は割当済みです / the reviewer is already assigned", field="reviewer_id")
    row = ReviewAssignment(proposal_id=proposal.id, reviewer_id=user.id, assigned_by_id=actor.user_id,
                           assigned_at=now)
    session.add(row)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_REVIEWER_ASSIGN, now=now, actor=actor, subject=f"proposal:{proposal.id}",
           data={"reviewer_id": user.id})
    # The reviewer may know the title (they declare conflicts on it); the link leads to the review queue.
    notifications.notify(
        session, recipient_ids=[user.id], kind="programme.reviewer_assigned",
        title_ja=f"審査の担当になりました（受付番号 {proposal.receipt_number}）",
        title_en=f"You were assigned a proposal to review (receipt number {proposal.receipt_number})",
        body_ja=f"提案「{proposal.title}」の審査を担当します。まず利益相反の有無を申告してください。"
                "締切後に内容を閲覧・評価できます。",
        body_en=f"You review the proposal \"{proposal.title}\". First declare whether you have a conflict of "
                "interest; you can read and score it after the call closes.",
        link="/programme/review", subject=f"proposal:{proposal.id}:review:{user.id}", now=now)
    return row


def unassign_reviewer(session: Session, *, proposal_id: int, reviewer_id: int, now: datetime,
                      actor: Principal) -> None:
    """Take a reviewer off a proposal before they have scored it."""
    proposal, _ = _proposal_for_staff(session, proposal_id, actor, now)
    row = repo.assignment(session, proposal.id, reviewer_id)
    if row is None:
        raise NotFound("審査の割当てが見つかりません / assignment not found")
    if repo.score(session, proposal.id, reviewer_id) is not None:
        raise Conflict("評価済みの審査委員は割当を解除できません / the reviewer has already scored this proposal",
                       field="reviewer_id")
    session.delete(row)
    session.flush()
    # The notice of the assignment goes with it (notifications CONTRACT 3: hidden the moment access ends).
    notifications.hide_for_subject(session, user_id=reviewer_id, subject=f"proposal:{proposal.id}:review:{reviewer_id}",
                                   now=now)
    _audit(session, AuditTag.PROGRAMME_REVIEWER_UNASSIGN, now=now, actor=actor, subject=f"proposal:{proposal.id}",
           data={"reviewer_id": reviewer_id})


# ---------------------------------------------------------------------------------------------
# The panel view


@dataclass
class ReviewerLine:
    """One reviewer's standing and score on one proposal (the panel view)."""

    reviewer_id: int
    name: str
    assigned: bool
    declaration: ConflictDeclaration | None
    score: Score | None


@dataclass
class PanelRow:
    """One proposal in the panel view: reviewers' scores and comments side by side, the mean, the decision."""

    proposal: Proposal
    reviewers: list[ReviewerLine]
    mean_score: float | None
    decision: PanelDecision | None
    flags: int = 0  # duplication/concentration flags on this proposal


@dataclass
class PanelView:
    """The panel meeting view (審査会) of one call, for the agency's staff."""

    call_id: int
    rubric: list[dict[str, object]]
    rows: list[PanelRow] = field(default_factory=list)
    review_open: bool = False  # scoring opens when the call closes (F6)
    candidates: list[User] = field(default_factory=list)  # reviewers the staff may assign (the page's picker)
    call_code: str = ""


def panel_view(session: Session, *, call_id: int, actor: Principal, now: datetime) -> PanelView:
    """Return the panel view of a call for its agency's staff (others: 404/403); the read is audited (I8)."""
    call, _ = service._call_for_staff(session, call_id, actor)
    proposals = repo.proposals(session, policy.visible_proposals(actor, now=now, call_id=call.id))
    proposals = [p for p in proposals if p.state != ProposalState.DRAFT]
    ids = [p.id for p in proposals]
    assigned = repo.assignments(session, ids)
    conflicts = repo.conflicts_on(session, ids)
    scores = repo.scores_on(session, ids)
    panel = {m.user_id for m in repo.panel(session, call.id)}
    people = accounts_repo.users_by_id(
        session, panel | {a.reviewer_id for a in assigned} | {c.reviewer_id for c in conflicts}
        | {s.reviewer_id for s in scores})
    decisions = repo.decisions_on(session, ids)
    flagged = _flag_counts(session)
    active = accounts_repo.users(session, select(User).where(User.is_active.is_(True)).order_by(User.id))
    view = PanelView(call_id=call.id, rubric=list(call.rubric), call_code=call.code,
                     review_open=policy.review_started(closes_at=call.closes_at, now=now),
                     candidates=[u for u in active if policy.is_panel_eligible(roles=u.roles, is_active=u.is_active)])
    for p in proposals:
        mine = [a.reviewer_id for a in assigned if a.proposal_id == p.id]
        seated = mine or sorted(panel)  # F6: no assignment → the panel-wide rule
        decl = {c.reviewer_id: c for c in conflicts if c.proposal_id == p.id}
        sc = {s.reviewer_id: s for s in scores if s.proposal_id == p.id}
        who = list(dict.fromkeys([*seated, *decl, *sc]))
        lines = [ReviewerLine(reviewer_id=r, name=people[r].name_ja if r in people else f"#{r}", assigned=r in mine,
                              declaration=decl.get(r), score=sc.get(r)) for r in who]
        totals = [s.total for s in sc.values()]
        view.rows.append(PanelRow(proposal=p, reviewers=lines, decision=decisions.get(p.id),
                                  mean_score=round(sum(totals) / len(totals), 3) if totals else None,
                                  flags=flagged.get(p.id, 0)))
    _audit(session, AuditTag.PROGRAMME_PANEL_READ, now=now, actor=actor, subject=f"call:{call.id}",
           data={"proposals": len(ids)})
    return view


# ---------------------------------------------------------------------------------------------
# Integrity disclosures


@dataclass
class IntegrityView:
    """A proposal's disclosures, the changes declared after adoption and the signed declarations."""

    proposal: Proposal
    disclosures: list[Disclosure]
    changes: list[Disclosure]
    signatures: list[IntegritySignature]
    can_declare_change: bool


def integrity_of(session: Session, *, proposal_id: int, actor: Principal, now: datetime) -> IntegrityView:
    """Return a proposal's integrity disclosures to its applicants and the call's staff (404 to anyone else,
    reviewers included); a staff read is audited (I8)."""
    proposal, standing = service._visible_proposal(session, proposal_id, actor, now)
    require_visible(policy.can_see_integrity(actor, standing), "proposal")
    rows = repo.disclosures(session, proposal.id)
    if not policy.is_applicant(actor, standing):
        _audit(session, AuditTag.PROGRAMME_INTEGRITY_READ, now=now, actor=actor, subject=f"proposal:{proposal.id}")
    return IntegrityView(proposal=proposal, disclosures=[d for d in rows if not d.after_adoption],
                         changes=[d for d in rows if d.after_adoption], signatures=repo.signatures(session, proposal.id),
                         can_declare_change=policy.is_applicant(actor, standing)
                         and proposal.state == ProposalState.ADOPTED)


def declare_change(session: Session, *, proposal_id: int, line: integrity.DisclosureLine, reason: str,
                   now: datetime, actor: Principal) -> Disclosure:
    """Declare a change to the disclosures after adoption (採択後の変更申告; an applicant, audited, F6)."""
    proposal, standing = service._visible_proposal(session, proposal_id, actor, now)
    if not policy.is_applicant(actor, standing):
        raise Forbidden("変更を申告できるのは研究体制の者のみです / only the project's team declares changes")
    if proposal.state != ProposalState.ADOPTED:
        raise Conflict("採択後の変更のみ申告できます（提出前は提案を修正してください） / only an adopted proposal takes "
                       "declared changes; edit the proposal before the close instead", field="state")
    checked = service._check_disclosures([line])[0]
    reason_v = clean_text(reason, "reason", max_length=2000)
    row = service._disclosure_row(proposal, checked, actor.user_id, now, after_adoption=True, change_reason=reason_v)
    session.add(row)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_INTEGRITY_CHANGE, now=now, actor=actor, subject=f"proposal:{proposal.id}",
           data={"disclosure_id": row.id, "kind": row.kind, "foreign": row.foreign})
    return row


# ---------------------------------------------------------------------------------------------
# Duplication and concentration


def _inputs(session: Session) -> tuple[list[integrity.Engagement], list[integrity.OtherFunding],
                                       dict[int, Proposal], dict[int, int]]:
    engagements: list[integrity.Engagement] = []
    proposals: dict[int, Proposal] = {}
    agency_of: dict[int, int] = {}
    lead_number: dict[int, str] = {}
    for member, proposal, call in repo.live_engagements(session):
        assert member.researcher_number is not None
        proposals[proposal.id], agency_of[proposal.id] = proposal, call.agency_id
        if member.role == "lead":
            lead_number[proposal.id] = member.researcher_number
        engagements.append(integrity.Engagement(
            researcher_number=member.researcher_number, proposal_id=proposal.id, title=proposal.title,
            effort_percent=member.effort_percent, state=proposal.state, receipt_number=proposal.receipt_number,
            agency_id=call.agency_id))
    funding = []
    for d in repo.live_disclosures(session):
        # A line without an e-Rad number is the proposer's own (the lead's number on that proposal).
        number = d.researcher_number or lead_number.get(d.proposal_id)
        if number:
            funding.append(integrity.OtherFunding(researcher_number=number, proposal_id=d.proposal_id, name=d.name,
                                                  agency=d.agency, effort_percent=d.effort_percent, kind=d.kind))
    return engagements, funding, proposals, agency_of


def _flag_counts(session: Session) -> dict[int, int]:
    engagements, funding, _, _ = _inputs(session)
    counts: dict[int, int] = {}
    for flag in integrity.duplication_flags(engagements, funding):
        for pid in flag.proposal_ids:
            counts[pid] = counts.get(pid, 0) + 1
    return counts


@dataclass
class FlaggedProposal:
    """A proposal named in a flag, as much as the reader may know of it."""

    proposal_id: int
    receipt_number: str | None
    state: str
    own_agency: bool
    title: str | None  # only for proposals of the reader's own agency


@dataclass
class FlagView:
    """One duplication/concentration flag with its evidence, for the staff of an agency concerned."""

    kind: str
    researcher_number: str
    score: float
    proposals: list[FlaggedProposal]
    evidence: dict[str, object]


def duplication_flags(session: Session, *, actor: Principal, now: datetime,
                      call_id: int | None = None) -> list[FlagView]:
    """Return the flags that touch a proposal of the actor's agency (optionally one call), with their evidence.

    Every live proposal and project counts towards the check (as e-Rad does across agencies); another agency's
    proposal is named by receipt number and state only, never by title (least privilege). Audited (I8).
    """
    agencies = [a for a in repo.agencies(session) if policy.is_agency_staff(actor, a.organization_id)]
    if not agencies:
        raise Forbidden("重複・集中チェックは配分機関の担当者のみ閲覧できます / only agency staff read duplication flags")
    own = {a.id for a in agencies}
    engagements, funding, proposals, agency_of = _inputs(session)
    views = []
    for flag in integrity.duplication_flags(engagements, funding):
        mine = [pid for pid in flag.proposal_ids if agency_of.get(pid) in own
                and (call_id is None or proposals[pid].call_id == call_id)]
        if not mine:
            continue
        named = [FlaggedProposal(proposal_id=pid, receipt_number=proposals[pid].receipt_number,
                                 state=proposals[pid].state, own_agency=agency_of[pid] in own,
                                 title=proposals[pid].title if agency_of[pid] in own else None)
                 for pid in flag.proposal_ids]
        views.append(FlagView(kind=flag.kind, researcher_number=flag.researcher_number, score=flag.score,
                              proposals=named, evidence=_evidence_for(flag, agency_of, own)))
    _audit(session, AuditTag.PROGRAMME_DUPLICATION_READ, now=now, actor=actor, subject="programme:duplication",
           data={"flags": len(views), "call_id": call_id})
    return views


def _evidence_for(flag: integrity.Flag, agency_of: dict[int, int], own: set[int]) -> dict[str, object]:
    """Keep the evidence to what the reader's agency may know: another agency's effort parts lose their ids."""
    evidence = dict(flag.evidence)
    parts = evidence.get("parts")
    if isinstance(parts, list):
        evidence["parts"] = [p if agency_of.get(int(p["proposal_id"])) in own
                             else {**p, "proposal_id": None} for p in parts]
    return evidence

