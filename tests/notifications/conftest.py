"""Fixtures for notification tests: a real local SMTP server (aiosmtpd), a fake mailer (parts in tests/support/mail.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from banso.notifications.mailer import FakeMailer
from tests.support.mail import Inbox, SMTPServerInfo, authenticator, free_port


@pytest.fixture
def smtp_server() -> Iterator[SMTPServerInfo]:
    """Run a real SMTP server (aiosmtpd) on 127.0.0.1 and a free port for the test."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SMTPServerInfo(host="127.0.0.1", port=port, inbox=inbox)
    finally:
        controller.stop()


@pytest.fixture
def auth_smtp_server() -> Iterator[SMTPServerInfo]:
    """Run a local SMTP server that requires AUTH LOGIN/PLAIN (allowed without TLS on loopback, tests only)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        yield SMTPServerInfo(host="127.0.0.1", port=port, inbox=inbox)
    finally:
        controller.stop()


@pytest.fixture
def fake_mailer() -> FakeMailer:
    """Return an in-memory mailer."""
    return FakeMailer()

