"""ORM tables of controlled information (DESIGN I1–I11): items, versions, files, designations, votes,
non-disclosure requests, distributions (who received which fingerprint) and incidents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banso.db.base import Base


class Category(StrEnum):
    """What an item is (seed 2(2)④ lists these kinds of information)."""

    IMPLEMENTATION_SCENARIO = "implementation_scenario"  # 社会実装のシナリオ
    GOVERNMENT_RESEARCH = "government_research"  # 政府の調査研究結果
    SAMPLING_DATA = "sampling_data"  # サンプリングデータ
    CYBER_INCIDENT = "cyber_incident"  # サイバーインシデント・脆弱性情報
    CONTRACT = "contract"  # 非公開の契約情報
    GOVERNMENT_POSTURE = "government_posture"  # 政府の方針・体制
    RESEARCH_RESULT = "research_result"  # 研究成果
    OTHER = "other"  # その他


class Provenance(StrEnum):
    """Where an item came from (I1)."""

    GOVERNMENT = "government"  # 政府から協議会を通じて提供
    PARTICIPANT = "participant"  # 参加者から協議会を通じて提供
    THINK_TANK = "think_tank"  # シンクタンクから提供
    RESEARCHER_GENERATED = "researcher_generated"  # 研究者自らが生み出した成果（守秘義務の対象外）


class ItemState(StrEnum):
    """Openness of an item (I2–I6)."""

    HELD = "held"  # designation proposed: only provider and secretariat hold the content (I4)
    COUNCIL = "council"  # 協議会内共有: every pledged participant (I2 default)
    DESIGNATED = "designated"  # 指定: only the scope, until the end date (I3–I5)
    SCHEDULED = "scheduled"  # research result waiting for its publication date (I6); council-shared meanwhile
    WITHHELD = "withheld"  # result kept non-public by a unanimously accepted non-disclosure request (I6)
    PUBLIC = "public"  # 公開


class ScopeKind(StrEnum):
    """Whom a designation lets read (I3: least privilege)."""

    ALL = "all"  # every pledged participant
    ORGANISATIONS = "organisations"  # named organisations' pledged participants
    NAMED = "named"  # named people


class Handling(StrEnum):
    """Handling rules of a designation (I3)."""

    VIEW_ONLY = "view_only"  # 閲覧のみ: read on screen, no file download
    NO_DOWNLOAD = "no_download"  # ダウンロード禁止 (same effect on files; kept verbatim for the record)
    WATERMARK = "watermark"  # 透かし (every non-public download is stamped anyway, I8)


class BallotKind(StrEnum):
    """What a vote is about."""

    DESIGNATION = "designation"
    RENEWAL = "renewal"
    NONDISCLOSURE = "nondisclosure"
    PUBLICATION = "publication"  # early publication proposed by the chair/secretariat (I13)
    WITHHOLD_RENEWAL = "withhold_renewal"  # keep a withheld result withheld past its review date (I6, I13)
    RELEASE = "release"  # release a withheld result before its review date (I13)


class BallotState(StrEnum):
    """State of a designation/renewal proposal or a non-disclosure request."""

    OPEN = "open"  # votes being collected
    ACCEPTED = "accepted"  # unanimous before the deadline
    REJECTED = "rejected"  # an objection, or a missing answer at the deadline
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"  # an accepted designation whose period ended (I5)


class VoteDecision(StrEnum):
    """One participant's answer."""

    PENDING = "pending"
    ACCEPT = "accept"
    OBJECT = "object"


class ReasonCode(StrEnum):
    """Reason codes of a government non-disclosure request (非公開要請, I6)."""

    WMD_DIVERSION = "wmd_diversion"  # 大量破壊兵器等への転用のおそれ
    CONVENTIONAL_WEAPONS = "conventional_weapons"  # 通常兵器への転用のおそれ
    CRITICAL_INFRASTRUCTURE = "critical_infrastructure"  # 基幹インフラへの脅威
    NATIONAL_SECURITY = "national_security"  # 国家及び国民の安全を損なうおそれ
    OTHER = "other"


class IncidentState(StrEnum):
    """Incident workflow (I9): report → triage → attribution → outcome."""

    REPORTED = "reported"
    TRIAGED = "triaged"
    ATTRIBUTED = "attributed"
    CLOSED = "closed"


class Item(Base):
    """An information item (情報) shared in a council, or a researcher's result."""

    __tablename__ = "info_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    matter: Mapped[str] = mapped_column(String(32))  # one of the four matters (C4)
    category: Mapped[str] = mapped_column(String(32))
    provenance: Mapped[str] = mapped_column(String(32))  # I1
    is_result: Mapped[bool] = mapped_column(Boolean, default=False)  # research result (I6)
    # Issue 13: marked at provision as provided in confidence (秘として提供); None = not recorded (stored before
    # migration 0021). Researcher-generated results (I1) are never marked: always False.
    provided_confidential: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    provider_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    # I11: the item's AES-256 data key, wrapped by the council's key in the key store
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    current_designation_id: Mapped[int | None] = mapped_column(ForeignKey("info_ballots.id", use_alter=True))
    publish_at: Mapped[datetime | None]  # results: planned publication (I6)
    published_at: Mapped[datetime | None]
    tlp_labels: Mapped[list[str]] = mapped_column(JSON, default=list)  # verbatim, from MISP/STIX import
    # I11: imported indicators ({type, value, comment} as JSON) sealed with the item's data key;
    # None when the item has none. Read through ``content.indicators_of`` after the gate (I12).
    indicators_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    source_format: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[str | None] = mapped_column(String(100))  # e.g. "material_request:12", "commission:3"
    # F7: the verdict of the latest export-control classification (ExportVerdict value); None = not classified.
    export_control: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ExportVerdict(StrEnum):
    """The outcome of an export-control classification (該非判定, F7)."""

    APPLICABLE = "applicable"  # 該当: listed technology; foreign nationals need clearance
    CHECK = "check"  # 要確認: not yet settled; held as if listed
    NOT_APPLICABLE = "not_applicable"  # 非該当


CONTROLLED_VERDICTS = frozenset({ExportVerdict.APPLICABLE.value, ExportVerdict.CHECK.value})


class ExportClassification(Base):
    """One export-control classification of an item (該非判定, F7), kept as a history: the latest is in force."""

    __tablename__ = "info_export_classifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("info_items.id", ondelete="CASCADE"), index=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(16))
    list_item: Mapped[str | None] = mapped_column(String(200))  # e.g. 輸出貿易管理令別表第1 16項 / 外為令別表 4項
    reason: Mapped[str] = mapped_column(Text)
    classified_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    classified_at: Mapped[datetime]


class ItemVersion(Base):
    """One version of an item's body; the body is sealed with the item's data key (I11)."""

    __tablename__ = "info_item_versions"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("info_items.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(String(500))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class ItemFile(Base):
    """A file of an item version; the bytes are sealed and kept in the file store by ciphertext hash."""

    __tablename__ = "info_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("info_items.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # pdf, docx, xlsx, pptx, csv, text, png, jpeg, gif, webp
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))  # of the plaintext
    blob: Mapped[str] = mapped_column(String(64))  # file-store digest of the ciphertext
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]


class Ballot(Base):
    """A designation or renewal proposal (I3–I5), or a non-disclosure request (I6), decided unanimously."""

    __tablename__ = "info_ballots"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("info_items.id"), index=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text)
    reason_code: Mapped[str | None] = mapped_column(String(32))  # non-disclosure requests
    scope_kind: Mapped[str | None] = mapped_column(String(16))
    range_note: Mapped[str | None] = mapped_column(Text)  # which parts or files (I3)
    file_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # designated files; empty = all
    handling: Mapped[list[str]] = mapped_column(JSON, default=list)
    # designation end (fixed; never indefinite); on an accepted non-disclosure request or renewal of it, the
    # withheld result's review date (I13: released then unless renewed unanimously)
    ends_at: Mapped[datetime | None]
    deadline: Mapped[datetime]  # votes must arrive before this
    renews_id: Mapped[int | None] = mapped_column(ForeignKey("info_ballots.id"))
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    lapsed_at: Mapped[datetime | None]
    reminded_30: Mapped[bool] = mapped_column(Boolean, default=False)
    reminded_7: Mapped[bool] = mapped_column(Boolean, default=False)


class ScopeEntry(Base):
    """One organisation or person in a designation's scope (normalised so SQL can filter by it)."""

    __tablename__ = "info_scope_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("info_ballots.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)


class Vote(Base):
    """A voter's answer on a ballot; voters are fixed when the ballot opens."""

    __tablename__ = "info_votes"
    __table_args__ = (UniqueConstraint("ballot_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("info_ballots.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]


class Distribution(Base):
    """One copy handed out (I8): who received which fingerprint of which item/file, and when."""

    __tablename__ = "info_distributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("info_items.id"), index=True)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("info_files.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    fingerprint: Mapped[str] = mapped_column(String(16), unique=True)  # 64-bit code, hex
    channel: Mapped[str] = mapped_column(String(16))  # pdf / text / csv / body
    created_at: Mapped[datetime]


class Incident(Base):
    """A suspected leak (I9), worked through report → triage → attribution → outcome."""

    __tablename__ = "info_incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int | None] = mapped_column(ForeignKey("councils.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("info_items.id"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    attributed_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    attributed_distribution_id: Mapped[int | None] = mapped_column(ForeignKey("info_distributions.id"))
    confidence: Mapped[float | None]
    penalty_provision: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class IncidentStep(Base):
    """One recorded step of an incident (I9)."""

    __tablename__ = "info_incident_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("info_incidents.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class ExclusionGround(StrEnum):
    """Why information falls outside a participant's duty (秘密情報の除外, issue 13)."""

    PUBLIC = "public"  # 公知
    INDEPENDENT = "independent"  # 独自開発
    THIRD_PARTY = "third_party"  # 第三者から適法に取得
    PRIOR = "prior"  # 既知（提供前から保有）


class ExclusionState(StrEnum):
    """An exclusion claim: filed → proposed by the secretariat → confirmed by the chair (or withdrawn)."""

    FILED = "filed"  # 申出中
    PROPOSED = "proposed"  # 事務局が判断し、議長の確認待ち
    ACCEPTED = "accepted"  # 除外を認める（申出者のみ）
    REJECTED = "rejected"  # 除外を認めない
    WITHDRAWN = "withdrawn"  # 取下げ


class ExclusionClaim(Base):
    """A participant's claim that an item or an oral statement is outside their own duty (issue 13).

    Personal: an accepted claim frees only the claimant; the content stays confidential for everyone else.
    Evidence text and file are council content, sealed under the council's key (I11, I12).
    """

    __tablename__ = "info_exclusion_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    council_id: Mapped[int] = mapped_column(ForeignKey("councils.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("info_items.id"), index=True)
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("council_oral_statements.id"), index=True)
    claimant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    claimant_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    ground: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    evidence_sealed: Mapped[bytes] = mapped_column(LargeBinary)  # sealed text (sealed.seal_text)
    evidence_sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str | None] = mapped_column(String(255))
    file_type: Mapped[str | None] = mapped_column(String(100))
    file_size: Mapped[int | None] = mapped_column(Integer)
    file_sha256: Mapped[str | None] = mapped_column(String(64))  # of the plaintext
    file_blob: Mapped[str | None] = mapped_column(String(64))
    file_wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    decision: Mapped[str | None] = mapped_column(String(16))  # accept / reject, as the secretariat proposed
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
