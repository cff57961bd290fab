"""JSON API of the audit log (A2, A3): checkpoints, entries, inclusion and consistency proofs."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from banso.audit import checkpoints, reading
from banso.audit import export as exports
from banso.audit import service as audit
from banso.audit.directory import directory_of
from banso.audit.models import AuditCheckpoint, AuditEntry
from banso.audit.tags import label
from banso.authz.guard import require_visible
from banso.authz.permissions import Permission
from banso.authz.policies import accounts as policy
from banso.kit.disposition import content_disposition
from banso.kit.errors import NotFound, ValidationFailed
from banso.web.csrf import verify_csrf
from banso.web.deps import ApiUser, Ctx, Db, requires
from banso.web.i18n import Translator

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
        raise NotFound("署名済みのチェックポイントはまだありません / no checkpoint has been signed yet")
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
        raise ValidationFailed(f"木の大きさは {seq} より大きく {audit.tree_size(db)} 以下で指定してください / tree_size must be in ({seq}, {audit.tree_size(db)}]", field="tree_size")
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
        raise ValidationFailed(f"木の大きさは 1 以上 {size} 以下で、比較元が比較先以下になるように指定してください / need 1 <= first <= second <= {size}", field="second")
    proof = audit.consistency_proof_for(db, first, second)
    return ConsistencyProofRead(first=first, second=second, first_root=audit.root_at(db, first).hex(),
                                second_root=audit.root_at(db, second).hex(), proof=[h.hex() for h in proof])



# ---------------------------------------------------------------------------------------------
# The log for people (issue 14): the audit page's filters, named actors and subjects, exports


class ActorRead(BaseModel):
    """Who acted: name and organisation (None when the person is not known to the directory)."""

    id: int | None
    name: str | None
    organisation: str | None
    recorded_as: str | None  # the label written into the entry at the time


class SubjectRead(BaseModel):
    """What the entry is about: the raw subject and its label; ``href`` only when the caller may follow it."""

    value: str
    kind: str | None
    name: str | None
    href: str | None


class AuditRowRead(BaseModel):
    """One entry of the filtered log, named for people."""

    seq: int
    created_at: datetime
    tag: str
    label_ja: str
    label_en: str
    actor: ActorRead
    subject: SubjectRead | None
    ip: str | None
    data: dict[str, Any] | None


class AuditPageRead(BaseModel):
    """One page of the filtered log, newest first; pass ``next_before`` as ``before`` for the next page."""

    entries: list[AuditRowRead]
    next_before: int | None


@dataclass(frozen=True)
class AuditFilters:
    """The filters of ``GET /api/v1/audit`` and its exports (the audit page's, by the same names)."""

    actor: Annotated[int | None, Query(ge=1, description="Entries by this person (user id).")] = None
    org: Annotated[int | None, Query(ge=1, description="Entries by the people of this organisation.")] = None
    tag: Annotated[list[str] | None, Query(description="Event types (audit tags); repeat for several.")] = None
    group: Annotated[str | None, Query(description="Event group: the tag's source (council, information, ...).")] = None
    subject: Annotated[str | None, Query(max_length=200, description="Exact subject, e.g. item:7.")] = None
    day_from: Annotated[date | None, Query(alias="from", description="First day (JST), YYYY-MM-DD.")] = None
    day_to: Annotated[date | None, Query(alias="to", description="Last day (JST), YYYY-MM-DD, inclusive.")] = None
    q: Annotated[str | None, Query(max_length=200, description="Text in the entry's data, actor or subject.")] = None
    system: Annotated[bool, Query(description="Include system entries (checkpoints); hidden by default.")] = False
    lang: Annotated[Literal["ja", "en"], Query(description="Language of names and export labels.")] = "ja"

    def query(self) -> reading.AuditQuery:
        """Return the checked filters (the same checks as the page's)."""
        return reading.parse_query(
            actor=None if self.actor is None else str(self.actor), org=None if self.org is None else str(self.org),
            tags=self.tag, group=self.group, subject=self.subject,
            day_from=self.day_from.isoformat() if self.day_from else None,
            day_to=self.day_to.isoformat() if self.day_to else None, text=self.q, system="1" if self.system else None)


Filters = Annotated[AuditFilters, Depends()]
_JA, _EN = Translator("ja"), Translator("en")


def _row(named: reading.NamedEntry) -> AuditRowRead:
    e, s = named.entry, named.subject
    subject = None if e.subject is None else SubjectRead(
        value=e.subject, kind=s.kind or None if s else None, name=s.name if s else None, href=s.href if s else None)
    return AuditRowRead(
        seq=e.seq, created_at=e.created_at, tag=e.tag, label_ja=_JA.gettext(label(e.tag)),
        label_en=_EN.gettext(label(e.tag)),
        actor=ActorRead(id=e.actor_id, name=named.actor.name if named.actor else None,
                        organisation=named.actor.organisation if named.actor else None, recorded_as=e.actor_label),
        subject=subject, ip=e.ip, data=e.data if isinstance(e.data, dict) else None)


@router.get("", response_model=AuditPageRead, dependencies=[READ_ENTRIES])
def search(
    principal: ApiUser, db: Db, ctx: Ctx, filters: Filters,
    before: Annotated[int | None, Query(ge=0, description="Only entries older than this seq.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPageRead:
    """List the entries the filters select, newest first; people who are not auditors see only their own."""
    page = reading.read_page(db, directory_of(ctx), principal, filters.query(), before=before, size=limit,
                             locale=filters.lang)
    return AuditPageRead(entries=[_row(r) for r in page.rows], next_before=page.older)


def _export(principal: ApiUser, db: Db, ctx: Ctx, filters: AuditFilters, fmt: str) -> Response:
    rows = reading.export_entries(db, directory_of(ctx), principal, filters.query(), fmt=fmt, now=ctx.clock.now(),
                                  locale=filters.lang)
    translate = (_EN if filters.lang == "en" else _JA).gettext
    if fmt == "csv":
        body, media = exports.csv_bytes(rows, translate), exports.CSV_MEDIA_TYPE
    else:
        body, media = exports.xlsx_bytes(rows, translate), exports.XLSX_MEDIA_TYPE
    return Response(body, media_type=media, headers={
        "Cache-Control": "no-store", "Content-Disposition": content_disposition(f"audit.{fmt}")})


_FILE = {"content": {exports.CSV_MEDIA_TYPE: {}, exports.XLSX_MEDIA_TYPE: {}}, "description": "The file."}


@router.get("/export.csv", response_class=Response, responses={200: _FILE}, dependencies=[READ_ENTRIES])
def export_csv(principal: ApiUser, db: Db, ctx: Ctx, filters: Filters) -> Response:
    """Download the filtered entries as CSV (labels in ``lang`` plus the raw tag); the export is audited."""
    return _export(principal, db, ctx, filters, "csv")


@router.get("/export.xlsx", response_class=Response, responses={200: _FILE}, dependencies=[READ_ENTRIES])
def export_xlsx(principal: ApiUser, db: Db, ctx: Ctx, filters: Filters) -> Response:
    """Download the filtered entries as an Excel workbook; the export is audited."""
    return _export(principal, db, ctx, filters, "xlsx")
