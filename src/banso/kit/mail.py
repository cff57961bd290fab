"""The outgoing-mail port: what the toolkit and the domains need of a mailer.

The implementations (SMTP, an ``.eml`` outbox, a fake) live in ``banso.notifications.mailer``;
``banso.app.wiring`` is the one place that chooses one.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class Mailer(Protocol):
    """Anything that delivers an e-mail message (or raises MailDeliveryError)."""

    def send(self, message: EmailMessage) -> None: ...
