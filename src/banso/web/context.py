"""The application context: everything wired once at start-up (cosmicpython ``bootstrap``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from banso.accounts.security import SecretBox
from banso.audit.checkpoints import load_or_create_signing_key
from banso.config import Settings
from banso.db.engine import make_engine, make_session_factory
from banso.kit.clock import Clock, SystemClock


@dataclass
class AppContext:
    """Process-wide collaborators of the web app and the CLI."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    box: SecretBox
    signing_key: Ed25519PrivateKey

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
        clock=clock or SystemClock(),
        box=SecretBox(settings.secret_key),
        signing_key=load_or_create_signing_key(settings.signing_key_path),
    )
