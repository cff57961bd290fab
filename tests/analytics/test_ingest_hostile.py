"""Hostile snapshot input through the real `banso analyze ingest` command (issue 17, "Analytics input").

Each damaged line is a counted malformed line with its file, line and reason, the same for both decoders;
the other lines of the file are kept, the exit code is 0 and nothing prints a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from banso.analytics.snapshot import MAX_LINE_BYTES
from tests.support.cli import banso
from tests.support.openalex import work, write_part

DEEP = 5000  # past the recursion of Python's json and msgspec (about a thousand levels)


def _line(record: dict[str, object], **raw: str) -> str:
    """A work as a JSON line with ``raw`` fields spliced in as given (JSON text)."""
    text = json.dumps(record)[:-1]
    return text + "".join(f', "{k}": {v}' for k, v in raw.items()) + "}"


def _hostile_snapshot(root: Path) -> dict[str, tuple[int, str | None]]:
    """Write one file per case, the hostile line as line 2 between two good works.

    Return each file's expected (works kept, reason its line 2 is malformed, or None when it is kept).
    """
    year, authorships = work(2), work(2)
    year["publication_year"] = "2020"
    authorships["authorships"] = {"institutions": [{"id": "I1", "country_code": "JP"}]}
    deep = "[" * DEEP + "]" * DEEP
    too_long = f"line longer than {MAX_LINE_BYTES >> 20} MiB"
    cases: dict[str, tuple[list[str], int, str | None]] = {
        "part_000.gz": ([json.dumps(year)], 2, "Expected `int | null`, got `str` - at `$.publication_year`"),
        "part_001.gz": ([json.dumps(authorships)], 2,
                        "Expected `array | null`, got `object` - at `$.authorships`"),
        # Deep nesting where no field is read: every decoder keeps the work (DuckDB does not recurse) ...
        "part_002.gz": ([_line(work(2), extra=deep)], 3, None),
        # ... also when another line sends the file through the line-by-line pass (line 4 is not JSON).
        "part_003.gz": ([_line(work(2), extra=deep), json.dumps(work(3)), "{not json"], 4, None),
        # Deep nesting before a field of the wrong type: malformed, with the reason of DuckDB's strict read.
        "part_004.gz": (['{"id": "https://openalex.org/W2", "extra": ' + deep + ', "publication_year": "2020"}'], 2,
                        ("nested too deeply for the Python decoders: Invalid Input Error: "
                        "a field has the wrong JSON type: publication_year")),
        "part_005.gz": ([_line(work(2), note='"' + "x" * (MAX_LINE_BYTES + 10) + '"')], 2, too_long),
    }
    expected = {}
    for name, (lines, kept, reason) in cases.items():
        path = write_part(root, "2025-01-01", name, [work(1)], raw_lines=[*lines, json.dumps(work(3))])
        expected[path.relative_to(root).as_posix()] = (kept, reason)
    plain = root / "works" / "updated_date=2025-01-02" / "extra.jsonl"  # a plain file: no gunzip pass
    plain.parent.mkdir(parents=True)
    plain.write_text("\n".join([json.dumps(work(4)), "{" + " " * (MAX_LINE_BYTES + 1) + "}",
                                json.dumps(work(5))]) + "\n")
    expected[plain.relative_to(root).as_posix()] = (2, too_long)
    return expected


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[int, str | None]]]:
    root = tmp_path_factory.mktemp("hostile")
    return root, _hostile_snapshot(root)


@pytest.mark.slow
@pytest.mark.parametrize("decoder", ["duckdb", "msgspec"])
def test_hostile_lines_are_counted_malformed(hostile: tuple[Path, dict[str, tuple[int, str | None]]],
                                             tmp_path: Path, decoder: str) -> None:
    root, expected = hostile
    done = banso(["analyze", "ingest", str(root), "--store", str(tmp_path / "store"), "--decoder", decoder,
                  "--no-match-keywords"], tmp_path / "data")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr + done.stdout
    bad = {rel: reason for rel, (_, reason) in expected.items() if reason is not None}
    rows = sum(kept for kept, _ in expected.values())
    assert f"{rows} works, {len(bad) + 1} malformed line(s)" in done.stdout, done.stdout
    reported = sorted(line for line in done.stderr.splitlines() if line.startswith("malformed "))
    want = sorted([f"malformed {rel}:2: {reason}" for rel, reason in bad.items()]
                  + ["malformed works/updated_date=2025-01-01/part_003.gz:4: not a JSON object"])
    assert len(reported) == len(want)
    for got, line in zip(reported, want, strict=True):
        assert got.startswith(line), (got, line)
    manifest = json.loads((tmp_path / "store" / "manifest.json").read_text())
    assert {rel: (rec["rows"], rec["malformed"]) for rel, rec in manifest["files"].items()} == {
        rel: (kept, int(reason is not None or rel.endswith("part_003.gz"))) for rel, (kept, reason) in expected.items()}
