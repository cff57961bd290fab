"""The msgspec decoder (``--decoder msgspec``) writes the same store as the DuckDB reader."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from banso.analytics.ingest import ingest
from banso.analytics.store import read_manifest
from banso.analytics.synth import write_synthetic_snapshot
from tests.support.openalex import work, write_part

pytest.importorskip("msgspec")


def _rows(store: Path, table: str) -> list[tuple]:
    src = f"'{store}/parts/*.parquet'" if table == "parts" else f"'{store}/works.parquet'"
    con = duckdb.connect()
    cols = [c[0] for c in con.sql(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    types = con.sql(f"DESCRIBE SELECT * FROM {src}").fetchall()
    rows = con.sql(f"SELECT * FROM {src} ORDER BY work_id, partition_date, part_seq").fetchall()
    return [tuple(types)] + [tuple(zip(cols, r)) for r in rows]


def _same_stores(a: Path, b: Path) -> None:
    for table in ("parts", "works"):
        ra, rb = _rows(a, table), _rows(b, table)
        assert ra[0] == rb[0], "column names and types differ"
        assert len(ra) == len(rb)
        for x, y in zip(ra[1:], rb[1:]):
            assert x == y
    ma, mb = read_manifest(a), read_manifest(b)
    strip = ("ingested_at",)
    assert {k: {f: v for f, v in r.items() if f not in strip} for k, r in ma["files"].items()} == \
           {k: {f: v for f, v in r.items() if f not in strip} for k, r in mb["files"].items()}
    assert ma["works"] == mb["works"]


def test_same_store_on_real_records(real_data: Path, tmp_path: Path) -> None:
    ra = ingest(real_data, tmp_path / "duck")
    rb = ingest(real_data, tmp_path / "fast", decoder="msgspec")
    assert (rb.rows_read, rb.malformed, rb.works_in_store) == (ra.rows_read, ra.malformed, ra.works_in_store)
    _same_stores(tmp_path / "duck", tmp_path / "fast")


def test_same_store_on_synthetic_snapshot(tmp_path: Path) -> None:
    write_synthetic_snapshot(tmp_path / "snap", works=1200, seed=5, part_size=300, dates=3, processes=1)
    ingest(tmp_path / "snap", tmp_path / "duck")
    ingest(tmp_path / "snap", tmp_path / "fast", decoder="msgspec")
    _same_stores(tmp_path / "duck", tmp_path / "fast")


def test_same_store_on_edge_cases(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    odd = work(4, countries=[["jp", "US"], []], topics=["T7", "T7", "X9"], abstract="Ünï Σίσυφος a a")
    odd["abstract_inverted_index"] = {"z": [2], "y": [2], "x": [0, 9]}  # shared position and a gap
    odd["title"] = None
    odd["authorships"][0]["institutions"][1]["country_code"] = ""
    no_inst = work(5)
    no_inst["authorships"] = [{"institutions": None}, {"institutions": [{"id": None, "country_code": "us"}]}]
    no_inst["primary_topic"] = None
    no_inst["citation_normalized_percentile"] = None
    spoof = work(6, countries=[["JP", "SA"]])  # a bidi override in a name and a hostile ROR id (outside tester)
    spoof["authorships"][0]["institutions"][0].update(display_name="\u202eevil\u202c\u2066 U\u200f", ror="javascript:x")
    spoof["authorships"][0]["institutions"][1].update(display_name="\u2067\u200e", ror="https://ror.org/0abcde123 ")
    write_part(snap, "2025-01-01", "part_000.gz", [work(1, countries=[["JP", "US"]], abstract="İstanbul ΣΑΣ"), odd,
                                                          spoof])
    write_part(snap, "2025-02-01", "part_000.gz", [work(1, cited=9, updated="2025-02-01T00:00:00"), no_inst])
    ingest(snap, tmp_path / "duck")
    ingest(snap, tmp_path / "fast", decoder="msgspec")
    _same_stores(tmp_path / "duck", tmp_path / "fast")


def test_malformed_and_wrong_types_same_report(tmp_path: Path) -> None:
    # Such files go through the DuckDB reader: the same counts, lines and values.
    snap = tmp_path / "snap"
    bad = work(2, countries=[["JP"]])
    bad["publication_year"] = "twenty twenty"
    write_part(snap, "2025-01-01", "part_000.gz", [work(1), bad, work(3)],
               raw_lines=["{not json", "[1, 2]", json.dumps(work(6))])
    write_part(snap, "2025-01-02", "part_000.gz", [work(7)])
    p = snap / "works" / "updated_date=2025-01-03" / "part_000.gz"
    p.parent.mkdir(parents=True)
    p.write_bytes(gzip.compress("".join(json.dumps(work(n)) + "\n" for n in range(10, 40)).encode())[:-30])
    ra = ingest(snap, tmp_path / "duck")
    rb = ingest(snap, tmp_path / "fast", decoder="msgspec")
    assert ra.malformed == rb.malformed >= 2
    assert sorted((m.file, m.line) for m in ra.malformed_examples) == \
           sorted((m.file, m.line) for m in rb.malformed_examples)
    assert sorted(ra.truncated_files) == sorted(rb.truncated_files)
    _same_stores(tmp_path / "duck", tmp_path / "fast")


def test_incremental_with_msgspec(tmp_path: Path) -> None:
    snap, store = tmp_path / "snap", tmp_path / "store"
    write_part(snap, "2025-01-01", "part_000.gz", [work(1, cited=1), work(2)])
    r1 = ingest(snap, store, decoder="msgspec")
    write_part(snap, "2025-02-01", "part_000.gz", [work(1, cited=5, updated="2025-02-01T00:00:00")])
    r2 = ingest(snap, store, decoder="msgspec")
    assert (r1.files_read, r2.files_read, r2.files_skipped, r2.works_in_store) == (1, 1, 1, 2)
    cited = duckdb.sql(f"SELECT cited_by_count FROM '{store}/works.parquet' WHERE work_id = 1").fetchall()
    assert cited == [(5,)]


def test_unknown_decoder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="decoder"):
        ingest(tmp_path, tmp_path / "store", decoder="simdjson")


def test_same_store_on_plain_jsonl(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    snap.mkdir()
    recs = [work(1, updated="2025-03-04T05:06:07.000001"), work(2, abstract="b a"), work(1, cited=3)]
    (snap / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    ingest(snap, tmp_path / "duck")
    ingest(snap, tmp_path / "fast", decoder="msgspec")
    _same_stores(tmp_path / "duck", tmp_path / "fast")
