"""Reporting an incident (I9) names a council only from inside it: outside, the council answers 404 (I7)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.information.models import Incident
from banso.kit.clock import FakeClock
from banso.notifications.models import Notification
from tests.support.councils import establish
from tests.support.factories import Factory
from tests.support.http import bearer

API = "/api/v1/information/incidents"


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_outsider_naming_a_council_gets_the_same_404_as_for_a_missing_one(
    client: TestClient, db: Session, factory: Factory, clock: FakeClock
) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    body = {"title": "流出の疑い", "description": "掲示板で見つけた", "council_id": cast.council.id}
    incidents, notices = _count(db, Incident), _count(db, Notification)
    outsider = bearer(db, cast.outsider, clock)
    foreign = client.post(API, json=body, headers=outsider)
    missing = client.post(API, json={**body, "council_id": 10**9}, headers=outsider)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()  # nothing tells an existing council from a missing one
    assert (_count(db, Incident), _count(db, Notification)) == (incidents, notices)  # and no one is messaged
    # without a council anyone may still report (I9); a member may name their council
    assert client.post(API, json={**body, "council_id": None}, headers=outsider).status_code == 201
    assert client.post(API, json=body, headers=bearer(db, cast.company, clock)).status_code == 201
