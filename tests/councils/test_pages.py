"""HTTP tests of the council pages (C1–C6): forms, bad input as form errors, and 404 for outsiders."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.councils import models as m
from banso.councils import service
from banso.councils.endpoints import file_store
from banso.information.models import Item
from banso.kit.clock import FakeClock, to_jst
from banso.leak.text import strip_marks
from banso.sealed import store as sealed
from banso.web.context import AppContext
from banso.web.deps import LANG_COOKIE
from tests.support.councils import Cast, active_council, day, establish, moment, propose
from tests.support.factories import Factory, audit_count
from tests.support.http import alert_text, sign_in

TABLES = (m.Council, m.BylawsVersion, m.Consent, m.Membership, m.Pledge, m.Meeting, m.AgendaItem,
          m.MeetingAttendance, m.Decision, m.ActionItem, m.MaterialRequest, m.MaterialFile)


def snapshot(db: Session) -> dict[str, Any]:
    """Row counts of the council tables and the states that a refused form must not change."""
    db.expire_all()
    counts: dict[str, Any] = {t.__tablename__: db.scalar(select(func.count()).select_from(t)) for t in TABLES}
    counts["states"] = [(c.id, c.state) for c in db.scalars(select(m.Council).order_by(m.Council.id))]
    counts["consents"] = [(c.id, c.decision) for c in db.scalars(select(m.Consent).order_by(m.Consent.id))]
    counts["actions"] = [(a.id, a.status) for a in db.scalars(select(m.ActionItem).order_by(m.ActionItem.id))]
    return counts


@pytest.fixture
def cast(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """A proposed council (officer as secretariat; a researcher and a company asked to consent)."""
    built = propose(factory, db, clock)
    db.commit()
    return built


@pytest.fixture
def active(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council whose founders all signed the pledge."""
    return active_council(factory, db, clock)


# --- list and proposal (C1) ------------------------------------------------------------------


def test_list_shows_my_councils_with_state_role_and_pending_consent(client: TestClient, db: Session, cast: Cast,
                                                                     ctx: AppContext) -> None:
    sign_in(client, db, cast.researcher, ctx)
    page = client.get("/councils")
    assert page.status_code == 200
    assert cast.council.title_ja in page.text
    assert "提案中" in page.text and "同意の依頼があります" in page.text and "会長" in page.text
    assert 'id="council-todo"' in page.text
    assert 'href="/councils/new"' not in page.text  # researchers do not propose

    sign_in(client, db, cast.outsider, ctx)
    page = client.get("/councils")
    assert page.status_code == 200 and cast.council.title_ja not in page.text


def test_list_and_council_page_in_english(client: TestClient, db: Session, cast: Cast, ctx: AppContext) -> None:
    sign_in(client, db, cast.researcher, ctx)
    client.cookies.set(LANG_COOKIE, "en")
    page = client.get(f"/councils/{cast.council.id}")
    assert page.status_code == 200
    assert "Proposed" in page.text and "You are asked to found this council" in page.text
    assert cast.council.title_en in page.text


def test_officer_proposes_a_council_through_the_form(client: TestClient, db: Session, factory: Factory,
                                                      ctx: AppContext, clock: FakeClock) -> None:
    officer = factory.person(roles=("officer",))
    researcher = factory.person(roles=("researcher",))
    company = factory.person(roles=("industry",))
    db.commit()
    token = sign_in(client, db, officer, ctx)
    form = client.get("/councils/new")
    assert form.status_code == 200
    assert f'value="{researcher.user.id}:chair"' in form.text and "第4条（守秘義務）" in form.text

    response = client.post("/councils", data={
        "csrf_token": token, "title_ja": "量子暗号通信 協議会", "title_en": "Quantum communication council",
        "purpose": "量子暗号通信の研究開発を伴走支援する。", "technology": "量子暗号通信", "project_ref": "K-Q-7",
        "consent_deadline": day(clock, 10), "founders": [f"{researcher.user.id}:chair", "", f"{company.user.id}:member"],
        "required": [str(researcher.user.id)], "designation_max_years": "3", "nondisclosure_days": "30",
        "bylaws_text": service.rules.model_bylaws_template() + "\n## 附則\n本規約は設置の日から施行する。\n",
    }, follow_redirects=False)
    assert response.status_code == 303, response.text[:800]
    council_id = int(response.headers["location"].split("/")[2].split("?")[0])
    council = db.get(m.Council, council_id)
    assert council is not None and council.state == "proposed" and council.required_person_ids == [researcher.user.id]
    bylaws = service.get_bylaws(db, council_id=council_id, version=1, actor=officer.principal())
    assert "量子暗号通信 協議会 規約" in bylaws.text and "附則" in bylaws.text and "3年を超える" in bylaws.text
    assert bylaws.designation_max_years == 3

    page = client.get(response.headers["location"])
    assert "協議会の設置を提案しました" in page.text
    assert page.text.count('data-decision="pending"') == 2 and 'id="consent-count">1 / 3<' in page.text


@pytest.mark.parametrize("change, message", [
    ({"consent_deadline": "2020-01-01"}, "未来の日時"),
    ({"consent_deadline": "not-a-date"}, "日付が正しくありません"),
    ({"title_ja": ""}, "名称（日本語）"),
    ({"technology": "", "project_ref": ""}, "技術又はプロジェクト"),
    ({"founders": [""]}, "提案者のほかに設立参加者"),  # issue 14: Japanese on the Japanese page (was English)
    ({"required": ["__other__"]}, "研究者を設立参加者に含めてください"),
])
def test_propose_bad_input_is_a_form_error_and_changes_nothing(
        change: dict[str, Any], message: str, client: TestClient, db: Session, factory: Factory, ctx: AppContext,
        clock: FakeClock) -> None:
    officer = factory.person(roles=("officer",))
    researcher = factory.person(roles=("researcher",))
    other = factory.person(roles=("researcher",))
    db.commit()
    token = sign_in(client, db, officer, ctx)
    data: dict[str, Any] = {"csrf_token": token, "title_ja": "試験協議会", "purpose": "目的", "technology": "技術",
                            "consent_deadline": day(clock, 7), "founders": [f"{researcher.user.id}:member"]}
    data.update(change)
    if data.get("required") == ["__other__"]:
        data["required"] = [str(other.user.id)]
    before = snapshot(db)
    response = client.post("/councils", data=data, follow_redirects=False)
    assert response.status_code == 422
    assert message in alert_text(response.text)
    assert 'id="propose-form"' in response.text
    if data["title_ja"]:
        assert 'value="試験協議会"' in response.text  # the form keeps what was typed
    assert snapshot(db) == before


def test_only_officers_may_open_the_proposal_form(client: TestClient, db: Session, cast: Cast,
                                                   ctx: AppContext, clock: FakeClock) -> None:
    token = sign_in(client, db, cast.researcher, ctx)
    assert client.get("/councils/new").status_code == 403
    before = snapshot(db)
    response = client.post("/councils", data={"csrf_token": token, "title_ja": "x", "purpose": "y",
                                              "technology": "z", "consent_deadline": day(clock, 7),
                                              "founders": [f"{cast.company.user.id}:member"]})
    assert response.status_code == 403
    assert snapshot(db) == before


# --- consent (C1) ----------------------------------------------------------------------------


def test_founders_consent_and_the_council_is_established(client: TestClient, db: Session, cast: Cast,
                                                          ctx: AppContext) -> None:
    url = f"/councils/{cast.council.id}"
    token = sign_in(client, db, cast.researcher, ctx)
    page = client.get(url)
    assert 'id="consent-button"' in page.text and "第62条第7項" in page.text  # the bylaws are readable
    response = client.post(f"{url}/consent", data={"csrf_token": token, "decision": "consent", "read_bylaws": "yes"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"{url}?done=consented"

    # Consenting twice: a 409 form error, audited, nothing else changed.
    before = snapshot(db)
    refused = audit_count(db, "council:consent:refused")
    again = client.post(f"{url}/consent", data={"csrf_token": token, "decision": "consent", "read_bylaws": "yes"})
    assert again.status_code == 409
    assert "既に回答済みです" in alert_text(again.text)
    assert snapshot(db) == before
    assert audit_count(db, "council:consent:refused") == refused + 1

    token = sign_in(client, db, cast.company, ctx)
    no_reason = client.post(f"{url}/consent", data={"csrf_token": token, "decision": "decline", "reason": " "})
    assert no_reason.status_code == 422 and "不同意の理由" in alert_text(no_reason.text)
    assert client.post(f"{url}/consent", data={"csrf_token": token, "decision": "consent", "read_bylaws": "yes"},
                       follow_redirects=False).status_code == 303
    db.expire_all()
    assert db.get(m.Council, cast.council.id).state == "established"  # type: ignore[union-attr]
    page = client.get(url)
    assert "設立済" in page.text and 'id="consent-count">3 / 3<' in page.text and 'id="consent-button"' not in page.text


def test_a_decline_with_reason_means_not_formed(client: TestClient, db: Session, cast: Cast, ctx: AppContext) -> None:
    url = f"/councils/{cast.council.id}"
    token = sign_in(client, db, cast.company, ctx)
    response = client.post(f"{url}/consent", data={"csrf_token": token, "decision": "decline",
                                                   "reason": "社内の承認が得られないため"}, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(url)
    assert "不成立" in page.text and "社内の承認が得られないため" in page.text and "不同意" in page.text


def test_consent_after_the_deadline_is_refused(client: TestClient, db: Session, cast: Cast, ctx: AppContext,
                                               clock: FakeClock) -> None:
    clock.advance(days=15)
    token = sign_in(client, db, cast.researcher, ctx)
    before = snapshot(db)
    response = client.post(f"/councils/{cast.council.id}/consent", data={"csrf_token": token, "decision": "consent", "read_bylaws": "yes"})
    assert response.status_code == 409 and "回答期限を過ぎています" in alert_text(response.text)
    assert snapshot(db) == before


def test_posts_without_the_csrf_token_are_refused(client: TestClient, db: Session, cast: Cast, ctx: AppContext) -> None:
    sign_in(client, db, cast.researcher, ctx)
    before = snapshot(db)
    response = client.post(f"/councils/{cast.council.id}/consent", data={"decision": "consent"})
    assert response.status_code == 403
    assert snapshot(db) == before


# --- access (I7, C3) -------------------------------------------------------------------------


def _urls(cast: Cast, db: Session, clock: FakeClock) -> tuple[list[str], list[str]]:
    """Create one of everything in an active council; return its GET and POST URLs."""
    officer = cast.officer.principal()
    cid = cast.council.id
    meeting = service.schedule_meeting(db, council_id=cid, actor=officer, now=clock.now(), title="第1回",
                                       starts_at=clock.now() + timedelta(days=3))
    decision = service.record_decision(db, council_id=cid, actor=officer, now=clock.now(), text="方針を確認した。",
                                       matter="useful_information", adoption="consensus", meeting_id=meeting.id,
                                       store=sealed.fake_deps())
    item = service.create_action_item(db, council_id=cid, actor=officer, now=clock.now(), title="資料作成",
                                      assignee_id=cast.company.user.id, due_at=clock.now() + timedelta(days=5),
                                      decision_id=decision.id)
    req = service.create_request(db, council_id=cid, actor=officer, now=clock.now(), title="動向資料", body="提供願う",
                                 matter="useful_information", addressee_kind="participant",
                                 addressee_id=cast.company.user.id, due_at=clock.now() + timedelta(days=5))
    pledge = service.pledge_preview(db, council_id=cid, actor=cast.company.principal(), now=clock.now()).current
    assert pledge is not None
    db.commit()
    base = f"/councils/{cid}"
    gets = [base, f"{base}/bylaws/1", f"{base}/meetings/{meeting.id}", f"{base}/requests/{req.id}",
            f"{base}/requests/{req.id}/files/1", f"{base}/pledges/{pledge.id}.pdf"]
    posts = [f"{base}/consent", f"{base}/pledge", f"{base}/meetings", f"{base}/decisions", f"{base}/actions",
             f"{base}/actions/{item.id}/complete", f"{base}/actions/{item.id}/cancel",
             f"{base}/meetings/{meeting.id}/minutes", f"{base}/requests", f"{base}/requests/{req.id}/answer",
             f"{base}/requests/{req.id}/file", f"{base}/leave", f"{base}/dissolve"]
    return gets, posts


def test_outsiders_get_404_on_every_council_url(client: TestClient, db: Session, active: Cast, ctx: AppContext,
                                                clock: FakeClock) -> None:
    gets, posts = _urls(active, db, clock)
    token = sign_in(client, db, active.outsider, ctx)
    before = snapshot(db)
    for url in gets:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "ページが見つかりません" in response.text and active.council.title_ja not in response.text, url
    for url in posts:
        response = client.post(url, data={"csrf_token": token, "decision": "consent", "text": "x", "title": "x",
                                          "reason": "x", "bylaws_version": "1", "agree": "yes"})
        assert response.status_code == 404, url
    assert client.get("/councils/999999").status_code == 404
    assert snapshot(db) == before
    assert active.council.title_ja not in client.get("/councils/actions").text


def test_anonymous_people_are_sent_to_login(client: TestClient, active: Cast) -> None:
    response = client.get(f"/councils/{active.council.id}", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_member_without_pledge_sees_only_the_public_page_and_the_pledge_prompt(
        client: TestClient, db: Session, factory: Factory, ctx: AppContext, clock: FakeClock) -> None:
    cast = establish(factory, db, clock, pledge=False, activate=False)
    service.sign_pledge(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                        bylaws_version=1)
    meeting = service.schedule_meeting(db, council_id=cast.council.id, actor=cast.officer.principal(),
                                       now=clock.now(), title="非公開の会合", starts_at=clock.now() + timedelta(days=2))
    db.commit()
    url = f"/councils/{cast.council.id}"
    token = sign_in(client, db, cast.company, ctx)
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="pledge-text"' in page.text and "50万円以下の罰金" in page.text and "第62条第7項" in page.text
    assert 'id="member-table"' in page.text and 'id="bylaws-table"' in page.text  # the public page
    assert "非公開の会合" not in page.text and 'id="meetings"' not in page.text and 'id="actions"' not in page.text
    assert client.get(f"{url}/meetings/{meeting.id}").status_code == 404

    # Signing needs the box ticked, and the bylaws version in force.
    unticked = client.post(f"{url}/pledge", data={"csrf_token": token, "bylaws_version": "1"})
    assert unticked.status_code == 422 and 'id="pledge-text"' in unticked.text
    stale = client.post(f"{url}/pledge", data={"csrf_token": token, "bylaws_version": "7", "agree": "yes"})
    assert stale.status_code == 409 and "現行版ではありません" in alert_text(stale.text)
    assert audit_count(db, "council:pledge:refused") == 1
    signed = client.post(f"{url}/pledge", data={"csrf_token": token, "bylaws_version": "1", "agree": "yes"},
                         follow_redirects=False)
    assert signed.status_code == 303
    page = client.get(url)
    assert "非公開の会合" in page.text and 'id="pledge-pdf"' in page.text and 'id="pledge-text"' not in page.text
    link = re.search(r'href="(/councils/\d+/pledges/\d+\.pdf)" id="pledge-pdf"', page.text)
    assert link is not None
    pdf = client.get(link.group(1))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    assert client.get(f"{url}/meetings/{meeting.id}").status_code == 200


# --- meetings, decisions, action items (C4, C5) ---------------------------------------------


def test_secretariat_schedules_a_meeting_with_agenda_by_matter(client: TestClient, db: Session, active: Cast,
                                                              ctx: AppContext, clock: FakeClock) -> None:
    url = f"/councils/{active.council.id}"
    token = sign_in(client, db, active.officer, ctx)
    before = snapshot(db)
    past = client.post(f"{url}/meetings", data={"csrf_token": token, "title": "第1回会合", "starts_at": moment(clock, -1)})
    assert past.status_code == 422 and "未来の日時" in alert_text(past.text)
    bad_matter = client.post(f"{url}/meetings", data={"csrf_token": token, "title": "第1回会合",
                                                      "starts_at": moment(clock, 3), "agenda_title": ["議題A"],
                                                      "agenda_matter": ["fifth"]})
    assert bad_matter.status_code == 422 and "事項の種類「fifth」は不明です" in alert_text(bad_matter.text)
    assert snapshot(db) == before

    response = client.post(f"{url}/meetings", data={
        "csrf_token": token, "title": "第1回会合", "starts_at": moment(clock, 3), "location": "内閣府 会議室",
        "agenda_title": ["研究動向の共有", "", "成果の公開方針"],
        "agenda_matter": ["useful_information", "effective_promotion", "rd_content_and_results"],
    }, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert page.text.count('data-matter="useful_information"><strong>') == 1
    assert "③ 研究開発の内容及び成果の取扱い" in page.text and "研究動向の共有" in page.text
    assert db.scalar(select(func.count()).select_from(m.AgendaItem)) == 2
    assert audit_count(db, "council:meeting:read") >= 1  # I8: the read is audited


def test_decision_and_action_items_from_the_meeting_page(client: TestClient, db: Session, active: Cast,
                                                          ctx: AppContext, clock: FakeClock) -> None:
    cid = active.council.id
    meeting = service.schedule_meeting(db, council_id=cid, actor=active.officer.principal(), now=clock.now(),
                                       title="第1回会合", starts_at=clock.now() + timedelta(days=1))
    db.commit()
    token = sign_in(client, db, active.officer, ctx)
    response = client.post(f"/councils/{cid}/decisions", data={
        "csrf_token": token, "text": "海外動向の調査を行う。", "matter": "useful_information", "adoption": "unanimous",
        "meeting_id": str(meeting.id)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith(f"/councils/{cid}/meetings/")
    decision = db.scalars(select(m.Decision)).one()
    assert decision.meeting_id == meeting.id and decision.adoption == "unanimous"

    # An action for a non-member: 422 on the meeting page, audited, nothing changed.
    before = snapshot(db)
    data = {"csrf_token": token, "title": "調査報告の作成", "due_at": day(clock, 14), "decision_id": str(decision.id),
            "meeting_id": str(meeting.id)}
    refused = client.post(f"/councils/{cid}/actions", data={**data, "assignee_id": str(active.outsider.user.id)})
    assert refused.status_code == 422
    assert "参加者である必要があります" in alert_text(refused.text) and 'id="meeting-title"' in refused.text
    assert snapshot(db) == before and audit_count(db, "council:action:refused") == 1
    past = client.post(f"/councils/{cid}/actions", data={**data, "assignee_id": str(active.company.user.id),
                                                        "due_at": day(clock, -2)})
    assert past.status_code == 422 and "未来の日時" in alert_text(past.text)
    assert snapshot(db) == before

    created = client.post(f"/councils/{cid}/actions", data={**data, "assignee_id": str(active.company.user.id)},
                          follow_redirects=False)
    assert created.status_code == 303
    item = db.scalars(select(m.ActionItem)).one()
    assert item.decision_id == decision.id and item.assignee_id == active.company.user.id
    assert to_jst(item.due_at).strftime("%H:%M") == "23:59"  # a due date means the end of that day (JST)

    # The assignee sees it across councils and completes it; completing twice is a conflict.
    token = sign_in(client, db, active.company, ctx)
    mine = client.get("/councils/actions")
    assert "調査報告の作成" in mine.text and active.council.title_ja in mine.text
    done = client.post(f"/councils/{cid}/actions/{item.id}/complete", data={"csrf_token": token, "back": "mine"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/councils/actions?done=completed"
    db.expire_all()
    assert db.get(m.ActionItem, item.id).status == "done"  # type: ignore[union-attr]
    again = client.post(f"/councils/{cid}/actions/{item.id}/complete", data={"csrf_token": token})
    assert again.status_code == 409


def test_overdue_action_items_are_highlighted(client: TestClient, db: Session, active: Cast, ctx: AppContext,
                                              clock: FakeClock) -> None:
    cid = active.council.id
    officer = active.officer.principal()
    late = service.create_action_item(db, council_id=cid, actor=officer, now=clock.now(), title="遅れている取組",
                                      assignee_id=active.company.user.id, due_at=clock.now() + timedelta(days=1))
    service.create_action_item(db, council_id=cid, actor=officer, now=clock.now(), title="余裕のある取組",
                               assignee_id=active.company.user.id, due_at=clock.now() + timedelta(days=30))
    db.commit()
    clock.advance(days=3)
    token = sign_in(client, db, active.company, ctx)
    page = client.get(f"/councils/{cid}")
    assert re.search(rf'data-action-id="{late.id}" data-status="open" class="row-overdue"', page.text)
    overdue = client.get("/councils/actions?overdue=1")
    assert "遅れている取組" in overdue.text and "余裕のある取組" not in overdue.text
    # Only the chair or the secretariat cancels; the member may not.
    response = client.post(f"/councils/{cid}/actions/{late.id}/cancel", data={"csrf_token": token})
    assert response.status_code == 403


def test_minutes_draft_then_approve(client: TestClient, db: Session, active: Cast, ctx: AppContext,
                                    clock: FakeClock) -> None:
    cid = active.council.id
    meeting = service.schedule_meeting(db, council_id=cid, actor=active.officer.principal(), now=clock.now(),
                                       title="第2回会合", starts_at=clock.now() + timedelta(hours=2))
    db.commit()
    url = f"/councils/{cid}/meetings/{meeting.id}"
    token = sign_in(client, db, active.officer, ctx)
    assert client.post(f"{url}/minutes", data={"csrf_token": token, "text": "議事の概要\n1. 研究動向を共有した。"},
                       follow_redirects=False).status_code == 303
    early = client.post(f"{url}/minutes/approve", data={"csrf_token": token})
    assert early.status_code == 409  # not held yet
    clock.advance(hours=3)
    token = sign_in(client, db, active.officer, ctx)
    assert client.post(f"{url}/attendance", data={"csrf_token": token, "user_id": str(active.company.user.id),
                                                  "status": "present"}, follow_redirects=False).status_code == 303
    # issue 13: approval follows the attendees' confirmation (the one-click approval of a draft was the hole)
    assert client.post(f"{url}/minutes/circulate", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    token = sign_in(client, db, active.company, ctx)
    assert client.post(f"{url}/minutes/confirm", data={"csrf_token": token, "answer": "confirm"},
                       follow_redirects=False).status_code == 303
    token = sign_in(client, db, active.officer, ctx)
    assert client.post(f"{url}/minutes/approve", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    page = client.get(url)
    assert "議事録承認済" in page.text and "研究動向を共有した。" in page.text and 'id="minutes-input"' not in page.text
    assert client.post(f"{url}/minutes", data={"csrf_token": token, "text": "改ざん"}).status_code == 409


# --- material requests (C6) ------------------------------------------------------------------


def test_material_request_answered_with_a_file_and_downloaded(client: TestClient, db: Session, active: Cast,
                                                              ctx: AppContext, clock: FakeClock) -> None:
    cid = active.council.id
    token = sign_in(client, db, active.officer, ctx)
    bad = client.post(f"/councils/{cid}/requests", data={"csrf_token": token, "title": "資料", "body": "願う",
                                                         "matter": "useful_information", "due_at": day(clock, 5),
                                                         "addressee_id": str(active.outsider.user.id)})
    assert bad.status_code == 422 and db.scalar(select(func.count()).select_from(m.MaterialRequest)) == 0
    response = client.post(f"/councils/{cid}/requests", data={
        "csrf_token": token, "title": "海外の技術動向資料", "body": "主要国の研究開発動向の資料を提供願います。",
        "matter": "useful_information", "addressee_id": str(active.company.user.id), "due_at": day(clock, 10),
    }, follow_redirects=False)
    assert response.status_code == 303
    req_url = response.headers["location"].split("?")[0]
    req = db.scalars(select(m.MaterialRequest)).one()
    assert req.addressee_kind == "participant"

    token = sign_in(client, db, active.company, ctx)
    page = client.get(req_url)
    assert 'id="answer-form"' in page.text and 'enctype="multipart/form-data"' in page.text
    empty = client.post(f"{req_url}/answer", data={"csrf_token": token, "text": "資料です"},
                        files=[("files", ("empty.txt", b"", "text/plain"))])
    assert empty.status_code == 422 and "empty" in alert_text(empty.text)
    body = "技術動向の概要（試験）".encode()
    answered = client.post(f"{req_url}/answer", data={"csrf_token": token, "text": "資料を添付します。"},
                           files=[("files", ("動向資料.txt", body, "text/plain"))], follow_redirects=False)
    assert answered.status_code == 303
    page = client.get(req_url)
    assert "回答済" in page.text and "動向資料.txt" in page.text and 'id="answer-form"' not in page.text
    link = re.search(r'href="(/councils/\d+/requests/\d+/files/\d+)" class="file-link"', page.text)
    assert link is not None
    downloads = audit_count(db, "council:file:download")
    file = client.get(link.group(1))
    # Issue 11 (I8): a copy stamped for the downloader, not the stored bytes.
    assert file.status_code == 200 and file.content != body and strip_marks(file.content.decode()) == body.decode()
    assert "attachment" in file.headers["content-disposition"]
    assert audit_count(db, "council:file:download") == downloads + 1

    token = sign_in(client, db, active.outsider, ctx)
    assert client.get(link.group(1)).status_code == 404


def test_an_answer_is_filed_as_an_information_item_once(client: TestClient, db: Session, active: Cast,
                                                       ctx: AppContext, clock: FakeClock) -> None:
    cid = active.council.id
    req = service.create_request(db, council_id=cid, actor=active.officer.principal(), now=clock.now(),
                                 title="量産技術の動向", body="資料を提供願います。", matter="useful_information",
                                 addressee_kind="participant", addressee_id=active.company.user.id,
                                 due_at=clock.now() + timedelta(days=10))
    db.commit()
    req_url = f"/councils/{cid}/requests/{req.id}"
    token = sign_in(client, db, active.company, ctx)
    assert 'id="file-answer-form"' not in client.get(req_url).text  # nothing to file before the answer
    early = client.post(f"{req_url}/file", data={"csrf_token": token})
    assert early.status_code == 409 and 'id="form-error"' in early.text
    service.answer_request(db, council_id=cid, request_id=req.id, actor=active.company.principal(), now=clock.now(),
                           text="別添のとおりです。", store=file_store(ctx),
                           files=[service.UploadedFile("動向.txt", "text/plain", "国別の動向".encode())])
    db.commit()
    assert 'id="file-answer-form"' in client.get(req_url).text
    filed = client.post(f"{req_url}/file", data={"csrf_token": token}, follow_redirects=False)
    assert filed.status_code == 303, filed.text
    found = re.match(r"^/information/items/(\d+)\?done=created$", filed.headers["location"])
    assert found, filed.headers["location"]
    item = db.get(Item, int(found.group(1)))
    assert item is not None and item.council_id == cid and item.origin == f"material_request:{req.id}"

    # Another pledged member reads the item; the chair may file too, but only once.
    token = sign_in(client, db, active.researcher, ctx)
    shown = client.get(f"/information/items/{item.id}")
    assert shown.status_code == 200 and "別添のとおりです。" in shown.text and "動向.txt" in shown.text
    assert 'id="file-answer-form"' in client.get(req_url).text
    again = client.post(f"{req_url}/file", data={"csrf_token": token})
    assert again.status_code == 409 and str(item.id) in alert_text(again.text) and "量産技術の動向" in again.text
    assert len(db.scalars(select(Item).where(Item.origin == item.origin)).all()) == 1

    token = sign_in(client, db, active.outsider, ctx)
    assert client.post(f"{req_url}/file", data={"csrf_token": token}).status_code == 404


def test_plain_members_do_not_file_someone_elses_answer(client: TestClient, db: Session, active: Cast,
                                                        ctx: AppContext, clock: FakeClock) -> None:
    cid = active.council.id
    req = service.create_request(db, council_id=cid, actor=active.officer.principal(), now=clock.now(),
                                 title="試験設備の状況", body="状況を教えてください。", matter="effective_promotion",
                                 addressee_kind="participant", addressee_id=active.researcher.user.id,
                                 due_at=clock.now() + timedelta(days=10))
    service.answer_request(db, council_id=cid, request_id=req.id, actor=active.researcher.principal(),
                           now=clock.now(), text="稼働中です。", store=file_store(ctx), files=[])
    db.commit()
    req_url = f"/councils/{cid}/requests/{req.id}"
    token = sign_in(client, db, active.company, ctx)  # a member, neither addressee nor chair/secretariat
    page = client.get(req_url)
    assert page.status_code == 200 and 'id="file-answer-form"' not in page.text
    refused = client.post(f"{req_url}/file", data={"csrf_token": token})
    assert refused.status_code == 422 and 'id="form-error"' in refused.text
    assert db.scalars(select(Item)).all() == []


# --- bylaws ----------------------------------------------------------------------------------


# The amendment pages (proposal, diff article by article, vote) are tested in test_bylaws_vote.py (issue 13).


def test_secretariat_invites_a_newcomer_and_changes_a_role(client: TestClient, db: Session, factory: Factory,
                                                           clock: FakeClock, ctx: AppContext) -> None:
    est = establish(factory, db, clock)
    newcomer = factory.person(roles=("industry",))
    db.commit()
    csrf = sign_in(client, db, est.officer, ctx)
    page = client.get(f"/councils/{est.council.id}")
    assert 'id="invite-form"' in page.text and f'value="{newcomer.user.id}"' in page.text
    assert 'id="member-orgs"' in page.text
    before = snapshot(db)
    past = client.post(f"/councils/{est.council.id}/invitations",
                       data={"csrf_token": csrf, "user_id": newcomer.user.id, "role": "member",
                             "deadline": day(clock, -1)})
    assert past.status_code == 422 and alert_text(past.text)
    assert snapshot(db) == before
    ok = client.post(f"/councils/{est.council.id}/invitations", follow_redirects=False,
                     data={"csrf_token": csrf, "user_id": newcomer.user.id, "role": "member",
                           "deadline": day(clock, 7)})
    assert ok.status_code == 303
    pending = db.scalars(select(m.Consent).where(m.Consent.council_id == est.council.id,
                                                 m.Consent.user_id == newcomer.user.id)).one()
    assert pending.kind == "join" and pending.decision == "pending"
    again = client.post(f"/councils/{est.council.id}/invitations",
                        data={"csrf_token": csrf, "user_id": newcomer.user.id, "role": "member",
                              "deadline": day(clock, 7)})
    assert again.status_code == 409
    role = client.post(f"/councils/{est.council.id}/roles", follow_redirects=False,
                       data={"csrf_token": csrf, "user_id": est.company.user.id, "role": "observer"})
    assert role.status_code == 303
    membership = db.scalars(select(m.Membership).where(m.Membership.council_id == est.council.id,
                                                       m.Membership.user_id == est.company.user.id,
                                                       m.Membership.left_at.is_(None))).one()
    assert membership.role == "observer"


def test_plain_members_cannot_invite(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                                     ctx: AppContext) -> None:
    est = establish(factory, db, clock)
    newcomer = factory.person()
    db.commit()
    csrf = sign_in(client, db, est.company, ctx)
    assert 'id="invite-form"' not in client.get(f"/councils/{est.council.id}").text
    refused = client.post(f"/councils/{est.council.id}/invitations",
                          data={"csrf_token": csrf, "user_id": newcomer.user.id, "role": "member",
                                "deadline": day(clock, 7)})
    assert refused.status_code == 403
