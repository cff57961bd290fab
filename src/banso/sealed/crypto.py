"""Envelope encryption of stored files (I11: encrypted at rest, per-item data keys, per-council key).

Vocabulary:

* **data key** — a fresh 256-bit AES key per item (or per file); it encrypts the content.
* **sealed blob** — ``version (1 byte) ‖ nonce (12 bytes) ‖ AES-256-GCM ciphertext and tag (16 bytes)``.
  The caller passes ``aad`` (associated data, e.g. ``b"banso:item:42:file:7"``) so that a blob
  copied onto another item's row does not decrypt there.
* **key-encryption key (KEK)** — one 256-bit key per council, held by a :class:`KeyStore`. Only
  the wrapped (encrypted) data key is stored next to the item; releasing content means unwrapping
  its data key, so the key store is the single gate for new key releases (I11).
* **revocation** — destroying a council's KEK makes every data key wrapped by it unrecoverable
  (crypto-shredding); afterwards ``unwrap`` raises :class:`KeyUnavailable`.

This module is pure: no database, no settings; the key store root is passed in.
"""

from __future__ import annotations

import contextlib
import operator
import os
import tempfile
import threading
from pathlib import Path
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from banso.kit.errors import BansoError

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
SEAL_VERSION: Final = 1
_HEADER_BYTES: Final = 1 + NONCE_BYTES


class TamperedCiphertext(BansoError):
    """A sealed blob failed its integrity check: wrong key, wrong context, damaged or forged (I11)."""

    status_code = 422
    code = "integrity_failed"


class KeyUnavailable(BansoError):
    """The council key needed to release a data key does not exist or has been destroyed (I11)."""

    status_code = 410
    code = "key_unavailable"


def new_data_key() -> bytes:
    """Return a fresh random 256-bit AES data key."""
    return AESGCM.generate_key(bit_length=256)


def _check_key(key: bytes) -> None:
    # I11 fixes AES-256; a 128-bit key slipping through would silently weaken every file.
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError(f"AES-256 key must be {KEY_BYTES} bytes")


def seal(plaintext: bytes, *, data_key: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext`` under ``data_key``, bound to ``aad``."""
    _check_key(data_key)
    # Random 96-bit nonces: a data key encrypts a handful of versions of one item, far below
    # the 2^32 messages at which random GCM nonces start to risk a collision.
    nonce = os.urandom(NONCE_BYTES)
    return bytes([SEAL_VERSION]) + nonce + AESGCM(data_key).encrypt(nonce, plaintext, aad)


def open_sealed(blob: bytes, *, data_key: bytes, aad: bytes) -> bytes:
    """Decrypt a blob made by :func:`seal`; raise :class:`TamperedCiphertext` if it does not verify."""
    _check_key(data_key)
    if len(blob) < _HEADER_BYTES + TAG_BYTES:
        raise TamperedCiphertext("The encrypted file is truncated and cannot be verified.")
    if blob[0] != SEAL_VERSION:
        raise TamperedCiphertext(f"The encrypted file has unknown format version {blob[0]}.")
    nonce, body = blob[1:_HEADER_BYTES], blob[_HEADER_BYTES:]
    try:
        return AESGCM(data_key).decrypt(nonce, body, aad)
    except InvalidTag:
        # One message for wrong key, wrong context and damage: telling them apart would help a forger.
        raise TamperedCiphertext(
            "The encrypted file failed its integrity check: it was altered, or belongs to another item."
        ) from None


class KeyStore(Protocol):
    """Holder of per-council key-encryption keys (I11); wraps and unwraps item data keys."""

    def wrap(self, council_id: int, data_key: bytes) -> bytes:
        """Encrypt ``data_key`` under the council's key, creating that key on first use."""
        ...

    def unwrap(self, council_id: int, wrapped: bytes) -> bytes:
        """Recover a data key wrapped for ``council_id``; raise KeyUnavailable once the key is gone."""
        ...

    def revoke(self, council_id: int) -> None:
        """Destroy the council's key for good: its wrapped data keys become unrecoverable."""
        ...


def _kek_aad(council_id: int) -> bytes:
    return f"banso-kek:council:{council_id}".encode()


def _council_id(value: int) -> int:
    # operator.index rejects floats and strings; the id also becomes part of a file name.
    council_id = operator.index(value)
    if isinstance(value, bool) or council_id < 0:
        raise ValueError("council_id must be a non-negative integer")
    return council_id


# Why AES-GCM rather than RFC 3394 AES key wrap: GCM takes associated data, so a wrapped key is
# bound to its council id (``banso-kek:council:<id>``) even if a key file were ever copied or
# renamed, and the code reuses the one primitive (and blob format) already reviewed for seal().
# Key wrap's advantage, determinism without a nonce, does not matter here: a council wraps far
# fewer than 2^32 keys, the bound for random 96-bit nonces.
def _wrap_with(kek: bytes, council_id: int, data_key: bytes) -> bytes:
    _check_key(data_key)
    return seal(data_key, data_key=kek, aad=_kek_aad(council_id))


def _unwrap_with(kek: bytes, council_id: int, wrapped: bytes) -> bytes:
    data_key = open_sealed(wrapped, data_key=kek, aad=_kek_aad(council_id))
    if len(data_key) != KEY_BYTES:
        raise TamperedCiphertext("The wrapped data key has the wrong length.")
    return data_key


def _revoked_message(council_id: int) -> str:
    return f"The key of council {council_id} has been destroyed; its files can no longer be decrypted."


class FakeKeyStore:
    """In-memory :class:`KeyStore` for tests; behaves like :class:`LocalKeyFileStore`."""

    def __init__(self) -> None:
        self._keys: dict[int, bytes] = {}
        self._revoked: set[int] = set()
        self._lock = threading.Lock()

    def wrap(self, council_id: int, data_key: bytes) -> bytes:
        """Encrypt ``data_key`` under the council's key, creating that key on first use."""
        council_id = _council_id(council_id)
        with self._lock:
            if council_id in self._revoked:
                raise KeyUnavailable(_revoked_message(council_id))
            kek = self._keys.get(council_id)
            if kek is None:
                kek = self._keys[council_id] = new_data_key()
        return _wrap_with(kek, council_id, data_key)

    def unwrap(self, council_id: int, wrapped: bytes) -> bytes:
        """Recover a data key wrapped for ``council_id``; raise KeyUnavailable once the key is gone."""
        council_id = _council_id(council_id)
        with self._lock:
            kek = self._keys.get(council_id)
        if kek is None:
            raise KeyUnavailable(_revoked_message(council_id) if council_id in self._revoked
                                 else f"Council {council_id} has no key.")
        return _unwrap_with(kek, council_id, wrapped)

    def revoke(self, council_id: int) -> None:
        """Destroy the council's key for good: its wrapped data keys become unrecoverable."""
        council_id = _council_id(council_id)
        with self._lock:
            self._keys.pop(council_id, None)
            self._revoked.add(council_id)

    def has_key(self, council_id: int) -> bool:
        """Return True if the council currently has a key."""
        return _council_id(council_id) in self._keys


class LocalKeyFileStore:
    """Default :class:`KeyStore`: one key file per council, ``<root>/council-<id>.key`` (I11).

    Files are 0600 in a 0700 directory. A revoked council leaves a ``council-<id>.revoked``
    tombstone so that the id can never silently get a fresh key (which would turn "destroyed"
    into a confusing integrity failure for old files).
    """

    def __init__(self, root: str | os.PathLike[str], *, prefix: str = "council") -> None:
        self.root = Path(root)
        self.prefix = prefix  # "commission" for the store of commission keys (banso.sealed.store)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask and ignored for an existing directory; keys must
        # not be listable or readable by other local users.
        os.chmod(self.root, 0o700)
        self._lock = threading.Lock()

    def key_path(self, council_id: int) -> Path:
        """Return the path of the council's key file."""
        return self.root / f"{self.prefix}-{_council_id(council_id)}.key"

    def _tombstone(self, council_id: int) -> Path:
        return self.root / f"{self.prefix}-{council_id}.revoked"

    def _read(self, council_id: int) -> bytes | None:
        # Tombstone first: a revocation interrupted before the unlink must still count.
        if self._tombstone(council_id).exists():
            raise KeyUnavailable(_revoked_message(council_id))
        try:
            kek = self.key_path(council_id).read_bytes()
        except FileNotFoundError:
            return None
        if len(kek) != KEY_BYTES:
            raise KeyUnavailable(f"The key file of council {council_id} is damaged.")
        return kek

    def _create(self, council_id: int) -> bytes:
        """Return the council's key, creating it if needed; exactly one key wins under races."""
        # The lock serialises threads of this process; os.link below serialises everybody else.
        with self._lock:
            kek = self._read(council_id)
            if kek is not None:
                return kek
            fd, tmp_name = tempfile.mkstemp(prefix=".council-", suffix=".tmp", dir=self.root)
            try:
                # mkstemp creates the file 0600 with O_EXCL; the key is complete and on disk
                # before its final name appears, so no reader ever sees a half-written key.
                with os.fdopen(fd, "wb") as fh:
                    fh.write(new_data_key())
                    fh.flush()
                    os.fsync(fh.fileno())
                # Publish atomically without clobbering: unlike os.replace, os.link fails with
                # FileExistsError (the O_EXCL guarantee) if another process already published a
                # key, and replacing a key that may already have wrapped data keys would lose them.
                with contextlib.suppress(FileExistsError):
                    os.link(tmp_name, self.key_path(council_id))
            finally:
                os.unlink(tmp_name)
            self._fsync_dir()
            kek = self._read(council_id)
            if kek is None:  # pragma: no cover - only if someone deletes the file in between
                raise KeyUnavailable(f"The key file of council {council_id} vanished while being created.")
            return kek

    def _fsync_dir(self) -> None:
        # Make the new directory entry durable; otherwise a crash could lose a key in use.
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def wrap(self, council_id: int, data_key: bytes) -> bytes:
        """Encrypt ``data_key`` under the council's key, creating that key on first use."""
        council_id = _council_id(council_id)
        kek = self._read(council_id)
        if kek is None:
            kek = self._create(council_id)
        return _wrap_with(kek, council_id, data_key)

    def unwrap(self, council_id: int, wrapped: bytes) -> bytes:
        """Recover a data key wrapped for ``council_id``; raise KeyUnavailable once the key is gone."""
        council_id = _council_id(council_id)
        kek = self._read(council_id)
        if kek is None:
            raise KeyUnavailable(f"Council {council_id} has no key file.")
        return _unwrap_with(kek, council_id, wrapped)

    def revoke(self, council_id: int) -> None:
        """Destroy the council's key for good: its wrapped data keys become unrecoverable."""
        council_id = _council_id(council_id)
        with self._lock:
            # Tombstone first: from now on no thread or process can create a replacement key.
            fd = os.open(self._tombstone(council_id), os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
            path = self.key_path(council_id)
            try:
                # Overwrite before unlinking: best effort only (journaling file systems, SSD
                # wear levelling and backups may keep old blocks), so backups of the key
                # directory must be destroyed with the same care.
                with open(path, "r+b") as fh:
                    fh.write(b"\x00" * KEY_BYTES)
                    fh.flush()
                    os.fsync(fh.fileno())
                path.unlink()
            except FileNotFoundError:
                pass
            self._fsync_dir()
