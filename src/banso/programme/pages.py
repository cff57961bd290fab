"""Page models of the K Program (F1–F5, C2): one service function per page, with its capability flags.

Each HTML page of ``banso.programme.views`` calls exactly one function here. The function loads
what the page shows (in batches, never one query per row) and decides, through
``banso.authz.policies.programme``, which actions the reader may take: the ``may_*`` flags. The
view and the template only read those flags, so the page offers exactly what the services allow.
Like every service, nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts.models import Organization, User
from banso.authz.permissions import Permission
from banso.authz.policies import programme as policy
from banso.authz.principal import Principal
from banso.councils import service as councils_service
from banso.councils.models import Council
from banso.kit.clock import as_utc
from banso.kit.errors import NotFound
from banso.programme import budget, commissions, guideline, rules, service
from banso.programme import repository as repo
from banso.programme import roster as roster_service
from banso.programme.interfaces import CouncilGateway
from banso.programme.models import (
    Agency,
    Call,
    CapabilityAssessment,
    Commission,
    ConflictDeclaration,
    LedgerTransaction,
    PanelMember,
    Project,
    Proposal,
    Score,
    VisionRound,
    VisionTechnology,
)


def context(page: object) -> dict[str, Any]:
    """Return a page model's fields as template variables (shallow: ORM rows stay as they are)."""
    return {f.name: getattr(page, f.name) for f in fields(page)}  # type: ignore[arg-type]


def _window(call: Call, now: datetime) -> str:
    return rules.call_window(state=call.state, opens_at=call.opens_at, closes_at=call.closes_at, now=now)


def _agencies(session: Session) -> dict[int, Agency]:
    return {a.id: a for a in repo.agencies(session)}


def _staff_agencies(session: Session, actor: Principal) -> list[Agency]:
    return [a for a in repo.agencies(session) if policy.is_agency_staff(actor, a.organization_id)]


# ---------------------------------------------------------------------------------------------
# Overview and guideline (F1, F2, F3)


@dataclass(frozen=True)
class OverviewPage:
    """The registry by area and round, the ledgers the reader may read, open calls and visible proposals."""

    areas: list[Any]
    by_area: dict[str, dict[int, list[VisionTechnology]]]
    rounds: list[VisionRound]
    technologies: list[VisionTechnology]
    report: service.Reconciliation
    agencies: dict[int, Agency]
    staff_agencies: list[Agency]  # where the reader records budget tranches
    open_calls: list[Call]
    call_count: int
    my_proposals: list[Proposal]
    calls_by_id: dict[int, Call]
    guideline: guideline.GuidelineView | None
    may_record_tranche: bool


def overview(session: Session, *, actor: Principal, now: datetime) -> OverviewPage:
    """Return the programme overview for ``actor``."""
    techs = service.list_technologies(session)
    by_area: dict[str, dict[int, list[VisionTechnology]]] = {}
    for t in techs:
        for code in t.area_codes or ["—"]:
            by_area.setdefault(code, {}).setdefault(t.vision_round, []).append(t)
    calls = service.list_calls(session, actor=actor)
    staff_agencies = _staff_agencies(session, actor)
    return OverviewPage(
        areas=service.list_areas(session), by_area=by_area, rounds=repo.rounds(session), technologies=techs,
        report=service.reconcile(session, actor=actor), agencies=_agencies(session), staff_agencies=staff_agencies,
        open_calls=[c for c in calls if _window(c, now) == "open"], call_count=len(calls),
        my_proposals=service.list_proposals(session, actor=actor, now=now), calls_by_id={c.id: c for c in calls},
        guideline=guideline.current_view(session), may_record_tranche=bool(staff_agencies))


@dataclass(frozen=True)
class GuidelinesPage:
    """Every version of the basic guideline, newest first."""

    guidelines: list[Any]
    may_adopt: bool


def guidelines(session: Session, *, actor: Principal) -> GuidelinesPage:
    """Return the list of guideline versions (F2)."""
    return GuidelinesPage(guidelines=guideline.list_guidelines(session),
                          may_adopt=policy.can_edit_registry(actor))


@dataclass(frozen=True)
class GuidelinePage:
    """One guideline version with the technologies and areas its measures name."""

    view: guideline.GuidelineView
    techs: dict[str, VisionTechnology]
    areas: dict[str, Any]
    may_adopt: bool


def guideline_page(session: Session, *, guideline_id: int, actor: Principal) -> GuidelinePage:
    """Return one guideline version (F2)."""
    return GuidelinePage(view=guideline.get_guideline(session, guideline_id=guideline_id),
                         techs={t.code: t for t in service.list_technologies(session)},
                         areas={a.code: a for a in service.list_areas(session)},
                         may_adopt=policy.can_edit_registry(actor))


@dataclass(frozen=True)
class GuidelineFormPage:
    """What the adoption form offers: the version it starts from, measure kinds, technologies, areas."""

    base: guideline.GuidelineView | None
    technologies: list[VisionTechnology]
    areas: list[Any]


def guideline_form(session: Session, *, actor: Principal, base_id: int | None = None,
                   prefill: bool = True) -> GuidelineFormPage:
    """Return the adoption form (404 unless the reader edits the registry); ``prefill`` picks the base version."""
    if not policy.can_edit_registry(actor):
        raise NotFound("ページが見つかりません / page not found")
    base = None
    if prefill:
        base = guideline.get_guideline(session, guideline_id=base_id) if base_id else guideline.current_view(session)
    return GuidelineFormPage(base=base, technologies=service.list_technologies(session),
                             areas=service.list_areas(session))


# ---------------------------------------------------------------------------------------------
# Calls (F3)


@dataclass(frozen=True)
class CallsPage:
    """The calls the reader may see with their windows."""

    calls: list[Call]
    agencies: dict[int, Agency]
    windows: dict[int, str]
    may_create: bool


def calls(session: Session, *, actor: Principal, now: datetime) -> CallsPage:
    """Return the list of calls (published ones, and drafts of the reader's agency)."""
    rows = service.list_calls(session, actor=actor)
    return CallsPage(calls=rows, agencies=_agencies(session), windows={c.id: _window(c, now) for c in rows},
                     may_create=bool(_staff_agencies(session, actor)))


@dataclass(frozen=True)
class NewCallPage:
    """What the call form offers: the reader's agencies, the officers a call may name, technologies."""

    agencies: list[Agency]
    officers: list[User]
    technologies: list[VisionTechnology]


def new_call(session: Session, *, actor: Principal) -> NewCallPage:
    """Return the call form (404 unless the reader is staff of an agency)."""
    agencies = _staff_agencies(session, actor)
    if not agencies:
        raise NotFound("ページが見つかりません / page not found")
    officers = [u for u in accounts_repo.list_users(session)
                if policy.can_be_call_officer(roles=u.roles, is_active=u.is_active)]
    return NewCallPage(agencies=agencies, officers=officers, technologies=service.list_technologies(session))


@dataclass(frozen=True)
class CallPage:
    """A call with its documents, panel, the proposals the reader may see and the actions they may take."""

    call: Call
    agency: Agency
    window: str
    techs: dict[str, VisionTechnology]
    documents: list[Any]
    panel: list[PanelMember]
    reviewers: list[User]  # whom the reader may put on the panel
    proposals: list[Proposal]
    mine: Proposal | None
    people: dict[int, User]
    staff: bool
    may_publish: bool
    may_manage_panel: bool
    may_propose: bool


def call_page(session: Session, *, call_id: int, actor: Principal, now: datetime) -> CallPage:
    """Return a call page (404 for a call the reader may not see)."""
    call = service.get_call(session, call_id=call_id, actor=actor)
    agency = repo.agency_by_id(session, call.agency_id)
    assert agency is not None
    staff = policy.can_manage_call(actor, agency.organization_id)
    panel = repo.panel(session, call.id) if staff else []
    reviewers = [u for u in accounts_repo.users(session, policy.restrict_panel_candidates(
        select(User).order_by(User.organization_id, User.id), call.id))
        if policy.is_panel_eligible(roles=u.roles, is_active=u.is_active)] if staff else []
    proposals = service.list_proposals(session, actor=actor, now=now, call_id=call.id)
    mine = repo.live_proposal_of(session, call.id, actor.user_id)
    window = _window(call, now)
    people = accounts_repo.users_by_id(session, {call.officer_id} | {p.user_id for p in panel}
                                        | {p.proposer_id for p in proposals})
    return CallPage(
        call=call, agency=agency, window=window, techs={t.code: t for t in service.list_technologies(session)},
        documents=service.call_documents(session, call_id=call.id, actor=actor), panel=panel, reviewers=reviewers,
        proposals=proposals, mine=mine, people=people, staff=staff,
        may_publish=policy.can_publish_call(actor, state=call.state, agency_org_id=agency.organization_id),
        may_manage_panel=staff,
        may_propose=policy.can_propose(actor, window=window, has_live_proposal=mine is not None))


@dataclass(frozen=True)
class ProposeForm:
    """What the proposal form shows: the call, its agency, the plan's fiscal years and the window."""

    call: Call
    agency: Agency | None
    years: list[int]
    window: str


def sheet_categories() -> list[tuple[str, str, str]]:
    """Return the direct cost categories the budget form asks for: key, Japanese and English label (F6)."""
    return [(c.value, *budget.LABELS[c]) for c in budget.DIRECT]


def propose_form(session: Session, *, call_id: int, actor: Principal, now: datetime) -> ProposeForm:
    """Return the proposal form (404 for a hidden call or a reader who may not propose)."""
    call = service.get_call(session, call_id=call_id, actor=actor)
    if not actor.has(Permission.PROGRAMME_PROPOSE):
        raise NotFound("ページが見つかりません / page not found")
    return ProposeForm(call=call, agency=repo.agency_by_id(session, call.agency_id),
                       years=list(rules.plan_years(call.first_fiscal_year, call.period_years)),
                       window=_window(call, now))


# ---------------------------------------------------------------------------------------------
# Proposals and review (F3, F4)


@dataclass(frozen=True)
class ProposalPage:
    """A proposal as the reader may see it, with the actions they may take on it."""

    view: service.ProposalView
    p: Proposal
    call: Call
    agency: Agency
    project: Project | None
    own_score: Score | None
    people: dict[int, User]
    orgs: dict[int, Organization | None]
    after_close: bool
    staff: bool  # the agency's staff: every score, the decision section
    may_withdraw: bool
    may_score: bool
    may_read_scores: bool
    may_decide: bool
    sheet_rows: list[budget.SheetRow] = field(default_factory=list)  # F6: the budget sheet in 千円
    may_edit: bool = False  # F6: the proposer, a draft or submitted before the close
    may_submit: bool = False  # F6: the proposer's draft, from its confirmation page
    may_see_integrity: bool = False  # F6: the applicants and the call's staff read the integrity disclosures


def proposal_page(session: Session, *, proposal_id: int, actor: Principal, now: datetime) -> ProposalPage:
    """Return a proposal page (404 for everyone the policy hides it from); a reviewer's read is audited (I8)."""
    view = service.get_proposal(session, proposal_id=proposal_id, actor=actor, now=now)
    standing = view.standing
    assert standing is not None
    p, call = view.proposal, view.call
    agency = repo.agency_by_id(session, call.agency_id)
    assert agency is not None
    ids = {s.reviewer_id for s in view.scores} | {p.proposer_id}
    if view.decision:
        ids.add(view.decision.decided_by_id)
    return ProposalPage(
        view=view, p=p, call=call, agency=agency, project=repo.project_of_proposal(session, p.id),
        own_score=next((s for s in view.scores if s.reviewer_id == actor.user_id), None),
        people=accounts_repo.users_by_id(session, ids),
        orgs={p.organization_id: accounts_repo.org_by_id(session, p.organization_id)},
        after_close=now > as_utc(call.closes_at),
        staff=policy.can_manage_call(actor, standing.agency_org_id),
        may_withdraw=policy.can_withdraw(actor, standing, state=p.state),
        may_score=policy.can_score(actor, standing, state=p.state),
        may_read_scores=policy.can_read_all_scores(actor, standing),
        may_decide=policy.can_decide(actor, standing, state=p.state),
        sheet_rows=budget.display_rows(view.sheet), may_edit=policy.can_edit_proposal(actor, standing),
        may_submit=policy.can_submit_draft(actor, standing), may_see_integrity=policy.can_see_integrity(actor, standing))


def after_declaring(session: Session, *, proposal_id: int, now: datetime) -> str:
    """Return where a reviewer goes after declaring no conflict: the proposal once review has started (F6: at the
    call's close), the review queue before."""
    proposal = repo.proposal_by_id(session, proposal_id)
    call = repo.call_by_id(session, proposal.call_id) if proposal else None
    if call is not None and policy.review_started(closes_at=as_utc(call.closes_at), now=now):
        return f"/programme/proposals/{proposal_id}"
    return "/programme/review"


@dataclass(frozen=True)
class ReviewQueuePage:
    """The proposals a panel reviewer declares on (title and organisation only) and what they may do."""

    items: list[Proposal]
    declared: dict[int, ConflictDeclaration | None]
    calls: dict[int, Call]
    orgs: dict[int, Organization | None]
    scored: set[int]
    is_reviewer: bool
    may_declare: set[int]  # proposals the reader has not declared on yet
    may_open: set[int]  # proposals the reader declared no conflict on (they read and score them)


def review_queue(session: Session, *, actor: Principal, now: datetime, call_id: int | None = None) -> ReviewQueuePage:
    """Return the reader's review queue (of one call when given), loaded in a fixed number of queries."""
    items = service.review_queue(session, actor=actor, call_id=call_id)
    ids = [p.id for p in items]
    found = repo.conflicts_of(session, actor.user_id, ids)
    declared: dict[int, ConflictDeclaration | None] = {i: found.get(i) for i in ids}
    orgs = accounts_repo.orgs_by_id(session, {p.organization_id for p in items})
    calls = repo.calls_by_ids(session, {p.call_id for p in items})
    started = {p.id for p in items if policy.review_started(closes_at=as_utc(calls[p.call_id].closes_at), now=now)}
    return ReviewQueuePage(
        items=items, declared=declared, calls=calls,
        orgs={p.organization_id: orgs.get(p.organization_id) for p in items},
        scored=repo.scored_by(session, actor.user_id, ids), is_reviewer=actor.has(Permission.PROGRAMME_REVIEW),
        may_declare={i for i, d in declared.items() if d is None},
        may_open={i for i, d in declared.items() if d is not None and not d.has_conflict and i in started})


# ---------------------------------------------------------------------------------------------
# Projects (C2)


@dataclass(frozen=True)
class ProjectsPage:
    """The projects the reader may see."""

    projects: list[Project]
    agencies: dict[int, Agency]


def projects(session: Session, *, actor: Principal) -> ProjectsPage:
    """Return the list of projects."""
    return ProjectsPage(projects=service.list_projects(session, actor=actor), agencies=_agencies(session))


@dataclass(frozen=True)
class ProjectPage:
    """A project with its money, milestones and council, and what the reader may record."""

    view: service.ProjectView
    project: Project
    agency: Agency
    call: Call
    committed_by_year: dict[int, int]
    transactions: list[LedgerTransaction]
    lead: User | None
    may_manage_money: bool  # commit and disburse (disbursement still waits for the council, C2)
    may_manage_milestones: bool


def project_page(session: Session, *, project_id: int, actor: Principal, councils: CouncilGateway) -> ProjectPage:
    """Return a project page (404 for a project the reader may not see)."""
    view = service.get_project(session, project_id=project_id, actor=actor, councils=councils)
    project = view.project
    agency = repo.agency_by_id(session, project.agency_id)
    call = repo.call_by_id(session, project.call_id)
    assert agency is not None and call is not None
    committed = repo.committed_by_year(session, project.id)
    staff = policy.can_manage_call(actor, agency.organization_id)
    return ProjectPage(
        view=view, project=project, agency=agency, call=call,
        committed_by_year={fy: committed.get(fy, 0) for fy in view.plan},
        transactions=repo.transactions(session, project_id=project.id),
        lead=accounts_repo.user_by_id(session, project.lead_id), may_manage_money=staff,
        may_manage_milestones=staff)


# ---------------------------------------------------------------------------------------------
# Think-tank commissions (F5)


@dataclass(frozen=True)
class CommissionsPage:
    """The commissions the reader may see; officers also assess and commission institutions here."""

    items: list[Commission]
    awaiting: list[Commission]  # named, the duty not acknowledged yet (Art. 64): only the duty is shown
    assessments: list[CapabilityAssessment]  # the latest of each institution
    orgs: dict[int, Organization]
    institutions: list[Organization]
    officer: bool
    may_assess: bool
    may_commission: bool


def commissions_page(session: Session, *, actor: Principal) -> CommissionsPage:
    """Return the commissions page."""
    officer = policy.is_commissioner(actor)
    latest: dict[int, CapabilityAssessment] = {}
    for a in commissions.list_assessments(session, actor=actor) if officer else []:
        latest.setdefault(a.organization_id, a)
    orgs = {o.id: o for o in accounts_repo.list_orgs(session)}
    return CommissionsPage(
        items=commissions.list_commissions(session, actor=actor), awaiting=commissions.awaiting(session, actor=actor),
        assessments=list(latest.values()), orgs=orgs,
        institutions=[o for o in orgs.values() if o.id != actor.organization_id], officer=officer,
        may_assess=officer, may_commission=officer)


@dataclass(frozen=True)
class CommissionPage:
    """A commission with its duty, roster, tasks and deliverables, and what the reader may do on it.

    ``view`` is None for a reader who sees only the duty: a named person who has not acknowledged yet,
    or the institution's contact before acknowledging (Art. 64, issue 13).
    """

    view: commissions.CommissionView | None
    c: Commission
    roster: roster_service.RosterView
    org: Organization | None
    people: dict[int, User]
    tasks_by_id: dict[int, Any]
    councils: list[Council]  # where the reader may file a deliverable
    may_acknowledge: bool
    may_work: bool  # complete tasks and upload deliverables
    may_close: bool  # complete or cancel
    may_file: bool


def commission_page(session: Session, *, commission_id: int, actor: Principal, now: datetime) -> CommissionPage:
    """Return a commission page (404 for everyone but its owner side and the named people); the read of the
    whole commission is audited (A1)."""
    rv = roster_service.view(session, commission_id=commission_id, actor=actor, now=now)
    c, facts = rv.commission, rv.facts
    view = (commissions.get_commission(session, commission_id=commission_id, actor=actor, now=now)
            if policy.can_see_commission(actor, facts) else None)
    ids = {c.commissioned_by_id} | ({d.uploaded_by_id for d in view.deliverables} if view else set())
    filing = _filing_councils(session, actor) if view and view.deliverables else []
    return CommissionPage(
        view=view, c=c, roster=rv, org=accounts_repo.org_by_id(session, c.organization_id),
        people={**accounts_repo.users_by_id(session, ids), **rv.people},
        tasks_by_id={t.id: t for t in view.tasks} if view else {},
        councils=filing, may_acknowledge=rv.may_acknowledge,
        may_work=policy.can_work_on(actor, facts), may_close=policy.can_close(actor, facts),
        may_file=bool(filing))


def _filing_councils(session: Session, actor: Principal) -> list[Council]:
    """Return the councils the reader takes part in with access to their content (where a deliverable may go)."""
    return [c for c in councils_service.list_councils(session, actor=actor)
            if councils_service.can_read_content(session, council_id=c.id, actor=actor)]
