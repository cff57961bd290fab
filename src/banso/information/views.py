"""HTML pages of controlled information (情報, I1–I11): items, designation votes, incidents, leak
attribution, the minimality view and the public portal.

Every view parses the form, calls the service and shapes the page; the request's unit of work
(``web.deps.get_db``) commits. Domain refusals come back as a form error with their 4xx status and
nothing changed (``web.forms.refused``: a refusal the service already audited keeps that entry
alone, A1). ``NotFound`` is never shown as a form error: it propagates to the 404 page (I7). Who
may see what is decided by ``authz.policies.information`` inside the services; these pages only
ask it what to offer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts.models import Organization, User
from banso.authz.guard import require, require_visible
from banso.authz.permissions import Permission
from banso.authz.policies import councils as council_policy
from banso.authz.policies import information as policy
from banso.authz.principal import Principal
from banso.councils import export_control as clearances
from banso.councils import service as councils
from banso.councils.models import Council, Matter
from banso.councils.views import refused_on_request_page
from banso.information import (
    distribution,
    exclusions,
    export_control,
    filing,
    incidents,
    interchange,
    minimality,
    search,
    service,
    viewer,
)
from banso.information.deps import MAX_FILE_BYTES, InformationDeps
from banso.information.endpoints import InfoDeps, attachment, checked_uploads, evidence_file, tally
from banso.information.export_control import VERDICT_LABELS
from banso.information.models import (
    BallotState,
    Category,
    Handling,
    ItemState,
    Provenance,
    ReasonCode,
    ScopeKind,
)
from banso.information.schemas import IncidentCreate
from banso.kit.clock import JST, as_utc
from banso.kit.errors import BansoError, NotFound, ValidationFailed
from banso.sealed.pending import Kept, KeptForm, keeping, kept_form, pending_uploads
from banso.sealed.store import sealed_deps
from banso.sealed.uploads import FileKind, UploadRejected, sniff
from banso.web import forms
from banso.web.csrf import verify_csrf
from banso.web.deps import Auth, Ctx, Db
from banso.web.forms import date_input, local_input, parse_when
from banso.web.methods import no_head
from banso.web.pages import PageUser
from banso.web.templating import render

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)

# Notices a redirect may ask the next page to show (anything else is ignored).
NOTICES = frozenset({
    "created", "held", "version", "proposed", "renewal", "published", "nondisclosure", "voted", "reported",
    "triaged", "attributed", "closed", "claimed", "claim",
    "withheld_renewal", "release", "classified", "clearance",
})
# Exclusion claims (issue 13): grounds and states as the page names them (msgids; Japanese in locale/ja)
GROUND_LABELS = {"public": "Already public", "independent": "Independently developed",
                 "third_party": "Lawfully received from a third party", "prior": "Known before"}
CLAIM_STATE_LABELS = {"filed": "Claimed, awaiting the secretariat", "proposed": "Decided, awaiting the chair",
                      "accepted": "Accepted (for the claimant only)", "rejected": "Exclusion not accepted", "withdrawn": "Withdrawn"}
Short = Annotated[str, Form(max_length=300)]
Text = Annotated[str, Form(max_length=20_000)]
Body = Annotated[str, Form(max_length=1_000_000)]
Choice = Annotated[str, Form(max_length=40)]
Choices = Annotated[list[str] | None, Form()]
When = Annotated[str, Form(max_length=40)]
# A field of a form with a file: its length is checked by the service, so that a refusal keeps the file (issue 14);
# the app's body limit bounds it meanwhile.
Checked = Annotated[str, Form()]
Tokens = Annotated[list[str] | None, Form()]  # files kept from a refused submit (issue 14)
MAX_MB = MAX_FILE_BYTES // (1024 * 1024)  # the per-file cap, shown next to file inputs

# Form fields named in service messages, shown with the label the form uses (msgids of the templates).
CLEARANCE_LABELS = {"pending": "Awaiting the export-control officer", "cleared": "Cleared", "refused": "Refused"}
FIELD_LABELS = {
    "verdict": "Classification", "list_item": "List item",
    "title": "Title", "summary": "Summary", "body": "Body", "matter": "Matter", "category": "Category",
    "provenance": "Provenance", "publish_at": "Publication date (JST)", "reason": "Reason",
    "scope_kind": "Who may read it", "user_ids": "People in scope", "organization_ids": "Organisations in scope",
    "ends_at": "End of the designation (JST)", "deadline": "Vote deadline (JST)", "handling": "Handling",
    "files": "Files", "file": "File", "decision": "Your answer", "reason_code": "Reason code", "note": "Note",
    "outcome": "Outcome", "penalty_provision": "Penalty provision", "description": "What happened",
    "query": "Search", "data": "File", "review_at": "New review date (JST)",
    "ground": "Ground", "evidence": "Evidence",
}


# ---------------------------------------------------------------------------------------------
# Helpers


def _ids(values: Sequence[str] | None, field: str) -> list[int]:
    return [n for n in (forms.int_or_none(v, field) for v in values or []) if n is not None]


def _when_or_none(value: str, field: str, *, end_of_day: bool = False) -> datetime | None:
    return parse_when(value, field, end_of_day=end_of_day) if value.strip() else None


def _council_view(db: Session, council_id: int, principal: Principal) -> councils.CouncilView | None:
    """Return the council's page for a member, else None (a public item's reader need not be one)."""
    try:
        return councils.get_council(db, council_id=council_id, actor=principal)
    except NotFound:
        return None


def _council_of(db: Session, view: service.ItemView, principal: Principal) -> Council | None:
    """Return the item's council when the reader may see it (as :func:`_council_view` decides), from the
    standing and the council row the gate loaded with the item: no statement (I12)."""
    if view.standing is None or not council_policy.can_see_council(principal, view.standing):
        return None
    return view.council if view.council is not None else db.get(Council, view.item.council_id)


def _common(ctx: Ctx) -> dict[str, Any]:
    now = ctx.clock.now()
    return {
        "now": now,
        "matters": [m.value for m in Matter],
        "categories": [c.value for c in Category],
        "provenances": [p.value for p in Provenance],
        "states": [s.value for s in ItemState],
        "scope_kinds": [k.value for k in ScopeKind],
        "handlings": [h.value for h in Handling],
        "reason_codes": [r.value for r in ReasonCode],
        "default_ends": date_input(now + timedelta(days=365)),
        "default_deadline": local_input((now + timedelta(days=14)).astimezone(JST).replace(hour=17, minute=0)),
    }


def _designation(*, reason: str, scope_kind: str, user_ids: Sequence[str] | None,
                 organization_ids: Sequence[str] | None, ends_at: str, deadline: str,
                 handling: Sequence[str] | None, range_note: str) -> service.DesignationInput:
    """Return a designation proposal from the form; only the names the chosen scope uses are sent (I3)."""
    users = _ids(user_ids, "user_ids") if scope_kind == ScopeKind.NAMED else []
    orgs = _ids(organization_ids, "organization_ids") if scope_kind == ScopeKind.ORGANISATIONS else []
    return service.DesignationInput(
        reason=reason, scope_kind=scope_kind, ends_at=parse_when(ends_at, "ends_at", end_of_day=True),
        user_ids=users, organization_ids=orgs, handling=list(handling or []),
        deadline=_when_or_none(deadline, "deadline"), range_note=range_note)


def _designation_form(prefix: str, *, reason: str, scope_kind: str, user_ids: Sequence[str] | None,
                      organization_ids: Sequence[str] | None, ends_at: str, deadline: str,
                      handling: Sequence[str] | None, range_note: str) -> dict[str, Any]:
    return {f"{prefix}reason": reason, f"{prefix}scope_kind": scope_kind, f"{prefix}user_ids": set(user_ids or []),
            f"{prefix}organization_ids": set(organization_ids or []), f"{prefix}ends_at": ends_at,
            f"{prefix}deadline": deadline, f"{prefix}handling": set(handling or []), f"{prefix}range_note": range_note}


def _member_orgs(members: Sequence[councils.MemberView]) -> list[Organization]:
    """Return the organisations taking part in a council (for a scope of organisations)."""
    seen: dict[int, Organization] = {}
    for mv in members:
        seen.setdefault(mv.user.organization.id, mv.user.organization)
    return sorted(seen.values(), key=lambda o: o.id)


# ---------------------------------------------------------------------------------------------
# The list of items, with what awaits the person's vote


@router.get("/information", response_class=HTMLResponse)
def information_home(request: Request, principal: PageUser, db: Db, ctx: Ctx,
                     council_id: Annotated[int | None, Query(ge=1, le=2**31)] = None,
                     state: Annotated[str | None, Query(max_length=16)] = None,
                     done: str | None = None) -> HTMLResponse:
    """List the items the person may read (I7), with filters, a search box and the proposals to answer."""
    chosen = state if state in {s.value for s in ItemState} else None
    items = service.list_items(db, actor=principal, council_id=council_id, state=chosen)
    total = service.count_items(db, actor=principal, council_id=council_id)
    to_vote = [service.get_ballot(db, ballot_id=b.id, actor=principal)
               for b in service.my_open_ballots(db, actor=principal)]
    listed = councils.councils_with_standing(db, actor=principal)
    council_list = [c for c, _ in listed]
    # Only councils whose "provide" form this person may open (no link to a 404, issue 14): the policy decides.
    providable = [c for c, standing in listed if policy.can_contribute(principal, standing)]
    return render(request, "information/list.html", {
        "items": items, "total": total, "to_vote": to_vote, "councils": council_list, "providable": providable,
        "council_by_id": {c.id: c for c in council_list}, "council_id": council_id, "state": chosen,
        "notice": forms.notice(done, NOTICES), **_common(ctx),
    })


@router.get("/information/search", response_class=HTMLResponse)
def search_page(request: Request, principal: PageUser, db: Db, ctx: Ctx,
                q: Annotated[str, Query(max_length=200)] = "",
                council_id: Annotated[int | None, Query(ge=1, le=2**31)] = None) -> HTMLResponse:
    """Search the items the person may read; out-of-scope items never match (I7)."""
    hits: list[search.SearchHit] = []
    page = partial(_search_page, request, principal, db, ctx, q=q, council_id=council_id)
    if q.strip():
        try:
            hits = search.search_items(db, actor=principal, query=q, council_id=council_id,
                                       now=ctx.clock.now())
        except BansoError as exc:
            return forms.refused(request, db, exc, page, FIELD_LABELS)
    return page(hits=hits)


def _search_page(request: Request, principal: Principal, db: Session, ctx: Ctx, *, q: str, council_id: int | None,
                 hits: Sequence[search.SearchHit] = (), error: str | None = None,
                 status: int = 200) -> HTMLResponse:
    council_list = councils.list_councils(db, actor=principal)
    return render(request, "information/search.html", {
        "q": q, "hits": hits, "error": error, "councils": council_list, "council_id": council_id,
        "council_by_id": {c.id: c for c in council_list}, **_common(ctx),
    }, status=status)


# ---------------------------------------------------------------------------------------------
# Providing an item (I1), optionally with a designation proposal (I3)


def _new_page(request: Request, principal: Principal, db: Session, ctx: Ctx, council_id: int, *,
              form: dict[str, Any] | None = None, error: str | None = None, status: int = 200) -> HTMLResponse:
    view = councils.get_council(db, council_id=council_id, actor=principal)
    require_visible(policy.can_contribute(principal, view.standing), "council content")
    values = form or {"title": "", "summary": "", "body": "", "matter": "", "category": "", "provenance": "",
                      "is_result": False, "publish_at": "", "designate": False, "confidential": False,
                      **_designation_form("", reason="", scope_kind="named", user_ids=[], organization_ids=[],
                                          ends_at="", deadline="", handling=["watermark"], range_note="")}
    return render(request, "information/new.html", {
        "council": view.council, "members": view.members, "member_orgs": _member_orgs(view.members),
        "form": values, "error": error, "max_mb": MAX_MB, **_common(ctx),
    }, status=status)


@router.get("/councils/{council_id}/information/new", response_class=HTMLResponse)
def new_item_form(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """Show the form to provide an item to the council, with an optional designation proposal."""
    return _new_page(request, principal, db, ctx, council_id)


def _carried(request: Request, principal: Principal, ctx: Ctx, kept: Sequence[str] | None,
             drop: Sequence[str] | None) -> list[service.Upload]:
    """Return the files a refused submit kept and this one still carries, as checked uploads (issue 14)."""
    return [service.Upload(filename=p.filename, content_type=p.content_type, data=p.data, checked=p.kind)
            for p in pending_uploads(ctx).carry(kept, drop, user_id=principal.user_id, form=request.url.path,
                                                now=ctx.clock.now())]


def _keep(request: Request, principal: Principal, ctx: Ctx, uploads: Sequence[service.Upload]) -> list[Kept]:
    """Keep the files of a refused submit that passed the upload checks, for the next submit (issue 14)."""
    store, now = pending_uploads(ctx), ctx.clock.now()
    return [store.keep(user_id=principal.user_id, form=request.url.path, filename=u.filename,
                       content_type=u.content_type, data=u.data, kind=u.checked, now=now)
            for u in uploads if isinstance(u.checked, FileKind)]


@router.post("/councils/{council_id}/information", response_class=HTMLResponse, dependencies=[Csrf])
def create_item(
    council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
    # Every field is Checked (issue 14): the service refuses a too-long title, summary, body, reason or range note
    # (rules.check_item_text, rules.check_designation) and unknown choices, so a refusal keeps the files.
    title: Checked = "", summary: Checked = "", body: Checked = "",
    matter: Checked = "", category: Checked = "", provenance: Checked = "",
    is_result: Checked = "", publish_at: Checked = "",
    files: Annotated[list[UploadFile] | None, File()] = None, kept: Tokens = None, drop: Tokens = None,
    confidential: Checked = "",
    designate: Checked = "", reason: Checked = "",
    scope_kind: Checked = "", user_ids: Choices = None, organization_ids: Choices = None,
    ends_at: Checked = "", deadline: Checked = "", handling: Choices = None,
    range_note: Checked = "",
) -> Response:
    """Provide an item (multipart). With a designation proposal it is held until everyone answers (I4).

    Files that passed the upload checks are kept when the form is refused (``kept`` tokens on the
    re-rendered page, ``drop`` to remove one): the person need not choose them again (issue 14).
    """
    form = {"title": title, "summary": summary, "body": body, "matter": matter, "category": category,
            "provenance": provenance, "is_result": is_result == "yes", "publish_at": publish_at,
            "designate": designate == "yes", "confidential": confidential == "yes",
            **_designation_form("", reason=reason, scope_kind=scope_kind, user_ids=user_ids,
                                organization_ids=organization_ids, ends_at=ends_at, deadline=deadline,
                                handling=handling, range_note=range_note)}
    uploads: list[service.Upload] = []
    try:
        uploads = checked_uploads(db, deps, files)
        uploads = _carried(request, principal, ctx, kept, drop) + uploads
        proposal = _designation(reason=reason, scope_kind=scope_kind, user_ids=user_ids,
                                organization_ids=organization_ids, ends_at=ends_at, deadline=deadline,
                                handling=handling, range_note=range_note) if designate == "yes" else None
        item = service.create_item(
            db, deps, council_id=council_id, actor=principal, now=ctx.clock.now(), title=title,
            summary=summary.replace("\r\n", "\n"), body=body.replace("\r\n", "\n"), matter=matter,
            category=category, provenance=provenance, is_result=is_result == "yes",
            publish_at=_when_or_none(publish_at, "publish_at"), files=uploads,
            designation=proposal, confidential=confidential == "yes")
    except BansoError as exc:
        page = partial(_new_page, request, principal, db, ctx, council_id, form=form)
        return forms.refused(request, db, exc, keeping(page, form, "kept", partial(_keep, request, principal, ctx,
                                                                                   uploads)), FIELD_LABELS)
    return forms.redirect(f"/information/items/{item.id}", "held" if item.state == ItemState.HELD else "created")


# ---------------------------------------------------------------------------------------------
# The item page


def _item_page(request: Request, principal: Principal, db: Session, ctx: Ctx, deps: InformationDeps,
               item_id: int, *, version: int | None = None, error: str | None = None, error_at: str | None = None,
               notice: str | None = None, status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    now = ctx.clock.now()
    # I8: the read is audited, even when the page shows a refused form
    view, body_banner = viewer.read_item_on_screen(db, deps, item_id=item_id, actor=principal, now=now,
                                                   version=version)
    item = view.item
    council = _council_of(db, view, principal)
    members = councils.current_members(db, council) if council is not None and view.can_manage else []
    scope_users = set(view.scope.user_ids) if view.scope else set()
    scope_orgs = set(view.scope.organization_ids) if view.scope else set()
    # issue 13: claims for council-content readers of the item (None for anyone else: no section)
    claims = exclusions.item_exclusions(db, item=item, standing=view.standing, council=view.council, actor=principal,
                                        now=now, store=sealed_deps(ctx))
    # F7: the classification records (no statement unless classified or the reader is the export-control officer)
    export_records = export_control.shown_on_page(db, item, may_classify=view.may_classify)
    people = accounts_repo.users_by_id(db, {item.provider_id} | {v.created_by_id for v in view.versions}
                                       | {r.classified_by_id for r in export_records}
                                       | {f.uploaded_by_id for f in view.files}
                                       | {b.proposed_by_id for b in view.ballots} | scope_users
                                       | {cv.claim.claimant_id for cv in (claims.claims if claims else [])})
    open_ballot = next((b for b in view.ballots if b.state == BallotState.OPEN), None)
    no_download = not view.may_take_copy  # the gate's decision (I12); the page never decides
    shown = version or item.current_version
    return render(request, "information/item.html", {
        "view": view, "item": item, "council": council,
        "people": people, "orgs": accounts_repo.orgs_by_id(db, scope_orgs | {item.provider_org_id}), "members": members,
        "member_orgs": _member_orgs(members), "open_ballot": open_ballot, "no_download": no_download,
        "body_banner": body_banner,
        "shown_version": shown, "files_shown": [f for f in view.files if f.version == shown],
        "older_files": [f for f in view.files if f.version != shown],
        "may_propose": view.may_propose, "may_renew": view.may_renew,
        "may_publish": view.can_publish, "may_propose_publication": view.can_propose_publication,
        "may_nondisclose": view.may_request_nondisclosure, "max_mb": MAX_MB,
        "may_renew_withholding": view.may_renew_withholding, "may_propose_release": view.may_propose_release,
        "known_standings": {item.council_id: view.standing} if view.standing is not None else {},
        "exclusions": claims, "ground_labels": GROUND_LABELS, "claim_state_labels": CLAIM_STATE_LABELS,
        "export_records": export_records, "verdict_labels": VERDICT_LABELS,
        "error": error, "error_at": error_at, "notice": notice, "form": form or {}, **_common(ctx),
    }, status=status)


def _item_error(request: Request, principal: Principal, db: Session, ctx: Ctx, deps: InformationDeps, item_id: int,
                exc: BansoError, where: str, form: dict[str, Any] | None = None) -> HTMLResponse:
    return forms.refused(request, db, exc, partial(_item_page, request, principal, db, ctx, deps, item_id,
                                                   error_at=where, form=form),
                         FIELD_LABELS)


@router.get("/information/items/{item_id}", response_class=HTMLResponse)
@no_head  # a view-only body is stamped and its view recorded (I8, viewer.read_item_on_screen): HEAD is 405
def item_page(item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
              version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
              done: str | None = None) -> HTMLResponse:
    """Show an item the person may read: metadata, provenance, designation, body, versions and files."""
    return _item_page(request, principal, db, ctx, deps, item_id, version=version, notice=forms.notice(done, NOTICES))


@router.post("/information/items/{item_id}/export-classification", response_class=HTMLResponse, dependencies=[Csrf])
def classify_item(item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
                  verdict: Annotated[str, Form(max_length=32)] = "",
                  list_item: Annotated[str, Form(max_length=400)] = "",
                  reason: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Record the item's export-control classification (該非判定, F7; the export-control officer)."""
    try:
        export_control.classify(db, item_id=item_id, actor=principal, now=ctx.clock.now(), verdict=verdict,
                                list_item=list_item, reason=reason)
    except BansoError as exc:
        return _item_error(request, principal, db, ctx, deps, item_id, exc, "export",
                           {"x_verdict": verdict, "x_list_item": list_item, "x_reason": reason})
    return forms.redirect(f"/information/items/{item_id}", "classified", "export")


@router.get("/information/export-control", response_class=HTMLResponse)
def export_queue_page(request: Request, principal: PageUser, db: Db, ctx: Ctx,
                      done: str | None = None) -> HTMLResponse:
    """The export-control officer's queue of deemed-export checks (F7; audited)."""
    return _queue_page(request, principal, db, ctx, notice=forms.notice(done, NOTICES))


def _queue_page(request: Request, principal: Principal, db: Session, ctx: Ctx, *, notice: str | None = None,
                error: forms.FormError | None = None, status: int = 200) -> HTMLResponse:
    require(principal, Permission.EXPORT_CONTROL)
    rows = clearances.queue(db, principal, now=ctx.clock.now())
    return render(request, "information/export_control.html", {
        "rows": rows, "notice": notice, "error": error, "state_labels": CLEARANCE_LABELS, **_common(ctx)},
        status=status)


@router.post("/information/export-control/{clearance_id}", response_class=HTMLResponse, dependencies=[Csrf])
def decide_clearance(clearance_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                     decision: Annotated[str, Form(max_length=16)] = "",
                     reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Clear or refuse one person's access to a council's classified items (F7)."""
    try:
        clearances.decide(db, clearance_id=clearance_id, actor=principal, now=ctx.clock.now(), decision=decision,
                          reason=reason)
    except BansoError as exc:
        return forms.refused(request, db, exc, partial(_queue_page, request, principal, db, ctx), FIELD_LABELS)
    return forms.redirect("/information/export-control", "clearance")


@router.get("/information/items/{item_id}/files/{file_id}")
def download_file(item_id: int, file_id: int, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps) -> Response:
    """Download a file; a non-public copy is stamped for the person, recorded and audited (I8)."""
    copy = distribution.download_file(db, deps, item_id=item_id, file_id=file_id, actor=principal,
                                      now=ctx.clock.now())
    return attachment(copy.filename, copy.content_type, copy.data)


@router.get("/information/items/{item_id}/body.txt")
def download_body(item_id: int, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps) -> Response:
    """Download the body as text, fingerprinted for the person when non-public (I8)."""
    copy = distribution.download_body(db, deps, item_id=item_id, actor=principal, now=ctx.clock.now())
    return attachment(copy.filename, copy.content_type, copy.data)


@router.get("/information/items/{item_id}/export")
def export_item(item_id: int, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
                format: Annotated[str, Query(pattern="^(misp|stix)$")] = "misp") -> Response:
    """Download the item as a MISP event or a STIX 2.1 bundle (audited when non-public)."""
    import json

    document = interchange.export_interchange(db, deps, item_id=item_id, actor=principal, now=ctx.clock.now(),
                                              fmt=format)
    data = json.dumps(document, ensure_ascii=False, indent=2).encode()
    return attachment(f"item-{item_id}-{format}.json", "application/json", data)


@router.post("/information/items/{item_id}/versions", response_class=HTMLResponse, dependencies=[Csrf])
def add_version(item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
                body: Checked = "", note: Checked = "",
                files: Annotated[list[UploadFile] | None, File()] = None, kept: Tokens = None,
                drop: Tokens = None) -> Response:
    """Add a new version (body and files); earlier versions stay readable. Files are kept when refused, for any
    field: the lengths are checked by the service (issue 14)."""
    uploads: list[service.Upload] = []
    try:
        uploads = checked_uploads(db, deps, files)
        uploads = _carried(request, principal, ctx, kept, drop) + uploads
        service.add_version(db, deps, item_id=item_id, actor=principal, now=ctx.clock.now(),
                            body=body.replace("\r\n", "\n"), note=note, files=uploads)
    except BansoError as exc:
        form: dict[str, Any] = {"version_body": body, "version_note": note}
        page = partial(_item_page, request, principal, db, ctx, deps, item_id, error_at="version", form=form)
        return forms.refused(request, db, exc, keeping(page, form, "version_kept",
                                                       partial(_keep, request, principal, ctx, uploads)), FIELD_LABELS)
    return forms.redirect(f"/information/items/{item_id}", "version")


@router.post("/information/items/{item_id}/designation", response_class=HTMLResponse, dependencies=[Csrf])
def propose_designation(
    item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
    reason: Annotated[str, Form(max_length=5000)] = "", scope_kind: Choice = "", user_ids: Choices = None,
    organization_ids: Choices = None, ends_at: When = "", deadline: When = "", handling: Choices = None,
    range_note: Annotated[str, Form(max_length=5000)] = "", file_ids: Choices = None,
) -> Response:
    """Propose designating the item (I3): reason, scope, range (all or some files), a fixed end, handling."""
    fields: dict[str, Any] = {"reason": reason, "scope_kind": scope_kind, "user_ids": user_ids,
                              "organization_ids": organization_ids, "ends_at": ends_at, "deadline": deadline,
                              "handling": handling, "range_note": range_note}
    try:
        proposal = dataclasses.replace(_designation(**fields), file_ids=_ids(file_ids, "file_ids"))
        ballot = service.propose_designation(db, item_id=item_id, actor=principal, now=ctx.clock.now(),
                                             designation=proposal, deps=deps)
    except BansoError as exc:
        return _item_error(request, principal, db, ctx, deps, item_id, exc, "designation",
                           _designation_form("d_", **fields))
    return forms.redirect(f"/information/ballots/{ballot.id}", "proposed")


@router.post("/information/items/{item_id}/renewal", response_class=HTMLResponse, dependencies=[Csrf])
def propose_renewal(item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
                    ends_at: When = "", reason: Annotated[str, Form(max_length=5000)] = "",
                    deadline: When = "") -> Response:
    """Propose renewing the designation with a new fixed end; unanimity again (I5)."""
    try:
        ballot = service.propose_renewal(db, item_id=item_id, actor=principal, now=ctx.clock.now(),
                                         ends_at=parse_when(ends_at, "ends_at", end_of_day=True), reason=reason,
                                         deadline=_when_or_none(deadline, "deadline"))
    except BansoError as exc:
        return _item_error(request, principal, db, ctx, deps, item_id, exc, "renewal",
                           {"r_ends_at": ends_at, "r_reason": reason, "r_deadline": deadline})
    return forms.redirect(f"/information/ballots/{ballot.id}", "renewal")


@router.post("/information/items/{item_id}/publish", response_class=HTMLResponse, dependencies=[Csrf])
def publish_now(item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps) -> Response:
    """Publish your own item now (the provider only; a result not before its prior notice ends, I13)."""
    try:
        service.publish_now(db, item_id=item_id, actor=principal, now=ctx.clock.now(), deps=deps)
    except BansoError as exc:
        return _item_error(request, principal, db, ctx, deps, item_id, exc, "publish")
    return forms.redirect(f"/information/items/{item_id}", "published")


@router.post("/information/items/{item_id}/publication", response_class=HTMLResponse, dependencies=[Csrf])
def propose_publication(item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
                        reason: Annotated[str, Form(max_length=5000)] = "", deadline: When = "") -> Response:
    """Propose publishing another's item early (chair or secretariat; unanimous, the provider included, I13)."""
    try:
        ballot = service.propose_publication(db, item_id=item_id, actor=principal, now=ctx.clock.now(),
                                             reason=reason, deadline=_when_or_none(deadline, "deadline"), deps=deps)
    except BansoError as exc:
        return _item_error(request, principal, db, ctx, deps, item_id, exc, "publication",
                           {"p_reason": reason, "p_deadline": deadline})
    return forms.redirect(f"/information/ballots/{ballot.id}", "proposed")


@router.post("/information/items/{item_id}/nondisclosure", response_class=HTMLResponse, dependencies=[Csrf])
def request_nondisclosure(item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
                          reason_code: Choice = "",
                          reason: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Ask to withhold a research result (非公開要請, ministry officers; decided unanimously, I6)."""
    try:
        ballot = service.request_nondisclosure(db, item_id=item_id, actor=principal, now=ctx.clock.now(),
                                               reason_code=reason_code, reason=reason)
    except BansoError as exc:
        return _item_error(request, principal, db, ctx, deps, item_id, exc, "nondisclosure",
                           {"n_reason_code": reason_code, "n_reason": reason})
    return forms.redirect(f"/information/ballots/{ballot.id}", "nondisclosure")


@router.post("/information/items/{item_id}/withheld-renewal", response_class=HTMLResponse, dependencies=[Csrf])
def propose_withheld_renewal(item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
                             reason: Annotated[str, Form(max_length=5000)] = "", review_at: When = "",
                             deadline: When = "") -> Response:
    """Propose keeping a withheld result withheld past its review date (unanimous, I6, I13)."""
    try:
        ballot = service.propose_withheld_renewal(
            db, item_id=item_id, actor=principal, now=ctx.clock.now(), reason=reason,
            review_at=_when_or_none(review_at, "review_at", end_of_day=True),
            deadline=_when_or_none(deadline, "deadline"), deps=deps)
    except BansoError as exc:
        return _item_error(request, principal, db, ctx, deps, item_id, exc, "withheld_renewal",
                           {"w_reason": reason, "w_review_at": review_at, "w_deadline": deadline})
    return forms.redirect(f"/information/ballots/{ballot.id}", "withheld_renewal")


@router.post("/information/items/{item_id}/release", response_class=HTMLResponse, dependencies=[Csrf])
def propose_release(item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
                    reason: Annotated[str, Form(max_length=5000)] = "", deadline: When = "") -> Response:
    """Propose releasing a withheld result before its review date (unanimous, I13)."""
    try:
        ballot = service.propose_release(db, item_id=item_id, actor=principal, now=ctx.clock.now(), reason=reason,
                                         deadline=_when_or_none(deadline, "deadline"), deps=deps)
    except BansoError as exc:
        return _item_error(request, principal, db, ctx, deps, item_id, exc, "release",
                           {"x_reason": reason, "x_deadline": deadline})
    return forms.redirect(f"/information/ballots/{ballot.id}", "release")


# ---------------------------------------------------------------------------------------------
# A proposal and its vote (I4)


def _ballot_page(request: Request, principal: Principal, db: Session, ctx: Ctx, ballot_id: int, *,
                 error: str | None = None, notice: str | None = None, status: int = 200,
                 form: dict[str, Any] | None = None) -> HTMLResponse:
    now = ctx.clock.now()
    view = service.get_ballot(db, ballot_id=ballot_id, actor=principal)
    ballot = view.ballot
    council_view = _council_view(db, ballot.council_id, principal)
    scope_users = set(view.scope.user_ids) if view.scope else set()
    scope_orgs = set(view.scope.organization_ids) if view.scope else set()
    people = accounts_repo.users_by_id(db, {v.user_id for v in view.votes} | {ballot.proposed_by_id} | scope_users)
    open_now = ballot.state == BallotState.OPEN and now < as_utc(ballot.deadline)
    return render(request, "information/ballot.html", {
        "view": view, "ballot": ballot, "council": council_view.council if council_view else None,
        "people": people, "orgs": accounts_repo.orgs_by_id(db, scope_orgs), "tally": tally(view.votes), "open_now": open_now,
        "may_vote": open_now and view.my_vote is not None and view.my_vote.decision == "pending",
        "error": error, "notice": notice, "form": form or {}, **_common(ctx),
    }, status=status)


@router.get("/information/ballots/{ballot_id}", response_class=HTMLResponse)
def ballot_page(ballot_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                done: str | None = None) -> HTMLResponse:
    """Show a proposal (title, summary, reason, scope, period, handling, votes) — never the content (I4)."""
    return _ballot_page(request, principal, db, ctx, ballot_id, notice=forms.notice(done, NOTICES))


@router.post("/information/ballots/{ballot_id}/vote", response_class=HTMLResponse, dependencies=[Csrf])
def vote(ballot_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
         decision: Choice = "", reason: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Accept, or object with a reason; one objection rejects, a late answer is refused (I4)."""
    try:
        service.vote(db, ballot_id=ballot_id, actor=principal, now=ctx.clock.now(), decision=decision,
                     reason=reason, deps=deps)
    except BansoError as exc:
        return forms.refused(request, db, exc, partial(_ballot_page, request, principal, db, ctx, ballot_id,
                                                       form={"decision": decision, "reason": reason}),
                             FIELD_LABELS)
    return forms.redirect(f"/information/ballots/{ballot_id}", "voted")


# ---------------------------------------------------------------------------------------------
# Incidents (I9)


def _incidents_page(request: Request, principal: Principal, db: Session, ctx: Ctx, *,
                    error: str | None = None, status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    rows = incidents.list_incidents(db, actor=principal)
    council_list = councils.list_councils(db, actor=principal)
    return render(request, "information/incidents.html", {
        "incidents": rows, "councils": council_list, "council_by_id": {c.id: c for c in council_list},
        "people": accounts_repo.users_by_id(db, {i.reported_by_id for i in rows}), "error": error, "form": form or {},
        **_common(ctx),
    }, status=status)


@router.get("/information/incidents", response_class=HTMLResponse)
def incidents_page(request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """List the incidents the person reported or works on, with the form to report one."""
    return _incidents_page(request, principal, db, ctx)


@router.post("/information/incidents", response_class=HTMLResponse, dependencies=[Csrf])
def report_incident(request: Request, principal: PageUser, db: Db, ctx: Ctx, title: Short = "",
                    description: Text = "", council_id: Annotated[str, Form(max_length=12)] = "",
                    item_id: Annotated[str, Form(max_length=12)] = "") -> Response:
    """Report a suspected leak (anyone signed in, I9)."""
    form = {"title": title, "description": description, "council_id": council_id, "item_id": item_id}
    try:
        report = forms.bind(IncidentCreate, {"title": title, "description": description.replace("\r\n", "\n"),
                                             "council_id": forms.int_or_none(council_id, "council_id"),
                                             "item_id": forms.int_or_none(item_id, "item_id")})
        row = incidents.report_incident(db, actor=principal, now=ctx.clock.now(), title=report.title,
                                        description=report.description, council_id=report.council_id,
                                        item_id=report.item_id)
    except BansoError as exc:
        return forms.refused(request, db, exc, partial(_incidents_page, request, principal, db, ctx,
                                                       form=form),
                             FIELD_LABELS)
    return forms.redirect(f"/information/incidents/{row.id}", "reported")


def _incident_page(request: Request, principal: Principal, db: Session, ctx: Ctx, incident_id: int, *,
                   error: str | None = None, error_at: str | None = None, notice: str | None = None,
                   status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    view = incidents.get_incident(db, incident_id=incident_id, actor=principal)
    row = view.incident
    ids = {row.reported_by_id} | {s.actor_id for s in view.steps}
    if row.attributed_user_id is not None:
        ids.add(row.attributed_user_id)
    council_view = _council_view(db, row.council_id, principal) if row.council_id else None
    return render(request, "information/incident.html", {
        "view": view, "incident": row, "people": accounts_repo.users_by_id(db, ids),
        "council": council_view.council if council_view else None, "default_penalty": incidents.DEFAULT_PENALTY,
        "error": error, "error_at": error_at, "notice": notice, "form": form or {}, "max_mb": MAX_MB,
        **_common(ctx),
    }, status=status)


def _incident_error(request: Request, principal: Principal, db: Session, ctx: Ctx, incident_id: int,
                    exc: BansoError, where: str, form: dict[str, Any] | None = None) -> HTMLResponse:
    return forms.refused(request, db, exc, partial(_incident_page, request, principal, db, ctx, incident_id,
                                                   error_at=where, form=form),
                         FIELD_LABELS)


@router.get("/information/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(incident_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  done: str | None = None) -> HTMLResponse:
    """Show an incident and its steps; the secretariat triages, attributes and closes it here."""
    return _incident_page(request, principal, db, ctx, incident_id, notice=forms.notice(done, NOTICES))


@router.post("/information/incidents/{incident_id}/triage", response_class=HTMLResponse, dependencies=[Csrf])
def triage_incident(incident_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                    note: Text = "") -> Response:
    """Record the triage of a reported incident."""
    try:
        incidents.triage_incident(db, incident_id=incident_id, actor=principal, now=ctx.clock.now(),
                                  note=note.replace("\r\n", "\n"))
    except BansoError as exc:
        return _incident_error(request, principal, db, ctx, incident_id, exc, "triage", {"note": note})
    return forms.redirect(f"/information/incidents/{incident_id}", "triaged")


@router.post("/information/incidents/{incident_id}/attribute", response_class=HTMLResponse, dependencies=[Csrf])
def attribute_incident(incident_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                       file: Annotated[UploadFile | None, File()] = None) -> Response:
    """Attribute the leaked copy to the recipient it was issued to (I8, I9)."""
    try:
        incidents.attribute_incident(db, incident_id=incident_id, actor=principal, now=ctx.clock.now(),
                                     data=file.file.read() if file is not None else b"",
                                     filename=file.filename if file is not None else None)
    except BansoError as exc:
        return _incident_error(request, principal, db, ctx, incident_id, exc, "attribute")
    return forms.redirect(f"/information/incidents/{incident_id}", "attributed")


@router.post("/information/incidents/{incident_id}/close", response_class=HTMLResponse, dependencies=[Csrf])
def close_incident(incident_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                   outcome: Text = "", penalty_provision: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Close the incident with its outcome and the penalty provision (default: Art. 62(7) duty)."""
    try:
        incidents.close_incident(db, incident_id=incident_id, actor=principal, now=ctx.clock.now(),
                                 outcome=outcome.replace("\r\n", "\n"), penalty_provision=penalty_provision or None)
    except BansoError as exc:
        return _incident_error(request, principal, db, ctx, incident_id, exc, "close",
                               {"outcome": outcome, "penalty_provision": penalty_provision})
    return forms.redirect(f"/information/incidents/{incident_id}", "closed")


# ---------------------------------------------------------------------------------------------
# Leak attribution (I8)


@router.get("/information/leak", response_class=HTMLResponse)
def leak_page(request: Request, principal: PageUser, ctx: Ctx) -> HTMLResponse:
    """Show the form to attribute a leaked copy (auditors)."""
    require(principal, Permission.AUDIT_LOG_READ)
    return _leak_page(request, ctx)


def _leak_page(request: Request, ctx: Ctx, *, form: dict[str, Any] | None = None, error: str | None = None,
               status: int = 200) -> HTMLResponse:
    return render(request, "information/leak.html", {"finding": None, "error": error, "form": form or {},
                                                      "max_mb": MAX_MB, **_common(ctx)}, status=status)


@dataclass(frozen=True)
class _Leaked:
    """The leaked copy as the form holds it; ``checked`` is what the upload checks found (to keep it, issue 14)."""

    filename: str
    content_type: str | None
    data: bytes
    checked: FileKind | UploadRejected | None = None


def _checked_leak(leaked: _Leaked | None) -> _Leaked | None:
    """Return the leaked copy with the upload checks run (O1), so a refused form keeps it only if it passes.

    The attribution itself reads any bytes (an excerpt, a damaged copy); only keeping it needs the checks.
    """
    if leaked is None or leaked.checked is not None or not leaked.data:
        return leaked
    try:
        kind: FileKind | UploadRejected = sniff(leaked.data, leaked.filename, leaked.content_type,
                                                 max_bytes=MAX_FILE_BYTES)
    except UploadRejected as exc:
        kind = exc
    return dataclasses.replace(leaked, checked=kind)


@router.post("/information/leak", response_class=HTMLResponse, dependencies=[Csrf])
def attribute_leak(request: Request, principal: PageUser, db: Db, ctx: Ctx,
                   file: Annotated[UploadFile | None, File()] = None, item_id: Checked = "",
                   kept: Tokens = None, drop: Tokens = None) -> HTMLResponse:
    """Trace a leaked copy or excerpt to its most likely recipient, with a confidence (audited).

    A copy that passes the upload checks is kept when the form is refused (issue 14)."""
    require(principal, Permission.AUDIT_LOG_READ)
    form: dict[str, Any] = {"item_id": item_id}
    held = kept_form(ctx, principal.user_id, request.url.path)
    leaked: _Leaked | None = None
    people: dict[int, User] = {}
    try:
        chosen = file is not None and bool(file.filename)
        carried = held.single(chosen, kept, drop)
        if file is not None and chosen:
            leaked = _Leaked(file.filename or "", file.content_type, file.file.read())
        elif carried is not None:
            leaked = _Leaked(carried.filename, carried.content_type, carried.data, carried.kind)
        if leaked is None or not leaked.data:
            raise ValidationFailed("ファイルを選択してください / choose the leaked file", field="file")
        finding = distribution.attribute(db, data=leaked.data, filename=leaked.filename,
                                         item_id=forms.int_or_none(item_id, "item_id"), actor_label=principal.label,
                                         actor_id=principal.user_id, now=ctx.clock.now())
    except BansoError as exc:
        page = partial(_leak_page, request, ctx, form=form)
        return forms.refused(request, db, exc, held.page(page, form, lambda: [_checked_leak(leaked)]), FIELD_LABELS)
    if finding.user_id is not None:
        people = accounts_repo.users_by_id(db, {finding.user_id})
    return render(request, "information/leak.html", {
        "finding": finding, "people": people, "filename": leaked.filename, "error": None,
        "form": {"item_id": item_id}, "max_mb": MAX_MB, **_common(ctx)})


# ---------------------------------------------------------------------------------------------
# The minimality view (I10)


@router.get("/information/minimality", response_class=HTMLResponse)
def minimality_page(request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """Show per council how minimal designation is: share designated, periods, expiring, decisions."""
    totals, reports = minimality.platform_minimality(db, actor=principal, now=ctx.clock.now())
    return render(request, "information/minimality.html", {
        "totals": totals, "reports": reports, **_common(ctx),
    })


# ---------------------------------------------------------------------------------------------
# The public portal (I6): no login


# The list with search and technology facets is banso.app.portal (it joins the programme's registry).


@router.get("/public/items/{item_id}", response_class=HTMLResponse)
def public_item(item_id: int, request: Request, auth: Auth, db: Db, ctx: Ctx, deps: InfoDeps) -> HTMLResponse:
    """Show a published result with its files (anyone; anything unpublished is 404)."""
    # Read as nobody: the portal shows published content only, whoever asks.
    view = service.read_item(db, deps, item_id=item_id, actor=None, now=ctx.clock.now())
    return render(request, "information/public_item.html", {
        "view": view, "item": view.item, "people": accounts_repo.users_by_id(db, {view.item.provider_id}),
        "orgs": accounts_repo.orgs_by_id(db, {view.item.provider_org_id}), **_common(ctx),
    })


@router.get("/public/items/{item_id}/files/{file_id}")
def public_file(item_id: int, file_id: int, db: Db, ctx: Ctx, deps: InfoDeps) -> Response:
    """Download a published file (anyone)."""
    copy = distribution.download_file(db, deps, item_id=item_id, file_id=file_id, actor=None, now=ctx.clock.now())
    return attachment(copy.filename, copy.content_type, copy.data)


# --- filing a council's material-request answer (C6) -------------------------------------------


@router.post("/councils/{council_id}/requests/{request_id}/file", response_class=HTMLResponse,
             dependencies=[Csrf])
def file_answer(council_id: int, request_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                deps: InfoDeps) -> Response:
    """File the answer as an information item of the council (C6: the addressee or chair/secretariat)."""
    try:
        item = filing.file_request_answer(db, deps, council_id=council_id, request_id=request_id,
                                          actor=principal, now=ctx.clock.now(), material_store=sealed_deps(ctx))
    except BansoError as exc:
        return refused_on_request_page(request, principal, db, ctx, council_id, request_id, exc)
    return forms.redirect(f"/information/items/{item.id}", "held" if item.state == ItemState.HELD else "created")


# ---------------------------------------------------------------------------------------------
# Exclusion claims (秘密情報の除外, issue 13)


def _evidence(db: Session, held: KeptForm, file: UploadFile | None, kept: Sequence[str] | None,
              drop: Sequence[str] | None) -> councils.UploadedFile | None:
    """Return the claim's evidence file: the one chosen now (checked, O1) or the one a refused submit kept."""
    chosen = evidence_file(db, file)
    carried = held.single(chosen is not None, kept, drop)
    if carried is None:
        return chosen
    return councils.UploadedFile(filename=carried.filename, data=carried.data, checked=carried.kind,
                                 content_type=carried.content_type or carried.kind.content_type)


@router.post("/information/items/{item_id}/exclusions", response_class=HTMLResponse, dependencies=[Csrf])
def file_claim(item_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
               ground: Checked = "", evidence: Checked = "",
               file: Annotated[UploadFile | None, File()] = None, kept: Tokens = None, drop: Tokens = None,
               ) -> Response:
    """Claim that the item is outside your own duty, with evidence (a file validated fully and sealed)."""
    form: dict[str, Any] = {"claim_ground": ground, "claim_evidence": evidence}
    held = kept_form(ctx, principal.user_id, request.url.path)
    upload: councils.UploadedFile | None = None
    try:
        upload = _evidence(db, held, file, kept, drop)
        exclusions.file_claim(db, actor=principal, now=ctx.clock.now(), ground=ground, evidence=evidence,
                              store=sealed_deps(ctx), item_id=item_id, file=upload)
    except BansoError as exc:
        page = partial(_item_page, request, principal, db, ctx, deps, item_id, error_at="exclusions", form=form)
        return forms.refused(request, db, exc, held.page(page, form, lambda: [upload], "claim_kept"), FIELD_LABELS)
    return forms.redirect(f"/information/items/{item_id}", "claimed", "exclusions")


def _statement_page(request: Request, principal: Principal, db: Session, ctx: Ctx, council_id: int,
                    statement_id: int, *, error: str | None = None, error_at: str | None = None,
                    notice: str | None = None, status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    # The route lives here, under the council's URL, because the claims are information's (architecture.md).
    found = exclusions.statement_exclusions(db, council_id=council_id, statement_id=statement_id, actor=principal,
                                            now=ctx.clock.now(), store=sealed_deps(ctx))
    people = accounts_repo.users_by_id(db, {found.statement.row.speaker_id} | {cv.claim.claimant_id
                                                                            for cv in found.claims})
    return render(request, "information/statement.html", {
        "council": found.council, "st": found.statement, "exclusions": found, "people": people,
        "ground_labels": GROUND_LABELS, "claim_state_labels": CLAIM_STATE_LABELS,
        "claim_action": f"/councils/{council_id}/statements/{statement_id}/exclusions",
        "error": error, "error_at": error_at, "notice": notice, "form": form or {}, **_common(ctx),
    }, status=status)


@router.get("/councils/{council_id}/statements/{statement_id}", response_class=HTMLResponse)
def statement_page(council_id: int, statement_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                   done: str | None = None) -> HTMLResponse:
    """Show one oral statement (council-content readers): its state under the duty and the exclusion claims on it,
    with the claim form for those the service allows to claim (issue 13)."""
    return _statement_page(request, principal, db, ctx, council_id, statement_id,
                           notice=forms.notice(done, NOTICES))


@router.post("/councils/{council_id}/statements/{statement_id}/exclusions", response_class=HTMLResponse,
             dependencies=[Csrf])
def file_statement_claim(council_id: int, statement_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                         ground: Checked = "", evidence: Checked = "",
                         file: Annotated[UploadFile | None, File()] = None, kept: Tokens = None,
                         drop: Tokens = None) -> Response:
    """Claim that an oral statement is outside your own duty, with evidence (a file validated fully and sealed)."""
    form: dict[str, Any] = {"claim_ground": ground, "claim_evidence": evidence}
    held = kept_form(ctx, principal.user_id, request.url.path)
    upload: councils.UploadedFile | None = None
    try:
        upload = _evidence(db, held, file, kept, drop)
        exclusions.file_claim(db, actor=principal, now=ctx.clock.now(), ground=ground, evidence=evidence,
                              store=sealed_deps(ctx), council_id=council_id, statement_id=statement_id, file=upload)
    except BansoError as exc:
        page = partial(_statement_page, request, principal, db, ctx, council_id, statement_id,
                       error_at="exclusions", form=form)
        return forms.refused(request, db, exc, held.page(page, form, lambda: [upload], "claim_kept"), FIELD_LABELS)
    return forms.redirect(f"/councils/{council_id}/statements/{statement_id}", "claimed", "exclusions")


def _claim_done(claim_id: int, principal: Principal, db: Session, ctx: Ctx) -> tuple[int | None, int, int | None]:
    """Return the item, council and statement a claim is on (for the redirect or the refused form)."""
    view = exclusions.get_claim(db, claim_id=claim_id, actor=principal, now=ctx.clock.now(), store=sealed_deps(ctx))
    return view.claim.item_id, view.claim.council_id, view.claim.statement_id


@router.post("/information/exclusions/{claim_id}/{step}", response_class=HTMLResponse, dependencies=[Csrf])
def claim_step(claim_id: int, step: str, request: Request, principal: PageUser, db: Db, ctx: Ctx, deps: InfoDeps,
               decision: Choice = "", reason: Text = "", confirm: Choice = "") -> Response:
    """Decide (secretariat), confirm or send back (chair), or withdraw (claimant) an exclusion claim."""
    now, store = ctx.clock.now(), sealed_deps(ctx)
    if step not in ("decision", "confirmation", "withdraw"):
        raise NotFound("見つかりません / not found")
    try:
        if step == "decision":
            view = exclusions.decide_claim(db, claim_id=claim_id, actor=principal, now=now, decision=decision,
                                           reason=reason, store=store)
        elif step == "confirmation":
            view = exclusions.confirm_claim(db, claim_id=claim_id, actor=principal, now=now, confirm=confirm == "yes",
                                            store=store)
        else:
            view = exclusions.withdraw_claim(db, claim_id=claim_id, actor=principal, now=now, store=store)
    except BansoError as exc:
        item_id, council_id, statement_id = _claim_done(claim_id, principal, db, ctx)
        if item_id is not None:
            return _item_error(request, principal, db, ctx, deps, item_id, exc, "exclusions")
        assert statement_id is not None
        return forms.refused(request, db, exc, partial(_statement_page, request, principal, db, ctx, council_id,
                                                       statement_id, error_at="exclusions"), FIELD_LABELS)
    if view.claim.item_id is None:
        return forms.redirect(f"/councils/{view.claim.council_id}/statements/{view.claim.statement_id}", "claim",
                              "exclusions")
    return forms.redirect(f"/information/items/{view.claim.item_id}", "claim", "exclusions")


@router.get("/information/exclusions/{claim_id}/file")
def download_evidence(claim_id: int, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Download a claim's evidence file, stamped for the person, recorded and audited (I8)."""
    copy = exclusions.read_evidence_file(db, claim_id=claim_id, actor=principal, now=ctx.clock.now(),
                                         store=sealed_deps(ctx))
    return attachment(copy.filename, copy.content_type, copy.data)
