"""The composition root: every external system is built once, from the settings, in app/wiring.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from banso.accounts.auth import authenticate
from banso.app.wiring import build_context
from banso.config import Mode, Settings
from banso.information.deps import InformationDeps, information_deps, local_deps
from banso.kit.collaborators import Collaborators
from banso.notifications.mailer import OutboxMailer
from banso.programme.council_link import CouncilsServiceGateway
from banso.sealed import store as sealed
from tests.support.factories import TEST_SECRET


def _settings(tmp_path: Path) -> Settings:
    return Settings(mode=Mode.TEST, data_dir=tmp_path / "data", secret_key=TEST_SECRET, database_url="sqlite://")


def test_the_context_carries_every_external_system_built_from_the_settings(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    ctx = build_context(settings)
    assert isinstance(ctx.mailer, OutboxMailer) and ctx.mailer.folder == settings.data_dir / "outbox"
    assert ctx.authenticator is authenticate
    assert settings.signing_key_path.is_file()
    # Each domain reads its own collaborators back, typed, from the one place that built them.
    info = information_deps(ctx)
    assert info is information_deps(ctx)  # built once, not per call
    assert info.fingerprint_key == local_deps(settings.data_dir, settings.secret_key).fingerprint_key
    store = sealed.sealed_deps(ctx)
    assert store.fingerprint_key == info.fingerprint_key  # one fingerprint key for items and council content
    assert isinstance(ctx.collaborators.get(CouncilsServiceGateway), CouncilsServiceGateway)
    ctx.engine.dispose()


def test_a_collaborator_nobody_wired_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match=r"no InformationDeps collaborator is wired \(see banso\.app\.wiring\)"):
        Collaborators().get(InformationDeps)


def test_help_builds_no_context(tmp_path: Path) -> None:
    """`banso --help` wires nothing: no data folder, no signing key (the context is built on first use)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANSO_")}
    env.update({"BANSO_DATA_DIR": str(tmp_path / "data"), "BANSO_MODE": "development", "COLUMNS": "200"})
    done = subprocess.run([sys.executable, "-m", "banso", "--help"], env=env, capture_output=True, text=True, check=False,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "db" in done.stdout and "demo" in done.stdout
    assert not (tmp_path / "data").exists()
