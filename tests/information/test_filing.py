"""Filing from other domains as information items: material-request answers (C6), commission
deliverables (F5) and analytics outputs (T6)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.councils import service as councils
from banso.information import distribution, filing, service
from banso.information.deps import InformationDeps
from banso.information.models import Item
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict, NotFound
from banso.leak.pdf import make_sample_pdf
from banso.leak.text import strip_marks
from banso.programme import commissions as cm
from banso.programme import filing as programme_filing
from banso.sealed import store as sealed
from banso.web.context import AppContext
from tests.support.councils import Cast
from tests.support.factories import Factory
from tests.support.http import bearer
from tests.support.programme import engage


def _join(db: Session, cast: Cast, clock: FakeClock, person, role: str = "observer") -> None:  # type: ignore[no-untyped-def]
    cid = cast.council.id
    councils.invite(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(), user_id=person.user.id,
                    role=role, deadline=clock.now() + timedelta(days=7))
    councils.consent(db, council_id=cid, actor=person.principal(), now=clock.now(), decision="consent")
    councils.sign_pledge(db, council_id=cid, actor=person.principal(), now=clock.now(), bylaws_version=1)


def test_material_request_answer_becomes_a_think_tank_item(db: Session, deps: InformationDeps, cast: Cast,
                                                           factory: Factory, clock: FakeClock) -> None:
    cid = cast.council.id
    analyst = factory.person(roles=("analyst",), org=factory.org(kind="think_tank"))
    _join(db, cast, clock, analyst)
    material = sealed.fake_deps()
    req = councils.create_request(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                                  title="諸外国の研究開発動向", body="主要国の論文動向", matter="useful_information",
                                  addressee_kind="think_tank", addressee_id=analyst.user.id,
                                  due_at=clock.now() + timedelta(days=14))
    with pytest.raises(Conflict):  # not answered yet
        filing.file_request_answer(db, deps, council_id=cid, request_id=req.id, actor=analyst.principal(),
                                   now=clock.now(), material_store=material)
    councils.answer_request(db, council_id=cid, request_id=req.id, actor=analyst.principal(), now=clock.now(),
                            text="別添のとおり", store=material,
                            files=[councils.UploadedFile("動向.csv", "text/csv", "国,論文数\nJP,10\nUS,42\n".encode())])
    item = filing.file_request_answer(db, deps, council_id=cid, request_id=req.id, actor=analyst.principal(),
                                      now=clock.now(), material_store=material)
    assert item.provenance == "think_tank" and item.state == "council" and item.origin == f"material_request:{req.id}"
    view = service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(), now=clock.now())
    assert view.body == "別添のとおり" and [f.filename for f in view.files] == ["動向.csv"]
    copy = distribution.download_file(db, deps, item_id=item.id, file_id=view.files[0].id,
                                      actor=cast.company.principal(), now=clock.now())
    text = copy.data.decode()
    assert text != "国,論文数\nJP,10\nUS,42\n" and strip_marks(text) == "国,論文数\nJP,10\nUS,42\n"  # fingerprinted
    with pytest.raises(Conflict):  # once only
        filing.file_request_answer(db, deps, council_id=cid, request_id=req.id, actor=analyst.principal(),
                                   now=clock.now(), material_store=material)


def test_commission_deliverable_is_filed_into_a_council(db: Session, deps: InformationDeps, cast: Cast,
                                                        factory: Factory, clock: FakeClock) -> None:
    tank = factory.org(kind="think_tank")
    analyst = factory.person(roles=("analyst",), org=tank)
    officer = cast.officer.principal()
    cm.assess_institution(db, organization_id=tank.id, assessed_on=date(2026, 10, 1), analysis_score=4, hub_score=4,
                          talent_score=4, analysis_note="実績", hub_note="網", talent_note="人材", now=clock.now(),
                          actor=officer)
    commission = cm.create_commission(db, code="TT-1", title="宇宙輸送の国際動向", organization_id=tank.id,
                                      starts_on=date(2026, 12, 1), due_on=date(2027, 3, 1),
                                      tasks=[cm.TaskInput("報告書", date(2027, 3, 1))], now=clock.now(), actor=officer)
    engage(db, commission.id, officer=officer, person=analyst, now=clock.now())
    pdf = make_sample_pdf("最終報告書", ["各国の動向"])
    material = sealed.fake_deps()
    row = cm.upload_deliverable(db, commission_id=commission.id, title="最終報告書", filename="report.pdf",
                                content=pdf, now=clock.now(), actor=analyst.principal(), content_type="application/pdf",
                                store=material)
    with pytest.raises(NotFound):  # someone who cannot see the commission cannot file it
        programme_filing.file_deliverable(db, deps, commission_id=commission.id, deliverable_id=row.id,
                                council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(),
                                store=material)
    item = programme_filing.file_deliverable(db, deps, commission_id=commission.id, deliverable_id=row.id,
                                   council_id=cast.council.id, actor=officer, now=clock.now(), store=material)
    assert item.provenance == "think_tank" and item.origin == f"commission:{commission.id}:deliverable:{row.id}"
    # I7 (outside finding, session 9): the analyst sees the commission but is no member of the council, so filing
    # again is 404 for them (the duplicate check once answered 409 and told them the council held the item) ...
    with pytest.raises(NotFound):
        programme_filing.file_deliverable(db, deps, commission_id=commission.id, deliverable_id=row.id,
                                          council_id=cast.council.id, actor=analyst.principal(), now=clock.now(),
                                          store=material)
    with pytest.raises(Conflict):  # ... and 409 for a member who may contribute
        programme_filing.file_deliverable(db, deps, commission_id=commission.id, deliverable_id=row.id,
                                          council_id=cast.council.id, actor=officer, now=clock.now(), store=material)
    view = service.read_item(db, deps, item_id=item.id, actor=cast.researcher.principal(), now=clock.now())
    assert view.files[0].kind == "pdf"


def test_analytics_outputs_are_filed(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock,
                                     tmp_path: Path) -> None:
    table = tmp_path / "technologies.csv"
    table.write_text("technology,leader\nquantum,CN\n", encoding="utf-8")
    item = filing.file_report(db, deps, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                              title="技術動向分析 2019–2023", summary="主要国の比較", paths=[table])
    assert item.provenance == "think_tank" and item.state == "council"
    assert service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(),
                             now=clock.now()).files[0].filename == "technologies.csv"


def test_the_api_files_an_answer_at_the_councils_url(client: TestClient, db: Session, cast: Cast, ctx: AppContext,
                                                     clock: FakeClock) -> None:
    """The filing route lives in information but keeps its URL under /api/v1/councils (C6, issue 12)."""
    cid = cast.council.id
    req = councils.create_request(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                                  title="量産技術の動向", body="資料を提供願います。", matter="useful_information",
                                  addressee_kind="participant", addressee_id=cast.company.user.id,
                                  due_at=clock.now() + timedelta(days=10))
    councils.answer_request(db, council_id=cid, request_id=req.id, actor=cast.company.principal(), now=clock.now(),
                            text="別添のとおりです。", store=sealed.sealed_deps(ctx), files=[])
    db.commit()
    url = f"/api/v1/councils/{cid}/requests/{req.id}/file"
    headers = bearer(db, cast.company, clock)
    filed = client.post(url, headers=headers)
    assert filed.status_code == 201, filed.text
    item = db.get(Item, filed.json()["item_id"])
    assert item is not None and item.council_id == cid and item.origin == f"material_request:{req.id}"
    assert filed.json()["state"] == item.state
    again = client.post(url, headers=headers)
    assert again.status_code == 409 and "already filed" in again.json()["message"]
