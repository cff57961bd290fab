"""Indicator time series over rolling windows (issue 16; docs/analytics.md "Institutions and trends").

A window of N years includes its first and last year; each window's rows equal a separate
``indicators`` run over that window; a work published in two overlapping windows counts in both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from banso.analytics import expressions as ex
from banso.analytics.cli import app
from banso.analytics.engine import compute
from banso.analytics.ingest import ingest
from banso.analytics.report import trend_series, write_report
from banso.analytics.technologies import parse_technologies
from banso.analytics.trends import COLUMNS, compute_trends, windows
from tests.support.openalex import work, write_part

TECH = parse_technologies({"technologies": [
    {"id": "t", "name_ja": "技術", "name_en": "Tech", "topics": ["T100"]},
]})


def _records() -> list[dict[str, Any]]:
    """JP works in 2019 and 2021, US works in 2020 and 2022 (cited, so in the top 10%), fillers each year."""
    out: list[dict[str, Any]] = []
    for year, country, cited in ((2019, "JP", 9), (2020, "US", 9), (2021, "JP", 9), (2022, "US", 9),
                                 (2021, "US", 0)):
        out.append(work(len(out) + 1, year=year, cited=cited, countries=[[country]], topics=["T100"]))
    for year in range(2019, 2023):
        out.extend(work(len(out) + 1, year=year, countries=[["CN"]], topics=["T999"]) for _ in range(9))
    return out


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("trends")
    write_part(root / "snap", "2025-01-01", "part_000.gz", _records())
    ingest(root / "snap", root / "store")
    return root / "store"


def test_windows_include_both_ends_and_drop_a_short_last_window() -> None:
    assert [(w.start, w.end) for w in windows(ex.Window(2019, 2022), 2, 1)] == [
        (2019, 2020), (2020, 2021), (2021, 2022)]
    assert [(w.start, w.end) for w in windows(ex.Window(2019, 2022), 3, 2)] == [(2019, 2021)]
    assert [(w.start, w.end) for w in windows(ex.Window(2019, 2019), 1, 1)] == [(2019, 2019)]
    with pytest.raises(ValueError, match="shorter than one window"):
        windows(ex.Window(2019, 2020), 3, 1)
    with pytest.raises(ValueError, match="at least 1"):
        windows(ex.Window(2019, 2022), 2, 0)


def test_each_window_equals_a_separate_run_and_overlapping_windows_share_works(store: Path) -> None:
    run = compute_trends(store, TECH, ex.Window(2019, 2022), 2, 1)
    rows = run.table.to_pylist()
    by = {(r["window_start"], r["country"]): r for r in rows}
    # The 2021 JP work is in 2020–2021 and 2021–2022; the 2019 JP work only in 2019–2020 (ends included).
    assert by[(2019, "JP")]["papers_whole"] == 1 and by[(2020, "JP")]["papers_whole"] == 1
    assert by[(2021, "JP")]["papers_whole"] == 1
    assert by[(2020, "US")]["papers_whole"] == 2 and by[(2021, "US")]["papers_whole"] == 2
    assert (2019, "US") in by and (2022, "JP") not in by
    for w in windows(ex.Window(2019, 2022), 2, 1):
        alone = compute(store, TECH, w).indicators.select(list(COLUMNS)).to_pylist()
        assert sorted(alone, key=lambda r: r["country"]) == sorted(
            (r for r in rows if r["window_start"] == w.start), key=lambda r: r["country"])


def test_cli_writes_trends_and_the_report_draws_japan_against_the_leader(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "ind"
    done = CliRunner().invoke(app, ["trends", "--store", str(store), "--out", str(out), "--span", "2018:2022",
                                    "--window", "2", "--step", "1", "--technologies", str(_tech_file(tmp_path))])
    assert done.exit_code == 0, done.output
    assert "no works published in the window 2018:2019" not in done.output  # 2018:2019 has the 2019 works
    table = pq.read_table(out / "trends.parquet")
    assert sorted(set(table["window_start"].to_pylist())) == [2018, 2019, 2020, 2021]
    assert (out / "trends.csv").read_text().splitlines()[0].startswith('"technology","country"')
    wins, series = trend_series(table.to_pandas(), "t")
    assert wins == ["2018–2019", "2019–2020", "2020–2021", "2021–2022"]
    assert [(c, role) for c, _, role in series] == [("JP", "japan"), ("US", "leader")]
    # 2018–2019 holds only JP's 2019 work: JP has the whole share, the US (no work there) 0, not missing.
    assert (series[0][1][0], series[1][1][0]) == (1.0, 0.0)
    bad = CliRunner().invoke(app, ["trends", "--store", str(store), "--out", str(out), "--span", "2019:2020",
                                   "--window", "3"])
    assert bad.exit_code == 2 and "shorter than one window" in bad.output
    CliRunner().invoke(app, ["indicators", "--store", str(store), "--out", str(out), "--window", "2019:2022",
                             "--technologies", str(_tech_file(tmp_path))])
    page = write_report(out, tmp_path / "rep", lang="en")["html"].read_text(encoding="utf-8")
    assert "Top-10% share over rolling windows" in page


def _tech_file(tmp_path: Path) -> Path:
    path = tmp_path / "tech.yaml"
    path.write_text("technologies:\n  - {id: t, name_ja: 技術, name_en: Tech, topics: [T100]}\n", encoding="utf-8")
    return path


def test_hostile_spans_and_output_folders_are_refused_with_a_message(tmp_path: Path) -> None:
    # Session 11 outside tester: --span -5:2023 ran for minutes over 2,000 empty windows; an output folder that
    # cannot be written ended in a traceback after all the work; --part-size 0 divided by zero.
    with pytest.raises(ValueError, match="1900:2100"):
        windows(ex.Window(-5, 2023), 3, 1)
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    synth = CliRunner().invoke(app, ["synth", "--works", "5", "--out", str(blocker / "snap"), "--processes", "1"])
    assert synth.exit_code == 2 and "error:" in synth.output and synth.exception is not None
    zero = CliRunner().invoke(app, ["synth", "--works", "5", "--out", str(tmp_path / "s"), "--part-size", "0"])
    assert zero.exit_code == 2 and "part-size" in zero.output
