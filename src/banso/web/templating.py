"""Jinja2 rendering with the request's language, auth state and CSRF token."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape

from banso import __version__
from banso.kit import glossary, japanese
from banso.web.i18n import Translator, normalise_locale

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"

env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

NOTHING = "—"


def _lang(context: Context) -> str:
    return str(context.get("lang") or "ja")


def _amount(amount: int, shown: str) -> Markup:
    # <data> carries the exact yen for machines and the title shows it on hover (issue 14).
    exact = japanese.format_exact(amount)
    return Markup('<data class="yen" value="{}" title="{}">{}</data>').format(amount, exact, escape(shown))


@pass_context
def yen_sen(context: Context, amount: int | None) -> Markup | str:
    """Show a table figure in 千円 (Japanese pages) or exact yen (English), exact yen on hover."""
    if amount is None:
        return NOTHING
    return _amount(amount, japanese.format_sen(amount) if _lang(context) == "ja" else japanese.format_exact(amount))


@pass_context
def yen_oku(context: Context, amount: int | None) -> Markup | str:
    """Show a total in 億円 (``3億5,000万円``; exact yen in English), exact yen on hover."""
    if amount is None:
        return NOTHING
    return _amount(amount, japanese.format_oku(amount) if _lang(context) == "ja" else japanese.format_exact(amount))


@pass_context
def wareki(context: Context, value: date | None) -> str:
    """Show a date as official documents do: ``2027年4月1日（令和9年4月1日）``."""
    return NOTHING if value is None else japanese.official_date(value, _lang(context))


@pass_context
def jst_date(context: Context, value: date | None) -> str:
    """Show a date in the UI's one date format (a date-time by its JST day)."""
    return NOTHING if value is None else japanese.format_date(value, _lang(context))


@pass_context
def jst_minute(context: Context, value: datetime | None) -> str:
    """Show a date-time in the UI's one format: JST, to the minute."""
    return NOTHING if value is None else japanese.format_minute(value, _lang(context))


@pass_context
def fiscal_year(context: Context, value: int | None) -> str:
    """Show a fiscal year: ``2027年度（令和9年度）`` or ``FY2027``."""
    return NOTHING if value is None else japanese.fiscal_year_label(value, _lang(context))


@pass_context
def term(context: Context, key: str) -> str:
    """Return the glossary's word for ``key`` in the page's language (``kit.glossary``)."""
    return glossary.term(key, _lang(context))


def field_attrs(error: object, field: str) -> Markup:
    """Return a form field's id (``field-<code>``, the error summary's link target) and, when the refused
    form's error names it, ``aria-invalid`` and ``aria-describedby`` pointing at its message (issue 14)."""
    anchor = "field-" + "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_-") else "-" for ch in field)
    problems = getattr(error, "problems", ())
    if any(getattr(p, "field", None) == field for p in problems):
        return Markup('id="{0}" aria-invalid="true" aria-describedby="{0}-error"').format(anchor)
    return Markup('id="{}"').format(anchor)


env.globals["term"] = term
env.globals["field_attrs"] = field_attrs
env.filters.update(yen_sen=yen_sen, yen_oku=yen_oku, wareki=wareki, jst_date=jst_date, jst_minute=jst_minute,
                   fiscal_year=fiscal_year)


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
