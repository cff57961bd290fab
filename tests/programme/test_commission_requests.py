"""Material requests to a think tank outside the council (C6 under Art. 64, issue 13), from the outside (HTTP).

The council's secretariat asks a think-tank commission for materials; only the people named on that
commission's roster who acknowledged the Art. 64 duty see and answer it; a colleague at the institution who is
not named and a person taken off the roster get 404; the answer is sealed council content read on the council's
side under the usual rule; the think-tank side never sees the council's other content.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.authz.policies import commission_requests as policy
from banso.authz.policies.councils import Standing
from banso.authz.policies.programme import CommissionParties
from banso.councils.models import MaterialRequest
from banso.kit.clock import FakeClock
from banso.leak.text import find_marks, strip_invisible
from banso.programme import commissions as cm
from banso.programme import roster
from banso.sealed import store as sealed_store
from banso.web.context import AppContext
from tests.support.councils import Cast, active_council
from tests.support.factories import Factory, Person
from tests.support.http import bearer, csrf_of, sign_in


class Scene:
    """An active council (officer = secretariat) and a think tank outside it, commissioned by the same officer."""

    def __init__(self, db: Session, factory: Factory, clock: FakeClock) -> None:
        self.cast: Cast = active_council(factory, db, clock)
        self.officer = self.cast.officer
        org = factory.org(kind="think_tank")
        self.contact: Person = factory.person(roles=("analyst",), org=org)
        self.analyst: Person = factory.person(roles=("analyst",), org=org)  # named and acknowledged
        self.leaver: Person = factory.person(roles=("analyst",), org=org)  # named, acknowledged, later removed
        self.colleague: Person = factory.person(roles=("analyst",), org=org)  # never named
        now, officer = clock.now(), self.officer.principal()
        cm.assess_institution(db, organization_id=org.id, assessed_on=date(2026, 10, 1), analysis_score=4,
                              hub_score=4, talent_score=4, now=now, actor=officer)
        self.commission = cm.create_commission(
            db, code="TT-64-REQ", title="海洋無人機の供給網調査", organization_id=org.id, starts_on=date(2026, 12, 1),
            due_on=date(2027, 3, 31), tasks=[cm.TaskInput("報告書", date(2027, 3, 31))], now=now, actor=officer,
            purpose="主要国の供給網の把握")
        self.id = self.commission.id
        roster.name_contact(db, commission_id=self.id, user_id=self.contact.user.id, now=now, actor=officer)
        roster.acknowledge(db, commission_id=self.id, now=now, actor=self.contact.principal())
        self.rows = {}
        for p in (self.analyst, self.leaver):
            self.rows[p.user.id] = roster.add_person(db, commission_id=self.id, user_id=p.user.id, now=now,
                                                     actor=self.contact.principal())
            roster.acknowledge(db, commission_id=self.id, now=now, actor=p.principal())
        db.commit()

    def remove_leaver(self, db: Session, clock: FakeClock) -> None:
        roster.remove_person(db, commission_id=self.id, roster_id=self.rows[self.leaver.user.id].id, reason="異動",
                             now=clock.now(), actor=self.contact.principal())
        db.commit()


@pytest.fixture
def scene(db: Session, factory: Factory, clock: FakeClock) -> Scene:
    return Scene(db, factory, clock)


def _ask(client: TestClient, scene: Scene, headers: dict[str, str], clock: FakeClock, **extra: object) -> object:
    return client.post(f"/api/v1/programme/commissions/{scene.id}/requests", headers=headers, json={
        "council_id": scene.cast.council.id, "title": "QXTANKREQ 供給網資料", "body": "主要国の装置メーカー一覧",
        "matter": "useful_information", "due_at": (clock.now() + timedelta(days=10)).isoformat(), **extra})


def test_a_roster_person_answers_and_the_answer_is_sealed_council_content(
        client: TestClient, db: Session, scene: Scene, clock: FakeClock) -> None:
    """Art. 64, C6, I11: the engaged analyst answers; the council's secretariat reads it; the row holds no
    plaintext; the analyst reads only the request and their own answer, never the council."""
    h = {p: bearer(db, getattr(scene, p), clock) for p in ("officer", "analyst", "leaver", "colleague", "contact")}
    h_company = bearer(db, scene.cast.company, clock)
    made = _ask(client, scene, h["officer"], clock)
    assert made.status_code == 201, made.text  # type: ignore[attr-defined]
    rid = made.json()["id"]  # type: ignore[attr-defined]
    base = f"/api/v1/programme/commissions/{scene.id}/requests/{rid}"
    got = client.get(base, headers=h["analyst"])
    assert got.status_code == 200 and got.json()["title"].startswith("QXTANKREQ")
    assert got.json()["answer_text"] is None
    answered = client.post(f"{base}/answer", headers=h["analyst"], data={"text": "QXTANKANSWER 別添のとおり"},
                           files=[("files", ("list.csv", b"maker,country\nA,JP\n", "text/csv"))])
    assert answered.status_code == 200, answered.text
    assert answered.json()["answer_text"] == "QXTANKANSWER 別添のとおり"
    fid = answered.json()["files"][0]["id"]
    assert client.post(f"{base}/answer", headers=h["analyst"], data={"text": "again"}).status_code == 409
    copy = client.get(f"{base}/files/{fid}", headers=h["analyst"])
    # I8: stamped for its reader (invisible marks inside the text), never the plain original
    assert copy.status_code == 200 and strip_invisible(copy.content.decode()).startswith("maker,country\nA,JP\n")
    assert find_marks(copy.content.decode())
    # Sealed at rest like a member's answer (I11): the row never holds the text.
    db.expire_all()
    row = db.get(MaterialRequest, rid)
    assert row is not None and row.commission_id == scene.id and row.answer_sealed is not None
    assert b"QXTANKANSWER" not in row.answer_sealed
    # The council's side: the secretariat (requester, manager) reads it under the usual rule; another member sees
    # the request listed but not the answer (C6: the answer reaches them when filed as an item).
    cid = scene.cast.council.id
    council_view = client.get(f"/api/v1/councils/{cid}/requests/{rid}", headers=h["officer"])
    assert council_view.status_code == 200 and council_view.json()["request"]["answer_text"].startswith("QXTANKANSWER")
    assert client.get(f"/api/v1/councils/{cid}/requests/{rid}/files/{fid}", headers=h["officer"]).status_code == 200
    other = client.get(f"/api/v1/councils/{cid}/requests/{rid}", headers=h_company).json()["request"]
    assert other["answer_text"] is None
    # The think-tank side never sees the council: not its page, its requests, the request there, nor the file.
    for path in (f"/api/v1/councils/{cid}", f"/api/v1/councils/{cid}/requests", f"/api/v1/councils/{cid}/requests/{rid}",
                 f"/api/v1/councils/{cid}/requests/{rid}/files/{fid}", f"/api/v1/councils/{cid}/meetings"):
        assert client.get(path, headers=h["analyst"]).status_code == 404, path
    assert client.get("/api/v1/councils", headers=h["analyst"]).json() == []
    # Another engaged person (the contact) sees the request but not the analyst's answer or files.
    theirs = client.get(base, headers=h["contact"]).json()
    assert theirs["title"].startswith("QXTANKREQ") and theirs["answer_text"] is None and theirs["files"] == []
    assert client.get(f"{base}/files/{fid}", headers=h["contact"]).status_code == 404
    tags = set(db.scalars(select(AuditEntry.tag).where(AuditEntry.subject == f"council:{cid}")))
    assert {"council:request:create", "council:request:answer", "council:request:read",
            "council:file:download"} <= tags


def test_the_council_side_neither_answers_nor_shows_the_contact_a_colleagues_answer(
        client: TestClient, db: Session, scene: Scene, clock: FakeClock) -> None:
    """C6 under Art. 64 (outside tester, C6 findings 1 and 2): the council's secretariat cannot answer a request
    to a commission on the council's side (409, Japanese first), so the think tank is not blocked; the
    commission's contact who also sits on the council is the recorded addressee, yet reads neither a colleague's
    answer nor its files there, and cannot file it as an item; the secretariat still reads and files it."""
    from tests.support.councils import join

    join(scene.cast, db, clock, scene.contact)
    db.commit()
    h = {p: bearer(db, getattr(scene, p), clock) for p in ("officer", "analyst", "contact")}
    rid = _ask(client, scene, h["officer"], clock).json()["id"]  # type: ignore[attr-defined]
    cid = scene.cast.council.id
    council_base = f"/api/v1/councils/{cid}/requests/{rid}"
    for who in ("officer", "contact"):
        refused = client.post(f"{council_base}/answer", headers={**h[who], "Accept-Language": "ja"},
                              data={"text": "QXCOUNCILSIDE"})
        assert refused.status_code == 409, (who, refused.text)
        assert refused.json()["message"].startswith("シンクタンク"), refused.json()
    db.expire_all()
    assert db.get(MaterialRequest, rid).answered_at is None  # type: ignore[union-attr]
    base = f"/api/v1/programme/commissions/{scene.id}/requests/{rid}"
    answered = client.post(f"{base}/answer", headers=h["analyst"], data={"text": "QXTANKANSWER 別添"},
                           files=[("files", ("list.csv", b"maker,country\nA,JP\n", "text/csv"))])
    assert answered.status_code == 200, answered.text
    fid = answered.json()["files"][0]["id"]
    seen = client.get(council_base, headers=h["contact"])
    assert seen.status_code == 200 and seen.json()["request"]["answer_text"] is None
    assert seen.json()["files"] == []
    assert client.get(f"{council_base}/files/{fid}", headers=h["contact"]).status_code == 404
    listed = client.get(f"/api/v1/councils/{cid}/requests", headers=h["contact"])
    assert "QXTANKANSWER" not in listed.text
    assert client.post(f"{council_base}/file", headers=h["contact"]).status_code == 422
    officer_view = client.get(council_base, headers=h["officer"]).json()["request"]
    assert officer_view["answer_text"].startswith("QXTANKANSWER")
    assert client.post(f"{council_base}/file", headers=h["officer"]).status_code == 201


def test_unnamed_colleague_and_removed_roster_member_get_404(
        client: TestClient, db: Session, scene: Scene, clock: FakeClock) -> None:
    """Art. 64, I7: a colleague at the institution who is not named, and a person taken off the roster, get 404
    on every path; removal ends access at once (the removed person saw it a moment before)."""
    h = {p: bearer(db, getattr(scene, p), clock) for p in ("officer", "leaver", "colleague")}
    rid = _ask(client, scene, h["officer"], clock).json()["id"]  # type: ignore[attr-defined]
    base = f"/api/v1/programme/commissions/{scene.id}/requests"
    assert client.get(f"{base}/{rid}", headers=h["leaver"]).status_code == 200
    assert [r["id"] for r in client.get(base, headers=h["leaver"]).json()] == [rid]
    scene.remove_leaver(db, clock)
    for who in ("leaver", "colleague"):
        assert client.get(base, headers=h[who]).status_code == 404
        assert client.get(f"{base}/{rid}", headers=h[who]).status_code == 404
        assert client.post(f"{base}/{rid}/answer", headers=h[who], data={"text": "x"}).status_code == 404
    db.expire_all()
    assert db.get(MaterialRequest, rid).answered_at is None  # type: ignore[union-attr]


def test_tasks_and_notices_follow_the_roster(client: TestClient, db: Session, scene: Scene, clock: FakeClock) -> None:
    """The engaged get an inbox notice and a task on the home; removed, both are gone at once; answered, the task
    and the notice are done (issue 14's self-completing inbox)."""
    h = {p: bearer(db, getattr(scene, p), clock) for p in ("officer", "analyst", "leaver", "colleague")}
    rid = _ask(client, scene, h["officer"], clock).json()["id"]  # type: ignore[attr-defined]

    def task_keys(who: str) -> list[str]:
        return [t["key"] for t in client.get("/api/v1/me/tasks", headers=h[who]).json()["items"]]

    def notice_titles(who: str) -> list[str]:
        return [n["title_ja"] for n in client.get("/api/v1/notifications", headers=h[who]).json()["items"]]

    for who in ("analyst", "leaver"):
        assert f"commission-request:{rid}" in task_keys(who)
        assert any("QXTANKREQ" in t for t in notice_titles(who))
    assert f"commission-request:{rid}" not in task_keys("colleague")
    assert not any("QXTANKREQ" in t for t in notice_titles("colleague"))
    scene.remove_leaver(db, clock)
    assert f"commission-request:{rid}" not in task_keys("leaver")
    assert not any("QXTANKREQ" in t for t in notice_titles("leaver"))  # I7: the gate hides it at read time
    client.post(f"/api/v1/programme/commissions/{scene.id}/requests/{rid}/answer", headers=h["analyst"],
                data={"text": "回答"})
    assert f"commission-request:{rid}" not in task_keys("analyst")


def test_who_may_address_a_commission(client: TestClient, db: Session, scene: Scene, clock: FakeClock,
                                      factory: Factory) -> None:
    """Only the council's chair/secretariat, for an active commission of their own side; one message for a
    missing commission and someone else's (I7); bad input is a clear 422."""
    h_officer, h_company = bearer(db, scene.officer, clock), bearer(db, scene.cast.company, clock)
    assert _ask(client, scene, h_company, clock).status_code == 403  # type: ignore[attr-defined]
    other_officer = factory.person(roles=("officer",))
    db.commit()
    assert _ask(client, scene, bearer(db, other_officer, clock), clock).status_code == 404  # type: ignore[attr-defined]
    missing = client.post("/api/v1/programme/commissions/999999/requests", headers=h_officer, json={
        "council_id": scene.cast.council.id, "title": "x", "body": "y", "matter": "useful_information",
        "due_at": (clock.now() + timedelta(days=3)).isoformat()})
    assert missing.status_code == 422 and missing.json()["field"] == "commission_id"
    past = _ask(client, scene, h_officer, clock, due_at=(clock.now() - timedelta(days=1)).isoformat())
    assert past.status_code == 422 and past.json()["field"] == "due_at"  # type: ignore[attr-defined]
    bad = _ask(client, scene, h_officer, clock, matter="gossip")
    assert bad.status_code == 422  # type: ignore[attr-defined]
    assert "協議事項" in bad.json()["message"] or "matter" in bad.json()["message"]  # type: ignore[attr-defined]


def test_pages_japanese_first(client: TestClient, db: Session, scene: Scene, clock: FakeClock,
                              ctx: AppContext) -> None:
    """The secretariat asks from the council's page; the analyst answers on the commission's request page;
    the colleague gets 404 there."""
    cid = scene.cast.council.id
    csrf = sign_in(client, db, scene.officer, ctx)
    council_page = client.get(f"/councils/{cid}").text
    assert 'id="tank-request-link"' in council_page
    form = client.get(f"/programme/commission-requests/new?council_id={cid}")
    assert form.status_code == 200 and "TT-64-REQ" in form.text and "第64条" in form.text
    due = (clock.now() + timedelta(days=10)).strftime("%Y-%m-%d")
    refused = client.post("/programme/commission-requests", data={
        "csrf_token": csrf, "council_id": str(cid), "commission_id": str(scene.id), "title": "", "body": "b",
        "matter": "useful_information", "due_at": due})
    assert refused.status_code == 422
    sent = client.post("/programme/commission-requests", data={
        "csrf_token": csrf, "council_id": str(cid), "commission_id": str(scene.id), "title": "QXTANKPAGE 資料",
        "body": "一覧", "matter": "useful_information", "due_at": due}, follow_redirects=False)
    assert sent.status_code == 303, sent.text
    rid = int(sent.headers["location"].split("/requests/")[1].split("?")[0])
    assert "data-commission-request" in client.get(f"/councils/{cid}/requests/{rid}").text
    url = f"/programme/commissions/{scene.id}/requests/{rid}"
    sign_in(client, db, scene.analyst, ctx)
    assert f'href="{url}"' in client.get(f"/programme/commissions/{scene.id}").text  # listed on the commission
    page = client.get(url)
    assert page.status_code == 200 and "QXTANKPAGE" in page.text and "資料提供" in page.text
    done = client.post(f"{url}/answer", data={"csrf_token": csrf_of(page.text), "text": "QXTANKPAGEANSWER"},
                       follow_redirects=False)
    assert done.status_code == 303
    assert "QXTANKPAGEANSWER" in client.get(url).text
    assert client.get(f"/councils/{cid}").status_code == 404
    sign_in(client, db, scene.colleague, ctx)
    assert client.get(url).status_code == 404


def test_policy_predicates() -> None:
    """The one home of the rule: the engaged see and answer; the unnamed, the unacknowledged and the removed
    do not; only the one who answered reads the answer; a manager addresses only an active commission of theirs."""
    from banso.authz.permissions import Role
    from banso.authz.principal import AuthMethod, Principal

    def person(uid: int, org: int, roles: frozenset[str] = frozenset({"analyst"})) -> Principal:
        return Principal(user_id=uid, email=f"p{uid}@x.jp", name=f"p{uid}", organization_id=org,
                         roles=frozenset(Role(r) for r in roles), mfa=True, method=AuthMethod.SESSION)

    parties = CommissionParties(commissioned_by_id=1, commissioner_org_id=10, organization_id=20,
                                named=frozenset({2, 3}), engaged=frozenset({2}), contact_id=2)
    engaged, unacked, colleague = person(2, 20), person(3, 20), person(4, 20)
    assert policy.can_see_request(engaged, parties)
    assert not policy.can_see_request(unacked, parties) and not policy.can_see_request(colleague, parties)
    assert policy.can_answer(engaged, parties, status="open")
    assert not policy.can_answer(engaged, parties, status="answered")
    assert policy.can_read_own_answer(engaged, parties, answered_by_id=2)
    assert not policy.can_read_own_answer(engaged, parties, answered_by_id=5)
    assert not policy.can_read_own_answer(unacked, parties, answered_by_id=3)
    owner = person(1, 10, frozenset({"officer"}))
    manager = Standing(council_state="active", role="secretariat", pending_consent=False, pledge_current=True)
    assert policy.can_address(owner, manager, parties)
    from dataclasses import replace
    assert not policy.can_address(owner, manager, replace(parties, state="completed"))
    assert not policy.can_address(person(9, 10, frozenset({"researcher"})), manager,
                                  replace(parties, commissioned_by_id=7))


def test_the_sql_twin_agrees_with_the_predicate(db: Session, scene: Scene, clock: FakeClock) -> None:
    """``restrict_open_requests`` (the home's tasks) answers as ``can_answer`` does, before and after a removal
    and an answer, for everyone around the commission."""
    from banso.programme import tank_requests

    req = tank_requests.create(db, council_id=scene.cast.council.id, commission_id=scene.id,
                               actor=scene.officer.principal(), now=clock.now(), title="QXTWIN", body="b",
                               matter="useful_information", due_at=clock.now() + timedelta(days=5))
    people = (scene.analyst, scene.leaver, scene.colleague, scene.contact, scene.officer, scene.cast.company)

    def agree() -> list[bool]:
        facts = cm.parties(db, scene.commission)
        answers = []
        for p in people:
            python = policy.can_answer(p.principal(), facts, status=req.status)
            sql = req.id in [r.id for r in tank_requests.open_for(db, actor=p.principal())]
            assert python == sql, p.user.id
            answers.append(python)
        return answers

    assert agree() == [True, True, False, True, False, False]
    scene.remove_leaver(db, clock)
    assert agree() == [True, False, False, True, False, False]
    tank_requests.answer(db, commission_id=scene.id, request_id=req.id, actor=scene.analyst.principal(),
                         now=clock.now(), text="回答", store=sealed_store.fake_deps())
    assert agree() == [False] * 6
