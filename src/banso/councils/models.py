"""ORM tables of the councils domain (協議会, DESIGN C1–C6)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from banso.db.base import Base


class CouncilState(StrEnum):
    """Lifecycle of a council (C1): proposed → established → active → dissolved, or lapsed."""

    PROPOSED = "proposed"  # 設置提案（同意収集中）
    ESTABLISHED = "established"  # 設置（全員同意）
    ACTIVE = "active"  # 活動中
    DISSOLVED = "dissolved"  # 解散
    LAPSED = "lapsed"  # 不成立


class CouncilRole(StrEnum):
    """A person's role in one council."""

    CHAIR = "chair"  # 会長
    SECRETARIAT = "secretariat"  # 事務局
    MEMBER = "member"  # 構成員
    OBSERVER = "observer"  # オブザーバー


class Matter(StrEnum):
    """The four matters (協議事項, C4; seed 2(2)③(a))."""

    USEFUL_INFORMATION = "useful_information"  # ① 研究開発に有用な情報の収集等
    EFFECTIVE_PROMOTION = "effective_promotion"  # ② 研究開発の効果的な促進方策
    RD_CONTENT_AND_RESULTS = "rd_content_and_results"  # ③ 研究開発の内容及び成果の取扱い
    INFORMATION_MANAGEMENT = "information_management"  # ④ 研究開発に関する情報の適正な管理


class ConsentKind(StrEnum):
    """Why a consent is asked: founding the council (C1) or joining it later."""

    FOUNDING = "founding"
    JOIN = "join"


class ConsentDecision(StrEnum):
    """A participant's answer."""

    PENDING = "pending"
    CONSENTED = "consented"
    DECLINED = "declined"
    EXPIRED = "expired"  # no answer before the deadline


class MinutesState(StrEnum):
    """Minutes (議事録) of a meeting."""

    NONE = "none"
    DRAFT = "draft"
    CIRCULATED = "circulated"  # 確認依頼中: sent to the attendees for confirmation before approval
    APPROVED = "approved"


class MinutesAnswer(StrEnum):
    """An attendee's answer to circulated minutes (議事録の確認)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"  # 確認済み（異議なし）
    COMMENTED = "commented"  # 意見あり


class Adoption(StrEnum):
    """How a decision was adopted."""

    UNANIMOUS = "unanimous"  # 全会一致
    CONSENSUS = "consensus"  # 合意（異議なし）
    MAJORITY = "majority"  # 多数決
    WRITTEN = "written"  # 書面決議


class ActionStatus(StrEnum):
    """Status of an action item (C5)."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class RequestStatus(StrEnum):
    """Status of a material request (資料提供の求め, C6)."""

    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class AddresseeKind(StrEnum):
    """Whom a material request goes to (C6)."""

    THINK_TANK = "think_tank"
    PARTICIPANT = "participant"
    # Art. 64 (issue 13): a think-tank commission outside the council; its engaged roster answers
    COMMISSION = "commission"


class Attendance(StrEnum):
    """Attendance of one person at one meeting."""

    PRESENT = "present"  # 出席
    ABSENT = "absent"  # 欠席
    EXCUSED = "excused"  # 欠席（届出あり）; kept for rows recorded before the one-form sheet
    PROXY = "proxy"  # 代理出席
    OBSERVER = "observer"  # オブザーバー出席


class Council(Base):
    """A council (協議会) for a technology and/or a project."""

    __tablename__ = "councils"

    id: Mapped[int] = mapped_column(primary_key=True)
    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    technology: Mapped[str | None] = mapped_column(String(300))  # linked technology (free text for now)
    project_ref: Mapped[str | None] = mapped_column(String(100))  # linked project (programme domain comes later)
    state: Mapped[str] = mapped_column(String(16), index=True)
    consent_deadline: Mapped[datetime]
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # Current bylaws version and the version whose duty (Art. 62(7)) is in force: a pledge
    # is current only for this duty version (C3).
    bylaws_version: Mapped[int] = mapped_column(Integer, default=1)
    duty_version: Mapped[int] = mapped_column(Integer, default=1)
    required_person_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # project researchers (C1)
    established_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]  # dissolved or lapsed
    end_reason: Mapped[str | None] = mapped_column(Text)
    # F7: the council holds items classified 該当 or 要確認 (kept by information's classification service), so a
    # foreign national or foreign-affiliated person who joins is put to the export-control officer.
    export_controlled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BylawsVersion(Base):
    """One version of a council's bylaws (規約), started from the model bylaws (モデル規約)."""

    __tablename__ = "council_bylaws"
    __table_args__ = (UniqueConstraint("council_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    designation_max_years: Mapped[int] = mapped_column(Integer)  # I3 default 5
    nondisclosure_decision_days: Mapped[int] = mapped_column(Integer)  # I6 default 30
    # I13: prior notice before a result becomes public, for non-disclosure requests (default 30)
    publication_notice_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    # I6, I13 (issue 13): months a withheld result stays withheld before its review date (default 12)
    withheld_review_months: Mapped[int] = mapped_column(Integer, default=12, server_default="12")
    # C5: days the attendees have to confirm circulated minutes (default 14)
    minutes_confirmation_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")
    # Issue 13: days within which a statement made orally as confidential must be designated in writing
    # (書面による指定) to fall under the duty (default 30)
    oral_designation_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    # Detected from the diff since issue 13 (articles.duty_changed), never declared by the proposer.
    changes_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    duty_version: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    # The articles (条) as [{number, key, title_ja, title_en, text}] (councils/articles.py); ``text`` above is
    # their rendering. The amendment vote that made this version, if any (issue 13).
    articles: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    proposal_id: Mapped[int | None] = mapped_column(Integer)


class BylawsProposal(Base):
    """A proposed bylaws amendment (規約改正案), decided by every member unanimously before its deadline (I4).

    Voters are fixed when it opens (:class:`BylawsVote`); the new version exists only once it is accepted.
    """

    __tablename__ = "council_bylaws_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    base_version: Mapped[int] = mapped_column(Integer)  # the version in force when proposed
    articles: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    parameters: Mapped[dict[str, int]] = mapped_column(JSON)  # by BylawsVersion column name
    summary: Mapped[str] = mapped_column(String(500))
    changes_duty: Mapped[bool] = mapped_column(Boolean, default=False)  # detected from the diff (C3)
    state: Mapped[str] = mapped_column(String(16), index=True)  # open | accepted | rejected | withdrawn
    deadline: Mapped[datetime]
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    last_reminded_at: Mapped[datetime | None]
    result_version: Mapped[int | None] = mapped_column(Integer)


class BylawsVote(Base):
    """One member's answer on a bylaws amendment (the same decisions as a designation vote: kit/unanimity)."""

    __tablename__ = "council_bylaws_votes"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("council_bylaws_proposals.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]


class Consent(Base):
    """A participant's consent to found or to join a council (同意), with deadline and reminders."""

    __tablename__ = "council_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))  # role the person takes on consenting
    # Statutory party type (issue 13, councils/membership.py): who the person is to the council under the Act.
    party: Mapped[str] = mapped_column(String(32), default="participant", server_default="participant")
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    deadline: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    last_reminded_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Membership(Base):
    """A person's membership (person-level, with their organisation); history is kept on leaving."""

    __tablename__ = "council_memberships"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    role: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(32), default="participant", server_default="participant")  # issue 13
    founding: Mapped[bool] = mapped_column(Boolean, default=False)
    # Removal by the secretariat (issue 13, C3): who removed the person and why; None for leaving by oneself.
    removed_by_id: Mapped[int | None] = mapped_column(Integer)  # users.id (added in place: no FK on SQLite)
    removal_reason: Mapped[str | None] = mapped_column(Text)
    joined_at: Mapped[datetime]
    left_at: Mapped[datetime | None]


class ClearanceState(StrEnum):
    """Where a deemed-export check stands (F7)."""

    PENDING = "pending"  # 確認待ち: classified items held
    CLEARED = "cleared"  # 許可: the items are readable
    REFUSED = "refused"  # 不許可: the items stay held


class ExportClearance(Base):
    """The export-control officer's decision on one person's access to a council's classified items (F7).

    One row per council and person; a person of another nationality or with a foreign affiliation reads the
    council's items classified 該当/要確認 only while the row is ``cleared`` (the read policy decides from this,
    not from whether a row was ever opened, so a missing row holds the items too).
    """

    __tablename__ = "council_export_clearances"
    __table_args__ = (UniqueConstraint("council_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    trigger: Mapped[str] = mapped_column(String(32))  # join | classification
    reason: Mapped[str | None] = mapped_column(Text)  # the officer's reason (required to refuse)
    requested_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]  # the last reminder to the officers of a pending check (0032)


class Pledge(Base):
    """A signed confidentiality pledge (守秘義務誓約, C3); immutable once written."""

    __tablename__ = "council_pledges"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    bylaws_version: Mapped[int] = mapped_column(Integer)
    duty_version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime]


@event.listens_for(Pledge, "before_update")
def _pledge_is_immutable(_mapper: Any, _conn: Any, target: Pledge) -> None:
    # C3: a signed pledge is a record of what was promised; it is never edited.
    raise ValueError(f"pledge {target.id} is immutable")


@event.listens_for(Pledge, "before_delete")
def _pledge_is_kept(_mapper: Any, _conn: Any, target: Pledge) -> None:
    raise ValueError(f"pledge {target.id} is kept for the record")


class Meeting(Base):
    """A council meeting (会合) with agenda, attendance and minutes (C5)."""

    __tablename__ = "council_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(String(200))
    # Recorded after the fact as a meeting already held (開催済みとして記録), not scheduled ahead.
    held: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    minutes_state: Mapped[str] = mapped_column(String(16), default=MinutesState.NONE.value)
    # I11, I12: the minutes are sealed under the council's key (banso.sealed.store.seal_text);
    # the hash of the plaintext is what the approval's audit entry records.
    minutes_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    minutes_sha256: Mapped[str | None] = mapped_column(String(64))
    minutes_approved_at: Mapped[datetime | None]
    minutes_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Circulation for confirmation (C5): the attendees answer by the deadline; one reminder before it.
    minutes_circulated_at: Mapped[datetime | None]
    minutes_deadline: Mapped[datetime | None]
    minutes_reminded_at: Mapped[datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class MinutesConfirmation(Base):
    """One attendee's confirmation of circulated minutes, for the sealed text it was asked about."""

    __tablename__ = "council_minutes_confirmations"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("council_meetings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    minutes_sha256: Mapped[str] = mapped_column(String(64))  # the text circulated
    answer: Mapped[str] = mapped_column(String(16))
    # I11, I12: a comment on sealed minutes is council content too: sealed under the council's key.
    comment_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class MeetingMaterial(Base):
    """A meeting material (配布資料): a file sealed under the council's key (I11, I12), read as council content.

    ``confidential`` records whether the provider marked it as provided in confidence at the time of
    provision (issue 13); ``sha256`` is of the plaintext, ``blob``/``wrapped_key`` as for ``MaterialFile``.
    """

    __tablename__ = "council_meeting_materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("council_meetings.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    confidential: Mapped[bool] = mapped_column(Boolean)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    blob: Mapped[str] = mapped_column(String(64))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]


class OralStatement(Base):
    """A statement made orally at a meeting (口頭で述べた事項), recorded by the secretariat (issue 13).

    Stated as confidential, it falls under the duty only once designated in writing before
    ``designation_deadline`` (the meeting day + the bylaws' ``oral_designation_days``); otherwise it is
    outside the duty. The summary and the written designation are council content, sealed (I11, I12).
    """

    __tablename__ = "council_oral_statements"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("council_meetings.id"), index=True)
    speaker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    summary_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    summary_sha256: Mapped[str] = mapped_column(String(64))
    stated_confidential: Mapped[bool] = mapped_column(Boolean)
    designation_deadline: Mapped[datetime | None]  # None unless stated as confidential
    designation_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # the written designation (書面)
    designated_at: Mapped[datetime | None]
    designated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reminded_at: Mapped[datetime | None]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class AgendaItem(Base):
    """One agenda item (議題), tagged with one of the four matters (C4)."""

    __tablename__ = "council_agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("council_meetings.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    matter: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class MeetingAttendance(Base):
    """Whether a person attended a meeting."""

    __tablename__ = "council_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("council_meetings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))


class Decision(Base):
    """A decision (協議結果) of the council, tagged with a matter (C4, C5)."""

    __tablename__ = "council_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("council_meetings.id"))
    # I11, I12: sealed under the council's key; NULL only for a legacy row migration 0011 has not sealed
    text_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    matter: Mapped[str] = mapped_column(String(32))
    adoption: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class ActionItem(Base):
    """An action item (取組) from a decision, assigned to a current member (C5)."""

    __tablename__ = "council_action_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("council_decisions.id"))
    title: Mapped[str] = mapped_column(String(300))
    assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    reminder_sent: Mapped[str | None] = mapped_column(String(16))  # last reminder: due_soon / overdue


class MaterialRequest(Base):
    """A material request (資料提供の求め, C6) to the think tank or a participant."""

    __tablename__ = "council_material_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    matter: Mapped[str] = mapped_column(String(32))
    addressee_kind: Mapped[str] = mapped_column(String(16))
    addressee_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    # I11, I12: the answer's text, sealed under the council's key (``sealed.seal_text``); None until answered
    answer_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # Art. 64 (issue 13): a request to a commissioned think tank that is not a member. Then ``addressee_id`` is
    # the institution's contact (窓口) when it was sent, and who may see and answer it is the commission's
    # engaged roster (``banso.authz.policies.commission_requests``), never the council's membership.
    # programme_commissions.id, no foreign key (added in place by 0027; councils sit below programme)
    commission_id: Mapped[int | None] = mapped_column(Integer, index=True)


class MaterialFile(Base):
    """A file of a material request's answer, sealed at rest under the council's key (I11, I12).

    ``sha256`` is of the plaintext; ``blob`` is the file-store digest of the ciphertext and
    ``wrapped_key`` the file's data key wrapped by the council key (``banso.sealed.store``).
    Both are NULL only for a legacy plaintext row that migration 0011 has not sealed yet.
    """

    __tablename__ = "council_material_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("council_material_requests.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    blob: Mapped[str | None] = mapped_column(String(64))
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]
