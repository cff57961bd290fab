"""Indicator time series over rolling windows (issue 16; docs/analytics.md "Institutions and trends").

Each window is computed by :func:`banso.analytics.engine.compute` exactly as a single ``indicators``
run over that window would be (top-10% weights over the whole store, exact sums and ranks), so a
trend row equals the row of a separate run; a work published in two overlapping windows counts in both.

With ``samples`` (``banso analyze trends --bootstrap N --seed S``) every row also gets its bootstrap 95 %
intervals (:func:`banso.analytics.uncertainty.trend_intervals`): the columns of
:data:`~banso.analytics.uncertainty.TREND_COLUMNS`, in the same ``trends.parquet``/``.csv``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from banso.analytics import expressions as ex
from banso.analytics.engine import _write_csv
from banso.analytics.errors import AnalyticsError
from banso.analytics.run import compute
from banso.analytics.technologies import TechnologySet
from banso.analytics.uncertainty import TREND_COLUMNS, trend_intervals

TRENDS_FILE = "trends.parquet"
COLUMNS = ("technology", "country", "window_start", "window_end", "papers_whole", "papers_fractional",
           "top10_fractional", "top10_share_fractional", "rank_top10_fractional")
INTERVAL_COLUMNS = tuple(TREND_COLUMNS)
"""Written only with ``--bootstrap``: a reader checks for ``share_low`` before showing intervals."""


FIRST_YEAR, LAST_YEAR = ex.FIRST_YEAR, ex.LAST_YEAR  # publication years a span may name


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
        raise ValueError("--window と --step は 1 年以上にしてください / --window and --step must be at least 1 year")
    if not (FIRST_YEAR <= span.start and span.end <= LAST_YEAR):
        # each window is a full indicators run: a span of -5:2023 ran for minutes over 2,000 empty windows
        raise ValueError(f"--span は {FIRST_YEAR}:{LAST_YEAR} の中にしてください（{span.start}:{span.end}） / "
                         f"--span must lie within {FIRST_YEAR}:{LAST_YEAR} (got {span.start}:{span.end})")
    if span.end - span.start + 1 < size:
        raise ValueError(f"期間 {span.start}:{span.end} は {size} 年の窓 1 つより短いです / "
                         f"the span {span.start}:{span.end} is shorter than one window of {size} years")
    return [ex.Window(s, s + size - 1) for s in range(span.start, span.end - size + 2, step)]


@dataclass
class TrendRun:
    """The series, and the windows left out because no work was published in them."""

    table: pa.Table
    empty_windows: list[str] = field(default_factory=list)
    samples: int = 0


def compute_trends(store: Path, technologies: TechnologySet, span: ex.Window, size: int, step: int, *,
                   on_window: Callable[[ex.Window], None] | None = None, engine: str = "duckdb",
                   top10: str = "leiden", document_types: tuple[str, ...] | None = None, samples: int = 0,
                   seed: int = 0, min_works: int | None = None) -> TrendRun:
    """Compute the main shares per technology × country for every window (options as ``compute``'s); with
    ``samples`` > 0 add every row's bootstrap intervals (same ``seed``, same intervals)."""
    pieces, empty, done = [], [], []
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
        done.append(win)
    if not pieces:
        raise AnalyticsError(f"{span.start}:{span.end} のどの窓にも出版された文献がありません / "
                             f"no works published in any window of {span.start}:{span.end}")
    table = pa.concat_tables(pieces)
    if samples > 0:
        table = _with_intervals(table, trend_intervals(store, technologies, done, samples=samples, seed=seed,
                                                       top10=top10, min_works=min_works,
                                                       document_types=document_types))
    table = table.sort_by([("technology", "ascending"), ("window_start", "ascending"),
                           ("rank_top10_fractional", "ascending"), ("country", "ascending")])
    return TrendRun(table, empty, samples=max(samples, 0))


def _with_intervals(table: pa.Table, intervals: pd.DataFrame) -> pa.Table:
    """Return ``table`` with the interval columns joined on technology × country × window (its own columns
    and their types untouched)."""
    keys = ["technology", "country", "window_start", "window_end"]
    # A left merge keeps the left frame's row order. Every trend row is a country with a work in the
    # technology and window, so every row finds its interval row.
    found = table.select(keys).to_pandas().merge(intervals, on=keys, how="left", validate="one_to_one")
    types = {"works": pa.int64(), "small_sample": pa.bool_(), "samples": pa.int64(), "share_low": pa.float64(),
             "share_high": pa.float64(), "rank_low": pa.int64(), "rank_high": pa.int64()}
    for name in INTERVAL_COLUMNS:
        values = [None if pd.isna(v) else v for v in found[name].tolist()]
        table = table.append_column(name, pa.array(values, type=types[name]))
    return table


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
