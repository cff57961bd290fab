"""Every query of the programme domain."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from banso.programme.models import (
    Agency,
    BudgetItem,
    BudgetLine,
    Call,
    Commission,
    CommissionRosterEntry,
    CommissionState,
    ConflictDeclaration,
    DeclarationReview,
    Disclosure,
    Document,
    GuidelineArea,
    IntegritySignature,
    LedgerAccount,
    LedgerTransaction,
    Milestone,
    PanelDecision,
    PanelMember,
    PlanChange,
    PlanDocument,
    Posting,
    Project,
    Proposal,
    ProposalMember,
    ProposalState,
    ReviewAssignment,
    Score,
    VisionRound,
    VisionTechnology,
)

# ---------------------------------------------------------------------------------------------
# Registry


def areas(session: Session) -> list[GuidelineArea]:
    """Return every guideline area in order."""
    return list(session.scalars(select(GuidelineArea).order_by(GuidelineArea.position, GuidelineArea.code)))


def area_by_code(session: Session, code: str) -> GuidelineArea | None:
    """Return the guideline area with this code."""
    return session.scalar(select(GuidelineArea).where(GuidelineArea.code == code))


def rounds(session: Session) -> list[VisionRound]:
    """Return every vision round."""
    return list(session.scalars(select(VisionRound).order_by(VisionRound.round)))


def round_by_number(session: Session, number: int) -> VisionRound | None:
    """Return the vision round with this number."""
    return session.scalar(select(VisionRound).where(VisionRound.round == number))


def technologies(session: Session, *, vision_round: int | None = None) -> list[VisionTechnology]:
    """Return vision technologies (of one round when given), by code."""
    stmt = select(VisionTechnology).order_by(VisionTechnology.vision_round, VisionTechnology.code)
    if vision_round is not None:
        stmt = stmt.where(VisionTechnology.vision_round == vision_round)
    return list(session.scalars(stmt))


def technology_by_code(session: Session, code: str) -> VisionTechnology | None:
    """Return the technology with this code."""
    return session.scalar(select(VisionTechnology).where(VisionTechnology.code == code))


# ---------------------------------------------------------------------------------------------
# Ledger


def agency_by_code(session: Session, code: str) -> Agency | None:
    """Return the agency with this code (JST, NEDO)."""
    return session.scalar(select(Agency).where(Agency.code == code))


def agency_by_id(session: Session, agency_id: int) -> Agency | None:
    """Return the agency with this id."""
    return session.get(Agency, agency_id)


def agencies(session: Session) -> list[Agency]:
    """Return every agency."""
    return list(session.scalars(select(Agency).order_by(Agency.code)))


def account_by_key(session: Session, key: str) -> LedgerAccount | None:
    """Return the ledger account with this key."""
    return session.scalar(select(LedgerAccount).where(LedgerAccount.key == key))


def lock_accounts(session: Session, keys: list[str]) -> dict[str, LedgerAccount]:
    """Lock the accounts ``keys`` for update, in key order (no deadlock), and return them fresh."""
    stmt = (select(LedgerAccount).where(LedgerAccount.key.in_(sorted(keys))).order_by(LedgerAccount.key)
            .with_for_update().execution_options(populate_existing=True))
    return {a.key: a for a in session.scalars(stmt)}


def accounts_of(session: Session, agency_id: int) -> list[LedgerAccount]:
    """Return an agency's accounts."""
    return list(session.scalars(select(LedgerAccount).where(LedgerAccount.agency_id == agency_id)
                                .order_by(LedgerAccount.key)))


def all_accounts(session: Session) -> list[LedgerAccount]:
    """Return every ledger account."""
    return list(session.scalars(select(LedgerAccount).order_by(LedgerAccount.key)))


def posting_sums_by_account(session: Session) -> dict[int, int]:
    """Return the sum of postings per account id."""
    rows = session.execute(select(Posting.account_id, func.coalesce(func.sum(Posting.amount), 0))
                           .group_by(Posting.account_id))
    return {int(a): int(s) for a, s in rows}


def unbalanced_transactions(session: Session) -> list[tuple[int, int]]:
    """Return (transaction id, sum) of every transaction whose postings do not sum to zero."""
    sums = (select(Posting.transaction_id, func.sum(Posting.amount).label("s"))
            .group_by(Posting.transaction_id).subquery())
    missing = select(LedgerTransaction.id).where(~LedgerTransaction.id.in_(select(Posting.transaction_id)))
    bad = [(int(t), int(s)) for t, s in session.execute(select(sums.c.transaction_id, sums.c.s).where(sums.c.s != 0))]
    bad += [(int(t), 0) for t in session.scalars(missing)]
    return bad


def transactions(session: Session, *, agency_id: int | None = None, project_id: int | None = None,
                 fiscal_year: int | None = None) -> list[LedgerTransaction]:
    """Return ledger transactions, oldest first."""
    stmt = select(LedgerTransaction).order_by(LedgerTransaction.id)
    if agency_id is not None:
        stmt = stmt.where(LedgerTransaction.agency_id == agency_id)
    if project_id is not None:
        stmt = stmt.where(LedgerTransaction.project_id == project_id)
    if fiscal_year is not None:
        stmt = stmt.where(LedgerTransaction.fiscal_year == fiscal_year)
    return list(session.scalars(stmt))


def postings_of(session: Session, transaction_id: int) -> list[Posting]:
    """Return a transaction's postings."""
    return list(session.scalars(select(Posting).where(Posting.transaction_id == transaction_id)
                                .order_by(Posting.id)))


def totals_by_year(session: Session, agency_id: int) -> list[tuple[int, str, int]]:
    """Return (fiscal year, kind, total) of an agency's transactions."""
    rows = session.execute(
        select(LedgerTransaction.fiscal_year, LedgerTransaction.kind, func.sum(LedgerTransaction.amount))
        .where(LedgerTransaction.agency_id == agency_id)
        .group_by(LedgerTransaction.fiscal_year, LedgerTransaction.kind)
        .order_by(LedgerTransaction.fiscal_year, LedgerTransaction.kind))
    return [(int(fy), str(k), int(s)) for fy, k, s in rows]


def committed_in_year(session: Session, project_id: int, fiscal_year: int) -> int:
    """Return the net amount committed to a project for one fiscal year (commitments − releases)."""
    rows = session.execute(
        select(LedgerTransaction.kind, func.coalesce(func.sum(LedgerTransaction.amount), 0))
        .where(LedgerTransaction.project_id == project_id, LedgerTransaction.fiscal_year == fiscal_year,
               LedgerTransaction.kind.in_(("commitment", "release")))
        .group_by(LedgerTransaction.kind))
    sums = {str(k): int(s) for k, s in rows}
    return sums.get("commitment", 0) - sums.get("release", 0)


def committed_by_year(session: Session, project_id: int) -> dict[int, int]:
    """Return the net amount committed to a project per fiscal year (commitments − releases), in one query."""
    rows = session.execute(
        select(LedgerTransaction.fiscal_year, LedgerTransaction.kind,
               func.coalesce(func.sum(LedgerTransaction.amount), 0))
        .where(LedgerTransaction.project_id == project_id, LedgerTransaction.kind.in_(("commitment", "release")))
        .group_by(LedgerTransaction.fiscal_year, LedgerTransaction.kind))
    net: dict[int, int] = {}
    for fy, kind, total in rows:
        net[int(fy)] = net.get(int(fy), 0) + (int(total) if kind == "commitment" else -int(total))
    return net


def disbursed_by_year(session: Session, project_id: int) -> dict[int, int]:
    """Return what was paid to a project per fiscal year the payment was booked in (disbursements), in one query."""
    rows = session.execute(
        select(LedgerTransaction.fiscal_year, func.coalesce(func.sum(LedgerTransaction.amount), 0))
        .where(LedgerTransaction.project_id == project_id, LedgerTransaction.kind == "disbursement")
        .group_by(LedgerTransaction.fiscal_year))
    return {int(fy): int(total) for fy, total in rows}


# ---------------------------------------------------------------------------------------------
# Calls, proposals, review


def call_by_id(session: Session, call_id: int) -> Call | None:
    """Return the call with this id."""
    return session.get(Call, call_id)


def calls_by_ids(session: Session, ids: Iterable[int]) -> dict[int, Call]:
    """Return the calls with these ids in one query, by id."""
    wanted = sorted(set(ids))
    return {c.id: c for c in session.scalars(select(Call).where(Call.id.in_(wanted)))} if wanted else {}


def call_by_code(session: Session, code: str) -> Call | None:
    """Return the call with this code."""
    return session.scalar(select(Call).where(Call.code == code))


def calls(session: Session, stmt: Select[Any] | None = None) -> list[Call]:
    """Return calls (of ``stmt`` when given), newest first."""
    return list(session.scalars(stmt if stmt is not None else select(Call).order_by(Call.id.desc())))


def documents(session: Session, owner_kind: str, owner_id: int) -> list[Document]:
    """Return the documents of one owner."""
    return list(session.scalars(select(Document).where(Document.owner_kind == owner_kind,
                                                       Document.owner_id == owner_id).order_by(Document.id)))


def proposal_by_id(session: Session, proposal_id: int) -> Proposal | None:
    """Return the proposal with this id."""
    return session.get(Proposal, proposal_id)


def proposal_for_update(session: Session, proposal_id: int) -> Proposal | None:
    """Return the proposal locked for update."""
    return session.scalar(select(Proposal).where(Proposal.id == proposal_id).with_for_update()
                          .execution_options(populate_existing=True))


def live_proposal_of(session: Session, call_id: int, proposer_id: int) -> Proposal | None:
    """Return the proposer's submitted (not withdrawn) proposal to a call."""
    return session.scalar(select(Proposal).where(Proposal.call_id == call_id, Proposal.proposer_id == proposer_id,
                                                 Proposal.state != "withdrawn"))


def proposals(session: Session, stmt: Select[Any]) -> list[Proposal]:
    """Return the proposals of ``stmt``."""
    return list(session.scalars(stmt))


def members(session: Session, proposal_id: int) -> list[ProposalMember]:
    """Return a proposal's team."""
    return list(session.scalars(select(ProposalMember).where(ProposalMember.proposal_id == proposal_id)
                                .order_by(ProposalMember.id)))


def budget_items(session: Session, proposal_id: int) -> list[BudgetItem]:
    """Return a proposal's budget sheet cells (fiscal year × category)."""
    return list(session.scalars(select(BudgetItem).where(BudgetItem.proposal_id == proposal_id)
                                .order_by(BudgetItem.fiscal_year, BudgetItem.id)))


def clear_plan(session: Session, proposal_id: int) -> None:
    """Delete a proposal's budget sheet, yearly totals and team (an edit writes them again)."""
    for model in (BudgetItem, BudgetLine, ProposalMember):
        session.execute(delete(model).where(model.proposal_id == proposal_id))


def budget(session: Session, proposal_id: int) -> list[BudgetLine]:
    """Return a proposal's budget plan by fiscal year."""
    return list(session.scalars(select(BudgetLine).where(BudgetLine.proposal_id == proposal_id)
                                .order_by(BudgetLine.fiscal_year)))


def panel(session: Session, call_id: int) -> list[PanelMember]:
    """Return a call's panel."""
    return list(session.scalars(select(PanelMember).where(PanelMember.call_id == call_id).order_by(PanelMember.id)))


def panel_member(session: Session, call_id: int, user_id: int) -> PanelMember | None:
    """Return the panel membership of a person, if any."""
    return session.scalar(select(PanelMember).where(PanelMember.call_id == call_id, PanelMember.user_id == user_id))


def conflict(session: Session, proposal_id: int, reviewer_id: int) -> ConflictDeclaration | None:
    """Return a reviewer's conflict declaration for a proposal."""
    return session.scalar(select(ConflictDeclaration).where(ConflictDeclaration.proposal_id == proposal_id,
                                                            ConflictDeclaration.reviewer_id == reviewer_id))


def conflicts_of(session: Session, reviewer_id: int, proposal_ids: Iterable[int]) -> dict[int, ConflictDeclaration]:
    """Return a reviewer's conflict declarations on these proposals in one query, by proposal id."""
    wanted = sorted(set(proposal_ids))
    if not wanted:
        return {}
    rows = session.scalars(select(ConflictDeclaration).where(ConflictDeclaration.reviewer_id == reviewer_id,
                                                             ConflictDeclaration.proposal_id.in_(wanted)))
    return {d.proposal_id: d for d in rows}


def scored_by(session: Session, reviewer_id: int, proposal_ids: Iterable[int]) -> set[int]:
    """Return which of these proposals the reviewer has scored, in one query."""
    wanted = sorted(set(proposal_ids))
    if not wanted:
        return set()
    return set(session.scalars(select(Score.proposal_id).where(Score.reviewer_id == reviewer_id,
                                                               Score.proposal_id.in_(wanted))))


def score(session: Session, proposal_id: int, reviewer_id: int) -> Score | None:
    """Return a reviewer's score for a proposal."""
    return session.scalar(select(Score).where(Score.proposal_id == proposal_id, Score.reviewer_id == reviewer_id))


def scores(session: Session, proposal_id: int) -> list[Score]:
    """Return every score of a proposal."""
    return list(session.scalars(select(Score).where(Score.proposal_id == proposal_id).order_by(Score.id)))


def decision(session: Session, proposal_id: int) -> PanelDecision | None:
    """Return the panel decision on a proposal."""
    return session.scalar(select(PanelDecision).where(PanelDecision.proposal_id == proposal_id))


# ---------------------------------------------------------------------------------------------
# Projects


def project_by_id(session: Session, project_id: int) -> Project | None:
    """Return the project with this id."""
    return session.get(Project, project_id)


def project_of_proposal(session: Session, proposal_id: int) -> Project | None:
    """Return the project created from a proposal."""
    return session.scalar(select(Project).where(Project.proposal_id == proposal_id))


def projects(session: Session, stmt: Select[Any] | None = None) -> list[Project]:
    """Return projects (of ``stmt`` when given)."""
    return list(session.scalars(stmt if stmt is not None else select(Project).order_by(Project.id)))


def milestones(session: Session, project_id: int) -> list[Milestone]:
    """Return a project's milestones by due date."""
    return list(session.scalars(select(Milestone).where(Milestone.project_id == project_id)
                                .order_by(Milestone.due_on, Milestone.id)))


def milestone(session: Session, project_id: int, milestone_id: int) -> Milestone | None:
    """Return one milestone of a project."""
    return session.scalar(select(Milestone).where(Milestone.project_id == project_id, Milestone.id == milestone_id))


def declaration_reviews(session: Session, project_id: int) -> list[DeclarationReview]:
    """Return a project's declaration reviews, oldest first."""
    return list(session.scalars(select(DeclarationReview).where(DeclarationReview.project_id == project_id)
                                .order_by(DeclarationReview.id)))


# ---------------------------------------------------------------------------------------------
# Reviewers per proposal, integrity, duplication (F6)


def assignment(session: Session, proposal_id: int, reviewer_id: int) -> ReviewAssignment | None:
    """Return a reviewer's assignment to a proposal, if any."""
    return session.scalar(select(ReviewAssignment).where(ReviewAssignment.proposal_id == proposal_id,
                                                         ReviewAssignment.reviewer_id == reviewer_id))


def assignments(session: Session, proposal_ids: Iterable[int]) -> list[ReviewAssignment]:
    """Return the assignments of the given proposals, by proposal then reviewer."""
    ids = list(proposal_ids)
    if not ids:
        return []
    return list(session.scalars(select(ReviewAssignment).where(ReviewAssignment.proposal_id.in_(ids))
                                .order_by(ReviewAssignment.proposal_id, ReviewAssignment.reviewer_id)))


def has_assignments(session: Session, proposal_id: int) -> bool:
    """Return whether any reviewer is assigned to the proposal."""
    return session.scalar(select(func.count()).select_from(ReviewAssignment)
                          .where(ReviewAssignment.proposal_id == proposal_id)) != 0


def conflicts_on(session: Session, proposal_ids: Iterable[int]) -> list[ConflictDeclaration]:
    """Return every conflict declaration on the given proposals."""
    ids = list(proposal_ids)
    if not ids:
        return []
    return list(session.scalars(select(ConflictDeclaration).where(ConflictDeclaration.proposal_id.in_(ids))
                                .order_by(ConflictDeclaration.proposal_id, ConflictDeclaration.reviewer_id)))


def scores_on(session: Session, proposal_ids: Iterable[int]) -> list[Score]:
    """Return every score on the given proposals."""
    ids = list(proposal_ids)
    if not ids:
        return []
    return list(session.scalars(select(Score).where(Score.proposal_id.in_(ids))
                                .order_by(Score.proposal_id, Score.reviewer_id)))


def decisions_on(session: Session, proposal_ids: Iterable[int]) -> dict[int, PanelDecision]:
    """Return the decisions on the given proposals, by proposal id."""
    ids = list(proposal_ids)
    if not ids:
        return {}
    return {d.proposal_id: d for d in session.scalars(select(PanelDecision).where(PanelDecision.proposal_id.in_(ids)))}


def disclosures(session: Session, proposal_id: int) -> list[Disclosure]:
    """Return a proposal's disclosure lines (those given with it, then changes declared after adoption)."""
    return list(session.scalars(select(Disclosure).where(Disclosure.proposal_id == proposal_id)
                                .order_by(Disclosure.after_adoption, Disclosure.id)))


def clear_disclosures(session: Session, proposal_id: int) -> None:
    """Delete the disclosure lines given with a proposal (an editable proposal's are replaced whole)."""
    session.execute(delete(Disclosure).where(Disclosure.proposal_id == proposal_id,
                                             Disclosure.after_adoption.is_(False)))


def signatures(session: Session, proposal_id: int) -> list[IntegritySignature]:
    """Return a proposal's signed integrity declarations, oldest first."""
    return list(session.scalars(select(IntegritySignature).where(IntegritySignature.proposal_id == proposal_id)
                                .order_by(IntegritySignature.id)))


LIVE_STATES = (ProposalState.SUBMITTED.value, ProposalState.ADOPTED.value)


def live_engagements(session: Session) -> list[tuple[ProposalMember, Proposal, Call]]:
    """Return every team line with an e-Rad number on a submitted or adopted proposal (the duplication check)."""
    stmt = (select(ProposalMember, Proposal, Call).join(Proposal, Proposal.id == ProposalMember.proposal_id)
            .join(Call, Call.id == Proposal.call_id)
            .where(Proposal.state.in_(LIVE_STATES), ProposalMember.researcher_number.is_not(None))
            .order_by(Proposal.id, ProposalMember.id))
    return [(row[0], row[1], row[2]) for row in session.execute(stmt).all()]


def live_disclosures(session: Session) -> list[Disclosure]:
    """Return the funding disclosures on submitted or adopted proposals (a line without an e-Rad number is the
    proposer's own)."""
    stmt = (select(Disclosure).join(Proposal, Proposal.id == Disclosure.proposal_id)
            .where(Proposal.state.in_(LIVE_STATES), Disclosure.kind.in_(("funding_received", "funding_applied")))
            .order_by(Disclosure.id))
    return list(session.scalars(stmt))
def think_tank_contact(session: Session, commissioner_org_id: int) -> int | None:
    """Return the contact of the institution the ministry commissioned most recently and that is still at work:
    the roster's contact (窓口担当者) who acknowledged the Art. 64 duty and was not removed (issue 13: the think tank
    proposed for a project council)."""
    return session.scalar(select(CommissionRosterEntry.user_id)
                          .join(Commission, Commission.id == CommissionRosterEntry.commission_id)
                          .where(Commission.commissioner_org_id == commissioner_org_id,
                                 Commission.state == CommissionState.ACTIVE.value,
                                 CommissionRosterEntry.is_contact.is_(True),
                                 CommissionRosterEntry.acknowledged_at.is_not(None),
                                 CommissionRosterEntry.removed_at.is_(None))
                          .order_by(Commission.id.desc()).limit(1))


def council_technologies(session: Session) -> list[tuple[int, int, str, list[str]]]:
    """Return (council id, project id, project title, the call's technology codes) of every project with a
    council (the public portal's technology facet, issue 14)."""
    stmt = (select(Project.council_id, Project.id, Project.title, Call.technology_codes)
            .join(Call, Call.id == Project.call_id).where(Project.council_id.is_not(None)).order_by(Project.id))
    return [(int(cid or 0), int(pid), str(title), list(codes or [])) for cid, pid, title, codes in session.execute(stmt)]


# ---------------------------------------------------------------------------------------------
# Research-plan documents and plan changes (F6)


def plan_documents(session: Session, proposal_id: int) -> list[PlanDocument]:
    """Return every version of a proposal's documents, live ones first, newest first."""
    return list(session.scalars(select(PlanDocument).where(PlanDocument.proposal_id == proposal_id)
                                .order_by(PlanDocument.superseded_at.is_not(None), PlanDocument.id.desc())))


def live_plan_document(session: Session, proposal_id: int, kind: str, title: str) -> PlanDocument | None:
    """Return the live (not superseded) document of a proposal with this kind and title."""
    return session.scalar(select(PlanDocument).where(
        PlanDocument.proposal_id == proposal_id, PlanDocument.kind == kind, PlanDocument.title == title,
        PlanDocument.superseded_at.is_(None)).limit(1))


def plan_changes(session: Session, project_id: int) -> list[PlanChange]:
    """Return a project's plan changes, newest first."""
    return list(session.scalars(select(PlanChange).where(PlanChange.project_id == project_id)
                                .order_by(PlanChange.id.desc())))


def open_plan_change(session: Session, project_id: int) -> PlanChange | None:
    """Return the project's plan change awaiting the agency, if any."""
    return session.scalar(select(PlanChange).where(PlanChange.project_id == project_id,
                                                   PlanChange.state == "requested").limit(1))
