"""Toolkit pages and helpers: the language switch and the bilingual-message splitter."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from banso.kit.errors import NotFound
from banso.web.deps import LANG_COOKIE, Ctx
from banso.web.i18n import LOCALES
from banso.web.pages import safe_next

router = APIRouter(include_in_schema=False)

LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


def localised(message: str, lang: str) -> str:
    """Return the half of a bilingual service message ("日本語 / English") for ``lang``."""
    if " / " not in message:
        return message
    ja, en = message.split(" / ", 1)
    return ja if lang == "ja" else en


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, ctx: Ctx, next: str | None = None) -> Response:
    """Remember the chosen UI language for a year and return to the page the person was on."""
    if code not in LOCALES:
        raise NotFound("言語が見つかりません / unknown language")
    response = RedirectResponse(safe_next(next, "/"), status_code=303)
    response.set_cookie(
        LANG_COOKIE, code, max_age=LANG_COOKIE_MAX_AGE, httponly=True, samesite="lax",
        secure=ctx.settings.secure_cookies, path="/",
    )
    return response
