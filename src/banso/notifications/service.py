"""Notification services: notify, the inbox, hiding on loss of access, and the e-mail jobs.

=====================================================================================
CONTRACT FOR CALLERS OF ``notify`` (read this before sending anything)
=====================================================================================
A notification's title and body are rendered by the caller at creation and stored as
they are. The notifications package does NOT check access: it cannot know who may see
a council, an item or a designation. Therefore:

1. Notify only people who may know everything the title and body say, at the moment of
   sending (councils: current members with a valid pledge; designated items: people in
   the designation's scope; votes on designations: only the proposal, never the content, I4).
2. Put no more into the text than the least-privileged recipient may see. When in doubt,
   write "a new item was shared in council X" and let the link lead to the page, which
   checks access itself (and answers 404 when it must, I7).
3. Always pass ``subject`` (e.g. ``"council:12"`` or ``"council:12:item:5"``) and call
   ``hide_for_subject`` for a person the moment they lose access (leaving the council, a
   lapsed pledge, a narrowed scope). Hidden notifications are never listed, counted,
   e-mailed or digested again; the rows stay for the record.
4. E-mails leave the system: ``email_now=True`` only for text that may sit in a mailbox
   outside banso. Never put designated content into a notification.
=====================================================================================

Services never commit; the request or job that owns the unit of work does, so e-mails only go
out for notifications that were committed (the mail job reads them from the table: an outbox).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from banso.accounts.models import User
from banso.authz import gate
from banso.authz.policies.councils import Standing
from banso.authz.principal import Principal
from banso.kit.errors import NotFound, ValidationFailed
from banso.kit.mail import Mailer
from banso.notifications import repository as repo
from banso.notifications import rules
from banso.notifications.mailer import MailDeliveryError
from banso.notifications.models import DigestSent, Notification

log = logging.getLogger("banso.notifications")

DEFAULT_SENDER = "banso <noreply@localhost>"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
INBOX_MAX = 200
ID_MAX = 2**31 - 1  # ids are 32-bit integers on PostgreSQL; larger ones cannot exist
EMAIL_BATCH = 200


@dataclass
class MailRun:
    """What one run of an e-mail job did."""

    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TaskNotices:
    """Completes the notices whose task is done (issue 14): the composition root knows the tasks and fills it in.

    ``settle(session, reader, now)`` marks read the reader's notices that asked for a task no longer open.
    """

    settle: Callable[[Session, Principal, datetime], int]


def settle_done(collaborators: object, session: Session, reader: Principal, now: datetime) -> int:
    """Run the wired :class:`TaskNotices` for ``reader`` before their inbox is listed (nothing when none is wired)."""
    get = getattr(collaborators, "get", None)
    try:
        settler = get(TaskNotices) if get is not None else None
    except LookupError:
        return 0
    return settler.settle(session, reader, now) if settler is not None else 0


# ---------------------------------------------------------------------------------------------
# Creating


def notify(
    session: Session,
    *,
    recipient_ids: Iterable[int],
    kind: str,
    title_ja: str,
    title_en: str,
    body_ja: str,
    body_en: str,
    link: str | None,
    subject: str,
    now: datetime,
    email_now: bool = False,
) -> list[Notification]:
    """Store one notification per recipient (see the module CONTRACT: the caller decides who may know)."""
    found = rules.problems(kind=kind, title_ja=title_ja, title_en=title_en, body_ja=body_ja, body_en=body_en,
                           link=link, subject=subject)
    if found:
        field_name, message = found[0]
        raise ValidationFailed(message, field=field_name)
    ids = list(dict.fromkeys(int(i) for i in recipient_ids))  # unique, in the caller's order
    users = repo.users_by_ids(session, ids)
    unknown = [i for i in ids if i not in users]
    if unknown:
        raise ValidationFailed(f"宛先に存在しない利用者が含まれています（{unknown}） / unknown recipient ids {unknown}", field="recipient_ids")
    created: list[Notification] = []
    for user_id in ids:
        if not users[user_id].is_active:
            continue  # a disabled person receives nothing
        note = Notification(
            recipient_id=user_id, kind=kind, title_ja=title_ja.strip(), title_en=title_en.strip(),
            body_ja=body_ja.strip(), body_en=body_en.strip(), link=link, subject=subject, created_at=now,
            read_at=None, hidden=False, hidden_at=None, email_now=email_now, emailed_at=None, email_attempts=0,
            email_error=None, digested_at=None,
        )
        session.add(note)
        created.append(note)
    session.flush()
    return created


# ---------------------------------------------------------------------------------------------
# The inbox (only ever the caller's own, visible notifications)


def _knowable(session: Session, user_id: int, actor: Principal | None,
              notes: Iterable[Notification], known: Mapping[int, Standing | None] | None = None) -> list[Notification]:
    """Keep the notices whose subject the reader may still be told about (I7, I12: the gate decides again at
    every read, because access can end after a notice was written: leaving, a second-factor reset, a token
    without council scope, a bylaws change awaiting a new pledge)."""
    notes = list(notes)
    if not notes:
        return notes
    who = actor if actor is not None else _as_recipient(session, user_id)
    if who is None:
        return []
    allowed = gate.knowable_subjects(session, who, (n.subject for n in notes), known=known)
    return [n for n in notes if n.subject in allowed]


def _as_recipient(session: Session, user_id: int) -> Principal | None:
    user = session.get(User, user_id)
    return gate.recipient(user) if user is not None and user.is_active else None


def inbox(
    session: Session, *, user_id: int, unread_only: bool = False, limit: int = 50, before_id: int | None = None,
    actor: Principal | None = None,
) -> list[Notification]:
    """Return a person's visible notifications, newest first (``before_id`` pages to older ones).

    ``actor`` is the reader as authenticated now (token scopes, second factor); without it the person is judged
    as signed in with their own second factor.
    """
    if before_id is not None and not 0 < before_id <= ID_MAX:
        before_id = None
    rows = repo.list_for(session, user_id=user_id, unread_only=unread_only,
                         limit=max(1, min(limit, INBOX_MAX)), before_id=before_id)
    return _knowable(session, user_id, actor, rows)


def unread_count(session: Session, *, user_id: int, actor: Principal | None = None,
                 known: Mapping[int, Standing | None] | None = None) -> int:
    """Return how many visible notifications a person has not read (the same gate as the inbox).

    ``known``: ``actor``'s standings already loaded in this request, by council id (never across requests).
    """
    return len(_knowable(session, user_id, actor, repo.unread(session, user_id=user_id), known))


def unread_notes(session: Session, *, user_id: int, actor: Principal | None = None,
                 known: Mapping[int, Standing | None] | None = None) -> list[Notification]:
    """Return a person's visible unread notifications the gate still lets them know of (the menu, issue 14)."""
    return _knowable(session, user_id, actor, repo.unread(session, user_id=user_id), known)


def mark_done(session: Session, notes: Iterable[Notification], *, now: datetime) -> int:
    """Mark these notices read because the task they asked for is done (issue 14); return how many."""
    count = 0
    for note in notes:
        if note.read_at is None:
            note.read_at = now
            count += 1
    if count:
        session.flush()
    return count


def get(session: Session, *, user_id: int, notification_id: int, actor: Principal | None = None) -> Notification:
    """Return one of a person's visible notifications; anyone else's, or a hidden one, is 404 (I7)."""
    note = None
    if 0 < notification_id <= ID_MAX:
        note = repo.get_for(session, user_id=user_id, notification_id=notification_id)
    if note is None or not _knowable(session, user_id, actor, [note]):
        raise NotFound("お知らせが見つかりません / notification not found")
    return note


def mark_read(session: Session, *, user_id: int, notification_id: int, now: datetime,
              actor: Principal | None = None) -> Notification:
    """Mark one of a person's notifications read (again is harmless: the first time is kept)."""
    note = get(session, user_id=user_id, notification_id=notification_id, actor=actor)
    if note.read_at is None:
        note.read_at = now
        session.flush()
    return note


def mark_all_read(session: Session, *, user_id: int, now: datetime) -> int:
    """Mark every visible unread notification of a person read; return how many."""
    return repo.mark_all_read(session, user_id=user_id, now=now)


def hide_for_subject(session: Session, *, user_id: int, subject: str, now: datetime | None = None) -> int:
    """Hide a person's notifications about ``subject`` and everything under it when they lose access (I7).

    ``"council:12"`` hides ``"council:12"`` and ``"council:12:meeting:3"``, not ``"council:123"``.
    The rows are kept (hidden, not deleted); they are never shown, counted or e-mailed again.
    """
    if not rules.is_valid_subject(subject):
        raise ValidationFailed(f"subject は council:12 の形で指定してください（{subject!r}） / subject must look like 'council:12' (got {subject!r})", field="subject")
    return repo.hide_subject(session, user_id=user_id, subject=subject, now=now)


# ---------------------------------------------------------------------------------------------
# E-mail jobs (called by banso.app.jobs; the job commits after each call)


def _recipient(user: User) -> rules.Recipient:
    return rules.Recipient(email=user.email, name_ja=user.name_ja, name_en=user.name_en, locale=user.locale)


def _letter(note: Notification) -> rules.Letter:
    return rules.Letter(kind=note.kind, title_ja=note.title_ja, title_en=note.title_en, body_ja=note.body_ja,
                        body_en=note.body_en, link=note.link, created_at=note.created_at)


def send_pending_email(
    session: Session,
    *,
    mailer: Mailer,
    now: datetime,
    sender: str = DEFAULT_SENDER,
    base_url: str = DEFAULT_BASE_URL,
) -> MailRun:
    """E-mail every committed ``email_now`` notification not yet sent, read or hidden (one e-mail each).

    A failed delivery is counted and retried on the next run, up to ``rules.MAX_EMAIL_ATTEMPTS``.
    """
    run = MailRun()
    for note, user in repo.pending_email(session, max_attempts=rules.MAX_EMAIL_ATTEMPTS, limit=EMAIL_BATCH):
        if not _knowable(session, user.id, gate.recipient(user), [note]):
            # I7, I12: access ended after the notice was written; the e-mail is withheld for good.
            note.email_attempts = rules.MAX_EMAIL_ATTEMPTS
            note.email_error = "withheld: the recipient may no longer know of its subject"
            continue
        message = rules.notification_email(letter=_letter(note), to=_recipient(user), sender=sender,
                                           base_url=base_url, now=now)
        try:
            mailer.send(message)
        except MailDeliveryError as exc:
            note.email_attempts += 1
            note.email_error = str(exc)[:500]
            run.failed += 1
            run.errors.append(f"notification {note.id}: {exc}")
            log.warning("e-mail for notification %s failed (attempt %s): %s", note.id, note.email_attempts, exc)
            continue
        note.emailed_at = now
        note.email_attempts += 1
        note.email_error = None
        run.sent += 1
    session.flush()
    return run


def send_daily_digest(
    session: Session,
    *,
    mailer: Mailer,
    now: datetime,
    sender: str = DEFAULT_SENDER,
    base_url: str = DEFAULT_BASE_URL,
    send_hour: int = rules.DIGEST_HOUR_JST,
) -> MailRun:
    """Send each person one digest of their unread notifications of the last day, at most once per JST day.

    Nothing is sent before ``send_hour`` JST. People with nothing unread get no e-mail (and may still get
    one later that day). A notification goes into at most one digest.
    """
    run = MailRun()
    if not rules.digest_due(now, send_hour=send_hour):
        return run
    day = rules.jst_day(now)
    rows = repo.digest_candidates(session, since=now - rules.DIGEST_WINDOW, until=now)
    by_user: dict[int, tuple[User, list[Notification]]] = {}
    for note, user in rows:
        by_user.setdefault(user.id, (user, []))[1].append(note)
    for user_id, (user, notes) in list(by_user.items()):
        kept = _knowable(session, user_id, gate.recipient(user), notes)  # I7, I12: decided again when sent
        if kept:
            by_user[user_id] = (user, kept)
        else:
            del by_user[user_id]
    already = repo.digest_sent_on(session, user_ids=list(by_user), day=day)
    for user_id, (user, notes) in by_user.items():
        if user_id in already:
            continue
        # Claim the day first: a concurrent job run blocks on the unique key and then skips (no double e-mail).
        claim = DigestSent(user_id=user_id, day=day, sent_at=now, count=len(notes))
        try:
            with session.begin_nested():
                session.add(claim)
                session.flush()
        except IntegrityError:
            continue
        message = rules.digest_email(letters=[_letter(n) for n in notes], to=_recipient(user), day=day,
                                     sender=sender, base_url=base_url, now=now)
        try:
            mailer.send(message)
        except MailDeliveryError as exc:
            session.delete(claim)  # not sent: the next run may try again today
            session.flush()
            run.failed += 1
            run.errors.append(f"digest for user {user_id}: {exc}")
            log.warning("digest for user %s failed: %s", user_id, exc)
            continue
        for note in notes:
            note.digested_at = now
        run.sent += 1
    session.flush()
    return run
