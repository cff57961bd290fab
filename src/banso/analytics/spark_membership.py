"""Keyword membership as a Spark job (T1, T7; issue 16): the same matcher, run per partition on the executors.

Each executor runs :class:`banso.analytics.keywords.KeywordMatcher` — the Aho–Corasick screen over titles
and index JSON (:mod:`banso.analytics.screen`) and the rebuilt texts of the works it cannot settle — over
the Arrow batches of the store parts (``mapInArrow``), so the (work, technology) hits are computed where
the parts are, not on the driver. The hits, (``work_id``, ``partition_date``, ``part_seq``,
``technology``) for every stored version of every work, are kept in the store::

    STORE/cache/spark-keywords-<spec>/part=<part>/*.parquet   hits of one part (none when it has none)
    STORE/cache/spark-keywords-<spec>/_index.json             part → the manifest entry it was matched for

``<spec>`` is :func:`banso.analytics.keywords.keyword_spec` (the technologies' keyword phrases); a part
is matched again when its manifest entry (size, mtime, rows, when it was ingested) changed. Works with
parts of either engine's ingest (they have the same columns).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import pyarrow as pa

from banso.analytics.keywords import HIT_SCHEMA, KeywordMatcher, keyword_spec
from banso.analytics.spark_store import HadoopFS, as_uri, join, read_manifest

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from banso.analytics.technologies import TechnologySet

_OUT = pa.schema([*HIT_SCHEMA, ("part", pa.string())])
_WORKER: tuple[str, KeywordMatcher] | None = None  # one matcher per Python worker and keyword spec


def _matcher(technologies: TechnologySet, spec: str) -> KeywordMatcher:
    global _WORKER
    if _WORKER is None or _WORKER[0] != spec:
        _WORKER = (spec, KeywordMatcher(technologies))
    return _WORKER[1]


def match_batches(batches: Iterator[pa.RecordBatch], technologies: TechnologySet,
                  spec: str) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` body: store-part rows (ids, ``title``, ``abstract_index``, ``part``) → their keyword hits."""
    matcher = _matcher(technologies, spec)
    for batch in batches:
        hits = matcher.match_works(batch.column("title").to_pylist(), batch.column("abstract_index").to_pylist())
        if not hits:
            continue
        rows = pa.array([i for i, _ in hits], pa.int64())
        yield pa.RecordBatch.from_arrays([
            batch.column("work_id").take(rows).cast(pa.int64()),
            batch.column("partition_date").take(rows).cast(pa.string()),
            batch.column("part_seq").take(rows).cast(pa.int32()),
            pa.array([t for _, t in hits], pa.string()),
            batch.column("part").take(rows).cast(pa.string()),
        ], schema=_OUT)


def _stamp(rec: dict[str, Any]) -> str:
    return json.dumps([rec.get("size"), rec.get("mtime"), rec.get("rows"), rec.get("sha256"),
                       rec.get("ingested_at")])


def _part_key(part_rel: str) -> str:
    name = PurePosixPath(part_rel).name
    return name.removesuffix(".parquet")


def match_store(spark: SparkSession, store: str, technologies: TechnologySet) -> DataFrame:
    """Match the parts that have no hits for these keywords yet (a Spark job); return every current part's hits.

    The returned DataFrame has the columns of :data:`banso.analytics.keywords.HIT_SCHEMA`.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    root = as_uri(store)
    fs = HadoopFS(spark, root)
    manifest = read_manifest(fs, root)
    current = {_part_key(r["part"]): (join(root, r["part"]), _stamp(r))
               for r in manifest.get("files", {}).values() if r.get("rows")}
    spec = keyword_spec(technologies)
    hits_dir = join(root, "cache", f"spark-keywords-{spec}")
    index_uri = join(hits_dir, "_index.json")
    index: dict[str, str] = json.loads(fs.read_text(index_uri)) if fs.exists(index_uri) else {}
    missing = sorted(k for k, (_, stamp) in current.items() if index.get(k) != stamp)
    schema = from_arrow_schema(_OUT)
    have_keywords = any(t.keywords for t in technologies.technologies)
    for name in fs.list_dir(hits_dir):
        if name.startswith("part=") and (unquote(name[5:]) in missing or unquote(name[5:]) not in current):
            fs.delete(join(hits_dir, name))  # hits of an earlier version of a part, or of a part gone
    index = {k: v for k, v in index.items() if k in current and k not in missing}
    if missing and have_keywords:
        parts = spark.read.parquet(*(current[k][0] for k in missing)).select(
            "work_id", "partition_date", "part_seq", "title", "abstract_index",
            F.regexp_replace(F.col("_metadata.file_name"), r"\.parquet$", "").alias("part"))

        def body(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            return match_batches(batches, technologies, spec)

        parts.mapInArrow(body, schema).write.mode("append").partitionBy("part").parquet(hits_dir)
        index.update({k: current[k][1] for k in missing})
    if missing:
        fs.mkdirs(hits_dir)
        fs.write_text(index_uri, json.dumps(index, indent=1, sort_keys=True))
    if not any(n.startswith("part=") for n in fs.list_dir(hits_dir)):
        return spark.createDataFrame([], schema).drop("part")
    hits = spark.read.schema(schema).parquet(hits_dir)
    return hits.where(F.col("part").isin(sorted(current))).drop("part")
