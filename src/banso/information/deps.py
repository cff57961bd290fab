"""What the information services need besides a session: the file store, the key store, a secret."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from banso.sealed import store as sealed
from banso.sealed.crypto import KeyStore
from banso.sealed.files import FileStore
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
    """Return the embedded defaults: the sealed store's blobs, council keys and fingerprint key."""
    return over_sealed(sealed.local_deps(data_dir, secret))


def over_sealed(shared: sealed.SealedDeps) -> InformationDeps:
    """Return information's collaborators as views of the sealed store's (the same blobs, keys and secret)."""
    return InformationDeps(store=shared.store, keys=shared.council_keys, fingerprint_key=shared.fingerprint_key)


def information_deps(ctx: AppContext) -> InformationDeps:
    """Return the information collaborators ``banso.app.wiring`` built for ``ctx``."""
    return ctx.collaborators.get(InformationDeps)
