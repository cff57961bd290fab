"""The budget sheet of a proposal as an Excel workbook (経費計画シート, F6): written and read back.

The export has one sheet, ``経費計画``, in 千円: a header row of fiscal years, one row per direct cost
category (物品費, 旅費, 人件費・謝金, その他), then 直接経費計, 間接経費 and 合計 as values (never formulas: text
cells go through ``kit/cells.py``). The import treats the file as hostile (O1): a size limit on the file
and on its unpacked parts, the one expected sheet, only the header row and the four direct-cost rows are
read (everything else is ignored — the indirect costs are computed again from the call's rate), formula
cells are refused, and every problem is a 422 naming the cell.
"""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font

from banso.kit.cells import excel_row, sheet_note
from banso.kit.errors import ValidationFailed
from banso.programme import budget

SHEET = "経費計画"
MAX_FILE_BYTES = 1_000_000  # a budget sheet is a few kB; 1 MB leaves room for styling
MAX_UNPACKED_BYTES = 10_000_000  # a zip bomb unpacks far beyond this
MAX_YEARS = 20
HEADER_ROW = 3
FIRST_ROW = 4  # the first direct-cost category
TITLE = "経費計画（単位：千円） / Budget sheet (unit: thousand yen, 千円)"
_CATEGORY_HEADER = "費目 / Category"
_TOTAL_HEADER = "合計 / Total"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _label(category: budget.Category) -> str:
    ja, en = budget.LABELS[category]
    return f"{ja} / {en}"


def _number(amount: int) -> int | float:
    """Return whole yen as a number of 千円 for a cell (a float only when the figure has yen below 1,000)."""
    value = budget.thousand_yen(amount)
    return int(value) if value == int(value) else float(value)


def write_sheet(sheet: budget.BudgetSheet, *, title: str, receipt_number: str | None = None) -> bytes:
    """Return the budget sheet as an .xlsx workbook (values only, amounts in 千円)."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    excel_row(ws, [TITLE])
    excel_row(ws, [f"提案 / Proposal: {title}", f"受付番号 / Receipt: {receipt_number or '—'}",
                   f"間接経費率 / Indirect rate: {sheet.rate_percent}%"])
    years = sheet.years
    excel_row(ws, [_CATEGORY_HEADER, *[f"FY{fy}" for fy in years], _TOTAL_HEADER])
    for category in budget.DIRECT:
        excel_row(ws, [_label(category), *[_number(sheet.direct[fy].get(category, 0)) for fy in years],
                       _number(sheet.category_total(category))])
    excel_row(ws, ["直接経費計 / Direct costs", *[_number(sheet.direct_total(fy)) for fy in years],
                   _number(sum(sheet.direct_total(fy) for fy in years))])
    excel_row(ws, [_label(budget.Category.INDIRECT), *[_number(sheet.indirect(fy)) for fy in years],
                   _number(sheet.category_total(budget.Category.INDIRECT))])
    excel_row(ws, ["合計 / Total", *[_number(sheet.year_total(fy)) for fy in years], _number(sheet.total())])
    for cell in ws[HEADER_ROW]:
        cell.font = Font(bold=True)
    ws.column_dimensions["A"].width = 36
    sheet_note(ws, "金額の単位は千円。間接経費は取込時に公募の率から再計算されます / amounts in 千円; indirect costs "
                   "are computed again from the call's rate on import")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _refuse(message_ja: str, message_en: str) -> ValidationFailed:
    return ValidationFailed(f"{message_ja} / {message_en}", field="file")


def _check_package(data: bytes) -> None:
    """Refuse files too large, not an .xlsx package, or unpacking beyond the limit (a zip bomb)."""
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(f"ファイルが大きすぎます（上限 {MAX_FILE_BYTES:,} バイト）",
                      f"the file is larger than {MAX_FILE_BYTES:,} bytes")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except zipfile.BadZipFile:
        raise _refuse("Excel（.xlsx）ファイルではありません", "not an Excel (.xlsx) file") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise _refuse("展開後のサイズが大きすぎます", f"the file unpacks to more than {MAX_UNPACKED_BYTES:,} bytes")


def _cell_value(ws: Any, row: int, column: int) -> object:
    cell = ws.cell(row=row, column=column)
    where = f"{cell.coordinate}"
    if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")):
        raise _refuse(f"セル {where} に数式があります。値を入力してください", f"cell {where} holds a formula; enter values")
    return cell.value


def _amount(value: object, where: str) -> object:
    """Return a cell's number as the budget parser takes it (exact decimal of what the cell shows)."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if value is None or isinstance(value, int | str) and not isinstance(value, bool):
        return value
    raise _refuse(f"セル {where} は数値ではありません", f"cell {where} is not a number")


def read_sheet(data: bytes) -> dict[object, dict[object, object]]:
    """Return ``{"FY…": {category: 千円}}`` from an uploaded budget workbook, or raise a 422 naming the problem."""
    _check_package(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=False, data_only=False, keep_links=False)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds on a broken file; one answer to the uploader
        raise _refuse("Excelファイルを読み取れません", "the Excel file cannot be read") from None
    if wb.sheetnames != [SHEET]:
        raise _refuse(f"シート「{SHEET}」だけを含むファイルを取り込めます（このファイル: {', '.join(wb.sheetnames)}）",
                      f"the workbook must hold exactly the sheet {SHEET!r}")
    ws = wb[SHEET]
    if _cell_value(ws, HEADER_ROW, 1) != _CATEGORY_HEADER:
        raise _refuse(f"セル A{HEADER_ROW} は「{_CATEGORY_HEADER}」のはずです（書式が違います）",
                      f"cell A{HEADER_ROW} must read {_CATEGORY_HEADER!r}: not a banso budget sheet")
    years: list[tuple[int, str]] = []
    for column in range(2, 2 + MAX_YEARS + 1):
        head = _cell_value(ws, HEADER_ROW, column)
        if head == _TOTAL_HEADER or head is None:
            break
        if not isinstance(head, str) or not head.upper().startswith("FY"):
            raise _refuse(f"見出し {ws.cell(HEADER_ROW, column).coordinate} は FY2027 の形式です",
                          f"heading {ws.cell(HEADER_ROW, column).coordinate} must be a fiscal year such as FY2027")
        years.append((column, head))
    else:
        raise _refuse(f"年度は {MAX_YEARS} 列までです", f"at most {MAX_YEARS} fiscal years")
    if not years:
        raise _refuse("年度の列がありません", "the sheet names no fiscal year")
    raw: dict[object, dict[object, object]] = {head: {} for _, head in years}
    for offset, category in enumerate(budget.DIRECT):
        row = FIRST_ROW + offset
        if _cell_value(ws, row, 1) != _label(category):
            raise _refuse(f"セル A{row} は「{_label(category)}」のはずです", f"cell A{row} must read {_label(category)!r}")
        for column, head in years:
            where = ws.cell(row, column).coordinate
            raw[head][category.value] = _amount(_cell_value(ws, row, column), where)
    return raw
