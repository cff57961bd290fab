"""API shapes of the think tank (``/api/v1/thinktank``): indicators, priorities, needs, analyses, reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from banso.kit.text import Text

Weight = Annotated[float, Field(ge=0, le=1000, strict=True)]  # strict: true is not 1 (issue 16 F7)


class IndicatorsRead(BaseModel):
    """The technologies table of the analysis (one row per technology; T4)."""

    window: str
    synthetic: bool = Field(description="True when the snapshot is synthetic (generated, not real publications)")
    technologies: list[dict[str, Any]]


class CountriesRead(BaseModel):
    """One technology's country rows, best rank first."""

    technology: str
    countries: list[dict[str, Any]]


class PrioritiesRead(BaseModel):
    """A TOPSIS ranking (T5) with the weights it used; needs come from the database."""

    weights: dict[str, float]
    rows: list[dict[str, Any]]


class NeedCreate(BaseModel):
    """A new version of a technology's social-implementation need (社会実装ニーズ)."""

    level: float = Field(ge=1, le=5, strict=True, description="1 (low) … 5 (high); a JSON number, not true")
    reason: Annotated[str, Text(2000)]


class NeedRead(BaseModel):
    """One version of a technology's need."""

    model_config = ConfigDict(from_attributes=True)

    technology: str
    version: int
    level: float
    reason: str
    source: str
    entered_by_id: int
    entered_at: datetime


class AnalysisCreate(BaseModel):
    """Save the ranking for these weights under a name (a new version when the name exists)."""

    name: Annotated[str, Text(200, line=True)]
    weights: dict[str, Weight] = Field(description="every criterion: japan_share, japan_rank, japan_rca, "
                                                   "monopoly_risk, leader_share, momentum, needs")


class AnalysisSummary(BaseModel):
    """A saved analysis version as listed."""

    id: int
    name: str
    version: int
    window: str
    created_by_id: int
    created_by: str
    created_at: datetime
    weights: dict[str, float]


class AnalysisRead(AnalysisSummary):
    """A saved analysis version with its ranking and the needs it used."""

    needs: dict[str, list[Any]] = Field(description="technology → [level, reason, need version]")
    ranking: list[dict[str, Any]]


class FileReport(BaseModel):
    """File the report (workbook and CSV tables) into a council as a think-tank item (T6)."""

    council_id: int = Field(ge=1, le=2**31 - 1)
    analysis_id: int | None = Field(None, ge=1, le=2**31 - 1)


class FiledRead(BaseModel):
    """Where the report was filed."""

    item_id: int
    council_id: int


class FileReportIntoCommission(BaseModel):
    """File one report format as a deliverable of a commission the analyst is engaged in (F5, T6)."""

    commission_id: int = Field(ge=1, le=2**31 - 1)
    analysis_id: int | None = Field(None, ge=1, le=2**31 - 1)
    kind: Literal["report.xlsx", "report.pdf", "priorities.csv", "indicators.csv"] = "report.xlsx"


class FiledDeliverableRead(BaseModel):
    """The deliverable the filing created."""

    deliverable_id: int
    commission_id: int


class InstitutionRead(BaseModel):
    """One leading institution of a technology (``top_institutions``; docs/analytics.md)."""

    rank: int = Field(description="competition rank within the scope on the exact sum of top-10% weights")
    institution_id: int = Field(description="OpenAlex institution number")
    institution: str | None = Field(description="name from the store's institution dimension (null when absent)")
    ror: str | None = Field(description="ROR id as OpenAlex gives it (https://ror.org/…); synthetic data: "
                                        "ROR-shaped, not a registered organisation")
    country: str | None = Field(description="ISO 3166-1 alpha-2 code")
    country_ja: str | None
    country_en: str | None
    top10: float = Field(description="Σ top-10% weight of the technology's works in the window (whole per institution)")


class InstitutionsRead(BaseModel):
    """A technology's leading institutions, worldwide or of one country."""

    technology: str
    window: str
    synthetic: bool = Field(description="True when the snapshot is synthetic (generated, not real publications)")
    country: str | None = Field(description="the country asked for; null: worldwide")
    institutions: list[InstitutionRead]


class TrendRead(BaseModel):
    """One country's figures in one rolling window (``trends``), with its 95 % intervals when computed."""

    country: str
    country_ja: str
    country_en: str
    window_start: int
    window_end: int
    papers_whole: int
    papers_fractional: float
    top10_fractional: float
    top10_share_fractional: float | None
    rank_top10_fractional: int | None
    works: int | None = Field(None, description="the technology's works in the window (with --bootstrap)")
    small_sample: bool | None = Field(None, description="fewer works than the minimum: not ranked, no rank interval")
    share_low: float | None = Field(None, description="2.5th percentile of the bootstrap share")
    share_high: float | None = Field(None, description="97.5th percentile of the bootstrap share")
    rank_low: int | None = None
    rank_high: int | None = None


class TrendsRead(BaseModel):
    """A technology's series over rolling windows (every country, or one)."""

    technology: str
    synthetic: bool = Field(description="True when the snapshot is synthetic (generated, not real publications)")
    country: str | None = Field(description="the country asked for; null: every country")
    samples: int = Field(description="bootstrap resamples behind the intervals; 0: computed without intervals")
    windows: list[str]
    rows: list[TrendRead]
