"""Filing a think-tank report into a commission (issue 16, DESIGN F5, T6, T8): page, API and command.

The report goes in as a deliverable of the commission, so the commission's own rules decide (Art. 64 roster:
only an analyst named and acknowledged, while the commission is active; everyone else 404) and its sealed,
stamped, audited copy path serves it (I8, I11, I12). Needs reasons are left out of the filed copy (T8).
"""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.kit.clock import FakeClock
from banso.leak.text import strip_marks
from banso.programme import commissions as cm
from banso.programme import roster
from banso.programme.models import Commission, CommissionDeliverable
from banso.thinktank import service
from banso.web.context import AppContext
from tests.support.factories import Factory, Person
from tests.support.http import bearer, sign_in
from tests.support.programme import engage

REASON = "QXREASON港湾監視の需要"


class Tank:
    """A ministry officer who commissioned a think tank; its engaged analyst, a colleague never named."""

    def __init__(self, db: Session, factory: Factory, clock: FakeClock) -> None:
        org = factory.org(kind="think_tank")
        self.officer: Person = factory.person(roles=("officer",))
        self.analyst: Person = factory.person(roles=("analyst",), org=org)
        self.colleague: Person = factory.person(roles=("analyst",), org=org)
        cm.assess_institution(db, organization_id=org.id, assessed_on=date(2026, 10, 1), analysis_score=4,
                              hub_score=4, talent_score=4, now=clock.now(), actor=self.officer.principal())
        self.commission: Commission = cm.create_commission(
            db, code="TT-FILE-1", title="重要技術の優先度調査", organization_id=org.id, starts_on=date(2026, 12, 1),
            due_on=date(2027, 3, 31), tasks=[cm.TaskInput("報告書", date(2027, 3, 31))], now=clock.now(),
            actor=self.officer.principal())
        engage(db, self.commission.id, officer=self.officer.principal(), person=self.analyst, now=clock.now())
        db.commit()


def _with_a_need(db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    analysis = service.load_analysis(ctx.settings.data_dir)
    assert analysis is not None
    service.enter_need(db, actor=factory.person(roles=("needs_officer",)).principal(), now=clock.now(),
                       technology=str(analysis.japan_rows()[0]["technology"]), level=4, reason=REASON)
    db.commit()


def _deliverables(db: Session, commission_id: int) -> list[CommissionDeliverable]:
    db.expire_all()
    return list(db.scalars(select(CommissionDeliverable).where(CommissionDeliverable.commission_id == commission_id)))


def _entries(db: Session) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.tag == "thinktank:report:file_commission")))


def test_an_engaged_analyst_files_the_report_from_the_page(client: TestClient, db: Session, factory: Factory,
                                                           clock: FakeClock, ctx: AppContext,
                                                           analysis_dir: Path) -> None:
    tank = Tank(db, factory, clock)
    _with_a_need(db, factory, clock, ctx)
    csrf = sign_in(client, db, tank.analyst, ctx)
    page = client.get("/thinktank/priorities")
    form = page.text.split('id="file-commission-form"', 1)[1].split("</form>", 1)[0]
    assert f'<option value="{tank.commission.id}">' in form
    r = client.post("/thinktank/reports/file-commission", data={
        "csrf_token": csrf, "commission_id": str(tank.commission.id), "kind": "priorities.csv"},
        follow_redirects=False)
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"/programme/commissions/{tank.commission.id}")
    [row] = _deliverables(db, tank.commission.id)
    assert row.filename == "priorities.csv" and row.uploaded_by_id == tank.analyst.user.id
    # The commission's own stamped copy path serves it (I8); the needs reason stayed in the think tank (T8).
    got = client.get(f"/programme/commissions/{tank.commission.id}/deliverables/{row.id}")
    assert got.status_code == 200
    text = strip_marks(got.content.decode("utf-8-sig"))
    assert "technology" in text and REASON not in text
    [entry] = _entries(db)
    assert entry.actor_id == tank.analyst.user.id and entry.data["deliverable_id"] == row.id
    assert entry.subject == f"commission:{tank.commission.id}"


def test_a_colleague_not_on_the_roster_cannot_file(client: TestClient, db: Session, factory: Factory,
                                                   clock: FakeClock, ctx: AppContext, analysis_dir: Path) -> None:
    """Art. 64, I7: the form does not offer the commission and the filing is 404; nothing is filed or audited."""
    tank = Tank(db, factory, clock)
    csrf = sign_in(client, db, tank.colleague, ctx)
    assert 'id="file-commission-form"' not in client.get("/thinktank/priorities").text
    r = client.post("/thinktank/reports/file-commission", data={
        "csrf_token": csrf, "commission_id": str(tank.commission.id), "kind": "report.xlsx"})
    assert r.status_code == 404
    # Named but not yet acknowledged: still nothing.
    roster.add_person(db, commission_id=tank.commission.id, user_id=tank.colleague.user.id, now=clock.now(),
                      actor=tank.analyst.principal())
    db.commit()
    r = client.post("/thinktank/reports/file-commission", data={
        "csrf_token": csrf, "commission_id": str(tank.commission.id), "kind": "report.xlsx"})
    assert r.status_code == 404
    assert _deliverables(db, tank.commission.id) == [] and _entries(db) == []


def test_the_api_files_a_workbook_without_reasons(client: TestClient, db: Session, factory: Factory,
                                                  clock: FakeClock, ctx: AppContext, analysis_dir: Path) -> None:
    tank = Tank(db, factory, clock)
    _with_a_need(db, factory, clock, ctx)
    analyst, officer = bearer(db, tank.analyst, clock), bearer(db, tank.officer, clock)
    url = "/api/v1/thinktank/reports/file-commission"
    bad = client.post(url, headers=analyst, json={"commission_id": tank.commission.id, "kind": "report.html"})
    assert bad.status_code == 422
    assert client.post(url, headers=officer, json={"commission_id": tank.commission.id}).status_code == 403
    r = client.post(url, headers=analyst, json={"commission_id": tank.commission.id})
    assert r.status_code == 201, r.text
    did = r.json()["deliverable_id"]
    copy = client.get(f"/api/v1/programme/commissions/{tank.commission.id}/deliverables/{did}", headers=officer)
    assert copy.status_code == 200
    book = load_workbook(io.BytesIO(copy.content), read_only=True)
    cells = " ".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)
    assert "technology" in cells.lower() or "技術" in cells
    assert REASON not in cells
    cm.cancel_commission(db, commission_id=tank.commission.id, now=clock.now(), actor=tank.officer.principal(),
                         reason="中止")
    db.commit()
    assert client.post(url, headers=analyst, json={"commission_id": tank.commission.id}).status_code == 409
    assert len(_entries(db)) == 1


def test_the_command_files_into_a_commission(tmp_path: Path, built: Path) -> None:
    from banso.app.wiring import build_context
    from banso.config import Mode, Settings
    from banso.migrations import migrate
    from tests.support.cli import banso

    data = tmp_path / "data"
    ctx = build_context(Settings(mode=Mode.DEVELOPMENT, data_dir=data, database_url=None))
    migrate.upgrade(ctx.engine)
    target = service.analytics_dir(data)
    for sub in (service.INDICATORS, service.PRIORITIES):
        shutil.copytree(built / sub, target / sub)
    with ctx.sessions() as db:
        clock = FakeClock()
        tank = Tank(db, Factory(db, clock, ctx.box), clock)
        commission_id, analyst, colleague = tank.commission.id, tank.analyst.email, tank.colleague.email
    denied = banso(["analyze", "file-commission", str(commission_id), "--as", colleague], data)
    assert denied.returncode == 1 and "not found" in denied.stderr + denied.stdout
    done = banso(["analyze", "file-commission", str(commission_id), "--as", analyst, "--kind", "report.pdf"], data)
    assert done.returncode == 0, done.stderr
    with ctx.sessions() as db:
        [row] = db.scalars(select(CommissionDeliverable).where(CommissionDeliverable.commission_id == commission_id))
        assert row.filename == "report.pdf" and row.content_type == "application/pdf"
        assert f'"deliverable_id": {row.id}' in done.stdout
    ctx.engine.dispose()
