from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import duckdb
import ibis
import pytest
from typer.testing import CliRunner

from banso.analytics import expressions as ex
from banso.analytics.cli import app
from banso.analytics.engine import compute, open_texts, write_outputs
from banso.analytics.errors import AnalyticsError, StoreError, TechnologyFileError
from banso.analytics.ingest import ingest
from banso.analytics.store import FORMAT_VERSION, store_paths
from banso.analytics.technologies import load_technologies, parse_technologies
from tests.support.openalex import read_records, work, write_part

runner = CliRunner()
TECHS = parse_technologies({"technologies": [
    {"id": "q", "name_ja": "量子", "name_en": "Quantum", "topics": ["T100"], "keywords": ["qubit"]},
    {"id": "b", "name_ja": "バイオ", "name_en": "Bio", "topics": ["https://openalex.org/T200"]},
    {"id": "none", "name_ja": "なし", "name_en": "None", "keywords": ["no such phrase anywhere"]},
]})


@pytest.fixture(scope="module")
def hand_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hand")
    a = [
        work(1, cited=10, countries=[["JP"], ["US"]], topics=["T100"]),
        work(2, cited=10, countries=[["JP"]], topics=["T100"]),
        work(3, cited=3, countries=[["CN"]], topics=["T100"]),
        work(4, cited=3, countries=[["CN", "US"]], topics=["T300"], abstract="a new Qubit design"),
        work(5, cited=1, countries=[], topics=["T100"]),
    ] + [work(n, cited=0, countries=[["US"]], topics=["T200"]) for n in range(6, 11)]
    b = [work(11, year=2019, cited=4, countries=[["JP"]], topics=["T100"])] + [
        work(n, year=2019, cited=0, countries=[["CN"]], topics=["T300"]) for n in range(12, 21)]
    c = [work(21, year=2015, cited=100, countries=[["JP"]], topics=["T100"]),
         work(22, year=2020, cited=50, countries=[["JP"]], topics=["T100"], subfield=None)]
    write_part(root / "snap", "2025-01-01", "part_000.gz", a + b + c)
    ingest(root / "snap", root / "store")
    return root / "store"


def _by(table, *keys):  # type: ignore[no-untyped-def]
    return {tuple(r[k] for k in keys): r for r in table.to_pylist()}


def test_hand_computed_indicators(hand_store: Path) -> None:
    run = compute(hand_store, TECHS, ex.Window(2019, 2020))
    ind = _by(run.indicators, "technology", "country")
    jp, us, cn = ind[("q", "JP")], ind[("q", "US")], ind[("q", "CN")]
    # Bin (1702, 2020): N = 10, W1 and W2 tie at the top (10 citations) and share 0.1·N = 1 → 0.5 each.
    assert (jp["papers_whole"], jp["papers_fractional"]) == (4, 3.5)
    assert jp["top10_whole"] == pytest.approx(2.0) and jp["top10_fractional"] == pytest.approx(1.75)
    assert (us["papers_whole"], us["papers_fractional"], us["top10_fractional"]) == (2, 1.0, pytest.approx(0.25))
    assert (cn["papers_whole"], cn["papers_fractional"], cn["top10_fractional"]) == (2, 1.5, 0.0)
    assert jp["top10_share_whole"] == pytest.approx(1.0) and us["top10_share_whole"] == pytest.approx(0.25)
    assert jp["top10_share_fractional"] == pytest.approx(0.875)
    assert [jp["rank_top10_fractional"], us["rank_top10_fractional"], cn["rank_top10_fractional"]] == [1, 2, 3]
    assert (jp["h_index"], us["h_index"], cn["h_index"]) == (4, 2, 2)
    assert (jp["intl_collab_share"], us["intl_collab_share"], cn["intl_collab_share"]) == (0.25, 1.0, 0.5)
    assert jp["cagr"] == pytest.approx(1.5) and us["cagr"] is None
    assert jp["rca"] == pytest.approx((3.5 / 3.5) / (6 / 20))
    assert us["rca"] == pytest.approx((1.0 / 6.0) / (6 / 20))
    assert cn["rca"] == pytest.approx((1.5 / 10.5) / (6 / 20))
    assert ("q", "XX") not in ind and len([k for k in ind if k[0] == "q"]) == 3
    tech = _by(run.technologies, "technology")
    q = tech[("q",)]
    assert (q["papers"], q["leader"], q["runner_up"]) == (7, "JP", "US")
    assert q["lead_ratio"] == pytest.approx(7.0)
    assert q["hhi"] == pytest.approx((0.875**2 + 0.125**2) * 10_000)
    assert (q["japan_rank"], q["japan_top10_share"], q["japan_gap_to_leader"]) == (1, 0.875, 0.0)
    assert q["unknown_country_share"] == pytest.approx(1 / 7)
    assert q["leader_top10_institutions"] == 1 and q["monopoly_risk"] == "low"
    b = tech[("b",)]
    assert (b["papers"], b["leader"], b["runner_up"], b["lead_ratio"], b["japan_rank"]) == (5, "US", None, None, None)
    nothing = tech[("none",)]
    assert nothing["papers"] == 0 and nothing["leader"] is None
    assert any("no works in the window" in w for w in run.warnings)
    assert run.unbinned_works == 1


def test_monopoly_thresholds_are_configurable(hand_store: Path) -> None:
    run = compute(hand_store, TECHS, ex.Window(2019, 2020), thresholds=ex.MonopolyThresholds(3, 1, 2, 1))
    assert _by(run.technologies, "technology")[("q",)]["monopoly_risk"] == "high"
    run = compute(hand_store, TECHS, ex.Window(2019, 2020), thresholds=ex.MonopolyThresholds(8, 1, 6, 1))
    assert _by(run.technologies, "technology")[("q",)]["monopoly_risk"] == "medium"


def test_openalex_top10_option(hand_store: Path) -> None:
    run = compute(hand_store, TECHS, ex.Window(2019, 2020), top10="openalex")
    assert all(r["top10_whole"] == 0 for r in run.indicators.to_pylist())


def test_weights_sum_to_a_tenth_of_each_bin(synth_store: Path) -> None:
    con = ibis.duckdb.connect()
    wt = ex.top10_weights(con.read_parquet(str(synth_store / "works.parquet")))
    bins = wt.group_by(["subfield_id", "publication_year"]).aggregate(n=wt.count(), s=wt.w.sum()).to_pyarrow()
    assert bins.num_rows > 50
    for r in bins.to_pylist():
        assert r["s"] == pytest.approx(0.1 * r["n"], abs=1e-9)
    ws = wt.w.to_pyarrow().to_pylist()
    assert all(0.0 <= w <= 1.0 for w in ws) and 0 < sum(1 for w in ws if 0 < w < 1)  # some ties were split


def test_invariants_on_synthetic_store(synth_store: Path, tmp_path: Path) -> None:
    techs = load_technologies()
    win = ex.Window(2015, 2025)
    run = compute(synth_store, techs, win)
    ind = run.indicators.to_pylist()
    assert ind
    path = synth_store / "works.parquet"
    con = ibis.duckdb.connect()
    texts = open_texts(store_paths(synth_store))
    member = ex.membership(ex.in_window(con.read_parquet(str(path)), win), techs,
                           texts=ex.in_window(texts, win)).to_pyarrow()
    known = dict(duckdb.sql(f"SELECT work_id, len(countries) > 0 FROM '{path}'").fetchall())
    per_tech_known: dict[str, int] = defaultdict(int)
    for r in member.to_pylist():
        per_tech_known[r["technology"]] += bool(known[r["work_id"]])
    country_all = dict(duckdb.sql(
        f"SELECT c, sum(1.0 / len(countries)) FROM (SELECT unnest(countries) AS c, countries FROM '{path}' "
        f"WHERE publication_year BETWEEN 2015 AND 2025) GROUP BY c").fetchall())
    world = sum(country_all.values())
    for tech in techs.ids:
        rows = [r for r in ind if r["technology"] == tech]
        if not rows:
            continue
        # Fractional papers sum to the number of the technology's works with a known country.
        assert sum(r["papers_fractional"] for r in rows) == pytest.approx(per_tech_known[tech])
        shares = [r["top10_share_fractional"] for r in rows]
        if all(s is not None for s in shares):
            assert sum(shares) == pytest.approx(1.0)
        # The world's RCA is 1: the output-weighted mean of the countries' RCA.
        assert sum(country_all[r["country"]] / world * r["rca"] for r in rows) == pytest.approx(1.0)
        ranks = sorted(r["rank_top10_fractional"] for r in rows)
        assert ranks[0] == 1
    write_outputs(run, tmp_path)
    for name in ("indicators.parquet", "indicators.csv", "technologies.parquet", "technologies.csv", "summary.json"):
        assert (tmp_path / name).stat().st_size > 0
    cols = (tmp_path / "indicators.csv").read_text().splitlines()[0]
    assert cols.replace('"', "") == ("technology,country,window_start,window_end,papers_whole,papers_fractional,"
                                     "top10_whole,top10_fractional,top10_share_whole,top10_share_fractional,"
                                     "rank_top10_fractional,rca,cagr,h_index,intl_collab_share")


def _leiden(works: list[dict]) -> dict[str, float]:
    bins: dict[tuple, list[dict]] = defaultdict(list)
    w: dict[str, float] = {}
    for r in works:
        sf = ((r.get("primary_topic") or {}).get("subfield") or {}).get("id")
        if sf is None or r.get("publication_year") is None:
            w[r["id"]] = 0.0
        else:
            bins[(sf, r["publication_year"])].append(r)
    for members in bins.values():
        target = 0.1 * len(members)
        for r in members:
            c = r["cited_by_count"]
            gt = sum(1 for o in members if o["cited_by_count"] > c)
            eq = sum(1 for o in members if o["cited_by_count"] == c)
            w[r["id"]] = min(1.0, max(0.0, (target - gt) / eq))
    return w


RESEARCH_TYPES = {"article", "review", "preprint", "book-chapter", "book"}


def _counts(r: dict) -> bool:
    return (r.get("type") is None or r["type"] in RESEARCH_TYPES) and not r.get("is_paratext") \
        and not r.get("is_retracted")


def test_real_records_match_independent_computation(real_data: Path, tmp_path: Path) -> None:
    ingest(real_data, tmp_path / "store")
    # Only research output counts: editorials, errata, datasets, paratext... are left out everywhere,
    # the top-10% bins included.
    raw = [r for r in read_records(real_data) if _counts(r)]
    techs = parse_technologies({"technologies": [
        {"id": "seis", "name_ja": "地震探査", "name_en": "Seismic imaging", "topics": ["T10271"],
         "keywords": ["seismic inversion"]}]})
    run = compute(tmp_path / "store", techs, ex.Window(2000, 2025))
    got = _by(run.indicators, "technology", "country")
    weights = _leiden(raw)

    def text(r: dict) -> str:
        inv = r.get("abstract_inverted_index") or {}
        words = sorted((p, word) for word, ps in inv.items() for p in ps)
        return ((r.get("title") or "") + "\n" + " ".join(word for _, word in words)).lower()

    sel = [r for r in raw if 2000 <= (r.get("publication_year") or 0) <= 2025 and (
        any(t["id"].endswith("/T10271") for t in r.get("topics") or []) or "seismic inversion" in text(r))]
    assert len(sel) > 100
    for country in ("SA", "US"):
        mine = []
        for r in sel:
            cs = {i["country_code"] for a in r["authorships"] for i in a["institutions"] if i.get("country_code")}
            if country in cs:
                mine.append((r, len(cs)))
        row = got[("seis", country)]
        assert row["papers_whole"] == len(mine)
        assert row["papers_fractional"] == pytest.approx(sum(1 / n for _, n in mine))
        assert row["top10_fractional"] == pytest.approx(sum(weights[r["id"]] / n for r, n in mine))
        cites = sorted((r["cited_by_count"] for r, _ in mine), reverse=True)
        assert row["h_index"] == max([i + 1 for i, c in enumerate(cites) if c >= i + 1], default=0)
    unknown = sum(1 for r in sel if not any(i.get("country_code") for a in r["authorships"] for i in a["institutions"]))
    assert _by(run.technologies, "technology")[("seis",)]["unknown_country_share"] == pytest.approx(unknown / len(sel))
    assert _by(run.technologies, "technology")[("seis",)]["papers"] == len(sel)


def test_empty_window_is_a_clear_error(hand_store: Path) -> None:
    with pytest.raises(AnalyticsError, match="no works published in the window 1990:1995"):
        compute(hand_store, TECHS, ex.Window(1990, 1995))


def test_incomplete_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not found"):
        compute(tmp_path / "nostore", TECHS, ex.Window(2019, 2020))
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "manifest.json").write_text(json.dumps({"format": FORMAT_VERSION, "state": "in_progress", "files": {}}))
    with pytest.raises(StoreError, match="incomplete"):
        compute(tmp_path / "s", TECHS, ex.Window(2019, 2020))
    # A store written by an earlier banso (format 1 kept rebuilt texts) is named as such, not misread.
    (tmp_path / "s" / "manifest.json").write_text(json.dumps({"format": 1, "state": "complete", "files": {}}))
    with pytest.raises(StoreError, match="written in format 1"):
        compute(tmp_path / "s", TECHS, ex.Window(2019, 2020))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("technologies: [", "not valid YAML"),
        ("foo: 1", "top-level 'technologies:'"),
        ("technologies: []", "non-empty list"),
        ("technologies:\n  - {id: a, name_ja: あ, name_en: A, topics: [quantum]}", "not an OpenAlex topic id"),
        ("technologies:\n  - {id: a, name_en: A, topics: [T1]}", "'name_ja' is required"),
        ("technologies:\n  - {id: a, name_ja: あ, name_en: A}", "at least one topic id or keyword"),
        (("technologies:\n  - {id: a, name_ja: あ, name_en: A, keywords: [x]}\n"
          "  - {id: a, name_ja: あ, name_en: A, keywords: [y]}"), "duplicate technology id"),
    ],
)
def test_malformed_technology_file(tmp_path: Path, content: str, message: str) -> None:
    p = tmp_path / "t.yaml"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(TechnologyFileError, match=message):
        load_technologies(p)


def test_default_technology_file_is_complete() -> None:
    techs = load_technologies()
    groups = defaultdict(list)
    for t in techs.technologies:
        groups[t.group].append(t)
        assert t.name_ja and t.name_en and (t.topics or t.keywords)
    assert len(groups["guideline"]) == 20 and groups["vision1"] and groups["vision2"]
    assert any(ord(ch) > 0x3000 for ch in techs.technologies[0].name_ja)


def test_cli_indicators_and_bad_inputs(hand_store: Path, tmp_path: Path) -> None:
    tf = tmp_path / "t.yaml"
    tf.write_text("technologies:\n  - {id: q, name_ja: 量子, name_en: Q, topics: [T100], keywords: [qubit]}\n",
                  encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["indicators", "--store", str(hand_store), "--technologies", str(tf),
                              "--window", "2019:2020", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "indicators.parquet").exists() and (out / "technologies.csv").exists()
    res = runner.invoke(app, ["indicators", "--store", str(hand_store), "--technologies", str(tf),
                              "--technology", "nope", "--out", str(tmp_path / "o2")])
    assert res.exit_code == 2 and "unknown technology id(s): nope" in res.output
    res = runner.invoke(app, ["indicators", "--store", str(hand_store), "--window", "1900:1901",
                              "--out", str(tmp_path / "o3")])
    assert res.exit_code == 2 and "no works published in the window" in res.output
    assert not (tmp_path / "o3" / "indicators.parquet").exists()
    res = runner.invoke(app, ["indicators", "--store", str(hand_store), "--window", "2020-2023",
                              "--out", str(tmp_path / "o4")])
    assert res.exit_code == 2 and "START:END" in res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("technologies: 3", encoding="utf-8")
    res = runner.invoke(app, ["indicators", "--store", str(hand_store), "--technologies", str(bad),
                              "--out", str(tmp_path / "o5")])
    assert res.exit_code == 2 and "non-empty list" in res.output


def test_regex_literal_escapes_metacharacters() -> None:
    t = ibis.memtable({"text": ["uses c++ (v2) here", "uses cxx v2"]})
    pat = ex.regex_literal("c++ (v2)")
    assert t.filter(t.text.re_search(pat)).count().execute() == 1


def test_membership_cache_is_reused_and_invalidated(hand_store: Path) -> None:
    import shutil

    shutil.rmtree(hand_store / "cache", ignore_errors=True)
    first = compute(hand_store, TECHS, ex.Window(2019, 2020))
    again = compute(hand_store, TECHS, ex.Window(2019, 2020))
    assert (first.membership_cached, again.membership_cached) == (False, True)
    assert first.indicators.equals(again.indicators)
    other = parse_technologies({"technologies": [
        {"id": "q", "name_ja": "量子", "name_en": "Quantum", "topics": ["T100"]}]})  # no keyword now
    run = compute(hand_store, other, ex.Window(2019, 2020))
    assert not run.membership_cached
    # Without the keyword "qubit", W4 (CN, US) no longer belongs to q.
    assert _by(run.indicators, "technology", "country")[("q", "CN")]["papers_whole"] == 1
    assert not compute(hand_store, TECHS, ex.Window(2019, 2020), use_cache=False).membership_cached
