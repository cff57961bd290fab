"""Who is asking: a Bearer token or the session cookie resolved into the toolkit's ``AuthState``.

``banso.app.wiring`` hands :func:`authenticate` to the context as its ``Authenticator``;
``banso.web.deps.get_auth`` calls it once per request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import Request
from sqlalchemy.orm import Session

from banso.accounts import service as accounts
from banso.authz.principal import AuthMethod
from banso.config import Settings
from banso.web.auth import AuthState
from banso.web.deps import SESSION_COOKIE, client_ip


def authenticate(request: Request, db: Session, *, now: datetime, settings: Settings) -> AuthState:
    """Resolve a Bearer token or the session cookie into an AuthState."""
    state = AuthState()
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        # Joins the request's unit of work: a rejection is raised audited, so its entry is kept (A1).
        token, user = accounts.authenticate_token(
            db, raw=header[7:], now=now, ip=client_ip(request),
            max_lifetime=timedelta(days=settings.token_max_lifetime_days),
        )
        state.user = user
        state.principal = accounts.token_principal(token, user)
    else:
        resolved = accounts.resolve_session(
            db, cookie=request.cookies.get(SESSION_COOKIE), now=now, settings=settings
        )
        if resolved is not None:
            web_session, user = resolved
            state.user, state.web_session = user, web_session
            # I7: the second factor is passed when the session says so: a local TOTP code, or a
            # single sign-on provider that asserted one (amr/acr), whether or not TOTP is enrolled.
            if web_session.mfa_verified_at is not None:
                state.principal = accounts.principal_for(
                    user, method=AuthMethod.SESSION, mfa=True, session_id=web_session.id
                )
            elif user.totp_enabled:
                state.pending_mfa = True
            else:
                state.needs_enrolment = True
    return state
