"""Issue 17, "Keys in an HSM": council keys as PKCS#11 objects in a real token (SoftHSM2), O2, I11.

The key-store contract itself (wrap, unwrap, revoke, wrong council, tampering) runs against this
store too, in tests/information/test_crypto.py; here is what only an HSM has: attributes of the key
objects, tombstones seen by other processes, creation races between processes, sessions shared by
threads, an unreachable token, and the whole app wired to the HSM over HTTP.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from fastapi.testclient import TestClient
from pkcs11 import Attribute, ObjectClass
from pydantic import SecretStr, ValidationError
from sqlalchemy.orm import Session

from banso.app.wiring import domain_collaborators
from banso.config import Settings
from banso.information.deps import information_deps
from banso.kit.clock import FakeClock
from banso.leak.pdf import make_sample_pdf
from banso.sealed import crypto
from banso.sealed.crypto import KeyStoreUnavailable, KeyUnavailable, LocalKeyFileStore, new_data_key
from banso.sealed.pkcs11 import Pkcs11KeyStore, Pkcs11Token
from banso.sealed.store import sealed_deps
from banso.web.context import AppContext
from tests.support.app import make_settings
from tests.support.councils import establish
from tests.support.factories import Factory, audit_count
from tests.support.hsm import SoftHsm
from tests.support.http import bearer
from tests.support.information import API, item_form

PDF = make_sample_pdf("HSM 鍵の評価報告", ["鍵は HSM の外に出ない。", "試験の結果。"])


@pytest.fixture
def store(softhsm: SoftHsm, hsm_prefix: str, looking: Any, tmp_path: Path) -> Pkcs11KeyStore:
    """Return a council key store on the session's token, with labels of this test's own."""
    return softhsm.store(hsm_prefix, tmp_path / "pkcs11.lock")


@pytest.fixture
def settings(tmp_path: Path, softhsm: SoftHsm, hsm_prefix: str) -> Settings:
    """Return test settings with BANSO_KEY_STORE=pkcs11 on the session's token (the app fixtures use these)."""
    return softhsm.settings(make_settings(tmp_path), hsm_prefix)


@pytest.fixture
def looking(softhsm: SoftHsm, tmp_path: Path) -> Iterator[Any]:
    """Yield a session of our own on the token (it joins this process's login), closed after the test."""
    softhsm.store("login", tmp_path / "login.lock").versions(0)  # logs this process in: keys are private
    token = pkcs11.lib(softhsm.library).get_token(token_label=softhsm.token_label)
    session = token.open(rw=True)
    yield session
    session.close()


def _objects(session: Any, **attrs: Any) -> list[Any]:
    """Return the token's objects matching ``attrs`` (keyword ``class_`` for CKA_CLASS) as label → object rows."""
    template = {getattr(Attribute, k.rstrip("_").upper()): v for k, v in attrs.items()}
    return [{"label": o[Attribute.LABEL], "obj": o} for o in session.get_objects(template)]


def _run(hsm: SoftHsm, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Python ``code`` in a new process that sees the test token."""
    return subprocess.run([sys.executable, "-c", code, *args], env=hsm.env(), capture_output=True, text=True,
                          timeout=120, check=False)


# A process of its own: a fresh library initialisation, login and session pool.
_CHILD = """
import sys
from banso.sealed.pkcs11 import Pkcs11KeyStore, Pkcs11Token
from banso.sealed.crypto import KeyUnavailable
library, label, pin, prefix, lock, action, council = sys.argv[1:8]
store = Pkcs11KeyStore(Pkcs11Token(library=library, token_label=label, pin=pin), label_prefix=prefix, lock_path=lock)
if action == "wrap":
    import os, time
    store.versions(int(council))  # open the token now: the race is about creating the key
    start = float(sys.argv[8])
    while time.time() < start:
        time.sleep(0.001)
    key = os.urandom(32)
    print(key.hex(), store.wrap(int(council), key).hex())
elif action == "revoke":
    store.revoke(int(council))
    print("revoked")
elif action == "unwrap":
    try:
        print(store.unwrap(int(council), bytes.fromhex(sys.argv[8])).hex())
    except KeyUnavailable as exc:
        print("refused:", exc.message)
"""


def _child(hsm: SoftHsm, prefix: str, lock: Path, action: str, council: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", _CHILD, hsm.library, hsm.token_label, hsm.pin, prefix, str(lock),
                             action, str(council), *extra], env=hsm.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_council_keys_are_sensitive_token_objects_that_never_leave(store: Pkcs11KeyStore, looking: Any,
                                                                  hsm_prefix: str) -> None:
    store.wrap(7, new_data_key())
    [found] = _objects(looking, label=f"{hsm_prefix}-council-7", class_=ObjectClass.SECRET_KEY)
    key = found["obj"]
    assert key[Attribute.TOKEN] is True and key[Attribute.SENSITIVE] is True
    assert key[Attribute.EXTRACTABLE] is False
    assert key[Attribute.ALWAYS_SENSITIVE] is True and key[Attribute.NEVER_EXTRACTABLE] is True  # born inside
    assert key[Attribute.ID] == f"{hsm_prefix}-council-7".encode()
    assert key.key_length == 256
    with pytest.raises(pkcs11.exceptions.AttributeSensitive):
        key[Attribute.VALUE]  # reading the key is the point
    # Nothing to write to disk either: no key file beside the data.
    assert not (store.lock_path.parent / "councils").exists()


def test_wrapped_keys_have_the_file_store_format(store: Pkcs11KeyStore, tmp_path: Path) -> None:
    # A key imported from the file store (banso keys migrate) opens what the file store wrapped, and back.
    files = LocalKeyFileStore(tmp_path / "keys")
    data_key = new_data_key()
    by_file = files.wrap(3, data_key)
    store.import_key(3, 1, files.read_key(3, 1))
    assert store.unwrap(3, by_file) == data_key
    by_hsm = store.wrap(3, data_key)
    assert by_hsm[0] == crypto.WRAP_VERSION and crypto.kek_version_of(by_hsm) == 1
    assert files.unwrap(3, by_hsm) == data_key
    # A data key wrapped before key versions existed (format 1, the key of version 1) still opens.
    legacy = crypto.seal(data_key, data_key=files.read_key(3, 1), aad=b"banso-kek:council:3")
    assert legacy[0] == 1 and crypto.kek_version_of(legacy) == 1
    assert store.unwrap(3, legacy) == data_key and files.unwrap(3, legacy) == data_key


def test_an_imported_key_is_not_extractable(store: Pkcs11KeyStore, looking: Any, hsm_prefix: str) -> None:
    store.import_key(4, 1, new_data_key())
    [found] = _objects(looking, label=f"{hsm_prefix}-council-4")
    assert found["obj"][Attribute.SENSITIVE] is True and found["obj"][Attribute.EXTRACTABLE] is False
    store.import_key(4, 1, new_data_key())  # a rerun of an interrupted migration imports nothing twice
    assert len(_objects(looking, label=f"{hsm_prefix}-council-4")) == 1


def test_a_revoked_key_stays_revoked_in_a_new_process(store: Pkcs11KeyStore, softhsm: SoftHsm, looking: Any,
                                                      hsm_prefix: str, tmp_path: Path) -> None:
    data_key = new_data_key()
    wrapped = store.wrap(5, data_key)
    store.add_version(5)
    store.revoke(5)
    assert _objects(looking, id=f"{hsm_prefix}-council-5".encode()) == []  # every version destroyed
    assert [o["label"] for o in _objects(looking, class_=ObjectClass.DATA)
            if o["label"].startswith(hsm_prefix)] == [f"{hsm_prefix}-council-5.revoked"]
    child = _child(softhsm, hsm_prefix, tmp_path / "pkcs11.lock", "unwrap", 5, wrapped.hex())
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert out.startswith("refused: The key of council 5 has been destroyed")
    # ... and wrapping never creates a fresh key for the id, here or there.
    with pytest.raises(KeyUnavailable):
        store.wrap(5, data_key)
    assert store.versions(5) == []


def test_a_key_revoked_by_another_process_is_refused_here_at_once(store: Pkcs11KeyStore, softhsm: SoftHsm,
                                                                 hsm_prefix: str, tmp_path: Path) -> None:
    # This process remembers the key objects it found (searching is slow); the other process's
    # destruction must still count from the very next call.
    data_key = new_data_key()
    wrapped = store.wrap(6, data_key)
    assert store.unwrap(6, wrapped) == data_key
    child = _child(softhsm, hsm_prefix, tmp_path / "pkcs11.lock", "revoke", 6)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0 and out.strip() == "revoked", err
    with pytest.raises(KeyUnavailable, match="destroyed"):
        store.unwrap(6, wrapped)
    with pytest.raises(KeyUnavailable, match="destroyed"):
        store.wrap(6, data_key)


def test_two_processes_racing_to_create_a_key_end_with_one(softhsm: SoftHsm, hsm_prefix: str, looking: Any,
                                                          tmp_path: Path) -> None:
    import time

    start = str(time.time() + 3.0)  # every child is initialised and waiting by then
    children = [_child(softhsm, hsm_prefix, tmp_path / "pkcs11.lock", "wrap", 11, start) for _ in range(4)]
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        results.append(tuple(bytes.fromhex(x) for x in out.split()))
    assert [o["label"] for o in _objects(looking, id=f"{hsm_prefix}-council-11".encode())] == \
        [f"{hsm_prefix}-council-11"]
    store = softhsm.store(hsm_prefix, tmp_path / "pkcs11.lock")
    for data_key, wrapped in results:
        assert store.unwrap(11, wrapped) == data_key


def test_a_duplicate_key_from_an_unshared_lock_does_no_harm(softhsm: SoftHsm, hsm_prefix: str, looking: Any,
                                                           tmp_path: Path) -> None:
    # Two hosts on one network HSM do not share the lock file: both may create version 1.
    one = softhsm.store(hsm_prefix, tmp_path / "a.lock")
    first = new_data_key()
    wrapped = one.wrap(12, first)
    token = pkcs11.lib(softhsm.library).get_token(token_label=softhsm.token_label)
    with token.open(rw=True) as session:
        one._generate(session, 12, 1)  # the other host's key of the same label
    assert len(_objects(looking, id=f"{hsm_prefix}-council-12".encode())) == 2
    second = new_data_key()
    other = softhsm.store(hsm_prefix, tmp_path / "b.lock").wrap(12, second)
    assert one.unwrap(12, wrapped) == first and one.unwrap(12, other) == second


def test_threads_call_the_token_one_at_a_time(store: Pkcs11KeyStore) -> None:
    # SoftHSM2, initialised without locking callbacks, crashed (SIGSEGV) here before the library lock.
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(25):
                data_key = new_data_key()
                assert store.unwrap(20 + i % 2, store.wrap(20 + i % 2, data_key)) == data_key
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.versions(20) == [1] and store.versions(21) == [1]


def test_rotation_in_the_token(store: Pkcs11KeyStore) -> None:
    data_key = new_data_key()
    old = store.wrap(30, data_key)
    assert store.add_version(30) == 2 and store.versions(30) == [1, 2]
    new = store.wrap(30, data_key)
    assert crypto.kek_version_of(new) == 2 and store.unwrap(30, old) == data_key
    with pytest.raises(ValueError):
        store.retire_version(30, 2)  # never the newest
    store.retire_version(30, 1)
    with pytest.raises(KeyUnavailable, match="retired"):
        store.unwrap(30, old)
    assert store.unwrap(30, new) == data_key and store.versions(30) == [2]
    # Version 2 may not be relabelled as version 1: the version is in the associated data.
    forged = bytes([crypto.WRAP_VERSION]) + (1).to_bytes(4, "big") + new[5:]
    store.import_key(30, 1, new_data_key())
    with pytest.raises(crypto.TamperedCiphertext):
        store.unwrap(30, forged)


def test_an_unreachable_token_is_a_503_not_a_500(softhsm: SoftHsm, tmp_path: Path) -> None:
    wrong_label = Pkcs11KeyStore(Pkcs11Token(library=softhsm.library, token_label="no-such-token", pin=softhsm.pin),
                                 lock_path=tmp_path / "l")
    with pytest.raises(KeyStoreUnavailable, match="no PKCS#11 token") as refused:
        wrong_label.wrap(1, new_data_key())
    assert refused.value.status_code == 503
    with pytest.raises(KeyStoreUnavailable, match="no PKCS#11 token"):
        wrong_label.ping()  # what /readyz asks
    no_library = Pkcs11KeyStore(Pkcs11Token(library=str(tmp_path / "missing.so"), token_label="x", pin="1"),
                                lock_path=tmp_path / "l")
    with pytest.raises(KeyStoreUnavailable):
        no_library.wrap(1, new_data_key())


def test_ping_draws_from_the_token(store: Pkcs11KeyStore) -> None:
    store.ping()  # /readyz asks this (O4); the token away: test_an_unreachable_token_is_a_503_not_a_500


def test_pkcs11_settings_must_be_complete(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="BANSO_PKCS11_TOKEN_LABEL, BANSO_PKCS11_PIN"):
        Settings(data_dir=tmp_path, key_store="pkcs11", pkcs11_library="/x.so")
    ok = Settings(data_dir=tmp_path, key_store="pkcs11", pkcs11_library="/x.so", pkcs11_token_label="t",
                  pkcs11_pin=SecretStr("1"))
    assert "1" not in repr(ok.pkcs11_pin)
    assert Settings(data_dir=tmp_path).key_store == "file"  # the embedded default stays


def test_the_app_wired_to_the_hsm_shares_and_serves_a_file(client: TestClient, ctx: AppContext, db: Session,
                                                           factory: Factory, clock: FakeClock, looking: Any,
                                                           hsm_prefix: str) -> None:
    assert isinstance(information_deps(ctx).keys, Pkcs11KeyStore)
    assert isinstance(sealed_deps(ctx).commission_keys, Pkcs11KeyStore)
    cast = establish(factory, db, clock)
    db.commit()
    made = client.post(f"{API}/items", headers=bearer(db, cast.company, clock), data=item_form(cast, clock),
                       files=[("files", ("鍵の評価.pdf", PDF, "application/pdf"))])
    assert made.status_code == 201, made.text
    h_res = bearer(db, cast.researcher, clock)
    item = client.get(f"{API}/items/{made.json()['id']}", headers=h_res).json()
    copy = client.get(f"{API}/items/{item['item']['id']}/files/{item['files'][0]['id']}", headers=h_res)
    assert copy.status_code == 200, copy.text
    assert copy.content.startswith(b"%PDF") and copy.content != PDF  # stamped for the researcher (I8)
    # The council key is in the token, and no key file was written beside the data.
    assert _objects(looking, label=f"{hsm_prefix}-council-{cast.council.id}") != []
    assert not (ctx.settings.data_dir / "keys" / "councils").exists()
    db.expire_all()
    assert audit_count(db, "information:file:download") == 1


def test_an_unreachable_hsm_answers_503_with_a_reason(client: TestClient, ctx: AppContext, db: Session,
                                                      factory: Factory, clock: FakeClock) -> None:
    # The token's label is wrong (as if the HSM were away): the upload is refused, not a 500.
    ctx.collaborators = domain_collaborators(ctx.settings.model_copy(update={"pkcs11_token_label": "no-such-token"}))
    cast = establish(factory, db, clock)
    db.commit()
    refused = client.post(f"{API}/items", headers=bearer(db, cast.company, clock), data=item_form(cast, clock),
                          files=[("files", ("鍵の評価.pdf", PDF, "application/pdf"))])
    assert refused.status_code == 503, refused.text
    assert "no PKCS#11 token" in refused.text
