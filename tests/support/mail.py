"""Mail for tests: a real local SMTP server's parts (aiosmtpd), a free port, and notifications to send."""

from __future__ import annotations

import email
import socket
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from aiosmtpd.smtp import Session as SMTPSession
from sqlalchemy.orm import Session

from banso.notifications import service
from banso.notifications.models import Notification

SMTP_USER, SMTP_PASSWORD = "banso", "mail-secret"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
@dataclass
class Inbox:
    """What the local SMTP server received."""

    envelopes: list[Envelope] = field(default_factory=list)
    refuse_prefix: str = "refused"

    async def handle_RCPT(self, server: SMTPServer, session: SMTPSession, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.startswith(self.refuse_prefix):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: SMTPSession, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        """Return the received messages, parsed (headers and bodies decoded on access)."""
        parsed = []
        for env in self.envelopes:
            raw = env.original_content or env.content
            assert isinstance(raw, bytes)
            parsed.append(email.message_from_bytes(raw, policy=default_policy))
        return parsed


@dataclass
class SMTPServerInfo:
    """Where the test SMTP server listens and what it received."""

    host: str
    port: int
    inbox: Inbox


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    """Accept AUTH only with the test credentials."""
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
          and auth_data.password == SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


def send(db: Session, recipients: list[int], now: datetime, *, subject: str = "call:12", kind: str =
         "council.meeting_scheduled", email_now: bool = False, title: str = "第3回会議の開催予定",
         title_en: str = "3rd meeting scheduled", link: str | None = "/councils/12/meetings/3") -> list[Notification]:
    """Create notifications with sensible bilingual text."""
    return service.notify(
        db, recipient_ids=recipients, kind=kind, title_ja=title, title_en=title_en,
        body_ja="2026年4月10日 14:00 から開催します。\n議題案をご確認ください。",
        body_en="The meeting starts at 14:00 on 10 April 2026.\nPlease review the draft agenda.",
        link=link, subject=subject, now=now, email_now=email_now,
    )
