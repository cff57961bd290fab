"""JSON API of the programme domain (``/api/v1/programme``): parse, call one service, shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.councils.endpoints import DOWNLOAD_TYPES
from banso.councils.endpoints import checked_files as council_files
from banso.information.deps import information_deps
from banso.kit.disposition import content_disposition
from banso.kit.unit import released
from banso.programme import (
    budget,
    budget_excel,
    commissions,
    evaluations,
    filing,
    guideline,
    integrity,
    pages,
    registry_io,
    reporting,
    review,
    service,
    tank_requests,
)
from banso.programme import roster as roster_service
from banso.programme.council_link import CouncilsServiceGateway
from banso.programme.interfaces import CouncilGateway
from banso.programme.models import Proposal
from banso.programme.schemas import (
    AcknowledgementPreview,
    AgencyRead,
    AreaRead,
    AssessmentIn,
    AssessmentRead,
    AssignmentIn,
    AssignmentRead,
    BudgetItemRead,
    BudgetLineRead,
    CallCreate,
    CallRead,
    CallStatisticsRead,
    CancelIn,
    ChangeIn,
    CommissionCreate,
    CommissionRead,
    CommissionRequestCreate,
    CommissionRequestFileRead,
    CommissionRequestRead,
    CommissionSummary,
    CommitmentCreate,
    ConflictIn,
    ConflictRead,
    DecisionIn,
    DecisionRead,
    DeclarationReviewIn,
    DeclarationReviewRead,
    DeliverableRead,
    DisclosureIn,
    DisclosureRead,
    DocumentRead,
    EvaluationDeclarationIn,
    EvaluationGradeIn,
    EvaluationIn,
    EvaluationRead,
    EvaluationResultIn,
    EvaluatorRead,
    FlaggedProposalRead,
    FlagRead,
    GuidelineCreate,
    GuidelineRead,
    GuidelineSummary,
    IntegrityRead,
    MeasureRead,
    MilestoneIn,
    MilestoneRead,
    MilestoneUpdate,
    MoneyMove,
    PanelAdd,
    PanelRead,
    PanelReviewerRead,
    PanelRowRead,
    ProjectCouncilRead,
    ProjectRead,
    ProjectSummary,
    ProposalContent,
    ProposalCreate,
    ProposalRead,
    ProposalSummary,
    QueueItem,
    ReconciliationRead,
    RegistryImport,
    RegistryImportRead,
    ReportDecisionIn,
    ResultsReportIn,
    ResultsReportRead,
    ResultsReportsRead,
    RosterEntryRead,
    RosterPersonIn,
    RosterRead,
    RosterRemoveIn,
    ScoreIn,
    ScoreRead,
    SignatureRead,
    TaskRead,
    TeamMemberRead,
    TechnologyRead,
    TrancheCreate,
    TransactionRead,
)
from banso.sealed import store as sealed
from banso.sealed.store import SealedDeps
from banso.web.context import AppContext
from banso.web.csrf import verify_csrf
from banso.web.deps import ApiUser, Ctx, Db
from banso.web.openapi import XLSX, file_response

router = APIRouter(prefix="/programme", tags=["programme"], dependencies=[Depends(verify_csrf)])


def get_councils(ctx: Ctx) -> CouncilGateway:
    """Return the council gateway (C2) ``banso.app.wiring`` built; tests may override this dependency."""
    return ctx.collaborators.get(CouncilsServiceGateway)


Councils = Annotated[CouncilGateway, Depends(get_councils)]


# ---------------------------------------------------------------------------------------------
# Registry (F1)


@router.get("/areas", response_model=list[AreaRead])
def list_areas(principal: ApiUser, db: Db) -> list[AreaRead]:
    """List the basic guideline's technology areas."""
    return [AreaRead.model_validate(a) for a in service.list_areas(db)]


@router.get("/technologies", response_model=list[TechnologyRead])
def list_technologies(principal: ApiUser, db: Db, vision_round: int | None = Query(default=None, alias="round")
                      ) -> list[TechnologyRead]:
    """List the K Program vision technologies (of one round when given)."""
    return [TechnologyRead.model_validate(t) for t in service.list_technologies(db, vision_round=vision_round)]


@router.get("/registry/export", response_class=Response,
            responses=file_response("application/yaml", "text/csv", description="The registry (format=yaml|csv)"))
def export_registry(principal: ApiUser, db: Db, fmt: str = Query(default="yaml", alias="format",
                                                                  pattern="^(yaml|csv)$")) -> Response:
    """Export the registry as YAML or CSV."""
    data = service.export_registry(db)
    if fmt == "csv":
        return PlainTextResponse(registry_io.to_csv(data), media_type="text/csv; charset=utf-8")
    return PlainTextResponse(registry_io.to_yaml(data), media_type="application/yaml; charset=utf-8")


@router.post("/registry/import", response_model=RegistryImportRead)
def import_registry(body: RegistryImport, principal: ApiUser, db: Db, ctx: Ctx) -> RegistryImportRead:
    """Import (upsert) a registry file; all or nothing."""
    data = registry_io.parse(body.content, fmt=body.format)
    result = service.import_registry(db, data=data, now=ctx.clock.now(), actor=principal)
    return RegistryImportRead(**result.__dict__)


# ---------------------------------------------------------------------------------------------
# Basic guideline (F2)


def _guideline_read(view: guideline.GuidelineView) -> GuidelineRead:
    return GuidelineRead(**GuidelineSummary.model_validate(view.guideline).model_dump(), body=view.guideline.body,
                         measures=[MeasureRead.model_validate(m) for m in view.measures])


@router.get("/guidelines", response_model=list[GuidelineSummary])
def list_guidelines(principal: ApiUser, db: Db, current: bool = False) -> list[GuidelineSummary]:
    """List the basic guideline's versions, newest first (only the current ones with ``current=true``)."""
    return [GuidelineSummary.model_validate(g) for g in guideline.list_guidelines(db, current_only=current)]


@router.get("/guidelines/{guideline_id}", response_model=GuidelineRead)
def get_guideline(guideline_id: int, principal: ApiUser, db: Db) -> GuidelineRead:
    """Return one guideline version with its measures."""
    return _guideline_read(guideline.get_guideline(db, guideline_id=guideline_id))


@router.post("/guidelines", response_model=GuidelineRead, status_code=status.HTTP_201_CREATED)
def adopt_guideline(body: GuidelineCreate, principal: ApiUser, db: Db, ctx: Ctx) -> GuidelineRead:
    """Record a new version of a guideline with its measures (agency staff and ministry officers)."""
    row = guideline.adopt_guideline(
        db, code=body.code, title_ja=body.title_ja, title_en=body.title_en, adopted_on=body.adopted_on,
        body=body.body, source=body.source, certainty=body.certainty,
        measures=[guideline.MeasureInput(**m.model_dump()) for m in body.measures], now=ctx.clock.now(),
        actor=principal)
    return _guideline_read(guideline.get_guideline(db, guideline_id=row.id))


@router.get("/technologies/{code}/measures", response_model=list[MeasureRead])
def technology_measures(code: str, principal: ApiUser, db: Db) -> list[MeasureRead]:
    """List the current guideline measures that name a vision technology."""
    return [MeasureRead.model_validate(m) for m in guideline.measures_for_technology(db, technology_code=code)]


# ---------------------------------------------------------------------------------------------
# Fund ledger (F3)


@router.get("/agencies", response_model=list[AgencyRead])
def list_agencies(principal: ApiUser, db: Db) -> list[AgencyRead]:
    """List the funding agencies."""
    return [AgencyRead.model_validate(a) for a in service.list_agencies(db)]


@router.post("/agencies/{code}/tranches", response_model=TransactionRead, status_code=status.HTTP_201_CREATED)
def add_tranche(code: str, body: TrancheCreate, principal: ApiUser, db: Db, ctx: Ctx) -> TransactionRead:
    """Record a budget tranche for a fiscal year (the agency's staff)."""
    tx = service.add_tranche(db, agency_code=code, fiscal_year=body.fiscal_year, amount=body.amount,
                             value_date=body.value_date, memo=body.memo, now=ctx.clock.now(), actor=principal)
    return TransactionRead.model_validate(tx)


@router.get("/agencies/{code}/transactions", response_model=list[TransactionRead])
def list_transactions(code: str, principal: ApiUser, db: Db,
                      fiscal_year: int | None = None) -> list[TransactionRead]:
    """List an agency's ledger transactions (its staff)."""
    rows = service.list_transactions(db, agency_code=code, actor=principal, fiscal_year=fiscal_year)
    return [TransactionRead.model_validate(t) for t in rows]


@router.get("/ledger/reconciliation", response_model=ReconciliationRead)
def reconciliation(principal: ApiUser, db: Db, agency: str | None = None) -> ReconciliationRead:
    """Reconcile the ledgers the caller may read: balances against postings, double entry, fund identity."""
    report = service.reconcile(db, actor=principal, agency_code=agency)
    return ReconciliationRead(
        ok=report.ok, unbalanced_transactions=[list(t) for t in report.unbalanced_transactions],
        agencies=[{"agency": a.agency, "received": a.received, "available": a.available,  # type: ignore[misc]
                   "committed": a.committed, "disbursed": a.disbursed, "sums_to_zero": a.sums_to_zero,
                   "identity_holds": a.identity_holds,
                   "accounts": [{**line.__dict__, "ok": line.ok} for line in a.accounts],
                   "years": [y.__dict__ for y in a.years]} for a in report.agencies],
    )


@router.get("/agencies/{code}/ledger.xlsx", response_class=Response,
            responses=file_response(XLSX, description="The ledger workbook"))
def ledger_workbook(code: str, principal: ApiUser, db: Db, ctx: Ctx) -> Response:
    """Download the agency's ledger as an Excel workbook (audited export)."""
    from banso.programme import exports

    content = exports.ledger_workbook(db, agency_code=code, actor=principal, now=ctx.clock.now())
    return Response(content, media_type=exports.XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": content_disposition(f"ledger-{code.upper()}.xlsx")})


# ---------------------------------------------------------------------------------------------
# Calls (F3)


@router.get("/calls", response_model=list[CallRead])
def list_calls(principal: ApiUser, db: Db) -> list[CallRead]:
    """List the calls the caller may see."""
    return [CallRead.model_validate(c) for c in service.list_calls(db, actor=principal)]


@router.post("/calls", response_model=CallRead, status_code=status.HTTP_201_CREATED)
def create_call(body: CallCreate, principal: ApiUser, db: Db, ctx: Ctx) -> CallRead:
    """Create a draft call (the agency's staff)."""
    data = body.model_dump(exclude={"documents"})
    docs = [service.DocumentInput(**d.model_dump()) for d in body.documents]
    call = service.create_call(db, **data, documents=docs, now=ctx.clock.now(), actor=principal)
    return CallRead.model_validate(call)


@router.get("/calls/{call_id}", response_model=CallRead)
def get_call(call_id: int, principal: ApiUser, db: Db) -> CallRead:
    """Return one call."""
    return CallRead.model_validate(service.get_call(db, call_id=call_id, actor=principal))


@router.get("/calls/{call_id}/documents", response_model=list[DocumentRead])
def call_documents(call_id: int, principal: ApiUser, db: Db) -> list[DocumentRead]:
    """Return a call's documents."""
    return [DocumentRead.model_validate(d) for d in service.call_documents(db, call_id=call_id, actor=principal)]


@router.post("/calls/{call_id}/publish", response_model=CallRead)
def publish_call(call_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> CallRead:
    """Publish a draft call."""
    call = service.publish_call(db, call_id=call_id, now=ctx.clock.now(), actor=principal)
    return CallRead.model_validate(call)


@router.post("/calls/{call_id}/panel", status_code=status.HTTP_204_NO_CONTENT)
def add_panel_member(call_id: int, body: PanelAdd, principal: ApiUser, db: Db, ctx: Ctx) -> None:
    """Put a reviewer on the call's panel."""
    service.add_panel_member(db, call_id=call_id, user_id=body.user_id, now=ctx.clock.now(), actor=principal)


def _entered(body: ProposalContent) -> service.ProposalInput:
    return service.ProposalInput(
        title=body.title, summary=body.summary, budget=body.budget, budget_sheet=body.budget_sheet,
        team=[service.TeamMemberInput(**m.model_dump()) for m in body.team], lead_effort=body.lead_effort,
        documents=[service.DocumentInput(**d.model_dump()) for d in body.documents],
        core_technologies=body.core_technologies, leak_prevention=body.leak_prevention,
        disclosures=[_disclosure(d, i) for i, d in enumerate(body.disclosures)])


def _disclosure(body: DisclosureIn, index: int) -> integrity.DisclosureLine:
    """Return a disclosure line with its 千円 amount as whole yen."""
    amount = (None if body.amount_thousand_yen is None
              else budget.parse_thousand_yen(body.amount_thousand_yen, field=f"disclosures[{index}].amount"))
    return integrity.DisclosureLine(kind=body.kind, name=body.name, agency=body.agency,
                                    researcher_number=body.researcher_number,
                                    start_fiscal_year=body.start_fiscal_year, end_fiscal_year=body.end_fiscal_year,
                                    amount_yen=amount, effort_percent=body.effort_percent, foreign=body.foreign)


@router.post("/calls/{call_id}/proposals", response_model=ProposalSummary, status_code=status.HTTP_201_CREATED)
def submit_proposal(call_id: int, body: ProposalCreate, principal: ApiUser, db: Db, ctx: Ctx) -> ProposalSummary:
    """Submit a proposal to an open call (a receipt number is given), or save it as a draft with ``draft: true``."""
    proposal = service.save_proposal(db, call_id=call_id, entered=_entered(body), now=ctx.clock.now(),
                                     actor=principal, draft=body.draft)
    return ProposalSummary.model_validate(proposal)


# ---------------------------------------------------------------------------------------------
# Proposals and review


@router.get("/proposals", response_model=list[ProposalSummary])
def list_proposals(principal: ApiUser, db: Db, ctx: Ctx, call_id: int | None = None) -> list[ProposalSummary]:
    """List the proposals the caller may see (reviewers: only after the call closes; drafts: only one's own)."""
    found = service.list_proposals(db, actor=principal, now=ctx.clock.now(), call_id=call_id)
    return [ProposalSummary.model_validate(p) for p in found]


@router.put("/proposals/{proposal_id}", response_model=ProposalSummary)
def update_proposal(proposal_id: int, body: ProposalContent, principal: ApiUser, db: Db, ctx: Ctx) -> ProposalSummary:
    """Replace the content of one's draft, or of one's submitted proposal until the call closes (audited)."""
    proposal = service.update_proposal(db, proposal_id=proposal_id, entered=_entered(body), now=ctx.clock.now(),
                                       actor=principal)
    return ProposalSummary.model_validate(proposal)


@router.post("/proposals/{proposal_id}/submit", response_model=ProposalSummary)
def submit_draft(proposal_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> ProposalSummary:
    """Submit one's draft (after checking it, as the confirmation page shows it): gives the receipt number (受付番号)."""
    proposal = service.submit_draft(db, proposal_id=proposal_id, now=ctx.clock.now(), actor=principal)
    return ProposalSummary.model_validate(proposal)


@router.get("/proposals/{proposal_id}/budget.xlsx", response_class=Response,
            responses=file_response(budget_excel.XLSX_MEDIA_TYPE, description="The budget sheet in 千円"))
def budget_workbook(proposal_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> Response:
    """Download a proposal's budget sheet (経費計画) as Excel, amounts in 千円."""
    content = service.budget_workbook(db, proposal_id=proposal_id, actor=principal, now=ctx.clock.now())
    return Response(content, media_type=budget_excel.XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": content_disposition(f"budget-{proposal_id}.xlsx")})


@router.put("/proposals/{proposal_id}/budget.xlsx", response_model=ProposalSummary)
def import_budget(proposal_id: int, principal: ApiUser, db: Db, ctx: Ctx,
                  file: Annotated[UploadFile, File()]) -> ProposalSummary:
    """Replace the budget sheet of one's editable proposal by an Excel file (multipart ``file``; the sheet
    ``経費計画`` as the download has it; at most 1 MB; formulas refused)."""
    content = file.file.read(budget_excel.MAX_FILE_BYTES + 1)
    proposal = service.import_budget(db, proposal_id=proposal_id, data=content, now=ctx.clock.now(), actor=principal)
    return ProposalSummary.model_validate(proposal)


@router.get("/review-queue", response_model=list[QueueItem])
def review_queue(principal: ApiUser, db: Db, ctx: Ctx, call_id: int | None = None) -> list[QueueItem]:
    """List what a panel reviewer may declare conflicts on (title and organisation only)."""
    queue = pages.review_queue(db, actor=principal, now=ctx.clock.now(), call_id=call_id)  # the page's decision

    def declared(proposal_id: int) -> bool | None:
        found = queue.declared[proposal_id]
        return None if found is None else found.has_conflict

    return [QueueItem(id=p.id, call_id=p.call_id, title=p.title, organization_id=p.organization_id,
                      declared=declared(p.id)) for p in queue.items]


def _proposal_read(view: service.ProposalView) -> ProposalRead:
    p: Proposal = view.proposal
    return ProposalRead(
        **ProposalSummary.model_validate(p).model_dump(), summary=p.summary, proposer_id=p.proposer_id,
        core_technologies=p.core_technologies, leak_prevention=p.leak_prevention,
        declaration_required=view.declaration_required,
        team=[TeamMemberRead.model_validate(m) for m in view.team], budget=[BudgetLineRead.model_validate(b) for b in view.budget],
        budget_sheet=[BudgetItemRead(fiscal_year=fy, category=c.value, amount=a,
                                     amount_thousand_yen=str(budget.thousand_yen(a))) for fy, c, a in view.sheet.cells()],
        indirect_rate_percent=view.sheet.rate_percent,
        documents=[DocumentRead.model_validate(d) for d in view.documents],
        scores=[ScoreRead.model_validate(s) for s in view.scores],
        decision=_decision_read(view),
    )


def _decision_read(view: service.ProposalView) -> DecisionRead | None:
    """The decision as the reader may know it: the panel's own reason only for the staff (F6)."""
    if view.decision is None:
        return None
    read = DecisionRead.model_validate(view.decision)
    return read if view.internal_reason else read.model_copy(update={"reason": ""})


@router.get("/proposals/{proposal_id}", response_model=ProposalRead)
def get_proposal(proposal_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> ProposalRead:
    """Return a proposal; hidden from conflicted or same-organisation reviewers (404)."""
    view = service.get_proposal(db, proposal_id=proposal_id, actor=principal, now=ctx.clock.now())
    return _proposal_read(view)  # the read is audited (I8); the unit of work commits it


@router.post("/proposals/{proposal_id}/withdraw", response_model=ProposalSummary)
def withdraw_proposal(proposal_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> ProposalSummary:
    """Withdraw one's own proposal."""
    proposal = service.withdraw_proposal(db, proposal_id=proposal_id, now=ctx.clock.now(), actor=principal)
    return ProposalSummary.model_validate(proposal)


@router.post("/proposals/{proposal_id}/conflict", response_model=ConflictRead, status_code=status.HTTP_201_CREATED)
def declare_conflict(proposal_id: int, body: ConflictIn, principal: ApiUser, db: Db, ctx: Ctx) -> ConflictRead:
    """Declare whether one has a conflict of interest with a proposal."""
    row = service.declare_conflict(db, proposal_id=proposal_id, has_conflict=body.has_conflict, reason=body.reason,
                                   grounds=body.grounds, now=ctx.clock.now(), actor=principal)
    return ConflictRead.model_validate(row)


@router.put("/proposals/{proposal_id}/score", response_model=ScoreRead)
def score_proposal(proposal_id: int, body: ScoreIn, principal: ApiUser, db: Db, ctx: Ctx) -> ScoreRead:
    """Score a proposal against the call's rubric."""
    row = service.score_proposal(db, proposal_id=proposal_id, scores=body.scores, comment=body.comment,
                                 now=ctx.clock.now(), actor=principal)
    return ScoreRead.model_validate(row)


@router.post("/proposals/{proposal_id}/decision", response_model=DecisionRead, status_code=status.HTTP_201_CREATED)
def decide(proposal_id: int, body: DecisionIn, principal: ApiUser, db: Db, ctx: Ctx,
           councils: Councils) -> DecisionRead:
    """Record the panel decision; adoption creates the project and opens its council (C2)."""
    row = service.decide(db, proposal_id=proposal_id, outcome=body.outcome, reason=body.reason,
                         notice_reason=body.notice_reason, now=ctx.clock.now(), actor=principal, councils=councils)
    return DecisionRead.model_validate(row)


# ---------------------------------------------------------------------------------------------
# Reviewers per proposal, panel view, integrity, duplication (F6)


@router.post("/proposals/{proposal_id}/reviewers", response_model=AssignmentRead,
             status_code=status.HTTP_201_CREATED)
def assign_reviewer(proposal_id: int, body: AssignmentIn, principal: ApiUser, db: Db, ctx: Ctx) -> AssignmentRead:
    """Assign a reviewer to one proposal (the agency's staff); then only assigned reviewers review it."""
    row = review.assign_reviewer(db, proposal_id=proposal_id, reviewer_id=body.reviewer_id, now=ctx.clock.now(),
                                 actor=principal)
    return AssignmentRead.model_validate(row)


@router.delete("/proposals/{proposal_id}/reviewers/{reviewer_id}", status_code=status.HTTP_204_NO_CONTENT)
def unassign_reviewer(proposal_id: int, reviewer_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> None:
    """Take a reviewer off a proposal before they scored it."""
    review.unassign_reviewer(db, proposal_id=proposal_id, reviewer_id=reviewer_id, now=ctx.clock.now(),
                             actor=principal)


def panel_read(view: review.PanelView) -> PanelRead:
    """Shape the panel view (shared with the page's CSV-free JSON twin)."""
    return PanelRead(call_id=view.call_id, review_open=view.review_open, rows=[PanelRowRead(
        proposal_id=r.proposal.id, receipt_number=r.proposal.receipt_number, title=r.proposal.title,
        state=r.proposal.state, total_yen=r.proposal.total_yen, mean_score=r.mean_score, flags=r.flags,
        decision=DecisionRead.model_validate(r.decision) if r.decision else None,
        reviewers=[PanelReviewerRead(
            reviewer_id=x.reviewer_id, name=x.name, assigned=x.assigned,
            has_conflict=x.declaration.has_conflict if x.declaration else None,
            grounds=x.declaration.grounds if x.declaration else None,
            scores=x.score.scores if x.score else None, total=x.score.total if x.score else None,
            comment=x.score.comment if x.score else None) for x in r.reviewers]) for r in view.rows])


@router.get("/calls/{call_id}/panel", response_model=PanelRead)
def panel_view(call_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> PanelRead:
    """The panel meeting view of a call: every proposal with its reviewers' scores and comments (staff; audited)."""
    return panel_read(review.panel_view(db, call_id=call_id, actor=principal, now=ctx.clock.now()))


def _integrity_read(view: review.IntegrityView) -> IntegrityRead:
    return IntegrityRead(proposal_id=view.proposal.id, statement_ja=integrity.STATEMENT_JA,
                         statement_en=integrity.STATEMENT_EN,
                         disclosures=[DisclosureRead.model_validate(d) for d in view.disclosures],
                         changes=[DisclosureRead.model_validate(d) for d in view.changes],
                         signatures=[SignatureRead.model_validate(s) for s in view.signatures])


@router.get("/proposals/{proposal_id}/integrity", response_model=IntegrityRead)
def integrity_of(proposal_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> IntegrityRead:
    """A proposal's integrity disclosures and signed declarations (applicants and the call's staff; 404 else)."""
    return _integrity_read(review.integrity_of(db, proposal_id=proposal_id, actor=principal, now=ctx.clock.now()))


@router.post("/proposals/{proposal_id}/integrity/changes", response_model=DisclosureRead,
             status_code=status.HTTP_201_CREATED)
def declare_change(proposal_id: int, body: ChangeIn, principal: ApiUser, db: Db, ctx: Ctx) -> DisclosureRead:
    """Declare a change to the disclosures after adoption (採択後の変更申告; the team; audited)."""
    row = review.declare_change(db, proposal_id=proposal_id, line=_disclosure(body.disclosure, 0),
                                reason=body.reason, now=ctx.clock.now(), actor=principal)
    return DisclosureRead.model_validate(row)


@router.get("/duplication-flags", response_model=list[FlagRead])
def duplication_flags(principal: ApiUser, db: Db, ctx: Ctx, call_id: int | None = None) -> list[FlagRead]:
    """Duplication and concentration flags (不合理な重複・過度の集中) touching the caller's agency (staff; audited)."""
    flags = review.duplication_flags(db, actor=principal, now=ctx.clock.now(), call_id=call_id)
    return [FlagRead(kind=f.kind, researcher_number=f.researcher_number, score=f.score,
                     proposals=[FlaggedProposalRead(**vars(p)) for p in f.proposals], evidence=f.evidence)
            for f in flags]


@router.get("/duplication-flags.xlsx", response_class=Response,
            responses=file_response(XLSX, description="The duplication and concentration flags workbook"))
def duplication_workbook(principal: ApiUser, db: Db, ctx: Ctx, call_id: int | None = None) -> Response:
    """The duplication and concentration flags as an Excel workbook (agency staff; audited export)."""
    from banso.programme import exports

    content = exports.duplication_workbook(db, actor=principal, now=ctx.clock.now(), call_id=call_id)
    return Response(content, media_type=exports.XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": content_disposition("duplication.xlsx")})


@router.get("/calls/{call_id}/panel.xlsx", response_class=Response,
            responses=file_response(XLSX, description="The panel view workbook"))
def panel_workbook(call_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> Response:
    """The panel view (審査会) as an Excel workbook (the call's agency staff; audited export)."""
    from banso.programme import exports

    content = exports.panel_workbook(db, call_id=call_id, actor=principal, now=ctx.clock.now())
    return Response(content, media_type=exports.XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": content_disposition(f"panel-{call_id}.xlsx")})


@router.get("/statistics", response_model=list[CallStatisticsRead])
def call_statistics_json(principal: ApiUser, db: Db, ctx: Ctx) -> list[CallStatisticsRead]:
    """Call statistics of the caller's agency: proposals by status, adoption rate, review progress (staff; audited)."""
    from banso.programme import statistics

    return [CallStatisticsRead(
        call_id=s.call.id, code=s.call.code, title_ja=s.call.title_ja, state=s.call.state, proposals=s.proposals,
        submitted=s.submitted, adopted=s.adopted, rejected=s.rejected, withdrawn=s.withdrawn,
        adoption_rate=s.adoption_rate, requested_yen=s.requested_yen, adopted_yen=s.adopted_yen,
        assigned=s.assigned, declared=s.declared, scored=s.scored)
        for s in statistics.call_statistics(db, actor=principal, now=ctx.clock.now())]


# ---------------------------------------------------------------------------------------------
# Projects (C2)


@router.get("/projects", response_model=list[ProjectSummary])
def list_projects(principal: ApiUser, db: Db) -> list[ProjectSummary]:
    """List the projects the caller may see."""
    return [ProjectSummary.model_validate(p) for p in service.list_projects(db, actor=principal)]


def _project_read(view: service.ProjectView) -> ProjectRead:
    p = view.project
    return ProjectRead(
        **ProjectSummary.model_validate(p).model_dump(), plan=view.plan, committed=view.committed,
        disbursed=view.disbursed, council_established=view.council_established,
        declaration_required=p.declaration_required, declaration_review_due=p.declaration_review_due,
        milestones=[MilestoneRead.model_validate(m) for m in view.milestones],
        declaration_reviews=[DeclarationReviewRead.model_validate(r) for r in view.declaration_reviews],
        councils=[ProjectCouncilRead.model_validate(c) for c in view.councils], may_repropose=view.may_repropose,
    )


@router.get("/projects/{project_id}", response_model=ProjectRead)
def get_project(project_id: int, principal: ApiUser, db: Db, councils: Councils) -> ProjectRead:
    """Return a project with its plan, money, milestones and council state."""
    return _project_read(service.get_project(db, project_id=project_id, actor=principal, councils=councils))


@router.post("/projects/{project_id}/council", response_model=ProjectRead, status_code=status.HTTP_201_CREATED)
def repropose_council(project_id: int, principal: ApiUser, db: Db, ctx: Ctx, councils: Councils) -> ProjectRead:
    """Propose the project's council again after it lapsed or was dissolved (call officer or agency staff;
    409 while the current council is proposed or operating; issue 13)."""
    service.repropose_council(db, project_id=project_id, now=ctx.clock.now(), actor=principal, councils=councils)
    return _project_read(service.get_project(db, project_id=project_id, actor=principal, councils=councils))


@router.post("/projects/{project_id}/commitments", response_model=TransactionRead,
             status_code=status.HTTP_201_CREATED)
def commit_funds(project_id: int, body: CommitmentCreate, principal: ApiUser, db: Db, ctx: Ctx) -> TransactionRead:
    """Commit part of the project's plan for a fiscal year."""
    tx = service.commit_funds(db, project_id=project_id, fiscal_year=body.fiscal_year, amount=body.amount,
                              memo=body.memo, now=ctx.clock.now(), actor=principal)
    return TransactionRead.model_validate(tx)


@router.post("/projects/{project_id}/disbursements", response_model=TransactionRead,
             status_code=status.HTTP_201_CREATED)
def disburse(project_id: int, body: MoneyMove, principal: ApiUser, db: Db, ctx: Ctx,
             councils: Councils) -> TransactionRead:
    """Pay from the project's commitment; refused (409) until its council is established (C2)."""
    # A refusal before the council is established is audited: the unit of work keeps its entry (A1).
    tx = service.disburse(db, project_id=project_id, amount=body.amount, memo=body.memo, now=ctx.clock.now(),
                          actor=principal, councils=councils)
    return TransactionRead.model_validate(tx)


@router.post("/projects/{project_id}/returns", response_model=TransactionRead, status_code=status.HTTP_201_CREATED)
def record_return(project_id: int, body: MoneyMove, principal: ApiUser, db: Db, ctx: Ctx) -> TransactionRead:
    """Record money returned by the project."""
    tx = service.record_return(db, project_id=project_id, amount=body.amount, memo=body.memo, now=ctx.clock.now(),
                               actor=principal)
    return TransactionRead.model_validate(tx)


@router.post("/projects/{project_id}/milestones", response_model=MilestoneRead, status_code=status.HTTP_201_CREATED)
def add_milestone(project_id: int, body: MilestoneIn, principal: ApiUser, db: Db, ctx: Ctx) -> MilestoneRead:
    """Add a milestone."""
    row = service.add_milestone(db, project_id=project_id, title=body.title, due_on=body.due_on,
                                now=ctx.clock.now(), actor=principal)
    return MilestoneRead.model_validate(row)


@router.put("/projects/{project_id}/milestones/{milestone_id}", response_model=MilestoneRead)
def set_milestone_status(project_id: int, milestone_id: int, body: MilestoneUpdate, principal: ApiUser, db: Db,
                         ctx: Ctx) -> MilestoneRead:
    """Record a stage-gate result for a milestone."""
    row = service.set_milestone_status(db, project_id=project_id, milestone_id=milestone_id, status=body.status,
                                       note=body.note, now=ctx.clock.now(), actor=principal)
    return MilestoneRead.model_validate(row)


@router.post("/projects/{project_id}/declaration-reviews", response_model=DeclarationReviewRead,
             status_code=status.HTTP_201_CREATED)
def review_declaration(project_id: int, body: DeclarationReviewIn, principal: ApiUser, db: Db,
                       ctx: Ctx) -> DeclarationReviewRead:
    """Record the periodic review of the project's core-technology and leak-prevention declaration (F4)."""
    row = service.review_declaration(db, project_id=project_id, outcome=body.outcome, note=body.note,
                                     now=ctx.clock.now(), actor=principal)
    return DeclarationReviewRead.model_validate(row)


def _reports_read(view: reporting.ReportsView) -> ResultsReportsRead:
    return ResultsReportsRead(
        reports=[ResultsReportRead.model_validate(r).model_copy(update={"overdue": reporting.is_overdue(r, view.today)})
                 for r in view.reports],
        may_submit=view.may_submit, may_decide=view.may_decide)


@router.get("/projects/{project_id}/reports", response_model=ResultsReportsRead)
def project_reports(project_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> ResultsReportsRead:
    """List the results reports the project owes (annual and final, F6); 404 for whoever may not see it."""
    return _reports_read(reporting.project_reports(db, project_id=project_id, actor=principal, now=ctx.clock.now()))


@router.post("/projects/{project_id}/reports/{report_id}/submit", response_model=ResultsReportRead)
def submit_report(project_id: int, report_id: int, body: ResultsReportIn, principal: ApiUser, db: Db,
                  ctx: Ctx) -> ResultsReportRead:
    """Submit (or resubmit after a return) a results report: the research representative only."""
    row = reporting.submit_report(db, project_id=project_id, report_id=report_id, summary=body.summary,
                                  outputs=body.outputs, now=ctx.clock.now(), actor=principal)
    return ResultsReportRead.model_validate(row)


@router.post("/projects/{project_id}/reports/{report_id}/file", response_model=ResultsReportRead)
def file_report(project_id: int, report_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> ResultsReportRead:
    """Provide a submitted report to the project's council as a researcher-generated result (I1): the research
    representative only, once; it becomes public after the bylaws' prior-notice window (I6)."""
    reporting.file_as_result(db, information_deps(ctx), project_id=project_id, report_id=report_id,
                             now=ctx.clock.now(), actor=principal)
    row = reporting.project_reports(db, project_id=project_id, actor=principal, now=ctx.clock.now())
    return ResultsReportRead.model_validate(next(r for r in row.reports if r.id == report_id))


@router.post("/projects/{project_id}/reports/{report_id}/decision", response_model=ResultsReportRead)
def decide_report(project_id: int, report_id: int, body: ReportDecisionIn, principal: ApiUser, db: Db,
                  ctx: Ctx) -> ResultsReportRead:
    """Accept a submitted report or return it with a note (the agency's staff)."""
    row = reporting.decide_report(db, project_id=project_id, report_id=report_id, decision=body.decision,
                                  note=body.note, now=ctx.clock.now(), actor=principal)
    return ResultsReportRead.model_validate(row)


def _evaluation_read(view: evaluations.EvaluationView) -> EvaluationRead:
    e = view.evaluation
    return EvaluationRead(
        id=e.id, project_id=view.project.id, project_title=view.project.title, kind=e.kind, due_on=e.due_on,
        result=e.result, result_note=e.result_note, completed_at=e.completed_at, may_declare=view.may_declare,
        may_read=view.may_read, may_grade=view.may_grade, may_complete=view.may_complete,
        own=EvaluatorRead.model_validate(view.own) if view.own is not None else None,
        evaluators=[EvaluatorRead.model_validate(a) for a in view.assignments],
        reports=[ResultsReportRead.model_validate(r) for r in view.reports])


@router.post("/projects/{project_id}/evaluations", response_model=EvaluationRead,
             status_code=status.HTTP_201_CREATED)
def open_evaluation(project_id: int, body: EvaluationIn, principal: ApiUser, db: Db, ctx: Ctx) -> EvaluationRead:
    """Open an interim or final evaluation and assign its evaluators (the agency's staff; F6)."""
    row = evaluations.open_evaluation(db, project_id=project_id, kind=body.kind, due_on=body.due_on,
                                      evaluator_ids=body.evaluator_ids, now=ctx.clock.now(), actor=principal)
    return _evaluation_read(evaluations.get_evaluation(db, evaluation_id=row.id, actor=principal,
                                                                now=ctx.clock.now()))


@router.get("/evaluations/{evaluation_id}", response_model=EvaluationRead)
def get_evaluation(evaluation_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> EvaluationRead:
    """Return an evaluation to its staff and evaluators (404 for everyone else); reports only after declaring."""
    return _evaluation_read(evaluations.get_evaluation(db, evaluation_id=evaluation_id, actor=principal,
                                                                now=ctx.clock.now()))


@router.post("/evaluations/{evaluation_id}/declaration", response_model=EvaluationRead)
def declare_evaluation_conflict(evaluation_id: int, body: EvaluationDeclarationIn, principal: ApiUser, db: Db,
                                ctx: Ctx) -> EvaluationRead:
    """Declare whether one has a conflict of interest with the project; final once made."""
    evaluations.declare_conflict(db, evaluation_id=evaluation_id, has_conflict=body.has_conflict,
                                 reason=body.reason, now=ctx.clock.now(), actor=principal)
    return _evaluation_read(evaluations.get_evaluation(db, evaluation_id=evaluation_id, actor=principal,
                                                                now=ctx.clock.now()))


@router.post("/evaluations/{evaluation_id}/grade", response_model=EvaluationRead)
def grade_evaluation(evaluation_id: int, body: EvaluationGradeIn, principal: ApiUser, db: Db,
                     ctx: Ctx) -> EvaluationRead:
    """Grade the project (S/A/B/C) with a comment (an evaluator who declared no conflict)."""
    evaluations.grade(db, evaluation_id=evaluation_id, grade_value=body.grade, comment=body.comment,
                      now=ctx.clock.now(), actor=principal)
    return _evaluation_read(evaluations.get_evaluation(db, evaluation_id=evaluation_id, actor=principal,
                                                                now=ctx.clock.now()))


@router.post("/evaluations/{evaluation_id}/result", response_model=EvaluationRead)
def complete_evaluation(evaluation_id: int, body: EvaluationResultIn, principal: ApiUser, db: Db,
                        ctx: Ctx) -> EvaluationRead:
    """Record the overall result and tell the research representative (the agency's staff)."""
    evaluations.complete(db, evaluation_id=evaluation_id, result=body.result, note=body.note, now=ctx.clock.now(),
                         actor=principal)
    return _evaluation_read(evaluations.get_evaluation(db, evaluation_id=evaluation_id, actor=principal,
                                                                now=ctx.clock.now()))


@router.get("/reports.xlsx", response_class=Response,
            responses=file_response(XLSX, description="The results-report and evaluation status workbook"))
def reports_workbook(principal: ApiUser, db: Db, ctx: Ctx) -> Response:
    """Download the results-report and evaluation status of the caller's agency's projects (agency staff; F6)."""
    from banso.programme import exports

    content = exports.after_adoption_workbook(db, actor=principal, now=ctx.clock.now())
    return Response(content, media_type=exports.XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": content_disposition("reports.xlsx")})


@router.get("/calls.xlsx", response_class=Response,
            responses=file_response(XLSX, description="The call statistics workbook"))
def call_statistics(principal: ApiUser, db: Db, ctx: Ctx) -> Response:
    """Download statistics of the calls the caller may see (proposals only as far as visible to them)."""
    from banso.programme import exports

    content = exports.call_statistics_workbook(db, actor=principal, now=ctx.clock.now())
    return Response(content, media_type=exports.XLSX_MEDIA_TYPE,
                    headers={"Content-Disposition": content_disposition("calls.xlsx")})


# ---------------------------------------------------------------------------------------------
# Think-tank commissions (F5)


def _commission_read(view: commissions.CommissionView) -> CommissionRead:
    c = view.commission
    return CommissionRead(
        **CommissionSummary.model_validate(c).model_dump(), purpose=c.purpose,
        confidentiality_terms=c.confidentiality_terms,
        assessment=AssessmentRead.model_validate(view.assessment) if view.assessment else None,
        tasks=[TaskRead.model_validate(t) for t in view.tasks],
        deliverables=[DeliverableRead.model_validate(d) for d in view.deliverables])


@router.get("/assessments", response_model=list[AssessmentRead])
def list_assessments(principal: ApiUser, db: Db) -> list[AssessmentRead]:
    """List capability assessments of institutions (ministry officers)."""
    return [AssessmentRead.model_validate(a) for a in commissions.list_assessments(db, actor=principal)]


@router.post("/assessments", response_model=AssessmentRead, status_code=status.HTTP_201_CREATED)
def assess(body: AssessmentIn, principal: ApiUser, db: Db, ctx: Ctx) -> AssessmentRead:
    """Record an institution's analysis, information-hub and talent capability (1–5 with notes)."""
    row = commissions.assess_institution(db, **body.model_dump(), now=ctx.clock.now(), actor=principal)
    return AssessmentRead.model_validate(row)


@router.get("/commissions", response_model=list[CommissionSummary])
def list_commissions(principal: ApiUser, db: Db) -> list[CommissionSummary]:
    """List the commissions the caller may see."""
    return [CommissionSummary.model_validate(c) for c in commissions.list_commissions(db, actor=principal)]


@router.post("/commissions", response_model=CommissionRead, status_code=status.HTTP_201_CREATED)
def create_commission(body: CommissionCreate, principal: ApiUser, db: Db, ctx: Ctx) -> CommissionRead:
    """Commission an assessed institution with tasks and due dates under a confidentiality duty."""
    data = body.model_dump(exclude={"tasks", "contact_user_id"})
    row = roster_service.create_commission(
        db, **data, tasks=[commissions.TaskInput(title=t.title, due_on=t.due_on) for t in body.tasks],
        contact_id=body.contact_user_id, now=ctx.clock.now(), actor=principal)
    return _commission_read(commissions.get_commission(db, commission_id=row.id, actor=principal))


@router.get("/commissions/{commission_id}", response_model=CommissionRead)
def get_commission(commission_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> CommissionRead:
    """Return a commission (404 unless the caller is on either side of it); the read is audited."""
    view = commissions.get_commission(db, commission_id=commission_id, actor=principal, now=ctx.clock.now())
    return _commission_read(view)


@router.get("/commissions/{commission_id}/acknowledgement", response_model=AcknowledgementPreview)
def acknowledgement_preview(commission_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> AcknowledgementPreview:
    """The Art. 64 acknowledgement the caller would sign now (people named on the roster)."""
    return AcknowledgementPreview(text=roster_service.preview(db, commission_id=commission_id, actor=principal,
                                                              now=ctx.clock.now()))


@router.post("/commissions/{commission_id}/acknowledge", response_model=RosterEntryRead)
def acknowledge(commission_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> RosterEntryRead:
    """Acknowledge the confidentiality duty personally (a person named on the roster; second factor required)."""
    row = roster_service.acknowledge(db, commission_id=commission_id, now=ctx.clock.now(), actor=principal)
    return RosterEntryRead.model_validate(row)


@router.get("/commissions/{commission_id}/roster", response_model=RosterRead)
def get_roster(commission_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> RosterRead:
    """The Art. 64 roster (owner side, contact, engaged people); a named person sees only their own entry. The
    read is audited."""
    rv = roster_service.view(db, commission_id=commission_id, actor=principal, now=ctx.clock.now())
    return RosterRead(entries=[RosterEntryRead.model_validate(r) for r in rv.rows],
                      mine=RosterEntryRead.model_validate(rv.mine) if rv.mine else None, may_add=rv.may_add,
                      may_remove=rv.may_remove, may_name_contact=rv.may_name_contact,
                      may_acknowledge=rv.may_acknowledge)


@router.post("/commissions/{commission_id}/contact", response_model=RosterEntryRead)
def name_contact(commission_id: int, body: RosterPersonIn, principal: ApiUser, db: Db, ctx: Ctx) -> RosterEntryRead:
    """Name the institution's contact, who manages the roster (the commissioning side)."""
    row = roster_service.name_contact(db, commission_id=commission_id, user_id=body.user_id, now=ctx.clock.now(),
                                      actor=principal)
    return RosterEntryRead.model_validate(row)


@router.post("/commissions/{commission_id}/roster", response_model=RosterEntryRead,
             status_code=status.HTTP_201_CREATED)
def add_to_roster(commission_id: int, body: RosterPersonIn, principal: ApiUser, db: Db, ctx: Ctx) -> RosterEntryRead:
    """Name a person of the institution as engaged (the institution's contact)."""
    row = roster_service.add_person(db, commission_id=commission_id, user_id=body.user_id, now=ctx.clock.now(),
                                    actor=principal)
    return RosterEntryRead.model_validate(row)


@router.post("/commissions/{commission_id}/roster/{roster_id}/remove", response_model=RosterEntryRead)
def remove_from_roster(commission_id: int, roster_id: int, body: RosterRemoveIn, principal: ApiUser, db: Db,
                       ctx: Ctx) -> RosterEntryRead:
    """Take a person off the roster with a reason: access ends at once, the duty remains."""
    row = roster_service.remove_person(db, commission_id=commission_id, roster_id=roster_id, reason=body.reason,
                                       now=ctx.clock.now(), actor=principal)
    return RosterEntryRead.model_validate(row)


@router.get("/commissions/{commission_id}/roster/{roster_id}/pdf", response_class=Response,
            responses=file_response("application/pdf", description="The signed acknowledgement"))
def acknowledgement_pdf(commission_id: int, roster_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> Response:
    """Download a person's Art. 64 acknowledgement as PDF (the signer, the contact, the owner side)."""
    return acknowledgement_response(db, ctx, principal, commission_id, roster_id)


def acknowledgement_response(db: Session, ctx: AppContext, principal: Principal, commission_id: int,
                             roster_id: int) -> Response:
    """Return the acknowledgement PDF response (shared by the API and the page)."""
    row, data = roster_service.acknowledgement_pdf(db, commission_id=commission_id, roster_id=roster_id,
                                                   now=ctx.clock.now(), actor=principal)
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": content_disposition(f"acknowledgement-{commission_id}-{row.id}.pdf")})


@router.post("/commissions/{commission_id}/tasks/{task_id}/done", response_model=TaskRead)
def complete_task(commission_id: int, task_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> TaskRead:
    """Mark a task done."""
    row = commissions.complete_task(db, commission_id=commission_id, task_id=task_id, now=ctx.clock.now(),
                                    actor=principal)
    return TaskRead.model_validate(row)


@router.post("/commissions/{commission_id}/deliverables", response_model=DeliverableRead,
             status_code=status.HTTP_201_CREATED)
def upload_deliverable(commission_id: int, principal: ApiUser, db: Db, ctx: Ctx,
                       file: Annotated[UploadFile, File()], title: Annotated[str, Form(max_length=300)],
                       task_id: Annotated[int | None, Form()] = None) -> DeliverableRead:
    """Upload a deliverable file (multipart: ``file``, ``title``, optional ``task_id``)."""
    # O4: sync, so the upload's database and disk work runs in a worker thread, never on the event loop.
    ctype = file.content_type or "application/octet-stream"
    with released(db):  # O1, O4: the full parse runs with no transaction open
        content = file.file.read(commissions.MAX_DELIVERABLE_BYTES + 1)
        checked = commissions.check_deliverable(content, file.filename or "", ctype)
    row = commissions.upload_deliverable(
        db, commission_id=commission_id, title=title, filename=file.filename or "", content=content,
        content_type=ctype, task_id=task_id, now=ctx.clock.now(), actor=principal, store=deliverable_store(ctx),
        checked=checked)
    return DeliverableRead.model_validate(row)


@router.get("/commissions/{commission_id}/deliverables/{deliverable_id}", response_class=Response,
            responses=file_response("application/octet-stream", description="The deliverable, stamped for the caller"))
def download_deliverable(commission_id: int, deliverable_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> Response:
    """Download a deliverable stamped for the caller (recorded and audited, I8)."""
    return deliverable_response(db, ctx, principal, commission_id, deliverable_id)


def deliverable_response(db: Session, ctx: AppContext, principal: Principal, commission_id: int,
                         deliverable_id: int) -> Response:
    """A deliverable copy stamped for ``principal`` as a download, for the API and the page alike (I8)."""
    # A refused opening (I11) is audited: the unit of work keeps its entry (A1) and nothing else.
    copy = commissions.download_deliverable(db, commission_id=commission_id, deliverable_id=deliverable_id,
                                            now=ctx.clock.now(), actor=principal, store=deliverable_store(ctx))
    return stamped_download(copy)


def stamped_download(copy: sealed.Copy, *, media_type: str = "application/octet-stream") -> Response:
    """Return a stamped copy (I8) as a download: RFC 5987 file name, never cached or sniffed, with the recorded
    distribution's id (deliverables, research-plan documents, think-tank answer files)."""
    return Response(content=copy.data, media_type=media_type, headers={
        "Content-Disposition": content_disposition(copy.filename),
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "X-Banso-Distribution": str(copy.distribution_id)})


def deliverable_store(ctx: AppContext) -> SealedDeps:
    """Return the sealed store of commission deliverables under the data dir (I11)."""
    return sealed.sealed_deps(ctx)


class FileInto(BaseModel):
    """Where to file a deliverable: a council the caller takes part in."""

    council_id: int = Field(ge=1, le=2**31 - 1)


class FiledItem(BaseModel):
    """The information item a filing created."""

    item_id: int
    state: str


@router.post("/commissions/{commission_id}/deliverables/{deliverable_id}/file", response_model=FiledItem,
             status_code=status.HTTP_201_CREATED)
def file_deliverable(commission_id: int, deliverable_id: int, body: FileInto, principal: ApiUser, db: Db,
                     ctx: Ctx) -> FiledItem:
    """File a deliverable into a council as a think-tank information item (F5)."""
    item = filing.file_deliverable(db, information_deps(ctx), commission_id=commission_id,
                                   deliverable_id=deliverable_id, council_id=body.council_id, actor=principal,
                                   now=ctx.clock.now(), store=deliverable_store(ctx))
    return FiledItem(item_id=item.id, state=item.state)


@router.post("/commissions/{commission_id}/complete", response_model=CommissionSummary)
def complete_commission(commission_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> CommissionSummary:
    """Close a commission as completed (the commissioning officer)."""
    row = commissions.complete_commission(db, commission_id=commission_id, now=ctx.clock.now(), actor=principal)
    return CommissionSummary.model_validate(row)


@router.post("/commissions/{commission_id}/cancel", response_model=CommissionSummary)
def cancel_commission(commission_id: int, body: CancelIn, principal: ApiUser, db: Db, ctx: Ctx) -> CommissionSummary:
    """Cancel an active commission with a reason (the commissioning side)."""
    row = commissions.cancel_commission(db, commission_id=commission_id, now=ctx.clock.now(), actor=principal,
                                        reason=body.reason)
    return CommissionSummary.model_validate(row)


# --- material requests to the commission (C6 under Art. 64, issue 13) -------------------------------------------


def _tank_request(view: tank_requests.TankRequestView) -> CommissionRequestRead:
    read = CommissionRequestRead.model_validate(view.request)
    read.answer_text = view.answer_text  # only the answer the reader gave (authz/policies/commission_requests.py)
    read.files = [CommissionRequestFileRead.model_validate(f) for f in view.files]
    return read


@router.post("/commissions/{commission_id}/requests", response_model=CommissionRequestRead,
             status_code=status.HTTP_201_CREATED)
def create_commission_request(commission_id: int, body: CommissionRequestCreate, principal: ApiUser, db: Db,
                              ctx: Ctx) -> CommissionRequestRead:
    """A council's chair/secretariat asks a think-tank commission outside the council for materials (C6, Art. 64)."""
    row = tank_requests.create(db, council_id=body.council_id, commission_id=commission_id, actor=principal,
                               now=ctx.clock.now(), title=body.title, body=body.body, matter=body.matter,
                               due_at=body.due_at)
    return CommissionRequestRead.model_validate(row)


@router.get("/commissions/{commission_id}/requests", response_model=list[CommissionRequestRead])
def list_commission_requests(commission_id: int, principal: ApiUser, db: Db) -> list[CommissionRequestRead]:
    """The requests to the commission (its engaged roster only; no answers in the list)."""
    return [CommissionRequestRead.model_validate(r)
            for r in tank_requests.list_for(db, commission_id=commission_id, actor=principal)]


@router.get("/commissions/{commission_id}/requests/{request_id}", response_model=CommissionRequestRead)
def get_commission_request(commission_id: int, request_id: int, principal: ApiUser, db: Db,
                           ctx: Ctx) -> CommissionRequestRead:
    """One request, with the answer the caller gave (engaged roster only; audited)."""
    return _tank_request(tank_requests.get(db, commission_id=commission_id, request_id=request_id, actor=principal,
                                           now=ctx.clock.now(), store=sealed.sealed_deps(ctx)))


@router.post("/commissions/{commission_id}/requests/{request_id}/answer", response_model=CommissionRequestRead)
def answer_commission_request(commission_id: int, request_id: int, principal: ApiUser, db: Db, ctx: Ctx,
                              text: Annotated[str, Form(min_length=1, max_length=50_000)],
                              files: Annotated[list[UploadFile] | None, File()] = None) -> CommissionRequestRead:
    """Answer a request (multipart: ``text`` and ``files``), sealed as council content (engaged roster only)."""
    uploads = council_files(db, list(files or []))
    return _tank_request(tank_requests.answer(db, commission_id=commission_id, request_id=request_id,
                                              actor=principal, now=ctx.clock.now(), text=text, files=uploads,
                                              store=sealed.sealed_deps(ctx)))


@router.get("/commissions/{commission_id}/requests/{request_id}/files/{file_id}", response_class=Response,
            responses=file_response(*DOWNLOAD_TYPES,
                                    description="A file of the caller's own answer, stamped for them"))
def download_commission_request_file(commission_id: int, request_id: int, file_id: int, principal: ApiUser,
                                     db: Db, ctx: Ctx) -> Response:
    """Download a file of the caller's own answer, stamped (recorded and audited, I8)."""
    copy = tank_requests.read_file(db, commission_id=commission_id, request_id=request_id, file_id=file_id,
                                   actor=principal, now=ctx.clock.now(), store=sealed.sealed_deps(ctx))
    return stamped_download(copy, media_type=copy.content_type)
