"""JSON API of the audit log (A2, A3): checkpoints, entries, inclusion and consistency proofs."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from banso.audit import checkpoints
from banso.audit import service as audit
from banso.audit.models import AuditCheckpoint, AuditEntry
from banso.authz.guard import require_visible
from banso.authz.permissions import Permission
from banso.authz.policies import accounts as policy
from banso.kit.errors import NotFound, ValidationFailed
from banso.web.csrf import verify_csrf
from banso.web.deps import ApiUser, Ctx, Db, requires

# Every route declares its permission (a narrowed token must carry it); signing a checkpoint is a
# state change, so cookie sessions need the CSRF token like every other write.
router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[Depends(verify_csrf)])
READ_CHECKPOINTS = requires(Permission.AUDIT_CHECKPOINT_READ)
READ_ENTRIES = requires(Permission.AUDIT_OWN_READ, Permission.AUDIT_LOG_READ)


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


class CheckpointRead(BaseModel):
    """A signed checkpoint (A2): witnesses keep these and compare later ones for consistency."""

    tree_size: int
    root: str  # base64
    root_hex: str
    created_at: datetime
    key_id: str
    signature: str  # base64 Ed25519 over ``note``
    note: str

    @classmethod
    def of(cls, cp: AuditCheckpoint) -> CheckpointRead:
        """Build from the ORM row."""
        return cls(tree_size=cp.tree_size, root=_b64(cp.root), root_hex=cp.root.hex(), created_at=cp.created_at,
                   key_id=cp.key_id, signature=_b64(cp.signature), note=cp.note)


class PublicKeyRead(BaseModel):
    """The log's Ed25519 public key."""

    key_id: str
    public_key_pem: str


class EntryRead(BaseModel):
    """An audit entry with the exact bytes that were hashed into the log."""

    seq: int
    created_at: datetime
    tag: str
    actor_id: int | None
    actor_label: str | None
    subject: str | None
    data: dict[str, Any] | None
    leaf: str  # base64 of the canonical entry bytes
    leaf_hash: str  # hex

    @classmethod
    def of(cls, e: AuditEntry) -> EntryRead:
        """Build from the ORM row."""
        data = e.data if isinstance(e.data, dict) else None
        return cls(seq=e.seq, created_at=e.created_at, tag=e.tag, actor_id=e.actor_id, actor_label=e.actor_label,
                   subject=e.subject, data=data, leaf=_b64(e.leaf), leaf_hash=e.leaf_hash.hex())


class InclusionProofRead(BaseModel):
    """RFC 9162 inclusion proof of one entry in the tree of ``tree_size``."""

    seq: int
    tree_size: int
    leaf_hash: str
    root: str  # hex, root of the tree of tree_size
    proof: list[str]  # hex hashes, leaf to root


class ConsistencyProofRead(BaseModel):
    """RFC 9162 consistency proof between two tree sizes."""

    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


@router.get("/public-key", response_model=PublicKeyRead, dependencies=[READ_CHECKPOINTS])
def public_key(principal: ApiUser, ctx: Ctx) -> PublicKeyRead:
    """Return the checkpoint signing key (A2)."""
    pub = ctx.signing_key.public_key()
    return PublicKeyRead(key_id=checkpoints.key_id(pub), public_key_pem=checkpoints.public_key_pem(ctx.signing_key))


@router.get("/checkpoints/latest", response_model=CheckpointRead, dependencies=[READ_CHECKPOINTS])
def latest_checkpoint(principal: ApiUser, db: Db) -> CheckpointRead:
    """Return the newest signed checkpoint."""
    cp = audit.latest_checkpoint(db)
    if cp is None:
        raise NotFound("no checkpoint has been signed yet")
    return CheckpointRead.of(cp)


@router.get("/checkpoints", response_model=list[CheckpointRead], dependencies=[READ_CHECKPOINTS])
def list_checkpoints(
    principal: ApiUser, db: Db, after_size: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000)
) -> list[CheckpointRead]:
    """List signed checkpoints by tree size (witnesses fetch and keep them)."""
    return [CheckpointRead.of(cp) for cp in audit.list_checkpoints(db, after_size=after_size, limit=limit)]


@router.post("/checkpoints", response_model=CheckpointRead, status_code=201,
             dependencies=[requires(Permission.AUDIT_CHECKPOINT_SIGN)])
def sign_checkpoint(principal: ApiUser, db: Db, ctx: Ctx) -> CheckpointRead:
    """Sign a checkpoint of the current log now (admin)."""
    cp = checkpoints.sign_checkpoint(db, key=ctx.signing_key, now=ctx.clock.now())
    return CheckpointRead.of(cp)


@router.get("/entries", response_model=list[EntryRead], dependencies=[READ_ENTRIES])
def list_entries(
    principal: ApiUser, db: Db, before: int | None = Query(None, ge=0), limit: int = Query(50, ge=1, le=500)
) -> list[EntryRead]:
    """List entries newest first; people who are not auditors see only their own actions."""
    actor = policy.audit_entry_filter_actor(principal)
    return [EntryRead.of(e) for e in audit.list_entries(db, actor_id=actor, before=before, limit=limit)]


def _visible_entry(db: Db, principal: ApiUser, seq: int) -> AuditEntry:
    entry = audit.get_entry(db, seq)
    require_visible(entry is not None and policy.can_read_audit_entry(principal, entry.actor_id), "audit entry")
    assert entry is not None
    return entry


@router.get("/entries/{seq}", response_model=EntryRead, dependencies=[READ_ENTRIES])
def get_entry(seq: int, principal: ApiUser, db: Db) -> EntryRead:
    """Return one entry (404 when it is not the caller's to see)."""
    return EntryRead.of(_visible_entry(db, principal, seq))


@router.get("/entries/{seq}/proof", response_model=InclusionProofRead, dependencies=[READ_ENTRIES])
def inclusion_proof(
    seq: int, principal: ApiUser, db: Db, ctx: Ctx, tree_size: int | None = Query(None, ge=1)
) -> InclusionProofRead:
    """Return the inclusion proof of an entry in the tree of ``tree_size`` (default: latest checkpoint)."""
    entry = _visible_entry(db, principal, seq)
    if tree_size is None:
        cp = audit.latest_checkpoint(db)
        tree_size = cp.tree_size if cp is not None and cp.tree_size > seq else audit.tree_size(db)
    if not seq < tree_size <= audit.tree_size(db):
        raise ValidationFailed(f"tree_size must be in ({seq}, {audit.tree_size(db)}]", field="tree_size")
    proof = audit.inclusion_proof_for(db, seq, tree_size)
    root = audit.root_at(db, tree_size)
    return InclusionProofRead(seq=seq, tree_size=tree_size, leaf_hash=entry.leaf_hash.hex(), root=root.hex(),
                              proof=[h.hex() for h in proof])


@router.get("/consistency", response_model=ConsistencyProofRead, dependencies=[READ_CHECKPOINTS])
def consistency_proof(
    principal: ApiUser, db: Db, first: int = Query(ge=1), second: int = Query(ge=1)
) -> ConsistencyProofRead:
    """Return the consistency proof between two tree sizes (A3)."""
    size = audit.tree_size(db)
    if not first <= second <= size:
        raise ValidationFailed(f"need 1 <= first <= second <= {size}", field="second")
    proof = audit.consistency_proof_for(db, first, second)
    return ConsistencyProofRead(first=first, second=second, first_root=audit.root_at(db, first).hex(),
                                second_root=audit.root_at(db, second).hex(), proof=[h.hex() for h in proof])

