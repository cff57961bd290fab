"""Pure rules of notifications: what a valid notification is, which subjects match, and the e-mails.

No session, no clock, no settings: times, sender and base URL are passed in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr

from banso.kit.clock import to_jst

TITLE_MAX = 300
BODY_MAX = 10_000
LINK_MAX = 500
SUBJECT_MAX = 200
KIND_MAX = 64
# The daily digest goes out from this JST hour on (once per JST calendar day, I5-style reminders
# and the like should not wake people at midnight).
DIGEST_HOUR_JST = 8
DIGEST_WINDOW = timedelta(days=1)
# After this many failed attempts an immediate e-mail is given up (it stays in the inbox and digest).
MAX_EMAIL_ATTEMPTS = 5
SEPARATOR = "-" * 24 + " English " + "-" * 24

_KIND = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
# "<type>:<id>" optionally narrowed: "council:12", "council:12:meeting:3", "item:5".
_SUBJECT = re.compile(r"^[a-z][a-z0-9_]*:[A-Za-z0-9_.-]+(:[a-z][a-z0-9_]*:[A-Za-z0-9_.-]+)*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\s]")


class Kind:
    """Well-known notification kinds (``"<domain>.<event>"``); other domains may add their own."""

    COUNCIL_CONSENT_REQUESTED = "council.consent_requested"
    COUNCIL_ESTABLISHED = "council.established"
    COUNCIL_PLEDGE_REQUIRED = "council.pledge_required"
    COUNCIL_MEETING_SCHEDULED = "council.meeting_scheduled"
    COUNCIL_ACTION_ITEM_ASSIGNED = "council.action_item_assigned"
    COUNCIL_ACTION_ITEM_OVERDUE = "council.action_item_overdue"
    COUNCIL_MATERIAL_REQUESTED = "council.material_requested"
    INFO_DESIGNATION_VOTE = "info.designation_vote"
    INFO_DESIGNATION_EXPIRING = "info.designation_expiring"
    INFO_NONDISCLOSURE_REQUEST = "info.nondisclosure_request"


def problems(
    *, kind: str, title_ja: str, title_en: str, body_ja: str, body_en: str, link: str | None, subject: str
) -> list[tuple[str, str]]:
    """Return (field, message) for everything wrong with a notification; empty when it is valid."""
    found: list[tuple[str, str]] = []
    if len(kind) > KIND_MAX or not _KIND.match(kind):
        found.append(("kind", f"kind must look like 'council.consent_requested' (got {kind!r})"))
    for field, value in (("title_ja", title_ja), ("title_en", title_en)):
        if not value.strip():
            found.append((field, "title must not be empty (both languages are required)"))
        elif len(value.strip()) > TITLE_MAX or "\n" in value.strip() or "\r" in value:
            found.append((field, f"title must be one line of at most {TITLE_MAX} characters"))
    for field, value in (("body_ja", body_ja), ("body_en", body_en)):
        if len(value) > BODY_MAX:
            found.append((field, f"body must be at most {BODY_MAX} characters"))
    if link is not None and not is_local_path(link):
        found.append(("link", "link must be a local path such as /councils/12"))
    if len(subject) > SUBJECT_MAX or not _SUBJECT.match(subject):
        found.append(("subject", f"subject must look like 'council:12' (got {subject!r})"))
    return found


def is_local_path(link: str) -> bool:
    """Return True for a path on this site (no scheme, no host, no whitespace): no open redirects."""
    return (
        0 < len(link) <= LINK_MAX
        and link.startswith("/")
        and not link.startswith("//")
        and "\\" not in link
        and not _CONTROL.search(link)
    )


def is_valid_subject(subject: str) -> bool:
    """Return True when ``subject`` is a well-formed subject reference."""
    return len(subject) <= SUBJECT_MAX and bool(_SUBJECT.match(subject))


def subject_covers(prefix: str, subject: str | None) -> bool:
    """Return True if hiding ``prefix`` hides ``subject`` ("council:12" covers "council:12:meeting:3")."""
    return subject is not None and (subject == prefix or subject.startswith(prefix + ":"))


def jst_day(now: datetime) -> date:
    """Return the JST calendar day of ``now``."""
    return to_jst(now).date()


def digest_due(now: datetime, *, send_hour: int = DIGEST_HOUR_JST) -> bool:
    """Return True once the JST clock has reached the digest hour of the day."""
    return to_jst(now).hour >= send_hour


# ---------------------------------------------------------------------------------------------
# E-mails: UTF-8, Japanese first with English below, subject in the recipient's language.


@dataclass(frozen=True)
class Recipient:
    """Who an e-mail goes to."""

    email: str
    name_ja: str
    name_en: str
    locale: str


@dataclass(frozen=True)
class Letter:
    """The parts of a notification that go into an e-mail."""

    kind: str
    title_ja: str
    title_en: str
    body_ja: str
    body_en: str
    link: str | None
    created_at: datetime


def _url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _jst_ja(value: datetime) -> str:
    local = to_jst(value)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _jst_en(value: datetime) -> str:
    return f"{to_jst(value):%Y-%m-%d %H:%M} JST"


def _envelope(*, to: Recipient, sender: str, subject: str, now: datetime, text: str, kind: str) -> EmailMessage:
    """Return a UTF-8 text/plain message with the headers every banso e-mail carries."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    name = to.name_en if to.locale == "en" and to.name_en else to.name_ja
    message["To"] = Address(display_name=name, addr_spec=to.email)
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Content-Language"] = "ja, en"
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message["X-Auto-Response-Suppress"] = "All"
    message["X-Banso-Kind"] = kind
    # base64 keeps Japanese intact through relays without 8BITMIME.
    message.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    return message


def notification_email(*, letter: Letter, to: Recipient, sender: str, base_url: str, now: datetime) -> EmailMessage:
    """Return the e-mail for one notification."""
    subject = f"[banso] {letter.title_en}" if to.locale == "en" else f"【伴走】{letter.title_ja}"
    inbox = _url(base_url, "/inbox")
    ja = [letter.title_ja, "", letter.body_ja.strip()]
    en = [letter.title_en, "", letter.body_en.strip()]
    if letter.link:
        ja += ["", f"詳細: {_url(base_url, letter.link)}"]
        en += ["", f"Details: {_url(base_url, letter.link)}"]
    ja += ["", f"通知日時: {_jst_ja(letter.created_at)}", "", "――",
           "このメールは伴走（banso）から自動送信されています。返信はできません。", f"通知の一覧: {inbox}"]
    en += ["", f"Sent: {_jst_en(letter.created_at)}", "", "--",
           "This message was sent automatically by banso; replies are not read.", f"Your inbox: {inbox}"]
    text = "\n".join([*ja, "", SEPARATOR, "", *en]) + "\n"
    return _envelope(to=to, sender=sender, subject=subject, now=now, text=text, kind=letter.kind)


def digest_email(
    *, letters: Sequence[Letter], to: Recipient, day: date, sender: str, base_url: str, now: datetime
) -> EmailMessage:
    """Return the daily digest (日次ダイジェスト) of a person's unread notifications of the last day."""
    n = len(letters)
    day_ja = f"{day.year}年{day.month}月{day.day}日"
    if to.locale == "en":
        subject = f"[banso] {n} unread notification{'s' if n != 1 else ''} ({day.isoformat()})"
    else:
        subject = f"【伴走】未読の通知 {n}件（{day_ja}）"
    inbox = _url(base_url, "/inbox")
    ja = [f"{to.name_ja} 様", "", f"過去1日間に届いた未読の通知が {n} 件あります。", ""]
    en = [f"Dear {to.name_en or to.name_ja},", "",
          f"You have {n} unread notification{'s' if n != 1 else ''} from the last day.", ""]
    for letter in letters:
        ja += [f"■ {letter.title_ja}", f"  {_jst_ja(letter.created_at)}"]
        en += [f"* {letter.title_en}", f"  {_jst_en(letter.created_at)}"]
        if letter.body_ja.strip():
            ja += [f"  {line}" for line in letter.body_ja.strip().splitlines()]
        if letter.body_en.strip():
            en += [f"  {line}" for line in letter.body_en.strip().splitlines()]
        if letter.link:
            ja.append(f"  {_url(base_url, letter.link)}")
            en.append(f"  {_url(base_url, letter.link)}")
        ja.append("")
        en.append("")
    ja += [f"通知の一覧: {inbox}", "", "――", "このメールは伴走（banso）から1日1回自動送信されています。"]
    en += [f"Your inbox: {inbox}", "", "--", "banso sends this summary at most once a day."]
    text = "\n".join([*ja, "", SEPARATOR, "", *en]) + "\n"
    return _envelope(to=to, sender=sender, subject=subject, now=now, text=text, kind="digest.daily")
