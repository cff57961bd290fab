"""JSON API of the think tank (``/api/v1/thinktank``) for analysts' own notebooks (issue 16).

The same services and the same policy decision as the pages (:mod:`banso.authz.policies.thinktank`):
indicators for everyone with ``thinktank:analysis:read``; priorities, needs, saved analyses and reports
only for the roles the policy names; needs entered by needs-ministry officers; saving and filing by
analysts.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from fastapi.responses import Response

from banso.information.deps import information_deps
from banso.kit.disposition import content_disposition
from banso.kit.errors import NotFound
from banso.thinktank import reports, service
from banso.thinktank.interfaces import commission_filer
from banso.thinktank.schemas import (
    AnalysisCreate,
    AnalysisRead,
    AnalysisSummary,
    CountriesRead,
    FiledDeliverableRead,
    FiledRead,
    FileReport,
    FileReportIntoCommission,
    IndicatorsRead,
    InstitutionRead,
    InstitutionsRead,
    NeedCreate,
    NeedRead,
    PrioritiesRead,
    TrendRead,
    TrendsRead,
)
from banso.thinktank.service import Analysis, SavedView
from banso.web.csrf import verify_csrf
from banso.web.deps import ApiUser, Ctx, Db
from banso.web.openapi import file_response

router = APIRouter(prefix="/thinktank", tags=["thinktank"], dependencies=[Depends(verify_csrf)])
TechId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
AnalysisId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Country = Annotated[str | None, Query(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$",
                                      description="ISO 3166-1 alpha-2 code (e.g. JP)")]
W = Annotated[str | None, Query(max_length=40, description="a decimal number 0–1000 (digits 0-9 and '.'); "
                                                            "read by service.parse_weights")]


def _analysis(ctx: Ctx) -> Analysis:
    analysis = service.load_analysis(ctx.settings.data_dir)
    if analysis is None:
        raise NotFound("分析結果がありません / No analysis has been produced yet")
    return analysis


@router.get("/indicators", response_model=IndicatorsRead)
def indicators(principal: ApiUser, ctx: Ctx) -> IndicatorsRead:
    """Return the technologies table of the analysis (papers, leader, HHI, Japan's rank and gap, ...)."""
    service.require_indicators(principal)
    a = _analysis(ctx)
    rows = [service.clean_row(r) for r in a.technologies.to_dict("records")]
    return IndicatorsRead(window=a.window, synthetic=a.synthetic, technologies=rows)


@router.get("/indicators/{technology}", response_model=CountriesRead)
def countries(technology: TechId, principal: ApiUser, ctx: Ctx) -> CountriesRead:
    """Return one technology's country rows (papers, top-10% share, rank, RCA, CAGR, h-index, ...)."""
    service.require_indicators(principal)
    a = _analysis(ctx)
    a.technology(technology)
    return CountriesRead(technology=technology, countries=a.countries(technology))


@router.get("/institutions/{technology}", response_model=InstitutionsRead)
def institutions(technology: TechId, principal: ApiUser, ctx: Ctx, country: Country = None) -> InstitutionsRead:
    """Return the technology's leading institutions (name, ROR id, country, top-10% output) worldwide, or of
    ``country``; the indicators' access rule. A country code the analysis has no institutions of: 404 saying so."""
    service.require_indicators(principal)
    a = _analysis(ctx)
    a.technology(technology)
    code = service.asked_country(country, a.institution_countries(technology))  # 404 for a country not in it
    rows = a.leading_institutions(technology, code)
    return InstitutionsRead(technology=technology, window=a.window, synthetic=a.synthetic, country=code,
                            institutions=[InstitutionRead.model_validate(r) for r in rows])


@router.get("/trends/{technology}", response_model=TrendsRead)
def trends(technology: TechId, principal: ApiUser, ctx: Ctx, country: Country = None) -> TrendsRead:
    """Return the technology's share, rank and (when computed) 95 % intervals per rolling window, for every
    country or ``country``; 404 with the command to run when no trends were computed, 404 saying so for a
    country code without rows."""
    service.require_indicators(principal)
    a = _analysis(ctx)
    every = a.trend_rows(technology)
    code = service.asked_country(country, {str(r["country"]) for r in every})  # 404 for a country not in it
    rows = [r for r in every if r["country"] == code] if code else every
    windows = sorted({(int(r["window_start"]), int(r["window_end"])) for r in every})
    return TrendsRead(technology=technology, synthetic=a.synthetic, country=code, samples=a.trend_samples,
                      windows=[f"{s}–{e}" for s, e in windows], rows=[TrendRead.model_validate(r) for r in rows])


@router.get("/priorities", response_model=PrioritiesRead)
def priorities(principal: ApiUser, ctx: Ctx, db: Db, japan_share: W = None, japan_rank: W = None,
               japan_rca: W = None, monopoly_risk: W = None, leader_share: W = None, momentum: W = None,
               needs: W = None) -> PrioritiesRead:
    """Return the ranking with the needs in the database; weights left out keep the analysis's own."""
    a = _analysis(ctx)
    given = {"japan_share": japan_share, "japan_rank": japan_rank, "japan_rca": japan_rca,
             "monopoly_risk": monopoly_risk, "leader_share": leader_share, "momentum": momentum, "needs": needs}
    weights = None
    if any(v is not None for v in given.values()):
        service.require_run(principal)
        weights = service.parse_weights({k: a.weights[k] if v is None else v for k, v in given.items()})
    ranking = service.current_ranking(db, a, actor=principal, weights=weights)
    rows = [{k: v for k, v in r.items() if k != "contributions"} for r in service.ranking_rows(ranking)]
    return PrioritiesRead(weights=weights or a.weights, rows=rows)


@router.get("/needs", response_model=list[NeedRead])
def list_needs(principal: ApiUser, db: Db) -> list[NeedRead]:
    """Return the current need of every technology that has one."""
    return [NeedRead.model_validate(r.need) for r in service.list_needs(db, actor=principal) if r.need]


@router.get("/needs/{technology}", response_model=list[NeedRead])
def need_history(technology: TechId, principal: ApiUser, db: Db) -> list[NeedRead]:
    """Return every version of one technology's need, newest first."""
    return [NeedRead.model_validate(n) for n, _ in service.need_history(db, actor=principal, technology=technology)]


@router.post("/needs/{technology}", response_model=NeedRead, status_code=status.HTTP_201_CREATED)
def enter_need(technology: TechId, body: NeedCreate, principal: ApiUser, ctx: Ctx, db: Db) -> NeedRead:
    """Record a new version of a technology's need (needs-ministry officers; audited)."""
    row = service.enter_need(db, actor=principal, now=ctx.clock.now(), technology=technology, level=body.level,
                             reason=body.reason, source="api")
    return NeedRead.model_validate(row)


def _summary(v: SavedView) -> AnalysisSummary:
    r = v.row
    return AnalysisSummary(id=r.id, name=r.name, version=r.version, window=r.window, created_by_id=r.created_by_id,
                           created_by=v.created_by, created_at=r.created_at, weights=v.weights)


@router.get("/analyses", response_model=list[AnalysisSummary])
def list_analyses(principal: ApiUser, db: Db) -> list[AnalysisSummary]:
    """Return every saved analysis version, newest first."""
    return [_summary(v) for v in service.list_saved(db, actor=principal)]


@router.post("/analyses", response_model=AnalysisRead, status_code=status.HTTP_201_CREATED)
def save_analysis(body: AnalysisCreate, principal: ApiUser, ctx: Ctx, db: Db) -> AnalysisRead:
    """Save the ranking for the weights under a name (analysts; a new version when the name exists)."""
    service.require_run(principal)
    weights = service.parse_weights(body.weights)
    row = service.save_analysis(db, actor=principal, now=ctx.clock.now(), analysis=_analysis(ctx), name=body.name,
                                weights=weights)
    return get_analysis(row.id, principal, db)


@router.get("/analyses/{analysis_id}", response_model=AnalysisRead)
def get_analysis(analysis_id: AnalysisId, principal: ApiUser, db: Db) -> AnalysisRead:
    """Return one saved analysis version with its ranking and the needs it used."""
    v = service.get_saved(db, actor=principal, analysis_id=analysis_id)
    return AnalysisRead(**_summary(v).model_dump(), needs=json.loads(v.row.needs), ranking=json.loads(v.row.ranking))


@router.get("/reports/{kind}", response_class=Response,
            responses=file_response(*sorted({m for m, _ in reports.KINDS.values()}), description="The report"))
def report(kind: Annotated[str, Path(pattern=r"^(report\.(html|pdf|xlsx)|(priorities|indicators|institutions|trends)\.csv)$")],
           principal: ApiUser, ctx: Ctx, db: Db,
           analysis_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
           lang: Annotated[str, Query(pattern="^(ja|en)$")] = "ja") -> Response:
    """Return the report (HTML, PDF, Excel) or a CSV table, of the current ranking or of a saved analysis."""
    out = reports.export(db, _analysis(ctx), actor=principal, now=ctx.clock.now(), kind=kind, lang=lang,
                         saved_id=analysis_id)
    return Response(out.data, media_type=out.media_type,
                    headers={"Content-Disposition": content_disposition(out.filename)})


@router.post("/reports/file", response_model=FiledRead, status_code=status.HTTP_201_CREATED)
def file_report(body: FileReport, principal: ApiUser, ctx: Ctx, db: Db) -> FiledRead:
    """File the report into a council as a think-tank information item (analysts who are pledged members)."""
    item = reports.file_into_council(db, information_deps(ctx), _analysis(ctx), actor=principal,
                                     now=ctx.clock.now(), council_id=body.council_id, saved_id=body.analysis_id)
    return FiledRead(item_id=item.id, council_id=body.council_id)


@router.post("/reports/file-commission", response_model=FiledDeliverableRead, status_code=status.HTTP_201_CREATED)
def file_report_into_commission(body: FileReportIntoCommission, principal: ApiUser, ctx: Ctx,
                                db: Db) -> FiledDeliverableRead:
    """File one report format as a deliverable of a commission (analysts named on its roster who acknowledged
    the Art. 64 duty, while it is active; 404 otherwise). Needs reasons are left out of the filed copy (T8)."""
    deliverable_id = reports.file_into_commission(
        db, commission_filer(ctx), _analysis(ctx), actor=principal, now=ctx.clock.now(),
        commission_id=body.commission_id, kind=body.kind, saved_id=body.analysis_id)
    return FiledDeliverableRead(deliverable_id=deliverable_id, commission_id=body.commission_id)
