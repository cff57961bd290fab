"""Dependencies for HTML pages: who may see a page, else where the browser goes instead."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from banso.authz.principal import Principal
from banso.web.deps import Auth
from banso.web.errors import RedirectTo


def safe_next(value: str | None, default: str = "/") -> str:
    """Return ``value`` if it is a local path (no open redirects), else ``default``."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def page_principal(request: Request, auth: Auth) -> Principal:
    """Return the fully signed-in person, or redirect to login / second factor / enrolment."""
    if auth.principal is not None:
        return auth.principal
    if auth.pending_mfa:
        raise RedirectTo(f"/login/2fa?next={quote(request.url.path)}")
    if auth.needs_enrolment:
        raise RedirectTo("/account/2fa/setup")
    raise RedirectTo(f"/login?next={quote(request.url.path)}")


PageUser = Annotated[Principal, Depends(page_principal)]
