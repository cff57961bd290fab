"""The incident forms under the one text rule (issue 12): a blank text field is a 422 form error naming the
field's label, the typed text is kept and nothing is recorded (I9) — as before the forms were bound with the
API's schemas."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.information import incidents
from banso.information.models import Incident, IncidentStep
from banso.kit.clock import FakeClock
from banso.kit.errors import ValidationFailed
from banso.web.context import AppContext
from banso.web.problems import relabel
from tests.support.councils import Cast, active_council
from tests.support.factories import Factory
from tests.support.http import alert_text, bearer, sign_in


@pytest.fixture
def active(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council (officer secretariat, researcher chair, company member, all pledged)."""
    return active_council(factory, db, clock)


def _count(db: Session, table: type[Incident | IncidentStep]) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(table)) or 0


@pytest.mark.parametrize(("title", "description", "label"), [
    ("   ", "外部で発見", "件名"),
    ("流出の疑い", " \r\n ", "事象の内容"),
])
def test_a_blank_report_field_is_a_form_error(client: TestClient, db: Session, active: Cast, ctx: AppContext,
                                              title: str, description: str, label: str) -> None:
    token = sign_in(client, db, active.company, ctx)
    refused = client.post("/information/incidents", data={"csrf_token": token, "title": title,
                                                          "description": description,
                                                          "council_id": str(active.council.id)})
    assert refused.status_code == 422 and label in alert_text(refused.text)
    assert "外部で発見" in refused.text or "流出の疑い" in refused.text  # what was typed is kept
    assert _count(db, Incident) == 0


def test_a_blank_triage_note_and_outcome_are_form_errors(client: TestClient, db: Session, active: Cast,
                                                         ctx: AppContext, clock: FakeClock) -> None:
    row = incidents.report_incident(db, actor=active.company.principal(), now=clock.now(), title="流出の疑い",
                                    description="外部で発見", council_id=active.council.id)
    db.commit()
    url = f"/information/incidents/{row.id}"
    token = sign_in(client, db, active.officer, ctx)
    steps = _count(db, IncidentStep)
    blank = client.post(f"{url}/triage", data={"csrf_token": token, "note": "  "})
    assert blank.status_code == 422 and "備考" in alert_text(blank.text) and 'id="triage-form"' in blank.text
    assert _count(db, IncidentStep) == steps
    assert client.post(f"{url}/triage", data={"csrf_token": token, "note": "確認中"},
                       follow_redirects=False).status_code == 303
    closed = client.post(f"{url}/close", data={"csrf_token": token, "outcome": "\n", "penalty_provision": "第1条"})
    assert closed.status_code == 422 and "結果" in alert_text(closed.text) and "第1条" in closed.text
    assert _count(db, IncidentStep) == steps + 1


def test_the_api_and_the_service_refuse_a_blank_title_alike(client: TestClient, db: Session, active: Cast,
                                                            clock: FakeClock) -> None:
    with pytest.raises(ValidationFailed) as refused:
        incidents.report_incident(db, actor=active.company.principal(), now=clock.now(), title=" ", description="d")
    db.rollback()
    answer = client.post("/api/v1/information/incidents", headers=bearer(db, active.company, clock),
                         json={"title": " ", "description": "d"})
    assert answer.status_code == 422
    # The API names the field by its label (issue 14: web.problems), in the service's words otherwise.
    assert answer.json()["problems"] == [{"field": "title", "message": relabel(refused.value.message, "title")}]
    assert answer.json()["problems"][0]["message"] == "「件名」を入力してください / Title is required"
    assert refused.value.message == "title を入力してください / title is required"
