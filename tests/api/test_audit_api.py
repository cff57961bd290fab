"""HTTP tests of the audit API (A2, A3): a witness fetches checkpoints and checks proofs itself."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.audit import merkle
from banso.kit.clock import FakeClock
from tests.support.factories import Factory
from tests.support.http import bearer


def test_witness_checks_checkpoints_and_proofs(client: TestClient, db: Session, factory: Factory,
                                              clock: FakeClock) -> None:
    admin = factory.person(roles=("admin",))
    headers = bearer(db, admin, clock)
    first = client.post("/api/v1/audit/checkpoints", headers=headers)
    assert first.status_code == 201, first.text
    old = first.json()
    factory.person()  # more activity grows the log
    db.commit()
    clock.advance(seconds=5)
    new = client.post("/api/v1/audit/checkpoints", headers=headers).json()
    assert new["tree_size"] > old["tree_size"]
    assert client.get("/api/v1/audit/checkpoints/latest", headers=headers).json()["tree_size"] == new["tree_size"]

    # the signature verifies with the published key, over the exact note
    key = client.get("/api/v1/audit/public-key", headers=headers).json()
    public = load_pem_public_key(key["public_key_pem"].encode())
    public.verify(base64.b64decode(new["signature"]), new["note"].encode())  # type: ignore[union-attr]
    assert key["key_id"] == new["key_id"]

    # consistency between the two checkpoints, checked with the pure verifier
    cons = client.get("/api/v1/audit/consistency", headers=headers,
                      params={"first": old["tree_size"], "second": new["tree_size"]}).json()
    assert cons["first_root"] == old["root_hex"] and cons["second_root"] == new["root_hex"]
    assert merkle.verify_consistency(old["tree_size"], new["tree_size"], bytes.fromhex(old["root_hex"]),
                                     bytes.fromhex(new["root_hex"]), [bytes.fromhex(h) for h in cons["proof"]])

    # inclusion of every listed entry in the latest checkpoint
    entries = client.get("/api/v1/audit/entries", headers=headers, params={"limit": 500}).json()
    assert entries and entries[0]["seq"] > entries[-1]["seq"]  # newest first
    for entry in entries:
        if entry["seq"] >= new["tree_size"]:
            continue
        proof = client.get(f"/api/v1/audit/entries/{entry['seq']}/proof", headers=headers).json()
        assert proof["tree_size"] == new["tree_size"] and proof["root"] == new["root_hex"]
        assert merkle.verify_inclusion(base64.b64decode(entry["leaf"]), entry["seq"], proof["tree_size"],
                                       [bytes.fromhex(h) for h in proof["proof"]], bytes.fromhex(proof["root"]))


def test_non_auditors_list_only_their_own_entries(client: TestClient, db: Session, factory: Factory,
                                                  clock: FakeClock) -> None:
    person = factory.person()
    factory.person()
    entries = client.get("/api/v1/audit/entries", headers=bearer(db, person, clock)).json()
    assert entries, "the person's own token issue and enrolment should be listed"
    assert {e["actor_id"] for e in entries} == {person.user.id}


def test_bad_proof_requests(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    admin = factory.person(roles=("admin",))
    headers = bearer(db, admin, clock)
    assert client.get("/api/v1/audit/consistency", headers=headers,
                      params={"first": 5, "second": 10_000_000}).status_code == 422
    assert client.get("/api/v1/audit/consistency", headers=headers,
                      params={"first": 0, "second": 1}).status_code == 422
    assert client.get("/api/v1/audit/entries/0/proof", headers=headers,
                      params={"tree_size": 10_000_000}).status_code == 422
    assert client.get("/api/v1/audit/entries/99999999", headers=headers).status_code == 404
    researcher = factory.person()
    denied = client.post("/api/v1/audit/checkpoints", headers=bearer(db, researcher, clock))
    assert denied.status_code == 403
