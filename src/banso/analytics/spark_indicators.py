"""The indicator tables as Spark jobs (T7; issue 16): ``banso analyze indicators --engine spark``.

The same Ibis expressions as the DuckDB engine (:mod:`banso.analytics.expressions`) and the same exact
sums and ranks (:mod:`banso.analytics.exact`, via :func:`banso.analytics.engine._exact_tables`), with
every input read by Spark from the store's Hadoop path (``works.parquet``, ``institutions.parquet``,
the parts) and the keyword membership computed on the executors
(:func:`banso.analytics.spark_membership.match_store`), not on the driver. Only the small per-technology
and per-country sums come back to the driver.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from banso.analytics import config, engine
from banso.analytics import expressions as ex
from banso.analytics.engine import exclusion_counts
from banso.analytics.errors import AnalyticsError, StoreError
from banso.analytics.spark_membership import match_store
from banso.analytics.spark_store import HadoopFS, as_uri, join, read_manifest, spark_table
from banso.analytics.store import FORMAT_VERSION, INSTITUTIONS, WORKS, check_format
from banso.analytics.technologies import TechnologySet

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _complete_store(fs: HadoopFS, root: str) -> dict[str, object]:
    """Return the manifest of a complete store, or raise the DuckDB engine's errors."""
    if not fs.exists(root):
        raise StoreError(f"ストアがありません: {root}（先に `banso analyze ingest SNAPSHOT --store {root}` を実行してください） / "
                         f"store not found: {root} (run `banso analyze ingest SNAPSHOT --store {root}` first)")
    manifest = read_manifest(fs, root)
    check_format(Path(root), manifest)
    state = manifest.get("state")
    if state != "complete" or not fs.exists(join(root, WORKS)):
        raise StoreError(f"ストア {root} は未完成です（状態: {state}）。`banso analyze ingest` を再実行すると続きから取り込みます / "
                         f"store {root} is incomplete (state: {state}); an ingest was interrupted or never ran — "
                         f"re-run `banso analyze ingest` to resume")
    return manifest


def institution_names(spark: SparkSession, root: str, ids: set[int]) -> dict[int, tuple[str | None, str | None]]:
    """Return institution id → (name, ROR id) from the store's dimension, read by Spark (absent ids left out)."""
    from pyspark.sql import functions as F

    fs = HadoopFS(spark, root)
    uri = join(root, INSTITUTIONS)
    if not ids or not fs.exists(uri):
        return {}
    rows = (spark.read.parquet(uri).where(F.col("institution_id").isin(sorted(ids)))
            .select("institution_id", "display_name", "ror").collect())
    return {int(r[0]): (r[1], r[2]) for r in rows}


def compute(
    store: str | Path,
    technologies: TechnologySet,
    window: ex.Window,
    *,
    spark: SparkSession | None = None,
    top10: str = "leiden",
    thresholds: ex.MonopolyThresholds | None = None,
    focus_country: str = "JP",
    document_types: tuple[str, ...] | None = None,
    top_institutions: int = 10,
) -> engine.IndicatorRun:
    """Compute the indicator tables with Spark jobs from a store at a local path or Hadoop URI.

    The result equals :func:`banso.analytics.engine.compute` on DuckDB (``tests/analytics/test_spark.py``,
    ``tests/analytics/test_spark_cluster.py``). The window's membership is not cached as a file (the
    keyword hits are, per part); ``membership_cached`` is always False.
    """
    if top10 not in ex.TOP10_METHODS:
        raise AnalyticsError(f"不明な --top10 の方法 {top10!r} です（{', '.join(ex.TOP10_METHODS)}） / "
                             f"unknown --top10 method {top10!r}; use one of {', '.join(ex.TOP10_METHODS)}")
    t0 = time.perf_counter()
    spark = spark or engine.spark_session()
    root = as_uri(store)
    fs = HadoopFS(spark, root)
    manifest = _complete_store(fs, root)
    if manifest.get("format", FORMAT_VERSION) != FORMAT_VERSION:
        raise StoreError(f"ストア {root} の形式は {manifest.get('format')} です / "
                         f"store {root} has format {manifest.get('format')}")
    con = ibis.pyspark.connect(spark)
    types = tuple(document_types if document_types is not None else config.document_types())
    stored = spark_table(con, spark, join(root, WORKS))
    excluded = exclusion_counts(stored, types)
    works = ex.counted(stored, types)
    stats = engine._to_arrow(works.aggregate(
        counted_works=works.count(),
        window_works=works.publication_year.between(window.start, window.end).ifelse(1, 0).sum(),
        unbinned=(works.subfield_id.isnull() | works.publication_year.isnull()).ifelse(1, 0).sum(),
    )).to_pylist()[0]
    stats["store_works"] = stats["counted_works"] + sum(excluded[r] for r in ("retracted", "paratext", "type"))
    if not stats["window_works"]:
        years = engine._to_arrow(works.aggregate(lo=works.publication_year.min(), hi=works.publication_year.max()))
        raise AnalyticsError(
            f"期間 {window.start}:{window.end} に出版された文献がありません（ストアは {stats['store_works']} 件） / "
            f"no works published in the window {window.start}:{window.end} "
            f"(the store has {stats['store_works']} works, years {years['lo'][0].as_py()}–{years['hi'][0].as_py()})")
    ww = ex.in_window(works, window)
    hits: ir.Table | None = None
    if any(t.keywords for t in technologies.technologies):
        view = f"banso_keyword_hits_{uuid.uuid4().hex[:12]}"
        match_store(spark, root, technologies).createOrReplaceTempView(view)
        # The window's works in the version the store kept (a work may sit in several parts).
        hits = con.table(view).semi_join(ww, ["work_id", "partition_date", "part_seq"]).select(
            "work_id", "technology")
    # A view, so the topic table (an Ibis memtable) is registered with Spark before tw is cached.
    member = con.create_view(f"banso_membership_{uuid.uuid4().hex[:12]}",
                             ex.membership(ww, technologies, keyword_hits=hits), overwrite=True)
    tw = ex.tech_works(works, technologies, window, top10=top10, member=member).cache()
    ind, tech = engine._exact_tables(tw, works, technologies, window, thresholds or ex.MonopolyThresholds(),
                                     focus_country)
    leaders = engine.institution_leaders(tw, Path(root), window, top_institutions,
                                         names=lambda ids: institution_names(spark, root, ids))
    warnings = []
    if stats["unbinned"]:
        warnings.append(f"{stats['unbinned']} work(s) have no primary-topic subfield or no publication year: "
                        f"their top-10% weight is 0")
    empty = [r["technology"] for r in tech.select(["technology", "papers"]).to_pylist() if not r["papers"]]
    if empty:
        warnings.append(f"{len(empty)} technology(ies) have no works in the window: {', '.join(empty[:10])}")
    return engine.IndicatorRun(ind, tech, int(stats["window_works"]), int(stats["unbinned"]),
                               int(stats["store_works"]), time.perf_counter() - t0, warnings,
                               membership_cached=False, document_types=list(types), excluded=excluded,
                               synthetic=bool(manifest.get("synthetic")), top_institutions=leaders)

