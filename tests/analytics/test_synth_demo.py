"""The demo snapshot looks like a real field (issue 16, "the demo misleads"): checked through the real engine.

One synthetic snapshot of twelve default technologies (8,000 works, 90 % of them in a technology) is
ingested and its indicators computed on DuckDB; the tests read the same tables the report and the
think-tank pages show.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yaml

from banso.analytics.engine import compute, write_outputs
from banso.analytics.expressions import Window
from banso.analytics.ingest import ingest
from banso.analytics.prioritise import load_weights, prioritise, run_prioritise
from banso.analytics.report import write_report
from banso.analytics.synth import is_synthetic_snapshot, write_synthetic_snapshot
from banso.analytics.technologies import default_technology_file, load_technologies
from banso.analytics.uncertainty import write_uncertainty
from tests.support.openalex import read_records

TWELVE = ("G03-ai", "G05-semiconductor", "G06-data", "G08-robotics", "G09-quantum", "G12-energy", "G14-cyber",
          "G15-space", "G16-ocean", "G20-materials", "V1-crypto", "V2-battery")


@dataclass(frozen=True)
class Demo:
    snapshot: Path
    store: Path
    tech_file: Path
    indicators_dir: Path
    technologies: pd.DataFrame
    indicators: pd.DataFrame


def twelve_technologies(folder: Path) -> Path:
    """Write a technology file with twelve of the shipped technologies (fewer technologies: fewer works needed)."""
    data = yaml.safe_load(default_technology_file().read_text(encoding="utf-8"))
    data["technologies"] = [t for t in data["technologies"] if t["id"] in TWELVE]
    path = folder / "technologies.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    root = tmp_path_factory.mktemp("demo")
    tech_file = twelve_technologies(root)
    techs = load_technologies(tech_file)
    write_synthetic_snapshot(root / "snap", works=8000, seed=7, processes=1, technology_file=tech_file,
                             technology_share=0.9)
    ingest(root / "snap", root / "store", threads=1, technologies=techs)
    run = compute(root / "store", techs, Window.parse("2019:2023"))
    write_outputs(run, root / "ind")
    return Demo(root / "snap", root / "store", tech_file, root / "ind", run.technologies.to_pandas(),
                run.indicators.to_pandas())


def test_japan_present_and_ranked_in_most_technologies(demo: Demo) -> None:
    t = demo.technologies
    assert t["japan_rank"].notna().all(), "Japan has works in every technology"
    with_top10 = (t["japan_top10_share"] > 0).sum()
    assert with_top10 >= 0.75 * len(t), f"Japan holds top-10% works in only {with_top10} of {len(t)}"
    # Japan leads or is runner-up somewhere, and is not first everywhere.
    assert 1 <= (t["japan_rank"] <= 2).sum() < len(t)


def test_a_few_monopolies_labelled_high(demo: Demo) -> None:
    t = demo.technologies
    high = t[t["monopoly_risk"] == "high"]
    assert 1 <= len(high) <= len(t) // 3, t[["technology", "leader", "hhi", "monopoly_risk"]]
    assert (high["hhi"] >= 5000).all() and (high["leader"] != "JP").all()
    # The rest is competitive: most technologies below the "highly concentrated" HHI of 2,500 ... 5,000.
    assert (t["hhi"] < 5000).sum() >= len(t) // 2


def test_every_technology_has_top10_works_and_no_all_zero_ranking(demo: Demo) -> None:
    ind = demo.indicators
    top10 = ind.groupby("technology")["top10_fractional"].sum()
    assert (top10 > 0).all(), "a technology without any top-10% work ranks every country 1st at 0 %"
    for tech, rows in ind.groupby("technology"):
        at_zero = rows[rows["top10_fractional"] == 0]
        # Countries without top-10% works are the long tail, not most of the field.
        assert len(at_zero) < len(rows), tech
        assert rows["rank_top10_fractional"].min() == 1


def test_citations_log_normal_with_a_top10_threshold(demo: Demo) -> None:
    bins: dict[tuple[str, int], list[int]] = defaultdict(list)
    for r in read_records(demo.snapshot):
        bins[(r["primary_topic"]["subfield"]["id"], r["publication_year"])].append(r["cited_by_count"])
    checked = 0
    for (_, year), cites in bins.items():
        if len(cites) < 60 or year > 2022:  # recent years have had little time to be cited
            continue
        cites.sort(reverse=True)
        k = len(cites) // 10
        threshold = cites[k - 1]
        assert threshold > statistics.median(cites)  # a top-10% threshold above the typical work
        assert sum(cites[:k]) > 0.3 * sum(cites)  # heavy tail: the top 10% hold ≥ 30% of citations
        assert cites.count(threshold) <= max(3, k // 2)  # few ties at the threshold
        checked += 1
    assert checked >= 20


def test_author_counts_realistic(demo: Demo) -> None:
    counts = [len(r["authorships"]) for r in read_records(demo.snapshot)[:3000]]
    assert 3 <= statistics.median(counts) <= 7
    assert 0.03 < sum(1 for c in counts if c == 1) / len(counts) < 0.3
    assert max(counts) <= 31


def test_snapshot_marked_synthetic_and_deterministic(demo: Demo, tmp_path: Path) -> None:
    assert is_synthetic_snapshot(demo.snapshot)
    marker = json.loads((demo.snapshot / "synthetic.json").read_text(encoding="utf-8"))
    assert marker["synthetic"] is True and marker["seed"] == 7
    assert not is_synthetic_snapshot(tmp_path)
    manifest = json.loads((demo.store / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["synthetic"] is True  # the ingest keeps the flag for the indicators and the report


def test_japan_share_weight_changes_scores(demo: Demo) -> None:
    """"Changing the weight of Japan's share changes no score": it did when Japan's share was 0 everywhere."""
    base = load_weights(None)
    heavier = dict(base, japan_share=0.6)
    a = prioritise(demo.technologies, demo.indicators, weights=base, needs={}, samples=50).ranking
    b = prioritise(demo.technologies, demo.indicators, weights=heavier, needs={}, samples=50).ranking
    assert a["rank"].notna().all()  # every technology of this snapshot has enough works to be ranked
    moved = (a.set_index("technology")["closeness"] - b.set_index("technology")["closeness"]).abs()
    assert moved.max() > 0.02, moved
    # Weighting Japan's strength up lifts the technology where Japan's share is largest.
    best = demo.technologies.sort_values("japan_top10_share").iloc[-1]["technology"]
    assert b.set_index("technology").at[best, "rank"] <= a.set_index("technology").at[best, "rank"]


def test_report_says_synthetic_with_names_and_intervals(demo: Demo, tmp_path: Path) -> None:
    summary = json.loads((demo.indicators_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["synthetic"] is True
    ind = tmp_path / "ind"
    ind.mkdir()
    for f in demo.indicators_dir.iterdir():
        (ind / f.name).write_bytes(f.read_bytes())
    write_uncertainty(demo.store, load_technologies(demo.tech_file), Window.parse("2019:2023"), ind, samples=100)
    run_prioritise(ind, tmp_path / "prio", samples=50)
    for lang in ("ja", "en"):
        write_report(ind, tmp_path / "rep", priorities_dir=tmp_path / "prio", lang=lang, technology_file=demo.tech_file)
    ja = (tmp_path / "rep" / "report_ja.html").read_text(encoding="utf-8")
    en = (tmp_path / "rep" / "report_en.html").read_text(encoding="utf-8")
    for doc in (ja, en):  # both languages in each report, first thing on the page
        assert doc.index("合成データによるデモです") < doc.index("<h1>") and "SYNTHETIC" in doc
    assert "日本シェア95%区間" in ja and "Japan share 95% CI" in en and "100 resamples" in en
    assert "アメリカ合衆国 (US)" in ja or "中国 (CN)" in ja
    from openpyxl import load_workbook
    wb = load_workbook(tmp_path / "rep" / "report.xlsx")
    assert wb.sheetnames[0] == "synthetic" and "SYNTHETIC" in str(wb["synthetic"]["A1"].value)
