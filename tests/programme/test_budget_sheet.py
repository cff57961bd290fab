"""The budget sheet (F6): amounts in 千円 kept in whole yen, indirect costs at the call's rate, the Excel
round trip (Hypothesis: export then import gives the same sheet, yen for yen), and migration 0017
moving the one-figure-per-year plans to その他 with no yen lost."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from banso.db.engine import make_engine
from banso.kit.errors import ValidationFailed
from banso.migrations import migrate
from banso.programme import budget, budget_excel, rules
from banso.sealed import store as sealed
from tests.db.test_sealed_migration import _insert


@pytest.mark.parametrize(("value", "yen"), [
    (1, 1000), ("1,234", 1_234_000), ("1234.5", 1_234_500), ("0.001", 1), (Decimal("12.345"), 12_345),
    ("", 0), (None, 0), ("１２", 12_000), ("10,000,000", 10_000_000_000),
])
def test_thousand_yen_parses_to_whole_yen(value: object, yen: int) -> None:
    assert budget.parse_thousand_yen(value, field="x") == yen


@pytest.mark.parametrize("value", ["-1", "1.2345", "12万", "¥100", "1e3", True, 1.5, Decimal(-2), "10,00"])
def test_thousand_yen_refuses(value: object) -> None:
    with pytest.raises(ValidationFailed):
        budget.parse_thousand_yen(value, field="x")


def test_format_and_indirect_rounding() -> None:
    assert budget.format_thousand_yen(1_234_500) == "1,234.5"
    assert budget.format_thousand_yen(5_000) == "5"
    sheet = budget.parse_sheet({"FY2026": {"equipment": "0.003"}}, rate_percent=30)
    assert sheet.indirect(2026) == 0  # 30 % of ¥3 is ¥0.9: rounded down to whole yen
    sheet = budget.parse_sheet({2026: {"equipment": 1000, "travel": 10}}, rate_percent=30)
    assert sheet.plan() == {2026: 1_313_000} and sheet.category_total(budget.Category.INDIRECT) == 303_000


def test_the_f4_rule_and_the_cap_apply_to_the_yearly_totals() -> None:
    # ¥800m direct + 30 % = ¥1.04bn in one year: the F4 declaration is needed (the direct costs alone are below)
    sheet = budget.parse_sheet({2026: {"equipment": 800_000}}, rate_percent=30)
    assert rules.declaration_required(sheet.plan())
    with pytest.raises(ValidationFailed, match="cap"):
        rules.check_budget_plan(sheet.plan(), first_fiscal_year=2026, period_years=1, cap_yen=1_000_000_000)


def test_team_rules() -> None:
    assert budget.check_researcher_number(" 12345678 ", where="t") == "12345678"
    assert budget.check_effort(100, where="t") == 100
    for bad in ("1234567", "123456789", "1234567a"):
        with pytest.raises(ValidationFailed, match="8"):
            budget.check_researcher_number(bad, where="t")
    with pytest.raises(ValidationFailed):
        budget.check_role("lead", where="t")  # the proposer alone is 研究代表者
    assert budget.receipt_number(fiscal_year=2027, proposal_id=123) == "K-2027-000123"


_yen = st.integers(min_value=0, max_value=10**12)  # up to ¥1tn a cell: any whole yen, 3 decimals in 千円


@st.composite
def sheets(draw: st.DrawFn) -> budget.BudgetSheet:
    first = draw(st.integers(min_value=2020, max_value=2090))
    years = range(first, first + draw(st.integers(min_value=1, max_value=5)))
    direct = {fy: {c: draw(_yen) for c in budget.DIRECT} for fy in years}
    if not any(v for row in direct.values() for v in row.values()):
        direct[first][budget.Category.OTHER] = 1
    return budget.BudgetSheet(direct=direct, rate_percent=draw(st.integers(min_value=0, max_value=100)))


@settings(max_examples=60, deadline=None)
@given(sheet=sheets())
def test_excel_round_trip_is_exact(sheet: budget.BudgetSheet) -> None:
    data = budget_excel.write_sheet(sheet, title="=HYPERLINK(\"http://x\")", receipt_number="K-2027-000001")
    back = budget.parse_sheet(budget_excel.read_sheet(data), rate_percent=sheet.rate_percent)
    assert {fy: {c: v for c, v in row.items() if v} for fy, row in back.direct.items()} == \
        {fy: {c: v for c, v in row.items() if v} for fy, row in sheet.direct.items()}
    assert back.cells() == sheet.cells() and back.plan() == sheet.plan()


def test_migration_0017_moves_yearly_figures_to_other(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    migrate.upgrade(engine, "0014", attributes={"sealed_deps": sealed.fake_deps()})
    with engine.begin() as conn:
        org = _insert(conn, "organizations", kind="university")
        user = _insert(conn, "users", organization_id=org, email="a@example.jp", is_active=True)
        agency = _insert(conn, "programme_agencies", code="JST")
        call = _insert(conn, "programme_calls", agency_id=agency, officer_id=user, code="C1")
        proposal = _insert(conn, "programme_proposals", call_id=call, proposer_id=user, organization_id=org,
                           state="submitted", total_yen=1_000_000_123)
        for fy, amount in ((2026, 400_000_123), (2027, 600_000_000)):
            _insert(conn, "programme_budget_lines", proposal_id=proposal, fiscal_year=fy, amount=amount)
    migrate.upgrade(engine, "head", attributes={"sealed_deps": sealed.fake_deps()})
    with engine.connect() as conn:
        items = conn.execute(sa.text("SELECT fiscal_year, category, amount FROM programme_budget_items "
                                     "ORDER BY fiscal_year")).all()
        rate = conn.execute(sa.text("SELECT indirect_rate_percent FROM programme_calls")).scalar_one()
    assert [tuple(i) for i in items] == [(2026, "other", 400_000_123), (2027, "other", 600_000_000)]
    assert rate == 30
    assert budget.format_thousand_yen(400_000_123) == "400,000.123"  # shown in 千円 without losing a yen
    engine.dispose()
