"""Bind the store to an engine (DuckDB embedded, or PySpark local/cluster) and write the indicator tables (T6, T7)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from ibis import BaseBackend

from banso.analytics import config, exact
from banso.analytics import expressions as ex
from banso.analytics import keywords as kw
from banso.analytics.errors import AnalyticsError, StoreError
from banso.analytics.spark_store import parquet_source
from banso.analytics.store import INSTITUTIONS, StorePaths, read_manifest, store_paths
from banso.analytics.technologies import TechnologySet
from banso.analytics.texts import work_text
from banso.kit.cells import csv_cell, is_formula_like, note_line

if TYPE_CHECKING:
    from pyspark.sql import SparkSession  # optional dependency (banso[spark]): imported when first used

ENGINES = ("duckdb", "spark")
MEMBERSHIP_VERSION = 2
_SPARK: SparkSession | None = None

RunSummary = dict[str, int | float | bool | list[str] | dict[str, int]]
"""What summary.json holds: the run's counts, timing, warnings and cache flag."""


# The driver JVM's log4j2 configuration when the CLI asks for a quiet session: errors only, on stderr. Given as the
# JVM starts (spark.driver.extraJavaOptions), so even the start-up warnings (native Hadoop library, the default
# log level banner) stay off the console; setLogLevel alone comes after them (outside tester, session 11). The
# repl logger at the root's level: Spark prints its "Setting default log level" banner only when they differ.
_QUIET_LOG4J2 = """rootLogger.level = error
rootLogger.appenderRef.stderr.ref = stderr
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = error
"""


def spark_session(*, quiet: bool = True) -> SparkSession:
    """Return the process-wide local Spark session (started once; slow to start).

    ``quiet``: Spark logs errors only, from the JVM's start on; else its warnings too (``ingest --verbose``).
    The first call decides the start-up logging; each call sets the level of the running session.
    """
    global _SPARK
    if _SPARK is None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise AnalyticsError("--engine spark には PySpark が必要です（pip install 'banso[spark]'） / "
                                 "--engine spark needs PySpark: pip install 'banso[spark]'") from None
        # Read by the SparkContext as it starts: the executors' Python (issue 16: they run banso code).
        os.environ["PYSPARK_PYTHON"] = config.spark_python()
        master = config.spark_master()
        builder = SparkSession.builder
        if quiet:
            # PySpark's own FutureWarning about pandas 3 on every start: not the user's to act on
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark(\.|$)")
            log_conf = Path(tempfile.mkdtemp(prefix="banso-spark-log-")) / "log4j2.properties"
            log_conf.write_text(_QUIET_LOG4J2, encoding="utf-8")
            given = config.spark_driver_java_options()
            if "log4j" not in given:  # an administrator's own log configuration stays theirs
                options = f"{given} -Dlog4j2.configurationFile={log_conf.as_uri()}".strip()
                builder = builder.config("spark.driver.extraJavaOptions", options)
        _SPARK = (
            builder.master(master)
            .appName("banso-analytics")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.memory", "2g")
            .getOrCreate()
        )
        if not master.startswith("local"):
            # A cluster's executors run the driver's banso, shipped as a zip (they need its dependencies).
            from banso.analytics.spark_cluster import ship_banso

            ship_banso(_SPARK, Path(tempfile.mkdtemp(prefix="banso-ship-")))
    _SPARK.sparkContext.setLogLevel("ERROR" if quiet else "WARN")
    return _SPARK


def connect(engine: str) -> BaseBackend:
    """Return an Ibis backend for ``engine`` (``duckdb`` or ``spark``)."""
    if engine == "duckdb":
        con = ibis.duckdb.connect()
        con.raw_sql("SET enable_progress_bar = false")
        return con
    if engine == "spark":
        return ibis.pyspark.connect(spark_session())
    raise AnalyticsError(f"不明なエンジン {engine!r} です（{', '.join(ENGINES)}） / "
                         f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")


def open_works(con: BaseBackend, store: Path) -> ir.Table:
    """Return the store's works (without texts) as an Ibis table on ``con``."""
    # A Spark-written store keeps works.parquet as a folder of Parquet files (banso.analytics.spark_store).
    return con.read_parquet(parquet_source(store_paths(store).works))


def open_texts(paths: StorePaths) -> ir.Table:
    """Return the store's texts (``work_id``, version keys, ``publication_year``, ``text``) as an Ibis table.

    The text (``texts.work_text``) is rebuilt in Python for every stored version, so this is for checks
    and small stores; membership uses the keyword hits kept per part instead.
    """
    cols = ["work_id", "partition_date", "part_seq", "publication_year", "title", "abstract_index"]
    t = pa.concat_tables([pq.read_table(p, columns=cols) for p in paths.parts]) if paths.parts else None
    if t is None:
        raise StoreError("ストアにパーツがありません / the store has no parts")
    text = pa.array([work_text(a, b) for a, b in zip(t["title"].to_pylist(), t["abstract_index"].to_pylist(),
                                                      strict=True)], pa.string())
    return ibis.memtable(t.drop_columns(["title", "abstract_index"]).append_column("text", text))


def exclusion_counts(works: ir.Table, types: tuple[str, ...]) -> dict[str, int]:
    """Return the works of ``works`` that do not count: per reason, and per excluded type (``type:<t>``)."""
    out = {"retracted": 0, "paratext": 0, "type": 0}
    for r in _to_arrow(ex.exclusions(works, types)).to_pylist():
        out[r["reason"]] += int(r["works"])
        if r["reason"] == "type":
            out[f"type:{r['work_type']}"] = int(r["works"])
    return out


def _membership_key(technologies: TechnologySet, window: ex.Window, paths: StorePaths,
                    document_types: tuple[str, ...]) -> str:
    spec = [(t.id, t.topics, t.keywords) for t in technologies.technologies]
    raw = json.dumps([spec, window.start, window.end, paths.stamp, MEMBERSHIP_VERSION, sorted(document_types)])
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def membership_table(
    con: BaseBackend, engine: str, store: Path, works: ir.Table, technologies: TechnologySet, window: ex.Window,
    *, use_cache: bool = True, document_types: tuple[str, ...] = (),
) -> tuple[ir.Table, bool]:
    """Return the window's (work_id, technology) table, from the store's cache when it is there.

    Keyword hits come from :mod:`banso.analytics.keywords` (kept per store part); the whole result is cached in
    ``STORE/cache/membership-<key>.parquet``; the key covers the technology definitions, the window,
    the store's contents and the counted document types, so any change computes it afresh.
    """
    paths = store_paths(store)
    cache = store / "cache" / f"membership-{_membership_key(technologies, window, paths, document_types)}.parquet"
    if use_cache and cache.is_file():
        return con.read_parquet(str(cache)), True
    ww = ex.in_window(works, window)
    hits = None
    if any(t.keywords for t in technologies.technologies):
        # Keyword hits per stored part (matched at ingest, or now for the parts still missing);
        # keep the window's works, in the version the store kept (a work may sit in several parts).
        table, _ = kw.store_hits(store, paths.parts, technologies)
        hits = ibis.memtable(table).semi_join(ww, ["work_id", "partition_date", "part_seq"])
        hits = hits.select("work_id", "technology")
    member = _to_arrow(ex.membership(ww, technologies, keyword_hits=hits))
    try:
        cache.parent.mkdir(exist_ok=True)
        tmp = cache.with_name("." + cache.name + ".tmp")
        pq.write_table(member, tmp)
        os.replace(tmp, cache)
        for old in cache.parent.glob("membership-*.parquet"):
            if old != cache and old.stat().st_mtime < time.time() - 7 * 86400:
                old.unlink()  # a week-old entry for another key
    except OSError:
        return ibis.memtable(member), False  # read-only store: no cache
    return con.read_parquet(str(cache)), False


@dataclass
class IndicatorRun:
    """What :func:`compute` produced."""

    indicators: pa.Table
    technologies: pa.Table
    window_works: int
    unbinned_works: int
    store_works: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    membership_cached: bool = False
    document_types: list[str] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    synthetic: bool = False  # the store holds a synthetic snapshot (banso.analytics.synth): reports say so
    top_institutions: pa.Table = field(default_factory=exact.TOP_INSTITUTIONS_SCHEMA.empty_table)

    def summary(self) -> RunSummary:
        """Return a JSON-serialisable summary (written as summary.json)."""
        d: RunSummary = {k: v for k, v in asdict(self).items()
                         if k not in ("indicators", "technologies", "top_institutions")}
        d["indicator_rows"] = self.indicators.num_rows
        d["technology_rows"] = self.technologies.num_rows
        return d


def _to_arrow(expr: ir.Table) -> pa.Table:
    t: pa.Table = expr.to_pyarrow()
    return t


def compute(
    store: Path,
    technologies: TechnologySet,
    window: ex.Window,
    *,
    engine: str = "duckdb",
    top10: str = "leiden",
    thresholds: ex.MonopolyThresholds | None = None,
    focus_country: str = "JP",
    use_cache: bool = True,
    document_types: tuple[str, ...] | None = None,
    top_institutions: int = 10,
) -> IndicatorRun:
    """Compute the tables from the store on ``engine``; raise a clear error for an empty window.

    Only the works of ``document_types`` (default: :func:`banso.analytics.config.document_types`)
    that are neither paratext nor retracted count; the others are reported in ``excluded``.
    """
    # engine="spark" here runs these Ibis expressions on PySpark with the membership built on the driver; the
    # Spark-jobs path (membership on the executors, issue 16) is banso.analytics.run.compute(engine="spark").
    if top10 not in ex.TOP10_METHODS:
        raise AnalyticsError(f"不明な --top10 の方法 {top10!r} です（{', '.join(ex.TOP10_METHODS)}） / "
                             f"unknown --top10 method {top10!r}; use one of {', '.join(ex.TOP10_METHODS)}")
    t0 = time.perf_counter()
    con = connect(engine)
    types = tuple(document_types if document_types is not None else config.document_types())
    stored = open_works(con, store)
    excluded = exclusion_counts(stored, types)
    works = ex.counted(stored, types)
    stats = _to_arrow(
        works.aggregate(
            counted_works=works.count(),
            window_works=works.publication_year.between(window.start, window.end).ifelse(1, 0).sum(),
            unbinned=(works.subfield_id.isnull() | works.publication_year.isnull()).ifelse(1, 0).sum(),
        )
    ).to_pylist()[0]
    # Every stored work: those that count and those left out (each under one reason).
    stats["store_works"] = stats["counted_works"] + sum(excluded[r] for r in ("retracted", "paratext", "type"))
    if not stats["window_works"]:
        years = _to_arrow(works.aggregate(lo=works.publication_year.min(), hi=works.publication_year.max()))
        lo, hi = years["lo"][0].as_py(), years["hi"][0].as_py()
        raise AnalyticsError(
            f"期間 {window.start}:{window.end} に出版された文献がありません（ストアは {stats['store_works']} 件、{lo}–{hi} 年） / "
            f"no works published in the window {window.start}:{window.end} "
            f"(the store has {stats['store_works']} works, years {lo}–{hi})"
        )
    member, cached = membership_table(con, engine, store, works, technologies, window, use_cache=use_cache,
                                      document_types=types)
    # Materialised once for both tables: Arrow in memory (DuckDB), a cached DataFrame (Spark).
    tw = ex.tech_works(works, technologies, window, top10=top10, member=member)
    tw = ibis.memtable(_to_arrow(tw)) if engine == "duckdb" else tw.cache()
    ind, tech = _exact_tables(tw, works, technologies, window, thresholds or ex.MonopolyThresholds(),
                              focus_country)
    leaders = institution_leaders(tw, store, window, top_institutions)
    warnings = []
    if stats["unbinned"]:
        warnings.append(
            f"{stats['unbinned']} work(s) have no primary-topic subfield or no publication year: "
            f"their top-10% weight is 0"
        )
    empty = [r["technology"] for r in tech.select(["technology", "papers"]).to_pylist() if not r["papers"]]
    if empty:
        warnings.append(f"{len(empty)} technology(ies) have no works in the window: {', '.join(empty[:10])}")
    return IndicatorRun(ind, tech, int(stats["window_works"]), int(stats["unbinned"]),
                        int(stats["store_works"]), time.perf_counter() - t0, warnings, membership_cached=cached,
                        document_types=list(types), excluded=excluded,
                        synthetic=bool(read_manifest(store).get("synthetic")), top_institutions=leaders)


def institution_names(store: Path, ids: set[int]) -> dict[int, tuple[str | None, str | None]]:
    """Return institution id → (name, ROR id) from the store's dimension, for ``ids`` (absent ids: left out)."""
    path = store / INSTITUTIONS
    if not ids or not path.exists():  # a file, or a folder of files (Spark-written store)
        return {}
    t = pq.read_table(path, columns=["institution_id", "display_name", "ror"],
                      filters=[("institution_id", "in", sorted(ids))])
    return {i: (n, r) for i, n, r in zip(*(t[c].to_pylist() for c in ("institution_id", "display_name", "ror")),
                                        strict=True)}


def institution_leaders(tw: ir.Table, store: Path, window: ex.Window, n: int, *,
                        names: Callable[[set[int]], dict[int, tuple[str | None, str | None]]] | None = None,
                        ) -> pa.Table:
    """Return the ``top_institutions`` table: the ``n`` leading institutions per technology and per
    technology × country by exact Σ w (ties by id), with names and ROR ids (docs/analytics.md).

    ``names`` looks the names up (default: :func:`institution_names` of the local store; the Spark
    engine reads them from the store's Hadoop path)."""
    if n <= 0:
        return exact.TOP_INSTITUTIONS_SCHEMA.empty_table()
    scopes = {"all": _to_arrow(ex.institution_terms(tw, n)),
              "country": _to_arrow(ex.institution_terms(tw, n, by_country=True))}
    ids = {i for t in scopes.values() for i in t["institution_id"].to_pylist()}
    found = names(ids) if names is not None else institution_names(store, ids)
    rows = [r for scope, t in scopes.items()
            for r in exact.top_institution_rows(scope, t, found, n, window.start, window.end)]
    return pa.Table.from_pylist(rows, schema=exact.TOP_INSTITUTIONS_SCHEMA)


def _exact_tables(tw: ir.Table, works: ir.Table, technologies: TechnologySet, window: ex.Window,
                  thresholds: ex.MonopolyThresholds, focus: str) -> tuple[pa.Table, pa.Table]:
    """Return (indicators, technologies): integer sums from the engine, ranks on exact values (exact.py)."""
    terms = exact.Terms.from_table(_to_arrow(ex.exact_terms(tw, works, window)),
                                   int(ex.window_works_known(works, window).to_pyarrow().as_py()))
    tech_counts = _to_arrow(ex.technology_counts(tw))
    known = dict(zip(tech_counts["technology"].to_pylist(), tech_counts["known"].to_pylist(), strict=True))
    ind = exact.indicator_rows(_to_arrow(ex.country_counts(tw)), terms, known, window.start, window.end)
    ind = ind.sort_by([("technology", "ascending"), ("rank_top10_fractional", "ascending"),
                       ("country", "ascending")])
    # The ratios as the decimals the user wrote (repr), not the binary floats: 2.2 is 11/5.
    th = exact.Thresholds(Fraction(repr(thresholds.high_ratio)), thresholds.high_institutions,
                          Fraction(repr(thresholds.medium_ratio)), thresholds.medium_institutions)
    tech = exact.technology_rows(list(technologies.ids), tech_counts, ind, terms,
                                 _to_arrow(ex.institution_terms(tw)), th, focus, window.start, window.end)
    return ind, tech


def _write_csv(table: pa.Table, path: Path) -> None:
    """Write ``table`` as CSV with formula-like text cells neutralised, noted at the end (O1, banso.kit.cells)."""
    columns, changed = [], 0
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            values = col.to_pylist()
            changed += sum(1 for v in values if is_formula_like(v))
            col = pa.chunked_array([pa.array([csv_cell(v) for v in values], type=col.type)])
        columns.append(col)
    pacsv.write_csv(pa.table(columns, names=table.column_names), path)
    if changed:
        with path.open("a", encoding="utf-8") as f:
            f.write(note_line(table.num_columns, lineterminator="\n"))  # pyarrow writes LF, and quotes every text


def write_outputs(run: IndicatorRun, out: Path) -> list[Path]:
    """Write indicators/technologies/top_institutions as Parquet and CSV plus summary.json, each atomically."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in (("indicators", run.indicators), ("technologies", run.technologies),
                        ("top_institutions", run.top_institutions)):
        for ext in ("parquet", "csv"):
            path = out / f"{name}.{ext}"
            tmp = path.with_name(path.name + ".tmp")
            if ext == "parquet":
                pq.write_table(table, tmp)
            else:
                _write_csv(table, tmp)
            os.replace(tmp, path)
            written.append(path)
    path = out / "summary.json"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(run.summary(), indent=1, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    written.append(path)
    return written
