"""Outgoing e-mail behind a Protocol: SMTP for real servers, an outbox folder for demos, a fake for tests.

The port itself (:class:`banso.kit.mail.Mailer`) lives in the kit so the toolkit's context can carry
it; ``banso.app.wiring`` is the one place that chooses the implementation.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

log = logging.getLogger("banso.mail")

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class MailDeliveryError(RuntimeError):
    """An e-mail could not be handed over; the message says where and why (safe to log)."""


class SMTPMailer:
    """Deliver through an SMTP server, with optional STARTTLS and login, and a timeout on every step."""

    def __init__(
        self,
        *,
        host: str,
        port: int = 25,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if not host:
            raise ValueError("SMTP host must not be empty")
        if (user is None) != (password is None):
            raise ValueError("set both BANSO_SMTP_USER and BANSO_SMTP_PASSWORD, or neither")
        if password is not None and not starttls and host not in _LOOPBACK:
            # Why: AUTH over a clear connection would hand the password to anyone on the path.
            raise ValueError(
                f"refusing to send SMTP credentials to {host}:{port} without STARTTLS; set BANSO_SMTP_STARTTLS=true"
            )
        self.host, self.port, self.user, self.password = host, port, user, password
        self.starttls, self.timeout = starttls, timeout
        self._tls_context = tls_context

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` to the server; raise MailDeliveryError with the server's answer on failure."""
        where = f"SMTP server {self.host}:{self.port}"
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                smtp.ehlo()
                if self.starttls:
                    if not smtp.has_extn("starttls"):
                        raise MailDeliveryError(f"{where} does not offer STARTTLS (BANSO_SMTP_STARTTLS is on)")
                    smtp.starttls(context=self._tls_context or ssl.create_default_context())
                    smtp.ehlo()
                if self.user is not None and self.password is not None:
                    smtp.login(self.user, self.password)
                refused = smtp.send_message(message)
        except MailDeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise MailDeliveryError(f"{where} refused the login of {self.user!r}: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise MailDeliveryError(f"{where} refused every recipient: {_refusals(exc.recipients)}") from exc
        except smtplib.SMTPResponseException as exc:
            raise MailDeliveryError(f"{where} answered {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except TimeoutError as exc:
            raise MailDeliveryError(f"{where} did not answer within {self.timeout:g} s") from exc
        except ssl.SSLError as exc:
            raise MailDeliveryError(f"TLS with {where} failed: {exc}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailDeliveryError(f"could not deliver through {where}: {exc}") from exc
        if refused:
            raise MailDeliveryError(f"{where} refused some recipients: {_refusals(refused)}")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in recipients.items())


class OutboxMailer:
    """Write each message as an ``.eml`` file into a folder (demo and development: no server needed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        """Write ``message`` to ``<folder>/<UTC time>-<random>.eml`` atomically."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        target = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        tmp = target.with_suffix(".eml.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(message.as_bytes(policy=SMTP))
            os.replace(tmp, target)
        except OSError as exc:
            raise MailDeliveryError(f"could not write the e-mail to the outbox {self.folder}: {exc}") from exc
        log.info("e-mail to %s written to %s", message.get("To"), target)


class FakeMailer:
    """Keep messages in memory (unit tests only); ``fail_with`` makes every send fail."""

    def __init__(self, *, fail_with: str | None = None) -> None:
        self.sent: list[EmailMessage] = []
        self.fail_with = fail_with
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        """Record ``message`` or fail as configured."""
        if self.fail_with is not None:
            raise MailDeliveryError(self.fail_with)
        with self._lock:
            self.sent.append(message)
