"""The offline verifier (A3): recompute every leaf, hash and root, and check signed checkpoints.

Streaming: only the frontier (O(log n) hashes) is held in memory, so a 1M-entry export is fine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from banso.audit import merkle
from banso.audit.checkpoints import CheckpointLike, key_id, verify_checkpoint
from banso.audit.rules import canonical_entry, differing_fields, format_ts

PROGRESS_EVERY = 1000


class EntryLike(Protocol):
    """What the verifier reads of an entry: the ORM row or a record read from an export."""

    @property
    def seq(self) -> int: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def tag(self) -> str: ...
    @property
    def actor_id(self) -> int | None: ...
    @property
    def actor_label(self) -> str | None: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def ip(self) -> str | None: ...
    @property
    def data(self) -> Any: ...
    @property
    def leaf(self) -> bytes: ...
    @property
    def leaf_hash(self) -> bytes: ...
    @property
    def root(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class EntryRecord:
    """An entry as stored (all columns), independent of the ORM."""

    seq: int
    created_at: datetime
    tag: str
    actor_id: int | None
    actor_label: str | None
    subject: str | None
    ip: str | None
    data: Any
    leaf: bytes
    leaf_hash: bytes
    root: bytes


@dataclass(frozen=True, slots=True)
class CheckpointRecord:
    """A checkpoint as stored, independent of the ORM."""

    id: int | None
    tree_size: int
    root: bytes
    created_at: datetime
    key_id: str
    signature: bytes
    note: str


@dataclass(frozen=True)
class Problem:
    """The first thing that does not match."""

    kind: str  # "entry", "gap", "checkpoint", "missing", "node" (stored subtree nodes, database only)
    message: str
    seq: int | None = None
    tag: str | None = None
    fields: tuple[str, ...] = ()
    checkpoint_id: int | None = None
    covers: tuple[int, int] | None = None  # entries [first, last] a failed checkpoint points at


@dataclass
class VerifyReport:
    """What the verifier checked and the first problem it found, if any."""

    entries: int = 0
    root: bytes = merkle.EMPTY_ROOT
    checkpoints: int = 0
    latest_checkpoint_size: int | None = None
    problem: Problem | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when nothing failed."""
        return self.problem is None

    def summary(self) -> str:
        """Return a one-paragraph human summary."""
        if self.problem is not None:
            return f"FAILED: {self.problem.message}"
        signed = (f"; {self.checkpoints} signed checkpoint(s) verified, newest at size {self.latest_checkpoint_size}"
                  if self.checkpoints else "; no signed checkpoint (only internal consistency is proven)")
        return f"OK: {self.entries} entries, root {self.root.hex()}{signed}"


def _entry_problem(e: EntryLike, what: str, fields: tuple[str, ...]) -> Problem:
    return Problem(kind="entry", seq=e.seq, tag=e.tag, fields=fields,
                   message=f"entry seq {e.seq} ({e.tag}): {what}")


def _check_entry(e: EntryLike, frontier: merkle.CompactRange) -> Problem | None:
    """Check one entry against its own columns and the running tree; append it on success."""
    leaf = e.leaf
    if not isinstance(leaf, bytes):
        return _entry_problem(e, "leaf is not bytes", ("leaf",))
    recomputed: bytes | None
    if not isinstance(e.data, dict):
        recomputed = None
    else:
        try:
            recomputed = canonical_entry(seq=e.seq, created_at=e.created_at, tag=e.tag, actor_id=e.actor_id,
                                         actor_label=e.actor_label, subject=e.subject, ip=e.ip, data=e.data)
        except (TypeError, ValueError, AttributeError):
            recomputed = None
    lh = merkle.leaf_hash(leaf)
    if lh != e.leaf_hash:
        # Tell which one was changed: if the leaf still matches the columns, the hash was rewritten.
        if recomputed == leaf:
            return _entry_problem(e, "stored leaf_hash is not SHA-256(0x00 ‖ leaf)", ("leaf_hash",))
        return _entry_problem(e, "leaf bytes changed: they no longer hash to the stored leaf_hash", ("leaf",))
    if recomputed is None:
        return _entry_problem(e, "column data is not a JSON object or a column is unreadable", ("data",))
    if recomputed != leaf:
        names = differing_fields(leaf, recomputed)
        return _entry_problem(e, f"column(s) {', '.join(names)} differ from the hashed entry", tuple(names))
    frontier.append(lh)
    if frontier.root() != e.root:
        return _entry_problem(e, f"stored root differs from the recomputed tree head at size {e.seq + 1}", ("root",))
    return None


def verify_log(
    entries: Iterable[EntryLike],
    checkpoints: Iterable[CheckpointLike],
    public_key: Ed25519PublicKey | None,
    *,
    expected_size: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Walk entries in seq order, recompute leaves, hashes and roots, and check every checkpoint (A3)."""
    report = VerifyReport()
    cps = sorted(checkpoints, key=lambda c: (c.tree_size, getattr(c, "id", None) or 0))
    ci = 0
    last_good_size = 0  # size of the last checkpoint that matched: a rewrite lies after it
    frontier = merkle.CompactRange()
    expected_kid = key_id(public_key) if public_key is not None else None

    def check_checkpoints(size: int, root: bytes) -> Problem | None:
        nonlocal ci, last_good_size
        while ci < len(cps) and cps[ci].tree_size == size:
            cp = cps[ci]
            cid = getattr(cp, "id", None)
            label = f"checkpoint #{cid} (tree size {cp.tree_size}, signed {format_ts(cp.created_at)})"
            if public_key is None:
                return Problem(kind="checkpoint", checkpoint_id=cid,
                               message=f"{label}: no public key to check its signature")
            if not verify_checkpoint(cp, public_key):
                why = (f"signed by another key (key id {cp.key_id}, expected {expected_kid})"
                       if cp.key_id != expected_kid else "signature or signed note does not match its columns")
                return Problem(kind="checkpoint", checkpoint_id=cid, message=f"{label}: {why}")
            if cp.root != root:
                first, last = last_good_size, max(size - 1, 0)
                return Problem(
                    kind="checkpoint", checkpoint_id=cid, covers=(first, last),
                    message=(f"{label}: its signed root does not match the entries, which are self-consistent "
                             f"— entries were rewritten after signing; the change lies in entries {first}..{last} "
                             f"(after the last matching checkpoint at size {last_good_size})"),
                )
            last_good_size = size
            report.checkpoints += 1
            report.latest_checkpoint_size = size
            ci += 1
        return None

    report.problem = check_checkpoints(0, merkle.EMPTY_ROOT)
    if report.problem is not None:
        return report
    expected = 0
    for e in entries:
        if e.seq != expected:
            missing = f"{expected}" if e.seq == expected + 1 else f"{expected}..{e.seq - 1}"
            report.problem = Problem(
                kind="gap", seq=expected, tag=None,
                message=(f"entry seq {missing} missing (deleted?): next stored entry is seq {e.seq} ({e.tag})"
                         if e.seq > expected else f"entry seq {e.seq} ({e.tag}) out of order or duplicated"),
            )
            return report
        problem = _check_entry(e, frontier)
        if problem is not None:
            report.problem = problem
            return report
        expected += 1
        report.entries = expected
        report.root = e.root
        problem = check_checkpoints(expected, e.root)
        if problem is not None:
            report.problem = problem
            return report
        if progress is not None and expected % PROGRESS_EVERY == 0:
            progress(expected)
    if progress is not None:
        progress(expected)
    if ci < len(cps):
        cp = cps[ci]
        report.problem = Problem(
            kind="missing", seq=expected, checkpoint_id=getattr(cp, "id", None), covers=(expected, cp.tree_size - 1),
            message=(f"checkpoint #{getattr(cp, 'id', None)} was signed for {cp.tree_size} entries but only "
                     f"{expected} are present: entries {expected}..{cp.tree_size - 1} are missing (deleted?)"),
        )
        return report
    if expected_size is not None and expected != expected_size:
        report.problem = Problem(
            kind="missing", seq=expected, covers=(expected, expected_size - 1),
            message=(f"the log head counts {expected_size} entries but {expected} are present: "
                     f"entry seq {expected} onwards is missing (deleted?)" if expected < expected_size else
                     f"the log holds {expected} entries but its head counts only {expected_size}"),
        )
    return report
