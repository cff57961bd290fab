"""JSON API of research-plan documents and plan changes (``/api/v1/programme``; F6, issue 15).

Parse, call one service, shape. Kept apart from ``endpoints.py`` so the two parts read on their own.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, UploadFile, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt
from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.kit.unit import released
from banso.programme import plan_changes, plan_documents
from banso.programme.endpoints import Councils, stamped_download
from banso.sealed import store as sealed
from banso.web.context import AppContext
from banso.web.csrf import verify_csrf
from banso.web.deps import ApiUser, Ctx, Db
from banso.web.openapi import file_response

router = APIRouter(prefix="/programme", tags=["programme"], dependencies=[Depends(verify_csrf)])


class PlanDocumentRead(BaseModel):
    """A research-plan document's metadata (the bytes are downloaded separately, stamped)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title: str
    filename: str
    content_type: str
    size: int
    sha256: str
    replaces_id: int | None
    uploaded_by_id: int
    uploaded_at: datetime
    superseded_at: datetime | None


class PlanDocumentsRead(BaseModel):
    """Every version of a proposal's documents, and whether the caller may upload."""

    proposal_id: int
    may_upload: bool
    documents: list[PlanDocumentRead]


def read_upload(db: Session, file: UploadFile) -> tuple[bytes, str, plan_documents.FileKind
                                                         | plan_documents.UploadRejected]:
    """Read and check an uploaded document with no transaction open (O1, O4); the page and the API share it."""
    ctype = file.content_type or "application/octet-stream"
    with released(db):
        content = file.file.read(plan_documents.MAX_PLAN_DOCUMENT_BYTES + 1)
        checked = plan_documents.check_upload(content, file.filename or "", ctype)
    return content, ctype, checked


@router.get("/proposals/{proposal_id}/documents", response_model=PlanDocumentsRead)
def list_documents(proposal_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> PlanDocumentsRead:
    """List a proposal's documents (研究提案書・様式), every version (404 to those who may not read them)."""
    view = plan_documents.list_documents(db, proposal_id=proposal_id, now=ctx.clock.now(), actor=principal)
    return PlanDocumentsRead(proposal_id=view.proposal.id, may_upload=view.may_upload,
                             documents=[PlanDocumentRead.model_validate(d) for d in view.documents])


@router.post("/proposals/{proposal_id}/documents", response_model=PlanDocumentRead,
             status_code=status.HTTP_201_CREATED)
def upload_document(proposal_id: int, principal: ApiUser, db: Db, ctx: Ctx, file: Annotated[UploadFile, File()],
                    kind: Annotated[str, Form(max_length=16)] = "research_plan",
                    title: Annotated[str, Form(max_length=300)] = "") -> PlanDocumentRead:
    """Upload (or replace) a document (multipart: ``file``, ``kind``, optional ``title``); sealed at rest (I11)."""
    content, ctype, checked = read_upload(db, file)
    row = plan_documents.upload(db, proposal_id=proposal_id, kind=kind, title=title, filename=file.filename or "",
                                content=content, content_type=ctype, now=ctx.clock.now(), actor=principal,
                                store=sealed.sealed_deps(ctx), checked=checked)
    return PlanDocumentRead.model_validate(row)


@router.get("/proposals/{proposal_id}/documents/{document_id}", response_class=Response,
            responses=file_response("application/octet-stream", description="The document, stamped for the caller"))
def download_document(proposal_id: int, document_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> Response:
    """Download a document stamped for the caller (recorded and audited, I8)."""
    return document_response(db, ctx, principal, proposal_id, document_id)


def document_response(db: Session, ctx: AppContext, principal: Principal, proposal_id: int,
                      document_id: int) -> Response:
    """A document copy stamped for ``principal`` as a download, for the API and the page alike (I8)."""
    copy = plan_documents.download(db, proposal_id=proposal_id, document_id=document_id, now=ctx.clock.now(),
                                   actor=principal, store=sealed.sealed_deps(ctx))
    return stamped_download(copy)


# ---------------------------------------------------------------------------------------------
# Plan changes after adoption (計画変更)


class MoveIn(BaseModel):
    """Money moved between two cells of the budget sheet (whole yen)."""

    from_year: int
    from_category: str = Field(max_length=16)
    to_year: int
    to_category: str = Field(max_length=16)
    yen: StrictInt  # a JSON number only: "100" is refused rather than read as ¥100


class MemberIn(BaseModel):
    """A person added to the team."""

    user_id: int
    role: str = Field(default="member", max_length=16)
    effort_percent: int | None = None


class MilestoneMoveIn(BaseModel):
    """A milestone's new due date."""

    id: int
    due_on: date


class PlanChangeIn(BaseModel):
    """A plan change request: its kind, the reason and the part of its kind."""

    kind: Literal["budget", "team", "schedule"]
    reason: str = Field(max_length=5000)
    moves: list[MoveIn] = Field(default_factory=list, max_length=20)
    add: list[MemberIn] = Field(default_factory=list, max_length=20)
    remove: list[int] = Field(default_factory=list, max_length=20)
    milestones: list[MilestoneMoveIn] = Field(default_factory=list, max_length=50)


class PlanChangeDecisionIn(BaseModel):
    """The agency's decision on a requested change."""

    decision: Literal["approve", "return"]
    reason: str = Field(default="", max_length=5000)


class PlanChangeRead(BaseModel):
    """A plan change, who asked and who decided, and when."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    state: str
    reason: str
    detail: dict[str, object]
    share_percent: float | None
    requested_by_id: int
    requested_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    decision_reason: str | None


class PlanChangesRead(BaseModel):
    """A project's plan changes and what the caller may do."""

    project_id: int
    may_request: bool
    may_decide: bool
    threshold_percent: int
    changes: list[PlanChangeRead]


def change_input(body: PlanChangeIn) -> plan_changes.ChangeInput:
    """Return the service's input for a request body (the page builds the same from its form)."""
    return plan_changes.ChangeInput(
        kind=body.kind, reason=body.reason, moves=[m.model_dump() for m in body.moves],
        add=[m.model_dump() for m in body.add], remove=body.remove,
        milestones=[m.model_dump() for m in body.milestones])


@router.get("/projects/{project_id}/changes", response_model=PlanChangesRead)
def list_changes(project_id: int, principal: ApiUser, db: Db) -> PlanChangesRead:
    """List a project's plan changes (計画変更) to whoever sees the project."""
    view = plan_changes.changes_of(db, project_id=project_id, actor=principal)
    return PlanChangesRead(project_id=view.project.id, may_request=view.may_request, may_decide=view.may_decide,
                           threshold_percent=view.threshold_percent,
                           changes=[PlanChangeRead.model_validate(c) for c in view.changes])


@router.post("/projects/{project_id}/changes", response_model=PlanChangeRead, status_code=status.HTTP_201_CREATED)
def request_change(project_id: int, body: PlanChangeIn, principal: ApiUser, db: Db, ctx: Ctx) -> PlanChangeRead:
    """Request a plan change (the research representative); a small budget move is applied on notice."""
    row = plan_changes.request_change(db, project_id=project_id, change=change_input(body), now=ctx.clock.now(),
                                      actor=principal)
    return PlanChangeRead.model_validate(row)


@router.post("/projects/{project_id}/changes/{change_id}/decision", response_model=PlanChangeRead)
def decide_change(project_id: int, change_id: int, body: PlanChangeDecisionIn, principal: ApiUser, db: Db,
                  ctx: Ctx, councils: Councils) -> PlanChangeRead:
    """Approve (applied to the plan) or return with a reason a requested plan change (the agency's staff)."""
    row = plan_changes.decide_change(db, project_id=project_id, change_id=change_id, decision=body.decision,
                                     reason=body.reason, now=ctx.clock.now(), actor=principal,
                                     councils=councils)
    return PlanChangeRead.model_validate(row)
