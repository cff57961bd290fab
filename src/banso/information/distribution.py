"""Handing out copies (I8): policy check, key release, per-recipient stamping, a distribution record
and an audit entry — and the reverse, attributing a leaked copy to the recipient it was issued to.

Each copy of non-public content gets a fresh 64-bit fingerprint derived with HMAC from the item,
file, recipient and a random nonce, recorded in ``info_distributions``. PDFs get a visible footer
(name, organisation, JST time, item id) and invisible marks (``banso.leak.pdf``); Office files a
hidden custom property and, for xlsx and docx, a footer (``banso.leak.office``); images a visible
strip and metadata (``banso.leak.image``); text and CSV zero-width marks in every paragraph/row
(``banso.leak.text``). Method and limits: docs/leak-attribution.md.

A designation's handling (view-only, no download) refuses copies to everyone but the provider
(:func:`may_download_file`, :func:`may_download_body`); such files are read on screen instead
(``banso.information.viewer``), and every view is recorded like a copy (:func:`record_view`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.policies import information as policy
from banso.authz.principal import Principal
from banso.information import service
from banso.information.deps import InformationDeps
from banso.information.models import Ballot, BallotKind, BallotState, Distribution, Item, ItemFile, ItemState
from banso.kit.clock import to_jst
from banso.kit.errors import Forbidden, NotFound
from banso.leak import attribute as leak_attribute
from banso.leak.image import stamp_image
from banso.leak.office import stamp_office
from banso.leak.pdf import stamp_pdf
from banso.leak.text import CannotFingerprint, stamp_csv, stamp_text

OFFICE = frozenset({"docx", "xlsx", "pptx"})
IMAGES = frozenset({"png", "jpeg", "gif", "webp"})


@dataclass(frozen=True)
class Copy:
    """A file as handed to one recipient."""

    filename: str
    content_type: str
    data: bytes
    distribution_id: int | None  # None for public content (no stamp, no record)


def _fingerprint(deps: InformationDeps, *, item_id: int, file_id: int | None, user_id: int) -> bytes:
    nonce = secrets.token_bytes(8)  # every copy differs, so two downloads by one person are told apart
    message = f"{item_id}:{file_id}:{user_id}:".encode() + nonce
    return hmac.new(deps.fingerprint_key, message, hashlib.sha256).digest()[:8]


def recipient(session: Session, actor: Principal) -> tuple[str, str]:
    """Return the name and organisation a watermark shows for ``actor``."""
    user = accounts_repo.user_by_id(session, actor.user_id)
    name = user.name_ja if user else actor.email
    org = user.organization.name_ja if user and user.organization else ""
    return name, org


def _footer(session: Session, actor: Principal, item: Item, now: datetime) -> str:
    name, org = recipient(session, actor)
    return (f"{name}（{org}）に交付 {to_jst(now).strftime('%Y-%m-%d %H:%M')} JST 情報 #{item.id} "
            "— 守秘義務対象 / confidential, issued to this recipient")


def _designation(session: Session, item: Item) -> Ballot | None:
    """Return the designation in force on ``item``, else the one being voted on."""
    if item.current_designation_id is not None:
        return session.get(Ballot, item.current_designation_id)
    return session.scalar(select(Ballot).where(Ballot.item_id == item.id, Ballot.state == BallotState.OPEN.value,
                                               Ballot.kind == BallotKind.DESIGNATION.value))


def file_handling(session: Session, item: Item, file_id: int | None) -> list[str]:
    """Return the handling (I3) that governs one file, or the body (``None``).

    A partial designation governs its own files only; a whole-item one everything, from the moment
    it is proposed: the handling is fixed before the content is shared (I3), so the provider and the
    secretariat holding it during the vote (I4) are bound by it too.
    """
    ballot = _designation(session, item)
    if ballot is None:
        return []
    if ballot.file_ids:
        return list(ballot.handling) if file_id in ballot.file_ids else []
    return list(ballot.handling) if item.state in (ItemState.DESIGNATED, ItemState.HELD) else []


def may_download_file(session: Session, actor: Principal, item: Item, file_id: int) -> bool:
    """Return True unless the handling of this file forbids ``actor`` a copy (view-only, no download)."""
    return policy.can_download(actor, service.facts_of(session, item), file_handling(session, item, file_id))


def may_download_body(session: Session, actor: Principal, item: Item) -> bool:
    """Return True unless the item's designation forbids ``actor`` a copy of the body (or an export)."""
    return policy.can_download(actor, service.facts_of(session, item), file_handling(session, item, None))


def _record(session: Session, deps: InformationDeps, *, item: Item, file_id: int | None, actor: Principal,
            channel: str, now: datetime) -> tuple[Distribution, bytes]:
    code = _fingerprint(deps, item_id=item.id, file_id=file_id, user_id=actor.user_id)
    row = Distribution(item_id=item.id, file_id=file_id, user_id=actor.user_id,
                       organization_id=actor.organization_id, fingerprint=code.hex(), channel=channel,
                       created_at=now)
    session.add(row)
    session.flush()
    return row, code


def download_file(session: Session, deps: InformationDeps, *, item_id: int, file_id: int,
                  actor: Principal | None, now: datetime) -> Copy:
    """Return a file for ``actor``: public files as stored; non-public ones stamped, recorded, audited."""
    item, standing = service.readable(session, item_id, actor)
    row = session.get(ItemFile, file_id)
    if row is None or row.item_id != item.id or not service.may_read_file(session, item, row.id, actor, standing):
        raise NotFound("file not found")  # I7: a designated file out of scope looks missing
    file_range = service.file_range_of(session, item)
    restricted = file_range is not None and row.id in file_range.file_ids
    if item.state == ItemState.PUBLIC and not restricted:
        return Copy(row.filename, row.content_type, service.file_bytes(session, deps, item, row, actor=actor,
                                                                      now=now), None)
    assert actor is not None  # non-public content was readable, so someone is signed in
    if not may_download_file(session, actor, item, row.id):
        handling = file_handling(session, item, row.id)
        audit.refuse(session, Forbidden("この指定は閲覧のみでダウンロードできません / This designation is view-only: "
                                          "files cannot be downloaded"), AuditTag.INFO_FILE_REFUSED, now=now,
                       actor=actor, subject=service.subject_of(item), data={"file_id": row.id, "handling": handling})
    data = service.file_bytes(session, deps, item, row, actor=actor, now=now)
    channel = {"pdf": "pdf", "csv": "csv", "text": "text"}.get(row.kind, "office" if row.kind in OFFICE else "image")
    dist, code = _record(session, deps, item=item, file_id=row.id, actor=actor, channel=channel, now=now)
    if row.kind == "pdf":
        data = stamp_pdf(data, footer=_footer(session, actor, item, now), code=code)
    elif row.kind in OFFICE:
        data = stamp_office(data, kind=row.kind, footer=_footer(session, actor, item, now), code=code)
    elif row.kind in IMAGES:
        data = stamp_image(data, kind=row.kind, footer=_footer(session, actor, item, now), code=code)
    elif row.kind in ("csv", "text"):
        data = stamp_plain(data.decode("utf-8-sig"), code=code, csv=row.kind == "csv").encode()
    audit.record_for(session, AuditTag.INFO_FILE_DOWNLOAD, now=now, actor=actor, subject=service.subject_of(item),
                   data={"file_id": row.id, "distribution_id": dist.id, "channel": channel,
                         "sha256": row.sha256, "state": item.state})
    return Copy(row.filename, row.content_type, data, dist.id)


def download_body(session: Session, deps: InformationDeps, *, item_id: int, actor: Principal | None,
                  now: datetime) -> Copy:
    """Return the current body as a UTF-8 text file, fingerprinted for non-public items (I8)."""
    item, _ = service.readable(session, item_id, actor)
    text = service.body_of(session, deps, item, actor=actor, now=now)
    name = f"item-{item.id}-v{item.current_version}.txt"
    if item.state == ItemState.PUBLIC:
        return Copy(name, "text/plain; charset=utf-8", text.encode(), None)
    assert actor is not None
    if not may_download_body(session, actor, item):
        audit.refuse(session, Forbidden("この指定は閲覧のみでダウンロードできません / This designation is view-only"),
                       AuditTag.INFO_FILE_REFUSED, now=now, actor=actor, subject=service.subject_of(item),
                       data={"file_id": None})
    dist, code = _record(session, deps, item=item, file_id=None, actor=actor, channel="body", now=now)
    audit.record_for(session, AuditTag.INFO_FILE_DOWNLOAD, now=now, actor=actor, subject=service.subject_of(item),
                   data={"file_id": None, "distribution_id": dist.id, "channel": "body", "state": item.state})
    return Copy(name, "text/plain; charset=utf-8", stamp_plain(text, code=code, csv=False).encode(), dist.id)


def record_view(session: Session, deps: InformationDeps, *, item: Item, row: ItemFile, actor: Principal,
                channel: str, now: datetime, page: int | None = None) -> tuple[Distribution, bytes]:
    """Record one on-screen view of a file like a copy (I8, I12): a fresh fingerprint, a row, an audit entry."""
    dist, code = _record(session, deps, item=item, file_id=row.id, actor=actor, channel=channel, now=now)
    audit.record_for(session, AuditTag.INFO_FILE_VIEW, now=now, actor=actor, subject=service.subject_of(item),
                     data={"file_id": row.id, "distribution_id": dist.id, "channel": channel, "page": page,
                           "sha256": row.sha256, "state": item.state})
    return dist, code


def stamp_plain(text: str, *, code: bytes, csv: bool) -> str:
    """Return text or CSV with zero-width marks of ``code`` (unchanged when it has no place for one)."""
    # A text with no place for a mark (empty, only numbers) carries nothing worth attributing;
    # the copy is still recorded and audited.
    try:
        return stamp_csv(text, code=code) if csv else stamp_text(text, code=code)
    except CannotFingerprint:
        return text


@dataclass(frozen=True)
class Finding:
    """The answer of an attribution: the most likely recipient, with a confidence and the evidence."""

    distribution: Distribution | None
    user_id: int | None
    user_label: str | None
    organization_label: str | None
    confidence: float
    explanation: str
    ranked: list[tuple[int, float]]  # (distribution id, score)
    evidence: list[str]


def attribute(session: Session, *, data: bytes, filename: str | None = None, item_id: int | None = None,
              actor_label: str = "system", actor_id: int | None = None, now: datetime) -> Finding:
    """Trace a leaked copy or excerpt back to the recipient it was issued to (I8, I9); audited."""
    stmt = select(Distribution)
    if item_id is not None:
        stmt = stmt.where(Distribution.item_id == item_id)
    rows = {str(d.id): d for d in session.scalars(stmt)}
    candidates = {key: bytes.fromhex(d.fingerprint) for key, d in rows.items()}
    result = leak_attribute.attribute(data, candidates, filename=filename)
    best = rows.get(result.best) if result.best is not None else None
    user = accounts_repo.user_by_id(session, best.user_id) if best else None
    finding = Finding(
        distribution=best, user_id=best.user_id if best else None,
        user_label=f"{user.name_ja} <{user.email}>" if user else None,
        organization_label=user.organization.name_ja if user and user.organization else None,
        confidence=float(result.confidence), explanation=result.explanation,
        ranked=[(int(key), float(score)) for key, score in result.ranked[:5]],
        evidence=[f"{e.channel}: {e.code.hex() if e.code else '-'} ×{e.occurrences}"
                  f"{' (checksum ok)' if e.verified else ''}" for e in result.evidence],
    )
    audit.record(session, tag=AuditTag.INFO_LEAK_ATTRIBUTE, now=now, actor_id=actor_id, actor_label=actor_label,
                 subject=f"item:{best.item_id}" if best else "leak:unattributed",
                 data={"sha256": hashlib.sha256(data).hexdigest(), "distribution_id": best.id if best else None,
                       "user_id": finding.user_id, "confidence": round(finding.confidence, 6)})
    return finding
