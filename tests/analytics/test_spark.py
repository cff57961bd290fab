"""DuckDB and Spark run the same Ibis expressions and must give the same tables (T7)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from banso.analytics import expressions as ex
from banso.analytics.run import compute
from banso.analytics.technologies import load_technologies

pytestmark = pytest.mark.spark


def _assert_same(a: pa.Table, b: pa.Table) -> None:
    assert a.column_names == b.column_names
    assert a.num_rows == b.num_rows and a.num_rows > 0
    for name in a.column_names:
        for x, y in zip(a[name].to_pylist(), b[name].to_pylist()):
            if isinstance(x, float) and y is not None:
                assert x == pytest.approx(y, rel=1e-9, abs=1e-12), name
            else:
                assert x == y, name


def test_duckdb_and_spark_agree(synth_store: Path) -> None:
    pytest.importorskip("pyspark")
    techs = load_technologies()
    win = ex.Window(2015, 2025)
    duck = compute(synth_store, techs, win, engine="duckdb")
    spark = compute(synth_store, techs, win, engine="spark")
    _assert_same(duck.indicators, spark.indicators)
    _assert_same(duck.technologies, spark.technologies)
    _assert_same(duck.top_institutions, spark.top_institutions)  # issue 16: leading institutions, names
    assert duck.window_works == spark.window_works
