"""Pure rules of controlled information (I3–I6): proposal validation, unanimity, lapse and reminders."""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from banso.information.models import (
    Ballot,
    BallotKind,
    BallotState,
    Category,
    Handling,
    ItemState,
    Provenance,
    ReasonCode,
    ScopeKind,
    VoteDecision,
)
from banso.kit import unanimity
from banso.kit.errors import ValidationFailed
from banso.kit.text import clean_text

DEFAULT_VOTE_DAYS = 14
REMINDER_DAYS = (30, 7)  # I5: reminders 30 and 7 days before the end
MIN_VOTE_WINDOW = timedelta(hours=1)
MAX_VOTE_WINDOW = timedelta(days=90)

E = TypeVar("E", bound=StrEnum)


def parse_enum(enum: type[E], value: str, field: str) -> E:
    """Parse ``value`` into ``enum`` or raise a 422 naming the allowed values."""
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ValidationFailed(f"{field} の値 {value!r} は選択肢（{allowed}）にありません / unknown {field} {value!r}; use one of {allowed}", field=field) from None


def default_state_is_public(provenance: Provenance, is_result: bool) -> bool:
    """I1/I6: results researchers generate themselves fall outside the duty and are public by default."""
    return is_result or provenance == Provenance.RESEARCHER_GENERATED


@dataclass(frozen=True)
class ItemText:
    """An item's text as kept: title (one line), summary and body under the one text rule (O1)."""

    title: str
    summary: str
    body: str


def check_item_text(*, title: str, summary: str, body: str) -> ItemText:
    """Return an item's title, summary and body cleaned, or refuse them (422 naming the field)."""
    return ItemText(title=clean_text(title, "title", max_length=300, line=True),
                    summary=clean_text(summary, "summary", max_length=5000, required=False),
                    body=clean_text(body, "body", max_length=1_000_000, required=False))


def check_item_fields(*, category: str, provenance: str) -> tuple[Category, Provenance]:
    """Validate an item's category and provenance (raises 422 naming the field)."""
    return parse_enum(Category, category, "category"), parse_enum(Provenance, provenance, "provenance")


@dataclass(frozen=True)
class DesignationSpec:
    """A validated designation (or renewal) proposal (I3)."""

    reason: str
    scope_kind: ScopeKind
    user_ids: tuple[int, ...]
    organization_ids: tuple[int, ...]
    handling: tuple[Handling, ...]
    ends_at: datetime
    deadline: datetime
    range_note: str
    file_ids: tuple[int, ...]


def add_years(moment: datetime, years: int) -> datetime:
    """Return ``moment`` plus whole calendar years (29 February → 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def check_designation(
    *,
    now: datetime,
    reason: str,
    scope_kind: str,
    user_ids: Sequence[int],
    organization_ids: Sequence[int],
    handling: Sequence[str],
    ends_at: datetime,
    deadline: datetime | None,
    max_years: int,
    range_note: str = "",
    file_ids: Sequence[int] = (),
    period_from: datetime | None = None,
) -> DesignationSpec:
    """Validate a proposal: reason, least-privilege scope, a fixed end within the bylaws' maximum (I3).

    ``period_from`` is when the period is counted from: now for a new designation, the current end
    for a renewal (a renewal extends by at most the maximum again).
    """
    if not reason.strip():
        raise ValidationFailed("指定の理由を入力してください / a designation needs a reason", field="reason")
    reason = clean_text(reason, "reason", max_length=5000)
    range_note = clean_text(range_note, "range_note", max_length=5000, required=False)
    kind = parse_enum(ScopeKind, scope_kind, "scope_kind")
    users = tuple(dict.fromkeys(int(u) for u in user_ids))
    orgs = tuple(dict.fromkeys(int(o) for o in organization_ids))
    if kind == ScopeKind.NAMED and not users:
        raise ValidationFailed("範囲に含める人を1人以上指定してください / a named scope must name at least one person", field="user_ids")
    if kind == ScopeKind.ORGANISATIONS and not orgs:
        raise ValidationFailed("範囲に含める機関を1つ以上指定してください / an organisation scope must name at least one organisation",
                               field="organization_ids")
    if kind == ScopeKind.ALL and (users or orgs):
        raise ValidationFailed("範囲が「全構成員」のときは人や機関を指定できません / scope 'all' takes no names", field="scope_kind")
    parsed_handling = tuple(dict.fromkeys(parse_enum(Handling, h, "handling") for h in handling))
    if ends_at.tzinfo is None:
        raise ValidationFailed("制限の終了日時は時差（例 +09:00）付きの日時で指定してください / ends_at needs a time zone", field="ends_at")
    start = period_from or now
    if ends_at <= now:
        raise ValidationFailed("指定の終了日は将来の日時にしてください / the designation must end in the future", field="ends_at")
    limit = add_years(start, max_years)
    if ends_at > limit:
        raise ValidationFailed(
            f"指定の期間は{max_years}年以内です（終了は {limit.date().isoformat()} まで。無期限の指定はできません） / "
            f"the period may not exceed {max_years} years (latest end {limit.date().isoformat()}); no indefinite designation (I3)", field="ends_at")
    vote_deadline = deadline or now + timedelta(days=DEFAULT_VOTE_DAYS)
    if vote_deadline.tzinfo is None:
        raise ValidationFailed("deadline は時差（例 +09:00）付きの日時で指定してください / deadline needs a time zone", field="deadline")
    if not now + MIN_VOTE_WINDOW <= vote_deadline <= now + MAX_VOTE_WINDOW:
        raise ValidationFailed("投票期限は1時間後から90日後までの間にしてください / the voting deadline must be between 1 hour and 90 days ahead", field="deadline")
    if vote_deadline >= ends_at:
        raise ValidationFailed("投票期限は指定期間の終了より前にしてください / the voting deadline must come before the end of the period", field="deadline")
    return DesignationSpec(reason=reason.strip(), scope_kind=kind, user_ids=users, organization_ids=orgs,
                           handling=parsed_handling, ends_at=ends_at, deadline=vote_deadline,
                           range_note=range_note.strip(), file_ids=tuple(int(f) for f in file_ids))


def check_nondisclosure(*, now: datetime, reason: str, reason_code: str, decision_days: int) -> tuple[ReasonCode, datetime]:
    """Validate a non-disclosure request (I6) and return its reason code and decision deadline."""
    code = parse_enum(ReasonCode, reason_code, "reason_code")
    if not reason.strip():
        raise ValidationFailed("非公開の求めには理由を入力してください / a non-disclosure request needs a reason", field="reason")
    clean_text(reason, "reason", max_length=5000)
    return code, now + timedelta(days=decision_days)


def tally(decisions: Sequence[str], *, now: datetime, deadline: datetime) -> BallotState:
    """Unanimity (I4, I6): one objection rejects; all accepted before the deadline accepts;
    a missing answer at the deadline rejects; otherwise the ballot stays open."""
    return BallotState(unanimity.tally(decisions, now=now, deadline=deadline))  # the one tally (bylaws votes too)


def reminder_due(*, now: datetime, ends_at: datetime, reminded_30: bool, reminded_7: bool) -> int | None:
    """Return 30 or 7 when that reminder before the end is due and not yet sent (I5), else None."""
    left = ends_at - now
    if left <= timedelta(0):
        return None
    if left <= timedelta(days=7) and not reminded_7:
        return 7
    if left <= timedelta(days=30) and not reminded_30 and left > timedelta(days=7):
        return 30
    return None


# ---------------------------------------------------------------------------------------------
# Openness by agreement (I13)

DEFAULT_NOTICE_DAYS = 30  # I13: prior notice before a result becomes public (bylaws setting, 1..365 days)


def notice_ends(*, filed_at: datetime, notice_days: int) -> datetime:
    """Return when the prior-notice window of a result filed at ``filed_at`` ends (I13)."""
    return filed_at + timedelta(days=notice_days)


def publication_date(*, now: datetime, given: datetime | None, notice_days: int) -> datetime:
    """Return when a result filed now becomes public: the given date, never before the notice ends (I13).

    A result filed without a date, or with one inside the window, is scheduled at the window's end,
    so every result can meet a non-disclosure request (I6) before anyone outside the council sees it.
    """
    earliest = notice_ends(filed_at=now, notice_days=notice_days)
    return earliest if given is None or given < earliest else given


def resting_state(*, is_result: bool, publish_at: datetime | None, now: datetime) -> ItemState:
    """Where an item rests when no designation or request holds it (I2, I6, I13).

    Results are public once their publication date has passed and scheduled (council-shared)
    before; everything else is council-shared.
    """
    if not is_result:
        return ItemState.COUNCIL
    if publish_at is not None and publish_at > now:
        return ItemState.SCHEDULED
    return ItemState.PUBLIC


def check_publication_proposal(*, now: datetime, reason: str, deadline: datetime | None) -> tuple[str, datetime]:
    """Validate a proposal to publish an item early (I13) and return its reason and voting deadline."""
    if not reason.strip():
        raise ValidationFailed("早期公開の提案には理由が必要です / an early-publication proposal needs a reason",
                               field="reason")
    text = clean_text(reason, "reason", max_length=5000)
    vote_deadline = deadline or now + timedelta(days=DEFAULT_VOTE_DAYS)
    if vote_deadline.tzinfo is None:
        raise ValidationFailed("deadline は時差（例 +09:00）付きの日時で指定してください / deadline needs a time zone", field="deadline")
    if not now + MIN_VOTE_WINDOW <= vote_deadline <= now + MAX_VOTE_WINDOW:
        raise ValidationFailed("投票期限は1時間後から90日後までの間にしてください / the voting deadline must be between 1 hour and 90 days ahead", field="deadline")
    return text, vote_deadline


def with_provider_consent(outcome: BallotState, provider_decision: str | None) -> BallotState:
    """I13: an early publication needs the provider's own acceptance, not only everyone else's.

    ``provider_decision`` is the provider's answer, or None when they no longer take part (left
    the council): then nobody can consent for them and the proposal is rejected.
    """
    if provider_decision is None or provider_decision == VoteDecision.OBJECT:
        return BallotState.REJECTED
    return outcome  # the provider is a live voter, so unanimity already includes their acceptance


def check_confidential_mark(provenance: Provenance, confidential: bool) -> None:
    """Refuse a confidential mark on a researcher-generated result (I1: outside the duty; issue 13)."""
    if confidential and provenance == Provenance.RESEARCHER_GENERATED:
        raise ValidationFailed(
            "研究者自らが生み出した成果は秘として提供できません（守秘義務の対象外） / a researcher-generated result "
            "cannot be marked as provided in confidence: it is outside the duty (I1)", field="confidential")


# ---------------------------------------------------------------------------------------------
# Publication conditions (issue 13, I6, I13): a withheld result has a review date

DEFAULT_REVIEW_MONTHS = 12  # bylaws ``withheld_review_months`` (1..60)
WITHHOLDING_KINDS = frozenset({BallotKind.NONDISCLOSURE.value, BallotKind.WITHHOLD_RENEWAL.value})


def add_months(value: datetime, months: int) -> datetime:
    """Return ``value`` moved ``months`` calendar months on (the 31st becomes the month's last day)."""
    month = value.month - 1 + months
    year, month = value.year + month // 12, month % 12 + 1
    return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))


def withholding_ballot(ballots: Iterable[Ballot]) -> Ballot | None:
    """Return the accepted ballot that withholds a result now — the non-disclosure request, or the latest
    accepted renewal of it (an accepted renewal lapses the one it renews) — or None (I6, I13)."""
    agreed = [b for b in ballots if b.kind in WITHHOLDING_KINDS and b.state == BallotState.ACCEPTED.value]
    return max(agreed, key=lambda b: b.id) if agreed else None


def check_withheld_renewal(*, now: datetime, reason: str, review_at: datetime, given: datetime | None,
                           months: int, deadline: datetime | None) -> tuple[str, datetime, datetime]:
    """Validate keeping a withheld result withheld past its review date ``review_at`` (I5, I6, I13).

    Return the reason, the new review date (``given``, or one bylaws period after the current one; never
    before it nor more than one bylaws period after it: no result is withheld for ever) and the voting
    deadline, which must fall before the current review date (I5: decided before the end).
    """
    if not reason.strip():
        raise ValidationFailed("非公開の継続には理由が必要です / keeping a result withheld needs a reason",
                               field="reason")
    text = clean_text(reason, "reason", max_length=5000)
    new_review = given or add_months(review_at, months)
    if new_review.tzinfo is None:
        raise ValidationFailed("見直し日時は時差（例 +09:00）付きの日時で指定してください / review_at needs a time zone", field="review_at")
    if not review_at < new_review <= add_months(review_at, months):
        raise ValidationFailed(f"新しい見直し日は現在の見直し日より後で、{months}か月以内にしてください / the new review "
                               f"date must fall after the current one and within {months} months of it (bylaws)",
                               field="review_at")
    vote_deadline = deadline or min(now + timedelta(days=DEFAULT_VOTE_DAYS), review_at - MIN_VOTE_WINDOW)
    if vote_deadline.tzinfo is None:
        raise ValidationFailed("deadline は時差（例 +09:00）付きの日時で指定してください / deadline needs a time zone", field="deadline")
    if not now + MIN_VOTE_WINDOW <= vote_deadline <= review_at:
        raise ValidationFailed("投票期限は1時間後以降、現在の見直し日より前にしてください / the voting deadline must be at "
                               "least 1 hour ahead and before the current review date (I5)", field="deadline")
    return text, new_review, vote_deadline
