"""The programme's forms under the one text rule (issue 12): a blank text field is a 422 form error naming the
field's label, the typed text is kept and nothing is written — as before the forms were bound with the API's
schemas (F1, F3, F5)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock, to_jst
from banso.programme import models as pm
from banso.web.context import AppContext
from tests.support.factories import Factory
from tests.support.http import alert_text, sign_in
from tests.support.programme import Scene, World


def _count(db: Session, table: type[pm.Call | pm.Proposal | pm.Commission]) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(table)) or 0


def test_a_blank_call_title_is_a_form_error(client: TestClient, db: Session, w: World, ctx: AppContext,
                                           clock: FakeClock) -> None:
    token = sign_in(client, db, w.staff, ctx)
    now = to_jst(clock.now())
    before = _count(db, pm.Call)
    page = client.post("/programme/calls", data={
        "csrf_token": token, "agency_code": "JST", "code": "K-TEST-01", "title_ja": " \u3000 ", "title_en": "",
        "project_type": "individual", "technology_codes": "V1-OC-02", "cap_yen": "500,000,000",
        "first_fiscal_year": "2026", "period_years": "2", "opens_at": now.strftime("%Y-%m-%dT%H:%M"),
        "closes_at": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"), "officer_id": str(w.officer.user.id),
        "description": "試験の説明"})
    assert page.status_code == 422 and "名称（日本語）" in alert_text(page.text)
    assert "試験の説明" in page.text and _count(db, pm.Call) == before


def test_a_blank_proposal_title_is_a_form_error(client: TestClient, db: Session, w: World, ctx: AppContext) -> None:
    token = sign_in(client, db, w.lead, ctx)
    before = _count(db, pm.Proposal)
    page = client.post(f"/programme/calls/{w.call.id}/proposals", data={
        "csrf_token": token, "title": "  ", "summary": "海中測位の概要", "team": w.colleague.email,
        "budget_fy": ["2026"], "budget": ["100"]})
    assert page.status_code == 422 and "件名" in alert_text(page.text)
    assert "海中測位の概要" in page.text and _count(db, pm.Proposal) == before


def test_a_blank_commission_title_is_a_form_error(client: TestClient, db: Session, factory: Factory,
                                                 clock: FakeClock, ctx: AppContext) -> None:
    scene = Scene(db, factory, clock, ctx)
    token = sign_in(client, db, scene.officer, ctx)
    before = _count(db, pm.Commission)
    page = client.post("/programme/commissions", data={
        "csrf_token": token, "code": "TT-FORM-1", "title": "\t", "organization_id": str(scene.analyst.user.organization_id),
        "starts_on": "2026-12-01", "due_on": "2027-03-31", "tasks": "2027-03-31 最終報告書",
        "purpose": "動向の調査"})
    assert page.status_code == 422 and "件名" in alert_text(page.text)
    assert "動向の調査" in page.text and _count(db, pm.Commission) == before
