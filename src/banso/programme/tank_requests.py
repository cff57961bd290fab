"""Material requests (資料提供の求め, C6) to a commissioned think tank that is not a member (Art. 62–64, issue 13).

The council's chair or secretariat addresses a request to a think-tank *commission* (委託) as well as to a member.
The commission's engaged roster — the people of the institution named on it who acknowledged the Art. 64 duty
personally — see the request and answer it; everyone else at the institution gets 404 and a person taken off the
roster loses access at once. The answer is sealed under the council's key like a member's answer and read on the
council side under the usual rule; the think-tank side sees its request and the answer it gave, never other
council content. Who may do what: ``banso.authz.policies.commission_requests`` (one home for pages and API).

This lives in ``programme`` (above ``councils``): it joins a council's request to a commission's roster, so the
higher domain does the joining, as ``programme/filing.py`` files deliverables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.tags import AuditTag
from banso.authz.guard import require_visible
from banso.authz.policies import commission_requests as policy
from banso.authz.policies.programme import CommissionParties
from banso.authz.principal import Principal
from banso.councils import repository as council_repo
from banso.councils import service as councils
from banso.councils.models import Council, MaterialFile, MaterialRequest
from banso.kit.errors import NotFound, ValidationFailed
from banso.kit.japanese import format_minute, official_minute
from banso.notifications import service as notifications
from banso.programme import commissions
from banso.programme.models import Commission
from banso.programme.service import _audit
from banso.sealed import store as sealed
from banso.sealed.store import SealedDeps

KIND = "programme.commission_request"  # the notice kind (and the home's task kind "request")


def subject_of(req: MaterialRequest) -> str:
    """The notice and task subject naming the request on the commission's side (the gate checks the roster)."""
    return f"commission:{req.commission_id}:request:{req.id}"


def link_of(req: MaterialRequest) -> str:
    """The think-tank side's page of the request."""
    return f"/programme/commissions/{req.commission_id}/requests/{req.id}"


# ---------------------------------------------------------------------------------------------
# The council's side: address a commission


def addressable(session: Session, *, council_id: int, actor: Principal) -> list[Commission]:
    """Return the commissions the council's chair/secretariat may address (active, their own side's)."""
    _, standing = councils.managed(session, council_id=council_id, actor=actor)
    return [c for c in commissions.list_commissions(session, actor=actor)
            if policy.can_address(actor, standing, commissions.parties(session, c))]


def create(session: Session, *, council_id: int, commission_id: int, actor: Principal, now: datetime, title: str,
           body: str, matter: str, due_at: datetime) -> MaterialRequest:
    """Address a material request to a think-tank commission; its engaged roster is told (inbox and e-mail)."""
    council, standing = councils.managed(session, council_id=council_id, actor=actor)
    commission = session.get(Commission, commission_id)
    facts = None if commission is None else commissions.parties(session, commission)
    # One message for missing, not yours and not active: a council manager learns nothing of others' commissions.
    if commission is None or facts is None or not policy.can_address(actor, standing, facts):
        raise ValidationFailed("資料提供を求められる実施中の委託ではありません / not an active commission of yours "
                               "that this council may ask", field="commission_id")
    if facts.contact_id is None:
        raise ValidationFailed("委託先の窓口担当者が指定されていません / the commission has no contact named yet",
                               field="commission_id")
    row = councils.create_commission_request(session, council, actor=actor, now=now, title=title, body=body,
                                             matter=matter, commission_id=commission.id,
                                             contact_id=facts.contact_id, due_at=due_at)
    _tell_roster(session, council, commission, facts, row, now=now)
    return row


def _tell_roster(session: Session, council: Council, commission: Commission, facts: CommissionParties,
                 req: MaterialRequest, *, now: datetime) -> None:
    """Tell the engaged roster (the request's title) and the named who have not acknowledged (only that the
    commission has a request: they see it once they acknowledge, Art. 64)."""
    engaged = sorted(facts.engaged)
    if engaged:
        notifications.notify(
            session, recipient_ids=engaged, kind=KIND,
            title_ja=f"資料提供の求め「{req.title}」（期限 {official_minute(req.due_at)}）",
            title_en=f"Request for materials “{req.title}” (due {format_minute(req.due_at, 'en')} JST)",
            body_ja=f"協議会「{council.title_ja}」から委託「{commission.title}」への資料提供の求めです。期限までに回答してください。",
            body_en=f"Council “{council.title_en or council.title_ja}” asks commission “{commission.title}” "
                    "for materials. Please answer before the due date.",
            link=link_of(req), subject=subject_of(req), now=now, email_now=True)
    waiting = sorted(facts.named - facts.engaged)
    if waiting:
        notifications.notify(
            session, recipient_ids=waiting, kind=KIND,
            title_ja=f"委託「{commission.title}」に資料提供の求めがあります",
            title_en=f"Commission “{commission.title}” has a request for materials",
            body_ja="第64条の守秘義務を確認すると内容を見られます。", body_en="Acknowledge the Art. 64 duty to see it.",
            link=f"/programme/commissions/{commission.id}/roster", subject=f"commission:{commission.id}", now=now,
            email_now=True)


# ---------------------------------------------------------------------------------------------
# The think tank's side: see and answer


@dataclass(frozen=True)
class TankRequestView:
    """A request as the think-tank side sees it: the request, and the answer only for the one who gave it."""

    commission: Commission
    request: MaterialRequest
    answer_text: str | None
    files: list[MaterialFile]
    may_answer: bool
    council_title_ja: str  # the asking council's name (its public page's title), nothing else of it


def _engaged(session: Session, commission_id: int, actor: Principal) -> tuple[Commission, CommissionParties]:
    commission, facts = commissions.standing(session, commission_id, actor, duty_only=True)
    require_visible(policy.can_see_request(actor, facts), "commission")
    return commission, facts


def _request(session: Session, commission: Commission, request_id: int) -> tuple[Council, MaterialRequest]:
    req = session.get(MaterialRequest, request_id)
    council = None if req is None else council_repo.councils_by_ids(session, [req.council_id]).get(req.council_id)
    if req is None or council is None or req.commission_id != commission.id:
        raise NotFound("資料の求めが見つかりません / material request not found")
    return council, req


def list_for(session: Session, *, commission_id: int, actor: Principal) -> list[MaterialRequest]:
    """Return the requests to a commission, newest first (its engaged roster only; 404 otherwise)."""
    commission, _ = _engaged(session, commission_id, actor)
    return list(session.scalars(select(MaterialRequest).where(MaterialRequest.commission_id == commission.id)
                                .order_by(MaterialRequest.id.desc())))


def visible_for(session: Session, *, commission_id: int, actor: Principal) -> list[MaterialRequest]:
    """Return the requests the commission page lists for ``actor``: its engaged roster's, else none (the page
    itself decides who sees the commission)."""
    commission, facts = commissions.standing(session, commission_id, actor, duty_only=True)
    if not policy.can_see_request(actor, facts):
        return []
    return list(session.scalars(select(MaterialRequest).where(MaterialRequest.commission_id == commission.id)
                                .order_by(MaterialRequest.id.desc())))


def get(session: Session, *, commission_id: int, request_id: int, actor: Principal, now: datetime,
        store: SealedDeps) -> TankRequestView:
    """Return one request for the engaged roster, with the answer its reader gave; audited (I8)."""
    commission, facts = _engaged(session, commission_id, actor)
    council, req = _request(session, commission, request_id)
    own = policy.can_read_own_answer(actor, facts, answered_by_id=req.answered_by_id)
    text = councils.open_answer(session, store, council, req, actor=actor, now=now) if own else None
    _audit(session, AuditTag.COUNCIL_REQUEST_READ, now=now, actor=actor, subject=f"council:{council.id}",
           data={"request_id": req.id, "commission_id": commission.id, "answer": text is not None})
    return TankRequestView(commission=commission, request=req, answer_text=text,
                           files=council_repo.files_of(session, req.id) if own else [],
                           may_answer=policy.can_answer(actor, facts, status=req.status),
                           council_title_ja=council.title_ja)


def answer(session: Session, *, commission_id: int, request_id: int, actor: Principal, now: datetime, text: str,
           store: SealedDeps, files: Sequence[councils.UploadedFile] = ()) -> TankRequestView:
    """Answer a request as an engaged roster person: sealed under the council's key, audited (C6, I11)."""
    commission, facts = _engaged(session, commission_id, actor)
    council, req = _request(session, commission, request_id)
    given = councils.record_answer(session, council, req, actor=actor, now=now, text=text, store=store, files=files)
    return TankRequestView(commission=commission, request=req, answer_text=given.answer_text,
                           files=council_repo.files_of(session, req.id),
                           may_answer=policy.can_answer(actor, facts, status=req.status),
                           council_title_ja=council.title_ja)


def _file(session: Session, commission_id: int, request_id: int, file_id: int,
          actor: Principal) -> tuple[Council, MaterialFile]:
    commission, facts = _engaged(session, commission_id, actor)
    council, req = _request(session, commission, request_id)
    row = council_repo.file(session, req.id, file_id)
    if row is None or not policy.can_read_own_answer(actor, facts, answered_by_id=req.answered_by_id):
        raise NotFound("ファイルが見つかりません / file not found")
    return council, row


def read_file(session: Session, *, commission_id: int, request_id: int, file_id: int, actor: Principal,
              now: datetime, store: SealedDeps) -> sealed.Copy:
    """Return a file of the reader's own answer, stamped for them; recorded and audited (I8)."""
    return councils.stamped_answer_file(session, store, actor=actor, now=now,
                                        decide=lambda: _file(session, commission_id, request_id, file_id, actor),
                                        extra={"commission_id": commission_id})


def open_for(session: Session, *, actor: Principal) -> list[MaterialRequest]:
    """Return the open requests to commissions ``actor`` is engaged in, soonest due first (the home's tasks)."""
    stmt = policy.restrict_open_requests(select(MaterialRequest), actor)
    return list(session.scalars(stmt.order_by(MaterialRequest.due_at, MaterialRequest.id)))

