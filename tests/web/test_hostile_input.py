"""Hostile input over HTTP (issue 17, O1): every bad input is a clear 4xx whose message puts Japanese first,
never a 500 — controls in titles, Windows device names, dates outside 1900–2199, NUL in a search, JSON and
YAML nested 100,000 deep. Through the app's TestClient on the real database, with server errors returned
as responses (not raised), so a 500 fails the assertion that names it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from banso.db.base import UTCDateTime
from banso.information.models import Item
from banso.kit.clock import FakeClock
from banso.kit.nesting import JsonNesting, json_depth, value_depth
from banso.web.context import AppContext
from banso.web.deps import Db
from tests.support.councils import Cast, establish, moment
from tests.support.factories import Factory, count_rows
from tests.support.http import alert_text, bearer, sign_in
from tests.support.information import API, item_form

FAR_FUTURE = "9999-12-31T23:59:59-14:00"  # past year 9999 once turned into UTC: OverflowError
FAR_PAST = "0001-01-01T00:00:00+14:00"  # before year 1 in UTC
OUT_OF_WINDOW = ("2200-01-01T00:00:00+09:00", "1899-12-31T23:00:00+09:00")
CONTROLLED_TITLES = {
    "NUL": "AUV\x00評価", "ESC": "AUV\x1b[31m評価", "RLO": "評価\u202efdp.exe", "CRLF": "AUV\r\nX-Injected: 1",
    "LF": "AUV\n評価", "TAB": "AUV\t評価", "LRI": "評価\u2066x", "ZWNBSP private use": "評価\ue000",
    "C1": "評価\x9b", "unassigned": "評価\U000e0080", "line separator": "評価\u2028x",
}
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def japanese_first(message: str) -> bool:
    """Return True when the message's first half (before " / ") is Japanese and an English half follows."""
    first, _, second = message.partition(" / ")
    return bool(_CJK.search(first)) and bool(second) and not _CJK.search(second.split("(")[0][:20])


def problem(response: httpx.Response, field: str) -> str:
    """Return the message of the refused field of a 422 (a domain refusal or a request-validation one)."""
    assert response.status_code == 422, response.text
    body = response.json()
    if "problems" in body:
        assert japanese_first(body["message"]), body
        return next(p["message"] for p in body["problems"] if p["field"] == field)
    assert body.get("field") == field, body
    return str(body["message"])


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """The app's client, answering server errors as 500 responses instead of raising them."""
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def cast(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council whose founders pledged."""
    made = establish(factory, db, clock)
    db.commit()
    return made


def _council(clock: FakeClock, cast: Cast, **changes: Any) -> dict[str, Any]:
    body = {"title_ja": "海洋無人機技術 協議会", "purpose": "伴走支援", "technology": "AUV",
            "consent_deadline": (clock.now() + timedelta(days=14)).isoformat(),
            "founders": [{"user_id": cast.researcher.user.id}]}
    return {**body, **changes}


# --- text: one rule for titles and file names ----------------------------------------------------


def test_titles_with_control_bidi_or_unassigned_characters_are_refused(client: TestClient, db: Session,
                                                                       cast: Cast, clock: FakeClock) -> None:
    h_com, h_off = bearer(db, cast.company, clock), bearer(db, cast.officer, clock)
    before = count_rows(db, Item)
    for name, title in CONTROLLED_TITLES.items():
        item = client.post(f"{API}/items", headers=h_com, data=item_form(cast, clock, title=title))
        message = problem(item, "title")
        assert japanese_first(message), (name, message)
        council = client.post("/api/v1/councils", headers=h_off, json=_council(clock, cast, title_ja=title))
        assert japanese_first(problem(council, "title_ja")), name
        incident = client.post(f"{API}/incidents", headers=h_com, json={"title": title, "description": "漏えい"})
        assert japanese_first(problem(incident, "title")), name
    assert count_rows(db, Item) == before
    nul = client.post(f"{API}/items", headers=h_com, data=item_form(cast, clock, title="AUV\x00評価"))
    assert "U+0000" in nul.json()["message"]  # the message names the character
    crlf = client.post(f"{API}/items", headers=h_com, data=item_form(cast, clock, title="AUV\r\n評価"))
    assert "1 行" in crlf.json()["message"] and "single line" in crlf.json()["message"]


def test_bodies_keep_line_feeds_and_tabs_but_not_other_controls(client: TestClient, db: Session, cast: Cast,
                                                                clock: FakeClock) -> None:
    h_com, h_res = bearer(db, cast.company, clock), bearer(db, cast.researcher, clock)
    made = client.post(f"{API}/items", headers=h_com,
                       data=item_form(cast, clock, body="一行目\r\n\t二行目\r三行目", summary="概要\r\n続き"))
    assert made.status_code == 201, made.text
    detail = client.get(f"{API}/items/{made.json()['id']}", headers=h_res).json()
    assert detail["body"] == "一行目\n\t二行目\n三行目" and detail["item"]["summary"] == "概要\n続き"
    for body in ("本文\x1b]8;;http://x\x07", "本文\x00", "本文\u202e"):
        assert japanese_first(problem(client.post(f"{API}/items", headers=h_com,
                                                  data=item_form(cast, clock, body=body)), "body"))


INVISIBLE_TITLES = {"ZWSP": "a\u200bb", "BOM": "\ufeff評価", "tag characters": "評価\U000e0041\U000e0042",
                    "word joiner": "評\u2060価", "soft hyphen": "評\u00ad価", "only ZWJ": "\u200d",
                    "only a combining mark": "\u0301", "Hangul filler": "\u3164"}


def test_titles_of_invisible_characters_are_refused_but_emoji_joiners_kept(
        client: TestClient, db: Session, cast: Cast, clock: FakeClock) -> None:
    # Issue 17: "a\u200bb" looked like "ab", and a title of a lone BOM or tag characters showed nothing.
    h_com, h_off = bearer(db, cast.company, clock), bearer(db, cast.officer, clock)
    for name, title in INVISIBLE_TITLES.items():
        message = problem(client.post(f"{API}/items", headers=h_com, data=item_form(cast, clock, title=title)),
                          "title")
        assert japanese_first(message) and ("U+" in message or "visible" in message), (name, message)
        council = client.post("/api/v1/councils", headers=h_off, json=_council(clock, cast, title_ja=title))
        assert japanese_first(problem(council, "title_ja")), name
    family = "AUV 試験班 \U0001f468\u200d\U0001f469\u200d\U0001f467"  # ZWJ joins an emoji sequence
    made = client.post(f"{API}/items", headers=h_com, data=item_form(cast, clock, title=family))
    assert made.status_code == 201, made.text


def test_bodies_keep_prose_joiners_but_not_a_bom_or_tag_characters(
        client: TestClient, db: Session, cast: Cast, clock: FakeClock) -> None:
    h_com = bearer(db, cast.company, clock)
    prose = "本文\u200bの改行位置\u00ad と\u200c結合"
    assert client.post(f"{API}/items", headers=h_com, data=item_form(cast, clock, body=prose)).status_code == 201
    for body in ("本文\ufeff続き", "本文\U000e0049\U000e0047", "\u200b\u200d"):
        assert japanese_first(problem(client.post(f"{API}/items", headers=h_com,
                                                  data=item_form(cast, clock, body=body)), "body")), body


@pytest.mark.parametrize("name", ["CON.txt", "con.tar.txt", "Nul.md", "COM1.txt", "lpt9 .txt", "AUX"])
def test_windows_device_names_are_refused_as_file_names(client: TestClient, db: Session, cast: Cast,
                                                        clock: FakeClock, name: str) -> None:
    refused = client.post(f"{API}/items", headers=bearer(db, cast.company, clock), data=item_form(cast, clock),
                          files=[("files", (name, "試験結果\n".encode(), "text/plain"))])
    assert refused.status_code == 422 and refused.json()["error"] == "upload_rejected", refused.text
    assert japanese_first(refused.json()["message"]) and "Windows" in refused.json()["message"]


def test_file_names_and_titles_share_one_definition_of_forbidden_characters(
        client: TestClient, db: Session, cast: Cast, clock: FakeClock) -> None:
    h_com = bearer(db, cast.company, clock)
    for name, title in CONTROLLED_TITLES.items():
        if name in ("NUL", "TAB", "LF", "CRLF"):
            continue  # multipart (HTML5) sends these as %00, %09 …; safe_filename's unit tests cover them
        refused = client.post(f"{API}/items", headers=h_com, data=item_form(cast, clock),
                              files=[("files", (f"{title}.txt", "試験\n".encode(), "text/plain"))])
        assert refused.status_code == 422 and japanese_first(refused.json()["message"]), (name, refused.text)


# --- dates: years 1900–2199 on every door ---------------------------------------------------------


@pytest.mark.parametrize("when", [FAR_FUTURE, FAR_PAST, *OUT_OF_WINDOW])
def test_dates_outside_the_window_are_422_on_the_api(client: TestClient, db: Session, cast: Cast,
                                                     clock: FakeClock, when: str) -> None:
    h_off, h_com = bearer(db, cast.officer, clock), bearer(db, cast.company, clock)
    council = client.post("/api/v1/councils", headers=h_off, json=_council(clock, cast, consent_deadline=when))
    assert japanese_first(problem(council, "consent_deadline"))
    meeting = client.post(f"/api/v1/councils/{cast.council.id}/meetings", headers=h_off,
                          json={"title": "第1回", "starts_at": when})
    assert "1900" in problem(meeting, "starts_at")
    item = client.post(f"{API}/items", headers=h_com, data=item_form(cast, clock, publish_at=when))
    assert japanese_first(problem(item, "publish_at"))
    designation = client.post(f"{API}/items", headers=h_com, data={
        **item_form(cast, clock), "designate": "true", "reason": "理由", "scope_kind": "all", "ends_at": when})
    assert designation.status_code == 422 and "2199" in designation.text


@pytest.mark.parametrize("when", [0, "0", 1.5, 100000000000, "1733500000", " -1.5e3 ", True])
def test_numbers_are_not_dates_on_the_api(client: TestClient, db: Session, cast: Cast, clock: FakeClock,
                                          when: Any) -> None:
    """Outside test F7: ``"starts_at": 0`` made a meeting in 1970 (pydantic reads a number as a Unix time);
    every ``Moment``/``Day`` of the API now refuses a number, in JSON and in a form field alike."""
    h_off, h_com = bearer(db, cast.officer, clock), bearer(db, cast.company, clock)
    meeting = client.post(f"/api/v1/councils/{cast.council.id}/meetings", headers=h_off,
                          json={"title": "第1回", "starts_at": when, "held": True})
    message = problem(meeting, "starts_at")
    assert japanese_first(message) and "not a number" in message, message
    council = client.post("/api/v1/councils", headers=h_off, json=_council(clock, cast, consent_deadline=when))
    assert "数値ではなく日付" in problem(council, "consent_deadline")
    if not isinstance(when, (bool, float)):  # a form field is text: the digits a number would send
        item = client.post(f"{API}/items", headers=h_com, data=item_form(cast, clock, publish_at=str(when)))
        assert "not a number" in problem(item, "publish_at")


def test_dates_outside_the_window_are_422_on_a_form(client: TestClient, db: Session, cast: Cast,
                                                    ctx: AppContext, clock: FakeClock) -> None:
    token = sign_in(client, db, cast.officer, ctx)
    url = f"/councils/{cast.council.id}/meetings"
    for when in ("9999-12-31T23:59", "0001-01-01T00:00", "2200-01-01"):
        page = client.post(url, data={"csrf_token": token, "title": "第1回会合", "starts_at": when})
        assert page.status_code == 422, page.text[:300]
        assert "1900" in alert_text(page.text) and "2199" in alert_text(page.text)
    assert client.post(url, data={"csrf_token": token, "title": "第1回会合", "starts_at": moment(clock, 3)},
                       follow_redirects=False).status_code == 303


def test_an_overflow_wrapped_by_the_database_layer_is_a_422(app: FastAPI, client: TestClient) -> None:
    """The safety net under the schemas: SQLAlchemy wraps what a bind parameter raises in StatementError."""

    def bind_far_future(db: Db) -> dict[str, str]:
        far = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14)))
        db.execute(select(literal(far, UTCDateTime())))
        return {"reached": "no"}

    app.add_api_route("/api/v1/test-overflow", bind_far_future, methods=["GET"])
    answer = client.get("/api/v1/test-overflow")
    assert answer.status_code == 422 and japanese_first(answer.json()["message"]), answer.text


# --- search ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["abc\x00", "\x00", "航法\x1b", "航\u202e法"])
def test_control_characters_in_a_search_are_a_422_saying_so(client: TestClient, db: Session, cast: Cast,
                                                             ctx: AppContext, clock: FakeClock, query: str) -> None:
    found = client.get(f"{API}/search", headers=bearer(db, cast.company, clock), params={"q": query})
    assert japanese_first(problem(found, "query")) and "U+" in found.json()["message"]
    sign_in(client, db, cast.company, ctx)
    page = client.get("/information/search", params={"q": query})
    assert page.status_code == 422 and "U+" in alert_text(page.text)


# --- nesting ----------------------------------------------------------------------------------------


DEEP_JSON = "[" * 100_000 + "]" * 100_000
JSON_VALUES = st.recursive(st.none() | st.integers() | st.text(alphabet='[]{}"\\ a航\n', max_size=6),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                       max_size=3),
                           max_leaves=20)


@settings(max_examples=300)
@given(value=JSON_VALUES, cuts=st.lists(st.integers(min_value=1, max_value=7), max_size=40),
       ascii_only=st.booleans())
def test_the_depth_scan_agrees_with_the_parsed_document_however_the_body_is_cut(
        value: object, cuts: list[int], ascii_only: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only).encode()
    scanner, at = JsonNesting(), 0
    for size in cuts:  # the body arrives in pieces cut anywhere, inside strings and escapes too
        scanner.feed(text[at:at + size])
        at += size
    scanner.feed(text[at:])
    assert scanner.deepest == value_depth(json.loads(text)) == json_depth(text)


@pytest.mark.parametrize("path", ["/api/v1/councils", f"{API}/incidents", "/api/v1/tokens",
                                  "/api/v1/programme/registry/import"])
def test_a_json_body_nested_100k_deep_is_a_422(client: TestClient, db: Session, cast: Cast, clock: FakeClock,
                                               path: str) -> None:
    headers = {**bearer(db, cast.officer, clock), "content-type": "application/json"}
    for body in (DEEP_JSON, '{"title": ' + "[" * 65 + "]" * 65 + "}", "[" * 100_000):
        answer = client.post(path, headers=headers, content=body)
        assert answer.status_code == 422, (path, answer.status_code, answer.text[:200])
        assert japanese_first(answer.json()["message"]) and "64" in answer.json()["message"]


def test_a_shallow_json_body_with_brackets_in_strings_is_read(client: TestClient, db: Session, cast: Cast,
                                                              clock: FakeClock) -> None:
    text = "[" * 200 + "\\\"{" * 100  # brackets inside a string do not count
    answer = client.post(f"{API}/incidents", headers=bearer(db, cast.company, clock),
                         json={"title": "漏えいの疑い", "description": text})
    assert answer.status_code == 201, answer.text


def test_deeply_nested_imports_are_422(client: TestClient, db: Session, cast: Cast, clock: FakeClock) -> None:
    h_off = bearer(db, cast.officer, clock)
    imported = client.post(f"{API}/items/import", headers=h_off, data={"council_id": str(cast.council.id)},
                           files=[("file", ("event.json", DEEP_JSON.encode(), "application/json"))])
    assert imported.status_code == 422 and japanese_first(imported.json()["message"]), imported.text
    for yaml_text in ("[" * 100_000, "- " * 50_000 + "x", "areas: " + "[" * 30 + "]" * 30):
        registry = client.post("/api/v1/programme/registry/import", headers=h_off,
                               json={"format": "yaml", "content": yaml_text})
        assert japanese_first(problem(registry, "file")), registry.text


def test_form_fields_that_are_not_utf8_are_refused_not_stored_as_latin1(client: TestClient, db: Session,
                                                                        cast: Cast, clock: FakeClock) -> None:
    # Starlette decodes such a field as Latin-1: "\xff\xfe評価" would be stored as "ÿþ..." (mojibake).
    urlencoded = client.post("/login", content=b"email=a%40b.jp&password=%FF%FE",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert urlencoded.status_code == 422, urlencoded.text
    assert urlencoded.json()["error"] == "invalid_encoding"
    assert japanese_first(urlencoded.json()["message"]) and "'password'" in urlencoded.json()["message"]
    form = item_form(cast, clock)
    made = client.post(f"{API}/items", headers=bearer(db, cast.company, clock),
                       files=[("title", (None, "評価".encode("shift_jis"))), *((k, (None, str(v))) for k, v in form.items()
                                                                             if k != "title"),
                              ("files", ("data.bin", b"\xff\xfe\x00binary is fine", "application/octet-stream"))])
    assert made.status_code == 422 and "'title'" in made.json()["message"], made.text
    big = client.post(f"{API}/items", headers=bearer(db, cast.company, clock),  # a body spooled to disk
                      files=[*((k, (None, str(v))) for k, v in form.items() if k != "title"),
                             ("files", ("big.bin", b"\xff" * (2 * 1024 * 1024), "application/octet-stream")),
                             ("title", (None, b"\xe8\xa9"))])  # a character cut short
    assert big.status_code == 422 and "'title'" in big.json()["message"], big.text
    assert count_rows(db, Item) == 0
    # The same upload with the title in UTF-8 goes through the encoding check (its file is judged later, as a file).
    kept = client.post(f"{API}/items", headers=bearer(db, cast.company, clock), data=form,
                       files=[("files", ("data.csv", b"a,b\n1,2\n", "text/csv"))])
    assert kept.status_code == 201, kept.text


def test_an_api_404_does_not_say_whether_the_thing_exists(client: TestClient, db: Session, factory: Factory,
                                                           clock: FakeClock) -> None:
    """I7 (outside finding, session 9): out of scope and missing answered with different 404 messages, so anyone
    could count other agencies' projects, proposals, commissions and councils."""
    from tests.support.councils import establish
    from tests.support.http import bearer

    cast = establish(factory, db, clock)
    db.commit()
    outsider = bearer(db, cast.outsider, clock)
    hidden = client.get(f"/api/v1/councils/{cast.council.id}/meetings", headers=outsider)
    missing = client.get("/api/v1/councils/999999/meetings", headers=outsider)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
