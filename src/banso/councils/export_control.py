"""Deemed-export checks (みなし輸出, DESIGN F7): a person of another nationality or with a foreign affiliation who
joins a council holding items classified 該当/要確認 is put to the export-control officer, who clears or refuses.

The hold itself is not decided here: the read rule (``authz/policies/information.can_read_item`` and its SQL
twin, through ``Standing.export_hold``) keeps those items from the person until a ``cleared`` row exists, on
every path. This module keeps the queue: it opens a check when someone is added (a join, or a classification of
an item in a council where they already are), tells the officers, and records their decision — audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import User
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.guard import require_visible
from banso.authz.permissions import Role
from banso.authz.policies import councils as policy
from banso.authz.principal import Principal
from banso.councils import repository as repo
from banso.councils import rules
from banso.councils.models import ClearanceState, Council, CouncilRole, ExportClearance, Membership
from banso.kit.errors import BansoError, Conflict, Forbidden, ValidationFailed
from banso.kit.text import clean_text
from banso.notifications import service as notifications

QUEUE_LINK = "/information/export-control"
TRIGGER_JOIN = "join"
TRIGGER_CLASSIFICATION = "classification"
TRIGGER_PROFILE = "profile"  # an administrator recorded a member's nationality or foreign affiliation
DECISIONS = {"clear": ClearanceState.CLEARED, "refuse": ClearanceState.REFUSED}


@dataclass(frozen=True)
class ClearanceRow:
    """One deemed-export check as the officer's queue shows it."""

    clearance: ExportClearance
    council_title: str
    person_name: str
    organisation: str
    nationality: str | None
    foreign_affiliation: str | None


def _subject(clearance: ExportClearance) -> str:
    # names council content (who is held, and that classified items exist): shown to content readers only (I7)
    return f"council:{clearance.council_id}:export:{clearance.id}"


def _officers(session: Session, council_id: int, person_id: int) -> list[int]:
    """Current members of the council holding the export-control officer role, other than the person checked
    (no self-clearance); none: the secretariat, so that someone who can bring an officer in is told."""
    rows = session.execute(select(User.id, User.roles, Membership.role).join(
        Membership, Membership.user_id == User.id).where(
        Membership.council_id == council_id, Membership.left_at.is_(None), User.is_active.is_(True))).all()
    officers = [uid for uid, roles, _ in rows if Role.EXPORT_OFFICER.value in (roles or []) and uid != person_id]
    return officers or [uid for uid, _, role in rows if role == CouncilRole.SECRETARIAT.value]


def _notify(session: Session, council: Council, clearance: ExportClearance, user: User, now: datetime) -> None:
    notifications.notify(
        session, recipient_ids=_officers(session, council.id, user.id), kind="councils.export_check",
        title_ja=f"みなし輸出の確認依頼：{council.title_ja}",
        title_en=f"Deemed-export check: {council.title_en}",
        body_ja=(f"{user.name_ja} さん（国籍 {user.nationality or '未登録'}、外国の所属 {user.foreign_affiliation or 'なし'}）"
                 "はこの協議会の構成員です。該当・要確認の技術情報は、輸出管理責任者が確認するまで閲覧できません。"),
        body_en=(f"{user.name_en} (nationality {user.nationality or 'not recorded'}, foreign affiliation "
                 f"{user.foreign_affiliation or 'none'}) is a member of this council. Items classified as controlled or to be checked "
                 "stay closed to them until the export-control officer clears them."),
        link=QUEUE_LINK, subject=_subject(clearance), now=now, email_now=True)


def remind_pending(session: Session, *, now: datetime) -> int:
    """Job: remind the officers of every deemed-export check still pending a week after it was opened, weekly,
    and the secretariat too once it is two weeks old (F7: meanwhile the person is held from the classified items
    and from ballots on them). Returns how many people were reminded."""
    sent = 0
    pending = session.scalars(select(ExportClearance).where(
        ExportClearance.state == ClearanceState.PENDING.value).order_by(ExportClearance.id)).all()
    for clearance in pending:
        whom = rules.export_check_reminder(requested_at=clearance.requested_at, reminded_at=clearance.reminded_at,
                                           now=now)
        council, user = repo.council_by_id(session, clearance.council_id), session.get(User, clearance.user_id)
        if whom is None or council is None or user is None:
            continue
        clearance.reminded_at = now
        people = set(_officers(session, council.id, user.id))
        if whom == "officers+secretariat":
            people |= {m.user_id for m in repo.current_members(session, council.id)
                       if m.role == CouncilRole.SECRETARIAT.value and m.user_id != user.id}
        days = (now - clearance.requested_at).days
        audit.record_for(session, AuditTag.EXPORT_CLEARANCE_REMIND, now=now, actor=None, subject=f"council:{council.id}",
                         data={"clearance_id": clearance.id, "days": days, "user_ids": sorted(people)})
        notifications.notify(
            session, recipient_ids=sorted(people), kind="councils.export_check",
            title_ja=f"みなし輸出の確認が{days}日間未了です：{council.title_ja}",
            title_en=f"Deemed-export check pending for {days} days: {council.title_en}",
            body_ja=(f"{user.name_ja} さんの確認は依頼から{days}日が経ちました。確認が済むまで、該当・要確認の技術情報と"
                     "それについての投票には加われません。確認の画面から許可か不許可を記録してください。"),
            body_en=(f"The check of {user.name_en} was opened {days} days ago. Until it is decided they cannot read the "
                     "items classified as controlled or to be checked, nor vote on them. Record a clearance or a "
                     "refusal from the check queue."),
            link=QUEUE_LINK, subject=_subject(clearance), now=now, email_now=True)
        sent += len(people)
    return sent


def request_if_needed(session: Session, council: Council, user_id: int, *, now: datetime,
                      trigger: str = TRIGGER_JOIN, actor: Principal | None = None) -> ExportClearance | None:
    """Open a check for ``user_id`` in ``council`` when it holds classified items and the person is foreign
    (F7); an existing check (pending, cleared or refused) is kept as it is. Return the new check, if any."""
    if not council.export_controlled:
        return None
    user = session.get(User, user_id)
    if user is None or not policy.is_foreign(user.nationality, user.foreign_affiliation):
        return None
    if repo.clearance_of(session, council.id, user_id) is not None:
        return None
    clearance = ExportClearance(council_id=council.id, user_id=user_id, state=ClearanceState.PENDING.value,
                                trigger=trigger, reason=None, requested_at=now, decided_by_id=None, decided_at=None)
    session.add(clearance)
    session.flush()
    audit.record_for(session, AuditTag.EXPORT_CLEARANCE_REQUEST, now=now, actor=actor,
                     subject=f"council:{council.id}",
                     data={"clearance_id": clearance.id, "user_id": user_id, "trigger": trigger})
    _notify(session, council, clearance, user, now)
    return clearance


def request_for_members(session: Session, council: Council, *, now: datetime, actor: Principal | None) -> int:
    """Open checks for every current foreign member once the council holds a classified item; return how many."""
    opened = 0
    for user_id in repo.current_member_ids(session, council.id):
        if request_if_needed(session, council, user_id, now=now, trigger=TRIGGER_CLASSIFICATION, actor=actor):
            opened += 1
    return opened


def request_for_person(session: Session, user_id: int, *, now: datetime, actor: Principal | None) -> int:
    """Open checks for ``user_id`` in every council they are a current member of that holds classified items,
    once their export profile makes them foreign (F7: held there from now on, so an officer must be asked, as
    on a join); return how many were opened."""
    opened = 0
    for council in repo.councils_of_member(session, user_id):
        if request_if_needed(session, council, user_id, now=now, trigger=TRIGGER_PROFILE, actor=actor):
            opened += 1
    return opened


def queue(session: Session, actor: Principal, *, now: datetime, states: Iterable[str] | None = None
          ) -> list[ClearanceRow]:
    """Return the checks ``actor`` decides (pending first), audited as a read of who is held (F7, A1)."""
    rows = repo.clearances_for(session, lambda stmt: policy.restrict_clearances(stmt, actor),
                               states=list(states) if states is not None else None)
    audit.record_for(session, AuditTag.EXPORT_QUEUE_READ, now=now, actor=actor, subject="export:queue",
                     data={"shown": len(rows)})
    return [_row(c, title, user) for c, title, user in rows]


def describe(session: Session, clearance: ExportClearance) -> ClearanceRow:
    """Return one check as the queue shows it (the decider already passed the policy)."""
    council = session.get(Council, clearance.council_id)
    user = session.get(User, clearance.user_id)
    assert council is not None and user is not None  # foreign keys
    return _row(clearance, council.title_ja, user)


def _row(clearance: ExportClearance, council_title: str, user: User) -> ClearanceRow:
    return ClearanceRow(clearance=clearance, council_title=council_title, person_name=user.name_ja,
                        organisation=user.organization.name_ja, nationality=user.nationality,
                        foreign_affiliation=user.foreign_affiliation)


def decide(session: Session, *, clearance_id: int, actor: Principal, now: datetime, decision: str,
           reason: str | None) -> ExportClearance:
    """Clear or refuse one check (F7): only the council's export-control officer (else 404), never on their own
    check (403); a refusal needs a reason; a decided check may be decided again (a refusal reconsidered, a
    clearance withdrawn), audited."""
    clearance = session.get(ExportClearance, clearance_id)
    where = None if clearance is None else repo.standing_of(session, clearance.council_id, actor.user_id)
    require_visible(clearance is not None and where is not None and policy.is_clearance_officer(actor, where),
                    "clearance")
    assert clearance is not None and where is not None
    subject = f"council:{clearance.council_id}"
    try:
        if not policy.can_decide_clearance(actor, where, person_id=clearance.user_id):
            raise Forbidden("ご自身の確認は判断できません。別の輸出管理責任者が判断します / "
                            "you cannot decide your own check; another export-control officer decides it")
        state = DECISIONS.get(decision)
        if state is None:
            raise ValidationFailed("判断は「許可」か「不許可」から選んでください / decision must be 'clear' or 'refuse'",
                                   field="decision")
        reason_t = clean_text(reason, "reason", max_length=2000, required=state is ClearanceState.REFUSED) or None
        if clearance.state == state.value:
            raise Conflict("すでにこの判断が記録されています / this decision is already recorded", field="decision")
    except BansoError as exc:
        audit.refuse(session, exc, AuditTag.EXPORT_CLEARANCE_REFUSE, now=now, actor=actor, subject=subject,
                     data={"clearance_id": clearance.id, "decision": decision, "refused": True})
    clearance.state = state.value
    clearance.reason = reason_t
    clearance.decided_by_id = actor.user_id
    clearance.decided_at = now
    tag = AuditTag.EXPORT_CLEARANCE_CLEAR if state is ClearanceState.CLEARED else AuditTag.EXPORT_CLEARANCE_REFUSE
    audit.record_for(session, tag, now=now, actor=actor, subject=subject,
                     data={"clearance_id": clearance.id, "user_id": clearance.user_id, "reason": reason_t})
    return clearance
