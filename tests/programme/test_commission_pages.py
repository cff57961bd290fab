"""HTTP tests of commission actions (F5): cancelling (page and API) and filing deliverables into a council."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.information.models import Item
from banso.kit.clock import FakeClock
from banso.programme.models import Commission
from banso.web.context import AppContext
from banso.web.deps import LANG_COOKIE
from tests.support.factories import Factory
from tests.support.http import alert_text, bearer, sign_in
from tests.support.programme import Scene


@pytest.fixture
def scene(db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> Scene:
    """Return the committed scene."""
    return Scene(db, factory, clock, ctx)


def _state(db: Session, scene: Scene) -> str:
    db.expire_all()
    row = db.get(Commission, scene.commission.id)
    assert row is not None
    return str(row.state)


def _cancel_entries(db: Session, scene: Scene) -> list[AuditEntry]:
    rows = db.scalars(select(AuditEntry).where(AuditEntry.tag == "programme:commission:state",
                                               AuditEntry.subject == f"commission:{scene.commission.id}"))
    return [e for e in rows if e.data.get("state") == "cancelled"]


# --- cancelling -------------------------------------------------------------------------------


def test_officer_cancels_the_commission_through_the_page(client: TestClient, db: Session, scene: Scene,
                                                         ctx: AppContext) -> None:
    token = sign_in(client, db, scene.officer, ctx)
    page = client.get(scene.url)
    assert 'id="cancel-form"' in page.text
    blank = client.post(f"{scene.url}/cancel", data={"csrf_token": token, "reason": "   "})
    assert blank.status_code == 422 and "理由" in alert_text(blank.text)
    assert 'id="cancel-form"' in blank.text and _state(db, scene) == "active"
    long = client.post(f"{scene.url}/cancel", data={"csrf_token": token, "reason": "あ" * 2001})
    assert long.status_code == 422 and "あ" * 50 in long.text and _state(db, scene) == "active"  # typed text kept
    done = client.post(f"{scene.url}/cancel", data={"csrf_token": token, "reason": "予算措置の見直しのため"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=cancelled")
    page = client.get(done.headers["location"])
    assert "委託を中止しました" in page.text and "中止" in page.text and 'id="cancel-form"' not in page.text
    assert _state(db, scene) == "cancelled"
    [entry] = _cancel_entries(db, scene)
    assert entry.actor_id == scene.officer.user.id and entry.data["reason"] == "予算措置の見直しのため"
    again = client.post(f"{scene.url}/cancel", data={"csrf_token": token, "reason": "再度"})
    assert again.status_code == 409 and len(_cancel_entries(db, scene)) == 1
    # The institution can no longer file deliverables.
    token = sign_in(client, db, scene.analyst, ctx)
    late = client.post(f"{scene.url}/deliverables", data={"csrf_token": token, "title": "最終"},
                       files={"file": ("final.txt", b"final", "text/plain")})
    assert late.status_code == 409


def test_contractor_and_outsider_may_not_cancel_on_the_page(client: TestClient, db: Session, scene: Scene,
                                                            ctx: AppContext) -> None:
    token = sign_in(client, db, scene.analyst, ctx)
    assert 'id="cancel-form"' not in client.get(scene.url).text
    refused = client.post(f"{scene.url}/cancel", data={"csrf_token": token, "reason": "受託者の都合"})
    assert refused.status_code == 403 and _state(db, scene) == "active"
    token = sign_in(client, db, scene.outsider, ctx)
    assert client.post(f"{scene.url}/cancel", data={"csrf_token": token, "reason": "x"}).status_code == 404
    assert _state(db, scene) == "active" and _cancel_entries(db, scene) == []


def test_cancel_through_the_api(client: TestClient, db: Session, scene: Scene, clock: FakeClock) -> None:
    officer, analyst, outsider = (bearer(db, p, clock) for p in (scene.officer, scene.analyst, scene.outsider))
    url = f"/api/v1/programme/commissions/{scene.commission.id}/cancel"
    assert client.post(url, headers=outsider, json={"reason": "x"}).status_code == 404
    assert client.post(url, headers=analyst, json={"reason": "x"}).status_code == 403
    assert client.post(url, headers=officer, json={}).status_code == 422
    assert client.post(url, headers=officer, json={"reason": " "}).status_code == 422
    assert client.post(url, headers=officer, json={"reason": "x" * 2001}).status_code == 422
    assert _state(db, scene) == "active"
    r = client.post(url, headers=officer, json={"reason": "事業の再編"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "cancelled"
    assert client.post(url, headers=officer, json={"reason": "事業の再編"}).status_code == 409
    [entry] = _cancel_entries(db, scene)
    assert entry.data["reason"] == "事業の再編"


# --- filing a deliverable into a council --------------------------------------------------------


def test_deliverable_is_filed_into_a_council_from_the_page(client: TestClient, db: Session, scene: Scene,
                                                           ctx: AppContext) -> None:
    token = sign_in(client, db, scene.officer, ctx)
    page = client.get(scene.url)
    form_id = f'id="file-form-{scene.deliverable.id}"'
    assert form_id in page.text and f'<option value="{scene.council.council.id}"' in page.text
    action = f"{scene.url}/deliverables/{scene.deliverable.id}/file"
    bad = client.post(action, data={"csrf_token": token, "council_id": ""})
    assert bad.status_code == 422 and "協議会" in alert_text(bad.text)
    r = client.post(action, data={"csrf_token": token, "council_id": str(scene.council.council.id)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    found = re.match(r"^/information/items/(\d+)\?done=created$", location)
    assert found, location
    item = db.get(Item, int(found.group(1)))
    assert item is not None and item.council_id == scene.council.council.id and item.provenance == "think_tank"
    assert item.origin == f"commission:{scene.commission.id}:deliverable:{scene.deliverable.id}"

    # A pledged member of the council reads it.
    sign_in(client, db, scene.council.researcher, ctx)
    shown = client.get(f"/information/items/{item.id}")
    assert shown.status_code == 200 and "中間報告書" in shown.text
    # The officer files the same deliverable again: the conflict shows on the commission page.
    token = sign_in(client, db, scene.officer, ctx)
    again = client.post(action, data={"csrf_token": token, "council_id": str(scene.council.council.id)})
    assert again.status_code == 409 and str(item.id) in alert_text(again.text) and form_id in again.text
    assert len(db.scalars(select(Item).where(Item.origin == item.origin)).all()) == 1


def test_only_members_of_a_council_get_the_filing_form(client: TestClient, db: Session, scene: Scene,
                                                       ctx: AppContext) -> None:
    token = sign_in(client, db, scene.analyst, ctx)  # sees the commission, takes part in no council
    page = client.get(scene.url)
    assert f'id="file-form-{scene.deliverable.id}"' not in page.text and 'id="no-filing-council"' in page.text
    action = f"{scene.url}/deliverables/{scene.deliverable.id}/file"
    refused = client.post(action, data={"csrf_token": token, "council_id": str(scene.council.council.id)})
    assert refused.status_code == 404  # I7: a council the person does not take part in is not there
    assert db.scalars(select(Item)).all() == []
    token = sign_in(client, db, scene.outsider, ctx)
    assert client.post(action, data={"csrf_token": token,
                                     "council_id": str(scene.council.council.id)}).status_code == 404
    assert db.scalars(select(Item)).all() == []


def test_commission_page_in_english(client: TestClient, db: Session, scene: Scene, ctx: AppContext) -> None:
    sign_in(client, db, scene.officer, ctx)
    client.cookies.set(LANG_COOKIE, "en")
    page = client.get(scene.url)
    assert "Cancel the commission" in page.text and "File as an information item" in page.text
