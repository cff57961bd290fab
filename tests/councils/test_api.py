"""HTTP tests of the councils API: a whole flow, bad input as clear 4xx, refusals audited."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.leak.text import find_marks, strip_invisible
from banso.sealed.store import COPY_RECORD_LINE
from banso.web.context import AppContext
from tests.support.factories import Factory, audit_count
from tests.support.http import bearer, sign_in


def test_flow_over_http(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    officer = factory.person(roles=("officer",))
    researcher = factory.person()
    company = factory.person(roles=("industry",))
    outsider = factory.person()
    db.commit()
    h_off, h_res, h_com, h_out = (bearer(db, p, clock) for p in (officer, researcher, company, outsider))
    deadline = (clock.now() + timedelta(days=14)).isoformat()
    bad = client.post("/api/v1/councils", headers=h_off, json={
        "title_ja": "海洋無人機技術 協議会", "purpose": "伴走支援", "technology": "AUV",
        "consent_deadline": (clock.now() - timedelta(days=1)).isoformat(),
        "founders": [{"user_id": researcher.user.id}]})
    assert bad.status_code == 422 and bad.json()["field"] == "consent_deadline"
    extra = client.post("/api/v1/councils", headers=h_off, json={"title_ja": "x", "surprise": 1})
    assert extra.status_code == 422
    assert client.post("/api/v1/councils", headers=h_res, json={
        "title_ja": "x", "purpose": "y", "technology": "z", "consent_deadline": deadline,
        "founders": [{"user_id": officer.user.id}]}).status_code == 403
    made = client.post("/api/v1/councils", headers=h_off, json={
        "title_ja": "海洋無人機技術 協議会", "title_en": "UMV council", "purpose": "伴走支援", "technology": "AUV",
        "consent_deadline": deadline, "required_person_ids": [researcher.user.id],
        "founders": [{"user_id": researcher.user.id, "role": "chair"}, {"user_id": company.user.id}]})
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    assert client.get(f"/api/v1/councils/{cid}", headers=h_out).status_code == 404
    assert client.get("/api/v1/councils", headers=h_out).json() == []
    assert [c["id"] for c in client.get("/api/v1/councils", headers=h_com).json()] == [cid]

    assert client.post(f"/api/v1/councils/{cid}/consent", headers=h_res, json={"decision": "consent", "read_bylaws": True}).status_code == 200
    twice = client.post(f"/api/v1/councils/{cid}/consent", headers=h_res, json={"decision": "consent", "read_bylaws": True})
    assert twice.status_code == 409 and "already answered" in twice.json()["message"]
    # the refusal's audit entry was committed although the request failed (A1)
    db.expire_all()
    assert audit_count(db, "council:consent:refused") == 1
    assert client.post(f"/api/v1/councils/{cid}/consent", headers=h_com, json={"decision": "consent", "read_bylaws": True}).status_code == 200
    page = client.get(f"/api/v1/councils/{cid}", headers=h_com).json()
    assert page["council"]["state"] == "established"
    assert page["me"]["content_block"] == "pledge_required"
    assert client.get(f"/api/v1/councils/{cid}/meetings", headers=h_com).status_code == 404

    stale = client.post(f"/api/v1/councils/{cid}/pledges", headers=h_com, json={"bylaws_version": 0})
    assert stale.status_code == 409
    for h in (h_off, h_res, h_com):
        assert client.post(f"/api/v1/councils/{cid}/pledges", headers=h, json={"bylaws_version": 1}).status_code == 201
    assert client.post(f"/api/v1/councils/{cid}/activate", headers=h_off).json()["state"] == "active"

    starts = (clock.now() + timedelta(days=2)).isoformat()
    meeting = client.post(f"/api/v1/councils/{cid}/meetings", headers=h_off, json={
        "title": "第1回会合", "starts_at": starts,
        "agenda": [{"title": "社会実装イメージ", "matter": "useful_information"}]})
    assert meeting.status_code == 201, meeting.text
    assert client.post(f"/api/v1/councils/{cid}/meetings", headers=h_off, json={
        "title": "x", "starts_at": starts, "agenda": [{"title": "y", "matter": "gossip"}]}).status_code == 422
    decision = client.post(f"/api/v1/councils/{cid}/decisions", headers=h_off, json={
        "text": "試験海域の調整", "matter": "effective_promotion", "adoption": "consensus",
        "meeting_id": meeting.json()["id"]}).json()
    nonmember = client.post(f"/api/v1/councils/{cid}/actions", headers=h_off, json={
        "title": "調整", "assignee_id": outsider.user.id, "due_at": starts, "decision_id": decision["id"]})
    assert nonmember.status_code == 422 and nonmember.json()["field"] == "assignee_id"
    db.expire_all()
    assert audit_count(db, "council:action:refused") == 1
    item = client.post(f"/api/v1/councils/{cid}/actions", headers=h_off, json={
        "title": "調整", "assignee_id": company.user.id, "due_at": starts, "decision_id": decision["id"]})
    assert item.status_code == 201
    clock.advance(days=3)
    overdue = client.get(f"/api/v1/councils/{cid}/actions?overdue=true", headers=h_off).json()
    assert [a["id"] for a in overdue] == [item.json()["id"]] and overdue[0]["overdue"] is True
    mine = client.get("/api/v1/councils/actions/mine?overdue=true", headers=h_com).json()
    assert [a["id"] for a in mine] == [item.json()["id"]]
    done = client.post(f"/api/v1/councils/{cid}/actions/{item.json()['id']}/complete", headers=h_com, json={})
    assert done.json()["status"] == "done"

    req = client.post(f"/api/v1/councils/{cid}/requests", headers=h_off, json={
        "title": "動向資料", "body": "提供を求める", "matter": "useful_information", "addressee_kind": "participant",
        "addressee_id": company.user.id, "due_at": (clock.now() + timedelta(days=7)).isoformat()})
    assert req.status_code == 201, req.text
    rid = req.json()["id"]
    answered = client.post(f"/api/v1/councils/{cid}/requests/{rid}/answer", headers=h_com,
                           data={"text": "別添のとおり"},
                           files=[("files", ("data.csv", b"a,b\n1,2\n", "text/csv"))])
    assert answered.status_code == 200, answered.text
    fid = answered.json()["files"][0]["id"]
    got = client.get(f"/api/v1/councils/{cid}/requests/{rid}/files/{fid}", headers=h_res)
    # Numbers only: no cell can hold a mark, so the copy gains a marked copy-record line (I8: never unmarked).
    assert got.status_code == 200 and got.content.startswith(b"a,b\n1,2\n")
    assert find_marks(got.content.decode()) and COPY_RECORD_LINE in strip_invisible(got.content.decode())
    assert client.get(f"/api/v1/councils/{cid}/requests/{rid}/files/{fid}", headers=h_out).status_code == 404

    # issue 13: an amendment is a proposal every member accepts; the duty change is detected, not declared
    rows = client.get(f"/api/v1/councils/{cid}/bylaws/1", headers=h_off).json()["articles"]
    for row in rows:
        row.pop("number")
        row["text"] = row["text"].replace("盗用してはならない", "盗用し、又は目的外に利用してはならない")
    proposed = client.post(f"/api/v1/councils/{cid}/bylaws/proposals", headers=h_off,
                           json={"articles": rows, "summary": "守秘義務の条の改正"})
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["changes_duty"] is True and proposed.json()["state"] == "open"
    pid = proposed.json()["id"]
    for h in (h_res, h_com):
        voted = client.post(f"/api/v1/councils/{cid}/bylaws/proposals/{pid}/votes", headers=h,
                            json={"decision": "accept"})
        assert voted.status_code == 200, voted.text
    assert voted.json()["state"] == "accepted" and voted.json()["result_version"] == 2
    diff = client.get(f"/api/v1/councils/{cid}/bylaws/diff?from=1&to=2", headers=h_com).json()
    assert "目的外に利用" in diff["diff"]
    assert client.get(f"/api/v1/councils/{cid}/meetings", headers=h_com).status_code == 404  # re-sign first
    assert client.post(f"/api/v1/councils/{cid}/pledges", headers=h_com, json={"bylaws_version": 2}).status_code == 201
    assert client.get(f"/api/v1/councils/{cid}/meetings", headers=h_com).status_code == 200

    assert client.post(f"/api/v1/councils/{cid}/leave", headers=h_com).status_code == 200
    assert client.get(f"/api/v1/councils/{cid}", headers=h_com).status_code == 404


def test_session_without_second_factor_sees_no_content(client: TestClient, db: Session, factory: Factory,
                                                      clock: FakeClock, ctx: AppContext) -> None:
    """A token of a person without a second factor carries mfa=False: public page yes, content no (I7)."""
    from banso.councils import service
    from tests.support.councils import establish

    cast = establish(factory, db, clock)
    no_mfa = factory.person(with_totp=False)
    service.invite(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                   user_id=no_mfa.user.id, role="member", deadline=clock.now() + timedelta(days=3))
    service.consent(db, council_id=cast.council.id, actor=no_mfa.principal(mfa=False), now=clock.now(),
                    decision="consent")
    db.commit()
    h = bearer(db, no_mfa, clock)
    refused = client.post(f"/api/v1/councils/{cast.council.id}/pledges", headers=h, json={"bylaws_version": 1})
    assert refused.status_code == 403
    db.expire_all()
    assert audit_count(db, "council:pledge:refused") == 1
    page = client.get(f"/api/v1/councils/{cast.council.id}", headers=h).json()
    assert page["me"]["content_block"] == "pledge_required"
    assert client.get(f"/api/v1/councils/{cast.council.id}/decisions", headers=h).status_code == 404


def test_cookie_session_write_needs_csrf(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                                         ctx: AppContext) -> None:
    from tests.support.councils import propose

    cast = propose(factory, db, clock)
    db.commit()
    csrf = sign_in(client, db, cast.company, ctx)
    url = f"/api/v1/councils/{cast.council.id}/consent"
    assert client.post(url, json={"decision": "consent", "read_bylaws": True}).status_code == 403
    ok = client.post(url, json={"decision": "consent", "read_bylaws": True}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["decision"] == "consented"
