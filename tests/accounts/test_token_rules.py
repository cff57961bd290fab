"""Pure rules of API token lifetime (issue 11): never "no expiry", never past the maximum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from banso.accounts import rules

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_blank_expiry_is_the_maximum() -> None:
    assert rules.token_expiry(now=NOW, expires_in_days=None, max_days=90) == NOW + 90 * DAY
    assert rules.token_expiry(now=NOW, expires_in_days=7, max_days=90) == NOW + 7 * DAY


@pytest.mark.parametrize("days", [0, -1, 91, 10**9])
def test_expiry_outside_one_day_to_the_maximum_is_refused_with_a_reason(days: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 90 days"):
        rules.token_expiry(now=NOW, expires_in_days=days, max_days=90)


def test_a_token_ends_at_its_expiry_or_at_the_cap_whichever_comes_first() -> None:
    cap = 90 * DAY
    assert not rules.token_expired(created_at=NOW, expires_at=NOW + 30 * DAY, now=NOW + 29 * DAY, max_lifetime=cap)
    assert rules.token_expired(created_at=NOW, expires_at=NOW + 30 * DAY, now=NOW + 30 * DAY, max_lifetime=cap)
    # stored without an expiry (before there was a maximum), or under a longer maximum: the cap ends it
    assert not rules.token_expired(created_at=NOW, expires_at=None, now=NOW + 89 * DAY, max_lifetime=cap)
    assert rules.token_expired(created_at=NOW, expires_at=None, now=NOW + 90 * DAY, max_lifetime=cap)
    assert rules.token_expired(created_at=NOW, expires_at=NOW + 366 * DAY, now=NOW + 91 * DAY, max_lifetime=cap)
