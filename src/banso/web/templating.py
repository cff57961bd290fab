"""Jinja2 rendering with the request's language, auth state and CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from banso import __version__
from banso.web.i18n import Translator, normalise_locale

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def translator_for(request: Request) -> Translator:
    """Return the translator for the request (cookie ``banso_lang``, default Japanese)."""
    from banso.web.deps import LANG_COOKIE

    default = getattr(getattr(request.app.state, "ctx", None), "settings", None)
    fallback = default.default_locale if default is not None else "ja"
    return Translator(normalise_locale(request.cookies.get(LANG_COOKIE) or fallback))


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status: int = 200) -> HTMLResponse:
    """Render ``template`` with the common page context."""
    translator = translator_for(request)
    auth = getattr(request.state, "auth", None)
    web_session = getattr(auth, "web_session", None)
    values: dict[str, Any] = {
        "request": request,
        "lang": translator.locale,
        "auth": auth,
        "principal": getattr(auth, "principal", None),
        "csrf_token": web_session.csrf_token if web_session is not None else None,
        "path": request.url.path,
        "version": __version__,
        **translator.callables,
    }
    if context:
        values.update(context)
    html = env.get_template(template).render(values)
    return HTMLResponse(html, status_code=status)


def render_error(request: Request, *, status: int, code: str, message: str) -> HTMLResponse:
    """Render the error page."""
    return render(request, "error.html", {"status": status, "code": code, "message": message}, status=status)
