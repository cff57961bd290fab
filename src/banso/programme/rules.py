"""Pure programme rules: yen amounts, fiscal years, budget plans, declarations, ledger balance, scores.

No session, no clock, no environment: every input is passed in. Violations raise
``ValidationFailed`` or ``Conflict`` with a message that names the bad value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from banso.kit import japanese
from banso.kit.clock import as_utc, to_jst
from banso.kit.errors import Conflict, ValidationFailed

# F4: a plan reaching ¥1bn (10億円) in any fiscal year needs the core-technology and
# leak-prevention declaration.
DECLARATION_THRESHOLD_YEN = 1_000_000_000
# The designated fund is about ¥500bn; nothing in one entry can sensibly exceed ¥10tn.
MAX_YEN = 10_000_000_000_000
DECLARATION_REVIEW_MONTHS = 12
SCORE_MIN, SCORE_MAX = 1, 5

DEFAULT_RUBRIC: tuple[dict[str, Any], ...] = (
    {"key": "significance", "label_ja": "経済安全保障上の意義", "label_en": "Significance for economic security",
     "weight": 3},
    {"key": "innovation", "label_ja": "技術の先進性・独自性", "label_en": "Technical novelty", "weight": 3},
    {"key": "feasibility", "label_ja": "実施体制・計画の妥当性", "label_en": "Team and plan feasibility", "weight": 2},
    {"key": "implementation", "label_ja": "社会実装への道筋", "label_en": "Path to social implementation",
     "weight": 2},
)


# ---------------------------------------------------------------------------------------------
# Money


def parse_yen(value: object, *, field: str = "amount", allow_zero: bool = False) -> int:
    """Return ``value`` as a positive whole number of yen, or raise naming the field.

    Accepts an ``int`` or what staff type (``kit.japanese.parse_yen_text``): ``30億円``, ``3億5000万円``,
    ``250,000千円``, ``1.5億円``, ``¥1,000,000``, ``1000 JPY``, full-width digits alike. Refuses floats
    (even ``100.0``: amounts are integer yen), fractions of a yen, negatives, booleans and other currencies.
    """
    if isinstance(value, bool):
        raise ValidationFailed(japanese.not_an_amount_message(field, value), field=field)
    if isinstance(value, int):
        amount = value
    elif isinstance(value, float | Decimal):
        raise ValidationFailed(japanese.fraction_message(field, value), field=field)
    elif isinstance(value, str):
        amount = japanese.parse_yen_text(value, field=field)
    else:
        raise ValidationFailed(japanese.not_an_amount_message(field, value), field=field)
    if amount < 0:
        raise ValidationFailed(japanese.negative_message(field), field=field)
    if amount == 0 and not allow_zero:
        raise ValidationFailed(f"{field} は 0 円より大きい金額で入力してください / {field}: amount must be more than ¥0",
                               field=field)
    if amount > MAX_YEN:
        raise ValidationFailed(f"{field} の金額 {format_yen(amount)} は大きすぎます（上限 {japanese.format_oku(MAX_YEN)}） / "
                               f"{field}: amount {amount} is implausibly large", field=field)
    return amount


def format_yen(amount: int) -> str:
    """Return ``amount`` as the exact ``¥1,234,567`` (one format: ``kit.japanese.format_exact``)."""
    return japanese.format_exact(amount)


# ---------------------------------------------------------------------------------------------
# Fiscal years (年度: April–March)


def fiscal_year_of(day: date) -> int:
    """Return the Japanese fiscal year of ``day`` (FY2025 = 2025-04-01 .. 2026-03-31)."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_at(moment: datetime) -> int:
    """Return the fiscal year of an instant, reckoned in JST."""
    return fiscal_year_of(to_jst(moment).date())


def fiscal_year_bounds(fiscal_year: int) -> tuple[date, date]:
    """Return the first and last day of ``fiscal_year``."""
    return date(fiscal_year, 4, 1), date(fiscal_year + 1, 3, 31)


def check_fiscal_year(value: object, *, field: str = "fiscal_year") -> int:
    """Return ``value`` as a plausible fiscal year (2000–2100) or raise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 2000 <= value <= 2100:
        raise ValidationFailed(f"{field}: 年度として読めません（{value!r}） / {field}: not a fiscal year: {value!r}", field=field)
    return value


def check_date_in_fiscal_year(day: date, fiscal_year: int, *, field: str = "value_date") -> None:
    """Raise unless ``day`` lies within ``fiscal_year`` (April–March)."""
    first, last = fiscal_year_bounds(fiscal_year)
    if not first <= day <= last:
        raise ValidationFailed(
            f"{field}: {day.isoformat()} は年度外の日付です（{fiscal_year}年度は {first.isoformat()}〜{last.isoformat()}） / "
            f"{field}: {day.isoformat()} is outside FY{fiscal_year} ({first.isoformat()}..{last.isoformat()})", field=field)


# ---------------------------------------------------------------------------------------------
# Calls and proposals


def check_call_window(opens_at: datetime, closes_at: datetime) -> None:
    """Raise unless the call opens before it closes."""
    if closes_at <= opens_at:
        raise ValidationFailed("締切は受付開始より後にしてください / closes_at must be after opens_at", field="closes_at")


def check_submission_time(*, opens_at: datetime, closes_at: datetime, now: datetime) -> None:
    """Raise Conflict unless ``now`` lies within the call window (late submissions refused)."""
    if now < opens_at:
        raise Conflict(f"受付開始前です（開始 {to_jst(opens_at).isoformat()} JST） / the call opens at {to_jst(opens_at).isoformat()} (JST)", field="call_id")
    if now > closes_at:
        raise Conflict(f"締切を過ぎています（締切 {to_jst(closes_at).isoformat()} JST） / "
                       f"the call closed at {to_jst(closes_at).isoformat()} (JST); late submissions are refused", field="call_id")


def call_window(*, state: str, opens_at: datetime, closes_at: datetime, now: datetime) -> str:
    """Return where ``now`` lies in a call's window: its state while not published, else upcoming, open or closed."""
    if state != "published":
        return state
    if now < as_utc(opens_at):
        return "upcoming"
    return "open" if now <= as_utc(closes_at) else "closed"


def plan_years(first_fiscal_year: int, period_years: int) -> range:
    """Return the fiscal years a call's projects may plan for."""
    return range(first_fiscal_year, first_fiscal_year + period_years)


def parse_budget_plan(raw: Mapping[Any, Any]) -> dict[int, int]:
    """Parse ``{fiscal_year: amount}`` (keys may be text such as ``"2026"`` or ``"FY2026"``)."""
    if not raw:
        raise ValidationFailed("年度別経費計画が空です / budget plan must name at least one fiscal year", field="budget")
    plan: dict[int, int] = {}
    for key, value in raw.items():
        text = str(key).strip().upper().removeprefix("FY")
        if not text.isdigit():
            raise ValidationFailed(f"経費計画: {key!r} は年度ではありません / budget: {key!r} is not a fiscal year", field="budget")
        fy = check_fiscal_year(int(text), field="budget")
        if fy in plan:
            raise ValidationFailed(f"経費計画: {fy}年度が重複しています / budget: FY{fy} appears twice", field="budget")
        plan[fy] = parse_yen(value, field=f"budget.FY{fy}", allow_zero=True)
    if sum(plan.values()) == 0:
        raise ValidationFailed("経費計画の合計が0円です / budget plan totals ¥0", field="budget")
    return plan


def check_budget_plan(plan: Mapping[int, int], *, first_fiscal_year: int, period_years: int, cap_yen: int) -> int:
    """Check the plan against the call's period and cap; return the total."""
    allowed = plan_years(first_fiscal_year, period_years)
    outside = sorted(fy for fy in plan if fy not in allowed)
    if outside:
        raise ValidationFailed(
            f"経費計画: 研究開発期間外の年度です（期間は{allowed[0]}〜{allowed[-1]}年度） / "
            f"budget: FY{', FY'.join(map(str, outside))} outside the call period FY{allowed[0]}–FY{allowed[-1]}", field="budget")
    total = sum(plan.values())
    if total > cap_yen:
        raise ValidationFailed(f"上限額を超えています（経費の合計 {format_yen(total)}、公募の上限額 {format_yen(cap_yen)}） / "
                               f"budget total {format_yen(total)} exceeds the call's cap {format_yen(cap_yen)}", field="budget")
    return total


def declaration_required(plan: Mapping[int, int]) -> bool:
    """Return True when any fiscal year reaches ¥1bn (F4)."""
    return any(amount >= DECLARATION_THRESHOLD_YEN for amount in plan.values())


def check_declaration(plan: Mapping[int, int], core_technologies: str | None, leak_prevention: str | None) -> None:
    """Raise when the plan needs the F4 declaration and it is missing."""
    if not declaration_required(plan):
        return
    if not (core_technologies or "").strip():
        raise ValidationFailed("年間10億円以上の計画には重要技術の申告が必要です / "
                               "a plan of ¥1bn or more in a year must declare its core technologies", field="core_technologies")
    if not (leak_prevention or "").strip():
        raise ValidationFailed("年間10億円以上の計画には技術流出防止措置の申告が必要です / "
                               "a plan of ¥1bn or more in a year must declare its leak-prevention measures", field="leak_prevention")


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by ``months`` (clamped to the month's end)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for candidate in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------
# Review


def check_rubric(rubric: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return a normalised rubric (criteria with key, labels and a positive integer weight)."""
    if not rubric:
        raise ValidationFailed("評価基準を1つ以上指定してください / the rubric needs at least one criterion", field="rubric")
    seen: set[str] = set()
    result: list[dict[str, Any]] = []
    for item in rubric:
        key = str(item.get("key", "")).strip()
        weight = item.get("weight", 1)
        if not key or key in seen:
            raise ValidationFailed(f"評価基準: キー {key!r} が空か重複しています / rubric: criterion key {key!r} is empty or repeated", field="rubric")
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            raise ValidationFailed(f"評価基準: {key!r} の重みは正の整数です / rubric: weight of {key!r} must be a positive integer", field="rubric")
        seen.add(key)
        result.append({"key": key, "label_ja": str(item.get("label_ja", key)),
                       "label_en": str(item.get("label_en", key)), "weight": weight})
    return result


def weighted_score(rubric: Sequence[Mapping[str, Any]], scores: Mapping[str, object]) -> float:
    """Check one reviewer's scores against the rubric and return the weighted mean (1–5)."""
    keys = [str(c["key"]) for c in rubric]
    missing = [k for k in keys if k not in scores]
    extra = sorted(set(scores) - set(keys))
    if missing or extra:
        raise ValidationFailed(f"評価基準のすべての項目に、過不足なく点数を付けてください（不足 {missing}、不明 {extra}） / "
            f"scores must cover exactly the rubric criteria (missing {missing}, unknown {extra})",
                               field="scores")
    total_weight = 0
    acc = 0
    for criterion in rubric:
        value = scores[str(criterion["key"])]
        if isinstance(value, bool) or not isinstance(value, int) or not SCORE_MIN <= value <= SCORE_MAX:
            raise ValidationFailed(f"点数 {criterion['key']!r} は {SCORE_MIN}〜{SCORE_MAX} の整数です / "
                f"score {criterion['key']!r} must be an integer {SCORE_MIN}–{SCORE_MAX}",
                                   field="scores")
        acc += value * int(criterion["weight"])
        total_weight += int(criterion["weight"])
    return round(acc / total_weight, 3)


# ---------------------------------------------------------------------------------------------
# Ledger (double entry)


@dataclass(frozen=True)
class Leg:
    """One posting to be made: account key and signed amount (+ debit, − credit)."""

    account: str
    amount: int


def account_key(agency: str, kind: str, project_id: int | None = None) -> str:
    """Return the stable key of a ledger account."""
    return f"{agency}:{kind}:{project_id if project_id is not None else '-'}"


def legs_for(kind: str, *, agency: str, amount: int, project_id: int | None) -> tuple[Leg, Leg]:
    """Return the (debit, credit) legs of a transaction of ``kind``; the credited account shrinks."""
    if amount <= 0:
        raise ValidationFailed("金額は0円より大きくしてください / amount must be more than ¥0", field="amount")
    src = account_key(agency, "source")
    avail = account_key(agency, "available")
    if kind == "tranche":
        return Leg(avail, amount), Leg(src, -amount)
    if project_id is None:
        raise ValidationFailed(f"{kind} にはプロジェクトの指定が必要です / a {kind} needs a project", field="project_id")
    committed = account_key(agency, "committed", project_id)
    disbursed = account_key(agency, "disbursed", project_id)
    table = {
        "commitment": (committed, avail),
        "release": (avail, committed),
        "disbursement": (disbursed, committed),
        "return": (avail, disbursed),
    }
    if kind not in table:
        raise ValidationFailed(f"取引の種類 {kind!r} は不明です / unknown transaction kind {kind!r}", field="kind")
    debit, credit = table[kind]
    return Leg(debit, amount), Leg(credit, -amount)


def may_go_negative(account: str) -> bool:
    """Only the source account carries a credit balance; every other account must stay ≥ 0."""
    return account.split(":")[1] == "source"


def check_not_overdrawn(account: str, balance: int, change: int) -> None:
    """Raise Conflict when ``change`` would take a non-source account below zero."""
    if may_go_negative(account) or balance + change >= 0:
        return
    kind = account.split(":")[1]
    raise Conflict(
        f"残高不足です（{account}: 残高 {format_yen(balance)}、必要額 {format_yen(-change)}） / "
        f"insufficient {kind} balance on {account}: {format_yen(balance)} available, {format_yen(-change)} asked", field="amount")


def balanced(amounts: Iterable[int]) -> bool:
    """Return True when postings sum to zero."""
    return sum(amounts) == 0


def acknowledgement_text(*, commission_title: str, commission_code: str, terms: str, signer_name: str,
                         organization_name: str, signed_on: str) -> str:
    """Generate a person's acknowledgement of a commission's confidentiality duty (Art. 64, issue 13)."""
    return (
        f"守秘義務確認書\n\n"
        f"委託調査「{commission_title}」（{commission_code}）\n\n"
        f"私は、上記委託に従事する者として名簿に記載されたことを承知し、次のとおり確認します。\n\n"
        f"1. 本委託に係る事務に関して知り得た秘密を漏らし、又は盗用しません。本委託に従事しなくなった後も同様とします"
        f"（経済施策を一体的に講ずることによる安全保障の確保の推進に関する法律 第64条）。\n"
        f"2. 委託契約に定める次の守秘義務に従います。\n\n{terms}\n\n"
        f"確認日: {signed_on}\n"
        f"所属: {organization_name}\n"
        f"氏名: {signer_name}\n\n"
        f"(English summary) As a person named as engaged in this commission, I acknowledge that I must not "
        f"disclose or misuse secrets learned in its affairs, also after my engagement ends (Economic Security "
        f"Promotion Act Art. 64), and that I follow the confidentiality terms above.\n"
    )
