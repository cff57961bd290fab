"""Japanese conventions (issue 14): yen text, 千円/億円 formats, 和暦, fiscal-year labels, the UI's date formats."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banso.kit import japanese as jp
from banso.kit.errors import ValidationFailed

MAX_YEN = 10_000_000_000_000
amounts = st.integers(min_value=0, max_value=MAX_YEN)


@pytest.mark.parametrize(("text", "expected"), [
    ("30億円", 3_000_000_000), ("3億5000万円", 350_000_000), ("3億5,000万円", 350_000_000),
    ("250,000千円", 250_000_000), ("1.5億円", 150_000_000), ("３０億円", 3_000_000_000),
    ("３億５０００万円", 350_000_000), ("¥1,000,000", 1_000_000), ("￥１，０００，０００", 1_000_000),
    ("1000円", 1000), ("1000 JPY", 1000), ("JPY 1000", 1000), ("1兆2,000億円", 1_200_000_000_000),
    ("3億5000万1234円", 350_001_234), ("5千万円", 50_000_000), ("3億2千万円", 320_000_000), ("1万2千円", 12_000), (" 30 億 円 ", 3_000_000_000), ("0.5万円", 5000), ("12", 12),
])
def test_yen_text_is_read_exactly(text: str, expected: int) -> None:
    assert jp.parse_yen_text(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "100 USD", "$100", "€10", "1,0000", "5万3億", "1.5千万", "5千千万", "3億0.5万", "1.2.3億",
                                  "億円", "30億円円", "1e9", "3億億", "10.000,5", "１２３" * 40,
                                  "٣٠億円", "३०००円", "๓๐万円"])  # other scripts' digits (O1): no staff types them
def test_other_text_is_refused_in_japanese_then_english(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        jp.parse_yen_text(text, field="金額")
    message = refused.value.message
    assert refused.value.field == "金額"
    assert message.index("金額として読めません") < message.index("not an amount of yen")


@pytest.mark.parametrize("text", ["12.5", "1.234567891億", "0.0001千円",
                                  # past Decimal's default 28 digits these were rounded to whole yen (O1)
                                  "1.99999999999999999999999999999億", "9999999999999.9999999999999999",
                                  "1.000000000000000000000000000001億円"])
def test_fractions_of_a_yen_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed, match="円の整数"):
        jp.parse_yen_text(text)


@pytest.mark.parametrize("text", ["-5", "−5億円", "▲100万円", "－３０億円"])
def test_negative_amounts_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed, match="負の金額"):
        jp.parse_yen_text(text)


def test_exact_decimal_arithmetic() -> None:
    # 0.1 + 0.2 style float error would make 1.1億 = 110,000,000.00000001: Decimal keeps it exact.
    assert jp.parse_yen_text("1.1億円") == 110_000_000
    assert jp.parse_yen_text("9999999.99999999億円") == 999_999_999_999_999
    assert jp.parse_yen_text("1.23456789億円") == 123_456_789


@given(amounts)
def test_oku_round_trips(amount: int) -> None:
    assert jp.parse_yen_text(jp.format_oku(amount)) == amount


@given(amounts)
def test_exact_round_trips(amount: int) -> None:
    assert jp.parse_yen_text(jp.format_exact(amount)) == amount


@given(st.integers(min_value=0, max_value=MAX_YEN // 1000))
def test_sen_round_trips_for_whole_thousands(thousands: int) -> None:
    assert jp.parse_yen_text(jp.format_sen(thousands * 1000)) == thousands * 1000


@given(amounts)
def test_sen_is_within_half_a_thousand(amount: int) -> None:
    assert abs(jp.parse_yen_text(jp.format_sen(amount)) - amount) <= 500


@given(amounts)
def test_full_width_forms_read_the_same(amount: int) -> None:
    wide = jp.format_oku(amount).translate(str.maketrans("0123456789,", "０１２３４５６７８９，"))
    assert jp.parse_yen_text(wide) == amount


def test_formats() -> None:
    assert jp.format_sen(250_000_000_000) == "250,000,000千円"
    assert jp.format_sen(1_499) == "1千円" and jp.format_sen(1_500) == "2千円"
    assert jp.format_oku(3_000_000_000) == "30億円"
    assert jp.format_oku(350_000_000) == "3億5,000万円"
    assert jp.format_oku(250_000_000_000) == "2,500億円"
    assert jp.format_oku(1_200_000_000_000) == "1兆2,000億円"
    assert jp.format_oku(0) == "0円"
    assert jp.format_exact(250_000_000_000) == "¥250,000,000,000"


@pytest.mark.parametrize(("day", "expected"), [
    (date(2027, 4, 1), "令和9年4月1日"), (date(2019, 5, 1), "令和元年5月1日"), (date(2019, 4, 30), "平成31年4月30日"),
    (date(1989, 1, 8), "平成元年1月8日"), (date(1989, 1, 7), "昭和64年1月7日"), (date(1926, 12, 25), "昭和元年12月25日"),
    (date(1912, 7, 30), "大正元年7月30日"), (date(1900, 1, 1), "明治33年1月1日"),
])
def test_wareki(day: date, expected: str) -> None:
    assert jp.wareki(day) == expected


def test_official_date_shows_the_western_year_first() -> None:
    assert jp.official_date(date(2027, 4, 1)) == "2027年4月1日（令和9年4月1日）"
    assert jp.official_date(date(2027, 4, 1), "en") == "1 Apr 2027 (Reiwa 9)"
    # a date-time is dated on its JST day: 2027-03-31 15:00 UTC is already 1 April in Japan
    assert jp.official_date(datetime(2027, 3, 31, 15, 0, tzinfo=UTC)) == "2027年4月1日（令和9年4月1日）"


@given(st.dates(min_value=date(1873, 1, 1), max_value=date(2199, 12, 31)))
def test_era_years_count_from_the_era(day: date) -> None:
    era, year = jp.era_of(day)
    assert year >= 1 and day >= era.first_day
    assert day.year == era.year_one + year - 1


@pytest.mark.parametrize(("fiscal_year", "expected"), [
    (2027, "2027年度（令和9年度）"), (2019, "2019年度（令和元年度）"), (2018, "2018年度（平成30年度）"),
    (1988, "1988年度（昭和63年度）"), (1989, "1989年度（平成元年度）"),
])
def test_fiscal_year_label(fiscal_year: int, expected: str) -> None:
    assert jp.fiscal_year_label(fiscal_year) == expected
    assert jp.fiscal_year_label(fiscal_year, "en") == f"FY{fiscal_year}"


def test_one_date_time_format_in_jst_to_the_minute() -> None:
    moment = datetime(2026, 12, 6, 0, 30, 59, tzinfo=UTC)
    assert jp.format_minute(moment) == "2026年12月6日 09:30"
    assert jp.format_minute(moment, "en") == "6 Dec 2026, 09:30"
    assert jp.format_minute(moment.replace(tzinfo=None)) == "2026年12月6日 09:30"  # naive values are UTC
    assert jp.format_date(date(2026, 12, 6)) == "2026年12月6日"
    assert jp.format_date(datetime(2026, 12, 5, 15, 0, tzinfo=UTC), "en") == "6 Dec 2026"


def test_official_minute_for_notices() -> None:
    moment = datetime(2027, 3, 31, 15, 30, tzinfo=UTC)
    assert jp.official_minute(moment) == "2027年4月1日（令和9年4月1日） 00:30"
    assert jp.official_minute(moment, "en") == "1 Apr 2027, 00:30"


def test_long_figures_are_read_to_the_last_digit() -> None:
    assert jp.parse_yen_text("12345678901234567890123456789") == 12345678901234567890123456789
    assert jp.parse_yen_text("123456789012345678901234567.89億") == 12345678901234567890123456789 * 10**6
