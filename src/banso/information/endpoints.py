"""JSON API of controlled information (``/api/v1/information``): parse → one service call → commit → shape.

Access is decided by ``banso.authz.policies.information`` inside the services; an item the caller
may not read answers 404 everywhere (I7). The public portal routes take no login: they read as
nobody, so they only ever show published content (I6).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile, status
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from banso.authz.guard import require
from banso.authz.permissions import Permission
from banso.councils import export_control as clearances
from banso.councils import service as council_service
from banso.councils.endpoints import DOWNLOAD_TYPES, file_store
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
)
from banso.information.deps import MAX_FILE_BYTES, InformationDeps
from banso.information.deps import information_deps as build_deps
from banso.information.models import Ballot, Incident, Item, Vote
from banso.information.schemas import (
    BallotDetail,
    BallotRead,
    ClaimConfirmIn,
    ClaimDecisionIn,
    ClaimRead,
    ClassificationIn,
    ClassificationRead,
    ClearanceDecisionIn,
    ClearanceRead,
    CloseIn,
    DesignationIn,
    FileRead,
    FindingRead,
    IncidentCreate,
    IncidentDetail,
    IncidentRead,
    IncidentStepRead,
    ItemCount,
    ItemDetail,
    ItemRead,
    MinimalityRead,
    NondisclosureIn,
    PlatformMinimality,
    PublicationIn,
    PublicationRead,
    PublicFileRead,
    PublicItemDetail,
    PublicItemRead,
    RankedCopy,
    RenewalIn,
    ScopeRead,
    SearchHitRead,
    Tally,
    TriageIn,
    VersionRead,
    VoteIn,
    VoteRead,
    WithheldRenewalIn,
)
from banso.kit.dates import Moment
from banso.kit.disposition import content_disposition
from banso.kit.errors import ValidationFailed
from banso.kit.unit import released
from banso.web.csrf import verify_csrf
from banso.web.deps import ApiUser, Ctx, Db
from banso.web.methods import no_head
from banso.web.openapi import file_response

router = APIRouter(prefix="/information", tags=["information"], dependencies=[Depends(verify_csrf)])
# Council routes that file into information (C6): information is above councils, so they live here.
council_router = APIRouter(prefix="/councils", tags=["councils"], dependencies=[Depends(verify_csrf)])

# Multipart routes that carry files may be as large as one file at the service's cap plus the
# form's other fields (a material answer with several files shares that budget); every other route keeps the app-wide body limit (BodySizeLimit).
UPLOAD_BODY_BYTES = MAX_FILE_BYTES + 2 * 1024 * 1024
UPLOAD_ROUTES = re.compile(
    r"^(?:/api/v1/information/(?:items|items/import|items/\d{1,18}/versions|incidents/\d{1,18}/attribute"
    r"|leak/attribute)"
    r"|/councils/\d{1,18}/information|/information/items/\d{1,18}/versions|/information/incidents/\d{1,18}/attribute"
    r"|/information/leak"
    # the other doors that take a file at the same 20 MB cap: commission deliverables, material answers
    # and meeting materials (C5; API and page form alike)
    r"|(?:/api/v1)?/programme/commissions/\d{1,18}/deliverables|(?:/api/v1)?/councils/\d{1,18}/requests/\d{1,18}/answer"
    r"|(?:/api/v1)?/councils/\d{1,18}/meetings/\d{1,18}/materials"
    # exclusion claims with an evidence file (issue 13; API and page form)
    r"|(?:/api/v1)?/information/exclusions|/information/items/\d{1,18}/exclusions"
    r"|/councils/\d{1,18}/statements/\d{1,18}/exclusions"
    # issue 13/15: a think tank's answer to a council's request (Art. 64) and research-plan documents
    # (API and page form); tests/information/test_upload_routes.py keeps this list equal to the File() routes
    r"|(?:/api/v1)?/programme/commissions/\d{1,18}/requests/\d{1,18}/answer"
    r"|(?:/api/v1)?/programme/proposals/\d{1,18}/documents)$"
)
NO_STORE = {"Cache-Control": "no-store"}


def information_deps(request: Request, ctx: Ctx) -> InformationDeps:
    """Return the information collaborators, built once per app from the context (files, keys, secret)."""
    deps: InformationDeps | None = getattr(request.app.state, "information_deps", None)
    if deps is None:
        deps = build_deps(ctx)
        request.app.state.information_deps = deps
    return deps


InfoDeps = Annotated[InformationDeps, Depends(information_deps)]


def uploads(files: Sequence[UploadFile] | None) -> list[service.Upload]:
    """Return the uploaded files as the service takes them (an empty file input sends no file)."""
    return [service.Upload(filename=f.filename or "", content_type=f.content_type or None, data=f.file.read())
            for f in (files or []) if f.filename]


def checked_uploads(db: Session, deps: InformationDeps, files: Sequence[UploadFile] | None) -> list[service.Upload]:
    """Return the uploaded files read and validated completely (O1) with no transaction open (O4).

    Parsing a PDF, an image or an Office package takes up to seconds: the request's work so far (the
    sign-in) is committed first, and the service stores the files in the unit's next transaction,
    refusing (audited, 422) what did not pass where it always did.
    """
    with released(db):
        return service.validate_uploads(uploads(files), max_bytes=deps.max_file_bytes)


def attachment(filename: str, content_type: str, data: bytes) -> Response:
    """Return bytes as a download (RFC 5987 ``filename*``; never cached, never sniffed)."""
    return Response(data, media_type=content_type, headers={
        **NO_STORE, "Content-Disposition": content_disposition(filename),
        "X-Content-Type-Options": "nosniff"})


def scope_read(scope: Any) -> ScopeRead | None:
    """Return a policy scope as the API shows it."""
    if scope is None:
        return None
    return ScopeRead(kind=scope.kind, user_ids=sorted(scope.user_ids), organization_ids=sorted(scope.organization_ids))


def item_detail(view: service.ItemView) -> ItemDetail:
    """Shape an item view."""
    return ItemDetail(
        # A JSON body is a machine-readable copy: under view-only handling it stays on the page (I12).
        item=ItemRead.model_validate(view.item), body=view.body if view.may_take_copy else "",
        body_withheld=not view.may_take_copy, may_take_copy=view.may_take_copy,
        files=[FileRead.model_validate(f) for f in view.files],
        versions=[VersionRead.model_validate(v) for v in view.versions],
        ballots=[BallotRead.model_validate(b) for b in view.ballots],
        designation=BallotRead.model_validate(view.designation) if view.designation else None,
        scope=scope_read(view.scope), handling=view.handling, can_manage=view.can_manage,
        publication=PublicationRead(
            notice_ends_at=view.notice_ends_at, review_at=view.review_at,
            may_request_nondisclosure=view.may_request_nondisclosure,
            may_renew_withholding=view.may_renew_withholding, may_propose_release=view.may_propose_release),
        may_classify=view.may_classify)


def tally(votes: Sequence[Vote]) -> Tally:
    """Count the answers of a ballot."""
    decisions = [v.decision for v in votes]
    return Tally(accept=decisions.count("accept"), object=decisions.count("object"),
                 pending=decisions.count("pending"))


def ballot_detail(view: service.BallotView) -> BallotDetail:
    """Shape a proposal as voters see it (never the content, I4)."""
    return BallotDetail(
        ballot=BallotRead.model_validate(view.ballot), item_title=view.item_title, item_summary=view.item_summary,
        item_category=view.item_category, scope=scope_read(view.scope),
        votes=[VoteRead.model_validate(v) for v in view.votes], tally=tally(view.votes),
        my_vote=VoteRead.model_validate(view.my_vote) if view.my_vote else None, can_read_item=view.can_read_item)


def finding_read(finding: distribution.Finding) -> FindingRead:
    """Shape an attribution finding."""
    dist = finding.distribution
    return FindingRead(
        distribution_id=dist.id if dist else None, item_id=dist.item_id if dist else None,
        recipient_user_id=finding.user_id, recipient=finding.user_label, organisation=finding.organization_label,
        confidence=finding.confidence, explanation=finding.explanation, evidence=finding.evidence,
        ranked=[RankedCopy(distribution_id=d, score=score) for d, score in finding.ranked])


def incident_detail(view: incidents.IncidentView) -> IncidentDetail:
    """Shape an incident with its steps."""
    return IncidentDetail(incident=IncidentRead.model_validate(view.incident),
                          steps=[IncidentStepRead.model_validate(s) for s in view.steps], can_manage=view.can_manage)


def minimality_read(report: minimality.MinimalityReport) -> MinimalityRead:
    """Shape a minimality report (I10)."""
    return MinimalityRead.model_validate(report)


def designation_input(body: DesignationIn) -> service.DesignationInput:
    """Return a JSON designation proposal as the service takes it."""
    return service.DesignationInput(reason=body.reason, scope_kind=body.scope_kind, ends_at=body.ends_at,
                                    user_ids=body.user_ids, organization_ids=body.organization_ids,
                                    handling=list(body.handling), deadline=body.deadline,
                                    range_note=body.range_note, file_ids=body.file_ids)


# --- items (I1, I2, I7) ----------------------------------------------------------------------


@router.get("/items", response_model=list[ItemRead])
def list_items(principal: ApiUser, db: Db, council_id: int | None = None,
               state: Annotated[str | None, Query(max_length=16)] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 200,
               offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[ItemRead]:
    """List the items the caller may read (out-of-scope items never appear, I7)."""
    rows = service.list_items(db, actor=principal, council_id=council_id, state=state, limit=limit, offset=offset)
    return [ItemRead.model_validate(i) for i in rows]


@router.get("/items/count", response_model=ItemCount)
def count_items(principal: ApiUser, db: Db, council_id: int | None = None) -> ItemCount:
    """Count the items the caller may read (the same policy as the list)."""
    return ItemCount(count=service.count_items(db, actor=principal, council_id=council_id))


@router.post("/items", response_model=ItemRead, status_code=status.HTTP_201_CREATED)
def create_item(
    principal: ApiUser, db: Db, ctx: Ctx, deps: InfoDeps,
    council_id: Annotated[int, Form()],
    title: Annotated[str, Form(min_length=1, max_length=300)],
    matter: Annotated[Literal["useful_information", "effective_promotion", "rd_content_and_results",
                              "information_management"], Form()],
    category: Annotated[Literal["implementation_scenario", "government_research", "sampling_data", "cyber_incident",
                                "contract", "government_posture", "research_result", "other"], Form()],
    provenance: Annotated[Literal["government", "participant", "think_tank", "researcher_generated"], Form()],
    summary: Annotated[str, Form(max_length=5000)] = "",
    body: Annotated[str, Form(max_length=1_000_000)] = "",
    is_result: Annotated[bool, Form()] = False,
    publish_at: Annotated[Moment | None, Form()] = None,
    files: Annotated[list[UploadFile] | None, File()] = None,
    confidential: Annotated[bool, Form(description="秘として提供する / provided as confidential (issue 13); "
                                                   "not for researcher-generated results")] = False,
    designate: Annotated[bool, Form()] = False,
    reason: Annotated[str, Form(max_length=5000)] = "",
    scope_kind: Annotated[Literal["all", "organisations", "named"] | None, Form()] = None,
    user_ids: Annotated[list[int] | None, Form()] = None,
    organization_ids: Annotated[list[int] | None, Form()] = None,
    ends_at: Annotated[Moment | None, Form()] = None,
    deadline: Annotated[Moment | None, Form()] = None,
    handling: Annotated[list[Literal["view_only", "no_download", "watermark"]] | None, Form()] = None,
    range_note: Annotated[str, Form(max_length=5000)] = "",
) -> ItemRead:
    """Provide an item (multipart), optionally with a designation proposal (``designate=true``, I3)."""
    proposal = None
    if designate:
        if ends_at is None:
            raise ValidationFailed("指定には終了日（ends_at）が必要です / a designation needs an end date (ends_at)", field="ends_at")
        proposal = service.DesignationInput(
            reason=reason, scope_kind=scope_kind or "", ends_at=ends_at, user_ids=user_ids or [],
            organization_ids=organization_ids or [], handling=list(handling or ["watermark"]), deadline=deadline,
            range_note=range_note)
    item = service.create_item(db, deps, council_id=council_id, actor=principal, now=ctx.clock.now(),
                               title=title, summary=summary, body=body, matter=matter, category=category,
                               provenance=provenance, is_result=is_result, publish_at=publish_at,
                               files=checked_uploads(db, deps, files), designation=proposal,
                               confidential=confidential)
    return ItemRead.model_validate(item)


@router.post("/items/import", response_model=ItemRead, status_code=status.HTTP_201_CREATED)
def import_item(principal: ApiUser, db: Db, ctx: Ctx, deps: InfoDeps, council_id: Annotated[int, Form()],
                file: Annotated[UploadFile, File()]) -> ItemRead:
    """Import a MISP event or a STIX 2.1 bundle as an item; its TLP label decides the openness."""
    data = file.file.read(interchange.MAX_DOCUMENT_BYTES + 1)  # O4: never buffer more than the budget
    item = interchange.import_interchange(db, deps, council_id=council_id, actor=principal, now=ctx.clock.now(),
                                          data=data, filename=file.filename or "")
    return ItemRead.model_validate(item)


@router.get("/items/{item_id}", response_model=ItemDetail)
def get_item(item_id: int, principal: ApiUser, db: Db, ctx: Ctx, deps: InfoDeps,
             version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None) -> ItemDetail:
    """Return an item the caller may read (audited read of non-public content, I8)."""
    view = service.read_item(db, deps, item_id=item_id, actor=principal, now=ctx.clock.now(), version=version)
    return item_detail(view)


@router.post("/items/{item_id}/export-classifications", response_model=ClassificationRead,
             status_code=status.HTTP_201_CREATED)
def classify_item(item_id: int, body: ClassificationIn, principal: ApiUser, db: Db, ctx: Ctx) -> ClassificationRead:
    """Record the item's export-control classification (該非判定, F7): the export-control officer only."""
    record = export_control.classify(db, item_id=item_id, actor=principal, now=ctx.clock.now(), verdict=body.verdict,
                                     list_item=body.list_item, reason=body.reason)
    return ClassificationRead.model_validate(record)


@router.get("/items/{item_id}/export-classifications", response_model=list[ClassificationRead])
def item_classifications(item_id: int, principal: ApiUser, db: Db) -> list[ClassificationRead]:
    """Return the item's classifications, newest first (readers of the item, F7)."""
    return [ClassificationRead.model_validate(r) for r in export_control.history(db, item_id=item_id, actor=principal)]


def clearance_read(row: clearances.ClearanceRow) -> ClearanceRead:
    """Shape one deemed-export check."""
    c = row.clearance
    return ClearanceRead(id=c.id, council_id=c.council_id, council_title=row.council_title, user_id=c.user_id,
                         person=row.person_name, organisation=row.organisation, nationality=row.nationality,
                         foreign_affiliation=row.foreign_affiliation, state=c.state, trigger=c.trigger,
                         reason=c.reason, requested_at=c.requested_at, decided_by_id=c.decided_by_id,
                         decided_at=c.decided_at)


@router.get("/export-clearances", response_model=list[ClearanceRead])
def export_clearances(principal: ApiUser, db: Db, ctx: Ctx) -> list[ClearanceRead]:
    """The export-control officer's queue of deemed-export checks (F7; audited). Others: an empty list."""
    return [clearance_read(r) for r in clearances.queue(db, principal, now=ctx.clock.now())]


@router.post("/export-clearances/{clearance_id}/decision", response_model=ClearanceRead)
def decide_clearance(clearance_id: int, body: ClearanceDecisionIn, principal: ApiUser, db: Db,
                     ctx: Ctx) -> ClearanceRead:
    """Clear or refuse a person's access to the council's classified items (F7; a refusal needs a reason)."""
    decided = clearances.decide(db, clearance_id=clearance_id, actor=principal, now=ctx.clock.now(),
                                decision=body.decision, reason=body.reason)
    return clearance_read(clearances.describe(db, decided))


@router.post("/items/{item_id}/versions", response_model=ItemRead, status_code=status.HTTP_201_CREATED)
def add_version(item_id: int, principal: ApiUser, db: Db, ctx: Ctx, deps: InfoDeps,
                body: Annotated[str, Form(max_length=1_000_000)],
                note: Annotated[str, Form(max_length=500)] = "",
                files: Annotated[list[UploadFile] | None, File()] = None) -> ItemRead:
    """Add a version (multipart: ``body``, ``note``, ``files``); earlier versions stay readable."""
    item = service.add_version(db, deps, item_id=item_id, actor=principal, now=ctx.clock.now(), body=body,
                               note=note, files=checked_uploads(db, deps, files))
    return ItemRead.model_validate(item)


@router.get("/items/{item_id}/files/{file_id}", response_class=Response,
            responses=file_response(*DOWNLOAD_TYPES, description="The file, stamped for the caller"))
def download_file(item_id: int, file_id: int, principal: ApiUser, db: Db, ctx: Ctx, deps: InfoDeps) -> Response:
    """Download a file: non-public copies are stamped for the recipient, recorded and audited (I8)."""
    copy = distribution.download_file(db, deps, item_id=item_id, file_id=file_id, actor=principal,
                                      now=ctx.clock.now())
    return attachment(copy.filename, copy.content_type, copy.data)


@router.get("/items/{item_id}/body.txt", response_class=Response,
            responses=file_response("text/plain", description="The body as text, stamped for the caller"))
def download_body(item_id: int, principal: ApiUser, db: Db, ctx: Ctx, deps: InfoDeps) -> Response:
    """Download the current body as text, fingerprinted for the recipient when non-public (I8)."""
    copy = distribution.download_body(db, deps, item_id=item_id, actor=principal, now=ctx.clock.now())
    return attachment(copy.filename, copy.content_type, copy.data)


@router.post("/items/{item_id}/designation", response_model=BallotRead, status_code=status.HTTP_201_CREATED)
def propose_designation(item_id: int, body: DesignationIn, principal: ApiUser, db: Db, ctx: Ctx,
                        deps: InfoDeps) -> BallotRead:
    """Propose designating the item (I3); it is held until every participant has answered (I4)."""
    ballot = service.propose_designation(db, item_id=item_id, actor=principal, now=ctx.clock.now(),
                                         designation=designation_input(body), deps=deps)
    return BallotRead.model_validate(ballot)


@router.post("/items/{item_id}/renewal", response_model=BallotRead, status_code=status.HTTP_201_CREATED)
def propose_renewal(item_id: int, body: RenewalIn, principal: ApiUser, db: Db, ctx: Ctx) -> BallotRead:
    """Propose renewing the designation in force with a new fixed end (I5)."""
    ballot = service.propose_renewal(db, item_id=item_id, actor=principal, now=ctx.clock.now(),
                                     ends_at=body.ends_at, reason=body.reason, deadline=body.deadline)
    return BallotRead.model_validate(ballot)


@router.post("/items/{item_id}/nondisclosure", response_model=BallotRead, status_code=status.HTTP_201_CREATED)
def request_nondisclosure(item_id: int, body: NondisclosureIn, principal: ApiUser, db: Db, ctx: Ctx) -> BallotRead:
    """Ask to withhold a research result (非公開要請, ministry officers, I6)."""
    ballot = service.request_nondisclosure(db, item_id=item_id, actor=principal, now=ctx.clock.now(),
                                           reason_code=body.reason_code, reason=body.reason)
    return BallotRead.model_validate(ballot)


@router.post("/items/{item_id}/withheld-renewal", response_model=BallotRead, status_code=status.HTTP_201_CREATED)
def propose_withheld_renewal(item_id: int, body: WithheldRenewalIn, principal: ApiUser, db: Db, ctx: Ctx,
                             deps: InfoDeps) -> BallotRead:
    """Propose keeping a withheld result withheld past its review date (unanimous, I6, I13)."""
    ballot = service.propose_withheld_renewal(db, item_id=item_id, actor=principal, now=ctx.clock.now(),
                                              reason=body.reason, review_at=body.review_at, deadline=body.deadline,
                                              deps=deps)
    return BallotRead.model_validate(ballot)


@router.post("/items/{item_id}/release", response_model=BallotRead, status_code=status.HTTP_201_CREATED)
def propose_release(item_id: int, body: PublicationIn, principal: ApiUser, db: Db, ctx: Ctx,
                    deps: InfoDeps) -> BallotRead:
    """Propose releasing a withheld result before its review date (unanimous, I13)."""
    ballot = service.propose_release(db, item_id=item_id, actor=principal, now=ctx.clock.now(), reason=body.reason,
                                     deadline=body.deadline, deps=deps)
    return BallotRead.model_validate(ballot)


@router.post("/items/{item_id}/publish", response_model=ItemRead)
def publish_now(item_id: int, principal: ApiUser, db: Db, ctx: Ctx, deps: InfoDeps) -> ItemRead:
    """Publish your own item now (the provider only; a result not before its prior notice ends, I13)."""
    item = service.publish_now(db, item_id=item_id, actor=principal, now=ctx.clock.now(), deps=deps)
    return ItemRead.model_validate(item)


@router.post("/items/{item_id}/publication", response_model=BallotRead, status_code=status.HTTP_201_CREATED)
def propose_publication(item_id: int, body: PublicationIn, principal: ApiUser, db: Db, ctx: Ctx,
                        deps: InfoDeps) -> BallotRead:
    """Propose publishing another's item early (chair or secretariat): unanimous, the provider included (I13)."""
    ballot = service.propose_publication(db, item_id=item_id, actor=principal, now=ctx.clock.now(),
                                         reason=body.reason, deadline=body.deadline, deps=deps)
    return BallotRead.model_validate(ballot)


@router.get("/items/{item_id}/export", response_model=dict[str, Any])
@no_head  # an audited export file (I12), though JSON: HEAD is 405, never a recorded export
def export_item(item_id: int, principal: ApiUser, db: Db, ctx: Ctx, deps: InfoDeps,
                format: Annotated[Literal["misp", "stix"], Query()] = "misp") -> JSONResponse:
    """Export the item as a MISP event or a STIX 2.1 bundle (audited when non-public)."""
    document = interchange.export_interchange(db, deps, item_id=item_id, actor=principal, now=ctx.clock.now(),
                                              fmt=format)
    return JSONResponse(document, headers={
        **NO_STORE, "Content-Disposition": content_disposition(f"item-{item_id}-{format}.json")})


# --- ballots (I4–I6) -------------------------------------------------------------------------


@router.get("/ballots", response_model=list[BallotRead])
def my_open_ballots(principal: ApiUser, db: Db) -> list[BallotRead]:
    """List the open proposals awaiting the caller's answer."""
    return [BallotRead.model_validate(b) for b in service.my_open_ballots(db, actor=principal)]


@router.get("/ballots/{ballot_id}", response_model=BallotDetail)
def get_ballot(ballot_id: int, principal: ApiUser, db: Db) -> BallotDetail:
    """Return a proposal: title, summary, reason, scope, period and votes — never the content (I4)."""
    return ballot_detail(service.get_ballot(db, ballot_id=ballot_id, actor=principal))


@router.post("/ballots/{ballot_id}/vote", response_model=BallotRead)
def vote(ballot_id: int, body: VoteIn, principal: ApiUser, db: Db, ctx: Ctx, deps: InfoDeps) -> BallotRead:
    """Accept or object before the deadline; one objection rejects (I4)."""
    ballot: Ballot = service.vote(db, ballot_id=ballot_id, actor=principal, now=ctx.clock.now(),
                                  decision=body.decision, reason=body.reason, deps=deps)
    return BallotRead.model_validate(ballot)


# --- search ----------------------------------------------------------------------------------


@router.get("/search", response_model=list[SearchHitRead])
def search_items(principal: ApiUser, db: Db, ctx: Ctx, q: Annotated[str, Query(min_length=1, max_length=200)],
                 council_id: int | None = None,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[SearchHitRead]:
    """Search the items the caller may read (out-of-scope items never match, I7)."""
    hits = search.search_items(db, actor=principal, query=q, council_id=council_id, limit=limit,
                               now=ctx.clock.now())
    return [SearchHitRead(item=ItemRead.model_validate(h.item), snippet=h.snippet) for h in hits]


# --- public portal (I6): no login ------------------------------------------------------------


def _public(item: Item) -> PublicItemRead:
    return PublicItemRead.model_validate(item)


@router.get("/public/items", response_model=list[PublicItemRead])
def public_items(db: Db, limit: Annotated[int, Query(ge=1, le=500)] = 200,
                 offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[PublicItemRead]:
    """List published results (anyone, no login)."""
    return [_public(i) for i in service.public_items(db, limit=limit, offset=offset)]


@router.get("/public/items/{item_id}", response_model=PublicItemDetail)
def public_item(item_id: int, db: Db, ctx: Ctx, deps: InfoDeps) -> PublicItemDetail:
    """Return a published item (anyone; anything not published is 404)."""
    # Read as nobody: the portal shows published content only, whoever asks.
    view = service.read_item(db, deps, item_id=item_id, actor=None, now=ctx.clock.now())
    return PublicItemDetail(item=_public(view.item), body=view.body,
                            files=[PublicFileRead.model_validate(f) for f in view.files])


@router.get("/public/items/{item_id}/files/{file_id}", response_class=Response,
            responses=file_response(*DOWNLOAD_TYPES, description="The public file"))
def public_file(item_id: int, file_id: int, db: Db, ctx: Ctx, deps: InfoDeps) -> Response:
    """Download a published file (anyone)."""
    copy = distribution.download_file(db, deps, item_id=item_id, file_id=file_id, actor=None, now=ctx.clock.now())
    return attachment(copy.filename, copy.content_type, copy.data)


# --- incidents (I9) and attribution (I8) -----------------------------------------------------


@router.get("/incidents", response_model=list[IncidentRead])
def list_incidents(principal: ApiUser, db: Db) -> list[IncidentRead]:
    """List the incidents the caller reported or works on."""
    return [IncidentRead.model_validate(i) for i in incidents.list_incidents(db, actor=principal)]


@router.post("/incidents", response_model=IncidentRead, status_code=status.HTTP_201_CREATED)
def report_incident(body: IncidentCreate, principal: ApiUser, db: Db, ctx: Ctx) -> IncidentRead:
    """Report a suspected leak (anyone signed in, I9)."""
    row: Incident = incidents.report_incident(db, actor=principal, now=ctx.clock.now(), title=body.title,
                                              description=body.description, council_id=body.council_id,
                                              item_id=body.item_id)
    return IncidentRead.model_validate(row)


@router.get("/incidents/{incident_id}", response_model=IncidentDetail)
def get_incident(incident_id: int, principal: ApiUser, db: Db) -> IncidentDetail:
    """Return an incident with its recorded steps."""
    return incident_detail(incidents.get_incident(db, incident_id=incident_id, actor=principal))


@router.post("/incidents/{incident_id}/triage", response_model=IncidentRead)
def triage_incident(incident_id: int, body: TriageIn, principal: ApiUser, db: Db, ctx: Ctx) -> IncidentRead:
    """Record the triage (secretariat)."""
    row = incidents.triage_incident(db, incident_id=incident_id, actor=principal, now=ctx.clock.now(),
                                    note=body.note)
    return IncidentRead.model_validate(row)


@router.post("/incidents/{incident_id}/attribute", response_model=IncidentRead)
def attribute_incident(incident_id: int, principal: ApiUser, db: Db, ctx: Ctx,
                       file: Annotated[UploadFile, File()]) -> IncidentRead:
    """Attribute the leaked copy (multipart ``file``) to the recipient it was issued to (I8, I9)."""
    data = file.file.read()
    row = incidents.attribute_incident(db, incident_id=incident_id, actor=principal, now=ctx.clock.now(),
                                       data=data, filename=file.filename or "")
    return IncidentRead.model_validate(row)


@router.post("/incidents/{incident_id}/close", response_model=IncidentRead)
def close_incident(incident_id: int, body: CloseIn, principal: ApiUser, db: Db, ctx: Ctx) -> IncidentRead:
    """Close the incident with its outcome and the penalty provision that applies."""
    row = incidents.close_incident(db, incident_id=incident_id, actor=principal, now=ctx.clock.now(),
                                   outcome=body.outcome, penalty_provision=body.penalty_provision)
    return IncidentRead.model_validate(row)


@router.post("/leak/attribute", response_model=FindingRead)
def attribute_leak(principal: ApiUser, db: Db, ctx: Ctx, file: Annotated[UploadFile, File()],
                   item_id: Annotated[int | None, Form()] = None) -> FindingRead:
    """Trace a leaked copy or excerpt to its most likely recipient (auditors; audited, I8)."""
    require(principal, Permission.AUDIT_LOG_READ)
    data = file.file.read()
    finding = distribution.attribute(db, data=data, filename=file.filename, item_id=item_id,
                                     actor_label=principal.label, actor_id=principal.user_id,
                                     now=ctx.clock.now())
    return finding_read(finding)


# --- minimality (I10) ------------------------------------------------------------------------


@router.get("/minimality", response_model=PlatformMinimality)
def platform_minimality(principal: ApiUser, db: Db, ctx: Ctx) -> PlatformMinimality:
    """Return the minimality figures over the councils the caller may see, and per council."""
    totals, per_council = minimality.platform_minimality(db, actor=principal, now=ctx.clock.now())
    return PlatformMinimality(totals=minimality_read(totals), councils=[minimality_read(r) for r in per_council])


@router.get("/councils/{council_id}/minimality", response_model=MinimalityRead)
def council_minimality(council_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> MinimalityRead:
    """Return one council's minimality figures (I10)."""
    return minimality_read(minimality.council_minimality(db, council_id=council_id, actor=principal,
                                                         now=ctx.clock.now()))


def upload_limits() -> tuple[re.Pattern[str], int]:
    """Return the routes that take item files and the body size they may have (for BodySizeLimit)."""
    return UPLOAD_ROUTES, UPLOAD_BODY_BYTES


# --- filing a council's material-request answer (C6) -------------------------------------------


@council_router.post("/{council_id}/requests/{request_id}/file", status_code=status.HTTP_201_CREATED)
def file_answer(council_id: int, request_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> dict[str, int | str]:
    """File an answered material request as an information item of the council (C6)."""
    item = filing.file_request_answer(db, build_deps(ctx), council_id=council_id, request_id=request_id,
                                      actor=principal, now=ctx.clock.now(), material_store=file_store(ctx))
    return {"item_id": item.id, "state": item.state}


# --- exclusion claims (秘密情報の除外, issue 13) ---------------------------------------------------


def claim_read(view: exclusions.ClaimView) -> ClaimRead:
    """Shape one claim as the service opened it for the reader."""
    c = view.claim
    return ClaimRead(id=c.id, council_id=c.council_id, item_id=c.item_id, statement_id=c.statement_id,
                     claimant_id=c.claimant_id, ground=c.ground, state=c.state,
                     evidence=view.evidence, file_name=c.file_name, file_size=c.file_size, decision=c.decision,
                     decision_reason=c.decision_reason, decided_by_id=c.decided_by_id, decided_at=c.decided_at,
                     confirmed_by_id=c.confirmed_by_id, confirmed_at=c.confirmed_at, created_at=c.created_at,
                     may_decide=view.may_decide, may_confirm=view.may_confirm, may_withdraw=view.may_withdraw)


def evidence_file(db: Session, file: UploadFile | None) -> council_service.UploadedFile | None:
    """Read and validate an evidence file completely (O1) with no transaction open (O4)."""
    if file is None or not (file.filename or ""):
        return None
    with released(db):
        data = file.file.read(MAX_FILE_BYTES + 1)
        return council_service.validate_files([council_service.UploadedFile(
            filename=file.filename or "", data=data, content_type=file.content_type or "")])[0]


@router.post("/exclusions", response_model=ClaimRead, status_code=status.HTTP_201_CREATED)
def file_claim(principal: ApiUser, db: Db, ctx: Ctx,
               ground: Annotated[Literal["public", "independent", "third_party", "prior"], Form()],
               evidence: Annotated[str, Form(min_length=1, max_length=20_000)],
               item_id: Annotated[int | None, Form()] = None, council_id: Annotated[int | None, Form()] = None,
               statement_id: Annotated[int | None, Form()] = None,
               file: Annotated[UploadFile | None, File()] = None) -> ClaimRead:
    """Claim that an item (``item_id``) or an oral statement (``council_id`` + ``statement_id``) is outside your
    own duty (multipart; ``file`` optional, validated and sealed)."""
    upload = evidence_file(db, file)
    view = exclusions.file_claim(db, actor=principal, now=ctx.clock.now(), ground=ground, evidence=evidence,
                                 store=file_store(ctx), item_id=item_id, council_id=council_id,
                                 statement_id=statement_id, file=upload)
    return claim_read(view)


@router.get("/items/{item_id}/exclusions", response_model=list[ClaimRead])
def item_claims(item_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> list[ClaimRead]:
    """List the exclusion claims on an item (council members who can read the item; audited)."""
    return [claim_read(v) for v in exclusions.item_claims(db, item_id=item_id, actor=principal, now=ctx.clock.now(),
                                                          store=file_store(ctx))]


@router.get("/councils/{council_id}/statements/{statement_id}/exclusions", response_model=list[ClaimRead])
def statement_claims(council_id: int, statement_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> list[ClaimRead]:
    """List the exclusion claims on an oral statement (council-content readers; audited)."""
    return [claim_read(v) for v in exclusions.statement_claims(db, council_id=council_id, statement_id=statement_id,
                                                               actor=principal, now=ctx.clock.now(),
                                                               store=file_store(ctx))]


@router.get("/exclusions/{claim_id}", response_model=ClaimRead)
def get_claim(claim_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> ClaimRead:
    """Return one claim with its evidence (readers of the claimed item or statement; audited)."""
    return claim_read(exclusions.get_claim(db, claim_id=claim_id, actor=principal, now=ctx.clock.now(),
                                           store=file_store(ctx)))


@router.post("/exclusions/{claim_id}/decision", response_model=ClaimRead)
def decide_claim(claim_id: int, body: ClaimDecisionIn, principal: ApiUser, db: Db, ctx: Ctx) -> ClaimRead:
    """The secretariat decides a claim (accept or reject, with a reason); the chair then confirms it."""
    return claim_read(exclusions.decide_claim(db, claim_id=claim_id, actor=principal, now=ctx.clock.now(),
                                              decision=body.decision, reason=body.reason, store=file_store(ctx)))


@router.post("/exclusions/{claim_id}/confirmation", response_model=ClaimRead)
def confirm_claim(claim_id: int, body: ClaimConfirmIn, principal: ApiUser, db: Db, ctx: Ctx) -> ClaimRead:
    """The chair confirms the secretariat's decision (settled) or sends it back (``confirm: false``)."""
    return claim_read(exclusions.confirm_claim(db, claim_id=claim_id, actor=principal, now=ctx.clock.now(),
                                               confirm=body.confirm, store=file_store(ctx)))


@router.post("/exclusions/{claim_id}/withdraw", response_model=ClaimRead)
def withdraw_claim(claim_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> ClaimRead:
    """The claimant withdraws a claim not yet settled."""
    return claim_read(exclusions.withdraw_claim(db, claim_id=claim_id, actor=principal, now=ctx.clock.now(),
                                                store=file_store(ctx)))


@router.get("/exclusions/{claim_id}/file", response_class=Response,
            responses=file_response(*DOWNLOAD_TYPES, description="The evidence file, stamped for the caller"))
def download_evidence(claim_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> Response:
    """Download a claim's evidence file stamped for the caller (readers of the claimed content; audited, I8)."""
    copy = exclusions.read_evidence_file(db, claim_id=claim_id, actor=principal, now=ctx.clock.now(),
                                         store=file_store(ctx))
    return attachment(copy.filename, copy.content_type, copy.data)
