"""HEAD, OPTIONS and 405 over HTTP (web/methods.py, RFC 9110): HEAD mirrors GET on pages and JSON, records
nothing on downloads, and every 405 names the methods in Allow."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.information import service
from banso.information.deps import information_deps
from banso.information.models import Distribution, ItemFile
from banso.kit.clock import FakeClock
from banso.leak.pdf import make_sample_pdf
from banso.web.context import AppContext
from tests.support.councils import Cast, active_council
from tests.support.factories import Factory, Person, count_rows
from tests.support.http import bearer, sign_in

PDF = make_sample_pdf("評価報告", ["水中航法の誤差は 0.3%。"])
# Differ between two answers to the same request: when it was sent, and the page's per-render CSRF token.
VOLATILE = {"date", "content-length"}


@pytest.fixture
def active(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council (officer secretariat, researcher chair, company member, all pledged) and a bystander."""
    return active_council(factory, db, clock, bystander=True)


def _item(db: Session, ctx: AppContext, cast: Cast, clock: FakeClock) -> tuple[int, int]:
    item = service.create_item(db, information_deps(ctx), council_id=cast.council.id, actor=cast.company.principal(),
                               now=clock.now(), title="評価", summary="", body="本文 4242", matter="useful_information",
                               category="sampling_data", provenance="participant",
                               files=[service.Upload("評価報告.pdf", "application/pdf", PDF)])
    db.commit()
    file_id = db.scalar(select(ItemFile.id).where(ItemFile.item_id == item.id))
    assert file_id is not None
    return item.id, file_id


def _audit_rows(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def _same_head(get: httpx.Response, head: httpx.Response) -> None:
    assert head.status_code == get.status_code
    assert head.content == b""
    strip = {k: v for k, v in get.headers.items() if k not in VOLATILE and k != "set-cookie"}
    assert {k: v for k, v in head.headers.items() if k not in VOLATILE and k != "set-cookie"} == strip


def test_head_on_a_page_answers_as_get_without_a_body(client: TestClient, db: Session, active: Cast,
                                                      ctx: AppContext, clock: FakeClock) -> None:
    item_id, _ = _item(db, ctx, active, clock)
    anonymous_get = client.get("/dashboard", follow_redirects=False)
    anonymous_head = client.head("/dashboard", follow_redirects=False)
    _same_head(anonymous_get, anonymous_head)
    assert anonymous_head.status_code == 303 and anonymous_head.headers["location"].startswith("/login")
    for path in ("/", "/healthz", "/livez", "/login"):  # the front door's redirect, the probes, a public page
        get, head = client.get(path, follow_redirects=False), client.head(path, follow_redirects=False)
        _same_head(get, head)
        assert head.status_code in (200, 303), path
    assert client.head("/lang/en").status_code == 405  # sets a cookie: not run for a HEAD
    sign_in(client, db, active.researcher, ctx)
    for path in ("/dashboard", "/information", f"/councils/{active.council.id}"):
        get, head = client.get(path), client.head(path)
        assert get.status_code == 200 and get.content
        _same_head(get, head)
        assert head.headers["content-length"] == get.headers["content-length"] or "csrf_token" in get.text
    # the item page may stamp a view-only body and record the view (I8): HEAD is 405 there, for anyone
    for person in (active.researcher, active.outsider):
        sign_in(client, db, person, ctx)
        head = client.head(f"/information/items/{item_id}")
        assert head.status_code == 405 and head.headers["allow"] == "GET, OPTIONS"
    get, head = client.get(f"/councils/{active.council.id}"), client.head(f"/councils/{active.council.id}")
    assert get.status_code == 404  # not a member: 404 through either method (I7)
    _same_head(get, head)


def test_head_on_the_api_answers_as_get(client: TestClient, db: Session, active: Cast, ctx: AppContext,
                                        clock: FakeClock) -> None:
    item_id, _ = _item(db, ctx, active, clock)
    path = f"/api/v1/information/items/{item_id}"
    assert client.head(path).status_code == client.get(path).status_code == 401
    for person, status in ((active.researcher, 200), (active.outsider, 404)):
        token = bearer(db, person, clock)
        get, head = client.get(path, headers=token), client.head(path, headers=token)
        assert get.status_code == status
        _same_head(get, head)
        assert head.headers["content-length"] == get.headers["content-length"]


def test_head_on_a_download_records_nothing(client: TestClient, db: Session, active: Cast, ctx: AppContext,
                                            clock: FakeClock) -> None:
    item_id, file_id = _item(db, ctx, active, clock)
    sign_in(client, db, active.researcher, ctx)
    token = bearer(db, active.researcher, clock)
    before = count_rows(db, Distribution), _audit_rows(db)
    for path, headers in ((f"/information/items/{item_id}/files/{file_id}", {}),
                          (f"/information/items/{item_id}/body.txt", {}),
                          (f"/information/items/{item_id}/files/{file_id}/view", {}),
                          (f"/information/items/{item_id}/files/{file_id}/view/1.png", {}),
                          (f"/api/v1/information/items/{item_id}/files/{file_id}", token),
                          (f"/api/v1/information/items/{item_id}/export", token)):
        head = client.head(path, headers=headers)
        assert head.status_code == 405 and head.content == b"", path
        assert head.headers["allow"] == "GET, OPTIONS", path
    assert (count_rows(db, Distribution), _audit_rows(db)) == before  # no copy stamped, nothing audited
    copy = client.get(f"/information/items/{item_id}/files/{file_id}")
    assert copy.status_code == 200 and count_rows(db, Distribution) == before[0] + 1  # GET still records


def test_405_carries_allow_on_pages_and_the_api(client: TestClient, db: Session, factory: Factory,
                                                ctx: AppContext, clock: FakeClock) -> None:
    person: Person = factory.person(roles=("researcher",))
    db.commit()
    sign_in(client, db, person, ctx)
    page = client.delete("/dashboard")
    assert page.status_code == 405 and page.headers["allow"] == "GET, HEAD, OPTIONS"
    assert "text/html" in page.headers["content-type"] and "この操作はこのページでは使えません" in page.text
    login = client.put("/login")  # a page of two routes, GET and POST: Allow names both
    assert login.status_code == 405 and login.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    api = client.patch("/api/v1/information/items/1", headers=bearer(db, person, clock))
    assert api.status_code == 405 and set(re.split(r",\s*", api.headers["allow"])) >= {"GET", "HEAD", "OPTIONS"}
    body = api.json()
    assert body["error"] == "method_not_allowed"
    assert body["message"] == "この操作はこのページでは使えません / Method Not Allowed"
    assert body["detail"] == "この操作はこのページでは使えません"  # the reader's language: Japanese first
    english = client.patch("/api/v1/information/items/1", headers={**bearer(db, person, clock),
                                                                   "Accept-Language": "en"})
    assert english.status_code == 405 and english.json()["message"].startswith("この操作")  # message: both
    assert english.json()["detail"] == "Method Not Allowed"  # detail: the reader's half (Accept-Language)


def test_options_answers_allow_without_cors(client: TestClient) -> None:
    for path, allow in (("/dashboard", "GET, HEAD, OPTIONS"), ("/login", "GET, HEAD, POST, OPTIONS"),
                        ("/information/items/7/files/3", "GET, OPTIONS")):
        got = client.options(path, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
        assert got.status_code == 204 and got.headers["allow"] == allow and got.content == b"", path
        assert not any(k.startswith("access-control-") for k in got.headers)
    assert client.options("/no/such/page").status_code == 404
    assert client.head("/static/no-such.css").status_code == 404  # static files answer HEAD themselves


DOWNLOADISH = re.compile(r"(\.(xlsx|pdf|png|csv|txt|json)$|/files/\{|/documents/\{|/deliverables/\{|/materials/\{"
                         r"|/export$|/view$|/pdf$|/reports/\{)")


def test_no_download_route_answers_head_by_running_get(app) -> None:  # type: ignore[no-untyped-def]
    """Every GET route whose path names a file, a copy, an export or the viewer is in the egress class (HEAD 405)."""
    from fastapi.routing import iter_route_contexts

    from banso.web.methods import head_class

    read = [c.path for c in iter_route_contexts(app.routes)
            if c.path and "GET" in (c.methods or ()) and head_class(c.original_route, c.path) == "read"]
    assert len(read) > 100  # pages and JSON reads answer HEAD
    leaking = [p for p in read if DOWNLOADISH.search(p)]
    assert leaking == [], "\n".join(leaking)
