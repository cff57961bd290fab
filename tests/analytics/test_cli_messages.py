"""``banso analyze`` answers a user's mistake with exit code 2 and one ``error:`` line, Japanese first
("日本語 / English", as every message of the product), before any work starts (outside tester, session 11);
``ingest --engine spark`` refuses what it can before a JVM starts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from banso.analytics.cli import app
from tests.support.openalex import work, write_part

runner = CliRunner()
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _error(res: Result) -> str:
    """Return the one ``error:`` line of a refused command, checked to be "日本語 / English"."""
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, res.output
    ja, sep, en = lines[0].removeprefix("error: ").partition(" / ")
    assert sep and JAPANESE.search(ja) and en and not JAPANESE.search(en.split(":")[0]), lines[0]
    return lines[0]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", [work(1), work(2)])
    res = runner.invoke(app, ["ingest", str(tmp_path / "snap"), "--store", str(tmp_path / "store"),
                              "--no-match-keywords"])
    assert res.exit_code == 0, res.output
    return tmp_path / "store"


def test_path_and_option_mistakes_are_answered_japanese_first(tmp_path: Path, store: Path) -> None:
    out = str(tmp_path / "out")
    missing = tmp_path / "no[such]"  # brackets: printed as they are, not taken for console markup
    line = _error(runner.invoke(app, ["ingest", str(missing), "--store", str(tmp_path / "s2")]))
    assert f"スナップショットのフォルダがありません: {missing}" in line and "snapshot folder not found" in line
    line = _error(runner.invoke(app, ["indicators", "--store", str(tmp_path / "nostore"), "--out", out]))
    assert "ストアがありません" in line and "store not found" in line
    cases = [
        (["indicators", "--store", str(store), "--out", out, "--window", "2023:2019"], "期間は START:END"),
        (["indicators", "--store", str(store), "--out", out, "--types", "artcle"], "不明な OpenAlex の文献種別です: artcle"),
        (["indicators", "--store", str(store), "--out", out, "--bootstrap", "-1"], "--bootstrap は 0 以上 100000 以下"),
        (["indicators", "--store", str(store), "--out", out, "--bootstrap", "100001"], "--bootstrap は 0 以上 100000 以下"),
        (["indicators", "--store", str(store), "--out", out, "--technology", "nope"], "不明な技術 ID: nope"),
        (["indicators", "--store", str(store), "--out", out, "--window", "2030:2031"], "に出版された文献がありません"),
        (["trends", "--store", str(store), "--out", out, "--window", "0"], "--window は 1 以上"),
        (["trends", "--store", str(store), "--out", out, "--step", "0"], "--step は 1 以上"),
        (["trends", "--store", str(store), "--out", out, "--span", "-5:2023"], "期間は 1900:2100 の中に"),
        (["trends", "--store", str(store), "--out", out, "--seed", "-3"], "--seed は 0 以上"),
        (["ingest", str(tmp_path / "snap"), "--store", str(store), "--engine", "flink"], "--engine は duckdb か spark"),
        (["ingest", str(tmp_path / "snap"), "--store", str(store), "--decoder", "simdjson"], "--decoder は duckdb, msgspec"),
        (["synth", "--works", "0", "--out", out], "--works は 1 以上"),
        (["prioritise", "--indicators", str(tmp_path / "none"), "--out", out], "がありません（先に `banso analyze indicators`"),
        (["report", "--indicators", str(tmp_path / "none"), "--out", out], "がありません（先に `banso analyze indicators`"),
    ]
    for args, expected in cases:
        assert expected in _error(runner.invoke(app, args)), args
    (tmp_path / "bad.yaml").write_text("technologies: []\n", encoding="utf-8")
    line = _error(runner.invoke(app, ["indicators", "--store", str(store), "--out", out,
                                      "--technologies", str(tmp_path / "bad.yaml")]))
    assert "'technologies' は空でない一覧にしてください" in line and "must be a non-empty list" in line
    manifest = store / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format": 1}))
    line = _error(runner.invoke(app, ["indicators", "--store", str(store), "--out", out]))
    assert "は形式 1 で書かれています" in line and "was written in format 1" in line
    line = _error(runner.invoke(app, ["synth", "--works", "1", "--processes", "1", "--out", "/proc/banso-no"]))
    assert "を読み書きできません" in line and "cannot read or write" in line  # an OS error, worded here


def test_absurd_samples_and_unknown_focus_countries_are_refused(tmp_path: Path, store: Path) -> None:
    """Outside tester (session 12): ``prioritise --samples 99999999999`` ended in a MemoryError traceback (the
    ranks of every sample are one array), and ``--focus ZZ`` / ``JPN`` ran with exit code 0 and every
    ``japan_*`` column empty or 0. Both are refused before any work, Japanese first, with exit code 2."""
    out, none = str(tmp_path / "out"), str(tmp_path / "none")
    cases = [
        (["prioritise", "--indicators", none, "--out", out, "--samples", "99999999999"], "--samples は 1 以上 100000 以下"),
        (["prioritise", "--indicators", none, "--out", out, "--samples", "0"], "--samples は 1 以上 100000 以下"),
        (["prioritise", "--indicators", none, "--out", out, "--focus", "JPN"], "--focus は JP のような"),
        (["indicators", "--store", str(store), "--out", out, "--focus", "ZZ"], "--focus は JP のような"),
        (["indicators", "--store", str(store), "--out", out, "--focus", "u\u017f"], "--focus は JP のような"),
        (["indicators", "--store", str(store), "--out", out, "--window", "1:99999"], "期間は 1900:2100 の中に"),
        (["synth", "--works", "99999999999999999999", "--out", out], "--works は 1 以上 50000000 以下"),
    ]
    for args, expected in cases:
        assert expected in _error(runner.invoke(app, args)), args
    assert not (tmp_path / "out").exists()  # refused before anything was written


_SPARK_CLI = """
import sys, time
from typer.testing import CliRunner
from banso.analytics.cli import app
started = time.perf_counter()
res = CliRunner().invoke(app, sys.argv[1:])
print(res.exit_code, "pyspark" in sys.modules, round(time.perf_counter() - started, 1))
print(res.output)
"""


def _spark_cli(*args: str) -> tuple[int, bool, str]:
    """Run ``ingest --engine spark ARGS`` in a fresh interpreter: exit code, whether PySpark was imported, output."""
    done = subprocess.run([sys.executable, "-c", _SPARK_CLI, "ingest", "--engine", "spark", *args],
                          capture_output=True, text=True, timeout=120, check=True)
    head, _, output = done.stdout.partition("\n")
    code, imported, _ = head.split()
    return int(code), imported == "True", output


def test_spark_ingest_refuses_before_the_jvm_starts(tmp_path: Path, store: Path) -> None:
    """Outside tester: a typo in the snapshot path cost a JVM start before the error; --decoder and --threads
    were ignored with Spark. Every refusal comes before PySpark is even imported."""
    write_part(tmp_path / "snap2", "2025-01-01", "part_000.gz", [work(3)])
    (tmp_path / "empty").mkdir()
    cases = [
        ([str(tmp_path / "typo"), "--store", str(tmp_path / "s")], "スナップショットのフォルダがありません"),
        ([f"file://{tmp_path / 'typo'}", "--store", str(tmp_path / "s")], "スナップショットのフォルダがありません"),
        ([str(tmp_path / "empty"), "--store", str(tmp_path / "s")], "スナップショットのファイルがありません"),
        ([str(tmp_path / "snap2"), "--store", str(tmp_path / "s"), "--decoder", "msgspec"], "--decoder は DuckDB"),
        ([str(tmp_path / "snap2"), "--store", str(tmp_path / "s"), "--threads", "4"], "--threads は --engine spark"),
        ([str(tmp_path / "snap2"), "--store", str(store)], "は DuckDB の取り込みで書かれました"),
        ([str(tmp_path / "snap2"), "--store", str(tmp_path / "snap2" / "works" / "updated_date=2025-01-01" /
                                                  "part_000.gz")], "ストアのパスがフォルダではありません"),
    ]
    for args, expected in cases:
        code, imported, output = _spark_cli(*args)
        assert code == 2 and not imported, (args, output)
        line = next(ln for ln in output.splitlines() if ln.startswith("error:"))
        assert expected in line and " / " in line, (args, line)


def test_the_quiet_spark_session_keeps_the_administrators_driver_options(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The quiet session adds its log4j2 file to spark.driver.extraJavaOptions of spark-defaults.conf (a value
    given to the builder replaces the file's), so it reads them; no Spark is started here."""
    from banso.analytics import config

    (tmp_path / "spark-defaults.conf").write_text(
        "# a comment\nspark.master local[1]\nspark.driver.extraJavaOptions  -Dhttp.proxyHost=p\n"
        "spark.driver.extraJavaOptions\t-Dhttp.proxyHost=q -Dx=1\n", encoding="utf-8")
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    assert config.spark_driver_java_options() == "-Dhttp.proxyHost=q -Dx=1"  # the last line wins, as in Spark
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path / "none"))
    assert config.spark_driver_java_options() == ""


def test_an_unknown_commission_kind_is_a_usage_error(tmp_path: Path) -> None:
    """Outside tester (session 12): ``file-commission 1 --kind report.html`` was refused with exit code 1 after
    opening the database; it is a usage error (exit 2, Japanese first) before anything is opened."""
    from banso.thinktank.cli import app as thinktank_app

    line = _error(runner.invoke(thinktank_app, ["file-commission", "1", "--as", "x@example.jp", "--kind", "report.html"],
                                env={"BANSO_DATA_DIR": str(tmp_path / "data")}))
    assert "--kind は report.xlsx" in line
    assert not (tmp_path / "data").exists()  # no database was made
