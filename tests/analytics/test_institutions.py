"""Institution names and ROR ids, and the leading institutions per technology and country (issue 16).

docs/analytics.md "Institutions and trends": the ingest keeps each institution's name, ROR id and
country in ``STORE/institutions.parquet`` (the latest record naming it wins), holding those fields to
their JSON types like every other field; ``top_institutions`` ranks on exact sums, ties by id.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from banso.analytics import expressions as ex
from banso.analytics.engine import compute, write_outputs
from banso.analytics.ingest import ingest
from banso.analytics.report import write_report
from banso.analytics.store import INSTITUTIONS
from banso.analytics.synth import ror_like, write_synthetic_snapshot
from banso.analytics.technologies import parse_technologies
from tests.support.openalex import work, write_part

TECH = parse_technologies({"technologies": [
    {"id": "t", "name_ja": "技術", "name_en": "Tech", "topics": ["T100"]},
]})
WINDOW = ex.Window(2020, 2021)


def _work(n: int, insts: list[dict[str, Any]], *, cited: int = 0, subfield: int = 1, topic: str = "T999",
          updated: str = "2025-01-01T00:00:00") -> dict[str, Any]:
    w = work(n, cited=cited, subfield=subfield, topics=[topic], updated=updated)
    w["authorships"] = [{"institutions": insts}] if insts else []
    return w


def _inst(i: int, country: str = "JP", **fields: Any) -> dict[str, Any]:
    return {"id": f"https://openalex.org/I{i}", "display_name": f"Institution {i}",
            "ror": f"https://ror.org/0hnst{i:04d}", "country_code": country, **fields}


def _dimension(store: Path) -> dict[int, dict[str, Any]]:
    return {r["institution_id"]: r for r in pq.read_table(store / INSTITUTIONS).to_pylist()}


@pytest.mark.parametrize("decoder", ["duckdb", "msgspec"])
def test_missing_or_empty_ror_and_name_are_null_and_latest_record_wins(tmp_path: Path, decoder: str) -> None:
    records = [
        _work(1, [{"id": "https://openalex.org/I1", "display_name": "No ROR key", "country_code": "jp"},
                  _inst(2, ror=None), _inst(3, ror="", display_name=""), _inst(4, "US")]),
        _work(2, [_inst(5, display_name="Old name")], updated="2024-01-01T00:00:00"),
        _work(3, [_inst(5, display_name="New name", ror="https://ror.org/0new00000")],
              updated="2025-06-01T00:00:00"),
        _work(4, [_inst(5, display_name="Older still")], updated="2023-01-01T00:00:00"),
    ]
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", records)
    ingest(tmp_path / "snap", tmp_path / "store", decoder=decoder)
    dim = _dimension(tmp_path / "store")
    assert dim[1] == {"institution_id": 1, "display_name": "No ROR key", "ror": None, "country": "JP"}
    assert dim[2]["ror"] is None and dim[2]["display_name"] == "Institution 2"
    assert (dim[3]["display_name"], dim[3]["ror"]) == (None, None)
    assert dim[4] == {"institution_id": 4, "display_name": "Institution 4", "ror": "https://ror.org/0hnst0004",
                      "country": "US"}
    assert (dim[5]["display_name"], dim[5]["ror"]) == ("New name", "https://ror.org/0new00000")
    # The dimension stays out of works.parquet (one row per work, no names).
    assert "institution_names" not in pq.read_schema(tmp_path / "store" / "works.parquet").names


@pytest.mark.parametrize("decoder", ["duckdb", "msgspec"])
def test_names_lose_bidi_controls_and_only_ror_ids_are_kept(tmp_path: Path, decoder: str) -> None:
    """Outside tester (session 11): a name's bidi override reordered its neighbours on the page, in the CSV and
    the workbook; a ROR id was stored whatever it held. Both readers store the cleaned values (the Spark reader
    runs the same projection: tests/analytics/test_spark_reader.py compares its parts)."""
    controls = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u0007\u200b\ufeff\x00"
    hostile = ["javascript:alert(1)", "https://ror.org/" + "0" * 5000, "https://ror.org/0abcde1 23",
               " https://ror.org/0abcde123", "https://ror.org/0abcde123 ", "0abcde123", "http://ror.org/0abcde123",
               "https://ror.org/0abcdi123", "https://ror.org/1abcde123", "https://ror.org/0abcde1x3",
               "https://ror.org/0ABCDE123", "https://evil.example/?https://ror.org/0abcde123"]
    insts = [_inst(1, display_name="\u202eKAERTS\u202c University", ror="https://ror.org/0abcde123"),
             _inst(2, display_name=f"A{controls}B\tC"), _inst(3, display_name=controls)]
    insts += [_inst(10 + k, ror=r) for k, r in enumerate(hostile)]
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", [_work(1, insts)])
    ingest(tmp_path / "snap", tmp_path / "store", decoder=decoder)
    dim = _dimension(tmp_path / "store")
    assert (dim[1]["display_name"], dim[1]["ror"]) == ("KAERTS University", "https://ror.org/0abcde123")
    assert dim[2]["display_name"] == "ABC"  # Cc and Cf both, the tab too
    assert dim[3]["display_name"] is None  # nothing but controls: no name
    assert {dim[10 + k]["ror"] for k in range(len(hostile))} == {None}
    assert all(dim[10 + k]["display_name"] == f"Institution {10 + k}" for k in range(len(hostile)))


@pytest.mark.parametrize("decoder", ["duckdb", "msgspec"])
@pytest.mark.parametrize("field,value", [("display_name", 5), ("ror", {"id": "x"}), ("display_name", ["a"])])
def test_name_or_ror_of_the_wrong_type_makes_the_line_malformed(tmp_path: Path, decoder: str, field: str,
                                                                 value: Any) -> None:
    bad = _work(2, [_inst(2, **{field: value})])
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", [_work(1, [_inst(1)]), bad, _work(3, [_inst(3)])])
    r = ingest(tmp_path / "snap", tmp_path / "store", decoder=decoder)
    assert (r.rows_read, r.malformed) == (2, 1)
    assert r.malformed_examples[0].line == 2
    assert sorted(_dimension(tmp_path / "store")) == [1, 3]


def test_real_records_ingest_names_field_for_field(real_data: Path, tmp_path: Path) -> None:
    # Independent reference: plain gzip + json over the files in the store's order; per institution the
    # entry of the latest record naming it (record updated_date, file, work id, then name and ROR id).
    latest: dict[int, tuple[tuple[Any, ...], dict[str, Any]]] = {}
    files = sorted(real_data.glob("works/updated_date=*/part_*.gz"))
    for seq, f in enumerate(files):
        folder = f.parent.name.split("=", 1)[1]
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                w = json.loads(line)
                wid = int(w["id"].rsplit("W", 1)[1])
                for a in w.get("authorships") or []:
                    for i in a.get("institutions") or []:
                        if not (i.get("id") or "").rsplit("/", 1)[-1][1:].isdigit():
                            continue
                        iid = int(i["id"].rsplit("I", 1)[1])
                        ror = i.get("ror") or None
                        assert ror is None or re.fullmatch(r"https://ror\.org/0[0-9a-hj-km-np-tv-z]{6}\d\d", ror)
                        name = re.sub(r"[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", "",
                                      i.get("display_name") or "")
                        entry = {"institution_id": iid, "display_name": name or None,
                                 "ror": ror, "country": (i.get("country_code") or "").upper() or None}
                        key = (w.get("updated_date") or folder, folder, seq, wid, entry["display_name"] or "",
                               entry["ror"] or "")
                        if iid not in latest or key > latest[iid][0]:
                            latest[iid] = (key, entry)
    expected = {iid: e for iid, (_, e) in latest.items()}
    assert len(expected) > 900 and sum(e["ror"] is None for e in expected.values()) >= 1
    for decoder in ("duckdb", "msgspec"):
        ingest(real_data, tmp_path / decoder, decoder=decoder)
        assert _dimension(tmp_path / decoder) == expected, decoder


def _tie_snapshot() -> list[dict[str, Any]]:
    """JP institution 1 sums 2/15 + 2/3 = 4/5 (0.7999999999999999 in floating point) over two works;
    JP institution 2 has 4/5 from one work (0.8), US institution 3 has 4/5 too; institution 4 (JP) 0.

    Bins (subfield): 1 has 4 works, 3 tied at the top (w = 2/15 each); 2 has 20 works, 3 tied (w = 2/3);
    3 and 4 have 8 works with one at the top (w = 0.8); institution 4 is on one of the others (w = 0).
    """
    out: list[dict[str, Any]] = []

    def add(subfield: int, cited: int, insts: list[dict[str, Any]], topic: str = "T999") -> None:
        out.append(_work(len(out) + 1, insts, cited=cited, subfield=subfield, topic=topic))

    for subfield, size, tied in ((1, 4, 3), (2, 20, 3)):
        add(subfield, 10, [_inst(1)], "T100")
        for _ in range(tied - 1):
            add(subfield, 10, [])
        for _ in range(size - tied):
            add(subfield, 0, [])
    for subfield, inst in ((3, _inst(2)), (4, _inst(3, "US", ror=None))):
        add(subfield, 10, [inst], "T100")
        for k in range(7):
            add(subfield, 0, [_inst(4)] if k == 0 else [], "T100" if k == 0 else "T999")
    return out


def test_top_institutions_tie_exactly_by_id_with_names(tmp_path: Path) -> None:
    write_part(tmp_path / "snap", "2025-01-01", "part_000.gz", _tie_snapshot())
    ingest(tmp_path / "snap", tmp_path / "store")
    run = compute(tmp_path / "store", TECH, WINDOW)
    rows = [(r["scope"], r["country"], r["rank"], r["institution_id"], r["institution"], r["ror"], r["top10"])
            for r in run.top_institutions.to_pylist()]
    assert rows == [
        # Equal exact sums share rank 1 and are listed by id; institution 4 (no top-10% output) is not listed.
        ("all", "JP", 1, 1, "Institution 1", "https://ror.org/0hnst0001", 0.8),
        ("all", "JP", 1, 2, "Institution 2", "https://ror.org/0hnst0002", 0.8),
        ("all", "US", 1, 3, "Institution 3", None, 0.8),
        ("country", "JP", 1, 1, "Institution 1", "https://ror.org/0hnst0001", 0.8),
        ("country", "JP", 1, 2, "Institution 2", "https://ror.org/0hnst0002", 0.8),
        ("country", "US", 1, 3, "Institution 3", None, 0.8),
    ]
    # One place per group: the tie goes to the lower id (in floating point institution 2 came first).
    one = compute(tmp_path / "store", TECH, WINDOW, top_institutions=1).top_institutions.to_pylist()
    assert [(r["scope"], r["country"], r["institution_id"]) for r in one] == [
        ("all", "JP", 1), ("country", "JP", 1), ("country", "US", 3)]
    written = write_outputs(run, tmp_path / "out")
    assert tmp_path / "out" / "top_institutions.csv" in written
    csv = duckdb.sql(f"SELECT * FROM '{tmp_path / 'out' / 'top_institutions.csv'}'").fetchall()
    assert len(csv) == 6
    # Names in the report (leading institutions and Japan's first) and in the workbook's sheet.
    paths = write_report(tmp_path / "out", tmp_path / "report", lang="en", technology_file=None)
    page = paths["html"].read_text(encoding="utf-8")
    section = page[page.index("Leading institutions"):]
    assert "1. Institution 1" in section and "ROR 0hnst0001" in section and "Institution 3" in section
    sheet = load_workbook(paths["xlsx"])["top_institutions"]
    header = [c.value for c in sheet[1]]
    assert [dict(zip(header, (c.value for c in row), strict=True))["institution"]
            for row in sheet.iter_rows(min_row=2, max_row=4)] == ["Institution 1", "Institution 2", "Institution 3"]


def test_synthetic_institutions_have_plausible_names_and_ror_shaped_ids(tmp_path: Path) -> None:
    write_synthetic_snapshot(tmp_path / "snap", works=300, seed=5, processes=1)
    ingest(tmp_path / "snap", tmp_path / "store")
    dim = list(_dimension(tmp_path / "store").values())
    assert len(dim) > 100
    assert all(r["display_name"] and r["display_name"].split()[-1] in
               {"University", "Technology", "Laboratory", "Center", "Corporation"} for r in dim)
    rors = [r["ror"] for r in dim if r["ror"]]
    assert 0 < len(dim) - len(rors) < len(dim) // 10  # a few companies without a ROR id
    assert all(len(r.rsplit("/", 1)[1]) == 9 and r.startswith("https://ror.org/0") for r in rors)
    assert ror_like(0) == "https://ror.org/000000098"
