"""The FastAPI application factory: middleware, every domain's routers and the job loop (composition root)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from banso import __version__
from banso.authz.permissions import Permission
from banso.web.context import AppContext
from banso.web.deps import SESSION_COOKIE, requires
from banso.web.errors import install_error_handlers
from banso.web.middleware import BodySizeLimit, ConcurrencyLimit, NoStoreWhenAuthenticated, SecurityHeaders
from banso.web.openapi import install_openapi
from banso.web.templating import STATIC_DIR

log = logging.getLogger("banso.web")


def create_app(ctx: AppContext, *, background_jobs: bool = True) -> FastAPI:
    """Build the app around ``ctx``; ``background_jobs`` runs the periodic checkpoint signer."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_job_loop(ctx)) if background_jobs else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="banso API",
        version=__version__,
        description="banso (伴走) — public–private critical-technology cooperation platform. JSON API v1.",
        openapi_url="/api/v1/openapi.json",
        # No Swagger UI: it loads scripts from a CDN, which our CSP (and closed networks) refuse.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    install_error_handlers(app)

    from banso.accounts.endpoints import router as accounts_api
    from banso.accounts.views import router as accounts_pages
    from banso.app.pages import router as shell_pages
    from banso.audit.endpoints import router as audit_api
    from banso.audit.views import router as audit_pages
    from banso.councils.endpoints import router as councils_api
    from banso.councils.views import router as councils_pages
    from banso.web.views import router as language_switch

    # Every /api/v1 route declares the permission a narrowed token must carry: accounts and audit
    # per route (their routes differ), the others per router here; tests/api/test_route_permissions.py
    # fails on any API route without one.
    app.include_router(accounts_api, prefix="/api/v1")
    app.include_router(audit_api, prefix="/api/v1")
    app.include_router(councils_api, prefix="/api/v1", dependencies=[requires(Permission.COUNCIL_PARTICIPATE)])
    app.include_router(shell_pages)
    app.include_router(language_switch)
    app.include_router(accounts_pages)
    app.include_router(audit_pages)
    app.include_router(councils_pages)

    from banso.notifications.endpoints import router as notifications_api
    from banso.notifications.views import router as notifications_pages

    app.include_router(notifications_api, prefix="/api/v1")  # declares its permission on the router
    app.include_router(notifications_pages)

    from banso.programme.endpoints import router as programme_api
    from banso.programme.views import router as programme_pages

    # platform:dashboard:view is the "use the shared platform" permission every role holds; the
    # programme services check programme:* on top of it.
    app.include_router(programme_api, prefix="/api/v1", dependencies=[requires(Permission.DASHBOARD_VIEW)])
    app.include_router(programme_pages)

    from banso.information.endpoints import council_router as information_council_api
    from banso.information.endpoints import router as information_api
    from banso.information.endpoints import upload_limits
    from banso.information.viewer_routes import router as information_viewer
    from banso.information.views import router as information_pages

    app.include_router(information_api, prefix="/api/v1", dependencies=[requires(Permission.COUNCIL_PARTICIPATE)])
    # Council routes that file into information (C6), with the councils API's permission.
    app.include_router(information_council_api, prefix="/api/v1",
                       dependencies=[requires(Permission.COUNCIL_PARTICIPATE)])
    app.include_router(information_pages)
    app.include_router(information_viewer)

    from banso.thinktank.views import router as thinktank_pages

    app.include_router(thinktank_pages)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    install_openapi(app)  # security scheme, error answers, file types (web/openapi.py)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.add_middleware(SecurityHeaders)
    app.add_middleware(NoStoreWhenAuthenticated, session_cookie=SESSION_COOKIE)
    app.add_middleware(BodySizeLimit, max_bytes=ctx.settings.max_body_bytes, larger=[upload_limits()])
    # Outermost: admission below the worker-thread count, so a lock holder can always finish.
    app.add_middleware(ConcurrencyLimit, limit=ctx.settings.max_concurrent_requests)
    return app


async def _job_loop(ctx: AppContext) -> None:
    """Run scheduled jobs inside the server (A2: sign a checkpoint when the log has grown)."""
    from banso.app.jobs import run_due

    while True:
        await asyncio.sleep(ctx.settings.checkpoint_interval_seconds)
        try:
            await asyncio.to_thread(run_due, ctx)
        except Exception:  # a failed job must not stop the server; it is retried next tick
            log.exception("scheduled jobs failed")
