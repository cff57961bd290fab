"""After adoption (F4, F6, issue 15): the results reports a project owes — annual ones and a final one, due
31 May after the fiscal year they cover — submitted by the research representative, accepted or returned
by the agency's staff, reminded once when due soon and once when overdue; the F4 declaration review
reminded the same way and recorded from the project page; the agency's status list, overdue first."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from banso.app.jobs import run_due
from banso.audit.models import AuditEntry
from banso.kit.clock import JST, FakeClock
from banso.notifications import service as notifications
from banso.programme import report_schedule, reporting
from banso.programme.models import Project, ResultsReport
from banso.web.context import AppContext
from tests.support.http import bearer, sign_in
from tests.support.programme import BN, World, adopt, submit

BASE = "/api/v1/programme"


def _project(db: Session, w: World, clock: FakeClock, **kwargs: object) -> Project:
    project = adopt(db, w, clock, submit(db, w, clock, **kwargs))
    db.commit()
    return project


def _notes(db: Session, user_id: int, kind: str) -> list[str]:
    db.expire_all()
    return [n.title_ja for n in notifications.inbox(db, user_id=user_id) if n.kind == kind]


def _tags(db: Session, project: Project) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry.tag).where(AuditEntry.subject == f"project:{project.id}")
                           .order_by(AuditEntry.seq)))


def _at(day: date) -> datetime:
    """Noon JST on ``day`` (the job reckons days in JST)."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=JST)


# --- the rules ------------------------------------------------------------------------------------------


def test_schedule_owes_an_annual_report_per_year_and_a_final_one() -> None:
    assert report_schedule.schedule([2027, 2026, 2028, 2027]) == [
        ("annual", 2026, date(2027, 5, 31)), ("annual", 2027, date(2028, 5, 31)), ("final", 2028, date(2029, 5, 31))]
    assert report_schedule.schedule([2026]) == [("final", 2026, date(2027, 5, 31))]
    assert report_schedule.schedule([]) == []


@pytest.mark.parametrize(("today", "sent", "stage"), [
    (date(2027, 4, 30), None, None),  # 31 days before: too early
    (date(2027, 5, 1), None, "due_soon"),  # 30 days before
    (date(2027, 5, 1), "due_soon", None),  # once
    (date(2027, 5, 31), "due_soon", None),  # the due date itself is not overdue
    (date(2027, 6, 1), "due_soon", "overdue"),
    (date(2027, 6, 1), None, "overdue"),  # never reminded before: straight to overdue
    (date(2027, 7, 1), "overdue", None),  # once
])
def test_reminder_stage(today: date, sent: str | None, stage: str | None) -> None:
    assert reporting.reminder_stage(due=date(2027, 5, 31), today=today, sent=sent) == stage


def test_dois_are_found_in_the_outputs() -> None:
    assert reporting.dois("論文: 10.1038/s41586-020-2649-2.\n特許出願 2027-123456\n(10.1103/PhysRevLett.1.1)") == [
        "10.1038/s41586-020-2649-2", "10.1103/PhysRevLett.1.1"]


# --- submission and decision through the API ---------------------------------------------------------------


def test_adoption_schedules_the_reports_and_the_lead_submits_them(client: TestClient, db: Session, w: World,
                                                                 clock: FakeClock) -> None:
    project = _project(db, w, clock)  # plan FY2026 and FY2027
    clock.set(_at(date(2027, 6, 5)))  # late: after the FY2026 report's due date of 31 May
    lead, colleague, staff, other = (bearer(db, p, clock) for p in (w.lead, w.colleague, w.staff,
                                                                        w.other_researcher))
    got = client.get(f"{BASE}/projects/{project.id}/reports", headers=lead).json()
    assert [(r["kind"], r["fiscal_year"], r["due_on"], r["state"]) for r in got["reports"]] == [
        ("annual", 2026, "2027-05-31", "due"), ("final", 2027, "2028-05-31", "due")]
    assert got["may_submit"] is True and got["may_decide"] is False
    assert client.get(f"{BASE}/projects/{project.id}/reports", headers=staff).json()["may_decide"] is True
    assert client.get(f"{BASE}/projects/{project.id}/reports", headers=other).status_code == 404
    first = got["reports"][0]["id"]
    url = f"{BASE}/projects/{project.id}/reports/{first}"

    # Only the research representative submits; a blank summary is refused.
    assert client.post(f"{url}/submit", headers=colleague, json={"summary": "x"}).status_code == 403
    blank = client.post(f"{url}/submit", headers=lead, json={"summary": "  "})
    assert blank.status_code == 422 and blank.json()["problems"][0]["field"] == "summary"
    done = client.post(f"{url}/submit", headers=lead, json={"summary": "海中測位の実証", "outputs": "10.1000/xyz1"})
    assert done.status_code == 200 and done.json()["state"] == "submitted"
    assert client.post(f"{url}/submit", headers=lead, json={"summary": "again"}).status_code == 409
    assert _notes(db, w.staff.user.id, "programme.report_submitted") == ["成果報告が提出されました"]
    assert "programme:report:read" not in _tags(db, project)  # nothing submitted was read yet
    assert client.get(f"{BASE}/projects/{project.id}/reports", headers=staff).status_code == 200
    assert "programme:report:read" in _tags(db, project)  # reading a submitted report is audited

    # The staff return it with a note (a note is required to return); it is due again two weeks later.
    assert client.post(f"{url}/decision", headers=lead, json={"decision": "accept"}).status_code == 403
    assert client.post(f"{url}/decision", headers=staff, json={"decision": "return"}).status_code == 422
    assert client.post(f"{url}/decision", headers=staff, json={"decision": "maybe", "note": "x"}).status_code == 422
    back = client.post(f"{url}/decision", headers=staff, json={"decision": "return", "note": "図表を追加してください"})
    assert back.status_code == 200 and back.json()["state"] == "returned"
    assert back.json()["due_on"] == "2027-06-19"  # two weeks from the return, not the past due date
    assert _notes(db, w.lead.user.id, "programme.report_decided") == ["成果報告が差し戻されました"]

    again = client.post(f"{url}/submit", headers=lead, json={"summary": "海中測位の実証（図表追加）"})
    assert again.status_code == 200 and again.json()["state"] == "submitted"
    ok = client.post(f"{url}/decision", headers=staff, json={"decision": "accept"})
    assert ok.status_code == 200 and ok.json()["state"] == "accepted"
    assert client.post(f"{url}/decision", headers=staff, json={"decision": "accept"}).status_code == 409
    tags = _tags(db, project)
    assert tags.count("programme:report:submit") == 2 and tags.count("programme:report:decide") == 2
    assert "programme:report:schedule" in tags


def test_a_report_of_another_project_is_not_found(client: TestClient, db: Session, w: World,
                                                  clock: FakeClock) -> None:
    project = _project(db, w, clock)
    foreign = ResultsReport(project_id=project.id, kind="annual", fiscal_year=2030, due_on=date(2031, 5, 31),
                            state="due", created_at=clock.now())
    db.add(foreign)
    db.commit()
    lead = bearer(db, w.lead, clock)
    assert client.post(f"{BASE}/projects/{project.id + 999}/reports/{foreign.id}/submit", headers=lead,
                       json={"summary": "x"}).status_code == 404


# --- the job: schedules and reminders -------------------------------------------------------------------------


def test_job_reminds_once_when_due_soon_and_once_when_overdue(db: Session, w: World, clock: FakeClock,
                                                              ctx: AppContext) -> None:
    project = _project(db, w, clock)
    clock.set(_at(date(2027, 4, 20)))  # 41 days before the FY2026 report is due
    run_due(ctx)
    assert _notes(db, w.lead.user.id, "programme.report_due") == []
    clock.set(_at(date(2027, 5, 10)))
    run_due(ctx)
    run_due(ctx)
    assert _notes(db, w.lead.user.id, "programme.report_due") == ["成果報告の提出期限が近づいています"]
    assert _notes(db, w.staff.user.id, "programme.report_due") == []  # staff hear only of overdue reports
    clock.set(_at(date(2027, 6, 2)))
    run_due(ctx)
    run_due(ctx)
    assert _notes(db, w.lead.user.id, "programme.report_due").count("成果報告の提出期限を過ぎています") == 1
    assert _notes(db, w.staff.user.id, "programme.report_due") == ["成果報告の提出期限を過ぎています"]
    assert _notes(db, w.nedo_staff.user.id, "programme.report_due") == []  # another agency's staff
    assert _tags(db, project).count("programme:report:remind") == 2


def test_job_schedules_projects_adopted_before_reports_existed(db: Session, w: World, clock: FakeClock,
                                                               ctx: AppContext) -> None:
    project = _project(db, w, clock)
    db.execute(delete(ResultsReport).where(ResultsReport.project_id == project.id))  # as before migration 0026
    db.commit()
    run_due(ctx)
    run_due(ctx)  # idempotent
    db.expire_all()
    rows = list(db.scalars(select(ResultsReport).where(ResultsReport.project_id == project.id)))
    assert sorted((r.kind, r.fiscal_year) for r in rows) == [("annual", 2026), ("final", 2027)]


def test_declaration_review_is_reminded_and_recorded_from_the_page(client: TestClient, db: Session, w: World,
                                                                   clock: FakeClock, ctx: AppContext) -> None:
    project = _project(db, w, clock, budget={2026: BN, 2027: BN}, core_technologies="量子慣性センサ",
                       leak_prevention="アクセス管理")
    assert project.declaration_required and project.declaration_review_due is not None
    due = project.declaration_review_due
    clock.set(_at(due - timedelta(days=10)))
    run_due(ctx)
    run_due(ctx)
    assert _notes(db, w.staff.user.id, "programme.declaration_review_due") == [
        "重要技術申告の定期確認の期限が近づいています"]
    assert _notes(db, w.lead.user.id, "programme.declaration_review_due") == []

    # The staff record the review on the project page; the next review is reminded afresh.
    token = sign_in(client, db, w.staff, ctx)
    page = client.get(f"/programme/projects/{project.id}")
    assert page.status_code == 200 and 'id="declaration-form"' in page.text
    blank = client.post(f"/programme/projects/{project.id}/declaration-reviews",
                        data={"csrf_token": token, "outcome": "adequate", "note": ""})
    assert blank.status_code == 422 and 'id="declaration-form"' in blank.text
    done = client.post(f"/programme/projects/{project.id}/declaration-reviews",
                       data={"csrf_token": token, "outcome": "adequate", "note": "措置は適切"}, follow_redirects=False)
    assert done.status_code == 303
    db.expire_all()
    fresh = db.get(Project, project.id)
    assert fresh is not None and fresh.declaration_reminder_sent is None and fresh.declaration_review_due > due
    assert "programme:declaration:remind" in _tags(db, project)


# --- pages ---------------------------------------------------------------------------------------------------


def test_project_page_shows_reports_with_the_forms_each_reader_may_use(client: TestClient, db: Session, w: World,
                                                                       clock: FakeClock, ctx: AppContext) -> None:
    project = _project(db, w, clock)
    token = sign_in(client, db, w.lead, ctx)
    page = client.get(f"/programme/projects/{project.id}")
    assert page.status_code == 200 and 'id="reports-table"' in page.text and "最終報告" in page.text
    assert "2026年度（令和8年度） 年次報告" in page.text and "2027年5月31日" in page.text
    assert 'id="report-form-' in page.text and 'id="declaration-form"' not in page.text
    assert "/decision" not in page.text  # the lead never sees the staff's decision form
    report = db.scalars(select(ResultsReport).where(ResultsReport.project_id == project.id)
                        .order_by(ResultsReport.due_on)).first()
    assert report is not None
    refused = client.post(f"/programme/projects/{project.id}/reports/{report.id}/submit",
                          data={"csrf_token": token, "summary": "", "outputs": "論文一覧"})
    assert refused.status_code == 422 and "論文一覧" in refused.text  # what was typed is kept
    sent = client.post(f"/programme/projects/{project.id}/reports/{report.id}/submit",
                       data={"csrf_token": token, "summary": "実証を完了", "outputs": "10.1000/abc"},
                       follow_redirects=False)
    assert sent.status_code == 303
    shown = client.get(f"/programme/projects/{project.id}").text
    assert "提出済み（確認待ち）" in shown and 'href="https://doi.org/10.1000/abc"' in shown
    assert f'id="report-file-{report.id}"' in shown  # the lead may provide it to the council as a result

    token = sign_in(client, db, w.staff, ctx)
    staff_page = client.get(f"/programme/projects/{project.id}").text
    assert f'id="report-decision-{report.id}"' in staff_page and 'id="report-form-' not in staff_page
    assert 'id="report-file-' not in staff_page
    status = client.get("/programme/reports")
    assert status.status_code == 200 and project.title in status.text


def test_status_list_puts_overdue_first_and_is_for_agency_staff_only(client: TestClient, db: Session, w: World,
                                                                     clock: FakeClock, ctx: AppContext) -> None:
    project = _project(db, w, clock)
    clock.set(_at(date(2027, 6, 15)))  # the FY2026 report is overdue
    rows = reporting.agency_status(db, actor=w.staff.principal(), now=clock.now())
    assert [(r.report.fiscal_year, r.overdue) for r in rows] == [(2026, True), (2027, False)]
    assert reporting.agency_status(db, actor=w.nedo_staff.principal(), now=clock.now()) == []
    sign_in(client, db, w.lead, ctx)
    assert client.get("/programme/reports").status_code == 403
    assert rows[0].project.id == project.id


def test_the_lead_provides_a_report_to_the_council_as_a_public_by_default_result(
        client: TestClient, db: Session, w: World, clock: FakeClock) -> None:
    from banso.councils import service as councils_service
    from banso.information.models import Item
    from tests.support.programme import establish_council

    project = _project(db, w, clock)
    establish_council(db, w, clock, project)
    assert project.council_id is not None
    for person in (w.lead, w.colleague, w.partner):
        councils_service.sign_pledge(db, council_id=project.council_id, actor=person.principal(), now=clock.now(),
                                     bylaws_version=1)
    db.commit()
    lead, colleague = bearer(db, w.lead, clock), bearer(db, w.colleague, clock)
    reports = client.get(f"{BASE}/projects/{project.id}/reports", headers=lead).json()["reports"]
    url = f"{BASE}/projects/{project.id}/reports/{reports[0]['id']}"
    assert client.post(f"{url}/file", headers=lead).status_code == 409  # not submitted yet
    client.post(f"{url}/submit", headers=lead, json={"summary": "海中測位の実証", "outputs": "10.1000/xyz1"})
    assert client.post(f"{url}/file", headers=colleague).status_code == 403
    filed = client.post(f"{url}/file", headers=lead)
    assert filed.status_code == 200 and filed.json()["filed_item_id"] is not None
    assert client.post(f"{url}/file", headers=lead).status_code == 409  # once
    db.expire_all()
    item = db.get(Item, filed.json()["filed_item_id"])
    assert item is not None and item.council_id == project.council_id
    assert item.provenance == "researcher_generated" and item.is_result and item.publish_at is not None
    assert item.state == "scheduled"  # public only after the prior-notice window (I6, I13)
    assert "programme:report:file" in _tags(db, project)
