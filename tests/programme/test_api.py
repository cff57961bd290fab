"""The programme JSON API end to end: call → proposal → review → adoption → council proposed →
disbursement refused → council established → disbursement accepted; bad input answers 422/409."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from banso.councils import service as councils
from banso.kit.clock import FakeClock
from tests.support.factories import Factory
from tests.support.http import bearer
from tests.support.programme import BN, build_world


def test_api_flow(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    w = build_world(db, factory, clock)
    db.commit()
    staff, lead, reviewer = (bearer(db, p, clock) for p in (w.staff, w.lead, w.reviewer))
    base = "/api/v1/programme"
    assert len(client.get(f"{base}/technologies?round=1", headers=lead).json()) >= 20
    r = client.post(f"{base}/agencies/JST/tranches", headers=staff, json={"fiscal_year": 2026, "amount": "¥5,000,000,000"})
    assert r.status_code == 201, r.text
    for bad in ({"fiscal_year": 2026, "amount": -1}, {"fiscal_year": 2026, "amount": 1.5},
                {"fiscal_year": 2026, "amount": "100 USD"}, {"fiscal_year": 2026, "amount": 5, "value_date": "2027-04-01"}):
        r = client.post(f"{base}/agencies/JST/tranches", headers=staff, json=bad)
        assert r.status_code == 422 and r.json()["error"] == "validation_failed", r.text
    assert client.post(f"{base}/agencies/JST/tranches", headers=lead, json={"fiscal_year": 2026, "amount": 1}).status_code == 403
    body = {"title": "海中航法", "budget": {"2026": 200_000_000, "2027": 300_000_000},
            "team": [{"user_id": w.colleague.user.id}, {"user_id": w.partner.user.id, "role": "collaborator"}]}
    r = client.post(f"{base}/calls/{w.call.id}/proposals", headers=lead, json=body)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert client.post(f"{base}/calls/{w.call.id}/proposals", headers=lead, json=body).status_code == 409
    over = {**body, "budget": {"2026": 2 * BN, "2027": 2 * BN}}
    assert client.post(f"{base}/calls/{w.call.id}/proposals", headers=bearer(db, w.other_researcher, clock),
                       json=over).json()["field"] == "budget"
    queue = client.get(f"{base}/review-queue", headers=reviewer).json()
    assert [q["id"] for q in queue] == [pid] and queue[0]["declared"] is None
    assert client.get(f"{base}/proposals/{pid}", headers=reviewer).status_code == 404
    assert client.post(f"{base}/proposals/{pid}/conflict", headers=reviewer, json={"has_conflict": False}).status_code == 201
    # F6: declared, but the call is still open: the reviewer reads nothing yet
    assert client.get(f"{base}/proposals/{pid}", headers=reviewer).status_code == 404
    clock.set(w.call.closes_at + timedelta(days=3))
    staff, lead = bearer(db, w.staff, clock), bearer(db, w.lead, clock)  # 30-day tokens expired meanwhile
    reviewer = bearer(db, w.reviewer, clock)
    assert client.get(f"{base}/proposals/{pid}", headers=reviewer).status_code == 200
    r = client.put(f"{base}/proposals/{pid}/score", headers=reviewer,
                   json={"scores": {"significance": 5, "innovation": 5, "feasibility": 4, "implementation": 4}})
    assert r.status_code == 200, r.text
    r = client.post(f"{base}/proposals/{pid}/decision", headers=staff, json={"outcome": "adopt", "reason": "優れている"})
    assert r.status_code == 201, r.text
    project = client.get(f"{base}/projects", headers=lead).json()[0]
    assert project["council_id"] is not None
    r = client.post(f"{base}/projects/{project['id']}/commitments", headers=staff,
                    json={"fiscal_year": 2026, "amount": 200_000_000})
    assert r.status_code == 201, r.text
    r = client.post(f"{base}/projects/{project['id']}/disbursements", headers=staff, json={"amount": 50_000_000})
    assert r.status_code == 409 and "council" in r.json()["message"]
    for person in (w.lead, w.colleague, w.partner):
        councils.consent(db, council_id=project["council_id"], actor=person.principal(), now=clock.now(),
                         decision="consent")
    db.commit()
    r = client.post(f"{base}/projects/{project['id']}/disbursements", headers=staff, json={"amount": 50_000_000})
    assert r.status_code == 201, r.text
    detail = client.get(f"{base}/projects/{project['id']}", headers=lead).json()
    assert (detail["committed"], detail["disbursed"], detail["council_established"]) == (150_000_000, 50_000_000, True)
    rec = client.get(f"{base}/ledger/reconciliation", headers=staff).json()
    assert rec["ok"] and [a["agency"] for a in rec["agencies"]] == ["JST"]
    assert client.get(f"{base}/ledger/reconciliation?agency=JST", headers=lead).status_code == 403
    xlsx = client.get(f"{base}/agencies/JST/ledger.xlsx", headers=staff)
    assert xlsx.status_code == 200
    import io

    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb.sheetnames[0].startswith("仕訳") and wb["仕訳 Transactions"].max_row == 4  # header + 3 transactions
    stats = client.get(f"{base}/calls.xlsx", headers=staff)
    ws = load_workbook(io.BytesIO(stats.content)).active
    assert ws is not None and ws.cell(2, 1).value == w.call.code and ws.cell(2, 8).value == 1
