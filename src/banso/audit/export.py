"""Log exports. The whole log (A3): a JSON Lines file a witness can verify offline with ``banso audit verify``;
the filtered view (issue 14): CSV and Excel for people, at the end of this module.

Layout, one JSON object per line:
  1. ``{"type": "header", "format": "banso.audit.export/v1", "tree_size", "root", "key_id", "public_key_pem", ...}``
  2. every checkpoint with ``tree_size <= header.tree_size`` (``"type": "checkpoint"``), oldest first
  3. every entry 0..tree_size-1 (``"type": "entry"``) with all columns; bytes are base64
Checkpoints come before entries so the verifier reads the file in one streaming pass.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Text, cast, func, select
from sqlalchemy.orm import Session

from banso.audit import service
from banso.audit.checkpoints import key_id, public_key_pem
from banso.audit.models import AuditCheckpoint, AuditEntry
from banso.audit.reading import NamedEntry
from banso.audit.rules import format_ts
from banso.audit.tags import label
from banso.audit.verify import CheckpointRecord, EntryRecord
from banso.kit.cells import csv_row, excel_row, note_row, sheet_note
from banso.kit.clock import to_jst

FORMAT = "banso.audit.export/v1"
BATCH = 2000


class ExportFormatError(ValueError):
    """The file is not a banso audit export, or a line of it is malformed."""


class UnreadableEntry(RuntimeError):
    """A stored row could not be read at all (e.g. a column overwritten with garbage)."""

    def __init__(self, seq: int, error: Exception) -> None:
        super().__init__(f"entry seq {seq} is unreadable (a column was overwritten?): {error}")
        self.seq = seq


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _unb64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ExportFormatError("expected a base64 string")
    return base64.b64decode(value, validate=True)


def _parse_data(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text  # kept as a string so the verifier reports it


def iter_entry_records(session: Session, *, upto: int, batch: int = BATCH) -> Iterator[EntryRecord]:
    """Yield the stored entries 0..upto-1 in seq order, as read from the database."""
    t = AuditEntry.__table__.c
    # data is read as text: a row whose JSON was overwritten with garbage is reported, not a crash.
    cols = [t.seq, t.created_at, t.tag, t.actor_id, t.actor_label, t.subject, t.ip, cast(t.data, Text),
            t.leaf, t.leaf_hash, t.root]
    last = -1
    while True:
        # Keyset pages: each page is a short query, so no server-side cursor is left open.
        page = select(*cols).where(t.seq > last, t.seq < upto).order_by(t.seq).limit(batch)
        try:
            rows = list(session.execute(page).all())
        except (ValueError, TypeError):
            rows = _read_one_by_one(session, cols, last, upto, batch)
        if not rows:
            return
        for r in rows:
            yield EntryRecord(seq=r[0], created_at=r[1], tag=r[2], actor_id=r[3], actor_label=r[4], subject=r[5],
                              ip=r[6], data=_parse_data(r[7]), leaf=bytes(r[8]), leaf_hash=bytes(r[9]),
                              root=bytes(r[10]))
        last = rows[-1][0]


def _read_one_by_one(session: Session, cols: list[Any], last: int, upto: int, batch: int) -> list[Any]:
    """Re-read a page row by row to name the first unreadable entry (raised after the good ones)."""
    t = AuditEntry.__table__.c
    seqs = session.scalars(select(t.seq).where(t.seq > last, t.seq < upto).order_by(t.seq).limit(batch)).all()
    rows: list[Any] = []
    for seq in seqs:
        try:
            rows.append(session.execute(select(*cols).where(t.seq == seq)).one())
        except (ValueError, TypeError) as exc:
            if rows:
                return rows  # the caller yields these, then the next page starts at the bad row
            raise UnreadableEntry(seq, exc) from exc
    return rows


def stored_upper_bound(session: Session) -> int:
    """Return one past the largest stored seq (rows beyond the head size are reported too)."""
    top = session.scalar(select(func.max(AuditEntry.seq)))
    return 0 if top is None else int(top) + 1


def checkpoint_records(session: Session, *, upto: int | None = None) -> list[CheckpointRecord]:
    """Return the stored checkpoints (optionally only those of size <= ``upto``), oldest first."""
    stmt = select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size, AuditCheckpoint.id)
    if upto is not None:
        stmt = stmt.where(AuditCheckpoint.tree_size <= upto)
    return [CheckpointRecord(id=c.id, tree_size=c.tree_size, root=bytes(c.root), created_at=c.created_at,
                             key_id=c.key_id, signature=bytes(c.signature), note=c.note)
            for c in session.scalars(stmt)]


def _entry_line(e: EntryRecord) -> dict[str, Any]:
    return {"type": "entry", "seq": e.seq, "created_at": format_ts(e.created_at), "tag": e.tag,
            "actor_id": e.actor_id, "actor_label": e.actor_label, "subject": e.subject, "ip": e.ip,
            "data": e.data, "leaf": _b64(e.leaf), "leaf_hash": _b64(e.leaf_hash), "root": _b64(e.root)}


def _checkpoint_line(c: CheckpointRecord) -> dict[str, Any]:
    return {"type": "checkpoint", "id": c.id, "tree_size": c.tree_size, "root": _b64(c.root),
            "created_at": format_ts(c.created_at), "key_id": c.key_id, "signature": _b64(c.signature),
            "note": c.note}


@dataclass(frozen=True)
class ExportSummary:
    """What was written."""

    path: Path
    tree_size: int
    checkpoints: int


def _dump(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"


def export_log(
    session: Session,
    path: Path,
    *,
    public_key: Ed25519PublicKey | None = None,
    now: datetime | None = None,
) -> ExportSummary:
    """Write the whole log (entries below the current size and their checkpoints) to ``path`` (A3)."""
    path = Path(path)
    size = service.tree_size(session)
    cps = checkpoint_records(session, upto=size)
    header: dict[str, Any] = {
        "type": "header", "format": FORMAT, "tree_size": size,
        "root": _b64(service.root_at(session, size)),
        "exported_at": format_ts(now) if now is not None else None,
        "key_id": key_id(public_key) if public_key is not None else None,
        "public_key_pem": public_key_pem(public_key) if public_key is not None else None,
        "checkpoints": len(cps),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    # Written beside the target and renamed at the end: nothing is half-written.
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(_dump(header))
            for c in cps:
                fh.write(_dump(_checkpoint_line(c)))
            for e in iter_entry_records(session, upto=size):
                fh.write(_dump(_entry_line(e)))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return ExportSummary(path=path, tree_size=size, checkpoints=len(cps))


def _parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ExportFormatError("expected a timestamp string")
    return datetime.fromisoformat(value)


def _entry_from(obj: dict[str, Any]) -> EntryRecord:
    return EntryRecord(seq=int(obj["seq"]), created_at=_parse_time(obj["created_at"]), tag=str(obj["tag"]),
                       actor_id=obj.get("actor_id"), actor_label=obj.get("actor_label"), subject=obj.get("subject"),
                       ip=obj.get("ip"), data=obj.get("data"), leaf=_unb64(obj["leaf"]),
                       leaf_hash=_unb64(obj["leaf_hash"]), root=_unb64(obj["root"]))


def _checkpoint_from(obj: dict[str, Any]) -> CheckpointRecord:
    return CheckpointRecord(id=obj.get("id"), tree_size=int(obj["tree_size"]), root=_unb64(obj["root"]),
                            created_at=_parse_time(obj["created_at"]), key_id=str(obj["key_id"]),
                            signature=_unb64(obj["signature"]), note=str(obj["note"]))


class ExportReader:
    """Read an export in one pass: header and checkpoints up front, entries streamed."""

    def __init__(self, fh: IO[str]) -> None:
        self._fh = fh
        self._lineno = 1
        self.header = self._parse(fh.readline(), "header")
        if self.header.get("format") != FORMAT:
            raise ExportFormatError(f"not a banso audit export (format {self.header.get('format')!r})")
        self.checkpoints: list[CheckpointRecord] = []
        self._pending: dict[str, Any] | None = None
        for line in fh:
            self._lineno += 1
            obj = self._parse(line, None)
            if obj.get("type") != "checkpoint":
                self._pending = obj
                break
            self.checkpoints.append(self._convert(_checkpoint_from, obj))

    @property
    def tree_size(self) -> int:
        """Return the size the header announces."""
        return int(self.header.get("tree_size") or 0)

    def _parse(self, line: str, want: str | None) -> dict[str, Any]:
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise ExportFormatError(f"line {self._lineno}: not JSON ({exc})") from exc
        if not isinstance(obj, dict) or (want is not None and obj.get("type") != want):
            raise ExportFormatError(f"line {self._lineno}: expected a {want or 'JSON'} object")
        return obj

    def _convert(self, fn: Any, obj: dict[str, Any]) -> Any:
        try:
            return fn(obj)
        except (KeyError, TypeError, ValueError) as exc:
            raise ExportFormatError(f"line {self._lineno}: malformed {obj.get('type')} ({exc})") from exc

    def entries(self) -> Iterator[EntryRecord]:
        """Yield the entries in file order."""
        if self._pending is not None:
            obj, self._pending = self._pending, None
            if obj.get("type") != "entry":
                raise ExportFormatError(f"line {self._lineno}: unexpected {obj.get('type')!r} line")
            yield self._convert(_entry_from, obj)
        for line in self._fh:
            self._lineno += 1
            obj = self._parse(line, "entry")
            yield self._convert(_entry_from, obj)


# ---------------------------------------------------------------------------------------------
# The filtered view as a spreadsheet (issue 14): CSV and Excel, labels in the reader's language


XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
SHEET_COLUMNS = ("No.", "Time (JST)", "Event", "Event type", "Actor", "Organisation", "Actor ID", "Recorded as",
                 "Subject", "Subject ID", "Address", "Data")
"""English msgids of the columns; "Event type" is the raw tag, "Recorded as" the label written at the time."""


def sheet_rows(rows: list[NamedEntry], translate: Callable[[str], str]) -> Iterator[list[object]]:
    """Yield the header and one row per entry, labels through ``translate`` (the reader's language)."""
    yield [translate(c) for c in SHEET_COLUMNS]
    for row in rows:
        e = row.entry
        subject = row.subject
        subject_text = "" if subject is None else " ".join(
            p for p in (translate(subject.kind) if subject.kind else "", subject.ident,
                        f"({subject.name})" if subject.name else "") if p)
        yield [e.seq, to_jst(e.created_at).strftime("%Y-%m-%d %H:%M"), translate(label(e.tag)), e.tag,
               row.actor.name if row.actor else (e.actor_label or ""), row.actor.organisation if row.actor else "",
               e.actor_id if e.actor_id is not None else "", e.actor_label or "", subject_text, e.subject or "",
               e.ip or "", json.dumps(e.data, ensure_ascii=False, sort_keys=True) if e.data else ""]


def csv_bytes(rows: list[NamedEntry], translate: Callable[[str], str]) -> bytes:
    """Return the rows as UTF-8 CSV with a BOM (Excel opens it as UTF-8); formula-like cells neutralised (O1)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    neutralised, width = False, 1
    for values in sheet_rows(rows, translate):
        cells = csv_row(values)
        width = max(width, len(cells))
        neutralised = neutralised or cells != values
        writer.writerow(cells)
    if neutralised:
        writer.writerow(note_row(width))  # a full record: banso's upload check accepts the file
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(rows: list[NamedEntry], translate: Callable[[str], str]) -> bytes:
    """Return the rows as an Excel workbook; text cells are never formulas (kit/cells.py, O1)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    ws = book.active
    ws.title = translate("Audit log")[:31]
    for values in sheet_rows(rows, translate):
        excel_row(ws, values)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    sheet_note(ws)
    ws.freeze_panes = "A2"
    for letter, width in zip("ABCDEFGHIJKL", (8, 18, 28, 34, 20, 24, 9, 28, 30, 20, 16, 60), strict=True):
        ws.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
