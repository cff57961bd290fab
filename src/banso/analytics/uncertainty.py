"""Bootstrap confidence intervals on Japan's top-10% share and rank per technology (issue 16).

The works of a technology are resampled with replacement ``samples`` times (seeded); in each resample
the countries' fractional top-10% counts (Σ ``w/nc``, docs/analytics.md §4) give the focus country's
share and its competition rank, and the 2.5th/97.5th percentiles make a 95 % interval. Works keep
their top-10% weight ``w`` from the whole store (the bins are not recomputed per resample).

A technology with fewer works than the minimum sample (``BANSO_ANALYTICS_MIN_WORKS``) is marked
``small_sample`` and gets no rank interval: it is not ranked (issue 16), its share interval stays (a
wide interval is what a small sample honestly has). ``banso analyze indicators --bootstrap N --seed S``
writes the table as ``uncertainty.parquet`` and ``uncertainty.csv``; the report shows it.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from banso.analytics import config
from banso.analytics import expressions as ex
from banso.analytics.engine import connect, membership_table, open_works
from banso.analytics.technologies import TechnologySet

COLUMNS = ["technology", "works", "small_sample", "samples", "share_low", "share_high", "rank_low", "rank_high"]


def tech_work_rows(store: Path, technologies: TechnologySet, window: ex.Window, *,
                   top10: str = "leiden", document_types: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Return (technology, work_id, w, countries) for the window's works of each technology, on DuckDB.

    The works and their top-10% weights are those the indicators count (``document_types``, default
    :func:`config.document_types`; neither paratext nor retracted), as in ``engine.compute``.
    """
    con = connect("duckdb")
    types = tuple(document_types if document_types is not None else config.document_types())
    # Why counted: until session 11 the resamples drew from every stored work (other types, paratext,
    # retracted too) and weighted them over all of them, so the intervals were not around the indicators.
    works = ex.counted(open_works(con, store), types)
    member, _ = membership_table(con, "duckdb", store, works, technologies, window, document_types=types)
    tw = ex.tech_works(works, technologies, window, top10=top10, member=member)
    frame: pd.DataFrame = tw.select("technology", "work_id", "w", "countries").to_pandas()
    # Why sorted: DuckDB returns rows in any order (threads), and a resample draws by position, so the same
    # seed gave other intervals run to run until the rows came in one order.
    return frame.sort_values(["technology", "work_id"], kind="stable").reset_index(drop=True)


def interval(rows: pd.DataFrame, *, focus: str = "JP", samples: int | None = None, seed: int = 0,
             level: float = 0.95) -> dict[str, float | int | None]:
    """Return the bootstrap interval of ``focus``'s share and rank over one technology's works ``rows``.

    ``rows`` has ``w`` and ``countries`` (a list of codes) per work. A resample where no work has
    top-10% weight has no share (left out of the share's interval). Ranks count countries with a
    larger fractional top-10% count (1 = most), as ``rank_top10_fractional`` does. A focus country
    without works in the technology gets share 0 and no rank (``japan_rank`` is null there too).
    """
    b = config.bootstrap_samples() if samples is None else samples
    n = len(rows)
    out: dict[str, float | int | None] = {"works": n, "samples": b, "share_low": None, "share_high": None,
                                          "rank_low": None, "rank_high": None}
    if n == 0 or b == 0:
        return out
    if not any(focus in cs for cs in rows["countries"]):
        out["share_low"] = out["share_high"] = 0.0  # absent: share 0 and no rank, as in the technologies table
        return out
    # The focus country's row of every country's intervals: one resampling for both (country_intervals).
    mine = country_intervals(rows, samples=b, seed=seed, level=level).set_index("country").loc[focus]
    if not pd.isna(mine["share_low"]):
        out["share_low"], out["share_high"] = float(mine["share_low"]), float(mine["share_high"])
    out["rank_low"], out["rank_high"] = int(mine["rank_low"]), int(mine["rank_high"])
    return out


def bootstrap(store: Path, technologies: TechnologySet, window: ex.Window, *, focus: str = "JP",
              samples: int | None = None, seed: int = 0, top10: str = "leiden",
              min_works: int | None = None, document_types: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Return one row per technology: its works and the 95 % intervals of ``focus``'s share and rank; a
    technology under ``min_works`` (default :func:`config.min_works`) is marked and has no rank interval."""
    minimum = config.min_works() if min_works is None else min_works
    rows = tech_work_rows(store, technologies, window, top10=top10, document_types=document_types)
    groups = dict(tuple(rows.groupby("technology")))
    result = []
    for k, t in enumerate(technologies.ids):
        part = groups.get(t, rows.iloc[0:0])
        found = interval(part, focus=focus, samples=samples, seed=seed + k)
        small = len(part) < minimum
        if small:  # not ranked (issue 16): no rank, so no rank interval either
            found["rank_low"] = found["rank_high"] = None
        result.append({"technology": t, "small_sample": small, **found})
    return pd.DataFrame(result, columns=COLUMNS).astype({"rank_low": "Int64", "rank_high": "Int64"})


UNCERTAINTY_FILE = "uncertainty.parquet"


def write_uncertainty(store: Path, technologies: TechnologySet, window: ex.Window, out: Path, *,
                      focus: str = "JP", samples: int | None = None, seed: int = 0, top10: str = "leiden",
                      min_works: int | None = None, document_types: tuple[str, ...] | None = None) -> Path:
    """Write :func:`bootstrap`'s table as ``out/uncertainty.parquet`` and ``out/uncertainty.csv`` (read by the
    report when present)."""
    table = bootstrap(store, technologies, window, focus=focus, samples=samples, seed=seed, top10=top10,
                      min_works=min_works, document_types=document_types)
    out.mkdir(parents=True, exist_ok=True)
    path = out / UNCERTAINTY_FILE
    tmp = path.with_name(path.name + ".tmp")
    table.to_parquet(tmp, index=False)
    tmp.replace(path)
    csv_path = out / "uncertainty.csv"
    tmp = csv_path.with_name(csv_path.name + ".tmp")
    table.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")  # ids and numbers only: no formula text
    tmp.replace(csv_path)
    return path


# ---------------------------------------------------------------------------------------------
# Every country's interval, per rolling window (``banso analyze trends --bootstrap N``; session 11)

TREND_COLUMNS = ["works", "small_sample", "samples", "share_low", "share_high", "rank_low", "rank_high"]
"""The columns ``trends.parquet`` gains with ``--bootstrap`` (one value per technology × country × window)."""


def _country_matrix(rows: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Return the countries of ``rows`` (sorted) and the works × countries matrix of fractional weights ``w/nc``."""
    codes = sorted({c for cs in rows["countries"] for c in cs})
    m = np.zeros((len(rows), len(codes)))
    if not codes:
        return codes, m
    nc = np.array([len(cs) for cs in rows["countries"]], dtype=np.int64)
    flat = [c for cs in rows["countries"] for c in cs]
    col = {c: k for k, c in enumerate(codes)}
    row_of = np.repeat(np.arange(len(rows)), nc)
    weight = np.repeat(rows["w"].to_numpy(dtype=float) / np.maximum(nc, 1), nc)
    np.add.at(m, (row_of, np.array([col[c] for c in flat], dtype=np.int64)), weight)
    return codes, m


def _ranks(totals: np.ndarray, chunk: int = 64) -> np.ndarray:
    """Return every country's competition rank in each resample (1 + countries with a larger count).

    The tolerance is :func:`interval`'s: equal exact counts summed in another order tie, not outrank.
    """
    out = np.empty(totals.shape, dtype=np.int64)
    for start in range(0, totals.shape[0], chunk):  # B × C × C booleans, a few resamples at a time
        part = totals[start:start + chunk]
        tol = 1e-9 * np.maximum(np.abs(part), 1e-300)
        out[start:start + chunk] = 1 + (part[:, None, :] > (part + tol)[:, :, None]).sum(axis=2)
    return out


def country_intervals(rows: pd.DataFrame, *, samples: int, seed: int | Sequence[int] = 0,
                      level: float = 0.95) -> pd.DataFrame:
    """Return the bootstrap interval of every country's top-10% share and rank over one technology's works.

    The same resampling as :func:`interval` (``rows``: ``w`` and ``countries`` per work; one multinomial draw
    of the works per resample), for every country with a work in ``rows`` at once: with the same ``seed`` a
    country's row equals :func:`interval` with ``focus`` that country. Columns: country, share_low,
    share_high, rank_low, rank_high (null when there is nothing to resample).
    """
    codes, m = _country_matrix(rows)
    frame = pd.DataFrame({"country": codes, "share_low": np.nan, "share_high": np.nan})
    frame = frame.assign(rank_low=pd.array([None] * len(codes), dtype="Int64"),
                         rank_high=pd.array([None] * len(codes), dtype="Int64"))
    n = len(rows)
    if n == 0 or samples <= 0 or not codes:
        return frame
    rng = np.random.default_rng(seed if isinstance(seed, int) else np.random.SeedSequence(list(seed)))
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=samples).astype(float)
    totals = counts @ m  # B × countries
    whole = totals.sum(axis=1)
    tail = (1 - level) / 2
    kept = whole > 0
    if kept.any():
        q = np.quantile(totals[kept] / whole[kept][:, None], [tail, 1 - tail], axis=0)
        frame["share_low"], frame["share_high"] = q[0], q[1]
    r = np.quantile(_ranks(totals), [tail, 1 - tail], axis=0)
    frame["rank_low"] = pd.array(np.floor(r[0]).astype(np.int64), dtype="Int64")
    frame["rank_high"] = pd.array(np.ceil(r[1]).astype(np.int64), dtype="Int64")
    return frame


def window_seed(seed: int, technology: str, window: ex.Window) -> list[int]:
    """Return the seed of one technology × window: the run's seed, the window and the technology id (CRC-32),
    so a window's intervals do not depend on which other technologies or windows were computed."""
    return [seed, window.start, window.end, zlib.crc32(technology.encode("utf-8"))]


def trend_intervals(store: Path, technologies: TechnologySet, windows: Sequence[ex.Window], *, samples: int,
                    seed: int = 0, top10: str = "leiden", min_works: int | None = None,
                    document_types: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Return the intervals of every country per technology × window: the keys (technology, country,
    window_start, window_end) and :data:`TREND_COLUMNS`. A technology with fewer works in a window than
    ``min_works`` (default :func:`config.min_works`) is marked ``small_sample`` there and has no rank interval.
    """
    minimum = config.min_works() if min_works is None else min_works
    pieces = []
    for win in windows:
        rows = tech_work_rows(store, technologies, win, top10=top10, document_types=document_types)
        for tech_id, part in rows.groupby("technology", sort=True):
            found = country_intervals(part, samples=samples, seed=window_seed(seed, str(tech_id), win))
            small = len(part) < minimum
            if small:  # not ranked (issue 16): no rank, so no rank interval either
                found["rank_low"] = found["rank_high"] = pd.array([None] * len(found), dtype="Int64")
            pieces.append(found.assign(technology=str(tech_id), window_start=win.start, window_end=win.end,
                                       works=len(part), small_sample=small, samples=samples))
    keys = ["technology", "country", "window_start", "window_end"]
    if not pieces:
        return pd.DataFrame(columns=keys + TREND_COLUMNS)
    return pd.concat(pieces, ignore_index=True)[keys + TREND_COLUMNS]
