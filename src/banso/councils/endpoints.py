"""JSON API of the councils domain (``/api/v1/councils``): parse → one service call → commit → shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.councils import articles, bylaws, meetings, rules, service, statements
from banso.councils.models import ActionItem, Meeting
from banso.councils.schemas import (
    ActionClose,
    ActionCreate,
    ActionRead,
    AgendaIn,
    AgendaRead,
    ArticleChangeRead,
    ArticleRead,
    AttendanceIn,
    AttendanceRead,
    AttendanceSheetIn,
    BylawsDiff,
    BylawsProposalCreate,
    BylawsProposalRead,
    BylawsRead,
    BylawsVoteIn,
    BylawsVoteRead,
    CirculateIn,
    ConfirmationRead,
    ConfirmIn,
    ConsentIn,
    ConsentRead,
    CouncilCreate,
    CouncilPage,
    CouncilRead,
    DecisionCreate,
    DecisionRead,
    DissolveIn,
    FileRead,
    InviteIn,
    MaterialRead,
    MeetingCreate,
    MeetingDetail,
    MeetingRead,
    MemberRead,
    MembershipRead,
    MinutesIn,
    MyStanding,
    PledgePreviewRead,
    PledgeRead,
    PledgeSign,
    RemovalIn,
    RequestCreate,
    RequestDetail,
    RequestRead,
    RoleIn,
    StatementCreate,
    StatementDesignate,
    StatementRead,
)
from banso.kit.disposition import content_disposition
from banso.kit.unit import released
from banso.sealed import store as sealed
from banso.sealed.store import SealedDeps
from banso.sealed.uploads import ALLOWED
from banso.web.context import AppContext
from banso.web.csrf import verify_csrf
from banso.web.deps import ApiUser, Ctx, Db
from banso.web.openapi import file_response

# What a stored file can be served as (every kind an upload may be, sealed/uploads.py), for the OpenAPI
# document; anything else goes out as application/octet-stream.
DOWNLOAD_TYPES = (*sorted({kind.content_type for kind in ALLOWED.values()}), "application/octet-stream")

router = APIRouter(prefix="/councils", tags=["councils"], dependencies=[Depends(verify_csrf)])


def file_store(ctx: AppContext) -> SealedDeps:
    """Return the sealed store of council content (answer files) under the data dir (I11)."""
    return sealed.sealed_deps(ctx)


def _page(view: service.CouncilView) -> CouncilPage:
    s = view.standing
    return CouncilPage(
        council=CouncilRead.model_validate(view.council),
        me=MyStanding(role=s.role, pending_consent=s.pending_consent, pledge_current=s.pledge_current,
                      content_access=view.content_block is None, content_block=view.content_block,
                      can_manage=view.can_manage),
        members=[MemberRead(user_id=m.user.id, name_ja=m.user.name_ja, name_en=m.user.name_en,
                            organization_id=m.membership.organization_id,
                            organization_name_ja=m.user.organization.name_ja, role=m.membership.role,
                            party=m.membership.party, founding=m.membership.founding, joined_at=m.membership.joined_at,
                            pledge_current=m.pledge_current) for m in view.members],
        consents=[ConsentRead.model_validate(c) for c in view.consents],
        bylaws_version=view.bylaws.version,
        bylaws_text=view.bylaws.text,
    )


def _action(item: ActionItem, ctx: AppContext) -> ActionRead:
    read = ActionRead.model_validate(item)
    read.overdue = rules.is_overdue(status=item.status, due_at=item.due_at, now=ctx.clock.now())
    return read


# --- councils and lifecycle (C1) -------------------------------------------------------------


@router.get("", response_model=list[CouncilRead])
def list_councils(principal: ApiUser, db: Db) -> list[CouncilRead]:
    """List the councils the caller may know exist."""
    return [CouncilRead.model_validate(c) for c in service.list_councils(db, actor=principal)]


@router.post("", response_model=CouncilRead, status_code=status.HTTP_201_CREATED)
def propose(body: CouncilCreate, principal: ApiUser, db: Db, ctx: Ctx) -> CouncilRead:
    """Propose a council (ministry officers)."""
    data = body.model_dump(exclude={"founders"})
    founders = [service.FounderSpec(user_id=f.user_id, role=f.role, party=f.party) for f in body.founders]
    council = service.propose(db, actor=principal, now=ctx.clock.now(), founders=founders, **data)
    return CouncilRead.model_validate(council)


@router.get("/actions/mine", response_model=list[ActionRead])
def my_actions(principal: ApiUser, db: Db, ctx: Ctx, overdue: bool = False) -> list[ActionRead]:
    """List the caller's action items across their councils (``overdue=true``: only overdue)."""
    items = service.my_action_items(db, actor=principal, now=ctx.clock.now(), overdue_only=overdue)
    return [_action(i, ctx) for i in items]


@router.get("/{council_id}", response_model=CouncilPage)
def get_council(council_id: int, principal: ApiUser, db: Db) -> CouncilPage:
    """Return the council's public page (members; 404 for everyone else)."""
    return _page(service.get_council(db, council_id=council_id, actor=principal))


@router.post("/{council_id}/consent", response_model=ConsentRead)
def consent(council_id: int, body: ConsentIn, principal: ApiUser, db: Db, ctx: Ctx) -> ConsentRead:
    """Consent or decline (founding or joining)."""
    row = service.consent(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                          decision=body.decision, reason=body.reason)
    return ConsentRead.model_validate(row)


@router.post("/{council_id}/evaluate", response_model=CouncilRead)
def evaluate(council_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> CouncilRead:
    """Establish or lapse a proposed council according to its consents."""
    council = service.evaluate(db, council_id=council_id, actor=principal, now=ctx.clock.now())
    return CouncilRead.model_validate(council)


@router.post("/{council_id}/activate", response_model=CouncilRead)
def activate(council_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> CouncilRead:
    """Start the council's work (established → active)."""
    council = service.activate(db, council_id=council_id, actor=principal, now=ctx.clock.now())
    return CouncilRead.model_validate(council)


@router.post("/{council_id}/dissolve", response_model=CouncilRead)
def dissolve(council_id: int, body: DissolveIn, principal: ApiUser, db: Db, ctx: Ctx) -> CouncilRead:
    """Dissolve the council."""
    council = service.dissolve(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                               reason=body.reason)
    return CouncilRead.model_validate(council)


# --- bylaws ----------------------------------------------------------------------------------


@router.get("/{council_id}/bylaws", response_model=list[BylawsRead])
def list_bylaws(council_id: int, principal: ApiUser, db: Db) -> list[BylawsRead]:
    """List every bylaws version."""
    return [BylawsRead.model_validate(b) for b in service.list_bylaws(db, council_id=council_id, actor=principal)]


def _change_read(change: articles.ArticleChange) -> ArticleChangeRead:
    shown = change.new or change.old
    return ArticleChangeRead(key=change.key, change=change.change, old_number=change.old.number if change.old else None,
                             new_number=change.new.number if change.new else None,
                             title_ja=shown.title_ja if shown else "", lines=change.lines)


def _proposal_read(view: bylaws.ProposalView) -> BylawsProposalRead:
    p = view.proposal
    return BylawsProposalRead(
        id=p.id, council_id=p.council_id, base_version=p.base_version, summary=p.summary, state=p.state,
        deadline=p.deadline, changes_duty=p.changes_duty, proposed_by_id=p.proposed_by_id, created_at=p.created_at,
        decided_at=p.decided_at, result_version=p.result_version, parameters=p.parameters,
        articles=[ArticleRead(**a) for a in p.articles],
        changes=[_change_read(c) for c in view.changes],
        votes=[BylawsVoteRead(user_id=v.user_id, name=u.name_ja, decision=v.decision, reason=v.reason,
                              decided_at=v.decided_at) for v, u in view.votes],
        may_vote=view.may_vote, may_withdraw=view.may_withdraw)


@router.get("/{council_id}/bylaws/proposals", response_model=list[BylawsProposalRead])
def list_bylaws_proposals(council_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> list[BylawsProposalRead]:
    """List the amendment proposals (current members), newest first."""
    now = ctx.clock.now()
    return [_proposal_read(bylaws.get_proposal(db, council_id=council_id, proposal_id=p.id, actor=principal, now=now))
            for p in bylaws.list_proposals(db, council_id=council_id, actor=principal)]


@router.post("/{council_id}/bylaws/proposals", response_model=BylawsProposalRead,
             status_code=status.HTTP_201_CREATED)
def propose_bylaws_amendment(council_id: int, body: BylawsProposalCreate, principal: ApiUser, db: Db,
                             ctx: Ctx) -> BylawsProposalRead:
    """Propose an amendment; it takes effect only when every member accepts before the deadline (I4)."""
    now = ctx.clock.now()
    proposal = bylaws.propose_amendment(
        db, council_id=council_id, actor=principal, now=now, summary=body.summary, deadline=body.deadline,
        articles_in=[articles.ArticleInput(a.key, a.title_ja, a.title_en, a.text) for a in body.articles],
        parameters=body.parameters)
    return _proposal_read(bylaws.get_proposal(db, council_id=council_id, proposal_id=proposal.id, actor=principal,
                                              now=now))


@router.get("/{council_id}/bylaws/proposals/{proposal_id}", response_model=BylawsProposalRead)
def get_bylaws_proposal(council_id: int, proposal_id: int, principal: ApiUser, db: Db,
                        ctx: Ctx) -> BylawsProposalRead:
    """Return one proposal with its diff article by article and the votes."""
    return _proposal_read(bylaws.get_proposal(db, council_id=council_id, proposal_id=proposal_id, actor=principal,
                                              now=ctx.clock.now()))


@router.post("/{council_id}/bylaws/proposals/{proposal_id}/votes", response_model=BylawsProposalRead)
def vote_bylaws_proposal(council_id: int, proposal_id: int, body: BylawsVoteIn, principal: ApiUser, db: Db,
                         ctx: Ctx) -> BylawsProposalRead:
    """Accept or object (with a reason); the last acceptance enacts the new version."""
    now = ctx.clock.now()
    bylaws.vote(db, council_id=council_id, proposal_id=proposal_id, actor=principal, now=now,
                decision=body.decision, reason=body.reason)
    return _proposal_read(bylaws.get_proposal(db, council_id=council_id, proposal_id=proposal_id, actor=principal,
                                              now=now))


@router.post("/{council_id}/bylaws/proposals/{proposal_id}/withdraw", response_model=BylawsProposalRead)
def withdraw_bylaws_proposal(council_id: int, proposal_id: int, principal: ApiUser, db: Db,
                             ctx: Ctx) -> BylawsProposalRead:
    """Withdraw an open proposal (chair or secretariat)."""
    now = ctx.clock.now()
    bylaws.withdraw(db, council_id=council_id, proposal_id=proposal_id, actor=principal, now=now)
    return _proposal_read(bylaws.get_proposal(db, council_id=council_id, proposal_id=proposal_id, actor=principal,
                                              now=now))


@router.get("/{council_id}/bylaws/diff", response_model=BylawsDiff)
def diff_bylaws(council_id: int, principal: ApiUser, db: Db, old: Annotated[int, Query(alias="from")],
                new: Annotated[int, Query(alias="to")],
                format: Annotated[str, Query(pattern="^(unified|html)$")] = "unified") -> BylawsDiff:
    """Return a readable diff between two versions (``format=unified|html``)."""
    text = service.diff_bylaws(db, council_id=council_id, old=old, new=new, actor=principal,
                               html=format == "html")
    return BylawsDiff(old=old, new=new, format=format, diff=text)


@router.get("/{council_id}/bylaws/{version}", response_model=BylawsRead)
def get_bylaws(council_id: int, version: int, principal: ApiUser, db: Db) -> BylawsRead:
    """Return one bylaws version."""
    return BylawsRead.model_validate(service.get_bylaws(db, council_id=council_id, version=version,
                                                       actor=principal))


# --- membership ------------------------------------------------------------------------------


@router.post("/{council_id}/invitations", response_model=ConsentRead, status_code=status.HTTP_201_CREATED)
def invite(council_id: int, body: InviteIn, principal: ApiUser, db: Db, ctx: Ctx) -> ConsentRead:
    """Invite a newcomer (they join by consenting)."""
    row = service.invite(db, council_id=council_id, actor=principal, now=ctx.clock.now(), **body.model_dump())
    return ConsentRead.model_validate(row)


@router.post("/{council_id}/leave", response_model=MembershipRead)
def leave(council_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> MembershipRead:
    """Leave the council (access ends at once)."""
    row = service.leave(db, council_id=council_id, actor=principal, now=ctx.clock.now())
    return MembershipRead.model_validate(row)


@router.put("/{council_id}/members/{user_id}/role", response_model=MembershipRead)
def set_role(council_id: int, user_id: int, body: RoleIn, principal: ApiUser, db: Db, ctx: Ctx) -> MembershipRead:
    """Change a member's council role."""
    row = service.set_role(db, council_id=council_id, actor=principal, now=ctx.clock.now(), user_id=user_id,
                           role=body.role)
    return MembershipRead.model_validate(row)


@router.post("/{council_id}/members/{user_id}/removal", response_model=MembershipRead)
def remove_member(council_id: int, user_id: int, body: RemovalIn, principal: ApiUser, db: Db,
                  ctx: Ctx) -> MembershipRead:
    """Remove a member with a reason (chair, secretariat): their access ends at once, the duty remains (C3)."""
    row = service.remove_member(db, council_id=council_id, actor=principal, now=ctx.clock.now(), user_id=user_id,
                                reason=body.reason)
    return MembershipRead.model_validate(row)


@router.get("/{council_id}/memberships", response_model=list[MembershipRead])
def member_history(council_id: int, principal: ApiUser, db: Db) -> list[MembershipRead]:
    """Every membership including ended ones (chair, secretariat)."""
    return [MembershipRead.model_validate(m) for m in service.member_history(db, council_id=council_id,
                                                                             actor=principal)]


# --- pledges (C3) ----------------------------------------------------------------------------


@router.get("/{council_id}/pledge", response_model=PledgePreviewRead)
def pledge_preview(council_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> PledgePreviewRead:
    """The pledge text to sign now and the caller's pledges."""
    p = service.pledge_preview(db, council_id=council_id, actor=principal, now=ctx.clock.now())
    return PledgePreviewRead(text=p.text, bylaws_version=p.bylaws_version, duty_version=p.duty_version,
                             current=PledgeRead.model_validate(p.current) if p.current else None,
                             history=[PledgeRead.model_validate(x) for x in p.history])


@router.post("/{council_id}/pledges", response_model=PledgeRead, status_code=status.HTTP_201_CREATED)
def sign_pledge(council_id: int, body: PledgeSign, principal: ApiUser, db: Db, ctx: Ctx) -> PledgeRead:
    """Sign the pledge for the bylaws version in force (second factor required)."""
    row = service.sign_pledge(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                              bylaws_version=body.bylaws_version)
    return PledgeRead.model_validate(row)


@router.get("/{council_id}/pledges", response_model=list[PledgeRead])
def list_pledges(council_id: int, principal: ApiUser, db: Db) -> list[PledgeRead]:
    """Every pledge of the council (chair, secretariat)."""
    return [PledgeRead.model_validate(p) for p in service.list_pledges(db, council_id=council_id, actor=principal)]


@router.get("/{council_id}/pledges/{pledge_id}/pdf", response_class=Response,
            responses=file_response("application/pdf", description="The signed pledge"))
def pledge_pdf(council_id: int, pledge_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> Response:
    """Download a signed pledge as PDF (its signer or a manager)."""
    pledge, data = service.pledge_pdf(db, council_id=council_id, pledge_id=pledge_id, actor=principal,
                                      now=ctx.clock.now())
    return Response(data, media_type="application/pdf", headers={
        "Content-Disposition": content_disposition(f"pledge-{pledge.council_id}-{pledge.id}.pdf")})


# --- meetings (C5) ---------------------------------------------------------------------------


@router.get("/{council_id}/meetings", response_model=list[MeetingRead])
def list_meetings(council_id: int, principal: ApiUser, db: Db) -> list[MeetingRead]:
    """List the council's meetings (pledged members)."""
    return [MeetingRead.model_validate(m) for m in service.list_meetings(db, council_id=council_id, actor=principal)]


@router.post("/{council_id}/meetings", response_model=MeetingRead, status_code=status.HTTP_201_CREATED)
def schedule_meeting(council_id: int, body: MeetingCreate, principal: ApiUser, db: Db, ctx: Ctx) -> MeetingRead:
    """Schedule a future meeting, or record one already held (``held``), with an agenda (chair, secretariat)."""
    agenda = [service.AgendaInput(title=a.title, matter=a.matter.value, note=a.note) for a in body.agenda]
    row = service.schedule_meeting(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                                   title=body.title, starts_at=body.starts_at, location=body.location,
                                   agenda=agenda, held=body.held)
    return MeetingRead.model_validate(row)


def _meeting_read(meeting: Meeting, minutes_text: str | None) -> MeetingRead:
    read = MeetingRead.model_validate(meeting)
    read.minutes_text = minutes_text
    return read


def _meeting_detail(view: service.MeetingView) -> MeetingDetail:
    return MeetingDetail(meeting=_meeting_read(view.meeting, view.minutes_text),
                         agenda=[AgendaRead.model_validate(a) for a in view.agenda],
                         attendance=[AttendanceRead.model_validate(a) for a in view.attendance],
                         decisions=[DecisionRead.model_validate(d) for d in view.decisions],
                         materials=[MaterialRead.model_validate(m) for m in view.materials],
                         confirmations=[_confirmation(c) for c in view.confirmations])


def _confirmation(view: service.ConfirmationView) -> ConfirmationRead:
    return ConfirmationRead(user_id=view.row.user_id, answer=view.row.answer, answered_at=view.row.answered_at,
                            comment=view.comment)


@router.get("/{council_id}/meetings/{meeting_id}", response_model=MeetingDetail)
def get_meeting(council_id: int, meeting_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> MeetingDetail:
    """Return a meeting with agenda, attendance and decisions (audited read)."""
    view = service.get_meeting(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                               now=ctx.clock.now(), store=file_store(ctx))
    return _meeting_detail(view)


@router.post("/{council_id}/meetings/{meeting_id}/agenda", response_model=AgendaRead,
             status_code=status.HTTP_201_CREATED)
def add_agenda_item(council_id: int, meeting_id: int, body: AgendaIn, principal: ApiUser, db: Db,
                    ctx: Ctx) -> AgendaRead:
    """Add an agenda item."""
    row = service.add_agenda_item(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                  now=ctx.clock.now(), title=body.title, matter=body.matter.value, note=body.note)
    return AgendaRead.model_validate(row)


@router.put("/{council_id}/meetings/{meeting_id}/attendance", response_model=AttendanceRead)
def record_attendance(council_id: int, meeting_id: int, body: AttendanceIn, principal: ApiUser, db: Db,
                      ctx: Ctx) -> AttendanceRead:
    """Record a member's attendance."""
    row = service.record_attendance(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                    now=ctx.clock.now(), user_id=body.user_id, status=body.status)
    return AttendanceRead.model_validate(row)


@router.put("/{council_id}/meetings/{meeting_id}/minutes", response_model=MeetingRead)
def draft_minutes(council_id: int, meeting_id: int, body: MinutesIn, principal: ApiUser, db: Db,
                  ctx: Ctx) -> MeetingRead:
    """Write the draft minutes."""
    row = service.draft_minutes(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                now=ctx.clock.now(), text=body.text, store=file_store(ctx))
    return _meeting_read(row, body.text)  # the writer's own text, echoed


@router.put("/{council_id}/meetings/{meeting_id}/attendance-sheet", response_model=list[AttendanceRead])
def record_attendance_sheet(council_id: int, meeting_id: int, body: AttendanceSheetIn, principal: ApiUser, db: Db,
                            ctx: Ctx) -> list[AttendanceRead]:
    """Record the attendance of every member at once (present / absent / proxy / observer): all or nothing."""
    rows = meetings.record_attendance_sheet(
        db, council_id=council_id, meeting_id=meeting_id, actor=principal, now=ctx.clock.now(),
        entries=[meetings.AttendanceEntry(user_id=e.user_id, status=e.status) for e in body.entries])
    return [AttendanceRead.model_validate(a) for a in rows]


@router.post("/{council_id}/meetings/{meeting_id}/minutes/circulate", response_model=list[ConfirmationRead])
def circulate_minutes(council_id: int, meeting_id: int, body: CirculateIn, principal: ApiUser, db: Db,
                      ctx: Ctx) -> list[ConfirmationRead]:
    """Circulate the draft minutes to the attendees for confirmation by a deadline (chair, secretariat)."""
    rows = meetings.circulate_minutes(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                      now=ctx.clock.now(), deadline=body.deadline)
    return [ConfirmationRead.model_validate(r) for r in rows]


@router.post("/{council_id}/meetings/{meeting_id}/minutes/confirm", response_model=ConfirmationRead)
def confirm_minutes(council_id: int, meeting_id: int, body: ConfirmIn, principal: ApiUser, db: Db,
                    ctx: Ctx) -> ConfirmationRead:
    """Confirm circulated minutes, or comment on them (attendees only; before the deadline)."""
    row = meetings.confirm_minutes(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                   now=ctx.clock.now(), answer=body.answer, comment=body.comment,
                                   store=file_store(ctx))
    return ConfirmationRead(user_id=row.user_id, answer=row.answer, answered_at=row.answered_at,
                            comment=(body.comment or "").strip() or None)  # the author's own text, echoed


@router.post("/{council_id}/meetings/{meeting_id}/minutes/approve", response_model=MeetingRead)
def approve_minutes(council_id: int, meeting_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> MeetingRead:
    """Approve circulated minutes once every attendee confirmed or the deadline passed (409 before)."""
    row = service.approve_minutes(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                  now=ctx.clock.now())
    return MeetingRead.model_validate(row)


@router.post("/{council_id}/meetings/{meeting_id}/materials", response_model=MaterialRead,
             status_code=status.HTTP_201_CREATED)
def add_material(council_id: int, meeting_id: int, principal: ApiUser, db: Db, ctx: Ctx,
                 title: Annotated[str, Form(min_length=1, max_length=300)],
                 file: Annotated[UploadFile, File()],
                 confidential: Annotated[bool, Form(description="秘密として提供する / provided as confidential")] = False,
                 ) -> MaterialRead:
    """Provide a meeting material (配布資料; multipart: ``title``, ``confidential``, ``file``), sealed (I11)."""
    upload = checked_files(db, [file])[0]  # O4: parsed with no transaction open
    row = meetings.add_material(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                now=ctx.clock.now(), title=title, confidential=confidential, file=upload,
                                store=file_store(ctx))
    return MaterialRead.model_validate(row)


@router.get("/{council_id}/meetings/{meeting_id}/materials/{material_id}", response_class=Response,
            responses=file_response(*DOWNLOAD_TYPES, description="The material, stamped for the caller"))
def download_material(council_id: int, meeting_id: int, material_id: int, principal: ApiUser, db: Db,
                      ctx: Ctx) -> Response:
    """Download a meeting material stamped for the caller (council content readers; recorded and audited, I8)."""
    copy = meetings.read_material(db, council_id=council_id, meeting_id=meeting_id, material_id=material_id,
                                  actor=principal, now=ctx.clock.now(), store=file_store(ctx))
    return _attachment(copy)


def _attachment(copy: sealed.Copy) -> Response:
    return Response(copy.data, media_type=copy.content_type, headers={
        "Cache-Control": "no-store", "Content-Disposition": content_disposition(copy.filename),
        "X-Content-Type-Options": "nosniff"})


# --- decisions and action items (C5) ----------------------------------------------------------


@router.get("/{council_id}/decisions", response_model=list[DecisionRead])
def list_decisions(council_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> list[DecisionRead]:
    """List decisions (pledged members; the read is audited, I8)."""
    views = service.list_decisions(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                                   store=file_store(ctx))
    return [DecisionRead.model_validate(d) for d in views]


@router.post("/{council_id}/decisions", response_model=DecisionRead, status_code=status.HTTP_201_CREATED)
def record_decision(council_id: int, body: DecisionCreate, principal: ApiUser, db: Db, ctx: Ctx) -> DecisionRead:
    """Record a decision."""
    row = service.record_decision(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                                  text=body.text, matter=body.matter.value, adoption=body.adoption,
                                  meeting_id=body.meeting_id, store=file_store(ctx))
    return DecisionRead(id=row.id, council_id=row.council_id, meeting_id=row.meeting_id, text=body.text.strip(),
                        matter=row.matter, adoption=row.adoption, decided_at=row.decided_at,
                        created_by_id=row.created_by_id)


@router.get("/{council_id}/actions", response_model=list[ActionRead])
def list_actions(council_id: int, principal: ApiUser, db: Db, ctx: Ctx, overdue: bool = False) -> list[ActionRead]:
    """List action items (``overdue=true``: only overdue ones)."""
    items = service.list_action_items(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                                      overdue_only=overdue)
    return [_action(i, ctx) for i in items]


@router.post("/{council_id}/actions", response_model=ActionRead, status_code=status.HTTP_201_CREATED)
def create_action(council_id: int, body: ActionCreate, principal: ApiUser, db: Db, ctx: Ctx) -> ActionRead:
    """Create an action item for a current member."""
    item = service.create_action_item(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                                      **body.model_dump())
    return _action(item, ctx)


@router.post("/{council_id}/actions/{item_id}/complete", response_model=ActionRead)
def complete_action(council_id: int, item_id: int, body: ActionClose, principal: ApiUser, db: Db,
                    ctx: Ctx) -> ActionRead:
    """Mark an action item done."""
    item = service.complete_action_item(db, council_id=council_id, item_id=item_id, actor=principal,
                                        now=ctx.clock.now(), note=body.note)
    return _action(item, ctx)


@router.post("/{council_id}/actions/{item_id}/cancel", response_model=ActionRead)
def cancel_action(council_id: int, item_id: int, body: ActionClose, principal: ApiUser, db: Db,
                  ctx: Ctx) -> ActionRead:
    """Cancel an action item."""
    item = service.cancel_action_item(db, council_id=council_id, item_id=item_id, actor=principal,
                                      now=ctx.clock.now(), note=body.note)
    return _action(item, ctx)


# --- material requests (C6) -------------------------------------------------------------------


def _request_read(view: service.RequestView) -> RequestRead:
    read = RequestRead.model_validate(view.request)
    read.answer_text = view.answer_text  # C6: the answer only for its parties
    return read


@router.get("/{council_id}/requests", response_model=list[RequestRead])
def list_requests(council_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> list[RequestRead]:
    """List material requests (pledged members; answers only for their parties, audited)."""
    views = service.list_request_views(db, council_id=council_id, actor=principal, now=ctx.clock.now(),
                                       store=file_store(ctx))
    return [_request_read(v) for v in views]


@router.post("/{council_id}/requests", response_model=RequestRead, status_code=status.HTTP_201_CREATED)
def create_request(council_id: int, body: RequestCreate, principal: ApiUser, db: Db, ctx: Ctx) -> RequestRead:
    """Request materials from the think tank or a participant."""
    data = body.model_dump()
    data["matter"] = body.matter.value
    row = service.create_request(db, council_id=council_id, actor=principal, now=ctx.clock.now(), **data)
    return RequestRead.model_validate(row)


def _request_detail(view: service.RequestView) -> RequestDetail:
    return RequestDetail(request=_request_read(view),
                         files=[FileRead.model_validate(f) for f in view.files])


@router.get("/{council_id}/requests/{request_id}", response_model=RequestDetail)
def get_request(council_id: int, request_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> RequestDetail:
    """Return a material request with its answer files (audited read)."""
    view = service.get_request(db, council_id=council_id, request_id=request_id, actor=principal,
                               now=ctx.clock.now(), store=file_store(ctx))
    return _request_detail(view)


def checked_files(db: Session, files: Sequence[UploadFile]) -> list[service.UploadedFile]:
    """Return answer files read and validated completely (O1) with no transaction open (O4); the service
    refuses what did not pass where it always did."""
    with released(db):
        return service.validate_files([service.UploadedFile(filename=f.filename or "", data=f.file.read(),
                                                            content_type=f.content_type or "") for f in files])


@router.post("/{council_id}/requests/{request_id}/answer", response_model=RequestDetail)
def answer_request(council_id: int, request_id: int, principal: ApiUser, db: Db, ctx: Ctx,
                   text: Annotated[str, Form(min_length=1, max_length=50_000)],
                   files: Annotated[list[UploadFile] | None, File()] = None) -> RequestDetail:
    """Answer a material request (multipart: ``text`` and ``files``)."""
    uploads = checked_files(db, list(files or []))
    view = service.answer_request(db, council_id=council_id, request_id=request_id, actor=principal,
                                  now=ctx.clock.now(), text=text, files=uploads, store=file_store(ctx))
    return _request_detail(view)


@router.post("/{council_id}/requests/{request_id}/close", response_model=RequestRead)
def close_request(council_id: int, request_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> RequestRead:
    """Close a material request."""
    row = service.close_request(db, council_id=council_id, request_id=request_id, actor=principal,
                                now=ctx.clock.now())
    return RequestRead.model_validate(row)


@router.get("/{council_id}/requests/{request_id}/files/{file_id}", response_class=Response,
            responses=file_response(*DOWNLOAD_TYPES, description="The file, stamped for the caller"))
def download_file(council_id: int, request_id: int, file_id: int, principal: ApiUser, db: Db,
                  ctx: Ctx) -> Response:
    """Download an answer file stamped for the caller (the answer's parties; recorded and audited, I8)."""
    copy = service.read_file(db, council_id=council_id, request_id=request_id, file_id=file_id,
                             actor=principal, now=ctx.clock.now(), store=file_store(ctx))
    return Response(copy.data, media_type=copy.content_type, headers={
        "Cache-Control": "no-store", "Content-Disposition": content_disposition(copy.filename),
        "X-Content-Type-Options": "nosniff"})


# --- oral statements (口頭で述べた事項, issue 13) ----------------------------------------------------


def statement_read(view: statements.StatementView) -> StatementRead:
    """Shape one oral statement as the service opened it for the reader."""
    row = view.row
    return StatementRead(id=row.id, meeting_id=row.meeting_id, speaker_id=row.speaker_id, summary=view.summary,
                         stated_confidential=row.stated_confidential, state=view.state.value,
                         designation_deadline=row.designation_deadline, designation=view.designation,
                         designated_at=row.designated_at, designated_by_id=row.designated_by_id,
                         recorded_by_id=row.recorded_by_id, created_at=row.created_at,
                         may_designate=view.may_designate)


@router.get("/{council_id}/meetings/{meeting_id}/statements", response_model=list[StatementRead])
def list_statements(council_id: int, meeting_id: int, principal: ApiUser, db: Db, ctx: Ctx) -> list[StatementRead]:
    """List a meeting's oral statements with whether each is under the duty (council-content readers; audited)."""
    views = statements.meeting_statements(db, council_id=council_id, meeting_id=meeting_id, actor=principal,
                                          now=ctx.clock.now(), store=file_store(ctx))
    return [statement_read(v) for v in views]


@router.post("/{council_id}/meetings/{meeting_id}/statements", response_model=StatementRead,
             status_code=status.HTTP_201_CREATED)
def record_statement(council_id: int, meeting_id: int, body: StatementCreate, principal: ApiUser, db: Db,
                     ctx: Ctx) -> StatementRead:
    """Record a statement made at a meeting (chair, secretariat); the summary is sealed (I11)."""
    now = ctx.clock.now()
    row = statements.record_statement(db, council_id=council_id, meeting_id=meeting_id, actor=principal, now=now,
                                      speaker_id=body.speaker_id, summary=body.summary,
                                      stated_confidential=body.stated_confidential, store=file_store(ctx))
    return statement_read(statements.StatementView(
        row=row, summary=body.summary.strip(),  # the writer's own text, echoed
        state=rules.statement_state(stated_confidential=row.stated_confidential, designated_at=None,
                                    deadline=row.designation_deadline, now=now)))


@router.post("/{council_id}/statements/{statement_id}/designation", response_model=StatementRead)
def designate_statement(council_id: int, statement_id: int, body: StatementDesignate, principal: ApiUser, db: Db,
                        ctx: Ctx) -> StatementRead:
    """File the written designation of a statement made orally as confidential (speaker or secretariat; in time)."""
    now = ctx.clock.now()
    view = statements.designate_statement(db, council_id=council_id, statement_id=statement_id, actor=principal,
                                          now=now, text=body.text, store=file_store(ctx))
    return statement_read(view)
