"""The application context: everything wired once at start-up (cosmicpython ``bootstrap``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from banso.accounts.security import SecretBox
from banso.audit.checkpoints import load_or_create_signing_key
from banso.config import Settings
from banso.db.engine import make_engine, make_session_factory
from banso.kit.clock import Clock, OffsetClock, SystemClock
from banso.notifications.mailer import Mailer, OutboxMailer, SMTPMailer

if TYPE_CHECKING:
    from banso.information.deps import InformationDeps


@dataclass
class AppContext:
    """Process-wide collaborators of the web app and the CLI."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    box: SecretBox
    signing_key: Ed25519PrivateKey
    # Outgoing e-mail; left out (tests), it writes .eml files to data_dir/outbox.
    mailer: Mailer = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.mailer is None:
            self.mailer = OutboxMailer(self.settings.data_dir / "outbox")

    @property
    def data_dir(self) -> Path:
        """Return the data folder."""
        return self.settings.data_dir


def build_context(settings: Settings, *, clock: Clock | None = None, engine: Engine | None = None) -> AppContext:
    """Wire the context from settings (real implementations unless a test passes its own)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine or make_engine(settings.sqlalchemy_url)
    return AppContext(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        clock=clock or (OffsetClock(settings.clock_offset_file) if settings.clock_offset_file else SystemClock()),
        box=SecretBox(settings.secret_key),
        signing_key=load_or_create_signing_key(settings.signing_key_path),
        mailer=_mailer(settings),
    )


def _mailer(settings: Settings) -> Mailer:
    """Return the SMTP mailer when a server is configured, else the outbox folder (demo: no server needed)."""
    if settings.smtp_host:
        return SMTPMailer(
            host=settings.smtp_host, port=settings.smtp_port, user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls, timeout=settings.smtp_timeout_seconds,
        )
    return OutboxMailer(settings.data_dir / "outbox")


def information_deps(ctx: AppContext) -> "InformationDeps":
    """Return the information collaborators for this context (files and council keys under data_dir)."""
    from banso.information.deps import local_deps

    return local_deps(ctx.data_dir, ctx.settings.secret_key)
