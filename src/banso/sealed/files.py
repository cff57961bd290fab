"""Content-addressed blob store: a Protocol, the local-disk store and a fake.

Since migration 0011 it holds only ciphertext (sealed items and sealed council content, I11); the
old plaintext folder of material-request answers (``data_dir/councils/files``) is read once by that
migration and emptied with :meth:`LocalFileStore.discard`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class FileStore(Protocol):
    """Stores bytes by their SHA-256 and gives them back."""

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its SHA-256 hex digest."""
        ...

    def get(self, digest: str) -> bytes:
        """Return the bytes stored under ``digest`` (FileNotFoundError if missing)."""
        ...


def _check_digest(digest: str) -> str:
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("not a SHA-256 hex digest")
    return digest


class LocalFileStore:
    """Content-addressed files under a folder of the data dir (``<root>/ab/abcdef…``).

    Content addressing makes a write idempotent, so a rolled-back transaction leaves at most
    an unreferenced file, never a wrong one.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str) -> Path:
        digest = _check_digest(digest)
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` atomically and durably, and return its digest.

        The bytes are synced before the rename, and the folder after it: a rename lives in the
        folder's entries, so without that sync a power loss could lose a blob whose row the
        database already committed (the commit follows ``put``).
        """
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        make_directories(path.parent)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        fsync_directory(path.parent)
        return digest

    def get(self, digest: str) -> bytes:
        """Return the stored bytes."""
        return self._path(digest).read_bytes()

    def discard(self, digest: str) -> bool:
        """Delete the bytes stored under ``digest``; return True if a file was removed."""
        try:
            self._path(digest).unlink()
        except FileNotFoundError:
            return False
        return True


def make_directories(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each new entry synced in the folder that holds it."""
    missing = []
    probe = folder
    while not probe.is_dir():
        missing.append(probe)
        probe = probe.parent
    folder.mkdir(parents=True, exist_ok=True)
    for created in reversed(missing):
        fsync_directory(created.parent)


def fsync_directory(folder: Path) -> None:
    """Make the entries of ``folder`` (a file just created or renamed there) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FakeFileStore:
    """An in-memory store for tests."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        """Store ``data`` and return its digest."""
        digest = hashlib.sha256(data).hexdigest()
        self.blobs[digest] = data
        return digest

    def get(self, digest: str) -> bytes:
        """Return the stored bytes."""
        try:
            return self.blobs[_check_digest(digest)]
        except KeyError:
            raise FileNotFoundError(digest) from None
