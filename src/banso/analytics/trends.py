"""Indicator time series over rolling windows (issue 16; docs/analytics.md "Institutions and trends").

Each window is computed by :func:`banso.analytics.engine.compute` exactly as a single ``indicators``
run over that window would be (top-10% weights over the whole store, exact sums and ranks), so a
trend row equals the row of a separate run; a work published in two overlapping windows counts in both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from banso.analytics import expressions as ex
from banso.analytics.engine import _write_csv, compute
from banso.analytics.errors import AnalyticsError
from banso.analytics.technologies import TechnologySet

TRENDS_FILE = "trends.parquet"
COLUMNS = ("technology", "country", "window_start", "window_end", "papers_whole", "papers_fractional",
           "top10_fractional", "top10_share_fractional", "rank_top10_fractional")


def windows(span: ex.Window, size: int, step: int) -> list[ex.Window]:
    """Return the windows of ``size`` years, every ``step`` years, that lie inside ``span``.

    A window ``[s, s + size − 1]`` includes both its first and last year; the first starts at
    ``span.start``; a last window that would end after ``span.end`` is left out (not shortened).

    >>> [(w.start, w.end) for w in windows(ex.Window(2015, 2020), 3, 1)]
    [(2015, 2017), (2016, 2018), (2017, 2019), (2018, 2020)]
    >>> [(w.start, w.end) for w in windows(ex.Window(2015, 2020), 3, 2)]
    [(2015, 2017), (2017, 2019)]
    """
    if size < 1 or step < 1:
        raise ValueError("--window and --step must be at least 1 year")
    if span.end - span.start + 1 < size:
        raise ValueError(f"the span {span.start}:{span.end} is shorter than one window of {size} years")
    return [ex.Window(s, s + size - 1) for s in range(span.start, span.end - size + 2, step)]


@dataclass
class TrendRun:
    """The series, and the windows left out because no work was published in them."""

    table: pa.Table
    empty_windows: list[str] = field(default_factory=list)


def compute_trends(store: Path, technologies: TechnologySet, span: ex.Window, size: int, step: int, *,
                   on_window: Callable[[ex.Window], None] | None = None, engine: str = "duckdb",
                   top10: str = "leiden", document_types: tuple[str, ...] | None = None) -> TrendRun:
    """Compute the main shares per technology × country for every window (options as ``compute``'s)."""
    pieces, empty = [], []
    for win in windows(span, size, step):
        if on_window:
            on_window(win)
        try:
            run = compute(store, technologies, win, engine=engine, top10=top10, document_types=document_types,
                          top_institutions=0)
        except AnalyticsError as exc:
            if "no works published in the window" not in str(exc):
                raise
            empty.append(f"{win.start}:{win.end}")
            continue
        pieces.append(run.indicators.select(list(COLUMNS)))
    if not pieces:
        raise AnalyticsError(f"no works published in any window of {span.start}:{span.end}")
    table = pa.concat_tables(pieces).sort_by([("technology", "ascending"), ("window_start", "ascending"),
                                               ("rank_top10_fractional", "ascending"), ("country", "ascending")])
    return TrendRun(table, empty)


def write_trends(run: TrendRun, out: Path) -> list[Path]:
    """Write ``trends.parquet`` and ``trends.csv`` into ``out``, each atomically."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for ext in ("parquet", "csv"):
        path = out / f"trends.{ext}"
        tmp = path.with_name(path.name + ".tmp")
        if ext == "parquet":
            pq.write_table(run.table, tmp)
        else:
            _write_csv(run.table, tmp)
        os.replace(tmp, path)
        written.append(path)
    return written
