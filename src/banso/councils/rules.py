"""Pure council rules (C1–C6): no session, no HTTP, no clock — times are passed in."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from banso.councils import articles
from banso.councils.models import ActionStatus, ConsentDecision, CouncilState, Matter
from banso.kit.errors import Conflict, ValidationFailed
from banso.kit.glossary import term
from banso.kit.text import clean_text

DEFAULT_DESIGNATION_MAX_YEARS = 5  # I3
DEFAULT_NONDISCLOSURE_DAYS = 30  # I6
# Reminders go out this long before a consent deadline (and once per window).
REMINDER_OFFSETS = (timedelta(days=7), timedelta(days=1))
PENALTY_JA = "1年以下の拘禁刑又は50万円以下の罰金"
PENALTY_EN = "imprisonment of up to 1 year or a fine of up to ¥500,000"

MATTER_LABELS_JA = {
    Matter.USEFUL_INFORMATION: "① 研究開発に有用な情報の収集等に関する事項",
    Matter.EFFECTIVE_PROMOTION: "② 研究開発の効果的な促進方策に関する事項",
    Matter.RD_CONTENT_AND_RESULTS: "③ 研究開発の内容及び成果の取扱いに関する事項",
    Matter.INFORMATION_MANAGEMENT: "④ 研究開発に関する情報の適正な管理に関する事項",
}

# C1: the lifecycle's only moves.
TRANSITIONS: dict[CouncilState, frozenset[CouncilState]] = {
    CouncilState.PROPOSED: frozenset({CouncilState.ESTABLISHED, CouncilState.LAPSED}),
    CouncilState.ESTABLISHED: frozenset({CouncilState.ACTIVE, CouncilState.DISSOLVED}),
    CouncilState.ACTIVE: frozenset({CouncilState.DISSOLVED}),
    CouncilState.DISSOLVED: frozenset(),
    CouncilState.LAPSED: frozenset(),
}
OPERATING_STATES = frozenset({CouncilState.ESTABLISHED, CouncilState.ACTIVE})


class Outcome(StrEnum):
    """What evaluating a proposed council's consents leads to."""

    WAIT = "wait"
    ESTABLISH = "establish"
    LAPSE = "lapse"


@dataclass(frozen=True)
class ConsentFact:
    """A founding participant's answer as the rules see it."""

    user_id: int
    decision: str
    decided_at: datetime | None


def require_text(value: str | None, field: str, *, max_length: int | None = None, line: bool = False) -> str:
    """Return ``value`` stripped, or refuse it when it is missing, too long or holds a forbidden character
    (the one text rule; ``line``: a one-line field)."""
    return clean_text(value, field, max_length=max_length, line=line)


def time_zone_message(field: str) -> str:
    """Return the bilingual refusal of a date-time without a zone offset."""
    return (f"{field} にはタイムゾーン（例 +09:00）を付けてください / {field} must carry a time zone "
            "(such as +09:00)")


def require_future(when: datetime, now: datetime, field: str) -> None:
    """Refuse a date that is not after ``now`` (dates in the past are refused)."""
    if when.tzinfo is None:
        raise ValidationFailed(time_zone_message(field), field=field)
    if when <= now:
        raise ValidationFailed(f"{field} は未来の日時を指定してください / {field} must be in the future", field=field)


def parse_matter(value: str) -> Matter:
    """Return the matter (C4) or refuse an unknown one."""
    try:
        return Matter(value)
    except ValueError:
        allowed = ", ".join(m.value for m in Matter)
        raise ValidationFailed(f"事項の種類「{value}」は不明です（{allowed} のいずれか） / unknown matter {value!r}; "
                               f"use one of {allowed}", field="matter") from None


def require_transition(current: str, target: CouncilState) -> None:
    """Refuse a lifecycle move that C1 does not allow."""
    if target not in TRANSITIONS[CouncilState(current)]:
        raise Conflict(f"協議会の状態を {current} から {target.value} に変えることはできません / a {current} council cannot become {target.value}", field="state")


def missing_required(founder_ids: Iterable[int], required_ids: Iterable[int]) -> list[int]:
    """Return the linked project's researchers who are not among the founders (C1)."""
    founders = set(founder_ids)
    return sorted(set(required_ids) - founders)


def establishment_outcome(consents: Sequence[ConsentFact], *, deadline: datetime, now: datetime) -> Outcome:
    """Decide a proposed council (C1): all consented in time → establish; a decline or a gap at the deadline → lapse."""
    if not consents:
        return Outcome.LAPSE if now >= deadline else Outcome.WAIT
    if any(c.decision == ConsentDecision.DECLINED for c in consents):
        return Outcome.LAPSE
    in_time = [
        c for c in consents
        if c.decision == ConsentDecision.CONSENTED and c.decided_at is not None and c.decided_at < deadline
    ]
    if len(in_time) == len(consents):
        return Outcome.ESTABLISH
    if now >= deadline:
        return Outcome.LAPSE
    return Outcome.WAIT


def check_can_answer(*, decision: str, deadline: datetime, now: datetime) -> None:
    """Refuse a second answer or an answer at/after the deadline."""
    if decision != ConsentDecision.PENDING:
        raise Conflict("既に回答済みです / You have already answered", field="decision")
    if now >= deadline:
        raise Conflict("回答期限を過ぎています / The consent deadline has passed", field="decision")


def reminder_due(*, deadline: datetime, last_reminded_at: datetime | None, now: datetime,
                 offsets: Sequence[timedelta] = REMINDER_OFFSETS) -> bool:
    """Return True when a pending consent should be reminded now (once per reminder window)."""
    if now >= deadline:
        return False
    windows = [deadline - off for off in offsets if deadline - off <= now]
    if not windows:
        return False
    opened = max(windows)
    return last_reminded_at is None or last_reminded_at < opened


ACTION_DUE_SOON = timedelta(days=2)


def action_reminder_stage(*, due_at: datetime, now: datetime, is_open: bool, sent: str | None) -> str | None:
    """Return which action-item reminder is due now (C5): ``due_soon``, then ``overdue``, each once."""
    if not is_open:
        return None
    if now >= due_at:
        return "overdue" if sent != "overdue" else None
    if due_at - now <= ACTION_DUE_SOON and sent is None:
        return "due_soon"
    return None


def next_duty_version(*, current_duty_version: int, new_version: int, changes_duty: bool) -> int:
    """Return the duty version after an amendment: a duty change starts a new one (C3 re-signing)."""
    return new_version if changes_duty else current_duty_version


def pledge_is_current(pledge_duty_version: int | None, council_duty_version: int) -> bool:
    """A pledge is current only for the duty version in force (C3)."""
    return pledge_duty_version is not None and pledge_duty_version == council_duty_version


def check_pledge_version(*, offered_version: int, current_version: int) -> None:
    """Refuse signing any bylaws version but the one in force (C3)."""
    if offered_version != current_version:
        raise Conflict(
            f"規約第{offered_version}版は現行版ではありません。第{current_version}版で署名してください / "
            f"bylaws version {offered_version} is not in force; sign version {current_version}",
            field="bylaws_version",
        )


def check_parameters(*, designation_max_years: int, nondisclosure_days: int, publication_notice_days: int = 30,
                     withheld_review_months: int = 12) -> None:
    """Refuse bylaws parameters outside their bounds (I3: no indefinite designation; I13: some notice, and no
    result withheld for ever: a review date at most five years ahead)."""
    articles.parameters({"designation_max_years": designation_max_years, "nondisclosure_days": nondisclosure_days,
                         "publication_notice_days": publication_notice_days,
                         "withheld_review_months": withheld_review_months})


def model_bylaws_template() -> str:
    """Return the model bylaws (モデル規約) as one text, its parameters left as ``${…}`` placeholders."""
    title = "${council_title}"
    return articles.render(council_title=title, articles=articles.model_articles(council_title=title), params={})


def render_model_bylaws(*, council_title: str, designation_max_years: int = DEFAULT_DESIGNATION_MAX_YEARS,
                        nondisclosure_days: int = DEFAULT_NONDISCLOSURE_DAYS) -> str:
    """Fill the model bylaws for one council."""
    params = articles.parameters({"designation_max_years": designation_max_years,
                                  "nondisclosure_days": nondisclosure_days})
    return articles.render(council_title=council_title, articles=articles.model_articles(council_title=council_title),
                           params=params)


def bylaws_diff(old: str, new: str, *, old_version: int, new_version: int) -> str:
    """Return a readable unified diff between two bylaws versions."""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), fromfile=f"規約 第{old_version}版", tofile=f"規約 第{new_version}版",
        lineterm="",
    )
    return "\n".join(lines)


def bylaws_diff_html(old: str, new: str, *, old_version: int, new_version: int) -> str:
    """Return a side-by-side HTML table of the changes (difflib.HtmlDiff, context only)."""
    return difflib.HtmlDiff(wrapcolumn=60).make_table(
        old.splitlines(), new.splitlines(), f"第{old_version}版", f"第{new_version}版", context=True, numlines=2
    )


def pledge_text(*, council_title: str, bylaws_version: int, duty_article: int, signer_name: str,
                organization_name: str, signed_on: str, oral_designation_days: int | None = None) -> str:
    """Generate the pledge (守秘義務誓約書) for one bylaws version, stating the Art. 62(7) duty and its penalty and
    citing the article of that version that carries the duty (第N条, issue 13); with ``oral_designation_days``
    (the version's parameter, which bounds the duty) it states which oral statements the duty covers."""
    oral = ("" if oral_designation_days is None else
            f"5. 会合において口頭で秘密として述べられた事項は、会合の日から{oral_designation_days}日以内に書面により"
            f"指定されたものに限り、この義務の対象となることを理解しています。\n")
    return (
        f"守秘義務誓約書\n\n"
        f"{council_title} 御中\n\n"
        f"私は、{council_title}（以下「協議会」という。）の参加者として、協議会規約 第{bylaws_version}版 "
        f"第{duty_article}条（守秘義務）に基づき、次のとおり誓約します。\n\n"
        f"1. 協議会の事務に関して知り得た秘密を漏らし、又は盗用しません。協議会の参加者でなくなった後も同様とします"
        f"（経済施策を一体的に講ずることによる安全保障の確保の推進に関する法律 第62条第7項）。\n"
        f"2. この義務が、国家公務員に求められる守秘義務と同等のものであることを理解しています。\n"
        f"3. この義務に違反したときは、{PENALTY_JA}に処せられることがあることを理解しています。\n"
        f"4. 協議会で共有される情報は、規約及び指定の範囲・期間・取扱いに従って管理します。\n"
        f"{oral}\n"
        f"署名日: {signed_on}\n"
        f"所属: {organization_name}\n"
        f"氏名: {signer_name}\n\n"
        f"(English summary) Under article {duty_article} of the bylaws (version {bylaws_version}), "
        f"I pledge not to disclose or misuse secrets learned in the council's affairs, "
        f"also after leaving it (Economic Security Promotion Act Art. 62(7)); this duty equals a national public "
        f"servant's; a breach may be punished by {PENALTY_EN}.\n"
    )


def sha256_text(text: str) -> str:
    """Return the SHA-256 of a text (UTF-8) in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_overdue(*, status: str, due_at: datetime, now: datetime) -> bool:
    """An open action item past its due date is overdue."""
    return status == ActionStatus.OPEN and due_at < now


def check_open(status: str, what: str = "action item") -> None:
    """Refuse to complete or cancel an item that is no longer open."""
    if status != ActionStatus.OPEN:
        raise Conflict(f"この{term('action_item') if what == 'action item' else what}は既に処理済みです（{status}） / "
                       f"{what} is already {status}", field="status")


# ---------------------------------------------------------------------------------------------
# Meetings as held (C5, issue 13)

DEFAULT_MINUTES_CONFIRMATION_DAYS = 14  # C5: attendees' time to confirm circulated minutes
MINUTES_REMINDER_BEFORE = timedelta(days=3)  # one reminder this long before the confirmation deadline
# Who attended and so confirms the minutes: present in person or by proxy; observers and absentees do not.
CONFIRMING_ATTENDANCE = frozenset({"present", "proxy"})


# The minutes' state as a refusal names it (outside test F5: 「（現在: none）」 showed the raw word).
MINUTES_STATE_JA = {"none": "議事録未作成", "draft": "議事録案", "circulated": "確認依頼中", "approved": "承認済"}


def minutes_state_ja(state: str) -> str:
    """Return the Japanese name of a minutes state (the raw word for an unknown one)."""
    return MINUTES_STATE_JA.get(state, state)


def require_meeting_time(when: datetime, now: datetime, *, held: bool) -> None:
    """Refuse a held meeting in the future or a scheduled one in the past (the message says which)."""
    if when.tzinfo is None:
        raise ValidationFailed(time_zone_message("starts_at"), field="starts_at")
    if held and when > now:
        raise ValidationFailed("開催済みとして記録できるのは過去の会合のみです（将来の会合は予定として登録してください） / "
                               "only a meeting in the past can be recorded as held; schedule a future one",
                               field="starts_at")
    if not held and when <= now:
        raise ValidationFailed("開催日時は未来の日時を指定してください（過去の会合は開催済みとして記録してください） / "
                               "starts_at must be in the future; record a past meeting as held", field="starts_at")


def minutes_deadline(*, now: datetime, requested: datetime | None, default_days: int) -> datetime:
    """Return the confirmation deadline: the one asked for (in the future) or ``default_days`` from now."""
    if requested is None:
        return now + timedelta(days=default_days)
    if requested.tzinfo is None:
        raise ValidationFailed(time_zone_message("deadline"), field="deadline")
    if requested <= now:
        raise ValidationFailed("確認期限は将来の日時を指定してください / the deadline must be in the future",
                               field="deadline")
    return requested


def minutes_approvable(*, answers: Sequence[str], deadline: datetime | None, now: datetime) -> bool:
    """Return True when circulated minutes may be approved: every attendee confirmed, or the deadline passed."""
    if deadline is None:
        return False
    return all(a == "confirmed" for a in answers) or now >= deadline


def minutes_reminder_due(*, deadline: datetime | None, reminded_at: datetime | None, now: datetime) -> bool:
    """Return True once, when the confirmation deadline is near and no reminder went out yet."""
    return deadline is not None and reminded_at is None and deadline - MINUTES_REMINDER_BEFORE <= now < deadline


# ---------------------------------------------------------------------------------------------
# Oral statements (口頭で述べた事項, issue 13)

DEFAULT_ORAL_DESIGNATION_DAYS = 30  # bylaws default: a written designation within 30 days of the meeting
STATEMENT_REMINDER_BEFORE = timedelta(days=7)  # one reminder this long before the designation deadline


class StatementState(StrEnum):
    """Whether an oral statement falls under the duty (issue 13)."""

    NOT_CONFIDENTIAL = "not_confidential"  # not stated as confidential: outside the duty
    AWAITING = "awaiting"  # stated as confidential; a written designation may still be filed
    DESIGNATED = "designated"  # designated in writing within the period: under the duty
    OUTSIDE = "outside"  # the period ended without a written designation: outside the duty


STATEMENT_STATE_JA = {"not_confidential": "秘として述べられていない（守秘義務の対象外）",
                      "awaiting": "書面による指定待ち", "designated": "書面により指定済み（守秘義務の対象）",
                      "outside": "期間内に書面による指定なし（守秘義務の対象外）"}


def statement_deadline(*, meeting_at: datetime, stated_confidential: bool, days: int) -> datetime | None:
    """Return the last moment for a written designation: the meeting plus the bylaws' days (None if not stated
    as confidential)."""
    return meeting_at + timedelta(days=days) if stated_confidential else None


def statement_state(*, stated_confidential: bool, designated_at: datetime | None, deadline: datetime | None,
                    now: datetime) -> StatementState:
    """Return whether an oral statement is under the duty at ``now`` (issue 13: written designation in time)."""
    if not stated_confidential:
        return StatementState.NOT_CONFIDENTIAL
    if designated_at is not None:
        return StatementState.DESIGNATED
    if deadline is None or now >= deadline:
        return StatementState.OUTSIDE
    return StatementState.AWAITING


def statement_reminder_due(*, deadline: datetime | None, designated_at: datetime | None,
                           reminded_at: datetime | None, now: datetime) -> bool:
    """Return True once, when an undesignated statement's deadline is near and no reminder went out yet."""
    return (deadline is not None and designated_at is None and reminded_at is None
            and deadline - STATEMENT_REMINDER_BEFORE <= now < deadline)


EXPORT_CHECK_REMIND_EVERY = timedelta(days=7)  # F7: a pending check is brought up again this often
EXPORT_CHECK_ESCALATE_AFTER = timedelta(days=14)  # from then on the secretariat is told too


def export_check_reminder(*, requested_at: datetime, reminded_at: datetime | None, now: datetime) -> str | None:
    """Return whom a pending deemed-export check reminds now: ``officers``, ``officers+secretariat`` or None.

    A week after the check was opened and every week after that (counted from the last reminder), the officers;
    once the check is two weeks old the secretariat too, who can bring in another officer (F7).
    """
    if now - (reminded_at or requested_at) < EXPORT_CHECK_REMIND_EVERY:
        return None
    return "officers+secretariat" if now - requested_at >= EXPORT_CHECK_ESCALATE_AFTER else "officers"


def check_oral_designation_days(requested: int | None, current: int) -> int:
    """Return the bylaws' period for written designations of oral statements: 1 to 365 days (issue 13)."""
    days = current if requested is None else requested
    if not 1 <= days <= 365:
        raise ValidationFailed("口頭の指定期間は1〜365日です / oral_designation_days must be 1 to 365 days",
                               field="oral_designation_days")
    return days
