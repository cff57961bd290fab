"""Council and commission keys in a hardware security module, through PKCS#11 (I11, O2).

:class:`Pkcs11KeyStore` is a :class:`~banso.sealed.crypto.KeyStore` whose key-encryption keys never
leave the token: each is an AES-256 secret key object created inside it (``CKA_TOKEN``,
``CKA_SENSITIVE``, not ``CKA_EXTRACTABLE``), and data keys are wrapped and unwrapped by AES-GCM
computed by the token. The wrapped bytes are those of the file store (format 2, see
:mod:`banso.sealed.crypto`), so a key imported from a file (``banso keys migrate``) opens every
data key it wrapped before.

Objects, for label prefix ``banso`` and council 7:

* ``banso-council-7`` (version 1) and ``banso-council-7-v<k>`` (later versions): secret keys,
  all with ``CKA_ID = b"banso-council-7"`` so that one search finds every version.
* ``banso-council-7.revoked``: a data object (tombstone) left by :meth:`Pkcs11KeyStore.revoke`;
  while it exists the council never gets a fresh key, in this process or any other.

PKCS#11 has no "create if absent": two processes could both find no key and both create one. A
lock file serialises creation among processes sharing it (one host); beyond that (several hosts on
one network HSM) a duplicate is harmless, because unwrap tries every key object of the version and
AES-GCM authentication tells which one wrapped the data key.

Sessions: the library is initialised once per process (again after a fork), and one session logs
in and stays open (PKCS#11 login state belongs to the process, and closing that session would log
every other session out). python-pkcs11 initialises the library without locking callbacks, so no
two threads may call it at once: every operation runs under one process-wide lock. A token
operation takes microseconds (SoftHSM2) to a millisecond (a network HSM); several worker processes
each have their own lock and session.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11
from pkcs11.mechanisms import GCMParams

from banso.config import Settings
from banso.sealed import crypto
from banso.sealed.crypto import KeyStore, KeyStoreUnavailable, KeyUnavailable, TamperedCiphertext

_TAG_BITS: Final = crypto.TAG_BYTES * 8
# How long a process trusts the newest key version it found; ``banso keys rotate`` waits longer.
NEWEST_SECONDS: Final = 1.0
# What a failed AES-GCM decryption looks like: SoftHSM2 answers CKR_GENERAL_ERROR, others
# CKR_ENCRYPTED_DATA_INVALID. Anything else (device, session, login) means the HSM is unwell.
_DID_NOT_VERIFY: Final = (p11.EncryptedDataInvalid, p11.EncryptedDataLenRange, p11.GeneralError)
# After these the session (or every session) is gone: open the token again on the next call.
_LOST: Final = (p11.SessionClosed, p11.SessionHandleInvalid, p11.DeviceRemoved, p11.DeviceError,
                p11.TokenNotPresent, p11.UserNotLoggedIn)


@dataclass
class _Opened:
    """The token as opened by one process: its logged-in session, used under the process's lock."""

    pid: int
    token: Any  # pkcs11.Token
    session: Any  # pkcs11.Session, kept open: closing the logged-in session would log the process out
    lost: bool = False


# PKCS#11 login state belongs to the process, not to an object: a second login is refused
# (CKR_USER_ALREADY_LOGGED_IN) and closing the logged-in session logs out every other one. So each
# process opens a token once, whatever number of stores (or test contexts) use it.
_OPENED: dict[tuple[str, str], _Opened] = {}
# python-pkcs11 initialises the library with C_Initialize(NULL), which tells it that the
# application will not call it from several threads at once, and it releases the GIL during
# calls: SoftHSM2 crashes when two threads call it at the same time. So every call into the
# library is made under this one lock (re-entrant: revoke holds it while creating a tombstone).
_CALLS = threading.RLock()


class _Transient(KeyStoreUnavailable):
    """Opening failed in a way worth another try (never for a PIN: retries would lock the token)."""


def _open(library: str, token_label: str, pin: str, *, restart: bool) -> _Opened:
    # SoftHSM2 answers CKR_GENERAL_ERROR, or lists no token, now and then while another process
    # writes to its token folder (workers starting and creating keys together): try again a few
    # times before calling the HSM unavailable.
    for pause in (0.05, 0.2, 0.5, 1.0):
        try:
            return _open_once(library, token_label, pin, restart=restart)
        except _Transient:
            time.sleep(pause)
            restart = True
    return _open_once(library, token_label, pin, restart=restart)


def _open_once(library: str, token_label: str, pin: str, *, restart: bool) -> _Opened:
    try:
        lib = pkcs11.lib(library)
        if restart:  # after a fork, or after the token was lost: start the library afresh
            lib.reinitialize()
            for (other, _label), opened in _OPENED.items():
                if other == library:  # C_Finalize closed their sessions too: reopen them on next use
                    opened.lost = True
        token = lib.get_token(token_label=token_label)
        try:
            session = token.open(rw=True, user_pin=pin)
        except p11.UserAlreadyLoggedIn:  # someone else in this process logged in: sessions share it
            session = token.open(rw=True)
    except p11.NoSuchToken:
        raise _Transient(f"HSM トークン {token_label!r} が見つかりません / no PKCS#11 token "
                         f"labelled {token_label!r} in {library}") from None
    except (p11.PinIncorrect, p11.PinInvalid, p11.PinLenRange, p11.PinExpired, p11.PinLocked):
        raise KeyStoreUnavailable("HSM にログインできません（PIN） / the HSM refused the PIN") from None
    except p11.GeneralError:
        raise _Transient("HSM を開けません / cannot open the HSM: GeneralError") from None
    except (p11.PKCS11Error, OSError) as exc:
        raise KeyStoreUnavailable(f"HSM を開けません / cannot open the HSM: {type(exc).__name__} {exc}") from None
    return _Opened(pid=os.getpid(), token=token, session=session)


class Pkcs11Token:
    """One PKCS#11 token (library, label, user PIN), opened lazily once per process and shared."""

    def __init__(self, *, library: str, token_label: str, pin: str) -> None:
        self.library = library
        self.token_label = token_label
        self._pin = pin

    def _current(self) -> _Opened:
        key = (self.library, self.token_label)
        opened = _OPENED.get(key)
        if opened is None or opened.lost or opened.pid != os.getpid():
            opened = _OPENED[key] = _open(self.library, self.token_label, self._pin, restart=opened is not None)
        return opened

    @contextlib.contextmanager
    def session(self) -> Iterator[Any]:
        """Lend the process's session to this thread alone (under the library lock)."""
        with _CALLS:
            opened = self._current()
            try:
                yield opened.session
            except _LOST as exc:
                opened.lost = True  # reopen the token on the next call
                raise KeyStoreUnavailable(f"HSM との接続が失われました / lost the HSM: {type(exc).__name__}") from None
            except p11.PKCS11Error as exc:
                raise KeyStoreUnavailable(f"HSM の操作に失敗しました / the HSM refused an operation: "
                                          f"{type(exc).__name__}") from None


class Pkcs11KeyStore:
    """A :class:`~banso.sealed.crypto.KeyStore` whose keys live in a PKCS#11 token (I11, O2)."""

    def __init__(self, token: Pkcs11Token, *, prefix: str = "council", label_prefix: str = "banso",
                 lock_path: str | os.PathLike[str]) -> None:
        self.token = token
        self.prefix = prefix  # "commission" for the store of commission keys
        self.label_prefix = label_prefix  # several deployments may share one token
        self.lock_path = Path(lock_path)
        self._lock = threading.Lock()
        # Searching is what costs (SoftHSM2 reads its object files on every search: ~5 ms with a few
        # dozen keys), so found key objects are kept. A key destroyed by any process (revoked,
        # retired) makes its handle invalid, and the next use searches again and meets the
        # tombstone. Which version is newest is trusted for NEWEST_SECONDS only: a rotation in
        # another process waits longer than that (``--grace-seconds``) before re-wrapping.
        self._found: dict[int, tuple[Any, dict[int, list[Any]]]] = {}  # id → (session, keys by version)
        self._newest_seen: dict[int, float] = {}  # id → when its newest version was looked up

    # -- names ----------------------------------------------------------------------------------

    def base_label(self, council_id: int) -> str:
        """Return the label of version 1 of the council's key (and the CKA_ID of every version)."""
        return f"{self.label_prefix}-{self.prefix}-{crypto._council_id(council_id)}"

    def key_label(self, council_id: int, version: int) -> str:
        """Return the label of one version of the council's key."""
        base = self.base_label(council_id)
        return base if crypto._version(version) == 1 else f"{base}-v{version}"

    def _tombstone_label(self, council_id: int) -> str:
        return f"{self.base_label(council_id)}.revoked"

    def _version_of(self, council_id: int, label: str) -> int | None:
        match = re.fullmatch(re.escape(self.base_label(council_id)) + r"(?:-v(\d+))?", label)
        return None if match is None else int(match.group(1) or 1)

    # -- token access ---------------------------------------------------------------------------

    def _revoked(self, session: Any, council_id: int) -> bool:
        found = session.get_objects({Attribute.CLASS: ObjectClass.DATA,
                                     Attribute.LABEL: self._tombstone_label(council_id)})
        return any(True for _ in found)

    def _keys(self, session: Any, council_id: int) -> dict[int, list[Any]]:
        """Return the council's key objects by version (duplicates from unshared locks kept together)."""
        by_version: dict[int, list[Any]] = {}
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY,
                                        Attribute.ID: self.base_label(council_id).encode()}):
            version = self._version_of(council_id, obj[Attribute.LABEL])
            if version is not None:
                by_version.setdefault(version, []).append(obj)
        return by_version

    def _live_keys(self, session: Any, council_id: int) -> dict[int, list[Any]]:
        # Tombstone first: a revocation interrupted before the keys were destroyed must still count.
        if self._revoked(session, council_id):
            raise KeyUnavailable(crypto.revoked_message(council_id))
        return self._keys(session, council_id)

    def _generate(self, session: Any, council_id: int, version: int) -> Any:
        return session.generate_key(
            KeyType.AES, crypto.KEY_BYTES * 8, label=self.key_label(council_id, version),
            id=self.base_label(council_id).encode(), store=True,
            template={Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
                      Attribute.EXTRACTABLE: False, Attribute.ENCRYPT: True, Attribute.DECRYPT: True,
                      Attribute.WRAP: False, Attribute.UNWRAP: False, Attribute.MODIFIABLE: False})

    @contextlib.contextmanager
    def _creating(self) -> Iterator[None]:
        """Hold the creation lock: this process's threads, then every process sharing the lock file."""
        with self._lock:
            self.lock_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            with open(self.lock_path, "a+b") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                yield  # closing the file releases the lock

    def _newest(self, session: Any, council_id: int, *, create: bool) -> tuple[int, Any]:
        keys = self._live_keys(session, council_id)
        if not keys:
            if not create:
                raise KeyUnavailable(f"協議会 {council_id} の鍵が HSM にありません / Council {council_id} has no key in the HSM.")
            with self._creating():
                keys = self._live_keys(session, council_id)  # somebody may have won the race
                if not keys:
                    return 1, self._generate(session, council_id, 1)
        version = max(keys)
        # Several objects of one version only after creators that shared no lock: any one will do,
        # unwrap tries each.
        return version, keys[version][0]

    # -- KeyStore -------------------------------------------------------------------------------

    def _cached(self, session: Any, council_id: int, *, newest: bool) -> dict[int, list[Any]] | None:
        found = self._found.get(council_id)
        if found is None or found[0] is not session:  # the token was opened again: old handles are void
            return None
        if newest and time.monotonic() - self._newest_seen.get(council_id, 0.0) > NEWEST_SECONDS:
            return None
        return found[1]

    def _remember(self, session: Any, council_id: int, keys: dict[int, list[Any]]) -> None:
        self._found[council_id] = (session, keys)
        self._newest_seen[council_id] = time.monotonic()

    def _forget(self, council_id: int) -> None:
        self._found.pop(council_id, None)
        self._newest_seen.pop(council_id, None)

    def wrap(self, council_id: int, data_key: bytes) -> bytes:
        """Encrypt ``data_key`` inside the token under the council's newest key (created on first use)."""
        council_id = crypto._council_id(council_id)
        crypto._check_key(data_key)
        with self.token.session() as session:
            for fresh in (False, True):  # a remembered key may have been destroyed by another process
                keys = None if fresh else self._cached(session, council_id, newest=True)
                if keys is None:
                    version, key = self._newest(session, council_id, create=True)
                    self._remember(session, council_id, self._keys(session, council_id))
                else:
                    version = max(keys)
                    key = keys[version][0]
                header, nonce, aad = crypto.new_wrap(council_id, version)
                try:
                    body = key.encrypt(data_key, mechanism=Mechanism.AES_GCM,
                                       mechanism_param=GCMParams(nonce, aad, _TAG_BITS))
                except p11.ObjectHandleInvalid:
                    self._forget(council_id)
                    if fresh:
                        raise
                    continue
                return header + nonce + bytes(body)
        raise AssertionError("unreachable")  # pragma: no cover

    def _candidates(self, session: Any, council_id: int, version: int, *, fresh: bool) -> list[Any]:
        keys = None if fresh else self._cached(session, council_id, newest=False)
        if keys is None or version not in keys:
            keys = self._live_keys(session, council_id)
            self._remember(session, council_id, keys)
        candidates = keys.get(version)
        if not candidates:
            if keys and version < max(keys):
                raise KeyUnavailable(crypto.retired_message(council_id, version))
            raise KeyUnavailable(f"協議会 {council_id} の第{version}版の鍵が HSM にありません / Council {council_id} has no key of version {version} in the HSM.")
        return candidates

    def unwrap(self, council_id: int, wrapped: bytes) -> bytes:
        """Recover a data key inside the token; raise KeyUnavailable once its key is gone."""
        council_id = crypto._council_id(council_id)
        parsed = crypto.parse_wrapped(council_id, wrapped)
        with self.token.session() as session:
            for fresh in (False, True):  # a remembered key may have been destroyed by another process
                try:
                    return self._decrypt(self._candidates(session, council_id, parsed.kek_version, fresh=fresh),
                                         parsed)
                except (p11.ObjectHandleInvalid, TamperedCiphertext):
                    # Search again also when nothing verified: another host may have created a
                    # duplicate of this version after we searched (see the module docstring).
                    self._forget(council_id)
                    if fresh:
                        raise
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _decrypt(candidates: list[Any], parsed: crypto.Wrapped) -> bytes:
        for key in candidates:
            try:
                data_key = bytes(key.decrypt(parsed.body, mechanism=Mechanism.AES_GCM,
                                             mechanism_param=GCMParams(parsed.nonce, parsed.aad, _TAG_BITS)))
            except _DID_NOT_VERIFY:
                continue
            if len(data_key) == crypto.KEY_BYTES:
                return data_key
        raise TamperedCiphertext(
            "暗号化されたデータ鍵の完全性検査に失敗しました（改変されたか、別の協議会の鍵です） / "
            "The wrapped data key failed its integrity check: it was altered, or belongs to another council.")

    def revoke(self, council_id: int) -> None:
        """Destroy every version of the council's key and leave a tombstone, so the id never gets a new key."""
        council_id = crypto._council_id(council_id)
        self._forget(council_id)
        with self.token.session() as session, self._creating():
            if not self._revoked(session, council_id):
                session.create_object({Attribute.CLASS: ObjectClass.DATA, Attribute.TOKEN: True,
                                       Attribute.PRIVATE: False, Attribute.MODIFIABLE: False,
                                       Attribute.LABEL: self._tombstone_label(council_id),
                                       Attribute.APPLICATION: "banso", Attribute.VALUE: b"revoked"})
            for objects in self._keys(session, council_id).values():
                for obj in objects:
                    obj.destroy()

    def versions(self, council_id: int) -> list[int]:
        """Return the key versions the council holds in the token, oldest first ([] for none or revoked)."""
        council_id = crypto._council_id(council_id)
        with self.token.session() as session:
            if self._revoked(session, council_id):
                return []
            return sorted(self._keys(session, council_id))

    def add_version(self, council_id: int) -> int:
        """Create the council's next key version in the token and return it."""
        council_id = crypto._council_id(council_id)
        self._forget(council_id)
        with self.token.session() as session, self._creating():
            keys = self._live_keys(session, council_id)
            version = max(keys, default=0) + 1
            self._generate(session, council_id, version)
            return version

    def retire_version(self, council_id: int, version: int) -> None:
        """Destroy one old key version in the token (after every data key it wrapped was re-wrapped)."""
        council_id, version = crypto._council_id(council_id), crypto._version(version)
        self._forget(council_id)
        with self.token.session() as session, self._creating():
            keys = self._live_keys(session, council_id)
            if version >= max(keys, default=0):
                raise ValueError("the newest key version cannot be retired; add a version first")
            for obj in keys.get(version, []):
                obj.destroy()

    def has_key(self, council_id: int) -> bool:
        """Return True if the council currently has a key in the token."""
        return bool(self.versions(council_id))

    def ping(self) -> None:
        """Raise :class:`KeyStoreUnavailable` unless the token answers now (a random number drawn in it)."""
        # C_GenerateRandom touches the device through the logged-in session, so a removed token,
        # a lost session or a refused PIN all show here, without reading any key.
        with self.token.session() as session:
            session.generate_random(64)

    def import_key(self, council_id: int, version: int, kek: bytes) -> None:
        """Import a key from the file store as a non-extractable token object (``banso keys migrate``)."""
        council_id, version = crypto._council_id(council_id), crypto._version(version)
        crypto._check_key(kek)
        self._forget(council_id)
        with self.token.session() as session, self._creating():
            if version in self._live_keys(session, council_id):
                return  # imported by an earlier, interrupted run
            session.create_object({
                Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.KEY_TYPE: KeyType.AES, Attribute.VALUE: kek,
                Attribute.LABEL: self.key_label(council_id, version), Attribute.ID: self.base_label(council_id).encode(),
                Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False, Attribute.ENCRYPT: True, Attribute.DECRYPT: True,
                Attribute.WRAP: False, Attribute.UNWRAP: False, Attribute.MODIFIABLE: False})


def key_stores(settings: Settings) -> tuple[KeyStore, KeyStore, KeyStore] | None:
    """Return the council, commission and proposal key stores of an HSM (key_store=pkcs11), else None: key files."""
    if settings.key_store != "pkcs11":
        return None
    assert settings.pkcs11_library and settings.pkcs11_token_label and settings.pkcs11_pin  # Settings checked
    token = Pkcs11Token(library=settings.pkcs11_library, token_label=settings.pkcs11_token_label,
                        pin=settings.pkcs11_pin.get_secret_value())
    # The token is opened on first use, so commands that need no key still run while the HSM is away.
    lock = settings.data_dir / "keys" / "pkcs11.lock"
    return (Pkcs11KeyStore(token, prefix="council", label_prefix=settings.pkcs11_label_prefix, lock_path=lock),
            Pkcs11KeyStore(token, prefix="commission", label_prefix=settings.pkcs11_label_prefix, lock_path=lock),
            Pkcs11KeyStore(token, prefix="proposal", label_prefix=settings.pkcs11_label_prefix, lock_path=lock))
