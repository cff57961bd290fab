"""``banso backup`` and ``banso restore`` as real processes on a real data folder: exit codes and messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.backup.conftest import make_system, seed
from tests.support.cli import banso


@pytest.fixture
def live(tmp_path: Path) -> Path:
    """A seeded SQLite data folder (the CLI reads BANSO_DATA_DIR; its database is data/banso.db)."""
    system = make_system(tmp_path / "data", None)
    seed(system, councils=1, items=2, others=False)
    system.engine.dispose()
    return tmp_path / "data"


def test_backup_verify_restore_exit_codes(live: Path, tmp_path: Path) -> None:
    """keygen, create, verify and restore succeed with 0; each refusal and a damaged backup exit 1 with the reason."""
    private, public = tmp_path / "op.key", tmp_path / "op.pub"
    assert banso(["backup", "keygen", str(private)], live).returncode == 0
    assert (private.stat().st_mode & 0o777) == 0o600 and public.exists()
    again = banso(["backup", "keygen", str(private)], live)
    assert again.returncode == 1 and "already exists" in again.stderr

    made = banso(["backup", "create", str(tmp_path / "b"), "--to", str(public)], live)
    assert made.returncode == 0, made.stderr
    assert "sqlite at revision" in made.stdout
    assert banso(["backup", "verify", str(tmp_path / "b"), "--key", str(private)], live).returncode == 0

    other = tmp_path / "other.key"
    assert banso(["backup", "keygen", str(other)], live).returncode == 0
    wrong = banso(["backup", "verify", str(tmp_path / "b"), "--key", str(other)], live)
    assert wrong.returncode == 1 and "wrong key" in wrong.stderr

    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    full = banso(["restore", str(tmp_path / "b"), "--key", str(private), "--into", str(tmp_path / "full")], live)
    assert full.returncode == 1 and "not empty" in full.stderr

    done = banso(["restore", str(tmp_path / "b"), "--key", str(private), "--into", str(tmp_path / "new")], live)
    assert done.returncode == 0, done.stderr
    assert "2 sealed file(s) decrypted" in done.stdout and "audit log: OK" in done.stdout
    # Without --newer-log, keys destroyed after the backup come back: the operator is warned, Japanese first.
    assert "警告: --newer-log の指定がありません" in done.stderr
    assert "keys destroyed after this backup will come back" in " ".join(done.stderr.split())
    verified = banso(["audit", "verify", "--database-url", f"sqlite:///{tmp_path / 'new' / 'banso.db'}"],
                     tmp_path / "new")
    assert verified.returncode == 0, verified.stderr

    # A damaged file makes verify exit 1 and name it; the restore does not report success.
    shutil.copytree(tmp_path / "b", tmp_path / "damaged")
    victim = tmp_path / "damaged" / "files" / "000000"  # the database snapshot is written first
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF
    victim.write_bytes(bytes(data))
    bad = banso(["backup", "verify", str(tmp_path / "damaged"), "--key", str(private)], live)
    assert bad.returncode == 1 and "database.sqlite" in bad.stderr and "altered" in bad.stderr
    failed = banso(["restore", str(tmp_path / "damaged"), "--key", str(private), "--into", str(tmp_path / "r")], live)
    assert failed.returncode == 1 and "FAILED" in failed.stderr


def test_create_needs_an_operator_public_key(live: Path, tmp_path: Path) -> None:
    """Without a readable X25519 public key nothing is written."""
    (tmp_path / "not-a-key.pub").write_text("hello")
    bad = banso(["backup", "create", str(tmp_path / "b"), "--to", str(tmp_path / "not-a-key.pub")], live)
    assert bad.returncode == 1 and "cannot read public key" in bad.stderr
    assert not (tmp_path / "b").exists()
