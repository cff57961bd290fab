"""CSRF protection for cookie-authenticated writes (synchroniser token per session).

Bearer-token API calls are exempt: browsers never attach them on their own.
Before login, a double-submit cookie protects the login form itself.
"""

from __future__ import annotations

import secrets

from fastapi import Request

from banso.kit.errors import Forbidden
from banso.web.deps import PRELOGIN_CSRF_COOKIE, Auth

_SAFE = {"GET", "HEAD", "OPTIONS"}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


async def _submitted_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def verify_csrf(request: Request, auth: Auth) -> None:
    """Refuse an unsafe request from a cookie session without the session's CSRF token."""
    if request.method in _SAFE or auth.web_session is None:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    submitted = await _submitted_token(request)
    if not submitted or not secrets.compare_digest(submitted, auth.web_session.csrf_token):
        raise Forbidden("CSRFトークンが無効です / Invalid CSRF token; reload the page and try again")


async def verify_prelogin_csrf(request: Request) -> None:
    """Refuse a login-form post whose token does not match the pre-login cookie."""
    cookie = request.cookies.get(PRELOGIN_CSRF_COOKIE)
    submitted = await _submitted_token(request)
    if not cookie or not submitted or not secrets.compare_digest(cookie, submitted):
        raise Forbidden("CSRFトークンが無効です / Invalid CSRF token; reload the page and try again")


def new_prelogin_token() -> str:
    """Return a fresh token for the pre-login double-submit cookie."""
    return secrets.token_urlsafe(24)
