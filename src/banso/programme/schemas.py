"""API shapes of the programme domain."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from banso.kit.dates import Day, Moment
from banso.kit.text import Text

# Amounts arrive as JSON integers or text ("¥1,000,000"); floats are let through to the service,
# which refuses them with a clear message (amounts are whole yen).
Yen = StrictInt | StrictStr | StrictFloat


class AreaRead(BaseModel):
    """A guideline area."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name_ja: str
    name_en: str


class TechnologyRead(BaseModel):
    """A vision technology."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    vision_round: int
    domain: str
    name_ja: str
    name_en: str
    area_codes: list[str]
    certainty: str
    note: str | None


class RegistryImport(BaseModel):
    """A registry file to import."""

    model_config = ConfigDict(extra="forbid")

    format: str = Field(pattern="^(yaml|csv)$")
    content: str = Field(max_length=2_000_000)


class RegistryImportRead(BaseModel):
    """What an import changed."""

    areas: int
    rounds: int
    technologies_created: int
    technologies_updated: int


class AgencyRead(BaseModel):
    """A funding agency."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name_ja: str
    name_en: str
    organization_id: int | None


class TrancheCreate(BaseModel):
    """A budget tranche for a fiscal year."""

    model_config = ConfigDict(extra="forbid")

    fiscal_year: int
    amount: Yen
    value_date: Day | None = None
    memo: Annotated[str | None, Text(1000, required=False)] = None


class MoneyMove(BaseModel):
    """An amount for a disbursement or a return."""

    model_config = ConfigDict(extra="forbid")

    amount: Yen
    memo: Annotated[str | None, Text(1000, required=False)] = None


class CommitmentCreate(MoneyMove):
    """A commitment of part of a project's plan for one fiscal year."""

    fiscal_year: int


class TransactionRead(BaseModel):
    """A ledger transaction."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    fiscal_year: int
    value_date: date
    amount: int
    project_id: int | None
    memo: str | None
    created_at: datetime


class AccountLineRead(BaseModel):
    """An account in the reconciliation."""

    key: str
    kind: str
    project_id: int | None
    balance: int
    postings_sum: int
    ok: bool


class YearLineRead(BaseModel):
    """One fiscal year's totals."""

    fiscal_year: int
    tranche: int
    commitment: int
    release: int
    disbursement: int
    returned: int


class AgencyReconciliationRead(BaseModel):
    """One agency's reconciliation."""

    agency: str
    received: int
    available: int
    committed: int
    disbursed: int
    sums_to_zero: bool
    identity_holds: bool
    accounts: list[AccountLineRead]
    years: list[YearLineRead]


class ReconciliationRead(BaseModel):
    """The reconciliation report."""

    ok: bool
    unbalanced_transactions: list[list[int]]
    agencies: list[AgencyReconciliationRead]


class DocumentIn(BaseModel):
    """A document reference."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Text(300, line=True)]
    filename: str | None = Field(default=None, max_length=300)
    url: str | None = Field(default=None, max_length=1000)
    sha256: str | None = Field(default=None, max_length=64)


class DocumentRead(BaseModel):
    """A document as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    filename: str | None
    url: str | None
    sha256: str | None


class CallText(BaseModel):
    """The free text of a call (the call form binds it; the API takes it within ``CallCreate``)."""

    title_ja: Annotated[str, Text(300, line=True)]
    title_en: Annotated[str, Text(300, required=False, line=True)] = ""
    description: Annotated[str, Text(20000, required=False)] = ""


class CallCreate(CallText):
    """Input to create a call."""

    model_config = ConfigDict(extra="forbid")

    agency_code: str = Field(max_length=16)
    code: str = Field(max_length=40)
    project_type: str
    technology_codes: list[str] = Field(min_length=1, max_length=50)
    cap_yen: Yen
    first_fiscal_year: int
    period_years: int
    opens_at: Moment
    closes_at: Moment
    officer_id: int
    rubric: list[dict[str, Any]] | None = None
    documents: list[DocumentIn] = Field(default_factory=list, max_length=50)


class CallRead(BaseModel):
    """A call as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    agency_id: int
    title_ja: str
    title_en: str
    description: str
    project_type: str
    technology_codes: list[str]
    cap_yen: int
    first_fiscal_year: int
    period_years: int
    opens_at: datetime
    closes_at: datetime
    rubric: list[dict[str, Any]]
    officer_id: int
    state: str


class PanelAdd(BaseModel):
    """A reviewer to put on the panel."""

    model_config = ConfigDict(extra="forbid")

    user_id: int


class TeamMemberIn(BaseModel):
    """A team member."""

    model_config = ConfigDict(extra="forbid")

    user_id: int | None = None
    name: Annotated[str | None, Text(200, required=False, line=True)] = None
    organization_id: int | None = None
    role: str = Field(default="member", description="co_lead（主たる共同研究者）, member（研究参加者）or collaborator"
                                                     "（研究協力者）; the proposer is the 研究代表者 (lead)")
    researcher_number: str | None = Field(default=None, max_length=20, description="e-Rad 研究者番号 (8 digits)")
    effort_percent: StrictInt | None = Field(default=None, description="エフォート: percent of working time, 1–100")


class ProposalText(BaseModel):
    """The free text of a proposal (the proposal form binds it; the API takes it within ``ProposalCreate``)."""

    title: Annotated[str, Text(300, line=True)]
    summary: Annotated[str, Text(20000, required=False)] = ""
    core_technologies: Annotated[str | None, Text(20000, required=False)] = None
    leak_prevention: Annotated[str | None, Text(20000, required=False)] = None


ThousandYen = StrictInt | StrictStr
"""An amount in 千円: an integer or text such as "1,234" or "1234.5" (at most three decimals, i.e. whole yen)."""


class DisclosureIn(BaseModel):
    """One integrity disclosure line (研究インテグリティに係る申告, F6); the amount in 千円."""

    model_config = ConfigDict(extra="forbid")

    kind: StrictStr = Field(description="funding_received, funding_applied, affiliation, side_appointment or "
                                        "foreign_support")
    name: Annotated[str, Text(300, line=True)]
    agency: Annotated[str | None, Text(200, line=True, required=False)] = None
    researcher_number: Annotated[str | None, Text(20, line=True, required=False)] = None
    start_fiscal_year: StrictInt | None = Field(default=None, ge=1990, le=2100)
    end_fiscal_year: StrictInt | None = Field(default=None, ge=1990, le=2100)
    amount_thousand_yen: ThousandYen | None = None
    effort_percent: StrictInt | None = None
    foreign: StrictBool = False


class DisclosureRead(BaseModel):
    """A disclosure line as recorded (amount in whole yen and in 千円)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    name: str
    agency: str | None
    researcher_number: str | None
    start_fiscal_year: int | None
    end_fiscal_year: int | None
    amount_yen: int | None
    effort_percent: int | None
    foreign: bool
    after_adoption: bool
    change_reason: str | None
    declared_at: datetime


class ChangeIn(BaseModel):
    """A change to the disclosures declared after adoption (採択後の変更申告)."""

    model_config = ConfigDict(extra="forbid")

    disclosure: DisclosureIn
    reason: Annotated[str, Text(2000)]


class SignatureRead(BaseModel):
    """A signed integrity declaration."""

    model_config = ConfigDict(from_attributes=True)

    user_id: int
    statement_version: str
    disclosures_digest: str
    method: str
    signed_at: datetime


class IntegrityRead(BaseModel):
    """A proposal's integrity disclosures, changes after adoption and signatures."""

    proposal_id: int
    statement_ja: str
    statement_en: str
    disclosures: list[DisclosureRead]
    changes: list[DisclosureRead]
    signatures: list[SignatureRead]


class AssignmentIn(BaseModel):
    """A reviewer to assign to a proposal."""

    model_config = ConfigDict(extra="forbid")

    reviewer_id: StrictInt


class AssignmentRead(BaseModel):
    """A reviewer's assignment to a proposal."""

    model_config = ConfigDict(from_attributes=True)

    proposal_id: int
    reviewer_id: int
    assigned_by_id: int
    assigned_at: datetime


class PanelReviewerRead(BaseModel):
    """One reviewer on one proposal in the panel view."""

    reviewer_id: int
    name: str
    assigned: bool
    has_conflict: bool | None
    grounds: list[str] | None
    scores: dict[str, int] | None
    total: float | None
    comment: str | None


class PanelRowRead(BaseModel):
    """One proposal in the panel view."""

    proposal_id: int
    receipt_number: str | None
    title: str
    state: str
    total_yen: int
    mean_score: float | None
    flags: int
    decision: DecisionRead | None
    reviewers: list[PanelReviewerRead]


class PanelRead(BaseModel):
    """The panel meeting view of a call (scores and comments side by side)."""

    call_id: int
    review_open: bool
    rows: list[PanelRowRead]


class FlaggedProposalRead(BaseModel):
    """A proposal a flag names (another agency's: receipt number and state only)."""

    proposal_id: int
    receipt_number: str | None
    state: str
    own_agency: bool
    title: str | None


class FlagRead(BaseModel):
    """A duplication or concentration flag (不合理な重複・過度の集中) with its evidence."""

    kind: str
    researcher_number: str
    score: float
    proposals: list[FlaggedProposalRead]
    evidence: dict[str, Any]


class ProposalContent(ProposalText):
    """A proposal's content (F6): the budget as a sheet in 千円 (preferred) or one figure per year in yen."""

    model_config = ConfigDict(extra="forbid")

    budget_sheet: dict[str, dict[str, ThousandYen]] | None = Field(
        default=None, max_length=20,
        description='Direct costs in 千円 by fiscal year and category, e.g. {"FY2027": {"equipment": 12000, '
                    '"travel": "1,500", "personnel": 30000, "other": 500}}; indirect costs (間接経費) are the '
                    "call's rate of each year's direct costs and are not entered")
    budget: dict[str, Yen] | None = Field(
        default=None, max_length=20,
        description="Older form: one figure per fiscal year in yen, stored under その他 (other) with no indirect costs")
    team: list[TeamMemberIn] = Field(default_factory=list, max_length=100)
    lead_effort: StrictInt | None = Field(default=None, description="The proposer's own effort (エフォート), 1–100 %")
    disclosures: list[DisclosureIn] = Field(
        default_factory=list, max_length=100,
        description="Integrity disclosures (F6): other funding received or applied for, affiliations, side "
                    "appointments, foreign support; signed with the submission (second factor required)")
    documents: list[DocumentIn] = Field(default_factory=list, max_length=50)


class ProposalCreate(ProposalContent):
    """Input to submit a proposal, or to save it as a draft (一時保存) with ``draft: true``."""

    draft: StrictBool = Field(default=False, description="Save as a draft (一時保存): no receipt number, seen only by "
                                                   "the team; submit it later with POST /proposals/{id}/submit")


class ProposalSummary(BaseModel):
    """A proposal in lists."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    call_id: int
    title: str
    organization_id: int
    state: str
    total_yen: int
    receipt_number: str | None = None  # 受付番号 (F6); None while a draft
    submitted_at: datetime | None  # None while a draft

    @model_validator(mode="after")
    def _draft_not_submitted(self) -> ProposalSummary:
        """A draft has not been submitted: it shows no submission time."""
        if self.state == "draft":
            self.submitted_at = None
        return self


class QueueItem(BaseModel):
    """What a panel reviewer sees before declaring: title and organisations only."""

    id: int
    call_id: int
    title: str
    organization_id: int
    declared: bool | None  # None: not yet; True: conflict; False: no conflict


class TeamMemberRead(BaseModel):
    """A team member as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    user_id: int | None
    organization_id: int | None
    name: str
    role: str
    researcher_number: str | None
    effort_percent: int | None = None


class BudgetItemRead(BaseModel):
    """One cell of the budget sheet: whole yen and the same in 千円 (exact, as text)."""

    fiscal_year: int
    category: str
    amount: int
    amount_thousand_yen: str


class BudgetLineRead(BaseModel):
    """One fiscal year of the plan."""

    model_config = ConfigDict(from_attributes=True)

    fiscal_year: int
    amount: int


class ScoreRead(BaseModel):
    """A reviewer's score."""

    model_config = ConfigDict(from_attributes=True)

    reviewer_id: int
    scores: dict[str, int]
    total: float
    comment: str | None
    submitted_at: datetime


class DecisionRead(BaseModel):
    """A panel decision."""

    model_config = ConfigDict(from_attributes=True)

    proposal_id: int
    outcome: str
    reason: str
    mean_score: float | None
    notice_reason: str | None = None
    decided_at: datetime


class ProposalRead(ProposalSummary):
    """A proposal with everything the caller may see."""

    summary: str
    proposer_id: int
    core_technologies: str | None
    leak_prevention: str | None
    declaration_required: bool
    team: list[TeamMemberRead]
    budget: list[BudgetLineRead]
    budget_sheet: list[BudgetItemRead] = Field(default_factory=list)
    indirect_rate_percent: int = 0
    documents: list[DocumentRead]
    scores: list[ScoreRead]
    decision: DecisionRead | None


class ConflictIn(BaseModel):
    """A conflict-of-interest declaration."""

    model_config = ConfigDict(extra="forbid")

    has_conflict: StrictBool | None = Field(default=None, description="Optional when ``grounds`` is given (any ground "
                                                                  "ticked is a conflict)")
    reason: Annotated[str | None, Text(2000, required=False)] = None
    grounds: list[StrictStr] | None = Field(
        default=None, max_length=5,
        description="F6 grounds (利益相反の事由): organisation, collaboration (co-authorship or joint project), "
                    "family_supervisor, competitor (competing applicant), other; [] = no conflict")


class ConflictRead(BaseModel):
    """A declaration as recorded."""

    model_config = ConfigDict(from_attributes=True)

    proposal_id: int
    reviewer_id: int
    has_conflict: bool
    grounds: list[str] | None = None
    declared_at: datetime


class ScoreIn(BaseModel):
    """Rubric scores (integers 1–5 per criterion)."""

    model_config = ConfigDict(extra="forbid")

    scores: dict[str, StrictInt]
    comment: Annotated[str | None, Text(5000, required=False)] = None


class DecisionIn(BaseModel):
    """A panel decision."""

    model_config = ConfigDict(extra="forbid")

    outcome: str
    reason: Annotated[str, Text(5000)]
    notice_reason: Annotated[str | None, Text(3000, required=False)] = Field(
        default=None, description="The reasons the notice to the applicants gives (F6); the panel's reason stays "
                                  "internal")


class MilestoneIn(BaseModel):
    """A milestone to add."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Text(300, line=True)]
    due_on: Day


class MilestoneUpdate(BaseModel):
    """A milestone status change."""

    model_config = ConfigDict(extra="forbid")

    status: str
    note: Annotated[str | None, Text(5000, required=False)] = None


class MilestoneRead(BaseModel):
    """A milestone."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    due_on: date
    status: str
    note: str | None
    achieved_at: datetime | None


class DeclarationReviewIn(BaseModel):
    """A periodic review of the F4 declaration."""

    model_config = ConfigDict(extra="forbid")

    outcome: str
    note: Annotated[str, Text(5000)]


class DeclarationReviewRead(BaseModel):
    """A recorded declaration review."""

    model_config = ConfigDict(from_attributes=True)

    outcome: str
    note: str
    reviewed_at: datetime
    next_due: date


class ResultsReportRead(BaseModel):
    """A results report a project owes (F6): annual or final, with its state and contents."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str  # annual / final
    fiscal_year: int
    due_on: date
    state: str  # due / submitted / accepted / returned
    overdue: bool = False
    summary: str | None
    outputs: str | None
    submitted_at: datetime | None
    decided_at: datetime | None
    decision_note: str | None
    filed_item_id: int | None = None  # the council item it was provided as (I1)


class ResultsReportsRead(BaseModel):
    """A project's results reports and what the caller may do (the same flags as the project page)."""

    reports: list[ResultsReportRead]
    may_submit: bool
    may_decide: bool


class ResultsReportIn(BaseModel):
    """A results report as the research representative submits it."""

    model_config = ConfigDict(extra="forbid")

    summary: Annotated[str, Text(20_000)]
    outputs: Annotated[str, Text(10_000)] = ""


class ReportDecisionIn(BaseModel):
    """The agency's decision on a submitted report: accept, or return with a note."""

    model_config = ConfigDict(extra="forbid")

    decision: str
    note: Annotated[str, Text(5000)] = ""


class EvaluationIn(BaseModel):
    """An interim or final evaluation as the agency's staff open it."""

    model_config = ConfigDict(extra="forbid")

    kind: str  # interim / final
    due_on: Day
    evaluator_ids: list[int]


class EvaluationDeclarationIn(BaseModel):
    """An evaluator's conflict-of-interest declaration."""

    model_config = ConfigDict(extra="forbid")

    has_conflict: StrictBool  # a declaration: JSON true/false only, never "yes" or 1
    reason: Annotated[str, Text(2000, required=False)] = ""


class EvaluationGradeIn(BaseModel):
    """An evaluator's grade (S/A/B/C) and comment."""

    model_config = ConfigDict(extra="forbid")

    grade: str
    comment: Annotated[str, Text(10_000)]


class EvaluationResultIn(BaseModel):
    """The overall result the agency's staff record, with the note for the research representative."""

    model_config = ConfigDict(extra="forbid")

    result: str
    note: Annotated[str, Text(10_000)]


class EvaluatorRead(BaseModel):
    """One evaluator's declaration and grade (shown to the agency's staff only)."""

    model_config = ConfigDict(from_attributes=True)

    evaluator_id: int
    has_conflict: bool | None
    conflict_reason: str | None
    grade: str | None
    comment: str | None


class EvaluationRead(BaseModel):
    """An evaluation as the caller may see it, with what they may do (the page's flags)."""

    id: int
    project_id: int
    project_title: str
    kind: str
    due_on: date
    result: str | None
    result_note: str | None
    completed_at: datetime | None
    may_declare: bool
    may_read: bool
    may_grade: bool
    may_complete: bool
    own: EvaluatorRead | None
    evaluators: list[EvaluatorRead]
    reports: list[ResultsReportRead]


class ProjectSummary(BaseModel):
    """A project in lists."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    proposal_id: int
    call_id: int
    title: str
    lead_id: int
    council_id: int | None
    state: str
    adopted_at: datetime


class ProjectCouncilRead(BaseModel):
    """One council proposed for the project (issue 13: the history is kept on re-proposal)."""

    model_config = ConfigDict(from_attributes=True)

    council_id: int
    title: str
    state: str


class ProjectRead(ProjectSummary):
    """A project with its plan, money and milestones."""

    plan: dict[int, int]
    committed: int
    disbursed: int
    council_established: bool
    declaration_required: bool
    declaration_review_due: date | None
    milestones: list[MilestoneRead]
    declaration_reviews: list[DeclarationReviewRead]
    councils: list[ProjectCouncilRead] = []  # every council proposed for it, the current one last (issue 13)
    may_repropose: bool = False  # the reader may propose the council again now (issue 13)


# ---------------------------------------------------------------------------------------------
# Basic guideline (F2)


class MeasureIn(BaseModel):
    """A measure of a guideline version."""

    kind: StrictStr
    title_ja: Annotated[StrictStr, Text(300, line=True)]
    title_en: Annotated[StrictStr, Text(300, required=False, line=True)] = ""
    body: Annotated[StrictStr, Text(20000, required=False)] = ""
    technology_codes: list[StrictStr] = Field(default_factory=list)
    area_codes: list[StrictStr] = Field(default_factory=list)
    certainty: StrictStr = "confirmed"
    note: StrictStr | None = None


class GuidelineText(BaseModel):
    """The free text of a guideline version (the adoption form binds it; the API within ``GuidelineCreate``)."""

    code: Annotated[StrictStr, Text(40, line=True)]
    title_ja: Annotated[StrictStr, Text(300, line=True)]
    title_en: Annotated[StrictStr, Text(300, required=False, line=True)] = ""
    body: Annotated[StrictStr, Text(100_000, required=False)] = ""


class GuidelineCreate(GuidelineText):
    """A new version of a guideline (the version number is assigned)."""

    adopted_on: Day
    source: StrictStr | None = None
    certainty: StrictStr = "confirmed"
    measures: list[MeasureIn]


class MeasureRead(BaseModel):
    """A measure of a guideline version."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    position: int
    title_ja: str
    title_en: str
    body: str
    technology_codes: list[str]
    area_codes: list[str]
    certainty: str
    note: str | None


class GuidelineSummary(BaseModel):
    """A guideline version without its measures."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    version: int
    title_ja: str
    title_en: str
    adopted_on: date
    certainty: str
    source: str | None


class GuidelineRead(GuidelineSummary):
    """A guideline version with its body and measures."""

    body: str
    measures: list[MeasureRead]


# ---------------------------------------------------------------------------------------------
# Think-tank commissions (F5)


class AssessmentIn(BaseModel):
    """A capability assessment of an institution (scores 1–5)."""

    organization_id: StrictInt
    assessed_on: Day
    analysis_score: StrictInt
    hub_score: StrictInt
    talent_score: StrictInt
    analysis_note: Annotated[StrictStr, Text(5000, required=False)] = ""
    hub_note: Annotated[StrictStr, Text(5000, required=False)] = ""
    talent_note: Annotated[StrictStr, Text(5000, required=False)] = ""


class AssessmentRead(BaseModel):
    """A capability assessment."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    organization_id: int
    assessed_on: date
    analysis_score: int
    analysis_note: str
    hub_score: int
    hub_note: str
    talent_score: int
    talent_note: str
    assessor_id: int


class TaskIn(BaseModel):
    """A task of a new commission."""

    title: Annotated[StrictStr, Text(300, line=True)]
    due_on: Day


class CommissionText(BaseModel):
    """The free text of a commission (the commission form binds it; the API within ``CommissionCreate``)."""

    title: Annotated[StrictStr, Text(300, line=True)]
    purpose: Annotated[StrictStr, Text(20000, required=False)] = ""
    confidentiality_terms: Annotated[StrictStr | None, Text(20000, required=False)] = None


class CommissionCreate(CommissionText):
    """A new commission."""

    code: StrictStr
    organization_id: StrictInt
    starts_on: Day
    due_on: Day
    tasks: list[TaskIn]
    contact_user_id: StrictInt | None = None  # the institution's contact, who names the people engaged (Art. 64)


class CancelIn(BaseModel):
    """Why the commission is cancelled."""

    reason: Annotated[str, Text(2000)]


class RosterPersonIn(BaseModel):
    """A person of the commissioned institution (the contact, or a person engaged)."""

    user_id: int = Field(ge=1, le=2**31 - 1)


class RosterRemoveIn(BaseModel):
    """Why a person is taken off the roster (kept with the row and in the audit log)."""

    reason: Annotated[str, Text(2000)]


class RosterEntryRead(BaseModel):
    """A person on a commission's Art. 64 roster and their acknowledgement."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    is_contact: bool
    named_by_id: int
    named_at: datetime
    acknowledged_at: datetime | None
    acknowledged_sha256: str | None
    removed_at: datetime | None
    removal_reason: str | None
    source: str


class RosterRead(BaseModel):
    """The roster as the caller may see it, the caller's own entry and what they may do."""

    entries: list[RosterEntryRead]
    mine: RosterEntryRead | None
    may_add: bool
    may_remove: bool
    may_name_contact: bool
    may_acknowledge: bool


class AcknowledgementPreview(BaseModel):
    """The text the caller would acknowledge now."""

    text: str


class TaskRead(BaseModel):
    """A commission task."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    due_on: date
    status: str
    completed_at: datetime | None


class DeliverableRead(BaseModel):
    """A deliverable's metadata (the bytes are downloaded separately)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    task_id: int | None
    title: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by_id: int
    uploaded_at: datetime


class CommissionSummary(BaseModel):
    """A commission without tasks and deliverables."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    title: str
    organization_id: int
    state: str
    starts_on: date
    due_on: date


class CommissionRead(CommissionSummary):
    """A commission with its duty, tasks, deliverables and assessment."""

    purpose: str
    confidentiality_terms: str
    assessment: AssessmentRead | None
    tasks: list[TaskRead]
    deliverables: list[DeliverableRead]


class CommissionRequestCreate(BaseModel):
    """A council's material request to a think-tank commission outside it (C6, Art. 64; chair/secretariat)."""

    model_config = ConfigDict(extra="forbid")

    council_id: StrictInt
    title: Annotated[str, Text(300, line=True)]
    body: Annotated[str, Text(20_000)]
    matter: StrictStr
    due_at: Moment


class CommissionRequestFileRead(BaseModel):
    """A file of the reader's own answer."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str


class CommissionRequestRead(BaseModel):
    """A material request as the think-tank side sees it: the request, and the answer only for whom gave it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    council_id: int
    commission_id: int | None
    title: str
    body: str
    matter: str
    due_at: datetime
    status: str
    answered_at: datetime | None
    answered_by_id: int | None
    answer_text: str | None = None
    files: list[CommissionRequestFileRead] = []


class CallStatisticsRead(BaseModel):
    """One call's figures for its agency's staff (issue 15): proposals by status, adoption rate (adopted over
    decided; null before any decision), amounts in whole yen, review progress."""

    call_id: int
    code: str
    title_ja: str
    state: str
    proposals: int
    submitted: int
    adopted: int
    rejected: int
    withdrawn: int
    adoption_rate: float | None
    requested_yen: int
    adopted_yen: int
    assigned: int
    declared: int
    scored: int
