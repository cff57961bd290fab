"""Uploads kept across a refused submit (issue 14), over HTTP.

A form with a file field that is refused for another field keeps the files that passed the upload checks:
sealed at rest, bound to the person and the form, single-use and short-lived (``banso.sealed.pending``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.app.jobs import run_due
from banso.audit.models import AuditEntry
from banso.audit.tags import AuditTag
from banso.councils import service as councils
from banso.councils.models import MaterialFile, MeetingMaterial
from banso.information.deps import information_deps
from banso.information.models import ExclusionClaim, Item, ItemFile
from banso.kit.clock import FakeClock
from banso.leak.pdf import make_sample_pdf
from banso.programme import tank_requests
from banso.programme.models import CommissionDeliverable, PlanDocument
from banso.sealed.pending import KEEP_MINUTES
from banso.web.context import AppContext
from tests.councils.test_secrecy_scope import _h, _meeting, _statement
from tests.support.councils import Cast, active_council
from tests.support.factories import Factory, Person, count_rows
from tests.support.http import alert_text, sign_in
from tests.support.information import provide_item
from tests.support.programme import Scene, build_world, fund, submit

PDF = make_sample_pdf("評価報告", ["水中航法の誤差は 0.3%。機微な数値 4242。"])
NAME = "評価報告.pdf"
FIELDS = {"summary": "評価の概要", "body": "本文", "matter": "useful_information", "category": "sampling_data",
          "provenance": "participant"}
KEPT = re.compile(r'name="kept" value="([^"]+)"')


@pytest.fixture
def active(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council (officer secretariat, researcher chair, company member, all pledged)."""
    return active_council(factory, db, clock)


def _pending_dir(ctx: AppContext) -> Path:
    return ctx.settings.data_dir / "pending"


def _refused_with_file(client: TestClient, csrf: str, council_id: int) -> str:
    """Submit the item form with a good PDF and no title; return the kept file's token from the refused page."""
    refused = client.post(f"/councils/{council_id}/information", data={"csrf_token": csrf, "title": "", **FIELDS},
                          files=[("files", (NAME, PDF, "application/pdf"))])
    assert refused.status_code == 422, refused.text[:500]
    assert "件名" in alert_text(refused.text)
    assert f"添付済み：{NAME}（" in refused.text and "このファイルを外す" in refused.text
    assert 'value="評価の概要"' in refused.text or "評価の概要" in refused.text  # the other fields are kept too
    tokens = KEPT.findall(refused.text)
    assert len(tokens) == 1
    return str(tokens[0])


def _resubmit(client: TestClient, csrf: str, council_id: int, token: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post(f"/councils/{council_id}/information",
                       data={"csrf_token": csrf, "title": "AUV 航法評価", **FIELDS, "kept": token, **extra},
                       follow_redirects=False)


def test_item_form_keeps_the_file_across_a_refused_submit(client: TestClient, db: Session, active: Cast,
                                                           ctx: AppContext) -> None:
    cid = active.council.id
    csrf = sign_in(client, db, active.company, ctx)
    token = _refused_with_file(client, csrf, cid)
    assert count_rows(db, Item) == 0
    # I11: the kept file is sealed at rest — neither its bytes nor its name are on disk in plaintext
    stored = [p.read_bytes() for p in _pending_dir(ctx).iterdir()]
    assert len(stored) == 1
    assert b"4242" not in stored[0] and b"%PDF" not in stored[0] and NAME.encode() not in stored[0]
    assert token.encode() not in stored[0]

    made = _resubmit(client, csrf, cid, token)
    assert made.status_code == 303, made.text[:500]
    item_id = int(made.headers["location"].split("/")[3].split("?")[0])
    files = db.scalars(select(ItemFile).where(ItemFile.item_id == item_id)).all()
    assert [(f.filename, f.size, f.sha256) for f in files] == [(NAME, len(PDF), hashlib.sha256(PDF).hexdigest())]
    assert list(_pending_dir(ctx).iterdir()) == []  # taken: deleted

    again = _resubmit(client, csrf, cid, token)  # single use
    assert again.status_code == 422 and "添付済みのファイルは使えません" in alert_text(again.text)
    assert count_rows(db, Item) == 1


def test_removing_the_kept_file_submits_without_it(client: TestClient, db: Session, active: Cast,
                                                   ctx: AppContext) -> None:
    cid = active.council.id
    csrf = sign_in(client, db, active.company, ctx)
    token = _refused_with_file(client, csrf, cid)
    made = _resubmit(client, csrf, cid, token, drop=token)
    assert made.status_code == 303
    assert count_rows(db, ItemFile) == 0 and list(_pending_dir(ctx).iterdir()) == []


def test_another_persons_token_is_refused(client: TestClient, db: Session, active: Cast, ctx: AppContext) -> None:
    cid = active.council.id
    token = _refused_with_file(client, sign_in(client, db, active.company, ctx), cid)
    csrf = sign_in(client, db, active.researcher, ctx)  # a member who may provide items to the same form
    stolen = _resubmit(client, csrf, cid, token)
    assert stolen.status_code == 422 and "添付済みのファイルは使えません" in alert_text(stolen.text)
    assert count_rows(db, Item) == 0
    # the owner can still use it: a refused stranger does not consume it
    csrf = sign_in(client, db, active.company, ctx)
    assert _resubmit(client, csrf, cid, token).status_code == 303
    assert count_rows(db, ItemFile) == 1


def test_a_token_is_bound_to_its_form(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                                      active: Cast, ctx: AppContext) -> None:
    other = active_council(factory, db, clock)
    csrf = sign_in(client, db, active.company, ctx)
    token = _refused_with_file(client, csrf, active.council.id)
    csrf = sign_in(client, db, other.company, ctx)
    moved = _resubmit(client, csrf, other.council.id, token)
    assert moved.status_code == 422 and count_rows(db, Item) == 0


def test_an_expired_token_is_refused_and_swept(client: TestClient, db: Session, active: Cast, ctx: AppContext,
                                               clock: FakeClock) -> None:
    cid = active.council.id
    csrf = sign_in(client, db, active.company, ctx)
    token = _refused_with_file(client, csrf, cid)
    clock.advance(minutes=KEEP_MINUTES + 1)
    csrf = sign_in(client, db, active.company, ctx)
    late = _resubmit(client, csrf, cid, token)
    assert late.status_code == 422 and "添付済みのファイルは使えません" in alert_text(late.text)
    assert count_rows(db, Item) == 0
    token = _refused_with_file(client, csrf, cid)
    clock.advance(minutes=KEEP_MINUTES + 1)
    assert "pending:sweep removed=1" in run_due(ctx)  # the minute job deletes what expired
    assert list(_pending_dir(ctx).iterdir()) == []


def test_a_forged_token_is_refused(client: TestClient, db: Session, active: Cast, ctx: AppContext) -> None:
    csrf = sign_in(client, db, active.company, ctx)
    for forged in ("x", "A" * 64, "../" * 30 + "etc", "é" * 64):
        answer = _resubmit(client, csrf, active.council.id, forged)
        assert answer.status_code == 422, forged
    assert count_rows(db, Item) == 0


def test_a_hostile_file_is_not_kept(client: TestClient, db: Session, active: Cast, ctx: AppContext) -> None:
    csrf = sign_in(client, db, active.company, ctx)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    refused = client.post(f"/councils/{active.council.id}/information",
                          data={"csrf_token": csrf, "title": "", **FIELDS},
                          files=[("files", ("report.pdf", png, "application/pdf"))])
    assert refused.status_code == 422 and KEPT.findall(refused.text) == []
    assert not _pending_dir(ctx).exists() or list(_pending_dir(ctx).iterdir()) == []


def test_deliverable_form_keeps_the_file_across_a_refused_submit(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    scene = Scene(db, factory, clock, ctx)
    url = f"{scene.url}/deliverables"
    text = "最終報告：各国の動向 4242".encode()
    csrf = sign_in(client, db, scene.analyst, ctx)
    refused = client.post(url, data={"csrf_token": csrf, "title": ""},
                          files={"file": ("final.txt", text, "text/plain")})
    assert refused.status_code == 422, refused.text[:500]
    assert "添付済み：final.txt（" in refused.text
    (token,) = KEPT.findall(refused.text)
    assert all(b"4242" not in p.read_bytes() for p in _pending_dir(ctx).iterdir())
    before = count_rows(db, CommissionDeliverable)
    done = client.post(url, data={"csrf_token": csrf, "title": "最終報告書", "kept": token}, follow_redirects=False)
    assert done.status_code == 303, done.text[:500]
    row = db.scalars(select(CommissionDeliverable).order_by(CommissionDeliverable.id.desc())).first()
    assert count_rows(db, CommissionDeliverable) == before + 1
    assert row is not None and (row.filename, row.sha256) == ("final.txt", hashlib.sha256(text).hexdigest())
    # another person's token (here: the officer, who may not deliver anyway) and a reused one are refused
    again = client.post(url, data={"csrf_token": csrf, "title": "最終報告書", "kept": token}, follow_redirects=False)
    assert again.status_code == 422 and count_rows(db, CommissionDeliverable) == before + 1


def test_new_version_and_request_answer_forms_keep_their_files(
        client: TestClient, db: Session, active: Cast, clock: FakeClock, ctx: AppContext) -> None:
    item = provide_item(db, information_deps(ctx), active, clock)
    req = councils.create_request(db, council_id=active.council.id, actor=active.officer.principal(),
                                  now=clock.now(), title="量産技術の動向", body="資料を提供願います。",
                                  matter="useful_information", addressee_kind="participant",
                                  addressee_id=active.company.user.id, due_at=clock.now() + timedelta(days=10))
    db.commit()
    csrf = sign_in(client, db, active.company, ctx)
    for url, refused_fields, fixed_fields in (
            (f"/information/items/{item.id}/versions", {"body": "改訂本文", "note": "一行目\n二行目"},
             {"body": "改訂本文", "note": "数値の更新"}),
            (f"/councils/{active.council.id}/requests/{req.id}/answer", {"text": ""}, {"text": "別添のとおり"})):
        refused = client.post(url, data={"csrf_token": csrf, **refused_fields},
                              files=[("files", (NAME, PDF, "application/pdf"))])
        assert refused.status_code == 422, (url, refused.text[:500])
        (token,) = KEPT.findall(refused.text)
        done = client.post(url, data={"csrf_token": csrf, **fixed_fields, "kept": token}, follow_redirects=False)
        assert done.status_code == 303, (url, done.text[:500])
    digest = hashlib.sha256(PDF).hexdigest()
    assert db.scalars(select(ItemFile.sha256).where(ItemFile.item_id == item.id)).all() == [digest]
    assert db.scalars(select(MaterialFile.sha256)).all() == [digest]


# --- the single-file forms (issue 14, second part): one shape, one test ------------------------------------------
#
# Each case builds its scene and returns who submits, the form's URL, the fields that are refused for another field
# than the file, the fields that are then accepted, and how to read the SHA-256 of what the accepted submit stored.


@dataclass(frozen=True)
class SingleFileForm:
    """One form with a single file field, ready to be refused and fixed."""

    person: Person
    url: str
    refused: dict[str, str]
    fixed: dict[str, str]
    stored_sha256: Callable[[Session], str | None]
    done: int = 303  # what the accepted submit answers (the leak page answers 200 with its finding)


def _latest(column: Any) -> Callable[[Session], str | None]:
    def read(db: Session) -> str | None:
        db.expire_all()
        return db.scalars(select(column).order_by(column.table.c.id.desc())).first()
    return read


def _meeting_material(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                      ctx: AppContext) -> SingleFileForm:
    cast = active_council(factory, db, clock)
    meeting = councils.schedule_meeting(db, council_id=cast.council.id, actor=cast.officer.principal(),
                                        now=clock.now(), title="第1回会合", starts_at=clock.now() - timedelta(days=1),
                                        held=True)
    db.commit()
    return SingleFileForm(cast.company, f"/councils/{cast.council.id}/meetings/{meeting.id}/materials",
                          {"title": ""}, {"title": "資料1 評価報告", "confidential": "yes"},
                          _latest(MeetingMaterial.sha256))


def _item_claim(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                ctx: AppContext) -> SingleFileForm:
    cast = active_council(factory, db, clock, bystander=True)
    item = provide_item(db, information_deps(ctx), cast, clock, confidential=True)
    db.commit()
    return SingleFileForm(cast.extra["bystander"], f"/information/items/{item.id}/exclusions",
                          {"ground": "", "evidence": "2019年の学会予稿集で公開済み"},
                          {"ground": "public", "evidence": "2019年の学会予稿集で公開済み"},
                          _latest(ExclusionClaim.file_sha256))


def _statement_claim(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                     ctx: AppContext) -> SingleFileForm:
    cast = active_council(factory, db, clock, bystander=True)
    (h_off,) = _h(db, clock, cast.officer)
    mid = _meeting(client, cast, h_off, clock, days_ago=1)
    said = _statement(client, cast, h_off, mid, cast.company.user.id)
    return SingleFileForm(cast.extra["bystander"], f"/councils/{cast.council.id}/statements/{said['id']}/exclusions",
                          {"ground": "nonsense", "evidence": "2018年の社内報告書に同じ数値"},
                          {"ground": "prior", "evidence": "2018年の社内報告書に同じ数値"},
                          _latest(ExclusionClaim.file_sha256))


def _plan_document(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                   ctx: AppContext) -> SingleFileForm:
    world = build_world(db, factory, clock)
    fund(db, world, clock)
    proposal = submit(db, world, clock)
    db.commit()
    return SingleFileForm(world.lead, f"/programme/proposals/{proposal.id}/documents",
                          {"kind": "nonsense", "title": "研究計画書"}, {"kind": "research_plan", "title": "研究計画書"},
                          _latest(PlanDocument.sha256))


def _leak_attribution(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                      ctx: AppContext) -> SingleFileForm:
    auditor = factory.person(roles=("auditor",))
    db.commit()

    def checked(db: Session) -> str | None:
        db.expire_all()
        entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == AuditTag.INFO_LEAK_ATTRIBUTE)
                           .order_by(AuditEntry.seq.desc())).first()
        return None if entry is None else str(entry.data["sha256"])
    return SingleFileForm(auditor, "/information/leak", {"item_id": "七"}, {"item_id": ""}, checked, done=200)


@pytest.mark.parametrize("build", [_meeting_material, _item_claim, _statement_claim, _plan_document,
                                   _leak_attribution], ids=lambda b: b.__name__.lstrip("_"))
def test_single_file_forms_keep_the_file_across_a_refused_submit(
        build: Callable[..., SingleFileForm], client: TestClient, db: Session, factory: Factory, clock: FakeClock,
        ctx: AppContext) -> None:
    form = build(client, db, factory, clock, ctx)
    csrf = sign_in(client, db, form.person, ctx)
    refused = client.post(form.url, data={"csrf_token": csrf, **form.refused},
                          files={"file": (NAME, PDF, "application/pdf")})
    assert refused.status_code == 422, refused.text[:500]
    assert f"添付済み：{NAME}（" in refused.text and "このファイルを外す" in refused.text
    (token,) = KEPT.findall(refused.text)
    assert all(b"4242" not in p.read_bytes() for p in _pending_dir(ctx).iterdir())  # I11: sealed at rest
    before = form.stored_sha256(db)
    done = client.post(form.url, data={"csrf_token": csrf, **form.fixed, "kept": token}, follow_redirects=False)
    assert done.status_code == form.done, done.text[:500]
    assert form.stored_sha256(db) == hashlib.sha256(PDF).hexdigest() != before
    assert list(_pending_dir(ctx).iterdir()) == []  # taken: deleted
    again = client.post(form.url, data={"csrf_token": csrf, **form.fixed, "kept": token}, follow_redirects=False)
    assert again.status_code == 422 and "添付済みのファイルは使えません" in alert_text(again.text)  # single use


@pytest.mark.parametrize("build, field", [(_meeting_material, "title"), (_plan_document, "title"),
                                          (_item_claim, "evidence")], ids=["material", "plan_document", "claim"])
def test_a_too_long_field_is_refused_by_the_view_and_keeps_the_file(
        build: Callable[..., SingleFileForm], field: str, client: TestClient, db: Session, factory: Factory,
        clock: FakeClock, ctx: AppContext) -> None:
    """A length FastAPI used to refuse before the view (a JSON 422, the file lost) is refused on the page."""
    form = build(client, db, factory, clock, ctx)
    csrf = sign_in(client, db, form.person, ctx)
    refused = client.post(form.url, data={"csrf_token": csrf, **form.fixed, field: "長" * 20_001},
                          files={"file": (NAME, PDF, "application/pdf")})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("text/html"), refused.text[:300]
    assert alert_text(refused.text) and len(KEPT.findall(refused.text)) == 1


def test_the_think_tank_answer_keeps_its_files(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                                               ctx: AppContext) -> None:
    scene = Scene(db, factory, clock, ctx)
    req = tank_requests.create(db, council_id=scene.council.council.id, commission_id=scene.commission.id,
                               actor=scene.officer.principal(), now=clock.now(), title="各国の動向の資料",
                               body="資料を提供願います。", matter="useful_information",
                               due_at=clock.now() + timedelta(days=5))
    db.commit()
    url = f"{scene.url}/requests/{req.id}/answer"
    csrf = sign_in(client, db, scene.analyst, ctx)
    refused = client.post(url, data={"csrf_token": csrf, "text": ""}, files=[("files", (NAME, PDF, "application/pdf"))])
    assert refused.status_code == 422, refused.text[:500]
    assert f"添付済み：{NAME}（" in refused.text
    (token,) = KEPT.findall(refused.text)
    done = client.post(url, data={"csrf_token": csrf, "text": "別添のとおり", "kept": token}, follow_redirects=False)
    assert done.status_code == 303, done.text[:500]
    assert db.scalars(select(MaterialFile.sha256)).all() == [hashlib.sha256(PDF).hexdigest()]


def test_too_long_fields_of_the_earlier_file_forms_keep_their_files(
        client: TestClient, db: Session, factory: Factory, active: Cast, clock: FakeClock, ctx: AppContext) -> None:
    """The deliverable title, the request answer's text and the new version's note were refused by FastAPI
    before the view (a 400, the files lost); the view refuses them now and keeps the files."""
    item = provide_item(db, information_deps(ctx), active, clock)
    req = councils.create_request(db, council_id=active.council.id, actor=active.officer.principal(),
                                  now=clock.now(), title="量産技術の動向", body="資料を提供願います。",
                                  matter="useful_information", addressee_kind="participant",
                                  addressee_id=active.company.user.id, due_at=clock.now() + timedelta(days=10))
    db.commit()
    scene = Scene(db, factory, clock, ctx)
    for person, url, fields, file_field in (
            (active.company, f"/information/items/{item.id}/versions", {"body": "改訂", "note": "長" * 501}, "files"),
            (active.company, f"/councils/{active.council.id}/requests/{req.id}/answer", {"text": "長" * 50_001},
             "files"),
            (scene.analyst, f"{scene.url}/deliverables", {"title": "長" * 301}, "file"),
            # the item form itself: a too-long title, summary or designation reason (FastAPI's 400 before)
            (active.company, f"/councils/{active.council.id}/information", {**FIELDS, "title": "長" * 301}, "files"),
            (active.company, f"/councils/{active.council.id}/information",
             {**FIELDS, "title": "AUV", "summary": "長" * 5001}, "files"),
            (active.company, f"/councils/{active.council.id}/information",
             {**FIELDS, "title": "AUV", "designate": "yes", "reason": "長" * 5001, "scope_kind": "council"}, "files")):
        csrf = sign_in(client, db, person, ctx)
        refused = client.post(url, data={"csrf_token": csrf, **fields},
                              files=[(file_field, (NAME, PDF, "application/pdf"))])
        assert refused.status_code == 422 and refused.headers["content-type"].startswith("text/html"), url
        assert len(KEPT.findall(refused.text)) == 1, url
