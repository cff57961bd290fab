"""One entry for the indicator tables on either engine (T7): DuckDB through :func:`engine.compute`, Spark through
:func:`spark_indicators.compute` (every step as Spark jobs, keyword membership on the executors; issue 16).

Why a module of its own: the Spark path builds on the engine's helpers, so the engine cannot also call it without
an import loop (the ``acyclic_siblings`` contract of pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

from banso.analytics import engine as duck
from banso.analytics import expressions as ex
from banso.analytics.engine import IndicatorRun
from banso.analytics.technologies import TechnologySet


def compute(store: Path, technologies: TechnologySet, window: ex.Window, *, engine: str = "duckdb",
            top10: str = "leiden", thresholds: ex.MonopolyThresholds | None = None, focus_country: str = "JP",
            document_types: tuple[str, ...] | None = None, top_institutions: int = 10) -> IndicatorRun:
    """Compute the indicator tables on ``engine`` (``duckdb`` or ``spark``); the same tables either way."""
    if engine == "spark":
        from banso.analytics import spark_indicators

        return spark_indicators.compute(store, technologies, window, top10=top10, thresholds=thresholds,
                                        focus_country=focus_country, document_types=document_types,
                                        top_institutions=top_institutions)
    return duck.compute(store, technologies, window, engine=engine, top10=top10, thresholds=thresholds,
                        focus_country=focus_country, document_types=document_types,
                        top_institutions=top_institutions)
