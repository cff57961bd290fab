"""The restore drill (O2) on the test database (SQLite, or PostgreSQL when BANSO_TEST_DATABASE_URL is set):
back up a running system while it writes, restore into a fresh folder (and database), read everything back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from banso.audit.export import export_log
from banso.backup import archive, crypto, restore
from banso.backup.archive import BackupError
from banso.information.models import Item
from banso.kit.unit import unit_of_work
from banso.sealed import store as sealed
from banso.sealed.crypto import KeyUnavailable
from tests.backup.conftest import OperatorKey, System, read_everything, restored_system

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _backup(system: System, folder: Path, operator: OperatorKey) -> archive.Manifest:
    return archive.create(system.settings, folder, crypto.load_public(operator.public), now=NOW)


def _restore(system: System, backup: Path, into: Path, operator: OperatorKey, database_url: str | None, *,
             newer_log: str | None = None) -> restore.Report:
    return restore.restore(backup, crypto.load_private(operator.private), into, database_url=database_url,
                           newer_log=newer_log, secret_key=system.settings.secret_key)


def test_restore_drill_while_writing(system: System, operator: OperatorKey, tmp_path: Path,
                                     make_database: Callable[[], str | None]) -> None:
    """Backed up while a writer commits items: every item acknowledged before the backup began comes back, and
    every restored item and file reads back through the service; the audit log and file check pass."""
    acknowledged = set(read_everything(system))
    stop, written = threading.Event(), []

    def writer() -> None:
        n = 100
        while not stop.is_set():
            written.append(system.add_item(system.casts[n % 2], n))
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 2:  # the writer is really writing when the backup starts
            stop.wait(0.01)
        acknowledged |= set(written)
        manifest = _backup(system, tmp_path / "backup", operator)
    finally:
        stop.set()
        thread.join()
    assert written, "the writer committed items during the test"
    report = _restore(system, tmp_path / "backup", tmp_path / "restored", operator, make_database())
    assert report.ok, report.problems
    restored = restored_system(tmp_path / "restored", report.database_url)
    items = read_everything(restored)
    assert acknowledged <= set(items)  # nothing acknowledged before the backup is lost
    # One file per item, an answer file and a deliverable: each referenced, restored and decrypted.
    assert len(items) + 2 == len(manifest.referenced_blobs)
    assert f"{len(items) + 2} sealed file(s) decrypted, 0 of destroyed keys" in report.notes
    original = read_everything(system)
    assert all(items[i] == original[i] for i in items)
    assert any("audit log: OK" in note for note in report.notes)
    assert "BANSO_SECRET_KEY opens the restored TOTP secrets" in report.notes


@pytest.mark.parametrize("newer", ["database", "export"])
def test_destroyed_key_stays_destroyed(system: System, operator: OperatorKey, tmp_path: Path,
                                       make_database: Callable[[], str | None], newer: str) -> None:
    """A council key destroyed after the backup (recorded in the running system's log, read from its database or
    an audit export) is not brought back; the other council's content still opens; a rotated older version of
    the key goes with it."""
    gone, kept = system.casts
    live_keys = system.settings.data_dir / "keys" / "councils"
    (live_keys / f"council-{gone.council.id}-v1.key").write_bytes(b"k" * 32)  # as a key rotation would keep it
    _backup(system, tmp_path / "backup", operator)
    with unit_of_work(system.ctx.sessions) as db:
        sealed.destroy_key(db, sealed.sealed_deps(system.ctx), sealed.council_scope(gone.council.id), actor=None,
                           now=system.clock.now())
    newer_log = system.settings.sqlalchemy_url
    if newer == "export":
        newer_log = str(tmp_path / "audit.jsonl")
        with unit_of_work(system.ctx.sessions) as db:
            export_log(db, Path(newer_log), public_key=None, now=system.clock.now())
    report = _restore(system, tmp_path / "backup", tmp_path / "restored", operator, make_database(),
                      newer_log=newer_log)
    assert report.ok, report.problems
    keys = tmp_path / "restored" / "keys" / "councils"
    assert not (keys / f"council-{gone.council.id}.key").exists()
    assert (keys / f"council-{gone.council.id}.revoked").exists()
    assert not (keys / f"council-{gone.council.id}-v1.key").exists()
    assert (keys / f"council-{kept.council.id}.key").exists()
    restored = restored_system(tmp_path / "restored", report.database_url)
    with unit_of_work(restored.ctx.sessions) as db:
        wrapped = db.scalars(select(Item.wrapped_key).where(Item.council_id == gone.council.id)).first()
    assert wrapped is not None
    with pytest.raises(KeyUnavailable):
        sealed.sealed_deps(restored.ctx).council_keys.unwrap(gone.council.id, wrapped)


def test_key_destroyed_before_the_backup_stays_destroyed(system: System, operator: OperatorKey, tmp_path: Path,
                                                         make_database: Callable[[], str | None]) -> None:
    """The destruction is in the backup's own audit log: restored without the running system, still destroyed."""
    gone = system.casts[0]
    with unit_of_work(system.ctx.sessions) as db:
        sealed.destroy_key(db, sealed.sealed_deps(system.ctx), sealed.council_scope(gone.council.id), actor=None,
                           now=system.clock.now())
    with unit_of_work(system.ctx.sessions) as db:  # the destruction is on record (A1), with the scope's id
        assert restore.destroyed_scopes(db) == {sealed.council_scope(gone.council.id)}
    _backup(system, tmp_path / "backup", operator)
    report = _restore(system, tmp_path / "backup", tmp_path / "restored", operator, make_database())
    assert report.ok, report.problems
    assert not (tmp_path / "restored" / "keys" / "councils" / f"council-{gone.council.id}.key").exists()
    # Destroyed: its 3 items and the answer file; opened: the other council's 3 items and the deliverable.
    assert "4 sealed file(s) decrypted, 4 of destroyed keys" in report.notes


def test_files_copied_before_the_database_are_caught(system: System, operator: OperatorKey, tmp_path: Path,
                                                     make_database: Callable[[], str | None]) -> None:
    """The wrong order (files, then a write, then the database) loses the new file: verify and restore say so,
    although the restored audit log verifies."""
    folder = tmp_path / "backup"
    writer = archive.Writer(folder, crypto.load_public(operator.public), now=NOW)
    archive.add_files(writer, system.settings, lambda _p, _s: None)
    system.add_item(system.casts[0], 99)  # acknowledged after the files were copied
    snapshot = archive.add_database(writer, system.settings, lambda _p, _s: None)
    writer.finish(archive.Manifest(created_at=NOW.isoformat(), database=snapshot.kind,
                                   schema_revision=snapshot.revision, key_store="file",
                                   referenced_blobs=sorted(snapshot.blobs)))
    private = crypto.load_private(operator.private)
    checked = restore.verify(folder, private)
    assert [p for p in checked.problems if "not in the backup" in p] and len(checked.problems) == 1
    report = restore.restore(folder, private, tmp_path / "restored", database_url=make_database())
    assert len(report.problems) == 1 and "is missing" in report.problems[0]
    assert any("audit log: OK" in note for note in report.notes)


def test_good_backup_verifies(system: System, operator: OperatorKey, tmp_path: Path) -> None:
    """Every file decrypts to its manifest hash and the database opens."""
    manifest = _backup(system, tmp_path / "backup", operator)
    report = restore.verify(tmp_path / "backup", crypto.load_private(operator.private))
    assert report.ok, report.problems
    assert report.files == len(manifest.files)
    paths = {e["path"] for e in manifest.files}
    assert any(p.startswith("data/keys/councils/council-") for p in paths)
    assert "data/keys/audit-ed25519.pem" in paths


@pytest.mark.parametrize("victim", ["file", "manifest", "extra"])
def test_tampered_backup_fails_verify(system: System, operator: OperatorKey, tmp_path: Path, victim: str) -> None:
    """A changed byte in any file or in the manifest, or a file slipped in, fails verification."""
    manifest = _backup(system, tmp_path / "backup", operator)
    private = crypto.load_private(operator.private)
    if victim == "extra":
        (tmp_path / "backup" / "files" / "999999").write_bytes(b"x")
    else:
        target = tmp_path / "backup" / (archive.MANIFEST if victim == "manifest" else manifest.files[-1]["name"])
        data = bytearray(target.read_bytes())
        data[-5] ^= 1
        target.write_bytes(bytes(data))
    if victim == "manifest":
        with pytest.raises(BackupError, match="altered"):
            restore.verify(tmp_path / "backup", private)
        return
    report = restore.verify(tmp_path / "backup", private)
    expected = "999999" if victim == "extra" else manifest.files[-1]["path"]
    assert [p for p in report.problems if expected in p], report.problems


def test_wrong_key_is_refused(system: System, operator: OperatorKey, tmp_path: Path) -> None:
    """Another operator key cannot open the backup, and the message says which key it was made for."""
    _backup(system, tmp_path / "backup", operator)
    crypto.generate_keypair(tmp_path / "other.key", tmp_path / "other.pub")
    with pytest.raises(BackupError, match="wrong key"):
        restore.verify(tmp_path / "backup", crypto.load_private(tmp_path / "other.key"))
    with pytest.raises(BackupError, match="wrong key"):
        restore.restore(tmp_path / "backup", crypto.load_private(tmp_path / "other.key"), tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


def test_non_empty_target_is_refused(system: System, operator: OperatorKey, tmp_path: Path) -> None:
    """A restore never writes over anything: a folder with a file in it is refused, as is a used database."""
    _backup(system, tmp_path / "backup", operator)
    target = tmp_path / "restored"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(BackupError, match="not empty"):
        restore.restore(tmp_path / "backup", crypto.load_private(operator.private), target,
                        database_url=system.settings.database_url)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]
    if system.settings.database_url:  # PostgreSQL: the live database is not empty
        with pytest.raises(BackupError, match="not empty"):
            restore.restore(tmp_path / "backup", crypto.load_private(operator.private), tmp_path / "other",
                            database_url=system.settings.database_url)


def test_backup_folder_must_be_new(system: System, operator: OperatorKey, tmp_path: Path) -> None:
    """A backup is never written into a used folder, nor inside the data folder; a failed one leaves nothing."""
    used = tmp_path / "used"
    used.mkdir()
    (used / "old").write_text("x")
    with pytest.raises(BackupError, match="not empty"):
        _backup(system, used, operator)
    with pytest.raises(BackupError, match="inside the data folder"):
        _backup(system, system.settings.data_dir / "b", operator)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live", "operator.key", "operator.pub", "used"]


def test_restored_database_counts(system: System, operator: OperatorKey, tmp_path: Path,
                                  make_database: Callable[[], str | None]) -> None:
    """The restored database holds exactly the snapshot's rows."""
    _backup(system, tmp_path / "backup", operator)
    report = _restore(system, tmp_path / "backup", tmp_path / "restored", operator, make_database())
    restored = restored_system(tmp_path / "restored", report.database_url)
    with unit_of_work(restored.ctx.sessions) as db:
        assert db.scalar(select(func.count()).select_from(Item)) == 6


def test_database_kind_must_match(system: System, operator: OperatorKey, tmp_path: Path) -> None:
    """A SQLite backup is not poured into a PostgreSQL URL, and a PostgreSQL backup needs one."""
    _backup(system, tmp_path / "backup", operator)
    private = crypto.load_private(operator.private)
    if system.settings.database_url:
        with pytest.raises(BackupError, match="pass --database-url"):
            restore.restore(tmp_path / "backup", private, tmp_path / "restored")
    else:
        with pytest.raises(BackupError, match="without --database-url"):
            restore.restore(tmp_path / "backup", private, tmp_path / "restored",
                            database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert not (tmp_path / "restored").exists()


def test_a_wrong_secret_key_is_noticed(system: System, operator: OperatorKey, tmp_path: Path,
                                       make_database: Callable[[], str | None]) -> None:
    """BANSO_SECRET_KEY is not in the backup: a restore run with another one says so (TOTP would not open)."""
    _backup(system, tmp_path / "backup", operator)
    report = restore.restore(tmp_path / "backup", crypto.load_private(operator.private), tmp_path / "restored",
                             database_url=make_database(), secret_key="another-secret-key-of-at-least-32-chars")
    assert report.ok
    assert any("does not open the restored TOTP secrets" in note for note in report.notes)


def test_an_unreadable_newer_log_stops_the_restore_before_writing(system: System, operator: OperatorKey,
                                                                   tmp_path: Path,
                                                                   make_database: Callable[[], str | None]) -> None:
    """A newer log that cannot be read is refused while the target is still untouched."""
    _backup(system, tmp_path / "backup", operator)
    (tmp_path / "log.jsonl").write_text("not an export\n")
    with pytest.raises(BackupError, match="cannot read the newer log"):
        _restore(system, tmp_path / "backup", tmp_path / "restored", operator, make_database(),
                 newer_log=str(tmp_path / "log.jsonl"))
    assert not (tmp_path / "restored").exists()


@pytest.mark.parametrize("path", ["data/../escaped.txt", "data//etc/escaped.txt", "data/banso.db", "elsewhere.txt"])
def test_a_crafted_manifest_cannot_write_outside_the_target(operator: OperatorKey, tmp_path: Path,
                                                            path: str) -> None:
    """Anyone with the public key can make a backup: a path leaving the target, or overwriting the database,
    is refused before anything is written."""
    folder = tmp_path / "crafted"
    writer = archive.Writer(folder, crypto.load_public(operator.public), now=NOW)
    writer.add("database.sqlite", [b""])
    writer.add(path, [b"payload"])
    writer.finish(archive.Manifest(created_at=NOW.isoformat(), database="sqlite", schema_revision=None,
                                   key_store="file", referenced_blobs=[]))
    private = crypto.load_private(operator.private)
    with pytest.raises(BackupError, match="unsafe or repeated path"):
        restore.verify(folder, private)
    with pytest.raises(BackupError, match="unsafe or repeated path"):
        restore.restore(folder, private, tmp_path / "target" / "into")
    assert not (tmp_path / "target").exists() and not (tmp_path / "escaped.txt").exists()
