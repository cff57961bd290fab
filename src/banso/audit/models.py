"""ORM tables of the audit log (A1, A2, A3): entries, subtree nodes, the single head row, signed checkpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db.base import Base


class AuditEntry(Base):
    """One append-only log entry (監査記録); ``leaf`` holds the exact bytes that were hashed (A1)."""

    __tablename__ = "audit_entries"

    # The 0-based leaf index, assigned by the log under the head lock (never autoincrement:
    # a sequence could leave gaps on rollback, and a gap would look like a deleted entry).
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(index=True)  # the audit page's date range (issue 14)
    tag: Mapped[str] = mapped_column(String(100), index=True)
    # A plain int, not a foreign key: the log must outlive (and never block deleting) the people it names.
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_label: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200), index=True)  # "who read item 7" (issue 14)
    ip: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    root: Mapped[bytes] = mapped_column(LargeBinary(32))  # tree head at size seq + 1


class AuditNode(Base):
    """A complete, aligned subtree of the log: leaves [idx·2^level, (idx+1)·2^level) (A3).

    Written by the append that completes it and never changed after, so proofs read
    O(log² n) of these instead of every leaf hash. Level 0 is ``AuditEntry.leaf_hash``.
    """

    __tablename__ = "audit_nodes"
    __table_args__ = (CheckConstraint("level >= 1", name="level"),)

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditHead(Base):
    """The single row (id = 1) holding the tree size and its frontier; locked by every append."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    frontier: Mapped[str] = mapped_column(Text)  # JSON list of hex hashes, largest subtree first


class AuditCheckpoint(Base):
    """A signed tree head (A2): size, root and time, signed with the log's Ed25519 key."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), index=True)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime]
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)  # the exact signed text
