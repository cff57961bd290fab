"""Issue 11: indicators imported from MISP/STIX are sealed with the item's own data key (I11), opened
only after the gate allowed the read (I12), and a damaged seal is refused and audited (A1).

Imports and exports go through the real app (TestClient) on the migrated database with the app's
real key store; the row is read back with plain SQL to see what lies at rest.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.kit.clock import FakeClock
from tests.information.test_interchange import export, import_doc
from tests.support.councils import Cast, establish
from tests.support.factories import Factory, audit_count

SECRET_DOMAIN = "kuroshio-relay.example"
SECRET_IP = "198.51.100.77"
SECRET_COMMENT = "sonar telemetry exfiltration relay"


def _event(tlp: str, distribution: str) -> dict[str, Any]:
    return {"Event": {
        "uuid": "0b7e4d2c-1a3f-4c5e-8d9b-7f6e5d4c3b2a", "info": "Relay infrastructure", "distribution": distribution,
        "Tag": [{"name": tlp}],
        "Attribute": [{"type": "domain", "value": SECRET_DOMAIN, "comment": SECRET_COMMENT},
                      {"type": "ip-dst", "value": SECRET_IP, "comment": ""}]}}


def _import(client: TestClient, db: Session, clock: FakeClock, cast: Cast, tlp: str = "tlp:amber",
            distribution: str = "3") -> int:
    made = import_doc(client, db, clock, cast, cast.company, _event(tlp, distribution))
    assert made.status_code == 201, made.text
    item_id: int = made.json()["id"]
    return item_id


def _row(db: Session, item_id: int) -> dict[str, Any]:
    return dict(db.execute(sa.text("SELECT * FROM info_items WHERE id = :i"), {"i": item_id}).mappings().one())


@pytest.fixture
def cast(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """Return an active council whose founders pledged (committed, so the app sees it)."""
    made = establish(factory, db, clock)
    db.commit()
    return made


@pytest.mark.parametrize(("tlp", "distribution"), [("tlp:amber", "3"), ("tlp:clear", "3")])
def test_the_item_row_holds_no_indicator_in_plaintext(client: TestClient, db: Session, clock: FakeClock,
                                                      cast: Cast, tlp: str, distribution: str) -> None:
    """I11: council-shared and public items alike keep their indicators sealed; no plaintext column is left."""
    item_id = _import(client, db, clock, cast, tlp, distribution)
    row = _row(db, item_id)
    assert "indicators" not in row and row["indicators_sealed"] is not None
    at_rest = repr(row)
    for secret in (SECRET_DOMAIN, SECRET_IP, SECRET_COMMENT):
        assert secret not in at_rest and secret.encode() not in bytes(row["indicators_sealed"])


@pytest.mark.parametrize(("tlp", "distribution"), [("tlp:amber", "3"), ("tlp:clear", "3")])
def test_exports_still_carry_the_indicators(client: TestClient, db: Session, clock: FakeClock, cast: Cast,
                                            tlp: str, distribution: str) -> None:
    """The export opens the sealed indicators after the gate: MISP attributes and STIX objects carry them.

    An AMBER import is held for its provider (a designation proposal), a CLEAR one is public.
    """
    item_id = _import(client, db, clock, cast, tlp, distribution)
    assert "indicators" not in _row(db, item_id)  # so what goes out can only come from the seal
    misp = export(client, db, clock, cast.company, item_id, "misp")
    assert misp.status_code == 200, misp.text
    attributes = {(a["type"], a["value"], a.get("comment", "")) for a in misp.json()["Event"]["Attribute"]}
    assert {("domain", SECRET_DOMAIN, SECRET_COMMENT), ("ip-dst", SECRET_IP, "")} <= attributes
    stix = export(client, db, clock, cast.company, item_id, "stix")
    assert stix.status_code == 200 and SECRET_DOMAIN in stix.text and SECRET_IP in stix.text


def test_an_item_without_indicators_has_nothing_sealed(client: TestClient, db: Session, clock: FakeClock,
                                                       cast: Cast) -> None:
    """An item with no imported indicators keeps NULL and exports no attribute."""
    made = import_doc(client, db, clock, cast, cast.company, {"Event": {
        "uuid": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "info": "Narrative only", "distribution": "1",
        "Tag": [{"name": "tlp:amber"}], "EventReport": [{"name": "r", "content": "本文のみ"}]}})
    assert made.status_code == 201, made.text
    assert _row(db, made.json()["id"])["indicators_sealed"] is None
    misp = export(client, db, clock, cast.company, made.json()["id"], "misp")
    assert misp.status_code == 200 and misp.json()["Event"]["Attribute"] == []


def test_tampered_indicators_are_refused_and_the_refusal_audited(client: TestClient, db: Session,
                                                                 clock: FakeClock, cast: Cast) -> None:
    """I11, A1: a changed ciphertext fails authentication: 422, audited, nothing exported."""
    item_id = _import(client, db, clock, cast)
    damaged = bytearray(_row(db, item_id)["indicators_sealed"])
    damaged[-1] ^= 0x01
    db.execute(sa.text("UPDATE info_items SET indicators_sealed = :v WHERE id = :i"),
               {"v": bytes(damaged), "i": item_id})
    db.commit()
    exports_before = audit_count(db, "information:item:export")
    got = export(client, db, clock, cast.company, item_id, "misp")
    assert got.status_code == 422 and got.json()["error"] == "integrity_failed" and SECRET_DOMAIN not in got.text
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "information:integrity:failed")).one()
    assert entry.subject == f"item:{item_id}" and entry.data["what"] == "indicators"
    assert audit_count(db, "information:item:export") == exports_before


def test_sealed_indicators_copied_onto_another_item_do_not_open(client: TestClient, db: Session,
                                                                clock: FakeClock, cast: Cast) -> None:
    """I11: the associated data names the item, so indicators moved to another row are refused."""
    first, second = _import(client, db, clock, cast), _import(client, db, clock, cast)
    db.execute(sa.text("UPDATE info_items SET indicators_sealed = :v WHERE id = :i"),
               {"v": bytes(_row(db, first)["indicators_sealed"]), "i": second})
    db.commit()
    got = export(client, db, clock, cast.company, second, "misp")
    assert got.status_code == 422 and audit_count(db, "information:integrity:failed") == 1


def test_the_key_is_not_used_before_the_gate_said_yes(client: TestClient, db: Session, clock: FakeClock,
                                                      cast: Cast) -> None:
    """I11, I12: a reader the gate refuses (the held item is not theirs) never reaches the seal."""
    item_id = _import(client, db, clock, cast)  # AMBER: held for the provider while the council votes
    db.execute(sa.text("UPDATE info_items SET indicators_sealed = :v WHERE id = :i"), {"v": b"broken", "i": item_id})
    db.commit()
    got = export(client, db, clock, cast.researcher, item_id, "misp")
    assert got.status_code == 404 and audit_count(db, "information:integrity:failed") == 0
