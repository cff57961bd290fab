"""Envelope encryption of stored files (I11: encrypted at rest, per-item data keys, per-council key).

Vocabulary:

* **data key** — a fresh 256-bit AES key per item (or per file); it encrypts the content.
* **sealed blob** — ``version (1 byte) ‖ nonce (12 bytes) ‖ AES-256-GCM ciphertext and tag (16 bytes)``.
  The caller passes ``aad`` (associated data, e.g. ``b"banso:item:42:file:7"``) so that a blob
  copied onto another item's row does not decrypt there.
* **key-encryption key (KEK)** — one 256-bit key per council, held by a :class:`KeyStore`. Only
  the wrapped (encrypted) data key is stored next to the item; releasing content means unwrapping
  its data key, so the key store is the single gate for new key releases (I11).
* **key version** — a council's KEK has versions 1, 2, …; the wrapped data key names the version
  that wrapped it (format 2 below), so ``banso keys rotate`` can add a version, re-wrap every data
  key and destroy the old version (``banso.app.keys``).
* **revocation** — destroying a council's KEK makes every data key wrapped by it unrecoverable
  (crypto-shredding); afterwards ``unwrap`` raises :class:`KeyUnavailable`.

Key stores: :class:`LocalKeyFileStore` (key files, the embedded default), ``banso.sealed.pkcs11``
(keys in an HSM) and :class:`FakeKeyStore` (tests). This module is pure: no database, no settings;
the key store root is passed in.
"""

from __future__ import annotations

import contextlib
import operator
import os
import re
import tempfile
import threading
from dataclasses import dataclass
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
        raise TamperedCiphertext("暗号化されたファイルが途中で切れているため検証できません / The encrypted file is truncated and cannot be verified.")
    if blob[0] != SEAL_VERSION:
        raise TamperedCiphertext(f"暗号化されたファイルの形式の版（{blob[0]}）が不明です / The encrypted file has unknown format version {blob[0]}.")
    nonce, body = blob[1:_HEADER_BYTES], blob[_HEADER_BYTES:]
    try:
        return AESGCM(data_key).decrypt(nonce, body, aad)
    except InvalidTag:
        # One message for wrong key, wrong context and damage: telling them apart would help a forger.
        raise TamperedCiphertext(
            "暗号化されたファイルの完全性検査に失敗しました（改変されたか、別の情報のファイルです） / "
            "The encrypted file failed its integrity check: it was altered, or belongs to another item."
        ) from None


class KeyStoreUnavailable(BansoError):
    """The key store itself cannot be reached (an HSM down or misconfigured): try again later."""

    status_code = 503
    code = "key_store_unavailable"


class KeyStore(Protocol):
    """Holder of per-council key-encryption keys (I11); wraps and unwraps item data keys.

    A council's key has versions (1, 2, …): :meth:`wrap` always uses the newest, :meth:`unwrap` the
    version named in the wrapped key (:func:`kek_version_of`), so a rotation (``banso keys rotate``)
    adds a version, re-wraps every data key and then retires the old versions.
    """

    def wrap(self, council_id: int, data_key: bytes) -> bytes:
        """Encrypt ``data_key`` under the council's newest key, creating the key on first use."""
        ...

    def unwrap(self, council_id: int, wrapped: bytes) -> bytes:
        """Recover a data key wrapped for ``council_id``; raise KeyUnavailable once its key is gone."""
        ...

    def revoke(self, council_id: int) -> None:
        """Destroy every version of the council's key for good: its wrapped data keys become unrecoverable."""
        ...

    def versions(self, council_id: int) -> list[int]:
        """Return the key versions the council holds, oldest first ([] for none or revoked)."""
        ...

    def add_version(self, council_id: int) -> int:
        """Create the council's next key version and return it; new wraps use it from now on."""
        ...

    def retire_version(self, council_id: int, version: int) -> None:
        """Destroy one old key version (after every data key it wrapped was re-wrapped)."""
        ...

    def ping(self) -> None:
        """Raise :class:`KeyStoreUnavailable` when the store cannot serve keys now (``/readyz``, O4)."""
        ...


# ---------------------------------------------------------------------------------------------
# Wrapped data keys
#
# Format 1 (before key versions): ``0x01 ‖ nonce ‖ AES-GCM(data key) ‖ tag`` with the associated
# data ``banso-kek:council:<id>``; it was always wrapped by version 1 of the council key.
# Format 2: ``0x02 ‖ key version (4 bytes, big-endian) ‖ nonce ‖ AES-GCM(data key) ‖ tag`` with
# ``banso-kek:council:<id>:v<version>``. The version tells unwrap which key to use, and being in the
# associated data it cannot be changed to send a blob to another version. The file store computes
# the GCM in software, the PKCS#11 store inside the token: the bytes are the same, so a key moved
# into an HSM (``banso keys migrate``) still opens every wrapped key.

WRAP_VERSION: Final = 2
_VERSION_BYTES: Final = 4
_LEGACY_WRAP_VERSION: Final = SEAL_VERSION


@dataclass(frozen=True)
class Wrapped:
    """A wrapped data key taken apart: the key version that wrapped it, nonce, ciphertext and AAD."""

    kek_version: int
    nonce: bytes
    body: bytes  # AES-GCM ciphertext of the data key, then the tag
    aad: bytes


def _kek_aad(council_id: int, version: int | None = None) -> bytes:
    base = f"banso-kek:council:{council_id}"
    return (base if version is None else f"{base}:v{version}").encode()


def kek_version_of(wrapped: bytes) -> int:
    """Return the version of the council key that wrapped ``wrapped`` (format 1 means version 1)."""
    if len(wrapped) > 1 + _VERSION_BYTES and wrapped[0] == WRAP_VERSION:
        return int.from_bytes(wrapped[1:1 + _VERSION_BYTES], "big")
    if wrapped[:1] == bytes([_LEGACY_WRAP_VERSION]):
        return 1
    raise TamperedCiphertext("暗号化されたデータ鍵の形式が不明です / The wrapped data key has an unknown format.")


def parse_wrapped(council_id: int, wrapped: bytes) -> Wrapped:
    """Take a wrapped data key apart; raise TamperedCiphertext if it cannot be one."""
    version = kek_version_of(wrapped)
    if wrapped[0] == WRAP_VERSION:
        start, aad = 1 + _VERSION_BYTES, _kek_aad(council_id, version)
    else:
        start, aad = 1, _kek_aad(council_id)
    nonce, body = wrapped[start:start + NONCE_BYTES], wrapped[start + NONCE_BYTES:]
    if version < 1 or len(body) != KEY_BYTES + TAG_BYTES:
        raise TamperedCiphertext("暗号化されたデータ鍵が壊れています / The wrapped data key is damaged.")
    return Wrapped(version, nonce, body, aad)


def new_wrap(council_id: int, version: int) -> tuple[bytes, bytes, bytes]:
    """Return the header, a fresh nonce and the AAD for wrapping under key ``version`` (format 2)."""
    header = bytes([WRAP_VERSION]) + version.to_bytes(_VERSION_BYTES, "big")
    return header, os.urandom(NONCE_BYTES), _kek_aad(council_id, version)


def _council_id(value: int) -> int:
    # operator.index rejects floats and strings; the id also becomes part of a file name.
    council_id = operator.index(value)
    if isinstance(value, bool) or council_id < 0:
        raise ValueError("council_id must be a non-negative integer")
    return council_id


def _version(value: int) -> int:
    version = operator.index(value)
    if isinstance(value, bool) or not 1 <= version < 1 << 32:
        raise ValueError("key version must be a positive integer")
    return version


# Why AES-GCM rather than RFC 3394 AES key wrap: GCM takes associated data, so a wrapped key is
# bound to its council id and key version even if a key file were ever copied or renamed, and the
# code reuses the one primitive already reviewed for seal(). Key wrap's advantage, determinism
# without a nonce, does not matter here: a council wraps far fewer than 2^32 keys, the bound for
# random 96-bit nonces.
def _wrap_with(kek: bytes, council_id: int, version: int, data_key: bytes) -> bytes:
    _check_key(data_key)
    header, nonce, aad = new_wrap(council_id, version)
    return header + nonce + AESGCM(kek).encrypt(nonce, data_key, aad)


def _unwrap_with(kek: bytes, parsed: Wrapped) -> bytes:
    try:
        data_key = AESGCM(kek).decrypt(parsed.nonce, parsed.body, parsed.aad)
    except InvalidTag:
        raise TamperedCiphertext(
            "暗号化されたデータ鍵の完全性検査に失敗しました（改変されたか、別の協議会の鍵です） / "
            "The wrapped data key failed its integrity check: it was altered, or belongs to another council."
        ) from None
    if len(data_key) != KEY_BYTES:
        raise TamperedCiphertext("暗号化されたデータ鍵の長さが正しくありません / The wrapped data key has the wrong length.")
    return data_key


def revoked_message(council_id: int) -> str:
    """Return the message of a refusal because the council's key was destroyed."""
    return f"The key of council {council_id} has been destroyed; its files can no longer be decrypted."


def retired_message(council_id: int, version: int) -> str:
    """Return the message of a refusal because the wrapping key version was retired by a rotation."""
    return (f"Version {version} of the key of council {council_id} was retired by a key rotation; "
            "this wrapped key was not re-wrapped.")


class FakeKeyStore:
    """In-memory :class:`KeyStore` for tests; behaves like :class:`LocalKeyFileStore`."""

    def __init__(self) -> None:
        self._keys: dict[tuple[int, int], bytes] = {}
        self._current: dict[int, int] = {}
        self._revoked: set[int] = set()
        self._lock = threading.Lock()

    def _refuse_revoked(self, council_id: int) -> None:
        if council_id in self._revoked:
            raise KeyUnavailable(revoked_message(council_id))

    def wrap(self, council_id: int, data_key: bytes) -> bytes:
        """Encrypt ``data_key`` under the council's newest key, creating the key on first use."""
        council_id = _council_id(council_id)
        with self._lock:
            self._refuse_revoked(council_id)
            version = self._current.setdefault(council_id, 1)
            kek = self._keys.setdefault((council_id, version), new_data_key())
        return _wrap_with(kek, council_id, version, data_key)

    def unwrap(self, council_id: int, wrapped: bytes) -> bytes:
        """Recover a data key wrapped for ``council_id``; raise KeyUnavailable once its key is gone."""
        council_id = _council_id(council_id)
        parsed = parse_wrapped(council_id, wrapped)
        with self._lock:
            self._refuse_revoked(council_id)
            kek = self._keys.get((council_id, parsed.kek_version))
            if kek is None:
                raise KeyUnavailable(retired_message(council_id, parsed.kek_version)
                                     if parsed.kek_version < self._current.get(council_id, 0)
                                     else f"Council {council_id} has no key.")
        return _unwrap_with(kek, parsed)

    def revoke(self, council_id: int) -> None:
        """Destroy every version of the council's key for good."""
        council_id = _council_id(council_id)
        with self._lock:
            self._revoked.add(council_id)
            for key in [k for k in self._keys if k[0] == council_id]:
                del self._keys[key]

    def versions(self, council_id: int) -> list[int]:
        """Return the key versions the council holds, oldest first."""
        council_id = _council_id(council_id)
        with self._lock:
            return sorted(v for c, v in self._keys if c == council_id)

    def add_version(self, council_id: int) -> int:
        """Create the council's next key version and return it."""
        council_id = _council_id(council_id)
        with self._lock:
            self._refuse_revoked(council_id)
            version = self._current[council_id] = self._current.get(council_id, 0) + 1
            self._keys[(council_id, version)] = new_data_key()
            return version

    def retire_version(self, council_id: int, version: int) -> None:
        """Destroy one old key version."""
        council_id, version = _council_id(council_id), _version(version)
        with self._lock:
            if version >= self._current.get(council_id, 0):
                raise ValueError("the newest key version cannot be retired; add a version first")
            self._keys.pop((council_id, version), None)

    def has_key(self, council_id: int) -> bool:
        """Return True if the council currently has a key."""
        return bool(self.versions(council_id))

    def ping(self) -> None:
        """An in-memory store is always there."""


class LocalKeyFileStore:
    """Default :class:`KeyStore`: key files under ``root`` (I11).

    Version 1 of a council's key is ``<root>/council-<id>.key`` (the name it had before versions),
    version k ≥ 2 is ``council-<id>-v<k>.key``. Files are 0600 in a 0700 directory. A revoked
    council leaves a ``council-<id>.revoked`` tombstone so that the id can never silently get a
    fresh key (which would turn "destroyed" into a confusing integrity failure for old files); a
    retired version leaves ``council-<id>-v<k>.retired``, so the newest version is found by walking
    up from version 1 without listing the directory.
    """

    def __init__(self, root: str | os.PathLike[str], *, prefix: str = "council") -> None:
        self.root = Path(root)
        self.prefix = prefix  # "commission" for the store of commission keys (banso.sealed.store)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask and ignored for an existing directory; keys must
        # not be listable or readable by other local users.
        os.chmod(self.root, 0o700)
        self._lock = threading.Lock()
        self._newest: dict[int, int] = {}  # versions only grow: a cached newest is a valid start

    def key_path(self, council_id: int, version: int = 1) -> Path:
        """Return the path of the council's key file of ``version``."""
        council_id, version = _council_id(council_id), _version(version)
        suffix = "" if version == 1 else f"-v{version}"
        return self.root / f"{self.prefix}-{council_id}{suffix}.key"

    def _tombstone(self, council_id: int) -> Path:
        return self.root / f"{self.prefix}-{council_id}.revoked"

    def _retired(self, council_id: int, version: int) -> Path:
        return self.root / f"{self.prefix}-{council_id}-v{version}.retired"

    def _newest_version(self, council_id: int) -> int:
        version = self._newest.get(council_id, 1)
        while self.key_path(council_id, version + 1).exists() or self._retired(council_id, version).exists():
            version += 1
        self._newest[council_id] = version
        return version

    def _read(self, council_id: int, version: int = 1) -> bytes | None:
        # Tombstone first: a revocation interrupted before the unlink must still count.
        if self._tombstone(council_id).exists():
            raise KeyUnavailable(revoked_message(council_id))
        try:
            kek = self.key_path(council_id, version).read_bytes()
        except FileNotFoundError:
            return None
        if len(kek) != KEY_BYTES:
            raise KeyUnavailable(f"協議会 {council_id} の鍵ファイル（第{version}版）が壊れています / The key file of council {council_id} (version {version}) is damaged.")
        return kek

    def _create(self, council_id: int, version: int = 1) -> bytes:
        """Return the council's key of ``version``, creating it if needed; exactly one key wins under races."""
        # The lock serialises threads of this process; os.link below serialises everybody else.
        with self._lock:
            kek = self._read(council_id, version)
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
                    os.link(tmp_name, self.key_path(council_id, version))
            finally:
                os.unlink(tmp_name)
            self._fsync_dir()
            kek = self._read(council_id, version)
            if kek is None:  # pragma: no cover - only if someone deletes the file in between
                raise KeyUnavailable(f"協議会 {council_id} の鍵ファイルが作成中に消えました / The key file of council {council_id} vanished while being created.")
            return kek

    def ping(self) -> None:
        """Raise :class:`KeyStoreUnavailable` unless the key folder can be listed, read and written."""
        # Why access() and no test write: a key folder is written only when a council is founded,
        # and a probe file there would be one more thing for backups and audits to explain.
        if not self.root.is_dir() or not os.access(self.root, os.R_OK | os.W_OK | os.X_OK):
            raise KeyStoreUnavailable("鍵フォルダを読み書きできません / the key folder cannot be read and written")

    def _fsync_dir(self) -> None:
        # Make the new directory entry durable; otherwise a crash could lose a key in use.
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _mark(self, path: Path) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
        self._fsync_dir()

    def _shred(self, path: Path) -> None:
        try:
            # Overwrite before unlinking: best effort only (journaling file systems, SSD wear
            # levelling and backups may keep old blocks), so backups of the key directory must be
            # destroyed with the same care.
            with open(path, "r+b") as fh:
                fh.write(b"\x00" * KEY_BYTES)
                fh.flush()
                os.fsync(fh.fileno())
            path.unlink()
        except FileNotFoundError:
            pass

    def wrap(self, council_id: int, data_key: bytes) -> bytes:
        """Encrypt ``data_key`` under the council's newest key, creating the key on first use."""
        council_id = _council_id(council_id)
        version = self._newest_version(council_id)
        kek = self._read(council_id, version)
        if kek is None:
            kek = self._create(council_id, version)
        return _wrap_with(kek, council_id, version, data_key)

    def unwrap(self, council_id: int, wrapped: bytes) -> bytes:
        """Recover a data key wrapped for ``council_id``; raise KeyUnavailable once its key is gone."""
        council_id = _council_id(council_id)
        parsed = parse_wrapped(council_id, wrapped)
        kek = self._read(council_id, parsed.kek_version)
        if kek is None:
            if self._retired(council_id, parsed.kek_version).exists():
                raise KeyUnavailable(retired_message(council_id, parsed.kek_version))
            raise KeyUnavailable(f"協議会 {council_id} の鍵ファイルがありません / Council {council_id} has no key file.")
        return _unwrap_with(kek, parsed)

    def revoke(self, council_id: int) -> None:
        """Destroy every version of the council's key for good: its wrapped data keys become unrecoverable."""
        council_id = _council_id(council_id)
        with self._lock:
            # Tombstone first: from now on no thread or process can create a replacement key.
            self._mark(self._tombstone(council_id))
            for version in range(1, self._newest_version(council_id) + 1):
                self._shred(self.key_path(council_id, version))
            self._fsync_dir()

    def versions(self, council_id: int) -> list[int]:
        """Return the key versions the council holds, oldest first ([] for none or revoked)."""
        council_id = _council_id(council_id)
        if self._tombstone(council_id).exists():
            return []
        return [v for v in range(1, self._newest_version(council_id) + 1) if self.key_path(council_id, v).exists()]

    def add_version(self, council_id: int) -> int:
        """Create the council's next key version and return it; new wraps use it from now on."""
        council_id = _council_id(council_id)
        newest = self._newest_version(council_id)
        if self._read(council_id, newest) is None:  # no key yet: the first version is the new one
            self._create(council_id, newest)
            return newest
        self._create(council_id, newest + 1)
        return self._newest_version(council_id)

    def retire_version(self, council_id: int, version: int) -> None:
        """Destroy one old key version (after every data key it wrapped was re-wrapped)."""
        council_id, version = _council_id(council_id), _version(version)
        with self._lock:
            if version >= self._newest_version(council_id):
                raise ValueError("the newest key version cannot be retired; add a version first")
            # The marker first, as for revocation: walking up must never stop below the newest key.
            self._mark(self._retired(council_id, version))
            self._shred(self.key_path(council_id, version))
            self._fsync_dir()

    def has_key(self, council_id: int) -> bool:
        """Return True if the council currently has a key."""
        return bool(self.versions(council_id))

    # -- reading the folder (``banso keys migrate``) ----------------------------------------------

    def _names(self, suffix: str) -> list[tuple[int, int]]:
        """Return (id, version) of every ``<prefix>-<id>[-v<k>]<suffix>`` file in the folder."""
        found = []
        pattern = re.compile(re.escape(self.prefix) + r"-(\d+)(?:-v(\d+))?" + re.escape(suffix))
        for entry in self.root.iterdir():
            match = pattern.fullmatch(entry.name)
            if match:
                found.append((int(match.group(1)), int(match.group(2) or 1)))
        return sorted(found)

    def held(self) -> dict[int, list[int]]:
        """Return every key file in the folder: id → versions, oldest first (revoked ids left out)."""
        revoked = set(self.revoked_ids())
        held: dict[int, list[int]] = {}
        for council_id, version in self._names(".key"):
            if council_id not in revoked:
                held.setdefault(council_id, []).append(version)
        return held

    def revoked_ids(self) -> list[int]:
        """Return the ids whose keys were revoked (a tombstone in the folder)."""
        return [council_id for council_id, _ in self._names(".revoked")]

    def read_key(self, council_id: int, version: int) -> bytes:
        """Return one key's bytes (to import it into an HSM); raise KeyUnavailable if it is gone."""
        kek = self._read(_council_id(council_id), _version(version))
        if kek is None:
            raise KeyUnavailable(f"協議会 {council_id} の第{version}版の鍵ファイルがありません / Council {council_id} has no key file of version {version}.")
        return kek

    def shred(self, council_id: int, version: int) -> None:
        """Overwrite and delete one key file (after it was moved into an HSM)."""
        with self._lock:
            self._shred(self.key_path(council_id, version))
            self._fsync_dir()
