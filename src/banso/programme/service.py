"""Programme services (F1–F5, C2): registry, fund ledger, calls, proposals, review, projects.

Services never commit: the request or command that owns the unit of work does, so each
action and its audit entry (A1) commit together or not at all. A refused action raises
before anything is written, so bad input changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz import gate
from banso.authz.guard import require_principal, require_visible
from banso.authz.permissions import Permission
from banso.authz.policies import programme as policy
from banso.authz.principal import Principal
from banso.kit.clock import to_jst
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.japanese import fiscal_year_label
from banso.kit.text import clean_text
from banso.notifications import service as notifications
from banso.programme import budget, budget_excel, integrity, proposals, registry_io, report_schedule, rules
from banso.programme import repository as repo
from banso.programme.budget import BudgetSheet
from banso.programme.interfaces import CouncilGateway, ProjectCouncil
from banso.programme.models import (
    AccountKind,
    Agency,
    BudgetLine,
    Call,
    CallState,
    ConflictDeclaration,
    DeclarationReview,
    Disclosure,
    Document,
    GuidelineArea,
    IntegritySignature,
    LedgerAccount,
    LedgerTransaction,
    Milestone,
    MilestoneStatus,
    Outcome,
    PanelDecision,
    PanelMember,
    Posting,
    Project,
    ProjectState,
    ProjectType,
    Proposal,
    ProposalMember,
    ProposalState,
    Score,
    TransactionKind,
    VisionRound,
    VisionTechnology,
)

TeamMemberInput = proposals.TeamMemberInput  # callers build a team through the service, as before

_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


_audit = audit.record_for


def _aware(moment: datetime, field_name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValidationFailed(f"{field_name} は時差（例 +09:00）付きの日時で指定してください / {field_name} needs a time zone (e.g. +09:00)", field=field_name)
    return moment


# ---------------------------------------------------------------------------------------------
# Technology registry (F1)


@dataclass(frozen=True)
class RegistryImportResult:
    """What an import changed."""

    areas: int
    rounds: int
    technologies_created: int
    technologies_updated: int


def import_registry(session: Session, *, data: registry_io.RegistryData, now: datetime,
                    actor: Principal | None) -> RegistryImportResult:
    """Upsert areas, rounds and technologies by code (all or nothing); ``actor`` None: the operator CLI."""
    if actor is not None and not policy.can_edit_registry(actor):
        raise Forbidden("この操作の権限がありません / You may not edit the technology registry")
    registry_io.check_consistency(
        data, known_areas={a.code for a in repo.areas(session)}, known_rounds={r.round for r in repo.rounds(session)})
    for a in data.areas:
        row = repo.area_by_code(session, a.code)
        if row is None:
            session.add(GuidelineArea(code=a.code, name_ja=a.name_ja, name_en=a.name_en, position=a.position))
        else:
            row.name_ja, row.name_en, row.position = a.name_ja, a.name_en, a.position
    for r in data.rounds:
        existing = repo.round_by_number(session, r.round)
        if existing is None:
            session.add(VisionRound(round=r.round, title_ja=r.title_ja, decided_on=r.decided_on, source=r.source))
        else:
            existing.title_ja, existing.decided_on, existing.source = r.title_ja, r.decided_on, r.source
    created = updated = 0
    for t in data.technologies:
        tech = repo.technology_by_code(session, t.code)
        if tech is None:
            tech = VisionTechnology(code=t.code, updated_at=now)
            session.add(tech)
            created += 1
        else:
            updated += 1
        tech.vision_round, tech.domain, tech.name_ja, tech.name_en = t.round, t.domain, t.name_ja, t.name_en
        tech.area_codes, tech.certainty, tech.note, tech.updated_at = list(t.areas), t.certainty, t.note, now
    session.flush()
    result = RegistryImportResult(len(data.areas), len(data.rounds), created, updated)
    _audit(session, AuditTag.PROGRAMME_REGISTRY_IMPORT, now=now, actor=actor, subject="programme:registry",
           data={"areas": result.areas, "rounds": result.rounds, "created": created, "updated": updated})
    return result


def export_registry(session: Session) -> registry_io.RegistryData:
    """Return the whole registry as records (for YAML or CSV export)."""
    return registry_io.RegistryData(
        areas=[registry_io.AreaRecord(a.code, a.name_ja, a.name_en, a.position) for a in repo.areas(session)],
        rounds=[registry_io.RoundRecord(r.round, r.title_ja, r.decided_on, r.source) for r in repo.rounds(session)],
        technologies=[registry_io.TechnologyRecord(t.code, t.vision_round, t.domain, t.name_ja, t.name_en,
                                                   tuple(t.area_codes), t.certainty, t.note)
                      for t in repo.technologies(session)],
    )


def list_technologies(session: Session, *, vision_round: int | None = None) -> list[VisionTechnology]:
    """Return the vision technologies (of one round when given)."""
    return repo.technologies(session, vision_round=vision_round)


def list_areas(session: Session) -> list[GuidelineArea]:
    """Return the guideline areas."""
    return repo.areas(session)


# ---------------------------------------------------------------------------------------------
# Fund ledger (F3)


def list_agencies(session: Session) -> list[Agency]:
    """Return the funding agencies."""
    return repo.agencies(session)


def create_agency(session: Session, *, code: str, name_ja: str, name_en: str, organization_id: int | None,
                  now: datetime, actor: Principal | None) -> Agency:
    """Register a funding agency and open its ledger (source and available accounts); idempotent by code."""
    if actor is not None and not actor.has(Permission.ORG_MANAGE):
        raise Forbidden("この操作の権限がありません / Only administrators register funding agencies")
    code_v = clean_text(code, "code", max_length=16, line=True).upper()
    existing = repo.agency_by_code(session, code_v)
    if existing is not None:
        return existing
    if organization_id is not None and accounts_repo.org_by_id(session, organization_id) is None:
        raise ValidationFailed(f"機関 {organization_id} は存在しません / organisation {organization_id} does not exist", field="organization_id")
    agency = Agency(code=code_v, name_ja=clean_text(name_ja, "name_ja", max_length=200, line=True),
                    name_en=clean_text(name_en, "name_en", max_length=200, line=True), organization_id=organization_id,
                    created_at=now)
    session.add(agency)
    session.flush()
    for kind in (AccountKind.SOURCE, AccountKind.AVAILABLE):
        _ensure_account(session, agency, kind.value, None)
    _audit(session, AuditTag.PROGRAMME_AGENCY_CREATE, now=now, actor=actor, subject=f"agency:{agency.code}",
           data={"name_ja": agency.name_ja, "organization_id": organization_id})
    return agency


def _agency(session: Session, code: str) -> Agency:
    agency = repo.agency_by_code(session, code.strip().upper())
    if agency is None:
        raise NotFound(f"配分機関 {code!r} が見つかりません / funding agency {code!r} not found")
    return agency


def _require_staff(actor: Principal | None, agency: Agency) -> Principal:
    who = require_principal(actor)
    if not policy.is_agency_staff(who, agency.organization_id):
        raise Forbidden(f"{agency.code} の担当者のみ操作できます / Only {agency.code} staff may do this")
    return who


def _ensure_account(session: Session, agency: Agency, kind: str, project_id: int | None) -> LedgerAccount:
    key = rules.account_key(agency.code, kind, project_id)
    account = repo.account_by_key(session, key)
    if account is not None:
        return account
    try:
        with session.begin_nested():
            account = LedgerAccount(key=key, agency_id=agency.id, kind=kind, project_id=project_id, balance=0)
            session.add(account)
    except IntegrityError:  # created by a concurrent transaction first
        account = repo.account_by_key(session, key)
        assert account is not None
    return account


_POST_TAGS = {
    TransactionKind.TRANCHE: AuditTag.PROGRAMME_LEDGER_TRANCHE,
    TransactionKind.COMMITMENT: AuditTag.PROGRAMME_LEDGER_COMMITMENT,
    TransactionKind.RELEASE: AuditTag.PROGRAMME_LEDGER_RELEASE,
    TransactionKind.DISBURSEMENT: AuditTag.PROGRAMME_LEDGER_DISBURSEMENT,
    TransactionKind.RETURN: AuditTag.PROGRAMME_LEDGER_RETURN,
}


def _post(session: Session, *, agency: Agency, kind: TransactionKind, amount: int, fiscal_year: int,
          value_date: date, project_id: int | None, memo: str | None, now: datetime,
          actor: Principal | None) -> LedgerTransaction:
    """Write one balanced transaction; the credited account may never go below zero (except the source).

    Lock order, the same for every writer: the audit head first (every write appends to the
    log), then the two accounts in key order. The credited balance is re-read under the lock,
    so concurrent requests cannot both spend the same yen.
    """
    debit, credit = rules.legs_for(kind.value, agency=agency.code, amount=amount, project_id=project_id)
    for leg in (debit, credit):
        _ensure_account(session, agency, leg.account.split(":")[1], project_id
                        if leg.account.split(":")[2] != "-" else None)
    # A savepoint: a refusal under the lock leaves no transaction row and no audit entry behind.
    with session.begin_nested():
        tx = LedgerTransaction(agency_id=agency.id, kind=kind.value, fiscal_year=fiscal_year, value_date=value_date,
                               amount=amount, project_id=project_id, memo=memo, actor_id=actor.user_id if actor else None,
                               created_at=now)
        session.add(tx)
        session.flush()
        _audit(session, _POST_TAGS[kind], now=now, actor=actor, subject=f"ledger:{agency.code}:{tx.id}",
               data={"amount": amount, "fiscal_year": fiscal_year, "project_id": project_id,
                     "debit": debit.account, "credit": credit.account})
        locked = repo.lock_accounts(session, [debit.account, credit.account])
        credited = locked[credit.account]
        rules.check_not_overdrawn(credit.account, credited.balance, credit.amount)
        for leg in (debit, credit):
            account = locked[leg.account]
            session.add(Posting(transaction_id=tx.id, account_id=account.id, amount=leg.amount))
            account.balance = account.balance + leg.amount
        session.flush()
    return tx


def _today(now: datetime) -> date:
    return to_jst(now).date()


def add_tranche(session: Session, *, agency_code: str, fiscal_year: int, amount: object, now: datetime,
                actor: Principal | None, value_date: date | None = None, memo: str | None = None) -> LedgerTransaction:
    """Record a budget tranche (予算措置) for a fiscal year into the agency's available balance."""
    agency = _agency(session, agency_code)
    if actor is not None:
        _require_staff(actor, agency)
    fy = rules.check_fiscal_year(fiscal_year)
    yen = rules.parse_yen(amount)
    when = value_date or (_today(now) if rules.fiscal_year_of(_today(now)) == fy else rules.fiscal_year_bounds(fy)[0])
    rules.check_date_in_fiscal_year(when, fy)
    return _post(session, agency=agency, kind=TransactionKind.TRANCHE, amount=yen, fiscal_year=fy, value_date=when,
                 project_id=None, memo=clean_text(memo, "memo", max_length=1000, required=False) or None, now=now,
                 actor=actor)


def _project_for_ledger(session: Session, project_id: int, actor: Principal | None) -> tuple[Project, Agency]:
    project = repo.project_by_id(session, project_id)
    if project is None:
        raise NotFound("プロジェクトが見つかりません / project not found")
    agency = repo.agency_by_id(session, project.agency_id)
    assert agency is not None
    if actor is not None and not policy.is_agency_staff(actor, agency.organization_id):
        _visible_project(session, project, actor)  # 404 for people who may not know it
        raise Forbidden(f"{agency.code} の担当者のみ操作できます / Only {agency.code} staff may do this")
    return project, agency


def commit_funds(session: Session, *, project_id: int, fiscal_year: int, amount: object, now: datetime,
                 actor: Principal | None, memo: str | None = None) -> LedgerTransaction:
    """Commit (配分決定) part of a project's plan for a fiscal year from the agency's available balance."""
    project, agency = _project_for_ledger(session, project_id, actor)
    if project.state != ProjectState.ACTIVE:
        raise Conflict(f"このプロジェクトは操作できない状態です（{project.state}） / the project is {project.state}", field="project_id")
    fy = rules.check_fiscal_year(fiscal_year)
    yen = rules.parse_yen(amount)
    plan = {b.fiscal_year: b.amount for b in repo.budget(session, project.proposal_id)}
    if fy not in plan:
        raise ValidationFailed(f"{fy}年度はプロジェクトの経費計画にありません / FY{fy} is not in the project's budget plan ({', '.join(f'FY{y}' for y in plan)})",
                               field="fiscal_year")
    already = repo.committed_in_year(session, project.id, fy)
    if already + yen > plan[fy]:
        raise Conflict(f"計画額を超えます（{fy}年度の配分予定額 {rules.format_yen(already + yen)}、計画額 {rules.format_yen(plan[fy])}） / "
                       f"commitment for FY{fy} would reach {rules.format_yen(already + yen)}, above the plan's {rules.format_yen(plan[fy])}", field="amount")
    # The commitment is dated the (JST) day it is decided; ``fiscal_year`` says which year's plan it draws on.
    # Dating it at that year's first day put a commitment entered on 6 December into the next April (issue 14).
    return _post(session, agency=agency, kind=TransactionKind.COMMITMENT, amount=yen, fiscal_year=fy,
                 value_date=_today(now), project_id=project.id, memo=memo, now=now, actor=actor)


def release_commitment(session: Session, *, project_id: int, fiscal_year: int, amount: object, now: datetime,
                       actor: Principal | None, memo: str | None = None) -> LedgerTransaction:
    """Give back an unpaid commitment (配分取消) to the agency's available balance."""
    project, agency = _project_for_ledger(session, project_id, actor)
    fy = rules.check_fiscal_year(fiscal_year)
    yen = rules.parse_yen(amount)
    if yen > repo.committed_in_year(session, project.id, fy):
        raise Conflict(f"{fy}年度の配分予定額は {rules.format_yen(repo.committed_in_year(session, project.id, fy))} しかありません / "
                       f"only {rules.format_yen(repo.committed_in_year(session, project.id, fy))} is committed for FY{fy}", field="amount")
    return _post(session, agency=agency, kind=TransactionKind.RELEASE, amount=yen, fiscal_year=fy,
                 value_date=_today(now), project_id=project.id, memo=memo, now=now, actor=actor)


def follow_plan(session: Session, *, project: Project, targets: Mapping[int, int], plan: Mapping[int, int],
                now: datetime, actor: Principal, memo: str) -> list[LedgerTransaction]:
    """Bring the project's commitments per fiscal year to ``targets`` (a plan change moved money between years).

    ``plan`` is each fiscal year's plan total after the change: no year may fall below what was already paid in
    it (F3; checked per year, since the project's unpaid balance of another year would hide it). Releases are
    posted before commitments so a move inside the committed money never needs fresh fund; the rest must fit the
    agency's available balance, which is never overdrawn (F3). A change the fund cannot cover, or that would move
    money already paid out, is refused with a 409 and audited; the unit of work rolls back the plan change with
    it, so nothing changes.
    """
    agency = repo.agency_by_id(session, project.agency_id)
    assert agency is not None
    held = repo.committed_by_year(session, project.id)
    releases = {fy: held.get(fy, 0) - yen for fy, yen in targets.items() if yen < held.get(fy, 0)}
    commits = {fy: yen - held.get(fy, 0) for fy, yen in targets.items() if yen > held.get(fy, 0)}
    unpaid = _balance(session, rules.account_key(agency.code, "committed", project.id))
    available = _balance(session, rules.account_key(agency.code, "available"))
    paid = repo.disbursed_by_year(session, project.id)
    overpaid = sorted(fy for fy, yen in paid.items() if plan.get(fy, 0) < yen)
    refusal = None
    if overpaid:
        fy = overpaid[0]
        refusal = Conflict(f"支払済みの額は他の年度へ移せません（{fiscal_year_label(fy)}の支払済額 "
                           f"{rules.format_yen(paid[fy])}、変更後の計画額 {rules.format_yen(plan.get(fy, 0))}） / "
                           f"money already paid cannot move to another year ({fiscal_year_label(fy, 'en')}: paid "
                           f"{rules.format_yen(paid[fy])}, plan after the change {rules.format_yen(plan.get(fy, 0))})",
                           field="decision")
    elif sum(releases.values()) > unpaid:
        refusal = Conflict(f"支払済みの額は他の年度へ移せません（未払の配分額 {rules.format_yen(unpaid)}） / money already "
                           f"paid cannot move to another year (unpaid commitment {rules.format_yen(unpaid)})",
                           field="decision")
    elif sum(commits.values()) > available + sum(releases.values()):
        years = "・".join(fiscal_year_label(fy) for fy in sorted(commits))
        need = sum(commits.values()) - sum(releases.values())
        refusal = Conflict(f"{years}の配分に必要な{rules.format_yen(need)}が基金の配分可能残高"
                           f"（{rules.format_yen(available)}）を超えるため承認できません / the fund's available balance "
                           f"({rules.format_yen(available)}) cannot cover the {rules.format_yen(need)} this change "
                           "commits to the target year; record a tranche first", field="decision")
    if refusal is not None:
        audit.refuse(session, refusal, AuditTag.PROGRAMME_PLAN_CHANGE_REFUSED, now=now, actor=actor,
                     subject=f"project:{project.id}", data={"releases": {str(k): v for k, v in releases.items()},
                                                            "commitments": {str(k): v for k, v in commits.items()},
                                                            "available": available, "unpaid": unpaid,
                                                            "paid": {str(k): v for k, v in paid.items()}})
    posted = [_post(session, agency=agency, kind=TransactionKind.RELEASE, amount=yen, fiscal_year=fy,
                    value_date=_today(now), project_id=project.id, memo=memo, now=now, actor=actor)
              for fy, yen in sorted(releases.items())]
    return posted + [_post(session, agency=agency, kind=TransactionKind.COMMITMENT, amount=yen, fiscal_year=fy,
                           value_date=_today(now), project_id=project.id, memo=memo, now=now, actor=actor)
                     for fy, yen in sorted(commits.items())]


def _balance(session: Session, key: str) -> int:
    account = repo.account_by_key(session, key)
    return account.balance if account is not None else 0


def disburse(session: Session, *, project_id: int, amount: object, now: datetime, actor: Principal | None,
             councils: CouncilGateway, memo: str | None = None) -> LedgerTransaction:
    """Pay (支払) from the project's commitment; refused until the project's council is established (C2)."""
    project, agency = _project_for_ledger(session, project_id, actor)
    if project.state != ProjectState.ACTIVE:
        raise Conflict(f"このプロジェクトは操作できない状態です（{project.state}） / the project is {project.state}", field="project_id")
    yen = rules.parse_yen(amount)
    # C2: no disbursement before the council is established.
    if project.council_id is None or not councils.is_established(session, project.council_id):
        refused = Conflict("協議会の設置前は支払できません（C2） / "
                           "the project's council is not established yet; no disbursement before it is (C2)", field="project_id")
        # A refused payment is a security-relevant event (A1): audited, then raised; the caller commits
        # the entry alone (audit.was_audited).
        audit.refuse(session, refused, AuditTag.PROGRAMME_DISBURSEMENT_REFUSED, now=now, actor=actor,
                     subject=f"project:{project.id}", data={"amount": yen, "council_id": project.council_id})
    return _post(session, agency=agency, kind=TransactionKind.DISBURSEMENT, amount=yen,
                 fiscal_year=rules.fiscal_year_at(now), value_date=_today(now), project_id=project.id, memo=memo,
                 now=now, actor=actor)


def record_return(session: Session, *, project_id: int, amount: object, now: datetime, actor: Principal | None,
                  memo: str | None = None) -> LedgerTransaction:
    """Record money returned (返還) by a project; it goes back to the agency's available balance."""
    _, agency = _project_for_ledger(session, project_id, actor)
    yen = rules.parse_yen(amount)
    return _post(session, agency=agency, kind=TransactionKind.RETURN, amount=yen,
                 fiscal_year=rules.fiscal_year_at(now), value_date=_today(now), project_id=project_id, memo=memo,
                 now=now, actor=actor)


@dataclass(frozen=True)
class AccountLine:
    """One account in the reconciliation: cached balance and the sum of its postings."""

    key: str
    kind: str
    project_id: int | None
    balance: int
    postings_sum: int

    @property
    def ok(self) -> bool:
        """Return True when the cached balance equals the postings and is not overdrawn."""
        non_negative = self.kind == AccountKind.SOURCE or self.balance >= 0
        return self.balance == self.postings_sum and non_negative


@dataclass(frozen=True)
class YearLine:
    """Totals of one agency and fiscal year by transaction kind."""

    fiscal_year: int
    tranche: int = 0
    commitment: int = 0
    release: int = 0
    disbursement: int = 0
    returned: int = 0


@dataclass
class AgencyReconciliation:
    """One agency's ledger reconciliation (照合)."""

    agency: str
    accounts: list[AccountLine]
    years: list[YearLine]
    received: int  # tranches received (= − source balance)
    available: int
    committed: int
    disbursed: int

    @property
    def sums_to_zero(self) -> bool:
        """Return True when all the agency's account balances sum to zero (double entry)."""
        return sum(a.balance for a in self.accounts) == 0

    @property
    def identity_holds(self) -> bool:
        """Return True when received = available + committed + disbursed."""
        return self.received == self.available + self.committed + self.disbursed


@dataclass
class Reconciliation:
    """The whole fund's reconciliation report."""

    agencies: list[AgencyReconciliation]
    unbalanced_transactions: list[tuple[int, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when every check passes."""
        return not self.unbalanced_transactions and all(
            a.sums_to_zero and a.identity_holds and all(line.ok for line in a.accounts) for a in self.agencies)


def reconcile(session: Session, *, actor: Principal | None, agency_code: str | None = None) -> Reconciliation:
    """Recompute every balance from the postings and check double entry and the fund identity."""
    sums = repo.posting_sums_by_account(session)
    agencies = [_agency(session, agency_code)] if agency_code else repo.agencies(session)
    if actor is not None:
        agencies = [a for a in agencies if policy.is_agency_staff(actor, a.organization_id)]
        if agency_code and not agencies:
            raise Forbidden("この台帳の閲覧権限がありません / You may not read this ledger")
    result: list[AgencyReconciliation] = []
    for agency in agencies:
        lines = [AccountLine(a.key, a.kind, a.project_id, a.balance, sums.get(a.id, 0))
                 for a in repo.accounts_of(session, agency.id)]
        by_year: dict[int, dict[str, int]] = {}
        for fy, kind, amount in repo.totals_by_year(session, agency.id):
            by_year.setdefault(fy, {})[kind] = amount
        years = [YearLine(fy, t.get("tranche", 0), t.get("commitment", 0), t.get("release", 0),
                          t.get("disbursement", 0), t.get("return", 0)) for fy, t in sorted(by_year.items())]

        def _sum(kind: str, lines: list[AccountLine] = lines) -> int:
            return sum(a.balance for a in lines if a.kind == kind)

        result.append(AgencyReconciliation(
            agency=agency.code, accounts=lines, years=years, received=-_sum("source"),
            available=_sum("available"), committed=_sum("committed"), disbursed=_sum("disbursed")))
    return Reconciliation(agencies=result, unbalanced_transactions=repo.unbalanced_transactions(session))


def list_transactions(session: Session, *, agency_code: str, actor: Principal,
                      fiscal_year: int | None = None) -> list[LedgerTransaction]:
    """Return an agency's ledger transactions (its staff only)."""
    agency = _agency(session, agency_code)
    _require_staff(actor, agency)
    return repo.transactions(session, agency_id=agency.id, fiscal_year=fiscal_year)


# ---------------------------------------------------------------------------------------------
# Calls (F3)


@dataclass(frozen=True)
class DocumentInput:
    """A document reference: a title and a file name or URL, optionally its SHA-256."""

    title: str
    filename: str | None = None
    url: str | None = None
    sha256: str | None = None


def _add_documents(session: Session, owner_kind: str, owner_id: int, docs: Sequence[DocumentInput],
                   now: datetime) -> None:
    for i, doc in enumerate(docs):
        title = clean_text(doc.title, f"documents[{i}].title", max_length=300, line=True)
        if not (doc.filename or doc.url):
            raise ValidationFailed(f"documents[{i}]: ファイル名か URL を入力してください / documents[{i}]: give a file name or a URL", field="documents")
        if doc.url and not doc.url.startswith(("https://", "http://")):
            raise ValidationFailed(f"documents[{i}]: URL は http:// か https:// で始めてください / documents[{i}]: URL must start with http(s)://", field="documents")
        if doc.sha256 and not _SHA_RE.match(doc.sha256):
            raise ValidationFailed(f"documents[{i}]: sha256 は小文字の16進数64桁です / documents[{i}]: sha256 must be 64 lower-case hex digits", field="documents")
        session.add(Document(owner_kind=owner_kind, owner_id=owner_id, title=title, filename=doc.filename,
                             url=doc.url, sha256=doc.sha256, created_at=now))


def create_call(
    session: Session,
    *,
    agency_code: str,
    code: str,
    title_ja: str,
    title_en: str,
    project_type: str,
    technology_codes: Sequence[str],
    cap_yen: object,
    first_fiscal_year: int,
    period_years: int,
    opens_at: datetime,
    closes_at: datetime,
    officer_id: int,
    now: datetime,
    actor: Principal | None,
    description: str = "",
    rubric: Sequence[Mapping[str, Any]] | None = None,
    documents: Sequence[DocumentInput] = (),
    indirect_rate_percent: int = 30,
) -> Call:
    """Create a call (公募) in draft; the agency's staff publish it."""
    agency = _agency(session, agency_code)
    if actor is not None:
        _require_staff(actor, agency)
    code_v = (code or "").strip()
    if not _CODE_RE.match(code_v):
        raise ValidationFailed("code は英数字と . _ - の 1〜40 文字で入力してください / code: 1–40 letters, digits, '.', '_' or '-'", field="code")
    if repo.call_by_code(session, code_v) is not None:
        raise Conflict(f"コード {code_v!r} の公募は既にあります / a call with code {code_v!r} already exists", field="code")
    try:
        ptype = ProjectType(project_type)
    except ValueError:
        raise ValidationFailed(f"研究の型はプロジェクト型（project）か個別研究型（individual）から選んでください / "
                               f"project_type must be one of {', '.join(p.value for p in ProjectType)}", field="project_type") from None
    techs = [c.strip() for c in technology_codes if c.strip()]
    if not techs:
        raise ValidationFailed("ビジョンの技術を1つ以上指定してください / a call names at least one vision technology", field="technology_codes")
    unknown = [c for c in techs if repo.technology_by_code(session, c) is None]
    if unknown:
        raise ValidationFailed(f"技術コードが登録されていません（{', '.join(unknown)}） / unknown technology code(s): {', '.join(unknown)}", field="technology_codes")
    cap = rules.parse_yen(cap_yen, field="cap_yen")
    fy = rules.check_fiscal_year(first_fiscal_year, field="first_fiscal_year")
    if isinstance(period_years, bool) or not isinstance(period_years, int) or not 1 <= period_years <= 10:
        raise ValidationFailed("研究期間は1〜10年です / period_years must be 1–10", field="period_years")
    rules.check_call_window(_aware(opens_at, "opens_at"), _aware(closes_at, "closes_at"))
    officer = accounts_repo.user_by_id(session, officer_id)
    if officer is None or not policy.can_be_call_officer(roles=officer.roles, is_active=officer.is_active):
        raise ValidationFailed("担当官には有効な所管省庁の担当官を指定してください / officer_id must be an active ministry officer", field="officer_id")
    call = Call(
        code=code_v, agency_id=agency.id, title_ja=clean_text(title_ja, "title_ja", max_length=300, line=True),
        title_en=clean_text(title_en, "title_en", max_length=300, required=False, line=True) or title_ja.strip(),
        description=clean_text(description, "description", max_length=20000, required=False), project_type=ptype.value,
        technology_codes=techs, cap_yen=cap, first_fiscal_year=fy, period_years=period_years, opens_at=opens_at,
        closes_at=closes_at, rubric=rules.check_rubric(rubric or rules.DEFAULT_RUBRIC), officer_id=officer.id,
        indirect_rate_percent=budget.check_rate(indirect_rate_percent),
        state=CallState.DRAFT.value, created_by_id=actor.user_id if actor else None, created_at=now, updated_at=now,
    )
    session.add(call)
    session.flush()
    _add_documents(session, "call", call.id, documents, now)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_CALL_CREATE, now=now, actor=actor, subject=f"call:{call.id}",
           data={"code": call.code, "agency": agency.code, "cap_yen": cap, "project_type": ptype.value,
                 "technologies": techs})
    return call


def _call_for_staff(session: Session, call_id: int, actor: Principal | None) -> tuple[Call, Agency]:
    call = repo.call_by_id(session, call_id)
    if call is None:
        raise NotFound("公募が見つかりません / call not found")
    agency = repo.agency_by_id(session, call.agency_id)
    assert agency is not None
    if actor is not None:
        require_visible(policy.can_see_call(actor, state=call.state, agency_org_id=agency.organization_id), "call")
        _require_staff(actor, agency)
    return call, agency


def publish_call(session: Session, *, call_id: int, now: datetime, actor: Principal | None) -> Call:
    """Publish a draft call; proposals are accepted between its open and close times."""
    call, _ = _call_for_staff(session, call_id, actor)
    if call.state != CallState.DRAFT:
        raise Conflict(f"この公募は既にその状態です（{call.state}） / the call is already {call.state}", field="state")
    call.state = CallState.PUBLISHED.value
    call.updated_at = now
    _audit(session, AuditTag.PROGRAMME_CALL_PUBLISH, now=now, actor=actor, subject=f"call:{call.id}")
    return call


def get_call(session: Session, *, call_id: int, actor: Principal) -> Call:
    """Return a call the actor may see (404 otherwise)."""
    call = repo.call_by_id(session, call_id)
    agency = repo.agency_by_id(session, call.agency_id) if call else None
    require_visible(call is not None and agency is not None and policy.can_see_call(
        actor, state=call.state, agency_org_id=agency.organization_id), "call")
    assert call is not None
    return call


def list_calls(session: Session, *, actor: Principal) -> list[Call]:
    """Return the calls the actor may see, newest first."""
    return repo.calls(session, policy.restrict_calls(select(Call).order_by(Call.id.desc()), actor))


def call_documents(session: Session, *, call_id: int, actor: Principal) -> list[Document]:
    """Return a visible call's documents."""
    get_call(session, call_id=call_id, actor=actor)
    return repo.documents(session, "call", call_id)


def add_panel_member(session: Session, *, call_id: int, user_id: int, now: datetime,
                     actor: Principal | None) -> PanelMember:
    """Put a reviewer (審査委員) on a call's panel."""
    call, _ = _call_for_staff(session, call_id, actor)
    user = accounts_repo.user_by_id(session, user_id)
    if user is None or not policy.is_panel_eligible(roles=user.roles, is_active=user.is_active):
        raise ValidationFailed("審査委員には審査員の役割を持つ有効な利用者を指定してください / panel members must be active users with the reviewer role", field="user_id")
    if repo.panel_member(session, call.id, user.id) is not None:
        raise Conflict("既に審査委員です / already on the panel", field="user_id")
    row = PanelMember(call_id=call.id, user_id=user.id, added_at=now)
    session.add(row)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_PANEL_ADD, now=now, actor=actor, subject=f"call:{call.id}",
           data={"user_id": user.id})
    return row


# ---------------------------------------------------------------------------------------------
# Proposals (F3, F4)


_RECEIPT_SUBJECT = "proposal:{id}"


def team_from_lines(session: Session, lines: Sequence[str]) -> list[TeamMemberInput]:
    """Return the team a form lists one a line: ``e-mail[, role[, e-Rad number[, effort %]]]`` (F6)."""
    rows = [[part.strip() for part in re.split(r"[,、\t]", line)] for line in lines if line.strip()]
    found = team_by_email(session, [row[0] for row in rows])
    team: list[TeamMemberInput] = []
    for i, (member, row) in enumerate(zip(found, rows, strict=True)):
        effort_text = row[3] if len(row) > 3 else ""
        if effort_text and not effort_text.removesuffix("%").strip().isdigit():
            raise ValidationFailed(f"team[{i}]: エフォートは1〜100の整数（%）です / effort is a whole percentage 1–100",
                                   field="team")
        team.append(replace(member, role=(row[1] if len(row) > 1 and row[1] else "member"),
                            researcher_number=(row[2] if len(row) > 2 and row[2] else None),
                            effort_percent=int(effort_text.removesuffix("%")) if effort_text else None))
    return team


def team_emails(session: Session, team: Sequence[TeamMemberInput]) -> list[str]:
    """Return a team as the form's lines (``e-mail, role, e-Rad number, effort``); members without an account
    are left out (the form names people by their e-mail)."""
    users = accounts_repo.users_by_id(session, {m.user_id for m in team if m.user_id is not None})
    return [", ".join([users[m.user_id].email, m.role, m.researcher_number or "",
                       str(m.effort_percent or "")]).rstrip(", ")
            for m in team if m.user_id is not None and m.user_id in users]


def team_by_email(session: Session, emails: Sequence[str]) -> list[TeamMemberInput]:
    """Return team members given by the e-mail addresses of active platform users (one look-up for all)."""
    wanted = [e.strip() for e in emails if e.strip()]
    found = accounts_repo.users_by_email(session, wanted)
    team: list[TeamMemberInput] = []
    for email in wanted:
        user = found.get(email)
        if user is None or not user.is_active:
            raise ValidationFailed(f"{email} は登録された利用者ではありません / {email} is not a registered user",
                                   field="team")
        team.append(TeamMemberInput(user_id=user.id))
    return team


def _standing(session: Session, proposal: Proposal, actor: Principal, now: datetime) -> policy.ProposalStanding:
    # The facts are loaded in one home, the gate (I12), for the proposal and its sealed documents alike.
    return gate.proposal_standing(session, actor, proposal, now)


@dataclass(frozen=True)
class ProposalInput:
    """What a proposer enters: text, the budget (a sheet in 千円 or a plan in yen), team and effort (F6)."""

    title: str
    summary: str = ""
    budget_sheet: Mapping[Any, Mapping[Any, object]] | None = None
    budget: Mapping[Any, Any] | None = None
    team: Sequence[TeamMemberInput] = ()
    lead_effort: int | None = None
    documents: Sequence[DocumentInput] = ()
    core_technologies: str | None = None
    leak_prevention: str | None = None
    disclosures: Sequence[integrity.DisclosureLine] = ()  # F6: other funding, affiliations, foreign support


@dataclass
class _Checked:
    """A proposal's content after every check, ready to write."""

    title: str
    summary: str
    sheet: budget.BudgetSheet
    total: int
    members: list[ProposalMember]
    core_technologies: str | None
    leak_prevention: str | None
    disclosures: list[integrity.DisclosureLine] = field(default_factory=list)


def _check_disclosures(lines: Sequence[integrity.DisclosureLine]) -> list[integrity.DisclosureLine]:
    """Check every disclosure line (F6); free text through ``clean_text`` like every other field."""
    checked = []
    for i, line in enumerate(lines):
        name = clean_text(line.name, f"disclosures[{i}].name", max_length=300, line=True)
        agency = clean_text(line.agency, f"disclosures[{i}].agency", max_length=200, line=True, required=False)
        number = budget.check_researcher_number(line.researcher_number, where=f"disclosures[{i}]")
        checked.append(integrity.check_disclosure(replace(line, name=name, agency=agency or None,
                                                          researcher_number=number or None), i))
    return checked


def _check(session: Session, call: Call, entered: ProposalInput, actor: Principal, *, submitting: bool) -> _Checked:
    """Check ``entered`` against the call (a submission also needs the F4 declaration); nothing is written."""
    title_v = clean_text(entered.title, "title", max_length=300, line=True)
    sheet = proposals.sheet_for(call, sheet=entered.budget_sheet, plan=entered.budget)
    total = proposals.check_sheet(call, sheet)
    if submitting:
        rules.check_declaration(sheet.plan(), entered.core_technologies, entered.leak_prevention)
    return _Checked(
        title=title_v, summary=clean_text(entered.summary, "summary", max_length=20000, required=False),
        sheet=sheet, total=total,
        members=proposals.build_team(session, actor, entered.team, lead_effort=entered.lead_effort),
        core_technologies=clean_text(entered.core_technologies, "core_technologies", max_length=20000,
                                     required=False) or None,
        leak_prevention=clean_text(entered.leak_prevention, "leak_prevention", max_length=20000,
                                   required=False) or None,
        disclosures=_check_disclosures(entered.disclosures))


def _write(session: Session, proposal: Proposal, checked: _Checked, documents: Sequence[DocumentInput],
           now: datetime) -> None:
    """Write checked content into ``proposal`` (added to the session), its sheet, team and documents."""
    proposal.title, proposal.summary, proposal.total_yen = checked.title, checked.summary, checked.total
    proposal.core_technologies, proposal.leak_prevention = checked.core_technologies, checked.leak_prevention
    session.flush()
    proposals.write_plan(session, proposal, checked.sheet, checked.members)
    _add_documents(session, "proposal", proposal.id, documents, now)
    _write_disclosures(session, proposal, checked.disclosures, now)
    session.flush()


def _disclosure_row(proposal: Proposal, line: integrity.DisclosureLine, user_id: int, now: datetime,
                    *, after_adoption: bool = False, change_reason: str | None = None) -> Disclosure:
    return Disclosure(proposal_id=proposal.id, user_id=user_id, researcher_number=line.researcher_number,
                      kind=line.kind, name=line.name, agency=line.agency, start_fiscal_year=line.start_fiscal_year,
                      end_fiscal_year=line.end_fiscal_year, amount_yen=line.amount_yen,
                      effort_percent=line.effort_percent, foreign=line.foreign, after_adoption=after_adoption,
                      change_reason=change_reason, declared_at=now)


def _write_disclosures(session: Session, proposal: Proposal, lines: Sequence[integrity.DisclosureLine],
                       now: datetime) -> None:
    """Replace the disclosure lines given with an editable proposal (changes after adoption are kept apart)."""
    repo.clear_disclosures(session, proposal.id)
    session.add_all([_disclosure_row(proposal, line, proposal.proposer_id, now) for line in lines])


def disclosure_lines(rows: Sequence[Disclosure]) -> list[integrity.DisclosureLine]:
    """Return stored disclosure rows as lines (for the form, the digest and the duplication check)."""
    return [integrity.DisclosureLine(kind=r.kind, name=r.name, agency=r.agency, researcher_number=r.researcher_number,
                                     start_fiscal_year=r.start_fiscal_year, end_fiscal_year=r.end_fiscal_year,
                                     amount_yen=r.amount_yen, effort_percent=r.effort_percent, foreign=r.foreign)
            for r in rows]


def _sign_integrity(session: Session, proposal: Proposal, actor: Principal, now: datetime) -> IntegritySignature:
    """Record the proposer's integrity declaration (誓約), signed with a verified second factor (F6, I7)."""
    if not actor.mfa:
        raise Forbidden("研究インテグリティに係る誓約には二要素認証が必要です / signing the integrity declaration needs "
                        "a verified second factor")
    lines = disclosure_lines([d for d in repo.disclosures(session, proposal.id) if not d.after_adoption])
    row = IntegritySignature(proposal_id=proposal.id, user_id=actor.user_id,
                             statement_version=integrity.STATEMENT_VERSION,
                             disclosures_digest=integrity.disclosures_digest(lines), method=actor.method.value,
                             signed_at=now)
    session.add(row)
    session.flush()
    return row  # audited in the submission's entry (programme:proposal:submit, ``integrity``)


def _open_call_for(session: Session, call_id: int, actor: Principal, now: datetime) -> Call:
    if not actor.has(Permission.PROGRAMME_PROPOSE):
        raise Forbidden("提案の権限がありません / You may not submit proposals")
    call = get_call(session, call_id=call_id, actor=actor)
    if call.state != CallState.PUBLISHED:
        raise Conflict("この公募は受付中ではありません / the call is not accepting proposals", field="call_id")
    rules.check_submission_time(opens_at=call.opens_at, closes_at=call.closes_at, now=now)
    return call


def _budget_data(sheet: budget.BudgetSheet) -> dict[str, Any]:
    return {"total_yen": sheet.total(), "budget": {str(k): v for k, v in sorted(sheet.plan().items())},
            "declaration": rules.declaration_required(sheet.plan())}


def _give_receipt(session: Session, proposal: Proposal, call: Call, now: datetime,
                  actor: Principal) -> dict[str, object]:
    """Sign the integrity declaration, give the receipt number (受付番号) and tell the proposer in the inbox and by
    e-mail (F6); return what the submission's audit entry records of the signature."""
    signature = _sign_integrity(session, proposal, actor, now)
    proposal.state = ProposalState.SUBMITTED.value
    proposal.submitted_at = now
    proposal.receipt_number = budget.receipt_number(fiscal_year=rules.fiscal_year_at(now), proposal_id=proposal.id)
    notifications.notify(
        session, recipient_ids=[proposal.proposer_id], kind="programme.proposal_received",
        title_ja=f"提案を受け付けました（受付番号 {proposal.receipt_number}）",
        title_en=f"Proposal received (receipt number {proposal.receipt_number})",
        body_ja=f"公募「{call.title_ja}」への提案「{proposal.title}」を受け付けました。受付番号: {proposal.receipt_number}。"
                "締切までは修正できます。",
        body_en=f"Your proposal \"{proposal.title}\" to the call \"{call.title_en}\" was received. Receipt number: "
                f"{proposal.receipt_number}. You may edit it until the call closes.",
        link=f"/programme/proposals/{proposal.id}", subject=_RECEIPT_SUBJECT.format(id=proposal.id), now=now,
        email_now=True)
    return {"integrity": {"statement": signature.statement_version, "digest": signature.disclosures_digest,
                          "method": signature.method}}


def save_proposal(session: Session, *, call_id: int, entered: ProposalInput, now: datetime, actor: Principal,
                  draft: bool = False) -> Proposal:
    """Create a proposal to an open call: a draft (一時保存) or submitted at once; checked before anything stays."""
    call = _open_call_for(session, call_id, actor, now)
    if repo.live_proposal_of(session, call.id, actor.user_id) is not None:
        raise Conflict("この公募には提出済み（または一時保存中）の提案があります / you already submitted a proposal (or "
                       "saved a draft) to this call; edit it, or withdraw it to start again", field="call_id")
    checked = _check(session, call, entered, actor, submitting=not draft)
    proposal = Proposal(call_id=call.id, proposer_id=actor.user_id, organization_id=actor.organization_id,
                        title=checked.title, summary="", state=ProposalState.DRAFT.value, total_yen=0,
                        submitted_at=now, withdrawn_at=None, updated_at=now)
    session.add(proposal)
    _write(session, proposal, checked, entered.documents, now)
    sheet = checked.sheet
    signed: dict[str, object] = {}
    if draft:
        tag = AuditTag.PROGRAMME_PROPOSAL_DRAFT
    else:
        signed = _give_receipt(session, proposal, call, now, actor)
        tag = AuditTag.PROGRAMME_PROPOSAL_SUBMIT
    session.flush()
    _audit(session, tag, now=now, actor=actor, subject=f"proposal:{proposal.id}",
           data={"call_id": call.id, **_budget_data(sheet), "team": len(entered.team) + 1,
                 "receipt_number": proposal.receipt_number, "disclosures": len(checked.disclosures), **signed})
    return proposal


def submit_proposal(
    session: Session,
    *,
    call_id: int,
    title: str,
    budget: Mapping[Any, Any] | None = None,
    now: datetime,
    actor: Principal,
    summary: str = "",
    team: Sequence[TeamMemberInput] = (),
    documents: Sequence[DocumentInput] = (),
    core_technologies: str | None = None,
    leak_prevention: str | None = None,
    budget_sheet: Mapping[Any, Mapping[Any, object]] | None = None,
    lead_effort: int | None = None,
    disclosures: Sequence[integrity.DisclosureLine] = (),
) -> Proposal:
    """Submit a proposal to an open call at once (no draft); every rule is checked before anything is written."""
    entered = ProposalInput(title=title, summary=summary, budget=budget, budget_sheet=budget_sheet, team=team,
                            lead_effort=lead_effort, documents=documents, core_technologies=core_technologies,
                            leak_prevention=leak_prevention, disclosures=disclosures)
    return save_proposal(session, call_id=call_id, entered=entered, now=now, actor=actor)


def _own_editable(session: Session, proposal_id: int, actor: Principal, now: datetime) -> tuple[Proposal, Call]:
    """Return the actor's own proposal while it may still change: a draft or submitted, before the close."""
    proposal = repo.proposal_for_update(session, proposal_id)
    if proposal is None:
        raise NotFound("提案が見つかりません / proposal not found")
    standing = _standing(session, proposal, actor, now)
    require_visible(policy.can_see_proposal(actor, standing), "proposal")
    call = repo.call_by_id(session, proposal.call_id)
    assert call is not None
    if not policy.can_edit_proposal(actor, standing):
        if proposal.proposer_id != actor.user_id:
            raise Forbidden("提案を修正・提出できるのは研究代表者のみです / only the proposer may edit or submit a proposal")
        if standing.call_closed:
            raise Conflict(f"締切（{to_jst(call.closes_at).isoformat()} JST）を過ぎたため変更できません / the call "
                           "closed; the proposal can no longer change", field="state")
        raise Conflict(f"この提案は変更できません（{proposal.state}） / the proposal is {proposal.state}", field="state")
    return proposal, call


def update_proposal(session: Session, *, proposal_id: int, entered: ProposalInput, now: datetime,
                    actor: Principal) -> Proposal:
    """Replace a draft's or (before the close) a submitted proposal's content; every edit is audited (F6)."""
    proposal, call = _own_editable(session, proposal_id, actor, now)
    before = proposal.total_yen
    checked = _check(session, call, entered, actor, submitting=proposal.state == ProposalState.SUBMITTED)
    proposal.updated_at = now
    _write(session, proposal, checked, entered.documents, now)
    sheet = checked.sheet
    signed: dict[str, object] = {}
    if proposal.state == ProposalState.SUBMITTED:
        # F6: the signature covers the lines as submitted; an edit before the close is signed again.
        row = _sign_integrity(session, proposal, actor, now)
        signed = {"integrity": {"statement": row.statement_version, "digest": row.disclosures_digest,
                                "method": row.method}}
    _audit(session, AuditTag.PROGRAMME_PROPOSAL_UPDATE, now=now, actor=actor, subject=f"proposal:{proposal.id}",
           data={"state": proposal.state, "total_yen_before": before, **_budget_data(sheet), **signed})
    return proposal


def submit_draft(session: Session, *, proposal_id: int, now: datetime, actor: Principal) -> Proposal:
    """Submit a confirmed draft (確認画面の後の提出): the F4 declaration is checked and a receipt number given."""
    proposal, call = _own_editable(session, proposal_id, actor, now)
    if proposal.state != ProposalState.DRAFT:
        raise Conflict(f"提出済みです（受付番号 {proposal.receipt_number}） / already submitted", field="state")
    _open_call_for(session, call.id, actor, now)
    sheet = proposals.stored_sheet(session, proposal, call)
    proposals.check_sheet(call, sheet)
    rules.check_declaration(sheet.plan(), proposal.core_technologies, proposal.leak_prevention)
    proposal.updated_at = now
    signed = _give_receipt(session, proposal, call, now, actor)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_PROPOSAL_SUBMIT, now=now, actor=actor, subject=f"proposal:{proposal.id}",
           data={"call_id": call.id, **_budget_data(sheet), "receipt_number": proposal.receipt_number, **signed})
    return proposal


def proposal_input(session: Session, *, proposal_id: int, actor: Principal, now: datetime) -> ProposalInput:
    """Return a proposal's content as input (for the edit form and the Excel import that keeps the rest)."""
    proposal, call = _own_editable(session, proposal_id, actor, now)
    sheet = proposals.stored_sheet(session, proposal, call)
    lead = next((m for m in repo.members(session, proposal.id) if m.role == "lead"), None)
    return ProposalInput(title=proposal.title, summary=proposal.summary, budget_sheet=budget.as_entered(sheet),
                         team=proposals.team_of(session, proposal), lead_effort=lead.effort_percent if lead else None,
                         core_technologies=proposal.core_technologies, leak_prevention=proposal.leak_prevention,
                         disclosures=disclosure_lines([d for d in repo.disclosures(session, proposal.id)
                                                       if not d.after_adoption]))


def budget_workbook(session: Session, *, proposal_id: int, actor: Principal, now: datetime) -> bytes:
    """Return a proposal's budget sheet as .xlsx (for whoever may see the proposal; a reviewer's read is audited)."""
    view = get_proposal(session, proposal_id=proposal_id, actor=actor, now=now)
    return budget_excel.write_sheet(view.sheet, title=view.proposal.title,
                                    receipt_number=view.proposal.receipt_number)


def import_budget(session: Session, *, proposal_id: int, data: bytes, now: datetime, actor: Principal) -> Proposal:
    """Replace an editable proposal's budget sheet by an uploaded workbook; the rest of the proposal is kept."""
    entered = proposal_input(session, proposal_id=proposal_id, actor=actor, now=now)
    raw = budget_excel.read_sheet(data)
    return update_proposal(session, proposal_id=proposal_id, entered=replace(entered, budget_sheet=raw), now=now,
                           actor=actor)


def _visible_proposal(session: Session, proposal_id: int, actor: Principal,
                      now: datetime) -> tuple[Proposal, policy.ProposalStanding]:
    proposal = repo.proposal_by_id(session, proposal_id)
    if proposal is None:
        raise NotFound("提案が見つかりません / proposal not found")
    standing = _standing(session, proposal, actor, now)
    require_visible(policy.can_see_proposal(actor, standing), "proposal")
    return proposal, standing


def withdraw_proposal(session: Session, *, proposal_id: int, now: datetime, actor: Principal) -> Proposal:
    """Withdraw one's own proposal before the panel decides."""
    proposal, _ = _visible_proposal(session, proposal_id, actor, now)
    if proposal.proposer_id != actor.user_id:
        raise Forbidden("提案を取り下げられるのは提案者のみです / only the proposer may withdraw a proposal")
    if proposal.state != ProposalState.SUBMITTED:
        raise Conflict(f"この提案は操作できない状態です（{proposal.state}） / the proposal is {proposal.state}", field="state")
    proposal.state = ProposalState.WITHDRAWN.value
    proposal.withdrawn_at = now
    proposal.updated_at = now
    _audit(session, AuditTag.PROGRAMME_PROPOSAL_WITHDRAW, now=now, actor=actor, subject=f"proposal:{proposal.id}")
    return proposal


@dataclass
class ProposalView:
    """A proposal with its team, budget plan, documents and (for staff) scores."""

    proposal: Proposal
    call: Call
    team: list[ProposalMember]
    budget: list[BudgetLine]
    documents: list[Document]
    declaration_required: bool
    sheet: BudgetSheet = field(default_factory=BudgetSheet)  # fiscal year × category (F6)
    scores: list[Score] = field(default_factory=list)
    decision: PanelDecision | None = None
    standing: policy.ProposalStanding | None = None  # the reader's standing the access decision rested on
    internal_reason: bool = False  # F6: the panel's own reason is the staff's; applicants get the notice's reasons


def get_proposal(session: Session, *, proposal_id: int, actor: Principal, now: datetime) -> ProposalView:
    """Return a proposal the actor may see (404 otherwise); reviewers' reads are audited (I8)."""
    proposal, standing = _visible_proposal(session, proposal_id, actor, now)
    call = repo.call_by_id(session, proposal.call_id)
    assert call is not None
    lines = repo.budget(session, proposal.id)
    view = ProposalView(proposal=proposal, call=call, team=repo.members(session, proposal.id), budget=lines,
                        sheet=proposals.stored_sheet(session, proposal, call),
                        documents=repo.documents(session, "proposal", proposal.id),
                        declaration_required=rules.declaration_required({b.fiscal_year: b.amount for b in lines}),
                        decision=repo.decision(session, proposal.id), standing=standing)
    if policy.is_agency_staff(actor, standing.agency_org_id):
        view.internal_reason = True
        view.scores = repo.scores(session, proposal.id)
    elif policy.can_review(actor, standing):
        own = repo.score(session, proposal.id, actor.user_id)
        view.scores = [own] if own else []
    if not policy.is_applicant(actor, standing):
        _audit(session, AuditTag.PROGRAMME_PROPOSAL_READ, now=now, actor=actor, subject=f"proposal:{proposal.id}")
    return view


def list_proposals(session: Session, *, actor: Principal, now: datetime,
                   call_id: int | None = None) -> list[Proposal]:
    """Return the proposals the actor may see (applicants: their own; staff: their agency's submitted ones;
    reviewers: cleared ones, after the close)."""
    return repo.proposals(session, policy.visible_proposals(actor, now=now, call_id=call_id))


def review_queue(session: Session, *, actor: Principal, call_id: int | None = None) -> list[Proposal]:
    """Return the proposals a panel reviewer may declare conflicts on (title and organisation only)."""
    stmt = select(Proposal).where(Proposal.state.not_in([ProposalState.WITHDRAWN.value, ProposalState.DRAFT.value]))
    stmt = stmt.order_by(Proposal.id)
    if call_id is not None:
        stmt = stmt.where(Proposal.call_id == call_id)
    return repo.proposals(session, policy.restrict_declarable(stmt, actor))


# ---------------------------------------------------------------------------------------------
# Review


def declare_conflict(session: Session, *, proposal_id: int, has_conflict: bool | None, now: datetime,
                     actor: Principal, reason: str | None = None,
                     grounds: Sequence[str] | None = None) -> ConflictDeclaration:
    """Declare (利益相反申告) whether one has a conflict of interest with a proposal, with its grounds (organisation,
    co-authorship or joint project, family/supervisor, competing applicant); final once made (F6)."""
    proposal = repo.proposal_by_id(session, proposal_id)
    if proposal is None:
        raise NotFound("提案が見つかりません / proposal not found")
    standing = _standing(session, proposal, actor, now)
    require_visible(policy.can_declare_conflict(actor, standing), "proposal")
    if standing.conflict is not None:
        raise Conflict("この提案の利益相反は申告済みです / you have already declared for this proposal",
                       field="has_conflict")
    has_conflict, grounds_v = integrity.check_grounds(grounds, has_conflict=has_conflict)
    reason_v = clean_text(reason, "reason", max_length=2000, required=has_conflict) or None
    row = ConflictDeclaration(proposal_id=proposal.id, reviewer_id=actor.user_id, has_conflict=has_conflict,
                              reason=reason_v, declared_at=now, grounds=grounds_v)
    session.add(row)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_CONFLICT_DECLARE, now=now, actor=actor, subject=f"proposal:{proposal.id}",
           data={"has_conflict": has_conflict, "grounds": grounds_v})
    return row


def score_proposal(session: Session, *, proposal_id: int, scores: Mapping[str, object], now: datetime,
                   actor: Principal, comment: str | None = None) -> Score:
    """Score a proposal against the call's rubric (an unconflicted panel reviewer; replaces an earlier score)."""
    proposal = repo.proposal_by_id(session, proposal_id)
    if proposal is None:
        raise NotFound("提案が見つかりません / proposal not found")
    standing = _standing(session, proposal, actor, now)
    require_visible(policy.can_review(actor, standing) or policy.can_see_proposal(actor, standing), "proposal")
    if not policy.can_review(actor, standing):
        raise Forbidden("採点できるのは利益相反のない審査委員のみです / only panel reviewers without a conflict of interest may score")
    if proposal.state != ProposalState.SUBMITTED:
        raise Conflict(f"この提案の採点は締め切られています（{proposal.state}） / the proposal is {proposal.state}; scoring is closed", field="state")
    call = repo.call_by_id(session, proposal.call_id)
    assert call is not None
    total = rules.weighted_score(call.rubric, scores)
    row = repo.score(session, proposal.id, actor.user_id)
    if row is None:
        row = Score(proposal_id=proposal.id, reviewer_id=actor.user_id, scores={}, total=0.0, submitted_at=now)
        session.add(row)
    row.scores = {str(k): int(v) for k, v in scores.items()}  # type: ignore[call-overload]
    row.total = total
    row.comment = clean_text(comment, "comment", max_length=5000, required=False) or None
    row.submitted_at = now
    session.flush()
    _audit(session, AuditTag.PROGRAMME_PROPOSAL_SCORE, now=now, actor=actor, subject=f"proposal:{proposal.id}",
           data={"total": total})
    return row


def decide(session: Session, *, proposal_id: int, outcome: str, reason: str, now: datetime, actor: Principal,
           councils: CouncilGateway, notice_reason: str | None = None) -> PanelDecision:
    """Record the panel decision and tell the applicants (採否通知, inbox and e-mail) with the reasons the agency
    chooses to give (``notice_reason``; the panel's own ``reason`` stays internal); adoption (採択) creates the
    project and opens its council (C2)."""
    proposal = repo.proposal_for_update(session, proposal_id)
    if proposal is None:
        raise NotFound("提案が見つかりません / proposal not found")
    standing = _standing(session, proposal, actor, now)
    require_visible(policy.can_see_proposal(actor, standing), "proposal")
    if not policy.can_manage_call(actor, standing.agency_org_id):
        raise Forbidden("審査結果を登録できるのは配分機関の担当者のみです / only the agency's staff record panel decisions")
    try:
        result = Outcome(outcome)
    except ValueError:
        raise ValidationFailed("outcome は「採択」か「不採択」から選んでください / outcome must be adopt or reject", field="outcome") from None
    if proposal.state != ProposalState.SUBMITTED:
        raise Conflict(f"この提案は操作できない状態です（{proposal.state}） / the proposal is {proposal.state}", field="state")
    call = repo.call_by_id(session, proposal.call_id)
    assert call is not None
    if now <= call.closes_at:
        raise Conflict("締切後に審査結果を登録してください / decisions are made after the call closes", field="state")
    reason_v = clean_text(reason, "reason", max_length=5000)
    notice_v = clean_text(notice_reason, "notice_reason", max_length=3000, required=False) or None
    all_scores = repo.scores(session, proposal.id)
    if result is Outcome.ADOPT and not all_scores:
        raise Conflict("採点が1件もない提案は採択できません / a proposal is adopted only after at least one review score", field="outcome")
    mean = round(sum(s.total for s in all_scores) / len(all_scores), 3) if all_scores else None
    row = PanelDecision(proposal_id=proposal.id, outcome=result.value, reason=reason_v, mean_score=mean,
                        notice_reason=notice_v, decided_by_id=actor.user_id, decided_at=now)
    session.add(row)
    proposal.state = (ProposalState.ADOPTED if result is Outcome.ADOPT else ProposalState.REJECTED).value
    proposal.updated_at = now
    session.flush()
    _audit(session, AuditTag.PROGRAMME_DECISION_RECORD, now=now, actor=actor, subject=f"proposal:{proposal.id}",
           data={"outcome": result.value, "mean_score": mean})
    if result is Outcome.ADOPT:
        _create_project(session, proposal=proposal, call=call, now=now, actor=actor, councils=councils)
    _notify_decision(session, proposal, call, row, standing, now, actor)
    return row


def _notify_decision(session: Session, proposal: Proposal, call: Call, decision: PanelDecision,
                     standing: policy.ProposalStanding, now: datetime, actor: Principal) -> None:
    """Send the adoption or rejection notice (採択・不採択通知) to the applicants, inbox and e-mail (F6).

    Only the applicants receive it, and it says only what they may know: their own proposal's outcome and the
    reasons the agency chose to give — never scores, reviewers' names or comments.
    """
    adopted = decision.outcome == Outcome.ADOPT
    word_ja, word_en = ("採択", "adopted") if adopted else ("不採択", "not adopted")
    given_ja = f"\n理由: {decision.notice_reason}" if decision.notice_reason else ""
    given_en = f"\nReasons: {decision.notice_reason}" if decision.notice_reason else ""
    recipients = [standing.proposer_id, *sorted(standing.team_user_ids)]
    notifications.notify(
        session, recipient_ids=recipients, kind="programme.proposal_decided",
        title_ja=f"審査結果のお知らせ: {word_ja}（受付番号 {proposal.receipt_number}）",
        title_en=f"Review result: {word_en} (receipt number {proposal.receipt_number})",
        body_ja=f"公募「{call.title_ja}」への提案「{proposal.title}」は{word_ja}となりました。{given_ja}",
        body_en=f"Your proposal \"{proposal.title}\" to the call \"{call.title_en}\" was {word_en}.{given_en}",
        link=f"/programme/proposals/{proposal.id}", subject=_RECEIPT_SUBJECT.format(id=proposal.id), now=now,
        email_now=True)
    _audit(session, AuditTag.PROGRAMME_DECISION_NOTICE, now=now, actor=actor, subject=f"proposal:{proposal.id}",
           data={"outcome": decision.outcome, "recipients": len(set(recipients)),
                 "reasons_given": decision.notice_reason is not None})


# ---------------------------------------------------------------------------------------------
# Projects (C2)


# issue 13: a project's council may be proposed again once its current council lapsed or was dissolved


def _create_project(session: Session, *, proposal: Proposal, call: Call, now: datetime, actor: Principal,
                    councils: CouncilGateway) -> Project:
    plan = {b.fiscal_year: b.amount for b in repo.budget(session, proposal.id)}
    required = rules.declaration_required(plan)
    project = Project(
        proposal_id=proposal.id, call_id=call.id, agency_id=call.agency_id, title=proposal.title,
        lead_id=proposal.proposer_id, organization_id=proposal.organization_id, council_id=None,
        state=ProjectState.ACTIVE.value, declaration_required=required,
        declaration_review_due=rules.add_months(_today(now), rules.DECLARATION_REVIEW_MONTHS) if required else None,
        adopted_at=now, updated_at=now,
    )
    session.add(project)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_PROJECT_CREATE, now=now, actor=actor, subject=f"project:{project.id}",
           data={"proposal_id": proposal.id, "call_id": call.id, "declaration_required": required})
    report_schedule.ensure_schedule(session, project, now=now)  # F6: the results reports it owes
    # C2: adoption opens the council proposal automatically (必置).
    _open_council(session, project=project, call=call, now=now, actor=actor, councils=councils)
    return project


def _open_council(session: Session, *, project: Project, call: Call, now: datetime, actor: Principal,
                  councils: CouncilGateway) -> int:
    """Propose the project's council and link the project to it (C2; issue 13: typed founders).

    Founders: the research representative (the project lead) and the team (required, C1), the call's officer as
    proposer, the agency staff member acting, and the think tank's contact when the officer's ministry has a
    commission at work.
    """
    researchers = sorted(_project_team(session, project) | {project.lead_id})
    others: dict[int, str] = {}
    if policy.is_agency_staff(actor, None):
        others[actor.user_id] = "funding_agency"
    officer = accounts_repo.user_by_id(session, call.officer_id)
    tank = None if officer is None else repo.think_tank_contact(session, officer.organization_id)
    if tank is not None:
        others[tank] = "think_tank"
    council_id = councils.open_for_project(
        session, project_id=project.id, title=project.title,
        purpose=f"K Program 研究開発プロジェクト「{project.title}」の伴走支援（経済安全保障推進法第62条）",
        technology=", ".join(call.technology_codes) or None, founders=researchers, proposer_id=call.officer_id,
        now=now, actor=actor, representative_id=project.lead_id, others=others)
    previous = project.council_id
    project.council_id = council_id  # issue 13: the project follows its newest council; the old one stays on record
    project.updated_at = now
    _audit(session, AuditTag.PROGRAMME_PROJECT_COUNCIL_OPEN, now=now, actor=actor, subject=f"project:{project.id}",
           data={"council_id": council_id, "proposer_id": call.officer_id, "founders": researchers,
                 "representative_id": project.lead_id, "others": {str(k): v for k, v in others.items()},
                 "previous_council_id": previous})
    return council_id


def repropose_council(session: Session, *, project_id: int, now: datetime, actor: Principal,
                      councils: CouncilGateway) -> int:
    """Propose a project's council again after it lapsed or was dissolved (issue 13; C2: no payment before it).

    The call's officer or the agency's staff may; the project then links to the new council, the old one stays
    lapsed (or dissolved) and listed on the project page.
    """
    project = _visible_project(session, repo.project_by_id(session, project_id), actor)
    call = repo.call_by_id(session, project.call_id)
    agency = repo.agency_by_id(session, project.agency_id)
    assert call is not None and agency is not None
    history = councils.councils_of_project(session, project.id)
    if not _may_repropose(session, project, actor, history):
        current = next((c for c in history if c.council_id == project.council_id), None)
        if current is not None and policy.may_propose_project_council(actor, officer_id=call.officer_id,
                                                                      agency_org_id=agency.organization_id):
            raise Conflict(f"現在の協議会（#{current.council_id}）は「{current.state}」です。不成立又は解散した協議会のみ"
                           f"再提案できます / the current council #{current.council_id} is {current.state}; only a "
                           "lapsed or dissolved council can be proposed again", field="council_id")
        raise Forbidden("公募の担当官又は資金配分機関の担当者のみが協議会を再提案できます / only the call's officer or "
                        "the agency's staff may propose the council again")
    return _open_council(session, project=project, call=call, now=now, actor=actor, councils=councils)


def _project_team(session: Session, project: Project) -> frozenset[int]:
    return frozenset(m.user_id for m in repo.members(session, project.proposal_id) if m.user_id is not None)


def _visible_project(session: Session, project: Project | None, actor: Principal) -> Project:
    if project is None:
        raise NotFound("プロジェクトが見つかりません / project not found")
    call = repo.call_by_id(session, project.call_id)
    agency = repo.agency_by_id(session, project.agency_id)
    assert call is not None and agency is not None
    require_visible(policy.can_see_project(actor, team_user_ids=_project_team(session, project) | {project.lead_id},
                                           officer_id=call.officer_id, agency_org_id=agency.organization_id),
                    "project")
    return project


@dataclass
class ProjectView:
    """A project with its milestones, ledger position and council state."""

    project: Project
    milestones: list[Milestone]
    plan: dict[int, int]
    committed: int
    disbursed: int
    council_established: bool
    declaration_reviews: list[DeclarationReview]
    # issue 13: every council proposed for the project (the current one last) and whether the reader may
    # propose it again now (the current council lapsed or was dissolved; the call's officer or agency staff)
    councils: list[ProjectCouncil] = field(default_factory=list)
    may_repropose: bool = False


def get_project(session: Session, *, project_id: int, actor: Principal, councils: CouncilGateway) -> ProjectView:
    """Return a project the actor may see (404 otherwise)."""
    project = _visible_project(session, repo.project_by_id(session, project_id), actor)
    agency = repo.agency_by_id(session, project.agency_id)
    assert agency is not None
    committed = repo.account_by_key(session, rules.account_key(agency.code, "committed", project.id))
    disbursed = repo.account_by_key(session, rules.account_key(agency.code, "disbursed", project.id))
    history = councils.councils_of_project(session, project.id)
    return ProjectView(
        project=project, milestones=repo.milestones(session, project.id),
        plan={b.fiscal_year: b.amount for b in repo.budget(session, project.proposal_id)},
        committed=committed.balance if committed else 0, disbursed=disbursed.balance if disbursed else 0,
        council_established=project.council_id is not None and councils.is_established(session, project.council_id),
        declaration_reviews=repo.declaration_reviews(session, project.id),
        councils=history, may_repropose=_may_repropose(session, project, actor, history),
    )


def _may_repropose(session: Session, project: Project, actor: Principal, history: list[ProjectCouncil]) -> bool:
    call = repo.call_by_id(session, project.call_id)
    agency = repo.agency_by_id(session, project.agency_id)
    assert call is not None and agency is not None
    current = next((c for c in history if c.council_id == project.council_id), None)
    return policy.can_repropose_council(actor, officer_id=call.officer_id, agency_org_id=agency.organization_id,
                                        current_state=None if current is None else current.state)


def list_projects(session: Session, *, actor: Principal) -> list[Project]:
    """Return the projects the actor may see."""
    return repo.projects(session, policy.restrict_projects(select(Project).order_by(Project.id), actor))


def _staff_project(session: Session, project_id: int, actor: Principal) -> Project:
    project = _visible_project(session, repo.project_by_id(session, project_id), actor)
    agency = repo.agency_by_id(session, project.agency_id)
    assert agency is not None
    _require_staff(actor, agency)
    return project


def project_for_reader(session: Session, project_id: int, actor: Principal) -> Project:
    """Return the project when ``actor`` may see it (team, the call's officer, the agency's staff); else 404."""
    return _visible_project(session, repo.project_by_id(session, project_id), actor)


def project_for_staff(session: Session, project_id: int, actor: Principal) -> Project:
    """Return the project when ``actor`` is its agency's staff (others who see it: 403; the rest: 404)."""
    return _staff_project(session, project_id, actor)


def add_milestone(session: Session, *, project_id: int, title: str, due_on: date, now: datetime,
                  actor: Principal) -> Milestone:
    """Add a milestone (the agency's staff); it must fall within the project's plan period."""
    project = _staff_project(session, project_id, actor)
    plan = sorted(b.fiscal_year for b in repo.budget(session, project.proposal_id))
    first, last = rules.fiscal_year_bounds(plan[0])[0], rules.fiscal_year_bounds(plan[-1])[1]
    if not first <= due_on <= last:
        raise ValidationFailed(f"期限 {due_on.isoformat()} が研究開発期間（{first.isoformat()}〜{last.isoformat()}）外です / "
                               f"due_on {due_on.isoformat()} is outside the project period {first.isoformat()}..{last.isoformat()}", field="due_on")
    row = Milestone(project_id=project.id, title=clean_text(title, "title", max_length=300, line=True), due_on=due_on,
                    status=MilestoneStatus.PLANNED.value, created_at=now)
    session.add(row)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_MILESTONE_ADD, now=now, actor=actor, subject=f"project:{project.id}",
           data={"milestone_id": row.id, "due_on": due_on.isoformat()})
    return row


def set_milestone_status(session: Session, *, project_id: int, milestone_id: int, status: str, now: datetime,
                         actor: Principal, note: str | None = None) -> Milestone:
    """Mark a milestone achieved or missed (stage-gate evaluation by the agency's staff)."""
    project = _staff_project(session, project_id, actor)
    row = repo.milestone(session, project.id, milestone_id)
    require_visible(row is not None, "milestone")
    assert row is not None
    try:
        value = MilestoneStatus(status)
    except ValueError:
        raise ValidationFailed("status は「予定」「達成」「未達」から選んでください / status must be planned, achieved or missed", field="status") from None
    row.status = value.value
    row.note = clean_text(note, "note", max_length=5000, required=False) or None
    row.achieved_at = now if value is MilestoneStatus.ACHIEVED else None
    _audit(session, AuditTag.PROGRAMME_MILESTONE_UPDATE, now=now, actor=actor, subject=f"project:{project.id}",
           data={"milestone_id": row.id, "status": value.value})
    return row


def review_declaration(session: Session, *, project_id: int, outcome: str, note: str, now: datetime,
                       actor: Principal) -> DeclarationReview:
    """Record the periodic review of a project's F4 declaration and set the next due date."""
    project = _staff_project(session, project_id, actor)
    if not project.declaration_required:
        raise Conflict("このプロジェクトの計画は年間10億円未満のため、確認する申告がありません / "
                "this project's plan stays below ¥1bn a year; it has no declaration to review",
                       field="project_id")
    if outcome not in ("adequate", "needs_action"):
        raise ValidationFailed("outcome は「適切」か「要対応」から選んでください / outcome must be adequate or needs_action", field="outcome")
    next_due = rules.add_months(_today(now), rules.DECLARATION_REVIEW_MONTHS)
    row = DeclarationReview(project_id=project.id, outcome=outcome, note=clean_text(note, "note", max_length=5000),
                            reviewer_id=actor.user_id, reviewed_at=now, next_due=next_due)
    session.add(row)
    project.declaration_review_due = next_due
    project.declaration_reminder_sent = None  # F4: the next review is reminded afresh
    project.updated_at = now
    session.flush()
    _audit(session, AuditTag.PROGRAMME_DECLARATION_REVIEW, now=now, actor=actor, subject=f"project:{project.id}",
           data={"outcome": outcome, "next_due": next_due.isoformat()})
    return row
