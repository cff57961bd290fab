"""The Spark ingest's per-file reader against the DuckDB reader, without Spark (issue 16).

:func:`banso.analytics.spark_ingest.read_file` is what every Spark task runs on one snapshot file's
bytes; it must keep the rows, count the malformed lines (file, line, reason) and report truncation
exactly as the DuckDB reader (:class:`banso.analytics.snapshot.SnapshotReader`) does on the same file:
hostile lines (wrong types, deep nesting, lines over the length limit), several gzip members, trailing
garbage, truncated and broken gzip streams, blank lines and CRLF line ends.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from banso.analytics.snapshot import SnapshotFile, SnapshotReader, discover
from banso.analytics.spark_ingest import PART_SCHEMA, FileTask, _inflate, _split, read_file
from banso.analytics.synth import write_synthetic_snapshot
from tests.analytics.test_ingest_hostile import _hostile_snapshot


def _spark_read(f: SnapshotFile, seq: int) -> tuple[pa.Table, dict[str, object]]:
    batches = list(read_file(FileTask(f.rel, f.updated_date, seq, f.key), f.path.read_bytes()))
    table = pa.Table.from_batches(batches)
    kinds = table["kind"].to_pylist()
    stats = json.loads(table.filter(pa.array([k == "stats" for k in kinds]))["title"][0].as_py())
    rows = table.filter(pa.array([k == "rows" for k in kinds])).select(PART_SCHEMA.names)
    return rows, stats


def _same_as_duckdb(snapshot: Path, tmp: Path) -> int:
    """Read every file both ways; return how many malformed lines there were in all."""
    reader = SnapshotReader(tmp)
    total = 0
    try:
        for seq, f in enumerate(discover(snapshot)):
            out = tmp / f"{f.key}.parquet"
            expected = reader.read(f, seq, out)
            rows, stats = _spark_read(f, seq)
            want = pq.read_table(out).sort_by("work_id").to_pylist() if out.exists() else []
            assert rows.sort_by("work_id").to_pylist() == want, f.rel
            assert (stats["rows"], stats["malformed"], stats["truncated"], stats["note"]) == (
                expected.rows, expected.malformed, expected.truncated, expected.note), f.rel
            assert [(e["file"], e["line"], e["error"]) for e in stats["examples"]] == [  # type: ignore[attr-defined]
                (m.file, m.line, m.error) for m in expected.examples], f.rel
            total += expected.malformed
    finally:
        reader.close()
    return total


def test_hostile_lines_read_as_the_duckdb_reader_reads_them(tmp_path: Path) -> None:
    _hostile_snapshot(tmp_path / "snap")
    assert _same_as_duckdb(tmp_path / "snap", tmp_path) == 6


def test_damaged_streams_read_as_the_duckdb_reader_reads_them(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    write_synthetic_snapshot(snap, works=600, seed=5, part_size=100, processes=1)
    parts = sorted(snap.rglob("part_*.gz"))
    with gzip.open(parts[0], "ab") as fh:  # a second member: bad lines, a blank line, CRLF
        fh.write(b'{"id": "W9", "publication_year": 2.5}\r\n\r\n{"id": "W10"}\r\nnot json\n')
    whole = parts[1].read_bytes()
    parts[1].write_bytes(whole[: len(whole) // 2])  # truncated mid-stream
    broken = bytearray(parts[2].read_bytes())
    broken[len(broken) // 2: len(broken) // 2 + 64] = b"\x00" * 64  # a corrupt deflate block
    parts[2].write_bytes(bytes(broken))
    parts[3].write_bytes(parts[3].read_bytes() + b"trailing garbage")
    (snap / "plain.jsonl").write_bytes(gzip.decompress(parts[4].read_bytes())[:50_000])  # cut mid-line, no gzip
    assert _same_as_duckdb(snap, tmp_path) >= 3


def test_line_splitting_matches_the_line_iterator() -> None:
    data = b"a\n\nbb\r\n" + b"x" * 50 + b"\nlast"
    chunks = [data[i:i + 7] for i in range(0, len(data), 7)]
    got = list(_split(iter(chunks)))
    assert [(n, line) for n, line, _ in got] == [(1, b"a\n"), (2, b"\n"), (3, b"bb\r\n"),
                                                 (4, b"x" * 50 + b"\n"), (5, b"last")]
    two = gzip.compress(b"a\n") + gzip.compress(b"b\n")
    assert b"".join(_inflate(two)) == b"a\nb\n"
    with pytest.raises(Exception, match="ends early"):
        b"".join(_inflate(two[:-5]))


def test_names_and_ror_ids_are_cleaned_as_the_duckdb_reader_cleans_them(tmp_path: Path) -> None:
    """Outside tester (session 11): the Spark tasks store the same cleaned names (no bidi controls) and the same
    null for an id not of ROR's form as the DuckDB reader (one SQL expression, ``snapshot.names_sql``)."""
    from tests.support.openalex import work, write_part

    spoof = work(1, countries=[["JP", "SA", "US"]])
    insts = spoof["authorships"][0]["institutions"]
    insts[0].update(display_name="\u202eevil\u202c\u2066 Univ\u200f", ror="https://ror.org/0abcde123")
    insts[1].update(display_name="\u2067\u200e", ror="javascript:alert(1)")
    insts[2].update(display_name="Plain", ror="https://ror.org/" + "0" * 4000)
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", [spoof, work(2)])
    _same_as_duckdb(tmp_path / "snap", tmp_path)
    rows, _ = _spark_read(discover(tmp_path / "snap")[0], 0)
    names = {(n["display_name"], n["ror"]) for r in rows["institution_names"].to_pylist() for n in r}
    assert ("evil Univ", "https://ror.org/0abcde123") in names and (None, None) in names and ("Plain", None) in names
