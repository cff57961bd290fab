"""The basic guideline (F2): versions, measures linked to registry technologies, API, pages, demo seed."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.kit.clock import FakeClock
from banso.kit.crypto import SecretBox
from banso.kit.errors import Conflict, Forbidden, ValidationFailed
from banso.programme import guideline
from banso.programme.models import Guideline, GuidelineMeasure
from banso.web.context import AppContext
from tests.support.factories import Factory
from tests.support.http import bearer, sign_in
from tests.support.programme import World, build_world

M = guideline.MeasureInput


def _measures() -> list[guideline.MeasureInput]:
    return [M(kind="information", title_ja="研究者への情報提供", technology_codes=["V1-OC-02"], area_codes=["G16"]),
            M(kind="funding", title_ja="指定基金による支援", technology_codes=["V1-OC-02", "V1-SA-01"]),
            M(kind="talent", title_ja="人材の育成・確保", certainty="unsure", note="要確認")]


def _adopt(db: Session, w: World, clock: FakeClock, **kw: object) -> Guideline:
    args: dict[str, object] = {"code": "KIHON", "title_ja": "基本指針", "adopted_on": date(2022, 9, 30),
                               "body": "本文", "measures": _measures(), "now": clock.now(),
                               "actor": w.officer.principal()}
    args.update(kw)
    return guideline.adopt_guideline(db, **args)


def test_versions_measures_and_technology_links(db: Session, factory: Factory, clock: FakeClock) -> None:
    w = build_world(db, factory, clock)
    v1 = _adopt(db, w, clock)
    v2 = _adopt(db, w, clock, adopted_on=date(2025, 6, 1), body="改定", measures=_measures()[:2])
    assert (v1.version, v2.version) == (1, 2)
    view = guideline.get_guideline(db, guideline_id=v1.id)
    assert [m.kind for m in view.measures] == ["information", "funding", "talent"]
    assert [v.version for v in view.versions] == [2, 1]
    assert view.by_kind()["talent"][0].certainty == "unsure"
    assert [g.version for g in guideline.list_guidelines(db, current_only=True)] == [2]
    assert len(guideline.list_guidelines(db)) == 2
    assert [m.title_ja for m in guideline.measures_for_technology(db, technology_code="V1-SA-01")] == ["指定基金による支援"]
    assert guideline.current_view(db).guideline.id == v2.id
    tags = db.scalars(select(AuditEntry.tag).where(AuditEntry.tag == "programme:guideline:adopt")).all()
    assert len(tags) == 2


@pytest.mark.parametrize(("kw", "error"), [
    ({"measures": [M(kind="money", title_ja="x")]}, ValidationFailed),
    ({"measures": [M(kind="funding", title_ja="x", technology_codes=["NOPE-1"])]}, ValidationFailed),
    ({"measures": [M(kind="funding", title_ja="x", area_codes=["G99"])]}, ValidationFailed),
    ({"measures": [M(kind="funding", title_ja="  ")]}, ValidationFailed),
    ({"measures": []}, ValidationFailed),
    ({"title_ja": ""}, ValidationFailed),
    ({"certainty": "maybe"}, ValidationFailed),
])
def test_bad_input_is_refused_and_nothing_is_written(db: Session, factory: Factory, clock: FakeClock,
                                                     kw: dict[str, object], error: type[Exception]) -> None:
    w = build_world(db, factory, clock)
    with pytest.raises(error):
        _adopt(db, w, clock, **kw)
    assert db.scalar(select(func.count()).select_from(Guideline)) == 0
    assert db.scalar(select(func.count()).select_from(GuidelineMeasure)) == 0


def test_only_editors_adopt_and_versions_cannot_predate(db: Session, factory: Factory, clock: FakeClock) -> None:
    w = build_world(db, factory, clock)
    with pytest.raises(Forbidden):
        _adopt(db, w, clock, actor=w.lead.principal())
    _adopt(db, w, clock, actor=w.staff.principal())
    with pytest.raises(Conflict):
        _adopt(db, w, clock, adopted_on=date(2021, 1, 1))
    assert db.scalar(select(func.count()).select_from(Guideline)) == 1


def test_api_and_pages(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                       ctx: AppContext) -> None:
    w = build_world(db, factory, clock)
    db.commit()
    base = "/api/v1/programme/guidelines"
    body = {"code": "KIHON", "title_ja": "基本指針", "adopted_on": "2022-09-30", "body": "本文",
            "measures": [{"kind": "funding", "title_ja": "指定基金", "technology_codes": ["V1-OC-02"]},
                         {"kind": "talent", "title_ja": "人材"}]}
    officer, lead = bearer(db, w.officer, clock), bearer(db, w.lead, clock)
    assert client.post(base, headers=lead, json=body).status_code == 403
    bad = {**body, "measures": [{"kind": "funding", "title_ja": "x", "technology_codes": ["NOPE"]}]}
    r = client.post(base, headers=officer, json=bad)
    assert r.status_code == 422 and "NOPE" in r.text
    r = client.post(base, headers=officer, json=body)
    assert r.status_code == 201, r.text
    gid = r.json()["id"]
    assert r.json()["version"] == 1 and r.json()["measures"][0]["technology_codes"] == ["V1-OC-02"]
    assert [g["id"] for g in client.get(base, headers=lead).json()] == [gid]
    assert client.get(f"{base}/{gid}", headers=lead).json()["title_ja"] == "基本指針"
    assert client.get(f"{base}/99999", headers=lead).status_code == 404
    techs = client.get("/api/v1/programme/technologies/V1-OC-02/measures", headers=lead).json()
    assert [m["title_ja"] for m in techs] == ["指定基金"]

    sign_in(client, db, w.lead, ctx)
    page = client.get("/programme")
    assert page.status_code == 200 and 'id="guideline"' in page.text
    assert f'href="/programme/guidelines/{gid}"' in page.text and "資金支援" in page.text
    detail = client.get(f"/programme/guidelines/{gid}")
    assert detail.status_code == 200
    assert "基本指針" in detail.text and "V1-OC-02" in detail.text and 'id="measures-talent"' in detail.text
    assert "人材" in detail.text and "2022年9月30日" in detail.text  # the one UI date format (issue 14)
    assert client.get("/programme/guidelines/99999").status_code == 404


def test_demo_seeds_the_2022_guideline(db: Session, clock: FakeClock, box: SecretBox) -> None:
    from banso.demo import seed
    from banso.demo.programme import GUIDELINE_CODE, seed_programme

    seed.seed(db, box=box, now=clock.now())
    seed_programme(db, now=clock.now())
    seed_programme(db, now=clock.now())
    current = guideline.latest_version(db, GUIDELINE_CODE)
    assert current is not None and current.version == 1 and current.adopted_on == date(2022, 9, 30)
    view = guideline.get_guideline(db, guideline_id=current.id)
    kinds = view.by_kind()
    assert all(kinds[k] for k in ("information", "funding", "talent"))
    assert guideline.measures_for_technology(db, technology_code="V1-OC-02")
