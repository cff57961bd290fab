"""Signed checkpoints (A2): Ed25519 signatures over a note stating tree size, root and time.

Decision: the ``audit:checkpoint:sign`` entry is INSIDE the tree it announces. Signing appends
that entry first (seq N, data ``{"tree_size": N + 1, "key_id": ...}``) and then signs the tree of
size N + 1, whose last leaf is the entry itself. So a checkpoint never leaves the log bigger than
its latest checkpoint, and an idle log does not grow by one entry per signing interval.
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from banso.audit import service
from banso.audit.models import AuditCheckpoint
from banso.audit.rules import checkpoint_note, format_ts, parse_note
from banso.audit.tags import AuditTag
from banso.kit.clock import as_utc


class CheckpointLike(Protocol):
    """What a checkpoint verifier needs: the ORM row or a record read from an export."""

    @property
    def tree_size(self) -> int: ...
    @property
    def root(self) -> bytes: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def key_id(self) -> str: ...
    @property
    def signature(self) -> bytes: ...
    @property
    def note(self) -> str: ...


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load the log's Ed25519 key from ``path``, creating it (0600, folder 0700) on first start (A2)."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            # O_EXCL: two processes starting together must not each write (and use) their own key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(pem)
                fh.flush()
                os.fsync(fh.fileno())
            return key
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return loaded


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Load an Ed25519 public key from a PEM file holding either the public or the private key."""
    return parse_public_key_pem(Path(path).read_text())


def parse_public_key_pem(pem: str) -> Ed25519PublicKey:
    """Return the Ed25519 public key in ``pem`` (a public key, or a private key whose public half is used)."""
    data = pem.encode()
    if b"PRIVATE KEY" in data:
        private = serialization.load_pem_private_key(data, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 key")
        return private.public_key()
    public = serialization.load_pem_public_key(data)
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError("not an Ed25519 key")
    return public


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Return the public key as PEM (SubjectPublicKeyInfo), for witnesses to keep (A2)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(public_key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """Return the key's fingerprint: hex SHA-256 of the raw 32-byte public key."""
    public = public_key.public_key() if isinstance(public_key, Ed25519PrivateKey) else public_key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign_checkpoint(
    session: Session,
    *,
    key: Ed25519PrivateKey,
    now: datetime,
    actor_id: int | None = None,
    actor_label: str | None = None,
) -> AuditCheckpoint:
    """Append the checkpoint's own entry, then sign the tree that ends with it (A2); never commits."""
    kid = key_id(key)
    size_before = service._lock_head(session).size  # the lock is held until the caller commits
    entry = service.record(session, tag=AuditTag.CHECKPOINT_SIGN, now=now, actor_id=actor_id,
                           actor_label=actor_label, data={"tree_size": size_before + 1, "key_id": kid})
    created_at = as_utc(now)
    tree_size = entry.seq + 1
    note = checkpoint_note(tree_size=tree_size, root=entry.root, created_at=created_at)
    cp = AuditCheckpoint(tree_size=tree_size, root=entry.root, created_at=created_at, key_id=kid,
                         signature=key.sign(note.encode()), note=note)
    session.add(cp)
    session.flush()
    return cp


def verify_checkpoint(cp: CheckpointLike, public_key: Ed25519PublicKey) -> bool:
    """Return True when ``cp`` is signed by ``public_key`` and its columns equal its signed note."""
    try:
        fields = parse_note(cp.note)
        if fields is None or fields.tree_size != cp.tree_size or fields.root != cp.root:
            return False
        if fields.timestamp != format_ts(cp.created_at) or cp.key_id != key_id(public_key):
            return False
        public_key.verify(cp.signature, cp.note.encode())
        return True
    except (InvalidSignature, ValueError, TypeError, AttributeError):
        return False
