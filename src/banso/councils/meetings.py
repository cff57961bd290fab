"""Meetings as a secretariat runs them (会合の運営, DESIGN C5, issue 13): attendance of everyone in one form,
minutes circulated to the attendees for confirmation before approval, and meeting materials (配布資料)
sealed as council content and handed out only as stamped copies (I8, I11, I12).

Recording a meeting already held and approving circulated minutes are parts of
``service.schedule_meeting`` and ``service.approve_minutes``; this module holds the steps between.
Every step is audited in the caller's transaction (A1); nothing here commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.guard import require_visible
from banso.authz.policies import content as content_policy
from banso.authz.principal import Principal
from banso.councils import notices, rules, service
from banso.councils import repository as repo
from banso.councils.models import (
    Council,
    CouncilState,
    Meeting,
    MeetingAttendance,
    MeetingMaterial,
    MinutesAnswer,
    MinutesConfirmation,
    MinutesState,
)
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.text import clean_text
from banso.sealed import store as sealed
from banso.sealed.models import SealedKind
from banso.sealed.store import SealedDeps
from banso.sealed.uploads import safe_filename

_audit = audit.record_for
_refuse = audit.refuse


@dataclass(frozen=True)
class AttendanceEntry:
    """One line of the attendance sheet: a member and their status ("" leaves the line unrecorded)."""

    user_id: int
    status: str


def record_attendance_sheet(session: Session, *, council_id: int, meeting_id: int, actor: Principal,
                            now: datetime, entries: Sequence[AttendanceEntry]) -> list[MeetingAttendance]:
    """Record the attendance of every listed member at once: all lines are checked before any is written."""
    council, _ = service._manage(session, council_id, actor)
    meeting = service._meeting(session, council, meeting_id)
    service.require_attendance_open(meeting)
    members = {m.user_id for m in repo.current_members(session, council.id)}
    pledged = service.pledged_members(session, council)
    seen: set[int] = set()
    wanted: dict[int, str] = {}
    for entry in entries:
        if entry.user_id in seen:
            raise ValidationFailed(f"同じ参加者が2回指定されています / person {entry.user_id} is listed twice",
                                   field="user_id")
        seen.add(entry.user_id)
        if entry.user_id not in members:
            raise ValidationFailed(f"{entry.user_id} は現在の参加者ではありません / person {entry.user_id} is not a "
                                   "current member", field="user_id")
        if entry.status:
            attendance = service.parse_attendance(entry.status)
            service.require_may_attend(attendance, entry.user_id, pledged)
            wanted[entry.user_id] = attendance.value
    if not wanted:
        raise ValidationFailed("少なくとも1名の出席状況を選んでください / choose the attendance of at least one person",
                               field="status")
    existing = {a.user_id: a for a in repo.attendance(session, meeting.id)}
    for user_id, status in wanted.items():
        row = existing.get(user_id)
        if row is None:
            session.add(MeetingAttendance(meeting_id=meeting.id, user_id=user_id, status=status))
        else:
            row.status = status
    session.flush()
    _audit(session, AuditTag.COUNCIL_ATTENDANCE_SHEET, now=now, actor=actor, subject=service._subject(council),
           data={"meeting_id": meeting.id, "attendance": {str(k): v for k, v in sorted(wanted.items())}})
    return repo.attendance(session, meeting.id)


# ---------------------------------------------------------------------------------------------
# Minutes circulated for confirmation (C5)


def circulate_minutes(session: Session, *, council_id: int, meeting_id: int, actor: Principal, now: datetime,
                      deadline: datetime | None = None) -> list[MinutesConfirmation]:
    """Send the draft minutes to the attendees (present or by proxy) to confirm by ``deadline`` (default from
    the bylaws, 14 days)."""
    council, _ = service._manage(session, council_id, actor)
    meeting = service._meeting(session, council, meeting_id)
    if meeting.minutes_state != MinutesState.DRAFT or meeting.minutes_sha256 is None:
        raise Conflict(f"確認を依頼できるのは議事録案のみです（現在: {rules.minutes_state_ja(meeting.minutes_state)}） / only draft minutes can be "
                       f"circulated; the minutes are {meeting.minutes_state}")
    if meeting.starts_at > now:
        raise Conflict("会合の開催前は確認を依頼できません / the meeting has not taken place yet")
    bylaws = repo.bylaws(session, council.id, council.bylaws_version)
    days = bylaws.minutes_confirmation_days if bylaws is not None else rules.DEFAULT_MINUTES_CONFIRMATION_DAYS
    due = rules.minutes_deadline(now=now, requested=deadline, default_days=days)
    # C5/F4: confirmers are the present or proxy attendees who are pledged members now (who can read the minutes)
    members = service.pledged_members(session, council)
    attendees = [a.user_id for a in repo.attendance(session, meeting.id)
                 if a.status in rules.CONFIRMING_ATTENDANCE and a.user_id in members]
    if not attendees:
        raise ValidationFailed("先に出席者を記録してください（出席又は代理出席） / record who attended (present or by "
                               "proxy) first: they are who confirms the minutes", field="status")
    rows = [MinutesConfirmation(meeting_id=meeting.id, user_id=uid, minutes_sha256=meeting.minutes_sha256,
                                answer=MinutesAnswer.PENDING.value, comment_sealed=None, answered_at=None,
                                created_at=now) for uid in attendees]
    session.add_all(rows)
    meeting.minutes_state = MinutesState.CIRCULATED.value
    meeting.minutes_circulated_at = now
    meeting.minutes_deadline = due
    meeting.minutes_reminded_at = None
    session.flush()
    _audit(session, AuditTag.COUNCIL_MINUTES_CIRCULATE, now=now, actor=actor, subject=service._subject(council),
           data={"meeting_id": meeting.id, "sha256": meeting.minutes_sha256, "attendees": attendees,
                 "deadline": due.isoformat()})
    notices.minutes_circulated(session, council, meeting_id=meeting.id, title=meeting.title, user_ids=attendees,
                               deadline=due, now=now)
    return rows


def confirm_minutes(session: Session, *, council_id: int, meeting_id: int, actor: Principal, now: datetime,
                    answer: str, store: SealedDeps, comment: str | None = None) -> MinutesConfirmation:
    """Answer circulated minutes as an attendee: ``confirm`` them, or ``comment`` (the comment is sealed, I11)."""
    council, _ = service._content(session, council_id, actor)
    meeting = service._meeting(session, council, meeting_id)
    row = repo.confirmation_of(session, meeting.id, actor.user_id)
    if meeting.minutes_state != MinutesState.CIRCULATED:
        raise Conflict(f"議事録は確認依頼中ではありません（現在: {rules.minutes_state_ja(meeting.minutes_state)}） / the minutes are "
                       f"{meeting.minutes_state}, not circulated for confirmation")
    if row is None:  # C5: only the attendees the minutes went to confirm them
        _refuse(session, Forbidden("議事録を確認できるのは会合の出席者のみです / only the meeting's attendees confirm "
                                   "its minutes"), AuditTag.COUNCIL_MINUTES_REFUSED, now=now, actor=actor,
                subject=service._subject(council), data={"meeting_id": meeting.id, "step": "confirm"})
    assert row is not None and meeting.minutes_deadline is not None
    if now >= meeting.minutes_deadline:
        raise Conflict("確認期限を過ぎています / the confirmation deadline has passed")
    if answer not in ("confirm", "comment"):
        raise ValidationFailed("answer は「確認」か「意見」から選んでください / answer must be confirm or comment", field="answer")
    text = clean_text(comment, "comment", max_length=20_000, required=answer == "comment") or None
    row.answer = (MinutesAnswer.CONFIRMED if answer == "confirm" else MinutesAnswer.COMMENTED).value
    row.comment_sealed = None if text is None else sealed.seal_text(
        store, sealed.council_scope(council.id), text, label=service._comment_label(meeting.id, actor.user_id))
    row.answered_at = now
    session.flush()
    # A1 with a hash only: the comment is council content and stays out of the log.
    _audit(session, AuditTag.COUNCIL_MINUTES_CONFIRM, now=now, actor=actor, subject=service._subject(council),
           data={"meeting_id": meeting.id, "answer": row.answer, "minutes_sha256": row.minutes_sha256,
                 "comment_sha256": None if text is None else rules.sha256_text(text)})
    return row


def remind_minutes(session: Session, *, now: datetime) -> int:
    """Job: remind attendees who have not answered, once, as the confirmation deadline nears (C5)."""
    sent = 0
    for meeting in repo.circulated_meetings_due(session, now + rules.MINUTES_REMINDER_BEFORE):
        if not rules.minutes_reminder_due(deadline=meeting.minutes_deadline, reminded_at=meeting.minutes_reminded_at,
                                          now=now):
            continue
        council = repo.council_by_id(session, meeting.council_id)
        if council is None or council.state not in (CouncilState.ESTABLISHED, CouncilState.ACTIVE):
            continue
        still = service.pledged_members(session, council)  # who left is not reminded (F4)
        pending = [c.user_id for c in repo.confirmations(session, meeting.id)
                   if c.answer == MinutesAnswer.PENDING and c.user_id in still]
        meeting.minutes_reminded_at = now
        if not pending:
            continue
        assert meeting.minutes_deadline is not None
        _audit(session, AuditTag.COUNCIL_MINUTES_REMIND, now=now, actor=None, subject=service._subject(council),
               data={"meeting_id": meeting.id, "user_ids": pending})
        notices.minutes_circulated(session, council, meeting_id=meeting.id, title=meeting.title, user_ids=pending,
                                   deadline=meeting.minutes_deadline, now=now, reminder=True)
        sent += len(pending)
    return sent


# ---------------------------------------------------------------------------------------------
# Meeting materials (配布資料): sealed council content (I11, I12)


def add_material(session: Session, *, council_id: int, meeting_id: int, actor: Principal, now: datetime,
                 title: str, confidential: bool, file: service.UploadedFile, store: SealedDeps) -> MeetingMaterial:
    """Provide a material for a meeting (any pledged member), marked at provision whether it is confidential."""
    council, standing = service._content(session, council_id, actor)
    if not standing.is_member:
        raise Forbidden("資料を提供できるのは協議会の参加者のみです / only council members provide materials")
    meeting = service._meeting(session, council, meeting_id)
    title_t = rules.require_text(title, "title", max_length=300, line=True)
    # O1: validated as item files are (file-name rule, stamp and viewer limits), so it can always be served.
    kind = service._kind_of(file)  # validated before the unit began when the route could (O4)
    digest = hashlib.sha256(file.data).hexdigest()
    # I11: sealed under the council's key before anything is written; the plaintext never reaches disk.
    envelope = sealed.seal_file(store, sealed.council_scope(council.id), file.data,
                                label=sealed.file_label(SealedKind.MEETING_MATERIAL, digest))
    row = MeetingMaterial(meeting_id=meeting.id, title=title_t, confidential=confidential,
                          filename=safe_filename(file.filename), content_type=kind.content_type, size=len(file.data),
                          sha256=digest, blob=envelope.blob, wrapped_key=envelope.wrapped_key,
                          uploaded_by_id=actor.user_id, uploaded_at=now)
    session.add(row)
    session.flush()
    # A1 with ids and hashes only: titles and file names of council content stay out of the log.
    _audit(session, AuditTag.COUNCIL_MATERIAL_ADD, now=now, actor=actor, subject=service._subject(council),
           data={"meeting_id": meeting.id, "material_id": row.id, "sha256": digest, "size": row.size,
                 "confidential": confidential})
    return row


def _material(session: Session, council_id: int, meeting_id: int, material_id: int,
              actor: Principal) -> tuple[Council, Meeting, MeetingMaterial]:
    """Return the council, meeting and material for a council-content reader; 404 otherwise (I7, I12)."""
    council, standing = service._content(session, council_id, actor)
    require_visible(content_policy.can_read_council_text(actor, standing), "material")
    meeting = service._meeting(session, council, meeting_id)
    row = repo.material(session, meeting.id, material_id)
    if row is None:
        raise NotFound("資料が見つかりません / material not found")
    return council, meeting, row


def read_material(session: Session, *, council_id: int, meeting_id: int, material_id: int, actor: Principal,
                  now: datetime, store: SealedDeps) -> sealed.Copy:
    """Return a meeting material stamped for ``actor`` (council content readers); recorded and audited (I8)."""
    def opened(found: tuple[Council, Meeting, MeetingMaterial]) -> sealed.Original:
        council, meeting, row = found
        refusal = sealed.Refusal(tag=AuditTag.COUNCIL_INTEGRITY_FAILED, subject=service._subject(council),
                                 data={"meeting_id": meeting.id, "material_id": row.id})
        data = sealed.open_file(session, store, sealed.council_scope(council.id),
                                sealed.Envelope(wrapped_key=row.wrapped_key, blob=row.blob),
                                label=sealed.file_label(SealedKind.MEETING_MATERIAL, row.sha256), actor=actor,
                                now=now, refusal=refusal)
        return sealed.Original(kind=SealedKind.MEETING_MATERIAL, object_id=row.id,
                               scope=sealed.council_scope(council.id), filename=row.filename,
                               content_type=row.content_type, data=data, label=f"配布資料 #{row.id}")

    (council, meeting, row), copy, dist = sealed.copy_in_steps(
        session, store, actor=actor, now=now, open_original=opened,
        decide=lambda: _material(session, council_id, meeting_id, material_id, actor))
    _audit(session, AuditTag.COUNCIL_MATERIAL_DOWNLOAD, now=now, actor=actor, subject=service._subject(council),
           data={"meeting_id": meeting.id, "material_id": row.id, "sha256": row.sha256,
                 "distribution_id": dist.id, "channel": dist.channel})
    return copy
