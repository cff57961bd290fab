"""The one wiring module: every external system built from the settings and handed on in the context.

Clock, mailer, TOTP secret box, audit signing key, the authenticator, and each domain's collaborators
(information's file store, council key store — key files or an HSM — and fingerprint key; the sealed store of council content
and deliverables; programme's council gateway). Production, the demo, the CLI and tests all build
their context here; a test passes its own engine, sessions or clock.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from banso.accounts.auth import authenticate
from banso.accounts.sso import SsoClients
from banso.app import tasks
from banso.app.audit_directory import DomainDirectory
from banso.app.commission_filing import ProgrammeCommissionFiler
from banso.audit.checkpoints import load_or_create_signing_key
from banso.audit.directory import AuditDirectory
from banso.config import Settings
from banso.db.engine import make_engine, make_session_factory
from banso.information.deps import InformationDeps, over_sealed
from banso.kit.clock import Clock, OffsetClock, SystemClock
from banso.kit.collaborators import Collaborators
from banso.kit.crypto import SecretBox
from banso.kit.mail import Mailer
from banso.notifications.mailer import OutboxMailer, SMTPMailer
from banso.notifications.service import TaskNotices
from banso.programme.council_link import CouncilsServiceGateway
from banso.sealed import store as sealed
from banso.sealed.pending import PendingUploads, pending_at
from banso.sealed.pkcs11 import key_stores
from banso.thinktank.interfaces import CommissionFiler
from banso.web.context import AppContext


def build_context(
    settings: Settings,
    *,
    clock: Clock | None = None,
    engine: Engine | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> AppContext:
    """Wire the context from settings (real implementations unless a test passes its own)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine or make_engine(settings.sqlalchemy_url, durable=settings.durable_writes)
    return AppContext(
        settings=settings,
        engine=engine,
        sessions=sessions or make_session_factory(engine),
        clock=clock or system_clock(settings),
        box=SecretBox(settings.secret_key),
        signing_key=load_or_create_signing_key(settings.signing_key_path),
        mailer=mailer(settings),
        authenticator=authenticate,
        collaborators=domain_collaborators(settings),
    )


def system_clock(settings: Settings) -> Clock:
    """Return the wall clock, shifted by the offset file when one is configured (demo time travel)."""
    return OffsetClock(settings.clock_offset_file) if settings.clock_offset_file else SystemClock()


def mailer(settings: Settings) -> Mailer:
    """Return the SMTP mailer when a server is configured, else the outbox folder (demo: no server needed)."""
    if settings.smtp_host:
        return SMTPMailer(
            host=settings.smtp_host, port=settings.smtp_port, user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls, timeout=settings.smtp_timeout_seconds,
        )
    return OutboxMailer(settings.data_dir / "outbox")


def domain_collaborators(settings: Settings) -> Collaborators:
    """Return each domain's collaborators: files and keys under data_dir, the council gateway."""
    found = Collaborators()
    # Built once: information shares the sealed store's blobs and council keys, and one key store per
    # folder keeps its in-process creation lock meaningful.
    shared = sealed.local_deps(settings.data_dir, settings.secret_key, keys=key_stores(settings))
    found.add(sealed.SealedDeps, shared)
    found.add(InformationDeps, over_sealed(shared))
    found.add(PendingUploads, pending_at(settings.data_dir))  # files kept across a refused form (issue 14)
    found.add(CouncilsServiceGateway, CouncilsServiceGateway())
    found.add(SsoClients, SsoClients(settings))  # single sign-on providers (O3); caches discovery and keys
    found.add(AuditDirectory, DomainDirectory())  # type: ignore[type-abstract]  # names in the audit log (issue 14)
    found.add(TaskNotices, TaskNotices(tasks.settle_notices))  # the inbox completes itself (issue 14)
    found.add(CommissionFiler, ProgrammeCommissionFiler(shared))  # type: ignore[type-abstract]  # T6 into F5
    return found
