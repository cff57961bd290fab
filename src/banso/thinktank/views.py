"""HTML pages of the think tank (issues 6 and 16): Japan's position, each technology's countries, priorities,
needs (社会実装ニーズ), saved analyses and reports.

The pages read the analysis ``banso analyze`` wrote under ``data_dir/analytics`` (see
:mod:`banso.thinktank.service`) and the needs and saved analyses in the database. What each person may
see and do is the policy's one decision (:mod:`banso.authz.policies.thinktank`): the pages take the
flags from ``service.access`` and never decide. Invalid input comes back as a form error with its 4xx;
an unknown technology is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from banso.analytics.countries import country_name
from banso.authz.policies.thinktank import ThinktankAccess
from banso.authz.principal import Principal
from banso.information.deps import information_deps
from banso.kit.disposition import content_disposition
from banso.kit.errors import BansoError, NotFound, ValidationFailed
from banso.thinktank import reports, service
from banso.thinktank.interfaces import commission_filer
from banso.thinktank.service import Analysis
from banso.web.csrf import verify_csrf
from banso.web.deps import Ctx, Db, get_ctx
from banso.web.forms import int_or_none, notice, redirect, refused, require_int
from banso.web.pages import PageUser
from banso.web.templating import render, translator_for
from banso.web.views import localised

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
PNG_HEADERS = {"Cache-Control": "private, max-age=300"}
NOTICES = ("saved", "need", "filed", "imported")
KIND_CHOICES = reports.COMMISSION_KINDS


def _analysis(ctx: Ctx) -> Analysis | None:
    return service.load_analysis(ctx.settings.data_dir)


def _require_analysis(ctx: Ctx) -> Analysis:
    analysis = _analysis(ctx)
    if analysis is None:
        raise NotFound("分析結果がありません / No analysis has been produced yet")
    return analysis


def _common(request: Request, analysis: Analysis | None, access: ThinktankAccess) -> dict[str, Any]:
    lang = translator_for(request).locale
    return {
        "analysis": analysis,
        "access": access,
        "tech_name": (lambda t: analysis.name(t, lang)) if analysis else (lambda t: _registry_name(t, lang)),
        "analytics_dir": service.analytics_dir(request.app.state.ctx.settings.data_dir),
        "commands": service.setup_commands,
    }


def _registry_name(tech_id: str, lang: str) -> str:
    ja, en = service.technology_names().get(tech_id, (tech_id, tech_id))
    return ja if lang == "ja" else en


async def _posted_form(request: Request) -> FormData:
    """Return the posted form, read on the event loop (reading a body is not blocking work)."""
    return await request.form()


Form = Annotated[FormData, Depends(_posted_form)]


# ---------------------------------------------------------------------------------------------
# Japan's position across technologies


@router.get("/thinktank", response_class=HTMLResponse)
def overview(request: Request, principal: PageUser, ctx: Ctx) -> HTMLResponse:
    """Japan's rank, share and gap to the leader per technology, with a chart; or how to produce one."""
    access = service.require_indicators(principal)
    analysis = _analysis(ctx)
    return render(request, "thinktank/overview.html", {
        "rows": analysis.japan_rows() if analysis else [],
        "empty_count": int((analysis.technologies["papers"] == 0).sum()) if analysis else 0,
        "may_run": access.run_analyses,
        **_common(request, analysis, access),
    })


@router.get("/thinktank/japan.png")
def japan_png(request: Request, principal: PageUser, ctx: Ctx) -> Response:
    """The chart of Japan's top-10% share against the leader's per technology."""
    service.require_indicators(principal)
    analysis = _require_analysis(ctx)
    t = translator_for(request)
    png = service.japan_chart(analysis, lang=t.locale, japan=t.gettext("Japan"), leader=t.gettext("Leader"),
                              xlabel=t.gettext("Share of top-10% papers (fractional counting)"))
    return Response(png, media_type="image/png", headers=PNG_HEADERS)


# ---------------------------------------------------------------------------------------------
# One technology: its country table and chart


@router.get("/thinktank/technologies/{tech_id}", response_class=HTMLResponse)
def technology(tech_id: str, request: Request, principal: PageUser, ctx: Ctx) -> HTMLResponse:
    """The technology's countries (papers, fractional top-10% share, rank, RCA, CAGR, h-index, collaboration),
    who leads (institutions worldwide and of one country, ``?country=``) and the trend over rolling windows."""
    access = service.require_indicators(principal)
    analysis = _require_analysis(ctx)
    tech = analysis.technology(tech_id)
    choices = analysis.institution_countries(tech_id)
    # a malformed code is a 422, a country the analysis lacks a 404, both with their reason (outside tester)
    asked = service.asked_country(request.query_params.get("country"), choices)
    country = asked or ("JP" if "JP" in choices else (choices[0] if choices else None))
    has_trends = analysis.has_trends(tech_id)
    return render(request, "thinktank/technology.html", {
        "tech": tech, "countries": analysis.countries(tech_id),
        "leaders": analysis.leading_institutions(tech_id),
        "inst_country": country, "inst_countries": choices,
        "country_leaders": analysis.leading_institutions(tech_id, country) if country else [],
        "country_name": country_name,
        "trends_computed": analysis.trends is not None, "has_trends": has_trends,
        "trend_table": analysis.trend_table(tech_id) if has_trends else [],
        # the command names the server's folders: shown to those who run analyses only (outside tester, F2)
        "trend_samples": analysis.trend_samples,
        "trends_command": service.trends_command(analysis.root) if access.run_analyses else None,
        **_common(request, analysis, access),
    })


@router.get("/thinktank/technologies/{tech_id}/trends.png")
def technology_trends_png(tech_id: str, request: Request, principal: PageUser, ctx: Ctx) -> Response:
    """The chart of the technology's top-10% share per rolling window: Japan against the leader, with bands."""
    service.require_indicators(principal)
    analysis = _require_analysis(ctx)
    t = translator_for(request)
    png = service.trend_chart(analysis, tech_id, lang=t.locale, xlabel=t.gettext("Window (publication years)"),
                              ylabel=t.gettext("Share of top-10% papers (fractional counting)"),
                              band=t.gettext("95% interval"))
    return Response(png, media_type="image/png", headers=PNG_HEADERS)


@router.get("/thinktank/technologies/{tech_id}/chart.png")
def technology_png(tech_id: str, request: Request, principal: PageUser, ctx: Ctx) -> Response:
    """The chart of the technology's countries' shares of top-10% papers."""
    service.require_indicators(principal)
    analysis = _require_analysis(ctx)
    t = translator_for(request)
    png = service.country_chart(analysis, tech_id, lang=t.locale, other=t.gettext("Other countries"),
                                xlabel=t.gettext("Share of top-10% papers (fractional counting)"))
    return Response(png, media_type="image/png", headers=PNG_HEADERS)


# ---------------------------------------------------------------------------------------------
# Prioritisation


def _priorities_page(request: Request, db: Db, principal: Principal, analysis: Analysis | None, *,
                     values: dict[str, str] | None, status: int = 200, error: str | None = None) -> HTMLResponse:
    access = service.require_rankings(principal)
    recomputed, ranking = False, None
    form = {n: f"{(analysis.weights if analysis else {}).get(n, 0.0):g}" for n in service.criteria()}
    if analysis is not None:
        weights = None
        if values is not None:
            service.require_run(principal)
            form.update({n: values.get(n) or "" for n in service.criteria()})
            try:
                weights = service.parse_weights(values)
                recomputed = True
            except ValidationFailed as exc:
                error = localised(exc.message, translator_for(request).locale)
                status = exc.status_code
        ranking = service.current_ranking(db, analysis, actor=principal, weights=weights)
    return render(request, "thinktank/priorities.html", {
        "rows": service.ranking_rows(ranking) if ranking is not None else [],
        "criteria": service.criteria(),
        "form": form, "error": error, "recomputed": recomputed, "may_run": access.run_analyses,
        "band": int((analysis.settings if analysis else {}).get("band", 5)),
        "saved": service.list_saved(db, actor=principal)[:5],
        "councils": reports.filing_targets(db, actor=principal) if access.file_reports else [],
        "commissions": reports.commission_targets(db, commission_filer(get_ctx(request)), actor=principal),
        "done": notice(request.query_params.get("done"), NOTICES),
        **_common(request, analysis, access),
    }, status=status)


def _weights_from(params: Any) -> dict[str, str] | None:
    names = service.criteria()
    if not any(f"w_{n}" in params for n in names):
        return None
    return {n: str(params.get(f"w_{n}") or "") for n in names}


@router.get("/thinktank/priorities", response_class=HTMLResponse)
def priorities(request: Request, principal: PageUser, ctx: Ctx, db: Db) -> HTMLResponse:
    """The ranking with the needs in the database, or one recomputed with the weights in the query."""
    return _priorities_page(request, db, principal, _analysis(ctx), values=_weights_from(request.query_params))


@router.post("/thinktank/priorities", response_class=HTMLResponse, dependencies=[Csrf])
def recompute(request: Request, principal: PageUser, ctx: Ctx, db: Db, form: Form) -> HTMLResponse:
    """Recompute the ranking with the posted weights (nothing is saved until the analyst saves it)."""
    # O4: a sync endpoint, so reading the analysis from disk runs in a worker thread, not on the loop.
    values = _weights_from(form) or {}
    return _priorities_page(request, db, principal, _analysis(ctx), values=values)


# ---------------------------------------------------------------------------------------------
# Saved analyses (versioned by name)


@router.post("/thinktank/analyses", dependencies=[Csrf])
def save_analysis(request: Request, principal: PageUser, ctx: Ctx, db: Db, form: Form) -> Response:
    """Save the posted weights' ranking under a name (a new version when the name exists)."""
    analysis = _require_analysis(ctx)
    values = _weights_from(form) or {}
    try:
        weights = service.parse_weights(values)
        row = service.save_analysis(db, actor=principal, now=ctx.clock.now(), analysis=analysis,
                                    name=form.get("name"), weights=weights)
    except ValidationFailed as exc:
        return refused(request, db, exc, lambda error, status: _priorities_page(
            request, db, principal, analysis, values=values, status=status, error=error))
    return redirect(f"/thinktank/analyses/{row.id}", "saved")


@router.get("/thinktank/analyses", response_class=HTMLResponse)
def analyses(request: Request, principal: PageUser, ctx: Ctx, db: Db) -> HTMLResponse:
    """Every saved analysis version, newest first, with who saved it and when."""
    access = service.require_rankings(principal)
    return render(request, "thinktank/analyses.html", {
        "saved": service.list_saved(db, actor=principal), **_common(request, _analysis(ctx), access)})


@router.get("/thinktank/analyses/{analysis_id}", response_class=HTMLResponse)
def saved_analysis(analysis_id: int, request: Request, principal: PageUser, ctx: Ctx, db: Db) -> HTMLResponse:
    """One saved analysis version: its weights, the needs it used and its ranking."""
    access = service.require_rankings(principal)
    view = service.get_saved(db, actor=principal, analysis_id=analysis_id)
    return render(request, "thinktank/analysis.html", {
        "view": view, "rows": service.ranking_rows(view.ranking()), "criteria": service.criteria(),
        "councils": reports.filing_targets(db, actor=principal) if access.file_reports else [],
        "commissions": reports.commission_targets(db, commission_filer(ctx), actor=principal),
        "done": notice(request.query_params.get("done"), NOTICES),
        **_common(request, _analysis(ctx), access)})


# ---------------------------------------------------------------------------------------------
# Needs (社会実装ニーズ)


def _needs_page(request: Request, db: Db, principal: Principal, ctx: Ctx, *, error: str | None = None,
                status: int = 200, form: dict[str, str] | None = None) -> HTMLResponse:
    access = service.require_rankings(principal)
    return render(request, "thinktank/needs.html", {
        "rows": service.list_needs(db, actor=principal), "error": error, "form": form or {},
        "done": notice(request.query_params.get("done"), NOTICES),
        **_common(request, _analysis(ctx), access)}, status=status)


@router.get("/thinktank/needs", response_class=HTMLResponse)
def needs(request: Request, principal: PageUser, ctx: Ctx, db: Db) -> HTMLResponse:
    """Each technology's current need (level 1–5, reason, version, who); a form for needs-ministry officers."""
    return _needs_page(request, db, principal, ctx)


@router.post("/thinktank/needs", dependencies=[Csrf])
def enter_need(request: Request, principal: PageUser, ctx: Ctx, db: Db, form: Form) -> Response:
    """Record a new version of a technology's need."""
    values = {k: str(form.get(k) or "") for k in ("technology", "level", "reason")}
    try:
        service.enter_need(db, actor=principal, now=ctx.clock.now(), technology=values["technology"],
                           level=values["level"], reason=values["reason"], source="web")
    except BansoError as exc:
        return refused(request, db, exc, lambda error, status: _needs_page(
            request, db, principal, ctx, error=error, status=status, form=values), show_not_found=True)
    return redirect("/thinktank/needs", "need", anchor=f"need-{values['technology']}")


@router.get("/thinktank/needs/{tech_id}", response_class=HTMLResponse)
def need_history(tech_id: str, request: Request, principal: PageUser, ctx: Ctx, db: Db) -> HTMLResponse:
    """Every version of one technology's need, newest first."""
    access = service.require_rankings(principal)
    return render(request, "thinktank/need_history.html", {
        "technology": tech_id, "history": service.need_history(db, actor=principal, technology=tech_id),
        **_common(request, _analysis(ctx), access)})


# ---------------------------------------------------------------------------------------------
# Reports and filing


@router.get("/thinktank/reports/{kind}")
def report(kind: str, request: Request, principal: PageUser, ctx: Ctx, db: Db) -> Response:
    """The report (HTML, PDF, Excel) or a CSV table, of the current ranking or of a saved analysis."""
    analysis = _require_analysis(ctx)
    saved_id = int_or_none(request.query_params.get("analysis"), "analysis")
    out = reports.export(db, analysis, actor=principal, now=ctx.clock.now(), kind=kind,
                         lang=translator_for(request).locale, saved_id=saved_id)
    disposition = "inline" if kind == "report.html" else "attachment"
    return Response(out.data, media_type=out.media_type,
                    headers={"Content-Disposition": content_disposition(out.filename, inline=disposition == "inline")})


@router.post("/thinktank/reports/file", dependencies=[Csrf])
def file_report(request: Request, principal: PageUser, ctx: Ctx, db: Db, form: Form) -> RedirectResponse:
    """File the report into a council the analyst belongs to, as a think-tank information item (T6)."""
    analysis = _require_analysis(ctx)
    saved_id = int_or_none(str(form.get("analysis") or ""), "analysis")
    council_id = require_int(str(form.get("council_id") or ""), "council_id")
    item = reports.file_into_council(db, information_deps(ctx), analysis, actor=principal, now=ctx.clock.now(),
                                     council_id=council_id, saved_id=saved_id)
    return redirect(f"/information/items/{item.id}", "created")


@router.post("/thinktank/reports/file-commission", dependencies=[Csrf])
def file_report_into_commission(request: Request, principal: PageUser, ctx: Ctx, db: Db,
                                form: Form) -> RedirectResponse:
    """File one report format as a deliverable of a commission the analyst is engaged in (F5, T6)."""
    analysis = _require_analysis(ctx)
    saved_id = int_or_none(str(form.get("analysis") or ""), "analysis")
    commission_id = require_int(str(form.get("commission_id") or ""), "commission_id")
    reports.file_into_commission(db, commission_filer(ctx), analysis, actor=principal, now=ctx.clock.now(),
                                 commission_id=commission_id, kind=str(form.get("kind") or "report.xlsx"),
                                 saved_id=saved_id)
    return redirect(f"/programme/commissions/{commission_id}#deliverables", "delivered")
