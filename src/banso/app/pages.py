"""Shell pages over several domains: the front door and the dashboard (composition root)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from banso.accounts import repository as accounts_repo
from banso.audit import service as audit
from banso.authz.policies import accounts as policy
from banso.kit.clock import as_utc
from banso.web.deps import Auth, Ctx, Db
from banso.web.pages import PageUser
from banso.web.templating import render

router = APIRouter(include_in_schema=False)

RECENT_ENTRIES = 8


@router.get("/")
def home(auth: Auth) -> RedirectResponse:
    """Send signed-in people to the dashboard and everyone else to the login page."""
    return RedirectResponse("/dashboard" if auth.principal is not None else "/login", status_code=303)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, principal: PageUser, auth: Auth, db: Db, ctx: Ctx) -> HTMLResponse:
    """Show the person's overview: who they are, their recent audit trail and the log's state (A2)."""
    # The dashboard lists only the viewer's own actions, whatever their audit rights.
    moment = ctx.clock.now()
    recent = audit.list_entries(db, actor_id=principal.user_id, before=None, limit=RECENT_ENTRIES)
    checkpoint = audit.latest_checkpoint(db)
    user = auth.user
    organization = accounts_repo.org_by_id(db, principal.organization_id)
    return render(request, "dashboard.html", {
        "user": user,
        "organization": organization,
        "web_session": auth.web_session,
        "recent": recent,
        "checkpoint": checkpoint,
        "tree_size": audit.tree_size(db),
        "sees_all_audit": policy.audit_entry_filter_actor(principal) is None,
        "token_count": sum(
            1 for t in accounts_repo.tokens_of(db, principal.user_id)
            if t.revoked_at is None and (t.expires_at is None or as_utc(t.expires_at) > moment)
        ),
    })
