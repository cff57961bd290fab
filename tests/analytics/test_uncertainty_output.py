"""Uncertainty in the output (issue 16, T8): ``banso analyze indicators --bootstrap N --seed S``, the report's
interval columns and error-bar chart, the workbook's numbers and its "説明" sheet, README.txt beside the CSV
files, and small-sample technologies marked and never ranked in any of them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from banso.analytics import config
from banso.analytics.cli import app
from banso.analytics.report import EXPLANATION, EXPLANATION_SHEET, write_report

runner = CliRunner()


def _indicators(store: Path, out: Path, *extra: str) -> str:
    res = runner.invoke(app, ["indicators", "--store", str(store), "--out", str(out), "--window", "2015:2025",
                              *extra])
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def with_intervals(synth_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Indicators of the synthetic store with 60 bootstrap resamples, every technology rankable (minimum 1)."""
    out = tmp_path_factory.mktemp("ci")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.MIN_WORKS_VARIABLE, "1")
        printed = _indicators(synth_store, out, "--bootstrap", "60", "--seed", "5")
    assert "bootstrap: 60 resamples, seed 5" in printed
    return out


def test_the_command_writes_seeded_intervals_and_a_bilingual_readme(with_intervals: Path, synth_store: Path,
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    table = pd.read_parquet(with_intervals / "uncertainty.parquet")
    csv = pd.read_csv(with_intervals / "uncertainty.csv")
    tech = pd.read_parquet(with_intervals / "technologies.parquet")
    assert list(table["technology"]) == list(tech["technology"]) and (table["samples"] == 60).all()
    assert len(csv) == len(table)
    # the works the intervals rest on are the papers the technologies table counts; only an empty one is small
    assert table["works"].tolist() == tech["papers"].fillna(0).astype(int).tolist()
    assert table["small_sample"].tolist() == (table["works"] < 1).tolist()
    held = table[tech["japan_top10_share"].fillna(0).to_numpy() > 0]
    assert not held.empty and held["rank_low"].notna().all()
    point = tech.set_index("technology")["japan_top10_share"]
    for _, r in held.iterrows():  # the interval holds the point estimate
        assert r["share_low"] <= point[r["technology"]] + 1e-12 and point[r["technology"]] <= r["share_high"] + 1e-12
    readme = (with_intervals / "README.txt").read_text(encoding="utf-8")
    assert readme.index("少数標本") < readme.index("Small sample") and "share_low" in readme
    # The same seed gives the same intervals; no --bootstrap removes a stale table of an earlier run.
    monkeypatch.setenv(config.MIN_WORKS_VARIABLE, "1")
    again = tmp_path / "again"
    _indicators(synth_store, again, "--bootstrap", "60", "--seed", "5")
    pd.testing.assert_frame_equal(pd.read_parquet(again / "uncertainty.parquet"), table)
    _indicators(synth_store, again)
    assert not (again / "uncertainty.parquet").exists() and not (again / "uncertainty.csv").exists()
    bad = runner.invoke(app, ["indicators", "--store", str(synth_store), "--out", str(again), "--bootstrap", "-1"])
    assert bad.exit_code == 2


def test_small_samples_get_no_rank_interval(synth_store: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Under the minimum sample a technology is marked and has no rank interval (its share interval stays)."""
    monkeypatch.setenv(config.MIN_WORKS_VARIABLE, "1000000")
    _indicators(synth_store, tmp_path, "--bootstrap", "30")
    table = pd.read_parquet(tmp_path / "uncertainty.parquet")
    assert table["small_sample"].all() and table["rank_low"].isna().all() and table["rank_high"].isna().all()
    assert table["share_low"].notna().any()
    write_report(tmp_path, tmp_path / "rep", lang="ja")
    html = (tmp_path / "rep" / "report_ja.html").read_text(encoding="utf-8")
    assert "少数標本のため順位付けなし" in html
    book = load_workbook(tmp_path / "rep" / "report.xlsx", read_only=True)
    rows = list(book["technologies"].iter_rows(values_only=True))
    head = list(rows[0])
    assert all(r[head.index("small_sample")] is True and r[head.index("rank_low")] is None for r in rows[1:])


def test_the_report_shows_intervals_an_error_bar_chart_and_the_explanation(with_intervals: Path,
                                                                           tmp_path: Path) -> None:
    for lang in ("ja", "en"):
        write_report(with_intervals, tmp_path, lang=lang)
    ja = (tmp_path / "report_ja.html").read_text(encoding="utf-8")
    en = (tmp_path / "report_en.html").read_text(encoding="utf-8")
    assert "日本シェア95%区間" in ja and "日本順位95%区間" in ja and "Japan share 95% CI" in en
    assert "日本のTop10%シェアと95%信頼区間" in ja and "top-10% share with 95% interval" in en
    assert ja.count("data:image/png;base64,") == 3  # shares, Japan's position, and the error bars
    assert "60 回" in ja and "60 resamples" in en
    book = load_workbook(tmp_path / "report.xlsx", read_only=True)
    assert book.sheetnames[:2] == ["synthetic", EXPLANATION_SHEET]  # the synthetic warning stays first
    explained = list(book[EXPLANATION_SHEET].iter_rows(values_only=True))
    assert explained[0] == ("日本語", "English") and explained[1:] == [tuple(pair) for pair in EXPLANATION]
    rows = list(book["technologies"].iter_rows(values_only=True))
    head = list(rows[0])
    assert {"share_low", "share_high", "rank_low", "rank_high", "small_sample"} <= set(head)
    lows = [r[head.index("share_low")] for r in rows[1:]]
    # numbers, not text, for the analyst's own sheet (a whole share such as 0 or 1 reads back as an int)
    assert any(v is not None for v in lows)
    assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in lows if v is not None), lows



def test_intervals_rest_on_the_document_types_the_indicators_counted(tmp_path: Path) -> None:
    # ttweb's finding: `--types X --bootstrap N` resampled the default types, so the intervals were not around
    # the indicators' own figures: here a dataset counted by --types was left out of the resampling (works 1).
    from banso.analytics.ingest import ingest
    from tests.support.openalex import work, write_part

    tech = tmp_path / "tech.json"
    tech.write_text('{"technologies": [{"id": "t", "name_ja": "技術", "name_en": "Tech", "topics": ["T100"]}]}',
                    encoding="utf-8")
    records = [work(1, year=2020, cited=9, countries=[["JP"]], topics=["T100"]),
               {**work(2, year=2020, cited=20, countries=[["US"]], topics=["T100"]), "type": "dataset"}]
    records += [work(3 + k, year=2020, countries=[["CN"]], topics=["T999"]) for k in range(8)]
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", records)
    ingest(tmp_path / "snap", tmp_path / "store")
    out = tmp_path / "out"
    res = runner.invoke(app, ["indicators", "--store", str(tmp_path / "store"), "--out", str(out), "--window",
                              "2020:2020", "--technologies", str(tech), "--types", "article,dataset",
                              "--bootstrap", "20", "--seed", "3"])
    assert res.exit_code == 0, res.output
    table = pd.read_parquet(out / "uncertainty.parquet")
    assert pd.read_parquet(out / "technologies.parquet")["papers"].tolist() == [2]
    assert table["works"].tolist() == [2]
