"""The application context: every collaborator built once at start-up (cosmicpython ``bootstrap``).

The dataclass lives in the toolkit because every layer receives it; it is *built* only in
``banso.app.wiring``. Its fields are typed with ports (``Mailer``, ``Authenticator``, ``Clock``), and a
domain's own collaborators (information's stores, programme's council gateway) sit in
``collaborators``, read back typed by the domain that owns them (e.g. ``information.deps.information_deps``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from banso.config import Settings
from banso.kit.clock import Clock
from banso.kit.collaborators import Collaborators
from banso.kit.crypto import SecretBox
from banso.kit.mail import Mailer
from banso.kit.root import root_object
from banso.web.auth import Authenticator


@dataclass
class AppContext:
    """Process-wide collaborators of the web app and the CLI."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    box: SecretBox
    signing_key: Ed25519PrivateKey
    mailer: Mailer  # outgoing e-mail (SMTP, or .eml files under data_dir/outbox)
    authenticator: Authenticator  # who is asking (accounts.auth.authenticate)
    collaborators: Collaborators  # each domain's own collaborators, keyed by class

    @property
    def data_dir(self) -> Path:
        """Return the data folder."""
        return self.settings.data_dir


def app_context() -> AppContext:
    """Return the context of the running ``banso`` command (built on first use by the root command)."""
    return root_object(AppContext)
