"""A boolean that is a legal act (consent after reading the bylaws, a conflict declaration, a confirmation) is
JSON ``true`` or ``false`` on the API, never a string or a number coerced into one (outside finding, issue 14:
``"read_bylaws": "yes"`` consented). The refusal is a 422 in the reader's language, naming the field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.councils.models import Consent
from banso.kit.clock import FakeClock
from banso.programme.models import ConflictDeclaration
from tests.support.councils import propose
from tests.support.factories import Factory, count_rows
from tests.support.http import bearer
from tests.support.programme import build_world, submit

LOOSE = ["yes", "true", "on", "1", 1, "True"]


@pytest.mark.parametrize("value", LOOSE)
def test_consent_needs_json_true_for_read_bylaws(client: TestClient, db: Session, factory: Factory,
                                                 clock: FakeClock, value: object) -> None:
    cast = propose(factory, db, clock)
    db.commit()
    url = f"/api/v1/councils/{cast.council.id}/consent"
    headers = {**bearer(db, cast.company, clock), "Accept-Language": "ja"}
    refused = client.post(url, json={"decision": "consent", "read_bylaws": value}, headers=headers)
    assert refused.status_code == 422, refused.text
    assert "「はい」か「いいえ」" in refused.json()["detail"]
    db.expire_all()
    assert [c.decision for c in db.query(Consent).filter_by(council_id=cast.council.id,
                                                            user_id=cast.company.user.id)] == ["pending"]
    ok = client.post(url, json={"decision": "consent", "read_bylaws": True}, headers=headers)
    assert ok.status_code == 200 and ok.json()["decision"] == "consented"


@pytest.mark.parametrize("value", ["no", "false", 0, "0"])
def test_conflict_declaration_needs_a_json_boolean(client: TestClient, db: Session, factory: Factory,
                                                   clock: FakeClock, value: object) -> None:
    w = build_world(db, factory, clock)
    proposal = submit(db, w, clock)
    db.commit()
    url = f"/api/v1/programme/proposals/{proposal.id}/conflict"
    headers = bearer(db, w.reviewer, clock)
    before = count_rows(db, ConflictDeclaration)
    assert client.post(url, headers=headers, json={"has_conflict": value}).status_code == 422
    assert count_rows(db, ConflictDeclaration) == before
    assert client.post(url, headers=headers, json={"has_conflict": False}).status_code == 201
