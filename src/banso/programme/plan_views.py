"""Pages of research-plan documents and plan changes (F6, issue 15): parse, call one service, render."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.kit.errors import BansoError, ValidationFailed
from banso.programme import budget, plan_changes, plan_documents
from banso.programme.endpoints import Councils
from banso.programme.plan_endpoints import document_response, read_upload
from banso.sealed import store as sealed
from banso.sealed.pending import kept_form
from banso.web.csrf import verify_csrf
from banso.web.deps import Ctx, Db
from banso.web.forms import int_or_none, notice, redirect, refused
from banso.web.pages import PageUser
from banso.web.templating import render

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
NOTICES = frozenset({"document_uploaded", "change_requested", "change_decided", "change_notified"})
FIELD_LABELS = {"file": "File", "kind": "Kind", "title": "Title", "reason": "Reason", "moves": "Amount (千円)",
                "add": "Add to the team", "remove": "Take off the team", "milestones": "Milestone",
                "decision": "Approval decision"}
Short = Annotated[str, Form(max_length=300)]
Small = Annotated[str, Form(max_length=40)]
# A field of a form with a file: its length is checked by the service, so that a refusal keeps the file (issue 14);
# the app's body limit bounds it meanwhile.
Checked = Annotated[str, Form()]
Tokens = Annotated[list[str] | None, Form()]  # files kept from a refused submit (issue 14)


@dataclass(frozen=True)
class _Document:
    """An uploaded document as the form holds it: chosen now and checked (O1), or kept from a refused submit."""

    filename: str
    data: bytes
    content_type: str
    checked: plan_documents.FileKind | plan_documents.UploadRejected


def _documents_page(request: Request, principal: Principal, db: Session, ctx: Ctx, proposal_id: int, *,
                    notice_key: str | None = None, error: str | None = None, status: int = 200,
                    form: dict[str, Any] | None = None) -> HTMLResponse:
    view = plan_documents.list_documents(db, proposal_id=proposal_id, now=ctx.clock.now(), actor=principal)
    return render(request, "programme/plan_documents.html", {
        "view": view, "kinds": plan_documents.KIND_LABELS, "notice": notice_key, "error": error, "form": form or {},
        "max_mib": plan_documents.MAX_PLAN_DOCUMENT_BYTES // (1024 * 1024)}, status=status)


@router.get("/programme/proposals/{proposal_id}/documents", response_class=HTMLResponse)
def documents_page(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                   done: str | None = None) -> HTMLResponse:
    """A proposal's documents (研究提案書・様式), every version, and the upload form for the proposer."""
    return _documents_page(request, principal, db, ctx, proposal_id, notice_key=notice(done, NOTICES))


@router.post("/programme/proposals/{proposal_id}/documents", response_class=HTMLResponse, dependencies=[Csrf])
def upload_document(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                    file: Annotated[UploadFile | None, File()] = None, kind: Checked = "research_plan",
                    title: Checked = "", kept: Tokens = None, drop: Tokens = None) -> Response:
    """Upload (or replace) a document; sealed at rest (I11). A file that passed the checks is kept when the form is
    refused, for any field: the lengths are checked by the service, not by FastAPI before the view (issue 14)."""
    form: dict[str, Any] = {"kind": kind, "title": title}
    held = kept_form(ctx, principal.user_id, request.url.path)
    upload: _Document | None = None
    try:
        chosen = file is not None and bool(file.filename)
        carried = held.single(chosen, kept, drop)
        if file is not None and chosen:
            upload = _Document(file.filename or "", *read_upload(db, file))
        elif carried is not None:
            upload = _Document(carried.filename, carried.data, carried.content_type or carried.kind.content_type,
                               carried.kind)
        if upload is None:
            raise ValidationFailed("ファイルを選んでください / choose a file", field="file")
        plan_documents.upload(db, proposal_id=proposal_id, kind=kind, title=title, filename=upload.filename,
                              content=upload.data, content_type=upload.content_type, now=ctx.clock.now(),
                              actor=principal, store=sealed.sealed_deps(ctx), checked=upload.checked)
    except BansoError as exc:
        page = partial(_documents_page, request, principal, db, ctx, proposal_id, form=form)
        return refused(request, db, exc, held.page(page, form, lambda: [upload]), FIELD_LABELS, name_field=True)
    return redirect(f"/programme/proposals/{proposal_id}/documents", "document_uploaded")


@router.get("/programme/proposals/{proposal_id}/documents/{document_id}")
def download_document(proposal_id: int, document_id: int, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Download a document stamped for the reader (recorded and audited, I8)."""
    return document_response(db, ctx, principal, proposal_id, document_id)


# ---------------------------------------------------------------------------------------------
# Plan changes after adoption (計画変更)


def _changes_page(request: Request, principal: Principal, db: Session, ctx: Ctx, project_id: int, *,
                  notice_key: str | None = None, error: str | None = None, status: int = 200,
                  form: dict[str, Any] | None = None) -> HTMLResponse:
    view = plan_changes.changes_of(db, project_id=project_id, actor=principal)
    return render(request, "programme/plan_changes.html", {
        "view": view, "kinds": plan_changes.KIND_LABELS, "categories": budget.LABELS, "direct": budget.DIRECT,
        "roles": budget.ROLES, "notice": notice_key, "error": error, "form": form or {}}, status=status)


@router.get("/programme/projects/{project_id}/changes", response_class=HTMLResponse)
def changes_page(project_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                 done: str | None = None) -> HTMLResponse:
    """A project's plan changes (計画変更), the request form for the lead and the decision forms for the staff."""
    return _changes_page(request, principal, db, ctx, project_id, notice_key=notice(done, NOTICES))


def _form_change(kind: str, reason: str, fields: dict[str, str]) -> plan_changes.ChangeInput:
    """Return the service's input from the page's one-line form (one move, one person, one milestone)."""
    if kind == "budget":
        moves = [{"from_year": fields["from_year"], "from_category": fields["from_category"],
                  "to_year": fields["to_year"], "to_category": fields["to_category"],
                  "yen": budget.parse_thousand_yen(fields["amount"], field="moves")}]
        return plan_changes.ChangeInput(kind=kind, reason=reason, moves=moves)
    if kind == "team":
        add_id, remove_id = int_or_none(fields["add_user_id"], "add"), int_or_none(fields["remove_user_id"], "remove")
        add = [{"user_id": add_id, "role": fields["role"] or "member",
                "effort_percent": int_or_none(fields["effort"], "add")}] if add_id else []
        return plan_changes.ChangeInput(kind=kind, reason=reason, add=add, remove=[remove_id] if remove_id else [])
    milestone = int_or_none(fields["milestone_id"], "milestones")
    due = _date_or_none(fields["due_on"])
    return plan_changes.ChangeInput(kind=kind, reason=reason,
                                    milestones=[{"id": milestone, "due_on": due}] if milestone else [])


def _date_or_none(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None  # the service names the field: "the due date must fall within …"


@router.post("/programme/projects/{project_id}/changes", response_class=HTMLResponse, dependencies=[Csrf])
def request_change(project_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                   kind: Small = "budget", reason: Annotated[str, Form(max_length=5000)] = "",
                   from_year: Small = "", from_category: Small = "", to_year: Small = "", to_category: Small = "",
                   amount: Small = "", add_user_id: Small = "", role: Small = "", effort: Small = "",
                   remove_user_id: Small = "", milestone_id: Small = "", due_on: Small = "") -> Response:
    """Request a plan change (the research representative)."""
    fields = {"from_year": from_year, "from_category": from_category, "to_year": to_year,
              "to_category": to_category, "amount": amount, "add_user_id": add_user_id, "role": role,
              "effort": effort, "remove_user_id": remove_user_id, "milestone_id": milestone_id, "due_on": due_on}
    try:
        row = plan_changes.request_change(db, project_id=project_id, change=_form_change(kind, reason, fields),
                                          now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return refused(request, db, exc, partial(_changes_page, request, principal, db, ctx, project_id,
                                                 form={"kind": kind, "reason": reason, **fields}),
                       FIELD_LABELS, name_field=True)
    done = "change_notified" if row.state == "notified" else "change_requested"
    return redirect(f"/programme/projects/{project_id}/changes", done)


@router.post("/programme/projects/{project_id}/changes/{change_id}/decision", response_class=HTMLResponse,
             dependencies=[Csrf])
def decide_change(project_id: int, change_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  councils: Councils, decision: Small = "",
                  reason: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Approve or return a requested plan change (the agency's staff)."""
    try:
        plan_changes.decide_change(db, project_id=project_id, change_id=change_id, decision=decision, reason=reason,
                                   now=ctx.clock.now(), actor=principal, councils=councils)
    except BansoError as exc:
        return refused(request, db, exc, partial(_changes_page, request, principal, db, ctx, project_id,
                                                 form={"decision_reason": reason}), FIELD_LABELS, name_field=True)
    return redirect(f"/programme/projects/{project_id}/changes", "change_decided")
