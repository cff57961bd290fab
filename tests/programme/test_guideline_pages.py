"""HTTP tests of the basic guideline pages (F2): adopting a version through the form, errors, who may."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.kit.clock import FakeClock
from banso.programme import guideline
from banso.programme.models import Guideline, GuidelineMeasure
from banso.web.context import AppContext
from banso.web.deps import LANG_COOKIE
from tests.support.factories import Factory
from tests.support.http import alert_text, sign_in
from tests.support.programme import World, build_world


@pytest.fixture
def w(db: Session, factory: Factory, clock: FakeClock) -> World:
    """The programme world with a first version of the guideline, committed."""
    built = build_world(db, factory, clock)
    guideline.adopt_guideline(db, code="KIHON", title_ja="基本指針", adopted_on=date(2022, 9, 30), body="第一版",
                              measures=[guideline.MeasureInput(kind="information", title_ja="情報提供",
                                                               technology_codes=["V1-OC-02"])],
                              now=clock.now(), actor=built.officer.principal())
    db.commit()
    return built


def _form(token: str, **extra: str | list[str]) -> dict[str, str | list[str]]:
    form: dict[str, str | list[str]] = {
        "csrf_token": token, "code": "KIHON", "title_ja": "基本指針（改定）", "title_en": "Basic guideline (revised)",
        "adopted_on": "2026-03-31", "body": "改定版の本文",
        "measure_kind": ["information", "funding", ""], "measure_title": ["情報提供の拡充", "基金による支援", ""],
        "measure_body": ["研究者へ懸念情報を提供する", "", ""], "measure_techs": ["V1-OC-02", "V1-OC-02, V1-SA-01", ""],
        "measure_areas": ["G16", "", ""],
    }
    form.update(extra)
    return form


def _count(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Guideline)) or 0)


def test_staff_adopt_a_new_version_through_the_form(client: TestClient, db: Session, w: World,
                                                     ctx: AppContext) -> None:
    token = sign_in(client, db, w.staff, ctx)
    first = db.scalars(select(Guideline)).one()
    assert 'href="/programme/guidelines"' in client.get("/programme").text
    listing = client.get("/programme/guidelines")
    assert listing.status_code == 200 and 'id="adopt-link"' in listing.text
    page = client.get(f"/programme/guidelines/new?from={first.id}")
    assert page.status_code == 200 and 'id="guideline-form"' in page.text
    assert 'value="KIHON"' in page.text and "情報提供" in page.text  # prefilled from version 1
    assert page.text.count('name="measure_kind"') >= 5

    r = client.post("/programme/guidelines", data=_form(token), follow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    assert url.startswith("/programme/guidelines/") and url.endswith("?done=adopted")
    new = db.scalars(select(Guideline).where(Guideline.version == 2)).one()
    assert new.code == "KIHON" and new.adopted_on == date(2026, 3, 31) and new.created_by_id == w.staff.user.id
    measures = db.scalars(select(GuidelineMeasure).where(GuidelineMeasure.guideline_id == new.id)
                          .order_by(GuidelineMeasure.position)).all()
    assert [(m.kind, m.title_ja, m.technology_codes, m.area_codes) for m in measures] == [
        ("information", "情報提供の拡充", ["V1-OC-02"], ["G16"]),
        ("funding", "基金による支援", ["V1-OC-02", "V1-SA-01"], [])]
    shown = client.get(url)
    assert shown.status_code == 200 and "基本指針（改定）" in shown.text and "alert-success" in shown.text
    assert 'id="guideline-versions"' in shown.text  # both versions listed
    listing = client.get("/programme/guidelines")
    assert f'href="/programme/guidelines/{new.id}"' in listing.text
    assert f'href="/programme/guidelines/{first.id}"' in listing.text
    assert db.scalar(select(func.count()).select_from(AuditEntry)
                     .where(AuditEntry.tag == "programme:guideline:adopt")) == 2


def test_officers_adopt_too(client: TestClient, db: Session, w: World, ctx: AppContext) -> None:
    token = sign_in(client, db, w.officer, ctx)
    r = client.post("/programme/guidelines", data=_form(token, code="NEW-G"), follow_redirects=False)
    assert r.status_code == 303
    assert db.scalars(select(Guideline).where(Guideline.code == "NEW-G")).one().version == 1


@pytest.mark.parametrize(("extra", "shown"), [
    ({"measure_techs": ["NOPE-9", "", ""]}, "NOPE-9"),
    ({"measure_areas": ["G99", "", ""]}, "G99"),
    ({"measure_kind": ["", "funding", ""]}, "施策1"),
    ({"measure_title": ["", "基金による支援", ""]}, "施策1"),
    ({"adopted_on": "いつか"}, "策定日"),
    ({"adopted_on": "2020-01-01"}, "前の版より前の日付です"),
    ({"title_ja": " "}, "名称（日本語）"),
    ({"measure_kind": [""], "measure_title": [""], "measure_body": [""], "measure_techs": [""],
      "measure_areas": [""]}, "施策"),
])
def test_bad_input_rerenders_the_form_with_the_message(client: TestClient, db: Session, w: World, ctx: AppContext,
                                                       extra: dict[str, str | list[str]], shown: str) -> None:
    token = sign_in(client, db, w.staff, ctx)
    r = client.post("/programme/guidelines", data=_form(token, **extra))
    assert r.status_code in (409, 422), r.text
    assert shown in alert_text(r.text)
    assert _count(db) == 1
    assert 'id="guideline-form"' in r.text and "改定版の本文" in r.text  # what was typed is kept
    if extra.get("measure_kind") != [""]:
        assert 'value="基金による支援"' in r.text or 'value="情報提供の拡充"' in r.text


def test_bad_input_in_english(client: TestClient, db: Session, w: World, ctx: AppContext) -> None:
    token = sign_in(client, db, w.staff, ctx)
    client.cookies.set(LANG_COOKIE, "en")
    r = client.post("/programme/guidelines", data=_form(token, measure_techs=["", "NOPE-9", ""]))
    assert r.status_code == 422
    text = alert_text(r.text)
    assert "Measure 2" in text and "NOPE-9" in text


def test_researchers_may_not_adopt(client: TestClient, db: Session, w: World, ctx: AppContext) -> None:
    token = sign_in(client, db, w.lead, ctx)
    assert 'id="adopt-link"' not in client.get("/programme/guidelines").text
    first = db.scalars(select(Guideline)).one()
    assert 'id="adopt-link"' not in client.get(f"/programme/guidelines/{first.id}").text
    assert client.get("/programme/guidelines/new").status_code == 404
    r = client.post("/programme/guidelines", data=_form(token))
    assert r.status_code in (403, 404)
    assert _count(db) == 1


def test_the_form_needs_the_csrf_token(client: TestClient, db: Session, w: World, ctx: AppContext) -> None:
    sign_in(client, db, w.staff, ctx)
    r = client.post("/programme/guidelines", data=_form("wrong"))
    assert r.status_code == 403 and _count(db) == 1
