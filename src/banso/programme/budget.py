"""The budget sheet and team of a proposal as agencies take them (F6): pure rules, no session or clock.

A budget sheet (経費計画) gives, for each fiscal year, the direct costs by category — 物品費 (equipment),
旅費 (travel), 人件費・謝金 (personnel and honoraria), その他 (other) — and the indirect costs (間接経費),
which are not entered: they are the call's rate (e.g. 30 %) of the year's direct costs, rounded down to
whole yen. Amounts are entered and shown in 千円 (thousands of yen) and kept in whole yen, so a figure
entered as 1,234.5 千円 is ¥1,234,500 and older figures in yen keep every yen (up to three decimals in 千円).
The F4 ¥1bn-per-year rule and the call's cap apply to the per-year totals through
``rules.check_budget_plan`` and ``rules.check_declaration`` (one rule, one home).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from banso.kit.errors import ValidationFailed
from banso.programme import rules


class Category(StrEnum):
    """Cost categories of the budget sheet (費目)."""

    EQUIPMENT = "equipment"  # 物品費
    TRAVEL = "travel"  # 旅費
    PERSONNEL = "personnel"  # 人件費・謝金
    OTHER = "other"  # その他
    INDIRECT = "indirect"  # 間接経費 (the call's rate of the direct costs; never entered)


DIRECT: tuple[Category, ...] = (Category.EQUIPMENT, Category.TRAVEL, Category.PERSONNEL, Category.OTHER)
LABELS: dict[Category, tuple[str, str]] = {
    Category.EQUIPMENT: ("物品費", "Equipment and supplies"),
    Category.TRAVEL: ("旅費", "Travel"),
    Category.PERSONNEL: ("人件費・謝金", "Personnel and honoraria"),
    Category.OTHER: ("その他", "Other"),
    Category.INDIRECT: ("間接経費", "Indirect costs"),
}

ROLES: dict[str, tuple[str, str]] = {
    "lead": ("研究代表者", "Principal investigator"),
    "co_lead": ("主たる共同研究者", "Co-principal investigator"),
    "member": ("研究参加者", "Participating researcher"),
    "collaborator": ("研究協力者", "Research collaborator"),
}
TEAM_ROLES = tuple(r for r in ROLES if r != "lead")  # the proposer is the one 研究代表者
MAX_RATE_PERCENT = 100
_THOUSAND_TEXT = re.compile(r"^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,3}))?$")
_ERAD = re.compile(r"^\d{8}$")


# ---------------------------------------------------------------------------------------------
# Amounts in 千円


def parse_thousand_yen(value: object, *, field: str) -> int:
    """Return an amount entered in 千円 as whole yen, or raise naming the cell.

    Accepts an ``int``, a ``Decimal`` or text such as ``"1,234"`` or ``"1234.5"`` (at most three decimals:
    a yen is 0.001 千円); an empty text or ``None`` is 0. Refuses negatives, booleans and other units.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, bool):
        raise ValidationFailed(f"{field}: 千円単位の金額ではありません / {field}: not an amount in 千円: {value!r}", field=field)
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value.strip().replace("，", ",").replace("．", ".")
        match = _THOUSAND_TEXT.match(text)
        if match is None:
            raise ValidationFailed(f"{field}: 千円単位の数値で入力してください（例 1,234） / "
                                   f"enter thousands of yen as a number (e.g. 1,234), not {value!r}", field=field)
        amount = Decimal(text.replace(",", ""))
    else:
        raise ValidationFailed(f"{field}: 千円単位の金額ではありません / {field}: not an amount in 千円: {value!r}", field=field)
    if amount < 0:
        raise ValidationFailed(f"{field}: 負の金額は使えません / amount must not be negative: {value!r}", field=field)
    try:
        yen = amount * 1000
    except InvalidOperation:  # pragma: no cover - Decimal of a huge exponent
        raise ValidationFailed(f"{field}: 金額として読めません / {field}: not an amount: {value!r}", field=field) from None
    if yen != yen.to_integral_value():
        raise ValidationFailed(f"{field}: 千円の小数は3桁まで（1円単位）です / at most three decimals in 千円 "
                               f"(whole yen): {value!r}", field=field)
    if yen > rules.MAX_YEN:
        raise ValidationFailed(f"{field}: 金額が大きすぎます / {field}: amount {value!r} 千円 is implausibly large", field=field)
    return int(yen)


def thousand_yen(amount: int) -> Decimal:
    """Return whole yen as 千円 (exact: ``Decimal('1234.5')`` for ¥1,234,500)."""
    return (Decimal(amount) / 1000).normalize() if amount % 1000 else Decimal(amount // 1000)


def format_thousand_yen(amount: int) -> str:
    """Return whole yen as text in 千円, e.g. ``1,234`` or ``1,234.5`` (the unit is in the column label)."""
    value = thousand_yen(amount)
    whole = int(value)
    fraction = f"{value - whole:f}".removeprefix("0") if value != whole else ""
    return f"{whole:,}{fraction}"


# ---------------------------------------------------------------------------------------------
# The sheet


@dataclass
class BudgetSheet:
    """Direct costs by fiscal year and category (whole yen) and the call's indirect-cost rate."""

    direct: dict[int, dict[Category, int]] = field(default_factory=dict)
    rate_percent: int = 0

    @property
    def years(self) -> list[int]:
        """Return the fiscal years of the sheet in order."""
        return sorted(self.direct)

    def direct_total(self, fiscal_year: int) -> int:
        """Return the direct costs of one fiscal year (直接経費計)."""
        return sum(self.direct.get(fiscal_year, {}).values())

    def indirect(self, fiscal_year: int) -> int:
        """Return the indirect costs of one year: the rate of its direct costs, rounded down to whole yen."""
        return self.direct_total(fiscal_year) * self.rate_percent // 100

    def year_total(self, fiscal_year: int) -> int:
        """Return one year's total (direct + indirect)."""
        return self.direct_total(fiscal_year) + self.indirect(fiscal_year)

    def plan(self) -> dict[int, int]:
        """Return ``{fiscal_year: total}``: what the F4 rule and the call's cap are checked on."""
        return {fy: self.year_total(fy) for fy in self.years}

    def category_total(self, category: Category) -> int:
        """Return one category over every year."""
        if category is Category.INDIRECT:
            return sum(self.indirect(fy) for fy in self.years)
        return sum(self.direct[fy].get(category, 0) for fy in self.years)

    def total(self) -> int:
        """Return the total over every year and category (総額)."""
        return sum(self.plan().values())

    def cells(self) -> list[tuple[int, Category, int]]:
        """Return every stored cell ``(fiscal_year, category, yen)``, indirect costs included, zeros left out."""
        out: list[tuple[int, Category, int]] = []
        for fy in self.years:
            out.extend((fy, c, self.direct[fy][c]) for c in DIRECT if self.direct[fy].get(c))
            if self.indirect(fy):
                out.append((fy, Category.INDIRECT, self.indirect(fy)))
        return out


def check_rate(value: object) -> int:
    """Return an indirect-cost rate in percent (0–100) or raise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_RATE_PERCENT:
        raise ValidationFailed(f"間接経費率は0〜100の整数です / the indirect-cost rate is a "
                               f"whole percentage 0–100, not {value!r}", field="indirect_rate_percent")
    return value


def _fiscal_year(key: object) -> int:
    text = str(key).strip().upper().removeprefix("FY")
    if not text.isdigit():
        raise ValidationFailed(f"budget: {key!r} は年度ではありません / is not a fiscal year", field="budget")
    return rules.check_fiscal_year(int(text), field="budget")


def parse_sheet(raw: Mapping[object, Mapping[object, object]], *, rate_percent: int) -> BudgetSheet:
    """Parse ``{fiscal_year: {category: 千円}}`` into a sheet; the indirect costs are computed, never entered."""
    if not raw:
        raise ValidationFailed("経費計画が空です / the budget sheet names no fiscal year", field="budget")
    sheet = BudgetSheet(rate_percent=check_rate(rate_percent))
    for key, row in raw.items():
        fy = _fiscal_year(key)
        if fy in sheet.direct:
            raise ValidationFailed(f"budget: FY{fy} が重複しています / FY{fy} appears twice", field="budget")
        if not isinstance(row, Mapping):
            raise ValidationFailed(f"budget.FY{fy}: 費目ごとの金額を指定してください / give amounts by category",
                                   field="budget")
        cells: dict[Category, int] = {}
        for name, value in row.items():
            try:
                category = Category(str(name))
            except ValueError:
                category = None
            if category is None or category is Category.INDIRECT:
                allowed = ", ".join(c.value for c in DIRECT)
                raise ValidationFailed(f"budget.FY{fy}: 費目 {name!r} は入力できません（{allowed}。間接経費は自動計算）"
                                       f" / category {name!r} cannot be entered (use {allowed}; indirect costs are "
                                       "computed)", field="budget")
            cells[category] = parse_thousand_yen(value, field=f"budget.FY{fy}.{category.value}")
        sheet.direct[fy] = cells
    if sheet.total() == 0:
        raise ValidationFailed("経費計画の総額が0円です / the budget sheet totals ¥0", field="budget")
    return sheet


def sheet_of_plan(plan: Mapping[int, int]) -> BudgetSheet:
    """Return a one-figure-per-year plan (yen) as a sheet: each figure under その他, no indirect costs added."""
    return BudgetSheet(direct={fy: {Category.OTHER: amount} for fy, amount in plan.items()}, rate_percent=0)


def sheet_of_cells(cells: list[tuple[int, str, int]], *, rate_percent: int) -> BudgetSheet:
    """Return the sheet stored as ``(fiscal_year, category, yen)`` rows; stored indirect costs are kept as stored.

    The stored indirect figure of a year is authoritative (the rate may have changed since): the rate is
    recovered only for display; ``plan()`` of a stored sheet uses the stored figures.
    """
    sheet = StoredSheet(rate_percent=rate_percent)
    for fy, category, amount in cells:
        if category == Category.INDIRECT:
            sheet.stored_indirect[fy] = amount
            sheet.direct.setdefault(fy, {})
        else:
            sheet.direct.setdefault(fy, {})[Category(category)] = amount
    return sheet


@dataclass
class StoredSheet(BudgetSheet):
    """A sheet read back from the database: its indirect costs are the stored figures."""

    stored_indirect: dict[int, int] = field(default_factory=dict)

    def indirect(self, fiscal_year: int) -> int:
        """Return the stored indirect costs of one year."""
        return self.stored_indirect.get(fiscal_year, 0)


def as_entered(sheet: BudgetSheet) -> dict[str, dict[str, str]]:
    """Return the sheet's direct costs as the form and the API take them (``{"FY": {category: 千円 text}}``)."""
    return {str(fy): {c.value: str(thousand_yen(sheet.direct[fy].get(c, 0))) for c in DIRECT} for fy in sheet.years}


# ---------------------------------------------------------------------------------------------
# Team (研究体制)


def check_role(role: str, *, where: str) -> str:
    """Return a team role other than 研究代表者 (the proposer holds that one) or raise."""
    if role not in TEAM_ROLES:
        names = " / ".join(f"{r} ({ROLES[r][0]})" for r in TEAM_ROLES)
        raise ValidationFailed(f"{where}: 役割は {names} のいずれかです / role must be one of {', '.join(TEAM_ROLES)}",
                               field="team")
    return role


def check_researcher_number(value: str | None, *, where: str) -> str | None:
    """Return an e-Rad researcher number (研究者番号, 8 digits) or None, or raise."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if not _ERAD.match(text):
        raise ValidationFailed(f"{where}: e-Rad研究者番号は8桁の数字です / the e-Rad researcher number is 8 digits "
                               f"(got {value!r})", field="team")
    return text


def check_effort(value: object, *, where: str) -> int | None:
    """Return an effort (エフォート, percent of working time, 1–100) or None, or raise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ValidationFailed(f"{where}: エフォートは1〜100の整数（%）です / effort is a whole percentage 1–100, "
                               f"not {value!r}", field="team")
    return value


def receipt_number(*, fiscal_year: int, proposal_id: int) -> str:
    """Return the receipt number (受付番号) of a submitted proposal, e.g. ``K-2027-000123`` (unique by the id)."""
    return f"K-{fiscal_year}-{proposal_id:06d}"


@dataclass(frozen=True)
class SheetRow:
    """One row of the budget sheet as pages show it: labels, one 千円 text per year and the row's total."""

    key: str
    label_ja: str
    label_en: str
    cells: list[str]
    total: str
    subtotal: bool = False


def display_rows(sheet: BudgetSheet) -> list[SheetRow]:
    """Return the sheet's rows in 千円: the direct categories, 直接経費計, 間接経費 and 合計."""
    years = sheet.years
    rows = [SheetRow(c.value, *LABELS[c], [format_thousand_yen(sheet.direct[fy].get(c, 0)) for fy in years],
                     format_thousand_yen(sheet.category_total(c))) for c in DIRECT]
    rows.append(SheetRow("direct", "直接経費計", "Direct costs", [format_thousand_yen(sheet.direct_total(fy))
                                                           for fy in years],
                         format_thousand_yen(sum(sheet.direct_total(fy) for fy in years)), subtotal=True))
    rows.append(SheetRow(Category.INDIRECT.value, *LABELS[Category.INDIRECT],
                         [format_thousand_yen(sheet.indirect(fy)) for fy in years],
                         format_thousand_yen(sheet.category_total(Category.INDIRECT))))
    rows.append(SheetRow("total", "合計", "Total", [format_thousand_yen(sheet.year_total(fy)) for fy in years],
                         format_thousand_yen(sheet.total()), subtotal=True))
    return rows
