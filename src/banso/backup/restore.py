"""``banso backup verify`` and ``banso restore`` (O2): every hash, the database, every referenced file,
the audit log, and destroyed keys kept destroyed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import User
from banso.audit import checkpoints, nodes
from banso.audit import service as audit
from banso.audit.export import (
    ExportFormatError,
    ExportReader,
    UnreadableEntry,
    checkpoint_records,
    iter_entry_records,
    stored_upper_bound,
)
from banso.audit.models import AuditEntry
from banso.audit.tags import AuditTag
from banso.audit.verify import verify_log
from banso.backup import crypto, database
from banso.backup.archive import (
    BLOBS,
    DATA,
    FILES,
    HEADER,
    MANIFEST,
    SIGNING_KEY,
    BackupError,
    Manifest,
    Progress,
)
from banso.backup.references import check_files
from banso.db.engine import make_engine
from banso.kit.crypto import SecretBox
from banso.sealed import store as sealed
from banso.sealed.crypto import LocalKeyFileStore

_DESTROYED = {AuditTag.KEYS_COUNCIL_DESTROYED.value: "council", AuditTag.KEYS_COMMISSION_DESTROYED.value: "commission",
              AuditTag.KEYS_PROPOSAL_DESTROYED.value: "proposal"}


@dataclass
class Opened:
    """A backup folder opened with the operator's private key."""

    folder: Path
    master: bytes
    manifest: Manifest

    def chunks(self, entry: dict[str, Any], problems: list[str]) -> Iterator[bytes]:
        """Yield the plaintext of one listed file, checking its size and hash at the end."""
        digest, size = hashlib.sha256(), 0
        try:
            with (self.folder / entry["name"]).open("rb") as fh:
                for piece in crypto.decrypt_stream(self.master, entry["name"], fh):
                    digest.update(piece)
                    size += len(piece)
                    yield piece
        except FileNotFoundError:
            problems.append(f"{entry['path']}: バックアップ内にありません / missing from the backup ({entry['name']})")
            return
        except crypto.BackupCryptoError as exc:
            problems.append(f"{entry['path']}: {exc}")
            return
        if digest.hexdigest() != entry["sha256"] or size != entry["size"]:
            problems.append(f"{entry['path']}: ハッシュ不一致 / size or SHA-256 differs from the manifest")


def open_backup(folder: Path, private: X25519PrivateKey) -> Opened:
    """Read the header and decrypt the manifest; BackupError for a wrong key or an altered manifest."""
    try:
        header = crypto.Header.from_json(json.loads((folder / HEADER).read_text()))
        master = crypto.open_with(header, private)
        manifest = Manifest.from_bytes(crypto.read_file(master, "manifest", folder / MANIFEST))
    except FileNotFoundError as exc:
        raise BackupError(f"バックアップではありません / {folder} is not a banso backup: {exc.filename} missing") from None
    except (ValueError, crypto.BackupCryptoError) as exc:
        raise BackupError(str(exc)) from None
    return Opened(folder, master, manifest)


@dataclass
class Report:
    """What a verify or restore found; ``problems`` empty means success."""

    files: int = 0
    bytes: int = 0
    database_url: str | None = None  # what a restore wrote into (None: SQLite in the restored folder)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Return True when nothing failed."""
        return not self.problems


def _drain(chunks: Iterator[bytes]) -> None:
    for _ in chunks:
        pass


def verify(folder: Path, private: X25519PrivateKey, *, progress: Progress | None = None) -> Report:
    """Decrypt every file, check every hash, open the database dump and find every referenced file."""
    opened = open_backup(folder, private)
    manifest, report = opened.manifest, Report()
    listed = {e["name"] for e in manifest.files}
    for extra in sorted(p for p in (folder / FILES).glob("*") if f"{FILES}/{p.name}" not in listed):
        report.problems.append(f"{extra.name}: 目録にないファイル / not listed in the manifest")
    db_entry = manifest.database_entry()
    for entry in manifest.files:
        if entry is db_entry:
            continue
        _drain(opened.chunks(entry, report.problems))
        _count(report, entry, progress)
    blobs = _check_database(opened, db_entry, report)
    _count(report, db_entry, progress)
    held = {e["path"][len(BLOBS):].split("/")[-1] for e in manifest.files if e["path"].startswith(BLOBS)}
    for blob in sorted(set(manifest.referenced_blobs) | blobs):
        if blob not in held:
            report.problems.append(f"参照されたファイルがバックアップにありません / the database refers to sealed file "
                                   f"{blob}, which is not in the backup")
    return report


def _count(report: Report, entry: dict[str, Any], progress: Progress | None) -> None:
    report.files += 1
    report.bytes += int(entry["size"])
    if progress:
        progress(entry["path"], int(entry["size"]))


def _check_database(opened: Opened, entry: dict[str, Any], report: Report) -> set[str]:
    """Check that the database snapshot opens; return the blobs a SQLite snapshot refers to."""
    if opened.manifest.database == "postgresql":
        try:
            database.pg_dump_lists(opened.chunks(entry, report.problems))
        except database.DatabaseToolError as exc:
            report.problems.append(str(exc))
        return set()
    with tempfile.TemporaryDirectory(prefix="banso-verify-") as scratch:
        copy = Path(scratch) / "banso.db"
        before = len(report.problems)
        with copy.open("wb") as out:
            for piece in opened.chunks(entry, report.problems):
                out.write(piece)
        if len(report.problems) > before:
            return set()  # the copy is incomplete: its problem is already listed
        try:
            return set(database.inspect_sqlite(copy).blobs)
        except database.DatabaseToolError as exc:
            report.problems.append(str(exc))
            return set()


# ---------------------------------------------------------------------------------------------
# restore


def _check_target(into: Path, manifest: Manifest, database_url: str | None) -> str:
    if into.exists() and (not into.is_dir() or any(into.iterdir())):
        raise BackupError(f"復元先が空ではありません / {into} is not empty; restore only into an empty folder")
    if manifest.database == "postgresql":
        if not database_url or not database_url.startswith("postgresql"):
            raise BackupError("PostgreSQL のバックアップです / this backup is of PostgreSQL: pass --database-url of a "
                              "new, empty PostgreSQL database")
    elif database_url:
        raise BackupError("SQLite のバックアップです / this backup is of SQLite; it is restored into the folder, "
                          "without --database-url")
    url = database_url or f"sqlite:///{(into / 'banso.db').resolve()}"
    if database_url and not database.database_is_empty(url):
        raise BackupError("復元先のデータベースが空ではありません / the target database is not empty; create a new one")
    return url


def _write(path: Path, chunks: Iterator[bytes], *, private: bool) -> None:
    path.parent.mkdir(mode=0o700 if private else 0o777, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as out:
        for piece in chunks:
            out.write(piece)


def restore(folder: Path, private: X25519PrivateKey, into: Path, *, database_url: str | None = None,
            newer_log: str | None = None, secret_key: str | None = None,
            progress: Progress | None = None) -> Report:
    """Restore database, files and keys into the empty ``into``; keep destroyed keys destroyed; check it all.

    ``secret_key`` (the BANSO_SECRET_KEY the restored system will run with) is tried on a restored TOTP
    secret, so a missing or wrong key is noticed now rather than at the first sign-in.
    """
    opened = open_backup(folder, private)
    manifest, report = opened.manifest, Report()
    url = _check_target(into, manifest, database_url)
    # Read before writing anything: an unreadable newer log stops the restore while the target is still empty.
    destroyed_later = _destroyed_in(newer_log) if newer_log else set()
    report.database_url = database_url
    into.mkdir(parents=True, exist_ok=True)
    db_entry = manifest.database_entry()
    for entry in manifest.files:
        if entry is not db_entry:
            rel = entry["path"][len(DATA):]
            _write(into / rel, opened.chunks(entry, report.problems), private=rel.startswith("keys/"))
            _count(report, entry, progress)
    _restore_database(opened, db_entry, url, into, report)
    _count(report, db_entry, progress)
    os.sync()
    if not report.ok:
        return report  # damaged backup: the checks below would only repeat it
    _after_restore(into, url, manifest, destroyed_later, report)
    if secret_key is not None:
        _check_secret(url, secret_key, report)
    return report


def _restore_database(opened: Opened, entry: dict[str, Any], url: str, into: Path, report: Report) -> None:
    if opened.manifest.database == "postgresql":
        try:
            database.pg_restore(url, opened.chunks(entry, report.problems))
        except database.DatabaseToolError as exc:
            report.problems.append(str(exc))
        return
    _write(into / "banso.db", opened.chunks(entry, report.problems), private=True)


def _after_restore(into: Path, url: str, manifest: Manifest, destroyed_later: set[sealed.Scope],
                   report: Report) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            destroyed = destroyed_scopes(session) | destroyed_later
            deps = sealed.local_deps(into, "restore-check")  # the fingerprint key plays no part in the check
            if manifest.key_store == "file":
                _keep_destroyed(deps, destroyed, report)
                destroyed |= _tombstoned(into)
            else:
                report.notes.append("鍵は HSM にあります / council keys live in the HSM: not restored, not checked")
            _verify_audit(session, into, report)
            if manifest.key_store == "file":
                files = check_files(session, deps, destroyed=destroyed)
                report.problems.extend(files.problems or [])
                report.notes.append(f"{files.opened} sealed file(s) decrypted, {files.shredded} of destroyed keys")
            session.rollback()
    finally:
        engine.dispose()


def _check_secret(url: str, secret_key: str, report: Report) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            sample = session.scalar(select(User.totp_secret_enc).where(User.totp_secret_enc.is_not(None)).limit(1))
    finally:
        engine.dispose()
    if sample is None:
        return
    try:
        SecretBox(secret_key).open(sample)
    except ValueError:
        report.notes.append("警告: BANSO_SECRET_KEY が違います / WARNING: this BANSO_SECRET_KEY does not open the restored "
                            "TOTP secrets; start the restored system with the backed-up system's BANSO_SECRET_KEY")
        return
    report.notes.append("BANSO_SECRET_KEY opens the restored TOTP secrets")


def destroyed_scopes(session: Session) -> set[sealed.Scope]:
    """Return every council or commission whose key destruction the audit log records."""
    rows = session.execute(select(AuditEntry.tag, AuditEntry.data).where(AuditEntry.tag.in_(list(_DESTROYED))))
    return {sealed.Scope(_DESTROYED[tag], int(data["id"])) for tag, data in rows}


def _destroyed_in(source: str) -> set[sealed.Scope]:
    """Read key destructions from a newer log: an export file (``banso audit export``) or a database URL."""
    if Path(source).is_file():
        try:
            with Path(source).open(encoding="utf-8") as fh:
                return {sealed.Scope(_DESTROYED[e.tag], int(e.data["id"]))
                        for e in ExportReader(fh).entries() if e.tag in _DESTROYED}
        except (ExportFormatError, UnreadableEntry, KeyError, TypeError, ValueError) as exc:
            raise BackupError(f"新しい監査ログを読めません / cannot read the newer log {source}: {exc}") from None
    engine = make_engine(source)
    try:
        with Session(engine) as session:
            return destroyed_scopes(session)
    finally:
        engine.dispose()


def _keep_destroyed(deps: sealed.SealedDeps, destroyed: set[sealed.Scope], report: Report) -> None:
    """Destroy again every restored key whose destruction is on record, leaving its tombstone (I11)."""
    for scope in sorted(destroyed, key=lambda s: (s.kind, s.id)):
        store = sealed.key_store_of(deps, scope.kind)
        assert isinstance(store, LocalKeyFileStore)
        # Rotated key versions (council-<id>-v<k>.key, if the key store keeps them) go with the key.
        versions = sorted(store.root.glob(f"{store.prefix}-{scope.id}-*.key"))
        resurrected = store.key_path(scope.id).exists() or bool(versions)
        store.revoke(scope.id)
        for path in versions:
            _shred(path)
        if resurrected:
            report.notes.append(f"破棄済みの鍵を再破棄 / key of {scope.subject} was destroyed after this backup: "
                                "destroyed again")


def _shred(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.write(b"\x00" * path.stat().st_size)
        fh.flush()
        os.fsync(fh.fileno())
    path.unlink()


def _tombstoned(into: Path) -> set[sealed.Scope]:
    found = set()
    for kind, folder in (("council", "councils"), ("commission", "commissions")):
        for stone in (into / "keys" / folder).glob(f"{kind}-*.revoked"):
            number = stone.stem.split("-")[-1]
            if number.isdigit():
                found.add(sealed.Scope(kind, int(number)))
    return found


def _verify_audit(session: Session, into: Path, report: Report) -> None:
    """Recompute the restored audit log like ``banso audit verify`` (A3)."""
    key_path = into / SIGNING_KEY[len(DATA):]
    key = checkpoints.load_public_key(key_path) if key_path.exists() else None
    size = audit.tree_size(session)
    result = verify_log(iter_entry_records(session, upto=max(size, stored_upper_bound(session))),
                        checkpoint_records(session), key, expected_size=size)
    problem = nodes.check_nodes(session, result.entries) if result.ok else None
    if not result.ok or problem:
        report.problems.append(f"監査ログ / audit log: {problem or result.summary()}")
    else:
        report.notes.append(f"監査ログ / audit log: {result.summary()}")
