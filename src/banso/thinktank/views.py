"""HTML pages of the think tank (issue 6, Web): Japan's position, each technology's countries, priorities.

The pages read the analysis ``banso analyze`` wrote under ``data_dir/analytics`` (see
:mod:`banso.thinktank.service`). Everyone signed in reads it (ANALYTICS_READ); analysts
(ANALYTICS_RUN) may recompute the ranking with their own weights, in the request, nothing saved.
Invalid weights come back as a form error with a 422 status; an unknown technology is a 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from banso.authz.permissions import Permission
from banso.authz.principal import Principal
from banso.kit.errors import Forbidden, NotFound, ValidationFailed
from banso.thinktank import service
from banso.thinktank.service import Analysis
from banso.web.csrf import verify_csrf
from banso.web.deps import Ctx
from banso.web.pages import PageUser
from banso.web.templating import render, translator_for
from banso.web.views import localised

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
PNG_HEADERS = {"Cache-Control": "private, max-age=300"}


def _require_read(principal: Principal) -> None:
    if not principal.has(Permission.ANALYTICS_READ):
        raise Forbidden("分析結果を閲覧する権限がありません / You may not read the analysis")


def _analysis(ctx: Ctx) -> Analysis | None:
    return service.load_analysis(ctx.settings.data_dir)


def _require_analysis(ctx: Ctx) -> Analysis:
    analysis = _analysis(ctx)
    if analysis is None:
        raise NotFound("分析結果がありません / No analysis has been produced yet")
    return analysis


def _common(request: Request, analysis: Analysis | None) -> dict[str, Any]:
    lang = translator_for(request).locale
    return {
        "analysis": analysis,
        "tech_name": (lambda t: analysis.name(t, lang)) if analysis else (lambda t: t),
        "analytics_dir": service.analytics_dir(request.app.state.ctx.settings.data_dir),
        "commands": service.setup_commands,
    }


# ---------------------------------------------------------------------------------------------
# Japan's position across technologies


@router.get("/thinktank", response_class=HTMLResponse)
def overview(request: Request, principal: PageUser, ctx: Ctx) -> HTMLResponse:
    """Japan's rank, share and gap to the leader per technology, with a chart; or how to produce one."""
    _require_read(principal)
    analysis = _analysis(ctx)
    return render(request, "thinktank/overview.html", {
        "rows": analysis.japan_rows() if analysis else [],
        "empty_count": int((analysis.technologies["papers"] == 0).sum()) if analysis else 0,
        "may_run": principal.has(Permission.ANALYTICS_RUN),
        **_common(request, analysis),
    })


@router.get("/thinktank/japan.png")
def japan_png(request: Request, principal: PageUser, ctx: Ctx) -> Response:
    """The chart of Japan's top-10% share against the leader's per technology."""
    _require_read(principal)
    analysis = _require_analysis(ctx)
    t = translator_for(request)
    png = service.japan_chart(analysis, lang=t.locale, japan=t.gettext("Japan"), leader=t.gettext("Leader"),
                              xlabel=t.gettext("Share of top-10% papers (fractional counting)"))
    return Response(png, media_type="image/png", headers=PNG_HEADERS)


# ---------------------------------------------------------------------------------------------
# One technology: its country table and chart


@router.get("/thinktank/technologies/{tech_id}", response_class=HTMLResponse)
def technology(tech_id: str, request: Request, principal: PageUser, ctx: Ctx) -> HTMLResponse:
    """The technology's countries: papers, fractional top-10% share, rank, RCA, CAGR, h-index, collaboration."""
    _require_read(principal)
    analysis = _require_analysis(ctx)
    tech = analysis.technology(tech_id)
    return render(request, "thinktank/technology.html", {
        "tech": tech, "countries": analysis.countries(tech_id), **_common(request, analysis),
    })


@router.get("/thinktank/technologies/{tech_id}/chart.png")
def technology_png(tech_id: str, request: Request, principal: PageUser, ctx: Ctx) -> Response:
    """The chart of the technology's countries' shares of top-10% papers."""
    _require_read(principal)
    analysis = _require_analysis(ctx)
    t = translator_for(request)
    png = service.country_chart(analysis, tech_id, lang=t.locale, other=t.gettext("Other countries"),
                                xlabel=t.gettext("Share of top-10% papers (fractional counting)"))
    return Response(png, media_type="image/png", headers=PNG_HEADERS)


# ---------------------------------------------------------------------------------------------
# Prioritisation (TOPSIS) with weights an analyst can change


def _priorities_page(request: Request, principal: Principal, analysis: Analysis | None, *,
                     values: dict[str, str] | None, status: int = 200) -> HTMLResponse:
    may_run = principal.has(Permission.ANALYTICS_RUN)
    error, recomputed, ranking = None, False, None
    form = {n: f"{(analysis.weights if analysis else {}).get(n, 0.0):g}" for n in service.criteria()}
    if analysis is not None:
        ranking = analysis.ranking
        if values is not None:
            if not may_run:
                raise Forbidden("重みを変えて再計算できるのは分析担当者です / Only analysts recompute the ranking")
            form.update({n: values.get(n) or "" for n in service.criteria()})
            try:
                ranking = service.recompute(analysis, service.parse_weights(values))
                recomputed = True
            except ValidationFailed as exc:
                error = localised(exc.message, translator_for(request).locale)
                status = exc.status_code
        if ranking is None:
            ranking = service.recompute(analysis, analysis.weights)
    return render(request, "thinktank/priorities.html", {
        "rows": service.ranking_rows(ranking) if ranking is not None else [],
        "criteria": service.criteria(),
        "form": form, "error": error, "recomputed": recomputed, "may_run": may_run,
        "band": int((analysis.settings if analysis else {}).get("band", 5)),
        **_common(request, analysis),
    }, status=status)


def _weights_from(params: Any) -> dict[str, str] | None:
    names = service.criteria()
    if not any(f"w_{n}" in params for n in names):
        return None
    return {n: str(params.get(f"w_{n}") or "") for n in names}


@router.get("/thinktank/priorities", response_class=HTMLResponse)
def priorities(request: Request, principal: PageUser, ctx: Ctx) -> HTMLResponse:
    """The saved ranking, or one recomputed with the weights in the query (``w_<criterion>``)."""
    _require_read(principal)
    return _priorities_page(request, principal, _analysis(ctx), values=_weights_from(request.query_params))


async def _posted_form(request: Request) -> FormData:
    """Return the posted form, read on the event loop (reading a body is not blocking work)."""
    return await request.form()


@router.post("/thinktank/priorities", response_class=HTMLResponse, dependencies=[Csrf])
def recompute(request: Request, principal: PageUser, ctx: Ctx,
              form: Annotated[FormData, Depends(_posted_form)]) -> HTMLResponse:
    """Recompute the ranking with the posted weights (nothing is saved)."""
    # O4: a sync endpoint, so reading the analysis from disk runs in a worker thread, not on the loop.
    _require_read(principal)
    values = _weights_from(form) or {}
    return _priorities_page(request, principal, _analysis(ctx), values=values)
