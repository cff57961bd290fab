"""Reading the audit log as a person does (issue 14): filters, one page of named entries, filtered exports.

The page, the API (``GET /api/v1/audit``) and the CSV/Excel exports all go through :func:`parse_query`
and :func:`to_filter`, so the three narrow the log the same way; the narrowing is SQL
(:func:`banso.audit.service.filtered`), never a walk through the log in Python. Who sees what is the
policy's: people who may not read the whole log see only their own entries (A1, I7).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from banso.audit import service
from banso.audit.directory import AuditDirectory, PersonLabel, SubjectLabel
from banso.audit.models import AuditEntry
from banso.audit.tags import LABELS, AuditTag, group_of, grouped
from banso.authz.policies import accounts as policy
from banso.authz.principal import Principal
from banso.kit.clock import JST
from banso.kit.dates import check_moment
from banso.kit.errors import Forbidden, ValidationFailed
from banso.kit.text import clean_text

MAX_TEXT = 200
MAX_SUBJECT = 200
EXPORT_LIMIT = 100_000  # rows in one export: a wider view is narrowed first (or taken with `banso audit export`)


@dataclass(frozen=True)
class AuditQuery:
    """The filters a reader chose (page form, API query, export link): raw choices, checked."""

    actor: int | None = None
    org: int | None = None
    tags: tuple[str, ...] = ()
    group: str | None = None
    subject: str | None = None
    day_from: date | None = None
    day_to: date | None = None
    text: str | None = None
    system: bool = False

    def params(self) -> list[tuple[str, str]]:
        """Return the query-string pairs that choose these filters again (pagination and export links)."""
        pairs: list[tuple[str, str]] = []
        if self.actor is not None:
            pairs.append(("actor", str(self.actor)))
        if self.org is not None:
            pairs.append(("org", str(self.org)))
        pairs += [("tag", t) for t in self.tags]
        for name, value in (("group", self.group), ("subject", self.subject), ("q", self.text)):
            if value:
                pairs.append((name, value))
        if self.day_from is not None:
            pairs.append(("from", self.day_from.isoformat()))
        if self.day_to is not None:
            pairs.append(("to", self.day_to.isoformat()))
        if self.system:
            pairs.append(("system", "1"))
        return pairs

    def query_string(self, **extra: str | int) -> str:
        """Return ``params`` (plus ``extra``) as a URL query string, without the leading ``?``."""
        return urlencode(self.params() + [(k, str(v)) for k, v in extra.items()])

    def as_data(self) -> dict[str, Any]:
        """Return the chosen filters as the export's audit entry records them."""
        data: dict[str, Any] = {}
        for name, value in self.params():
            data.setdefault(name, []).append(value)
        return {k: v if len(v) > 1 or k == "tag" else v[0] for k, v in data.items()}

    @property
    def narrowed(self) -> bool:
        """Return True when any filter is chosen (the page then offers to clear them)."""
        return bool(self.params())


def _day(value: str | None, name: str) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(f"{name} は YYYY-MM-DD 形式の日付で指定してください / "
                               f"{name} must be a date as YYYY-MM-DD", field=name) from None
    check_moment(day, name)
    return day


def _number(value: str | None, name: str) -> int | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise ValidationFailed(f"{name} は番号で指定してください / {name} must be a number", field=name)
    return int(text)


def _text(value: str | None, name: str, most: int) -> str | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > most:
        raise ValidationFailed(f"{name} は {most} 文字以内で指定してください / {name} must be at most {most} characters",
                               field=name)
    # O1: the one text rule for a one-line value; NUL and other controls are refused, not searched for
    # (SQLite's LIKE stops at NUL, so "%\x00%" matched every entry).
    return clean_text(text, name, max_length=most, line=True)


def parse_query(*, actor: str | None = None, org: str | None = None, tags: list[str] | None = None,
                group: str | None = None, subject: str | None = None, day_from: str | None = None,
                day_to: str | None = None, text: str | None = None, system: str | None = None) -> AuditQuery:
    """Check the raw filter values of a page or API request (a 422 names the field, Japanese first)."""
    chosen = tuple(dict.fromkeys(t.strip() for t in (tags or []) if t and t.strip()))
    unknown = [t for t in chosen if t not in LABELS]
    if unknown:
        raise ValidationFailed(f"不明なイベント種別です: {unknown[0]} / unknown event type: {unknown[0]}", field="tag")
    group_value = _text(group, "group", 40)
    if group_value is not None and group_value not in dict(grouped()):
        raise ValidationFailed(f"不明なイベント分類です: {group_value} / unknown event group: {group_value}",
                               field="group")
    query = AuditQuery(actor=_number(actor, "actor"), org=_number(org, "org"), tags=chosen, group=group_value,
                       subject=_text(subject, "subject", MAX_SUBJECT), day_from=_day(day_from, "from"),
                       day_to=_day(day_to, "to"), text=_text(text, "q", MAX_TEXT),
                       system=(system or "").strip().lower() in {"1", "true", "on", "yes"})
    if query.day_from and query.day_to and query.day_from > query.day_to:
        raise ValidationFailed("開始日は終了日以前の日付にしてください / from must not be after to", field="from")
    return query


def _jst_start(day: date) -> datetime:
    """Return the UTC instant at which ``day`` begins in Japan (the page's dates are JST dates)."""
    return datetime.combine(day, time(), tzinfo=JST)


def to_filter(session: Session, directory: AuditDirectory, viewer: Principal, query: AuditQuery) -> service.EntryFilter:
    """Return the SQL filter for ``query`` as ``viewer`` may see it (own entries only, unless an auditor)."""
    actor_ids: tuple[int, ...] | None = None
    if query.org is not None:
        actor_ids = directory.member_ids(session, query.org)
    if query.actor is not None:
        actor_ids = (query.actor,) if actor_ids is None or query.actor in actor_ids else ()
    tags: tuple[str, ...] | None = query.tags or None
    if query.group is not None:
        in_group = dict(grouped())[query.group]
        tags = tuple(t for t in tags if t in in_group) if tags else tuple(in_group)  # () matches nothing
    return service.EntryFilter(
        actor_ids=actor_ids, visible_to=policy.audit_entry_filter_actor(viewer), tags=tags, subject=query.subject,
        since=_jst_start(query.day_from) if query.day_from else None,
        until=_jst_start(query.day_to + timedelta(days=1)) if query.day_to else None,
        text=query.text, hide_system=not (query.system or query.tags))


@dataclass(frozen=True)
class NamedEntry:
    """An entry with its actor and subject in words, for a page or an export row."""

    entry: AuditEntry
    actor: PersonLabel | None
    subject: SubjectLabel | None

    @property
    def group(self) -> str:
        """Return the event group (the tag's source)."""
        return group_of(self.entry.tag)


@dataclass(frozen=True)
class AuditPage:
    """One page of the filtered log."""

    query: AuditQuery
    rows: list[NamedEntry]
    older: int | None  # the ``before`` of the next (older) page, None on the last page
    sees_all: bool
    choices: list[Any] = field(default_factory=list)  # organisations with their people (pick lists)


def _named(session: Session, directory: AuditDirectory, viewer: Principal, entries: list[AuditEntry],
           locale: str) -> list[NamedEntry]:
    people = directory.people(session, {e.actor_id for e in entries if e.actor_id is not None}, locale=locale)
    subjects = directory.subjects(session, viewer, {e.subject for e in entries if e.subject}, locale=locale)
    return [NamedEntry(entry=e, actor=people.get(e.actor_id) if e.actor_id is not None else None,
                       subject=subjects.get(e.subject) if e.subject else None) for e in entries]


def name_entry(session: Session, directory: AuditDirectory, viewer: Principal, entry: AuditEntry, *,
               locale: str) -> NamedEntry:
    """Return one entry with its actor and subject named for ``viewer`` (the entry page)."""
    return _named(session, directory, viewer, [entry], locale)[0]


def read_page(session: Session, directory: AuditDirectory, viewer: Principal, query: AuditQuery, *,
              before: int | None, size: int, locale: str) -> AuditPage:
    """Return one page of the entries ``query`` selects that ``viewer`` may see, newest first, named."""
    flt = to_filter(session, directory, viewer, query)
    entries = service.search_entries(session, flt, before=before, limit=size + 1)
    older = entries[size - 1].seq if len(entries) > size else None
    sees_all = policy.audit_entry_filter_actor(viewer) is None
    choices = directory.choices(session, locale=locale) if policy.can_filter_audit_by_people(viewer) else []
    return AuditPage(query=query, rows=_named(session, directory, viewer, entries[:size], locale), older=older,
                     sees_all=sees_all, choices=choices)


def export_entries(session: Session, directory: AuditDirectory, viewer: Principal, query: AuditQuery, *,
                   fmt: str, now: datetime, locale: str) -> list[NamedEntry]:
    """Return every entry of the filtered view for an export, and audit the export itself (A1)."""
    if not policy.can_export_audit(viewer):
        raise Forbidden("監査ログを出力する権限がありません / you may not export the audit log")
    flt = to_filter(session, directory, viewer, query)
    entries = list(service.iter_filtered(session, flt, most=EXPORT_LIMIT + 1))
    if len(entries) > EXPORT_LIMIT:
        raise ValidationFailed(f"出力は {EXPORT_LIMIT:,} 件までです。条件を絞ってください / an export holds at most "
                               f"{EXPORT_LIMIT:,} entries: narrow the filters", field="q")
    named = _named(session, directory, viewer, entries, locale)
    # Recorded after the rows are read, so the export never lists its own entry.
    service.record_for(session, AuditTag.LOG_EXPORT, now=now, actor=viewer, subject="audit:log",
                       data={"format": fmt, "rows": len(entries), "filters": query.as_data()})
    return named

