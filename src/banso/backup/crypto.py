"""Encryption of a backup to the operator's public key (O2): X25519 + HKDF-SHA256 + AES-256-GCM.

Why not age: no maintained age library is among banso's dependencies, so the format is built from
the primitives of ``cryptography`` (already used for I11) the way age builds its own:

* **operator key pair** — X25519, made by ``banso backup keygen``; the public key goes on the server,
  the private key stays offline with the operator.
* **backup key** — each backup draws an ephemeral X25519 key; ``HKDF(X25519(ephemeral, operator),
  salt = ephemeral public ‖ operator public, info = "banso-backup:v1")`` is the backup's master key.
  Only the ephemeral public key and the operator key's fingerprint are written in clear.
* **file** — ``MAGIC ‖ 16-byte salt ‖ chunks``; the file key is ``HKDF(master, salt, info = name)``,
  each chunk of at most 1 MiB is AES-256-GCM with nonce ``counter (11 bytes) ‖ last flag`` and the
  file's name as associated data (age's STREAM construction): chunks cannot be reordered, dropped,
  truncated at a chunk boundary or moved to another file without failing authentication.

Anyone holding the public key can make a backup that decrypts; authenticity of a backup therefore
rests on where it is kept (the manifest inside is authenticated, the origin is not).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC: Final = b"BNSB1\n"
CHUNK: Final = 1 << 20
TAG: Final = 16
SALT: Final = 16
_INFO: Final = b"banso-backup:v1"


class BackupCryptoError(Exception):
    """A backup file or key cannot be used: wrong key, damaged or altered."""


def _raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public: X25519PublicKey) -> str:
    """Return the short id of an operator public key (written in clear in every backup)."""
    return hashlib.sha256(b"banso-backup-recipient:" + _raw(public)).hexdigest()[:32]


def generate_keypair(private_path: Path, public_path: Path) -> str:
    """Write a new operator key pair (private 0600, never overwriting) and return its fingerprint."""
    for path in (private_path, public_path):
        if path.exists():
            raise FileExistsError(f"{path} already exists; refusing to overwrite a key")
    private = X25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public_path.write_bytes(private.public_key().public_bytes(serialization.Encoding.PEM,
                                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    return fingerprint(private.public_key())


def load_public(path: Path) -> X25519PublicKey:
    """Read an operator public key (PEM); ValueError if unreadable, TypeError if not X25519."""
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, X25519PublicKey):
        raise TypeError(f"{path} is not an X25519 public key (make one with `banso backup keygen`)")
    return key


def load_private(path: Path) -> X25519PrivateKey:
    """Read an operator private key (PEM); ValueError if unreadable, TypeError if not X25519."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, X25519PrivateKey):
        raise TypeError(f"{path} is not an X25519 private key")
    return key


def _hkdf(secret: bytes, *, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret)


@dataclass(frozen=True)
class Header:
    """What a backup says in clear: the ephemeral public key and the recipient's fingerprint."""

    ephemeral: bytes
    recipient: str

    def to_json(self) -> dict[str, str]:
        """Return the header as JSON values."""
        return {"ephemeral": base64.b64encode(self.ephemeral).decode(), "recipient": self.recipient}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Header:
        """Read a header; ValueError if a field is missing or malformed."""
        try:
            ephemeral = base64.b64decode(str(data["ephemeral"]), validate=True)
            recipient = str(data["recipient"])
        except (KeyError, ValueError) as exc:
            raise ValueError(f"backup header is malformed: {exc}") from None
        if len(ephemeral) != 32:
            raise ValueError("backup header is malformed: ephemeral key length")
        return cls(ephemeral=ephemeral, recipient=recipient)


def seal_to(public: X25519PublicKey) -> tuple[Header, bytes]:
    """Draw an ephemeral key for a new backup; return its header and master key."""
    ephemeral = X25519PrivateKey.generate()
    eph_raw = _raw(ephemeral.public_key())
    master = _hkdf(ephemeral.exchange(public), salt=eph_raw + _raw(public), info=_INFO)
    return Header(ephemeral=eph_raw, recipient=fingerprint(public)), master


def open_with(header: Header, private: X25519PrivateKey) -> bytes:
    """Return the master key of a backup; BackupCryptoError if ``private`` is not its recipient."""
    public = private.public_key()
    if fingerprint(public) != header.recipient:
        raise BackupCryptoError(
            f"この鍵ではバックアップを復号できません / wrong key: the backup was encrypted to key "
            f"{header.recipient}, this private key is {fingerprint(public)}")
    shared = private.exchange(X25519PublicKey.from_public_bytes(header.ephemeral))
    return _hkdf(shared, salt=header.ephemeral + _raw(public), info=_INFO)


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _file_key(master: bytes, salt: bytes, name: str) -> bytes:
    return _hkdf(master, salt=salt, info=b"banso-backup:file:" + name.encode())


def encrypt_stream(master: bytes, name: str, chunks: Iterable[bytes], out: BinaryIO) -> tuple[int, str]:
    """Encrypt the byte stream ``chunks`` into ``out``; return the plaintext size and SHA-256."""
    salt = os.urandom(SALT)
    aead = AESGCM(_file_key(master, salt, name))
    out.write(MAGIC + salt)
    digest, size, counter = hashlib.sha256(), 0, 0
    pending = b""
    for piece in _rechunk(chunks):
        if pending:
            out.write(aead.encrypt(_nonce(counter, False), pending, name.encode()))
            counter += 1
        pending = piece
        digest.update(piece)
        size += len(piece)
    out.write(aead.encrypt(_nonce(counter, True), pending, name.encode()))
    return size, digest.hexdigest()


def _rechunk(chunks: Iterable[bytes]) -> Iterator[bytes]:
    buffer = bytearray()
    for piece in chunks:
        buffer += piece
        while len(buffer) >= CHUNK:
            yield bytes(buffer[:CHUNK])
            del buffer[:CHUNK]
    if buffer:
        yield bytes(buffer)


def decrypt_stream(master: bytes, name: str, source: BinaryIO) -> Iterator[bytes]:
    """Yield the plaintext chunks of a file made by :func:`encrypt_stream`; BackupCryptoError if altered."""
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupCryptoError(f"{name}: not a banso backup file")
    salt = source.read(SALT)
    aead = AESGCM(_file_key(master, salt, name))
    counter = 0
    block = source.read(CHUNK + TAG)
    while True:
        following = source.read(CHUNK + TAG)
        last = not following
        try:
            yield aead.decrypt(_nonce(counter, last), block, name.encode())
        except InvalidTag:
            raise BackupCryptoError(f"{name}: 改ざんまたは破損 / altered, truncated or damaged "
                                    f"(chunk {counter})") from None
        if last:
            return
        block, counter = following, counter + 1


def read_file(master: bytes, name: str, path: Path) -> bytes:
    """Decrypt a small backup file (the manifest) whole."""
    with path.open("rb") as fh:
        return b"".join(decrypt_stream(master, name, fh))


def file_chunks(path: Path, size: int = CHUNK) -> Iterator[bytes]:
    """Yield a file's bytes in chunks (for :func:`encrypt_stream`)."""
    with path.open("rb") as fh:
        while piece := fh.read(size):
            yield piece
