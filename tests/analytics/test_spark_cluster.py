"""Spark end to end on a real standalone cluster (issue 16): one master and two workers on 127.0.0.1.

The cluster is started from the scripts PySpark ships (:class:`banso.analytics.spark_cluster.LoopbackCluster`);
banso reaches the executors only as a shipped zip (the workers' environment has no ``PYTHONPATH``). The
Spark ingest, keyword membership and indicators run as jobs on the two executors, and must give what
the DuckDB ingest and engine give on the same snapshot — store rows, malformed lines (file, line,
reason), truncation, works, institutions, and the indicator tables.
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from banso.analytics import engine
from banso.analytics import expressions as ex
from banso.analytics.ingest import ingest
from banso.analytics.run import compute
from banso.analytics.store import read_manifest
from banso.analytics.synth import write_synthetic_snapshot
from banso.analytics.technologies import load_technologies
from tests.analytics.test_spark import _assert_same

pytestmark = pytest.mark.spark

BAD_LINES = (b'{"id": "W77", "publication_year": "2020"}\nnot json\n\n{"id": "X1"}\n'
             b'{"id": "W78", "authorships": {"a": 1}}\n{"id": "W79", "authorships": [{"institutions": '
             b'[{"id": "I1", "display_name": 5}]}]}\n')


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 synthetic works in 6 gzip files, plus malformed lines, a plain .jsonl file and a truncated file."""
    root = tmp_path_factory.mktemp("cluster-snap")
    write_synthetic_snapshot(root, works=3000, seed=11, part_size=500, processes=1)
    parts = sorted(root.rglob("part_*.gz"))
    with gzip.open(parts[0], "ab") as fh:  # a second gzip member with the bad lines
        fh.write(BAD_LINES)
    text = gzip.decompress(parts[1].read_bytes())
    (root / "extra.jsonl").write_bytes(text[: len(text) // 3] + b'{"id": "W80", "title": 5}\n')
    whole = parts[-1].read_bytes()
    parts[-1].write_bytes(whole[: int(len(whole) * 0.6)])  # truncated gzip: the lines before the break count
    return root


@pytest.fixture(scope="module")
def cluster_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Java is needed for Spark")
    from pyspark.sql import SparkSession

    from banso.analytics.spark_cluster import LoopbackCluster, ship_banso

    active = SparkSession.getActiveSession()
    if active is not None:  # a local session of another test: one SparkContext per process
        active.stop()
    engine._SPARK = None
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # the driver binds to loopback too
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the executors' Python (read when the context starts)
    logs = tmp_path_factory.mktemp("cluster-logs")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    cluster = LoopbackCluster(workers=2, cores=1, memory="1g", log_dir=logs, env=env)
    try:
        cluster.start()
        spark = (SparkSession.builder.master(cluster.url).appName("banso-test-cluster")
                 .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                 .config("spark.executor.memory", "768m").config("spark.executor.cores", "1")
                 .config("spark.pyspark.python", sys.executable)
                 .config("spark.sql.shuffle.partitions", "2").config("spark.sql.session.timeZone", "UTC")
                 .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        status = spark.sparkContext._jsc.sc().getExecutorMemoryStatus()
        deadline = time.monotonic() + 60
        while status.size() < 3 and time.monotonic() < deadline:  # the driver and two executors
            time.sleep(0.5)
            status = spark.sparkContext._jsc.sc().getExecutorMemoryStatus()
        ship_banso(spark, logs)
        yield spark
        spark.stop()
    finally:
        engine._SPARK = None
        cluster.stop()


def _sorted(t: pa.Table, key: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = t.sort_by(key).to_pylist()
    return rows


def test_spark_ingest_and_indicators_on_a_cluster_equal_duckdb(snapshot: Path, cluster_session: object,
                                                                tmp_path: Path) -> None:
    from pyspark.sql import SparkSession

    from banso.analytics import spark_indicators, spark_ingest

    spark = cluster_session
    assert isinstance(spark, SparkSession)
    sc = spark.sparkContext
    # Two executors, and banso imported from the shipped zip on them (not from the driver's tree).
    assert sc._jsc.sc().getExecutorMemoryStatus().size() == 3  # driver + 2

    def where(_: object) -> str:
        import banso

        return banso.__file__ or ""

    assert all("banso.zip" in f for f in sc.parallelize(range(4), 4).map(where).collect())

    techs = load_technologies()
    duck = ingest(snapshot, tmp_path / "duck")
    rep = spark_ingest.ingest(spark, snapshot, tmp_path / "spark", technologies=techs, files_per_job=4)
    assert rep.malformed == duck.malformed == 6
    assert (rep.rows_read, rep.works_in_store, rep.files_read) == (duck.rows_read, duck.works_in_store, duck.files_read)
    assert rep.truncated_files == duck.truncated_files and len(rep.truncated_files) == 1
    key = lambda m: (m.file, m.line)
    assert sorted(rep.malformed_examples, key=key) == sorted(duck.malformed_examples, key=key)
    assert rep.excluded == duck.excluded
    m_duck, m_spark = read_manifest(tmp_path / "duck"), read_manifest(tmp_path / "spark")
    assert m_spark["state"] == "complete" and m_spark["writer"] == "spark"
    for rel, rec in m_duck["files"].items():
        got = m_spark["files"][rel]
        for k in ("rows", "malformed", "truncated", "part", "seq", "sha256"):
            assert got[k] == rec[k], (rel, k)
        a = pq.read_table(tmp_path / "duck" / rec["part"])
        b = pq.read_table(tmp_path / "spark" / rec["part"])
        assert _sorted(a, "work_id") == _sorted(b, "work_id"), rel  # every column of every part
    for table, sort in (("works.parquet", "work_id"), ("institutions.parquet", "institution_id")):
        a = pq.read_table(tmp_path / "duck" / table)
        b = pq.read_table(tmp_path / "spark" / table)  # a folder of Spark's files
        assert _sorted(a, sort) == _sorted(b, sort), table
    assert list((tmp_path / "spark" / "cache").glob("spark-keywords-*/part=*")), "keyword hits written by executors"

    win = ex.Window(2015, 2025)
    expected = compute(tmp_path / "duck", techs, win, engine="duckdb")
    got = spark_indicators.compute(tmp_path / "spark", techs, win, spark=spark)
    for name in ("indicators", "technologies", "top_institutions"):
        _assert_same(getattr(expected, name), getattr(got, name))
    assert (got.window_works, got.store_works, got.excluded) == (
        expected.window_works, expected.store_works, expected.excluded)
    assert got.synthetic
    on_duckdb = compute(tmp_path / "spark", techs, win, engine="duckdb")  # the DuckDB engine reads a Spark store
    for name in ("indicators", "technologies", "top_institutions"):
        _assert_same(getattr(expected, name), getattr(on_duckdb, name))

    again = spark_ingest.ingest(spark, snapshot, tmp_path / "spark", technologies=techs)  # incremental
    assert (again.files_skipped, again.files_read) == (again.files_total, 0)
