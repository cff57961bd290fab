"""HTML pages of the councils domain (協議会, C1–C6): what a council secretariat runs its council on.

Every view parses the form, calls the service and shapes the page; the request's unit of work
(``web.deps.get_db``) commits. Domain refusals come back as a form error with their 4xx status and
nothing changed (``web.forms.refused``: a refusal the service already audited keeps that entry
alone, A1). ``NotFound`` is never shown as a form error: it propagates to the 404 page (I7).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from string import Template
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts.models import User
from banso.authz.permissions import Permission
from banso.authz.policies import content as content_policy
from banso.authz.policies import councils as policy
from banso.authz.principal import Principal
from banso.councils import bylaws, meetings, rules, service, statements
from banso.councils.endpoints import checked_files, file_store
from banso.councils.membership import PartyType, is_project_council
from banso.councils.models import (
    ActionItem,
    ActionStatus,
    Adoption,
    Attendance,
    CouncilRole,
    CouncilState,
    Matter,
    RequestStatus,
)
from banso.kit.clock import JST, as_utc
from banso.kit.disposition import content_disposition
from banso.kit.errors import BansoError, Forbidden, NotFound, ValidationFailed
from banso.sealed.pending import Kept, keeping, kept_form, pending_uploads
from banso.sealed.uploads import FileKind
from banso.web import forms
from banso.web.csrf import verify_csrf
from banso.web.deps import Ctx, Db
from banso.web.forms import date_input, local_input, parse_when
from banso.web.pages import PageUser
from banso.web.templating import render

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
NO_STORE = {"Cache-Control": "no-store"}

# Notices a redirect may ask the next page to show (anything else is ignored).
NOTICES = frozenset({
    "proposed", "consented", "declined", "pledged", "activated", "dissolved", "amended", "left",
    "meeting", "agenda", "attendance", "minutes", "approved", "decision", "action", "completed", "cancelled",
    "request", "answered", "closed", "invited", "role", "held", "sheet", "circulated", "confirmed", "material",
    "removed",
    "statement", "designated",
})
Text = Annotated[str, Form(max_length=20_000)]
Short = Annotated[str, Form(max_length=300)]
# A field of a form with a file: its length is checked by the service, so that a refusal keeps the file (issue 14);
# the app's body limit bounds it meanwhile.
Checked = Annotated[str, Form()]
LongText = Annotated[str, Form(max_length=100_000)]


# ---------------------------------------------------------------------------------------------
# Helpers




# Form fields named in service messages, shown with the label the form uses (msgids of the templates).
FIELD_LABELS = {
    "title_ja": "Title (Japanese)", "title_en": "Title (English, optional)", "purpose": "Purpose",
    "consent_deadline": "Consent deadline", "starts_at": "Date and time", "due_at": "Due date", "title": "Title",
    "reason": "Reason", "body": "What is requested", "assignee_id": "Assignee", "addressee_id": "Addressed to",
    "summary": "Summary of the change", "bylaws_version": "Version", "decision_id": "From decision", "user_id": "Person", "deadline": "Answer by (JST)", "role": "Role",
    "party": "Party type under the Act", "founders": "Founding participants",
    "speaker_id": "Speaker", "text": "Written designation",
}


def _common(ctx: Ctx) -> dict[str, Any]:
    now = ctx.clock.now()
    return {
        "now": now,
        "matters": [m.value for m in Matter],
        "adoptions": [a.value for a in Adoption],
        "roles": [r.value for r in CouncilRole],
        "parties": [p.value for p in PartyType],
        "attendance_values": [a.value for a in Attendance],
        "default_due": date_input(now + timedelta(days=14)),
        "default_meeting": local_input((now + timedelta(days=7)).astimezone(JST).replace(hour=14, minute=0)),
    }


# ---------------------------------------------------------------------------------------------
# The list of councils (C1)


@dataclass(frozen=True)
class CouncilRow:
    """A council as the list shows it to one person."""

    council: Any
    standing: policy.Standing

    @property
    def needs_pledge(self) -> bool:
        """Return True when the person is a member without a pledge for the duty in force (C3)."""
        s = self.standing
        return s.is_member and not s.pledge_current and s.council_state in (
            CouncilState.PROPOSED, CouncilState.ESTABLISHED, CouncilState.ACTIVE)


@router.get("/councils", response_class=HTMLResponse)
def councils(request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """List the councils the person may see, with state, role and what awaits them."""
    rows = [CouncilRow(c, service.standing_of(db, c, principal.user_id))
            for c in service.list_councils(db, actor=principal)]
    return render(request, "councils/list.html", {
        "rows": rows,
        "may_propose": policy.can_propose(principal),
        "pending": [r for r in rows if r.standing.pending_consent],
        "to_pledge": [r for r in rows if r.needs_pledge and not r.standing.pending_consent],
        **_common(ctx),
    })


# ---------------------------------------------------------------------------------------------
# Proposing a council (C1)


def _directory(db: Session, principal: Principal) -> list[User]:
    """Return the people an officer may name as founders (the directory; USER_READ)."""
    if not principal.has(Permission.USER_READ):
        return []
    return [u for u in accounts_repo.list_users(db) if u.is_active and u.id != principal.user_id]


def _propose_page(request: Request, principal: Principal, db: Session, ctx: Ctx, *, form: dict[str, Any] | None,
                  error: str | None = None, status: int = 200) -> HTMLResponse:
    if not policy.can_propose(principal):
        raise Forbidden("協議会の設置を提案できるのは所管省庁の担当官です / Only ministry officers propose councils")
    now = ctx.clock.now()
    values = form or {
        "title_ja": "", "title_en": "", "purpose": "", "technology": "", "project_ref": "",
        "consent_deadline": date_input(now + timedelta(days=14)), "founders": {}, "parties": {}, "required": set(),
        "bylaws_text": rules.model_bylaws_template().strip(), "designation_max_years": "5",
        "nondisclosure_days": str(rules.DEFAULT_NONDISCLOSURE_DAYS),
    }
    return render(request, "councils/new.html", {
        "form": values, "people": _directory(db, principal), "error": error, **_common(ctx),
    }, status=status)


@router.get("/councils/new", response_class=HTMLResponse)
def propose_form(request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """Show the proposal form: purpose, linked technology/project, founders, deadline, bylaws."""
    return _propose_page(request, principal, db, ctx, form=None)


def _pairs(choices: list[str] | None) -> dict[int, str]:
    """Return ``{user id: value}`` from ``"<user id>:<value>"`` choices (blank or malformed choices are skipped)."""
    picked: dict[int, str] = {}
    for choice in choices or []:
        uid, _, value = choice.partition(":")
        if uid.isdigit() and value:
            picked[int(uid)] = value
    return picked


@router.post("/councils", response_class=HTMLResponse, dependencies=[Csrf])
def propose(
    request: Request,
    principal: PageUser,
    db: Db,
    ctx: Ctx,
    title_ja: Annotated[str, Form(max_length=200)] = "",
    title_en: Annotated[str, Form(max_length=200)] = "",
    purpose: Annotated[str, Form(max_length=5000)] = "",
    technology: Short = "",
    project_ref: Annotated[str, Form(max_length=100)] = "",
    consent_deadline: Annotated[str, Form(max_length=40)] = "",
    founders: Annotated[list[str] | None, Form()] = None,
    parties: Annotated[list[str] | None, Form()] = None,
    required: Annotated[list[str] | None, Form()] = None,
    bylaws_text: LongText = "",
    designation_max_years: Annotated[str, Form(max_length=4)] = "5",
    nondisclosure_days: Annotated[str, Form(max_length=4)] = "30",
) -> Response:
    """Propose a council; founders are ``"<user id>:<role>"`` choices (an empty choice: not a founder), their
    party types ``"<user id>:<party>"`` (issue 13)."""
    picked = _pairs(founders)
    party_of = _pairs(parties)
    required_ids = {int(x) for x in (required or []) if x.isdigit()}
    form = {"title_ja": title_ja, "title_en": title_en, "purpose": purpose, "technology": technology,
            "project_ref": project_ref, "consent_deadline": consent_deadline, "founders": picked,
            "required": required_ids, "bylaws_text": bylaws_text, "parties": party_of,
            "designation_max_years": designation_max_years, "nondisclosure_days": nondisclosure_days}
    try:
        years = forms.require_int(designation_max_years, "designation_max_years")
        days = forms.require_int(nondisclosure_days, "nondisclosure_days")
        deadline = parse_when(consent_deadline, "consent_deadline", end_of_day=True)
        text = bylaws_text.strip()
        if not text or text == rules.model_bylaws_template().strip():
            text_arg = None  # the model bylaws unchanged: the service fills them in
        else:
            # Local amendments keep the model's placeholders; fill them for this council.
            text_arg = Template(text.replace("\r\n", "\n")).safe_substitute(
                council_title=title_ja.strip(), designation_max_years=years, nondisclosure_days=days)
        council = service.propose(
            db, actor=principal, now=ctx.clock.now(), title_ja=title_ja, title_en=title_en, purpose=purpose,
            consent_deadline=deadline,
            founders=[service.FounderSpec(user_id=uid, role=role, party=party_of.get(uid, "participant"))
                      for uid, role in picked.items()],
            technology=technology, project_ref=project_ref, required_person_ids=sorted(required_ids),
            bylaws_text=text_arg, designation_max_years=years, nondisclosure_days=days,
        )
    except BansoError as exc:
        return forms.refused(request, db, exc, partial(_propose_page, request, principal, db, ctx, form=form),
                             FIELD_LABELS)
    return forms.redirect(f"/councils/{council.id}", "proposed")


# ---------------------------------------------------------------------------------------------
# My action items across councils (C5)


@router.get("/councils/actions", response_class=HTMLResponse)
def my_actions(request: Request, principal: PageUser, db: Db, ctx: Ctx, overdue: int = 0) -> HTMLResponse:
    """List the person's action items across the councils they may read, or only the overdue ones."""
    now = ctx.clock.now()
    items = service.my_action_items(db, actor=principal, now=now, overdue_only=bool(overdue))
    titles = {c.id: c for c in service.list_councils(db, actor=principal)}
    return render(request, "councils/actions.html", {
        "items": items, "councils": titles, "overdue_only": bool(overdue),
        "overdue_ids": {i.id for i in items if _overdue(i, now)}, **_common(ctx),
    })


def _overdue(item: ActionItem, now: datetime) -> bool:
    return rules.is_overdue(status=item.status, due_at=item.due_at, now=now)


# ---------------------------------------------------------------------------------------------
# The council page


def _council_page(request: Request, principal: Principal, db: Session, ctx: Ctx, council_id: int, *,
                  error: str | None = None, error_at: str | None = None, notice: str | None = None,
                  status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    now = ctx.clock.now()
    page = service.council_page(db, council_id=council_id, actor=principal, now=now, store=file_store(ctx))
    view, standing, preview, versions = page.view, page.view.standing, page.preview, page.versions
    content = view.content_block is None
    meetings, decisions, actions, requests = page.meetings, page.decisions, page.actions, page.requests
    ids = {c.user_id for c in view.consents} | {a.assignee_id for a in actions} | \
        {r.addressee_id for r in requests} | {view.council.proposer_id}
    people = accounts_repo.users_by_id(db, ids)
    for mv in view.members:
        people[mv.user.id] = mv.user
    my_consent = next((c for c in view.consents if c.user_id == principal.user_id and c.decision == "pending"),
                      None)
    founding = [c for c in view.consents if c.kind == "founding"]
    return render(request, "councils/detail.html", {
        "view": view, "council": view.council, "standing": standing, "preview": preview,
        "versions": versions, "content": content, "meetings": meetings, "decisions": decisions,
        "actions": actions, "requests": requests, "people": people, "my_consent": my_consent,
        "founding": founding, "joins": [c for c in view.consents if c.kind == "join"],
        "consented": sum(1 for c in founding if c.decision == "consented"),
        "overdue_ids": {a.id for a in actions if _overdue(a, now)},
        "open_actions": [a for a in actions if a.status == ActionStatus.OPEN],
        "closed_actions": [a for a in actions if a.status != ActionStatus.OPEN],
        "decision_by_id": {d.id: d for d in decisions},
        "meeting_by_id": {mt.id: mt for mt in meetings},
        "upcoming": [mt for mt in meetings if as_utc(mt.starts_at) >= now],
        "may_lifecycle": policy.can_manage_lifecycle(principal, standing),
        "error": error, "error_at": error_at, "notice": notice, "form": form or {},
        "project_council": is_project_council(view.council.project_ref),
        "standing_user_id": principal.user_id,
        "think_tank_member_ids": {mv.user.id for mv in view.members if mv.user.organization.kind == "think_tank"},
        "member_orgs": _member_orgs(view.members),
        "invitees": _invitees(db, principal, view) if view.can_manage else [],
        "known_standings": {view.council.id: standing},  # the nav's bell need not load it again
        **_common(ctx),
    }, status=status)


def _member_orgs(members: list[service.MemberView]) -> list[tuple[Any, int]]:
    """Return the organisations taking part, with how many of their people are members."""
    counts: dict[int, tuple[Any, int]] = {}
    for mv in members:
        org = mv.user.organization
        counts[org.id] = (org, counts.get(org.id, (org, 0))[1] + 1)
    return sorted(counts.values(), key=lambda pair: pair[0].id)


def _invitees(db: Session, principal: Principal, view: service.CouncilView) -> list[User]:
    """Return the people a manager may invite: active people who are neither members nor invited."""
    taken = {mv.user.id for mv in view.members} | {c.user_id for c in view.consents if c.decision == "pending"}
    return [u for u in accounts_repo.list_users(db) if u.is_active and u.id not in taken]


@router.get("/councils/{council_id}", response_class=HTMLResponse)
def council_page(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                 done: str | None = None) -> HTMLResponse:
    """Show the council: public facts for every member, the content for pledged members (C3, I7)."""
    return _council_page(request, principal, db, ctx, council_id, notice=forms.notice(done, NOTICES))


def _council_error(request: Request, principal: Principal, db: Session, ctx: Ctx, council_id: int,
                   exc: BansoError, where: str, form: dict[str, Any] | None = None) -> HTMLResponse:
    return forms.refused(request, db, exc, partial(_council_page, request, principal, db, ctx, council_id,
                                                   error_at=where, form=form),
                         FIELD_LABELS)


@router.post("/councils/{council_id}/consent", response_class=HTMLResponse, dependencies=[Csrf])
def consent(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
            decision: Annotated[str, Form(max_length=16)] = "",
            reason: Annotated[str, Form(max_length=2000)] = "",
            read_bylaws: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Consent to found or join the council (having read the bylaws shown), or decline with a reason (C1)."""
    try:
        if decision == "consent" and read_bylaws != "yes":  # issue 14: consent is given knowingly
            service.get_council(db, council_id=council_id, actor=principal)  # I7: a hidden council stays 404
            raise ValidationFailed("規約を読み、同意する旨のチェックを入れてください / Tick the box to confirm you have "
                                   "read the bylaws", field="read_bylaws")
        service.consent(db, council_id=council_id, actor=principal, now=ctx.clock.now(), decision=decision,
                        reason=reason)
    except BansoError as exc:
        return _council_error(request, principal, db, ctx, council_id, exc, "consent", {"reason": reason})
    return forms.redirect(f"/councils/{council_id}", "consented" if decision == "consent" else "declined")


@router.post("/councils/{council_id}/pledge", response_class=HTMLResponse, dependencies=[Csrf])
def sign_pledge(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                bylaws_version: Annotated[str, Form(max_length=12)] = "",
                agree: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Sign the confidentiality pledge for the bylaws version shown (C3; needs the session's second factor)."""
    try:
        if agree != "yes":
            raise ValidationFailed("誓約内容を確認し、チェックを入れてください / Tick the box to confirm you have "
                                   "read the pledge", field="agree")
        service.sign_pledge(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                            bylaws_version=forms.require_int(bylaws_version, "bylaws_version"))
    except BansoError as exc:
        return _council_error(request, principal, db, ctx, council_id, exc, "pledge")
    return forms.redirect(f"/councils/{council_id}", "pledged")


@router.get("/councils/{council_id}/pledges/{pledge_id}.pdf")
def pledge_pdf(council_id: int, pledge_id: int, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Download a signed pledge as PDF (its signer or a manager; audited)."""
    pledge, data = service.pledge_pdf(db, council_id=council_id, pledge_id=pledge_id, actor=principal,
                                      now=ctx.clock.now())
    return Response(data, media_type="application/pdf", headers={
        **NO_STORE, "Content-Disposition": content_disposition(f"pledge-{pledge.council_id}-{pledge.id}.pdf")})


@router.post("/councils/{council_id}/activate", response_class=HTMLResponse, dependencies=[Csrf])
def activate(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Start the established council's work (established → active)."""
    try:
        service.activate(db, council_id=council_id, actor=principal, now=ctx.clock.now())
    except BansoError as exc:
        return _council_error(request, principal, db, ctx, council_id, exc, "lifecycle")
    return forms.redirect(f"/councils/{council_id}", "activated")


@router.post("/councils/{council_id}/dissolve", response_class=HTMLResponse, dependencies=[Csrf])
def dissolve(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
             reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Dissolve the council; records and the duty remain."""
    try:
        service.dissolve(db, council_id=council_id, actor=principal, now=ctx.clock.now(), reason=reason)
    except BansoError as exc:
        return _council_error(request, principal, db, ctx, council_id, exc, "lifecycle")
    return forms.redirect(f"/councils/{council_id}", "dissolved")


@router.post("/councils/{council_id}/leave", response_class=HTMLResponse, dependencies=[Csrf])
def leave(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Leave the council: access ends at once, the pledge record stays (C3)."""
    try:
        service.leave(db, council_id=council_id, actor=principal, now=ctx.clock.now())
    except BansoError as exc:
        return _council_error(request, principal, db, ctx, council_id, exc, "lifecycle")
    return forms.redirect("/councils", "left")


@router.post("/councils/{council_id}/invitations", response_class=HTMLResponse, dependencies=[Csrf])
def invite(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
           user_id: Annotated[str, Form(max_length=12)] = "",
           role: Annotated[str, Form(max_length=16)] = "member",
           party: Annotated[str, Form(max_length=32)] = "participant",
           deadline: Annotated[str, Form(max_length=40)] = "") -> Response:
    """Invite a newcomer (chair, secretariat) with role and party type; they join on consenting (C1, issue 13)."""
    form = {"invite_user": user_id, "invite_role": role, "invite_party": party, "invite_deadline": deadline}
    try:
        service.invite(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                       user_id=forms.require_int(user_id, "user_id"), role=role, party=party,
                       deadline=parse_when(deadline, "deadline", end_of_day=True))
    except BansoError as exc:
        return _council_error(request, principal, db, ctx, council_id, exc, "invite", form)
    return forms.redirect(f"/councils/{council_id}", "invited", "members")


@router.post("/councils/{council_id}/removals", response_class=HTMLResponse, dependencies=[Csrf])
def remove_member(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  user_id: Annotated[str, Form(max_length=12)] = "",
                  reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Remove a member with a reason (chair, secretariat): access ends at once, the duty remains (C3, issue 13)."""
    form = {"remove_user": user_id, "remove_reason": reason}
    try:
        service.remove_member(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                              user_id=forms.require_int(user_id, "user_id"), reason=reason)
    except BansoError as exc:
        return _council_error(request, principal, db, ctx, council_id, exc, "remove", form)
    return forms.redirect(f"/councils/{council_id}", "removed", "members")


@router.post("/councils/{council_id}/roles", response_class=HTMLResponse, dependencies=[Csrf])
def set_role(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
             user_id: Annotated[str, Form(max_length=12)] = "",
             role: Annotated[str, Form(max_length=16)] = "") -> Response:
    """Change a current member's council role (chair, secretariat)."""
    try:
        service.set_role(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                         user_id=forms.require_int(user_id, "user_id"), role=role)
    except BansoError as exc:
        return _council_error(request, principal, db, ctx, council_id, exc, "role")
    return forms.redirect(f"/councils/{council_id}", "role", "members")


# ---------------------------------------------------------------------------------------------
# Bylaws (規約): versions and the readable diff


@router.get("/councils/{council_id}/bylaws/{version}", response_class=HTMLResponse)
def bylaws_page(council_id: int, version: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                compare: int | None = Query(None, ge=1)) -> HTMLResponse:
    """Show one bylaws version and its changes against an earlier one (default: the previous version)."""
    view = service.get_council(db, council_id=council_id, actor=principal)
    current = service.get_bylaws(db, council_id=council_id, version=version, actor=principal)
    versions = service.list_bylaws(db, council_id=council_id, actor=principal)
    base = compare if compare is not None else (version - 1 if version > 1 else None)
    diff_lines: list[tuple[str, str]] = []
    if base is not None and base != version:
        text = service.diff_bylaws(db, council_id=council_id, old=base, new=version, actor=principal)
        for line in text.splitlines():
            kind = "meta" if line.startswith(("---", "+++")) else "hunk" if line.startswith("@@") else \
                "add" if line.startswith("+") else "del" if line.startswith("-") else "same"
            diff_lines.append((kind, line))
    return render(request, "councils/bylaws.html", {
        "council": view.council, "standing": view.standing, "bylaws": current, "versions": versions,
        "base": base, "diff_lines": diff_lines, "may_amend": policy.can_amend_bylaws(principal, view.standing),
        "proposals": bylaws.proposals_shown(db, council=view.council, actor=principal, standing=view.standing),
        "people": accounts_repo.users_by_id(db, {b.created_by_id for b in versions}), **_common(ctx),
    })


# ---------------------------------------------------------------------------------------------
# Meetings (C5)


@router.post("/councils/{council_id}/meetings", response_class=HTMLResponse, dependencies=[Csrf])
def schedule_meeting(
    council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
    title: Annotated[str, Form(max_length=200)] = "",
    starts_at: Annotated[str, Form(max_length=40)] = "",
    location: Annotated[str, Form(max_length=200)] = "",
    agenda_title: Annotated[list[str] | None, Form()] = None,
    agenda_matter: Annotated[list[str] | None, Form()] = None,
    held: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Schedule a meeting, or record one already held (``held``), with its agenda by matter ①–④ (C4); empty
    agenda rows are skipped."""
    titles = agenda_title or []
    matters = agenda_matter or []
    agenda = [service.AgendaInput(title=t, matter=matters[i] if i < len(matters) else "")
              for i, t in enumerate(titles) if t.strip()]
    form = {"meeting_title": title, "meeting_starts_at": starts_at, "meeting_location": location,
            "agenda": list(zip(titles, matters, strict=False)), "meeting_held": held == "yes"}
    try:
        when = parse_when(starts_at, "starts_at")
        meeting = service.schedule_meeting(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                                           title=title, starts_at=when, location=location, agenda=agenda,
                                           held=held == "yes")
    except BansoError as exc:
        return _council_error(request, principal, db, ctx, council_id, exc, "meeting", form)
    return forms.redirect(f"/councils/{council_id}/meetings/{meeting.id}", "held" if meeting.held else "meeting")


def _meeting_page(request: Request, principal: Principal, db: Session, ctx: Ctx, council_id: int,
                  meeting_id: int, *, error: str | None = None, error_at: str | None = None,
                  notice: str | None = None, status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    now = ctx.clock.now()
    view = service.get_council(db, council_id=council_id, actor=principal)
    mv = service.get_meeting(db, council_id=council_id, meeting_id=meeting_id, actor=principal, now=now,
                             store=file_store(ctx))
    # The read is audited (I8); keep that entry even when the page shows a refused form.
    actions = service.list_action_items(db, council_id=council_id, actor=principal, now=now)
    said = statements.meeting_statements(db, council_id=council_id, meeting_id=meeting_id, actor=principal, now=now,
                                         store=file_store(ctx))  # issue 13: oral statements, state decided there
    decision_ids = {d.id for d in mv.decisions}
    attendance = {a.user_id: a.status for a in mv.attendance}
    people = {m.user.id: m.user for m in view.members}
    people.update(accounts_repo.users_by_id(db, {a.assignee_id for a in actions} - set(people)))
    return render(request, "councils/meeting.html", {
        "view": view, "council": view.council, "standing": view.standing, "meeting": mv.meeting,
        "minutes_text": mv.minutes_text, "agenda": mv.agenda, "attendance": attendance,
        "decisions": mv.decisions, "actions_by_decision": {
            d: [a for a in actions if a.decision_id == d] for d in decision_ids},
        "overdue_ids": {a.id for a in actions if _overdue(a, now)},
        "held": as_utc(mv.meeting.starts_at) <= now, "people": people, "materials": mv.materials,
        "confirmations": mv.confirmations, "manage": mv.may_manage, "approvable": mv.minutes_approvable,
        "statements": said,
        "mine": next((c for c in mv.confirmations if c.row.user_id == principal.user_id), None),
        "default_confirm_by": date_input(now + timedelta(days=view.bylaws.minutes_confirmation_days)),
        "error": error, "error_at": error_at, "notice": notice, "form": form or {}, **_common(ctx),
    }, status=status)


@router.get("/councils/{council_id}/meetings/{meeting_id}", response_class=HTMLResponse)
def meeting_page(council_id: int, meeting_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                 done: str | None = None) -> HTMLResponse:
    """Show a meeting: agenda by matter, attendance, minutes, decisions and their action items."""
    return _meeting_page(request, principal, db, ctx, council_id, meeting_id, notice=forms.notice(done, NOTICES))


def _meeting_error(request: Request, principal: Principal, db: Session, ctx: Ctx, council_id: int,
                   meeting_id: int, exc: BansoError, where: str,
                   form: dict[str, Any] | None = None) -> HTMLResponse:
    return forms.refused(request, db, exc, partial(_meeting_page, request, principal, db, ctx, council_id,
                                                   meeting_id, error_at=where, form=form),
                         FIELD_LABELS)


@router.post("/councils/{council_id}/meetings/{meeting_id}/agenda", response_class=HTMLResponse,
             dependencies=[Csrf])
def add_agenda_item(council_id: int, meeting_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                    title: Short = "", matter: Annotated[str, Form(max_length=40)] = "",
                    note: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Add an agenda item tagged with one of the four matters (C4)."""
    try:
        service.add_agenda_item(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                now=ctx.clock.now(), title=title, matter=matter, note=note)
    except BansoError as exc:
        return _meeting_error(request, principal, db, ctx, council_id, meeting_id, exc, "agenda",
                              {"agenda_title": title, "agenda_matter": matter, "agenda_note": note})
    return forms.redirect(f"/councils/{council_id}/meetings/{meeting_id}", "agenda", "agenda")


@router.post("/councils/{council_id}/meetings/{meeting_id}/attendance", response_class=HTMLResponse,
             dependencies=[Csrf])
def record_attendance(council_id: int, meeting_id: int, request: Request, principal: PageUser, db: Db,
                      ctx: Ctx, user_id: Annotated[str, Form(max_length=12)] = "",
                      status: Annotated[str, Form(max_length=16)] = "") -> Response:
    """Record whether a member attended."""
    try:
        service.record_attendance(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                  now=ctx.clock.now(), user_id=forms.require_int(user_id, "user_id"), status=status)
    except BansoError as exc:
        return _meeting_error(request, principal, db, ctx, council_id, meeting_id, exc, "attendance")
    return forms.redirect(f"/councils/{council_id}/meetings/{meeting_id}", "attendance", "attendance")


@router.post("/councils/{council_id}/meetings/{meeting_id}/minutes", response_class=HTMLResponse,
             dependencies=[Csrf])
def draft_minutes(council_id: int, meeting_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  text: LongText = "") -> Response:
    """Write or replace the draft minutes (議事録案)."""
    try:
        service.draft_minutes(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                              now=ctx.clock.now(), text=text.replace("\r\n", "\n"), store=file_store(ctx))
    except BansoError as exc:
        return _meeting_error(request, principal, db, ctx, council_id, meeting_id, exc, "minutes",
                              {"minutes_text": text})
    return forms.redirect(f"/councils/{council_id}/meetings/{meeting_id}", "minutes", "minutes")


@router.post("/councils/{council_id}/meetings/{meeting_id}/minutes/approve", response_class=HTMLResponse,
             dependencies=[Csrf])
def approve_minutes(council_id: int, meeting_id: int, request: Request, principal: PageUser, db: Db,
                    ctx: Ctx) -> Response:
    """Approve the draft minutes; approved minutes are final."""
    try:
        service.approve_minutes(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                now=ctx.clock.now())
    except BansoError as exc:
        return _meeting_error(request, principal, db, ctx, council_id, meeting_id, exc, "minutes")
    return forms.redirect(f"/councils/{council_id}/meetings/{meeting_id}", "approved", "minutes")


@router.post("/councils/{council_id}/meetings/{meeting_id}/attendance-sheet", response_class=HTMLResponse,
             dependencies=[Csrf])
def record_attendance_sheet(council_id: int, meeting_id: int, request: Request, principal: PageUser, db: Db,
                            ctx: Ctx, user_id: Annotated[list[str] | None, Form()] = None,
                            status: Annotated[list[str] | None, Form()] = None) -> Response:
    """Record the attendance of every member from one form, in one transaction (issue 13)."""
    ids, statuses = user_id or [], status or []
    try:
        if len(ids) != len(statuses):
            raise ValidationFailed("出席表の行が揃っていません / the attendance sheet is incomplete", field="status")
        entries = [meetings.AttendanceEntry(user_id=forms.require_int(u, "user_id"), status=s.strip())
                   for u, s in zip(ids, statuses, strict=True)]
        meetings.record_attendance_sheet(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                         now=ctx.clock.now(), entries=entries)
    except BansoError as exc:
        return _meeting_error(request, principal, db, ctx, council_id, meeting_id, exc, "attendance")
    return forms.redirect(f"/councils/{council_id}/meetings/{meeting_id}", "sheet", "attendance")


@router.post("/councils/{council_id}/meetings/{meeting_id}/minutes/circulate", response_class=HTMLResponse,
             dependencies=[Csrf])
def circulate_minutes(council_id: int, meeting_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                      deadline: Annotated[str, Form(max_length=40)] = "") -> Response:
    """Circulate the draft minutes to the attendees for confirmation by a deadline (default from the bylaws)."""
    try:
        due = parse_when(deadline, "deadline", end_of_day=True) if deadline.strip() else None
        meetings.circulate_minutes(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                   now=ctx.clock.now(), deadline=due)
    except BansoError as exc:
        return _meeting_error(request, principal, db, ctx, council_id, meeting_id, exc, "circulate",
                              {"confirm_by": deadline})
    return forms.redirect(f"/councils/{council_id}/meetings/{meeting_id}", "circulated", "minutes")


@router.post("/councils/{council_id}/meetings/{meeting_id}/minutes/confirm", response_class=HTMLResponse,
             dependencies=[Csrf])
def confirm_minutes(council_id: int, meeting_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                    answer: Annotated[str, Form(max_length=16)] = "",
                    comment: Annotated[str, Form(max_length=20_000)] = "") -> Response:
    """Confirm circulated minutes or comment on them (attendees)."""
    try:
        meetings.confirm_minutes(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                 now=ctx.clock.now(), answer=answer, comment=comment.replace("\r\n", "\n"),
                                 store=file_store(ctx))
    except BansoError as exc:
        return _meeting_error(request, principal, db, ctx, council_id, meeting_id, exc, "confirm",
                              {"confirm_comment": comment})
    return forms.redirect(f"/councils/{council_id}/meetings/{meeting_id}", "confirmed", "minutes")


@router.post("/councils/{council_id}/meetings/{meeting_id}/materials", response_class=HTMLResponse,
             dependencies=[Csrf])
def add_material(council_id: int, meeting_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                 title: Checked = "", confidential: Checked = "",
                 file: Annotated[UploadFile | None, File()] = None,
                 kept: Annotated[list[str] | None, Form()] = None, drop: Annotated[list[str] | None, Form()] = None,
                 ) -> Response:
    """Provide a meeting material (配布資料), marked at provision whether it is confidential.

    A file that passed the upload checks is kept when the form is refused, for any field: the title's length is
    checked by the service, not by FastAPI before the view (issue 14)."""
    form: dict[str, Any] = {"material_title": title, "material_confidential": confidential == "yes"}
    held = kept_form(ctx, principal.user_id, request.url.path)
    upload: service.UploadedFile | None = None
    try:
        chosen = file is not None and bool(file.filename)
        carried = held.single(chosen, kept, drop)
        if file is not None and chosen:
            upload = checked_files(db, [file])[0]  # O4: parsed with no transaction open
        elif carried is not None:
            upload = service.UploadedFile(filename=carried.filename, data=carried.data, checked=carried.kind,
                                          content_type=carried.content_type or carried.kind.content_type)
        if upload is None:
            raise ValidationFailed("ファイルを選んでください / choose a file", field="file")
        meetings.add_material(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                              now=ctx.clock.now(), title=title, confidential=confidential == "yes", file=upload,
                              store=file_store(ctx))
    except BansoError as exc:
        page = partial(_meeting_page, request, principal, db, ctx, council_id, meeting_id, error_at="materials",
                       form=form)
        return forms.refused(request, db, exc, held.page(page, form, lambda: [upload]), FIELD_LABELS)
    return forms.redirect(f"/councils/{council_id}/meetings/{meeting_id}", "material", "materials")


@router.post("/councils/{council_id}/meetings/{meeting_id}/statements", response_class=HTMLResponse,
             dependencies=[Csrf])
def record_statement(council_id: int, meeting_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                     speaker_id: Annotated[str, Form(max_length=20)] = "", summary: Text = "",
                     stated_confidential: Annotated[str, Form(max_length=8)] = "") -> Response:
    """Record a statement made orally at the meeting (口頭で述べた事項), and whether it was stated as confidential."""
    form = {"statement_speaker": speaker_id, "statement_summary": summary,
            "statement_confidential": stated_confidential == "yes"}
    try:
        speaker = forms.int_or_none(speaker_id, "speaker_id")
        if speaker is None:
            raise ValidationFailed("発言者を選んでください / choose the speaker", field="speaker_id")
        statements.record_statement(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                    now=ctx.clock.now(), speaker_id=speaker, summary=summary,
                                    stated_confidential=stated_confidential == "yes", store=file_store(ctx))
    except BansoError as exc:
        return _meeting_error(request, principal, db, ctx, council_id, meeting_id, exc, "statements", form)
    return forms.redirect(f"/councils/{council_id}/meetings/{meeting_id}", "statement", "statements")


@router.post("/councils/{council_id}/meetings/{meeting_id}/statements/{statement_id}/designation",
             response_class=HTMLResponse, dependencies=[Csrf])
def designate_statement(council_id: int, meeting_id: int, statement_id: int, request: Request, principal: PageUser,
                        db: Db, ctx: Ctx, text: Text = "") -> Response:
    """File the written designation (書面による指定) of a statement made orally as confidential, within the period."""
    try:
        statements.designate_statement(db, council_id=council_id, statement_id=statement_id, actor=principal,
                                       now=ctx.clock.now(), text=text, store=file_store(ctx))
    except BansoError as exc:
        return _meeting_error(request, principal, db, ctx, council_id, meeting_id, exc, "statements",
                              {"designation_text": text})
    return forms.redirect(f"/councils/{council_id}/meetings/{meeting_id}", "designated", "statements")


@router.get("/councils/{council_id}/meetings/{meeting_id}/materials/{material_id}")
def download_material(council_id: int, meeting_id: int, material_id: int, principal: PageUser, db: Db,
                      ctx: Ctx) -> Response:
    """Download a meeting material stamped for the viewer (council content readers; audited, I8)."""
    copy = meetings.read_material(db, council_id=council_id, meeting_id=meeting_id, material_id=material_id,
                                  actor=principal, now=ctx.clock.now(), store=file_store(ctx))
    return Response(copy.data, media_type=copy.content_type, headers={
        **NO_STORE, "Content-Disposition": content_disposition(copy.filename),
        "X-Content-Type-Options": "nosniff"})


# ---------------------------------------------------------------------------------------------
# Decisions and action items (C5)


def _back(council_id: int, meeting_id: int | None) -> str:
    return f"/councils/{council_id}/meetings/{meeting_id}" if meeting_id else f"/councils/{council_id}"


@router.post("/councils/{council_id}/decisions", response_class=HTMLResponse, dependencies=[Csrf])
def record_decision(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                    text: Text = "", matter: Annotated[str, Form(max_length=40)] = "",
                    adoption: Annotated[str, Form(max_length=16)] = "",
                    meeting_id: Annotated[str, Form(max_length=12)] = "") -> Response:
    """Record a decision (協議結果) with its matter and how it was adopted."""
    form = {"decision_text": text, "decision_matter": matter, "decision_adoption": adoption}
    mid: int | None = None
    try:
        mid = forms.int_or_none(meeting_id, "meeting_id")
        service.record_decision(db, council_id=council_id, actor=principal, now=ctx.clock.now(), text=text,
                                matter=matter, adoption=adoption, meeting_id=mid, store=file_store(ctx))
    except BansoError as exc:
        if mid is not None and not isinstance(exc, NotFound):
            return _meeting_error(request, principal, db, ctx, council_id, mid, exc, "decision", form)
        return _council_error(request, principal, db, ctx, council_id, exc, "decision", form)
    return forms.redirect(_back(council_id, mid), "decision", "decisions")


@router.post("/councils/{council_id}/actions", response_class=HTMLResponse, dependencies=[Csrf])
def create_action(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  title: Short = "", assignee_id: Annotated[str, Form(max_length=12)] = "",
                  due_at: Annotated[str, Form(max_length=40)] = "",
                  decision_id: Annotated[str, Form(max_length=12)] = "",
                  note: Annotated[str, Form(max_length=5000)] = "",
                  meeting_id: Annotated[str, Form(max_length=12)] = "") -> Response:
    """Create an action item from a decision for a current member, with a due date (C5)."""
    form = {"action_title": title, "action_assignee": assignee_id, "action_due": due_at,
            "action_decision": decision_id, "action_note": note}
    mid: int | None = None
    try:
        mid = forms.int_or_none(meeting_id, "meeting_id")
        service.create_action_item(db, council_id=council_id, actor=principal, now=ctx.clock.now(), title=title,
                                   assignee_id=forms.require_int(assignee_id, "assignee_id"),
                                   due_at=parse_when(due_at, "due_at", end_of_day=True),
                                   decision_id=forms.int_or_none(decision_id, "decision_id"), note=note)
    except BansoError as exc:
        if mid is not None and not isinstance(exc, NotFound):
            return _meeting_error(request, principal, db, ctx, council_id, mid, exc, f"action-{decision_id}", form)
        return _council_error(request, principal, db, ctx, council_id, exc, "action", form)
    return forms.redirect(_back(council_id, mid), "action", "actions")


def _close_action(request: Request, principal: Principal, db: Session, ctx: Ctx, council_id: int, item_id: int,
                  note: str, back: str, *, cancel: bool) -> Response:
    fn = service.cancel_action_item if cancel else service.complete_action_item
    try:
        fn(db, council_id=council_id, item_id=item_id, actor=principal, now=ctx.clock.now(), note=note)
    except BansoError as exc:
        return _council_error(request, principal, db, ctx, council_id, exc, "actions")
    target = back if back in ("mine", "council") else "council"
    done = "cancelled" if cancel else "completed"
    if target == "mine":
        return forms.redirect("/councils/actions", done)
    return forms.redirect(f"/councils/{council_id}", done, "actions")


@router.post("/councils/{council_id}/actions/{item_id}/complete", response_class=HTMLResponse,
             dependencies=[Csrf])
def complete_action(council_id: int, item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                    note: Annotated[str, Form(max_length=5000)] = "",
                    back: Annotated[str, Form(max_length=16)] = "council") -> Response:
    """Mark an action item done (its assignee, or chair/secretariat)."""
    return _close_action(request, principal, db, ctx, council_id, item_id, note, back, cancel=False)


@router.post("/councils/{council_id}/actions/{item_id}/cancel", response_class=HTMLResponse,
             dependencies=[Csrf])
def cancel_action(council_id: int, item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  note: Annotated[str, Form(max_length=5000)] = "",
                  back: Annotated[str, Form(max_length=16)] = "council") -> Response:
    """Cancel an action item (chair/secretariat)."""
    return _close_action(request, principal, db, ctx, council_id, item_id, note, back, cancel=True)


# ---------------------------------------------------------------------------------------------
# Material requests (C6)


@router.post("/councils/{council_id}/requests", response_class=HTMLResponse, dependencies=[Csrf])
def create_request(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                   title: Short = "", body: Text = "", matter: Annotated[str, Form(max_length=40)] = "",
                   addressee_id: Annotated[str, Form(max_length=12)] = "",
                   due_at: Annotated[str, Form(max_length=40)] = "") -> Response:
    """Request materials (資料提供の求め) from the think tank or a participant, with a due date."""
    form = {"request_title": title, "request_body": body, "request_matter": matter,
            "request_addressee": addressee_id, "request_due": due_at}
    try:
        addressee = forms.require_int(addressee_id, "addressee_id")
        # The addressee's organisation tells whether this goes to the think tank (C6).
        person = accounts_repo.user_by_id(db, addressee)
        kind = "think_tank" if person is not None and person.organization.kind == "think_tank" else "participant"
        row = service.create_request(db, council_id=council_id, actor=principal, now=ctx.clock.now(), title=title,
                                     body=body, matter=matter, addressee_kind=kind, addressee_id=addressee,
                                     due_at=parse_when(due_at, "due_at", end_of_day=True))
    except BansoError as exc:
        return _council_error(request, principal, db, ctx, council_id, exc, "request", form)
    return forms.redirect(f"/councils/{council_id}/requests/{row.id}", "request")


def _request_page(request: Request, principal: Principal, db: Session, ctx: Ctx, council_id: int,
                  request_id: int, *, error: str | None = None, notice: str | None = None, status: int = 200,
                  form: dict[str, Any] | None = None) -> HTMLResponse:
    view = service.get_council(db, council_id=council_id, actor=principal)
    rv = service.get_request(db, council_id=council_id, request_id=request_id, actor=principal,
                             now=ctx.clock.now(), store=file_store(ctx))
    req = rv.request
    people = accounts_repo.users_by_id(db, {req.addressee_id, req.created_by_id} | {f.uploaded_by_id for f in rv.files}
                                       | ({req.answered_by_id} if req.answered_by_id else set()))
    parties = service.answer_parties(req)
    may_answer = (req.status == RequestStatus.OPEN and content_policy.can_answer_on_council_side(parties)
                  and policy.can_answer_request(principal, view.standing, addressee_id=req.addressee_id))
    # C6: the answer arrives as an information item, filed by the addressee or the chair/secretariat.
    may_file = bool(rv.answer_text) and content_policy.can_file_answer(principal, view.standing, parties)
    return render(request, "councils/request.html", {
        "council": view.council, "standing": view.standing, "can_manage": view.can_manage, "req": req,
        "answer_text": rv.answer_text, "files": rv.files, "people": people, "may_answer": may_answer, "may_file": may_file,
        "overdue": req.status == RequestStatus.OPEN and as_utc(req.due_at) < ctx.clock.now(),
        "max_mb": service.MAX_FILE_BYTES // (1024 * 1024),
        "error": error, "notice": notice, "form": form or {}, **_common(ctx),
    }, status=status)


@router.get("/councils/{council_id}/requests/{request_id}", response_class=HTMLResponse)
def request_page(council_id: int, request_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                 done: str | None = None) -> HTMLResponse:
    """Show a material request, its answer and files; the addressee answers here."""
    return _request_page(request, principal, db, ctx, council_id, request_id, notice=forms.notice(done, NOTICES))


@router.post("/councils/{council_id}/requests/{request_id}/answer", response_class=HTMLResponse,
             dependencies=[Csrf])
def answer_request(council_id: int, request_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                   text: Checked = "", files: Annotated[list[UploadFile] | None, File()] = None,
                   kept: Annotated[list[str] | None, Form()] = None,
                   drop: Annotated[list[str] | None, Form()] = None) -> Response:
    """Answer with text and files (multipart; the app limits the body size); files are kept when refused (issue 14)."""
    store, now, form_key = pending_uploads(ctx), ctx.clock.now(), request.url.path
    uploads = checked_files(db, [f for f in (files or []) if f.filename])
    try:
        uploads = [service.UploadedFile(filename=p.filename, content_type=p.content_type or p.kind.content_type,
                                        data=p.data, checked=p.kind)
                   for p in store.carry(kept, drop, user_id=principal.user_id, form=form_key, now=now)] + uploads
        service.answer_request(db, council_id=council_id, request_id=request_id, actor=principal,
                               now=now, text=text.replace("\r\n", "\n"), files=uploads,
                               store=file_store(ctx))
    except BansoError as exc:
        def keep() -> list[Kept]:
            return [store.keep(user_id=principal.user_id, form=form_key, filename=u.filename,
                               content_type=u.content_type, data=u.data, kind=u.checked, now=now)
                    for u in uploads if isinstance(u.checked, FileKind)]
        form: dict[str, Any] = {"answer_text": text}
        page = partial(_request_page, request, principal, db, ctx, council_id, request_id, form=form)
        return forms.refused(request, db, exc, keeping(page, form, "kept", keep), FIELD_LABELS)
    return forms.redirect(f"/councils/{council_id}/requests/{request_id}", "answered")


@router.post("/councils/{council_id}/requests/{request_id}/close", response_class=HTMLResponse,
             dependencies=[Csrf])
def close_request(council_id: int, request_id: int, request: Request, principal: PageUser, db: Db,
                  ctx: Ctx) -> Response:
    """Close a material request (chair/secretariat)."""
    try:
        service.close_request(db, council_id=council_id, request_id=request_id, actor=principal,
                              now=ctx.clock.now())
    except BansoError as exc:
        return forms.refused(request, db, exc, partial(_request_page, request, principal, db, ctx,
                                                       council_id, request_id),
                             FIELD_LABELS)
    return forms.redirect(f"/councils/{council_id}/requests/{request_id}", "closed")


def refused_on_request_page(request: Request, principal: Principal, db: Session, ctx: Ctx, council_id: int,
                            request_id: int, exc: BansoError) -> Response:
    """Re-render a material request's page with a refusal (for routes of other domains on that page)."""
    return forms.refused(request, db, exc, partial(_request_page, request, principal, db, ctx,
                                                   council_id, request_id),
                         FIELD_LABELS)


@router.get("/councils/{council_id}/requests/{request_id}/files/{file_id}")
def download_file(council_id: int, request_id: int, file_id: int, principal: PageUser, db: Db,
                  ctx: Ctx) -> Response:
    """Download an answer file stamped for the viewer (the answer's parties; recorded and audited, I8)."""
    # A refused opening (I11) is raised audited: the request's unit of work keeps its entry.
    copy = service.read_file(db, council_id=council_id, request_id=request_id, file_id=file_id,
                             actor=principal, now=ctx.clock.now(), store=file_store(ctx))
    return Response(copy.data, media_type=copy.content_type, headers={
        **NO_STORE, "Content-Disposition": content_disposition(copy.filename),
        "X-Content-Type-Options": "nosniff"})
