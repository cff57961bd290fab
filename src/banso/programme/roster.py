"""The think tank's Art. 64 roster (issue 13, DESIGN F5): who is engaged in a commission.

* **The contact.** The commissioning side names the institution's contact (窓口担当者), a person of the
  commissioned institution; naming puts them on the roster. The contact names each person engaged
  and takes people off it; the owner side may take people off too.
* **Personal acknowledgement.** Each named person acknowledges the duty themselves, with a second
  factor (as the pledge, C3); the text they acknowledged and its SHA-256 are kept and served as a
  PDF laid out as the pledge is (``banso.councils.pdf``).
* **Access.** Only named people who acknowledged see the commission and its material; everyone else
  at the institution gets 404 (I7). Removal ends access at once; the row, the duty and its record
  stay (``removed_at``). Decisions: ``banso.authz.policies.programme``.

Every change is audited; a refused acknowledgement is audited as a refusal (A1).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts.models import User
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.guard import require_visible
from banso.authz.policies import programme as policy
from banso.authz.principal import Principal
from banso.councils.pdf import render_pledge_pdf
from banso.kit.clock import to_jst
from banso.kit.errors import BansoError, Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.japanese import official_date
from banso.kit.text import clean_text
from banso.programme import commissions, rules
from banso.programme.models import Commission, CommissionRosterEntry, CommissionState
from banso.programme.service import _audit


def _subject(commission: Commission) -> str:
    return f"commission:{commission.id}"


def _current(roster: list[CommissionRosterEntry], user_id: int) -> CommissionRosterEntry | None:
    return next((r for r in roster if r.user_id == user_id and r.removed_at is None), None)


def _person_of_institution(session: Session, commission: Commission, user_id: int, field: str) -> User:
    user = accounts_repo.user_by_id(session, user_id)
    if user is None or user.organization_id != commission.organization_id or not user.is_active:
        raise ValidationFailed("委託先機関の有効な利用者を指定してください / name an active person of the commissioned "
                               "institution", field=field)
    return user


def _name(session: Session, commission: Commission, user: User, *, actor: Principal, now: datetime,
          contact: bool) -> CommissionRosterEntry:
    """Put ``user`` on the roster (or keep their current row); audited as a roster addition."""
    row = _current(commissions.roster_of(session, commission.id), user.id)
    if row is None:
        row = CommissionRosterEntry(commission_id=commission.id, user_id=user.id,
                                    organization_id=commission.organization_id, is_contact=contact,
                                    named_by_id=actor.user_id, named_at=now, source="roster")
        session.add(row)
        session.flush()
        _audit(session, AuditTag.PROGRAMME_ROSTER_ADD, now=now, actor=actor, subject=_subject(commission),
               data={"roster_id": row.id, "user_id": user.id})
    elif contact:
        row.is_contact = True
    return row


def name_contact(session: Session, *, commission_id: int, user_id: int, now: datetime,
                 actor: Principal) -> CommissionRosterEntry:
    """The commissioning side names the institution's contact (窓口担当者); they join the roster."""
    commission, facts = commissions.standing(session, commission_id, actor, lock=True)
    if not policy.can_name_contact(actor, facts):
        raise Forbidden("委託元のみが窓口担当者を指定できます / only the commissioning side names the contact")
    user = _person_of_institution(session, commission, user_id, "user_id")
    for row in commissions.roster_of(session, commission.id):
        if row.is_contact and row.user_id != user.id:
            row.is_contact = False  # one contact at a time; the former contact stays named
    row = _name(session, commission, user, actor=actor, now=now, contact=True)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_ROSTER_CONTACT, now=now, actor=actor, subject=_subject(commission),
           data={"roster_id": row.id, "user_id": user.id})
    return row


def add_person(session: Session, *, commission_id: int, user_id: int, now: datetime,
               actor: Principal) -> CommissionRosterEntry:
    """The contact names a person of the institution as engaged in the commission."""
    commission, facts = commissions.standing(session, commission_id, actor, duty_only=True, lock=True)
    if not policy.can_add_to_roster(actor, facts):
        raise Forbidden("名簿は委託先の窓口担当者が管理します / the institution's contact manages the roster")
    user = _person_of_institution(session, commission, user_id, "user_id")
    if _current(commissions.roster_of(session, commission.id), user.id) is not None:
        raise Conflict("この人は既に名簿に記載されています / the person is already on the roster", field="user_id")
    return _name(session, commission, user, actor=actor, now=now, contact=False)


def remove_person(session: Session, *, commission_id: int, roster_id: int, reason: str, now: datetime,
                  actor: Principal) -> CommissionRosterEntry:
    """Take a person off the roster: their access ends at once; the duty and its record remain (C3)."""
    commission, facts = commissions.standing(session, commission_id, actor, duty_only=True, lock=True)
    if not policy.can_remove_from_roster(actor, facts):
        raise Forbidden("名簿は委託先の窓口担当者が管理します / the institution's contact manages the roster")
    row = session.get(CommissionRosterEntry, roster_id)
    if row is None or row.commission_id != commission.id:
        raise NotFound("名簿の登録が見つかりません / roster entry not found")
    if not policy.can_remove_roster_entry(actor, facts, user_id=row.user_id):
        audit.refuse(session, Conflict("窓口担当者は自分を名簿から外せません。窓口の交代は委託元に依頼してください / the "
                                       "contact cannot remove themself; ask the commissioning side to name another "
                                       "contact", field="roster_id"),
                     AuditTag.PROGRAMME_ROSTER_REFUSED, now=now, actor=actor, subject=_subject(commission),
                     data={"roster_id": row.id, "step": "remove"})
    if row.removed_at is not None:
        raise Conflict("既に名簿から外されています / already removed from the roster", field="roster_id")
    row.removal_reason = clean_text(reason, "reason", max_length=2000)
    row.removed_at, row.removed_by_id, row.is_contact = now, actor.user_id, False
    session.flush()
    _audit(session, AuditTag.PROGRAMME_ROSTER_REMOVE, now=now, actor=actor, subject=_subject(commission),
           data={"roster_id": row.id, "user_id": row.user_id, "reason": row.removal_reason})
    return row


def create_commission(session: Session, *, contact_id: int | None, now: datetime, actor: Principal,
                      **fields: object) -> Commission:
    """Commission an institution (``commissions.create_commission``) and, if given, name its contact."""
    commission = commissions.create_commission(session, now=now, actor=actor, **fields)  # type: ignore[arg-type]
    if contact_id is not None:
        name_contact(session, commission_id=commission.id, user_id=contact_id, now=now, actor=actor)
    return commission


def _text(session: Session, commission: Commission, user: User, now: datetime) -> str:
    return rules.acknowledgement_text(
        commission_title=commission.title, commission_code=commission.code, terms=commission.confidentiality_terms,
        signer_name=user.name_ja, organization_name=user.organization.name_ja,
        signed_on=official_date(to_jst(now).date()))


def preview(session: Session, *, commission_id: int, actor: Principal, now: datetime) -> str:
    """Return the acknowledgement text ``actor`` would acknowledge now (the named and the engaged)."""
    commission, facts = commissions.standing(session, commission_id, actor, duty_only=True)
    if not policy.is_named(actor, facts):
        raise NotFound("委託が見つかりません / commission not found")
    user = accounts_repo.user_by_id(session, actor.user_id)
    assert user is not None
    return _text(session, commission, user, now)


def acknowledge(session: Session, *, commission_id: int, now: datetime, actor: Principal) -> CommissionRosterEntry:
    """A named person acknowledges the Art. 64 duty personally (second factor required, as the pledge, C3)."""
    commission, facts = commissions.standing(session, commission_id, actor, duty_only=True, lock=True)
    row = _current(commissions.roster_of(session, commission.id), actor.user_id)
    if row is None or not policy.is_named(actor, facts):
        raise Forbidden("名簿に記載された人のみが確認できます / only people named on the roster acknowledge the duty")
    try:
        if not actor.mfa:
            raise Forbidden("二段階認証が必要です / A second factor is required to acknowledge the duty")
        if commission.state != CommissionState.ACTIVE:
            raise Conflict(f"委託は実施中ではありません / the commission is {commission.state}", field="state")
    except BansoError as exc:
        audit.refuse(session, exc, AuditTag.PROGRAMME_ROSTER_REFUSED, now=now, actor=actor,
                     subject=_subject(commission), data={"roster_id": row.id})
    if row.acknowledged_at is not None:
        raise Conflict("既に確認済みです / you already acknowledged the duty", field="acknowledged")
    user = accounts_repo.user_by_id(session, actor.user_id)
    assert user is not None
    text = _text(session, commission, user, now)
    row.acknowledged_at, row.acknowledged_text = now, text
    row.acknowledged_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    session.flush()
    _audit(session, AuditTag.PROGRAMME_COMMISSION_ACKNOWLEDGE, now=now, actor=actor, subject=_subject(commission),
           data={"roster_id": row.id, "sha256": row.acknowledged_sha256})
    return row


@dataclass(frozen=True)
class RosterView:
    """The roster as one reader may see it, with what they may do on it (one decision, pages and API)."""

    commission: Commission
    facts: policy.CommissionParties
    rows: list[CommissionRosterEntry]  # empty unless the reader may see the roster
    people: dict[int, User]
    mine: CommissionRosterEntry | None  # the reader's own current row
    candidates: list[User]  # people of the institution the contact may name
    may_see_roster: bool
    may_add: bool
    may_remove: bool
    may_name_contact: bool
    may_acknowledge: bool
    removable: frozenset[int] = frozenset()  # roster ids the reader may take off (not the contact's own row)


def view(session: Session, *, commission_id: int, actor: Principal, now: datetime) -> RosterView:
    """Return the roster for ``actor`` (404 unless they may see at least the duty); a read of the names is
    audited (I8: who is engaged on a commission is itself sensitive)."""
    commission, facts = commissions.standing(session, commission_id, actor, duty_only=True)
    every = commissions.roster_of(session, commission.id)
    see = policy.can_see_roster(actor, facts)
    rows = every if see else []
    if rows:
        _audit(session, AuditTag.PROGRAMME_ROSTER_READ, now=now, actor=actor, subject=_subject(commission),
               data={"roster_ids": [r.id for r in rows]})
    may_add, may_contact = policy.can_add_to_roster(actor, facts), policy.can_name_contact(actor, facts)
    named = {r.user_id for r in every if r.removed_at is None}
    candidates = [u for u in accounts_repo.list_users(session)
                  if u.organization_id == commission.organization_id and u.is_active
                  and (may_contact or u.id not in named)] if may_add or may_contact else []
    ids = {r.user_id for r in rows} | {r.named_by_id for r in rows} | {r.removed_by_id for r in rows if r.removed_by_id}
    return RosterView(commission=commission, facts=facts, rows=rows, people=accounts_repo.users_by_id(session, ids),
                      mine=_current(every, actor.user_id), candidates=candidates, may_see_roster=see,
                      may_add=may_add, may_remove=policy.can_remove_from_roster(actor, facts),
                      may_name_contact=may_contact, may_acknowledge=policy.can_acknowledge(actor, facts),
                      removable=frozenset(r.id for r in rows if r.removed_at is None
                                          and policy.can_remove_roster_entry(actor, facts, user_id=r.user_id)))


def acknowledgement_pdf(session: Session, *, commission_id: int, roster_id: int, now: datetime,
                        actor: Principal) -> tuple[CommissionRosterEntry, bytes]:
    """Return a person's acknowledgement as PDF (its signer, also after removal: their own record; the contact;
    the owner side); audited. Not through ``commissions.standing``: a removed signer no longer sees the duty page."""
    commission = session.get(Commission, commission_id)
    row = session.get(CommissionRosterEntry, roster_id)
    facts = commissions.parties(session, commission) if commission is not None else None
    allowed = (commission is not None and facts is not None and row is not None
               and row.commission_id == commission.id and row.acknowledged_at is not None
               and policy.can_download_acknowledgement(actor, facts, is_signer=row.user_id == actor.user_id))
    require_visible(allowed, "acknowledgement")
    assert commission is not None and row is not None and row.acknowledged_at is not None
    at = to_jst(row.acknowledged_at)
    origin = " / 移行記録（機関一括の確認を個人の確認として引継ぎ）" if row.source == "migrated" else ""
    footer = (f"banso 守秘義務確認記録 #{row.id} / 委託 {commission.code} / 確認 {official_date(at.date())} "
              f"{at:%H:%M:%S} JST / SHA-256 {row.acknowledged_sha256}{origin}")
    data = render_pledge_pdf(text=row.acknowledged_text or "", footer=footer, doc_title="守秘義務確認書")
    _audit(session, AuditTag.PROGRAMME_ROSTER_DOWNLOAD, now=now, actor=actor, subject=_subject(commission),
           data={"roster_id": row.id})
    return row, data
