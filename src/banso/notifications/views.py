"""HTML pages of the inbox (受信箱): list, open, mark read, mark all read; and the unread count in the nav."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import object_session

from banso.authz.policies.councils import Standing
from banso.notifications import service
from banso.web.csrf import verify_csrf
from banso.web.deps import Ctx, Db
from banso.web.pages import PageUser, safe_next
from banso.web.templating import env, render

log = logging.getLogger("banso.notifications")
router = APIRouter(include_in_schema=False)
PAGE_SIZE = 30
Csrf = Depends(verify_csrf)


def unread_for_nav(auth: Any, known: Mapping[int, Standing | None] | None = None) -> int:
    """Return the signed-in person's unread count for the nav badge, on the request's own session.

    ``known``: standings the page loaded in this request, by council id (the gate need not load them again).
    """
    principal = getattr(auth, "principal", None)
    user = getattr(auth, "user", None)
    session = object_session(user) if user is not None else None
    if principal is None or session is None:
        return 0  # anonymous, or an error page rendered after the request's session closed
    try:
        return service.unread_count(session, user_id=principal.user_id, actor=principal, known=known)
    except SQLAlchemyError:  # a failed transaction must not turn every page into an error page
        log.warning("unread count for the nav failed", exc_info=True)
        return 0


env.globals["inbox_unread"] = unread_for_nav


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    principal: PageUser,
    db: Db,
    ctx: Ctx,
    unread: int = 0,
    before: int | None = Query(None, ge=1, le=service.ID_MAX),
    done: str | None = None,
) -> HTMLResponse:
    """Show the person's own notifications, newest first (notices of tasks already done are marked read first)."""
    service.settle_done(ctx.collaborators, db, principal, ctx.clock.now())
    rows = service.inbox(db, user_id=principal.user_id, unread_only=bool(unread), limit=PAGE_SIZE + 1,
                         before_id=before, actor=principal)
    return render(request, "notifications/inbox.html", {
        "items": rows[:PAGE_SIZE],
        "older": rows[PAGE_SIZE - 1].id if len(rows) > PAGE_SIZE else None,
        "before": before,
        "unread_only": bool(unread),
        "unread_count": service.unread_count(db, user_id=principal.user_id, actor=principal),
        "notice": done if done in ("all", "read") else None,
    })


@router.post("/inbox/read-all", dependencies=[Csrf])
def inbox_mark_all_read(principal: PageUser, ctx: Ctx, db: Db) -> RedirectResponse:
    """Mark every notification read."""
    service.mark_all_read(db, user_id=principal.user_id, now=ctx.clock.now())
    return RedirectResponse("/inbox?done=all", status_code=303)


@router.post("/inbox/{notification_id}/read", dependencies=[Csrf])
def inbox_mark_read(notification_id: int, principal: PageUser, ctx: Ctx, db: Db) -> RedirectResponse:
    """Mark one notification read; someone else's answers 404."""
    service.mark_read(db, user_id=principal.user_id, notification_id=notification_id, now=ctx.clock.now(),
                             actor=principal)
    return RedirectResponse("/inbox?done=read", status_code=303)


@router.post("/inbox/{notification_id}/open", dependencies=[Csrf])
def inbox_open(notification_id: int, principal: PageUser, ctx: Ctx, db: Db) -> RedirectResponse:
    """Mark one notification read and go to what it is about (the target page checks access itself)."""
    note = service.mark_read(db, user_id=principal.user_id, notification_id=notification_id, now=ctx.clock.now(),
                             actor=principal)
    return RedirectResponse(safe_next(note.link, "/inbox"), status_code=303)
