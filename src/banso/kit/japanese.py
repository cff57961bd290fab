"""Japanese conventions in one home (issue 14): yen amounts, 和暦 (Japanese era years), fiscal years (年度),
and the one date and date-time format of the UI.

Amounts
    :func:`parse_yen_text` reads what staff type: ``30億円``, ``3億5000万円``, ``250,000千円``, ``1.5億円``,
    ``¥1,000,000``, ``1000 JPY`` and the same with full-width digits (``３０億円``). Arithmetic is exact
    (:class:`~decimal.Decimal` and ``int``, never ``float``): ``1.5億円`` is 150,000,000 yen and
    ``1.23456789億円`` (a fraction of a yen) is refused. :func:`format_sen` writes table figures in 千円,
    :func:`format_oku` totals in 億円 (exact, with 万 and 円 parts when needed), :func:`format_exact`
    the exact ``¥1,234,567`` that exports and ``title`` attributes keep. Each format parses back to the
    amount it shows.

Dates
    :func:`format_date` is the UI's one date format (``2027年4月1日`` / ``1 Apr 2027``),
    :func:`format_minute` its one date-time format (JST, minutes, no seconds: ``2027年4月1日 09:30``);
    the page says once that times are JST. :func:`wareki` gives the era date (``令和9年4月1日``, 元年 for the
    first year) and :func:`official_date` the form official documents use, ``2027年4月1日（令和9年4月1日）``.
    :func:`fiscal_year_label` writes ``2027年度（令和9年度）``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, Inexact, InvalidOperation, localcontext

from banso.kit.clock import JST, as_utc
from banso.kit.errors import ValidationFailed

# ---------------------------------------------------------------------------------------------
# Yen

# Units staff write after a number, largest first; each may appear once, in this order.
_UNITS: tuple[tuple[str, int], ...] = (("兆", 10**12), ("億", 10**8), ("万", 10**4), ("千", 10**3))
_NUMBER = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?"
_GROUP = re.compile(rf"({_NUMBER})(兆|億|万|千)?")
# 5千万 (5000万) and 3億2千万: a whole number of 千 just before a larger unit is read as thousands of it.
_THOUSANDS_OF = re.compile(r"(?<![0-9.,])([0-9]{1,3})千(?=[万億兆])")
# Longer texts are not amounts; the bound also keeps Decimal work small for hostile input.
MAX_AMOUNT_TEXT = 40
EXAMPLES = "30億円、3億5000万円、250,000千円、1,000,000円"


def _shown(value: object) -> str:
    # The value is echoed in a "日本語 / English" message: its own " / " must not split the halves.
    return str(value)[:MAX_AMOUNT_TEXT].replace(" / ", "/")


def not_an_amount_message(label: str, value: object) -> str:
    """Return the bilingual message for text that is not an amount of yen."""
    shown = _shown(value)
    return (f"{label} は金額として読めません（「{shown}」）。例: {EXAMPLES} / "
            f"{label} is not an amount of yen ('{shown}'); e.g. 30億円, 3億5000万円, 250,000千円 or 1,000,000")


def fraction_message(label: str, value: object) -> str:
    """Return the bilingual message for an amount with a fraction of a yen (or a float)."""
    shown = _shown(value)
    return (f"{label} は円の整数で入力してください（「{shown}」、1円未満の端数は使えません） / "
            f"{label}: not an amount of yen: amounts are whole yen ('{shown}')")


def negative_message(label: str) -> str:
    """Return the bilingual message for a negative amount."""
    return f"{label} に負の金額は使えません / {label} must not be negative"


def normalise_amount_text(value: str) -> str:
    """Return ``value`` with full-width forms folded (NFKC), spaces removed and the yen sign made one."""
    # NFKC turns ３０ into 30, ，into , and ￥ into ¥; spaces (ASCII and ideographic) carry no meaning.
    text = unicodedata.normalize("NFKC", value)
    return re.sub(r"\s+", "", text)


def parse_yen_text(value: str, *, field: str = "amount") -> int:
    """Return the whole number of yen written in ``value``, or refuse it (422 naming ``field``).

    Accepts an optional ``¥``/``JPY`` prefix, then either plain digits (commas in groups of three) or
    groups with 兆/億/万/千 in descending order (``3億5000万``, ``3億5千万``, ``250,000千``, ``1.5億``), then an optional
    ``円`` or ``JPY``. Negative amounts and fractions of a yen are refused with their own message.
    """
    if len(value) > MAX_AMOUNT_TEXT * 2:
        raise ValidationFailed(not_an_amount_message(field, value), field=field)
    text = normalise_amount_text(value)
    if text.startswith(("-", "−", "▲", "△")):
        raise ValidationFailed(negative_message(field), field=field)
    body = _THOUSANDS_OF.sub(lambda m: f"{int(m.group(1)) * 1000}", _strip_affixes(text))
    exact = _parse_groups(body) if body and len(body) <= MAX_AMOUNT_TEXT else None
    if exact is None:
        raise ValidationFailed(not_an_amount_message(field, value), field=field)
    if exact != exact.to_integral_value():
        raise ValidationFailed(fraction_message(field, value), field=field)
    return int(exact)


def _strip_affixes(text: str) -> str:
    upper = text.upper()
    if upper.startswith("JPY"):
        text = text[3:]
    elif text.startswith("¥"):
        text = text[1:]
    if text.upper().endswith("JPY"):
        return text[:-3]
    return text.removesuffix("円")


def _parse_groups(body: str) -> Decimal | None:
    """Return the exact amount of ``3億5000万`` style text, or None when it is not one."""
    # Decimal's default context keeps 28 digits and rounds silently: 1.99999999999999999999999999999億
    # became 200,000,000. The text is at most MAX_AMOUNT_TEXT characters, so 100 digits hold it
    # exactly; Inexact is trapped all the same, so a rounding could never pass unnoticed.
    with localcontext() as exact:
        exact.prec = 100
        exact.traps[Inexact] = True
        try:
            return _sum_groups(body)
        except Inexact:  # pragma: no cover - 100 digits hold every admitted text
            return None


def _sum_groups(body: str) -> Decimal | None:
    total = Decimal(0)
    position, last_rank = 0, -1
    while position < len(body):
        match = _GROUP.match(body, position)
        if match is None:
            return None
        number, unit = match.group(1), match.group(2)
        rank = next(i for i, (name, _) in enumerate(_UNITS) if name == unit) if unit else len(_UNITS)
        # Units descend and appear once; a bare number comes last (3億5000万1234), and a decimal
        # point belongs only to the leading figure (1.5億, not 3億0.5万).
        if rank <= last_rank or ("." in number and position > 0):
            return None
        try:
            figure = Decimal(number.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits only digits, commas and one point
            return None
        total += figure * (_UNITS[rank][1] if unit else 1)
        position, last_rank = match.end(), rank
    return total


def format_exact(amount: int) -> str:
    """Return ``amount`` as the exact ``¥1,234,567`` (exports, ``title`` attributes, messages)."""
    return f"¥{amount:,}" if amount >= 0 else f"-¥{-amount:,}"


def format_sen(amount: int) -> str:
    """Return ``amount`` in thousands of yen for tables, ``250,000千円`` (half a thousand rounds up).

    Amounts that are not whole thousands lose their last three digits here; pages put the exact
    figure beside it (``title``) and exports keep exact yen.
    """
    sign = "-" if amount < 0 else ""
    thousands, rest = divmod(abs(amount), 1000)
    return f"{sign}{thousands + (1 if rest >= 500 else 0):,}千円"


def format_oku(amount: int) -> str:
    """Return ``amount`` exactly in 兆/億/万 units for totals: ``30億円``, ``3億5,000万円``, ``1兆2,000億円``."""
    if amount == 0:
        return "0円"
    sign = "-" if amount < 0 else ""
    rest, parts = abs(amount), []
    for name, size in _UNITS[:3]:
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count:,}{name}")
    if rest:
        parts.append(f"{rest:,}")
    return f"{sign}{''.join(parts)}円"


# ---------------------------------------------------------------------------------------------
# 和暦 (Japanese eras)


@dataclass(frozen=True)
class Era:
    """A Japanese era (元号): its names, its first day and the Gregorian year that is its first year."""

    name_ja: str
    name_en: str
    first_day: date
    year_one: int


# Neither Babel (CLDR data there covers only the Gregorian calendar's eras) nor the standard library has
# the Japanese eras, so the table lives here. It changes only when an era does (the next by cabinet
# order); dates are those of the era laws. Meiji counts from 1868, but the Gregorian calendar was adopted
# on 明治6年1月1日 = 1873-01-01, so no earlier Gregorian date has a Meiji equivalent.
ERAS: tuple[Era, ...] = (
    Era("令和", "Reiwa", date(2019, 5, 1), 2019),
    Era("平成", "Heisei", date(1989, 1, 8), 1989),
    Era("昭和", "Showa", date(1926, 12, 25), 1926),
    Era("大正", "Taisho", date(1912, 7, 30), 1912),
    Era("明治", "Meiji", date(1873, 1, 1), 1868),
)


def era_of(day: date) -> tuple[Era, int]:
    """Return the era of ``day`` and the year within it (1 = 元年); ValueError before 1873."""
    for era in ERAS:
        if day >= era.first_day:
            return era, day.year - era.year_one + 1
    raise ValueError(f"no Japanese era date for {day.isoformat()} (Gregorian calendar from 1873)")


def era_year_ja(era: Era, year: int) -> str:
    """Return ``令和9年`` or, for an era's first year, ``令和元年``."""
    return f"{era.name_ja}{'元' if year == 1 else year}年"


def wareki(day: date) -> str:
    """Return ``day`` as an era date, ``令和9年4月1日`` (``令和元年5月1日``, ``平成31年4月30日``)."""
    era, year = era_of(day)
    return f"{era_year_ja(era, year)}{day.month}月{day.day}日"


# ---------------------------------------------------------------------------------------------
# The UI's date and date-time formats, official dates, fiscal years

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def as_jst_date(value: date) -> date:
    """Return the JST calendar date of a date-time (a plain date is returned as it is)."""
    return as_utc(value).astimezone(JST).date() if isinstance(value, datetime) else value


def format_date(value: date, locale: str = "ja") -> str:
    """Return the UI's one date format: ``2027年4月1日`` (ja) or ``1 Apr 2027`` (en); date-times in JST."""
    day = as_jst_date(value)
    if locale == "ja":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def format_minute(value: datetime, locale: str = "ja") -> str:
    """Return the UI's one date-time format in JST to the minute: ``2027年4月1日 09:30`` / ``1 Apr 2027, 09:30``.

    No seconds and no zone name: the page states once that every time is JST.
    """
    moment = as_utc(value).astimezone(JST)
    separator = " " if locale == "ja" else ", "
    return f"{format_date(moment.date(), locale)}{separator}{moment:%H:%M}"


def official_date(value: date, locale: str = "ja") -> str:
    """Return the date official documents use: ``2027年4月1日（令和9年4月1日）`` (ja), ``1 Apr 2027 (Reiwa 9)`` (en)."""
    day = as_jst_date(value)
    try:
        era, year = era_of(day)
    except ValueError:
        return format_date(day, locale)
    if locale == "ja":
        return f"{format_date(day, locale)}（{wareki(day)}）"
    return f"{format_date(day, locale)} ({era.name_en} {year})"


def official_minute(value: datetime, locale: str = "ja") -> str:
    """Return a JST date-time for official notices: ``2027年4月1日（令和9年4月1日） 09:30`` / ``1 Apr 2027, 09:30``."""
    moment = as_utc(value).astimezone(JST)
    if locale != "ja":
        return format_minute(moment, locale)
    return f"{official_date(moment.date())} {moment:%H:%M}"


def fiscal_year_era(fiscal_year: int) -> tuple[Era, int]:
    """Return the era and era year that name ``fiscal_year`` (年度).

    A fiscal year takes the era in force at the end of its calendar year: FY2019 began under 平成 on
    1 April 2019 but is 令和元年度, and FY1988 (to March 1989, under 平成 by then) stayed 昭和63年度.
    """
    return era_of(date(fiscal_year, 12, 31))


def fiscal_year_label(fiscal_year: int, locale: str = "ja") -> str:
    """Return ``2027年度（令和9年度）`` (ja) or ``FY2027`` (en)."""
    if locale != "ja":
        return f"FY{fiscal_year}"
    era, year = fiscal_year_era(fiscal_year)
    return f"{fiscal_year}年度（{era.name_ja}{'元' if year == 1 else year}年度）"
