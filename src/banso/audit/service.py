"""The audit log service (A1, A3): append in the caller's transaction, read entries, serve proofs.

Services never commit: an entry commits or rolls back together with the action it records,
so there is no action without its entry and no entry without its action (A1).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NoReturn

from sqlalchemy import Select, Text, cast, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransaction

from banso.audit import merkle
from banso.audit.models import AuditCheckpoint, AuditEntry, AuditHead, AuditNode
from banso.audit.nodes import fetch_nodes
from banso.audit.rules import MAX_TAG_LENGTH, canonical_entry, normalise_data
from banso.audit.tags import SYSTEM_TAGS
from banso.kit.clock import as_utc
from banso.kit.errors import BansoError, NotFound, ValidationFailed

if TYPE_CHECKING:
    from banso.authz.principal import Principal

HEAD_ID = 1
_HEAD_KEY = "banso.audit.locked_head"
# Column widths (models.py): longer values are cut before hashing so that an attacker-chosen
# login name can never make the append fail on PostgreSQL and lose the entry (A1).
_LIMITS = {"actor_label": 254, "subject": 200, "ip": 64}


class AuditLogDamaged(BansoError):
    """The stored log is not what it must be (missing rows); run ``banso audit verify``."""

    status_code = 500
    code = "audit_log_damaged"


def _current_tx(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


_LOCK_HEAD = (  # built once: every audited request runs it
    select(AuditHead)
    .where(AuditHead.id == HEAD_ID)
    .with_for_update()
    # The session may hold a head loaded by an earlier transaction (expire_on_commit=False):
    # overwrite it with the row we just locked, or we would append to a stale frontier.
    .execution_options(populate_existing=True)
)


def _lock_head(session: Session) -> AuditHead:
    """Return the head row, locked for this transaction (created on first use)."""
    cached = session.info.get(_HEAD_KEY)
    if cached is not None:
        locked_in, head = cached
        # Reuse the lock while the (sub)transaction that took it is still open: a rolled-back
        # savepoint releases row locks on PostgreSQL, so then we lock again.
        if locked_in.is_active and head in session:
            return head  # type: ignore[no-any-return]
    stmt = _LOCK_HEAD
    head = session.execute(stmt).scalar_one_or_none()
    if head is None:
        try:
            with session.begin_nested():
                session.add(AuditHead(id=HEAD_ID, size=0, frontier="[]"))
        except IntegrityError:
            pass  # another transaction created it first; the SELECT below waits for its lock
        head = session.execute(stmt).scalar_one()
    tx = _current_tx(session)
    if tx is not None:
        session.info[_HEAD_KEY] = (tx, head)
    return head


def _cut(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    value = str(value)
    limit = _LIMITS[field]
    return value if len(value) <= limit else value[: limit - 1] + "…"


def record(
    session: Session,
    *,
    tag: str,
    now: datetime,
    actor_id: int | None = None,
    actor_label: str | None = None,
    subject: str | None = None,
    ip: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the log inside the caller's transaction and return it (A1)."""
    tag_value = str(tag)
    if not tag_value or len(tag_value) > MAX_TAG_LENGTH:
        raise ValidationFailed(f"監査タグは1〜{MAX_TAG_LENGTH}文字です / audit tag must be 1..{MAX_TAG_LENGTH} characters", field="tag")
    if now.tzinfo is None:
        raise ValidationFailed("監査の時刻には時差が必要です / audit time must be timezone-aware", field="now")
    created_at = as_utc(now)
    payload = normalise_data(data)
    label, subj, addr = _cut(actor_label, "actor_label"), _cut(subject, "subject"), _cut(ip, "ip")

    # Serialise appends: the head row lock (SELECT ... FOR UPDATE on PostgreSQL; SQLite's
    # BEGIN IMMEDIATE already holds the write lock) makes seq and frontier updates atomic.
    head = _lock_head(session)
    frontier = merkle.CompactRange.from_hex(head.size, json.loads(head.frontier))
    seq = head.size
    leaf = canonical_entry(seq=seq, created_at=created_at, tag=tag_value, actor_id=actor_id,
                           actor_label=label, subject=subj, ip=addr, data=payload)
    lh = merkle.leaf_hash(leaf)
    completed = frontier.append(lh)
    entry = AuditEntry(seq=seq, created_at=created_at, tag=tag_value, actor_id=actor_id, actor_label=label,
                       subject=subj, ip=addr, data=payload, leaf=leaf, leaf_hash=lh, root=frontier.root())
    session.add(entry)
    # The subtrees this leaf completes never change again: store them for the proofs (A3). Added to
    # the unit of work like the entry (a Core INSERT here would flush every append on its own:
    # 3.3x fewer appends/s when a caller commits in batches).
    session.add_all([AuditNode(level=level, idx=idx, hash=h) for (level, idx), h in completed])
    head.size = seq + 1
    head.frontier = json.dumps(frontier.to_hex())
    return entry


def record_for(session: Session, tag: str, *, now: datetime, actor: Principal | None, subject: str,
               data: Mapping[str, Any] | None = None) -> AuditEntry:
    """Append an entry on behalf of ``actor`` (``None``: the system, e.g. a scheduled job)."""
    if actor is None:
        return record(session, tag=tag, now=now, actor_id=None, actor_label="system", subject=subject, data=data)
    return record(session, tag=tag, now=now, actor_id=actor.user_id, actor_label=actor.label, subject=subject,
                  data=data)


def refuse(session: Session, exc: BansoError, tag: str, *, now: datetime, actor: Principal | None, subject: str,
           data: Mapping[str, Any] | None = None) -> NoReturn:
    """Audit a refused security-relevant action, then raise ``exc`` marked as audited (A1).

    The unit of work (:mod:`banso.kit.unit`) rolls back whatever the refused request changed and
    writes the entry again on its own, so the refusal is on record and the refused action is not.
    """
    entry = {**(data or {}), "reason": exc.message}
    first = record_for(session, tag, now=now, actor=actor, subject=subject, data=entry)
    seq, leaf = first.seq, first.leaf_hash

    def rewrite(again: Session) -> None:
        """Write the entry again after the unit of work rolled the refused work back (banso.kit.unit)."""
        kept = again.scalar(select(AuditEntry.leaf_hash).where(AuditEntry.seq == seq))
        if kept != leaf:  # not already committed (a caller that still commits on its own)
            record_for(again, tag, now=now, actor=actor, subject=subject, data=entry)

    raise exc.mark_audited(rewrite)


def was_audited(exc: BaseException) -> bool:
    """Return True when a refusal already wrote its audit entry (the unit of work commits it)."""
    return isinstance(exc, BansoError) and exc.audited


def tree_size(session: Session) -> int:
    """Return the number of entries in the log."""
    size = session.scalar(select(AuditHead.size).where(AuditHead.id == HEAD_ID))
    return int(size or 0)


_log_size = tree_size  # for functions whose parameter is called ``tree_size``


def current_root(session: Session) -> bytes:
    """Return the tree head of the whole log, from the stored frontier."""
    head = session.get(AuditHead, HEAD_ID)
    if head is None:
        return merkle.EMPTY_ROOT
    return merkle.CompactRange.from_hex(head.size, json.loads(head.frontier)).root()


def get_entry(session: Session, seq: int) -> AuditEntry | None:
    """Return entry ``seq``, or None."""
    return session.get(AuditEntry, seq)


def list_entries(
    session: Session, *, actor_id: int | None = None, before: int | None = None, limit: int = 50
) -> list[AuditEntry]:
    """List entries newest first, optionally only one actor's and only those before ``before``."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if before is not None:
        stmt = stmt.where(AuditEntry.seq < before)
    return list(session.scalars(stmt))


def list_about(session: Session, *, subjects: list[str], limit: int) -> list[AuditEntry]:
    """List the newest entries about these subjects (the home page's recent activity), the log's upkeep left out."""
    if not subjects:
        return []
    stmt = (select(AuditEntry).where(AuditEntry.subject.in_(subjects), AuditEntry.tag.not_in(sorted(SYSTEM_TAGS)))
            .order_by(AuditEntry.seq.desc()).limit(limit))
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class EntryFilter:
    """What the audit page, its API and its exports narrow the log to (issue 14); every field is SQL.

    ``actor_ids``: entries by these people only (a person, or an organisation's people; ``()`` matches
    nothing); ``visible_to``: the reader's own id when they may see only their own entries (the policy
    decides, :func:`banso.authz.policies.accounts.audit_entry_filter_actor`); ``since``/``until``: UTC,
    ``until`` exclusive; ``text``: a piece of the entry's data, actor label or subject (any case);
    ``tags``: these event types only (``()`` matches nothing); ``hide_system``: leave out the log's own
    upkeep (checkpoints, :data:`banso.audit.tags.SYSTEM_TAGS`).
    """

    actor_ids: tuple[int, ...] | None = None
    visible_to: int | None = None
    tags: tuple[str, ...] | None = None
    subject: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    hide_system: bool = True


def _like(text: str) -> str:
    """Return a LIKE pattern matching ``text`` anywhere (its own % and _ taken literally, escape \\)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_clause(text: str) -> Any:
    """Match ``text`` in the data, actor label or subject; the data as stored (JSON may escape non-ASCII)."""
    data = cast(AuditEntry.data, Text)
    forms = {text, json.dumps(text)[1:-1]}  # "秘密" is stored as "\u79d8\u5bc6" by the JSON column
    clauses = [data.ilike(_like(f), escape="\\") for f in sorted(forms)]
    clauses += [AuditEntry.actor_label.ilike(_like(text), escape="\\"),
                AuditEntry.subject.ilike(_like(text), escape="\\")]
    return or_(*clauses)


def filtered(flt: EntryFilter) -> Select[AuditEntry]:
    """Return the SELECT of the entries ``flt`` lets through, newest first (one statement, issue 14)."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc())
    if flt.visible_to is not None:
        stmt = stmt.where(AuditEntry.actor_id == flt.visible_to)
    if flt.actor_ids is not None:
        stmt = stmt.where(AuditEntry.actor_id.in_(flt.actor_ids))
    if flt.tags is not None:
        stmt = stmt.where(AuditEntry.tag.in_(flt.tags))
    if flt.hide_system:
        stmt = stmt.where(AuditEntry.tag.not_in(sorted(SYSTEM_TAGS)))
    if flt.subject:
        stmt = stmt.where(AuditEntry.subject == flt.subject)
    if flt.since is not None:
        stmt = stmt.where(AuditEntry.created_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(AuditEntry.created_at < flt.until)
    if flt.text:
        stmt = stmt.where(_text_clause(flt.text))
    return stmt


def search_entries(session: Session, flt: EntryFilter, *, before: int | None = None,
                   limit: int = 50) -> list[AuditEntry]:
    """Return one page of the filtered entries, newest first, those below seq ``before`` (keyset paging)."""
    stmt = filtered(flt).limit(limit)
    if before is not None:
        stmt = stmt.where(AuditEntry.seq < before)
    return list(session.scalars(stmt))


def iter_filtered(session: Session, flt: EntryFilter, *, batch: int = 2000,
                  most: int | None = None) -> Iterator[AuditEntry]:
    """Yield every filtered entry, newest first, in keyset pages of ``batch`` (exports), at most ``most``."""
    before: int | None = None
    given = 0
    while most is None or given < most:
        size = batch if most is None else min(batch, most - given)
        rows = search_entries(session, flt, before=before, limit=size)
        yield from rows
        given += len(rows)
        if len(rows) < size:
            return
        before = rows[-1].seq


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """Return the checkpoint with the largest tree size (newest among equals)."""
    stmt = select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc(), AuditCheckpoint.id.desc()).limit(1)
    return session.scalars(stmt).first()


def list_checkpoints(session: Session, *, after_size: int = 0, limit: int = 100) -> list[AuditCheckpoint]:
    """List checkpoints whose tree size is at least ``after_size``, oldest first (A2)."""
    stmt = (
        select(AuditCheckpoint)
        .where(AuditCheckpoint.tree_size >= after_size)
        .order_by(AuditCheckpoint.tree_size, AuditCheckpoint.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def root_at(session: Session, size: int) -> bytes:
    """Return the tree head at ``size`` (stored with entry ``size - 1``)."""
    if size == 0:
        return merkle.EMPTY_ROOT
    root = session.scalar(select(AuditEntry.root).where(AuditEntry.seq == size - 1))
    if root is None:
        raise NotFound(f"大きさ {size} の木は記録にありません / the log has no tree of size {size}")
    return root


def _proof_nodes(session: Session, keys: list[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    """Return the stored subtree hashes ``keys``; a missing one means the log is damaged (A3)."""
    nodes = fetch_nodes(session, keys)
    missing = [k for k in keys if k not in nodes]
    if missing:
        level, idx = missing[0]
        what = f"entry {idx}" if level == 0 else f"subtree node (level {level}, index {idx})"
        raise AuditLogDamaged(f"証明に必要な記録（{what} ほか {len(missing) - 1} 件）が欠けています / "
            f"the log is missing {what} (and {len(missing) - 1} more) needed for this proof")
    return nodes


def inclusion_proof_for(session: Session, seq: int, tree_size: int) -> list[bytes]:
    """Return the inclusion proof of entry ``seq`` in the tree of ``tree_size`` (A3).

    Reads only the O(log² n) stored subtree hashes the proof needs (``audit_nodes``), not the log.
    """
    size = _log_size(session)
    if not 0 <= seq < tree_size <= size:
        raise ValidationFailed(f"記録番号は 0 以上で木の大きさより小さく、木の大きさは {size} 以下で指定してください / need 0 <= seq < tree_size <= {size}", field="tree_size")
    nodes = _proof_nodes(session, merkle.inclusion_proof_nodes_needed(seq, tree_size))
    return merkle.inclusion_proof_from_nodes(seq, tree_size, nodes)


def consistency_proof_for(session: Session, first: int, second: int) -> list[bytes]:
    """Return the consistency proof between tree sizes ``first`` and ``second`` (A3).

    Reads only the O(log² n) stored subtree hashes the proof needs (``audit_nodes``), not the log.
    """
    size = tree_size(session)
    if not 0 <= first <= second <= size:
        raise ValidationFailed(f"木の大きさは 0 以上 {size} 以下で、比較元が比較先以下になるように指定してください / need 0 <= first <= second <= {size}", field="second")
    nodes = _proof_nodes(session, merkle.consistency_proof_nodes_needed(first, second))
    return merkle.consistency_proof_from_nodes(first, second, nodes)
