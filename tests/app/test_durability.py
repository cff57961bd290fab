"""Durable writes (issue 17, O4): SQLite ``synchronous=FULL`` in production, the blob store syncs its folders.

The folder sync is observed on the real file system: ``os.fsync`` is wrapped by a spy that calls the
real one and notes which path each synced descriptor points at (``/proc/self/fd``) and whether the
blob's final name already existed at that moment.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from banso.app.wiring import build_context
from banso.config import Mode, Settings
from banso.db.engine import make_engine
from banso.sealed.files import LocalFileStore
from tests.support.factories import TEST_SECRET

FULL, NORMAL = 2, 1  # PRAGMA synchronous values


def _synchronous(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("PRAGMA synchronous")).scalar_one())


def test_sqlite_syncs_every_commit_in_production_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'banso.db'}"
    production = Settings(mode=Mode.PRODUCTION, data_dir=tmp_path / "prod", secret_key=TEST_SECRET, database_url=url)
    development = Settings(mode=Mode.DEVELOPMENT, data_dir=tmp_path / "dev", database_url=url)
    for settings, expected in ((production, FULL), (development, NORMAL)):
        ctx = build_context(settings)
        try:
            assert _synchronous(ctx.engine) == expected, settings.mode
        finally:
            ctx.engine.dispose()
    engine = make_engine(url, durable=True)
    assert _synchronous(engine) == FULL
    engine.dispose()


class FsyncSpy:
    """Call the real ``os.fsync`` and note (path, final blob present) for every call."""

    def __init__(self, real: object, watch: Path) -> None:
        self.real = real
        self.watch = watch
        self.calls: list[tuple[Path, bool]] = []

    def __call__(self, fd: int) -> None:
        self.calls.append((Path(os.readlink(f"/proc/self/fd/{fd}")), self.watch.exists()))
        self.real(fd)  # type: ignore[operator]


def test_a_new_blob_is_synced_then_its_folder_after_the_rename(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "information" / "blobs"
    data = b"sealed bytes"
    digest = hashlib.sha256(data).hexdigest()
    final = root / digest[:2] / digest
    spy = FsyncSpy(os.fsync, final)
    monkeypatch.setattr(os, "fsync", spy)

    assert LocalFileStore(root).put(data) == digest
    assert final.read_bytes() == data
    synced = [path for path, _ in spy.calls]
    # The new folders' entries, each in the folder that holds it: information/, blobs/, ab/.
    assert tmp_path in synced and root.parent in synced and root in synced
    file_syncs = [(path, present) for path, present in spy.calls if path.name.startswith(".tmp-")]
    assert file_syncs and not file_syncs[0][1]  # the bytes first, under the temporary name
    # Last: the blob's folder, after the rename, so the new name survives a power loss.
    assert spy.calls[-1] == (final.parent, True)

    spy.calls.clear()
    other = b"another blob in the same folder" + bytes(range(10))
    LocalFileStore(root).put(other)
    assert spy.calls[-1][0] == root / hashlib.sha256(other).hexdigest()[:2]
    before = len(spy.calls)
    assert LocalFileStore(root).put(data) == digest
    assert len(spy.calls) == before  # stored already: nothing to write or sync
