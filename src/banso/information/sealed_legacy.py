"""Moving legacy plaintext council content into the sealed store (migration 0011; I11, I12).

Before 0011, material-request answer files lay in plaintext under ``data_dir/councils/files``,
commission deliverables in plaintext in their table, minutes and decision texts in plaintext
columns. :func:`seal_legacy` seals every row still in plaintext, one row at a time and only rows
not sealed yet, so a run that stops half-way is simply run again. :func:`remove_sealed_plaintext`
deletes the plaintext answer files whose rows are sealed; the migration calls it only after the
sealing has been committed, so a crash never loses the only copy of a file.

Works on a Core connection with lightweight table stubs (never the ORM models, which describe the
newest schema, not the one the migration runs on).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from banso.councils.files import LocalFileStore
from banso.information import sealed
from banso.information.sealed_models import SealedKind

_files = sa.table("council_material_files", sa.column("id"), sa.column("request_id"), sa.column("sha256"),
                  sa.column("blob"), sa.column("wrapped_key"))
_requests = sa.table("council_material_requests", sa.column("id"), sa.column("council_id"))
_deliverables = sa.table("programme_commission_deliverables", sa.column("id"), sa.column("commission_id"),
                         sa.column("sha256"), sa.column("content"), sa.column("blob"), sa.column("wrapped_key"))
_meetings = sa.table("council_meetings", sa.column("id"), sa.column("council_id"), sa.column("minutes_text"),
                     sa.column("minutes_sealed"), sa.column("minutes_sha256"))
_decisions = sa.table("council_decisions", sa.column("id"), sa.column("council_id"), sa.column("text"),
                      sa.column("text_sealed"))


def migration_attributes(data_dir: Path, secret: str) -> dict[str, object]:
    """Return what migration 0011 needs from a data folder: its sealed store and its old plaintext folder."""
    return {"sealed_deps": sealed.local_deps(data_dir, secret),
            "plaintext_store": LocalFileStore(data_dir / "councils" / "files")}


@dataclass
class LegacyReport:
    """What one run sealed, and the answer files it could not (missing or damaged plaintext)."""

    files: int = 0
    deliverables: int = 0
    minutes: int = 0
    decisions: int = 0
    unreadable_files: list[int] = field(default_factory=list)


def pending(conn: Connection) -> bool:
    """Return True when any plaintext row is still waiting to be sealed."""
    checks = [
        sa.select(_files.c.id).where(_files.c.blob.is_(None)),
        sa.select(_deliverables.c.id).where(_deliverables.c.blob.is_(None)),
        sa.select(_meetings.c.id).where(_meetings.c.minutes_sealed.is_(None), _meetings.c.minutes_text.is_not(None)),
        sa.select(_decisions.c.id).where(_decisions.c.text_sealed.is_(None)),
    ]
    return any(conn.execute(q.limit(1)).first() is not None for q in checks)


def _seal_files(conn: Connection, deps: sealed.SealedDeps, plaintext: LocalFileStore, report: LegacyReport) -> None:
    rows = conn.execute(sa.select(_files.c.id, _files.c.sha256, _requests.c.council_id)
                        .join(_requests, _requests.c.id == _files.c.request_id)
                        .where(_files.c.blob.is_(None)).order_by(_files.c.id)).all()
    for file_id, digest, council_id in rows:
        try:
            data = plaintext.get(digest)
        except FileNotFoundError:
            report.unreadable_files.append(file_id)
            continue
        if hashlib.sha256(data).hexdigest() != digest:  # damaged on disk: do not seal a wrong file
            report.unreadable_files.append(file_id)
            continue
        env = sealed.seal_file(deps, sealed.council_scope(council_id), data,
                               label=sealed.file_label(SealedKind.MATERIAL_FILE, digest))
        conn.execute(_files.update().where(_files.c.id == file_id, _files.c.blob.is_(None))
                     .values(blob=env.blob, wrapped_key=env.wrapped_key))
        report.files += 1


def _seal_deliverables(conn: Connection, deps: sealed.SealedDeps, report: LegacyReport) -> None:
    ids = conn.scalars(sa.select(_deliverables.c.id).where(_deliverables.c.blob.is_(None))
                       .order_by(_deliverables.c.id)).all()
    for deliverable_id in ids:  # one blob in memory at a time
        commission_id, digest, content = conn.execute(
            sa.select(_deliverables.c.commission_id, _deliverables.c.sha256, _deliverables.c.content)
            .where(_deliverables.c.id == deliverable_id)).one()
        env = sealed.seal_file(deps, sealed.commission_scope(commission_id), bytes(content),
                               label=sealed.file_label(SealedKind.DELIVERABLE, digest))
        conn.execute(_deliverables.update().where(_deliverables.c.id == deliverable_id)
                     .values(blob=env.blob, wrapped_key=env.wrapped_key, content=None))
        report.deliverables += 1


def _seal_texts(conn: Connection, deps: sealed.SealedDeps, report: LegacyReport) -> None:
    minutes = conn.execute(sa.select(_meetings.c.id, _meetings.c.council_id, _meetings.c.minutes_text)
                           .where(_meetings.c.minutes_sealed.is_(None), _meetings.c.minutes_text.is_not(None))).all()
    for meeting_id, council_id, text in minutes:
        conn.execute(_meetings.update().where(_meetings.c.id == meeting_id).values(
            minutes_sealed=sealed.seal_text(deps, sealed.council_scope(council_id), text,
                                            label=f"minutes:meeting:{meeting_id}"),
            minutes_sha256=hashlib.sha256(text.encode()).hexdigest()))
        report.minutes += 1
    decisions = conn.execute(sa.select(_decisions.c.id, _decisions.c.council_id, _decisions.c.text)
                             .where(_decisions.c.text_sealed.is_(None))).all()
    for decision_id, council_id, text in decisions:
        conn.execute(_decisions.update().where(_decisions.c.id == decision_id).values(
            text_sealed=sealed.seal_text(deps, sealed.council_scope(council_id), text,
                                         label=f"decision:{decision_id}")))
        report.decisions += 1


def seal_legacy(conn: Connection, deps: sealed.SealedDeps, plaintext: LocalFileStore) -> LegacyReport:
    """Seal every plaintext answer file, deliverable, minutes and decision text not sealed yet."""
    report = LegacyReport()
    _seal_files(conn, deps, plaintext, report)
    _seal_deliverables(conn, deps, report)
    _seal_texts(conn, deps, report)
    return report


def remove_sealed_plaintext(conn: Connection, plaintext: LocalFileStore) -> int:
    """Delete plaintext answer files whose rows are all sealed (call after the sealing committed)."""
    sealed_digests = set(conn.scalars(sa.select(_files.c.sha256).where(_files.c.blob.is_not(None))))
    # Content addressing: two rows may share one plaintext file; keep it while any row still needs it.
    still_needed = set(conn.scalars(sa.select(_files.c.sha256).where(_files.c.blob.is_(None))))
    return sum(plaintext.discard(digest) for digest in sorted(sealed_digests - still_needed))
