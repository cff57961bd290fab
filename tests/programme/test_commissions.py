"""Think-tank commissions (F5): assessment gate, confidentiality, tasks, deliverables, visibility, API."""

from __future__ import annotations

import hashlib
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.leak.text import strip_marks
from banso.programme import commissions as cm
from banso.programme import roster
from banso.programme.models import Commission, CommissionDeliverable, CommissionTask
from banso.sealed import store as sealed
from banso.web.context import AppContext
from tests.support.factories import Factory, Person
from tests.support.http import bearer, sign_in
from tests.support.programme import engage

T = cm.TaskInput
STORE = sealed.fake_deps()  # in-memory blobs and commission keys shared by the service-level tests


class Cast:
    """A commissioning officer, a think tank with an analyst, an outsider."""

    def __init__(self, factory: Factory) -> None:
        ministry = factory.org(kind="ministry")
        self.tank = factory.org(kind="think_tank")
        self.weak = factory.org(kind="think_tank")
        self.officer: Person = factory.person(roles=("officer",), org=ministry)
        self.colleague: Person = factory.person(roles=("officer",), org=ministry)
        self.analyst: Person = factory.person(roles=("analyst",), org=self.tank)
        self.outsider: Person = factory.person(roles=("analyst",), org=self.weak)
        self.other_officer: Person = factory.person(roles=("officer",))


def _assess(db: Session, c: Cast, clock: FakeClock, org_id: int, scores: tuple[int, int, int] = (4, 3, 4)) -> None:
    cm.assess_institution(db, organization_id=org_id, assessed_on=date(2026, 10, 1), analysis_score=scores[0],
                          hub_score=scores[1], talent_score=scores[2], analysis_note="論文分析の実績",
                          hub_note="国内外の情報網", talent_note="博士研究員10名", now=clock.now(),
                          actor=c.officer.principal())


def _commission(db: Session, c: Cast, clock: FakeClock, **kw: object) -> Commission:
    args: dict[str, object] = {
        "code": "TT-2026-01", "title": "量子技術の国際動向調査", "organization_id": c.tank.id,
        "starts_on": date(2026, 12, 1), "due_on": date(2027, 3, 15),
        "tasks": [T("主要国の研究開発動向の整理", date(2027, 1, 31)), T("最終報告書", date(2027, 3, 15))],
        "now": clock.now(), "actor": c.officer.principal()}
    args.update(kw)
    return cm.create_commission(db, **args)


def test_commission_lifecycle(db: Session, factory: Factory, clock: FakeClock) -> None:
    c = Cast(factory)
    _assess(db, c, clock, c.tank.id)
    commission = _commission(db, c, clock)
    assert "守秘" in commission.confidentiality_terms
    # Art. 64 (issue 13): nobody at the institution sees it before being named on the roster and acknowledging
    # (the old assertion here, that the analyst saw it unnamed, was the hole this closes).
    with pytest.raises(NotFound):
        cm.get_commission(db, commission_id=commission.id, actor=c.analyst.principal())
    roster.name_contact(db, commission_id=commission.id, user_id=c.analyst.user.id, now=clock.now(),
                        actor=c.officer.principal())
    # Nothing is filed before the confidentiality duty is acknowledged.
    with pytest.raises(NotFound):
        cm.upload_deliverable(db, commission_id=commission.id, title="中間", filename="a.pdf", content=b"x",
                              now=clock.now(), actor=c.analyst.principal(), store=STORE)
    with pytest.raises(Forbidden):
        roster.acknowledge(db, commission_id=commission.id, now=clock.now(), actor=c.officer.principal())
    roster.acknowledge(db, commission_id=commission.id, now=clock.now(), actor=c.analyst.principal())
    with pytest.raises(Conflict):
        roster.acknowledge(db, commission_id=commission.id, now=clock.now(), actor=c.analyst.principal())
    view = cm.get_commission(db, commission_id=commission.id, actor=c.analyst.principal())
    assert [t.title for t in view.tasks] == ["主要国の研究開発動向の整理", "最終報告書"]
    assert view.assessment is not None and view.assessment.talent_score == 4 and view.contractor
    data = "報告書".encode()
    # Issue 17 (O1): text named .pdf and declared a PDF is refused now; the report is filed as the text it is.
    d = cm.upload_deliverable(db, commission_id=commission.id, title="最終報告書", filename="../report.txt",
                              content=data, content_type="text/plain", task_id=view.tasks[1].id,
                              now=clock.now(), actor=c.analyst.principal(), store=STORE)
    assert d.filename == "report.txt" and d.sha256 == hashlib.sha256(data).hexdigest() and d.size == len(data)
    with pytest.raises(Conflict):  # tasks still open
        cm.complete_commission(db, commission_id=commission.id, now=clock.now(), actor=c.officer.principal())
    for t in view.tasks:
        cm.complete_task(db, commission_id=commission.id, task_id=t.id, now=clock.now(), actor=c.analyst.principal())
    with pytest.raises(Forbidden):
        cm.complete_commission(db, commission_id=commission.id, now=clock.now(), actor=c.analyst.principal())
    done = cm.complete_commission(db, commission_id=commission.id, now=clock.now(), actor=c.colleague.principal())
    assert done.state == "completed"
    got = cm.download_deliverable(db, commission_id=commission.id, deliverable_id=d.id, now=clock.now(),
                                  actor=c.officer.principal(), store=STORE)
    # Issue 11 (I8): a stamped copy, no longer the stored bytes themselves.
    assert got.data != data and strip_marks(got.data.decode()) == data.decode()
    tags = set(db.scalars(select(AuditEntry.tag).where(AuditEntry.tag.like("programme:%"))))
    assert {"programme:assessment:record", "programme:commission:create", "programme:commission:acknowledge",
            "programme:commission:deliverable", "programme:commission:task", "programme:commission:state",
            "programme:commission:download"} <= tags


def test_outsiders_get_404_and_see_nothing(db: Session, factory: Factory, clock: FakeClock) -> None:
    c = Cast(factory)
    _assess(db, c, clock, c.tank.id)
    commission = _commission(db, c, clock)
    for who in (c.outsider, c.other_officer):
        with pytest.raises(NotFound):
            cm.get_commission(db, commission_id=commission.id, actor=who.principal())
        with pytest.raises(NotFound):
            cm.upload_deliverable(db, commission_id=commission.id, title="x", filename="x.txt", content=b"x",
                                  now=clock.now(), actor=who.principal(), store=STORE)
        assert cm.list_commissions(db, actor=who.principal()) == []
    assert cm.list_commissions(db, actor=c.analyst.principal()) == []  # Art. 64: not named yet
    engage(db, commission.id, officer=c.officer.principal(), person=c.analyst, now=clock.now())
    assert [x.id for x in cm.list_commissions(db, actor=c.analyst.principal())] == [commission.id]


@pytest.mark.parametrize(("kw", "error"), [
    ({"code": "bad code!"}, ValidationFailed),
    ({"title": " "}, ValidationFailed),
    ({"due_on": date(2026, 11, 1)}, ValidationFailed),
    ({"tasks": []}, ValidationFailed),
    ({"tasks": [T("遅すぎる", date(2027, 4, 1))]}, ValidationFailed),
    ({"confidentiality_terms": ""}, ValidationFailed),
    ({"organization_id": 999_999}, ValidationFailed),
])
def test_bad_commissions_change_nothing(db: Session, factory: Factory, clock: FakeClock, kw: dict[str, object],
                                        error: type[Exception]) -> None:
    c = Cast(factory)
    _assess(db, c, clock, c.tank.id)
    with pytest.raises(error):
        _commission(db, c, clock, **kw)
    assert db.scalar(select(func.count()).select_from(Commission)) == 0
    assert db.scalar(select(func.count()).select_from(CommissionTask)) == 0


def test_assessment_gate_and_permissions(db: Session, factory: Factory, clock: FakeClock) -> None:
    c = Cast(factory)
    with pytest.raises(Conflict):  # not assessed
        _commission(db, c, clock)
    _assess(db, c, clock, c.weak.id, scores=(4, 1, 4))
    with pytest.raises(Conflict):  # below the bar on the hub axis
        _commission(db, c, clock, organization_id=c.weak.id)
    with pytest.raises(ValidationFailed):
        _assess(db, c, clock, c.tank.id, scores=(6, 3, 3))
    with pytest.raises(Forbidden):
        cm.assess_institution(db, organization_id=c.tank.id, assessed_on=date(2026, 10, 1), analysis_score=3,
                              hub_score=3, talent_score=3, now=clock.now(), actor=c.analyst.principal())
    _assess(db, c, clock, c.tank.id)
    with pytest.raises(Forbidden):
        _commission(db, c, clock, actor=c.analyst.principal())
    commission = _commission(db, c, clock)
    with pytest.raises(Conflict):
        _commission(db, c, clock)  # duplicate code
    engage(db, commission.id, officer=c.officer.principal(), person=c.analyst, now=clock.now())
    for bad in ({"content": b""}, {"filename": ""}, {"filename": "a\x00b"}, {"task_id": 999_999},
                {"content": b"x" * (cm.MAX_DELIVERABLE_BYTES + 1)}):
        args: dict[str, object] = {"title": "成果物", "filename": "a.txt", "content": b"data"}
        args.update(bad)
        with pytest.raises(ValidationFailed):
            cm.upload_deliverable(db, commission_id=commission.id, now=clock.now(), actor=c.analyst.principal(),
                                  store=STORE, **args)
    assert db.scalar(select(func.count()).select_from(CommissionDeliverable)) == 0


def test_commission_api(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    c = Cast(factory)
    db.commit()
    officer, analyst, outsider = (bearer(db, p, clock) for p in (c.officer, c.analyst, c.outsider))
    base = "/api/v1/programme"
    r = client.post(f"{base}/assessments", headers=officer, json={
        "organization_id": c.tank.id, "assessed_on": "2026-10-01", "analysis_score": 4, "hub_score": 3,
        "talent_score": 5, "talent_note": "専門人材が豊富"})
    assert r.status_code == 201, r.text
    assert client.post(f"{base}/assessments", headers=analyst, json={
        "organization_id": c.tank.id, "assessed_on": "2026-10-01", "analysis_score": 4, "hub_score": 3,
        "talent_score": 5}).status_code == 403
    body = {"code": "TT-API-1", "title": "宇宙技術の動向調査", "organization_id": c.tank.id,
            "starts_on": "2026-12-01", "due_on": "2027-03-31",
            "tasks": [{"title": "報告書", "due_on": "2027-03-31"}], "contact_user_id": c.analyst.user.id}
    r = client.post(f"{base}/commissions", headers=officer, json=body)
    assert r.status_code == 201, r.text
    cid, task_id = r.json()["id"], r.json()["tasks"][0]["id"]
    assert client.post(f"{base}/commissions", headers=officer, json=body).status_code == 409
    assert client.get(f"{base}/commissions/{cid}", headers=outsider).status_code == 404
    files = {"file": ("report.txt", b"final report", "text/plain")}
    r = client.post(f"{base}/commissions/{cid}/deliverables", headers=analyst, files=files, data={"title": "報告書"})
    assert r.status_code == 404  # named as the contact, the duty not yet acknowledged: nothing but the duty (Art. 64)
    # bearer tokens of people who use a second factor count as one (I7): the API acknowledgement is accepted
    assert client.post(f"{base}/commissions/{cid}/acknowledge", headers=analyst).status_code == 200
    r = client.post(f"{base}/commissions/{cid}/deliverables", headers=analyst, files=files,
                    data={"title": "報告書", "task_id": str(task_id)})
    assert r.status_code == 201, r.text
    did = r.json()["id"]
    assert client.post(f"{base}/commissions/{cid}/tasks/{task_id}/done", headers=analyst).status_code == 200
    got = client.get(f"{base}/commissions/{cid}/deliverables/{did}", headers=officer)
    # Issue 11 (I8): a stamped copy, no longer the stored bytes themselves.
    assert got.status_code == 200 and got.content != b"final report"
    assert strip_marks(got.content.decode()) == "final report"
    assert client.get(f"{base}/commissions/{cid}/deliverables/{did}", headers=outsider).status_code == 404
    assert client.post(f"{base}/commissions/{cid}/complete", headers=officer).json()["state"] == "completed"
    assert [x["id"] for x in client.get(f"{base}/commissions", headers=analyst).json()] == [cid]


def test_commission_pages(client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext
                          ) -> None:
    c = Cast(factory)
    db.commit()
    csrf = sign_in(client, db, c.officer, ctx)
    page = client.get("/programme/commissions")
    assert page.status_code == 200 and 'id="assess-form"' in page.text and "シンクタンク委託" in page.text
    r = client.post("/programme/assessments", data={
        "csrf_token": csrf, "organization_id": str(c.tank.id), "assessed_on": "2026-10-01", "analysis_score": "9",
        "hub_score": "3", "talent_score": "4"})
    assert r.status_code == 422 and "調査分析能力" in r.text
    r = client.post("/programme/assessments", data={
        "csrf_token": csrf, "organization_id": str(c.tank.id), "assessed_on": "2026-10-01", "analysis_score": "4",
        "hub_score": "3", "talent_score": "4", "talent_note": "博士人材"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    form = {"csrf_token": csrf, "code": "TT-PAGE-1", "title": "AI安全性の動向調査", "organization_id": str(c.tank.id),
            "starts_on": "2026-12-01", "due_on": "2027-03-31", "tasks": "2027-03-31 最終報告書"}
    bad = client.post("/programme/commissions", data={**form, "tasks": "来年 報告書"})
    assert bad.status_code == 422 and db.scalar(select(func.count()).select_from(Commission)) == 0
    r = client.post("/programme/commissions", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    url = r.headers["location"].split("?")[0]
    assert "守秘義務" in client.get(url).text
    # Art. 64 (issue 13): the officer names the analyst as the institution's contact on the page
    r = client.post(f"{url}/contact", data={"csrf_token": csrf, "user_id": str(c.analyst.user.id)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text

    csrf = sign_in(client, db, c.analyst, ctx)
    page = client.get(url)
    assert 'id="acknowledge-form"' in page.text and 'id="deliverable-form"' not in page.text
    assert client.post(f"{url}/acknowledge", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    r = client.post(f"{url}/deliverables", data={"csrf_token": csrf, "title": "最終報告書"},
                    files={"file": ("report.txt", b"final", "text/plain")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(url)
    assert "report.txt" in page.text and 'id="acknowledged"' in page.text
    link = re.search(r'href="(/programme/commissions/\d+/deliverables/\d+)"', page.text)
    assert link and strip_marks(client.get(link.group(1)).content.decode()) == "final"  # stamped copy (I8)

    sign_in(client, db, c.outsider, ctx)
    assert client.get(url).status_code == 404
    assert client.get(link.group(1)).status_code == 404
