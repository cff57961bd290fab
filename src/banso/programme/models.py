"""ORM tables of the programme domain (指針・資金支援, DESIGN F1–F5, C2).

Money is integer yen in BIGINT columns (the fund is ¥500bn; 32-bit integers overflow).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from banso.db.base import Base

# ---------------------------------------------------------------------------------------------
# Vocabulary


class ProjectType(StrEnum):
    """Project type of a call (研究開発の類型)."""

    PROJECT = "project"  # プロジェクト型
    INDIVIDUAL = "individual"  # 個別研究型


class CallState(StrEnum):
    """Lifecycle of a call (公募)."""

    DRAFT = "draft"  # 準備中
    PUBLISHED = "published"  # 公開（受付期間は opens_at..closes_at）
    CANCELLED = "cancelled"  # 中止


class ProposalState(StrEnum):
    """Lifecycle of a proposal (提案)."""

    DRAFT = "draft"  # 一時保存（提案者とチームのみが見る, F6）
    SUBMITTED = "submitted"  # 提出済
    WITHDRAWN = "withdrawn"  # 取下げ
    ADOPTED = "adopted"  # 採択
    REJECTED = "rejected"  # 不採択


class Outcome(StrEnum):
    """A panel decision (審査結果)."""

    ADOPT = "adopt"
    REJECT = "reject"


class AccountKind(StrEnum):
    """Ledger accounts of one agency's part of the designated fund (指定基金)."""

    SOURCE = "source"  # 政府からの資金（貸方残高：受け入れた予算の累計）
    AVAILABLE = "available"  # 未配分残高
    COMMITTED = "committed"  # 配分決定済・未払（プロジェクト毎）
    DISBURSED = "disbursed"  # 支払済（プロジェクト毎）


class TransactionKind(StrEnum):
    """Ledger transactions; each is balanced double-entry (postings sum to zero)."""

    TRANCHE = "tranche"  # 予算措置（年度毎）: available ← source
    COMMITMENT = "commitment"  # 配分決定: committed[P] ← available
    RELEASE = "release"  # 配分取消: available ← committed[P]
    DISBURSEMENT = "disbursement"  # 支払: disbursed[P] ← committed[P]
    RETURN = "return"  # 返還: available ← disbursed[P]


class ProjectState(StrEnum):
    """Lifecycle of an adopted project."""

    ACTIVE = "active"  # 実施中
    COMPLETED = "completed"  # 終了
    TERMINATED = "terminated"  # 中止


class MilestoneStatus(StrEnum):
    """Status of a milestone (マイルストーン)."""

    PLANNED = "planned"
    ACHIEVED = "achieved"
    MISSED = "missed"


# ---------------------------------------------------------------------------------------------
# Registry (F1)


class GuidelineArea(Base):
    """A technology area of the basic guideline (基本指針 別紙, 2022-09-30; about 20 areas)."""

    __tablename__ = "programme_guideline_areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


class VisionRound(Base):
    """A round of the K Program research and development vision (研究開発ビジョン 第一次・第二次)."""

    __tablename__ = "programme_vision_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    round: Mapped[int] = mapped_column(Integer, unique=True)
    title_ja: Mapped[str] = mapped_column(String(200))
    decided_on: Mapped[date]
    source: Mapped[str | None] = mapped_column(Text)


class VisionTechnology(Base):
    """A technology of a vision round (支援対象とする重要技術), linked to guideline areas."""

    __tablename__ = "programme_technologies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    vision_round: Mapped[int] = mapped_column(Integer, index=True)
    domain: Mapped[str] = mapped_column(String(40))
    name_ja: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    area_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    certainty: Mapped[str] = mapped_column(String(16), default="confirmed")  # or "unsure": wording to verify
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


# ---------------------------------------------------------------------------------------------
# Fund ledger (F3)


class Agency(Base):
    """A funding agency (資金配分機関) holding part of the designated fund: JST, NEDO."""

    __tablename__ = "programme_agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_ja: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime]


class LedgerAccount(Base):
    """One account of an agency's ledger; ``balance`` caches the sum of its postings (reconciled)."""

    __tablename__ = "programme_ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)  # "<agency>:<kind>:<project or ->"
    agency_id: Mapped[int] = mapped_column(ForeignKey("programme_agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("programme_projects.id"), index=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerTransaction(Base):
    """A balanced ledger transaction (仕訳)."""

    __tablename__ = "programme_ledger_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("programme_agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    fiscal_year: Mapped[int] = mapped_column(Integer, index=True)  # 年度 (April–March)
    value_date: Mapped[date]
    amount: Mapped[int] = mapped_column(BigInteger)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("programme_projects.id"), index=True)
    memo: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Posting(Base):
    """One leg of a transaction: positive debits, negative credits an account."""

    __tablename__ = "programme_postings"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("programme_ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("programme_ledger_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)


# ---------------------------------------------------------------------------------------------
# Calls, proposals and review (F3, F4)


class Call(Base):
    """A call for proposals (公募) tied to vision technologies."""

    __tablename__ = "programme_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("programme_agencies.id"), index=True)
    title_ja: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    project_type: Mapped[str] = mapped_column(String(16))
    technology_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    cap_yen: Mapped[int] = mapped_column(BigInteger)  # 上限額 (total over the plan)
    first_fiscal_year: Mapped[int] = mapped_column(Integer)
    period_years: Mapped[int] = mapped_column(Integer)  # 研究開発期間（年度数）
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # F6: 間接経費 as a percentage of the direct costs of each fiscal year (30 % is the usual rate).
    indirect_rate_percent: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    # 所管省庁の担当官: proposes the project council on adoption (C2).
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), default=CallState.DRAFT.value)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Document(Base):
    """A document attached to a call, proposal, project or commission (metadata and digest)."""

    __tablename__ = "programme_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(16), index=True)
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(1000))
    sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Proposal(Base):
    """A proposal (提案) to a call."""

    __tablename__ = "programme_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("programme_calls.id"), index=True)
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), index=True)
    total_yen: Mapped[int] = mapped_column(BigInteger)
    # F4: required when the plan reaches ¥1bn in any fiscal year.
    core_technologies: Mapped[str | None] = mapped_column(Text)  # 重要な技術（コア技術）
    leak_prevention: Mapped[str | None] = mapped_column(Text)  # 技術流出防止措置
    # F6: 受付番号 given on submission (K-<FY>-<id, 6 digits>); NULL while a draft.
    receipt_number: Mapped[str | None] = mapped_column(String(20), unique=True, index=True)
    # When submitted; a draft (一時保存) holds the time it was first saved (the API shows no submission time).
    submitted_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class ProposalMember(Base):
    """A member of a proposal's team (研究体制); researchers carry an e-Rad number."""

    __tablename__ = "programme_proposal_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("programme_proposals.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))  # lead / co_lead / member / collaborator (programme.budget.ROLES)
    researcher_number: Mapped[str | None] = mapped_column(String(20))  # e-Rad 研究者番号
    effort_percent: Mapped[int | None] = mapped_column(Integer)  # エフォート 1–100 (F6)


class BudgetLine(Base):
    """The budget a proposal plans for one fiscal year (年度別経費計画): the year's total over every category."""

    __tablename__ = "programme_budget_lines"
    __table_args__ = (UniqueConstraint("proposal_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("programme_proposals.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)


class BudgetItem(Base):
    """One cell of a proposal's budget sheet: a fiscal year × cost category amount (費目別経費, F6).

    Stored in whole yen (BIGINT) although entered and shown in 千円, so figures that predate the
    categories (migration 0017 moved them to ``other``) keep every yen. ``BudgetLine`` holds each year's total.
    """

    __tablename__ = "programme_budget_items"
    __table_args__ = (UniqueConstraint("proposal_id", "fiscal_year", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("programme_proposals.id"), index=True)
    fiscal_year: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(16))  # programme.budget.Category
    amount: Mapped[int] = mapped_column(BigInteger)


class PanelMember(Base):
    """A reviewer (審査委員) on a call's panel."""

    __tablename__ = "programme_panel_members"
    __table_args__ = (UniqueConstraint("call_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("programme_calls.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    added_at: Mapped[datetime]


class ConflictDeclaration(Base):
    """A reviewer's conflict-of-interest declaration (利益相反申告) for one proposal."""

    __tablename__ = "programme_conflicts"
    __table_args__ = (UniqueConstraint("proposal_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("programme_proposals.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    has_conflict: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    declared_at: Mapped[datetime]
    # F6: the grounds ticked (programme.rules.CONFLICT_GROUNDS); None on declarations made before 0024.
    grounds: Mapped[list[str] | None] = mapped_column(JSON)


class ReviewAssignment(Base):
    """A reviewer assigned by the agency's staff to one proposal (担当審査委員, F6).

    Once a proposal has any assignment, only its assigned reviewers review it; a proposal without one keeps
    the call's panel-wide rule (every panel reviewer may declare and, when clear, review).
    """

    __tablename__ = "programme_review_assignments"
    __table_args__ = (UniqueConstraint("proposal_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("programme_proposals.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[datetime]


class DisclosureKind(StrEnum):
    """What an integrity disclosure (研究インテグリティに係る申告) is about (F6)."""

    FUNDING_RECEIVED = "funding_received"  # 受入れ中の他の研究費
    FUNDING_APPLIED = "funding_applied"  # 応募中の他の研究費
    AFFILIATION = "affiliation"  # 所属
    SIDE_APPOINTMENT = "side_appointment"  # 兼業・兼職
    FOREIGN_SUPPORT = "foreign_support"  # 外国からの支援


class Disclosure(Base):
    """One line of a researcher's integrity disclosure, given with a proposal or declared as a change after
    adoption (採択後の変更申告, F6). Amounts are whole yen, entered and shown in 千円."""

    __tablename__ = "programme_disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("programme_proposals.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)  # who declared it
    researcher_number: Mapped[str | None] = mapped_column(String(20), index=True)  # whose it is (e-Rad)
    kind: Mapped[str] = mapped_column(String(24))
    name: Mapped[str] = mapped_column(String(300))  # programme/theme, organisation or post
    agency: Mapped[str | None] = mapped_column(String(200))  # funder or host
    start_fiscal_year: Mapped[int | None] = mapped_column(Integer)
    end_fiscal_year: Mapped[int | None] = mapped_column(Integer)
    amount_yen: Mapped[int | None] = mapped_column(BigInteger)
    effort_percent: Mapped[int | None] = mapped_column(Integer)
    foreign: Mapped[bool] = mapped_column(Boolean, default=False)
    after_adoption: Mapped[bool] = mapped_column(Boolean, default=False)  # a change declared after adoption
    change_reason: Mapped[str | None] = mapped_column(Text)
    declared_at: Mapped[datetime]


class IntegritySignature(Base):
    """The proposer's signed integrity declaration (誓約) given at submission with a second factor (F6, I7)."""

    __tablename__ = "programme_integrity_signatures"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("programme_proposals.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    statement_version: Mapped[str] = mapped_column(String(16))
    disclosures_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the lines signed
    method: Mapped[str] = mapped_column(String(16))  # how the signer's second factor was verified
    signed_at: Mapped[datetime]


class Score(Base):
    """A reviewer's rubric scores (評点) for one proposal."""

    __tablename__ = "programme_scores"
    __table_args__ = (UniqueConstraint("proposal_id", "reviewer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("programme_proposals.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scores: Mapped[dict[str, int]] = mapped_column(JSON)
    total: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime]


class PanelDecision(Base):
    """The panel's decision (採否) on a proposal."""

    __tablename__ = "programme_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("programme_proposals.id"), unique=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    mean_score: Mapped[float | None] = mapped_column(Float)
    notice_reason: Mapped[str | None] = mapped_column(Text)  # F6: what the notice tells the applicants
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime]


# ---------------------------------------------------------------------------------------------
# Projects (C2)


class Project(Base):
    """An adopted project (採択プロジェクト); its council must be established before any disbursement (C2)."""

    __tablename__ = "programme_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("programme_proposals.id"), unique=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("programme_calls.id"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("programme_agencies.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    lead_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    council_id: Mapped[int | None] = mapped_column(Integer, index=True)  # councils.id (via CouncilGateway)
    state: Mapped[str] = mapped_column(String(16))
    declaration_required: Mapped[bool] = mapped_column(Boolean, default=False)  # F4
    declaration_review_due: Mapped[date | None]  # next periodic review of the F4 declaration
    # F4: which reminder of the coming review went out (due_soon / overdue); cleared by the review.
    declaration_reminder_sent: Mapped[str | None] = mapped_column(String(16))
    adopted_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Milestone(Base):
    """A project milestone (マイルストーン) due on a date."""

    __tablename__ = "programme_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("programme_projects.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default=MilestoneStatus.PLANNED.value)
    note: Mapped[str | None] = mapped_column(Text)
    achieved_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class DeclarationReview(Base):
    """A periodic review (定期確認) of a project's core-technology and leak-prevention declaration (F4)."""

    __tablename__ = "programme_declaration_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("programme_projects.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # adequate / needs_action
    note: Mapped[str] = mapped_column(Text)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime]
    next_due: Mapped[date]


# ---------------------------------------------------------------------------------------------
# Basic guideline (F2)


class MeasureKind(StrEnum):
    """The three kinds of measure of the basic guideline (基本指針に基づく施策)."""

    INFORMATION = "information"  # 研究者への情報提供
    FUNDING = "funding"  # 資金支援
    TALENT = "talent"  # 人材育成・確保


class Guideline(Base):
    """One version of the basic guideline (特定重要技術の研究開発の促進及びその成果の適切な活用に関する基本指針)."""

    __tablename__ = "programme_guidelines"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)  # the document; versions share it
    version: Mapped[int] = mapped_column(Integer)
    title_ja: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    adopted_on: Mapped[date]  # 閣議決定日
    body: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str | None] = mapped_column(Text)
    certainty: Mapped[str] = mapped_column(String(16), default="confirmed")  # or "unsure": wording to verify
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class GuidelineMeasure(Base):
    """A measure (施策) of a guideline version, linked to the registry technologies it names."""

    __tablename__ = "programme_guideline_measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    guideline_id: Mapped[int] = mapped_column(ForeignKey("programme_guidelines.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title_ja: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    technology_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    area_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    certainty: Mapped[str] = mapped_column(String(16), default="confirmed")
    note: Mapped[str | None] = mapped_column(Text)


# ---------------------------------------------------------------------------------------------
# Think-tank commissions (F5)


class CommissionState(StrEnum):
    """Lifecycle of a commission (委託)."""

    ACTIVE = "active"  # 実施中
    COMPLETED = "completed"  # 完了
    CANCELLED = "cancelled"  # 中止


class TaskStatus(StrEnum):
    """Status of a commission task."""

    OPEN = "open"
    DONE = "done"


class CapabilityAssessment(Base):
    """An assessment of an institution's think-tank capability (調査分析・情報集約・人材, 1–5 each)."""

    __tablename__ = "programme_capability_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    assessed_on: Mapped[date]
    analysis_score: Mapped[int] = mapped_column(Integer)  # 調査分析能力
    analysis_note: Mapped[str] = mapped_column(Text, default="")
    hub_score: Mapped[int] = mapped_column(Integer)  # 情報集約（ハブ）機能
    hub_note: Mapped[str] = mapped_column(Text, default="")
    talent_score: Mapped[int] = mapped_column(Integer)  # 人材の確保・育成
    talent_note: Mapped[str] = mapped_column(Text, default="")
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class Commission(Base):
    """A commission (委託) to an assessed institution, bound by a confidentiality duty (守秘義務)."""

    __tablename__ = "programme_commissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str] = mapped_column(Text, default="")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)  # the institution
    assessment_id: Mapped[int] = mapped_column(ForeignKey("programme_capability_assessments.id"))
    commissioned_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    commissioner_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    confidentiality_terms: Mapped[str] = mapped_column(Text)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None]
    starts_on: Mapped[date]
    due_on: Mapped[date]
    state: Mapped[str] = mapped_column(String(16), default=CommissionState.ACTIVE.value)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CommissionTask(Base):
    """A task (調査項目) of a commission with its due date."""

    __tablename__ = "programme_commission_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    commission_id: Mapped[int] = mapped_column(ForeignKey("programme_commissions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default=TaskStatus.OPEN.value)
    completed_at: Mapped[datetime | None]


class CommissionDeliverable(Base):
    """A deliverable (成果物) uploaded for a commission, sealed under the commission's own key (I11, I12).

    ``blob`` is the file-store digest of the ciphertext and ``wrapped_key`` the data key wrapped by
    the commission key (``banso.sealed.store``); ``content`` is NULL once sealed and holds
    bytes only for a legacy plaintext row that migration 0011 has not sealed yet.
    ``banso.programme.filing.file_deliverable`` files it into a council as an information item (F5).
    """

    __tablename__ = "programme_commission_deliverables"

    id: Mapped[int] = mapped_column(primary_key=True)
    commission_id: Mapped[int] = mapped_column(ForeignKey("programme_commissions.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("programme_commission_tasks.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    blob: Mapped[str | None] = mapped_column(String(64))
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]


# ---------------------------------------------------------------------------------------------
# Results reports after adoption (F6: 実績報告・最終報告)


class ReportKind(StrEnum):
    """Which results report a project owes."""

    ANNUAL = "annual"  # 年次報告（各年度の実績報告）
    FINAL = "final"  # 最終報告（事業終了時）


class ReportState(StrEnum):
    """Where a results report stands."""

    DUE = "due"  # 未提出
    SUBMITTED = "submitted"  # 提出済み（確認待ち）
    ACCEPTED = "accepted"  # 受理
    RETURNED = "returned"  # 差戻し（再提出が必要）


class ResultsReport(Base):
    """A results report a project owes its funding agency: one per fiscal year and a final one (F6)."""

    __tablename__ = "programme_results_reports"
    __table_args__ = (UniqueConstraint("project_id", "kind", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("programme_projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    fiscal_year: Mapped[int] = mapped_column(Integer)  # the year reported on (final: the last year of the plan)
    due_on: Mapped[date] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(16), default=ReportState.DUE.value)
    summary: Mapped[str | None] = mapped_column(Text)  # 実施内容・成果の概要
    outputs: Mapped[str | None] = mapped_column(Text)  # 論文・特許等（one a line; DOIs are links）
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    reminder_sent: Mapped[str | None] = mapped_column(String(16))  # due_soon / overdue, each once per round
    filed_item_id: Mapped[int | None] = mapped_column(Integer)  # the council item it was provided as (I1)
    created_at: Mapped[datetime]


# ---------------------------------------------------------------------------------------------
# Interim and final evaluations after adoption (F6: 中間評価・事後評価)


class EvaluationKind(StrEnum):
    """Which evaluation of a project."""

    INTERIM = "interim"  # 中間評価
    FINAL = "final"  # 事後評価


class EvaluationGrade(StrEnum):
    """The grade an evaluator gives and the agency's overall result (S/A/B/C, as the agencies grade)."""

    S = "S"  # 特に優れた成果
    A = "A"  # 優れた成果
    B = "B"  # 一定の成果（改善が必要）
    C = "C"  # 十分な成果が得られていない


class ProjectEvaluation(Base):
    """An interim or final evaluation of a project by evaluators the agency assigns (F6)."""

    __tablename__ = "programme_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("programme_projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    due_on: Mapped[date]
    result: Mapped[str | None] = mapped_column(String(4))  # the agency's overall grade when completed
    result_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class EvaluationAssignment(Base):
    """One evaluator on one evaluation: the conflict declaration first, then a grade and a comment."""

    __tablename__ = "programme_evaluation_assignments"
    __table_args__ = (UniqueConstraint("evaluation_id", "evaluator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("programme_evaluations.id"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    has_conflict: Mapped[bool | None] = mapped_column(Boolean)  # None: not declared yet
    conflict_reason: Mapped[str | None] = mapped_column(Text)
    grade: Mapped[str | None] = mapped_column(String(4))
    comment: Mapped[str | None] = mapped_column(Text)
    declared_at: Mapped[datetime | None]
    graded_at: Mapped[datetime | None]
    reminder_sent: Mapped[str | None] = mapped_column(String(16))


class CommissionRosterEntry(Base):
    """A person the commissioned institution names as engaged in a commission (Art. 64, DESIGN F5).

    Each named person acknowledges the duty personally with a second factor (``acknowledged_at``, the
    text they acknowledged and its SHA-256, as a pledge keeps them, C3); only named people who have
    acknowledged see the commission and its material. ``removed_at`` ends access at once; the row, and
    with it the record of the duty, stays. ``is_contact`` marks the institution's contact (窓口担当者),
    named by the commissioning side, who manages the roster. ``source`` is ``migrated`` for the one
    person who acknowledged for the whole institution before the roster existed (migration 0023).
    """

    __tablename__ = "programme_commission_roster"

    id: Mapped[int] = mapped_column(primary_key=True)
    commission_id: Mapped[int] = mapped_column(ForeignKey("programme_commissions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    is_contact: Mapped[bool] = mapped_column(Boolean, default=False)
    named_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    named_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_text: Mapped[str | None] = mapped_column(Text)
    acknowledged_sha256: Mapped[str | None] = mapped_column(String(64))
    removed_at: Mapped[datetime | None]
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removal_reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="roster")


# ---------------------------------------------------------------------------------------------
# Research-plan documents of a proposal (F6: 研究提案書・様式・その他の添付)


class PlanDocumentKind(StrEnum):
    """What a document of a proposal is."""

    RESEARCH_PLAN = "research_plan"  # 研究提案書
    FORM = "form"  # 様式 (the agency's prescribed forms)
    OTHER = "other"  # その他の添付


class PlanDocument(Base):
    """One version of a document of a proposal, sealed under the proposal's own key (I11, F6).

    An upload of the same kind and title as a live document replaces it: the old row keeps its bytes and
    gets ``superseded_at`` (版の履歴), the new one points back through ``replaces_id``.
    """

    __tablename__ = "programme_plan_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("programme_proposals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # PlanDocumentKind
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    blob: Mapped[str] = mapped_column(String(64))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("programme_plan_documents.id"))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime]
    superseded_at: Mapped[datetime | None]


# ---------------------------------------------------------------------------------------------
# Plan changes after adoption (F6: 計画変更)


class PlanChangeKind(StrEnum):
    """What a plan change (計画変更) changes."""

    BUDGET = "budget"  # 費目間・年度間の流用
    TEAM = "team"  # 研究体制の変更
    SCHEDULE = "schedule"  # 実施計画（日程）の変更


class PlanChangeState(StrEnum):
    """Where a plan change stands."""

    REQUESTED = "requested"  # awaiting the agency (承認申請)
    APPROVED = "approved"  # approved and applied
    RETURNED = "returned"  # returned with a reason (差戻し)
    NOTIFIED = "notified"  # small enough to be applied on notice alone (届出)


class PlanChange(Base):
    """A plan change of an adopted project, requested by the research representative (F6).

    ``moves`` (budget changes) is a list of ``{"from": [fy, category], "to": [fy, category], "yen": n}``;
    ``members`` (team changes) ``{"add": [{user_id, role, effort_percent}], "remove": [user_id]}``;
    ``milestones`` (schedule changes) ``[{"id": m, "due_on": "YYYY-MM-DD"}]``.
    """

    __tablename__ = "programme_plan_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("programme_projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # PlanChangeKind
    state: Mapped[str] = mapped_column(String(16), index=True)  # PlanChangeState
    reason: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    share_percent: Mapped[float | None] = mapped_column(Float)  # budget: moved share of the direct cost total
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
