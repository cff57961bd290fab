"""FastAPI dependencies: the context, a database session per request, who is asking."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from banso.authz.permissions import Permission
from banso.authz.principal import Principal
from banso.kit.errors import AuthenticationRequired, Forbidden
from banso.kit.unit import unit
from banso.web.auth import AuthState
from banso.web.context import AppContext
from banso.web.i18n import Translator, normalise_locale

SESSION_COOKIE = "banso_session"
LANG_COOKIE = "banso_lang"
PRELOGIN_CSRF_COOKIE = "banso_csrf"


def get_ctx(request: Request) -> AppContext:
    """Return the application context."""
    ctx: AppContext = request.app.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def open_session(ctx: Ctx) -> Iterator[Session]:
    """Yield the request's session and close it once the response is sent (a download may still read).

    close() alone rolls back uncommitted work but, unlike rollback(), does not expire the loaded
    rows, so error pages can still show who is signed in.
    """
    session = ctx.sessions()
    try:
        yield session
    finally:
        session.close()


def get_db(request: Request, session: Annotated[Session, Depends(open_session)]) -> Iterator[Session]:
    """The request's unit of work (``banso.kit.unit``): commit on success, keep an audited refusal.

    Declared with ``scope="function"`` (see ``Db``), so it ends when the handler has built its
    response and BEFORE the response is sent: a failing commit is a 500 and nothing is reported as
    done. Work that is not kept is rolled back with the loaded rows detached as they are: the error
    page, drawn after ``open_session`` has closed the session, still shows who is signed in.

    A HEAD answered by running the GET handler (``web.methods``) is kept like the GET: it confirmed
    access and the answer's length, so its audited read is recorded (A1) and a token's use noted — a
    HEAD that kept nothing was an untraced probe (outside tester, session 12).
    """
    with unit(session, detach=True):
        yield session


Db = Annotated[Session, Depends(get_db, scope="function")]


def client_ip(request: Request) -> str | None:
    """Return the client address (the server listens on loopback or behind a trusted proxy)."""
    return request.client.host if request.client else None


def now(ctx: Ctx) -> datetime:
    """Return the current time from the context clock."""
    return ctx.clock.now()


def get_auth(request: Request, ctx: Ctx, db: Db) -> AuthState:
    """Resolve who is asking with the context's authenticator (``accounts.auth``), once per request."""
    cached: AuthState | None = getattr(request.state, "auth", None)
    if cached is not None:
        return cached
    state = ctx.authenticator(request, db, now=ctx.clock.now(), settings=ctx.settings)
    request.state.auth = state
    return state


Auth = Annotated[AuthState, Depends(get_auth)]


def api_principal(auth: Auth) -> Principal:
    """Return the API caller or raise 401."""
    if auth.principal is None:
        if auth.pending_mfa or auth.needs_enrolment:
            raise AuthenticationRequired("二段階認証が必要です / A second factor is required")
        raise AuthenticationRequired("認証が必要です / Authentication required")
    return auth.principal


ApiUser = Annotated[Principal, Depends(api_principal)]


class RequirePermission:
    """Route dependency declaring the permission an ``/api/v1`` route needs (any one of ``permissions``).

    Declared on every API route (per route, or per router where the app includes it), so a narrowed
    API token is held to its scopes on every path, not only where a service happens to check.
    Anonymous callers and sessions still waiting for their second factor pass through: the route's
    own ``ApiUser`` answers them 401, and public routes stay public.
    """

    def __init__(self, *permissions: Permission) -> None:
        if not permissions:
            raise ValueError("name at least one permission")
        self.permissions = frozenset(permissions)

    def __call__(self, auth: Auth) -> None:
        """Refuse a caller who holds none of the permissions (403: the route's existence is public)."""
        if auth.principal is None:
            return
        if not any(auth.principal.has(p) for p in self.permissions):
            needed = ", ".join(sorted(self.permissions))
            raise Forbidden(f"この操作の権限がありません（{needed}） / You may not do this (needs {needed})")

    def __repr__(self) -> str:
        return f"RequirePermission({', '.join(sorted(self.permissions))})"


def requires(*permissions: Permission) -> Any:
    """Return the ``Depends`` that declares a route's permission (see :class:`RequirePermission`)."""
    return Depends(RequirePermission(*permissions))


def get_translator(request: Request, ctx: Ctx) -> Translator:
    """Return the translator for the request's language (cookie, else Japanese)."""
    return Translator(normalise_locale(request.cookies.get(LANG_COOKIE) or ctx.settings.default_locale))


T = Annotated[Translator, Depends(get_translator)]
