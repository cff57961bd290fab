"""Dependencies for HTML pages: who may see a page, else where the browser goes instead."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from banso.authz.principal import AuthMethod, Principal
from banso.kit.errors import Forbidden
from banso.web.deps import Auth
from banso.web.errors import RedirectTo


def safe_next(value: str | None, default: str = "/") -> str:
    """Return ``value`` if it is a local path (no open redirects), else ``default``."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def page_principal(request: Request, auth: Auth) -> Principal:
    """Return the fully signed-in person, or redirect to login / second factor / enrolment.

    Pages are for browser sessions only: an API token (whose scopes are held on ``/api/v1``) does
    not open them, so a narrowed token cannot read through the HTML what its scopes refuse.
    """
    if auth.principal is not None and auth.principal.method is AuthMethod.TOKEN:
        raise Forbidden("APIトークンでは画面を開けません。/api/v1 を使ってください / "
                        "API tokens do not open pages; use /api/v1")
    if auth.principal is not None:
        return auth.principal
    if auth.pending_mfa:
        raise RedirectTo(f"/login/2fa?next={quote(request.url.path)}")
    if auth.needs_enrolment:
        raise RedirectTo("/account/2fa/setup")
    raise RedirectTo(f"/login?next={quote(request.url.path)}")


PageUser = Annotated[Principal, Depends(page_principal)]
