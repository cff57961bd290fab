"""Pure rules: validation, subject matching, digest timing and the e-mails' shape."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime
from email.policy import default as default_policy

import pytest

from banso.notifications import rules

VALID = {"kind": "council.consent_requested", "title_ja": "同意の依頼", "title_en": "Consent requested",
         "body_ja": "本文", "body_en": "Body", "link": "/councils/1", "subject": "council:1"}


def test_a_valid_notification_has_no_problems() -> None:
    assert rules.problems(**VALID) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(("field", "value"), [
    ("kind", "Council consent"), ("kind", "council"), ("title_ja", "  "), ("title_en", ""),
    ("title_ja", "x" * 301), ("title_en", "two\nlines"), ("body_ja", "x" * 10_001),
    ("link", "https://evil.example/"), ("link", "//evil.example/x"), ("link", "/a b"), ("link", "/a\\b"),
    ("link", ""), ("subject", "council"), ("subject", "council:"), ("subject", "Council:1"), ("subject", "c:1:x"),
])
def test_bad_fields_are_named(field: str, value: str) -> None:
    found = rules.problems(**{**VALID, field: value})  # type: ignore[arg-type]
    assert [f for f, _ in found] == [field]


def test_no_link_is_fine() -> None:
    assert rules.problems(**{**VALID, "link": None}) == []  # type: ignore[arg-type]


def test_subject_covers_itself_and_narrower_subjects_only() -> None:
    assert rules.subject_covers("council:12", "council:12")
    assert rules.subject_covers("council:12", "council:12:meeting:3")
    assert not rules.subject_covers("council:12", "council:123")
    assert not rules.subject_covers("council:12:meeting:3", "council:12")
    assert not rules.subject_covers("council:12", None)


def test_digest_day_and_hour_are_jst() -> None:
    # 2026-03-31 23:30 UTC is 2026-04-01 08:30 JST
    late_utc = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert rules.jst_day(late_utc) == date(2026, 4, 1)
    assert rules.digest_due(late_utc)
    assert not rules.digest_due(datetime(2026, 3, 31, 22, 59, tzinfo=UTC))  # 07:59 JST


def _roundtrip(message: email.message.EmailMessage) -> email.message.EmailMessage:
    parsed = email.message_from_bytes(message.as_bytes(), policy=default_policy)
    return parsed  # type: ignore[return-value]


def test_notification_email_is_japanese_first_utf8_with_headers() -> None:
    letter = rules.Letter(kind="council.meeting_scheduled", title_ja="第3回会議", title_en="3rd meeting",
                          body_ja="議題を確認してください。", body_en="Please review the agenda.",
                          link="/councils/1", created_at=datetime(2026, 4, 1, 0, 0, tzinfo=UTC))
    to = rules.Recipient(email="hanako@example.jp", name_ja="山田 花子", name_en="Hanako Yamada", locale="ja")
    msg = rules.notification_email(letter=letter, to=to, sender="banso <noreply@banso.example.jp>",
                                   base_url="https://banso.example.jp/", now=datetime(2026, 4, 1, 0, 5, tzinfo=UTC))
    raw = msg.as_bytes()
    assert raw.isascii()  # encoded for any relay: RFC 2047 headers, base64 body
    parsed = _roundtrip(msg)
    assert parsed["Subject"] == "【伴走】第3回会議"
    assert parsed["To"].addresses[0].display_name == "山田 花子"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["Message-ID"].endswith("@banso.example.jp>")
    assert parsed.get_content_type() == "text/plain" and parsed.get_content_charset() == "utf-8"
    body = parsed.get_content()
    assert body.index("議題を確認してください。") < body.index("Please review the agenda.")
    assert "https://banso.example.jp/councils/1" in body
    assert "2026年4月1日 09:00" in body and "2026-04-01 09:00 JST" in body


def test_english_readers_get_an_english_subject() -> None:
    letter = rules.Letter(kind="x.y", title_ja="題", title_en="Title", body_ja="", body_en="", link=None,
                          created_at=datetime(2026, 4, 1, tzinfo=UTC))
    to = rules.Recipient(email="a@example.jp", name_ja="エー", name_en="A", locale="en")
    msg = rules.notification_email(letter=letter, to=to, sender="noreply@example.jp", base_url="http://x",
                                   now=datetime(2026, 4, 1, tzinfo=UTC))
    assert _roundtrip(msg)["Subject"] == "[banso] Title"


def test_digest_lists_every_letter_in_both_languages() -> None:
    letters = [rules.Letter(kind="x.y", title_ja=f"通知{i}", title_en=f"Notice {i}", body_ja="本文", body_en="Body",
                            link=f"/councils/{i}", created_at=datetime(2026, 4, 1, tzinfo=UTC)) for i in (1, 2)]
    to = rules.Recipient(email="a@example.jp", name_ja="山田 花子", name_en="Hanako Yamada", locale="ja")
    msg = _roundtrip(rules.digest_email(letters=letters, to=to, day=date(2026, 4, 1), sender="noreply@example.jp",
                                        base_url="http://x", now=datetime(2026, 4, 1, tzinfo=UTC)))
    assert msg["Subject"] == "【伴走】未読の通知 2件（2026年4月1日）"
    body = msg.get_content()
    assert body.startswith("山田 花子 様")
    assert body.index("■ 通知2") < body.index("* Notice 1")
    assert "http://x/councils/2" in body
