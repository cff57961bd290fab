"""Bootstrap intervals per rolling window (issue 16, session 11): ``banso analyze trends --bootstrap N --seed S``
adds every country's 95 % intervals of its top-10% share and rank to each window's rows of trends.parquet/.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner

from banso.analytics import config
from banso.analytics import expressions as ex
from banso.analytics.cli import app
from banso.analytics.engine import compute
from banso.analytics.ingest import ingest
from banso.analytics.report import write_report
from banso.analytics.synth import write_synthetic_snapshot
from banso.analytics.technologies import default_technology_file, load_technologies, parse_technologies
from banso.analytics.trends import COLUMNS, INTERVAL_COLUMNS, compute_trends
from banso.analytics.uncertainty import bootstrap, country_intervals, interval, tech_work_rows
from tests.support.openalex import work, write_part

runner = CliRunner()
SELECTED = ["G05-semiconductor", "G08-robotics", "G03-ai"]


@pytest.fixture(scope="module")
def tech_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three shipped technologies, so that a small synthetic snapshot has a hundred or so works per window."""
    shipped = yaml.safe_load(default_technology_file().read_text(encoding="utf-8"))
    path = tmp_path_factory.mktemp("techs") / "technologies.yaml"
    kept = [t for t in shipped["technologies"] if t["id"] in SELECTED]
    path.write_text(yaml.safe_dump({**shipped, "technologies": kept}, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def dense_store(tech_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dense")
    write_synthetic_snapshot(root / "snap", works=2000, seed=7, processes=1, technology_file=tech_file,
                             technology_share=0.9)
    ingest(root / "snap", root / "store", threads=1)
    return root / "store"


def _trends(store: Path, out: Path, tech_file: Path, *extra: str) -> pd.DataFrame:
    done = runner.invoke(app, ["trends", "--store", str(store), "--out", str(out), "--span", "2017:2023",
                               "--window", "3", "--step", "2", "--technologies", str(tech_file), *extra])
    assert done.exit_code == 0, done.output
    return pq.read_table(out / "trends.parquet").to_pandas()


@pytest.fixture(scope="module")
def with_intervals(dense_store: Path, tech_file: Path, tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.MIN_WORKS_VARIABLE, "60")
        return _trends(dense_store, tmp_path_factory.mktemp("tr"), tech_file, "--bootstrap", "120", "--seed", "3")


def test_the_same_seed_gives_the_same_file_and_another_seed_other_intervals(
        with_intervals: pd.DataFrame, dense_store: Path, tech_file: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.MIN_WORKS_VARIABLE, "60")
    again = _trends(dense_store, tmp_path / "a", tech_file, "--bootstrap", "120", "--seed", "3")
    pd.testing.assert_frame_equal(again, with_intervals)
    assert (tmp_path / "a" / "trends.csv").read_text().splitlines()[0].split(",")[-7:] == [
        f'"{c}"' for c in INTERVAL_COLUMNS]
    other = _trends(dense_store, tmp_path / "b", tech_file, "--bootstrap", "120", "--seed", "4")
    pd.testing.assert_frame_equal(other[list(COLUMNS)], with_intervals[list(COLUMNS)])  # the figures stay
    assert not other["share_high"].equals(with_intervals["share_high"])  # the resamples do not
    plain = _trends(dense_store, tmp_path / "c", tech_file)
    assert list(plain.columns) == list(COLUMNS)  # without --bootstrap: no interval columns
    pd.testing.assert_frame_equal(plain, with_intervals[list(COLUMNS)])


def test_every_window_has_intervals_that_contain_the_point_estimate(with_intervals: pd.DataFrame) -> None:
    t = with_intervals
    assert sorted(set(zip(t["window_start"], t["window_end"], strict=True))) == [
        (2017, 2019), (2019, 2021), (2021, 2023)]
    assert (t["samples"] == 120).all() and t["share_low"].notna().any()
    shared = t[t["share_low"].notna()]
    eps = 1e-12
    assert (shared["share_low"] <= shared["top10_share_fractional"] + eps).all()
    assert (shared["top10_share_fractional"] <= shared["share_high"] + eps).all()
    assert (shared["share_low"] >= 0).all() and (shared["share_high"] <= 1 + eps).all()
    ranked = t[t["rank_low"].notna()]
    assert len(ranked) and (ranked["rank_low"] <= ranked["rank_top10_fractional"]).all()
    assert (ranked["rank_top10_fractional"] <= ranked["rank_high"]).all()
    # Small samples (fewer works than the minimum, 60 here) are marked per window and get no rank interval.
    small = t[t["small_sample"]]
    assert len(small) and small["rank_low"].isna().all() and (small["works"] < 60).all()
    assert (t[~t["small_sample"]]["works"] >= 60).all()
    # works is the technology's count in the window: the same on each of its rows there
    assert (t.groupby(["technology", "window_start"])["works"].nunique() == 1).all()


def test_a_window_interval_does_not_depend_on_the_other_technologies(with_intervals: pd.DataFrame,
                                                                     dense_store: Path, tech_file: Path) -> None:
    alone = compute_trends(dense_store, load_technologies(tech_file).select(["G08-robotics"]), ex.Window(2017, 2023),
                           3, 2, samples=120, seed=3, min_works=60).table.to_pandas()
    mine = with_intervals[with_intervals["technology"] == "G08-robotics"].reset_index(drop=True)
    pd.testing.assert_frame_equal(alone, mine, check_dtype=False)  # nulls make pandas columns float


def test_every_countrys_interval_is_the_one_country_interval(dense_store: Path, tech_file: Path) -> None:
    rows = tech_work_rows(dense_store, load_technologies(tech_file).select(["G05-semiconductor"]),
                          ex.Window(2019, 2023))
    table = country_intervals(rows, samples=80, seed=11).set_index("country")
    assert len(table) >= 3
    for code in table.index:
        one = interval(rows, focus=code, samples=80, seed=11)
        got = table.loc[code]
        assert (got["share_low"], got["share_high"]) == pytest.approx((one["share_low"], one["share_high"]))
        assert (int(got["rank_low"]), int(got["rank_high"])) == (one["rank_low"], one["rank_high"]), code
    assert np.isnan(country_intervals(rows.iloc[0:0], samples=80)["share_low"]).all()


def test_the_report_draws_the_bounded_trend_charts_with_bands_and_the_workbook_has_every_row(
        with_intervals: pd.DataFrame, dense_store: Path, tech_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "ind"
    out.mkdir()
    pq.write_table(pa.Table.from_pandas(with_intervals, preserve_index=False), out / "trends.parquet")
    done = runner.invoke(app, ["indicators", "--store", str(dense_store), "--out", str(out), "--window", "2019:2023",
                               "--technologies", str(tech_file)])
    assert done.exit_code == 0, done.output
    paths = write_report(out, tmp_path / "rep", lang="ja", technology_file=tech_file, trend_charts=1)
    html = paths["html"].read_text(encoding="utf-8")
    part = html.split("Top10%シェアの推移（移動期間）", 1)[1]
    assert part.count("<img ") == 1 and "残る 2 技術の推移は Excel の trends シートにあります。" in part
    assert "ブートストラップ再標本化（120 回）" in part
    assert "主要機関" in html
    book = load_workbook(paths["xlsx"], read_only=True)
    rows = list(book["trends"].iter_rows(values_only=True))
    header = list(rows[0])
    assert {"share_low", "rank_high", "small_sample", "country_ja"} <= set(header)
    assert len([r for r in rows[1:] if r[0] and not str(r[0]).startswith("#")]) == len(with_intervals)
    every = write_report(out, tmp_path / "all", lang="en", technology_file=tech_file, html_report=False)
    assert set(every) == {"xlsx"} and not (tmp_path / "all" / "report_en.html").exists()


def test_the_bootstrap_resamples_only_the_works_the_indicators_count(tmp_path: Path) -> None:
    """A dataset (not a counted type) in the technology must neither take the top-10% place nor be resampled:
    before session 11 it did, and Japan's interval was 0–0 around an indicator share of 1."""
    tech = parse_technologies({"technologies": [{"id": "t", "name_ja": "技術", "name_en": "Tech", "topics": ["T100"]}]})
    records = [work(1, year=2020, cited=9, countries=[["JP"]], topics=["T100"]),
               {**work(2, year=2020, cited=20, countries=[["US"]], topics=["T100"]), "type": "dataset"}]
    records += [work(3 + k, year=2020, countries=[["CN"]], topics=["T999"]) for k in range(8)]
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", records)
    ingest(tmp_path / "snap", tmp_path / "store")
    point = compute(tmp_path / "store", tech, ex.Window(2020, 2020)).technologies.to_pylist()[0]
    assert point["japan_top10_share"] == 1.0 and point["papers"] == 1
    found = bootstrap(tmp_path / "store", tech, ex.Window(2020, 2020), samples=40, min_works=1).iloc[0]
    assert found["works"] == 1 and (found["share_low"], found["share_high"]) == (1.0, 1.0)
    rows = compute_trends(tmp_path / "store", tech, ex.Window(2020, 2020), 1, 1, samples=40, min_works=1)
    assert [(r["country"], r["share_low"], r["share_high"]) for r in rows.table.to_pylist()] == [("JP", 1.0, 1.0)]
