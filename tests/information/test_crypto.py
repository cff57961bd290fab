"""I11: envelope encryption — sealed blobs, per-council key stores, revocation."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banso.kit.errors import BansoError
from banso.sealed.crypto import (
    SEAL_VERSION,
    FakeKeyStore,
    KeyStore,
    KeyUnavailable,
    LocalKeyFileStore,
    TamperedCiphertext,
    new_data_key,
    open_sealed,
    seal,
)
from tests.support.hsm import SoftHsm

AAD = b"banso:item:42:file:7"


def test_data_key_is_256_bit_and_fresh() -> None:
    keys = {new_data_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(k) == 32 for k in keys)


def test_round_trip() -> None:
    key = new_data_key()
    blob = seal("極秘の議事録".encode(), data_key=key, aad=AAD)
    assert blob[0] == SEAL_VERSION
    assert len(blob) == 1 + 12 + len("極秘の議事録".encode()) + 16
    assert open_sealed(blob, data_key=key, aad=AAD) == "極秘の議事録".encode()


def test_same_plaintext_gives_different_blobs() -> None:
    key = new_data_key()
    assert seal(b"x", data_key=key, aad=AAD) != seal(b"x", data_key=key, aad=AAD)


def test_every_tampered_byte_is_detected() -> None:
    key = new_data_key()
    blob = seal(b"minutes of the third council meeting", data_key=key, aad=AAD)
    for i in range(len(blob)):
        damaged = bytearray(blob)
        damaged[i] ^= 0x01
        with pytest.raises(TamperedCiphertext):
            open_sealed(bytes(damaged), data_key=key, aad=AAD)


@pytest.mark.parametrize("cut", [0, 1, 12, 13, 28])
def test_short_blob_is_tampered(cut: int) -> None:
    key = new_data_key()
    blob = seal(b"", data_key=key, aad=AAD)
    assert len(blob) == 29
    with pytest.raises(TamperedCiphertext):
        open_sealed(blob[:cut], data_key=key, aad=AAD)


def test_wrong_aad_and_wrong_key_fail() -> None:
    key = new_data_key()
    blob = seal(b"content", data_key=key, aad=AAD)
    with pytest.raises(TamperedCiphertext):
        open_sealed(blob, data_key=key, aad=b"banso:item:43:file:7")
    with pytest.raises(TamperedCiphertext):
        open_sealed(blob, data_key=new_data_key(), aad=AAD)


def test_errors_are_domain_errors() -> None:
    assert issubclass(TamperedCiphertext, BansoError)
    assert TamperedCiphertext.status_code == 422
    assert TamperedCiphertext.code == "integrity_failed"
    assert issubclass(KeyUnavailable, BansoError)


def test_bad_key_length_is_rejected() -> None:
    with pytest.raises(ValueError):
        seal(b"x", data_key=b"short", aad=AAD)


@settings(max_examples=60, deadline=None)
@given(plaintext=st.binary(max_size=2048), aad=st.binary(max_size=64))
def test_round_trip_property(plaintext: bytes, aad: bytes) -> None:
    key = new_data_key()
    assert open_sealed(seal(plaintext, data_key=key, aad=aad), data_key=key, aad=aad) == plaintext


# --- key stores: the same behaviour for the file store and the fake -------------------------------


@pytest.fixture(params=["file", "fake", "pkcs11"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> KeyStore:
    if request.param == "file":
        return LocalKeyFileStore(tmp_path / "keys")
    if request.param == "pkcs11":  # issue 17: the same contract for keys in an HSM (SoftHSM2)
        hsm: SoftHsm = request.getfixturevalue("softhsm")
        return hsm.store(request.getfixturevalue("hsm_prefix"), tmp_path / "pkcs11.lock")
    return FakeKeyStore()


def test_wrap_unwrap_round_trip(store: KeyStore) -> None:
    data_key = new_data_key()
    wrapped = store.wrap(1, data_key)
    assert wrapped != data_key and data_key not in wrapped
    assert store.unwrap(1, wrapped) == data_key
    # The council key is created once and reused.
    other = new_data_key()
    assert store.unwrap(1, store.wrap(1, other)) == other
    assert store.unwrap(1, wrapped) == data_key


def test_envelope_end_to_end(store: KeyStore) -> None:
    data_key = new_data_key()
    blob = seal(b"file body", data_key=data_key, aad=AAD)
    wrapped = store.wrap(5, data_key)
    assert open_sealed(blob, data_key=store.unwrap(5, wrapped), aad=AAD) == b"file body"


def test_wrong_council_fails(store: KeyStore) -> None:
    wrapped = store.wrap(1, new_data_key())
    store.wrap(2, new_data_key())  # council 2 has its own key
    with pytest.raises(TamperedCiphertext):
        store.unwrap(2, wrapped)


def test_unknown_council_is_unavailable(store: KeyStore) -> None:
    wrapped = store.wrap(1, new_data_key())
    with pytest.raises(KeyUnavailable):
        store.unwrap(99, wrapped)


def test_tampered_wrapped_key_fails(store: KeyStore) -> None:
    wrapped = bytearray(store.wrap(1, new_data_key()))
    wrapped[-1] ^= 0x80
    with pytest.raises(TamperedCiphertext):
        store.unwrap(1, bytes(wrapped))


def test_revoke_stops_unwrap_for_good(store: KeyStore) -> None:
    wrapped = store.wrap(3, new_data_key())
    kept = store.wrap(4, new_data_key())
    store.revoke(3)
    with pytest.raises(KeyUnavailable):
        store.unwrap(3, wrapped)
    # A revoked council never silently gets a fresh key.
    with pytest.raises(KeyUnavailable):
        store.wrap(3, new_data_key())
    store.revoke(3)  # idempotent
    assert len(store.unwrap(4, kept)) == 32


def test_rejects_bad_council_id(store: KeyStore) -> None:
    with pytest.raises((ValueError, TypeError)):
        store.wrap(-1, new_data_key())
    with pytest.raises((ValueError, TypeError)):
        store.wrap("1/../x", new_data_key())  # type: ignore[arg-type]


# --- the file store ------------------------------------------------------------------------------


def test_key_file_and_directory_modes(tmp_path: Path) -> None:
    root = tmp_path / "keys"
    store = LocalKeyFileStore(root)
    store.wrap(7, new_data_key())
    key_file = root / "council-7.key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert len(key_file.read_bytes()) == 32
    # No temporary files are left behind.
    assert sorted(p.name for p in root.iterdir()) == ["council-7.key"]


def test_existing_directory_is_tightened(tmp_path: Path) -> None:
    root = tmp_path / "keys"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    LocalKeyFileStore(root)
    assert stat.S_IMODE(root.stat().st_mode) == 0o700


def test_key_survives_a_new_store_instance(tmp_path: Path) -> None:
    data_key = new_data_key()
    wrapped = LocalKeyFileStore(tmp_path).wrap(1, data_key)
    assert LocalKeyFileStore(tmp_path).unwrap(1, wrapped) == data_key


def test_missing_key_file_is_unavailable(tmp_path: Path) -> None:
    store = LocalKeyFileStore(tmp_path)
    wrapped = store.wrap(1, new_data_key())
    (tmp_path / "council-1.key").unlink()
    with pytest.raises(KeyUnavailable):
        store.unwrap(1, wrapped)


def test_revoke_removes_the_key_file(tmp_path: Path) -> None:
    store = LocalKeyFileStore(tmp_path)
    store.wrap(1, new_data_key())
    store.revoke(1)
    assert not (tmp_path / "council-1.key").exists()
    # Another process (a new instance) also refuses.
    with pytest.raises(KeyUnavailable):
        LocalKeyFileStore(tmp_path).wrap(1, new_data_key())


def test_damaged_key_file_is_unavailable(tmp_path: Path) -> None:
    store = LocalKeyFileStore(tmp_path)
    wrapped = store.wrap(1, new_data_key())
    (tmp_path / "council-1.key").write_bytes(b"short")
    with pytest.raises(KeyUnavailable):
        store.unwrap(1, wrapped)


def test_concurrent_creation_ends_with_one_key(tmp_path: Path) -> None:
    # Several store instances stand in for several processes; each also has several threads.
    stores = [LocalKeyFileStore(tmp_path) for _ in range(4)]
    barrier = threading.Barrier(16)
    results: list[tuple[bytes, bytes]] = []
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            data_key = new_data_key()
            barrier.wait()
            results.append((data_key, stores[i % 4].wrap(11, data_key)))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 16
    assert sorted(p.name for p in tmp_path.iterdir()) == ["council-11.key"]
    # Every wrapped key, from every thread, opens with the one surviving council key.
    fresh = LocalKeyFileStore(tmp_path)
    for data_key, wrapped in results:
        assert fresh.unwrap(11, wrapped) == data_key


def test_fake_store_reports_keys() -> None:
    store = FakeKeyStore()
    assert not store.has_key(1)
    store.wrap(1, new_data_key())
    assert store.has_key(1)
    store.revoke(1)
    assert not store.has_key(1)
