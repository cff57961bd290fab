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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.egress import Egress
from banso.authz.principal import Principal
from banso.information import content, service
from banso.information.deps import InformationDeps
from banso.information.models import Distribution, Item, ItemFile
from banso.kit.cells import neutralise_csv_data
from banso.kit.clock import to_jst
from banso.kit.errors import NotFound
from banso.kit.unit import read_step, released
from banso.leak import attribute as leak_attribute
from banso.sealed.models import SealedDistribution
from banso.sealed.store import OFFICE, Copy, stamp_kind, stamp_plain


def fingerprint(deps: InformationDeps, *, item_id: int, file_id: int | None, user_id: int) -> bytes:
    """Return a fresh 64-bit fingerprint for one copy (HMAC of item, file, recipient and a random nonce)."""
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


def _record(session: Session, deps: InformationDeps, *, item: Item, file_id: int | None, actor: Principal,
            channel: str, now: datetime, code: bytes | None = None) -> tuple[Distribution, bytes]:
    code = code or fingerprint(deps, item_id=item.id, file_id=file_id, user_id=actor.user_id)
    row = Distribution(item_id=item.id, file_id=file_id, user_id=actor.user_id,
                       organization_id=actor.organization_id, fingerprint=code.hex(), channel=channel,
                       created_at=now)
    session.add(row)
    session.flush()
    return row, code


@dataclass(frozen=True)
class _Read:
    """What the read step of a download hands to the stamping: plain values, no rows (nothing may load)."""

    filename: str
    content_type: str
    kind: str
    data: bytes
    copy: bool  # the gate's decision: a stamped, recorded copy (else served as stored)
    footer: str = ""


def _file_of(session: Session, item: Item, file_id: int) -> ItemFile:
    row = session.get(ItemFile, file_id)
    if row is None or row.item_id != item.id:
        raise NotFound("ファイルが見つかりません / file not found")
    return row


def _decide_file(session: Session, *, item_id: int, file_id: int, actor: Principal | None,
                 now: datetime) -> tuple[Item, ItemFile, bool]:
    """Ask the gate for a file copy (I12): out of scope is 404, a view-only file 403; return item, file, copy."""
    access = service.open_item(session, item_id, actor, now=now)
    row = _file_of(session, access.item, file_id)
    decision = service.require(session, access, Egress.FILE, now=now, file_id=row.id, version=row.version)
    return access.item, row, decision.copy


def _channel_of(kind: str) -> str:
    return {"pdf": "pdf", "csv": "csv", "text": "text"}.get(kind, "office" if kind in OFFICE else "image")


def download_file(session: Session, deps: InformationDeps, *, item_id: int, file_id: int,
                  actor: Principal | None, now: datetime) -> Copy:
    """Return a file for ``actor``: public files as stored; non-public ones stamped, recorded, audited.

    The gate decides (I12): out of scope is 404, a view-only file is 403 (it can be viewed, not copied).
    In three steps (O4, ``banso.kit.unit``): decide, read and decrypt without the write lock; stamp with
    no transaction open; then decide again (access may have been withdrawn meanwhile) and record the
    copy with the fingerprint its stamp carries — a refusal or a failing commit sends no bytes (I8).
    """
    with read_step(session):
        item, row, copy = _decide_file(session, item_id=item_id, file_id=file_id, actor=actor, now=now)
        data = content.file_bytes(session, deps, item, row, actor=actor, now=now)
        read = _Read(row.filename, row.content_type, row.kind, data, copy,
                     _footer(session, actor, item, now) if copy and actor is not None else "")
    if not read.copy:  # public: served as stored, but no formula cell reaches a spreadsheet (O1)
        return Copy(read.filename, read.content_type,
                    neutralise_csv_data(read.data) if read.kind == "csv" else read.data, None)
    assert actor is not None  # a copy of non-public content goes to someone signed in
    code = fingerprint(deps, item_id=item_id, file_id=file_id, user_id=actor.user_id)
    with released(session):  # no transaction open
        stamped = stamp_kind(read.data, kind=read.kind, footer=read.footer, code=code)
    # I12: the gate decides at the moment of egress, so again now; the record carries the stamp's code (I8).
    item, row, _ = _decide_file(session, item_id=item_id, file_id=file_id, actor=actor, now=now)
    channel = _channel_of(row.kind)
    dist, _ = _record(session, deps, item=item, file_id=row.id, actor=actor, channel=channel, now=now, code=code)
    audit.record_for(session, AuditTag.INFO_FILE_DOWNLOAD, now=now, actor=actor, subject=content.subject_of(item),
                     data={"file_id": row.id, "distribution_id": dist.id, "channel": channel,
                           "sha256": row.sha256, "state": item.state})
    return Copy(read.filename, read.content_type, stamped, dist.id)


def download_body(session: Session, deps: InformationDeps, *, item_id: int, actor: Principal | None,
                  now: datetime) -> Copy:
    """Return the current body as a UTF-8 text file, fingerprinted for non-public items (I8).

    In the steps of :func:`download_file`: read, mark with no transaction open, decide again and record.
    """
    with read_step(session):
        access = service.open_item(session, item_id, actor, now=now)
        version = access.item.current_version
        copy = service.require(session, access, Egress.BODY, now=now).copy
        text = content.body_of(session, deps, access.item, actor=actor, now=now)
    name = f"item-{item_id}-v{version}.txt"
    if not copy:
        return Copy(name, "text/plain; charset=utf-8", text.encode(), None)
    assert actor is not None
    code = fingerprint(deps, item_id=item_id, file_id=None, user_id=actor.user_id)
    with released(session):  # no transaction open
        stamped = stamp_plain(text, code=code, csv=False).encode()
    access = service.open_item(session, item_id, actor, now=now)  # I12: decide again at egress
    service.require(session, access, Egress.BODY, now=now)
    item = access.item
    dist, _ = _record(session, deps, item=item, file_id=None, actor=actor, channel="body", now=now, code=code)
    audit.record_for(session, AuditTag.INFO_FILE_DOWNLOAD, now=now, actor=actor, subject=content.subject_of(item),
                     data={"file_id": None, "distribution_id": dist.id, "channel": "body", "state": item.state})
    return Copy(name, "text/plain; charset=utf-8", stamped, dist.id)


def record_view(session: Session, deps: InformationDeps, *, item: Item, row: ItemFile | None, actor: Principal,
                channel: str, now: datetime, page: int | None = None,
                code: bytes | None = None) -> tuple[Distribution, bytes]:
    """Record one on-screen view of a file (or, with ``row`` None, of the body) like a copy (I8, I12): a
    fingerprint (``code``, the one the view was stamped with, else a fresh one), a row, an audit entry."""
    file_id = row.id if row is not None else None
    dist, code = _record(session, deps, item=item, file_id=file_id, actor=actor, channel=channel, now=now,
                         code=code)
    audit.record_for(session, AuditTag.INFO_FILE_VIEW, now=now, actor=actor, subject=content.subject_of(item),
                     data={"file_id": file_id, "distribution_id": dist.id, "channel": channel, "page": page,
                           "sha256": row.sha256 if row is not None else None, "state": item.state})
    return dist, code


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
    # A copy of sealed council content other than an item (answer file, deliverable, I12).
    sealed: SealedDistribution | None = None


def attribute(session: Session, *, data: bytes, filename: str | None = None, item_id: int | None = None,
              actor_label: str = "system", actor_id: int | None = None, now: datetime) -> Finding:
    """Trace a leaked copy or excerpt back to the recipient it was issued to (I8, I9); audited."""
    stmt = select(Distribution)
    if item_id is not None:
        stmt = stmt.where(Distribution.item_id == item_id)
    rows = {str(d.id): d for d in session.scalars(stmt)}
    # I12: copies of sealed answer files and deliverables are candidates too (keys "s<id>"), unless
    # the search is narrowed to one item.
    others = {} if item_id is not None else {f"s{d.id}": d for d in session.scalars(select(SealedDistribution))}
    candidates = {key: bytes.fromhex(d.fingerprint) for key, d in (rows | others).items()}
    result = leak_attribute.attribute(data, candidates, filename=filename)
    best = rows.get(result.best) if result.best is not None else None
    other = others.get(result.best) if result.best is not None else None
    user_id = best.user_id if best else other.user_id if other else None
    user = accounts_repo.user_by_id(session, user_id) if user_id is not None else None
    finding = Finding(
        distribution=best, user_id=user_id, sealed=other,
        user_label=f"{user.name_ja} <{user.email}>" if user else None,
        organization_label=user.organization.name_ja if user and user.organization else None,
        confidence=float(result.confidence), explanation=result.explanation,
        ranked=[(int(key.lstrip("s")), float(score)) for key, score in result.ranked[:5]],
        evidence=[f"{e.channel}: {e.code.hex() if e.code else '-'} ×{e.occurrences}"
                  f"{' (checksum ok)' if e.verified else ''}" for e in result.evidence],
    )
    subject = f"item:{best.item_id}" if best else other.subject if other else "leak:unattributed"
    audit.record(session, tag=AuditTag.INFO_LEAK_ATTRIBUTE, now=now, actor_id=actor_id, actor_label=actor_label,
                 subject=subject, data={"sha256": hashlib.sha256(data).hexdigest(),
                                        "distribution_id": best.id if best else None,
                                        "sealed_distribution_id": other.id if other else None,
                                        "user_id": finding.user_id, "confidence": round(finding.confidence, 6)})
    return finding


def issue_export(session: Session, deps: InformationDeps, *, item: Item, actor: Principal, channel: str,
                 now: datetime) -> tuple[Distribution, Callable[[str], str], str]:
    """Hand out a MISP/STIX export of non-public ``item`` like a download (I8): the gate has already allowed a
    copy (view-only handling refuses it exactly as the body); returns the record, its text stamper and the
    recipient line."""
    dist, code = _record(session, deps, item=item, file_id=None, actor=actor, channel=channel, now=now)
    return dist, lambda text: stamp_plain(text, code=code, csv=False), _footer(session, actor, item, now)