"""Meetings as held (issue 13, DESIGN C5) on the council pages: a meeting recorded after the fact, the attendance
sheet in one form, minutes circulated, confirmed and approved, and meeting materials — each step and each refusal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.councils import models as m
from banso.councils import service
from banso.kit.clock import FakeClock
from banso.leak.text import find_marks, strip_invisible
from banso.web.context import AppContext
from tests.support.councils import Cast, active_council, moment
from tests.support.factories import Factory, audit_count
from tests.support.http import alert_text, sign_in


@pytest.fixture
def cast(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council: officer (secretariat), researcher (chair), company and a bystander (members)."""
    return active_council(factory, db, clock, bystander=True)


def _held(db: Session, cast: Cast, clock: FakeClock) -> int:
    meeting = service.schedule_meeting(db, council_id=cast.council.id, actor=cast.officer.principal(),
                                       now=clock.now(), title="第1回会合", starts_at=clock.now() - timedelta(days=1),
                                       held=True)
    db.commit()
    return meeting.id


def test_secretariat_records_a_meeting_already_held(client: TestClient, db: Session, cast: Cast, ctx: AppContext,
                                                    clock: FakeClock) -> None:
    cid = cast.council.id
    token = sign_in(client, db, cast.officer, ctx)
    page = client.get(f"/councils/{cid}")
    assert 'id="meeting-held"' in page.text and "開催済みの会合として記録する" in page.text
    future = client.post(f"/councils/{cid}/meetings", data={"csrf_token": token, "title": "第1回", "held": "yes",
                                                              "starts_at": moment(clock, 2)})
    assert future.status_code == 422 and "開催済みとして記録できるのは過去の会合のみです" in alert_text(future.text)
    assert 'id="meeting-held" name="held" type="checkbox" value="yes" checked' in future.text  # the form is kept
    made = client.post(f"/councils/{cid}/meetings", data={"csrf_token": token, "title": "第1回会合", "held": "yes",
                                                          "starts_at": moment(clock, -2), "agenda_title": "研究動向",
                                                          "agenda_matter": "useful_information"},
                       follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"].endswith("done=held")
    shown = client.get(made.headers["location"])
    assert "開催済みの会合として記録しました。" in shown.text and "会合を設定しました。" not in shown.text
    assert audit_count(db, "council:meeting:record") == 1
    token = sign_in(client, db, cast.company, ctx)
    assert client.post(f"/councils/{cid}/meetings", data={"csrf_token": token, "title": "x", "held": "yes",
                                                          "starts_at": moment(clock, -2)}).status_code == 403


def test_attendance_of_everyone_in_one_form(client: TestClient, db: Session, cast: Cast, ctx: AppContext,
                                            clock: FakeClock) -> None:
    mid = _held(db, cast, clock)
    url = f"/councils/{cast.council.id}/meetings/{mid}"
    token = sign_in(client, db, cast.officer, ctx)
    page = client.get(url)
    # One form, one select per member, every status offered (the old page had one form per person).
    assert page.text.count('id="attendance-sheet"') == 1 and page.text.count('class="attendance-form"') == 0
    assert all(f'value="{v}"' in page.text for v in ("present", "absent", "proxy", "observer"))
    members = [cast.officer, cast.researcher, cast.company, cast.extra["bystander"]]
    ids = [str(p.user.id) for p in members]
    bad = client.post(f"{url}/attendance-sheet", data={"csrf_token": token, "user_id": [*ids, "999999"],
                                                       "status": ["present", "proxy", "absent", "observer", "present"]})
    assert bad.status_code == 422
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(m.MeetingAttendance)) == 0  # nothing half-written
    saved = client.post(f"{url}/attendance-sheet", data={"csrf_token": token, "user_id": ids,
                                                         "status": ["present", "proxy", "absent", "observer"]},
                        follow_redirects=False)
    assert saved.status_code == 303
    page = client.get(saved.headers["location"])
    assert "出席表を保存しました。" in page.text
    for person, status in zip(members, ["present", "proxy", "absent", "observer"], strict=True):
        assert f'data-user-id="{person.user.id}" data-status="{status}"' in page.text
    assert audit_count(db, "council:attendance:sheet") == 1
    token = sign_in(client, db, cast.company, ctx)
    assert client.post(f"{url}/attendance-sheet", data={"csrf_token": token, "user_id": ids,
                                                        "status": ["absent"] * 4}).status_code == 403


def test_minutes_circulated_confirmed_and_approved_on_the_pages(client: TestClient, db: Session, cast: Cast,
                                                                ctx: AppContext, clock: FakeClock) -> None:
    cid = cast.council.id
    mid = _held(db, cast, clock)
    url = f"/councils/{cid}/meetings/{mid}"
    officer = cast.officer.principal()
    service.record_attendance(db, council_id=cid, meeting_id=mid, actor=officer, now=clock.now(),
                              user_id=cast.company.user.id, status="present")
    service.record_attendance(db, council_id=cid, meeting_id=mid, actor=officer, now=clock.now(),
                              user_id=cast.extra["bystander"].user.id, status="absent")
    db.commit()
    token = sign_in(client, db, cast.officer, ctx)
    client.post(f"{url}/minutes", data={"csrf_token": token, "text": "議事録案\n1. 研究動向を共有した。"})
    page = client.get(url)
    assert 'id="circulate-form"' in page.text and 'id="approve-minutes"' not in page.text  # no one-click approval
    direct = client.post(f"{url}/minutes/approve", data={"csrf_token": token})
    assert direct.status_code == 409 and "出席者の確認を経てから" in alert_text(direct.text)
    sent = client.post(f"{url}/minutes/circulate", data={"csrf_token": token, "deadline": ""}, follow_redirects=False)
    assert sent.status_code == 303
    page = client.get(sent.headers["location"])
    assert "議事録案を出席者へ確認依頼しました。" in page.text and "確認依頼中" in page.text
    assert re.search(r'id="approve-minutes"\s+disabled', page.text)  # the service says: not yet
    early = client.post(f"{url}/minutes/approve", data={"csrf_token": token})
    assert early.status_code == 409 and "全ての出席者の確認が済むか" in alert_text(early.text)

    token = sign_in(client, db, cast.extra["bystander"], ctx)  # absent: not asked
    page = client.get(url)
    assert 'id="confirm-form"' not in page.text
    refused = client.post(f"{url}/minutes/confirm", data={"csrf_token": token, "answer": "confirm"})
    assert refused.status_code == 403
    db.expire_all()
    assert audit_count(db, "council:minutes:refused") == 3  # direct, early, and this one

    token = sign_in(client, db, cast.company, ctx)
    page = client.get(url)
    assert 'id="confirm-form"' in page.text and "未回答" in page.text
    empty = client.post(f"{url}/minutes/confirm", data={"csrf_token": token, "answer": "comment", "comment": " "})
    assert empty.status_code == 422
    said = client.post(f"{url}/minutes/confirm", data={"csrf_token": token, "answer": "comment",
                                                       "comment": "1.に試験海域の件を追記願います。"},
                       follow_redirects=False)
    assert said.status_code == 303
    token = sign_in(client, db, cast.officer, ctx)
    page = client.get(url)
    assert "1.に試験海域の件を追記願います。" in page.text and "意見あり" in page.text  # comments shown to the secretariat
    token = sign_in(client, db, cast.company, ctx)
    assert client.post(f"{url}/minutes/confirm", data={"csrf_token": token, "answer": "confirm"},
                       follow_redirects=False).status_code == 303
    token = sign_in(client, db, cast.officer, ctx)
    page = client.get(url)
    assert not re.search(r'id="approve-minutes"\s+disabled', page.text)
    assert client.post(f"{url}/minutes/approve", data={"csrf_token": token},
                       follow_redirects=False).status_code == 303
    assert "議事録承認済" in client.get(url).text


def test_meeting_materials_on_the_page(client: TestClient, db: Session, cast: Cast, ctx: AppContext,
                                       clock: FakeClock) -> None:
    cid = cast.council.id
    mid = _held(db, cast, clock)
    url = f"/councils/{cid}/meetings/{mid}"
    token = sign_in(client, db, cast.company, ctx)
    missing = client.post(f"{url}/materials", data={"csrf_token": token, "title": "資料1"})
    assert missing.status_code == 422 and "ファイルを選んでください" in alert_text(missing.text)
    made = client.post(f"{url}/materials", data={"csrf_token": token, "title": "資料1 試験計画", "confidential": "yes"},
                       files={"file": ("plan.csv", "項目,値\n試験海域,相模湾\n".encode(), "text/csv")},
                       follow_redirects=False)
    assert made.status_code == 303
    page = client.get(made.headers["location"])
    assert "資料を提供しました。" in page.text and "秘密として提供" in page.text
    row = re.search(r'data-material-id="(\d+)" data-confidential="yes"', page.text)
    assert row is not None
    token = sign_in(client, db, cast.researcher, ctx)
    got = client.get(f"{url}/materials/{row.group(1)}")
    assert got.status_code == 200 and got.headers["cache-control"] == "no-store"
    assert "相模湾" in strip_invisible(got.content.decode()) and find_marks(got.content.decode())
    assert audit_count(db, "council:material:download") == 1
    sign_in(client, db, cast.outsider, ctx)
    assert client.get(f"{url}/materials/{row.group(1)}").status_code == 404
    assert client.get(url).status_code == 404


def test_a_large_material_on_the_page_and_a_page_413_is_a_page(client: TestClient, db: Session, cast: Cast,
                                                               ctx: AppContext, clock: FakeClock) -> None:
    """Outside test F2: the browser form refused a 3 MB material with a JSON 413; it is accepted now (the 20 MB
    cap of item files), and a body over a page route's limit is answered with the Japanese error page."""
    cid = cast.council.id
    mid = _held(db, cast, clock)
    url = f"/councils/{cid}/meetings/{mid}"
    token = sign_in(client, db, cast.company, ctx)
    big = "項目,値\n".encode() + "試験海域,相模湾\n".encode() * 140_000  # about 3.1 MB
    made = client.post(f"{url}/materials", data={"csrf_token": token, "title": "資料3 観測データ"},
                       files={"file": ("data.csv", big, "text/csv")}, follow_redirects=False)
    assert made.status_code == 303, made.text[:300]
    # A page route with the app-wide limit: 413 as an HTML page, in Japanese, not JSON.
    huge = client.post(f"/councils/{cid}/meetings", data={"csrf_token": token, "title": "x" * 3_000_000})
    assert huge.status_code == 413
    assert huge.headers["content-type"].startswith("text/html")
    assert "リクエスト本文が大きすぎます" in huge.text and "payload_too_large" in huge.text
    # The API keeps its JSON answer.
    api = client.post(f"/api/v1/councils/{cid}/meetings", content=b"{" + b" " * 3_000_000 + b"}",
                      headers={"content-type": "application/json"})
    assert api.status_code == 413 and api.json()["error"] == "payload_too_large"


def test_an_unknown_agenda_matter_on_the_form_is_refused_in_japanese_first(
        client: TestClient, db: Session, cast: Cast, ctx: AppContext, clock: FakeClock) -> None:
    """Outside test F5: ``agenda_matter=nope`` was refused in English only ("unknown matter 'nope'…")."""
    token = sign_in(client, db, cast.officer, ctx)
    page = client.post(f"/councils/{cast.council.id}/meetings", data={
        "csrf_token": token, "title": "第2回", "starts_at": moment(clock, 3), "agenda_title": "研究動向",
        "agenda_matter": "nope"})
    assert page.status_code == 422
    assert "事項の種類「nope」は不明です" in alert_text(page.text)
