"""Every query of the councils domain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from banso.accounts.models import User
from banso.authz.policies.councils import Standing, export_hold_sql
from banso.councils.models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    BylawsProposal,
    BylawsVersion,
    BylawsVote,
    Consent,
    ConsentDecision,
    Council,
    Decision,
    ExportClearance,
    MaterialFile,
    MaterialRequest,
    Meeting,
    MeetingAttendance,
    MeetingMaterial,
    Membership,
    MinutesAnswer,
    MinutesConfirmation,
    MinutesState,
    OralStatement,
    Pledge,
    RequestStatus,
)


def council_by_id(session: Session, council_id: int) -> Council | None:
    """Return the council with this id."""
    return session.get(Council, council_id)


def standing_columns(council_id: Any, user_id: Any) -> tuple[Any, ...]:
    """Return the columns of ``user_id``'s standing in the council ``council_id`` (each a value, a column or a
    bound parameter).

    Selected with ``Council.state`` from a statement that has the council in its FROM clause, so that a
    caller can load the standing together with what it already reads (an item, I12).
    """
    member = and_(Membership.council_id == council_id, Membership.user_id == user_id, Membership.left_at.is_(None))
    role = select(Membership.role).where(member).limit(1).scalar_subquery()
    pending = exists().where(Consent.council_id == council_id, Consent.user_id == user_id,
                             Consent.decision == ConsentDecision.PENDING.value)
    pledged = exists().where(Pledge.council_id == council_id, Pledge.user_id == user_id,
                             Pledge.duty_version == Council.duty_version)
    return Council.state, role, pending, pledged, export_hold_sql(council_id, user_id)


def standing_from(row: Any) -> Standing:
    """Return the standing from the five columns of :func:`standing_columns` (in that order)."""
    state, role_value, is_pending, is_pledged, held = row
    return Standing(council_state=state, role=role_value, pending_consent=bool(is_pending),
                    pledge_current=bool(is_pledged) and role_value is not None, export_hold=bool(held))


def standing_of(session: Session, council_id: int, user_id: int) -> Standing | None:
    """Return ``user_id``'s standing in a council in one statement (None when the council is missing)."""
    row = session.execute(select(*standing_columns(council_id, user_id)).where(Council.id == council_id)).first()
    return None if row is None else standing_from(row)


def council_with_standing(session: Session, council_id: int, user_id: int) -> tuple[Council, Standing] | None:
    """Return the council and ``user_id``'s standing in it in one statement (None when it is missing)."""
    row = session.execute(select(Council, *standing_columns(Council.id, user_id)).where(Council.id == council_id)).first()
    return None if row is None else (row[0], standing_from(row[1:]))


def council_for_update(session: Session, council_id: int) -> Council | None:
    """Return the council locked for this transaction (serialises consents and evaluation)."""
    return session.scalar(
        select(Council).where(Council.id == council_id).with_for_update().execution_options(populate_existing=True)
    )


def list_councils(session: Session, stmt: Select[tuple[Council]]) -> list[Council]:
    """Run a (policy-restricted) council query."""
    return list(session.scalars(stmt))


def councils_with_standing(session: Session, stmt: Select[tuple[Council]],
                           user_id: int) -> list[tuple[Council, Standing]]:
    """Run a (policy-restricted) council query with ``user_id``'s standing in each, in one statement."""
    listed = stmt.subquery()
    rows = session.execute(select(Council, *standing_columns(Council.id, user_id))
                           .where(Council.id.in_(select(listed.c.id))).order_by(Council.id))
    return [(row[0], standing_from(row[1:])) for row in rows]


def all_councils(session: Session) -> list[Council]:
    """Return every council (operators' CLI only)."""
    return list(session.scalars(select(Council).order_by(Council.id)))


def council_by_title(session: Session, title_ja: str) -> Council | None:
    """Return the council with this Japanese title (demo seeding)."""
    return session.scalar(select(Council).where(Council.title_ja == title_ja))


def councils_by_project_ref(session: Session, project_ref: str) -> list[Council]:
    """Return the councils proposed for one project, oldest first (issue 13: re-proposal keeps the history)."""
    return list(session.scalars(select(Council).where(Council.project_ref == project_ref).order_by(Council.id)))


def bylaws(session: Session, council_id: int, version: int) -> BylawsVersion | None:
    """Return one bylaws version; one already loaded in this session is returned without a statement (a version
    never changes once written, and a council page reads the version in force more than once)."""
    loaded = next((o for o in session.identity_map.values() if isinstance(o, BylawsVersion)
                   and o.council_id == council_id and o.version == version), None)
    if loaded is not None:
        return loaded
    return session.scalar(select(BylawsVersion).where(BylawsVersion.council_id == council_id,
                                                      BylawsVersion.version == version))


def bylaws_proposals(session: Session, council_id: int) -> list[BylawsProposal]:
    """Return a council's bylaws amendment proposals, newest first."""
    return list(session.scalars(select(BylawsProposal).where(BylawsProposal.council_id == council_id)
                                .order_by(BylawsProposal.id.desc())))


def bylaws_proposal(session: Session, council_id: int, proposal_id: int, *, lock: bool = False) -> BylawsProposal | None:
    """Return one proposal of this council (locked for update when voting: one settlement at a time)."""
    query = select(BylawsProposal).where(BylawsProposal.id == proposal_id, BylawsProposal.council_id == council_id)
    return session.scalar(query.with_for_update() if lock else query)


def open_bylaws_proposal(session: Session, council_id: int) -> BylawsProposal | None:
    """Return the council's open amendment proposal, if any (one at a time)."""
    return session.scalar(select(BylawsProposal).where(BylawsProposal.council_id == council_id,
                                                       BylawsProposal.state == "open"))


def open_bylaws_proposals(session: Session) -> list[BylawsProposal]:
    """Return every open amendment proposal (the job settles and reminds them)."""
    return list(session.scalars(select(BylawsProposal).where(BylawsProposal.state == "open")
                                .order_by(BylawsProposal.id)))


def bylaws_votes(session: Session, proposal_id: int) -> list[BylawsVote]:
    """Return the votes of a proposal, in voter order."""
    return list(session.scalars(select(BylawsVote).where(BylawsVote.proposal_id == proposal_id)
                                .order_by(BylawsVote.id)))


def bylaws_vote_of(session: Session, proposal_id: int, user_id: int) -> BylawsVote | None:
    """Return one voter's row on a proposal."""
    return session.scalar(select(BylawsVote).where(BylawsVote.proposal_id == proposal_id,
                                                   BylawsVote.user_id == user_id))


def pending_bylaws_votes_of(session: Session, user_id: int) -> list[BylawsProposal]:
    """Return the open proposals awaiting ``user_id``'s answer."""
    return list(session.scalars(select(BylawsProposal).join(BylawsVote, BylawsVote.proposal_id == BylawsProposal.id)
                                .where(BylawsVote.user_id == user_id, BylawsVote.decision == "pending",
                                       BylawsProposal.state == "open").order_by(BylawsProposal.deadline)))


def bylaws_versions(session: Session, council_id: int) -> list[BylawsVersion]:
    """Return every bylaws version, oldest first."""
    return list(session.scalars(select(BylawsVersion).where(BylawsVersion.council_id == council_id)
                                .order_by(BylawsVersion.version)))


def consents(session: Session, council_id: int, *, kind: str | None = None) -> list[Consent]:
    """Return a council's consents (optionally of one kind)."""
    stmt = select(Consent).where(Consent.council_id == council_id).order_by(Consent.id)
    if kind is not None:
        stmt = stmt.where(Consent.kind == kind)
    return list(session.scalars(stmt))


def pending_consent(session: Session, council_id: int, user_id: int) -> Consent | None:
    """Return the person's unanswered consent for this council, if any."""
    return session.scalar(select(Consent).where(Consent.council_id == council_id, Consent.user_id == user_id,
                                                Consent.decision == ConsentDecision.PENDING.value))


def latest_consent(session: Session, council_id: int, user_id: int) -> Consent | None:
    """Return the person's most recent consent record for this council."""
    return session.scalar(select(Consent).where(Consent.council_id == council_id, Consent.user_id == user_id)
                          .order_by(Consent.id.desc()).limit(1))


def current_membership(session: Session, council_id: int, user_id: int) -> Membership | None:
    """Return the person's current (not left) membership."""
    return session.scalar(select(Membership).where(Membership.council_id == council_id,
                                                   Membership.user_id == user_id, Membership.left_at.is_(None)))


def current_members(session: Session, council_id: int) -> list[Membership]:
    """Return the current memberships of a council."""
    return list(session.scalars(select(Membership).where(Membership.council_id == council_id,
                                                         Membership.left_at.is_(None)).order_by(Membership.id)))


def current_members_with_users(session: Session, council: Council) -> list[tuple[Membership, User, bool]]:
    """Return the current memberships of a council with their people and whether each holds the pledge for
    the duty in force (C3), in one statement."""
    pledged = exists().where(Pledge.council_id == council.id, Pledge.user_id == Membership.user_id,
                             Pledge.duty_version == council.duty_version)
    return [(m, u, bool(p)) for m, u, p in session.execute(
        select(Membership, User, pledged).join(User, User.id == Membership.user_id)
        .where(Membership.council_id == council.id, Membership.left_at.is_(None)).order_by(Membership.id))]


def memberships(session: Session, council_id: int) -> list[Membership]:
    """Return every membership, including those that ended."""
    return list(session.scalars(select(Membership).where(Membership.council_id == council_id)
                                .order_by(Membership.id)))


def pledge_for_duty(session: Session, council_id: int, user_id: int, duty_version: int) -> Pledge | None:
    """Return the person's pledge for this duty version."""
    return session.scalar(select(Pledge).where(Pledge.council_id == council_id, Pledge.user_id == user_id,
                                               Pledge.duty_version == duty_version).order_by(Pledge.id.desc())
                          .limit(1))


def pledges_of(session: Session, council_id: int, user_id: int) -> list[Pledge]:
    """Return a person's pledges for a council, newest first."""
    return list(session.scalars(select(Pledge).where(Pledge.council_id == council_id, Pledge.user_id == user_id)
                                .order_by(Pledge.id.desc())))


def pledges(session: Session, council_id: int) -> list[Pledge]:
    """Return every pledge of a council."""
    return list(session.scalars(select(Pledge).where(Pledge.council_id == council_id).order_by(Pledge.id)))


def pledge_by_id(session: Session, pledge_id: int) -> Pledge | None:
    """Return one pledge."""
    return session.get(Pledge, pledge_id)


def meetings(session: Session, council_id: int) -> list[Meeting]:
    """Return a council's meetings by start time."""
    return list(session.scalars(select(Meeting).where(Meeting.council_id == council_id)
                                .order_by(Meeting.starts_at, Meeting.id)))


def meeting(session: Session, council_id: int, meeting_id: int) -> Meeting | None:
    """Return one meeting of this council."""
    return session.scalar(select(Meeting).where(Meeting.id == meeting_id, Meeting.council_id == council_id))


def agenda(session: Session, meeting_id: int) -> list[AgendaItem]:
    """Return a meeting's agenda in order."""
    return list(session.scalars(select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)
                                .order_by(AgendaItem.position)))


def next_agenda_position(session: Session, meeting_id: int) -> int:
    """Return the position for a new agenda item."""
    top = session.scalar(select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting_id))
    return int(top or 0) + 1


def attendance(session: Session, meeting_id: int) -> list[MeetingAttendance]:
    """Return a meeting's attendance records."""
    return list(session.scalars(select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id)
                                .order_by(MeetingAttendance.user_id)))


def attendance_of(session: Session, meeting_id: int, user_id: int) -> MeetingAttendance | None:
    """Return one person's attendance record."""
    return session.scalar(select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id,
                                                          MeetingAttendance.user_id == user_id))


def decisions(session: Session, council_id: int) -> list[Decision]:
    """Return a council's decisions, newest first."""
    return list(session.scalars(select(Decision).where(Decision.council_id == council_id)
                                .order_by(Decision.decided_at.desc(), Decision.id.desc())))


def decision(session: Session, council_id: int, decision_id: int) -> Decision | None:
    """Return one decision of this council."""
    return session.scalar(select(Decision).where(Decision.id == decision_id, Decision.council_id == council_id))


def action_items(session: Session, council_id: int, *, overdue_at: datetime | None = None) -> list[ActionItem]:
    """Return a council's action items (only overdue ones when ``overdue_at`` is given)."""
    stmt = select(ActionItem).where(ActionItem.council_id == council_id)
    if overdue_at is not None:
        stmt = stmt.where(ActionItem.status == ActionStatus.OPEN.value, ActionItem.due_at < overdue_at)
    return list(session.scalars(stmt.order_by(ActionItem.due_at, ActionItem.id)))


def open_action_items_due_by(session: Session, when: datetime) -> list[ActionItem]:
    """Return open action items of every council due before ``when`` (for the reminder job)."""
    stmt = select(ActionItem).where(ActionItem.status == ActionStatus.OPEN.value, ActionItem.due_at < when)
    return list(session.scalars(stmt.order_by(ActionItem.due_at, ActionItem.id)))


def action_item(session: Session, council_id: int, item_id: int) -> ActionItem | None:
    """Return one action item of this council."""
    return session.scalar(select(ActionItem).where(ActionItem.id == item_id, ActionItem.council_id == council_id))


def action_items_of(session: Session, user_id: int, council_ids: list[int], *,
                    overdue_at: datetime | None = None) -> list[ActionItem]:
    """Return a person's action items in the given councils (overdue only when ``overdue_at`` is given)."""
    if not council_ids:
        return []
    stmt = select(ActionItem).where(ActionItem.assignee_id == user_id, ActionItem.council_id.in_(council_ids))
    if overdue_at is not None:
        stmt = stmt.where(ActionItem.status == ActionStatus.OPEN.value, ActionItem.due_at < overdue_at)
    return list(session.scalars(stmt.order_by(ActionItem.due_at, ActionItem.id)))


def requests(session: Session, council_id: int) -> list[MaterialRequest]:
    """Return a council's material requests, newest first."""
    return list(session.scalars(select(MaterialRequest).where(MaterialRequest.council_id == council_id)
                                .order_by(MaterialRequest.id.desc())))


def request(session: Session, council_id: int, request_id: int) -> MaterialRequest | None:
    """Return one material request of this council."""
    return session.scalar(select(MaterialRequest).where(MaterialRequest.id == request_id,
                                                        MaterialRequest.council_id == council_id))


def files_of(session: Session, request_id: int) -> list[MaterialFile]:
    """Return the files of a request's answer."""
    return list(session.scalars(select(MaterialFile).where(MaterialFile.request_id == request_id)
                                .order_by(MaterialFile.id)))


def file(session: Session, request_id: int, file_id: int) -> MaterialFile | None:
    """Return one file of this request."""
    return session.scalar(select(MaterialFile).where(MaterialFile.id == file_id,
                                                     MaterialFile.request_id == request_id))


# --- meetings as held (C5, issue 13) ----------------------------------------------------------


def confirmations(session: Session, meeting_id: int) -> list[MinutesConfirmation]:
    """Return the attendees' confirmations of a meeting's circulated minutes."""
    return list(session.scalars(select(MinutesConfirmation).where(MinutesConfirmation.meeting_id == meeting_id)
                                .order_by(MinutesConfirmation.user_id)))


def confirmation_of(session: Session, meeting_id: int, user_id: int) -> MinutesConfirmation | None:
    """Return one attendee's confirmation row."""
    return session.scalar(select(MinutesConfirmation).where(MinutesConfirmation.meeting_id == meeting_id,
                                                            MinutesConfirmation.user_id == user_id))


def clear_confirmations(session: Session, meeting_id: int) -> int:
    """Delete a meeting's confirmations (the minutes were redrafted); return how many there were."""
    rows = confirmations(session, meeting_id)
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def circulated_meetings_due(session: Session, before: datetime) -> list[Meeting]:
    """Return meetings whose circulated minutes have a confirmation deadline before ``before`` (any council)."""
    return list(session.scalars(select(Meeting).where(Meeting.minutes_state == MinutesState.CIRCULATED.value,
                                                      Meeting.minutes_deadline < before,
                                                      Meeting.minutes_reminded_at.is_(None))
                                .order_by(Meeting.id)))


def materials(session: Session, meeting_id: int) -> list[MeetingMaterial]:
    """Return a meeting's materials (配布資料) in upload order."""
    return list(session.scalars(select(MeetingMaterial).where(MeetingMaterial.meeting_id == meeting_id)
                                .order_by(MeetingMaterial.id)))


def material(session: Session, meeting_id: int, material_id: int) -> MeetingMaterial | None:
    """Return one material of this meeting."""
    return session.scalar(select(MeetingMaterial).where(MeetingMaterial.id == material_id,
                                                        MeetingMaterial.meeting_id == meeting_id))


def statements(session: Session, meeting_id: int) -> list[OralStatement]:
    """Return a meeting's recorded oral statements in recording order (issue 13)."""
    return list(session.scalars(select(OralStatement).where(OralStatement.meeting_id == meeting_id)
                                .order_by(OralStatement.id)))


def statement(session: Session, council_id: int, statement_id: int) -> OralStatement | None:
    """Return one oral statement of this council."""
    return session.scalar(select(OralStatement).where(OralStatement.id == statement_id,
                                                      OralStatement.council_id == council_id))


def statements_due(session: Session, before: datetime) -> list[OralStatement]:
    """Return undesignated confidential statements whose designation deadline falls before ``before``."""
    return list(session.scalars(select(OralStatement).where(OralStatement.stated_confidential.is_(True),
                                                            OralStatement.designated_at.is_(None),
                                                            OralStatement.reminded_at.is_(None),
                                                            OralStatement.designation_deadline < before)
                                .order_by(OralStatement.id)))


def minutes_to_confirm_of(session: Session, user_id: int) -> list[tuple[Meeting, MinutesConfirmation]]:
    """Return the circulated minutes still awaiting ``user_id``'s answer, soonest deadline first (the home page)."""
    stmt = (select(Meeting, MinutesConfirmation)
            .join(MinutesConfirmation, MinutesConfirmation.meeting_id == Meeting.id)
            .where(MinutesConfirmation.user_id == user_id, MinutesConfirmation.answer == MinutesAnswer.PENDING.value,
                   Meeting.minutes_state == MinutesState.CIRCULATED.value)
            .order_by(Meeting.minutes_deadline, Meeting.id))
    return [(m, c) for m, c in session.execute(stmt).all()]


def open_requests_to(session: Session, user_id: int) -> list[MaterialRequest]:
    """Return the open material requests addressed to ``user_id``, soonest due first (the home page)."""
    stmt = (select(MaterialRequest)
            .where(MaterialRequest.addressee_id == user_id, MaterialRequest.status == RequestStatus.OPEN.value)
            .order_by(MaterialRequest.due_at, MaterialRequest.id))
    return list(session.scalars(stmt))


def councils_by_ids(session: Session, ids: list[int]) -> dict[int, Council]:
    """Return the councils with these ids."""
    if not ids:
        return {}
    return {c.id: c for c in session.scalars(select(Council).where(Council.id.in_(ids)))}


def upcoming_meetings(session: Session, council_ids: list[int], *, start: datetime, end: datetime) -> list[Meeting]:
    """Return the meetings of these councils starting in [start, end), soonest first."""
    if not council_ids:
        return []
    stmt = (select(Meeting).where(Meeting.council_id.in_(council_ids), Meeting.starts_at >= start,
                                  Meeting.starts_at < end).order_by(Meeting.starts_at, Meeting.id))
    return list(session.scalars(stmt))


# ---------------------------------------------------------------------------------------------
# Deemed-export checks (F7)


def clearance_of(session: Session, council_id: int, user_id: int) -> ExportClearance | None:
    """Return the deemed-export check of ``user_id`` in the council, if one was opened."""
    return session.scalar(select(ExportClearance).where(ExportClearance.council_id == council_id,
                                                        ExportClearance.user_id == user_id))


def councils_of_member(session: Session, user_id: int) -> list[Council]:
    """Return the councils ``user_id`` is a current member of."""
    return list(session.scalars(select(Council).join(Membership, Membership.council_id == Council.id).where(
        Membership.user_id == user_id, Membership.left_at.is_(None)).order_by(Council.id)))


def current_member_ids(session: Session, council_id: int) -> list[int]:
    """Return the ids of the council's current members."""
    return list(session.scalars(select(Membership.user_id).where(
        Membership.council_id == council_id, Membership.left_at.is_(None)).order_by(Membership.user_id)))


def clearances_for(session: Session, restrict: Callable[[Select[Any]], Select[Any]], *,
                   states: list[str] | None = None) -> list[tuple[ExportClearance, str, User]]:
    """Return the checks ``restrict`` (the policy's SQL twin) keeps, with the council title and the person,
    pending first, then newest."""
    council = aliased(Council)  # the policy's twin correlates on Council: the title comes from an alias
    stmt: Any = (select(ExportClearance, council.title_ja, User)
            .join(council, council.id == ExportClearance.council_id)
            .join(User, User.id == ExportClearance.user_id))
    if states is not None:
        stmt = stmt.where(ExportClearance.state.in_(states))
    stmt = restrict(stmt).order_by((ExportClearance.state != "pending"), ExportClearance.requested_at.desc(),
                                   ExportClearance.id.desc())
    return [(row[0], row[1], row[2]) for row in session.execute(stmt).all()]
