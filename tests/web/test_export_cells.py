"""Exports that do not attack their reader (issue 17, O1; OWASP "CSV Injection"): every spreadsheet banso
writes keeps typed text as text. Read back with openpyxl and csv, over HTTP where the export is served."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from banso.analytics import engine, report
from banso.kit.cells import (
    CSV_NOTE,
    SHEET_NOTE,
    _neutralise_lines,
    csv_cell,
    csv_dialect,
    neutralise_csv_text,
    note_line,
    restore_cell,
)
from banso.kit.clock import FakeClock
from banso.leak.text import strip_invisible
from banso.programme import registry_io
from banso.programme import service as programme
from banso.sealed import uploads
from tests.support.councils import Cast, establish
from tests.support.factories import Factory
from tests.support.http import bearer
from tests.support.information import API, item_form
from tests.support.programme import build_world

LINK = '=HYPERLINK("http://x")'
HOSTILE = [LINK, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "＝1+1", "＋1", "－1", "＠x"]


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_every_formula_sign_is_neutralised_and_numbers_are_not() -> None:
    for value in HOSTILE:
        assert csv_cell(value) == "'" + value and restore_cell("'" + value) == value
    for value in (-5, 3.25, "-5", "+3.25", "-1e3", ".5", "航法", "a=b", "'=already text", None):
        assert csv_cell(value) == value
    neutral, changed = neutralise_csv_text('name,amount\n"=HYPERLINK(""http://x"")",-5\nplain,3\n')
    assert changed == 1 and _rows(neutral)[:3] == [["name", "amount"], ["'" + LINK, "-5"], ["plain", "3"]]
    assert neutral.endswith(CSV_NOTE + ",\r\n")  # a full record of the file's width (issue 16 F1), RFC 4180 line ends
    clean = "name,amount\nplain,-5\n"
    assert neutralise_csv_text(clean) == (clean, 0)  # nothing to do: the file is served byte for byte


CALC = "=cmd|' /C calc'!A0"


def test_a_field_over_the_csv_module_limit_does_not_switch_neutralising_off() -> None:
    # csv's default field limit is 131,072 characters: one longer field made the parse fail and the whole
    # file was served as it came, formulas and all (issue 17).
    text = "name,memo\n" + "x" * 200_000 + ",long\n" + CALC + ",2\n"
    neutral, changed = neutralise_csv_text(text)
    assert changed == 1 and _rows(neutral)[2] == ["'" + CALC, "2"] and len(_rows(neutral)[1][0]) == 200_000


def test_semicolon_tab_and_pipe_csv_are_neutralised_with_their_own_delimiter() -> None:
    # Uploads accept ",;\t|" (Excel writes ";" where "," is the decimal sign); parsed with "," only, the
    # cell "x;=HYPERLINK(…)" did not start with "=" and reached the reader as a formula (issue 17).
    evil = '=HYPERLINK("http://evil.example/")'
    for d in ";\t|":
        neutral, changed = neutralise_csv_text(f"name{d}link\nx{d}{evil}\ny{d}3\n")
        rows = list(csv.reader(io.StringIO(neutral), delimiter=d))
        assert changed == 1 and rows[:3] == [["name", "link"], ["x", "'" + evil], ["y", "3"]], d


def test_text_csv_cannot_parse_is_neutralised_line_by_line_never_passed_through() -> None:
    neutral, changed = _neutralise_lines(f'a;b\r{CALC};"@SUM(A1)"\nok;-5\n', ";")
    assert changed == 2
    assert neutral == f'a;b\r\'{CALC};"\'@SUM(A1)"\nok;-5\n{CSV_NOTE};\n'
    assert _neutralise_lines("a;b\n1;-5", ";") == ("a;b\n1;-5", 0)


def test_ledger_memo_is_a_string_cell_never_a_formula(client: TestClient, db: Session, factory: Factory,
                                                      clock: FakeClock) -> None:
    w = build_world(db, factory, clock)
    db.commit()
    staff = bearer(db, w.staff, clock)
    made = client.post("/api/v1/programme/agencies/JST/tranches", headers=staff,
                       json={"fiscal_year": 2026, "amount": 5_000_000, "memo": LINK})
    assert made.status_code == 201, made.text
    xlsx = client.get("/api/v1/programme/agencies/JST/ledger.xlsx", headers=staff)
    assert xlsx.status_code == 200
    ws = load_workbook(io.BytesIO(xlsx.content))["仕訳 Transactions"]
    memo, amount = ws.cell(ws.max_row, 9), ws.cell(ws.max_row, 8)
    assert (memo.value, memo.data_type, memo.quotePrefix) == (LINK, "s", True)
    assert (amount.value, amount.data_type) == (5_000_000, "n")  # numbers stay numbers
    assert ws["A1"].comment is not None and SHEET_NOTE in ws["A1"].comment.text  # the sheet says so
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as package:
        sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in package.read(n) for n in sheets)  # no formula anywhere


def test_registry_csv_export_prefixes_formula_cells_and_reads_back(client: TestClient, db: Session,
                                                                   factory: Factory, clock: FakeClock) -> None:
    w = build_world(db, factory, clock)
    data = programme.export_registry(db)
    tech = replace(data.technologies[0], name_en="@SUM(A1:A9)", note="-2+3 (ceiling)")
    data.technologies[0] = tech
    programme.import_registry(db, data=data, now=clock.now(), actor=None)
    db.commit()
    exported = client.get("/api/v1/programme/registry/export?format=csv", headers=bearer(db, w.lead, clock))
    assert exported.status_code == 200
    rows = {r[1]: r for r in _rows(exported.text) if len(r) > 1}
    header = _rows(exported.text)[0]
    row = rows[tech.code]
    assert row[header.index("name_en")] == "'@SUM(A1:A9)" and row[header.index("note")] == "'-2+3 (ceiling)"
    assert row[header.index("round")] == str(tech.round)  # a number is left alone
    assert exported.text.endswith(CSV_NOTE + "," * (len(header) - 1) + "\r\n")
    again = registry_io.parse(exported.text, fmt="csv")  # banso reads its own export back unchanged
    back = next(t for t in again.technologies if t.code == tech.code)
    assert (back.name_en, back.note) == ("@SUM(A1:A9)", "-2+3 (ceiling)")


def test_participants_csv_copies_are_neutralised_and_say_so(client: TestClient, db: Session, factory: Factory,
                                                           clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    h_com, h_res = bearer(db, cast.company, clock), bearer(db, cast.researcher, clock)
    upload = 'name,amount\n"=HYPERLINK(""http://x"",""詳細"")",-5\n無人機航法,12\n@SUM(A1),3\n'.encode()
    made = client.post(f"{API}/items", headers=h_com, data=item_form(cast, clock),
                       files=[("files", ("data.csv", upload, "text/csv"))])
    assert made.status_code == 201, made.text
    detail = client.get(f"{API}/items/{made.json()['id']}", headers=h_res).json()
    copy = client.get(f"{API}/items/{made.json()['id']}/files/{detail['files'][0]['id']}", headers=h_res)
    assert copy.status_code == 200
    rows = _rows(strip_invisible(copy.content.decode()))
    assert rows[1] == ["'=HYPERLINK(\"http://x\",\"詳細\")", "-5"] and rows[3] == ["'@SUM(A1)", "3"]
    assert rows[2] == ["無人機航法", "12"] and rows[-1] == [CSV_NOTE, ""]


def test_analytics_workbook_and_csv_keep_names_as_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"technology": ["=HYPERLINK(\"http://x\")", "auv"], "papers": [3, -1]})
    path = tmp_path / "report.xlsx"
    report._workbook(path, frame, frame, None, {})
    ws = load_workbook(path)["indicators"]
    assert (ws["A2"].value, ws["A2"].data_type) == ('=HYPERLINK("http://x")', "s") and ws["B3"].value == -1
    engine._write_csv(pa.Table.from_pandas(frame), tmp_path / "indicators.csv")
    text = (tmp_path / "indicators.csv").read_text()
    assert _rows(text)[1] == ["'=HYPERLINK(\"http://x\")", "3"] and _rows(text)[2] == ["auv", "-1"]
    assert re.search(re.escape(CSV_NOTE) + r",\n$", text)


def _filed_back(client: TestClient, cast: Cast, clock: FakeClock, headers: dict[str, str], name: str,
                data: bytes) -> int:
    """Upload ``data`` as the file of a new item; return the HTTP status."""
    made = client.post(f"{API}/items", headers=headers, data=item_form(cast, clock),
                       files=[("files", (name, data, "text/csv"))])
    assert made.status_code in (201, 422), made.text
    return made.status_code


def test_a_neutralised_csv_copy_uploaded_back_is_accepted(client: TestClient, db: Session, factory: Factory,
                                                          clock: FakeClock) -> None:
    """Issue 16 F1: every CSV banso writes passes banso's own upload check. The copy ends with the note as a
    full record, and two neutralised cells on a row (each starting with ') do not make the dialect sniffer
    read ' as a quote (it was 422 "not well-formed CSV", the note a record of one field)."""
    cast = establish(factory, db, clock)
    db.commit()
    h_com, h_res = bearer(db, cast.company, clock), bearer(db, cast.researcher, clock)
    upload = "name,memo,amount\n-港湾,=1+1,-5\n無人機航法,ok,12\n@SUM(A1),'quoted',3\n".encode()
    made = client.post(f"{API}/items", headers=h_com, data=item_form(cast, clock),
                       files=[("files", ("data.csv", upload, "text/csv"))])
    assert made.status_code == 201, made.text
    detail = client.get(f"{API}/items/{made.json()['id']}", headers=h_res).json()
    copy = client.get(f"{API}/items/{made.json()['id']}/files/{detail['files'][0]['id']}", headers=h_res)
    text = strip_invisible(copy.content.decode())
    assert _filed_back(client, cast, clock, h_com, "copy.csv", text.encode()) == 201
    assert _rows(text)[1] == ["'-港湾", "'=1+1", "-5"] and _rows(text)[-1] == [CSV_NOTE, "", ""]


def test_every_csv_writer_passes_the_upload_check(tmp_path: Path) -> None:
    """Issue 16 F1: the writers that append the note themselves (pyarrow, pandas, the registry, the audit
    export) write it as a full record, which banso's upload check (sealed/uploads.py) accepts."""
    frame = pd.DataFrame({"technology": ["-港湾", "=1+1"], "reason": ["@x", "ok"], "papers": [3, -1]})
    engine._write_csv(pa.Table.from_pandas(frame), tmp_path / "indicators.csv")
    outputs = {"indicators.csv": (tmp_path / "indicators.csv").read_bytes(),
               "single.csv": f"name\n-港湾\n{note_line(1)}".encode(),
               "semicolon.csv": f"a;b\n'-1;'=2\n{note_line(2, ';')}".encode()}
    for name, data in outputs.items():
        assert uploads.sniff(data, name, "text/csv").kind == "csv", name
    assert _rows(outputs["indicators.csv"].decode())[-1] == [CSV_NOTE, "", ""]



def _record_starts(text: str) -> list[str]:
    """Return the first characters of every record as a spreadsheet splits ``text``: at each CR or LF outside
    double quotes (a CRLF pair ends one record)."""
    starts, quoted, i = [text[:1]], False, 0
    while i < len(text):
        c = text[i]
        if c == '"':
            quoted = not quoted
        elif c in "\r\n" and not quoted:
            i += 2 if text.startswith("\r\n", i) else 1
            starts.append(text[i:i + 1])
            continue
        i += 1
    return starts


def test_a_carriage_return_inside_a_cell_never_starts_a_live_record() -> None:
    # Session 11, outside tester (HIGH): with LF line ends the csv module left a cell holding a lone CR unquoted;
    # a spreadsheet ended the record at the CR and ran "=cmd…" as the first cell of the next one.
    from banso.thinktank.reports import _csv

    assert _record_starts(f"a\r{CALC}\n") == ["a", "=", ""]  # the helper sees the attack the old writer let by
    hostile = f"Univ\r{CALC}"
    written = {
        "think-tank CSV": _csv(pd.DataFrame({"institution": [hostile], "top10": [1.5]})).decode("utf-8-sig"),
        "stored CSV rewritten": neutralise_csv_text(f'name,memo\r\n"x\r{CALC}",=1+1\r\n')[0],
        "registry CSV": registry_io.to_csv(registry_io.RegistryData(rounds=[], technologies=[])),
    }
    for what, text in written.items():
        assert not [s for s in _record_starts(text) if s in ("=", "+", "-", "@")], (what, text)
    assert [hostile, "1.5"] in _rows(written["think-tank CSV"])  # the name is kept whole, inside quotes
    assert _rows(written["stored CSV rewritten"])[1] == [f"x\r{CALC}", "'=1+1"]


def test_a_crlf_csv_with_quoted_last_cells_is_read_with_its_commas() -> None:
    # Found with the CRLF change above: the sniffer took the CR for the delimiter when a record's last cell was
    # quoted, so such a file — what Excel on Windows saves, and now every banso CSV — was refused at upload.
    # the shape of the demo's priorities.csv that was refused: quoted explanations ending each record
    rows = [f'{k},T{k},0.2{k},1.0,{k}.0,{k + 1}.0,1.0,,"raised by a (+0.04), b (+0.02); held back by c (-0.66), d (-0.27)"'
            for k in range(1, 27)]
    rows.append('27,T27,0.2,0.49,8.0,29.0,1.0,,"raised by m (+0.01); held back by c (-0.67), d (-0.27)"')
    head = "rank,technology,closeness,p_keep_band,rank_p05,rank_p95,needs,needs_reason,explanation"
    data = ("\ufeff" + "\r\n".join([head, *rows]) + "\r\n").encode()
    assert csv_dialect(data.decode("utf-8-sig")).delimiter == ","  # ";" before: the CRs misled the sniffer
    assert uploads.sniff(data, "priorities.csv", "text/csv").kind == "csv"
