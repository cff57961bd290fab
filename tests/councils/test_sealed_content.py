"""Issue 11: council content other than items is sealed at rest, stamped per recipient, recorded and
audited (I8, I11, I12), and a material request's answer reaches only its parties (C6).

Everything runs through the real app (TestClient), the real file and key stores under the test's
data folder, and the migrated database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.config import Settings
from banso.councils import service
from banso.councils.models import MaterialFile
from banso.information import distribution
from banso.kit.clock import FakeClock
from banso.leak.pdf import make_sample_pdf
from banso.leak.text import strip_marks
from banso.sealed.models import SealedDistribution
from banso.web.context import AppContext
from tests.support.councils import Cast, establish
from tests.support.factories import Factory, Person, audit_count
from tests.support.hsm import settings_by_store
from tests.support.http import bearer

ANSWER = ("海洋無人機の試験海域の利用状況を次のとおり報告する。\n\n"
          "第一に、相模湾の試験海域は来年度上期の利用枠が既に埋まっている。\n\n"
          "第二に、駿河湾の試験海域は調整次第で利用可能である。\n\n"
          "第三に、調整窓口は事務局が一元的に担う。\n")
SECRET_NAME = "機微な回答資料.txt"
SECRET_TITLE = "試験海域の利用状況（機微）"


@pytest.fixture(params=["file", "pkcs11"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Issue 17: every test here runs with council keys in files and in an HSM (SoftHSM2)."""
    return settings_by_store(request, tmp_path)


@dataclass
class Scene:
    """An active council: officer (secretariat) asked the company (addressee) for material; others around."""

    cast: Cast
    bystander: Person  # pledged member, neither requester, addressee nor manager
    unpledged: Person  # member without a pledge
    former: Person  # pledged, then left
    request_id: int
    file_id: int

    @property
    def base(self) -> str:
        """Return the API path of the request."""
        return f"/api/v1/councils/{self.cast.council.id}/requests/{self.request_id}"


def _member(db: Session, cast: Cast, clock: FakeClock, person: Person, *, pledge: bool) -> None:
    cid = cast.council.id
    service.invite(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(), user_id=person.user.id,
                   role="member", deadline=clock.now() + timedelta(days=7))
    service.consent(db, council_id=cid, actor=person.principal(), now=clock.now(), decision="consent")
    if pledge:
        service.sign_pledge(db, council_id=cid, actor=person.principal(), now=clock.now(), bylaws_version=1)


@pytest.fixture
def scene(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> Scene:
    """Answer a request over HTTP so the file goes through the real stores under the data folder."""
    cast = establish(factory, db, clock)
    bystander, unpledged, former = factory.person(), factory.person(), factory.person()
    _member(db, cast, clock, bystander, pledge=True)
    _member(db, cast, clock, unpledged, pledge=False)
    _member(db, cast, clock, former, pledge=True)
    req = service.create_request(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                                 title=SECRET_TITLE, body="提供を求める", matter="useful_information",
                                 addressee_kind="participant", addressee_id=cast.company.user.id,
                                 due_at=clock.now() + timedelta(days=7))
    db.commit()
    answered = client.post(f"/api/v1/councils/{cast.council.id}/requests/{req.id}/answer",
                           headers=bearer(db, cast.company, clock), data={"text": "別添のとおり"},
                           files=[("files", (SECRET_NAME, ANSWER.encode(), "text/plain"))])
    assert answered.status_code == 200, answered.text
    service.leave(db, council_id=cast.council.id, actor=former.principal(), now=clock.now())
    db.commit()
    return Scene(cast=cast, bystander=bystander, unpledged=unpledged, former=former, request_id=req.id,
                 file_id=answered.json()["files"][0]["id"])


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_answer_file_is_not_stored_in_plaintext(scene: Scene, db: Session, ctx: AppContext) -> None:
    """I11: no file under the data folder holds the answer's bytes; the row points at a sealed blob."""
    paragraph = "相模湾の試験海域".encode()
    assert _files_containing(ctx.data_dir, paragraph) == []
    row = db.get(MaterialFile, scene.file_id)
    assert row is not None and row.blob is not None and row.wrapped_key
    blob = ctx.data_dir / "information" / "blobs" / row.blob[:2] / row.blob
    assert blob.is_file() and paragraph not in blob.read_bytes()


def test_two_recipients_get_different_copies_each_attributed_to_them(scene: Scene, client: TestClient,
                                                                      db: Session, clock: FakeClock) -> None:
    """I8: the requester and the addressee get different bytes; a leaked copy names its recipient."""
    url = f"{scene.base}/files/{scene.file_id}"
    copies = {}
    for person in (scene.cast.officer, scene.cast.company):
        got = client.get(url, headers=bearer(db, person, clock))
        assert got.status_code == 200
        copies[person.user.id] = got.content
    assert len(set(copies.values())) == 2
    assert all(strip_marks(c.decode()) == ANSWER for c in copies.values())
    for user_id, data in copies.items():
        excerpt = data.decode().split("\n\n")[1].encode()  # one paragraph is enough
        finding = distribution.attribute(db, data=excerpt, now=clock.now())
        assert finding.user_id == user_id
        assert finding.sealed is not None and finding.sealed.kind == "material_file"
        assert finding.sealed.object_id == scene.file_id


@pytest.mark.parametrize("who", ["bystander", "unpledged", "former", "outsider"])
def test_answer_files_are_404_outside_the_answers_parties(scene: Scene, client: TestClient, db: Session,
                                                         clock: FakeClock, who: str) -> None:
    """C6, I7: a pledged member who is not a party, an unpledged member, an ex-member, an outsider: 404."""
    person = scene.cast.outsider if who == "outsider" else getattr(scene, who)
    headers = bearer(db, person, clock)
    got = client.get(f"{scene.base}/files/{scene.file_id}", headers=headers)
    assert got.status_code == 404 and got.json()["error"] == "not_found"
    assert db.scalar(select(SealedDistribution.id).where(SealedDistribution.user_id == person.user.id)) is None


def test_a_pledged_bystander_sees_the_request_but_not_the_answer(scene: Scene, client: TestClient, db: Session,
                                                                 clock: FakeClock) -> None:
    """C6: the request is council content; its answer and files belong to requester, addressee, managers."""
    mine = client.get(scene.base, headers=bearer(db, scene.bystander, clock)).json()
    assert mine["request"]["answer_text"] is None and mine["files"] == []
    listed = client.get(f"/api/v1/councils/{scene.cast.council.id}/requests",
                        headers=bearer(db, scene.bystander, clock)).json()
    assert [r["answer_text"] for r in listed] == [None]
    chair = client.get(scene.base, headers=bearer(db, scene.cast.researcher, clock)).json()
    assert chair["request"]["answer_text"] == "別添のとおり" and chair["files"][0]["id"] == scene.file_id


def test_every_download_is_recorded_and_audited_by_id(scene: Scene, client: TestClient, db: Session,
                                                      clock: FakeClock) -> None:
    """I8, A1: one distribution row and one audit entry per copy; the log names ids, never the file or title."""
    url = f"{scene.base}/files/{scene.file_id}"
    for person in (scene.cast.officer, scene.cast.officer, scene.cast.researcher):
        assert client.get(url, headers=bearer(db, person, clock)).status_code == 200
    rows = db.scalars(select(SealedDistribution).order_by(SealedDistribution.id)).all()
    assert [(r.kind, r.object_id, r.user_id, r.channel) for r in rows] == [
        ("material_file", scene.file_id, scene.cast.officer.user.id, "text"),
        ("material_file", scene.file_id, scene.cast.officer.user.id, "text"),
        ("material_file", scene.file_id, scene.cast.researcher.user.id, "text")]
    entries = db.scalars(select(AuditEntry).where(AuditEntry.tag == "council:file:download")).all()
    assert sorted(e.data["distribution_id"] for e in entries) == [r.id for r in rows]
    everything = json.dumps([e.data for e in db.scalars(select(AuditEntry))], ensure_ascii=False)
    assert SECRET_NAME not in everything and SECRET_TITLE not in everything


def test_a_pdf_answer_is_stamped_for_each_recipient(client: TestClient, db: Session, factory: Factory,
                                                    clock: FakeClock) -> None:
    """I8: PDFs get the same stamp as item files; each copy is attributed to its recipient."""
    cast = establish(factory, db, clock)
    req = service.create_request(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                                 title="報告", body="提供を求める", matter="useful_information",
                                 addressee_kind="participant", addressee_id=cast.company.user.id,
                                 due_at=clock.now() + timedelta(days=7))
    db.commit()
    pdf = make_sample_pdf("試験海域の報告", ["相模湾は埋まっている。", "駿河湾は調整次第。"])
    base = f"/api/v1/councils/{cast.council.id}/requests/{req.id}"
    answered = client.post(f"{base}/answer", headers=bearer(db, cast.company, clock), data={"text": "別添"},
                           files=[("files", ("report.pdf", pdf, "application/pdf"))])
    file_id = answered.json()["files"][0]["id"]
    for person in (cast.officer, cast.researcher):
        copy = client.get(f"{base}/files/{file_id}", headers=bearer(db, person, clock)).content
        assert copy.startswith(b"%PDF") and copy != pdf
        finding = distribution.attribute(db, data=copy, filename="report.pdf", now=clock.now())
        assert finding.user_id == person.user.id and finding.sealed is not None


def test_a_tampered_answer_file_is_refused_and_the_refusal_audited(scene: Scene, client: TestClient, db: Session,
                                                                   clock: FakeClock, ctx: AppContext) -> None:
    """I11: a changed ciphertext fails authentication: 422, audited, no copy handed out."""
    row = db.get(MaterialFile, scene.file_id)
    assert row is not None and row.blob is not None
    blob = ctx.data_dir / "information" / "blobs" / row.blob[:2] / row.blob
    damaged = bytearray(blob.read_bytes())
    damaged[-1] ^= 0x01
    blob.write_bytes(bytes(damaged))
    got = client.get(f"{scene.base}/files/{scene.file_id}", headers=bearer(db, scene.cast.officer, clock))
    assert got.status_code == 422 and got.json()["error"] == "integrity_failed"
    assert audit_count(db, "council:integrity:failed") == 1
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "council:integrity:failed")).one()
    assert entry.data["file_id"] == scene.file_id and entry.actor_id == scene.cast.officer.user.id
    assert db.scalar(select(SealedDistribution.id)) is None


def test_minutes_and_decisions_are_sealed_and_their_reads_audited(client: TestClient, db: Session,
                                                                  factory: Factory, clock: FakeClock) -> None:
    """I11, I12, I8: minutes and decision texts are not in the database in plaintext; reads are audited."""
    cast = establish(factory, db, clock)
    cid = cast.council.id
    meeting = service.schedule_meeting(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                                       title="第1回", starts_at=clock.now() + timedelta(days=1))
    db.commit()
    h_off, h_com = bearer(db, cast.officer, clock), bearer(db, cast.company, clock)
    minutes, decision = "議事録: 試験海域の共用を確認した。", "駿河湾の試験海域の共用調整を開始する。"
    assert client.put(f"/api/v1/councils/{cid}/meetings/{meeting.id}/minutes", headers=h_off,
                      json={"text": minutes}).status_code == 200
    made = client.post(f"/api/v1/councils/{cid}/decisions", headers=h_off, json={
        "text": decision, "matter": "effective_promotion", "adoption": "consensus", "meeting_id": meeting.id})
    assert made.status_code == 201 and made.json()["text"] == decision
    stored = db.execute(text("SELECT minutes_sealed FROM council_meetings WHERE id = :i"), {"i": meeting.id}).scalar()
    stored_decision = db.execute(text("SELECT text_sealed FROM council_decisions WHERE id = :i"),
                                 {"i": made.json()["id"]}).scalar()
    assert minutes.encode() not in bytes(stored) and decision.encode() not in bytes(stored_decision)
    reads = audit_count(db, "council:decision:read")
    assert [d["text"] for d in client.get(f"/api/v1/councils/{cid}/decisions", headers=h_com).json()] == [decision]
    assert audit_count(db, "council:decision:read") == reads + 1
    page = client.get(f"/api/v1/councils/{cid}/meetings/{meeting.id}", headers=h_com).json()
    assert page["meeting"]["minutes_text"] == minutes and [d["text"] for d in page["decisions"]] == [decision]
    # A changed ciphertext is refused, and the refusal is on record.
    damaged = bytearray(bytes(stored_decision))
    damaged[-1] ^= 0x01
    db.execute(text("UPDATE council_decisions SET text_sealed = :v WHERE id = :i"),
               {"v": bytes(damaged), "i": made.json()["id"]})
    db.commit()
    refused = client.get(f"/api/v1/councils/{cid}/decisions", headers=h_com)
    assert refused.status_code == 422 and audit_count(db, "council:integrity:failed") == 1
