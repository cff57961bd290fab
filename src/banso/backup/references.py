"""Every sealed file the database refers to, and the check that each is there and decrypts (O2, I11).

The audit log proves the database is intact; it says nothing about the blob folder. A backup whose
files were copied before its database snapshot refers to blobs it does not hold, and only this
check notices: every referenced blob must exist, hash to its name, and open under its key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.councils.models import MaterialFile, MaterialRequest, Meeting, MeetingMaterial
from banso.information import content
from banso.information.models import ExclusionClaim, Item, ItemFile
from banso.programme.models import CommissionDeliverable, PlanDocument
from banso.sealed import crypto
from banso.sealed import store as sealed
from banso.sealed.files import FileStore
from banso.sealed.models import SealedKind


@dataclass(frozen=True)
class Reference:
    """One sealed file a row refers to: where it is, whose key opens it and how."""

    what: str  # e.g. "info_file:7"
    blob: str  # file-store digest of the ciphertext
    scope: sealed.Scope  # whose key-encryption key wraps its data key
    wrapped_key: bytes
    aad: bytes
    sha256: str  # of the plaintext


def referenced_files(session: Session) -> Iterator[Reference]:
    """Yield every sealed file referenced by items, material answers, meeting materials, commission deliverables
    and proposals' research-plan documents."""
    yield from _item_files(session)
    yield from _answer_files(session)
    yield from _meeting_materials(session)
    yield from _exclusion_evidence(session)
    yield from _deliverables(session)
    yield from _plan_documents(session)


def _item_files(session: Session) -> Iterator[Reference]:
    rows = select(ItemFile.id, ItemFile.blob, ItemFile.sha256, Item.id, Item.council_id, Item.wrapped_key).join(
        Item, Item.id == ItemFile.item_id).order_by(ItemFile.id)
    for file_id, blob, sha, item_id, council_id, wrapped in session.execute(rows):
        yield Reference(f"info_file:{file_id}", blob, sealed.council_scope(council_id), wrapped,
                        content.file_aad(item_id, sha), sha)


def _answer_files(session: Session) -> Iterator[Reference]:
    rows = select(MaterialFile.id, MaterialFile.blob, MaterialFile.sha256, MaterialFile.wrapped_key,
                  MaterialRequest.council_id).join(MaterialRequest, MaterialRequest.id == MaterialFile.request_id
                                                   ).where(MaterialFile.blob.is_not(None)).order_by(MaterialFile.id)
    for file_id, blob, sha, wrapped, council_id in session.execute(rows):
        scope = sealed.council_scope(council_id)
        yield Reference(f"material_file:{file_id}", str(blob), scope, bytes(wrapped or b""),
                        sealed.associated_data(scope, sealed.file_label(SealedKind.MATERIAL_FILE, sha)), sha)


def _meeting_materials(session: Session) -> Iterator[Reference]:
    rows = select(MeetingMaterial.id, MeetingMaterial.blob, MeetingMaterial.sha256, MeetingMaterial.wrapped_key,
                  Meeting.council_id).join(Meeting, Meeting.id == MeetingMaterial.meeting_id).order_by(MeetingMaterial.id)
    for row_id, blob, sha, wrapped, council_id in session.execute(rows):
        scope = sealed.council_scope(council_id)
        yield Reference(f"meeting_material:{row_id}", str(blob), scope, bytes(wrapped),
                        sealed.associated_data(scope, sealed.file_label(SealedKind.MEETING_MATERIAL, sha)), sha)


def _exclusion_evidence(session: Session) -> Iterator[Reference]:
    rows = select(ExclusionClaim.id, ExclusionClaim.file_blob, ExclusionClaim.file_sha256,
                  ExclusionClaim.file_wrapped_key, ExclusionClaim.council_id).where(
        ExclusionClaim.file_blob.is_not(None)).order_by(ExclusionClaim.id)
    for row_id, blob, sha, wrapped, council_id in session.execute(rows):
        scope = sealed.council_scope(council_id)
        yield Reference(f"exclusion_evidence:{row_id}", str(blob), scope, bytes(wrapped or b""),
                        sealed.associated_data(scope, sealed.file_label(SealedKind.EXCLUSION_EVIDENCE, str(sha))), str(sha))


def _deliverables(session: Session) -> Iterator[Reference]:
    rows = select(CommissionDeliverable.id, CommissionDeliverable.blob, CommissionDeliverable.sha256,
                  CommissionDeliverable.wrapped_key, CommissionDeliverable.commission_id).where(
        CommissionDeliverable.blob.is_not(None)).order_by(CommissionDeliverable.id)
    for row_id, blob, sha, wrapped, commission_id in session.execute(rows):
        scope = sealed.commission_scope(commission_id)
        yield Reference(f"deliverable:{row_id}", str(blob), scope, bytes(wrapped or b""),
                        sealed.associated_data(scope, sealed.file_label(SealedKind.DELIVERABLE, sha)), sha)


def _plan_documents(session: Session) -> Iterator[Reference]:
    rows = select(PlanDocument.id, PlanDocument.blob, PlanDocument.sha256, PlanDocument.wrapped_key,
                  PlanDocument.proposal_id).order_by(PlanDocument.id)
    for row_id, blob, sha, wrapped, proposal_id in session.execute(rows):
        scope = sealed.proposal_scope(proposal_id)
        yield Reference(f"plan_document:{row_id}", str(blob), scope, bytes(wrapped),
                        sealed.associated_data(scope, sealed.file_label(SealedKind.PLAN_DOCUMENT, sha)), sha)


@dataclass
class FileCheck:
    """The outcome of checking every referenced file: how many opened, were shredded, failed."""

    opened: int = 0
    shredded: int = 0  # the scope's key was destroyed on purpose: unreadable by design (I11)
    problems: list[str] | None = None

    def __post_init__(self) -> None:
        self.problems = self.problems or []


def check_files(session: Session, deps: sealed.SealedDeps, *, destroyed: set[sealed.Scope]) -> FileCheck:
    """Check that every referenced blob exists, hashes to its name and decrypts to its plaintext hash.

    Files of a scope in ``destroyed`` (its key was destroyed on purpose) only need to exist.
    """
    result = FileCheck()
    problems: list[str] = []
    for ref in referenced_files(session):
        problem = _check_one(ref, deps, shredded=ref.scope in destroyed)
        if problem == "shredded":
            result.shredded += 1
        elif problem:
            problems.append(problem)
        else:
            result.opened += 1
    result.problems = problems
    return result


def _check_one(ref: Reference, deps: sealed.SealedDeps, *, shredded: bool) -> str | None:
    store: FileStore = deps.store
    try:
        blob = store.get(ref.blob)
    except (FileNotFoundError, ValueError):
        return f"{ref.what}: ファイルがありません / sealed file {ref.blob} is missing"
    if hashlib.sha256(blob).hexdigest() != ref.blob:
        return f"{ref.what}: ファイルが壊れています / sealed file {ref.blob} does not match its hash"
    if shredded:
        return "shredded"
    keys = sealed.key_store_of(deps, ref.scope.kind)
    try:
        data_key = keys.unwrap(ref.scope.id, ref.wrapped_key)
    except crypto.KeyUnavailable:
        return f"{ref.what}: 鍵がありません / no key for {ref.scope.subject}"
    except crypto.TamperedCiphertext as exc:
        return f"{ref.what}: {exc.message}"
    try:
        plain = crypto.open_sealed(blob, data_key=data_key, aad=ref.aad)
    except crypto.TamperedCiphertext as exc:
        return f"{ref.what}: {exc.message}"
    if hashlib.sha256(plain).hexdigest() != ref.sha256:
        return f"{ref.what}: 復号した内容が記録と一致しません / decrypted content does not match its recorded hash"
    return None

