"""Wiring: the context picks SMTP or the outbox folder; the job function sends through ctx.mailer."""

from __future__ import annotations

import email
from email.policy import default as default_policy
from pathlib import Path

from sqlalchemy.orm import Session

from banso.app.wiring import build_context
from banso.config import Mode, Settings
from banso.notifications import tasks
from banso.notifications.mailer import OutboxMailer, SMTPMailer
from banso.web.context import AppContext
from tests.support.factories import TEST_SECRET, Factory
from tests.support.mail import SMTPServerInfo, send


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(mode=Mode.TEST, data_dir=tmp_path / "data", secret_key=TEST_SECRET, database_url="sqlite://",
                    **extra)  # type: ignore[arg-type]


def test_without_smtp_host_mail_goes_to_the_outbox(tmp_path: Path) -> None:
    ctx = build_context(_settings(tmp_path))
    assert isinstance(ctx.mailer, OutboxMailer) and ctx.mailer.folder == tmp_path / "data" / "outbox"


def test_with_smtp_host_mail_goes_to_the_server(tmp_path: Path) -> None:
    ctx = build_context(_settings(tmp_path, smtp_host="smtp.example.jp", smtp_port=587, smtp_user="u",
                                  smtp_password="mail-pass-123", smtp_starttls=True))
    assert isinstance(ctx.mailer, SMTPMailer)
    assert (ctx.mailer.host, ctx.mailer.port, ctx.mailer.starttls, ctx.mailer.password) == (
        "smtp.example.jp", 587, True, "mail-pass-123")
    assert "mail-pass-123" not in repr(ctx.settings)


def test_job_writes_immediate_mail_and_digest_to_the_outbox(db: Session, factory: Factory, ctx: AppContext) -> None:
    me = factory.person()
    send(db, [me.user.id], ctx.clock.now(), email_now=True)  # 09:00 JST: the digest is due too
    db.commit()
    done = tasks.run_due(ctx)
    assert done == ["notifications:email:send sent=1 failed=0", "notifications:digest:send sent=1 failed=0"]
    files = sorted((ctx.data_dir / "outbox").glob("*.eml"))
    subjects = {email.message_from_bytes(f.read_bytes(), policy=default_policy)["Subject"] for f in files}
    assert subjects == {"【伴走】第3回会議の開催予定", "【伴走】未読の通知 1件（2026年4月1日）"}
    assert tasks.run_due(ctx) == []  # nothing twice


def test_job_uses_the_configured_sender_and_smtp(
    db: Session, factory: Factory, ctx: AppContext, smtp_server: SMTPServerInfo
) -> None:
    ctx.settings.mail_from = "伴走事務局 <office@banso.example.jp>"
    ctx.settings.base_url = "https://banso.example.jp"
    ctx.mailer = SMTPMailer(host=smtp_server.host, port=smtp_server.port, timeout=5)
    me = factory.person()
    send(db, [me.user.id], ctx.clock.now(), email_now=True)
    db.commit()
    tasks.run_due(ctx)
    first = smtp_server.inbox.messages()[0]
    assert first["From"].addresses[0].display_name == "伴走事務局"
    assert smtp_server.inbox.envelopes[0].mail_from == "office@banso.example.jp"
    assert "https://banso.example.jp/inbox" in first.get_content()  # type: ignore[attr-defined]
