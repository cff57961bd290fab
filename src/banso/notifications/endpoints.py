"""JSON API of the caller's own notifications (``/api/v1/notifications``); others' answer 404."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query

from banso.authz.permissions import Permission
from banso.notifications import service
from banso.notifications.schemas import InboxRead, MarkedRead, NotificationRead
from banso.web.csrf import verify_csrf
from banso.web.deps import ApiUser, Ctx, Db, requires

# The inbox is part of the dashboard: a token narrowed to other scopes does not read it.
router = APIRouter(prefix="/notifications", tags=["notifications"],
                   dependencies=[Depends(verify_csrf), requires(Permission.DASHBOARD_VIEW)])


@router.get("", response_model=InboxRead)
def list_notifications(
    principal: ApiUser,
    db: Db,
    ctx: Ctx,
    unread_only: bool = False,
    limit: int = Query(50, ge=1, le=service.INBOX_MAX),
    before_id: int | None = Query(None, ge=1, le=service.ID_MAX),
) -> InboxRead:
    """List the caller's notifications, newest first, with the unread count (done task notices marked read)."""
    service.settle_done(ctx.collaborators, db, principal, ctx.clock.now())
    rows = service.inbox(db, user_id=principal.user_id, unread_only=unread_only, limit=limit, before_id=before_id,
                         actor=principal)
    return InboxRead(items=[NotificationRead.model_validate(n) for n in rows],
                     unread_count=service.unread_count(db, user_id=principal.user_id, actor=principal))


@router.post("/read-all", response_model=MarkedRead)
def mark_all_read(principal: ApiUser, db: Db, ctx: Ctx) -> MarkedRead:
    """Mark all of the caller's notifications read."""
    marked = service.mark_all_read(db, user_id=principal.user_id, now=ctx.clock.now())
    return MarkedRead(marked=marked)


@router.post("/{notification_id}/read", response_model=NotificationRead)
def mark_read(
    principal: ApiUser, db: Db, ctx: Ctx, notification_id: int = Path(ge=1, le=service.ID_MAX)
) -> NotificationRead:
    """Mark one of the caller's notifications read; anyone else's answers 404."""
    note = service.mark_read(db, user_id=principal.user_id, notification_id=notification_id, now=ctx.clock.now(),
                             actor=principal)
    return NotificationRead.model_validate(note)
