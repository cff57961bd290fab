"""The backup folder and ``banso backup create`` (O2): database snapshot first, then files and keys.

Layout of a backup folder::

    backup.json        in clear: format, time, the ephemeral public key, the recipient's fingerprint
    manifest.enc       encrypted JSON: every file (logical path, size, SHA-256), schema revision,
                       banso version, database kind and the blobs the database refers to
    files/000000 …     each file encrypted on its own (``banso.backup.crypto``)

Why this order: banso writes a sealed file before the database commit that refers to it, so every
file a database snapshot refers to already exists when the files are copied after it. Copying the
files first would miss the ones written in between, and the audit log would not notice.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

import banso
from banso.backup import crypto, database
from banso.config import Settings

FORMAT: Final = "banso-backup"
VERSION: Final = 1
HEADER: Final = "backup.json"
MANIFEST: Final = "manifest.enc"
FILES: Final = "files"
DATA: Final = "data/"  # logical prefix of files below the data folder
BLOBS: Final = "data/information/blobs/"
KEY_FOLDERS: Final = ("keys/councils", "keys/commissions", "keys/proposals")
SIGNING_KEY: Final = "data/keys/audit-ed25519.pem"
_NAME: Final = re.compile(r"files/[0-9]{6}")
SCRATCH: Final = ".backup-scratch"  # inside the data folder: a plaintext database copy never leaves it

Progress = Callable[[str, int], None]  # (logical path, bytes) after each file


class BackupError(Exception):
    """A backup cannot be made, read or restored; the message says why (Japanese, then English)."""


@dataclass
class Manifest:
    """What a backup holds; stored encrypted as ``manifest.enc``."""

    created_at: str
    database: str  # "sqlite" | "postgresql"
    schema_revision: str | None
    key_store: str  # "file": council and commission keys are in the backup; otherwise they are not
    referenced_blobs: list[str]
    files: list[dict[str, Any]] = field(default_factory=list)  # name, path, size, sha256
    banso_version: str = banso.__version__
    format: str = FORMAT
    version: int = VERSION

    def to_bytes(self) -> bytes:
        """Return the manifest as JSON."""
        return json.dumps(self.__dict__, ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Read a manifest; BackupError when it is not one banso can read."""
        try:
            raw = json.loads(data)
            if raw.get("format") != FORMAT or raw.get("version") != VERSION:
                raise BackupError(f"未対応の形式 / unsupported backup format {raw.get('format')} {raw.get('version')}")
            manifest = cls(**raw)
        except (ValueError, TypeError) as exc:
            raise BackupError(f"目録が読めません / the manifest is malformed: {exc}") from None
        manifest.check_paths()
        return manifest

    def check_paths(self) -> None:
        """Refuse names and paths that could write outside the target or over each other.

        Anyone holding the operator's public key can make a backup that decrypts, so a manifest is
        checked like any other input before a single file is written.
        """
        seen: set[str] = set()
        for entry in self.files:
            name, path = str(entry.get("name", "")), str(entry.get("path", ""))
            parts = PurePosixPath(path[len(DATA):]).parts
            clean = (path in ("database.sqlite", "database.pgdump")
                     or (path.startswith(DATA) and bool(parts) and "/".join(parts) == path[len(DATA):]
                         and not any(p in ("..", ".") for p in parts) and path != DATA + "banso.db"))
            if not _NAME.fullmatch(name) or not clean or path in seen:
                raise BackupError(f"目録に不正なパス / the manifest holds an unsafe or repeated path: {path!r} ({name!r})")
            seen.add(path)

    def database_entry(self) -> dict[str, Any]:
        """Return the manifest entry of the database snapshot."""
        for entry in self.files:
            if entry["path"].startswith("database."):
                return entry
        raise BackupError("目録にデータベースがありません / the manifest lists no database snapshot")


def key_store_kind(settings: Settings) -> str:
    """Return the configured council key store ("file" unless an HSM store is configured)."""
    return str(getattr(settings, "key_store", "file"))


class Writer:
    """Writes one backup folder: encrypted files in any order, then the manifest and header."""

    def __init__(self, folder: Path, public: X25519PublicKey, *, now: datetime) -> None:
        self.folder = folder
        (folder / FILES).mkdir(parents=True)
        self.header, self._master = crypto.seal_to(public)
        self.created_at = now.isoformat()
        self.entries: list[dict[str, Any]] = []

    def add(self, path: str, chunks: Iterable[bytes]) -> dict[str, Any]:
        """Encrypt one file under the next stored name and list it in the manifest."""
        name = f"{FILES}/{len(self.entries):06d}"
        try:
            with (self.folder / name).open("wb") as out:
                size, sha = crypto.encrypt_stream(self._master, name, chunks, out)
        except BaseException:
            (self.folder / name).unlink(missing_ok=True)
            raise
        entry = {"name": name, "path": path, "size": size, "sha256": sha}
        self.entries.append(entry)
        return entry

    def finish(self, manifest: Manifest) -> None:
        """Write the encrypted manifest, then the header that makes the folder a backup."""
        manifest.files = self.entries
        # One flush of everything written (an fsync per file made a 2,000-file backup 2–5x slower here) before
        # the manifest: a backup folder with a header has all its files on disk.
        os.sync()
        with (self.folder / MANIFEST).open("wb") as out:
            crypto.encrypt_stream(self._master, "manifest", [manifest.to_bytes()], out)
        header = {"format": FORMAT, "version": VERSION, "created_at": self.created_at, **self.header.to_json()}
        (self.folder / HEADER).write_text(json.dumps(header, indent=1) + "\n")
        os.sync()


def _is_scratch(rel: Path) -> bool:
    name = rel.name
    # Temporary names of the blob store (.tmp-*) and key store (.council-*.tmp): half-written, never referenced.
    return rel.parts[0] == SCRATCH or name.startswith(".tmp-") or (name.startswith(".") and name.endswith(".tmp"))


def data_files(settings: Settings, *, skip: Iterable[Path] = ()) -> Iterator[tuple[str, Path]]:
    """Yield (logical path, file) for everything in the data folder but the live database and scratch."""
    root = settings.data_dir.resolve()
    skipped = {p.resolve() for p in skip}
    file_keys = key_store_kind(settings) == "file"
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or path.is_symlink() or _is_scratch(rel) or path.resolve() in skipped:
            continue
        if any(path.resolve().is_relative_to(s) for s in skipped if s.is_dir()):
            continue
        if not file_keys and rel.as_posix().startswith(KEY_FOLDERS):
            continue  # the keys live in the HSM and are backed up by the HSM's own means
        yield DATA + rel.as_posix(), path
    signing = settings.signing_key_path.resolve()
    if signing.exists() and not signing.is_relative_to(root):
        yield SIGNING_KEY, signing


def _live_database_files(settings: Settings) -> list[Path]:
    # data_dir/banso.db is where a restore puts the SQLite database, so it is never a data file of its own.
    found = [settings.data_dir / "banso.db"]
    if settings.sqlalchemy_url.startswith("sqlite"):
        found.append(database.sqlite_path(settings.sqlalchemy_url))
    return [f.with_name(f.name + suffix) for f in found for suffix in ("", "-wal", "-shm", "-journal")]


@contextmanager
def _staging(target: Path) -> Iterator[Path]:
    """Build the backup beside ``target`` and move it into place only when complete."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"保存先が空ではありません / {target} exists and is not empty; choose a new folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        yield staging
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def create(settings: Settings, target: Path, public: X25519PublicKey, *, now: datetime,
           progress: Progress | None = None) -> Manifest:
    """Make a consistent online backup of the database, sealed files and keys into the new folder ``target``."""
    if target.resolve().is_relative_to(settings.data_dir.resolve()):
        raise BackupError(f"バックアップをデータフォルダ内に置けません / {target} is inside the data folder")
    report = progress or (lambda _path, _size: None)
    with _staging(target) as staging:
        writer = Writer(staging, public, now=now)
        snapshot = add_database(writer, settings, report)
        add_files(writer, settings, report)
        manifest = Manifest(created_at=writer.created_at, database=snapshot.kind, schema_revision=snapshot.revision,
                            key_store=key_store_kind(settings), referenced_blobs=sorted(snapshot.blobs))
        writer.finish(manifest)
    return manifest


def add_database(writer: Writer, settings: Settings, report: Progress) -> database.Snapshot:
    """Add a consistent snapshot of the database: step one, before any file (see the module docstring)."""
    url = settings.sqlalchemy_url
    if url.startswith("sqlite"):
        scratch = settings.data_dir / SCRATCH
        scratch.mkdir(mode=0o700, exist_ok=True)
        copy = Path(tempfile.mkdtemp(dir=scratch)) / "banso.db"
        try:
            snapshot = database.sqlite_snapshot(url, copy)
            entry = writer.add("database.sqlite", crypto.file_chunks(copy))
        finally:
            shutil.rmtree(copy.parent, ignore_errors=True)
    else:
        sizes: list[dict[str, Any]] = []
        snapshot = database.pg_snapshot(url, lambda chunks: sizes.append(writer.add("database.pgdump", chunks)))
        entry = sizes[0]
    report(entry["path"], entry["size"])
    return snapshot


def add_files(writer: Writer, settings: Settings, report: Progress) -> None:
    """Add every file of the data folder (sealed blobs, keys, outbox …): step two, after the database."""
    for logical, path in data_files(settings, skip=_live_database_files(settings)):
        try:
            entry = writer.add(logical, crypto.file_chunks(path))
        except FileNotFoundError:
            continue  # gone since the walk (a destroyed key, a discarded legacy file): nothing the snapshot needs
        report(entry["path"], entry["size"])
