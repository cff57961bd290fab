"""Issue 11: a material request's answer text is sealed at rest under the council's key (I11, I12) and
opened only for the answer's parties (C6), after the access decision; a damaged seal is refused and
the refusal audited (A1).

Everything runs through the real app (TestClient), the real key store under the test's data folder
and the migrated database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.config import Settings
from banso.councils import service
from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from tests.councils.test_sealed_content import _member
from tests.support.councils import Cast, establish
from tests.support.factories import Factory, Person, audit_count
from tests.support.hsm import settings_by_store
from tests.support.http import bearer, sign_in

ANSWER = "駿河湾の試験海域は来年度下期に空きがあり、調整窓口は事務局が担う。"
NEEDLE = "駿河湾の試験海域".encode()


@pytest.fixture(params=["file", "pkcs11"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Issue 17: every test here runs with council keys in files and in an HSM (SoftHSM2)."""
    return settings_by_store(request, tmp_path)


@dataclass
class Answered:
    """An active council where the company (addressee) answered the officer's (requester) request."""

    cast: Cast
    bystander: Person  # pledged member, neither requester, addressee nor manager
    request_id: int

    @property
    def base(self) -> str:
        """Return the API path of the request."""
        return f"/api/v1/councils/{self.cast.council.id}/requests/{self.request_id}"

    @property
    def page(self) -> str:
        """Return the page of the request."""
        return f"/councils/{self.cast.council.id}/requests/{self.request_id}"


@pytest.fixture
def answered(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> Answered:
    """Answer a request over the API, so the text goes through the app's real sealed store."""
    cast = establish(factory, db, clock)
    bystander = factory.person()
    _member(db, cast, clock, bystander, pledge=True)
    req = service.create_request(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                                 title="試験海域の利用状況", body="提供を求める", matter="useful_information",
                                 addressee_kind="participant", addressee_id=cast.company.user.id,
                                 due_at=clock.now() + timedelta(days=7))
    db.commit()
    got = client.post(f"/api/v1/councils/{cast.council.id}/requests/{req.id}/answer",
                      headers=bearer(db, cast.company, clock), data={"text": ANSWER})
    assert got.status_code == 200, got.text
    assert got.json()["request"]["answer_text"] == ANSWER  # the answerer sees what they gave
    return Answered(cast=cast, bystander=bystander, request_id=req.id)


def _stored(db: Session, request_id: int) -> bytes:
    value = db.execute(sa.text("SELECT answer_sealed FROM council_material_requests WHERE id = :i"),
                       {"i": request_id}).scalar_one()
    return bytes(value)


def _damage(db: Session, request_id: int) -> None:
    damaged = bytearray(_stored(db, request_id))
    damaged[-1] ^= 0x01
    db.execute(sa.text("UPDATE council_material_requests SET answer_sealed = :v WHERE id = :i"),
               {"v": bytes(damaged), "i": request_id})
    db.commit()


def test_the_stored_answer_is_not_the_plaintext(answered: Answered, db: Session) -> None:
    """I11: the row keeps a sealed value, no plaintext column is left, nothing of the text is readable."""
    stored = _stored(db, answered.request_id)
    assert stored.startswith(b"BST1") and NEEDLE not in stored and ANSWER.encode() not in stored
    columns = {c["name"] for c in sa.inspect(db.connection()).get_columns("council_material_requests")}
    assert "answer_text" not in columns


@pytest.mark.parametrize("who", ["officer", "company", "researcher"])
def test_requester_addressee_and_chair_read_the_answer(answered: Answered, client: TestClient, db: Session,
                                                       clock: FakeClock, who: str) -> None:
    """C6: the requester (officer), the addressee (company) and the chair read it; each read is audited."""
    person = getattr(answered.cast, who)
    headers = bearer(db, person, clock)
    assert client.get(answered.base, headers=headers).json()["request"]["answer_text"] == ANSWER
    listed = client.get(f"/api/v1/councils/{answered.cast.council.id}/requests", headers=headers).json()
    assert [r["answer_text"] for r in listed] == [ANSWER]
    reads = db.scalars(select(AuditEntry).where(AuditEntry.tag == "council:request:read",
                                                AuditEntry.actor_id == person.user.id)).all()
    assert [e.data for e in reads] == [{"request_id": answered.request_id, "answer": True},
                                       {"request_ids": [answered.request_id], "answer": True}]


def test_the_request_page_shows_the_opened_answer(answered: Answered, client: TestClient, db: Session,
                                                  ctx: AppContext) -> None:
    """The page opens the sealed text for a party (and offers to file it, C6) as it did the plaintext."""
    assert NEEDLE not in _stored(db, answered.request_id)  # what the page shows can only come from the seal
    sign_in(client, db, answered.cast.company, ctx)
    page = client.get(answered.page).text
    assert 'id="answer-text"' in page and "駿河湾の試験海域" in page and 'id="file-answer-form"' in page


def test_a_pledged_bystander_never_gets_the_answer_nor_its_key(answered: Answered, client: TestClient,
                                                               db: Session, clock: FakeClock,
                                                               ctx: AppContext) -> None:
    """C6, I11: outside the parties the seal is never opened — even a damaged one is not noticed."""
    _damage(db, answered.request_id)
    headers = bearer(db, answered.bystander, clock)
    got = client.get(answered.base, headers=headers)
    assert got.status_code == 200 and got.json()["request"]["answer_text"] is None
    listed = client.get(f"/api/v1/councils/{answered.cast.council.id}/requests", headers=headers)
    assert listed.status_code == 200 and [r["answer_text"] for r in listed.json()] == [None]
    sign_in(client, db, answered.bystander, ctx)
    page = client.get(answered.page)
    assert page.status_code == 200 and "駿河湾の試験海域" not in page.text
    assert audit_count(db, "council:integrity:failed") == 0  # the key was never used for them


@pytest.mark.parametrize("way", ["detail", "list"])
def test_a_tampered_answer_is_refused_and_the_refusal_audited(answered: Answered, client: TestClient,
                                                              db: Session, clock: FakeClock, way: str) -> None:
    """I11, A1: a changed ciphertext fails authentication: 422 for a party, audited with the request id."""
    _damage(db, answered.request_id)
    url = answered.base if way == "detail" else f"/api/v1/councils/{answered.cast.council.id}/requests"
    got = client.get(url, headers=bearer(db, answered.cast.officer, clock))
    assert got.status_code == 422 and got.json()["error"] == "integrity_failed"
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "council:integrity:failed")).one()
    assert entry.data["request_id"] == answered.request_id and entry.actor_id == answered.cast.officer.user.id
    assert ANSWER not in str(entry.data)


def test_a_sealed_answer_copied_onto_another_request_does_not_open(answered: Answered, client: TestClient,
                                                                   db: Session, clock: FakeClock) -> None:
    """I11: the associated data names the request, so a sealed answer moved to another row is refused."""
    other = service.create_request(db, council_id=answered.cast.council.id, actor=answered.cast.officer.principal(),
                                   now=clock.now(), title="別件", body="提供を求める", matter="useful_information",
                                   addressee_kind="participant", addressee_id=answered.cast.company.user.id,
                                   due_at=clock.now() + timedelta(days=7))
    db.execute(sa.text("UPDATE council_material_requests SET answer_sealed = :v, status = 'answered' "
                       "WHERE id = :i"), {"v": _stored(db, answered.request_id), "i": other.id})
    db.commit()
    got = client.get(f"/api/v1/councils/{answered.cast.council.id}/requests/{other.id}",
                     headers=bearer(db, answered.cast.officer, clock))
    assert got.status_code == 422 and audit_count(db, "council:integrity:failed") == 1
