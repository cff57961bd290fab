"""Signed checkpoints (A2): key handling, signing, verification, tampering."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session, sessionmaker

from banso.audit import checkpoints, merkle, service
from banso.audit.export import checkpoint_records
from banso.audit.rules import parse_note
from banso.audit.tags import AuditTag
from banso.kit.clock import FakeClock


def test_signing_key_is_created_once_with_private_permissions(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "audit-ed25519.pem"
    key = checkpoints.load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = checkpoints.load_or_create_signing_key(path)
    assert checkpoints.key_id(again) == checkpoints.key_id(key.public_key())
    assert len(checkpoints.key_id(key.public_key())) == 64
    pem = checkpoints.public_key_pem(key)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert checkpoints.key_id(checkpoints.parse_public_key_pem(pem)) == checkpoints.key_id(key)
    assert checkpoints.key_id(checkpoints.load_public_key(path)) == checkpoints.key_id(key)


def test_sign_checkpoint_covers_its_own_entry_and_verifies(
    audit_sessions: sessionmaker[Session], audit_clock: FakeClock, signing_key: Ed25519PrivateKey
) -> None:
    with audit_sessions() as db:
        for i in range(5):
            service.record(db, tag=AuditTag.LOGIN, now=audit_clock.now(), actor_id=i)
        cp = checkpoints.sign_checkpoint(db, key=signing_key, now=audit_clock.advance(seconds=5))
        db.commit()
        # Decision (checkpoints.py): the checkpoint entry is the last leaf of the signed tree.
        assert cp.tree_size == 6 == service.tree_size(db)
        last = service.get_entry(db, 5)
        assert last is not None and last.tag == AuditTag.CHECKPOINT_SIGN
        assert last.data == {"tree_size": 6, "key_id": checkpoints.key_id(signing_key)}
        leaves = [e.leaf for e in reversed(service.list_entries(db, limit=10))]
        assert cp.root == merkle.root_hash(leaves) == service.current_root(db)
        assert checkpoints.verify_checkpoint(cp, signing_key.public_key())
        fields = parse_note(cp.note)
        assert fields is not None and fields.tree_size == 6 and fields.root == cp.root
        assert cp.note.startswith("banso.audit/v1\n6\n")
        assert service.latest_checkpoint(db) is cp
        assert [c.tree_size for c in service.list_checkpoints(db)] == [6]


def test_tampered_checkpoints_are_rejected(
    audit_sessions: sessionmaker[Session], audit_clock: FakeClock, signing_key: Ed25519PrivateKey
) -> None:
    with audit_sessions() as db:
        service.record(db, tag=AuditTag.LOGIN, now=audit_clock.now())
        checkpoints.sign_checkpoint(db, key=signing_key, now=audit_clock.now())
        db.commit()
        (cp,) = checkpoint_records(db)
    pub = signing_key.public_key()
    assert checkpoints.verify_checkpoint(cp, pub)
    bad_note = cp.note.replace("\n2\n", "\n3\n")
    assert not checkpoints.verify_checkpoint(dataclasses.replace(cp, note=bad_note), pub)
    assert not checkpoints.verify_checkpoint(dataclasses.replace(cp, note=bad_note, tree_size=3), pub)
    assert not checkpoints.verify_checkpoint(dataclasses.replace(cp, tree_size=3), pub)
    assert not checkpoints.verify_checkpoint(dataclasses.replace(cp, root=merkle.EMPTY_ROOT), pub)
    assert not checkpoints.verify_checkpoint(dataclasses.replace(cp, signature=bytes(64)), pub)
    assert not checkpoints.verify_checkpoint(dataclasses.replace(cp, note="garbage"), pub)
    assert not checkpoints.verify_checkpoint(
        dataclasses.replace(cp, created_at=audit_clock.advance(seconds=1)), pub)
    other = Ed25519PrivateKey.generate().public_key()
    assert not checkpoints.verify_checkpoint(cp, other)
    assert not checkpoints.verify_checkpoint(dataclasses.replace(cp, key_id=checkpoints.key_id(other)), other)


def test_signing_twice_without_new_entries_still_moves_on(
    audit_sessions: sessionmaker[Session], audit_clock: FakeClock, signing_key: Ed25519PrivateKey
) -> None:
    with audit_sessions() as db:
        first = checkpoints.sign_checkpoint(db, key=signing_key, now=audit_clock.now())
        db.commit()
        assert first.tree_size == 1  # an empty log's first checkpoint covers its own entry
        latest = service.latest_checkpoint(db)
        assert latest is not None and latest.tree_size == service.tree_size(db)  # jobs.run_due: nothing due
