"""Council services (C1–C6): orchestration of repository, rules, policy and audit; never commits.

Every state change writes an audit entry tagged ``council:*`` in the caller's transaction (A1).
Refusals that are security events (a second or late consent, a stale or second-factor-less
pledge, an action assigned to a non-member) are audited *before* raising and the exception is
marked :func:`was_audited`: the caller commits the entry, and nothing else has changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts.models import OrgKind, User
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.guard import require, require_visible
from banso.authz.permissions import Permission, Role, permissions_for
from banso.authz.policies import content as content_policy
from banso.authz.policies import councils as policy
from banso.authz.policies.councils import Standing
from banso.authz.principal import Principal
from banso.councils import articles, export_control, notices, rules
from banso.councils import membership as typed
from banso.councils import repository as repo
from banso.councils.models import (
    ActionItem,
    ActionStatus,
    AddresseeKind,
    Adoption,
    AgendaItem,
    Attendance,
    BylawsVersion,
    Consent,
    ConsentDecision,
    ConsentKind,
    Council,
    CouncilRole,
    CouncilState,
    Decision,
    MaterialFile,
    MaterialRequest,
    Meeting,
    MeetingAttendance,
    MeetingMaterial,
    Membership,
    MinutesConfirmation,
    MinutesState,
    Pledge,
    RequestStatus,
)
from banso.councils.pdf import render_pledge_pdf
from banso.kit.clock import to_jst
from banso.kit.errors import BansoError, Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.japanese import official_date
from banso.kit.text import clean_text
from banso.sealed import store as sealed
from banso.sealed.crypto import TamperedCiphertext
from banso.sealed.models import SealedKind
from banso.sealed.store import SealedDeps
from banso.sealed.uploads import FileKind, UploadRejected, safe_filename, sniff

MAX_FILE_BYTES = 20 * 1024 * 1024
was_audited = audit.was_audited  # kept here: the councils web layer and older callers import it from this module
_audit = audit.record_for
_refuse = audit.refuse


# How a refusal names a council's state or a request's status in Japanese (issue 14: no codes in Japanese text).
_STATE_JA = {"proposed": "設置提案中", "established": "設置済み", "active": "活動中", "dissolved": "解散済み",
             "lapsed": "不成立", "open": "回答待ち", "answered": "回答済み", "closed": "終了"}


def _state(value: str) -> str:
    return _STATE_JA.get(str(value), str(value))


def _subject(council: Council) -> str:
    return f"council:{council.id}"


def _parse_role(value: str) -> CouncilRole:
    try:
        return CouncilRole(value)
    except ValueError:
        allowed = ", ".join(r.value for r in CouncilRole)
        raise ValidationFailed(f"役割が正しくありません / unknown council role {value!r}; use one of {allowed}", field="role") from None


def _active_user(session: Session, user_id: int, field_name: str) -> User:
    user = accounts_repo.user_by_id(session, user_id)
    if user is None or not user.is_active:
        raise ValidationFailed(f"指定された利用者（番号 {user_id}）は存在しないか無効です / person {user_id} does not exist or is disabled", field=field_name)
    return user


# ---------------------------------------------------------------------------------------------
# Standing and access


def standing_of(session: Session, council: Council, user_id: int) -> Standing:
    """Return the facts the policy needs about ``user_id`` in ``council`` (one statement)."""
    found = repo.standing_of(session, council.id, user_id)
    assert found is not None  # the council is in hand
    return found


def _visible(session: Session, council_id: int, actor: Principal) -> tuple[Council, Standing]:
    found = repo.council_with_standing(session, council_id, actor.user_id)
    if found is None:
        raise NotFound("協議会が見つかりません / council not found")
    council, standing = found
    require_visible(policy.can_see_council(actor, standing), "council")
    return council, standing


def _content(session: Session, council_id: int, actor: Principal) -> tuple[Council, Standing]:
    council, standing = _visible(session, council_id, actor)
    # C3/I7: no pledge, no second factor, or not operating: indistinguishable from missing
    require_visible(policy.can_read_content(actor, standing), "council content")
    return council, standing


def _manage(session: Session, council_id: int, actor: Principal) -> tuple[Council, Standing]:
    council, standing = _content(session, council_id, actor)
    if not policy.can_manage(actor, standing):
        raise Forbidden("議長又は事務局のみが行えます / Only the chair or the secretariat may do this")
    return council, standing


def can_read_content(session: Session, *, council_id: int, actor: Principal) -> bool:
    """Return True when ``actor`` may read the council's non-public content right now."""
    council = repo.council_by_id(session, council_id)
    if council is None:
        return False
    return policy.can_read_content(actor, standing_of(session, council, actor.user_id))


# ---------------------------------------------------------------------------------------------
# Reading the public page


@dataclass(frozen=True)
class MemberView:
    """A current member as the public page lists them."""

    membership: Membership
    user: User
    pledge_current: bool


@dataclass(frozen=True)
class CouncilView:
    """The council's public page for one viewer."""

    council: Council
    standing: Standing
    content_block: str | None  # why content is closed to the viewer (None: open)
    bylaws: BylawsVersion
    members: list[MemberView]
    consents: list[Consent]
    can_manage: bool


def list_councils(session: Session, *, actor: Principal) -> list[Council]:
    """Return the councils ``actor`` may know exist (policy-restricted query)."""
    return repo.list_councils(session, policy.visible_councils(actor))


def councils_with_standing(session: Session, *, actor: Principal) -> list[tuple[Council, Standing]]:
    """Return the councils ``actor`` may know exist, each with the actor's standing (one statement)."""
    return repo.councils_with_standing(session, policy.visible_councils(actor), actor.user_id)


def get_council(session: Session, *, council_id: int, actor: Principal) -> CouncilView:
    """Return the public page of a council (404 for outsiders and people who left)."""
    council, standing = _visible(session, council_id, actor)
    return _council_view(session, council, standing, actor, repo.bylaws(session, council.id, council.bylaws_version))


def current_members(session: Session, council: Council) -> list[MemberView]:
    """Return a council's current members with their people and pledges (one statement; callers decide who
    may see them)."""
    return [MemberView(membership=m, user=user, pledge_current=pledged)
            for m, user, pledged in repo.current_members_with_users(session, council)]


def _council_view(session: Session, council: Council, standing: Standing, actor: Principal,
                  bylaws: BylawsVersion | None) -> CouncilView:
    members = current_members(session, council)
    assert bylaws is not None
    return CouncilView(council=council, standing=standing, content_block=policy.content_block_reason(actor, standing),
                       bylaws=bylaws, members=members, consents=repo.consents(session, council.id),
                       can_manage=policy.can_manage(actor, standing))


def list_bylaws(session: Session, *, council_id: int, actor: Principal) -> list[BylawsVersion]:
    """Return every bylaws version (members read the bylaws they consent and pledge to)."""
    council, _ = _visible(session, council_id, actor)
    return repo.bylaws_versions(session, council.id)


def get_bylaws(session: Session, *, council_id: int, version: int, actor: Principal) -> BylawsVersion:
    """Return one bylaws version."""
    council, _ = _visible(session, council_id, actor)
    found = repo.bylaws(session, council.id, version)
    if found is None:
        raise NotFound("規約の版が見つかりません / bylaws version not found")
    return found


def diff_bylaws(session: Session, *, council_id: int, old: int, new: int, actor: Principal,
                html: bool = False) -> str:
    """Return a readable diff between two bylaws versions (unified text, or an HTML table)."""
    a = get_bylaws(session, council_id=council_id, version=old, actor=actor)
    b = get_bylaws(session, council_id=council_id, version=new, actor=actor)
    fn = rules.bylaws_diff_html if html else rules.bylaws_diff
    return fn(a.text, b.text, old_version=a.version, new_version=b.version)


# ---------------------------------------------------------------------------------------------
# Lifecycle (C1)


def _check_party(user: User, party: typed.PartyType, *, is_proposer: bool, field: str = "party") -> None:
    """Refuse a party type the person cannot hold (issue 13; ``membership.check_party``)."""
    may_lead = Permission.PROGRAMME_PROPOSE in permissions_for(frozenset(Role(r) for r in user.roles))
    typed.check_party(party, org_kind=user.organization.kind, may_lead_research=may_lead, is_proposer=is_proposer,
                      field=field)


@dataclass(frozen=True)
class FounderSpec:
    """A founding participant, the role they take and their statutory party type (issue 13)."""

    user_id: int
    role: str = CouncilRole.MEMBER.value
    party: str = typed.DEFAULT_PARTY.value


def propose(
    session: Session,
    *,
    actor: Principal,
    now: datetime,
    title_ja: str,
    title_en: str,
    purpose: str,
    consent_deadline: datetime,
    founders: Sequence[FounderSpec],
    technology: str | None = None,
    project_ref: str | None = None,
    required_person_ids: Sequence[int] = (),
    bylaws_text: str | None = None,
    designation_max_years: int = rules.DEFAULT_DESIGNATION_MAX_YEARS,
    nondisclosure_days: int = rules.DEFAULT_NONDISCLOSURE_DAYS,
    proposer_party: str | None = None,
) -> Council:
    """Propose a council (C1); the proposer joins as secretariat and has consented by proposing.

    Each founder carries a party type; a project council needs a research representative among them
    (Art. 62: theirs is the consent that establishes it, ``councils/membership.py``).
    """
    require(actor, Permission.COUNCIL_PROPOSE)
    title = rules.require_text(title_ja, "title_ja", max_length=200, line=True)
    title_e = clean_text(title_en, "title_en", max_length=200, required=False, line=True) or title
    purpose_t = rules.require_text(purpose, "purpose", max_length=5000)
    tech = clean_text(technology, "technology", max_length=300, required=False, line=True) or None
    project = clean_text(project_ref, "project_ref", max_length=100, required=False, line=True) or None
    if tech is None and project is None:
        raise ValidationFailed("技術又はプロジェクトを指定してください / link a technology and/or a project",
                               field="technology")
    rules.require_future(consent_deadline, now, "consent_deadline")
    params = articles.parameters({"designation_max_years": designation_max_years,
                                  "nondisclosure_days": nondisclosure_days})
    roles: dict[int, CouncilRole] = {}
    parties: dict[int, str] = {}
    for spec in founders:
        if spec.user_id in roles:
            raise ValidationFailed(f"同じ利用者（番号 {spec.user_id}）が二度指定されています / person {spec.user_id} is listed twice", field="founders")
        roles[spec.user_id] = _parse_role(spec.role)
        parties[spec.user_id] = typed.parse_party(spec.party).value
    if not set(roles) - {actor.user_id}:
        raise ValidationFailed("提案者のほかに設立参加者を1名以上指定してください / name at least one founding participant besides the proposer", field="founders")
    roles.setdefault(actor.user_id, CouncilRole.SECRETARIAT)
    parties.setdefault(actor.user_id, typed.parse_party(proposer_party).value)
    users = {uid: _active_user(session, uid, "founders") for uid in roles}
    for uid, party in parties.items():
        _check_party(users[uid], typed.PartyType(party), is_proposer=uid == actor.user_id, field="founders")
    for uid in required_person_ids:
        _active_user(session, uid, "required_person_ids")
    missing = rules.missing_required(roles, required_person_ids)
    if missing:
        raise ValidationFailed(
            f"研究者を設立参加者に含めてください（不足: {missing}） / "
            f"the linked project's researchers must be founders (missing: {missing})", field="founders")
    given = clean_text(bylaws_text, "bylaws_text", max_length=100_000, required=False)
    # A text typed at proposal is split at its "## 第N条（見出し）" headings (articles.parse); none: the model.
    parts = articles.parse(given) if given else articles.model_articles(council_title=title)
    council = Council(
        title_ja=title, title_en=title_e, purpose=purpose_t, technology=tech, project_ref=project,
        state=CouncilState.PROPOSED.value, consent_deadline=consent_deadline, proposer_id=actor.user_id,
        bylaws_version=1, duty_version=1, required_person_ids=sorted(set(required_person_ids)),
        created_at=now, updated_at=now,
    )
    session.add(council)
    session.flush()
    session.add(BylawsVersion(
        council_id=council.id, version=1, text=articles.render(council_title=title, articles=parts, params=params),
        articles=articles.to_json(parts), changes_duty=True, duty_version=1, summary="初版（モデル規約に基づく）",
        created_by_id=actor.user_id, created_at=now, **params,
    ))
    for uid, role in roles.items():
        user = users[uid]
        by_proposer = uid == actor.user_id
        session.add(Consent(
            council_id=council.id, user_id=uid, organization_id=user.organization_id, kind=ConsentKind.FOUNDING.value,
            role=role.value, party=parties[uid], decision=(ConsentDecision.CONSENTED if by_proposer else ConsentDecision.PENDING).value,
            reason=None, deadline=consent_deadline, decided_at=now if by_proposer else None,
            last_reminded_at=None, created_at=now,
        ))
        session.add(Membership(council_id=council.id, user_id=uid, organization_id=user.organization_id,
                               role=role.value, party=parties[uid], founding=True, joined_at=now, left_at=None))
    session.flush()
    _audit(session, AuditTag.COUNCIL_PROPOSE, now=now, actor=actor, subject=_subject(council),
           data={"title_ja": title, "founders": sorted(roles), "parties": {str(k): v for k, v in parties.items()},
                 "deadline": consent_deadline.isoformat(),
                 "technology": tech, "project_ref": project})
    notices.consent_requested(session, council, [uid for uid in roles if uid != actor.user_id],
                              deadline=consent_deadline, now=now)
    return council


def consent(session: Session, *, council_id: int, actor: Principal, now: datetime, decision: str,
            reason: str | None = None) -> Consent:
    """Answer one's founding or join consent: ``decision`` is ``consent`` or ``decline`` (with a reason)."""
    council, _ = _visible(session, council_id, actor)
    locked = repo.council_for_update(session, council.id)
    assert locked is not None
    if decision not in ("consent", "decline"):
        raise ValidationFailed("回答は「同意」か「不同意」から選んでください / decision must be 'consent' or 'decline'", field="decision")
    reason_t = clean_text(reason, "reason", max_length=2000, required=False) or None
    if decision == "decline" and reason_t is None:
        raise ValidationFailed("不同意の理由を入力してください / a decline needs a reason", field="reason")
    row = repo.pending_consent(session, council.id, actor.user_id) or repo.latest_consent(session, council.id,
                                                                                          actor.user_id)
    if row is None:
        raise NotFound("この協議会について同意を求められていません / no consent is asked of you for this council")
    try:
        rules.check_can_answer(decision=row.decision, deadline=row.deadline, now=now)
        if row.kind == ConsentKind.FOUNDING and council.state != CouncilState.PROPOSED and not (
                typed.is_project_council(council.project_ref) and council.state in rules.OPERATING_STATES):
            raise Conflict(f"この協議会（{_state(council.state)}）への同意の受付は終了しています / the council is "
                           f"{council.state}; consents are closed", field="decision")
        if row.kind == ConsentKind.JOIN and council.state not in rules.OPERATING_STATES:
            raise Conflict(f"この協議会（{_state(council.state)}）には参加できません / the council is {council.state}; it cannot be joined", field="decision")
    except BansoError as exc:
        _refuse(session, exc, AuditTag.COUNCIL_CONSENT_REFUSED, now=now, actor=actor, subject=_subject(council),
                data={"kind": row.kind, "decision": decision})
    row.decision = (ConsentDecision.CONSENTED if decision == "consent" else ConsentDecision.DECLINED).value
    row.reason = reason_t
    row.decided_at = now
    tag = AuditTag.COUNCIL_CONSENT_GIVE if decision == "consent" else AuditTag.COUNCIL_CONSENT_DECLINE
    _audit(session, tag, now=now, actor=actor, subject=_subject(council),
           data={"kind": row.kind, "reason": reason_t})
    if row.kind == ConsentKind.FOUNDING and council.state == CouncilState.PROPOSED:
        session.flush()
        if decision == "decline" and typed.is_project_council(council.project_ref):
            _drop_unconsented_founders(session, council, [row])  # not a representative: they simply do not join
        _evaluate(session, council, now=now, actor=actor)
    elif decision == "consent":
        # A join, or a project council's founder answering after the representatives established it.
        session.add(Membership(council_id=council.id, user_id=actor.user_id, organization_id=row.organization_id,
                               role=row.role, party=row.party, founding=row.kind == ConsentKind.FOUNDING,
                               joined_at=now, left_at=None))
        _audit(session, AuditTag.COUNCIL_MEMBER_JOIN, now=now, actor=actor, subject=_subject(council),
               data={"user_id": actor.user_id, "role": row.role, "party": row.party, "kind": row.kind})
        export_control.request_if_needed(session, council, actor.user_id, now=now, actor=actor)  # F7
    council.updated_at = now
    return row


def _evaluate(session: Session, council: Council, *, now: datetime, actor: Principal | None) -> rules.Outcome:
    if council.state != CouncilState.PROPOSED:
        return rules.Outcome.WAIT
    founding = repo.consents(session, council.id, kind=ConsentKind.FOUNDING.value)
    facts = [rules.ConsentFact(c.user_id, c.decision, c.decided_at) for c in founding]
    # C1 per council type (issue 13): a project council by its research representatives, others by everyone.
    outcome = typed.outcome_for(facts, project_ref=council.project_ref, parties={c.user_id: c.party for c in founding},
                                required_ids=council.required_person_ids, deadline=council.consent_deadline, now=now)
    if outcome is rules.Outcome.ESTABLISH:
        council.state = CouncilState.ESTABLISHED.value
        council.established_at = now
        council.updated_at = now
        # Founders who have not consented are not members; they may still consent until their deadline.
        _drop_unconsented_founders(session, council, founding)
        _audit(session, AuditTag.COUNCIL_ESTABLISH, now=now, actor=actor, subject=_subject(council),
               data={"founders": sorted(c.user_id for c in founding if c.decision == ConsentDecision.CONSENTED),
                     "not_joined": sorted(c.user_id for c in founding if c.decision != ConsentDecision.CONSENTED)})
    elif outcome is rules.Outcome.LAPSE:
        declined = sorted(c.user_id for c in founding if c.decision == ConsentDecision.DECLINED)
        missing = sorted(c.user_id for c in founding if c.decision == ConsentDecision.PENDING)
        for c in founding:
            if c.decision == ConsentDecision.PENDING:
                c.decision = ConsentDecision.EXPIRED.value
        council.state = CouncilState.LAPSED.value
        council.ended_at = now
        council.end_reason = ("declined by " + ", ".join(map(str, declined))) if declined else \
            ("no consent by the deadline from " + ", ".join(map(str, missing)))
        council.updated_at = now
        _audit(session, AuditTag.COUNCIL_LAPSE, now=now, actor=actor, subject=_subject(council),
               data={"declined": declined, "missing": missing})
    return outcome


def _drop_unconsented_founders(session: Session, council: Council, consents: Sequence[Consent]) -> None:
    # A founding membership only stands for a consent being sought; with no consent it never began
    # (the consent row and the audit log keep the record of the decline or the silence).
    for c in consents:
        if c.decision != ConsentDecision.CONSENTED:
            m = repo.current_membership(session, council.id, c.user_id)
            if m is not None and m.founding:
                session.delete(m)
    session.flush()


def evaluate(session: Session, *, council_id: int, now: datetime, actor: Principal | None) -> Council:
    """Establish or lapse a proposed council according to its consents (C1); ``actor`` None: operator/job."""
    if actor is not None:
        council, _ = _visible(session, council_id, actor)
    else:
        found = repo.council_by_id(session, council_id)
        if found is None:
            raise NotFound("協議会が見つかりません / council not found")
        council = found
    repo.council_for_update(session, council.id)
    _evaluate(session, council, now=now, actor=actor)
    return council


@dataclass(frozen=True)
class Reminder:
    """A consent reminder that is due (the notification layer sends it)."""

    council_id: int
    user_id: int
    kind: str
    deadline: datetime


@dataclass
class DueReport:
    """What the council job did."""

    established: list[int] = field(default_factory=list)
    lapsed: list[int] = field(default_factory=list)
    expired_invitations: list[int] = field(default_factory=list)
    reminders: list[Reminder] = field(default_factory=list)


def run_due_councils(session: Session, *, now: datetime) -> DueReport:
    """Job: lapse proposed councils past their deadline, expire stale invitations, return reminders due."""
    report = DueReport()
    for council in repo.all_councils(session):
        if council.state == CouncilState.PROPOSED:
            outcome = _evaluate(session, council, now=now, actor=None)
            if outcome is rules.Outcome.ESTABLISH:
                report.established.append(council.id)
            elif outcome is rules.Outcome.LAPSE:
                report.lapsed.append(council.id)
        for c in repo.consents(session, council.id):
            if c.decision != ConsentDecision.PENDING:
                continue
            if now >= c.deadline:
                c.decision = ConsentDecision.EXPIRED.value
                report.expired_invitations.append(c.id)
                _audit(session, AuditTag.COUNCIL_CONSENT_EXPIRE, now=now, actor=None, subject=_subject(council),
                       data={"user_id": c.user_id, "kind": c.kind})
            elif rules.reminder_due(deadline=c.deadline, last_reminded_at=c.last_reminded_at, now=now):
                c.last_reminded_at = now
                report.reminders.append(Reminder(council.id, c.user_id, c.kind, c.deadline))
                _audit(session, AuditTag.COUNCIL_CONSENT_REMIND, now=now, actor=None, subject=_subject(council),
                       data={"user_id": c.user_id, "kind": c.kind, "deadline": c.deadline.isoformat()})
    return report


def remind_action_items(session: Session, *, now: datetime) -> int:
    """Job: remind assignees once when an action item is due soon and once when overdue (C5)."""
    sent = 0
    councils: dict[int, Council | None] = {}
    for item in repo.open_action_items_due_by(session, now + rules.ACTION_DUE_SOON):
        stage = rules.action_reminder_stage(due_at=item.due_at, now=now, is_open=True, sent=item.reminder_sent)
        if item.council_id not in councils:  # one lookup per council, not per item
            councils[item.council_id] = repo.council_by_id(session, item.council_id)
        council = councils[item.council_id]
        if stage is None or council is None or council.state not in rules.OPERATING_STATES:
            continue
        item.reminder_sent = stage
        _audit(session, AuditTag.COUNCIL_ACTION_REMIND, now=now, actor=None, subject=_subject(council),
               data={"action_item_id": item.id, "assignee_id": item.assignee_id, "stage": stage})
        notices.action_reminder(session, council, item_id=item.id, title=item.title, assignee_id=item.assignee_id,
                                due_at=item.due_at, overdue=stage == "overdue", now=now)
        sent += 1
    return sent


def _lifecycle(session: Session, council_id: int, actor: Principal) -> Council:
    council, standing = _visible(session, council_id, actor)
    if not policy.can_manage_lifecycle(actor, standing):
        raise Forbidden("議長又は事務局のみが行えます（二段階認証が必要） / Only the chair or secretariat "
                        "(with a second factor) may do this")
    return council


def activate(session: Session, *, council_id: int, actor: Principal, now: datetime) -> Council:
    """Start the established council's work (established → active)."""
    council = _lifecycle(session, council_id, actor)
    rules.require_transition(council.state, CouncilState.ACTIVE)
    council.state = CouncilState.ACTIVE.value
    council.activated_at = now
    council.updated_at = now
    _audit(session, AuditTag.COUNCIL_ACTIVATE, now=now, actor=actor, subject=_subject(council))
    return council


def dissolve(session: Session, *, council_id: int, actor: Principal, now: datetime, reason: str) -> Council:
    """Dissolve the council (解散); records and the duty remain."""
    council = _lifecycle(session, council_id, actor)
    reason_t = rules.require_text(reason, "reason", max_length=2000)
    rules.require_transition(council.state, CouncilState.DISSOLVED)
    council.state = CouncilState.DISSOLVED.value
    council.ended_at = now
    council.end_reason = reason_t
    council.updated_at = now
    _audit(session, AuditTag.COUNCIL_DISSOLVE, now=now, actor=actor, subject=_subject(council),
           data={"reason": reason_t})
    for membership in repo.memberships(session, council.id):
        notices.access_lost(session, council, membership.user_id, now=now)  # content is closed to all now
    return council


# ---------------------------------------------------------------------------------------------
# Membership


def invite(session: Session, *, council_id: int, actor: Principal, now: datetime, user_id: int, role: str,
           deadline: datetime, party: str | None = None) -> Consent:
    """Invite a newcomer with their role and party type; they join when they consent before ``deadline``."""
    council, _ = _manage(session, council_id, actor)
    return _invite(session, council, actor=actor, now=now, user_id=user_id, role=role, deadline=deadline,
                   party=party)


def invite_for_project(session: Session, *, council_id: int, actor: Principal, now: datetime, user_id: int,
                       deadline: datetime) -> Consent | None:
    """Propose a person an approved plan change put on a project's team (研究体制の変更, issue 15) to the project's
    council: the same invitation as :func:`invite` (they join only by their own consent, and a foreign person
    goes through the F7 check when they do). ``actor`` is the agency staff member who approved the change; the
    approval stands in for the chair's decision to invite. Nothing is done (``None``) when the council is not
    operating or the person is already a member or invited."""
    council = repo.council_by_id(session, council_id)
    if council is None or council.state not in rules.OPERATING_STATES:
        return None
    if repo.current_membership(session, council.id, user_id) or repo.pending_consent(session, council.id, user_id):
        return None
    return _invite(session, council, actor=actor, now=now, user_id=user_id, role=CouncilRole.MEMBER.value,
                   deadline=deadline, party=typed.PartyType.PARTICIPANT.value)


def _invite(session: Session, council: Council, *, actor: Principal, now: datetime, user_id: int, role: str,
            deadline: datetime, party: str | None) -> Consent:
    role_v = _parse_role(role)
    party_v = typed.parse_party(party)
    rules.require_future(deadline, now, "deadline")
    user = _active_user(session, user_id, "user_id")
    _check_party(user, party_v, is_proposer=user_id == council.proposer_id)
    if repo.current_membership(session, council.id, user_id) is not None:
        raise Conflict("この方は既に構成員です / this person is already a member", field="user_id")
    if repo.pending_consent(session, council.id, user_id) is not None:
        raise Conflict("この方には回答待ちの招待があります / this person already has a pending invitation", field="user_id")
    row = Consent(council_id=council.id, user_id=user_id, organization_id=user.organization_id,
                  kind=ConsentKind.JOIN.value, role=role_v.value, party=party_v.value, decision=ConsentDecision.PENDING.value, reason=None,
                  deadline=deadline, decided_at=None, last_reminded_at=None, created_at=now)
    session.add(row)
    session.flush()
    _audit(session, AuditTag.COUNCIL_MEMBER_INVITE, now=now, actor=actor, subject=_subject(council),
           data={"user_id": user_id, "role": role_v.value, "party": party_v.value, "deadline": deadline.isoformat()})
    notices.consent_requested(session, council, [user_id], deadline=deadline, now=now)
    return row


def leave(session: Session, *, council_id: int, actor: Principal, now: datetime) -> Membership:
    """Leave the council: access ends at once (C3); the pledge record and the duty remain."""
    council, _ = _visible(session, council_id, actor)
    membership = repo.current_membership(session, council.id, actor.user_id)
    if membership is None:
        raise Conflict("この協議会の構成員ではありません / you are not a member of this council")
    membership.left_at = now
    _audit(session, AuditTag.COUNCIL_MEMBER_LEAVE, now=now, actor=actor, subject=_subject(council),
           data={"user_id": actor.user_id, "role": membership.role})
    notices.access_lost(session, council, actor.user_id, now=now)
    return membership


def remove_member(session: Session, *, council_id: int, actor: Principal, now: datetime, user_id: int,
                  reason: str) -> Membership:
    """Remove a member (secretariat or chair, with a reason): access ends at once, the pledge and duty remain (C3).

    The only chair cannot be removed until another member is made chair (``membership.check_removal``).
    """
    council, _ = _manage(session, council_id, actor)
    return _remove(session, council, actor=actor, now=now, user_id=user_id, reason=reason)


def remove_for_project(session: Session, *, council_id: int, actor: Principal, now: datetime, user_id: int,
                       reason: str) -> Membership | None:
    """Remove a person an approved plan change took off a project's team from the project's council, with the
    change's reason (C3: access ends at once, the pledge and the duty remain; the same path as
    :func:`remove_member`); a pending invitation is withdrawn (declined with the reason). ``actor`` is the agency
    staff member who approved. ``None`` when they were neither a member nor invited."""
    council = repo.council_by_id(session, council_id)
    if council is None:
        return None
    pending = repo.pending_consent(session, council.id, user_id)
    if pending is not None and pending.kind == ConsentKind.JOIN:
        pending.decision, pending.reason, pending.decided_at = ConsentDecision.DECLINED.value, reason[:2000], now
    if repo.current_membership(session, council.id, user_id) is None:
        return None
    return _remove(session, council, actor=actor, now=now, user_id=user_id, reason=reason)


def _remove(session: Session, council: Council, *, actor: Principal, now: datetime, user_id: int,
            reason: str) -> Membership:
    reason_t = rules.require_text(reason, "reason", max_length=2000)
    target = repo.current_membership(session, council.id, user_id)
    chairs = [m for m in repo.current_members(session, council.id)
              if m.role == CouncilRole.CHAIR and m.user_id != user_id]
    typed.check_removal(target_role=None if target is None else target.role, other_chairs=len(chairs),
                        self_removal=user_id == actor.user_id)
    assert target is not None
    target.left_at = now
    target.removed_by_id = actor.user_id
    target.removal_reason = reason_t
    _audit(session, AuditTag.COUNCIL_MEMBER_REMOVE, now=now, actor=actor, subject=_subject(council),
           data={"user_id": user_id, "role": target.role, "party": target.party, "reason": reason_t})
    notices.access_lost(session, council, user_id, now=now)
    notices.member_removed(session, council, user_id, reason=reason_t, now=now)
    return target


def set_role(session: Session, *, council_id: int, actor: Principal, now: datetime, user_id: int,
             role: str) -> Membership:
    """Change a current member's council role (chair, secretariat, member, observer)."""
    council, _ = _manage(session, council_id, actor)
    role_v = _parse_role(role)
    membership = repo.current_membership(session, council.id, user_id)
    if membership is None:
        raise ValidationFailed(f"指定された利用者（番号 {user_id}）は現在の構成員ではありません / person {user_id} is not a current member", field="user_id")
    old = membership.role
    if old == role_v.value:
        return membership
    chairs = [m for m in repo.current_members(session, council.id)
              if m.role == CouncilRole.CHAIR and m.user_id != user_id]
    typed.check_role_change(old_role=old, new_role=role_v.value, other_chairs=len(chairs))
    membership.role = role_v.value
    _audit(session, AuditTag.COUNCIL_MEMBER_ROLE, now=now, actor=actor, subject=_subject(council),
           data={"user_id": user_id, "from": old, "to": role_v.value})
    return membership


def member_history(session: Session, *, council_id: int, actor: Principal) -> list[Membership]:
    """Return every membership including those that ended (managers)."""
    council, _ = _manage(session, council_id, actor)
    return repo.memberships(session, council.id)


# ---------------------------------------------------------------------------------------------
# Pledges (C3)


@dataclass(frozen=True)
class PledgePreview:
    """The pledge a member would sign now, and whether they hold a current one."""

    text: str
    bylaws_version: int
    duty_version: int
    current: Pledge | None
    history: list[Pledge]


def version_articles(row: BylawsVersion) -> list[articles.Article]:
    """Return a bylaws version's articles (a row written before they were kept: split from its text)."""
    return articles.from_json(row.articles) if row.articles else articles.parse(row.text)


def version_parameters(row: BylawsVersion) -> dict[str, int]:
    """Return a bylaws version's parameters by column (the one reader of articles.PARAMETERS off a row)."""
    return {p.column: int(getattr(row, p.column)) for p in articles.PARAMETERS}


def duty_article_number(session: Session, council: Council) -> int:
    """Return the number of the article carrying the duty in the bylaws in force (第N条, C3)."""
    row = repo.bylaws(session, council.id, council.bylaws_version)
    assert row is not None
    number = articles.duty_number(version_articles(row))
    assert number is not None  # articles.checked and articles.parse never leave a version without one
    return number


def _pledge_text(session: Session, council: Council, user: User, now: datetime) -> str:
    row = repo.bylaws(session, council.id, council.bylaws_version)  # the same row duty_article_number reads
    return rules.pledge_text(council_title=council.title_ja, bylaws_version=council.bylaws_version,
                             duty_article=duty_article_number(session, council),
                             signer_name=user.name_ja, organization_name=user.organization.name_ja,
                             signed_on=official_date(to_jst(now).date()),
                             oral_designation_days=row.oral_designation_days if row is not None else None)


def pledge_preview(session: Session, *, council_id: int, actor: Principal, now: datetime) -> PledgePreview:
    """Return the text to sign for the bylaws version in force and the caller's pledges."""
    council, _ = _visible(session, council_id, actor)
    return _pledge_preview(session, council, actor, now)


def _pledge_preview(session: Session, council: Council, actor: Principal, now: datetime) -> PledgePreview:
    user = accounts_repo.user_by_id(session, actor.user_id)
    assert user is not None
    history = repo.pledges_of(session, council.id, actor.user_id)  # newest first
    return PledgePreview(text=_pledge_text(session, council, user, now), bylaws_version=council.bylaws_version,
                         duty_version=council.duty_version,
                         current=next((p for p in history if p.duty_version == council.duty_version), None),
                         history=history)


@dataclass(frozen=True)
class CouncilPage:
    """Everything the council page shows one viewer, read with one check of their standing (C3, I7, I12)."""

    view: CouncilView
    preview: PledgePreview | None  # members only
    versions: list[BylawsVersion]
    meetings: list[Meeting]  # the lists below: content readers only
    decisions: list[DecisionView]
    actions: list[ActionItem]
    requests: list[MaterialRequest]


def council_page(session: Session, *, council_id: int, actor: Principal, now: datetime,
                 store: SealedDeps) -> CouncilPage:
    """Return the council page for ``actor``: the standing is loaded once and every part decided on it.

    The same checks as :func:`get_council`, :func:`pledge_preview`, :func:`list_bylaws` and the content lists
    (:func:`list_meetings`, :func:`list_decisions` — audited, I8 —, :func:`list_action_items`,
    :func:`list_requests`), without loading the standing again for each.
    """
    council, standing = _visible(session, council_id, actor)
    versions = repo.bylaws_versions(session, council.id)
    view = _council_view(session, council, standing, actor,
                         next((v for v in versions if v.version == council.bylaws_version), None))
    preview = _pledge_preview(session, council, actor, now) if standing.is_member else None
    if view.content_block is not None:
        return CouncilPage(view=view, preview=preview, versions=versions, meetings=[], decisions=[], actions=[],
                           requests=[])
    require_visible(content_policy.can_read_council_text(actor, standing), "decisions")
    return CouncilPage(view=view, preview=preview, versions=versions, meetings=repo.meetings(session, council.id),
                       decisions=_decisions(session, council, actor=actor, now=now, store=store),
                       actions=repo.action_items(session, council.id, overdue_at=None),
                       requests=repo.requests(session, council.id))


def sign_pledge(session: Session, *, council_id: int, actor: Principal, now: datetime,
                bylaws_version: int) -> Pledge:
    """Sign the confidentiality pledge for the bylaws version in force (needs a second factor)."""
    council, standing = _visible(session, council_id, actor)
    membership = repo.current_membership(session, council.id, actor.user_id)
    if membership is None:
        raise Conflict("誓約書は現在の構成員のみ提出できます。先に参加に同意してください / only current members sign the pledge; consent first", field="bylaws_version")
    subject = _subject(council)
    try:
        if not actor.mfa:
            raise Forbidden("二段階認証が必要です / A second factor is required to sign")
        if council.state not in (CouncilState.PROPOSED, CouncilState.ESTABLISHED, CouncilState.ACTIVE):
            raise Conflict(f"この協議会（{_state(council.state)}）では誓約書を提出できません / the council is {council.state}", field="bylaws_version")
        rules.check_pledge_version(offered_version=bylaws_version, current_version=council.bylaws_version)
    except BansoError as exc:
        _refuse(session, exc, AuditTag.COUNCIL_PLEDGE_REFUSED, now=now, actor=actor, subject=subject,
                data={"offered_version": bylaws_version, "current_version": council.bylaws_version})
    if standing.pledge_current:
        raise Conflict("現行の守秘義務に対する誓約書は提出済みです / you already hold a pledge for the duty in force", field="bylaws_version")
    user = accounts_repo.user_by_id(session, actor.user_id)
    assert user is not None
    text = _pledge_text(session, council, user, now)
    pledge = Pledge(council_id=council.id, user_id=user.id, organization_id=user.organization_id,
                    bylaws_version=council.bylaws_version, duty_version=council.duty_version, text=text,
                    text_sha256=rules.sha256_text(text), signed_at=now)
    session.add(pledge)
    session.flush()
    _audit(session, AuditTag.COUNCIL_PLEDGE_SIGN, now=now, actor=actor, subject=subject,
           data={"pledge_id": pledge.id, "bylaws_version": pledge.bylaws_version,
                 "duty_version": pledge.duty_version, "sha256": pledge.text_sha256})
    return pledge


def list_pledges(session: Session, *, council_id: int, actor: Principal) -> list[Pledge]:
    """Return every pledge of the council (chair and secretariat)."""
    council, _ = _manage(session, council_id, actor)
    return repo.pledges(session, council.id)


def pledge_pdf(session: Session, *, council_id: int, pledge_id: int, actor: Principal,
               now: datetime) -> tuple[Pledge, bytes]:
    """Return a pledge as PDF: its signer (while a member) or a manager; the download is audited."""
    council, standing = _visible(session, council_id, actor)
    pledge = repo.pledge_by_id(session, pledge_id)
    allowed = pledge is not None and pledge.council_id == council.id and policy.can_download_pledge(
        actor, standing, is_signer=pledge.user_id == actor.user_id)
    require_visible(allowed, "pledge")
    assert pledge is not None
    signed_under = repo.bylaws(session, council.id, pledge.bylaws_version)
    duty = articles.duty_number(version_articles(signed_under)) if signed_under is not None else None
    cited = f" 第{duty}条（守秘義務）" if duty is not None else ""
    footer = (f"banso 誓約記録 #{pledge.id} / 規約第{pledge.bylaws_version}版{cited} / 署名 "
              f"{official_date(to_jst(pledge.signed_at))} {to_jst(pledge.signed_at):%H:%M:%S} JST / SHA-256 {pledge.text_sha256}")
    data = render_pledge_pdf(text=pledge.text, footer=footer)
    _audit(session, AuditTag.COUNCIL_PLEDGE_DOWNLOAD, now=now, actor=actor, subject=_subject(council),
           data={"pledge_id": pledge.id})
    return pledge, data


# ---------------------------------------------------------------------------------------------
# Meetings (C5)


@dataclass(frozen=True)
class AgendaInput:
    """An agenda item to add (C4: tagged with a matter)."""

    title: str
    matter: str
    note: str | None = None


@dataclass(frozen=True)
class DecisionView:
    """A decision with its text opened for one reader (the text is sealed at rest, I11, I12)."""

    id: int
    council_id: int
    meeting_id: int | None
    text: str
    matter: str
    adoption: str
    decided_at: datetime
    created_by_id: int


@dataclass(frozen=True)
class MeetingView:
    """A meeting with its agenda, attendance, opened minutes and decisions."""

    meeting: Meeting
    agenda: list[AgendaItem]
    attendance: list[MeetingAttendance]
    decisions: list[DecisionView]
    minutes_text: str | None = None
    materials: list[MeetingMaterial] = field(default_factory=list)  # 配布資料 (metadata; files via the gate)
    confirmations: list[ConfirmationView] = field(default_factory=list)  # circulated minutes (C5)
    may_manage: bool = False  # the service's decision, for the page's forms
    minutes_approvable: bool = False  # circulated, and every attendee confirmed or the deadline passed (C5)


@dataclass(frozen=True)
class ConfirmationView:
    """An attendee's answer to circulated minutes; the comment is opened for managers and its author only."""

    row: MinutesConfirmation
    comment: str | None = None


def _minutes_label(meeting_id: int) -> str:
    return f"minutes:meeting:{meeting_id}"


def _comment_label(meeting_id: int, user_id: int) -> str:
    return f"minutes-comment:meeting:{meeting_id}:user:{user_id}"


def _decision_label(decision_id: int) -> str:
    return f"decision:{decision_id}"


def _text_refusal(council: Council, data: dict[str, int]) -> sealed.Refusal:
    return sealed.Refusal(tag=AuditTag.COUNCIL_INTEGRITY_FAILED, subject=_subject(council), data=data)


def _open_minutes(session: Session, store: SealedDeps, council: Council, meeting: Meeting, *, actor: Principal,
                  now: datetime) -> str | None:
    if meeting.minutes_sealed is None:
        return None
    return sealed.open_text(session, store, sealed.council_scope(council.id), meeting.minutes_sealed,
                            label=_minutes_label(meeting.id), actor=actor, now=now,
                            refusal=_text_refusal(council, {"meeting_id": meeting.id}))


def _open_decision(session: Session, store: SealedDeps, council: Council, row: Decision, *, actor: Principal,
                   now: datetime) -> DecisionView:
    text = sealed.open_text(session, store, sealed.council_scope(council.id), row.text_sealed,
                            label=_decision_label(row.id), actor=actor, now=now,
                            refusal=_text_refusal(council, {"decision_id": row.id}))
    return DecisionView(id=row.id, council_id=row.council_id, meeting_id=row.meeting_id, text=text,
                        matter=row.matter, adoption=row.adoption, decided_at=row.decided_at,
                        created_by_id=row.created_by_id)


def _meeting(session: Session, council: Council, meeting_id: int) -> Meeting:
    found = repo.meeting(session, council.id, meeting_id)
    if found is None:
        raise NotFound("会合が見つかりません / meeting not found")
    return found


def _add_agenda(session: Session, meeting: Meeting, item: AgendaInput) -> AgendaItem:
    title = rules.require_text(item.title, "title", max_length=300, line=True)
    matter = rules.parse_matter(item.matter)
    row = AgendaItem(meeting_id=meeting.id, position=repo.next_agenda_position(session, meeting.id), title=title,
                     matter=matter.value, note=clean_text(item.note, "note", max_length=5000, required=False) or None)
    session.add(row)
    session.flush()
    return row


def schedule_meeting(session: Session, *, council_id: int, actor: Principal, now: datetime, title: str,
                     starts_at: datetime, location: str | None = None,
                     agenda: Sequence[AgendaInput] = (), held: bool = False) -> Meeting:
    """Schedule a future meeting, or record one already held (``held``), with an agenda by matter (chair,
    secretariat)."""
    council, _ = _manage(session, council_id, actor)
    title_t = rules.require_text(title, "title", max_length=200, line=True)
    rules.require_meeting_time(starts_at, now, held=held)
    for item in agenda:  # validate everything before writing anything
        rules.require_text(item.title, "title", max_length=300, line=True)
        rules.parse_matter(item.matter)
    meeting = Meeting(council_id=council.id, title=title_t, starts_at=starts_at,
                      location=clean_text(location, "location", max_length=200, required=False, line=True) or None,
                      minutes_state=MinutesState.NONE.value, held=held,
                      minutes_sealed=None, created_by_id=actor.user_id, created_at=now)
    session.add(meeting)
    session.flush()
    for item in agenda:
        _add_agenda(session, meeting, item)
    tag = AuditTag.COUNCIL_MEETING_RECORD if held else AuditTag.COUNCIL_MEETING_SCHEDULE
    _audit(session, tag, now=now, actor=actor, subject=_subject(council),
           data={"meeting_id": meeting.id, "starts_at": starts_at.isoformat(), "agenda": len(agenda), "held": held})
    if held:  # nobody needs to be told to come to a meeting that is over
        return meeting
    notices.meeting_scheduled(session, council, meeting_id=meeting.id, title=title_t, starts_at=starts_at,
                              actor_id=actor.user_id, now=now)
    return meeting


def add_agenda_item(session: Session, *, council_id: int, meeting_id: int, actor: Principal, now: datetime,
                    title: str, matter: str, note: str | None = None) -> AgendaItem:
    """Add an agenda item tagged with a matter (C4)."""
    council, _ = _manage(session, council_id, actor)
    meeting = _meeting(session, council, meeting_id)
    if meeting.minutes_state == MinutesState.APPROVED:
        raise Conflict("議事録は承認済みのため議題を追加できません / the minutes are approved; the agenda is closed")
    row = _add_agenda(session, meeting, AgendaInput(title=title, matter=matter, note=note))
    _audit(session, AuditTag.COUNCIL_AGENDA_ADD, now=now, actor=actor, subject=_subject(council),
           data={"meeting_id": meeting.id, "agenda_item_id": row.id, "matter": row.matter})
    return row


def record_attendance(session: Session, *, council_id: int, meeting_id: int, actor: Principal, now: datetime,
                      user_id: int, status: str) -> MeetingAttendance:
    """Record whether a member attended (present, absent, excused, by proxy, as observer)."""
    council, _ = _manage(session, council_id, actor)
    meeting = _meeting(session, council, meeting_id)
    status_v = parse_attendance(status)
    require_attendance_open(meeting)
    if repo.current_membership(session, council.id, user_id) is None:
        raise ValidationFailed(f"{user_id} は現在の参加者ではありません / person {user_id} is not a current member",
                               field="user_id")
    require_may_attend(status_v, user_id, pledged_members(session, council))
    row = repo.attendance_of(session, meeting.id, user_id)
    if row is None:
        row = MeetingAttendance(meeting_id=meeting.id, user_id=user_id, status=status_v.value)
        session.add(row)
    else:
        row.status = status_v.value
    _audit(session, AuditTag.COUNCIL_ATTENDANCE_RECORD, now=now, actor=actor, subject=_subject(council),
           data={"meeting_id": meeting.id, "user_id": user_id, "status": status_v.value})
    return row


def parse_attendance(value: str) -> Attendance:
    """Return the attendance status or refuse an unknown one."""
    try:
        return Attendance(value)
    except ValueError:
        allowed = ", ".join(a.value for a in Attendance)
        raise ValidationFailed(f"出席状況が不正です / unknown attendance {value!r}; use one of {allowed}",
                               field="status") from None


def pledged_members(session: Session, council: Council) -> set[int]:
    """Return the current members who hold the pledge for the duty in force: who may read the council's
    content, so who may attend as present or by proxy and confirm minutes (C3, C5)."""
    return {m.user_id for m, _, pledged in repo.current_members_with_users(session, council) if pledged}


def require_may_attend(status: Attendance, user_id: int, pledged: set[int]) -> None:
    """Refuse present or by proxy for a member without the pledge: they cannot read the minutes they would be
    asked to confirm (outside test F4); such a member is recorded as an observer or absent."""
    if status.value in rules.CONFIRMING_ATTENDANCE and user_id not in pledged:
        raise ValidationFailed(f"{user_id} は誓約書を提出していないため出席・代理出席として記録できません（オブザーバー又は"
                               f"欠席として記録してください） / person {user_id} has not signed the pledge and cannot be "
                               "recorded as present or by proxy; record them as observer or absent", field="status")


def require_attendance_open(meeting: Meeting) -> None:
    """Refuse an attendance change once the minutes went to the attendees (they are who confirms, C5)."""
    if meeting.minutes_state == MinutesState.APPROVED:  # approved minutes are final: no redraft reopens it
        raise Conflict("議事録は承認済みのため出席を変更できません / attendance is final once the minutes are approved",
                       field="status")
    if meeting.minutes_state == MinutesState.CIRCULATED:
        raise Conflict("議事録の確認依頼後は出席を変更できません（議事録案を修正すると再度変更できます） / attendance "
                       "is fixed once the minutes are circulated; redraft the minutes to change it", field="status")


def draft_minutes(session: Session, *, council_id: int, meeting_id: int, actor: Principal, now: datetime,
                  text: str, store: SealedDeps) -> Meeting:
    """Write or replace the draft minutes (議事録案), sealed under the council's key (I11, I12)."""
    council, _ = _manage(session, council_id, actor)
    meeting = _meeting(session, council, meeting_id)
    body = rules.require_text(text, "text", max_length=100_000)
    if meeting.minutes_state == MinutesState.APPROVED:
        raise Conflict("議事録は承認済みのため修正できません / the minutes are already approved and final")
    # C5: a redraft of circulated minutes withdraws the circulation; the attendees confirm the new text.
    withdrawn = repo.clear_confirmations(session, meeting.id) if meeting.minutes_state == MinutesState.CIRCULATED else 0
    meeting.minutes_sealed = sealed.seal_text(store, sealed.council_scope(council.id), body,
                                              label=_minutes_label(meeting.id))
    meeting.minutes_sha256 = rules.sha256_text(body)
    meeting.minutes_state = MinutesState.DRAFT.value
    meeting.minutes_circulated_at = meeting.minutes_deadline = meeting.minutes_reminded_at = None
    _audit(session, AuditTag.COUNCIL_MINUTES_DRAFT, now=now, actor=actor, subject=_subject(council),
           data={"meeting_id": meeting.id, "sha256": rules.sha256_text(body), "withdrawn_confirmations": withdrawn})
    return meeting


def approve_minutes(session: Session, *, council_id: int, meeting_id: int, actor: Principal,
                    now: datetime) -> Meeting:
    """Approve circulated minutes (circulated → approved) once every attendee confirmed or the confirmation
    deadline passed (C5); approved minutes are final. A refused approval is audited."""
    council, _ = _manage(session, council_id, actor)
    meeting = _meeting(session, council, meeting_id)
    # C5: a confirmer who left the council (or no longer holds the pledge) cannot answer; their row no longer counts
    still = pledged_members(session, council)
    answers = [c.answer for c in repo.confirmations(session, meeting.id) if c.user_id in still]
    try:
        if meeting.starts_at > now:
            raise Conflict("会合の開催前は議事録を承認できません / the meeting has not taken place yet")
        if meeting.minutes_state != MinutesState.CIRCULATED:
            raise Conflict(f"議事録は出席者の確認を経てから承認できます（現在: {rules.minutes_state_ja(meeting.minutes_state)}） / minutes are "
                           f"{meeting.minutes_state}; circulate them to the attendees for confirmation first")
        if not rules.minutes_approvable(answers=answers, deadline=meeting.minutes_deadline, now=now):
            raise Conflict("全ての出席者の確認が済むか確認期限を過ぎるまで承認できません / the minutes can be approved "
                           "once every attendee has confirmed or the confirmation deadline has passed")
    except Conflict as exc:
        _refuse(session, exc, AuditTag.COUNCIL_MINUTES_REFUSED, now=now, actor=actor, subject=_subject(council),
                data={"meeting_id": meeting.id, "step": "approve", "state": meeting.minutes_state,
                      "pending": sum(a != "confirmed" for a in answers)})
    meeting.minutes_state = MinutesState.APPROVED.value
    meeting.minutes_approved_at = now
    meeting.minutes_approved_by_id = actor.user_id
    _audit(session, AuditTag.COUNCIL_MINUTES_APPROVE, now=now, actor=actor, subject=_subject(council),
           data={"meeting_id": meeting.id, "sha256": meeting.minutes_sha256,
                 "confirmed": sum(a == "confirmed" for a in answers), "attendees": len(answers),
                 "after_deadline": meeting.minutes_deadline is not None and now >= meeting.minutes_deadline})
    return meeting


def list_meetings(session: Session, *, council_id: int, actor: Principal) -> list[Meeting]:
    """Return the council's meetings (pledged members)."""
    council, _ = _content(session, council_id, actor)
    return repo.meetings(session, council.id)


def get_meeting(session: Session, *, council_id: int, meeting_id: int, actor: Principal,
                now: datetime, store: SealedDeps) -> MeetingView:
    """Return one meeting with agenda, attendance, minutes and decisions opened; the read is audited (I8)."""
    council, standing = _content(session, council_id, actor)
    require_visible(content_policy.can_read_council_text(actor, standing), "meeting")
    meeting = _meeting(session, council, meeting_id)
    rows = [d for d in repo.decisions(session, council.id) if d.meeting_id == meeting.id]
    manage = policy.can_manage(actor, standing)
    # Open first: a refused opening is audited alone (A1), then the read is recorded.
    decisions = [_open_decision(session, store, council, d, actor=actor, now=now) for d in rows]
    minutes = _open_minutes(session, store, council, meeting, actor=actor, now=now)
    confirmations = [_confirmation_view(session, store, council, c, actor=actor, now=now, manage=manage)
                     for c in repo.confirmations(session, meeting.id)]
    _audit(session, AuditTag.COUNCIL_MEETING_READ, now=now, actor=actor, subject=_subject(council),
           data={"meeting_id": meeting.id, "minutes": minutes is not None, "decision_ids": [d.id for d in rows],
                 "comments": [c.row.id for c in confirmations if c.comment is not None]})
    return MeetingView(meeting=meeting, agenda=repo.agenda(session, meeting.id),
                       attendance=repo.attendance(session, meeting.id), decisions=decisions, minutes_text=minutes,
                       materials=repo.materials(session, meeting.id), confirmations=confirmations, may_manage=manage,
                       minutes_approvable=meeting.minutes_state == MinutesState.CIRCULATED and rules.minutes_approvable(
                           answers=[c.row.answer for c in confirmations], deadline=meeting.minutes_deadline, now=now))


def _confirmation_view(session: Session, store: SealedDeps, council: Council, row: MinutesConfirmation, *,
                       actor: Principal, now: datetime, manage: bool) -> ConfirmationView:
    # C5: comments are shown to the secretariat (and to their author), not to every attendee.
    if row.comment_sealed is None or not (manage or row.user_id == actor.user_id):
        return ConfirmationView(row=row)
    text = sealed.open_text(session, store, sealed.council_scope(council.id), row.comment_sealed,
                            label=_comment_label(row.meeting_id, row.user_id), actor=actor, now=now,
                            refusal=_text_refusal(council, {"meeting_id": row.meeting_id, "confirmation_id": row.id}))
    return ConfirmationView(row=row, comment=text)


# ---------------------------------------------------------------------------------------------
# Decisions and action items (C5)


def record_decision(session: Session, *, council_id: int, actor: Principal, now: datetime, text: str,
                    matter: str, adoption: str, store: SealedDeps, meeting_id: int | None = None) -> Decision:
    """Record a decision (協議結果) with its matter and how it was adopted; the text is sealed (I11, I12)."""
    council, _ = _manage(session, council_id, actor)
    body = rules.require_text(text, "text", max_length=20_000)
    matter_v = rules.parse_matter(matter)
    try:
        adoption_v = Adoption(adoption)
    except ValueError:
        allowed = ", ".join(a.value for a in Adoption)
        raise ValidationFailed(f"判定が正しくありません。選択肢から選んでください / unknown adoption {adoption!r}; use one of {allowed}", field="adoption") from None
    if meeting_id is not None:
        _meeting(session, council, meeting_id)
    row = Decision(council_id=council.id, meeting_id=meeting_id, text_sealed=b"", matter=matter_v.value,
                   adoption=adoption_v.value, decided_at=now, created_by_id=actor.user_id)
    session.add(row)
    session.flush()
    # The associated data names the decision id, so the text is sealed once the row has one.
    row.text_sealed = sealed.seal_text(store, sealed.council_scope(council.id), body,
                                       label=_decision_label(row.id))
    session.flush()
    _audit(session, AuditTag.COUNCIL_DECISION_RECORD, now=now, actor=actor, subject=_subject(council),
           data={"decision_id": row.id, "matter": row.matter, "adoption": row.adoption, "meeting_id": meeting_id})
    return row


def list_decisions(session: Session, *, council_id: int, actor: Principal, now: datetime,
                   store: SealedDeps) -> list[DecisionView]:
    """Return the council's decisions with their texts opened (pledged members); the read is audited (I8)."""
    council, standing = _content(session, council_id, actor)
    require_visible(content_policy.can_read_council_text(actor, standing), "decisions")
    return _decisions(session, council, actor=actor, now=now, store=store)


def _decisions(session: Session, council: Council, *, actor: Principal, now: datetime,
               store: SealedDeps) -> list[DecisionView]:
    """Open the council's decisions for a reader already checked (audited, I8)."""
    rows = repo.decisions(session, council.id)
    opened = [_open_decision(session, store, council, d, actor=actor, now=now) for d in rows]
    if rows:
        _audit(session, AuditTag.COUNCIL_DECISION_READ, now=now, actor=actor, subject=_subject(council),
               data={"decision_ids": [d.id for d in rows]})
    return opened


def create_action_item(session: Session, *, council_id: int, actor: Principal, now: datetime, title: str,
                       assignee_id: int, due_at: datetime, decision_id: int | None = None,
                       note: str | None = None) -> ActionItem:
    """Create an action item for a current member with a due date (C5)."""
    council, _ = _manage(session, council_id, actor)
    title_t = rules.require_text(title, "title", max_length=300, line=True)
    rules.require_future(due_at, now, "due_at")
    if decision_id is not None and repo.decision(session, council.id, decision_id) is None:
        raise ValidationFailed(f"指定された決定はこの協議会にありません / decision {decision_id} does not exist in this council", field="decision_id")
    if repo.current_membership(session, council.id, assignee_id) is None:
        _refuse(session, ValidationFailed(
            f"担当者は協議会の参加者である必要があります（{assignee_id} は現在の構成員ではありません） / "
            f"person {assignee_id} is not a current member; actions go to participants", field="assignee_id"),
            AuditTag.COUNCIL_ACTION_REFUSED, now=now, actor=actor, subject=_subject(council),
            data={"assignee_id": assignee_id})
    row = ActionItem(council_id=council.id, decision_id=decision_id, title=title_t, assignee_id=assignee_id,
                     due_at=due_at, status=ActionStatus.OPEN.value,
                     note=clean_text(note, "note", max_length=5000, required=False) or None,
                     created_by_id=actor.user_id, created_at=now, closed_at=None)
    session.add(row)
    session.flush()
    _audit(session, AuditTag.COUNCIL_ACTION_CREATE, now=now, actor=actor, subject=_subject(council),
           data={"action_item_id": row.id, "assignee_id": assignee_id, "due_at": due_at.isoformat(),
                 "decision_id": decision_id})
    notices.action_assigned(session, council, item_id=row.id, title=title_t, assignee_id=assignee_id,
                            due_at=due_at, now=now)
    return row


def _close_item(session: Session, *, council_id: int, item_id: int, actor: Principal, now: datetime,
                status: ActionStatus, note: str | None) -> ActionItem:
    council, standing = _content(session, council_id, actor)
    item = repo.action_item(session, council.id, item_id)
    if item is None:
        raise NotFound("取組事項が見つかりません / action item not found")
    if status is ActionStatus.DONE:
        allowed = policy.can_act_on_item(actor, standing, assignee_id=item.assignee_id)
    else:
        allowed = policy.can_manage(actor, standing)
    if not allowed:
        raise Forbidden("担当者又は事務局のみが行えます / Only the assignee or the secretariat may do this")
    rules.check_open(item.status)
    item.status = status.value
    item.closed_at = now
    added = clean_text(note, "note", max_length=5000, required=False)
    if added:
        item.note = ((item.note + "\n") if item.note else "") + added
    tag = AuditTag.COUNCIL_ACTION_COMPLETE if status is ActionStatus.DONE else AuditTag.COUNCIL_ACTION_CANCEL
    _audit(session, tag, now=now, actor=actor, subject=_subject(council), data={"action_item_id": item.id})
    return item


def complete_action_item(session: Session, *, council_id: int, item_id: int, actor: Principal, now: datetime,
                         note: str | None = None) -> ActionItem:
    """Mark an action item done (its assignee, or chair/secretariat)."""
    return _close_item(session, council_id=council_id, item_id=item_id, actor=actor, now=now,
                       status=ActionStatus.DONE, note=note)


def cancel_action_item(session: Session, *, council_id: int, item_id: int, actor: Principal, now: datetime,
                       note: str | None = None) -> ActionItem:
    """Cancel an action item (chair/secretariat)."""
    return _close_item(session, council_id=council_id, item_id=item_id, actor=actor, now=now,
                       status=ActionStatus.CANCELLED, note=note)


def list_action_items(session: Session, *, council_id: int, actor: Principal, now: datetime,
                      overdue_only: bool = False) -> list[ActionItem]:
    """Return the council's action items, or only the overdue ones (open and past due)."""
    council, _ = _content(session, council_id, actor)
    return repo.action_items(session, council.id, overdue_at=now if overdue_only else None)


def my_action_items(session: Session, *, actor: Principal, now: datetime,
                    overdue_only: bool = False) -> list[ActionItem]:
    """Return the caller's action items across the councils whose content they may read now."""
    readable = [c.id for c in list_councils(session, actor=actor)
                if policy.can_read_content(actor, standing_of(session, c, actor.user_id))]
    return repo.action_items_of(session, actor.user_id, readable, overdue_at=now if overdue_only else None)


# ---------------------------------------------------------------------------------------------
# Material requests (C6)


@dataclass(frozen=True)
class UploadedFile:
    """A file given with an answer."""

    filename: str
    content_type: str
    data: bytes
    # What :func:`validate_files` found, before the unit's write transaction (O4); None: not yet checked.
    checked: FileKind | UploadRejected | None = None


def validate_files(files: Sequence[UploadedFile]) -> list[UploadedFile]:
    """Validate answer files completely (O1) without a session: the CPU-heavy parse, to run with no transaction
    open (O4). A refusal is kept, not raised: :func:`answer_request` raises it where it always did."""
    checked = []
    for f in files:
        try:
            found: FileKind | UploadRejected = sniff(f.data, f.filename, f.content_type, max_bytes=MAX_FILE_BYTES)
        except UploadRejected as exc:
            found = exc
        checked.append(replace(f, checked=found))
    return checked


def _kind_of(f: UploadedFile) -> FileKind:
    if isinstance(f.checked, UploadRejected):
        raise f.checked
    return f.checked or sniff(f.data, f.filename, f.content_type, max_bytes=MAX_FILE_BYTES)


@dataclass(frozen=True)
class RequestView:
    """A material request as one reader sees it: the answer and its files only for its parties (C6)."""

    request: MaterialRequest
    files: list[MaterialFile]
    answer_text: str | None = None  # opened from its seal for the answer's parties only (I11, I12)


def _answer_label(request_id: int) -> str:
    return f"answer:request:{request_id}"


def open_answer(session: Session, store: SealedDeps, council: Council, req: MaterialRequest, *,
                actor: Principal, now: datetime) -> str | None:
    """Open a request's sealed answer text (None before it is answered); the caller decided who may read it."""
    # Callers have asked can_read_answer (or, for a commission, can_read_own_answer) first (C6): the council
    # key is released only after that (I11).
    if req.answer_sealed is None:
        return None
    return sealed.open_text(session, store, sealed.council_scope(council.id), req.answer_sealed,
                            label=_answer_label(req.id), actor=actor, now=now,
                            refusal=_text_refusal(council, {"request_id": req.id}))


def _request(session: Session, council: Council, request_id: int) -> MaterialRequest:
    found = repo.request(session, council.id, request_id)
    if found is None:
        raise NotFound("資料の求めが見つかりません / material request not found")
    return found


def managed(session: Session, *, council_id: int, actor: Principal) -> tuple[Council, Standing]:
    """Return the council and the actor's standing for its chair/secretariat (404/403 otherwise)."""
    return _manage(session, council_id, actor)


def _insert_request(session: Session, council: Council, *, actor: Principal, now: datetime, title: str, body: str,
                    matter: str, kind: AddresseeKind, addressee_id: int, due_at: datetime,
                    commission_id: int | None = None) -> MaterialRequest:
    title_t = rules.require_text(title, "title", max_length=300, line=True)
    body_t = rules.require_text(body, "body", max_length=20_000)
    matter_v = rules.parse_matter(matter)
    rules.require_future(due_at, now, "due_at")
    row = MaterialRequest(council_id=council.id, title=title_t, body=body_t, matter=matter_v.value,
                          addressee_kind=kind.value, addressee_id=addressee_id, due_at=due_at,
                          status=RequestStatus.OPEN.value, created_by_id=actor.user_id, created_at=now,
                          commission_id=commission_id)
    session.add(row)
    session.flush()
    data: dict[str, object] = {"request_id": row.id, "addressee_id": addressee_id, "kind": kind.value,
                               "due_at": due_at.isoformat(), "matter": matter_v.value}
    if commission_id is not None:
        data["commission_id"] = commission_id
    _audit(session, AuditTag.COUNCIL_REQUEST_CREATE, now=now, actor=actor, subject=_subject(council), data=data)
    return row


def create_commission_request(session: Session, council: Council, *, actor: Principal, now: datetime, title: str,
                              body: str, matter: str, commission_id: int, contact_id: int,
                              due_at: datetime) -> MaterialRequest:
    """Record a request to a think-tank commission outside the council (Art. 64); the caller decided who may
    (``authz.policies.commission_requests.can_address``) and tells the commission's roster."""
    return _insert_request(session, council, actor=actor, now=now, title=title, body=body, matter=matter,
                           kind=AddresseeKind.COMMISSION, addressee_id=contact_id, due_at=due_at,
                           commission_id=commission_id)


def create_request(session: Session, *, council_id: int, actor: Principal, now: datetime, title: str, body: str,
                   matter: str, addressee_kind: str, addressee_id: int, due_at: datetime) -> MaterialRequest:
    """Request materials (資料提供の求め) from the think tank or a participant, with a due date (C6)."""
    council, _ = _manage(session, council_id, actor)
    try:
        kind = AddresseeKind(addressee_kind)
        if kind is AddresseeKind.COMMISSION:
            raise ValueError(kind)  # a commission is asked through its own route (programme/tank_requests.py)
    except ValueError:
        raise ValidationFailed("求める相手は「シンクタンク」か「参加者」から選んでください / addressee_kind must be think_tank or participant", field="addressee_kind") from None
    rules.require_future(due_at, now, "due_at")
    if repo.current_membership(session, council.id, addressee_id) is None:
        raise ValidationFailed(f"指定された利用者（番号 {addressee_id}）は現在の構成員ではありません / person {addressee_id} is not a current member", field="addressee_id")
    addressee = _active_user(session, addressee_id, "addressee_id")
    if kind is AddresseeKind.THINK_TANK and addressee.organization.kind != OrgKind.THINK_TANK:
        raise ValidationFailed("提供先はシンクタンクに所属していません / the addressee does not belong to a think tank", field="addressee_id")
    row = _insert_request(session, council, actor=actor, now=now, title=title, body=body, matter=matter, kind=kind,
                          addressee_id=addressee_id, due_at=due_at)
    notices.material_requested(session, council, request_id=row.id, title=row.title, addressee_id=addressee_id,
                               due_at=due_at, now=now)
    return row


def answer_request(session: Session, *, council_id: int, request_id: int, actor: Principal, now: datetime,
                   text: str, store: SealedDeps, files: Sequence[UploadedFile] = ()) -> RequestView:
    """Answer a material request with text and files sealed under the council's key (addressee or manager)."""
    council, standing = _content(session, council_id, actor)
    req = _request(session, council, request_id)
    if not content_policy.can_answer_on_council_side(_parties(req)):
        raise Conflict("シンクタンクへの資料提供の求めには、委託先の従事者名簿の者が委託側の画面で回答します / "
                       "a request to a think-tank commission is answered only by its engaged roster, on the "
                       "commission's side")
    if not policy.can_answer_request(actor, standing, addressee_id=req.addressee_id):
        raise Forbidden("宛先の参加者又は事務局のみが回答できます / Only the addressee or the secretariat may answer")
    return record_answer(session, council, req, actor=actor, now=now, text=text, store=store, files=files)


def record_answer(session: Session, council: Council, req: MaterialRequest, *, actor: Principal, now: datetime,
                  text: str, store: SealedDeps, files: Sequence[UploadedFile] = ()) -> RequestView:
    """Seal an answer's text and files under the council's key and record it (the caller decided who may)."""
    if req.status != RequestStatus.OPEN:
        raise Conflict(f"この提供要請（{_state(req.status)}）には回答できません / the request is {req.status}")
    body = rules.require_text(text, "text", max_length=50_000)
    # O1: validated as item files are (the one file-name rule, the stamp and viewer limits), so every
    # answer file can be served.
    kinds = [_kind_of(f) for f in files]  # validated before the transaction by the routes (O4)
    rows = [_seal_answer_file(session, store, council, req, f, kind.content_type, actor=actor, now=now)
            for f, kind in zip(files, kinds, strict=True)]
    # I11, I12: the text is sealed like minutes; the associated data names the request, so a sealed
    # answer copied onto another request or council does not open there.
    req.answer_sealed = sealed.seal_text(store, sealed.council_scope(council.id), body, label=_answer_label(req.id))
    req.answered_at = now
    req.answered_by_id = actor.user_id
    req.status = RequestStatus.ANSWERED.value
    session.flush()
    # A1 with ids and hashes only: file names of non-public content stay out of the log.
    _audit(session, AuditTag.COUNCIL_REQUEST_ANSWER, now=now, actor=actor, subject=_subject(council),
           data={"request_id": req.id, "late": now > req.due_at, **_commission_of(req),
                 "files": [{"file_id": r.id, "sha256": r.sha256, "size": r.size} for r in rows]})
    return RequestView(request=req, files=repo.files_of(session, req.id), answer_text=body)


def _commission_of(req: MaterialRequest) -> dict[str, int]:
    return {} if req.commission_id is None else {"commission_id": req.commission_id}


def _seal_answer_file(session: Session, store: SealedDeps, council: Council, req: MaterialRequest,
                      f: UploadedFile, content_type: str, *, actor: Principal, now: datetime) -> MaterialFile:
    digest = hashlib.sha256(f.data).hexdigest()
    # I11: sealed under the council's key before anything is written; the plaintext never reaches disk.
    envelope = sealed.seal_file(store, sealed.council_scope(council.id), f.data,
                                label=sealed.file_label(SealedKind.MATERIAL_FILE, digest))
    row = MaterialFile(request_id=req.id, filename=safe_filename(f.filename),
                       content_type=content_type, size=len(f.data),
                       sha256=digest, blob=envelope.blob, wrapped_key=envelope.wrapped_key,
                       uploaded_by_id=actor.user_id, uploaded_at=now)
    session.add(row)
    session.flush()
    return row


def close_request(session: Session, *, council_id: int, request_id: int, actor: Principal,
                  now: datetime) -> MaterialRequest:
    """Close a material request (chair/secretariat)."""
    council, _ = _manage(session, council_id, actor)
    req = _request(session, council, request_id)
    if req.status == RequestStatus.CLOSED:
        raise Conflict("この提供要請は既に終了しています / the request is already closed")
    req.status = RequestStatus.CLOSED.value
    req.closed_at = now
    _audit(session, AuditTag.COUNCIL_REQUEST_CLOSE, now=now, actor=actor, subject=_subject(council),
           data={"request_id": req.id})
    return req


def list_requests(session: Session, *, council_id: int, actor: Principal) -> list[MaterialRequest]:
    """Return the council's material requests (pledged members; titles only, never the answers)."""
    council, _ = _content(session, council_id, actor)
    return repo.requests(session, council.id)


def _parties(req: MaterialRequest) -> content_policy.AnswerParties:
    return content_policy.AnswerParties(requester_id=req.created_by_id, addressee_id=req.addressee_id,
                                        answered_by_id=req.answered_by_id, commission_id=req.commission_id)


def answer_parties(req: MaterialRequest) -> content_policy.AnswerParties:
    """The people ``req``'s answer belongs to, for the pages and the filing that ask the policy (C6)."""
    return _parties(req)


def list_request_views(session: Session, *, council_id: int, actor: Principal, now: datetime,
                       store: SealedDeps) -> list[RequestView]:
    """Return the council's material requests, each with its answer only for the answer's parties (C6).

    Every answer opened for the reader is audited in one entry (I8), as a single request's read is.
    """
    council, standing = _content(session, council_id, actor)
    views = [RequestView(request=r, files=[],
                         answer_text=open_answer(session, store, council, r, actor=actor, now=now)
                         if content_policy.can_read_answer(actor, standing, _parties(r)) else None)
             for r in repo.requests(session, council.id)]
    opened = [v.request.id for v in views if v.answer_text is not None]
    if opened:
        _audit(session, AuditTag.COUNCIL_REQUEST_READ, now=now, actor=actor, subject=_subject(council),
               data={"request_ids": opened, "answer": True})
    return views


def get_request(session: Session, *, council_id: int, request_id: int, actor: Principal,
                now: datetime, store: SealedDeps) -> RequestView:
    """Return one material request; its answer and files only for the answer's parties; audited (I8)."""
    council, standing = _content(session, council_id, actor)
    req = _request(session, council, request_id)
    visible = content_policy.can_read_answer(actor, standing, _parties(req))
    # Open first: a refused opening is audited alone (A1), then the read is recorded.
    answer = open_answer(session, store, council, req, actor=actor, now=now) if visible else None
    _audit(session, AuditTag.COUNCIL_REQUEST_READ, now=now, actor=actor, subject=_subject(council),
           data={"request_id": req.id, "answer": answer is not None})
    return RequestView(request=req, files=repo.files_of(session, req.id) if visible else [], answer_text=answer)


def _answer_file(session: Session, council_id: int, request_id: int, file_id: int,
                 actor: Principal) -> tuple[Council, MaterialFile]:
    council, standing = _content(session, council_id, actor)
    req = _request(session, council, request_id)
    row = repo.file(session, req.id, file_id)
    # C6, I7: outside the answer's parties a file looks missing, as an unknown id does.
    if row is None or not content_policy.can_read_answer(actor, standing, _parties(req)):
        raise NotFound("ファイルが見つかりません / file not found")
    return council, row


def open_answer_file(session: Session, store: SealedDeps, council: Council, row: MaterialFile, *,
                     actor: Principal, now: datetime) -> bytes:
    """Open an answer file's sealed bytes; the caller decided who may read it (C6, I11)."""
    refusal = sealed.Refusal(tag=AuditTag.COUNCIL_INTEGRITY_FAILED, subject=_subject(council),
                             data={"request_id": row.request_id, "file_id": row.id})
    if row.blob is None or row.wrapped_key is None:
        # A legacy plaintext row that migration 0011 has not sealed: never served unsealed.
        audit.refuse(session, TamperedCiphertext("このファイルは未暗号化のため提供できません / the file is not sealed; "
                                                 "run `banso db upgrade`"), refusal.tag, now=now, actor=actor,
                     subject=refusal.subject, data=refusal.data)
    return sealed.open_file(session, store, sealed.council_scope(council.id),
                            sealed.Envelope(wrapped_key=row.wrapped_key, blob=row.blob),
                            label=sealed.file_label(SealedKind.MATERIAL_FILE, row.sha256), actor=actor, now=now,
                            refusal=refusal)


def answer_files(session: Session, *, council_id: int, request_id: int, actor: Principal, now: datetime,
                 store: SealedDeps) -> list[tuple[MaterialFile, bytes]]:
    """Return the answer's files in plaintext to be filed as an item (parties only; audited, C6)."""
    council, standing = _content(session, council_id, actor)
    req = _request(session, council, request_id)
    if not content_policy.can_read_answer(actor, standing, _parties(req)):
        raise NotFound("資料の求めが見つかりません / material request not found")
    out = [(row, open_answer_file(session, store, council, row, actor=actor, now=now))
           for row in repo.files_of(session, req.id)]
    if out:
        _audit(session, AuditTag.COUNCIL_FILE_READ, now=now, actor=actor, subject=_subject(council),
               data={"request_id": req.id, "file_ids": [r.id for r, _ in out], "purpose": "filing"})
    return out


def read_file(session: Session, *, council_id: int, request_id: int, file_id: int, actor: Principal,
              now: datetime, store: SealedDeps) -> sealed.Copy:
    """Return an answer file stamped for ``actor`` (answer's parties only); recorded and audited (I8)."""
    return stamped_answer_file(session, store, actor=actor, now=now,
                               decide=lambda: _answer_file(session, council_id, request_id, file_id, actor))


def stamped_answer_file(session: Session, store: SealedDeps, *, actor: Principal, now: datetime,
                        decide: Callable[[], tuple[Council, MaterialFile]],
                        extra: dict[str, object] | None = None) -> sealed.Copy:
    """Open the answer file ``decide`` found (after its access decision), stamp a copy for ``actor``, record the
    distribution and audit the download (I8, I12) — the council's and the think tank's paths alike (C6)."""
    def opened(found: tuple[Council, MaterialFile]) -> sealed.Original:
        council, row = found
        return sealed.Original(kind=SealedKind.MATERIAL_FILE, object_id=row.id,
                               scope=sealed.council_scope(council.id), filename=row.filename,
                               content_type=row.content_type, label=f"資料提供ファイル #{row.id}",
                               data=open_answer_file(session, store, council, row, actor=actor, now=now))

    (council, row), copy, dist = sealed.copy_in_steps(session, store, actor=actor, now=now, open_original=opened,
                                                      decide=decide)
    _audit(session, AuditTag.COUNCIL_FILE_DOWNLOAD, now=now, actor=actor, subject=_subject(council),
           data={"request_id": row.request_id, "file_id": row.id, "sha256": row.sha256,
                 "distribution_id": dist.id, "channel": dist.channel, **(extra or {})})
    return copy
