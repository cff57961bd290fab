"""Interim and final evaluations (F6, issue 15): staff assign evaluators outside the team; each declares a
conflict before reading anything; grades S/A/B/C; the staff see every grade side by side and record the
result, which the research representative is told; evaluators are reminded; nobody else sees anything."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.app.jobs import run_due
from banso.audit.models import AuditEntry
from banso.kit.clock import JST, FakeClock
from banso.notifications import service as notifications
from banso.programme.models import Project
from banso.web.context import AppContext
from tests.support.factories import Factory, Person
from tests.support.http import bearer, sign_in
from tests.support.programme import World, adopt, submit

BASE = "/api/v1/programme"


def _project(db: Session, w: World, clock: FakeClock) -> Project:
    project = adopt(db, w, clock, submit(db, w, clock))
    db.commit()
    return project


def _kinds(db: Session, user_id: int, kind: str) -> list[str]:
    db.expire_all()
    return [n.body_ja for n in notifications.inbox(db, user_id=user_id) if n.kind == kind]


def _open(client: TestClient, h: dict[str, str], project: Project, ids: list[int], clock: FakeClock,
          kind: str = "interim") -> dict[str, object]:
    due = (clock.now().astimezone(JST).date() + timedelta(days=60)).isoformat()
    r = client.post(f"{BASE}/projects/{project.id}/evaluations", headers=h,
                    json={"kind": kind, "due_on": due, "evaluator_ids": ids})
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    return body


def test_evaluation_from_assignment_to_result(client: TestClient, db: Session, w: World, clock: FakeClock,
                                              factory: Factory) -> None:
    project = _project(db, w, clock)
    second: Person = factory.person(roles=("reviewer",))
    db.commit()
    staff, lead, ev1, ev2, ev3 = (bearer(db, p, clock) for p in (w.staff, w.lead, w.reviewer, second,
                                                                   w.reviewer_conflicted))
    # A submitted report, so the evaluators have something to read.
    reports = client.get(f"{BASE}/projects/{project.id}/reports", headers=lead).json()["reports"]
    assert client.post(f"{BASE}/projects/{project.id}/reports/{reports[0]['id']}/submit", headers=lead,
                       json={"summary": "海中測位の実証を完了"}).status_code == 200

    # Only active reviewers outside the team and the lead's organisation may be assigned.
    due = (clock.now().astimezone(JST).date() + timedelta(days=60)).isoformat()
    for bad in ([w.reviewer_same_org.user.id], [w.colleague.user.id], [w.staff.user.id], []):
        r = client.post(f"{BASE}/projects/{project.id}/evaluations", headers=staff,
                        json={"kind": "interim", "due_on": due, "evaluator_ids": bad})
        assert r.status_code in (409, 422), (bad, r.text)
    far = client.post(f"{BASE}/projects/{project.id}/evaluations", headers=staff,
                      json={"kind": "interim", "due_on": "9999-12-31", "evaluator_ids": [w.reviewer.user.id]})
    assert far.status_code == 422 and far.json()["problems"][0]["field"] == "due_on"  # outside the accepted years
    assert client.post(f"{BASE}/projects/{project.id}/evaluations", headers=lead,
                       json={"kind": "interim", "due_on": due, "evaluator_ids": [w.reviewer.user.id]}).status_code == 403
    ev = _open(client, staff, project, [w.reviewer.user.id, second.user.id, w.reviewer_conflicted.user.id], clock)
    url = f"{BASE}/evaluations/{ev['id']}"
    assert len(_kinds(db, w.reviewer.user.id, "programme.evaluation_assigned")) == 1

    # Before declaring, an evaluator sees no report and may not grade; others see nothing at all.
    before = client.get(url, headers=ev1).json()
    assert before["may_declare"] and not before["may_read"] and before["reports"] == [] and before["evaluators"] == []
    assert client.post(f"{url}/grade", headers=ev1, json={"grade": "A", "comment": "x"}).status_code == 403
    for outsider in (lead, bearer(db, w.reviewer_off_panel, clock), bearer(db, w.nedo_staff, clock)):
        assert client.get(url, headers=outsider).status_code == 404

    assert client.post(f"{url}/declaration", headers=ev3, json={"has_conflict": True}).status_code == 422  # reason
    assert client.post(f"{url}/declaration", headers=ev3, json={"has_conflict": True,
                                                                 "reason": "共同研究の相手"}).json()["may_read"] is False
    after = client.post(f"{url}/declaration", headers=ev1, json={"has_conflict": False}).json()
    assert after["may_read"] and after["may_grade"] and [r["summary"] for r in after["reports"]] == ["海中測位の実証を完了"]
    assert client.post(f"{url}/declaration", headers=ev1, json={"has_conflict": False}).status_code == 409
    assert client.post(f"{url}/grade", headers=ev3, json={"grade": "A", "comment": "x"}).status_code == 403

    # The staff record the result only once someone has graded; grades must be S, A, B or C.
    assert client.post(f"{url}/result", headers=staff, json={"result": "A", "note": "良好"}).status_code == 409
    assert client.post(f"{url}/grade", headers=ev1, json={"grade": "D", "comment": "x"}).status_code == 422
    assert client.post(f"{url}/grade", headers=ev1, json={"grade": "A", "comment": "計画どおり"}).status_code == 200
    client.post(f"{url}/declaration", headers=ev2, json={"has_conflict": False})
    assert client.post(f"{url}/grade", headers=ev2, json={"grade": "S", "comment": "期待以上"}).status_code == 200
    panel = client.get(url, headers=staff).json()
    assert sorted((e["grade"], e["has_conflict"]) for e in panel["evaluators"] if e["grade"]) == [
        ("A", False), ("S", False)]
    assert panel["may_complete"] is True
    assert client.post(f"{url}/result", headers=ev1, json={"result": "A", "note": "x"}).status_code == 403
    done = client.post(f"{url}/result", headers=staff, json={"result": "A", "note": "計画どおり進捗している"})
    assert done.status_code == 200 and done.json()["result"] == "A"
    assert client.post(f"{url}/grade", headers=ev1, json={"grade": "S", "comment": "x"}).status_code == 409
    assert _kinds(db, w.lead.user.id, "programme.evaluation_result") == [
        f"「{project.title}」の中間評価の結果: A。所見: 計画どおり進捗している"]
    db.expire_all()
    tags = list(db.scalars(select(AuditEntry.tag).where(AuditEntry.subject == f"project:{project.id}")))
    assert tags.count("programme:evaluation:declare") == 3 and tags.count("programme:evaluation:grade") == 2
    assert "programme:evaluation:open" in tags and "programme:evaluation:complete" in tags
    assert "programme:evaluation:read" in tags  # reading reports, grades and comments is audited (outside finding)


def test_evaluators_are_reminded_once_due_soon_and_once_overdue(client: TestClient, db: Session, w: World,
                                                                clock: FakeClock, ctx: AppContext) -> None:
    project = _project(db, w, clock)
    staff = bearer(db, w.staff, clock)
    ev = _open(client, staff, project, [w.reviewer.user.id], clock)
    due = date.fromisoformat(str(ev["due_on"]))
    clock.set(datetime(due.year, due.month, due.day, 12, tzinfo=JST) - timedelta(days=10))
    run_due(ctx)
    run_due(ctx)
    assert len(_kinds(db, w.reviewer.user.id, "programme.evaluation_due")) == 1
    clock.advance(days=11)
    run_due(ctx)
    run_due(ctx)
    assert len(_kinds(db, w.reviewer.user.id, "programme.evaluation_due")) == 2


def test_evaluation_pages(client: TestClient, db: Session, w: World, clock: FakeClock, ctx: AppContext) -> None:
    project = _project(db, w, clock)
    token = sign_in(client, db, w.staff, ctx)
    page = client.get(f"/programme/projects/{project.id}")
    assert 'id="evaluation-form"' in page.text and f'value="{w.reviewer.user.id}"' in page.text
    assert f'value="{w.reviewer_same_org.user.id}"' not in page.text  # same organisation as the lead
    due = (clock.now().astimezone(JST).date() + timedelta(days=30)).isoformat()
    refused = client.post(f"/programme/projects/{project.id}/evaluations",
                          data={"csrf_token": token, "kind": "interim", "due_on": due})
    assert refused.status_code == 422 and 'id="evaluation-form"' in refused.text
    made = client.post(f"/programme/projects/{project.id}/evaluations",
                       data={"csrf_token": token, "kind": "final", "due_on": due,
                             "evaluator_ids": [str(w.reviewer.user.id)]}, follow_redirects=False)
    assert made.status_code == 303
    listed = client.get(f"/programme/projects/{project.id}").text
    assert "事後評価" in listed and "/programme/evaluations/" in listed

    token = sign_in(client, db, w.reviewer, ctx)
    mine = client.get("/programme/evaluations")
    assert mine.status_code == 200 and project.title in mine.text and "まず利益相反を申告" in mine.text
    eid = int(mine.text.split('data-evaluation-id="')[1].split('"')[0])
    first = client.get(f"/programme/evaluations/{eid}").text
    assert 'id="declare-form"' in first and 'id="grade-form"' not in first
    assert client.post(f"/programme/evaluations/{eid}/declaration",
                       data={"csrf_token": token, "has_conflict": "no"}, follow_redirects=False).status_code == 303
    second = client.get(f"/programme/evaluations/{eid}").text
    assert 'id="grade-form"' in second and 'id="declare-form"' not in second and 'id="result-form"' not in second
    assert client.get(f"/programme/projects/{project.id}").status_code == 404  # evaluators never see the project page


def test_status_workbook_lists_reports_and_evaluations_for_agency_staff(client: TestClient, db: Session, w: World,
                                                                        clock: FakeClock) -> None:
    import io

    from openpyxl import load_workbook

    project = _project(db, w, clock)
    staff = bearer(db, w.staff, clock)
    _open(client, staff, project, [w.reviewer.user.id], clock)
    got = client.get(f"{BASE}/reports.xlsx", headers=staff)
    assert got.status_code == 200
    wb = load_workbook(io.BytesIO(got.content))
    reports = [[c.value for c in row] for row in wb["成果報告 Reports"].iter_rows(min_row=2)]
    assert [(r[0], r[2], r[4]) for r in reports] == [(project.title, "FY2026", "due"), (project.title, "FY2027", "due")]
    evals = [[c.value for c in row] for row in wb["評価 Evaluations"].iter_rows(min_row=2)]
    assert [(e[0], e[3], e[4], e[5]) for e in evals] == [(project.title, 1, 0, None)]
    assert client.get(f"{BASE}/reports.xlsx", headers=bearer(db, w.lead, clock)).status_code == 403
    db.expire_all()
    assert db.scalars(select(AuditEntry).where(AuditEntry.tag == "programme:reports:export")).first() is not None
