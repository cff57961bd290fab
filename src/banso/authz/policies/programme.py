"""Who may see and do what in the K Program (F1–F5, C2) — the only place that decides it.

* **Registry** (技術リスト): every signed-in person reads it; agency staff and ministry officers edit it.
* **Calls** (公募): published calls are public to every signed-in person; drafts only to the staff of
  the call's agency. Staff of the agency manage the call, its panel, decisions and the ledger.
  Staff of an agency are people with ``PROGRAMME_MANAGE`` in the agency's organisation (any
  such person when the agency has no organisation on record).
* **Proposals** (提案) are not public. They are seen by the proposer and team members with an
  account, by the call's agency staff, and by a panel reviewer who has declared no conflict of
  interest (利益相反なし) for that proposal and who is not from the proposer's or a team member's
  organisation. Everyone else — including a conflicted reviewer, a reviewer from the proposer's
  organisation and a reviewer who has not declared yet — gets 404 (I7), and the proposal never
  appears in their lists. A reviewer reads nothing before the call closes (F6: a submitted proposal
  may still be edited until then), and a draft (一時保存) is seen by its applicants alone.
* **Reviewers per proposal** (担当審査委員, F6): the agency's staff assign reviewers to a proposal. Once a
  proposal has an assignment, only its assigned reviewers declare and review it (a panel reviewer who is
  not assigned gets 404); a proposal with no assignment keeps the panel-wide rule above. An assigned
  reviewer needs the reviewer role, not the panel. Either way a reviewer declares conflicts first and
  reads nothing before the close.
* **Research-plan documents** (研究提案書・様式, F6): sealed under the proposal's own key; read by the
  applicants at any time, by the call's staff (never a draft) and by a seated reviewer who declared no
  conflict — after the call closes only. The proposer uploads or replaces them until the close.
* **Plan changes** (計画変更, F6): seen by whoever sees the project; requested by the research representative
  of an active project; approved or returned by the funding agency's staff.
* **Review queue**: a panel reviewer sees title and organisation of the proposals they may
  declare on (not same-organisation, not their own) so they can declare conflicts.
* **Projects** (採択課題) are seen by their team, the call's officer and the agency's staff.
* **Panel and officers** are picked by role: a call's panel takes active people with the reviewer
  role who are not on it yet; a call names an active person with the officer role.
* **Page actions**: the proposer withdraws a submitted proposal; an unconflicted panel reviewer who
  is not the agency's staff scores it (staff see every score instead); the agency's staff record
  the decision on a submitted proposal, publish a draft call, manage the panel and the project's
  money and milestones.
* **Commissions** (委託, F5): ministry officers (``COUNCIL_PROPOSE``) assess and commission. A
  commission is seen by its owner side (the commissioning officer and officers of the commissioning
  organisation) and by the people the institution named on its roster who have acknowledged the
  Art. 64 duty personally (issue 13); everyone else, colleagues at the institution included, gets
  404 (I7). A named person who has not acknowledged yet, and the institution's contact, see only the
  duty (title, terms, their own standing) to acknowledge it or to manage the roster. Removal from the
  roster ends access at once; the record of the duty remains. Engaged people complete tasks and file
  deliverables while the commission is active; the owner side closes or cancels it while active,
  names the institution's contact, and may take a person off the roster as the contact may.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, false, or_, select

from banso.accounts.models import User
from banso.authz.permissions import Permission, Role
from banso.authz.principal import Principal
from banso.programme.models import (
    Agency,
    Call,
    CallState,
    Commission,
    CommissionRosterEntry,
    CommissionState,
    ConflictDeclaration,
    PanelMember,
    Project,
    Proposal,
    ProposalMember,
    ProposalState,
    ReviewAssignment,
)


@dataclass(frozen=True)
class ProposalStanding:
    """The facts about one person and one proposal that the policy decides on."""

    proposer_id: int
    proposer_org_id: int
    team_user_ids: frozenset[int]
    team_org_ids: frozenset[int]
    agency_org_id: int | None
    on_panel: bool
    conflict: bool | None  # the person's own declaration: None = not declared yet
    state: str = ProposalState.SUBMITTED.value
    call_closed: bool = False  # the call's window has ended (締切後): review starts only then (F6)
    assigned: bool = False  # the person is assigned to this proposal (F6)
    has_assignments: bool = False  # the proposal has any assigned reviewer (then the panel-wide rule ends)


def can_edit_registry(actor: Principal) -> bool:
    """Agency staff and ministry officers maintain the technology registry (F1)."""
    return actor.has(Permission.PROGRAMME_MANAGE) or actor.has(Permission.COUNCIL_PROPOSE)


def is_agency_staff(actor: Principal, agency_org_id: int | None) -> bool:
    """Return True for programme managers of the agency's organisation."""
    if not actor.has(Permission.PROGRAMME_MANAGE):
        return False
    return agency_org_id is None or actor.organization_id == agency_org_id


def can_see_call(actor: Principal, *, state: str, agency_org_id: int | None) -> bool:
    """Published calls are public to participants; drafts belong to the agency."""
    return state == CallState.PUBLISHED or is_agency_staff(actor, agency_org_id)


def is_applicant(actor: Principal, standing: ProposalStanding) -> bool:
    """Return True for the proposer and team members with an account."""
    return actor.user_id == standing.proposer_id or actor.user_id in standing.team_user_ids


def same_organisation(actor: Principal, standing: ProposalStanding) -> bool:
    """Return True when the reviewer belongs to the proposer's or a team member's organisation."""
    return actor.organization_id == standing.proposer_org_id or actor.organization_id in standing.team_org_ids


def is_draft(standing: ProposalStanding) -> bool:
    """A draft (一時保存) belongs to its applicants alone: staff and reviewers never see it (F6)."""
    return standing.state == ProposalState.DRAFT


def review_started(*, closes_at: datetime, now: datetime) -> bool:
    """Review (reading and scoring) starts when the call's window has ended (F6)."""
    return now > closes_at


def can_edit_proposal(actor: Principal, standing: ProposalStanding) -> bool:
    """The proposer edits a draft, or a submitted proposal until the call closes (F6; every edit is audited)."""
    return (actor.user_id == standing.proposer_id and not standing.call_closed
            and standing.state in (ProposalState.DRAFT, ProposalState.SUBMITTED))


def can_submit_draft(actor: Principal, standing: ProposalStanding) -> bool:
    """The proposer submits a draft after its confirmation page (確認画面), before the call closes."""
    return can_edit_proposal(actor, standing) and is_draft(standing)


def is_seated(standing: ProposalStanding) -> bool:
    """The person reviews this proposal: assigned to it, or on the panel of a proposal nobody is assigned to."""
    return standing.assigned or (standing.on_panel and not standing.has_assignments)


def can_declare_conflict(actor: Principal, standing: ProposalStanding) -> bool:
    """Seated reviewers outside the applicants' organisations declare conflicts (they may see the title)."""
    return (actor.has(Permission.PROGRAMME_REVIEW) and is_seated(standing) and not is_applicant(actor, standing)
            and not same_organisation(actor, standing) and not is_draft(standing))


def can_review(actor: Principal, standing: ProposalStanding) -> bool:
    """A reviewer sees and scores a proposal only after the call closes and after declaring no conflict (F6)."""
    # F6: before the close a proposal may still change and others may still apply; no reviewer reads it.
    return can_declare_conflict(actor, standing) and standing.conflict is False and standing.call_closed


def can_see_proposal(actor: Principal, standing: ProposalStanding) -> bool:
    """Applicants; the agency's staff and unconflicted panel reviewers after the close, never a draft; else 404."""
    if is_applicant(actor, standing):
        return True
    return not is_draft(standing) and (is_agency_staff(actor, standing.agency_org_id) or can_review(actor, standing))


def can_read_plan_documents(actor: Principal, standing: ProposalStanding) -> bool:
    """Research-plan documents (研究提案書・様式, F6): the proposer's team; the call's staff and a seated reviewer
    who declared no conflict, only after the call closes, never a draft; everyone else 404 (I7)."""
    if is_applicant(actor, standing):
        return True
    # F6: a reviewer reads nothing before the close (can_review holds the close and the declaration).
    return not is_draft(standing) and (is_agency_staff(actor, standing.agency_org_id) or can_review(actor, standing))


def can_upload_plan_document(actor: Principal, standing: ProposalStanding) -> bool:
    """The proposer uploads (or replaces) documents while the proposal is a draft or submitted, before the close."""
    return can_edit_proposal(actor, standing)


def can_manage_call(actor: Principal, agency_org_id: int | None) -> bool:
    """The agency's staff run a call: panel, decisions, adoption."""
    return is_agency_staff(actor, agency_org_id)


def can_see_project(actor: Principal, *, team_user_ids: frozenset[int], officer_id: int,
                    agency_org_id: int | None) -> bool:
    """A project is seen by its team, the call's officer and the agency's staff."""
    return (actor.user_id in team_user_ids or actor.user_id == officer_id
            or is_agency_staff(actor, agency_org_id))


def can_request_plan_change(actor: Principal, *, lead_id: int, state: str) -> bool:
    """The research representative (研究代表者, the project lead) requests plan changes of an active project (F6)."""
    return actor.user_id == lead_id and state == "active"


def can_decide_plan_change(actor: Principal, *, agency_org_id: int | None, requested_by_id: int) -> bool:
    """The funding agency's staff approve or return a plan change; never the one who requested it."""
    return is_agency_staff(actor, agency_org_id) and actor.user_id != requested_by_id


def may_propose_project_council(actor: Principal, *, officer_id: int, agency_org_id: int | None) -> bool:
    """The call's officer and the agency's staff propose a project's council (C2; issue 13: again after a lapse)."""
    return actor.user_id == officer_id or is_agency_staff(actor, agency_org_id)


# Issue 13: a project council that lapsed (no consent) or was dissolved may be proposed again (C2: 必置).
REPROPOSABLE_STATES = frozenset({"lapsed", "dissolved"})


def can_repropose_council(actor: Principal, *, officer_id: int, agency_org_id: int | None,
                          current_state: str | None) -> bool:
    """A project's council may be proposed again by them only when there is none or it lapsed or was dissolved."""
    return (may_propose_project_council(actor, officer_id=officer_id, agency_org_id=agency_org_id)
            and (current_state is None or current_state in REPROPOSABLE_STATES))


def is_panel_eligible(*, roles: Collection[str], is_active: bool) -> bool:
    """Panels (審査委員会) are made of active people with the reviewer role (F3)."""
    return is_active and Role.REVIEWER.value in roles


def can_join_panel(*, roles: Collection[str], is_active: bool, on_panel: bool) -> bool:
    """An eligible reviewer who is not on the call's panel yet may be put on it."""
    return is_panel_eligible(roles=roles, is_active=is_active) and not on_panel


def restrict_panel_candidates(stmt: Select[Any], call_id: int) -> Select[Any]:
    """Restrict a user query to active people not on the call's panel (the SQL part of ``can_join_panel``).

    Roles are a JSON list, which SQLite and PostgreSQL query differently; the role half of the
    predicate is applied to the rows this returns.
    """
    on_panel = exists().where(PanelMember.call_id == call_id, PanelMember.user_id == User.id)
    return stmt.where(User.is_active.is_(True), ~on_panel)


def can_be_call_officer(*, roles: Collection[str], is_active: bool) -> bool:
    """A call names an active ministry officer (所管省庁の担当官), who proposes each project's council."""
    return is_active and Role.OFFICER.value in roles


def can_publish_call(actor: Principal, *, state: str, agency_org_id: int | None) -> bool:
    """The agency's staff publish a draft call."""
    return state == CallState.DRAFT and can_manage_call(actor, agency_org_id)


def can_propose(actor: Principal, *, window: str, has_live_proposal: bool) -> bool:
    """A person with the propose permission submits one live proposal to a call while its window is open."""
    return actor.has(Permission.PROGRAMME_PROPOSE) and window == "open" and not has_live_proposal


def can_withdraw(actor: Principal, standing: ProposalStanding, *, state: str) -> bool:
    """The proposer withdraws a submitted proposal before the decision (a draft is edited, not withdrawn)."""
    return actor.user_id == standing.proposer_id and state == ProposalState.SUBMITTED


def can_score(actor: Principal, standing: ProposalStanding, *, state: str) -> bool:
    """An unconflicted panel reviewer scores a submitted proposal; the agency's staff read every score instead."""
    return (can_review(actor, standing) and not is_agency_staff(actor, standing.agency_org_id)
            and state == ProposalState.SUBMITTED)


def can_read_all_scores(actor: Principal, standing: ProposalStanding) -> bool:
    """The agency's staff read every reviewer's score; a reviewer reads only their own."""
    return is_agency_staff(actor, standing.agency_org_id)


def can_assign_reviewer(actor: Principal, standing: ProposalStanding, *, roles: Collection[str], is_active: bool,
                        reviewer_id: int, reviewer_org_id: int | None) -> bool:
    """The agency's staff assign an active reviewer who is neither an applicant nor of an applicant's organisation."""
    outsider = (reviewer_id != standing.proposer_id and reviewer_id not in standing.team_user_ids
                and reviewer_org_id != standing.proposer_org_id and reviewer_org_id not in standing.team_org_ids)
    return (can_manage_call(actor, standing.agency_org_id) and is_panel_eligible(roles=roles, is_active=is_active)
            and outsider and not is_draft(standing))


def can_see_integrity(actor: Principal, standing: ProposalStanding) -> bool:
    """Integrity disclosures and duplication flags: the applicants and the call's staff, never reviewers (F6)."""
    return is_applicant(actor, standing) or (is_agency_staff(actor, standing.agency_org_id)
                                             and not is_draft(standing))


def can_decide(actor: Principal, standing: ProposalStanding, *, state: str) -> bool:
    """The agency's staff record the panel decision on a submitted proposal (after the call closes, F3)."""
    return can_manage_call(actor, standing.agency_org_id) and state == ProposalState.SUBMITTED


# ---------------------------------------------------------------------------------------------
# Think-tank commissions (F5)


@dataclass(frozen=True)
class CommissionParties:
    """The people and organisations on either side of a commission, and its roster (Art. 64)."""

    commissioned_by_id: int
    commissioner_org_id: int
    organization_id: int  # the commissioned institution
    state: str = CommissionState.ACTIVE.value
    named: frozenset[int] = frozenset()  # on the roster now (not removed)
    engaged: frozenset[int] = frozenset()  # on the roster now and acknowledged the duty personally
    contact_id: int | None = None  # the institution's contact (窓口), who manages the roster


def parties_of(commission: Commission, roster: Collection[CommissionRosterEntry] = ()) -> CommissionParties:
    """Return the facts about a commission (and its roster rows) that the policy decides on."""
    current = [r for r in roster if r.commission_id == commission.id and r.removed_at is None]
    return CommissionParties(commissioned_by_id=commission.commissioned_by_id,
                             commissioner_org_id=commission.commissioner_org_id,
                             organization_id=commission.organization_id, state=commission.state,
                             named=frozenset(r.user_id for r in current),
                             engaged=frozenset(r.user_id for r in current if r.acknowledged_at is not None),
                             contact_id=next((r.user_id for r in current if r.is_contact), None))


def is_commissioner(actor: Principal) -> bool:
    """Ministry officers assess institutions and commission them."""
    return actor.has(Permission.COUNCIL_PROPOSE)


def _of_institution(actor: Principal, parties: CommissionParties) -> bool:
    return actor.organization_id == parties.organization_id


def is_named(actor: Principal, parties: CommissionParties) -> bool:
    """Return True for a person of the institution on the commission's roster now (acknowledged or not)."""
    return _of_institution(actor, parties) and actor.user_id in parties.named


def is_contractor(actor: Principal, parties: CommissionParties) -> bool:
    """Return True for a person of the institution on the roster who acknowledged the duty (Art. 64)."""
    return _of_institution(actor, parties) and actor.user_id in parties.engaged


def is_contact(actor: Principal, parties: CommissionParties) -> bool:
    """Return True for the institution's contact (窓口担当者), who manages the roster."""
    return _of_institution(actor, parties) and parties.contact_id == actor.user_id


def is_owner(actor: Principal, parties: CommissionParties) -> bool:
    """Return True for the commissioning officer and officers of the commissioning organisation."""
    return actor.user_id == parties.commissioned_by_id or (
        is_commissioner(actor) and actor.organization_id == parties.commissioner_org_id)


def can_see_commission(actor: Principal, parties: CommissionParties) -> bool:
    """The commissioning side and the engaged people who acknowledged; everyone else gets 404 (I7)."""
    return is_owner(actor, parties) or is_contractor(actor, parties)


def can_see_duty(actor: Principal, parties: CommissionParties) -> bool:
    """Who may see the duty (title, terms, own standing): those who see the commission, the named, the contact."""
    return can_see_commission(actor, parties) or is_named(actor, parties) or is_contact(actor, parties)


def can_acknowledge(actor: Principal, parties: CommissionParties) -> bool:
    """A named person acknowledges the duty personally, once, while the commission is active."""
    return (is_named(actor, parties) and not is_contractor(actor, parties)
            and parties.state == CommissionState.ACTIVE)


def can_work_on(actor: Principal, parties: CommissionParties) -> bool:
    """Engaged people complete tasks and file deliverables while the commission is active."""
    return is_contractor(actor, parties) and parties.state == CommissionState.ACTIVE


def can_close(actor: Principal, parties: CommissionParties) -> bool:
    """The owner side completes or cancels an active commission."""
    return is_owner(actor, parties) and parties.state == CommissionState.ACTIVE


def can_name_contact(actor: Principal, parties: CommissionParties) -> bool:
    """The owner side names the institution's contact while the commission is active."""
    return can_close(actor, parties)


def can_add_to_roster(actor: Principal, parties: CommissionParties) -> bool:
    """The institution's contact names people of the institution while the commission is active."""
    return is_contact(actor, parties) and parties.state == CommissionState.ACTIVE


def can_see_roster(actor: Principal, parties: CommissionParties) -> bool:
    """The roster (names, acknowledgements, removals): the owner side, the contact and the engaged."""
    return can_see_commission(actor, parties) or is_contact(actor, parties)


def can_remove_from_roster(actor: Principal, parties: CommissionParties) -> bool:
    """The contact or the owner side take a person off the roster (access ends at once, the duty stays)."""
    return is_contact(actor, parties) or is_owner(actor, parties)


def can_remove_roster_entry(actor: Principal, parties: CommissionParties, *, user_id: int) -> bool:
    """Take this person off the roster: as :func:`can_remove_from_roster`, but the contact not themself — the
    institution would be left without anyone to manage its roster; the commissioning side names another."""
    return can_remove_from_roster(actor, parties) and (user_id != actor.user_id or is_owner(actor, parties))


def can_download_acknowledgement(actor: Principal, parties: CommissionParties, *, is_signer: bool) -> bool:
    """The acknowledgement PDF: its signer (also after removal: it is their own record of a duty that remains,
    C3), the contact and the owner side (as a pledge)."""
    return is_signer or is_contact(actor, parties) or is_owner(actor, parties)


def restrict_commissions(stmt: Select[Any], actor: Principal) -> Select[Any]:
    """Restrict a commission query to the commissions ``actor`` may see (the SQL twin of ``can_see_commission``)."""
    engaged = exists().where(CommissionRosterEntry.commission_id == Commission.id,
                             CommissionRosterEntry.user_id == actor.user_id,
                             CommissionRosterEntry.removed_at.is_(None),
                             CommissionRosterEntry.acknowledged_at.is_not(None))
    clauses: list[object] = [Commission.commissioned_by_id == actor.user_id,
                             and_(Commission.organization_id == actor.organization_id, engaged)]
    if is_commissioner(actor):
        clauses.append(Commission.commissioner_org_id == actor.organization_id)
    return stmt.where(or_(*clauses))  # type: ignore[arg-type]


def _agency_staff_clause(actor: Principal, agency_id_col: object) -> object:
    if not actor.has(Permission.PROGRAMME_MANAGE):
        return false()
    return exists().where(Agency.id == agency_id_col,
                          or_(Agency.organization_id.is_(None), Agency.organization_id == actor.organization_id))


def restrict_calls(stmt: Select[Any], actor: Principal) -> Select[Any]:
    """Restrict a call query to the calls ``actor`` may see."""
    return stmt.where(or_(Call.state == CallState.PUBLISHED.value,
                          _agency_staff_clause(actor, Call.agency_id)))  # type: ignore[arg-type]


def _applicant_clause(actor: Principal) -> object:
    team = exists().where(ProposalMember.proposal_id == Proposal.id, ProposalMember.user_id == actor.user_id)
    return or_(Proposal.proposer_id == actor.user_id, team)


def _not_same_org_clause(actor: Principal) -> object:
    same_org_team = exists().where(ProposalMember.proposal_id == Proposal.id,
                                   ProposalMember.organization_id == actor.organization_id)
    return and_(Proposal.organization_id != actor.organization_id, ~same_org_team)


def _on_panel_clause(actor: Principal) -> object:
    return exists().where(PanelMember.call_id == Proposal.call_id, PanelMember.user_id == actor.user_id)


def _seated_clause(actor: Principal) -> object:
    """SQL twin of ``is_seated``: assigned, or on the panel of a proposal with no assignment."""
    assigned = exists().where(ReviewAssignment.proposal_id == Proposal.id, ReviewAssignment.reviewer_id == actor.user_id)
    any_assigned = exists().where(ReviewAssignment.proposal_id == Proposal.id)
    return or_(assigned, and_(_on_panel_clause(actor), ~any_assigned))  # type: ignore[arg-type]


def restrict_proposals(stmt: Select[Any], actor: Principal, *, now: datetime) -> Select[Any]:
    """Restrict a proposal query to the proposals ``actor`` may see (lists, counts, exports).

    The SQL twin of ``can_see_proposal``; ``now`` decides whether the call has closed (F6).
    """
    clauses: list[object] = [_applicant_clause(actor)]
    not_draft = Proposal.state != ProposalState.DRAFT.value
    if actor.has(Permission.PROGRAMME_MANAGE):
        staff = exists().where(Call.id == Proposal.call_id, _agency_staff_clause(actor, Call.agency_id))  # type: ignore[arg-type]
        clauses.append(and_(not_draft, staff))
    if actor.has(Permission.PROGRAMME_REVIEW):
        declared_clear = exists().where(ConflictDeclaration.proposal_id == Proposal.id,
                                        ConflictDeclaration.reviewer_id == actor.user_id,
                                        ConflictDeclaration.has_conflict.is_(False))
        closed = exists().where(Call.id == Proposal.call_id, Call.closes_at < now)
        clauses.append(and_(_seated_clause(actor), _not_same_org_clause(actor),  # type: ignore[arg-type]
                            ~_applicant_clause(actor), declared_clear, not_draft, closed))  # type: ignore[operator]
    return stmt.where(or_(*clauses))  # type: ignore[arg-type]


def restrict_declarable(stmt: Select[Any], actor: Principal) -> Select[Any]:
    """Restrict to the proposals a panel reviewer may declare conflicts on (the review queue; never drafts)."""
    if not actor.has(Permission.PROGRAMME_REVIEW):
        return stmt.where(false())
    return stmt.where(_seated_clause(actor), _not_same_org_clause(actor),  # type: ignore[arg-type]
                      ~_applicant_clause(actor), Proposal.state != ProposalState.DRAFT.value)  # type: ignore[operator]


def restrict_projects(stmt: Select[Any], actor: Principal) -> Select[Any]:
    """Restrict a project query to the projects ``actor`` may see."""
    team = exists().where(ProposalMember.proposal_id == Project.proposal_id, ProposalMember.user_id == actor.user_id)
    officer = exists().where(Call.id == Project.call_id, Call.officer_id == actor.user_id)
    return stmt.where(or_(Project.lead_id == actor.user_id, team, officer,
                          _agency_staff_clause(actor, Project.agency_id)))  # type: ignore[arg-type]


def visible_proposals(actor: Principal, *, now: datetime, call_id: int | None = None) -> Select[Any]:
    """Return the query of the proposals ``actor`` may see at ``now``, oldest first."""
    stmt = select(Proposal).order_by(Proposal.id)
    if call_id is not None:
        stmt = stmt.where(Proposal.call_id == call_id)
    return restrict_proposals(stmt, actor, now=now)


def council_project_team(council_id: int) -> Select[Any]:
    """SQL: the team members (研究体制) of the K Program projects linked to a council (C1, I1, I13)."""
    return (select(ProposalMember.user_id).join(Project, Project.proposal_id == ProposalMember.proposal_id)
            .where(Project.council_id == council_id, ProposalMember.user_id.is_not(None)))


def council_project_leads(council_id: int) -> Select[Any]:
    """SQL: the leads of the K Program projects linked to a council (C1, I1, I13)."""
    return select(Project.lead_id).where(Project.council_id == council_id)
