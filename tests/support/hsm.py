"""A real PKCS#11 token for tests: SoftHSM2 with its own configuration and token folder (issue 17, O2).

The ``softhsm`` session fixture writes a ``softhsm2.conf`` into a temporary folder, initialises a
token there with ``softhsm2-util --init-token`` and points ``SOFTHSM2_CONF`` at it for this test
process (and for the subprocesses a test starts with :meth:`SoftHsm.env`); the system's token folder
is never touched. Without SoftHSM2 the fixture fails when ``CI`` is set and skips otherwise.

Every test gets its own label prefix (``hsm_prefix``), so tests share the token without sharing keys:
a council revoked by one test is not revoked for the next one that reuses the id.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr

from banso.config import Settings
from banso.sealed.pkcs11 import Pkcs11KeyStore, Pkcs11Token
from tests.support.app import make_settings

LIBRARY = "/usr/lib/softhsm/libsofthsm2.so"
TOKEN_LABEL = "banso-test"
PIN = "4711-banso"
SO_PIN = "0815-banso-so"


@dataclass(frozen=True)
class SoftHsm:
    """An initialised SoftHSM2 token of this test session."""

    conf: Path
    library: str = LIBRARY
    token_label: str = TOKEN_LABEL
    pin: str = PIN

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Return an environment for a subprocess that must see this token."""
        return {**(base if base is not None else os.environ), "SOFTHSM2_CONF": str(self.conf)}

    def token(self) -> Pkcs11Token:
        """Return a handle on the token (opened on first use)."""
        return Pkcs11Token(library=self.library, token_label=self.token_label, pin=self.pin)

    def store(self, prefix: str, lock_path: Path, *, kind: str = "council") -> Pkcs11KeyStore:
        """Return a key store on the token whose labels start with ``prefix``."""
        return Pkcs11KeyStore(self.token(), prefix=kind, label_prefix=prefix, lock_path=lock_path)

    def settings(self, base: Settings, prefix: str) -> Settings:
        """Return ``base`` switched to this token (BANSO_KEY_STORE=pkcs11)."""
        return base.model_copy(update={"key_store": "pkcs11", "pkcs11_library": self.library,
                                       "pkcs11_token_label": self.token_label, "pkcs11_pin": SecretStr(self.pin),
                                       "pkcs11_label_prefix": prefix})

    def settings_env(self, prefix: str) -> dict[str, str]:
        """Return the BANSO_* variables that select this token, for a ``banso`` subprocess."""
        return {"BANSO_KEY_STORE": "pkcs11", "BANSO_PKCS11_LIBRARY": self.library,
                "BANSO_PKCS11_TOKEN_LABEL": self.token_label, "BANSO_PKCS11_PIN": self.pin,
                "BANSO_PKCS11_LABEL_PREFIX": prefix, "SOFTHSM2_CONF": str(self.conf)}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"SoftHSM2 is required in CI: {reason}")
    pytest.skip(f"SoftHSM2 not available: {reason}")


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    """Start a SoftHSM2 token in a temporary folder for this test session."""
    util = shutil.which("softhsm2-util")
    if util is None or not Path(LIBRARY).exists():
        _unavailable("softhsm2-util or libsofthsm2.so missing (apt-get install softhsm2)")
    folder = tmp_path_factory.mktemp("softhsm")
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nobjectstore.backend = file\n"
                    "log.level = ERROR\nslots.removable = false\n")
    hsm = SoftHsm(conf=conf)
    subprocess.run([str(util), "--init-token", "--free", "--label", TOKEN_LABEL, "--pin", PIN, "--so-pin", SO_PIN],
                   env=hsm.env(), check=True, capture_output=True, timeout=60)
    with pytest.MonkeyPatch.context() as patch:
        # The library reads SOFTHSM2_CONF when this process first initialises it.
        patch.setenv("SOFTHSM2_CONF", str(conf))
        yield hsm


@pytest.fixture
def hsm_prefix() -> str:
    """Return a label prefix of this test's own (keys of other tests stay out of its way)."""
    return f"t{uuid.uuid4().hex[:12]}"


def settings_by_store(request: pytest.FixtureRequest, folder: Path) -> Settings:
    """Return test settings for ``request.param``: ``file`` (key files) or ``pkcs11`` (the session's token).

    For a ``settings`` fixture parametrised over both key stores, so a module's tests run on each.
    """
    base = make_settings(folder)
    if request.param == "pkcs11":
        hsm: SoftHsm = request.getfixturevalue("softhsm")
        return hsm.settings(base, request.getfixturevalue("hsm_prefix"))
    return base
