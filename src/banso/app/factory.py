"""The FastAPI application factory: middleware, every domain's routers and the job loop (composition root)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from banso import __version__
from banso.app.jobs import JobLease, run_due
from banso.app.metrics import Metrics, RequestMetrics
from banso.app.probes import PROBE_PATHS, Readiness, probe_router
from banso.authz.permissions import Permission
from banso.sealed.crypto import KeyStore
from banso.sealed.store import sealed_deps
from banso.web.context import AppContext
from banso.web.deps import SESSION_COOKIE, requires
from banso.web.errors import error_response, install_error_handlers, method_not_allowed
from banso.web.methods import MethodRules
from banso.web.middleware import (
    BufferedBody,
    CatchErrors,
    ConcurrencyLimit,
    NoStoreWhenAuthenticated,
    RateLimit,
    SecurityHeaders,
)
from banso.web.nesting import JsonNestingLimit
from banso.web.openapi import install_openapi
from banso.web.templating import STATIC_DIR

log = logging.getLogger("banso.web")


def create_app(ctx: AppContext, *, background_jobs: bool = True) -> FastAPI:
    """Build the app around ``ctx``; ``background_jobs`` runs the scheduled jobs (in one process: the lease's)."""
    metrics = Metrics(ctx.settings.prometheus_multiproc_dir)
    readiness = Readiness(ctx.settings, url=ctx.engine.url.render_as_string(hide_password=False),
                          key_stores=lambda: _key_stores(ctx))
    lease = JobLease(ctx.engine) if background_jobs else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_job_loop(ctx, lease, metrics)) if lease is not None else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if lease is not None:
                await asyncio.to_thread(lease.close)  # a standby takes over at its next tick
            metrics.process_exits()
            readiness.close()

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
    from banso.app.export_profile import router as export_profile_api
    from banso.app.pages import api_router as home_api
    from banso.app.pages import router as shell_pages
    from banso.app.portal import router as public_portal
    from banso.audit.endpoints import router as audit_api
    from banso.audit.views import router as audit_pages
    from banso.councils.bylaws_views import router as bylaws_pages
    from banso.councils.endpoints import router as councils_api
    from banso.councils.views import router as councils_pages
    from banso.web.views import router as language_switch

    # Every /api/v1 route declares the permission a narrowed token must carry: accounts and audit
    # per route (their routes differ), the others per router here; tests/api/test_route_permissions.py
    # fails on any API route without one.
    app.include_router(accounts_api, prefix="/api/v1")
    app.include_router(export_profile_api, prefix="/api/v1")  # F7: an account fact that opens council checks
    app.include_router(audit_api, prefix="/api/v1")
    app.include_router(home_api, prefix="/api/v1")  # /me/tasks declares its permission per route
    app.include_router(councils_api, prefix="/api/v1", dependencies=[requires(Permission.COUNCIL_PARTICIPATE)])
    app.include_router(shell_pages)
    app.include_router(public_portal)  # /public: search, technology facets (issue 14)
    app.include_router(language_switch)
    app.include_router(accounts_pages)
    app.include_router(audit_pages)
    app.include_router(bylaws_pages)  # before councils_pages: /bylaws/amend is not a version number
    app.include_router(councils_pages)

    from banso.notifications.endpoints import router as notifications_api
    from banso.notifications.views import router as notifications_pages

    app.include_router(notifications_api, prefix="/api/v1")  # declares its permission on the router
    app.include_router(notifications_pages)

    from banso.programme.endpoints import router as programme_api
    from banso.programme.plan_endpoints import router as plan_api
    from banso.programme.plan_views import router as plan_pages
    from banso.programme.views import router as programme_pages

    # platform:dashboard:view is the "use the shared platform" permission every role holds; the
    # programme services check programme:* on top of it.
    app.include_router(programme_api, prefix="/api/v1", dependencies=[requires(Permission.DASHBOARD_VIEW)])
    app.include_router(programme_pages)
    app.include_router(plan_api, prefix="/api/v1", dependencies=[requires(Permission.DASHBOARD_VIEW)])
    app.include_router(plan_pages)

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

    from banso.thinktank.endpoints import router as thinktank_api
    from banso.thinktank.views import router as thinktank_pages

    # Indicators need thinktank:analysis:read; the think-tank policy decides the rest (rankings, needs).
    app.include_router(thinktank_api, prefix="/api/v1", dependencies=[requires(Permission.ANALYTICS_READ)])
    app.include_router(thinktank_pages)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    install_openapi(app)  # security scheme, error answers, file types (web/openapi.py)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    def jobs_state() -> str:
        return "off" if lease is None else "leader" if lease.leading else "standby"

    app.include_router(probe_router(ctx.settings, readiness, metrics, jobs_state))

    _install_middleware(app, ctx, upload_limits(), metrics)
    return app


def _install_middleware(app: FastAPI, ctx: AppContext, larger: tuple[re.Pattern[str], int],
                        metrics: Metrics) -> None:
    """Install the middleware; each ``add_middleware`` wraps the ones before it (the last is outermost)."""
    settings = ctx.settings
    # Innermost, next to the router: HEAD, OPTIONS and 405 with Allow for every route (web/methods.py).
    app.add_middleware(MethodRules, respond_405=method_not_allowed)
    # An unexpected error is answered here (500/503/507) and the connection stays open.
    app.add_middleware(CatchErrors, respond=error_response)
    app.add_middleware(NoStoreWhenAuthenticated, session_cookie=SESSION_COOKIE)
    app.add_middleware(JsonNestingLimit)  # O1: a 100,000-deep JSON body is a 422, not a parser crash
    # Admission below the worker-thread count, so a lock holder can always finish ...
    app.add_middleware(ConcurrencyLimit, limit=settings.max_concurrent_requests, exempt=PROBE_PATHS)
    # ... and only for a request whose body is complete: a slow client waits outside, holding no slot.
    app.add_middleware(BufferedBody, max_bytes=settings.max_body_bytes, larger=[larger],
                       grace_seconds=settings.body_grace_seconds, min_rate=settings.body_min_bytes_per_second)
    # Outermost: a client over its rate is answered before anything is read or admitted.
    app.add_middleware(RateLimit, session_cookie=SESSION_COOKIE, per_second=settings.rate_limit_per_second,
                       burst=settings.rate_limit_burst, anonymous_per_second=settings.rate_limit_anonymous_per_second,
                       anonymous_burst=settings.rate_limit_anonymous_burst, exempt=PROBE_PATHS)
    # Outside the limits too, so a 429, 413 or 503 carries them as well (outside tester, session 12).
    app.add_middleware(SecurityHeaders)
    # Added last, so outside even the rate limit: latency and in-flight as the client sees them, waiting included.
    app.add_middleware(RequestMetrics, metrics=metrics)


async def _job_loop(ctx: AppContext, lease: JobLease, metrics: Metrics) -> None:
    """Run the scheduled jobs in the process holding the lease (A2: sign a checkpoint when the log has grown).

    Every worker keeps trying for the lease at each tick, so when the leader dies another one takes
    over within a tick; only the leader runs the jobs.
    """
    metrics.job_leader.set(1 if await _hold(lease) else 0)  # known from the start (/readyz, /metrics)
    while True:
        await asyncio.sleep(ctx.settings.checkpoint_interval_seconds)
        leading = await _hold(lease)
        metrics.job_leader.set(1 if leading else 0)
        if not leading:
            continue
        try:
            await asyncio.to_thread(run_due, ctx, ran=metrics.job_ran)
        except Exception:  # a failed job must not stop the server; it is retried next tick
            log.exception("scheduled jobs failed")


async def _hold(lease: JobLease) -> bool:
    """Return whether this process leads; a database that does not answer makes it a standby for now."""
    try:
        return await asyncio.to_thread(lease.hold)
    except Exception:
        log.warning("could not take or check the job lock", exc_info=True)
        return False


def _key_stores(ctx: AppContext) -> list[KeyStore]:
    """Return the key stores the readiness probe pings: council, commission and proposal keys (one HSM or folder)."""
    deps = sealed_deps(ctx)
    return [deps.council_keys, deps.commission_keys, deps.proposal_keys]
