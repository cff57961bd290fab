"""Pure rules of plan changes after adoption (計画変更, F6, issue 15): no session, no clock.

**Which budget changes need approval.** The agencies let a project move money between the direct-cost
categories (費目間流用) of one fiscal year without approval up to a share of that year's direct-cost total,
and ask for approval above it: JST's 委託研究契約事務処理説明書 (followed by e.g. NIMS and NIBIOHN) puts the line
at **50 % of the direct-cost total** per category (¥5 million when 50 % is less than that), the rule issue 15 names as
common to JST and NEDO. banso takes 50 % (:data:`APPROVAL_SHARE_PERCENT`) on the sum moved inside the year (by this change and the
earlier ones applied on notice that year), which is stricter than per category, and does not apply the ¥5 million floor (it asks for approval instead):

* moves inside one fiscal year whose total is at most 50 % of that year's direct costs are applied at once and
  the agency is notified (届出);
* a larger move, any move between fiscal years (年度間の変更; the agencies treat it as a change of the plan),
  and every team or schedule change need the agency's approval (承認申請).

Indirect costs (間接経費) follow the direct costs at the call's rate and are never moved by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from banso.kit.errors import ValidationFailed
from banso.kit.japanese import fiscal_year_label, format_exact
from banso.programme.budget import DIRECT, LABELS, Category

APPROVAL_SHARE_PERCENT: Final = 50  # 費目間流用: above this share of the year's direct costs, approval is needed
MAX_MOVES: Final = 20
MAX_MOVE_YEN: Final = 10**13  # ¥10 trillion: far above any plan (the whole designated fund is ¥500 billion)


@dataclass(frozen=True)
class Move:
    """Money moved from one fiscal year × category cell to another (whole yen)."""

    from_year: int
    from_category: Category
    to_year: int
    to_category: Category
    yen: int

    def as_json(self) -> dict[str, object]:
        """Return the move as stored in the change's detail."""
        return {"from": [self.from_year, self.from_category.value], "to": [self.to_year, self.to_category.value],
                "yen": self.yen}


def _category(value: object, where: str) -> Category:
    try:
        category = Category(str(value))
    except ValueError:
        category = Category.INDIRECT
    if category not in DIRECT:
        names = "・".join(LABELS[c][0] for c in DIRECT)
        raise ValidationFailed(f"{where}: 費目は直接経費（{names}）から選んでください / choose a direct-cost category "
                               "(equipment, travel, personnel, other); indirect costs follow the rate",
                               field="moves")
    return category


def _year(value: object, years: Sequence[int], where: str) -> int:
    try:
        year = int(str(value))
    except ValueError:
        year = -1
    if year not in years:
        raise ValidationFailed(f"{where}: 計画にない年度です / not a fiscal year of the plan", field="moves")
    return year


def parse_moves(raw: Sequence[Mapping[str, object]], *, years: Sequence[int]) -> list[Move]:
    """Return the moves of a budget change, checked against the plan's fiscal years (4xx with a reason)."""
    if not raw:
        raise ValidationFailed("移す金額を1件以上入力してください / give at least one move", field="moves")
    if len(raw) > MAX_MOVES:
        raise ValidationFailed(f"一度に{MAX_MOVES}件までです / at most {MAX_MOVES} moves at once", field="moves")
    moves: list[Move] = []
    for i, m in enumerate(raw):
        where = f"moves[{i}]"
        yen = m.get("yen")
        if isinstance(yen, bool) or not isinstance(yen, int) or yen <= 0:
            raise ValidationFailed(f"{where}: 金額は正の整数（円）です / yen must be a positive whole number",
                                   field="moves")
        if yen > MAX_MOVE_YEN:
            raise ValidationFailed(f"{where}: 金額が大きすぎます（上限 {format_exact(MAX_MOVE_YEN)}） / yen is too "
                                   f"large (at most {format_exact(MAX_MOVE_YEN)})", field="moves")
        move = Move(_year(m.get("from_year"), years, where), _category(m.get("from_category"), where),
                    _year(m.get("to_year"), years, where), _category(m.get("to_category"), where), yen)
        if (move.from_year, move.from_category) == (move.to_year, move.to_category):
            raise ValidationFailed(f"{where}: 移動元と移動先が同じです / from and to are the same cell", field="moves")
        if any((m.from_year, m.from_category, m.to_year, m.to_category)
               == (move.to_year, move.to_category, move.from_year, move.from_category) for m in moves):
            raise ValidationFailed(f"{where}: 同じ費目の間で双方向に移すことはできません / money may not move both ways "
                                   "between the same two cells in one change", field="moves")
        moves.append(move)
    return moves


def apply_moves(cells: Mapping[tuple[int, Category], int], moves: Sequence[Move]) -> dict[tuple[int, Category], int]:
    """Return the direct-cost cells after the moves (4xx when any cell gives more than it holds).

    Each cell is checked on what it holds before the change, not on the net result: money moved into a cell by
    the same change cannot be moved on, so moves that cancel out cannot carry absurd amounts through.
    """
    out = dict(cells)
    given: dict[tuple[int, Category], int] = {}
    for move in moves:
        source = (move.from_year, move.from_category)
        given[source] = given.get(source, 0) + move.yen
        out[source] = out.get(source, 0) - move.yen
        out[(move.to_year, move.to_category)] = out.get((move.to_year, move.to_category), 0) + move.yen
    short = [key for key, yen in given.items() if yen > cells.get(key, 0)]
    if short:
        year, category = short[0]
        raise ValidationFailed(f"{fiscal_year_label(year)}の{LABELS[category][0]}が不足します / the "
                               f"{fiscal_year_label(year, 'en')} {LABELS[category][1]} budget would go below zero",
                               field="moves")
    return out


def moved_within_years(moves: Sequence[Move]) -> dict[int, int]:
    """Return the yen moved inside each fiscal year (from and to the same year) by ``moves``."""
    out: dict[int, int] = {}
    for move in moves:
        if move.from_year == move.to_year:
            out[move.from_year] = out.get(move.from_year, 0) + move.yen
    return out


def _within_year(cells: Mapping[tuple[int, Category], int], moves: Sequence[Move],
                 earlier: Mapping[int, int]) -> list[tuple[int, int]]:
    """Return ``(moved, direct total)`` for each fiscal year money leaves (moves inside that year only), counting
    what ``earlier`` changes already moved inside the year."""
    out = []
    inside = moved_within_years(moves)
    for year in sorted({m.from_year for m in moves}):
        direct = sum(yen for (fy, _), yen in cells.items() if fy == year)
        out.append((inside.get(year, 0) + (earlier.get(year, 0) if year in inside else 0), direct))
    return out


def moved_share_percent(cells: Mapping[tuple[int, Category], int], moves: Sequence[Move]) -> float:
    """Return the largest share (%) of a year's direct-cost total moved within that year, for display (0: none)."""
    shares = [100.0 * moved / direct if direct else 100.0 for moved, direct in _within_year(cells, moves, {})]
    return round(max([0.0, *shares]), 2)


def needs_approval(cells: Mapping[tuple[int, Category], int], moves: Sequence[Move],
                   earlier: Mapping[int, int] | None = None) -> bool:
    """A budget change needs approval above the share of a year's direct costs, or when it crosses fiscal years.

    ``earlier`` is the yen already moved inside each year by changes applied on notice (届出): the share is
    cumulative over the year, so a large move split into several small notices still needs approval. Decided in
    whole yen, never on the rounded percentage (¥1 over the line is over it).
    """
    over = any(moved * 100 > direct * APPROVAL_SHARE_PERCENT
               for moved, direct in _within_year(cells, moves, earlier or {}))
    return over or any(m.from_year != m.to_year for m in moves)


def year_totals_after(plan: Mapping[int, int], moves: Sequence[Move]) -> dict[int, int]:
    """Return each fiscal year's plan total after the moves (indirect costs are never moved, so they stay)."""
    out = dict(plan)
    for move in moves:
        out[move.from_year] = out.get(move.from_year, 0) - move.yen
        out[move.to_year] = out.get(move.to_year, 0) + move.yen
    return out


def commitment_targets(old_plan: Mapping[int, int], new_plan: Mapping[int, int],
                       committed: Mapping[int, int]) -> dict[int, int]:
    """Return what the fund ledger should have committed per fiscal year once the plan's year totals change.

    A year the agency had committed in full stays committed in full (its commitment follows the new total, so
    money moved into it is committed from the fund and money moved out is released); a year committed in part keeps
    what was committed, cut to its new total, because the agency has not yet decided the rest. The ledger never
    holds more for a year than the plan gives it (the rule ``service.commit_funds`` keeps).
    """
    out = {}
    for year in sorted(set(new_plan) | set(committed)):
        old, new, held = old_plan.get(year, 0), new_plan.get(year, 0), committed.get(year, 0)
        out[year] = new if old > 0 and held >= old else min(held, new)
    return out
