"""Think-tank commissions (委託, DESIGN F5): capability assessments, commissions, tasks, deliverables.

* **Who commissions.** Ministry officers (``COUNCIL_PROPOSE``: 所管省庁の担当官) assess institutions and
  commission them. An institution is commissioned only after it has been assessed for analysis
  (調査分析), information hub (情報集約) and talent (人材) capability, each scored 1–5 with notes;
  the latest assessment must score at least ``MIN_SCORE`` on every axis.
* **Confidentiality (Art. 64, issue 13).** Each commission carries its confidentiality duty (守秘義務).
  The institution names each person engaged on the commission's roster (``banso.programme.roster``);
  each acknowledges the duty personally with a second factor before seeing anything of it.
* **Who sees a commission.** The commissioning officer, officers of the commissioning organisation
  and the named people who acknowledged. Everyone else, colleagues at the institution included, gets
  404 (I7). These decisions are made in ``banso.authz.policies.programme`` (``can_see_commission`` and
  its SQL twin ``restrict_commissions``, ``is_owner``, ``is_contractor``, ``is_commissioner``); the
  facts are the commission row and its current roster, loaded once per request (:func:`standing`).
* **Deliverables.** Uploaded bytes are sealed at rest under the commission's own key
  (``banso.sealed.store``, I11, I12; a commission has no council, so its key lives in the
  commission key store). Only the commission's owner side and the institution read them
  (``authz.policies.content.can_read_deliverable``); every download is a per-recipient stamped copy
  with a distribution record and an audit entry (I8). DESIGN F5 files a deliverable as an
  information item: ``banso.programme.filing.file_deliverable`` files it into a council.

Every state change is audited; every rule is checked before anything is written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.guard import require_principal, require_visible
from banso.authz.policies import content as content_policy
from banso.authz.policies import programme as policy
from banso.authz.principal import Principal
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.text import clean_text
from banso.programme.models import (
    CapabilityAssessment,
    Commission,
    CommissionDeliverable,
    CommissionRosterEntry,
    CommissionState,
    CommissionTask,
    TaskStatus,
)
from banso.programme.service import _audit
from banso.sealed import store as sealed
from banso.sealed.crypto import TamperedCiphertext
from banso.sealed.models import SealedKind
from banso.sealed.store import SealedDeps
from banso.sealed.uploads import FileKind, UploadRejected, safe_filename, sniff

SCORE_MIN, SCORE_MAX = 1, 5
MIN_SCORE = 2  # the latest assessment must reach this on every axis to be commissioned
MAX_DELIVERABLE_BYTES = 20 * 1024 * 1024
DEFAULT_CONFIDENTIALITY = (
    "（守秘義務）受託者は、本委託により知り得た情報（政府から提供された情報及び成果物を含む）を、委託者の書面による承諾なく"
    "第三者に開示し、又は本委託の目的以外に利用してはならない。この義務は委託終了後も存続する。"
)
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


# ---------------------------------------------------------------------------------------------
# Helpers


def _score(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not SCORE_MIN <= value <= SCORE_MAX:
        raise ValidationFailed(f"{name} は {SCORE_MIN}〜{SCORE_MAX} の整数で評価してください / "
                               f"{name} must be a whole number from {SCORE_MIN} to {SCORE_MAX}", field=name)
    return value


def _date(value: object, name: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationFailed(f"{name} の日付が正しくありません / {name} must be a date", field=name)
    return value


def _require_commissioner(actor: Principal | None) -> Principal:
    who = require_principal(actor)
    if not policy.is_commissioner(who):
        raise Forbidden("委託の権限がありません（所管省庁の担当官のみ） / only ministry officers commission the think tank")
    return who


def roster_of(session: Session, commission_id: int) -> list[CommissionRosterEntry]:
    """Return every roster row of a commission (current and removed), in the order people were named."""
    return list(session.scalars(select(CommissionRosterEntry)
                                .where(CommissionRosterEntry.commission_id == commission_id)
                                .order_by(CommissionRosterEntry.id)))


def parties(session: Session, commission: Commission) -> policy.CommissionParties:
    """Return the access facts of a commission: its row and its current roster (Art. 64)."""
    return policy.parties_of(commission, roster_of(session, commission.id))


def _contractor(actor: Principal, facts: policy.CommissionParties) -> bool:
    """Return True for the engaged people who acknowledged (``policy.is_contractor``)."""
    return policy.is_contractor(actor, facts)


def _owner(actor: Principal, facts: policy.CommissionParties) -> bool:
    """Return True for the commission's owner side (``policy.is_owner``)."""
    return policy.is_owner(actor, facts)


# ---------------------------------------------------------------------------------------------
# Capability assessments


def assess_institution(session: Session, *, organization_id: int, assessed_on: date, analysis_score: object,
                       hub_score: object, talent_score: object, now: datetime, actor: Principal,
                       analysis_note: str = "", hub_note: str = "", talent_note: str = "") -> CapabilityAssessment:
    """Record an assessment of an institution's analysis, information-hub and talent capability (1–5 each)."""
    who = _require_commissioner(actor)
    org = accounts_repo.org_by_id(session, organization_id)
    if org is None:
        raise ValidationFailed(f"機関 {organization_id} は存在しません / organisation {organization_id} does not exist", field="organization_id")
    row = CapabilityAssessment(
        organization_id=org.id, assessed_on=_date(assessed_on, "assessed_on"),
        analysis_score=_score(analysis_score, "analysis_score"),
        analysis_note=clean_text(analysis_note, "analysis_note", max_length=5000, required=False),
        hub_score=_score(hub_score, "hub_score"),
        hub_note=clean_text(hub_note, "hub_note", max_length=5000, required=False),
        talent_score=_score(talent_score, "talent_score"),
        talent_note=clean_text(talent_note, "talent_note", max_length=5000, required=False),
        assessor_id=who.user_id, created_at=now)
    session.add(row)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_ASSESSMENT_RECORD, now=now, actor=who, subject=f"organization:{org.id}",
           data={"assessment_id": row.id, "analysis": row.analysis_score, "hub": row.hub_score,
                 "talent": row.talent_score})
    return row


def latest_assessment(session: Session, organization_id: int) -> CapabilityAssessment | None:
    """Return the newest assessment of an institution."""
    return session.scalars(select(CapabilityAssessment).where(CapabilityAssessment.organization_id == organization_id)
                           .order_by(CapabilityAssessment.assessed_on.desc(), CapabilityAssessment.id.desc())
                           .limit(1)).first()


def list_assessments(session: Session, *, actor: Principal) -> list[CapabilityAssessment]:
    """Return every assessment, newest first (ministry officers only)."""
    _require_commissioner(actor)
    return list(session.scalars(select(CapabilityAssessment)
                                .order_by(CapabilityAssessment.assessed_on.desc(), CapabilityAssessment.id.desc())))


# ---------------------------------------------------------------------------------------------
# Commissions


@dataclass(frozen=True)
class TaskInput:
    """A task of a new commission."""

    title: str
    due_on: date


def create_commission(session: Session, *, code: str, title: str, organization_id: int, starts_on: date,
                      due_on: date, tasks: Sequence[TaskInput], now: datetime, actor: Principal, purpose: str = "",
                      confidentiality_terms: str | None = None) -> Commission:
    """Commission an assessed institution with tasks and due dates under a confidentiality duty."""
    who = _require_commissioner(actor)
    code_v = (code or "").strip()
    if not _CODE_RE.match(code_v):
        raise ValidationFailed("code は英数字と . _ - の 1〜40 文字で入力してください / code: 1–40 letters, digits, '.', '_' or '-'", field="code")
    if session.scalars(select(Commission).where(Commission.code == code_v)).first() is not None:
        raise Conflict(f"コード {code_v!r} の委託は既にあります / a commission with code {code_v!r} already exists", field="code")
    title_v = clean_text(title, "title", max_length=300, line=True)
    org = accounts_repo.org_by_id(session, organization_id)
    if org is None:
        raise ValidationFailed(f"機関 {organization_id} は存在しません / organisation {organization_id} does not exist", field="organization_id")
    if org.id == who.organization_id:
        raise ValidationFailed("自機関には委託できません / an organisation does not commission itself", field="organization_id")
    assessment = latest_assessment(session, org.id)
    if assessment is None:
        raise Conflict("能力評価が未実施です。先に分析・拠点・人材の能力を評価してください / "
                       "the institution has not been assessed; assess its analysis, hub and talent capability first", field="organization_id")
    weak = [axis for axis, s in (("analysis", assessment.analysis_score), ("hub", assessment.hub_score),
                                 ("talent", assessment.talent_score)) if s < MIN_SCORE]
    if weak:
        raise Conflict(f"能力評価が基準未満です（{', '.join(weak)} が {MIN_SCORE} 未満）。委託できません / "
                       f"the latest assessment scores below {MIN_SCORE} on {', '.join(weak)}; the institution cannot be commissioned", field="organization_id")
    start, due = _date(starts_on, "starts_on"), _date(due_on, "due_on")
    if due < start:
        raise ValidationFailed("期限は開始日以降にしてください / due_on must not be before starts_on", field="due_on")
    if not tasks:
        raise ValidationFailed("作業を1件以上指定してください / a commission has at least one task", field="tasks")
    rows: list[CommissionTask] = []
    for i, t in enumerate(tasks):
        t_due = _date(t.due_on, f"tasks[{i}].due_on")
        if not start <= t_due <= due:
            raise ValidationFailed(f"tasks[{i}]: 委託期間外の期限です（{t_due.isoformat()}、委託期間 {start.isoformat()}〜{due.isoformat()}） / "
                                   f"tasks[{i}]: due {t_due.isoformat()} is outside the commission ({start.isoformat()}–{due.isoformat()})", field="tasks")
        rows.append(CommissionTask(position=i, title=clean_text(t.title, f"tasks[{i}].title", max_length=300, line=True),
                                   due_on=t_due, status=TaskStatus.OPEN.value))
    terms = clean_text(confidentiality_terms if confidentiality_terms is not None else DEFAULT_CONFIDENTIALITY,
                       "confidentiality_terms", max_length=20000)
    commission = Commission(
        code=code_v, title=title_v, purpose=clean_text(purpose, "purpose", max_length=20000, required=False),
        organization_id=org.id, assessment_id=assessment.id, commissioned_by_id=who.user_id,
        commissioner_org_id=who.organization_id, confidentiality_terms=terms, starts_on=start, due_on=due,
        state=CommissionState.ACTIVE.value, created_at=now, updated_at=now)
    session.add(commission)
    session.flush()
    for row in rows:
        row.commission_id = commission.id
        session.add(row)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_COMMISSION_CREATE, now=now, actor=who, subject=f"commission:{commission.id}",
           data={"organization_id": org.id, "assessment_id": assessment.id, "tasks": len(rows),
                 "due_on": due.isoformat()})
    return commission


def standing(session: Session, commission_id: int, actor: Principal, *, duty_only: bool = False,
             lock: bool = False) -> tuple[Commission, policy.CommissionParties]:
    """Return a commission and its access facts, or 404 (I7): the whole commission for those who see it,
    or with ``duty_only`` its duty for the named who have not acknowledged yet and the contact."""
    stmt = select(Commission).where(Commission.id == commission_id)
    commission = session.scalars(stmt.with_for_update() if lock else stmt).first()
    if commission is None:
        raise NotFound("委託が見つかりません / commission not found")
    facts = parties(session, commission)
    allowed = policy.can_see_duty if duty_only else policy.can_see_commission
    require_visible(allowed(actor, facts), "commission")
    return commission, facts


def _visible(session: Session, commission_id: int, actor: Principal) -> tuple[Commission, policy.CommissionParties]:
    return standing(session, commission_id, actor)


def _for_update(session: Session, commission_id: int,
                actor: Principal) -> tuple[Commission, policy.CommissionParties]:
    return standing(session, commission_id, actor, lock=True)


def list_commissions(session: Session, *, actor: Principal) -> list[Commission]:
    """Return the commissions the actor may see, newest first."""
    return list(session.scalars(policy.restrict_commissions(select(Commission).order_by(Commission.id.desc()), actor)))


def awaiting(session: Session, *, actor: Principal) -> list[Commission]:
    """Return the commissions whose duty ``actor`` may see but whose content not yet: those they are named on and
    have not acknowledged, or manage the roster of as the contact (can_see_duty but not can_see_commission)."""
    rows = session.scalars(select(Commission).join(
        CommissionRosterEntry, CommissionRosterEntry.commission_id == Commission.id).where(
        CommissionRosterEntry.user_id == actor.user_id, CommissionRosterEntry.removed_at.is_(None),
        Commission.organization_id == actor.organization_id).order_by(Commission.id.desc()))
    seen = {c.id for c in list_commissions(session, actor=actor)}
    return [c for c in dict.fromkeys(rows) if c.id not in seen]


@dataclass
class CommissionView:
    """A commission with its tasks, deliverables (without bytes) and the assessment it rests on."""

    commission: Commission
    tasks: list[CommissionTask]
    deliverables: list[CommissionDeliverable]
    assessment: CapabilityAssessment | None
    owner: bool
    contractor: bool
    facts: policy.CommissionParties


def get_commission(session: Session, *, commission_id: int, actor: Principal,
                   now: datetime | None = None) -> CommissionView:
    """Return a commission the actor may see (404 otherwise); with ``now`` the read is audited (I8, A1: a
    commission's tasks and deliverables are non-public content of the think tank's work, F5)."""
    commission, facts = _visible(session, commission_id, actor)
    if now is not None:
        _audit(session, AuditTag.PROGRAMME_COMMISSION_READ, now=now, actor=actor,
               subject=f"commission:{commission.id}", data={"what": "commission"})
    return CommissionView(
        commission=commission, tasks=tasks(session, commission.id), deliverables=deliverables(session, commission.id),
        assessment=session.get(CapabilityAssessment, commission.assessment_id), owner=_owner(actor, facts),
        contractor=_contractor(actor, facts), facts=facts)


def tasks(session: Session, commission_id: int) -> list[CommissionTask]:
    """Return a commission's tasks in order."""
    return list(session.scalars(select(CommissionTask).where(CommissionTask.commission_id == commission_id)
                                .order_by(CommissionTask.position, CommissionTask.id)))


def deliverables(session: Session, commission_id: int) -> list[CommissionDeliverable]:
    """Return a commission's deliverables, oldest first."""
    return list(session.scalars(select(CommissionDeliverable)
                                .where(CommissionDeliverable.commission_id == commission_id)
                                .order_by(CommissionDeliverable.id)))


def _active(commission: Commission) -> None:
    if commission.state != CommissionState.ACTIVE:
        raise Conflict(f"この委託は操作できない状態です（{commission.state}） / the commission is {commission.state}", field="state")


def complete_task(session: Session, *, commission_id: int, task_id: int, now: datetime,
                  actor: Principal) -> CommissionTask:
    """Mark a task done (the institution, after acknowledging confidentiality)."""
    commission, facts = _for_update(session, commission_id, actor)
    if not _contractor(actor, facts):
        raise Forbidden("作業の完了は受託機関が登録します / the commissioned institution completes its tasks")
    _active(commission)
    task = session.get(CommissionTask, task_id)
    if task is None or task.commission_id != commission.id:
        raise NotFound("作業が見つかりません / task not found")
    if task.status == TaskStatus.DONE:
        raise Conflict("この作業は完了済みです / the task is already done", field="status")
    task.status = TaskStatus.DONE.value
    task.completed_at = now
    commission.updated_at = now
    session.flush()
    _audit(session, AuditTag.PROGRAMME_COMMISSION_TASK, now=now, actor=actor, subject=f"commission:{commission.id}",
           data={"task_id": task.id, "status": task.status})
    return task


def check_deliverable(content: bytes, filename: str, content_type: str) -> FileKind | UploadRejected:
    """Validate a deliverable file completely (O1) without a session: the CPU-heavy parse, to run with no
    transaction open (O4). A refusal is returned: :func:`upload_deliverable` raises it where it always did."""
    try:
        return sniff(content, safe_filename(filename or ""), content_type, max_bytes=MAX_DELIVERABLE_BYTES)
    except UploadRejected as exc:
        return exc


def upload_deliverable(session: Session, *, commission_id: int, title: str, filename: str, content: bytes,
                       now: datetime, actor: Principal, store: SealedDeps,
                       content_type: str = "application/octet-stream",
                       task_id: int | None = None,
                       checked: FileKind | UploadRejected | None = None) -> CommissionDeliverable:
    """File a deliverable (成果物), sealed under the commission's key (I11; filing makes it an item)."""
    commission, facts = _for_update(session, commission_id, actor)
    if not _contractor(actor, facts):
        raise Forbidden("成果物は受託機関が提出します / the commissioned institution files deliverables")
    _active(commission)
    if task_id is not None:
        task = session.get(CommissionTask, task_id)
        if task is None or task.commission_id != commission.id:
            raise ValidationFailed(f"作業 {task_id} はこの委託の作業ではありません / task {task_id} is not a task of this commission", field="task_id")
    name = safe_filename(filename or "")  # O1: the one file-name rule (controls, bidi, device names)
    # O1: validated as item files are (the stamp and viewer limits), so the deliverable can always be served.
    # O4: ``checked`` is what check_deliverable found before the transaction (the routes run it there).
    if isinstance(checked, UploadRejected):
        raise checked
    ctype = (checked or sniff(content, name, content_type, max_bytes=MAX_DELIVERABLE_BYTES)).content_type
    title_v = clean_text(title, "title", max_length=300, line=True)
    digest = hashlib.sha256(content).hexdigest()
    envelope = sealed.seal_file(store, sealed.commission_scope(commission.id), content,
                                label=sealed.file_label(SealedKind.DELIVERABLE, digest))
    row = CommissionDeliverable(
        commission_id=commission.id, task_id=task_id, title=title_v, filename=name, content_type=ctype,
        size=len(content), sha256=digest, content=None, blob=envelope.blob, wrapped_key=envelope.wrapped_key,
        uploaded_by_id=actor.user_id, uploaded_at=now)
    session.add(row)
    commission.updated_at = now
    session.flush()
    _audit(session, AuditTag.PROGRAMME_COMMISSION_DELIVERABLE, now=now, actor=actor,
           subject=f"commission:{commission.id}",
           data={"deliverable_id": row.id, "sha256": row.sha256, "size": row.size, "task_id": task_id})
    return row


def _deliverable(session: Session, commission_id: int, deliverable_id: int,
                 actor: Principal) -> tuple[Commission, CommissionDeliverable]:
    commission, facts = _visible(session, commission_id, actor)
    row = session.get(CommissionDeliverable, deliverable_id)
    # F5, I7: a deliverable out of reach looks missing, as an unknown id does.
    if row is None or row.commission_id != commission.id or not content_policy.can_read_deliverable(
            is_owner=_owner(actor, facts), is_contractor=_contractor(actor, facts)):
        raise NotFound("成果物が見つかりません / deliverable not found")
    return commission, row


def open_deliverable(session: Session, *, commission_id: int, deliverable_id: int, now: datetime,
                     actor: Principal, store: SealedDeps) -> tuple[CommissionDeliverable, bytes]:
    """Return a deliverable and its plaintext after the access decision (filing; the read is audited)."""
    commission, row = _deliverable(session, commission_id, deliverable_id, actor)
    data = _unseal(session, store, commission, row, actor=actor, now=now)
    _audit(session, AuditTag.PROGRAMME_COMMISSION_READ, now=now, actor=actor, subject=f"commission:{commission.id}",
           data={"deliverable_id": row.id, "sha256": row.sha256})
    return row, data


def _unseal(session: Session, store: SealedDeps, commission: Commission, row: CommissionDeliverable, *,
            actor: Principal, now: datetime) -> bytes:
    refusal = sealed.Refusal(tag=AuditTag.PROGRAMME_INTEGRITY_FAILED, subject=f"commission:{commission.id}",
                             data={"deliverable_id": row.id})
    if row.blob is None or row.wrapped_key is None:
        # A legacy plaintext row that migration 0011 has not sealed: never served unsealed.
        audit.refuse(session, TamperedCiphertext("この成果物は未暗号化のため提供できません / the deliverable is not "
                                                 "sealed; run `banso db upgrade`"), refusal.tag, now=now,
                     actor=actor, subject=refusal.subject, data=refusal.data)
    return sealed.open_file(session, store, sealed.commission_scope(commission.id),
                            sealed.Envelope(wrapped_key=row.wrapped_key, blob=row.blob),
                            label=sealed.file_label(SealedKind.DELIVERABLE, row.sha256), actor=actor, now=now,
                            refusal=refusal)


def download_deliverable(session: Session, *, commission_id: int, deliverable_id: int, now: datetime,
                         actor: Principal, store: SealedDeps) -> sealed.Copy:
    """Return a deliverable stamped for ``actor`` (owner side or institution); recorded and audited (I8)."""
    def opened(found: tuple[Commission, CommissionDeliverable]) -> sealed.Original:
        commission, row = found
        return sealed.Original(kind=SealedKind.DELIVERABLE, object_id=row.id,
                               scope=sealed.commission_scope(commission.id), filename=row.filename,
                               content_type=row.content_type, label=f"委託成果物 #{row.id}",
                               data=_unseal(session, store, commission, row, actor=actor, now=now))

    (commission, row), copy, dist = sealed.copy_in_steps(
        session, store, actor=actor, now=now, open_original=opened,
        decide=lambda: _deliverable(session, commission_id, deliverable_id, actor))
    _audit(session, AuditTag.PROGRAMME_COMMISSION_DOWNLOAD, now=now, actor=actor,
           subject=f"commission:{commission.id}", data={"deliverable_id": row.id, "sha256": row.sha256,
                                                        "distribution_id": dist.id, "channel": dist.channel})
    return copy


def complete_commission(session: Session, *, commission_id: int, now: datetime, actor: Principal) -> Commission:
    """Close a commission as completed: every task done and at least one deliverable filed."""
    commission, facts = _for_update(session, commission_id, actor)
    if not _owner(actor, facts):
        raise Forbidden("委託の完了は委託した担当官が行います / the commissioning officer closes the commission")
    _active(commission)
    open_tasks = [t.title for t in tasks(session, commission.id) if t.status != TaskStatus.DONE]
    if open_tasks:
        raise Conflict(f"未完了の作業が {len(open_tasks)} 件あります / {len(open_tasks)} task(s) are still open", field="state")
    if not deliverables(session, commission.id):
        raise Conflict("成果物が未提出です / no deliverable has been filed", field="state")
    commission.state = CommissionState.COMPLETED.value
    commission.updated_at = now
    session.flush()
    _audit(session, AuditTag.PROGRAMME_COMMISSION_STATE, now=now, actor=actor, subject=f"commission:{commission.id}",
           data={"state": commission.state})
    return commission


def cancel_commission(session: Session, *, commission_id: int, now: datetime, actor: Principal,
                      reason: str) -> Commission:
    """Cancel an active commission (委託の中止) with a reason (the commissioning side)."""
    commission, facts = _for_update(session, commission_id, actor)
    if not _owner(actor, facts):
        raise Forbidden("委託を中止する権限がありません（委託した担当官のみ） / the commissioning officer cancels the commission")
    _active(commission)
    reason_v = clean_text(reason, "reason", max_length=2000)
    commission.state = CommissionState.CANCELLED.value
    commission.updated_at = now
    session.flush()
    # The model keeps no reason column: the audit entry is the record of why (A1).
    _audit(session, AuditTag.PROGRAMME_COMMISSION_STATE, now=now, actor=actor, subject=f"commission:{commission.id}",
           data={"state": commission.state, "reason": reason_v})
    return commission
