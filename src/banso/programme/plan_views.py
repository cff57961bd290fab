"""Pages of research-plan documents and plan changes (F6, issue 15): parse, call one service, render."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.kit.errors import BansoError
from banso.programme import plan_documents
from banso.programme.plan_endpoints import document_response, read_upload
from banso.sealed import store as sealed
from banso.web.csrf import verify_csrf
from banso.web.deps import Ctx, Db
from banso.web.forms import notice, redirect, refused
from banso.web.pages import PageUser
from banso.web.templating import render

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
NOTICES = frozenset({"document_uploaded", "change_requested", "change_decided", "change_notified"})
FIELD_LABELS = {"file": "File", "kind": "Kind", "title": "Title", "reason": "Reason"}
Short = Annotated[str, Form(max_length=300)]
Small = Annotated[str, Form(max_length=40)]


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
                    file: Annotated[UploadFile, File()], kind: Small = "research_plan",
                    title: Short = "") -> Response:
    """Upload (or replace) a document; sealed at rest (I11)."""
    content, ctype, checked = read_upload(db, file)
    try:
        plan_documents.upload(db, proposal_id=proposal_id, kind=kind, title=title, filename=file.filename or "",
                              content=content, content_type=ctype, now=ctx.clock.now(), actor=principal,
                              store=sealed.sealed_deps(ctx), checked=checked)
    except BansoError as exc:
        return refused(request, db, exc, partial(_documents_page, request, principal, db, ctx, proposal_id,
                                                 form={"kind": kind, "title": title}), FIELD_LABELS, name_field=True)
    return redirect(f"/programme/proposals/{proposal_id}/documents", "document_uploaded")


@router.get("/programme/proposals/{proposal_id}/documents/{document_id}")
def download_document(proposal_id: int, document_id: int, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Download a document stamped for the reader (recorded and audited, I8)."""
    return document_response(db, ctx, principal, proposal_id, document_id)
