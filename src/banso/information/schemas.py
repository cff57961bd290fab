"""API shapes of controlled information (情報, I1–I11): items, ballots, incidents, attribution, minimality."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from banso.kit.dates import Moment
from banso.kit.text import Text

HandlingValue = Literal["view_only", "no_download", "watermark"]


def _watermark() -> list[HandlingValue]:
    return ["watermark"]  # every non-public download is stamped anyway (I8)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- items (I1, I2) --------------------------------------------------------------------------


class ItemRead(_Out):
    """An item's metadata (never its content)."""

    id: int
    council_id: int
    title: str
    summary: str
    matter: str
    category: str
    provenance: str
    is_result: bool
    # issue 13: provided as confidential (秘として提供) at provision; null = not recorded (stored before)
    provided_confidential: bool | None = None
    state: str
    provider_id: int
    provider_org_id: int
    current_version: int
    current_designation_id: int | None
    publish_at: datetime | None
    published_at: datetime | None
    tlp_labels: list[str]
    source_format: str | None
    source_id: str | None
    export_control: str | None = None  # F7: applicable (該当) | check (要確認) | not_applicable (非該当) | null
    origin: str | None
    created_at: datetime
    updated_at: datetime


class ItemCount(BaseModel):
    """How many items the caller may read."""

    count: int


class FileRead(_Out):
    """A file of an item version (metadata only)."""

    id: int
    item_id: int
    version: int
    filename: str
    kind: str
    content_type: str
    size: int
    sha256: str
    uploaded_by_id: int
    uploaded_at: datetime


class VersionRead(_Out):
    """One version of an item (the body is read through the item)."""

    version: int
    note: str
    created_by_id: int
    created_at: datetime


class ScopeRead(BaseModel):
    """Whom a designation lets read (I3)."""

    kind: str
    user_ids: list[int]
    organization_ids: list[int]


class BallotRead(_Out):
    """A designation/renewal proposal or a non-disclosure request (never the content, I4)."""

    id: int
    item_id: int
    council_id: int
    kind: str
    state: str
    reason: str
    reason_code: str | None
    scope_kind: str | None
    range_note: str | None
    handling: list[str]
    ends_at: datetime | None
    deadline: datetime
    renews_id: int | None
    proposed_by_id: int
    created_at: datetime
    decided_at: datetime | None
    lapsed_at: datetime | None


class PublicationRead(BaseModel):
    """A result's publication conditions (I6, I13) and what the caller may do about them (the gate's flags)."""

    notice_ends_at: datetime | None = None  # a scheduled result's prior notice ends (non-disclosure until public)
    review_at: datetime | None = None  # a withheld result's review date: public then unless renewed unanimously
    may_request_nondisclosure: bool = False
    may_renew_withholding: bool = False
    may_propose_release: bool = False


class ItemDetail(BaseModel):
    """An item the caller may read: metadata, body, versions, files, ballots and designation."""

    item: ItemRead
    body: str  # empty when ``body_withheld``
    body_withheld: bool = False  # view-only / no-download: the body is viewed on the page, never copied (I12)
    files: list[FileRead]
    versions: list[VersionRead]
    ballots: list[BallotRead]
    designation: BallotRead | None
    scope: ScopeRead | None
    handling: list[str]
    can_manage: bool
    may_take_copy: bool = True  # body.txt and exports allowed (the gate's decision)
    publication: PublicationRead = Field(default_factory=PublicationRead)  # I6, I13
    may_classify: bool = False  # F7: the export-control officer may record a classification (該非判定)


class DesignationIn(_In):
    """A designation proposal (I3): reason, least-privilege scope, a fixed end, handling."""

    reason: str = Field(min_length=1, max_length=5000)
    scope_kind: Literal["all", "organisations", "named"]
    user_ids: list[int] = Field(default_factory=list, max_length=500)
    organization_ids: list[int] = Field(default_factory=list, max_length=500)
    ends_at: Moment
    deadline: Moment | None = None
    handling: list[HandlingValue] = Field(default_factory=_watermark, max_length=3)
    range_note: str = Field(default="", max_length=5000)
    file_ids: list[int] = Field(default_factory=list, max_length=200,
                                description="Designate only these files of the item (I3 range); empty = the whole item.")


class RenewalIn(_In):
    """A renewal proposal (I5): a new fixed end and a reason; the scope stays."""

    ends_at: Moment
    reason: str = Field(min_length=1, max_length=5000)
    deadline: Moment | None = None


class PublicationIn(_In):
    """A proposal to publish another's item early (I13): decided unanimously, the provider included."""

    reason: str = Field(min_length=1, max_length=5000)
    deadline: Moment | None = None


class WithheldRenewalIn(_In):
    """Keep a withheld result withheld past its review date (I6, I13): a reason, optionally the new review date
    (default: one bylaws period after the current one) and the voting deadline (before the current date)."""

    reason: str = Field(min_length=1, max_length=5000)
    review_at: Moment | None = None
    deadline: Moment | None = None


class NondisclosureIn(_In):
    """A government non-disclosure request (非公開要請, I6)."""

    reason_code: Literal["wmd_diversion", "conventional_weapons", "critical_infrastructure", "national_security",
                         "other"]
    reason: str = Field(min_length=1, max_length=5000)


# --- ballots (I4) ----------------------------------------------------------------------------


class VoteRead(_Out):
    """One participant's answer."""

    user_id: int
    organization_id: int
    decision: str
    reason: str | None
    decided_at: datetime | None


class Tally(BaseModel):
    """How the answers stand."""

    accept: int
    object: int
    pending: int


class BallotDetail(BaseModel):
    """A proposal as voters see it: title, summary, reason, scope, period and votes — never the body (I4)."""

    ballot: BallotRead
    item_title: str
    item_summary: str
    item_category: str
    scope: ScopeRead | None
    votes: list[VoteRead]
    tally: Tally
    my_vote: VoteRead | None
    can_read_item: bool


class VoteIn(_In):
    """Accept or object (an objection needs a reason)."""

    decision: Literal["accept", "object"]
    reason: str | None = Field(default=None, max_length=5000)


# --- search ----------------------------------------------------------------------------------


class SearchHitRead(BaseModel):
    """One search result: the item's metadata and a snippet it is safe to show."""

    item: ItemRead
    snippet: str


# --- public portal (I6) ----------------------------------------------------------------------


class PublicItemRead(_Out):
    """A published item as anyone may see it."""

    id: int
    council_id: int
    title: str
    summary: str
    matter: str
    category: str
    provenance: str
    is_result: bool
    current_version: int
    published_at: datetime | None


class PublicFileRead(_Out):
    """A published file (metadata only)."""

    id: int
    version: int
    filename: str
    kind: str
    content_type: str
    size: int
    sha256: str


class PublicItemDetail(BaseModel):
    """A published item with its body and files."""

    item: PublicItemRead
    body: str
    files: list[PublicFileRead]


# --- incidents (I9) and attribution (I8) -----------------------------------------------------


class IncidentCreate(_In):
    """Report a suspected leak (anyone signed in)."""

    title: Annotated[str, Text(300, line=True)]
    description: Annotated[str, Text(20_000)]
    council_id: int | None = None
    item_id: int | None = None


class IncidentRead(_Out):
    """An incident and where it stands."""

    id: int
    council_id: int | None
    item_id: int | None
    title: str
    description: str
    state: str
    reported_by_id: int
    evidence_sha256: str | None
    attributed_user_id: int | None
    attributed_distribution_id: int | None
    confidence: float | None
    penalty_provision: str | None
    outcome: str | None
    created_at: datetime
    updated_at: datetime


class IncidentStepRead(_Out):
    """One recorded step of an incident."""

    id: int
    state: str
    note: str
    actor_id: int
    created_at: datetime


class IncidentDetail(BaseModel):
    """An incident with its steps."""

    incident: IncidentRead
    steps: list[IncidentStepRead]
    can_manage: bool


class TriageIn(_In):
    """The secretariat's triage note."""

    note: Annotated[str, Text(20_000)]


class CloseIn(_In):
    """How an incident ended and the penalty provision that applies."""

    outcome: Annotated[str, Text(20_000)]
    penalty_provision: Annotated[str | None, Text(2000, required=False)] = None


class RankedCopy(BaseModel):
    """One candidate copy of an attribution, with the score the attribution gave it."""

    distribution_id: int
    score: float


class FindingRead(BaseModel):
    """The most likely recipient of a leaked copy, with the evidence (I8)."""

    distribution_id: int | None
    item_id: int | None
    recipient_user_id: int | None
    recipient: str | None
    organisation: str | None
    confidence: float
    explanation: str
    evidence: list[str]
    # Objects, not [id, score] pairs: a tuple's `prefixItems` schema is refused by OpenAPI tools (issue 17).
    ranked: list[RankedCopy]


# --- minimality (I10) ------------------------------------------------------------------------


class MinimalityRead(_Out):
    """How minimal a council's designations are (I10): aggregates only, never an item or a person."""

    council_id: int | None
    council_title: str
    items: int
    by_state: dict[str, int]
    designated_share: float
    designation_days: list[int]
    median_days: float | None
    max_days: int | None
    expiring_30: int
    expiring_90: int
    renewals_accepted: int
    renewals_rejected: int
    proposals_accepted: int
    proposals_rejected: int
    nondisclosure_requested: int
    nondisclosure_accepted: int
    nondisclosure_rejected: int
    nondisclosure_open: int
    withheld_reviews: list[datetime]  # review dates of the withheld results (I13), never which result
    withheld_review_30: int
    withheld_renewed: int
    withheld_renewal_rejected: int
    withheld_released_at_review: int
    withheld_released_by_vote: int


class PlatformMinimality(BaseModel):
    """Totals over every council the caller may see, and each council."""

    totals: MinimalityRead
    councils: list[MinimalityRead]


class ClaimRead(BaseModel):
    """An exclusion claim (秘密情報の除外, issue 13) as a reader of the claimed item or statement sees it."""

    id: int
    council_id: int
    item_id: int | None
    statement_id: int | None
    claimant_id: int
    ground: str = Field(description="public 公知 / independent 独自開発 / third_party 第三者から適法に取得 / prior 既知")
    state: str = Field(description="filed / proposed (secretariat decided) / accepted / rejected / withdrawn")
    evidence: str
    file_name: str | None
    file_size: int | None
    decision: str | None
    decision_reason: str | None
    decided_by_id: int | None
    decided_at: datetime | None
    confirmed_by_id: int | None
    confirmed_at: datetime | None
    created_at: datetime
    may_decide: bool = False
    may_confirm: bool = False
    may_withdraw: bool = False


class ClaimDecisionIn(BaseModel):
    """The secretariat's decision on a claim, with its reason (the chair confirms it)."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["accept", "reject"]
    reason: str = Field(min_length=1, max_length=5000)


class ClaimConfirmIn(BaseModel):
    """The chair's answer: confirm the secretariat's decision, or send it back to be decided again."""

    model_config = ConfigDict(extra="forbid")
    confirm: StrictBool  # the chair's confirmation is an act: JSON true/false only


# ---------------------------------------------------------------------------------------------
# Export control (F7)


class ClassificationIn(_In):
    """A classification (該非判定) of an item: the verdict, the list item of the Export Trade Control Order /
    Foreign Exchange Order (required for 該当) and the reason."""

    verdict: Literal["applicable", "check", "not_applicable"]
    list_item: Annotated[str, Text(200, line=True, required=False)] = ""
    reason: Annotated[str, Text(5000)]


class ClassificationRead(_Out):
    """One classification record: verdict, list item, reason, who and when (F7)."""

    id: int
    item_id: int
    verdict: str
    list_item: str | None
    reason: str
    classified_by_id: int
    classified_at: datetime


class ClearanceRead(BaseModel):
    """One deemed-export check as the export-control officer's queue shows it (F7)."""

    id: int
    council_id: int
    council_title: str
    user_id: int
    person: str
    organisation: str
    nationality: str | None
    foreign_affiliation: str | None
    state: str  # pending | cleared | refused
    trigger: str  # join | classification
    reason: str | None
    requested_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None


class ClearanceDecisionIn(_In):
    """The officer's decision: ``clear`` or ``refuse`` (a refusal needs a reason)."""

    decision: Literal["clear", "refuse"]
    reason: Annotated[str, Text(2000, required=False)] = ""
