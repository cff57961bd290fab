"""HTML pages of bylaws by agreement (issue 13): the amendment form (article by article), the proposal page
with its diff and the vote. Thin: parse the form, call one service function, render."""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from banso.authz.principal import Principal
from banso.councils import articles, bylaws
from banso.kit.errors import BansoError, ValidationFailed
from banso.web import forms
from banso.web.csrf import verify_csrf
from banso.web.deps import Ctx, Db
from banso.web.forms import local_input, parse_when
from banso.web.pages import PageUser
from banso.web.templating import render

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
NOTICES = ("proposed", "voted", "withdrawn")
# Form fields named in service messages, with the label the form shows (msgids of the templates).
FIELD_LABELS = {"summary": "Summary of the change", "articles": "Articles", "deadline": "Vote by (JST)",
                "decision": "Your answer", "reason": "Reason", "parameters": "Parameters",
                **{p.field: p.label_en for p in articles.PARAMETERS}}
MAX_ROWS = articles.MAX_ARTICLES + 1
_ROW_KEY = re.compile(r"key_\d{1,9}")


async def _posted_form(request: Request) -> FormData:
    """Return the posted form, read on the event loop (reading a body is not blocking work); a form with more
    fields than the article cap allows is refused in words (422), not cut short or answered with a bare 400."""
    try:
        return await request.form(max_fields=20 + 6 * MAX_ROWS)
    except HTTPException:
        raise _too_many() from None


def _too_many() -> ValidationFailed:
    return ValidationFailed(f"条は {articles.MAX_ARTICLES} までです。条を減らしてから提案してください / at most "
                            f"{articles.MAX_ARTICLES} articles: remove some before proposing", field="articles")


PostedForm = Annotated[FormData, Depends(_posted_form)]


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""


def article_rows(form: FormData) -> list[articles.ArticleInput]:
    """Return the articles typed in the amendment form, in the order asked (``order_N``), without the removed
    ones and the blank new row. Each row N has key_N, title_ja_N, title_en_N, text_N, order_N, remove_N."""
    rows: list[tuple[float, int, articles.ArticleInput]] = []
    if any(_ROW_KEY.fullmatch(name) and int(name[4:]) >= MAX_ROWS for name in form):
        raise _too_many()  # rows past the cap were dropped silently before (outside tester's finding)
    for n in range(MAX_ROWS):
        if f"key_{n}" not in form or _text(form, f"remove_{n}") == "yes":
            continue
        row = articles.ArticleInput(key=_text(form, f"key_{n}").strip(), title_ja=_text(form, f"title_ja_{n}"),
                                    title_en=_text(form, f"title_en_{n}"), text=_text(form, f"text_{n}"))
        if not (row.key or row.title_ja.strip() or row.text.strip()):
            continue  # the blank row for a new article, left blank
        try:
            order = float(_text(form, f"order_{n}") or n + 1)
        except ValueError:
            order = math.nan
        if not math.isfinite(order):  # "nan" and "inf" parse as floats but order nothing
            raise ValidationFailed(f"第{n + 1}行の順序は数字で入力してください / order must be a number",
                                   field="articles")
        rows.append((order, n, row))
    return [row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1]))]


def _parameters(form: FormData) -> dict[str, int | None]:
    values: dict[str, int | None] = {}
    for p in articles.PARAMETERS:
        values[p.field] = forms.int_or_none(_text(form, f"param_{p.field}"), p.field)
    return values


def _amend_page(request: Request, principal: Principal, db: Session, ctx: Ctx, council_id: int, *,
                error: str | None = None, status: int = 200, form: FormData | None = None) -> HTMLResponse:
    start = bylaws.amend_form(db, council_id=council_id, actor=principal)
    now = ctx.clock.now()
    rows: list[dict[str, Any]] = [a.as_dict() | {"order": a.number} for a in start.articles]
    if form is not None:  # a refused form shows what was typed
        rows = [{"key": r.key, "title_ja": r.title_ja, "title_en": r.title_en, "text": r.text, "order": i + 1}
                for i, r in enumerate(article_rows(form))] if _safe_rows(form) else rows
    return render(request, "councils/bylaws_amend.html", {
        "council": start.council, "bylaws": start.bylaws, "rows": rows, "parameters": articles.PARAMETERS,
        "values": start.parameters, "open_proposal": start.open_proposal, "error": error,
        "summary": _text(form, "summary") if form is not None else "",
        "default_deadline": local_input(bylaws.vote_deadline(now=now, given=None)),
    }, status=status)


def _safe_rows(form: FormData) -> bool:
    try:
        article_rows(form)
    except ValidationFailed:
        return False
    return True


@router.get("/councils/{council_id}/bylaws/amend", response_class=HTMLResponse)
def amend_form(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """Show the amendment form: every article of the version in force, editable, and the parameters."""
    return _amend_page(request, principal, db, ctx, council_id)


@router.post("/councils/{council_id}/bylaws", response_class=HTMLResponse, dependencies=[Csrf])
def propose(council_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
            form: PostedForm) -> Response:
    """Propose the amendment typed in the form; every member then votes (I4)."""
    now = ctx.clock.now()
    try:
        deadline_raw = _text(form, "deadline").strip()
        proposal = bylaws.propose_amendment(
            db, council_id=council_id, actor=principal, now=now, articles_in=article_rows(form),
            parameters=_parameters(form), summary=_text(form, "summary"),
            deadline=parse_when(deadline_raw, "deadline") if deadline_raw else None)
    except BansoError as exc:
        return forms.refused(request, db, exc, lambda error, status: _amend_page(
            request, principal, db, ctx, council_id, error=error, status=status, form=form), FIELD_LABELS)
    return forms.redirect(f"/councils/{council_id}/bylaws/proposals/{proposal.id}", "proposed")


def _proposal_page(request: Request, principal: Principal, db: Session, ctx: Ctx, council_id: int,
                   proposal_id: int, *, error: str | None = None, status: int = 200,
                   notice: str | None = None) -> HTMLResponse:
    view = bylaws.get_proposal(db, council_id=council_id, proposal_id=proposal_id, actor=principal,
                               now=ctx.clock.now())
    return render(request, "councils/bylaws_proposal.html", {
        "view": view, "council": view.council, "proposal": view.proposal, "error": error, "notice": notice,
        "counts": {d: sum(1 for v, _ in view.votes if v.decision == d) for d in ("accept", "object", "pending")},
    }, status=status)


@router.get("/councils/{council_id}/bylaws/proposals/{proposal_id}", response_class=HTMLResponse)
def proposal_page(council_id: int, proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  done: str | None = None) -> HTMLResponse:
    """Show a proposal: what changes article by article, the parameters, the votes and the vote form."""
    return _proposal_page(request, principal, db, ctx, council_id, proposal_id,
                          notice=forms.notice(done, NOTICES))


@router.post("/councils/{council_id}/bylaws/proposals/{proposal_id}/vote", response_class=HTMLResponse,
             dependencies=[Csrf])
def vote(council_id: int, proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
         decision: Annotated[str, Form(max_length=16)] = "",
         reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Accept or object (with a reason)."""
    try:
        bylaws.vote(db, council_id=council_id, proposal_id=proposal_id, actor=principal, now=ctx.clock.now(),
                    decision=decision, reason=reason)
    except BansoError as exc:
        return forms.refused(request, db, exc, lambda error, status: _proposal_page(
            request, principal, db, ctx, council_id, proposal_id, error=error, status=status), FIELD_LABELS)
    return forms.redirect(f"/councils/{council_id}/bylaws/proposals/{proposal_id}", "voted")


@router.post("/councils/{council_id}/bylaws/proposals/{proposal_id}/withdraw", response_class=HTMLResponse,
             dependencies=[Csrf])
def withdraw(council_id: int, proposal_id: int, request: Request, principal: PageUser, db: Db,
             ctx: Ctx) -> Response:
    """Withdraw an open proposal (chair or secretariat)."""
    try:
        bylaws.withdraw(db, council_id=council_id, proposal_id=proposal_id, actor=principal, now=ctx.clock.now())
    except BansoError as exc:
        return forms.refused(request, db, exc, lambda error, status: _proposal_page(
            request, principal, db, ctx, council_id, proposal_id, error=error, status=status), FIELD_LABELS)
    return forms.redirect(f"/councils/{council_id}/bylaws/proposals/{proposal_id}", "withdrawn")
