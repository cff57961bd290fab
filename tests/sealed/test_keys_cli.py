"""``banso keys status | rotate | destroy | migrate`` as real processes on a real data folder (issue 17, I11, O2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from banso.app.wiring import build_context
from banso.audit.models import AuditEntry
from banso.config import Mode, Settings
from banso.information import content
from banso.information.deps import information_deps
from banso.information.models import Item
from banso.kit.clock import FakeClock
from banso.migrations import migrate
from banso.sealed.pkcs11 import Pkcs11KeyStore
from tests.support.app import START
from tests.support.cli import banso
from tests.support.councils import establish
from tests.support.factories import Factory
from tests.support.hsm import SoftHsm
from tests.support.information import BODY, provide_item


@pytest.fixture
def folder(tmp_path: Path) -> tuple[Path, int, int]:
    """A data folder (SQLite, key files) with one council holding one item: (folder, council id, item id)."""
    data = tmp_path / "data"
    ctx = build_context(Settings(mode=Mode.DEVELOPMENT, data_dir=data, database_url=None))
    migrate.upgrade(ctx.engine)
    clock = FakeClock(START)
    with ctx.sessions() as db:
        cast = establish(Factory(db, clock, ctx.box), db, clock)
        item = provide_item(db, information_deps(ctx), cast, clock, body=BODY)
        db.commit()
        ids = cast.council.id, item.id
    ctx.engine.dispose()
    return data, *ids


def _body(data: Path, item_id: int, settings: dict[str, object] | None = None) -> str:
    """Open the item's body in a context of our own (the HSM's when ``settings`` says so)."""
    ctx = build_context(Settings(mode=Mode.DEVELOPMENT, data_dir=data, database_url=None, **(settings or {})))
    try:
        with ctx.sessions() as db:
            item = db.get(Item, item_id)
            assert item is not None
            return content.body_of(db, information_deps(ctx), item, actor=None, now=START)
    finally:
        ctx.engine.dispose()


def _tags(data: Path) -> list[str]:
    engine = sa.create_engine(f"sqlite:///{data / 'banso.db'}")
    with engine.connect() as conn:
        tags = list(conn.scalars(sa.select(AuditEntry.tag).where(AuditEntry.tag.like("sealed:key:%"))
                                 .order_by(AuditEntry.seq)))
    engine.dispose()
    return tags


def test_status_and_rotate_on_key_files(folder: tuple[Path, int, int]) -> None:
    data, council, item = folder
    shown = banso(["keys", "status"], data)
    assert shown.returncode == 0, shown.stderr
    assert f"council:{council}" in shown.stdout and "v1: 1" in shown.stdout and "key store: file" in shown.stdout
    rotated = banso(["keys", "rotate", "--council", str(council), "--grace-seconds", "0"], data)
    assert rotated.returncode == 0, rotated.stderr
    assert f"council:{council}: v1 → v2; re-wrapped 1 data keys; destroyed v1" in rotated.stdout
    keys_dir = data / "keys" / "councils"
    assert sorted(p.name for p in keys_dir.iterdir()) == [f"council-{council}-v1.retired",
                                                          f"council-{council}-v2.key"]
    assert _body(data, item) == BODY
    assert _tags(data) == ["sealed:key:rotate", "sealed:key:retire"]
    everything = banso(["keys", "rotate", "--all", "--grace-seconds", "0"], data)
    assert everything.returncode == 0, everything.stderr
    assert f"council:{council}: v2 → v3" in everything.stdout


@pytest.mark.parametrize("args", [["keys", "rotate"], ["keys", "rotate", "--council", "999"],
                                  ["keys", "migrate", "--to", "file"], ["keys", "migrate", "--to", "pkcs11"],
                                  ["keys", "destroy", "--council", "1", "--confirm", "council:2"],
                                  ["keys", "destroy", "--council", "999", "--confirm", "council:999"],
                                  ["keys", "destroy", "--confirm", "council:1"]])
def test_bad_requests_are_refused_with_a_reason(folder: tuple[Path, int, int], args: list[str]) -> None:
    refused = banso(args, folder[0])
    assert refused.returncode == 1 and "error:" in refused.stderr and "Traceback" not in refused.stderr


def test_destroy_shreds_the_key_and_records_it(folder: tuple[Path, int, int]) -> None:
    data, council, item = folder
    destroyed = banso(["keys", "destroy", "--council", str(council), "--confirm", f"council:{council}"], data)
    assert destroyed.returncode == 0, destroyed.stderr
    assert f"council:{council}: key destroyed" in destroyed.stdout
    assert sorted(p.name for p in (data / "keys" / "councils").iterdir()) == [f"council-{council}.revoked"]
    engine = sa.create_engine(f"sqlite:///{data / 'banso.db'}")
    with engine.connect() as conn:
        assert list(conn.scalars(sa.select(AuditEntry.subject).where(AuditEntry.tag == "keys:council:destroyed"))) \
            == [f"council:{council}"]
    engine.dispose()
    with pytest.raises(Exception, match="destroyed"):
        _body(data, item)


def test_migrate_moves_the_key_files_into_the_hsm(folder: tuple[Path, int, int], softhsm: SoftHsm,
                                                  hsm_prefix: str) -> None:
    data, council, item = folder
    hsm = softhsm.settings_env(hsm_prefix)
    moved = banso(["keys", "migrate", "--to", "pkcs11", "--remove-files"], data, extra_env=hsm)
    assert moved.returncode == 0, moved.stderr
    assert "council: imported 1 keys, 0 tombstones; removed 1 key files" in moved.stdout
    assert "proposal: imported 0 keys" in moved.stdout  # the third key store is moved too (none sealed here)
    assert not (data / "keys" / "councils" / f"council-{council}.key").exists()
    settings = softhsm.settings(Settings(data_dir=data), hsm_prefix)
    assert _body(data, item, {k: getattr(settings, k) for k in (
        "key_store", "pkcs11_library", "pkcs11_token_label", "pkcs11_pin", "pkcs11_label_prefix")}) == BODY
    # Rotation works the same in the HSM, run by another process.
    rotated = banso(["keys", "rotate", "--council", str(council), "--grace-seconds", "0"], data, extra_env=hsm)
    assert rotated.returncode == 0, rotated.stderr
    assert "v1 → v2" in rotated.stdout
    status = banso(["keys", "status", "--council", str(council)], data, extra_env=hsm)
    assert "key store: pkcs11" in status.stdout and "v2: 1" in status.stdout
    store = softhsm.store(hsm_prefix, data / "keys" / "pkcs11.lock")
    assert isinstance(store, Pkcs11KeyStore) and store.versions(council) == [2]
    # One migrate entry per key folder: councils, commissions and (issue 15) proposals' research-plan documents.
    assert _tags(data) == ["sealed:key:migrate"] * 3 + ["sealed:key:rotate", "sealed:key:retire"]
