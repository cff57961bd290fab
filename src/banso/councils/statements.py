"""Oral statements (口頭で述べた事項, issue 13): what was said at a meeting and whether it falls under the duty.

The secretariat records a statement (speaker, meeting, summary, whether it was stated as confidential). A
statement stated as confidential falls under the duty (Art. 62(7), C3) only when designated in writing
(書面による指定) by its speaker or the secretariat within the period the bylaws set
(``BylawsVersion.oral_designation_days``, default 30 days from the meeting); after the period without it, it
is outside the duty. Summaries and written designations are council content, sealed under the council's key
(I11, I12) and read only by those who may read the council's content; every step is audited (A1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.guard import require_visible
from banso.authz.policies import content as content_policy
from banso.authz.policies import councils as policy
from banso.authz.principal import Principal
from banso.councils import notices, rules, service
from banso.councils import repository as repo
from banso.councils.models import Council, CouncilState, OralStatement
from banso.kit.clock import to_jst
from banso.kit.errors import BansoError, Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.text import clean_text
from banso.sealed import store as sealed
from banso.sealed.store import SealedDeps

_audit = audit.record_for
_refuse = audit.refuse


def summary_label(statement_id: int) -> str:
    """Return the associated-data label that binds a statement's sealed summary to its row."""
    return f"oral-statement:{statement_id}"


def designation_label(statement_id: int) -> str:
    """Return the associated-data label of a statement's written designation."""
    return f"oral-statement-designation:{statement_id}"


@dataclass(frozen=True)
class StatementView:
    """One oral statement as a content reader sees it: summary opened, state and deadline decided (issue 13)."""

    row: OralStatement
    summary: str
    state: rules.StatementState
    designation: str | None = None
    may_designate: bool = False  # the service's decision for this reader (speaker or secretariat, in time)


def _days(session: Session, council: Council) -> int:
    bylaws = repo.bylaws(session, council.id, council.bylaws_version)
    return bylaws.oral_designation_days if bylaws is not None else rules.DEFAULT_ORAL_DESIGNATION_DAYS


def record_statement(session: Session, *, council_id: int, meeting_id: int, actor: Principal, now: datetime,
                     speaker_id: int, summary: str, stated_confidential: bool,
                     store: SealedDeps) -> OralStatement:
    """Record what a member said at a meeting already begun (chair, secretariat); summary sealed (I11)."""
    council, _ = service._manage(session, council_id, actor)
    meeting = service._meeting(session, council, meeting_id)
    if meeting.starts_at > now:
        raise Conflict("開催前の会合の発言は記録できません / the meeting has not taken place yet")
    if speaker_id not in {m.user_id for m in repo.current_members(session, council.id)}:
        raise ValidationFailed(f"{speaker_id} は現在の参加者ではありません / person {speaker_id} is not a current "
                               "member", field="speaker_id")
    text = clean_text(summary, "summary", max_length=20_000)
    deadline = rules.statement_deadline(meeting_at=meeting.starts_at, stated_confidential=stated_confidential,
                                        days=_days(session, council))
    row = OralStatement(council_id=council.id, meeting_id=meeting.id, speaker_id=speaker_id,
                        summary_sealed=b"", summary_sha256=rules.sha256_text(text),
                        stated_confidential=stated_confidential, designation_deadline=deadline,
                        recorded_by_id=actor.user_id, created_at=now)
    session.add(row)
    session.flush()  # the label names the row's id
    row.summary_sealed = sealed.seal_text(store, sealed.council_scope(council.id), text,
                                          label=summary_label(row.id))
    session.flush()
    # A1 with ids and a hash only: what was said is council content and stays out of the log.
    _audit(session, AuditTag.COUNCIL_STATEMENT_RECORD, now=now, actor=actor, subject=service._subject(council),
           data={"meeting_id": meeting.id, "statement_id": row.id, "speaker_id": speaker_id,
                 "stated_confidential": stated_confidential, "summary_sha256": row.summary_sha256,
                 "deadline": deadline.isoformat() if deadline else None})
    return row


def designate_statement(session: Session, *, council_id: int, statement_id: int, actor: Principal, now: datetime,
                        text: str, store: SealedDeps) -> StatementView:
    """File the written designation (書面による指定) of a statement made orally as confidential, within the period.

    By the speaker or the chair/secretariat; after the deadline, by anyone else, or for a statement not stated
    as confidential the attempt is refused and audited.
    """
    council, standing = service._content(session, council_id, actor)
    row = repo.statement(session, council.id, statement_id)
    if row is None:
        raise NotFound("発言が見つかりません / statement not found")
    why: BansoError | None = None
    if not policy.can_designate_statement(actor, standing, speaker_id=row.speaker_id):
        why = Forbidden("書面で指定できるのは発言者又は事務局のみです / only the speaker or the secretariat may "
                        "designate a statement in writing")
    elif not row.stated_confidential:
        why = Conflict("秘として述べられていない発言は指定できません / the statement was not made as confidential")
    elif row.designated_at is not None:
        why = Conflict("この発言は既に書面で指定されています / the statement is already designated in writing")
    elif row.designation_deadline is None or now >= row.designation_deadline:
        when = to_jst(row.designation_deadline).strftime("%Y-%m-%d %H:%M") if row.designation_deadline else "—"
        why = Conflict(f"書面による指定の期限（{when} JST）を過ぎています。この発言は守秘義務の対象外です / the period for "
                       f"a written designation ended ({when} JST): the statement is outside the duty",
                       field="text")
    if why is not None:
        _refuse(session, why, AuditTag.COUNCIL_STATEMENT_REFUSED, now=now, actor=actor,
                subject=service._subject(council), data={"statement_id": row.id, "meeting_id": row.meeting_id})
    body = clean_text(text, "text", max_length=20_000)
    row.designation_sealed = sealed.seal_text(store, sealed.council_scope(council.id), body,
                                              label=designation_label(row.id))
    row.designated_at = now
    row.designated_by_id = actor.user_id
    session.flush()
    _audit(session, AuditTag.COUNCIL_STATEMENT_DESIGNATE, now=now, actor=actor, subject=service._subject(council),
           data={"statement_id": row.id, "meeting_id": row.meeting_id, "text_sha256": rules.sha256_text(body),
                 "deadline": row.designation_deadline.isoformat() if row.designation_deadline else None})
    return _view(session, store, council, standing, row, actor=actor, now=now)


def _open(session: Session, store: SealedDeps, council: Council, value: bytes, label: str, *, actor: Principal,
          now: datetime, statement_id: int) -> str:
    return sealed.open_text(session, store, sealed.council_scope(council.id), value, label=label, actor=actor,
                            now=now, refusal=sealed.Refusal(tag=AuditTag.COUNCIL_INTEGRITY_FAILED,
                                                            subject=service._subject(council),
                                                            data={"statement_id": statement_id}))


def _view(session: Session, store: SealedDeps, council: Council, standing: policy.Standing, row: OralStatement, *,
          actor: Principal, now: datetime) -> StatementView:
    """Open one statement for a council-content reader and decide what they may do with it."""
    state = rules.statement_state(stated_confidential=row.stated_confidential, designated_at=row.designated_at,
                                  deadline=row.designation_deadline, now=now)
    designation = None if row.designation_sealed is None else _open(
        session, store, council, row.designation_sealed, designation_label(row.id), actor=actor, now=now,
        statement_id=row.id)
    return StatementView(
        row=row, state=state, designation=designation,
        summary=_open(session, store, council, row.summary_sealed, summary_label(row.id), actor=actor, now=now,
                      statement_id=row.id),
        may_designate=state == rules.StatementState.AWAITING and policy.can_designate_statement(
            actor, standing, speaker_id=row.speaker_id))


def meeting_statements(session: Session, *, council_id: int, meeting_id: int, actor: Principal, now: datetime,
                       store: SealedDeps) -> list[StatementView]:
    """Return a meeting's oral statements opened for a council-content reader (404 otherwise; read audited, I8)."""
    council, standing = service._content(session, council_id, actor)
    require_visible(content_policy.can_read_council_text(actor, standing), "meeting")
    meeting = service._meeting(session, council, meeting_id)
    views = [_view(session, store, council, standing, row, actor=actor, now=now)
             for row in repo.statements(session, meeting.id)]
    if views:
        _audit(session, AuditTag.COUNCIL_STATEMENT_READ, now=now, actor=actor, subject=service._subject(council),
               data={"meeting_id": meeting.id, "statement_ids": [v.row.id for v in views]})
    return views


def open_statement(session: Session, *, council_id: int, statement_id: int, actor: Principal, now: datetime,
                   store: SealedDeps) -> tuple[Council, policy.Standing, StatementView]:
    """Return one oral statement opened for a council-content reader, with the reader's standing (404 otherwise,
    I7; the read is audited, I8): the statement's own page, where exclusion claims on it are filed (issue 13)."""
    council, standing = service._content(session, council_id, actor)
    require_visible(content_policy.can_read_council_text(actor, standing), "statement")
    row = repo.statement(session, council.id, statement_id)
    if row is None:
        raise NotFound("発言が見つかりません / statement not found")
    view = _view(session, store, council, standing, row, actor=actor, now=now)
    _audit(session, AuditTag.COUNCIL_STATEMENT_READ, now=now, actor=actor, subject=service._subject(council),
           data={"meeting_id": row.meeting_id, "statement_ids": [row.id]})
    return council, standing, view


def statement_for_claim(session: Session, *, council_id: int, statement_id: int,
                        actor: Principal) -> tuple[Council, OralStatement]:
    """Return a statement a council-content reader may name in an exclusion claim (404 otherwise, I7)."""
    council, standing = service._content(session, council_id, actor)
    require_visible(content_policy.can_read_council_text(actor, standing), "statement")
    row = repo.statement(session, council.id, statement_id)
    if row is None:
        raise NotFound("発言が見つかりません / statement not found")
    return council, row


def remind_statements(session: Session, *, now: datetime) -> int:
    """Job: once, a week before the deadline, remind the speaker and the secretariat of an undesignated
    statement made orally as confidential (issue 13). Returns how many people were reminded."""
    sent = 0
    for row in repo.statements_due(session, now + rules.STATEMENT_REMINDER_BEFORE):
        if not rules.statement_reminder_due(deadline=row.designation_deadline, designated_at=row.designated_at,
                                            reminded_at=row.reminded_at, now=now):
            continue
        row.reminded_at = now
        council = repo.council_by_id(session, row.council_id)
        if council is None or council.state not in (CouncilState.ESTABLISHED, CouncilState.ACTIVE):
            continue
        assert row.designation_deadline is not None
        people = {row.speaker_id} | {m.user_id for m in repo.current_members(session, council.id)
                                     if m.role in policy.MANAGER_ROLES}
        _audit(session, AuditTag.COUNCIL_STATEMENT_REMIND, now=now, actor=None, subject=service._subject(council),
               data={"statement_id": row.id, "meeting_id": row.meeting_id, "user_ids": sorted(people)})
        notices.statement_designation_due(session, council, meeting_id=row.meeting_id, user_ids=people,
                                          deadline=row.designation_deadline, now=now)
        sent += len(people)
    return sent
