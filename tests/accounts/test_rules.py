"""Pure account rules: no database, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from banso.accounts import rules

T0 = datetime(2026, 4, 1, 0, 0, 0, tzinfo=UTC)


def test_password_rules() -> None:
    assert rules.password_problems("short", email="a@b.jp")
    assert rules.password_problems("aaaaaaaaaaaaaaaa", email="x@b.jp") == ["パスワードに同じ文字が多すぎます / password is too repetitive"]
    assert any("e-mail" in p for p in rules.password_problems("tanaka-secret-2026", email="tanaka@jst.jp"))
    assert rules.password_problems("correct horse battery", email="tanaka@jst.jp") == []


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@b", "a b@c.jp", "x" * 250 + "@c.jp"])
def test_email_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        rules.normalise_email(bad)


@pytest.mark.parametrize("look_alike", ["\u212Aato@x.jp", "kato@x.jp\u0130", "\uff4bato@x.jp", "kato@\u0131x.jp"])
def test_email_non_ascii_refused_not_case_mapped(look_alike: str) -> None:
    # Kelvin sign U+212A lowers to "k": one person's provider address must never become another's (issue 17).
    with pytest.raises(ValueError, match="ASCII"):
        rules.normalise_email(look_alike)


def test_email_normalised() -> None:
    assert rules.normalise_email("  Tanaka@JST.example.JP ") == "tanaka@jst.example.jp"


def test_totp_matches_current_and_adjacent_steps_only() -> None:
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    step = rules.totp_step(T0)
    assert rules.match_totp(secret, totp.at(T0), T0) == step
    assert rules.match_totp(secret, totp.at(T0 - timedelta(seconds=30)), T0) == step - 1
    assert rules.match_totp(secret, totp.at(T0 + timedelta(seconds=30)), T0) == step + 1
    assert rules.match_totp(secret, totp.at(T0 - timedelta(seconds=90)), T0) is None
    assert rules.match_totp(secret, "12345", T0) is None
    assert rules.match_totp(secret, "abcdef", T0) is None


def test_replay_detection() -> None:
    assert rules.is_replay(10, 10)
    assert rules.is_replay(9, 10)
    assert not rules.is_replay(11, 10)
    assert not rules.is_replay(11, None)


def test_lockout_after_max_failures_and_ageing() -> None:
    lockout = timedelta(minutes=15)
    failures, first = 0, None
    for i in range(4):
        d = rules.after_failure(failures=failures, first_failure_at=first, now=T0 + timedelta(seconds=i),
                                max_failures=5, lockout=lockout)
        assert d.locked_until is None
        failures, first = d.failures, d.first_failure_at
    d = rules.after_failure(failures=failures, first_failure_at=first, now=T0 + timedelta(seconds=5),
                            max_failures=5, lockout=lockout)
    assert d.locked_until == T0 + timedelta(seconds=5) + lockout
    assert rules.is_locked(d.locked_until, T0 + timedelta(minutes=10))
    assert not rules.is_locked(d.locked_until, T0 + timedelta(minutes=21))
    # failures older than the window age out
    aged = rules.after_failure(failures=4, first_failure_at=T0, now=T0 + timedelta(hours=1),
                               max_failures=5, lockout=lockout)
    assert aged.failures == 1 and aged.locked_until is None


@given(st.text(min_size=0, max_size=80))
def test_parse_token_never_raises(raw: str) -> None:
    parsed = rules.parse_token(raw)
    if parsed is not None:
        assert rules.format_token(*parsed) == raw.strip()


def test_token_round_trip() -> None:
    token = rules.format_token("AbCd1234", "s" * 43)
    assert rules.parse_token(token) == ("AbCd1234", "s" * 43)
    assert rules.parse_token("bns_short_x") is None


def test_session_expiry() -> None:
    kw = {"max_age": timedelta(hours=8), "idle": timedelta(hours=2)}
    assert not rules.session_expired(created_at=T0, last_seen_at=T0, now=T0 + timedelta(hours=1), **kw)
    assert rules.session_expired(created_at=T0, last_seen_at=T0, now=T0 + timedelta(hours=3), **kw)
    assert rules.session_expired(created_at=T0, last_seen_at=T0 + timedelta(hours=7), now=T0 + timedelta(hours=9), **kw)
