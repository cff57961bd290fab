from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from banso.analytics.cli import app
from banso.analytics.errors import SnapshotError, StoreError
from banso.analytics.ingest import ingest
from banso.analytics.snapshot import SnapshotReader
from banso.analytics.store import read_manifest, store_works_path
from banso.analytics.texts import work_text
from tests.support.openalex import read_records, work, write_part

runner = CliRunner()


def _rows(store: Path) -> list[tuple]:
    return duckdb.sql(
        f"SELECT work_id, cited_by_count, partition_date FROM '{store_works_path(store)}' ORDER BY work_id"
    ).fetchall()


def test_synthetic_snapshot_ingests_completely(synth_snapshot: Path, synth_store: Path) -> None:
    m = read_manifest(synth_store)
    assert m["state"] == "complete" and m["works"] == 1500
    assert sum(f["malformed"] for f in m["files"].values()) == 0
    for rec in m["files"].values():
        assert len(rec["sha256"]) == 64 and rec["size"] > 0 and rec["rows"] == 500
    cols = duckdb.sql(f"DESCRIBE SELECT * FROM '{store_works_path(synth_store)}'").fetchall()
    names = {c[0] for c in cols}
    assert {"work_id", "publication_year", "cited_by_count", "subfield_id", "topic_ids", "countries",
            "institutions", "oa_top10", "partition_date", "part_seq"} <= names
    assert not names & {"title", "abstract_index"}  # they stay in the parts, read only for keyword matching
    parts = duckdb.sql(f"SELECT count(*), count(title), count(abstract_index) "
                       f"FROM '{synth_store / 'parts'}/*.parquet'").fetchall()[0]
    with_abstract = sum(1 for r in read_records(synth_snapshot) if r.get("abstract_inverted_index") is not None)
    assert 0 < with_abstract < 1500  # the synthetic snapshot has works without an abstract, as real ones do
    assert parts == (1500, 1500, with_abstract)


def test_fields_extracted_exactly(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    write_part(snap, "2025-01-01", "part_000.gz", [
        work(11, year=2021, cited=7, countries=[["JP", "US"], ["jp"], []], topics=["T5", "T6"], subfield=2208,
             title="Quantum KEY", abstract="we study qubit arrays"),
    ])
    ingest(snap, tmp_path / "store")
    src = f"'{tmp_path / 'store' / 'parts'}/*.parquet'"
    row = duckdb.sql(f"SELECT * FROM {src}").fetchall()[0]
    d = dict(zip([c[0] for c in duckdb.sql(f"DESCRIBE SELECT * FROM {src}").fetchall()], row))
    assert d["work_id"] == 11 and d["publication_year"] == 2021 and d["cited_by_count"] == 7
    assert d["subfield_id"] == 2208 and sorted(d["topic_ids"]) == [5, 6]
    assert d["countries"] == ["JP", "US"]
    assert d["title"] == "Quantum KEY"
    assert json.loads(d["abstract_index"]) == {"we": [0], "study": [1], "qubit": [2], "arrays": [3]}
    assert work_text(d["title"], d["abstract_index"]) == "quantum key\nwe study qubit arrays"


def test_incremental_reads_only_new_partitions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snap, store = tmp_path / "snap", tmp_path / "store"
    write_part(snap, "2025-01-01", "part_000.gz", [work(1), work(2)])
    r1 = ingest(snap, store)
    assert (r1.files_read, r1.works_in_store) == (1, 2)
    write_part(snap, "2025-02-01", "part_000.gz", [work(3)])
    seen: list[str] = []
    real = SnapshotReader.read

    def spy(self, f, seq, out):  # type: ignore[no-untyped-def]
        seen.append(f.rel)
        return real(self, f, seq, out)

    monkeypatch.setattr(SnapshotReader, "read", spy)
    r2 = ingest(snap, store)
    assert seen == ["works/updated_date=2025-02-01/part_000.gz"]
    assert (r2.files_read, r2.files_skipped, r2.works_in_store) == (1, 1, 3)
    r3 = ingest(snap, store)
    assert r3.files_read == 0 and len(seen) == 1


def test_later_updated_date_replaces_older_version(tmp_path: Path) -> None:
    snap, store = tmp_path / "snap", tmp_path / "store"
    write_part(snap, "2025-03-01", "part_000.gz", [work(1, cited=50, updated="2025-03-01T00:00:00")])
    write_part(snap, "2025-01-01", "part_000.gz", [work(1, cited=5), work(2, cited=9)])
    ingest(snap, store)
    assert _rows(store) == [(1, 50, "2025-03-01"), (2, 9, "2025-01-01")]


@pytest.mark.parametrize("decoder", ["duckdb", "msgspec"])
def test_records_own_updated_date_decides(tmp_path: Path, decoder: str) -> None:
    # The record's updated_date decides, not its folder or file order (the folder's date stands in only
    # for a record without one): W1 is newer in the earlier file of the same folder, W2 newer in the
    # older folder, W3 has no date of its own in the later folder.
    snap, store = tmp_path / "snap", tmp_path / "store"
    w3 = work(3, cited=33)
    del w3["updated_date"]
    write_part(snap, "2025-02-01", "part_000.gz", [work(1, cited=11, updated="2025-02-01T09:00:00"),
                                                    work(2, cited=2, updated="2025-01-20T00:00:00"), w3])
    write_part(snap, "2025-02-01", "part_001.gz", [work(1, cited=1, updated="2025-02-01T08:00:00")])
    write_part(snap, "2025-01-01", "part_000.gz", [work(2, cited=22, updated="2025-03-05T00:00:00"),
                                                    work(3, cited=3, updated="2025-01-01T00:00:00")])
    ingest(snap, store, decoder=decoder)
    assert [(w, c) for w, c, _ in _rows(store)] == [(1, 11), (2, 22), (3, 33)]


def test_malformed_lines_are_counted_with_file_and_line(tmp_path: Path) -> None:
    snap, store = tmp_path / "snap", tmp_path / "store"
    write_part(snap, "2025-01-01", "part_000.gz", [work(1), work(2)],
               raw_lines=["{not json", "[1, 2]", json.dumps(work(3))])
    r = ingest(snap, store)
    assert r.malformed == 2 and r.rows_read == 3
    lines = sorted((m.file, m.line) for m in r.malformed_examples)
    assert lines == [("works/updated_date=2025-01-01/part_000.gz", 3), ("works/updated_date=2025-01-01/part_000.gz", 4)]
    assert read_manifest(store)["files"]["works/updated_date=2025-01-01/part_000.gz"]["malformed"] == 2
    res = runner.invoke(app, ["ingest", str(snap), "--store", str(tmp_path / "store2")])
    assert res.exit_code == 0, res.output
    assert "part_000.gz:3" in res.output and "2 malformed" in res.output


def test_truncated_gzip_keeps_what_was_read(tmp_path: Path) -> None:
    snap, store = tmp_path / "snap", tmp_path / "store"
    p = write_part(snap, "2025-01-01", "part_000.gz", [work(i, abstract="word " * 400) for i in range(1, 200)])
    data = p.read_bytes()
    p.write_bytes(data[: len(data) * 2 // 3])
    r = ingest(snap, store)
    assert len(r.truncated_files) == 1 and "part_000.gz" in r.truncated_files[0]
    assert 0 < r.rows_read < 199
    assert read_manifest(store)["files"]["works/updated_date=2025-01-01/part_000.gz"]["truncated"] is True
    assert read_manifest(store)["state"] == "complete"


def test_multi_member_gzip_is_read_whole(tmp_path: Path) -> None:
    # gzip allows concatenated members (e.g. files appended to with `cat`); the ISA-L step must read on.
    snap, store = tmp_path / "snap", tmp_path / "store"
    p = write_part(snap, "2025-01-01", "part_000.gz", [work(1), work(2)])
    p.write_bytes(p.read_bytes() + gzip.compress((json.dumps(work(3)) + "\n").encode()))
    r = ingest(snap, store)
    assert (r.rows_read, r.malformed, r.truncated_files) == (3, 0, [])
    assert [row[0] for row in _rows(store)] == [1, 2, 3]


def test_corrupt_gzip_keeps_what_was_read_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    snap, store = tmp_path / "snap", tmp_path / "store"
    p = write_part(snap, "2025-01-01", "part_000.gz",
                   [work(i, abstract=f"word{i} " * 300) for i in range(1, 400)])
    data = bytearray(p.read_bytes())
    mid = len(data) * 2 // 3
    data[mid:mid + 64] = bytes(64)  # damaged deflate data, not just a short file
    p.write_bytes(bytes(data))
    r = ingest(snap, store)
    assert len(r.truncated_files) == 1 and "part_000.gz" in r.truncated_files[0]
    assert 0 < r.rows_read < 399
    assert read_manifest(store)["state"] == "complete"
    # The decompressed copy the reader parses is removed on success and on failure alike.
    assert not (store / "tmp").exists()


def test_nothing_readable_exits_non_zero_and_store_not_complete(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    p = snap / "works" / "updated_date=2025-01-01" / "part_000.gz"
    p.parent.mkdir(parents=True)
    p.write_bytes(gzip.compress(b"garbage line\nmore garbage\n"))
    res = runner.invoke(app, ["ingest", str(snap), "--store", str(tmp_path / "store")])
    assert res.exit_code == 2
    assert "nothing could be read" in res.output
    with pytest.raises(StoreError, match="incomplete"):
        store_works_path(tmp_path / "store")


def test_missing_and_empty_folder_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="not found"):
        ingest(tmp_path / "nope", tmp_path / "store")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SnapshotError, match="no snapshot files"):
        ingest(tmp_path / "empty", tmp_path / "store")
    res = runner.invoke(app, ["ingest", str(tmp_path / "nope"), "--store", str(tmp_path / "s")])
    assert res.exit_code == 2 and "snapshot folder not found" in res.output
    assert not (tmp_path / "store" / "works.parquet").exists()


def test_killed_run_never_looks_complete_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snap, store = tmp_path / "snap", tmp_path / "store"
    for k in range(3):
        write_part(snap, "2025-01-01", f"part_00{k}.gz", [work(10 * k + 1), work(10 * k + 2)])
    real = SnapshotReader.read
    calls = {"n": 0}

    def dies_on_third(self, f, seq, out):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # a kill in the middle of the third file
        return real(self, f, seq, out)

    monkeypatch.setattr(SnapshotReader, "read", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        ingest(snap, store, threads=1)
    m = read_manifest(store)
    assert m["state"] == "in_progress" and len(m["files"]) == 2
    with pytest.raises(StoreError, match="incomplete"):
        store_works_path(store)
    monkeypatch.setattr(SnapshotReader, "read", real)
    r = ingest(snap, store, threads=1)
    assert (r.files_read, r.files_skipped, r.works_in_store) == (1, 2, 6)
    assert read_manifest(store)["state"] == "complete"


def test_plain_jsonl_is_read(tmp_path: Path) -> None:
    (tmp_path / "snap").mkdir()
    (tmp_path / "snap" / "works.jsonl").write_text(json.dumps(work(1)) + "\n" + json.dumps(work(2)) + "\n")
    r = ingest(tmp_path / "snap", tmp_path / "store")
    assert r.works_in_store == 2


def test_changed_file_is_read_again(tmp_path: Path) -> None:
    snap, store = tmp_path / "snap", tmp_path / "store"
    p = write_part(snap, "2025-01-01", "part_000.gz", [work(1)])
    ingest(snap, store)
    write_part(snap, "2025-01-01", "part_000.gz", [work(1), work(2), work(3)])
    os.utime(p, (1e9, 1e9))
    r = ingest(snap, store)
    assert r.files_read == 1 and r.works_in_store == 3


def test_real_records_ingest_with_zero_malformed(real_data: Path, tmp_path: Path) -> None:
    r = ingest(real_data, tmp_path / "store")
    assert r.malformed == 0 and not r.truncated_files
    assert r.rows_read == r.works_in_store == 2643


def test_wrong_field_types_are_malformed(tmp_path: Path) -> None:
    # Issue 17: a field of the wrong JSON type makes the line malformed (it was read as missing, uncounted).
    snap = tmp_path / "snap"
    bad = work(2, countries=[["JP"]])
    bad["publication_year"] = "twenty twenty"
    bad["cited_by_count"] = [1]
    write_part(snap, "2025-01-01", "part_000.gz", [work(1), bad, work(3)])
    r = ingest(snap, tmp_path / "store")
    assert (r.rows_read, r.malformed, r.works_in_store) == (2, 1, 2)
    assert [(m.line, m.error) for m in r.malformed_examples] == [
        (2, "Expected `int | null`, got `str` - at `$.publication_year`")]


def test_cli_synth_writes_snapshot(tmp_path: Path) -> None:
    res = runner.invoke(app, ["synth", "--works", "40", "--out", str(tmp_path / "s"), "--seed", "3",
                              "--part-size", "25", "--processes", "1"])
    assert res.exit_code == 0, res.output
    assert len(list((tmp_path / "s").glob("works/updated_date=*/part_*.gz"))) == 2
    assert "wrote 40 works" in res.output
    res = runner.invoke(app, ["synth", "--works", "0", "--out", str(tmp_path / "t")])
    assert res.exit_code == 2


def test_full_disk_for_the_decompressed_copy_stops_with_a_clear_error(tmp_path: Path) -> None:
    # The gzip file is decompressed into STORE/tmp for DuckDB; a full disk there must stop the ingest
    # with a message (exit 2), not pass the file off as damaged, and the store must not look complete.
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    snap, store = tmp_path / "snap", tmp_path / "store"
    write_part(snap, "2025-01-01", "part_000.gz", [work(1), work(2)])
    (store / "tmp").mkdir(parents=True)
    key = "works__updated_date=2025-01-01__part_000.gz"
    (store / "tmp" / f"{key}.jsonl").symlink_to("/dev/full")  # every write: ENOSPC
    res = runner.invoke(app, ["ingest", str(snap), "--store", str(store)])
    assert res.exit_code == 2, res.output
    assert "cannot write" in res.output and "No space left on device" in res.output
    assert read_manifest(store)["state"] == "in_progress"
    with pytest.raises(StoreError, match="incomplete"):
        store_works_path(store)
    # With room again, the same command completes the store.
    res = runner.invoke(app, ["ingest", str(snap), "--store", str(store)])
    assert res.exit_code == 0, res.output
    assert [row[0] for row in _rows(store)] == [1, 2]


def test_the_duckdb_ingest_refuses_a_store_the_spark_ingest_wrote(tmp_path: Path) -> None:
    # Session 11 (helper spark): the DuckDB ingest went on into a Spark store, failed at compaction (works.parquet is a
    # folder there) and left the manifest "in_progress". Now it refuses before writing anything.
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", [work(1, year=2020)])
    store = tmp_path / "store"
    store.mkdir()
    spark_manifest = {"format": read_manifest(store)["format"], "state": "complete", "writer": "spark",
                      "files": {"works/updated_date=2024-12-01/part_000.gz": {"part": "parts/x.parquet"}}}
    (store / "manifest.json").write_text(json.dumps(spark_manifest), encoding="utf-8")
    with pytest.raises(StoreError, match="Spark ingest"):
        ingest(tmp_path / "snap", store)
    assert json.loads((store / "manifest.json").read_text(encoding="utf-8")) == spark_manifest
    assert not list(store.glob("parts/*.parquet"))
