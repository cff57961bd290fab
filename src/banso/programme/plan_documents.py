"""Research-plan documents of a proposal (研究提案書・様式・その他の添付, F6, issue 15).

The proposer uploads them while the proposal is a draft or submitted and the call is open. Each file is
validated completely as hostile input before anything is stored (O1: size, type by content, PDF parsed
within the viewer's limits — :func:`banso.sealed.uploads.sniff`, the check every upload path applies), then
sealed under the proposal's own key (:func:`banso.sealed.store.proposal_scope`, I11). An upload with the kind
and title of a live document replaces it; the earlier version is kept (版の履歴) and stays readable.

Who reads is decided once, by the gate (:func:`banso.authz.gate.plan_document_access`, the policy in
``banso.authz.policies.programme.can_read_plan_documents``): the team, the call's staff, and a seated reviewer
who declared no conflict — after the close. Every copy handed out is stamped for its recipient, recorded
and audited (I8), as council content is. Services never commit (the unit of work does).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from banso.audit.tags import AuditTag
from banso.authz import gate
from banso.authz.guard import require_visible
from banso.authz.principal import Principal
from banso.kit.errors import Forbidden, NotFound, ValidationFailed
from banso.kit.text import clean_text
from banso.programme import repository as repo
from banso.programme.models import PlanDocument, PlanDocumentKind, Proposal
from banso.programme.service import _audit
from banso.sealed import store as sealed
from banso.sealed.models import SealedKind
from banso.sealed.store import SealedDeps
from banso.sealed.uploads import FileKind, UploadRejected, safe_filename, sniff

__all__ = ["FileKind", "UploadRejected"]

MAX_PLAN_DOCUMENT_BYTES: Final = 20 * 1024 * 1024  # as deliverables and item files: the stamp and viewer limits

KIND_LABELS: Final = {PlanDocumentKind.RESEARCH_PLAN.value: "研究提案書", PlanDocumentKind.FORM.value: "様式",
                      PlanDocumentKind.OTHER.value: "その他の添付"}


def check_upload(content: bytes, filename: str, content_type: str) -> FileKind | UploadRejected:
    """Validate a document completely (O1) without a session: the CPU-heavy parse, run with no transaction (O4).

    A refusal is returned, and :func:`upload` raises it after the access decision (so an outsider learns
    nothing about a proposal from the file check).
    """
    try:
        return sniff(content, safe_filename(filename or ""), content_type, max_bytes=MAX_PLAN_DOCUMENT_BYTES)
    except UploadRejected as exc:
        return exc


def _readable(session: Session, actor: Principal, proposal_id: int, now: datetime) -> gate.PlanDocumentAccess:
    access = gate.plan_document_access(session, actor, proposal_id, now)
    require_visible(access.readable, "proposal")  # I7: out of reach looks missing
    return access


def _kind(kind: str) -> str:
    if kind not in KIND_LABELS:
        raise ValidationFailed("書類の種類は「research_plan」「form」「other」のいずれかです / kind must be research_plan, "
                               "form or other", field="kind")
    return kind


def upload(session: Session, *, proposal_id: int, kind: str, title: str, filename: str, content: bytes,
           content_type: str, now: datetime, actor: Principal, store: SealedDeps,
           checked: FileKind | UploadRejected | None = None) -> PlanDocument:
    """Seal and store a document of a proposal (the proposer, before the close); a same-titled one is replaced."""
    access = _readable(session, actor, proposal_id, now)
    if not access.may_upload:
        raise Forbidden("書類を提出できるのは締切前の提案者だけです / only the proposer uploads documents, "
                        "before the call closes")
    kind_v = _kind(kind)
    title_v = clean_text(title or KIND_LABELS[kind_v], "title", max_length=300, line=True)
    name = safe_filename(filename or "")  # O1: the one file-name rule
    if isinstance(checked, UploadRejected):
        raise checked
    ctype = (checked or sniff(content, name, content_type, max_bytes=MAX_PLAN_DOCUMENT_BYTES)).content_type
    proposal = access.proposal
    digest = hashlib.sha256(content).hexdigest()
    envelope = sealed.seal_file(store, sealed.proposal_scope(proposal.id), content,
                                label=sealed.file_label(SealedKind.PLAN_DOCUMENT, digest))
    earlier = repo.live_plan_document(session, proposal.id, kind_v, title_v)
    if earlier is not None:
        earlier.superseded_at = now  # the version stays: who read what stays answerable
    row = PlanDocument(proposal_id=proposal.id, kind=kind_v, title=title_v, filename=name, content_type=ctype,
                       size=len(content), sha256=digest, blob=envelope.blob, wrapped_key=envelope.wrapped_key,
                       replaces_id=earlier.id if earlier else None, uploaded_by_id=actor.user_id, uploaded_at=now)
    session.add(row)
    proposal.updated_at = now
    session.flush()
    _audit(session, AuditTag.PROGRAMME_PLAN_DOCUMENT_UPLOAD, now=now, actor=actor, subject=f"proposal:{proposal.id}",
           data={"document_id": row.id, "kind": kind_v, "sha256": digest, "size": row.size,
                 "replaces_id": row.replaces_id})
    return row


@dataclass
class DocumentsView:
    """A proposal's documents for one reader, with what the page may offer."""

    proposal: Proposal
    documents: list[PlanDocument]
    may_upload: bool


def list_documents(session: Session, *, proposal_id: int, now: datetime, actor: Principal) -> DocumentsView:
    """Return the documents (every version) of a proposal the actor may read (404 otherwise)."""
    access = _readable(session, actor, proposal_id, now)
    return DocumentsView(proposal=access.proposal, documents=repo.plan_documents(session, access.proposal.id),
                         may_upload=access.may_upload)


def _document(session: Session, proposal_id: int, document_id: int, actor: Principal,
              now: datetime) -> tuple[Proposal, PlanDocument]:
    access = _readable(session, actor, proposal_id, now)
    row = session.get(PlanDocument, document_id)
    if row is None or row.proposal_id != access.proposal.id:
        raise NotFound("見つかりません / not found")
    return access.proposal, row


def _unseal(session: Session, store: SealedDeps, row: PlanDocument, *, actor: Principal, now: datetime) -> bytes:
    refusal = sealed.Refusal(tag=AuditTag.PROGRAMME_INTEGRITY_FAILED, subject=f"proposal:{row.proposal_id}",
                             data={"document_id": row.id})
    return sealed.open_file(session, store, sealed.proposal_scope(row.proposal_id),
                            sealed.Envelope(wrapped_key=row.wrapped_key, blob=row.blob),
                            label=sealed.file_label(SealedKind.PLAN_DOCUMENT, row.sha256), actor=actor, now=now,
                            refusal=refusal)


def download(session: Session, *, proposal_id: int, document_id: int, now: datetime, actor: Principal,
             store: SealedDeps) -> sealed.Copy:
    """Return a document stamped for ``actor``, recorded and audited (I8); decided again at egress (I12)."""
    def opened(found: tuple[Proposal, PlanDocument]) -> sealed.Original:
        _, row = found
        return sealed.Original(kind=SealedKind.PLAN_DOCUMENT, object_id=row.id,
                               scope=sealed.proposal_scope(row.proposal_id), filename=row.filename,
                               content_type=row.content_type, label=f"提案書類 #{row.id}",
                               data=_unseal(session, store, row, actor=actor, now=now))

    (proposal, row), copy, dist = sealed.copy_in_steps(
        session, store, actor=actor, now=now, open_original=opened,
        decide=lambda: _document(session, proposal_id, document_id, actor, now))
    _audit(session, AuditTag.PROGRAMME_PLAN_DOCUMENT_DOWNLOAD, now=now, actor=actor,
           subject=f"proposal:{proposal.id}", data={"document_id": row.id, "sha256": row.sha256,
                                                    "distribution_id": dist.id, "channel": dist.channel})
    return copy
