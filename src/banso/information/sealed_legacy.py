"""Moving legacy plaintext council content into the sealed store (migrations 0011, 0013; I11, I12).

Before 0011, material-request answer files lay in plaintext under ``data_dir/councils/files``,
commission deliverables in plaintext in their table, minutes and decision texts in plaintext
columns. :func:`seal_legacy` seals every row still in plaintext, one row at a time and only rows
not sealed yet, so a run that stops half-way is simply run again. :func:`remove_sealed_plaintext`
deletes the plaintext answer files whose rows are sealed; the migration calls it only after the
sealing has been committed, so a crash never loses the only copy of a file.

Migration 0013 seals the last two plaintext pieces the same way (:func:`seal_answers_and_indicators`):
material-request answer texts under the council's key, and imported indicators with each item's
own data key (unwrapped from the council's key store).

Works on a Core connection with lightweight table stubs (never the ORM models, which describe the
newest schema, not the one the migration runs on).
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from banso.information.content import seal_indicators
from banso.sealed import store as sealed
from banso.sealed.crypto import KeyStore
from banso.sealed.files import LocalFileStore
from banso.sealed.models import SealedKind
from banso.sealed.pkcs11 import key_stores

_files = sa.table("council_material_files", sa.column("id"), sa.column("request_id"), sa.column("sha256"),
                  sa.column("blob"), sa.column("wrapped_key"))
_requests = sa.table("council_material_requests", sa.column("id"), sa.column("council_id"))
_deliverables = sa.table("programme_commission_deliverables", sa.column("id"), sa.column("commission_id"),
                         sa.column("sha256"), sa.column("content"), sa.column("blob"), sa.column("wrapped_key"))
_meetings = sa.table("council_meetings", sa.column("id"), sa.column("council_id"), sa.column("minutes_text"),
                     sa.column("minutes_sealed"), sa.column("minutes_sha256"))
_decisions = sa.table("council_decisions", sa.column("id"), sa.column("council_id"), sa.column("text"),
                      sa.column("text_sealed"))
_answers = sa.table("council_material_requests", sa.column("id"), sa.column("council_id"),
                    sa.column("answer_text"), sa.column("answer_sealed"))
_items = sa.table("info_items", sa.column("id"), sa.column("council_id"), sa.column("wrapped_key"),
                  sa.column("indicators", sa.JSON()), sa.column("indicators_sealed"))


def migration_attributes(data_dir: Path, secret: str, *,
                         keys: tuple[KeyStore, KeyStore, KeyStore] | None = None) -> dict[str, object]:
    """Return what migration 0011 needs from a data folder: its sealed store (with the configured key
    stores, e.g. an HSM's: old plaintext must be sealed under the keys the server will use) and its old
    plaintext folder."""
    return {"sealed_deps": sealed.local_deps(data_dir, secret, keys=keys),
            "plaintext_store": LocalFileStore(data_dir / "councils" / "files")}


def attributes_from(attributes: MutableMapping[str, object]) -> MutableMapping[str, object]:
    """Return a migration's attributes, filled from the configured data folder when none were given."""
    if "sealed_deps" not in attributes:  # e.g. plain `alembic upgrade`
        from banso.config import get_settings

        settings = get_settings()
        attributes.update(migration_attributes(settings.data_dir, settings.secret_key, keys=key_stores(settings)))
    return attributes


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


# ---------------------------------------------------------------------------------------------
# Migration 0013: answer texts and imported indicators


def _answers_pending(conn: Connection) -> list[tuple[int, int, str]]:
    rows = conn.execute(sa.select(_answers.c.id, _answers.c.council_id, _answers.c.answer_text)
                        .where(_answers.c.answer_sealed.is_(None), _answers.c.answer_text.is_not(None))
                        .order_by(_answers.c.id))
    return [(r[0], r[1], r[2]) for r in rows]


def _items_pending(conn: Connection) -> list[tuple[int, int, bytes, list[dict[str, str]]]]:
    rows = conn.execute(sa.select(_items.c.id, _items.c.council_id, _items.c.wrapped_key, _items.c.indicators)
                        .where(_items.c.indicators_sealed.is_(None)).order_by(_items.c.id))
    # An empty list has nothing to seal and stays NULL (the sealed column's "none").
    return [(r[0], r[1], bytes(r[2]), list(r[3])) for r in rows if r[3]]


def answers_and_indicators_pending(conn: Connection) -> bool:
    """Return True when an answer text or an item's indicators still lie in plaintext."""
    return bool(_answers_pending(conn) or _items_pending(conn))


def seal_answers_and_indicators(conn: Connection, deps: sealed.SealedDeps) -> tuple[int, int]:
    """Seal every plaintext answer text and every item's plaintext indicators; return how many of each."""
    answers = _answers_pending(conn)
    for request_id, council_id, text in answers:
        # The label is councils.service's ``_answer_label``: the service opens what this seals.
        conn.execute(_answers.update().where(_answers.c.id == request_id).values(
            answer_sealed=sealed.seal_text(deps, sealed.council_scope(council_id), text,
                                           label=f"answer:request:{request_id}")))
    items = _items_pending(conn)
    for item_id, council_id, wrapped, indicators in items:
        data_key = deps.council_keys.unwrap(council_id, wrapped)
        conn.execute(_items.update().where(_items.c.id == item_id).values(
            indicators_sealed=seal_indicators(indicators, item_id=item_id, data_key=data_key)))
    return len(answers), len(items)
