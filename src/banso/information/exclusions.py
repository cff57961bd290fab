"""Exclusion claims (秘密情報の除外, issue 13): a participant claims that an item or an oral statement is outside
*their own* duty because it was already public (公知), independently developed (独自開発), lawfully received from a
third party (第三者から適法に取得) or known before (既知).

How a claim is decided — by the secretariat, confirmed by the chair (two people, neither the claimant), not by a
unanimous ballot: a claim is a finding of fact about one person's evidence, not a change of what the council
shares. A ballot (I4) would hand every voter, the provider included, a veto over another's duty and would
show the claimant's evidence to all voters, including those the item's designation keeps out; the two-person
decision keeps the evidence with the people who can already read the item (I7, I12) and leaves a record
of who found what (A1).

A claim is personal: an accepted claim frees only the claimant; the content stays confidential for everyone
else and its access does not change. Evidence (text, and optionally a file validated fully at upload and
sealed under the council's key, I11) is read only by council-content readers who can read the claimed item
or statement, through the same gate (I7, I12); every read and copy is audited and every copy stamped (I8).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz import gate
from banso.authz.guard import require_visible
from banso.authz.policies import councils as council_policy
from banso.authz.policies.councils import Standing
from banso.authz.principal import Principal
from banso.councils import repository as council_repo
from banso.councils import rules as council_rules
from banso.councils import service as councils
from banso.councils import statements
from banso.councils.models import Council, OralStatement
from banso.information import notices, service
from banso.information import repository as repo
from banso.information.content import subject_of
from banso.information.models import (
    ExclusionClaim,
    ExclusionGround,
    ExclusionState,
    Item,
    ItemState,
    Provenance,
)
from banso.kit.errors import BansoError, Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.text import clean_text
from banso.sealed import store as sealed
from banso.sealed.models import SealedKind
from banso.sealed.store import SealedDeps
from banso.sealed.uploads import safe_filename

_audit = audit.record_for
_refuse = audit.refuse

OPEN_STATES = frozenset({ExclusionState.FILED, ExclusionState.PROPOSED})
GROUND_JA = {"public": "公知", "independent": "独自開発", "third_party": "第三者から適法に取得", "prior": "既知（提供前から保有）"}
STATE_JA = {"filed": "申出中", "proposed": "事務局判断済み・議長確認待ち", "accepted": "除外を認める（申出者のみ）",
            "rejected": "除外を認めない", "withdrawn": "取下げ"}


def evidence_label(claim_id: int) -> str:
    """Return the associated-data label of a claim's sealed evidence text."""
    return f"exclusion-evidence:{claim_id}"


@dataclass(frozen=True)
class ClaimView:
    """A claim as one reader sees it: evidence opened, and the service's decisions for this reader."""

    claim: ExclusionClaim
    evidence: str
    may_decide: bool = False
    may_confirm: bool = False
    may_withdraw: bool = False


@dataclass(frozen=True)
class _Target:
    council: Council
    standing: Standing
    item: Item | None
    statement: OralStatement | None

    @property
    def subject(self) -> str:
        return subject_of(self.item) if self.item is not None else f"council:{self.council.id}"


def _item_target(session: Session, item_id: int, actor: Principal, now: datetime) -> _Target:
    """Load an item a council-content reader may read (I7: 404 otherwise, audited for the signed-in)."""
    access = service.open_item(session, item_id, actor, now=now)
    standing, council = access.standing, access.council
    if council is None:
        council = council_repo.council_by_id(session, access.item.council_id)
    # The evidence is council content: a public item's reader outside the council learns nothing of claims.
    require_visible(standing is not None and council is not None
                    and council_policy.can_read_content(actor, standing), "information item")
    assert standing is not None and council is not None
    return _Target(council=council, standing=standing, item=access.item, statement=None)


def _statement_target(session: Session, council_id: int, statement_id: int, actor: Principal) -> _Target:
    council, row = statements.statement_for_claim(session, council_id=council_id, statement_id=statement_id,
                                                  actor=actor)
    return _Target(council=council, standing=councils.standing_of(session, council, actor.user_id), item=None,
                   statement=row)


def _under_duty(target: _Target, now: datetime) -> str | None:
    """Return why the target is not under anyone's duty (nothing to be excluded from), or None."""
    if target.item is not None:
        if target.item.state == ItemState.PUBLIC:
            return "公開済みの情報です / the item is public"
        if target.item.provenance == Provenance.RESEARCHER_GENERATED:
            return "研究者自らが生み出した成果は守秘義務の対象外です / a researcher-generated result is outside the duty"
        return None
    row = target.statement
    assert row is not None
    state = council_rules.statement_state(stated_confidential=row.stated_confidential,
                                          designated_at=row.designated_at, deadline=row.designation_deadline, now=now)
    if state in (council_rules.StatementState.NOT_CONFIDENTIAL, council_rules.StatementState.OUTSIDE):
        return "この発言は守秘義務の対象外です / the statement is outside the duty"
    return None


def _existing(session: Session, target: _Target, claimant_id: int) -> ExclusionClaim | None:
    found = repo.claims_on(session, item_id=target.item.id if target.item else None,
                           statement_id=target.statement.id if target.statement else None, claimant_id=claimant_id,
                           states=[*OPEN_STATES, ExclusionState.ACCEPTED])
    return found[0] if found else None


def file_claim(session: Session, *, actor: Principal, now: datetime, ground: str, evidence: str,
               store: SealedDeps, item_id: int | None = None, council_id: int | None = None,
               statement_id: int | None = None, file: councils.UploadedFile | None = None) -> ClaimView:
    """Claim that an item (``item_id``) or an oral statement (``council_id`` + ``statement_id``) is outside the
    claimant's own duty, with evidence; the file is validated fully (O1) and sealed (I11)."""
    if (item_id is None) == (statement_id is None or council_id is None):
        raise ValidationFailed("対象は、項目（item_id）か会議体と発言（council_id と statement_id）のどちらか一方を指定してください / name either "
                               "item_id, or council_id and statement_id", field="item_id")
    target = (_item_target(session, item_id, actor, now) if item_id is not None
              else _statement_target(session, council_id or 0, statement_id or 0, actor))
    why: BansoError | None = None
    owner = target.item.provider_id if target.item is not None else (target.statement.speaker_id
                                                                        if target.statement else None)
    if not council_policy.can_claim_exclusion(actor, target.standing):
        why = Forbidden("除外を申し出られるのは協議会の参加者のみです / only council members may claim an exclusion")
    elif owner == actor.user_id:
        why = Conflict("自ら提供した情報・自らの発言について除外を申し出ることはできません / you cannot claim an exclusion "
                       "for what you provided or said yourself")
    elif (outside := _under_duty(target, now)) is not None:
        why = Conflict(outside)
    elif _existing(session, target, actor.user_id) is not None:
        why = Conflict("この対象について審査中又は認められた申出があります / you already have an open or accepted claim "
                       "for this")
    if why is not None:
        _refuse(session, why, AuditTag.INFO_EXCLUSION_REFUSED, now=now, actor=actor, subject=target.subject,
                data={"step": "file", "statement_id": statement_id})
    try:
        kind = ExclusionGround(ground)
    except ValueError:
        raise ValidationFailed("除外の理由を公知・独自開発・第三者から適法に取得・既知から選んでください / choose the "
                               "ground: public, independent, third_party or prior", field="ground") from None
    text = clean_text(evidence, "evidence", max_length=20_000)
    checked = None if file is None else councils._kind_of(file)  # validated before the unit began (O4)
    claim = ExclusionClaim(
        council_id=target.council.id, item_id=target.item.id if target.item else None,
        statement_id=target.statement.id if target.statement else None, claimant_id=actor.user_id,
        claimant_org_id=actor.organization_id, ground=kind.value, state=ExclusionState.FILED.value,
        evidence_sealed=b"", evidence_sha256=council_rules.sha256_text(text), created_at=now)
    session.add(claim)
    session.flush()
    scope = sealed.council_scope(target.council.id)
    claim.evidence_sealed = sealed.seal_text(store, scope, text, label=evidence_label(claim.id))
    if file is not None and checked is not None:
        digest = hashlib.sha256(file.data).hexdigest()
        envelope = sealed.seal_file(store, scope, file.data,
                                    label=sealed.file_label(SealedKind.EXCLUSION_EVIDENCE, digest))
        claim.file_name, claim.file_type, claim.file_size = safe_filename(file.filename), checked.content_type, len(
            file.data)
        claim.file_sha256, claim.file_blob, claim.file_wrapped_key = digest, envelope.blob, envelope.wrapped_key
    session.flush()
    # A1 with ids and hashes only: the evidence is council content and stays out of the log.
    _audit(session, AuditTag.INFO_EXCLUSION_FILE, now=now, actor=actor, subject=target.subject,
           data={"claim_id": claim.id, "council_id": claim.council_id, "statement_id": claim.statement_id,
                 "ground": claim.ground, "evidence_sha256": claim.evidence_sha256, "file_sha256": claim.file_sha256})
    notices.exclusion_filed(session, claim=claim, item=target.item, now=now)
    return ClaimView(claim=claim, evidence=text, may_withdraw=True)


def _claim(session: Session, claim_id: int, actor: Principal, now: datetime) -> tuple[ExclusionClaim, _Target]:
    """Return a claim and its target for a reader of the target (404 otherwise: I7, I12)."""
    claim = repo.claim_by_id(session, claim_id)
    if claim is None:
        raise NotFound("申出が見つかりません / claim not found")
    target = (_item_target(session, claim.item_id, actor, now) if claim.item_id is not None
              else _statement_target(session, claim.council_id, claim.statement_id or 0, actor))
    return claim, target


def decide_claim(session: Session, *, claim_id: int, actor: Principal, now: datetime, store: SealedDeps, decision: str,
                 reason: str) -> ClaimView:
    """The secretariat decides a filed claim (``accept`` or ``reject``, with a reason); the chair confirms it."""
    claim, target = _claim(session, claim_id, actor, now)
    if not council_policy.can_decide_exclusion(actor, target.standing, claimant_id=claim.claimant_id):
        _refuse(session, Forbidden("申出を判断できるのは事務局（申出者以外）のみです / only the secretariat (not the "
                                   "claimant) decides a claim"), AuditTag.INFO_EXCLUSION_REFUSED, now=now,
                actor=actor, subject=target.subject, data={"claim_id": claim.id, "step": "decide"})
    if claim.state != ExclusionState.FILED:
        raise Conflict(f"判断できるのは申出中の申出のみです（現在: {STATE_JA[claim.state]}） / only a filed claim can be "
                       f"decided; it is {claim.state}")
    if decision not in ("accept", "reject"):
        raise ValidationFailed("decision は「認める」か「認めない」から選んでください / decision must be accept or reject",
                               field="decision")
    claim.decision = decision
    claim.decision_reason = clean_text(reason, "reason", max_length=5000)
    claim.decided_by_id, claim.decided_at = actor.user_id, now
    claim.state = ExclusionState.PROPOSED.value
    session.flush()
    _audit(session, AuditTag.INFO_EXCLUSION_DECIDE, now=now, actor=actor, subject=target.subject,
           data={"claim_id": claim.id, "decision": decision,
                 "reason_sha256": council_rules.sha256_text(claim.decision_reason)})
    notices.exclusion_decided(session, claim=claim, item=target.item, now=now)
    return _view(session, store, claim, target, actor=actor, now=now)


def confirm_claim(session: Session, *, claim_id: int, actor: Principal, now: datetime, store: SealedDeps, confirm: bool) -> ClaimView:
    """The chair confirms the secretariat's decision (the claim is settled) or sends it back to be decided again."""
    claim, target = _claim(session, claim_id, actor, now)
    if not council_policy.can_confirm_exclusion(actor, target.standing, claimant_id=claim.claimant_id,
                                                decided_by_id=claim.decided_by_id):
        _refuse(session, Forbidden("確認できるのは議長（申出者・判断者以外）のみです / only the chair (neither the "
                                   "claimant nor the decider) confirms"), AuditTag.INFO_EXCLUSION_REFUSED, now=now,
                actor=actor, subject=target.subject, data={"claim_id": claim.id, "step": "confirm"})
    if claim.state != ExclusionState.PROPOSED:
        raise Conflict(f"確認できるのは事務局が判断した申出のみです（現在: {STATE_JA[claim.state]}） / only a decided "
                       f"claim can be confirmed; it is {claim.state}")
    if confirm:
        claim.state = (ExclusionState.ACCEPTED if claim.decision == "accept" else ExclusionState.REJECTED).value
        claim.confirmed_by_id, claim.confirmed_at = actor.user_id, now
    else:  # sent back: the secretariat decides again
        claim.state, claim.decision, claim.decided_by_id, claim.decided_at = ExclusionState.FILED.value, None, None, None
    session.flush()
    _audit(session, AuditTag.INFO_EXCLUSION_CONFIRM, now=now, actor=actor, subject=target.subject,
           data={"claim_id": claim.id, "confirmed": confirm, "state": claim.state, "claimant_id": claim.claimant_id})
    notices.exclusion_settled(session, claim=claim, item=target.item, now=now)
    return _view(session, store, claim, target, actor=actor, now=now)


def withdraw_claim(session: Session, *, claim_id: int, actor: Principal, now: datetime, store: SealedDeps) -> ClaimView:
    """The claimant withdraws a claim not yet settled."""
    claim, target = _claim(session, claim_id, actor, now)
    if claim.claimant_id != actor.user_id:
        raise Forbidden("申出を取り下げられるのは申出者のみです / only the claimant may withdraw a claim")
    if claim.state not in OPEN_STATES:
        raise Conflict(f"確定した申出は取り下げられません（現在: {STATE_JA[claim.state]}） / a settled claim cannot be "
                       f"withdrawn; it is {claim.state}")
    claim.state = ExclusionState.WITHDRAWN.value
    session.flush()
    _audit(session, AuditTag.INFO_EXCLUSION_WITHDRAW, now=now, actor=actor, subject=target.subject,
           data={"claim_id": claim.id})
    return _view(session, store, claim, target, actor=actor, now=now)


def _view(session: Session, store: SealedDeps, claim: ExclusionClaim, target: _Target, *, actor: Principal,
          now: datetime) -> ClaimView:
    evidence = sealed.open_text(session, store, sealed.council_scope(claim.council_id), claim.evidence_sealed,
                                label=evidence_label(claim.id), actor=actor, now=now,
                                refusal=sealed.Refusal(tag=AuditTag.COUNCIL_INTEGRITY_FAILED, subject=target.subject,
                                                       data={"claim_id": claim.id}))
    return ClaimView(
        claim=claim, evidence=evidence,
        may_decide=claim.state == ExclusionState.FILED and council_policy.can_decide_exclusion(
            actor, target.standing, claimant_id=claim.claimant_id),
        may_confirm=claim.state == ExclusionState.PROPOSED and council_policy.can_confirm_exclusion(
            actor, target.standing, claimant_id=claim.claimant_id, decided_by_id=claim.decided_by_id),
        may_withdraw=claim.state in OPEN_STATES and claim.claimant_id == actor.user_id)


def get_claim(session: Session, *, claim_id: int, actor: Principal, now: datetime, store: SealedDeps) -> ClaimView:
    """Return one claim with its evidence for a reader of the claimed item or statement (read audited, I8)."""
    claim, target = _claim(session, claim_id, actor, now)
    view = _view(session, store, claim, target, actor=actor, now=now)
    _audit(session, AuditTag.INFO_EXCLUSION_READ, now=now, actor=actor, subject=target.subject,
           data={"claim_ids": [claim.id]})
    return view


def _list(session: Session, store: SealedDeps, target: _Target, claims: list[ExclusionClaim], *, actor: Principal,
          now: datetime) -> list[ClaimView]:
    views = [_view(session, store, c, target, actor=actor, now=now) for c in claims]
    if views:
        _audit(session, AuditTag.INFO_EXCLUSION_READ, now=now, actor=actor, subject=target.subject,
               data={"claim_ids": [v.claim.id for v in views]})
    return views


def item_claims(session: Session, *, item_id: int, actor: Principal, now: datetime,
                store: SealedDeps) -> list[ClaimView]:
    """Return the claims on an item for a council-content reader of the item (404 otherwise; read audited)."""
    target = _item_target(session, item_id, actor, now)
    rows = repo.claims_on(session, item_id=item_id)
    return _list(session, store, target, rows, actor=actor, now=now)


def statement_claims(session: Session, *, council_id: int, statement_id: int, actor: Principal, now: datetime,
                     store: SealedDeps) -> list[ClaimView]:
    """Return the claims on an oral statement for a council-content reader (404 otherwise; read audited)."""
    target = _statement_target(session, council_id, statement_id, actor)
    rows = repo.claims_on(session, statement_id=statement_id)
    return _list(session, store, target, rows, actor=actor, now=now)


def excluded_for(session: Session, *, user_id: int, item_id: int | None = None,
                 statement_id: int | None = None) -> ExclusionClaim | None:
    """Return the accepted claim that takes this item or statement outside ``user_id``'s duty, if any (personal)."""
    found = repo.claims_on(session, item_id=item_id, statement_id=statement_id, claimant_id=user_id,
                           states=[ExclusionState.ACCEPTED.value])
    return found[0] if found else None


def read_evidence_file(session: Session, *, claim_id: int, actor: Principal, now: datetime,
                       store: SealedDeps) -> sealed.Copy:
    """Return the claim's evidence file stamped for ``actor`` (readers of the target only); recorded, audited (I8)."""
    def decide() -> tuple[ExclusionClaim, _Target]:
        claim, target = _claim(session, claim_id, actor, now)
        if claim.file_blob is None or claim.file_wrapped_key is None or claim.file_sha256 is None:
            raise NotFound("証拠ファイルがありません / the claim has no evidence file")
        return claim, target

    def opened(found: tuple[ExclusionClaim, _Target]) -> sealed.Original:
        claim, target = found
        assert claim.file_blob and claim.file_wrapped_key and claim.file_sha256
        scope = sealed.council_scope(claim.council_id)
        data = sealed.open_file(session, store, scope,
                                sealed.Envelope(wrapped_key=claim.file_wrapped_key, blob=claim.file_blob),
                                label=sealed.file_label(SealedKind.EXCLUSION_EVIDENCE, claim.file_sha256),
                                actor=actor, now=now,
                                refusal=sealed.Refusal(tag=AuditTag.COUNCIL_INTEGRITY_FAILED, subject=target.subject,
                                                       data={"claim_id": claim.id}))
        return sealed.Original(kind=SealedKind.EXCLUSION_EVIDENCE, object_id=claim.id, scope=scope,
                               filename=claim.file_name or "evidence", content_type=claim.file_type or "",
                               data=data, label=f"除外申出の証拠 #{claim.id}")

    (claim, target), copy, dist = sealed.copy_in_steps(session, store, actor=actor, now=now, decide=decide,
                                                       open_original=opened)
    _audit(session, AuditTag.INFO_EXCLUSION_DOWNLOAD, now=now, actor=actor, subject=target.subject,
           data={"claim_id": claim.id, "sha256": claim.file_sha256, "distribution_id": dist.id,
                 "channel": dist.channel})
    return copy


@dataclass(frozen=True)
class ItemExclusions:
    """What the item page shows of exclusions: the claims, the reader's own accepted one, and whether they may
    claim (the service's decisions; the page decides nothing)."""

    claims: list[ClaimView]
    mine: ExclusionClaim | None
    may_claim: bool


def item_exclusions(session: Session, *, item: Item, standing: Standing | None, council: Council | None,
                    actor: Principal, now: datetime, store: SealedDeps) -> ItemExclusions | None:
    """Return the item page's exclusions for a council-content reader of the item; None for anyone else (a reader
    of a public item outside the council sees no claims, I7).

    ``item``, ``standing`` and ``council`` are what the gate loaded for the page (I12): the claims on the item are
    one more statement, and the reader's own open or accepted claim is found among them (the page's statement
    budget, tests/information/test_statement_budget.py).
    """
    if standing is None or not council_policy.can_read_content(actor, standing):
        return None
    council = council if council is not None else council_repo.council_by_id(session, item.council_id)
    assert council is not None
    target = _Target(council=council, standing=standing, item=item, statement=None)
    rows = repo.claims_on(session, item_id=item.id)
    mine, may = _own(target, rows, owner_id=item.provider_id, actor=actor, now=now)
    return ItemExclusions(claims=_list(session, store, target, rows, actor=actor, now=now), mine=mine, may_claim=may)


def _own(target: _Target, rows: list[ExclusionClaim], *, owner_id: int | None, actor: Principal,
         now: datetime) -> tuple[ExclusionClaim | None, bool]:
    """Return the reader's own accepted claim among ``rows`` and whether they may file one: the same checks, in
    the same order, as :func:`file_claim` makes (pages and the API share one decision)."""
    own = [c for c in rows if c.claimant_id == actor.user_id]
    existing = next((c for c in own if c.state in (*OPEN_STATES, ExclusionState.ACCEPTED)), None)
    mine = next((c for c in own if c.state == ExclusionState.ACCEPTED), None)
    may = (council_policy.can_claim_exclusion(actor, target.standing) and owner_id != actor.user_id
           and _under_duty(target, now) is None and existing is None)
    return mine, may


@dataclass(frozen=True)
class StatementExclusions:
    """What an oral statement's page shows (issue 13): the statement as the reader sees it, the claims on it, the
    reader's own accepted claim and whether they may claim (the service's decisions; the page decides nothing)."""

    council: Council
    statement: statements.StatementView
    claims: list[ClaimView]
    mine: ExclusionClaim | None
    may_claim: bool


def statement_exclusions(session: Session, *, council_id: int, statement_id: int, actor: Principal, now: datetime,
                         store: SealedDeps) -> StatementExclusions:
    """Return an oral statement with its exclusion claims for a council-content reader (404 otherwise, I7; the
    statement read and the claims read are audited, I8)."""
    council, standing, view = statements.open_statement(session, council_id=council_id, statement_id=statement_id,
                                                        actor=actor, now=now, store=store)
    target = _Target(council=council, standing=standing, item=None, statement=view.row)
    rows = repo.claims_on(session, statement_id=view.row.id)
    mine, may = _own(target, rows, owner_id=view.row.speaker_id, actor=actor, now=now)
    return StatementExclusions(council=council, statement=view, claims=_list(session, store, target, rows, actor=actor, now=now),
                               mine=mine, may_claim=may)


@dataclass(frozen=True)
class Awaiting:
    """A claim waiting for ``actor``: to decide (secretariat) or to confirm (chair); the item when on an item."""

    claim: ExclusionClaim
    item: Item | None
    step: str  # "decide" or "confirm"


def awaiting(session: Session, *, actor: Principal, standings: dict[int, Standing]) -> list[Awaiting]:
    """Return the claims ``actor`` may decide or confirm now in the councils whose standing is given (the home's
    tasks); a claim on an item only when the actor may read the item (I7: the task names it)."""
    found: list[Awaiting] = []
    for claim in repo.open_claims_in(session, sorted(standings)):
        where = standings[claim.council_id]
        if claim.state == ExclusionState.FILED:
            step, ok = "decide", council_policy.can_decide_exclusion(actor, where, claimant_id=claim.claimant_id)
        else:
            step, ok = "confirm", council_policy.can_confirm_exclusion(actor, where, claimant_id=claim.claimant_id,
                                                                        decided_by_id=claim.decided_by_id)
        if not ok:
            continue
        item = None
        if claim.item_id is not None:
            access = gate.item_access(session, actor, claim.item_id)
            if access is None or not access.readable:
                continue
            item = access.item
        found.append(Awaiting(claim=claim, item=item, step=step))
    return found
