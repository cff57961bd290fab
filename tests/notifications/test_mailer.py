"""Mailers against a real local SMTP server (aiosmtpd) and a real folder."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.policy import default as default_policy
from pathlib import Path

import pytest

from banso.notifications import rules
from banso.notifications.mailer import MailDeliveryError, OutboxMailer, SMTPMailer
from tests.support.mail import SMTP_PASSWORD, SMTP_USER, SMTPServerInfo, free_port

NOW = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)


def _message(to: str = "hanako@example.jp") -> email.message.EmailMessage:
    letter = rules.Letter(kind="council.consent_requested", title_ja="協議会設置への同意のお願い",
                          title_en="Please consent to the council", body_ja="同意期限は4月15日です。",
                          body_en="The deadline is 15 April.", link="/councils/7/consent", created_at=NOW)
    recipient = rules.Recipient(email=to, name_ja="山田 花子", name_en="Hanako Yamada", locale="ja")
    return rules.notification_email(letter=letter, to=recipient, sender="banso <noreply@banso.example.jp>",
                                    base_url="https://banso.example.jp", now=NOW)


def test_smtp_mailer_delivers_japanese_mail(smtp_server: SMTPServerInfo) -> None:
    SMTPMailer(host=smtp_server.host, port=smtp_server.port, timeout=5).send(_message())
    [envelope] = smtp_server.inbox.envelopes
    assert envelope.mail_from == "noreply@banso.example.jp"
    assert envelope.rcpt_tos == ["hanako@example.jp"]
    [received] = smtp_server.inbox.messages()
    assert received["Subject"] == "【伴走】協議会設置への同意のお願い"
    assert received["To"].addresses[0].display_name == "山田 花子"
    body = received.get_content()
    assert "同意期限は4月15日です。" in body and "The deadline is 15 April." in body
    assert "https://banso.example.jp/councils/7/consent" in body


LOOPBACK_AUTH = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@LOOPBACK_AUTH
def test_smtp_mailer_logs_in_when_configured(auth_smtp_server: SMTPServerInfo) -> None:
    mailer = SMTPMailer(host=auth_smtp_server.host, port=auth_smtp_server.port, user=SMTP_USER,
                        password=SMTP_PASSWORD, timeout=5)
    mailer.send(_message())
    assert len(auth_smtp_server.inbox.envelopes) == 1


@LOOPBACK_AUTH
def test_wrong_smtp_password_is_a_clear_error(auth_smtp_server: SMTPServerInfo) -> None:
    mailer = SMTPMailer(host=auth_smtp_server.host, port=auth_smtp_server.port, user=SMTP_USER,
                        password="wrong", timeout=5)
    with pytest.raises(MailDeliveryError, match="refused the login of 'banso'"):
        mailer.send(_message())
    assert auth_smtp_server.inbox.envelopes == []


def test_refused_recipient_is_a_clear_error(smtp_server: SMTPServerInfo) -> None:
    with pytest.raises(MailDeliveryError, match=r"refused every recipient: refused@example.jp: 550"):
        SMTPMailer(host=smtp_server.host, port=smtp_server.port, timeout=5).send(_message("refused@example.jp"))


def test_unreachable_server_is_a_clear_error() -> None:
    port = free_port()  # nobody listens there
    with pytest.raises(MailDeliveryError, match=f"could not deliver through SMTP server 127.0.0.1:{port}"):
        SMTPMailer(host="127.0.0.1", port=port, timeout=2).send(_message())


def test_starttls_required_but_not_offered(smtp_server: SMTPServerInfo) -> None:
    mailer = SMTPMailer(host=smtp_server.host, port=smtp_server.port, starttls=True, timeout=5)
    with pytest.raises(MailDeliveryError, match="does not offer STARTTLS"):
        mailer.send(_message())
    assert smtp_server.inbox.envelopes == []


def test_credentials_are_never_sent_in_clear_to_a_remote_host() -> None:
    with pytest.raises(ValueError, match="without STARTTLS"):
        SMTPMailer(host="smtp.example.jp", port=587, user="u", password="p")
    with pytest.raises(ValueError, match="both"):
        SMTPMailer(host="smtp.example.jp", user="u", starttls=True)
    SMTPMailer(host="smtp.example.jp", port=587, user="u", password="p", starttls=True)  # fine


def test_outbox_mailer_writes_a_readable_eml(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    OutboxMailer(outbox).send(_message())
    [written] = list(outbox.glob("*.eml"))
    parsed = email.message_from_bytes(written.read_bytes(), policy=default_policy)
    assert parsed["Subject"] == "【伴走】協議会設置への同意のお願い"
    assert "同意期限は4月15日です。" in parsed.get_content()  # type: ignore[attr-defined]
    assert not list(outbox.glob("*.tmp"))


def test_outbox_mailer_reports_an_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(MailDeliveryError, match="could not write the e-mail to the outbox"):
        OutboxMailer(blocker / "outbox").send(_message())
