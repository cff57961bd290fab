"""Issue 17: ``banso keys rotate`` — a new key version, every wrapped data key of the council (or
commission) re-wrapped, the old version destroyed after the commit, audited; with key files and
with keys in an HSM (SoftHSM2). I11, O2.

A council here holds one of everything sealed under its key: an item with a file, a material
request's answer text and answer file, minutes and a decision; the commission a deliverable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.app import keys
from banso.audit.models import AuditEntry
from banso.config import Settings
from banso.councils import service as councils
from banso.information.models import Item
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict
from banso.leak.pdf import make_sample_pdf
from banso.leak.text import strip_marks
from banso.programme import commissions as cm
from banso.sealed import crypto
from banso.sealed.crypto import KeyUnavailable
from banso.sealed.store import sealed_deps
from banso.web.context import AppContext
from tests.support.factories import Factory
from tests.support.hsm import settings_by_store
from tests.support.http import bearer
from tests.support.information import API, item_form
from tests.support.programme import Scene

PDF = make_sample_pdf("回転前の報告", ["鍵を回しても読める。"])
ANSWER = "試験海域の利用状況を回答する。"
MINUTES = "第1回会合の議事録。"
DECISION = "方針を確認した。"
COUNCIL_COLUMNS = {"info_items.wrapped_key", "council_material_files.wrapped_key",
                   "council_material_requests.answer_sealed", "council_meetings.minutes_sealed",
                   "council_decisions.text_sealed"}


@pytest.fixture(params=["file", "pkcs11"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Return test settings with council keys in files, then in the session's SoftHSM2 token."""
    return settings_by_store(request, tmp_path)


@dataclass
class Sealed:
    """A council and a commission with one of everything sealed."""

    scene: Scene
    item_id: int
    file_id: int
    request_id: int
    answer_file_id: int
    meeting_id: int

    @property
    def council(self) -> keys.Scope:
        """Return the council's scope."""
        return keys.Scope("council", self.scene.council.council.id)


@pytest.fixture
def sealed(client: TestClient, ctx: AppContext, db: Session, factory: Factory, clock: FakeClock) -> Sealed:
    """Seal one of everything under the council's key (over HTTP and through the services)."""
    scene = Scene(db, factory, clock, ctx)
    cast, officer, store = scene.council, scene.council.officer.principal(), sealed_deps(ctx)
    made = client.post(f"{API}/items", headers=bearer(db, cast.company, clock), data=item_form(cast, clock),
                       files=[("files", ("報告.pdf", PDF, "application/pdf"))])
    assert made.status_code == 201, made.text
    item = client.get(f"{API}/items/{made.json()['id']}", headers=bearer(db, cast.researcher, clock)).json()
    req = councils.create_request(db, council_id=cast.council.id, actor=officer, now=clock.now(), title="利用状況",
                                  body="提供を求める", matter="useful_information", addressee_kind="participant",
                                  addressee_id=cast.company.user.id, due_at=clock.now() + timedelta(days=7))
    answered = councils.answer_request(db, council_id=cast.council.id, request_id=req.id,
                                       actor=cast.company.principal(), now=clock.now(), text=ANSWER, store=store,
                                       files=[councils.UploadedFile("回答.txt", "text/plain", ANSWER.encode())])
    meeting = councils.schedule_meeting(db, council_id=cast.council.id, actor=officer, now=clock.now(),
                                        title="第1回", starts_at=clock.now() + timedelta(days=1))
    councils.draft_minutes(db, council_id=cast.council.id, meeting_id=meeting.id, actor=officer, now=clock.now(),
                           text=MINUTES, store=store)
    councils.record_decision(db, council_id=cast.council.id, actor=officer, now=clock.now(), text=DECISION,
                             matter="useful_information", adoption="consensus", store=store)
    db.commit()
    return Sealed(scene, item["item"]["id"], item["files"][0]["id"], req.id, answered.files[0].id, meeting.id)


def _everything_opens(client: TestClient, ctx: AppContext, db: Session, clock: FakeClock, s: Sealed) -> None:
    db.expire_all()  # the rotation re-wrapped rows in sessions of its own
    cast, store = s.scene.council, sealed_deps(ctx)
    h_res = bearer(db, cast.researcher, clock)
    copy = client.get(f"{API}/items/{s.item_id}/files/{s.file_id}", headers=h_res)
    assert copy.status_code == 200 and copy.content.startswith(b"%PDF"), copy.text
    assert client.get(f"{API}/items/{s.item_id}", headers=h_res).json()["body"]
    officer, cid = cast.officer.principal(), cast.council.id
    view = councils.get_request(db, council_id=cid, request_id=s.request_id, actor=officer, now=clock.now(),
                                store=store)
    assert view.answer_text == ANSWER
    got = councils.read_file(db, council_id=cid, request_id=s.request_id, file_id=s.answer_file_id, actor=officer,
                             now=clock.now(), store=store)
    assert ANSWER in strip_marks(got.data.decode())
    meeting = councils.get_meeting(db, council_id=cid, meeting_id=s.meeting_id, actor=officer, now=clock.now(),
                                   store=store)
    assert meeting.minutes_text == MINUTES
    decisions = councils.list_decisions(db, council_id=cid, actor=officer, now=clock.now(), store=store)
    assert [d.text for d in decisions] == [DECISION]
    deliverable = cm.download_deliverable(db, commission_id=s.scene.commission.id,
                                          deliverable_id=s.scene.deliverable.id, now=clock.now(),
                                          actor=s.scene.analyst.principal(), store=store)
    assert "各国の動向（中間）" in strip_marks(deliverable.data.decode())


def _audited(db: Session, tag: str) -> list[AuditEntry]:
    db.expire_all()
    return list(db.scalars(sa.select(AuditEntry).where(AuditEntry.tag == tag).order_by(AuditEntry.seq)))


def test_rotation_rewraps_every_data_key_and_destroys_the_old_version(
        client: TestClient, ctx: AppContext, db: Session, clock: FakeClock, sealed: Sealed) -> None:
    scope = sealed.council
    before = keys.status(ctx, scope)
    assert before.held == [1] and set(before.in_use) == {1} and before.in_use[1] == 5
    old_wrapped = bytes(db.scalar(sa.select(Item.wrapped_key).where(Item.id == sealed.item_id)) or b"")

    done = keys.rotate(ctx, scope, grace_seconds=0)

    assert (done.before, done.version, done.retired, done.unreadable) == ([1], 2, [1], [])
    assert set(done.rewrapped) == COUNCIL_COLUMNS and sum(done.rewrapped.values()) == 5
    after = keys.status(ctx, scope)
    assert after.held == [2] and after.in_use == {2: 5}
    # The old version is gone: a copy of a row taken before the rotation no longer opens (I11).
    with pytest.raises(KeyUnavailable, match="retired"):
        keys.key_store(ctx, "council").unwrap(scope.id, old_wrapped)
    _everything_opens(client, ctx, db, clock, sealed)
    rotated, retired = _audited(db, "sealed:key:rotate"), _audited(db, "sealed:key:retire")
    assert [e.subject for e in rotated] == [scope.subject] and rotated[0].data["to"] == 2
    assert [(e.subject, e.data["versions"]) for e in retired] == [(scope.subject, [1])]
    assert retired[0].seq > rotated[0].seq  # recorded after the re-wrap committed, before the destruction


def test_rotating_twice_and_the_commission(client: TestClient, ctx: AppContext, db: Session, clock: FakeClock,
                                           sealed: Sealed) -> None:
    keys.rotate(ctx, sealed.council, grace_seconds=0)
    again = keys.rotate(ctx, sealed.council, grace_seconds=0)
    assert (again.before, again.version, again.retired) == ([2], 3, [2])
    commission = keys.Scope("commission", sealed.scene.commission.id)
    done = keys.rotate(ctx, commission, grace_seconds=0)
    assert done.rewrapped == {"programme_commission_deliverables.wrapped_key": 1} and done.retired == [1]
    assert keys.status(ctx, commission).in_use == {2: 1}
    _everything_opens(client, ctx, db, clock, sealed)


def test_a_damaged_row_keeps_the_old_version(client: TestClient, ctx: AppContext, db: Session, clock: FakeClock,
                                             sealed: Sealed) -> None:
    damaged = bytearray(db.scalar(sa.select(Item.wrapped_key).where(Item.id == sealed.item_id)) or b"")
    damaged[-1] ^= 1
    db.execute(sa.update(Item).where(Item.id == sealed.item_id).values(wrapped_key=bytes(damaged)))
    db.commit()
    with pytest.raises(Conflict, match="old key versions kept"):
        keys.rotate(ctx, sealed.council, grace_seconds=0)
    # Everything else moved to version 2, and version 1 still exists for the one row that needs it.
    assert keys.status(ctx, sealed.council).in_use == {1: 1, 2: 4}
    assert keys.key_store(ctx, "council").versions(sealed.council.id) == [1, 2]
    assert _audited(db, "sealed:key:retire") == []


def test_a_revoked_council_has_nothing_to_rotate_and_stays_refused(ctx: AppContext, db: Session,
                                                                   sealed: Sealed) -> None:
    store = keys.key_store(ctx, "council")
    wrapped = bytes(db.scalar(sa.select(Item.wrapped_key).where(Item.id == sealed.item_id)) or b"")
    store.revoke(sealed.council.id)
    done = keys.rotate(ctx, sealed.council, grace_seconds=0)
    assert done.version is None and done.rewrapped == {}
    with pytest.raises(KeyUnavailable, match="destroyed"):
        store.unwrap(sealed.council.id, wrapped)
    with pytest.raises(KeyUnavailable):
        store.add_version(sealed.council.id)
    assert keys.status(ctx, sealed.council).held == []


def test_a_legacy_wrapped_key_is_rotated_too(ctx: AppContext, db: Session, sealed: Sealed) -> None:
    # Data keys wrapped before key versions (format 1) are version 1: rotation re-wraps them in format 2.
    store, cid = keys.key_store(ctx, "council"), sealed.council.id
    data_key = store.unwrap(cid, bytes(db.scalar(sa.select(Item.wrapped_key).where(Item.id == sealed.item_id))
                                       or b""))
    if isinstance(store, crypto.LocalKeyFileStore):
        legacy = crypto.seal(data_key, data_key=store.read_key(cid, 1), aad=f"banso-kek:council:{cid}".encode())
        db.execute(sa.update(Item).where(Item.id == sealed.item_id).values(wrapped_key=legacy))
        db.commit()
    keys.rotate(ctx, sealed.council, grace_seconds=0)
    rewrapped = bytes(db.scalar(sa.select(Item.wrapped_key).where(Item.id == sealed.item_id)) or b"")
    assert rewrapped[0] == crypto.WRAP_VERSION and store.unwrap(cid, rewrapped) == data_key


def test_destroying_a_key_is_recorded_first_and_every_version_goes(ctx: AppContext, db: Session,
                                                                    sealed: Sealed) -> None:
    """``banso keys destroy``: the audit entry a restore honours (O2), then no version of the key is left (I11)."""
    keys.rotate(ctx, sealed.council, grace_seconds=0)
    store = keys.key_store(ctx, "council")
    wrapped = bytes(db.scalar(sa.select(Item.wrapped_key).where(Item.id == sealed.item_id)) or b"")
    keys.destroy(ctx, sealed.council)
    with pytest.raises(KeyUnavailable, match="destroyed"):
        store.unwrap(sealed.council.id, wrapped)
    assert store.versions(sealed.council.id) == []
    db.expire_all()
    recorded = _audited(db, "keys:council:destroyed")
    assert [(e.subject, e.data) for e in recorded] == [(sealed.council.subject,
                                                        {"scope": "council", "id": sealed.council.id})]
    with pytest.raises(KeyUnavailable):  # the id never gets a fresh key
        store.add_version(sealed.council.id)
