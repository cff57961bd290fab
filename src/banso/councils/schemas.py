"""API shapes of the councils domain."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from banso.councils.models import Matter
from banso.kit.dates import Moment


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FounderIn(_In):
    """A founding participant."""

    user_id: int
    role: str = "member"
    # Statutory party type (issue 13): organising_ministry, research_representative, funding_agency,
    # think_tank, needs_ministry, participant (default), observer
    party: str = Field(default="participant", max_length=32)


class CouncilCreate(_In):
    """Input to propose a council (C1)."""

    title_ja: str = Field(min_length=1, max_length=200)
    title_en: str = Field(default="", max_length=200)
    purpose: str = Field(min_length=1, max_length=5000)
    technology: str | None = Field(default=None, max_length=300)
    project_ref: str | None = Field(default=None, max_length=100)
    consent_deadline: Moment
    founders: list[FounderIn] = Field(min_length=1, max_length=200)
    required_person_ids: list[int] = Field(default_factory=list, max_length=200)
    bylaws_text: str | None = Field(default=None, max_length=100_000)
    designation_max_years: int = 5
    nondisclosure_days: int = 30


class CouncilRead(_Out):
    """A council's public facts."""

    id: int
    title_ja: str
    title_en: str
    purpose: str
    technology: str | None
    project_ref: str | None
    state: str
    consent_deadline: datetime
    proposer_id: int
    bylaws_version: int
    duty_version: int
    established_at: datetime | None
    activated_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    created_at: datetime
    updated_at: datetime


class MemberRead(BaseModel):
    """A current member as listed on the public page."""

    user_id: int
    name_ja: str
    name_en: str
    organization_id: int
    organization_name_ja: str
    role: str
    party: str  # statutory party type (issue 13)
    founding: bool
    joined_at: datetime
    pledge_current: bool


class ConsentRead(_Out):
    """A consent record."""

    id: int
    user_id: int
    organization_id: int
    kind: str
    role: str
    party: str
    decision: str
    reason: str | None
    deadline: datetime
    decided_at: datetime | None


class MyStanding(BaseModel):
    """The caller's standing in the council."""

    role: str | None
    pending_consent: bool
    pledge_current: bool
    content_access: bool
    content_block: str | None  # not_a_member, council_not_operating, pledge_required, second_factor_required
    can_manage: bool


class CouncilPage(BaseModel):
    """The council's public page (what a member without a pledge sees)."""

    council: CouncilRead
    me: MyStanding
    members: list[MemberRead]
    consents: list[ConsentRead]
    bylaws_version: int
    bylaws_text: str


READ_BYLAWS_REQUIRED = ("規約を読み、同意する旨の確認（read_bylaws: true）が必要です / read_bylaws must be true: "
                       "consent only after reading the bylaws in force")


class ConsentIn(_In):
    """A consent answer; consenting states that the bylaws in force were read (issue 14)."""

    decision: Literal["consent", "decline"]
    reason: str | None = Field(default=None, max_length=2000)
    read_bylaws: StrictBool = False  # a legal act: JSON true only, never "yes" or 1

    @model_validator(mode="after")
    def _bylaws_read(self) -> ConsentIn:
        """C1 (issue 14): a consent is given knowingly — the caller confirms having read the bylaws."""
        if self.decision == "consent" and self.read_bylaws is not True:
            raise ValueError(READ_BYLAWS_REQUIRED)
        return self


class DissolveIn(_In):
    """Why the council is dissolved."""

    reason: str = Field(min_length=1, max_length=2000)


class ArticleRead(BaseModel):
    """One article (条) of a bylaws version; ``text`` may hold ``${…}`` placeholders (see ``rendered``)."""

    number: int
    key: str
    title_ja: str
    title_en: str
    text: str


class BylawsRead(_Out):
    """A bylaws version: its articles, parameters and full text (``changes_duty`` is detected from the diff)."""

    id: int
    version: int
    text: str
    articles: list[ArticleRead] | None = None
    designation_max_years: int
    nondisclosure_decision_days: int
    publication_notice_days: int
    minutes_confirmation_days: int
    oral_designation_days: int = 30  # issue 13: days for a written designation of an oral statement
    withheld_review_months: int
    changes_duty: bool
    duty_version: int
    summary: str
    proposal_id: int | None = None
    created_by_id: int
    created_at: datetime


class ArticleIn(_In):
    """An article of a proposed amendment; its number is its place in the list."""

    key: str = Field(min_length=1, max_length=32)
    title_ja: str = Field(min_length=1, max_length=100)
    title_en: str = Field(default="", max_length=100)
    text: str = Field(min_length=1, max_length=20_000)


class BylawsProposalCreate(_In):
    """Propose an amendment: every article of the new version, the parameters that change, a summary and
    the voting deadline (default 14 days). Whether the duty changes is detected, not declared (issue 13)."""

    articles: list[ArticleIn] = Field(min_length=1, max_length=60)
    parameters: dict[str, int] = Field(default_factory=dict, max_length=20)
    summary: str = Field(min_length=1, max_length=500)
    deadline: Moment | None = None


class BylawsVoteIn(_In):
    """A member's answer on an amendment (an objection needs a reason)."""

    decision: Literal["accept", "object"]
    reason: str | None = Field(default=None, max_length=2000)


class ArticleChangeRead(BaseModel):
    """One article's change: added, changed, removed or same, with the line diff as shown."""

    key: str
    change: str
    old_number: int | None
    new_number: int | None
    title_ja: str
    lines: list[tuple[str, str]]


class BylawsVoteRead(BaseModel):
    """One voter's answer."""

    user_id: int
    name: str
    decision: str
    reason: str | None
    decided_at: datetime | None


class BylawsProposalRead(BaseModel):
    """An amendment proposal with its diff against the version it amends and the votes."""

    id: int
    council_id: int
    base_version: int
    summary: str
    state: str
    deadline: datetime
    changes_duty: bool
    proposed_by_id: int
    created_at: datetime
    decided_at: datetime | None
    result_version: int | None
    parameters: dict[str, int]
    articles: list[ArticleRead]
    changes: list[ArticleChangeRead]
    votes: list[BylawsVoteRead]
    may_vote: bool
    may_withdraw: bool


class BylawsDiff(BaseModel):
    """A diff between two bylaws versions."""

    old: int
    new: int
    format: str
    diff: str


class InviteIn(_In):
    """Invite a newcomer."""

    user_id: int
    role: str = "member"
    deadline: Moment
    # Statutory party type (issue 13): organising_ministry, research_representative, funding_agency,
    # think_tank, needs_ministry, participant (default), observer
    party: str = Field(default="participant", max_length=32)


class RoleIn(_In):
    """A new council role."""

    role: str


class MembershipRead(_Out):
    """A membership record."""

    id: int
    user_id: int
    organization_id: int
    role: str
    party: str
    founding: bool
    joined_at: datetime
    left_at: datetime | None
    removed_by_id: int | None = None  # set when the secretariat removed the person (issue 13)
    removal_reason: str | None = None


class RemovalIn(_In):
    """Remove a member (secretariat or chair), with the reason they are told (issue 13)."""

    reason: str = Field(min_length=1, max_length=2000)


class PledgeRead(_Out):
    """A signed pledge."""

    id: int
    user_id: int
    organization_id: int
    bylaws_version: int
    duty_version: int
    text: str
    text_sha256: str
    signed_at: datetime


class PledgePreviewRead(BaseModel):
    """The pledge to sign now and the caller's pledges."""

    text: str
    bylaws_version: int
    duty_version: int
    current: PledgeRead | None
    history: list[PledgeRead]


class PledgeSign(_In):
    """Sign the pledge for this bylaws version (must be the one in force)."""

    bylaws_version: int


class AgendaIn(_In):
    """An agenda item (C4: with its matter)."""

    title: str = Field(min_length=1, max_length=300)
    matter: Matter
    note: str | None = Field(default=None, max_length=5000)


class AgendaRead(_Out):
    """An agenda item."""

    id: int
    position: int
    title: str
    matter: str
    note: str | None


class MeetingCreate(_In):
    """Schedule a future meeting, or record one already held (``held``: its time must be in the past)."""

    title: str = Field(min_length=1, max_length=200)
    starts_at: Moment
    location: str | None = Field(default=None, max_length=200)
    agenda: list[AgendaIn] = Field(default_factory=list, max_length=100)
    held: StrictBool = Field(default=False, description="開催済みの会合として記録する / record a meeting already held")


class MeetingRead(_Out):
    """A meeting."""

    id: int
    council_id: int
    title: str
    starts_at: datetime
    location: str | None
    held: bool
    minutes_state: str = Field(description="none / draft / circulated（確認依頼中） / approved")
    minutes_circulated_at: datetime | None = None
    minutes_deadline: datetime | None = Field(default=None, description="出席者の確認期限 / confirmation deadline")
    minutes_text: str | None = None  # sealed at rest (I11): filled only where the minutes were opened
    minutes_approved_at: datetime | None
    minutes_approved_by_id: int | None
    created_at: datetime


class AttendanceIn(_In):
    """Record a member's attendance."""

    user_id: int
    status: Literal["present", "absent", "excused", "proxy", "observer"]


class AttendanceLine(_In):
    """One line of the attendance sheet ("" leaves it unrecorded)."""

    user_id: int
    status: Literal["present", "absent", "excused", "proxy", "observer", ""]


class AttendanceSheetIn(_In):
    """Attendance of every member in one request, saved in one transaction or not at all."""

    entries: list[AttendanceLine] = Field(min_length=1, max_length=500)


class CirculateIn(_In):
    """Circulate the draft minutes to the attendees; the deadline defaults to the bylaws' (14 days)."""

    deadline: Moment | None = None


class ConfirmIn(_In):
    """An attendee's answer to circulated minutes: confirm, or comment (a comment is required then)."""

    answer: Literal["confirm", "comment"]
    comment: str | None = Field(default=None, max_length=20_000)


class ConfirmationRead(_Out):
    """An attendee's answer; ``comment`` is shown to the chair/secretariat and to its author only."""

    user_id: int
    answer: str = Field(description="pending / confirmed / commented")
    answered_at: datetime | None
    comment: str | None = None


class MaterialRead(_Out):
    """A meeting material (配布資料): metadata; the file itself is served stamped per reader (I8)."""

    id: int
    meeting_id: int
    title: str
    confidential: bool = Field(description="秘密として提供されたか（提供時の表示） / marked confidential at provision")
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by_id: int
    uploaded_at: datetime


class AttendanceRead(_Out):
    """An attendance record."""

    user_id: int
    status: str


class MinutesIn(_In):
    """Draft minutes."""

    text: str = Field(min_length=1, max_length=100_000)


class DecisionCreate(_In):
    """Record a decision."""

    text: str = Field(min_length=1, max_length=20_000)
    matter: Matter
    adoption: Literal["unanimous", "consensus", "majority", "written"]
    meeting_id: int | None = None


class DecisionRead(_Out):
    """A decision."""

    id: int
    council_id: int
    meeting_id: int | None
    text: str
    matter: str
    adoption: str
    decided_at: datetime
    created_by_id: int


class MeetingDetail(BaseModel):
    """A meeting with agenda, attendance and decisions."""

    meeting: MeetingRead
    agenda: list[AgendaRead]
    attendance: list[AttendanceRead]
    decisions: list[DecisionRead]
    materials: list[MaterialRead] = Field(default_factory=list)
    confirmations: list[ConfirmationRead] = Field(default_factory=list)


class ActionCreate(_In):
    """Create an action item."""

    title: str = Field(min_length=1, max_length=300)
    assignee_id: int
    due_at: Moment
    decision_id: int | None = None
    note: str | None = Field(default=None, max_length=5000)


class ActionClose(_In):
    """Complete or cancel an action item."""

    note: str | None = Field(default=None, max_length=5000)


class ActionRead(_Out):
    """An action item."""

    id: int
    council_id: int
    decision_id: int | None
    title: str
    assignee_id: int
    due_at: datetime
    status: str
    note: str | None
    created_at: datetime
    closed_at: datetime | None
    overdue: bool = False


class RequestCreate(_In):
    """Create a material request (C6)."""

    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20_000)
    matter: Matter
    addressee_kind: Literal["think_tank", "participant"]
    addressee_id: int
    due_at: Moment


class FileRead(_Out):
    """An answer file's metadata."""

    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by_id: int
    uploaded_at: datetime


class RequestRead(_Out):
    """A material request."""

    id: int
    council_id: int
    title: str
    body: str
    matter: str
    addressee_kind: str
    addressee_id: int
    due_at: datetime
    status: str
    answer_text: str | None = None  # sealed at rest; filled in for the answer's parties only (C6, I12)
    answered_at: datetime | None
    answered_by_id: int | None
    created_by_id: int
    created_at: datetime
    closed_at: datetime | None


class RequestDetail(BaseModel):
    """A material request with its files."""

    request: RequestRead
    files: list[FileRead]


class StatementCreate(_In):
    """An oral statement made at a meeting (口頭で述べた事項), recorded by the secretariat (issue 13)."""

    speaker_id: int
    summary: str = Field(min_length=1, max_length=20_000)
    stated_confidential: StrictBool = Field(description="秘として述べられたか / stated as confidential at the meeting")


class StatementDesignate(_In):
    """The written designation (書面による指定) of a statement made orally as confidential."""

    text: str = Field(min_length=1, max_length=20_000)


class StatementRead(BaseModel):
    """An oral statement as a council-content reader sees it; ``state`` says whether it is under the duty."""

    id: int
    meeting_id: int
    speaker_id: int
    summary: str
    stated_confidential: bool
    state: Literal["not_confidential", "awaiting", "designated", "outside"]
    designation_deadline: datetime | None
    designation: str | None
    designated_at: datetime | None
    designated_by_id: int | None
    recorded_by_id: int
    created_at: datetime
    may_designate: bool
