"""Shell pages over several domains: the front door, the person's home (what waits for them) and the menu counts.

The home lists the open tasks of :mod:`banso.app.tasks` (issue 14), what falls due in the next 14 days and
recent activity in the councils whose content the person may read; the account and session details moved to
the account page (``/account``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, object_session

from banso.accounts import repository as accounts_repo
from banso.app import tasks as task_service
from banso.app.audit_directory import DomainDirectory
from banso.audit import service as audit
from banso.audit.directory import PersonLabel
from banso.audit.models import AuditEntry
from banso.authz.permissions import Permission
from banso.authz.policies import councils as council_policy
from banso.authz.policies.councils import Standing
from banso.authz.principal import Principal
from banso.councils import repository as council_repo
from banso.councils.models import Council, Meeting
from banso.kit.clock import as_utc
from banso.web.deps import ApiUser, Auth, Ctx, Db, get_ctx, requires
from banso.web.pages import PageUser
from banso.web.templating import env, render, translator_for

log = logging.getLogger("banso.app")
router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/me", tags=["home"])

RECENT_ENTRIES = 10
# Who read, downloaded or exported what, and refused attempts, stay the auditor's (audit_entry_filter_actor): the
# home's activity shows what was done in the council, not who looked at it.
_PRIVATE_ACTIONS = ("refused", "failed", ":read", ":download", ":export", ":view")


@router.get("/")
def front_door(auth: Auth) -> RedirectResponse:
    """Send signed-in people to their home and everyone else to the login page."""
    return RedirectResponse("/dashboard" if auth.principal is not None else "/login", status_code=303)


@dataclass(frozen=True)
class Activity:
    """One entry of recent activity in a council: what happened, who did it (name, not e-mail), where."""

    entry: AuditEntry
    actor: PersonLabel | None
    council: Council


@dataclass(frozen=True)
class HomePage:
    """What the home shows one person."""

    tasks: task_service.TaskList
    due_soon: list[task_service.Task]
    meetings: list[tuple[Meeting, Council]]
    activity: list[Activity]
    settled: int


def _readable(actor: Principal, rows: list[tuple[Council, Standing]]) -> dict[int, Council]:
    return {c.id: c for c, s in rows if council_policy.can_read_content(actor, s)}


def _activity(session: Session, readable: Mapping[int, Council], locale: str) -> list[Activity]:
    """Recent entries about councils whose content the person reads (I12: the council policy decided); reads,
    downloads, exports and refusals left out (who looked at what is the auditor's to see)."""
    entries = [e for e in audit.list_about(session, subjects=[f"council:{i}" for i in sorted(readable)],
                                           limit=RECENT_ENTRIES * 3) if not e.tag.endswith(_PRIVATE_ACTIONS)]
    entries = entries[:RECENT_ENTRIES]
    people = DomainDirectory().people(session, {e.actor_id for e in entries if e.actor_id is not None},
                                      locale=locale)
    return [Activity(entry=e, actor=people.get(e.actor_id) if e.actor_id is not None else None,
                     council=readable[int((e.subject or "council:0").split(":")[1])]) for e in entries]


def home_page(session: Session, *, actor: Principal, now: datetime, locale: str) -> HomePage:
    """Return the person's home: open tasks (inbox notices of done tasks marked read), due soon, activity."""
    rows = task_service.council_rows(session, actor)
    tasks = task_service.open_tasks(session, actor=actor, now=now, rows=rows)
    settled = task_service.settle_inbox(session, actor=actor, now=now, tasks=tasks)
    readable = _readable(actor, rows)
    meetings = council_repo.upcoming_meetings(session, sorted(readable), start=now, end=now + task_service.DUE_SOON)
    return HomePage(tasks=tasks, due_soon=tasks.due_soon(now),
                    meetings=[(m, readable[m.council_id]) for m in meetings],
                    activity=_activity(session, readable, locale), settled=settled)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """Show the person's home: what waits for them, what is due soon, recent activity in their councils."""
    now = ctx.clock.now()
    page = home_page(db, actor=principal, now=now, locale=translator_for(request).locale)
    return render(request, "dashboard.html", {"page": page, "now": now, "kinds": task_service.KINDS})


# ---------------------------------------------------------------------------------------------
# The menu's counts (every signed-in page)


# The whole task list costs about a dozen statements; the menu of every page may not pay that (the statement
# budgets of tests/information/test_statement_budget.py). The home and the inbox count it afresh; other pages
# show the count they made for this person in the last few minutes, or no task badge at all.
TASK_COUNT_PAGES = frozenset({"/dashboard", "/inbox"})
TASK_COUNT_TTL = timedelta(minutes=5)
_task_counts: dict[int, tuple[int, datetime]] = {}  # user id -> (open tasks, when counted); per process


def counts_for_nav(request: Request, auth: Any,
                   known: Mapping[int, Standing | None] | None = None) -> task_service.MenuCounts:
    """Return the open-task and unread counts for the menu badges, on the request's own session (no writes)."""
    principal = getattr(auth, "principal", None)
    user = getattr(auth, "user", None)
    session = object_session(user) if user is not None else None
    if principal is None or session is None:
        return task_service.MenuCounts(tasks=0, unread=0)
    now = get_ctx(request).clock.now()
    try:
        if request.url.path in TASK_COUNT_PAGES:
            counts = task_service.menu_counts(session, actor=principal, now=now, known=known)
            _task_counts[principal.user_id] = (counts.tasks, now)
            return counts
        unread = task_service.unread_count(session, actor=principal, known=known)
    except SQLAlchemyError:  # a failed transaction must not turn every page into an error page
        log.warning("menu counts failed", exc_info=True)
        return task_service.MenuCounts(tasks=0, unread=0)
    tasks, counted = _task_counts.get(principal.user_id, (0, now - 2 * TASK_COUNT_TTL))
    return task_service.MenuCounts(tasks=tasks if now - counted <= TASK_COUNT_TTL else 0, unread=unread)


env.globals["menu_counts"] = counts_for_nav


# ---------------------------------------------------------------------------------------------
# GET /api/v1/me/tasks


class TaskRead(BaseModel):
    """One open task as the API gives it."""

    kind: str
    key: str
    variant: str | None
    name: str | None
    council_id: int | None
    council_title_ja: str | None
    council_title_en: str | None
    due_at: datetime | None
    overdue: bool
    link: str | None


class TasksRead(BaseModel):
    """The caller's open tasks (the same list as the home page and the menu count)."""

    count: int
    items: list[TaskRead]


@api_router.get("/tasks", response_model=TasksRead, dependencies=[requires(Permission.DASHBOARD_VIEW)])
def my_tasks(principal: ApiUser, db: Db, ctx: Ctx) -> TasksRead:
    """List what waits for the caller: consents, pledges, votes, reviews, minutes, action items, requests."""
    now = ctx.clock.now()
    found = task_service.open_tasks(db, actor=principal, now=now)
    task_service.settle_inbox(db, actor=principal, now=now, tasks=found)
    return TasksRead(count=len(found), items=[
        TaskRead(kind=t.kind, key=t.key, variant=t.variant, name=t.name, council_id=t.council_id,
                 council_title_ja=t.council_ja, council_title_en=t.council_en, due_at=t.due_at,
                 overdue=t.overdue(now), link=t.link) for t in found.tasks])


# ---------------------------------------------------------------------------------------------
# The account page (moved from the old dashboard; the API tokens page hangs off it, issue 14)


@dataclass(frozen=True)
class AccountPage:
    """The person's account, this session, their API tokens and their own recent actions."""

    organization: Any
    active_tokens: int
    recent: list[AuditEntry]


def account_page(session: Session, *, actor: Principal, now: datetime) -> AccountPage:
    """Return the account page's facts: one's own details and actions only, whatever one's audit rights."""
    live = [t for t in accounts_repo.tokens_of(session, actor.user_id)
            if t.revoked_at is None and (t.expires_at is None or as_utc(t.expires_at) > now)]
    return AccountPage(organization=accounts_repo.org_by_id(session, actor.organization_id),
                       active_tokens=len(live),
                       recent=audit.list_entries(session, actor_id=actor.user_id, before=None, limit=RECENT_ENTRIES))


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, principal: PageUser, auth: Auth, db: Db, ctx: Ctx) -> HTMLResponse:
    """Show the person's account and session details, a link to their API tokens and their recent actions."""
    page = account_page(db, actor=principal, now=ctx.clock.now())
    return render(request, "account.html", {"user": auth.user, "web_session": auth.web_session, "page": page,
                                            "organization": page.organization})
