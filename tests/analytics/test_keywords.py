"""Keyword membership by Aho–Corasick (kept per store part) equals the regular-expression definition (T1)."""

from __future__ import annotations

import shutil
from pathlib import Path

import ibis
import pytest

from banso.analytics import expressions as ex
from banso.analytics import keywords as kw
from banso.analytics.engine import compute, open_texts
from banso.analytics.ingest import ingest
from banso.analytics.store import read_manifest, store_paths
from banso.analytics.technologies import TechnologySet, load_technologies, parse_technologies
from tests.support.openalex import work, write_part

WINDOW = ex.Window(1900, 2100)


def _regex_pairs(store: Path, techs: TechnologySet) -> set[tuple[int, str]]:
    """Membership by keywords only, the earlier way: regular expressions over the kept versions' texts."""
    con = ibis.duckdb.connect()
    paths = store_paths(store)
    works = ex.in_window(con.read_parquet(str(paths.works)), WINDOW)
    texts = open_texts(paths).select("work_id", "partition_date", "part_seq", "text")
    texts = texts.semi_join(works, ["work_id", "partition_date", "part_seq"])
    kw_only = parse_technologies({"technologies": [
        {"id": t.id, "name_ja": t.name_ja, "name_en": t.name_en, "keywords": list(t.keywords)}
        for t in techs.technologies if t.keywords]})
    t = ex.membership(works, kw_only, texts=texts).to_pyarrow()
    return set(zip(t["work_id"].to_pylist(), t["technology"].to_pylist()))


def _ac_pairs(store: Path, techs: TechnologySet) -> set[tuple[int, str]]:
    con = ibis.duckdb.connect()
    paths = store_paths(store)
    works = ex.in_window(con.read_parquet(str(paths.works)), WINDOW)
    table, _ = kw.store_hits(store, paths.parts, techs)
    hits = ibis.memtable(table).semi_join(works, ["work_id", "partition_date", "part_seq"]).to_pyarrow()
    return set(zip(hits["work_id"].to_pylist(), hits["technology"].to_pylist()))


def test_same_membership_on_real_records(real_data: Path, tmp_path: Path) -> None:
    techs = load_technologies()
    ingest(real_data, tmp_path / "store", technologies=techs)
    old = _regex_pairs(tmp_path / "store", techs)
    assert old, "the real records should match some keywords"
    assert _ac_pairs(tmp_path / "store", techs) == old


def test_same_membership_on_synthetic_works(synth_snapshot: Path, tmp_path: Path) -> None:
    techs = load_technologies()
    store = tmp_path / "store"
    ingest(synth_snapshot, store)  # no technologies: the hits are made on first use
    old = _regex_pairs(store, techs)
    assert len(old) > 100
    assert _ac_pairs(store, techs) == old


def test_overlapping_and_nested_phrases(tmp_path: Path) -> None:
    techs = parse_technologies({"technologies": [
        {"id": "a", "name_ja": "a", "name_en": "a", "keywords": ["neural network"]},
        {"id": "b", "name_ja": "b", "name_en": "b", "keywords": ["network"]},
        {"id": "c", "name_ja": "c", "name_en": "c", "keywords": ["work design", "c++ (v2)", "量子"]},
        {"id": "d", "name_ja": "d", "name_en": "d", "keywords": ["a.b"]},
    ]})
    records = [
        work(1, title="Graph Neural Networks"),
        work(2, title="x", abstract="a NETWORK DESIGN study"),  # "network design" holds "work design"
        work(3, title="C++ (V2) tools"),
        work(4, title="量子コンピュータ"),
        work(5, title="axb"),  # '.' is literal, not any character
        work(6, title="neural\nnetwork"),
        work(7, title=""),
    ]
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", records)
    ingest(tmp_path / "snap", tmp_path / "store", technologies=techs)
    pairs = _ac_pairs(tmp_path / "store", techs)
    assert pairs == _regex_pairs(tmp_path / "store", techs)
    assert pairs == {(1, "a"), (1, "b"), (2, "b"), (2, "c"), (3, "c"), (4, "c"), (6, "b")}


def test_hits_are_kept_by_ingest_and_keyed_by_the_keywords(synth_snapshot: Path, tmp_path: Path) -> None:
    techs = load_technologies()
    store = tmp_path / "store"
    ingest(synth_snapshot, store, technologies=techs)
    spec_dir = store / "cache" / f"keywords-{kw.keyword_spec(techs)}"
    parts = store_paths(store).parts
    assert len(list(spec_dir.glob("*.parquet"))) == len(parts)
    # Indicators with the same keywords match nothing again.
    _, matched = kw.store_hits(store, parts, techs)
    assert matched == 0
    # Another keyword list gets its own hits, made on first use.
    other = parse_technologies({"technologies": [
        {"id": "q", "name_ja": "量子", "name_en": "Quantum", "keywords": ["quantum"]}]})
    assert kw.keyword_spec(other) != kw.keyword_spec(techs)
    _, matched = kw.store_hits(store, parts, other)
    assert matched == len(parts)
    # Topics and names do not change the key.
    renamed = parse_technologies({"technologies": [
        {"id": "q", "name_ja": "量子", "name_en": "Q", "topics": ["T1"], "keywords": ["Quantum"]}]})
    assert kw.keyword_spec(renamed) == kw.keyword_spec(other)
    # Indicators give the same tables with or without the kept hits.
    shutil.rmtree(store / "cache")
    cold = compute(store, techs, ex.Window(2015, 2025)).indicators
    warm = compute(store, techs, ex.Window(2015, 2025), use_cache=False).indicators
    assert cold.column_names == warm.column_names and cold.num_rows == warm.num_rows > 0
    for name in cold.column_names:
        for x, y in zip(cold[name].to_pylist(), warm[name].to_pylist()):
            assert x == (pytest.approx(y, rel=1e-12) if isinstance(y, float) else y), name


def test_reingested_part_is_matched_again(tmp_path: Path) -> None:
    techs = parse_technologies({"technologies": [
        {"id": "q", "name_ja": "量子", "name_en": "Quantum", "keywords": ["qubit"]}]})
    snap = tmp_path / "snap"
    write_part(snap, "2025-01-01", "part_000.gz", [work(1, title="a qubit"), work(2, title="other")])
    ingest(snap, tmp_path / "store", technologies=techs)
    assert _ac_pairs(tmp_path / "store", techs) == {(1, "q")}
    write_part(snap, "2025-01-01", "part_000.gz", [work(1, title="none"), work(2, title="two qubits"),
                                                    work(3, title="x")])
    ingest(snap, tmp_path / "store", technologies=techs)
    assert _ac_pairs(tmp_path / "store", techs) == {(2, "q")}
    spec_dir = tmp_path / "store" / "cache" / f"keywords-{kw.keyword_spec(techs)}"
    assert len(list(spec_dir.glob("*.parquet"))) == 1


def test_read_only_store_still_matches(synth_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    techs = parse_technologies({"technologies": [
        {"id": "x", "name_ja": "x", "name_en": "x", "keywords": ["zz-not-cached-yet"]}]})

    def fail(*a: object, **k: object) -> None:
        raise OSError("read-only")

    monkeypatch.setattr(kw.pq, "write_table", fail)
    table, matched = kw.store_hits(synth_store, store_paths(synth_store).parts, techs)
    assert matched == len(store_paths(synth_store).parts) and table.num_rows == 0


def test_cli_ingest_matches_the_given_technology_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from banso.analytics.cli import app

    tech_file = tmp_path / "t.yaml"
    tech_file.write_text("technologies:\n  - {id: q, name_ja: 量子, name_en: Quantum, keywords: [qubit]}\n",
                         encoding="utf-8")
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", [work(1, title="a qubit"), work(2)])
    args = ["ingest", str(tmp_path / "snap"), "--store", str(tmp_path / "store")]
    res = CliRunner().invoke(app, [*args, "--technologies", str(tech_file)])
    assert res.exit_code == 0, res.output
    techs = parse_technologies({"technologies": [
        {"id": "q", "name_ja": "量子", "name_en": "Quantum", "keywords": ["qubit"]}]})
    kept = tmp_path / "store" / "cache" / f"keywords-{kw.keyword_spec(techs)}"
    assert len(list(kept.glob("*.parquet"))) == 1
    bad = CliRunner().invoke(app, [*args, "--technologies", str(tmp_path / "missing.yaml")])
    assert bad.exit_code == 2 and "technology file not found" in bad.output


def test_worker_processes_give_the_same_hits(synth_snapshot: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # Large jobs are matched in worker processes (while the ingest reads on, and in store_hits);
    # here every job counts as large, and the hits must equal those matched inline.
    techs = load_technologies()
    inline = tmp_path / "inline"
    ingest(synth_snapshot, inline, technologies=techs)
    expected = _ac_pairs(inline, techs)
    monkeypatch.setattr(kw, "PROCESS_MIN_BYTES", 0)
    background = tmp_path / "background"
    ingest(synth_snapshot, background, technologies=techs)
    parts = store_paths(background).parts
    assert len(parts) > 1
    _, matched = kw.store_hits(background, parts, techs)
    assert matched == 0  # every part was matched during the ingest
    assert _ac_pairs(background, techs) == expected
    shutil.rmtree(background / "cache")
    table, matched = kw.store_hits(background, parts, techs, threads=2)  # matched by two workers
    assert matched == len(parts)
    assert {(w, t) for w, t in zip(table["work_id"].to_pylist(), table["technology"].to_pylist())} >= expected
    assert _ac_pairs(background, techs) == expected


def test_worker_failure_fails_the_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A part the worker cannot match (here: unreadable) stops the ingest; the store stays incomplete.
    techs = parse_technologies({"technologies": [
        {"id": "q", "name_ja": "量子", "name_en": "Quantum", "keywords": ["qubit"]}]})
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", [work(1, title="a qubit")])
    write_part(tmp_path / "snap", "2025-01-02", "part_000.gz", [work(2, title="b qubit")])
    monkeypatch.setattr(kw, "PROCESS_MIN_BYTES", 0)
    monkeypatch.setattr(kw.PartMatcher, "submit", lambda self, part: self._futures.append(
        self._pool.submit(kw._match_in_worker, self.store, part.with_name("missing.parquet"), self.technologies)))
    with pytest.raises(FileNotFoundError):
        ingest(tmp_path / "snap", tmp_path / "store", technologies=techs)
    assert read_manifest(tmp_path / "store")["state"] == "in_progress"


def test_parts_are_matched_a_batch_at_a_time(synth_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small batches (a worker's memory stays bounded) give the same hits as one batch per part.
    techs = load_technologies()
    matcher = kw.KeywordMatcher(techs)
    part = store_paths(synth_store).parts[0]
    whole = kw.match_part(part, matcher)
    monkeypatch.setattr(kw, "MATCH_BATCH_ROWS", 7)
    batched = kw.match_part(part, matcher)
    assert whole.num_rows > 20
    assert sorted(batched.to_pylist(), key=str) == sorted(whole.to_pylist(), key=str)
