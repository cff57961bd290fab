"""Pure council rules (C1, C3, C5): no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from banso.councils import rules
from banso.councils.models import CouncilState
from banso.councils.rules import ConsentFact, Outcome
from banso.kit.errors import Conflict, ValidationFailed

NOW = datetime(2026, 4, 1, tzinfo=UTC)
DEADLINE = NOW + timedelta(days=14)


def fact(uid: int, decision: str, at: datetime | None = None) -> ConsentFact:
    return ConsentFact(uid, decision, at)


def test_all_consented_in_time_establishes() -> None:
    facts = [fact(1, "consented", NOW), fact(2, "consented", NOW + timedelta(days=3))]
    assert rules.establishment_outcome(facts, deadline=DEADLINE, now=NOW + timedelta(days=3)) is Outcome.ESTABLISH


def test_pending_before_deadline_waits_and_lapses_at_deadline() -> None:
    facts = [fact(1, "consented", NOW), fact(2, "pending")]
    assert rules.establishment_outcome(facts, deadline=DEADLINE, now=NOW) is Outcome.WAIT
    assert rules.establishment_outcome(facts, deadline=DEADLINE, now=DEADLINE) is Outcome.LAPSE


def test_one_decline_lapses_at_once() -> None:
    facts = [fact(1, "consented", NOW), fact(2, "declined", NOW), fact(3, "pending")]
    assert rules.establishment_outcome(facts, deadline=DEADLINE, now=NOW) is Outcome.LAPSE


def test_consent_at_or_after_deadline_does_not_count() -> None:
    facts = [fact(1, "consented", NOW), fact(2, "consented", DEADLINE)]
    assert rules.establishment_outcome(facts, deadline=DEADLINE, now=DEADLINE) is Outcome.LAPSE


def test_no_founders_never_establishes() -> None:
    assert rules.establishment_outcome([], deadline=DEADLINE, now=NOW) is Outcome.WAIT
    assert rules.establishment_outcome([], deadline=DEADLINE, now=DEADLINE) is Outcome.LAPSE


def test_researchers_must_be_founders() -> None:
    assert rules.missing_required([1, 2], [2, 3, 4]) == [3, 4]
    assert rules.missing_required([1, 2], []) == []


def test_answer_twice_or_late_is_refused() -> None:
    rules.check_can_answer(decision="pending", deadline=DEADLINE, now=NOW)
    with pytest.raises(Conflict, match="already answered"):
        rules.check_can_answer(decision="consented", deadline=DEADLINE, now=NOW)
    with pytest.raises(Conflict, match="deadline"):
        rules.check_can_answer(decision="pending", deadline=DEADLINE, now=DEADLINE)


def test_dates_in_the_past_are_refused() -> None:
    rules.require_future(NOW + timedelta(seconds=1), NOW, "due_at")
    for when in (NOW, NOW - timedelta(days=1)):
        with pytest.raises(ValidationFailed) as err:
            rules.require_future(when, NOW, "due_at")
        assert err.value.field == "due_at"
    with pytest.raises(ValidationFailed):
        rules.require_future(datetime(2030, 1, 1), NOW, "due_at")  # naive


def test_missing_text_is_refused() -> None:
    assert rules.require_text("  x ", "title") == "x"
    with pytest.raises(ValidationFailed):
        rules.require_text("   ", "title")
    with pytest.raises(ValidationFailed):
        rules.require_text("abc", "title", max_length=2)


def test_lifecycle_transitions() -> None:
    rules.require_transition("proposed", CouncilState.ESTABLISHED)
    rules.require_transition("established", CouncilState.ACTIVE)
    rules.require_transition("active", CouncilState.DISSOLVED)
    for current, target in [("proposed", CouncilState.ACTIVE), ("lapsed", CouncilState.ESTABLISHED),
                            ("dissolved", CouncilState.ACTIVE), ("active", CouncilState.ESTABLISHED)]:
        with pytest.raises(Conflict):
            rules.require_transition(current, target)


def test_duty_versions_and_pledge_currency() -> None:
    assert rules.next_duty_version(current_duty_version=1, new_version=2, changes_duty=False) == 1
    assert rules.next_duty_version(current_duty_version=1, new_version=3, changes_duty=True) == 3
    assert rules.pledge_is_current(1, 1)
    assert not rules.pledge_is_current(1, 3)
    assert not rules.pledge_is_current(None, 1)
    rules.check_pledge_version(offered_version=2, current_version=2)
    with pytest.raises(Conflict, match="not in force"):
        rules.check_pledge_version(offered_version=1, current_version=2)


def test_reminders_once_per_window() -> None:
    assert not rules.reminder_due(deadline=DEADLINE, last_reminded_at=None, now=NOW)
    week_before = DEADLINE - timedelta(days=7)
    assert rules.reminder_due(deadline=DEADLINE, last_reminded_at=None, now=week_before)
    assert not rules.reminder_due(deadline=DEADLINE, last_reminded_at=week_before, now=week_before + timedelta(hours=1))
    day_before = DEADLINE - timedelta(days=1)
    assert rules.reminder_due(deadline=DEADLINE, last_reminded_at=week_before, now=day_before)
    assert not rules.reminder_due(deadline=DEADLINE, last_reminded_at=None, now=DEADLINE)


def test_model_bylaws_carry_the_duty_and_parameters() -> None:
    text = rules.render_model_bylaws(council_title="量子暗号通信 協議会", designation_max_years=3, nondisclosure_days=20)
    assert "量子暗号通信 協議会 規約" in text
    assert "第62条第7項" in text and "国家公務員" in text
    assert "1年以下" in text and "50万円以下" in text
    assert "3年を超えることができない" in text and "20日以内" in text
    assert "$" not in text


def test_pledge_text_states_duty_and_penalty() -> None:
    text = rules.pledge_text(council_title="X 協議会", bylaws_version=4, duty_article=9, signer_name="山田 花子",
                             organization_name="東京大学", signed_on="2026-04-01")
    assert "第4版" in text and "第62条第7項" in text and "国家公務員" in text
    assert "第9条（守秘義務）" in text and "article 9" in text and "第6条" not in text  # issue 13: the duty's article
    assert rules.PENALTY_JA in text and "山田 花子" in text
    assert len(rules.sha256_text(text)) == 64


def test_bylaws_diff_is_readable() -> None:
    diff = rules.bylaws_diff("a\nb\nc", "a\nB\nc", old_version=1, new_version=2)
    assert "--- 規約 第1版" in diff and "+++ 規約 第2版" in diff
    assert "-b" in diff and "+B" in diff
    html = rules.bylaws_diff_html("a\nb", "a\nB", old_version=1, new_version=2)
    assert "<table" in html


def test_matter_and_parameters() -> None:
    assert rules.parse_matter("information_management").value == "information_management"
    with pytest.raises(ValidationFailed):
        rules.parse_matter("gossip")
    with pytest.raises(ValidationFailed):
        rules.check_parameters(designation_max_years=6, nondisclosure_days=30)
    with pytest.raises(ValidationFailed):
        rules.check_parameters(designation_max_years=5, nondisclosure_days=0)


def test_overdue() -> None:
    assert rules.is_overdue(status="open", due_at=NOW - timedelta(seconds=1), now=NOW)
    assert not rules.is_overdue(status="done", due_at=NOW - timedelta(days=1), now=NOW)
    assert not rules.is_overdue(status="open", due_at=NOW, now=NOW)
