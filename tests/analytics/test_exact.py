"""Exact counting and document types (issue 16; docs/analytics.md "Exact counting and document types").

Ranks and ties are decided on exact rationals: the fractional counts and top-10% weights are summed
exactly, so shares that are equal as fractions rank equal. A pure-Python :class:`Fraction` reference,
written from the definitions in docs/analytics.md §4, agrees with the engine on generated snapshots,
and permuting author order or duplicating a work changes nothing.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from banso.analytics import expressions as ex
from banso.analytics.cli import app
from banso.analytics.engine import compute, write_outputs
from banso.analytics.errors import StoreError
from banso.analytics.ingest import excluded_works, ingest
from banso.analytics.technologies import parse_technologies
from tests.support.openalex import work, write_part

TECH = parse_technologies({"technologies": [
    {"id": "t", "name_ja": "技術", "name_en": "Tech", "topics": ["T100"]},
    {"id": "u", "name_ja": "別", "name_en": "Other", "topics": ["T200"]},
    {"id": "empty", "name_ja": "空", "name_en": "Empty", "topics": ["T300"]},
]})
WINDOW = ex.Window(2020, 2021)


def inst_work(n: int, institutions: list[list[tuple[int, str]]], *, cited: int = 0, subfield: int = 1,
              topic: str = "T100", year: int = 2020, **fields: Any) -> dict[str, Any]:
    """A work whose authorships list explicit (institution number, country) pairs."""
    w = work(n, cited=cited, subfield=subfield, topics=[topic], year=year)
    w["authorships"] = [{"institutions": [{"id": f"https://openalex.org/I{i}", "country_code": c} for i, c in a]}
                        for a in institutions]
    w.update(fields)
    return w


def _store(tmp_path: Path, records: list[dict[str, Any]], name: str = "s") -> Path:
    write_part(tmp_path / f"{name}-snap", "2025-01-01", "part_000.gz", records)
    ingest(tmp_path / f"{name}-snap", tmp_path / name)
    return tmp_path / name


def _rows(table: Any, *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(r[k] for k in keys): r for r in table.to_pylist()}


def test_countries_at_exactly_one_third_share_a_rank(tmp_path: Path) -> None:
    # JP: 1/3 from one work of 3 countries; US: 1/5 + 1/10 + 1/30; CN: 1/10 · 3 + 1/30. Summed in
    # floating point the last two are 0.33333333333333337 and rank below JP's 0.3333333333333333.
    fillers = iter(f"Q{i:02d}" for i in range(100))
    records, n = [], 0
    for country, sizes in (("JP", [3]), ("US", [5, 10, 30]), ("CN", [10, 10, 10, 30])):
        for size in sizes:
            n += 1
            records.append(inst_work(n, [[(n * 100, country)]] + [[(n * 100 + k, next(fillers))]
                                                                 for k in range(1, size)]))
    for r in records:
        r["citation_normalized_percentile"] = {"is_in_top_10_percent": True}
    run = compute(_store(tmp_path, records), TECH, WINDOW, top10="openalex")
    ind = _rows(run.indicators, "technology", "country")
    ranks = {c: ind[("t", c)]["rank_top10_fractional"] for c in ("JP", "US", "CN")}
    assert ranks == {"JP": 1, "US": 1, "CN": 1}
    assert {ind[("t", c)]["top10_fractional"] for c in ("JP", "US", "CN")} == {1 / 3}
    assert {ind[("t", c)]["papers_fractional"] for c in ("JP", "US", "CN")} == {1 / 3}
    # Every filler at 1/3 (JP's two co-authors) ties too; the ones at 1/5, 1/10, 1/30 rank below.
    assert sorted(r["rank_top10_fractional"] for r in ind.values() if r["top10_fractional"] == 1 / 3) == [1] * 5
    assert _rows(run.technologies, "technology")[("t",)]["leader"] == "CN"  # ties: country code A→Z


def _four_fifths_snapshot() -> list[dict[str, Any]]:
    """Institution 1 (JP) sums 2/15 + 2/3 = 4/5 over two works; institutions 11–20 (US) have 4/5 each.

    Bins (subfield): 1 has 4 works, 3 tied at the top (w = 0.4/3 = 2/15 each); 2 has 20 works, 3 tied
    at the top (w = 2/3); 3–12 have 8 works with one at the top (w = 0.8). Works outside the
    technology (topic T999) fill the bins.
    """
    out: list[dict[str, Any]] = []
    n = 0

    def add(subfield: int, cited: int, insts: list[list[tuple[int, str]]], topic: str = "T999") -> None:
        nonlocal n
        n += 1
        out.append(inst_work(n, insts, cited=cited, subfield=subfield, topic=topic))

    for subfield, size, tied in ((1, 4, 3), (2, 20, 3)):
        add(subfield, 10, [[(1, "JP")]], "T100")
        for _ in range(tied - 1):
            add(subfield, 10, [])
        for _ in range(size - tied):
            add(subfield, 0, [])
    for k in range(10):
        add(3 + k, 10, [[(11 + k, "US")]], "T100")
        for _ in range(7):
            add(3 + k, 0, [])
    return out


def test_institution_at_exactly_four_fifths_ties_by_id(tmp_path: Path) -> None:
    # In floating point institution 1 sums to 0.7999999999999999 and falls behind the ten at 0.8, so the
    # top ten were all US (10); exactly, it ties and the lower id comes first: 9 US institutions.
    run = compute(_store(tmp_path, _four_fifths_snapshot()), TECH, WINDOW)
    t = _rows(run.technologies, "technology")[("t",)]
    assert (t["leader"], t["leader_top10_institutions"]) == ("US", 9)
    ind = _rows(run.indicators, "technology", "country")
    assert ind[("t", "JP")]["top10_fractional"] == 0.8 and ind[("t", "US")]["top10_fractional"] == 8.0


def test_technology_without_works_has_nulls(tmp_path: Path) -> None:
    run = compute(_store(tmp_path, _four_fifths_snapshot()), TECH, WINDOW)
    empty = _rows(run.technologies, "technology")[("empty",)]
    assert empty["papers"] == 0
    assert empty["leader_top10_institutions"] is None  # docs §4: no works, nulls (it was 0)
    assert empty["leader"] is None and empty["hhi"] is None and empty["japan_top10_share"] is None


# --- document types -------------------------------------------------------------------------------

def _typed_records() -> list[dict[str, Any]]:
    kinds: list[dict[str, Any]] = [
        {"type": "article"}, {"type": "review"}, {"type": "preprint"}, {"type": "book-chapter"}, {"type": "book"},
        {"type": "editorial"}, {"type": "letter"}, {"type": "erratum"}, {"type": "paratext"},
        {"type": "article", "is_paratext": True}, {"type": "article", "is_retracted": True},
        {"type": "editorial", "is_retracted": True}, {},  # no type at all: counted
    ]
    return [inst_work(i + 1, [[(i + 1, "JP")]], cited=i, **k) for i, k in enumerate(kinds)]


@pytest.mark.parametrize("decoder", ["duckdb", "msgspec"])
def test_document_types_are_read_and_only_research_output_counts(tmp_path: Path, decoder: str) -> None:
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", _typed_records())
    report = ingest(tmp_path / "snap", tmp_path / "store", decoder=decoder)
    assert report.excluded == {"retracted": 2, "paratext": 2, "type": 3,
                               "type:editorial": 1, "type:erratum": 1, "type:letter": 1}
    stored = duckdb.sql(f"SELECT work_id, work_type, is_paratext, is_retracted "
                        f"FROM '{tmp_path / 'store' / 'works.parquet'}' ORDER BY work_id").fetchall()
    assert stored[9] == (10, "article", True, None) and stored[10] == (11, "article", None, True)
    assert stored[12] == (13, None, None, None)
    run = compute(tmp_path / "store", TECH, WINDOW)
    assert _rows(run.technologies, "technology")[("t",)]["papers"] == 6  # 5 research types + the untyped
    assert run.excluded == report.excluded
    assert (run.store_works, run.window_works) == (13, 6)  # every stored work; the window's that count
    write_outputs(run, tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["excluded"]["retracted"] == 2 and summary["document_types"][0] == "article"
    # The list is configurable: letters and editorials counted too (retracted and paratext never).
    wider = compute(tmp_path / "store", TECH, WINDOW, document_types=("article", "editorial", "letter"))
    assert _rows(wider.technologies, "technology")[("t",)]["papers"] == 4
    assert wider.excluded["type"] == 5 and wider.excluded["retracted"] == 2
    # The ingest counts them in SQL, the indicators with expressions.exclusions: the same for any list.
    for types in (("article", "editorial", "letter"), (), ("paratext", "erratum")):
        assert excluded_works(tmp_path / "store", types) == compute(tmp_path / "store", TECH, WINDOW,
                                                                    document_types=types).excluded


def test_types_option_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", _typed_records())
    ingest(tmp_path / "snap", tmp_path / "store")
    tf = tmp_path / "t.yaml"
    tf.write_text("technologies:\n  - {id: t, name_ja: 技術, name_en: T, topics: [T100]}\n", encoding="utf-8")
    args = ["indicators", "--store", str(tmp_path / "store"), "--technologies", str(tf), "--window", "2020:2021"]
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o1"), "--types", "article,letter"])
    assert res.exit_code == 0, res.output
    assert "not counted: 2 retracted, 2 paratext, 6 of other types" in res.output
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "o2"), "--types", "artcle"])
    assert res.exit_code == 2 and "unknown OpenAlex work type(s): artcle" in res.output
    monkeypatch.setenv("BANSO_ANALYTICS_DOCUMENT_TYPES", "review")
    run = compute(tmp_path / "store", TECH, WINDOW)
    assert _rows(run.technologies, "technology")[("t",)]["papers"] == 2  # the review and the untyped work


def test_document_fields_of_the_wrong_type_make_the_line_malformed(tmp_path: Path) -> None:
    bad_type, bad_flag = work(2), work(3)
    bad_type["type"] = 5
    bad_flag["is_retracted"] = "no"
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", [work(1), bad_type, bad_flag, work(4)])
    for decoder in ("duckdb", "msgspec"):
        r = ingest(tmp_path / "snap", tmp_path / decoder, decoder=decoder)
        assert (r.rows_read, r.malformed) == (2, 2)
        assert [m.error for m in r.malformed_examples] == [
            "Expected `str | null`, got `int` - at `$.type`", "Expected `bool | null`, got `str` - at `$.is_retracted`"]


def test_store_without_document_types_is_refused(tmp_path: Path) -> None:
    store = _store(tmp_path, [work(1)])
    manifest = json.loads((store / "manifest.json").read_text())
    manifest["format"] = 2
    (store / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="format 2 has no document types.*new store folder"):
        compute(store, TECH, WINDOW)
    with pytest.raises(StoreError, match="format 2"):
        ingest(tmp_path / "s-snap", store)


# --- the Fraction reference and the properties --------------------------------------------------

# More than ten institutions, so the top-10 pre-selection of expressions.institution_terms is exercised.
INSTITUTIONS = {1: "JP", 2: "JP", 3: "US", 4: "US", 5: "CN", 6: "DE", 7: "GB", 8: "JP", 9: "US", 10: "CN",
                11: "FR", 12: "US", 13: "JP", 14: "KR"}
TYPES = ["article", "article", "review", "editorial", "letter"]


@st.composite
def snapshots(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Small snapshots full of ties: few citation counts, countries and bins."""
    n = draw(st.integers(8, 40))
    out = []
    for i in range(1, n + 1):
        authors = draw(st.lists(st.lists(st.sampled_from(sorted(INSTITUTIONS)), max_size=2), max_size=4))
        w = inst_work(i, [[(k, INSTITUTIONS[k]) for k in a] for a in authors],
                      cited=draw(st.integers(0, 4)), subfield=draw(st.integers(1, 2)),
                      topic=draw(st.sampled_from(["T100", "T100", "T200", "T999"])),
                      year=draw(st.sampled_from([2019, 2020, 2021])),
                      type=draw(st.sampled_from(TYPES)), is_retracted=draw(st.booleans()) and draw(st.booleans()))
        out.append(w)
    out[0].update(type="article", is_retracted=False, publication_year=2020)  # the window is never empty
    return out


def _reference(records: list[dict[str, Any]]) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, Any]]:
    """docs/analytics.md §4 in Fractions: (technology, country) → values, and technology → values."""
    counted = [r for r in records if r["type"] in ("article", "review") and not r["is_retracted"]]
    bins: dict[tuple[int, int], list[int]] = defaultdict(list)
    for r in counted:
        bins[(r["primary_topic"]["subfield"]["id"], r["publication_year"])].append(r["cited_by_count"])
    weight = {}
    for r in counted:
        b = bins[(r["primary_topic"]["subfield"]["id"], r["publication_year"])]
        c = r["cited_by_count"]
        gt, eq = sum(x > c for x in b), sum(x == c for x in b)
        weight[r["id"]] = min(Fraction(1), max(Fraction(0), (Fraction(len(b), 10) - gt) / eq))
    win = [r for r in counted if 2020 <= r["publication_year"] <= 2021]

    def countries(r: dict[str, Any]) -> set[str]:
        return {i["country_code"] for a in r["authorships"] for i in a["institutions"]}

    ind: dict[tuple[str, str], dict[str, Any]] = {}
    tech: dict[str, Any] = {}
    for tid, topic in (("t", "T100"), ("u", "T200")):
        mine = [r for r in win if r["topics"][0]["id"].endswith(topic)]
        w_known = sum((weight[r["id"]] for r in mine if countries(r)), Fraction(0))
        per: dict[str, Fraction] = defaultdict(Fraction)
        papers: dict[str, Fraction] = defaultdict(Fraction)
        for r in mine:
            for c in countries(r):
                per[c] += weight[r["id"]] / len(countries(r))
                papers[c] += Fraction(1, len(countries(r)))
        for c, v in per.items():
            ind[(tid, c)] = {"top10": v, "papers": papers[c], "rank": 1 + sum(o > v for o in per.values()),
                             "share": v / w_known if w_known else None}
        order = sorted(per, key=lambda c: (-per[c], c))
        inst: dict[int, Fraction] = defaultdict(Fraction)
        for r in mine:
            for k in {int(i["id"].rsplit("I", 1)[1]) for a in r["authorships"] for i in a["institutions"]}:
                inst[k] += weight[r["id"]]
        top = sorted(inst, key=lambda k: (-inst[k], k))[:10]
        leader = order[0] if order else None
        tech[tid] = {"leader": leader, "runner_up": order[1] if len(order) > 1 else None,
                     "n_inst": None if leader is None else sum(INSTITUTIONS[k] == leader for k in top),
                     "papers": len(mine)}
    return ind, tech


def _run(tmp_path: Path, records: list[dict[str, Any]], name: str) -> Any:
    write_part(tmp_path / name, "2025-01-01", "part_000.gz", records)
    ingest(tmp_path / name, tmp_path / f"{name}-store")
    return compute(tmp_path / f"{name}-store", TECH, WINDOW, document_types=("article", "review"), use_cache=False)


_runs = iter(range(10**6))


# Each example ingests two snapshots: few examples, and no shrinking (it would take minutes).
@settings(max_examples=12, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=snapshots(), seed=st.integers(0, 2**32 - 1))
def test_engine_agrees_with_fraction_reference_and_ignores_order_and_duplicates(
        tmp_path: Path, records: list[dict[str, Any]], seed: int) -> None:
    k = next(_runs)
    run = _run(tmp_path, records, f"a{k}")
    ind, tech = _reference(records)
    got = _rows(run.indicators, "technology", "country")
    assert set(got) == set(ind)
    for key, ref in ind.items():
        g = got[key]
        # Each float is the correctly rounded exact value, so equal rationals give equal floats.
        assert g["top10_fractional"] == float(ref["top10"]) and g["papers_fractional"] == float(ref["papers"])
        assert g["rank_top10_fractional"] == ref["rank"]
        assert g["top10_share_fractional"] == (None if ref["share"] is None else float(ref["share"]))
    got_t = _rows(run.technologies, "technology")
    for tid, ref in tech.items():
        g = got_t[(tid,)]
        assert (g["leader"], g["runner_up"], g["papers"]) == (ref["leader"], ref["runner_up"], ref["papers"])
        assert g["leader_top10_institutions"] == (ref["n_inst"] if ref["papers"] else None)
    # Authors (and their institutions) in another order, and works given twice: the same tables.
    rng = random.Random(seed)
    shuffled = json.loads(json.dumps(records))
    for r in shuffled:
        rng.shuffle(r["authorships"])
        for a in r["authorships"]:
            rng.shuffle(a["institutions"])
    shuffled += rng.sample(shuffled, k=min(5, len(shuffled)))
    rng.shuffle(shuffled)
    again = _run(tmp_path, shuffled, f"b{k}")
    assert again.indicators.equals(run.indicators)
    assert again.technologies.equals(run.technologies)
