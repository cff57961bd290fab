"""HTML pages of the K Program (経済安全保障重要技術育成プログラム, F1–F5, C2).

Thin views: parse the form, call one programme service, shape the page. Every page is drawn from
one page model of ``banso.programme.pages``, which carries the page's capability flags (``may_*``):
the view never decides who may do what. Nothing here commits: the request's unit of work
(``banso.kit.unit``) does. A domain refusal comes back as a form error with its 4xx status through
``banso.web.forms.refused``, which keeps an audited refusal's entry (A1) and rolls back everything
else. ``NotFound`` is never shown as a form error: it propagates to the 404 page (I7).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.councils.endpoints import checked_files as council_files
from banso.councils.models import Matter
from banso.councils.service import UploadedFile as CouncilUpload
from banso.information.endpoints import InfoDeps
from banso.information.models import ItemState
from banso.kit.clock import to_jst
from banso.kit.dates import check_moment
from banso.kit.disposition import content_disposition
from banso.kit.errors import BansoError, Forbidden, NotFound, ValidationFailed
from banso.kit.text import invalid_date_message, invalid_message
from banso.kit.unit import released
from banso.programme import (
    budget,
    budget_excel,
    commissions,
    evaluations,
    exports,
    filing,
    guideline,
    integrity,
    pages,
    reporting,
    review,
    rules,
    service,
    statistics,
    tank_requests,
)
from banso.programme import roster as roster_service
from banso.programme.endpoints import (
    Councils,
    acknowledgement_response,
    deliverable_response,
    deliverable_store,
    download_commission_request_file,
)
from banso.programme.models import MeasureKind, ProjectType
from banso.programme.schemas import CallText, CommissionText, GuidelineText, ProposalText
from banso.sealed import store as sealed
from banso.sealed.pending import Kept, keeping, kept_form, pending_uploads
from banso.sealed.uploads import FileKind, UploadRejected
from banso.web.csrf import verify_csrf
from banso.web.deps import Ctx, Db
from banso.web.forms import (
    FormProblems,
    bind,
    error_message,
    int_or_none,
    local_input,
    notice,
    parse_when,
    redirect,
    refused,
)
from banso.web.pages import PageUser
from banso.web.templating import render, translator_for

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
NO_STORE = {"Cache-Control": "no-store"}

NOTICES = frozenset({
    "created", "published", "panel", "submitted", "withdrawn", "declared", "scored", "decided", "committed",
    "disbursed", "milestone", "milestone_status", "tranche", "assessed", "commissioned", "acknowledged",
    "contact_named", "roster_added", "roster_removed", "task_done", "delivered", "completed", "cancelled", "adopted",
    "saved", "report_submitted", "report_decided", "declaration_reviewed", "report_filed", "evaluation_opened",
    "graded", "evaluation_completed", "assigned", "unassigned", "change_declared", "council_reproposed",
})
Short = Annotated[str, Form(max_length=300)]
Small = Annotated[str, Form(max_length=40)]
# A field of a form with a file: its length is checked by the service, so that a refusal keeps the file (issue 14);
# the app's body limit bounds it meanwhile.
Checked = Annotated[str, Form()]
Tokens = Annotated[list[str] | None, Form()]  # files kept from a refused submit (issue 14)
Text = Annotated[str, Form(max_length=20_000)]

# Form fields named in service messages, shown with the label the form uses (msgids of the templates).
FIELD_LABELS = {
    "code": "Call code", "title_ja": "Title (Japanese)", "title_en": "Title (English, optional)",
    "project_type": "Project type", "technology_codes": "Vision technologies", "cap_yen": "Cap (yen, whole period)",
    "first_fiscal_year": "First fiscal year", "period_years": "Period (fiscal years)", "opens_at": "Opens",
    "closes_at": "Closes", "officer_id": "Ministry officer", "title": "Title", "budget": "Budget plan by fiscal year",
    "core_technologies": "Core technologies", "leak_prevention": "Leak-prevention measures", "reason": "Reason",
    "amount": "Amount (yen)", "fiscal_year": "Fiscal year", "due_on": "Due date", "user_id": "Reviewer",
    "team": "Team members", "scores": "Your score", "outcome": "Panel outcome",
    "organization_id": "Institution", "starts_on": "Start date", "tasks": "Tasks (one a line: YYYY-MM-DD title)",
    "file": "File", "assessed_on": "Assessment date", "analysis_score": "Analysis capability",
    "hub_score": "Information hub capability", "talent_score": "Talent capability",
    "confidentiality_terms": "Confidentiality duty", "council_id": "Council",
    "summary": "Work done and results", "outputs": "Papers, patents and other outputs", "decision": "Decision",
    "note": "Note", "kind": "Kind", "evaluator_ids": "Evaluators", "has_conflict": "Conflict of interest",
    "grade": "Grade", "comment": "Comment", "result": "Overall result",
}


# ---------------------------------------------------------------------------------------------
# Helpers


def _refused(request: Request, db: Session, exc: BansoError,
             page: Callable[..., HTMLResponse]) -> HTMLResponse:
    """Answer a refused form with ``page`` re-rendered, its fields named as the programme forms label them."""
    return refused(request, db, exc, page, FIELD_LABELS, name_field=True)


def _int(value: str | None, field: str) -> int:
    """Return a number the form must carry (blank or anything but digits is a 4xx)."""
    found = int_or_none(value, field)
    if found is None:
        raise ValidationFailed(invalid_message(field), field=field)
    return found


def _common(ctx: Ctx) -> dict[str, Any]:
    now = ctx.clock.now()
    return {"now": now, "current_fy": rules.fiscal_year_at(now), "yen": rules.format_yen,
            "threshold": rules.DECLARATION_THRESHOLD_YEN}


# ---------------------------------------------------------------------------------------------
# Overview (F1, F3)


@router.get("/programme", response_class=HTMLResponse)
def overview(request: Request, principal: PageUser, db: Db, ctx: Ctx, done: str | None = None) -> HTMLResponse:
    """Show the technology registry, the ledgers the person may read and the way to the calls."""
    return _overview_page(request, principal, db, ctx, notice=notice(done, NOTICES))


def _overview_page(request: Request, principal: Principal, db: Session, ctx: Ctx, *, notice: str | None = None,
                   error: str | None = None, status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    page = pages.overview(db, actor=principal, now=ctx.clock.now())
    return render(request, "programme/overview.html", {
        **pages.context(page), "notice": notice, "error": error, "form": form or {}, **_common(ctx),
    }, status=status)


# ---------------------------------------------------------------------------------------------
# Basic guideline (F2)

MEASURE_ROWS = 5  # empty measure rows the adoption form offers below the prefilled ones
MAX_MEASURE_ROWS = 100
# Form fields of the adoption form named in service messages (msgids of guideline_new.html).
GUIDELINE_LABELS = {
    "code": "Guideline code", "title_ja": "Title (Japanese)", "title_en": "Title (English, optional)",
    "adopted_on": "Adoption date", "body": "Text of the guideline", "measures": "Measures",
}
_MEASURE_REF = re.compile(r"measures\[(\d+)\](?:\.(\w+))?( ?)")
_CODE_SPLIT = re.compile(r"[\s,、，]+")


def _guideline_message(request: Request, exc: BansoError) -> str:
    """Return a guideline service message with ``measures[i].field`` named as the form's row and label."""
    translator = translator_for(request)
    refers_to_row = bool(_MEASURE_REF.search(exc.message))
    field = exc.field if exc.field in GUIDELINE_LABELS and not refers_to_row else None
    # Re-raised with the field cleared where the message names a measure row; all problems of a bound form are
    # one ValidationFailed here (the first), as the measure rows are named in its text.
    kind = ValidationFailed if isinstance(exc, FormProblems) else type(exc)
    text = error_message(request, kind(exc.message, field=field), GUIDELINE_LABELS, name_field=True)

    def row(found: re.Match[str]) -> str:
        number = int(found.group(1)) + 1
        part = {"title_ja": "Title", "title_en": "Title", "body": "Description"}.get(found.group(2) or "")
        label = (translator.gettext("{field} of measure {number}", field=translator.gettext(part), number=number)
                 if part else translator.gettext("Measure {number}", number=number))
        return f"「{label}」" if translator.locale == "ja" else label + found.group(3)

    return _MEASURE_REF.sub(row, text)


def _blank_measure() -> dict[str, str]:
    return {"kind": "", "title": "", "body": "", "techs": "", "areas": ""}


def _guideline_form_page(request: Request, principal: Principal, db: Session, ctx: Ctx, *,
                         form: dict[str, Any] | None, base_id: int | None = None, error: str | None = None,
                         status: int = 200) -> HTMLResponse:
    page = pages.guideline_form(db, actor=principal, base_id=base_id, prefill=form is None)
    if form is None:
        base = page.base
        g = base.guideline if base else None
        measures = [{"kind": ms.kind, "title": ms.title_ja, "body": ms.body,
                     "techs": ", ".join(ms.technology_codes or []), "areas": ", ".join(ms.area_codes or [])}
                    for ms in (base.measures if base else [])]
        form = {"code": g.code if g else "", "title_ja": g.title_ja if g else "", "title_en": g.title_en if g else "",
                "adopted_on": to_jst(ctx.clock.now()).date().isoformat(), "body": g.body if g else "",
                "measures": measures}
    rows = list(form["measures"]) + [_blank_measure() for _ in range(MEASURE_ROWS)]
    form = {**form, "measures": rows[:max(len(form["measures"]) + 1, MEASURE_ROWS)]}
    return render(request, "programme/guideline_new.html", {
        **pages.context(page), "form": form, "kinds": [k.value for k in MeasureKind], "error": error,
        **_common(ctx),
    }, status=status)


@router.get("/programme/guidelines", response_class=HTMLResponse)
def guidelines_page(request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """List every version of the basic guideline, newest first (F2)."""
    return render(request, "programme/guidelines.html", {
        **pages.context(pages.guidelines(db, actor=principal)), **_common(ctx)})


@router.get("/programme/guidelines/new", response_class=HTMLResponse)
def new_guideline(request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  base: Annotated[int | None, Query(alias="from")] = None) -> HTMLResponse:
    """Show the form adopting a new version of a guideline, prefilled from ``from`` (agency staff, officers)."""
    return _guideline_form_page(request, principal, db, ctx, form=None, base_id=base)


def _measures(kinds: list[str], titles: list[str], bodies: list[str], techs: list[str],
              areas: list[str]) -> tuple[list[dict[str, str]], list[guideline.MeasureInput]]:
    """Return the typed measure rows (for re-rendering) and the non-empty ones as service input."""
    count = max(len(kinds), len(titles), len(bodies), len(techs), len(areas))
    if count > MAX_MEASURE_ROWS:
        raise ValidationFailed(f"施策は{MAX_MEASURE_ROWS}件までです / measures: at most {MAX_MEASURE_ROWS} rows",
                               field="measures")

    def at(values: list[str], i: int) -> str:
        return values[i] if i < len(values) else ""

    rows = [{"kind": at(kinds, i).strip(), "title": at(titles, i), "body": at(bodies, i).replace("\r\n", "\n"),
             "techs": at(techs, i), "areas": at(areas, i)} for i in range(count)]
    typed = [r for r in rows if any(r[k].strip() for k in ("title", "body", "techs", "areas"))]
    return typed, [guideline.MeasureInput(kind=r["kind"], title_ja=r["title"], body=r["body"],
                                          technology_codes=[c for c in _CODE_SPLIT.split(r["techs"]) if c],
                                          area_codes=[c for c in _CODE_SPLIT.split(r["areas"]) if c])
                   for r in typed]


@router.post("/programme/guidelines", response_class=HTMLResponse, dependencies=[Csrf])
def adopt_guideline(request: Request, principal: PageUser, db: Db, ctx: Ctx, code: Small = "",
                    title_ja: Short = "", title_en: Short = "", adopted_on: Small = "",
                    body: Annotated[str, Form(max_length=100_000)] = "",
                    measure_kind: Annotated[list[str] | None, Form()] = None,
                    measure_title: Annotated[list[str] | None, Form()] = None,
                    measure_body: Annotated[list[str] | None, Form()] = None,
                    measure_techs: Annotated[list[str] | None, Form()] = None,
                    measure_areas: Annotated[list[str] | None, Form()] = None) -> Response:
    """Adopt a new version of a guideline with its measures (the same permission as the API)."""
    form: dict[str, Any] = {"code": code, "title_ja": title_ja, "title_en": title_en, "adopted_on": adopted_on,
                            "body": body, "measures": []}
    try:
        rows, measures = _measures(measure_kind or [], measure_title or [], measure_body or [], measure_techs or [],
                                   measure_areas or [])
        form["measures"] = rows
        adopted = _date_input(adopted_on, "adopted_on")
        text = bind(GuidelineText, {"code": code, "title_ja": title_ja, "title_en": title_en,
                                    "body": body.replace("\r\n", "\n")})
        row = guideline.adopt_guideline(
            db, code=text.code, title_ja=text.title_ja, title_en=text.title_en, adopted_on=adopted, body=text.body,
            measures=measures, now=ctx.clock.now(), actor=principal)
    except Forbidden:
        raise
    except BansoError as exc:
        message = _guideline_message(request, exc)  # names the measure rows as the form shows them
        return refused(request, db, exc, lambda error, status: _guideline_form_page(
            request, principal, db, ctx, form=form, error=message, status=status))
    return redirect(f"/programme/guidelines/{row.id}", "adopted")


@router.get("/programme/guidelines/{guideline_id}", response_class=HTMLResponse)
def guideline_page(guideline_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                   done: str | None = None) -> HTMLResponse:
    """Show one version of the basic guideline with its measures and the technologies they name (F2)."""
    page = pages.guideline_page(db, guideline_id=guideline_id, actor=principal)
    return render(request, "programme/guideline.html", {**pages.context(page), "notice": notice(done, NOTICES),
                                                         **_common(ctx)})


@router.post("/programme/agencies/{code}/tranches", response_class=HTMLResponse, dependencies=[Csrf])
def add_tranche(code: str, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                fiscal_year: Small = "", amount: Small = "", memo: Short = "") -> Response:
    """Record a budget tranche for a fiscal year (the agency's staff)."""
    try:
        service.add_tranche(db, agency_code=code, fiscal_year=_int(fiscal_year, "fiscal_year"), amount=amount,
                            memo=memo, now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        form = {"agency": code, "fiscal_year": fiscal_year, "amount": amount, "memo": memo}
        return _refused(request, db, exc, partial(_overview_page, request, principal, db, ctx, form=form))
    return redirect("/programme", "tranche", "ledger")


@router.get("/programme/ledger/{code}.xlsx")
def ledger_workbook(code: str, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Download the agency's ledger as an Excel workbook (its staff; audited export)."""
    content = exports.ledger_workbook(db, agency_code=code, actor=principal, now=ctx.clock.now())
    return Response(content, media_type=exports.XLSX_MEDIA_TYPE, headers={
        **NO_STORE, "Content-Disposition": content_disposition(f"ledger-{code.upper()}.xlsx")})


@router.get("/programme/calls.xlsx")
def calls_workbook(principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Download statistics of the calls the person may see (audited export)."""
    content = exports.call_statistics_workbook(db, actor=principal, now=ctx.clock.now())
    return Response(content, media_type=exports.XLSX_MEDIA_TYPE, headers={
        **NO_STORE, "Content-Disposition": content_disposition("calls.xlsx")})


# ---------------------------------------------------------------------------------------------
# Calls (F3)


@router.get("/programme/calls", response_class=HTMLResponse)
def calls(request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """List the calls the person may see (published ones, and drafts of their own agency)."""
    page = pages.calls(db, actor=principal, now=ctx.clock.now())
    return render(request, "programme/calls.html", {**pages.context(page), **_common(ctx)})


def _new_call_page(request: Request, principal: Principal, db: Session, ctx: Ctx, *, form: dict[str, Any] | None,
                   error: str | None = None, status: int = 200) -> HTMLResponse:
    page = pages.new_call(db, actor=principal)
    now = ctx.clock.now()
    values = form or {
        "agency_code": page.agencies[0].code, "code": "", "title_ja": "", "title_en": "", "project_type": "project",
        "technology_codes": [], "cap_yen": "", "first_fiscal_year": str(rules.fiscal_year_at(now)),
        "period_years": "3", "opens_at": local_input(now), "closes_at": local_input(now + timedelta(days=60)),
        "officer_id": "", "description": "",
    }
    return render(request, "programme/call_new.html", {
        **pages.context(page), "form": values, "project_types": [p.value for p in ProjectType], "error": error,
        **_common(ctx),
    }, status=status)


@router.get("/programme/calls/new", response_class=HTMLResponse)
def new_call(request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """Show the call form (the agency's staff)."""
    return _new_call_page(request, principal, db, ctx, form=None)


@router.post("/programme/calls", response_class=HTMLResponse, dependencies=[Csrf])
def create_call(request: Request, principal: PageUser, db: Db, ctx: Ctx, agency_code: Small = "",
                code: Small = "", title_ja: Short = "", title_en: Short = "", project_type: Small = "",
                technology_codes: Annotated[list[str] | None, Form()] = None, cap_yen: Small = "",
                first_fiscal_year: Small = "", period_years: Small = "", opens_at: Small = "",
                closes_at: Small = "", officer_id: Small = "", description: Text = "") -> Response:
    """Create a draft call; it is published from its page."""
    techs = [t for t in (technology_codes or []) if t]
    form = {"agency_code": agency_code, "code": code, "title_ja": title_ja, "title_en": title_en,
            "project_type": project_type, "technology_codes": techs, "cap_yen": cap_yen,
            "first_fiscal_year": first_fiscal_year, "period_years": period_years, "opens_at": opens_at,
            "closes_at": closes_at, "officer_id": officer_id, "description": description}
    try:
        text = bind(CallText, {"title_ja": title_ja, "title_en": title_en, "description": description})
        call = service.create_call(
            db, agency_code=agency_code or "-", code=code, title_ja=text.title_ja, title_en=text.title_en,
            project_type=project_type, technology_codes=techs, cap_yen=cap_yen,
            first_fiscal_year=_int(first_fiscal_year, "first_fiscal_year"),
            period_years=_int(period_years, "period_years"), opens_at=parse_when(opens_at, "opens_at"),
            closes_at=parse_when(closes_at, "closes_at"), officer_id=_int(officer_id, "officer_id"),
            description=text.description, now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_new_call_page, request, principal, db, ctx, form=form))
    return redirect(f"/programme/calls/{call.id}", "created")


def _call_page(request: Request, principal: Principal, db: Session, ctx: Ctx, call_id: int, *,
               notice: str | None = None, error: str | None = None, error_at: str | None = None,
               status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    page = pages.call_page(db, call_id=call_id, actor=principal, now=ctx.clock.now())
    return render(request, "programme/call.html", {
        **pages.context(page), "notice": notice, "error": error, "error_at": error_at, "form": form or {},
        **_common(ctx),
    }, status=status)


@router.get("/programme/calls/{call_id}", response_class=HTMLResponse)
def call_page(call_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
              done: str | None = None) -> HTMLResponse:
    """Show a call: agency, technologies, type, cap, window, state; staff manage it here."""
    return _call_page(request, principal, db, ctx, call_id, notice=notice(done, NOTICES))


@router.post("/programme/calls/{call_id}/publish", response_class=HTMLResponse, dependencies=[Csrf])
def publish_call(call_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Publish a draft call."""
    try:
        service.publish_call(db, call_id=call_id, now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_call_page, request, principal, db, ctx, call_id,
                                                  error_at="publish"))
    return redirect(f"/programme/calls/{call_id}", "published")


@router.post("/programme/calls/{call_id}/panel", response_class=HTMLResponse, dependencies=[Csrf])
def add_panel_member(call_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                     user_id: Small = "") -> Response:
    """Put a reviewer on the call's panel."""
    try:
        service.add_panel_member(db, call_id=call_id, user_id=_int(user_id, "user_id"), now=ctx.clock.now(),
                                 actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_call_page, request, principal, db, ctx, call_id,
                                                  error_at="panel"))
    return redirect(f"/programme/calls/{call_id}", "panel", "panel")


# ---------------------------------------------------------------------------------------------
# Proposals (F3, F4)


_SHEET_KEYS = ("equipment", "travel", "personnel", "other")


def _propose_page(request: Request, principal: Principal, db: Session, ctx: Ctx, call_id: int, *,
                  form: dict[str, Any] | None, error: str | None = None, error_field: str | None = None,
                  status: int = 200, form_action: str | None = None) -> HTMLResponse:
    page = pages.propose_form(db, call_id=call_id, actor=principal, now=ctx.clock.now())
    values = form or {"title": "", "summary": "", "budget": {}, "sheet": {}, "team": "", "lead_effort": "",
                      "core_technologies": "", "leak_prevention": ""}
    return render(request, "programme/propose.html", {
        **pages.context(page), "form": values, "error": error, "error_field": error_field, **_common(ctx),
        "categories": pages.sheet_categories(), "form_action": form_action,
    }, status=status)


@router.get("/programme/calls/{call_id}/propose", response_class=HTMLResponse)
def propose_form(call_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """Show the proposal form: title, summary, team, budget sheet in 千円, F4 declaration."""
    return _propose_page(request, principal, db, ctx, call_id, form=None)


def _sheet(years: list[str], columns: dict[str, list[str]]) -> dict[str, dict[str, str]]:
    """Return the sheet cells a form posted (one list per category, aligned with the fiscal years)."""
    sheet: dict[str, dict[str, str]] = {}
    for key, values in columns.items():
        for fy, value in zip(years, values, strict=False):
            if value.strip():
                sheet.setdefault(fy, {})[key] = value.strip()
    return sheet


def _entered(db: Session, form: dict[str, Any]) -> service.ProposalInput:
    text = bind(ProposalText, {k: form[k] for k in ("title", "summary", "core_technologies", "leak_prevention")})
    sheet, plan = form["sheet"], form["budget"]
    return service.ProposalInput(
        title=text.title, summary=text.summary, budget_sheet=sheet or None, budget=None if sheet else plan, team=service.team_from_lines(db, form["team"].splitlines()),
        lead_effort=_effort(form["lead_effort"]), core_technologies=text.core_technologies,
        leak_prevention=text.leak_prevention)


def _effort(value: str) -> int | None:
    text = value.strip().removesuffix("%").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 3:
        raise ValidationFailed("エフォートは1〜100の整数（%）です / effort is a whole percentage 1–100", field="lead_effort")
    return int(text)


Cells = Annotated[list[str] | None, Form()]


@router.post("/programme/calls/{call_id}/proposals", response_class=HTMLResponse, dependencies=[Csrf])
def submit_proposal(call_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                    title: Short = "", summary: Text = "", team: Annotated[str, Form(max_length=5000)] = "",
                    budget_fy: Cells = None, budget: Cells = None, sheet_fy: Cells = None,
                    sheet_equipment: Cells = None, sheet_travel: Cells = None, sheet_personnel: Cells = None,
                    sheet_other: Cells = None, lead_effort: Small = "", action: Small = "",
                    core_technologies: Text = "", leak_prevention: Text = "") -> Response:
    """Save a proposal: as a draft (一時保存), as a draft shown on its confirmation page (確認画面), or — a form
    without ``action``, as before — submitted at once; every rule is checked by the service."""
    plan = {fy: amount.strip() for fy, amount in zip(budget_fy or [], budget or [], strict=False)
            if amount.strip()}
    sheet = _sheet(sheet_fy or [], {"equipment": sheet_equipment or [], "travel": sheet_travel or [],
                                    "personnel": sheet_personnel or [], "other": sheet_other or []})
    form = {"title": title, "summary": summary, "team": team, "budget": plan, "sheet": sheet,
            "lead_effort": lead_effort, "core_technologies": core_technologies, "leak_prevention": leak_prevention}
    try:
        proposal = service.save_proposal(db, call_id=call_id, entered=_entered(db, form), now=ctx.clock.now(),
                                         actor=principal, draft=action in ("draft", "confirm"))
    except BansoError as exc:
        return _refused(request, db, exc, partial(_propose_page, request, principal, db, ctx, call_id,
                                                  form=form, error_field=exc.field))
    if action == "confirm":
        return redirect(f"/programme/proposals/{proposal.id}/confirm")
    return redirect(f"/programme/proposals/{proposal.id}", "saved" if action == "draft" else "submitted")


@router.get("/programme/proposals/{proposal_id}/edit", response_class=HTMLResponse)
def edit_form(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """Show the proposal form filled with one's draft or submitted proposal (until the call closes)."""
    entered = service.proposal_input(db, proposal_id=proposal_id, actor=principal, now=ctx.clock.now())
    proposal = service.get_proposal(db, proposal_id=proposal_id, actor=principal, now=ctx.clock.now()).proposal
    emails = service.team_emails(db, entered.team)
    form = {"title": entered.title, "summary": entered.summary, "budget": {}, "sheet": entered.budget_sheet or {},
            "team": "\n".join(emails), "lead_effort": str(entered.lead_effort or ""),
            "core_technologies": entered.core_technologies or "", "leak_prevention": entered.leak_prevention or ""}
    return _propose_page(request, principal, db, ctx, proposal.call_id, form=form,
                         form_action=f"/programme/proposals/{proposal_id}/edit")


@router.post("/programme/proposals/{proposal_id}/edit", response_class=HTMLResponse, dependencies=[Csrf])
def edit_proposal(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  title: Short = "", summary: Text = "", team: Annotated[str, Form(max_length=5000)] = "",
                  sheet_fy: Cells = None, sheet_equipment: Cells = None, sheet_travel: Cells = None,
                  sheet_personnel: Cells = None, sheet_other: Cells = None, lead_effort: Small = "",
                  action: Small = "", core_technologies: Text = "", leak_prevention: Text = "") -> Response:
    """Save an edit of one's draft or submitted proposal (audited); a draft then shows its confirmation page."""
    sheet = _sheet(sheet_fy or [], {"equipment": sheet_equipment or [], "travel": sheet_travel or [],
                                    "personnel": sheet_personnel or [], "other": sheet_other or []})
    form = {"title": title, "summary": summary, "team": team, "budget": {}, "sheet": sheet,
            "lead_effort": lead_effort, "core_technologies": core_technologies, "leak_prevention": leak_prevention}
    now = ctx.clock.now()
    try:
        proposal = service.update_proposal(db, proposal_id=proposal_id, entered=_entered(db, form), now=now,
                                           actor=principal)
    except BansoError as exc:
        call_id = service.get_proposal(db, proposal_id=proposal_id, actor=principal, now=now).proposal.call_id
        return _refused(request, db, exc, partial(_propose_page, request, principal, db, ctx, call_id, form=form,
                                                  error_field=exc.field,
                                                  form_action=f"/programme/proposals/{proposal_id}/edit"))
    if proposal.state == "draft" and action != "draft":
        return redirect(f"/programme/proposals/{proposal.id}/confirm")
    return redirect(f"/programme/proposals/{proposal.id}", "saved")


@router.get("/programme/proposals/{proposal_id}/confirm", response_class=HTMLResponse)
def confirm_page(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """Show one's proposal as it will be submitted (確認画面), with the Submit button while it is a draft."""
    page = pages.proposal_page(db, proposal_id=proposal_id, actor=principal, now=ctx.clock.now())
    if not page.may_edit:
        raise NotFound("ページが見つかりません / page not found")
    return render(request, "programme/proposal_confirm.html", {**pages.context(page), "error": None, **_common(ctx)})


@router.post("/programme/proposals/{proposal_id}/submit", response_class=HTMLResponse, dependencies=[Csrf])
def submit_draft(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                 councils: Councils) -> Response:
    """Submit a confirmed draft: the receipt number (受付番号) is given and sent to the proposer."""
    try:
        service.submit_draft(db, proposal_id=proposal_id, now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_proposal_page, request, principal, db, ctx, proposal_id,
                                                  councils=councils))
    return redirect(f"/programme/proposals/{proposal_id}", "submitted")


@router.get("/programme/proposals/{proposal_id}/budget.xlsx", response_class=Response)
def budget_workbook(proposal_id: int, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Download the proposal's budget sheet as Excel (amounts in 千円)."""
    content = service.budget_workbook(db, proposal_id=proposal_id, actor=principal, now=ctx.clock.now())
    return Response(content, media_type=exports.XLSX_MEDIA_TYPE, headers={
        **NO_STORE, "Content-Disposition": content_disposition(f"budget-{proposal_id}.xlsx")})


@router.post("/programme/proposals/{proposal_id}/budget", response_class=HTMLResponse, dependencies=[Csrf])
def import_budget(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, councils: Councils,
                  file: Annotated[UploadFile | None, File()] = None) -> Response:
    """Replace the budget sheet of one's editable proposal from an Excel file (the download's layout)."""
    try:
        if file is None or not file.filename:  # refused on the page, in the reader's language (issue 14)
            raise ValidationFailed("ファイルを選んでください / choose a file", field="file")
        content = file.file.read(budget_excel.MAX_FILE_BYTES + 1)
        service.import_budget(db, proposal_id=proposal_id, data=content, now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_proposal_page, request, principal, db, ctx, proposal_id,
                                                  councils=councils))
    return redirect(f"/programme/proposals/{proposal_id}", "saved")


def _proposal_page(request: Request, principal: Principal, db: Session, ctx: Ctx, proposal_id: int, *,
                   councils: Any, notice: str | None = None, error: str | None = None, error_at: str | None = None,
                   status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    page = pages.proposal_page(db, proposal_id=proposal_id, actor=principal, now=ctx.clock.now())
    return render(request, "programme/proposal.html", {
        **pages.context(page), "notice": notice, "error": error, "error_at": error_at, "form": form or {},
        **_common(ctx),
    }, status=status)


@router.get("/programme/proposals/{proposal_id}", response_class=HTMLResponse)
def proposal_page(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, councils: Councils,
                  done: str | None = None) -> HTMLResponse:
    """Show a proposal to its team, the agency's staff and cleared reviewers; everyone else gets 404."""
    return _proposal_page(request, principal, db, ctx, proposal_id, councils=councils, notice=notice(done, NOTICES))


@router.post("/programme/proposals/{proposal_id}/withdraw", response_class=HTMLResponse, dependencies=[Csrf])
def withdraw(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
             councils: Councils) -> Response:
    """Withdraw one's own proposal before the decision."""
    try:
        service.withdraw_proposal(db, proposal_id=proposal_id, now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_proposal_page, request, principal, db, ctx, proposal_id,
                                                  councils=councils, error_at="withdraw"))
    return redirect(f"/programme/proposals/{proposal_id}", "withdrawn")


# ---------------------------------------------------------------------------------------------
# Review


def _queue_page(request: Request, principal: Principal, db: Session, ctx: Ctx, *, notice: str | None = None,
                error: str | None = None, error_at: int | None = None, status: int = 200,
                form: dict[str, Any] | None = None) -> HTMLResponse:
    page = pages.review_queue(db, actor=principal, now=ctx.clock.now())
    return render(request, "programme/review.html", {
        **pages.context(page), "notice": notice, "error": error, "error_at": error_at, "form": form or {},
        **_common(ctx),
    }, status=status)


@router.get("/programme/review", response_class=HTMLResponse)
def review_queue(request: Request, principal: PageUser, db: Db, ctx: Ctx, done: str | None = None) -> HTMLResponse:
    """List the proposals a panel reviewer may declare conflicts on (title and organisation only)."""
    return _queue_page(request, principal, db, ctx, notice=notice(done, NOTICES))


@router.post("/programme/proposals/{proposal_id}/conflict", response_class=HTMLResponse, dependencies=[Csrf])
def declare_conflict(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                     has_conflict: Small = "", reason: Annotated[str, Form(max_length=2000)] = "",
                     grounds: Annotated[list[str] | None, Form(max_length=40)] = None) -> Response:
    """Declare a conflict of interest with its grounds (hidden for good) or none (then read and score, F6)."""
    try:
        if has_conflict not in ("yes", "no"):
            raise ValidationFailed("利益相反の有無を選んでください / Choose whether you have a conflict of interest",
                                   field="has_conflict")
        service.declare_conflict(db, proposal_id=proposal_id, has_conflict=has_conflict == "yes", reason=reason,
                                 grounds=grounds or None,  # none ticked: the yes/no answer alone, as before
                                 now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_queue_page, request, principal, db, ctx,
                                                  error_at=proposal_id,
                                                  form={"reason": reason, "has_conflict": has_conflict}))
    if has_conflict == "yes":
        return redirect("/programme/review", "declared")
    target = pages.after_declaring(db, proposal_id=proposal_id, now=ctx.clock.now())
    return redirect(target, "declared", "score" if target != "/programme/review" else None)


@router.post("/programme/proposals/{proposal_id}/score", response_class=HTMLResponse, dependencies=[Csrf])
def score(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, councils: Councils,
          criterion: Annotated[list[str] | None, Form()] = None, value: Annotated[list[str] | None, Form()] = None,
          comment: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Score against the call's rubric: one ``criterion``/``value`` pair per criterion (1–5)."""
    values: dict[str, object] = {}
    for key, text in zip(criterion or [], value or [], strict=False):
        text = text.strip()
        values[key[:60]] = int(text) if text.isdigit() and len(text) < 3 else text
    try:
        service.score_proposal(db, proposal_id=proposal_id, scores=values, comment=comment, now=ctx.clock.now(),
                               actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_proposal_page, request, principal, db, ctx, proposal_id,
                                                  councils=councils, error_at="score",
                                                  form={"scores": values, "comment": comment}))
    return redirect(f"/programme/proposals/{proposal_id}", "scored", "score")


@router.post("/programme/proposals/{proposal_id}/decision", response_class=HTMLResponse, dependencies=[Csrf])
def decide(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, councils: Councils,
           outcome: Small = "", reason: Annotated[str, Form(max_length=5000)] = "",
           notice_reason: Annotated[str, Form(max_length=3000)] = "") -> Response:
    """Record the panel decision and send the notice with the reasons given; adoption creates the project (C2)."""
    try:
        service.decide(db, proposal_id=proposal_id, outcome=outcome, reason=reason, notice_reason=notice_reason,
                       now=ctx.clock.now(), actor=principal, councils=councils)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_proposal_page, request, principal, db, ctx, proposal_id,
                                                  councils=councils, error_at="decision",
                                                  form={"outcome": outcome, "reason": reason,
                                                        "notice_reason": notice_reason}))
    return redirect(f"/programme/proposals/{proposal_id}", "decided", "decision")


# ---------------------------------------------------------------------------------------------
# Reviewers per proposal, the panel view, integrity, duplication (F6)


def _panel_page(request: Request, principal: Principal, db: Session, ctx: Ctx, call_id: int, *,
                notice: str | None = None, error: str | None = None, error_at: int | None = None,
                status: int = 200) -> HTMLResponse:
    view = review.panel_view(db, call_id=call_id, actor=principal, now=ctx.clock.now())
    return render(request, "programme/panel.html", {
        "view": view, "notice": notice, "error": error, "error_at": error_at,
        "ground_labels": integrity.GROUND_LABELS, **_common(ctx)}, status=status)


@router.get("/programme/calls/{call_id}/review-panel", response_class=HTMLResponse)
def panel_page(call_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
               done: str | None = None) -> HTMLResponse:
    """The panel meeting view (審査会): every proposal with its reviewers' scores and comments (staff; audited)."""
    return _panel_page(request, principal, db, ctx, call_id, notice=notice(done, NOTICES))


@router.post("/programme/proposals/{proposal_id}/reviewers", response_class=HTMLResponse, dependencies=[Csrf])
def assign_reviewer(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                    call_id: Small = "", reviewer_id: Small = "") -> Response:
    """Assign a reviewer to one proposal from the panel page."""
    back = _int(call_id, "call_id")
    try:
        review.assign_reviewer(db, proposal_id=proposal_id, reviewer_id=_int(reviewer_id, "user_id"),
                               now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_panel_page, request, principal, db, ctx, back,
                                                  error_at=proposal_id))
    return redirect(f"/programme/calls/{back}/review-panel", "assigned", f"p{proposal_id}")


@router.post("/programme/proposals/{proposal_id}/reviewers/{reviewer_id}/remove", response_class=HTMLResponse,
             dependencies=[Csrf])
def unassign_reviewer(proposal_id: int, reviewer_id: int, request: Request, principal: PageUser, db: Db,
                      ctx: Ctx, call_id: Small = "") -> Response:
    """Take a reviewer off a proposal (before they scored it)."""
    back = _int(call_id, "call_id")
    try:
        review.unassign_reviewer(db, proposal_id=proposal_id, reviewer_id=reviewer_id, now=ctx.clock.now(),
                                 actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_panel_page, request, principal, db, ctx, back,
                                                  error_at=proposal_id))
    return redirect(f"/programme/calls/{back}/review-panel", "unassigned", f"p{proposal_id}")


@router.get("/programme/calls/{call_id}/review-panel.xlsx")
def panel_workbook(call_id: int, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Download the panel view as an Excel workbook (the call's agency staff; audited export)."""
    content = exports.panel_workbook(db, call_id=call_id, actor=principal, now=ctx.clock.now())
    return Response(content, media_type=exports.XLSX_MEDIA_TYPE, headers={
        **NO_STORE, "Content-Disposition": content_disposition(f"panel-{call_id}.xlsx")})


@router.get("/programme/duplication.xlsx")
def duplication_workbook(principal: PageUser, db: Db, ctx: Ctx,
                         call_id: Annotated[str | None, Query(max_length=12)] = None) -> Response:
    """Download the duplication and concentration flags as an Excel workbook (agency staff; audited export)."""
    content = exports.duplication_workbook(db, actor=principal, now=ctx.clock.now(),
                                           call_id=int_or_none(call_id, "call_id"))
    return Response(content, media_type=exports.XLSX_MEDIA_TYPE, headers={
        **NO_STORE, "Content-Disposition": content_disposition("duplication.xlsx")})


@router.get("/programme/statistics", response_class=HTMLResponse)
def statistics_page(request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """Call statistics for the agency's staff: proposals by status, adoption rate, review progress (audited)."""
    stats = statistics.call_statistics(db, actor=principal, now=ctx.clock.now())
    return render(request, "programme/statistics.html", {"stats": stats, **_common(ctx)})


@router.get("/programme/duplication", response_class=HTMLResponse)
def duplication_page(request: Request, principal: PageUser, db: Db, ctx: Ctx,
                     call_id: Annotated[str | None, Query(max_length=12)] = None) -> HTMLResponse:
    """Duplication and concentration flags (不合理な重複・過度の集中) for the agency's staff (audited)."""
    flags = review.duplication_flags(db, actor=principal, now=ctx.clock.now(),
                                     call_id=int_or_none(call_id, "call_id"))
    return render(request, "programme/duplication.html", {
        "flags": flags, "threshold": integrity.SIMILAR_TITLE_THRESHOLD, "limit": integrity.EFFORT_LIMIT,
        **_common(ctx)})


def _integrity_page(request: Request, principal: Principal, db: Session, ctx: Ctx, proposal_id: int, *,
                    notice: str | None = None, error: str | None = None, status: int = 200,
                    form: dict[str, Any] | None = None) -> HTMLResponse:
    view = review.integrity_of(db, proposal_id=proposal_id, actor=principal, now=ctx.clock.now())
    return render(request, "programme/integrity.html", {
        "view": view, "notice": notice, "error": error, "form": form or {}, "kinds": integrity.KIND_LABELS,
        "statement_ja": integrity.STATEMENT_JA, "statement_en": integrity.STATEMENT_EN,
        **_common(ctx)}, status=status)


@router.get("/programme/proposals/{proposal_id}/integrity", response_class=HTMLResponse)
def integrity_page(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                   done: str | None = None) -> HTMLResponse:
    """A proposal's integrity disclosures, signatures and changes after adoption (applicants and staff)."""
    return _integrity_page(request, principal, db, ctx, proposal_id, notice=notice(done, NOTICES))


@router.post("/programme/proposals/{proposal_id}/integrity/changes", response_class=HTMLResponse,
             dependencies=[Csrf])
def declare_change(proposal_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                   kind: Small = "", name: Short = "", agency: Short = "", amount: Small = "", effort: Small = "",
                   foreign: Small = "", reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Declare a change to the disclosures after adoption (採択後の変更申告; audited)."""
    entered = {"kind": kind, "name": name, "agency": agency, "amount": amount, "effort": effort,
               "foreign": foreign, "reason": reason}
    try:
        line = integrity.DisclosureLine(
            kind=kind, name=name, agency=agency or None,
            amount_yen=budget.parse_thousand_yen(amount, field="amount") if amount.strip() else None,
            effort_percent=int_or_none(effort, "effort"), foreign=foreign == "yes")
        review.declare_change(db, proposal_id=proposal_id, line=line, reason=reason, now=ctx.clock.now(),
                              actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_integrity_page, request, principal, db, ctx, proposal_id,
                                                  form=entered))
    return redirect(f"/programme/proposals/{proposal_id}/integrity", "change_declared", "changes")


# ---------------------------------------------------------------------------------------------
# Projects (C2)


@router.get("/programme/projects", response_class=HTMLResponse)
def projects(request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """List the projects the person may see."""
    return render(request, "programme/projects.html", {**pages.context(pages.projects(db, actor=principal)),
                                                        **_common(ctx)})


def _project_page(request: Request, principal: Principal, db: Session, ctx: Ctx, project_id: int, *,
                  councils: Any, notice: str | None = None, error: str | None = None, error_at: str | None = None,
                  status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    page = pages.project_page(db, project_id=project_id, actor=principal, councils=councils)
    reports = reporting.project_reports(db, project_id=project_id, actor=principal, now=ctx.clock.now())
    evals = evaluations.project_evaluations(db, project_id=project_id, actor=principal)
    return render(request, "programme/project.html", {
        **pages.context(page), "reports": reports, "is_overdue": reporting.is_overdue, "dois": reporting.dois,
        "evals": evals,
        "notice": notice, "error": error, "error_at": error_at, "form": form or {},
        **_common(ctx),
    }, status=status)


@router.get("/programme/projects/{project_id}", response_class=HTMLResponse)
def project_page(project_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, councils: Councils,
                 done: str | None = None) -> HTMLResponse:
    """Show a project: plan, commitments, disbursements, milestones and its council (C2)."""
    return _project_page(request, principal, db, ctx, project_id, councils=councils, notice=notice(done, NOTICES))


def _project_error(request: Request, principal: Principal, db: Session, ctx: Ctx, project_id: int, councils: Any,
                   exc: BansoError, where: str, form: dict[str, Any]) -> HTMLResponse:
    return _refused(request, db, exc, partial(_project_page, request, principal, db, ctx, project_id,
                                              councils=councils, error_at=where, form=form))


@router.post("/programme/projects/{project_id}/commitments", response_class=HTMLResponse, dependencies=[Csrf])
def commit_funds(project_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, councils: Councils,
                 fiscal_year: Small = "", amount: Small = "", memo: Short = "") -> Response:
    """Commit (配分決定) part of the plan for a fiscal year."""
    try:
        service.commit_funds(db, project_id=project_id, fiscal_year=_int(fiscal_year, "fiscal_year"), amount=amount,
                             memo=memo or None, now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _project_error(request, principal, db, ctx, project_id, councils, exc, "commit",
                              {"commit_fy": fiscal_year, "commit_amount": amount, "commit_memo": memo})
    return redirect(f"/programme/projects/{project_id}", "committed", "money")


@router.post("/programme/projects/{project_id}/council", response_class=HTMLResponse, dependencies=[Csrf])
def repropose_council(project_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                      councils: Councils) -> Response:
    """Propose the project's council again after it lapsed or was dissolved (issue 13)."""
    try:
        service.repropose_council(db, project_id=project_id, now=ctx.clock.now(), actor=principal, councils=councils)
    except BansoError as exc:
        return _project_error(request, principal, db, ctx, project_id, councils, exc, "council", {})
    return redirect(f"/programme/projects/{project_id}", "council_reproposed", "council")


@router.post("/programme/projects/{project_id}/disbursements", response_class=HTMLResponse, dependencies=[Csrf])
def disburse(project_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, councils: Councils,
             amount: Small = "", memo: Short = "") -> Response:
    """Pay from the commitment; refused (409) until the project's council is established (C2)."""
    try:
        service.disburse(db, project_id=project_id, amount=amount, memo=memo or None, now=ctx.clock.now(),
                         actor=principal, councils=councils)
    except BansoError as exc:
        return _project_error(request, principal, db, ctx, project_id, councils, exc, "disburse",
                              {"pay_amount": amount, "pay_memo": memo})
    return redirect(f"/programme/projects/{project_id}", "disbursed", "money")


@router.post("/programme/projects/{project_id}/milestones", response_class=HTMLResponse, dependencies=[Csrf])
def add_milestone(project_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, councils: Councils,
                  title: Short = "", due_on: Small = "") -> Response:
    """Add a milestone within the project period."""
    try:
        try:
            due = datetime.fromisoformat(due_on.strip()).date()
        except ValueError:
            raise ValidationFailed("期日が正しくありません / due_on is not a valid date", field="due_on") from None
        check_moment(due, "due_on")
        service.add_milestone(db, project_id=project_id, title=title, due_on=due, now=ctx.clock.now(),
                              actor=principal)
    except BansoError as exc:
        return _project_error(request, principal, db, ctx, project_id, councils, exc, "milestone",
                              {"ms_title": title, "ms_due": due_on})
    return redirect(f"/programme/projects/{project_id}", "milestone", "milestones")


@router.post("/programme/projects/{project_id}/milestones/{milestone_id}", response_class=HTMLResponse,
             dependencies=[Csrf])
def set_milestone(project_id: int, milestone_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  councils: Councils, status: Small = "", note: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Record a stage-gate result (achieved / missed) for a milestone."""
    try:
        service.set_milestone_status(db, project_id=project_id, milestone_id=milestone_id, status=status, note=note,
                                     now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _project_error(request, principal, db, ctx, project_id, councils, exc, "milestones", {})
    return redirect(f"/programme/projects/{project_id}", "milestone_status", "milestones")



# ---------------------------------------------------------------------------------------------
# After adoption: results reports and the F4 declaration review (F4, F6)


@router.post("/programme/projects/{project_id}/reports/{report_id}/submit", response_class=HTMLResponse,
             dependencies=[Csrf])
def submit_report(project_id: int, report_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  councils: Councils, summary: Text = "", outputs: Text = "") -> Response:
    """Submit (or resubmit) a results report: the research representative only."""
    try:
        reporting.submit_report(db, project_id=project_id, report_id=report_id, summary=summary, outputs=outputs,
                                now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _project_error(request, principal, db, ctx, project_id, councils, exc, f"report-{report_id}",
                              {f"summary_{report_id}": summary, f"outputs_{report_id}": outputs})
    return redirect(f"/programme/projects/{project_id}", "report_submitted", "reports")


@router.post("/programme/projects/{project_id}/reports/{report_id}/file", response_class=HTMLResponse,
             dependencies=[Csrf])
def file_report(project_id: int, report_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                councils: Councils, deps: InfoDeps) -> Response:
    """Provide a submitted report to the project's council as a researcher-generated result (I1)."""
    try:
        reporting.file_as_result(db, deps, project_id=project_id, report_id=report_id, now=ctx.clock.now(),
                                 actor=principal)
    except BansoError as exc:
        return _project_error(request, principal, db, ctx, project_id, councils, exc, f"report-{report_id}", {})
    return redirect(f"/programme/projects/{project_id}", "report_filed", "reports")


@router.post("/programme/projects/{project_id}/reports/{report_id}/decision", response_class=HTMLResponse,
             dependencies=[Csrf])
def decide_report(project_id: int, report_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  councils: Councils, decision: Small = "",
                  note: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Accept a submitted report, or return it with a note (the agency's staff)."""
    try:
        reporting.decide_report(db, project_id=project_id, report_id=report_id, decision=decision, note=note,
                                now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _project_error(request, principal, db, ctx, project_id, councils, exc, f"report-{report_id}",
                              {f"note_{report_id}": note})
    return redirect(f"/programme/projects/{project_id}", "report_decided", "reports")


@router.post("/programme/projects/{project_id}/declaration-reviews", response_class=HTMLResponse,
             dependencies=[Csrf])
def review_declaration(project_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, councils: Councils,
                       outcome: Small = "", note: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Record the periodic review of the F4 declaration (the agency's staff), from the project page."""
    try:
        service.review_declaration(db, project_id=project_id, outcome=outcome, note=note, now=ctx.clock.now(),
                                   actor=principal)
    except BansoError as exc:
        return _project_error(request, principal, db, ctx, project_id, councils, exc, "declaration",
                              {"decl_outcome": outcome, "decl_note": note})
    return redirect(f"/programme/projects/{project_id}", "declaration_reviewed", "declaration")


@router.post("/programme/projects/{project_id}/evaluations", response_class=HTMLResponse, dependencies=[Csrf])
def open_evaluation(project_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx, councils: Councils,
                    kind: Small = "", due_on: Small = "",
                    evaluator_ids: Annotated[list[str] | None, Form()] = None) -> Response:
    """Open an interim or final evaluation with its evaluators (the agency's staff)."""
    chosen = list(evaluator_ids or [])
    try:
        due = _date_input(due_on, "due_on")
        if due is None:
            raise ValidationFailed(invalid_date_message("due_on"), field="due_on")
        evaluations.open_evaluation(db, project_id=project_id, kind=kind, due_on=due,
                                    evaluator_ids=[_int(v, "evaluator_ids") for v in chosen], now=ctx.clock.now(),
                                    actor=principal)
    except BansoError as exc:
        return _project_error(request, principal, db, ctx, project_id, councils, exc, "evaluation",
                              {"ev_kind": kind, "ev_due": due_on, "ev_chosen": chosen})
    return redirect(f"/programme/projects/{project_id}", "evaluation_opened", "evaluations")


def _evaluation_page(request: Request, principal: Principal, db: Session, ctx: Ctx, evaluation_id: int, *,
                     notice: str | None = None, error: str | None = None, error_at: str | None = None,
                     status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    view = evaluations.get_evaluation(db, evaluation_id=evaluation_id, actor=principal, now=ctx.clock.now())
    return render(request, "programme/evaluation.html", {
        "v": view, "grades": evaluations.GRADES, "dois": reporting.dois, "notice": notice, "error": error,
        "error_at": error_at, "form": form or {}, **_common(ctx)}, status=status)


def _evaluation_error(request: Request, principal: Principal, db: Session, ctx: Ctx, evaluation_id: int,
                      exc: BansoError, where: str, form: dict[str, Any]) -> HTMLResponse:
    return _refused(request, db, exc, partial(_evaluation_page, request, principal, db, ctx, evaluation_id,
                                              error_at=where, form=form))


@router.get("/programme/evaluations", response_class=HTMLResponse)
def my_evaluations(request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """The evaluations the person is assigned to, open ones first."""
    return render(request, "programme/evaluations.html", {
        "rows": evaluations.evaluations_for(db, actor=principal), **_common(ctx)})


@router.get("/programme/evaluations/{evaluation_id}", response_class=HTMLResponse)
def evaluation_page(evaluation_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                    done: str | None = None) -> HTMLResponse:
    """An evaluation: the evaluator declares, then grades; the staff see every grade and record the result."""
    return _evaluation_page(request, principal, db, ctx, evaluation_id, notice=notice(done, NOTICES))


@router.post("/programme/evaluations/{evaluation_id}/declaration", response_class=HTMLResponse,
             dependencies=[Csrf])
def declare_evaluation_conflict(evaluation_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                                has_conflict: Small = "", reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """Declare whether one has a conflict of interest with the project (before seeing its reports)."""
    try:
        if has_conflict not in ("yes", "no"):
            raise ValidationFailed(invalid_message("has_conflict"), field="has_conflict")
        evaluations.declare_conflict(db, evaluation_id=evaluation_id, has_conflict=has_conflict == "yes",
                                     reason=reason, now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _evaluation_error(request, principal, db, ctx, evaluation_id, exc, "declare",
                                 {"has_conflict": has_conflict, "reason": reason})
    return redirect(f"/programme/evaluations/{evaluation_id}", "declared", "evaluation")


@router.post("/programme/evaluations/{evaluation_id}/grade", response_class=HTMLResponse, dependencies=[Csrf])
def grade_evaluation(evaluation_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                     grade: Small = "", comment: Text = "") -> Response:
    """Grade the project (S/A/B/C) with a comment."""
    try:
        evaluations.grade(db, evaluation_id=evaluation_id, grade_value=grade, comment=comment, now=ctx.clock.now(),
                          actor=principal)
    except BansoError as exc:
        return _evaluation_error(request, principal, db, ctx, evaluation_id, exc, "grade",
                                 {"grade": grade, "comment": comment})
    return redirect(f"/programme/evaluations/{evaluation_id}", "graded", "evaluation")


@router.post("/programme/evaluations/{evaluation_id}/result", response_class=HTMLResponse, dependencies=[Csrf])
def complete_evaluation(evaluation_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                        result: Small = "", note: Text = "") -> Response:
    """Record the overall result and tell the research representative (the agency's staff)."""
    try:
        evaluations.complete(db, evaluation_id=evaluation_id, result=result, note=note, now=ctx.clock.now(),
                             actor=principal)
    except BansoError as exc:
        return _evaluation_error(request, principal, db, ctx, evaluation_id, exc, "result",
                                 {"result": result, "note": note})
    return redirect(f"/programme/evaluations/{evaluation_id}", "evaluation_completed", "evaluation")


@router.get("/programme/reports.xlsx")
def reports_workbook(principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Download the results-report and evaluation status of the agency's projects (agency staff only)."""
    content = exports.after_adoption_workbook(db, actor=principal, now=ctx.clock.now())
    return Response(content, media_type=exports.XLSX_MEDIA_TYPE, headers={
        **NO_STORE, "Content-Disposition": content_disposition("reports.xlsx")})


@router.get("/programme/reports", response_class=HTMLResponse)
def reports_status(request: Request, principal: PageUser, db: Db, ctx: Ctx) -> HTMLResponse:
    """The agency's list of results reports: overdue first (funding-agency staff only)."""
    rows = reporting.agency_status(db, actor=principal, now=ctx.clock.now())
    return render(request, "programme/reports.html", {"rows": rows, **_common(ctx)})


# ---------------------------------------------------------------------------------------------
# Think-tank commissions (F5)


def _date_input(value: str | None, field: str) -> Any:
    text = (value or "").strip()
    try:
        day = datetime.fromisoformat(text).date() if text else None
    except ValueError:
        raise ValidationFailed(invalid_date_message(field), field=field) from None
    if day is not None:
        check_moment(day, field)
    return day


def _score_input(value: str | None, field: str) -> object:
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 3 else text


def _commissions_page(request: Request, principal: Principal, db: Session, ctx: Ctx, *, notice: str | None = None,
                      error: str | None = None, error_at: str | None = None, status: int = 200,
                      form: dict[str, Any] | None = None) -> HTMLResponse:
    page = pages.commissions_page(db, actor=principal)
    return render(request, "programme/commissions.html", {
        **pages.context(page), "notice": notice, "error": error, "error_at": error_at, "form": form or {},
        **_common(ctx),
    }, status=status)


@router.get("/programme/commissions", response_class=HTMLResponse)
def commissions_page(request: Request, principal: PageUser, db: Db, ctx: Ctx, done: str | None = None
                     ) -> HTMLResponse:
    """List the commissions the person may see; officers assess institutions and commission them here."""
    return _commissions_page(request, principal, db, ctx, notice=notice(done, NOTICES))


@router.post("/programme/assessments", response_class=HTMLResponse, dependencies=[Csrf])
def assess(request: Request, principal: PageUser, db: Db, ctx: Ctx, organization_id: Small = "",
           assessed_on: Small = "", analysis_score: Small = "", hub_score: Small = "", talent_score: Small = "",
           analysis_note: Text = "", hub_note: Text = "", talent_note: Text = "") -> Response:
    """Record an institution's capability assessment."""
    form = {"organization_id": organization_id, "assessed_on": assessed_on, "analysis_score": analysis_score,
            "hub_score": hub_score, "talent_score": talent_score, "analysis_note": analysis_note,
            "hub_note": hub_note, "talent_note": talent_note}
    try:
        commissions.assess_institution(
            db, organization_id=_int(organization_id, "organization_id"),
            assessed_on=_date_input(assessed_on, "assessed_on"),
            analysis_score=_score_input(analysis_score, "analysis_score"),
            hub_score=_score_input(hub_score, "hub_score"), talent_score=_score_input(talent_score, "talent_score"),
            analysis_note=analysis_note, hub_note=hub_note, talent_note=talent_note, now=ctx.clock.now(),
            actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_commissions_page, request, principal, db, ctx,
                                                  error_at="assess", form=form))
    return redirect("/programme/commissions", "assessed", "assessments")


def _tasks(text: str) -> list[commissions.TaskInput]:
    out: list[commissions.TaskInput] = []
    for n, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        head, _, title = line.partition(" ")
        due = _date_input(head, "tasks")
        if due is None or not title.strip():
            raise ValidationFailed(f"{n}行目は「YYYY-MM-DD 作業名」の形で入力してください / tasks: line {n} must read YYYY-MM-DD title",
                                   field="tasks")
        out.append(commissions.TaskInput(title=title.strip(), due_on=due))
    return out


@router.post("/programme/commissions", response_class=HTMLResponse, dependencies=[Csrf])
def create_commission(request: Request, principal: PageUser, db: Db, ctx: Ctx, code: Small = "", title: Short = "",
                      organization_id: Small = "", starts_on: Small = "", due_on: Small = "", tasks: Text = "",
                      purpose: Text = "", confidentiality_terms: Text = "") -> Response:
    """Commission an assessed institution."""
    form = {"code": code, "title": title, "organization_id": organization_id, "starts_on": starts_on,
            "due_on": due_on, "tasks": tasks, "purpose": purpose, "confidentiality_terms": confidentiality_terms}
    try:
        text = bind(CommissionText, {"title": title, "purpose": purpose,
                                     "confidentiality_terms": confidentiality_terms or None})
        row = commissions.create_commission(
            db, code=code, title=text.title, organization_id=_int(organization_id, "organization_id"),
            starts_on=_date_input(starts_on, "starts_on"), due_on=_date_input(due_on, "due_on"),
            tasks=_tasks(tasks), purpose=text.purpose, confidentiality_terms=text.confidentiality_terms or None,
            now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return _refused(request, db, exc, partial(_commissions_page, request, principal, db, ctx,
                                                  error_at="commission", form=form))
    return redirect(f"/programme/commissions/{row.id}", "commissioned")


def _commission_page(request: Request, principal: Principal, db: Session, ctx: Ctx, commission_id: int, *,
                     notice: str | None = None, error: str | None = None, error_at: str | None = None,
                     status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    page = pages.commission_page(db, commission_id=commission_id, actor=principal, now=ctx.clock.now())
    asked = tank_requests.visible_for(db, commission_id=commission_id, actor=principal)  # C6 under Art. 64
    return render(request, "programme/commission.html", {
        **pages.context(page), "notice": notice, "error": error, "error_at": error_at, "form": form or {},
        "tank_requests": asked,
        **_common(ctx),
    }, status=status)


@router.get("/programme/commissions/{commission_id}", response_class=HTMLResponse)
def commission_page(commission_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                    done: str | None = None) -> HTMLResponse:
    """Show a commission: institution, duty, tasks, deliverables (404 for everyone else)."""
    return _commission_page(request, principal, db, ctx, commission_id, notice=notice(done, NOTICES))


def _commission_action(request: Request, principal: Principal, db: Session, ctx: Ctx, commission_id: int,
                       action: Any, done: str) -> Response:
    try:
        action()
    except BansoError as exc:
        return _refused(request, db, exc, partial(_commission_page, request, principal, db, ctx,
                                                  commission_id))
    return redirect(f"/programme/commissions/{commission_id}", done)


@router.post("/programme/commissions/{commission_id}/acknowledge", response_class=HTMLResponse, dependencies=[Csrf])
def acknowledge(commission_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Acknowledge the confidentiality duty."""
    return _commission_action(request, principal, db, ctx, commission_id, lambda: roster_service.acknowledge(
        db, commission_id=commission_id, now=ctx.clock.now(), actor=principal), "acknowledged")


@router.post("/programme/commissions/{commission_id}/contact", response_class=HTMLResponse, dependencies=[Csrf])
def name_contact(commission_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                 user_id: Small = "") -> Response:
    """Name the institution's contact (the commissioning side)."""
    return _commission_action(request, principal, db, ctx, commission_id, lambda: roster_service.name_contact(
        db, commission_id=commission_id, user_id=_int(user_id, "user_id"), now=ctx.clock.now(), actor=principal),
        "contact_named")


@router.post("/programme/commissions/{commission_id}/roster", response_class=HTMLResponse, dependencies=[Csrf])
def add_to_roster(commission_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                  user_id: Small = "") -> Response:
    """Name a person engaged in the commission (the institution's contact)."""
    return _commission_action(request, principal, db, ctx, commission_id, lambda: roster_service.add_person(
        db, commission_id=commission_id, user_id=_int(user_id, "user_id"), now=ctx.clock.now(), actor=principal),
        "roster_added")


@router.post("/programme/commissions/{commission_id}/roster/{roster_id}/remove", response_class=HTMLResponse,
             dependencies=[Csrf])
def remove_from_roster(commission_id: int, roster_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                       reason: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Take a person off the roster with a reason (access ends at once; the duty remains)."""
    return _commission_action(request, principal, db, ctx, commission_id, lambda: roster_service.remove_person(
        db, commission_id=commission_id, roster_id=roster_id, reason=reason.replace("\r\n", "\n"),
        now=ctx.clock.now(), actor=principal), "roster_removed")


@router.get("/programme/commissions/{commission_id}/roster/{roster_id}/pdf")
def acknowledgement_pdf(commission_id: int, roster_id: int, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Download an Art. 64 acknowledgement as PDF (audited)."""
    return acknowledgement_response(db, ctx, principal, commission_id, roster_id)


@router.post("/programme/commissions/{commission_id}/tasks/{task_id}/done", response_class=HTMLResponse,
             dependencies=[Csrf])
def task_done(commission_id: int, task_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Mark a task done."""
    return _commission_action(request, principal, db, ctx, commission_id, lambda: commissions.complete_task(
        db, commission_id=commission_id, task_id=task_id, now=ctx.clock.now(), actor=principal), "task_done")


@router.post("/programme/commissions/{commission_id}/deliverables", response_class=HTMLResponse, dependencies=[Csrf])
def deliver(commission_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
            file: Annotated[UploadFile | None, File()] = None, title: Checked = "", task_id: Checked = "",
            kept: Tokens = None, drop: Tokens = None,
            ) -> Response:
    """Upload a deliverable file; a file that passed the checks is kept when the form is refused, for any field: the
    lengths are checked by the service and ``int_or_none``, not by FastAPI before the view (issue 14)."""
    # O4: sync, so the upload's database and disk work runs in a worker thread, never on the event loop.
    store, now, form_key = pending_uploads(ctx), ctx.clock.now(), request.url.path
    upload: tuple[str, str, bytes, FileKind | UploadRejected] | None = None
    try:
        if file is not None and file.filename:
            store.discard(kept or (), user_id=principal.user_id, form=form_key, now=now)  # a new file replaces it
            ctype = file.content_type or "application/octet-stream"
            with released(db):  # O1, O4: the full parse runs with no transaction open
                content = file.file.read(commissions.MAX_DELIVERABLE_BYTES + 1)
                upload = (file.filename, ctype, content, commissions.check_deliverable(content, file.filename, ctype))
        else:
            carried = store.carry(kept, drop, user_id=principal.user_id, form=form_key, now=now, field="file")
            if carried:
                p = carried[0]
                upload = (p.filename, p.content_type or p.kind.content_type, p.data, p.kind)
        if upload is None:
            raise ValidationFailed("ファイルを選んでください / choose a file", field="file")
        filename, ctype, content, checked = upload
        commissions.upload_deliverable(
            db, commission_id=commission_id, title=title, filename=filename, content=content, content_type=ctype,
            task_id=int_or_none(task_id, "task_id"), now=now, actor=principal, store=deliverable_store(ctx),
            checked=checked)
    except BansoError as exc:
        def keep() -> list[Kept]:
            if upload is None or not isinstance(upload[3], FileKind):
                return []
            return [store.keep(user_id=principal.user_id, form=form_key, filename=upload[0], content_type=upload[1],
                               data=upload[2], kind=upload[3], now=now)]
        form: dict[str, Any] = {"title": title, "task_id": task_id}
        page = partial(_commission_page, request, principal, db, ctx, commission_id, error_at="deliver", form=form)
        return _refused(request, db, exc, keeping(page, form, "kept", keep))
    return redirect(f"/programme/commissions/{commission_id}", "delivered")


@router.post("/programme/commissions/{commission_id}/complete", response_class=HTMLResponse, dependencies=[Csrf])
def complete(commission_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Close the commission as completed."""
    return _commission_action(request, principal, db, ctx, commission_id, lambda: commissions.complete_commission(
        db, commission_id=commission_id, now=ctx.clock.now(), actor=principal), "completed")


@router.post("/programme/commissions/{commission_id}/cancel", response_class=HTMLResponse, dependencies=[Csrf])
def cancel(commission_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
           reason: Annotated[str, Form(max_length=5000)] = "") -> Response:
    """Cancel the commission with a reason (the commissioning side)."""
    try:
        commissions.cancel_commission(db, commission_id=commission_id, now=ctx.clock.now(), actor=principal,
                                      reason=reason.replace("\r\n", "\n"))
    except BansoError as exc:
        return _refused(request, db, exc, partial(_commission_page, request, principal, db, ctx,
                                                  commission_id, error_at="cancel", form={"reason": reason}))
    return redirect(f"/programme/commissions/{commission_id}", "cancelled")


@router.post("/programme/commissions/{commission_id}/deliverables/{deliverable_id}/file",
             response_class=HTMLResponse, dependencies=[Csrf])
def file_deliverable(commission_id: int, deliverable_id: int, request: Request, principal: PageUser, db: Db,
                     ctx: Ctx, deps: InfoDeps, council_id: Small = "") -> Response:
    """File a deliverable into a council the person takes part in, as a think-tank information item (F5)."""
    try:
        item = filing.file_deliverable(db, deps, commission_id=commission_id,
                                       deliverable_id=deliverable_id, council_id=_int(council_id, "council_id"),
                                       actor=principal, now=ctx.clock.now(), store=deliverable_store(ctx))
    except BansoError as exc:
        return _refused(request, db, exc, partial(_commission_page, request, principal, db, ctx,
                                                  commission_id, error_at=f"file-{deliverable_id}",
                                                  form={"council_id": council_id,
                                                        "deliverable_id": deliverable_id}))
    return redirect(f"/information/items/{item.id}", "held" if item.state == ItemState.HELD else "created")


@router.get("/programme/commissions/{commission_id}/deliverables/{deliverable_id}")
def download(commission_id: int, deliverable_id: int, principal: PageUser, db: Db, ctx: Ctx) -> Response:
    """Download a deliverable stamped for the viewer (recorded and audited, I8)."""
    return deliverable_response(db, ctx, principal, commission_id, deliverable_id)


# ---------------------------------------------------------------------------------------------
# Material requests to a think-tank commission (C6 under Art. 64, issue 13)


def _new_tank_request_page(request: Request, principal: Principal, db: Session, ctx: Ctx, council_id: int, *,
                           error: str | None = None, status: int = 200,
                           form: dict[str, Any] | None = None) -> HTMLResponse:
    options = tank_requests.addressable(db, council_id=council_id, actor=principal)
    return render(request, "programme/commission_request_new.html", {
        "council_id": council_id, "commissions": options, "error": error, "form": form or {},
        "matters": [m.value for m in Matter], **_common(ctx),
    }, status=status)


@router.get("/programme/commission-requests/new", response_class=HTMLResponse)
def new_tank_request(request: Request, principal: PageUser, db: Db, ctx: Ctx,
                     council_id: Annotated[int, Query()]) -> HTMLResponse:
    """The council's chair/secretariat ask a think-tank commission outside the council for materials."""
    return _new_tank_request_page(request, principal, db, ctx, council_id)


@router.post("/programme/commission-requests", response_class=HTMLResponse, dependencies=[Csrf])
def create_tank_request(request: Request, principal: PageUser, db: Db, ctx: Ctx, council_id: Small = "",
                        commission_id: Small = "", title: Short = "",
                        body: Annotated[str, Form(max_length=20_000)] = "", matter: Small = "",
                        due_at: Annotated[str, Form(max_length=40)] = "") -> Response:
    """Send the request; the commission's engaged roster is told (inbox and e-mail)."""
    council = _int(council_id, "council_id")
    form = {"commission_id": commission_id, "title": title, "body": body, "matter": matter, "due_at": due_at}
    try:
        row = tank_requests.create(db, council_id=council, commission_id=_int(commission_id, "commission_id"),
                                   actor=principal, now=ctx.clock.now(), title=title, body=body.replace("\r\n", "\n"),
                                   matter=matter, due_at=parse_when(due_at, "due_at", end_of_day=True))
    except BansoError as exc:
        return _refused(request, db, exc, partial(_new_tank_request_page, request, principal, db, ctx, council,
                                                  form=form))
    return redirect(f"/councils/{council}/requests/{row.id}", "request")


def _tank_request_page(request: Request, principal: Principal, db: Session, ctx: Ctx, commission_id: int,
                       request_id: int, *, error: str | None = None, notice_key: str | None = None,
                       status: int = 200, form: dict[str, Any] | None = None) -> HTMLResponse:
    view = tank_requests.get(db, commission_id=commission_id, request_id=request_id, actor=principal,
                             now=ctx.clock.now(), store=sealed.sealed_deps(ctx))
    return render(request, "programme/commission_request.html", {
        "view": view, "req": view.request, "commission": view.commission, "error": error, "notice": notice_key,
        "form": form or {}, **_common(ctx)}, status=status)


@router.get("/programme/commissions/{commission_id}/requests/{request_id}", response_class=HTMLResponse)
def tank_request_page(commission_id: int, request_id: int, request: Request, principal: PageUser, db: Db, ctx: Ctx,
                      done: str | None = None) -> HTMLResponse:
    """Show a request to the commission and the answer the reader gave (its engaged roster only; 404 otherwise)."""
    return _tank_request_page(request, principal, db, ctx, commission_id, request_id,
                              notice_key=notice(done, frozenset({"answered"})))


@router.post("/programme/commissions/{commission_id}/requests/{request_id}/answer", response_class=HTMLResponse,
             dependencies=[Csrf])
def answer_tank_request(commission_id: int, request_id: int, request: Request, principal: PageUser, db: Db,
                        ctx: Ctx, text: Checked = "", files: Annotated[list[UploadFile] | None, File()] = None,
                        kept: Tokens = None, drop: Tokens = None) -> Response:
    """Answer with text and files; sealed as council content. Files that passed the checks are kept when the form
    is refused, for any field: the text's length is checked by the service (issue 14)."""
    held = kept_form(ctx, principal.user_id, request.url.path)
    uploads = council_files(db, [f for f in (files or []) if f.filename])
    try:
        uploads = [CouncilUpload(filename=p.filename, content_type=p.content_type or p.kind.content_type,
                                 data=p.data, checked=p.kind) for p in held.carry(kept, drop)] + uploads
        tank_requests.answer(db, commission_id=commission_id, request_id=request_id, actor=principal,
                             now=ctx.clock.now(), text=text.replace("\r\n", "\n"), files=uploads,
                             store=sealed.sealed_deps(ctx))
    except BansoError as exc:
        form: dict[str, Any] = {"text": text}
        page = partial(_tank_request_page, request, principal, db, ctx, commission_id, request_id, form=form)
        return _refused(request, db, exc, held.page(page, form, lambda: uploads))
    return redirect(f"/programme/commissions/{commission_id}/requests/{request_id}", "answered")


@router.get("/programme/commissions/{commission_id}/requests/{request_id}/files/{file_id}")
def tank_request_file(commission_id: int, request_id: int, file_id: int, principal: PageUser, db: Db,
                      ctx: Ctx) -> Response:
    """Download a file of the reader's own answer, stamped for them (audited)."""
    return download_commission_request_file(commission_id, request_id, file_id, principal, db, ctx)
