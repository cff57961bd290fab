"""HTTP tests: the inbox page, the nav badge and the JSON API; others' notifications answer 404; CSRF."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.notifications import service
from banso.web.context import AppContext
from banso.web.deps import LANG_COOKIE
from tests.support.factories import Factory
from tests.support.http import bearer, sign_in
from tests.support.mail import send


def test_inbox_requires_login(client: TestClient) -> None:
    response = client.get("/inbox", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert client.get("/api/v1/notifications").status_code == 401


def test_inbox_page_lists_own_notifications_in_the_ui_language(
    client: TestClient, db: Session, factory: Factory, ctx: AppContext
) -> None:
    me, other = factory.person(), factory.person()
    send(db, [me.user.id], ctx.clock.now(), title="第3回会議の開催予定", title_en="3rd meeting scheduled")
    send(db, [other.user.id], ctx.clock.now(), title="他人宛ての通知", title_en="For someone else")
    db.commit()
    sign_in(client, db, me, ctx)
    page = client.get("/inbox")
    assert page.status_code == 200
    assert "第3回会議の開催予定" in page.text and "他人宛ての通知" not in page.text
    assert "受信箱" in page.text and "会議の開催予定" in page.text  # kind label, translated
    assert re.search(r'id="nav-unread">1<', page.text)
    client.cookies.set(LANG_COOKIE, "en")
    english = client.get("/inbox").text
    assert "3rd meeting scheduled" in english and "Inbox" in english


def test_mark_read_open_and_mark_all_through_the_page(
    client: TestClient, db: Session, factory: Factory, ctx: AppContext
) -> None:
    me = factory.person()
    first, second, third = (send(db, [me.user.id], ctx.clock.now(), subject=f"call:{i}")[0] for i in (1, 2, 3))
    db.commit()
    csrf = sign_in(client, db, me, ctx)
    done = client.post(f"/inbox/{first.id}/read", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/inbox?done=read"
    opened = client.post(f"/inbox/{second.id}/open", data={"csrf_token": csrf}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"] == "/councils/12/meetings/3"
    assert service.unread_count(db, user_id=me.user.id) == 1
    page = client.get("/inbox?unread=1").text
    assert f'data-notification-id="{third.id}"' in page and f'data-notification-id="{first.id}"' not in page
    all_done = client.post("/inbox/read-all", data={"csrf_token": csrf}, follow_redirects=False)
    assert all_done.status_code == 303
    assert service.unread_count(db, user_id=me.user.id) == 0
    assert 'id="nav-unread"' not in client.get("/inbox?done=all").text


def test_page_posts_without_csrf_are_refused(
    client: TestClient, db: Session, factory: Factory, ctx: AppContext
) -> None:
    me = factory.person()
    note = send(db, [me.user.id], ctx.clock.now())[0]
    db.commit()
    sign_in(client, db, me, ctx)
    assert client.post(f"/inbox/{note.id}/read", data={}).status_code == 403
    assert client.post("/inbox/read-all", data={"csrf_token": "forged"}).status_code == 403
    assert client.post("/api/v1/notifications/read-all").status_code == 403  # cookie session, no header
    assert service.unread_count(db, user_id=me.user.id) == 1


def test_someone_elses_notification_is_404_on_pages_and_api(
    client: TestClient, db: Session, factory: Factory, ctx: AppContext, clock: FakeClock
) -> None:
    owner, intruder = factory.person(), factory.person()
    note = send(db, [owner.user.id], ctx.clock.now())[0]
    db.commit()
    csrf = sign_in(client, db, intruder, ctx)
    for action in ("read", "open"):
        assert client.post(f"/inbox/{note.id}/{action}", data={"csrf_token": csrf}).status_code == 404
    headers = bearer(db, intruder, clock)
    api = client.post(f"/api/v1/notifications/{note.id}/read", headers=headers)
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    assert client.post("/api/v1/notifications/99999999/read", headers=headers).status_code == 404
    assert client.get("/api/v1/notifications", headers=headers).json() == {"items": [], "unread_count": 0}
    assert service.unread_count(db, user_id=owner.user.id) == 1


def test_api_lists_and_marks_read(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    me = factory.person()
    older = send(db, [me.user.id], clock.now(), subject="call:1")[0]
    clock.advance(minutes=5)
    newer = send(db, [me.user.id], clock.now(), subject="call:2")[0]
    headers = bearer(db, me, clock)
    listed = client.get("/api/v1/notifications", headers=headers).json()
    assert [i["id"] for i in listed["items"]] == [newer.id, older.id] and listed["unread_count"] == 2
    assert listed["items"][0]["title_ja"] == "第3回会議の開催予定" and listed["items"][0]["subject"] == "call:2"
    marked = client.post(f"/api/v1/notifications/{older.id}/read", headers=headers)
    assert marked.status_code == 200 and marked.json()["read_at"] is not None
    unread = client.get("/api/v1/notifications?unread_only=true", headers=headers).json()
    assert [i["id"] for i in unread["items"]] == [newer.id] and unread["unread_count"] == 1
    assert client.post("/api/v1/notifications/read-all", headers=headers).json() == {"marked": 1}
    assert client.get("/api/v1/notifications?limit=0", headers=headers).status_code == 422


def test_hidden_notifications_are_gone_from_page_api_and_badge(
    client: TestClient, db: Session, factory: Factory, ctx: AppContext, clock: FakeClock
) -> None:
    me = factory.person()
    secret = send(db, [me.user.id], clock.now(), subject="call:7", title="退会前の協議会の通知")[0]
    service.hide_for_subject(db, user_id=me.user.id, subject="call:7", now=clock.now())
    db.commit()
    csrf = sign_in(client, db, me, ctx)
    page = client.get("/inbox").text
    assert "退会前の協議会の通知" not in page and 'id="nav-unread"' not in page
    assert client.post(f"/inbox/{secret.id}/open", data={"csrf_token": csrf}).status_code == 404
    headers = bearer(db, me, clock)
    assert client.get("/api/v1/notifications", headers=headers).json()["items"] == []
    assert client.post(f"/api/v1/notifications/{secret.id}/read", headers=headers).status_code == 404


def test_nav_badge_shows_on_other_pages(client: TestClient, db: Session, factory: Factory, ctx: AppContext) -> None:
    me = factory.person()
    send(db, [me.user.id, me.user.id], ctx.clock.now())
    send(db, [me.user.id], ctx.clock.now(), subject="call:13")
    db.commit()
    sign_in(client, db, me, ctx)
    dashboard = client.get("/dashboard").text
    assert re.search(r'id="nav-unread">2<', dashboard)
