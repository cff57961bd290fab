"""Export control over HTTP (DESIGN F7): a classification record (該非判定) per item by the export-control officer,
and the deemed-export check (みなし輸出) — a foreign national or foreign-affiliated person added to a council that
holds items classified 該当/要確認 gets 404 on those items (the rest of the council stays readable) until the
officer clears them; a refusal keeps them held; a domestic person and 非該当 items are unaffected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.authz import gate
from banso.councils.models import ExportClearance
from banso.information.models import Vote
from banso.kit.clock import FakeClock
from banso.notifications.models import Notification
from banso.web.context import AppContext
from tests.support.councils import Cast, establish, join
from tests.support.factories import Factory, Person, audit_count
from tests.support.http import bearer, sign_in
from tests.support.information import API, item_form

LISTED = "輸出貿易管理令別表第1 16項"


@dataclass
class Scene:
    """An active council with an export-control officer among its members and two items: one classified 該当,
    one 非該当."""

    cast: Cast
    officer: Person
    admin: dict[str, str]
    controlled: int
    plain: int


def _provide(client: TestClient, cast: Cast, clock: FakeClock, headers: dict[str, str], title: str) -> int:
    made = client.post(f"{API}/items", headers=headers, data=item_form(cast, clock, title=title))
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _classify(client: TestClient, headers: dict[str, str], item_id: int, verdict: str, list_item: str = "") -> None:
    done = client.post(f"{API}/items/{item_id}/export-classifications", headers=headers,
                       json={"verdict": verdict, "list_item": list_item, "reason": "技術仕様を別表と照合した"})
    assert done.status_code == 201, done.text


def _nationality(client: TestClient, admin: dict[str, str], person: Person, code: str | None,
                 affiliation: str | None = None) -> None:
    set_ = client.put(f"/api/v1/users/{person.user.id}/export-profile", headers=admin,
                      json={"nationality": code, "foreign_affiliation": affiliation})
    assert set_.status_code == 200, set_.text


@pytest.fixture
def scene(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> Scene:
    cast = establish(factory, db, clock)
    officer = join(cast, db, clock, factory.person(roles=("export_officer",)))
    admin = factory.person(roles=("admin",))
    db.commit()
    h_com, h_off = bearer(db, cast.company, clock), bearer(db, officer, clock)
    controlled = _provide(client, cast, clock, h_com, "QXcontrolled 高出力レーザ冷却設計")
    plain = _provide(client, cast, clock, h_com, "QXplain 会合日程")
    _classify(client, h_off, controlled, "applicable", LISTED)
    _classify(client, h_off, plain, "not_applicable")
    return Scene(cast=cast, officer=officer, admin=bearer(db, admin, clock), controlled=controlled, plain=plain)


def _reads(client: TestClient, headers: dict[str, str], item_id: int) -> int:
    return int(client.get(f"{API}/items/{item_id}", headers=headers).status_code)


def _listed(client: TestClient, headers: dict[str, str]) -> set[int]:
    return {i["id"] for i in client.get(f"{API}/items", headers=headers).json()}


def _queue(client: TestClient, officer: dict[str, str]) -> list[dict[str, object]]:
    got = client.get(f"{API}/export-clearances", headers=officer)
    assert got.status_code == 200, got.text
    return list(got.json())


def test_a_foreign_national_is_held_from_the_classified_item_until_cleared(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, scene: Scene) -> None:
    foreigner = factory.person()
    _nationality(client, scene.admin, foreigner, "us")
    db.expire_all()  # the API wrote since this session last read (the audit head)
    join(scene.cast, db, clock, foreigner)
    db.commit()
    h_for, h_off = bearer(db, foreigner, clock), bearer(db, scene.officer, clock)

    # F7: held on the classified item (404, I7), the rest of the council readable
    assert _reads(client, h_for, scene.controlled) == 404
    assert _reads(client, h_for, scene.plain) == 200
    assert _listed(client, h_for) == {scene.plain}
    assert client.get(f"{API}/items/count", headers=h_for).json()["count"] == 1
    assert scene.controlled not in {h["item_id"] for h in client.get(
        f"{API}/search", params={"q": "レーザ"}, headers=h_for).json()}
    assert client.get(f"{API}/items/{scene.controlled}/export-classifications", headers=h_for).status_code == 404

    # the officer is told (inbox) and sees the check in the queue; the notice names no item
    notice = db.scalars(select(Notification).where(Notification.recipient_id == scene.officer.user.id,
                                                   Notification.kind == "councils.export_check")).one()
    assert notice.link == "/information/export-control" and "QXcontrolled" not in notice.body_ja
    pending = _queue(client, h_off)
    assert [(r["user_id"], r["state"], r["nationality"]) for r in pending] == [(foreigner.user.id, "pending", "US")]

    cleared = client.post(f"{API}/export-clearances/{pending[0]['id']}/decision", headers=h_off,
                          json={"decision": "clear", "reason": "許可不要の範囲を確認（役務取引許可申請済み）"})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["state"] == "cleared"
    assert _reads(client, h_for, scene.controlled) == 200
    assert _listed(client, h_for) == {scene.controlled, scene.plain}
    assert audit_count(db, "council:export:clear") == 1 and audit_count(db, "council:export:request") == 1


def test_a_refused_person_stays_held_and_a_refusal_needs_a_reason(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, scene: Scene) -> None:
    foreigner = factory.person()
    _nationality(client, scene.admin, foreigner, None, affiliation="Example Institute of Technology (overseas)")
    db.expire_all()  # the API wrote since this session last read (the audit head)
    join(scene.cast, db, clock, foreigner)
    db.commit()
    h_for, h_off = bearer(db, foreigner, clock), bearer(db, scene.officer, clock)
    check = _queue(client, h_off)[0]
    url = f"{API}/export-clearances/{check['id']}/decision"
    blank = client.post(url, headers=h_off, json={"decision": "refuse", "reason": ""})
    assert blank.status_code == 422 and "reason" in blank.text
    refused = client.post(url, headers=h_off, json={"decision": "refuse", "reason": "外国政府の影響下にある機関に所属"})
    assert refused.status_code == 200 and refused.json()["state"] == "refused"
    assert _reads(client, h_for, scene.controlled) == 404
    assert _reads(client, h_for, scene.plain) == 200
    # the person cannot decide on themselves, nor can any member who is no export-control officer (404)
    assert client.post(url, headers=h_for, json={"decision": "clear"}).status_code == 404
    assert client.post(url, headers=bearer(db, scene.cast.officer, clock), json={"decision": "clear"}).status_code == 404


def test_a_domestic_person_is_not_held_and_no_check_is_opened(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, scene: Scene) -> None:
    domestic = factory.person()
    _nationality(client, scene.admin, domestic, "JP")
    db.expire_all()
    join(scene.cast, db, clock, domestic)
    db.commit()
    h_dom = bearer(db, domestic, clock)
    assert _reads(client, h_dom, scene.controlled) == 200
    assert _queue(client, bearer(db, scene.officer, clock)) == []


def test_classifying_after_a_foreign_member_joined_holds_the_item_and_opens_a_check(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    officer = join(cast, db, clock, factory.person(roles=("export_officer",)))
    foreigner = factory.person()
    admin = factory.person(roles=("admin",))
    db.commit()
    _nationality(client, bearer(db, admin, clock), foreigner, "CN")
    db.expire_all()
    join(cast, db, clock, foreigner)  # the council holds nothing classified yet: no check
    db.commit()
    h_for, h_off = bearer(db, foreigner, clock), bearer(db, officer, clock)
    item = _provide(client, cast, clock, bearer(db, cast.company, clock), "QXlate 評価データ")
    assert _reads(client, h_for, item) == 200 and _queue(client, h_off) == []
    _classify(client, h_off, item, "check")  # 要確認 holds like 該当
    assert _reads(client, h_for, item) == 404
    assert [(r["user_id"], r["trigger"]) for r in _queue(client, h_off)] == [(foreigner.user.id, "classification")]
    # reclassified 非該当: readable again, and the council no longer holds classified items
    _classify(client, h_off, item, "not_applicable")
    assert _reads(client, h_for, item) == 200
    history = client.get(f"{API}/items/{item}/export-classifications", headers=h_for).json()
    assert [h["verdict"] for h in history] == ["not_applicable", "check"]
    assert history[0]["classified_by_id"] == officer.user.id and history[0]["classified_at"]


def test_only_the_export_control_officer_classifies_and_a_listed_verdict_names_its_list_item(
        client: TestClient, db: Session, clock: FakeClock, scene: Scene) -> None:
    h_sec, h_off = bearer(db, scene.cast.officer, clock), bearer(db, scene.officer, clock)
    url = f"{API}/items/{scene.plain}/export-classifications"
    # the secretariat reads the item but holds no export-control role: as for any item out of reach (404)
    assert client.post(url, headers=h_sec, json={"verdict": "applicable", "list_item": LISTED,
                                                 "reason": "r"}).status_code == 404
    missing = client.post(url, headers=h_off, json={"verdict": "applicable", "list_item": "", "reason": "照合済み"})
    assert missing.status_code == 422 and "list_item" in missing.text
    assert client.post(url, headers=h_off, json={"verdict": "maybe", "reason": "r"}).status_code == 422
    assert audit_count(db, "information:export:classify_refused") == 1
    assert audit_count(db, "information:export:classify") == 2


def test_nationality_is_recorded_by_an_administrator_only(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, scene: Scene) -> None:
    person = factory.person()
    db.commit()
    url = f"/api/v1/users/{person.user.id}/export-profile"
    assert client.put(url, headers=bearer(db, scene.officer, clock), json={"nationality": "US"}).status_code == 403
    bad = client.put(url, headers=scene.admin, json={"nationality": "USA"})
    assert bad.status_code == 422 and "ISO 3166-1" in bad.text
    assert db.scalar(select(ExportClearance.id)) is None


def test_the_pages_classify_hold_and_clear(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                                           ctx: AppContext, scene: Scene) -> None:
    foreigner = factory.person()
    _nationality(client, scene.admin, foreigner, "DE")
    db.expire_all()
    join(scene.cast, db, clock, foreigner)
    db.commit()
    # the held person: the classified item's page is 404, the other item's page opens
    sign_in(client, db, foreigner, ctx)
    assert client.get(f"/information/items/{scene.controlled}").status_code == 404
    assert client.get(f"/information/items/{scene.plain}").status_code == 200
    assert "QXcontrolled" not in client.get("/information").text
    assert client.get("/information/export-control").status_code == 403  # no export-control role
    assert 'id="export-control-link"' not in client.get("/information").text  # no link it may not follow
    client.cookies.clear()

    # the officer: the record on the item page, a classification form, the queue, a decision
    csrf = sign_in(client, db, scene.officer, ctx)
    page = client.get(f"/information/items/{scene.controlled}")
    assert page.status_code == 200 and LISTED in page.text and 'id="export-form"' in page.text
    refused = client.post(f"/information/items/{scene.plain}/export-classification",
                          data={"csrf_token": csrf, "verdict": "applicable", "list_item": "", "reason": "照合"})
    assert refused.status_code == 422 and 'id="form-error"' in refused.text
    assert 'id="export-control-link"' in client.get("/information").text  # the officer's way to the queue
    queue = client.get("/information/export-control")
    assert queue.status_code == 200 and 'data-state="pending"' in queue.text and foreigner.user.name_ja in queue.text
    check = db.scalars(select(ExportClearance).where(ExportClearance.user_id == foreigner.user.id)).one()
    done = client.post(f"/information/export-control/{check.id}", data={"csrf_token": csrf, "decision": "clear"},
                       follow_redirects=False)
    assert done.status_code == 303
    client.cookies.clear()
    sign_in(client, db, foreigner, ctx)
    assert client.get(f"/information/items/{scene.controlled}").status_code == 200
    # the secretariat, who reads the item, sees the record but no form (not the export-control officer)
    client.cookies.clear()
    sign_in(client, db, scene.cast.officer, ctx)
    shown = client.get(f"/information/items/{scene.controlled}").text
    assert LISTED in shown and 'id="export-form"' not in shown


def test_notices_about_the_classified_item_skip_the_held_person(client: TestClient, db: Session, factory: Factory,
                                                                clock: FakeClock, scene: Scene) -> None:
    foreigner = factory.person()
    _nationality(client, scene.admin, foreigner, "FR")
    db.expire_all()
    join(scene.cast, db, clock, foreigner)
    db.commit()
    access = gate.item_access(db, None, scene.controlled)
    assert access is not None
    # I12: who a notice may name (written) and what a person may still be told (read, e-mailed)
    assert foreigner.user.id not in gate.readers(db, access)
    # a domestic member who did not provide the item is told (another's nationality does not hold them)
    assert {scene.cast.company.user.id, scene.cast.researcher.user.id} <= set(gate.readers(db, access))
    subjects = [f"item:{scene.controlled}", f"item:{scene.plain}"]
    assert gate.knowable_subjects(db, foreigner.principal(), subjects) == {f"item:{scene.plain}"}


def _held_foreigner(client: TestClient, db: Session, factory: Factory, clock: FakeClock, scene: Scene,
                    code: str = "US") -> Person:
    foreigner = factory.person()
    _nationality(client, scene.admin, foreigner, code)
    db.expire_all()  # the API wrote since this session last read (the audit head)
    join(scene.cast, db, clock, foreigner)
    db.commit()
    return foreigner


def test_a_held_voter_does_not_see_or_answer_a_designation_ballot_on_the_classified_item(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext, scene: Scene) -> None:
    foreigner = _held_foreigner(client, db, factory, clock, scene)
    h_com, h_for = bearer(db, scene.cast.company, clock), bearer(db, foreigner, clock)
    proposed = client.post(f"{API}/items/{scene.controlled}/designation", headers=h_com, json={
        "reason": "輸出管理上の懸念", "scope_kind": "named", "user_ids": [scene.cast.researcher.user.id],
        "ends_at": (clock.now() + timedelta(days=365)).isoformat(),
        "deadline": (clock.now() + timedelta(days=7)).isoformat()})
    assert proposed.status_code == 201, proposed.text
    ballot_id = proposed.json()["id"]
    assert foreigner.user.id in {v.user_id for v in db.scalars(select(Vote).where(Vote.ballot_id == ballot_id))}

    # F7, I7: the proposal names the item (title, summary): 404 on the API, the vote and the page
    assert client.get(f"{API}/ballots/{ballot_id}", headers=h_for).status_code == 404
    assert client.post(f"{API}/ballots/{ballot_id}/vote", headers=h_for,
                       json={"decision": "accept"}).status_code == 404
    tasks = client.get("/api/v1/me/tasks", headers=h_for).json()["items"]
    assert "QXcontrolled" not in str(tasks) and f"/information/ballots/{ballot_id}" not in str(tasks)
    notices = db.scalars(select(Notification).where(Notification.recipient_id == foreigner.user.id)).all()
    assert not any("QXcontrolled" in n.title_ja + n.title_en + n.body_ja + n.body_en for n in notices)
    sign_in(client, db, foreigner, ctx)
    assert client.get(f"/information/ballots/{ballot_id}").status_code == 404
    assert "QXcontrolled" not in client.get("/inbox").text
    assert "QXcontrolled" not in client.get("/").text
    client.cookies.clear()
    # a domestic voter sees it; once the officer clears the person, so do they (the unanimous vote waited)
    assert client.get(f"{API}/ballots/{ballot_id}", headers=bearer(db, scene.cast.researcher, clock)).status_code == 200
    check = _queue(client, bearer(db, scene.officer, clock))[0]
    cleared = client.post(f"{API}/export-clearances/{check['id']}/decision", headers=bearer(db, scene.officer, clock),
                          json={"decision": "clear"})
    assert cleared.status_code == 200, cleared.text
    shown = client.get(f"{API}/ballots/{ballot_id}", headers=h_for)
    assert shown.status_code == 200 and "QXcontrolled" in shown.json()["item_title"]
    assert client.post(f"{API}/ballots/{ballot_id}/vote", headers=h_for,
                       json={"decision": "accept"}).status_code == 200


def test_a_foreign_officer_cannot_clear_his_own_check(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext, scene: Scene) -> None:
    own = factory.person(roles=("export_officer",))
    _nationality(client, scene.admin, own, "GB")
    db.expire_all()
    join(scene.cast, db, clock, own)
    db.commit()
    check = db.scalars(select(ExportClearance).where(ExportClearance.user_id == own.user.id)).one()
    h_own = bearer(db, own, clock)
    # F7: no self-clearance — 403 with the reason, Japanese first; his own check is not in his queue
    refused = client.post(f"{API}/export-clearances/{check.id}/decision", headers=h_own, json={"decision": "clear"})
    assert refused.status_code == 403 and refused.json()["message"].startswith("ご自身の確認は判断できません")
    assert _queue(client, h_own) == []
    assert _reads(client, h_own, scene.controlled) == 404
    csrf = sign_in(client, db, own, ctx)
    page = client.post(f"/information/export-control/{check.id}", data={"csrf_token": csrf, "decision": "clear"},
                       follow_redirects=False)
    assert page.status_code == 403 and "ご自身の確認は判断できません" in page.text
    db.expire_all()
    assert db.get(ExportClearance, check.id).state == "pending"  # type: ignore[union-attr]
    # another officer decides it
    assert [r["id"] for r in _queue(client, bearer(db, scene.officer, clock))] == [check.id]


def test_recording_a_members_export_profile_opens_a_check_in_each_classified_council(
        client: TestClient, db: Session, clock: FakeClock, scene: Scene) -> None:
    member = scene.cast.researcher  # already a member of the council that holds the classified item
    h_mem, h_off = bearer(db, member, clock), bearer(db, scene.officer, clock)
    assert _reads(client, h_mem, scene.controlled) == 200
    _nationality(client, scene.admin, member, "KR")
    # F7: held from now on, and put to the officer (queue, inbox) so that someone can clear them
    assert _reads(client, h_mem, scene.controlled) == 404
    assert [(r["user_id"], r["state"], r["trigger"]) for r in _queue(client, h_off)] == [
        (member.user.id, "pending", "profile")]
    db.expire_all()
    assert db.scalars(select(Notification).where(Notification.recipient_id == scene.officer.user.id,
                                                 Notification.kind == "councils.export_check")).one()
    # recording it again opens no second check
    _nationality(client, scene.admin, member, "KR", affiliation="Example Lab (overseas)")
    assert len(_queue(client, h_off)) == 1


def test_the_minimality_view_does_not_count_items_held_from_the_viewer(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext, scene: Scene) -> None:
    foreigner = _held_foreigner(client, db, factory, clock, scene, "CA")
    h_for = bearer(db, foreigner, clock)
    council = scene.cast.council.id
    # I7, F7: the held person's counts agree with what they may read (the classified item is not there)
    assert client.get(f"{API}/items/count", headers=h_for).json()["count"] == 1
    mine = client.get(f"{API}/councils/{council}/minimality", headers=h_for)
    assert mine.status_code == 200 and mine.json()["items"] == 1
    assert client.get(f"{API}/minimality", headers=h_for).json()["totals"]["items"] == 1
    # a member who is not held counts both
    assert client.get(f"{API}/councils/{council}/minimality",
                      headers=bearer(db, scene.cast.researcher, clock)).json()["items"] == 2
    sign_in(client, db, foreigner, ctx)
    page = client.get("/information/minimality")
    assert page.status_code == 200 and 'id="total-items">1<' in page.text


def test_a_check_left_pending_is_brought_up_weekly_and_then_to_the_secretariat(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, scene: Scene) -> None:
    # Session-10 leftover (F7): a pending check holds the person from the classified items and from ballots on
    # them, which may run out; nobody was ever told again.
    from banso.councils import export_control

    foreigner = factory.person()
    _nationality(client, scene.admin, foreigner, "de")
    db.expire_all()
    join(scene.cast, db, clock, foreigner)
    db.commit()
    opened = clock.now()
    secretariat = scene.cast.officer.user.id

    def reminders(user_id: int) -> int:
        return len(db.scalars(select(Notification).where(
            Notification.recipient_id == user_id, Notification.kind == "councils.export_check",
            Notification.title_ja.like("%未了%"))).all())

    assert export_control.remind_pending(db, now=opened + timedelta(days=6)) == 0
    assert export_control.remind_pending(db, now=opened + timedelta(days=7)) == 1  # the officer, a week on
    assert export_control.remind_pending(db, now=opened + timedelta(days=8)) == 0  # once a week, not daily
    assert (reminders(scene.officer.user.id), reminders(secretariat)) == (1, 0)
    assert export_control.remind_pending(db, now=opened + timedelta(days=14)) == 2  # two weeks: the secretariat too
    assert (reminders(scene.officer.user.id), reminders(secretariat)) == (2, 1)
    assert reminders(foreigner.user.id) == 0  # the held person is not asked to clear himself
    notice = db.scalars(select(Notification).where(Notification.recipient_id == secretariat,
                                                   Notification.title_ja.like("%未了%"))).one()
    assert "14日" in notice.title_ja and "QXcontrolled" not in notice.body_ja
    assert audit_count(db, "council:export:remind") == 2

    check = db.scalars(select(ExportClearance).where(ExportClearance.user_id == foreigner.user.id)).one()
    done = client.post(f"{API}/export-clearances/{check.id}/decision", headers=bearer(db, scene.officer, clock),
                       json={"decision": "clear", "reason": "該当技術の提供に当たらないことを確認"})
    assert done.status_code == 200, done.text
    db.expire_all()
    assert export_control.remind_pending(db, now=opened + timedelta(days=30)) == 0  # a decided check is quiet
