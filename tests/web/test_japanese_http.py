"""Japanese conventions over HTTP (issue 14): programme forms take 30億円 and full-width digits, refuse other
text with a Japanese message, and pages show 千円/億円 (exact yen on hover), fiscal years with 和暦, one date-time
format to the minute, and official texts (the pledge) dated with 和暦 beside the Western year."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.councils import service as councils
from banso.kit.clock import FakeClock
from banso.notifications import service as notifications
from banso.programme import repository as repo
from banso.programme import rules
from banso.web.context import AppContext
from banso.web.deps import LANG_COOKIE
from tests.support.councils import establish
from tests.support.factories import Factory
from tests.support.http import alert_text, bearer, sign_in
from tests.support.programme import World, adopt, build_world, fund, submit

SECONDS = re.compile(r"\d{1,2}:\d{2}:\d{2}")


@pytest.fixture
def w(db: Session, factory: Factory, clock: FakeClock) -> World:
    """The programme world, funded with ¥10bn for FY2026 and committed so the app's sessions see it."""
    built = build_world(db, factory, clock)
    fund(db, built, clock)
    db.commit()
    return built


def _available(db: Session) -> int:
    db.expire_all()
    account = repo.account_by_key(db, rules.account_key("JST", "available"))
    assert account is not None
    return account.balance


@pytest.mark.parametrize(("typed", "yen"), [
    ("30億円", 3_000_000_000), ("３０億円", 3_000_000_000), ("3億5000万円", 350_000_000), ("250,000千円", 250_000_000),
    ("1.5億円", 150_000_000), ("￥１，０００，０００", 1_000_000),
])
def test_tranche_form_takes_amounts_as_staff_write_them(client: TestClient, db: Session, w: World, ctx: AppContext,
                                                        typed: str, yen: int) -> None:
    token = sign_in(client, db, w.staff, ctx)
    before = _available(db)
    sent = client.post("/programme/agencies/JST/tranches",
                       data={"csrf_token": token, "fiscal_year": "2026", "amount": typed}, follow_redirects=False)
    assert sent.status_code == 303, alert_text(sent.text)
    assert _available(db) - before == yen


@pytest.mark.parametrize("typed", ["30億ドル", "3億円5000万", "abc", "1.234567891億円"])
def test_a_bad_amount_is_refused_in_japanese(client: TestClient, db: Session, w: World, ctx: AppContext,
                                             typed: str) -> None:
    token = sign_in(client, db, w.staff, ctx)
    before = _available(db)
    refused = client.post("/programme/agencies/JST/tranches",
                          data={"csrf_token": token, "fiscal_year": "2026", "amount": typed})
    message = alert_text(refused.text)
    assert refused.status_code == 422
    assert "「金額（円）」" in message and ("金額として読めません" in message or "円の整数" in message), message
    assert not re.search(r"[A-Za-z]{3,}", message.replace(typed, "")), message  # no English in the Japanese page
    assert f'value="{typed}"' in refused.text  # what was typed stays in the field
    assert _available(db) == before
    client.cookies.set(LANG_COOKIE, "en")
    english = client.post("/programme/agencies/JST/tranches",
                          data={"csrf_token": token, "fiscal_year": "2026", "amount": typed})
    said = alert_text(english.text)
    assert english.status_code == 422 and said.startswith("Amount (yen)") and "not an amount of yen" in said, said
    assert "読めません" not in said


def test_ledger_and_project_show_sen_oku_wareki_and_the_commitment_date(client: TestClient, db: Session, w: World,
                                                                        ctx: AppContext, clock: FakeClock) -> None:
    project = adopt(db, w, clock, submit(db, w, clock))
    db.commit()
    token = sign_in(client, db, w.staff, ctx)
    overview = client.get("/programme")
    # the ledger table: 千円, the exact yen kept for machines and on hover
    assert '<data class="yen" value="10000000000" title="¥10,000,000,000">10,000,000千円</data>' in overview.text
    clock.set(datetime(2026, 12, 6, 1, 0, tzinfo=UTC))  # 6 Dec 2026, 10:00 JST
    token = sign_in(client, db, w.staff, ctx)  # a new session: the first one has expired by December
    sent = client.post(f"/programme/projects/{project.id}/commitments",
                       data={"csrf_token": token, "fiscal_year": "2027", "amount": "4億円"}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"].startswith("/programme/projects/"), sent.text
    page = client.get(f"/programme/projects/{project.id}")
    committed = re.search(r"id=\"committed\">(.*?)</dd>", page.text)
    assert committed is not None and committed.group(1) == (
        '<data class="yen" value="400000000" title="¥400,000,000">4億円</data>'), committed
    assert "2027年度（令和9年度）" in page.text and "2026年度（令和8年度）" in page.text
    ledger = page.text[page.text.index("<tbody>", page.text.index("2026年12月6日") - 400):]
    assert ledger.index("2026年12月6日") < ledger.index("2027年度（令和9年度）")  # dated the day it was entered
    assert "2027年4月1日" not in page.text
    assert "400,000千円" in page.text
    client.cookies.set(LANG_COOKIE, "en")
    english = client.get(f"/programme/projects/{project.id}")
    assert "FY2027" in english.text and ">¥400,000,000</data>" in english.text and "6 Dec 2026" in english.text


def test_date_times_are_to_the_minute(client: TestClient, db: Session, w: World, ctx: AppContext) -> None:
    sign_in(client, db, w.staff, ctx)
    page = client.get(f"/programme/calls/{w.call.id}")
    assert page.status_code == 200
    assert not SECONDS.search(re.sub(r"<[^>]*>", " ", page.text)), SECONDS.findall(page.text)
    opens = w.call.opens_at.astimezone(UTC) + timedelta(hours=9)
    assert f"{opens.year}年{opens.month}月{opens.day}日 {opens:%H:%M}" in page.text
    assert "日本時間" in page.text or "JST" in page.text  # stated once, in the page footer


def test_pledge_is_dated_with_wareki_beside_the_western_year(client: TestClient, db: Session, factory: Factory,
                                                             ctx: AppContext, clock: FakeClock) -> None:
    cast = establish(factory, db, clock, pledge=False, activate=False)
    db.commit()
    sign_in(client, db, cast.company, ctx)
    page = client.get(f"/councils/{cast.council.id}")
    assert "署名日: 2026年4月1日（令和8年4月1日）" in page.text  # the clock starts at 2026-04-01 09:00 JST
    councils.sign_pledge(db, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(),
                         bylaws_version=1)
    preview = councils.pledge_preview(db, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now())
    assert preview.current is not None
    assert "署名日: 2026年4月1日（令和8年4月1日）" in preview.current.text  # the PDF renders this text


def test_the_api_reads_the_same_amounts(client: TestClient, db: Session, w: World, clock: FakeClock) -> None:
    staff = bearer(db, w.staff, clock)
    before = _available(db)
    made = client.post("/api/v1/programme/agencies/JST/tranches", headers=staff,
                       json={"fiscal_year": 2026, "amount": "３億５０００万円"})
    assert made.status_code == 201, made.text
    assert _available(db) - before == 350_000_000
    refused = client.post("/api/v1/programme/agencies/JST/tranches", headers=staff,
                          json={"fiscal_year": 2026, "amount": "30億ドル"})
    assert refused.status_code == 422
    assert refused.json()["message"].startswith("amount は金額として読めません"), refused.json()


def test_council_notices_give_wareki_beside_the_western_year(db: Session, factory: Factory, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    councils.schedule_meeting(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                              title="第2回会合", starts_at=datetime(2026, 4, 30, 5, 0, tzinfo=UTC))
    db.flush()
    notices = notifications.inbox(db, user_id=cast.researcher.user.id)
    said = next(n for n in notices if "第2回会合" in n.title_ja)
    assert "2026年4月30日（令和8年4月30日） 14:00" in said.title_ja, said.title_ja
    assert "30 Apr 2026, 14:00 JST" in said.title_en, said.title_en
