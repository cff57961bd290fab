"""What the information services need besides a session: the file store, the key store, a secret."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from banso.councils.files import FileStore, LocalFileStore
from banso.information.crypto import KeyStore, LocalKeyFileStore
from banso.web.context import AppContext

MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass
class InformationDeps:
    """Collaborators of the information services (real ones from :func:`local_deps`, fakes in tests)."""

    store: FileStore  # ciphertext blobs, content-addressed
    keys: KeyStore  # per-council key-encryption keys (I11)
    fingerprint_key: bytes  # HMAC key deriving per-recipient fingerprints (I8)
    max_file_bytes: int = MAX_FILE_BYTES


def local_deps(data_dir: Path, secret: str) -> InformationDeps:
    """Return the embedded defaults: files and council keys under ``data_dir``."""
    return InformationDeps(
        store=LocalFileStore(data_dir / "information" / "blobs"),
        keys=LocalKeyFileStore(data_dir / "keys" / "councils"),
        # A separate key per purpose, derived from the app secret (never the secret itself).
        fingerprint_key=hmac.new(secret.encode(), b"banso:fingerprint:v1", hashlib.sha256).digest(),
    )


def information_deps(ctx: AppContext) -> InformationDeps:
    """Return the information collaborators ``banso.app.wiring`` built for ``ctx``."""
    return ctx.collaborators.get(InformationDeps)
