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
