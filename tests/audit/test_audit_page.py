"""The audit log for people (issue 14), through HTTP in Japanese and English: filters, names, links, exports.

Entries come from real actions (sign-ins, item reads through the item page, a refused sign-in, checkpoints
signed by the job's function), never from rows inserted by hand.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from banso.audit import checkpoints
from banso.audit.models import AuditEntry
from banso.audit.tags import AuditTag
from banso.information.deps import information_deps
from banso.information.models import Item
from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from banso.web.deps import LANG_COOKIE
from tests.support.councils import Cast, active_council, join
from tests.support.factories import Factory, Person
from tests.support.http import bearer, post_password, sign_in
from tests.support.information import provide_item

READ = str(AuditTag.INFO_ITEM_READ)


@dataclass
class Scene:
    """An active council with an item its members read, an auditor, and an admin who is also a member."""

    cast: Cast
    item: Item
    auditor: Person
    admin: Person


def _read_item(client: TestClient, db: Session, ctx: AppContext, person: Person, item: Item) -> None:
    sign_in(client, db, person, ctx)
    page = client.get(f"/information/items/{item.id}")
    assert page.status_code == 200, page.text


@pytest.fixture
def scene(client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> Scene:
    cast = active_council(factory, db, clock)
    admin = join(cast, db, clock, factory.person(roles=("admin",)))
    auditor = factory.person(roles=("auditor",))
    item = provide_item(db, information_deps(ctx), cast, clock)
    db.commit()
    for person in (cast.researcher, cast.company):
        _read_item(client, db, ctx, person, item)
    checkpoints.sign_checkpoint(db, key=ctx.signing_key, now=clock.now())  # the job's entry (system)
    db.commit()
    return Scene(cast=cast, item=item, auditor=auditor, admin=admin)


def _refused_sign_in(client: TestClient, email: str) -> None:
    """Try to sign in as ``email`` (a hostile text typed into the login form): a refused, audited sign-in."""
    client.cookies.clear()
    response = post_password(client, email, "wrong")
    assert response.status_code in (200, 400, 401, 422), response.text


def _rows(html: str) -> list[tuple[int, str]]:
    """Return (seq, tag) of every entry row of the audit page."""
    return [(int(s), t) for s, t in re.findall(r'<tr data-seq="(\d+)" data-tag="([^"]+)">', html)]


def _as(client: TestClient, db: Session, ctx: AppContext, person: Person, lang: str) -> None:
    sign_in(client, db, person, ctx)
    client.cookies.set(LANG_COOKIE, lang)


def test_who_read_item_in_one_click_japanese(client: TestClient, db: Session, ctx: AppContext, scene: Scene) -> None:
    _as(client, db, ctx, scene.auditor, "ja")
    page = client.get("/audit", params={"subject": f"item:{scene.item.id}", "tag": READ})
    assert page.status_code == 200, page.text
    rows = _rows(page.text)
    assert rows and {t for _s, t in rows} == {READ}
    actors = db.scalars(select(AuditEntry.actor_id).where(AuditEntry.seq.in_([s for s, _t in rows]))).all()
    assert sorted(actors) == sorted([scene.cast.researcher.user.id, scene.cast.company.user.id])
    # The actor is a name and an organisation, not an e-mail; the event a Japanese label.
    assert scene.cast.researcher.user.name_ja in page.text
    assert scene.cast.researcher.user.organization.name_ja in page.text
    assert scene.cast.researcher.email not in page.text
    assert "情報の閲覧" in page.text
    # The auditor is no member: the item page would answer 404, so the subject is not linked to it.
    assert f'href="/information/items/{scene.item.id}"' not in page.text
    # The entry page names the actor the same way (and keeps the label recorded at the time).
    entry = client.get(f"/audit/entries/{rows[-1][0]}").text
    actor = re.search(r'<dd id="entry-actor">(.*?)</dd>', entry, re.DOTALL)
    assert actor and scene.cast.researcher.user.name_ja in actor.group(1)
    assert "情報 " in entry and f'href="/information/items/{scene.item.id}"' not in entry


def test_who_read_item_in_english_and_the_item_page_links_to_it(client: TestClient, db: Session, ctx: AppContext,
                                                                scene: Scene) -> None:
    _as(client, db, ctx, scene.admin, "en")
    item_page = client.get(f"/information/items/{scene.item.id}")
    link = re.search(r'<a [^>]*href="(/audit\?subject=item:\d+)" id="item-audit-link"', item_page.text)
    assert link, "a whole-log reader who may open the item gets the one-click link"
    page = client.get(link.group(1).replace("&amp;", "&"), params={"tag": READ})
    assert "Information item read" in page.text
    assert scene.cast.company.user.name_en in page.text
    # The admin may open the item: its subject links to the item page, with the item's title.
    assert f'href="/information/items/{scene.item.id}" class="subject-link"' in page.text
    # A person who may not read the whole log gets no such link on the item page.
    _as(client, db, ctx, scene.cast.company, "en")
    assert 'id="item-audit-link"' not in client.get(f"/information/items/{scene.item.id}").text


def test_checkpoints_are_hidden_until_asked_for(client: TestClient, db: Session, ctx: AppContext,
                                                scene: Scene) -> None:
    _as(client, db, ctx, scene.auditor, "ja")
    tags = {t for _s, t in _rows(client.get("/audit").text)}
    assert str(AuditTag.CHECKPOINT_SIGN) not in tags and READ in tags
    shown = {t for _s, t in _rows(client.get("/audit", params={"system": "1"}).text)}
    assert str(AuditTag.CHECKPOINT_SIGN) in shown


def test_person_organisation_and_group_filters(client: TestClient, db: Session, ctx: AppContext,
                                               scene: Scene) -> None:
    researcher = scene.cast.researcher.user
    _as(client, db, ctx, scene.auditor, "ja")
    by_person = _rows(client.get("/audit", params={"actor": researcher.id}).text)
    people = set(db.scalars(select(AuditEntry.actor_id).where(AuditEntry.seq.in_([s for s, _ in by_person]))))
    assert by_person and people == {researcher.id}
    by_org = _rows(client.get("/audit", params={"org": researcher.organization_id}).text)
    assert {s for s, _ in by_person} <= {s for s, _ in by_org}
    in_group = _rows(client.get("/audit", params={"group": "information"}).text)
    assert in_group and all(t.startswith("information:") for _s, t in in_group)
    nothing = _rows(client.get("/audit", params={"group": "council", "tag": READ}).text)
    assert nothing == []  # a tag outside the chosen group matches nothing (not everything)


def test_a_person_sees_only_their_own_entries_whatever_the_filter(client: TestClient, db: Session,
                                                                   ctx: AppContext, scene: Scene) -> None:
    company = scene.cast.company.user
    _as(client, db, ctx, scene.cast.company, "ja")
    page = client.get("/audit", params={"actor": scene.cast.researcher.user.id})
    assert _rows(page.text) == []
    own = _rows(client.get("/audit", params={"subject": f"item:{scene.item.id}"}).text)
    actors = set(db.scalars(select(AuditEntry.actor_id).where(AuditEntry.seq.in_([s for s, _ in own]))))
    assert own and actors == {company.id}
    # Their own read of the item links to the item they may open.
    assert f'href="/information/items/{scene.item.id}" class="subject-link"' in client.get(
        "/audit", params={"subject": f"item:{scene.item.id}"}).text
    # Their export holds their own entries only, whatever they ask for.
    exported = client.get("/audit/export.csv", params={"actor": scene.cast.researcher.user.id})
    assert exported.status_code == 200
    body = [r for r in csv.reader(io.StringIO(exported.content.decode("utf-8-sig")))][1:]
    assert body == []
    mine = list(csv.reader(io.StringIO(client.get("/audit/export.csv").content.decode("utf-8-sig"))))[1:]
    assert mine and {r[6] for r in mine if r and not r[0].startswith("#")} == {str(company.id)}


def test_people_list_links_to_each_persons_activity(client: TestClient, db: Session, ctx: AppContext,
                                                    factory: Factory) -> None:
    admin = factory.person(roles=("admin",))
    other = factory.person()
    db.commit()
    sign_in(client, db, other, ctx)  # their sign-in is on record
    _as(client, db, ctx, admin, "ja")
    people = client.get("/admin/users")
    assert people.status_code == 200
    link = re.search(rf'href="(/audit\?actor={other.user.id})" class="small person-audit-link"', people.text)
    assert link, "one click from a person to their activity"
    rows = _rows(client.get(link.group(1)).text)
    actors = set(db.scalars(select(AuditEntry.actor_id).where(AuditEntry.seq.in_([s for s, _ in rows]))))
    assert rows and actors == {other.user.id}


def test_dates_are_japanese_days(client: TestClient, db: Session, ctx: AppContext, clock: FakeClock,
                                 factory: Factory) -> None:
    auditor = factory.person(roles=("auditor",))
    person = factory.person()
    db.commit()
    clock.set(datetime(2026, 12, 1, 14, 30, tzinfo=UTC))  # 1 Dec 23:30 JST
    sign_in(client, db, person, ctx)
    late = db.scalar(select(AuditEntry.seq).where(AuditEntry.actor_id == person.user.id)
                     .order_by(AuditEntry.seq.desc()).limit(1))
    clock.set(datetime(2026, 12, 1, 15, 30, tzinfo=UTC))  # 2 Dec 00:30 JST: the same UTC day
    sign_in(client, db, person, ctx)
    next_day = db.scalar(select(AuditEntry.seq).where(AuditEntry.actor_id == person.user.id)
                         .order_by(AuditEntry.seq.desc()).limit(1))
    _as(client, db, ctx, auditor, "en")
    first = {s for s, _ in _rows(client.get("/audit", params={"actor": person.user.id, "from": "2026-12-01",
                                                              "to": "2026-12-01"}).text)}
    second = {s for s, _ in _rows(client.get("/audit", params={"actor": person.user.id, "from": "2026-12-02"}).text)}
    assert late in first and next_day not in first
    assert next_day in second and late not in second


def test_text_search_and_a_refused_sign_in(client: TestClient, db: Session, ctx: AppContext, scene: Scene) -> None:
    hostile = "=HYPERLINK(\"http://evil.example/\")@x.jp"
    _refused_sign_in(client, hostile)
    _as(client, db, ctx, scene.auditor, "ja")
    found = _rows(client.get("/audit", params={"q": "evil.example"}).text)
    assert found and {t for _s, t in found} == {str(AuditTag.LOGIN_FAILED)}
    # Japanese text in the data is found too (the JSON column may store it escaped).
    council = scene.cast.council
    by_title = _rows(client.get("/audit", params={"q": council.title_ja[:6], "group": "council"}).text)
    assert by_title, "the council's proposal records its Japanese title"


def test_pagination_keeps_the_filters(client: TestClient, db: Session, ctx: AppContext, scene: Scene) -> None:
    sign_in(client, db, scene.cast.company, ctx)
    for _ in range(27):
        assert client.get(f"/information/items/{scene.item.id}").status_code == 200
    _as(client, db, ctx, scene.auditor, "ja")
    first = client.get("/audit", params={"tag": READ, "subject": f"item:{scene.item.id}"})
    older = re.search(r'href="(/audit\?[^"]+)" rel="next"', first.text)
    assert older, "more than one page"
    url = older.group(1).replace("&amp;", "&")
    assert "tag=information%3Aitem%3Aread" in url and f"subject=item%3A{scene.item.id}" in url
    second = _rows(client.get(url).text)
    assert second and {t for _s, t in second} == {READ}
    assert len(_rows(first.text)) + len(second) == 29  # 27 + the two reads of the scene


def test_csv_export_of_the_filtered_view_is_audited(client: TestClient, db: Session, ctx: AppContext,
                                                    scene: Scene) -> None:
    hostile = "=cmd|' /c calc'!a0"  # as the login form records it: lower case
    _refused_sign_in(client, hostile)
    _as(client, db, ctx, scene.auditor, "ja")
    response = client.get("/audit/export.csv", params={"tag": [READ, str(AuditTag.LOGIN_FAILED)]})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["番号", "日時（日本時間）", "事象", "イベント種別"]
    body = [r for r in rows[1:] if r and not r[0].startswith("#")]
    assert {r[3] for r in body} == {READ, str(AuditTag.LOGIN_FAILED)}
    assert {r[2] for r in body} == {"情報の閲覧", "ログイン失敗"}
    assert scene.cast.researcher.user.name_ja in {r[4] for r in body}
    assert f"'{hostile}" in {r[7] for r in body}, "the typed e-mail is neutralised, not a formula"
    export = db.scalars(select(AuditEntry).where(AuditEntry.tag == str(AuditTag.LOG_EXPORT))
                        .order_by(AuditEntry.seq.desc())).first()
    assert export is not None and export.actor_id == scene.auditor.user.id
    assert export.data["format"] == "csv" and export.data["rows"] == len(body)
    assert export.data["filters"]["tag"] == [READ, str(AuditTag.LOGIN_FAILED)]


def test_excel_export_in_english(client: TestClient, db: Session, ctx: AppContext, scene: Scene) -> None:
    hostile = "+sum(1,2)@x.jp"
    _refused_sign_in(client, hostile)
    _as(client, db, ctx, scene.auditor, "en")
    response = client.get("/audit/export.xlsx", params={"q": "SUM(1,2)"})
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["No.", "Time (JST)", "Event", "Event type"]
    row = [c for c in sheet[2]]
    assert row[2].value == "Failed sign-in" and row[3].value == str(AuditTag.LOGIN_FAILED)
    assert row[7].value == hostile and row[7].data_type == "s", "text, never a formula"


def test_api_filters_and_documents_them(client: TestClient, db: Session, clock: FakeClock, scene: Scene) -> None:
    headers = bearer(db, scene.auditor, clock)
    got = client.get("/api/v1/audit", headers=headers,
                     params={"subject": f"item:{scene.item.id}", "tag": READ, "lang": "en"})
    assert got.status_code == 200, got.text
    entries = got.json()["entries"]
    assert len(entries) == 2 and {e["tag"] for e in entries} == {READ}
    assert {e["actor"]["name"] for e in entries} == {scene.cast.researcher.user.name_en,
                                                     scene.cast.company.user.name_en}
    assert entries[0]["label_ja"] == "情報の閲覧" and entries[0]["label_en"] == "Information item read"
    assert entries[0]["subject"]["href"] is None  # the auditor cannot open the item
    bad = client.get("/api/v1/audit", headers=headers, params={"tag": "no:such:tag"})
    assert bad.status_code == 422 and bad.json()["message"].startswith("不明なイベント種別")
    csv_file = client.get("/api/v1/audit/export.csv", headers=headers, params={"tag": READ, "lang": "en"})
    assert csv_file.status_code == 200 and "Information item read" in csv_file.content.decode("utf-8-sig")
    spec = client.get("/api/v1/openapi.json").json()
    names = {p["name"] for p in spec["paths"]["/api/v1/audit"]["get"]["parameters"]}
    assert {"actor", "org", "tag", "group", "subject", "from", "to", "q", "system", "before", "limit"} <= names
    assert "/api/v1/audit/export.xlsx" in spec["paths"]


def test_filtering_is_one_statement_in_sql(client: TestClient, db: Session, clock: FakeClock, ctx: AppContext,
                                           scene: Scene) -> None:
    headers = bearer(db, scene.auditor, clock)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM audit_entries" in statement and statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(ctx.engine, "before_cursor_execute", seen)
    try:
        got = client.get("/api/v1/audit", headers=headers,
                         params={"subject": f"item:{scene.item.id}", "tag": READ, "from": "2026-01-01", "limit": 1})
    finally:
        event.remove(ctx.engine, "before_cursor_execute", seen)
    assert got.status_code == 200 and len(got.json()["entries"]) == 1
    assert len(statements) == 1, statements
    sql = statements[0]
    assert "audit_entries.subject =" in sql and "audit_entries.tag IN" in sql and "LIMIT" in sql


def _error_message(html: str) -> str:
    found = re.search(r'<p class="error-message">(.*?)</p>', html, re.DOTALL)
    assert found, "no error message on the page"
    return found.group(1).strip()


def test_bad_filters_answer_422_with_a_reason_in_each_language(client: TestClient, db: Session, ctx: AppContext,
                                                               scene: Scene) -> None:
    cases = [({"from": "2026-13-01"}, "YYYY-MM-DD"), ({"from": "2026-12-02", "to": "2026-12-01"}, "from"),
             ({"actor": "x"}, "actor"), ({"q": "あ" * 201}, "200"), ({"tag": "no:such:tag"}, "no:such:tag"),
             ({"q": "a\x00b"}, "U+0000")]  # NUL matched every entry on SQLite (LIKE stops at NUL)
    _as(client, db, ctx, scene.auditor, "ja")
    for params, _word in cases:
        page = client.get("/audit", params=params)
        assert page.status_code == 422, params
        assert re.search(r"[ぁ-んァ-ヶ一-龯]", _error_message(page.text)), params
    client.cookies.set(LANG_COOKIE, "en")
    for params, word in cases:
        message = _error_message(client.get("/audit", params=params).text)
        assert word in message and not re.search(r"[ぁ-ん]", message), (params, message)
