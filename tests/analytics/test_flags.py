"""Issue 16: the monopoly label of a sole leader, small-sample flags, country names and bootstrap intervals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from banso.analytics import config
from banso.analytics import expressions as ex
from banso.analytics.countries import country_label, country_name
from banso.analytics.engine import compute, write_outputs
from banso.analytics.ingest import ingest
from banso.analytics.prioritise import load_weights, prioritise, run_prioritise
from banso.analytics.report import write_report
from banso.analytics.synth import COUNTRY_MIX
from banso.analytics.technologies import parse_technologies
from banso.analytics.uncertainty import bootstrap, interval
from tests.support.openalex import work, write_part

TECHS = parse_technologies({"technologies": [
    {"id": "mono", "name_ja": "独占", "name_en": "Monopoly", "topics": ["T500"]},
    {"id": "two", "name_ja": "二国", "name_en": "Two countries", "topics": ["T600"]},
]})


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store where technology ``mono`` has only Chinese works (HHI 10,000) and ``two`` has JP and US."""
    root = tmp_path_factory.mktemp("flags")
    mono = [work(n, cited=50 - n, countries=[["CN"], ["CN"]], topics=["T500"]) for n in range(1, 6)]
    two = [work(n, cited=60 - n, countries=[["JP"] if n % 2 else ["US"]], topics=["T600"]) for n in range(6, 16)]
    rest = [work(n, cited=0, countries=[["DE"]], topics=["T900"]) for n in range(16, 60)]
    write_part(root / "snap", "2025-01-01", "part_000.gz", mono + two + rest)
    ingest(root / "snap", root / "store")
    return root / "store"


def test_sole_leader_with_hhi_10000_is_high_monopoly_risk(hand: Path) -> None:
    tech = {r["technology"]: r for r in compute(hand, TECHS, ex.Window(2020, 2020)).technologies.to_pylist()}
    mono = tech["mono"]
    assert mono["hhi"] == pytest.approx(10_000) and mono["runner_up"] is None and mono["lead_ratio"] is None
    assert mono["monopoly_risk"] == "high"  # was "low" (低): no runner-up gave no ratio
    assert tech["two"]["monopoly_risk"] == "low" and tech["two"]["hhi"] < 10_000


def _tables(store: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    run = compute(store, TECHS, ex.Window(2020, 2020))
    return run.technologies.to_pandas(), run.indicators.to_pandas()


def test_small_sample_marked_and_not_ranked(hand: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tech, ind = _tables(hand)
    res = prioritise(tech, ind, weights=load_weights(None), needs={}, samples=20, min_works=8)
    r = res.ranking.set_index("technology")
    assert bool(r.at["mono", "small_sample"]) and pd.isna(r.at["mono", "rank"])  # 5 works < 8
    assert not r.at["two", "small_sample"] and r.at["two", "rank"] == 1
    assert "small sample: 5 works < 8" in r.at["mono", "explanation"]
    assert list(res.ranking["technology"]) == ["two", "mono"]  # ranked first, small samples last
    # The default comes from the analytics settings (BANSO_ANALYTICS_MIN_WORKS, 50).
    assert config.min_works() == 50
    monkeypatch.setenv(config.MIN_WORKS_VARIABLE, "3")
    assert prioritise(tech, ind, weights=load_weights(None), needs={}, samples=20).ranking["rank"].notna().all()
    monkeypatch.setenv(config.MIN_WORKS_VARIABLE, "many")
    with pytest.raises(ValueError, match="BANSO_ANALYTICS_MIN_WORKS"):
        config.min_works()
    monkeypatch.delenv(config.MIN_WORKS_VARIABLE)
    # Every technology small: a ranking of nothing, all marked.
    everything_small = prioritise(tech, ind, weights=load_weights(None), needs={}, samples=20, min_works=1000)
    assert everything_small.ranking["small_sample"].all() and everything_small.ranking["rank"].isna().all()
    assert set(res.ranking.columns) == set(everything_small.ranking.columns)  # readers find every column


def test_report_shows_small_samples_names_and_no_synthetic_banner_for_real_data(hand: Path, tmp_path: Path) -> None:
    write_outputs(compute(hand, TECHS, ex.Window(2020, 2020)), tmp_path / "ind")
    run_prioritise(tmp_path / "ind", tmp_path / "prio", samples=20, min_works=8)
    tech_file = tmp_path / "t.yaml"
    tech_file.write_text(
        "technologies:\n"
        "  - {id: mono, name_ja: 独占, name_en: Monopoly, topics: [T500]}\n"
        "  - {id: two, name_ja: 二国, name_en: Two countries, topics: [T600]}\n", encoding="utf-8")
    for lang in ("ja", "en"):
        write_report(tmp_path / "ind", tmp_path / "rep", priorities_dir=tmp_path / "prio", lang=lang,
                     technology_file=tech_file)
    ja = (tmp_path / "rep" / "report_ja.html").read_text(encoding="utf-8")
    en = (tmp_path / "rep" / "report_en.html").read_text(encoding="utf-8")
    assert "中国 (CN)" in ja and "China (CN)" in en  # names, not bare ISO codes
    assert "少数標本（順位付けなし）" in ja and "small sample (not ranked)" in en
    assert "8 件未満" in ja and "fewer than 8 works" in en
    assert "SYNTHETIC" not in en and "合成データ" not in ja


def test_country_names_in_both_languages() -> None:
    assert (country_name("JP", "ja"), country_name("JP", "en")) == ("日本", "Japan")
    assert country_name("kr", "ja") == "韓国" and country_name("NO", "en") == "Norway"  # NO is not YAML's "no"
    assert country_label("US", "en") == "United States (US)" and country_name("ZZ", "en") == "ZZ"
    for code, _ in COUNTRY_MIX:  # every country the synthetic data uses has a name in each language
        assert country_name(code, "ja") != code and country_name(code, "en") != code
    with pytest.raises(ValueError):
        country_name("JP", "fr")


def test_bootstrap_interval_by_hand() -> None:
    rows = pd.DataFrame({"w": [1.0, 1.0, 0.0, 1.0], "countries": [["JP"], ["JP", "US"], ["US"], ["CN"]]})
    a = interval(rows, samples=500, seed=3)
    b = interval(rows, samples=500, seed=3)
    assert a == b and a["samples"] == 500 and a["works"] == 4  # seeded: the same interval
    assert 0 <= a["share_low"] < 0.5 < a["share_high"] <= 1  # JP holds 1.5 of 3 top-10% works
    assert a["rank_low"] == 1 and a["rank_high"] >= 2
    only_jp = interval(pd.DataFrame({"w": [1.0, 0.5], "countries": [["JP"], ["JP"]]}), samples=50)
    assert (only_jp["share_low"], only_jp["share_high"], only_jp["rank_low"], only_jp["rank_high"]) == (1.0, 1.0, 1, 1)
    none = interval(pd.DataFrame({"w": [], "countries": []}), samples=50)
    assert none["share_low"] is None and none["rank_low"] is None


def test_bootstrap_on_a_store_contains_the_point_estimate(hand: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.BOOTSTRAP_VARIABLE, "300")
    table = bootstrap(hand, TECHS, ex.Window(2020, 2020)).set_index("technology")
    tech, _ = _tables(hand)
    point = tech.set_index("technology").at["two", "japan_top10_share"]
    two = table.loc["two"]
    assert two["samples"] == 300 and two["works"] == 10
    assert two["share_low"] <= point <= two["share_high"] and two["share_low"] < two["share_high"]
    mono = table.loc["mono"]  # Japan absent: share 0, no rank (as japan_rank is null)
    assert mono["share_low"] == mono["share_high"] == 0.0 and pd.isna(mono["rank_low"]) and pd.isna(mono["rank_high"])


def test_country_docstring_examples() -> None:
    import doctest

    from banso.analytics import countries

    res = doctest.testmod(countries)
    assert res.attempted > 0 and res.failed == 0


def test_country_chart_labels_bars_with_names() -> None:
    from banso.analytics import charts

    with charts.LOCK:
        fig = charts.country_shares(["CN", "JP", "Other"], [0.5, 0.2, 0.3], xlabel="share", lang="en")
        labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
        colours = [p.get_facecolor() for p in fig.axes[0].patches]
        charts.png(fig, dpi=50)
    assert labels == ["China", "Japan", "Other"]
    assert colours[1] != colours[0]  # Japan still drawn in red, found by its code
