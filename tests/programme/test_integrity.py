"""Research integrity (F6, issue 15): disclosures of other funding (received and applied for, in 千円),
affiliations, side appointments and foreign support given with a proposal; the declaration signed with a
second factor at submission; changes after adoption declared and audited; and the duplication/concentration
check (不合理な重複・過度の集中) by e-Rad researcher number, shown to the call's staff with its evidence."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.kit.errors import Forbidden
from banso.programme import integrity, service
from banso.programme.integrity import DisclosureLine, Engagement, OtherFunding
from banso.programme.models import Disclosure, IntegritySignature, Proposal
from tests.support.factories import Factory, audit_count
from tests.support.http import bearer
from tests.support.programme import World, adopt, submit

BASE = "/api/v1/programme"
LEAD_NO, OTHER_NO = "11110001", "22220002"
KAKENHI = {"kind": "funding_received", "name": "量子慣性センサの基礎研究", "agency": "日本学術振興会",
           "start_fiscal_year": 2024, "end_fiscal_year": 2026, "amount_thousand_yen": "12,500", "effort_percent": 20}


# ---------------------------------------------------------------------------------------------
# Pure rules


def test_title_similarity_is_token_set_jaccard_over_normalised_titles() -> None:
    a = integrity.title_tokens("量子慣性航法による海中測位")
    assert a == {"量子", "子慣", "慣性", "性航", "航法", "海中", "中測", "測位"}  # hiragana only separates
    assert integrity.jaccard(a, integrity.title_tokens("量子慣性航法を用いた海中測位")) >= 0.75
    assert integrity.jaccard(a, integrity.title_tokens("深層学習による創薬支援")) == 0.0
    # NFKC and case: full-width Latin equals ASCII; stop words do not count
    assert integrity.title_tokens("ＱＵＡＮＴＵＭ Navigation of the Sea") == {"quantum", "navigation", "sea"}


def test_effort_over_100_and_same_theme_are_flagged_with_evidence() -> None:
    engagements = [Engagement(LEAD_NO, 1, "量子慣性航法による海中測位", 60, "submitted"),
                   Engagement(LEAD_NO, 2, "量子慣性航法を用いた海中測位", 30, "adopted"),
                   Engagement(OTHER_NO, 2, "量子慣性航法を用いた海中測位", 90, "adopted")]
    funding = [OtherFunding(LEAD_NO, 1, "量子慣性センサの基礎研究", "JSPS", 20, "funding_received"),
               OtherFunding(LEAD_NO, 2, "量子慣性センサの基礎研究", "JSPS", 20, "funding_received")]  # counted once
    flags = integrity.duplication_flags(engagements, funding)
    effort = [f for f in flags if f.kind == "effort"]
    assert [(f.researcher_number, f.score, f.proposal_ids) for f in effort] == [(LEAD_NO, 110.0, (1, 2))]
    similar = [f for f in flags if f.kind == "similar_title"]
    assert [(f.researcher_number, f.proposal_ids) for f in similar] == [(LEAD_NO, (1, 2))]
    assert "航法" in similar[0].evidence["shared_tokens"]  # type: ignore[operator]
    # 100 % exactly is allowed; different themes are not duplicates
    assert integrity.duplication_flags([Engagement(OTHER_NO, 3, "海中通信", 100, "submitted")], []) == []


def test_the_same_other_funding_as_the_proposal_is_flagged() -> None:
    flags = integrity.duplication_flags([Engagement(LEAD_NO, 1, "量子慣性航法による海中測位", 10, "submitted")],
                                        [OtherFunding(LEAD_NO, 1, "量子慣性航法による海中測位の研究", "NEDO", 10,
                                                      "funding_applied")])
    assert [(f.kind, f.evidence["agency"]) for f in flags] == [("same_funding", "NEDO")]


# ---------------------------------------------------------------------------------------------
# Disclosures and the signed declaration


def _body(**change: object) -> dict[str, object]:
    return {"title": "量子慣性航法による海中測位", "budget_sheet": {"FY2026": {"equipment": 100_000}},
            "lead_effort": 40, "team": [], **change}


def test_disclosures_are_signed_at_submission_and_read_by_applicants_and_staff_only(
        client: TestClient, db: Session, w: World, clock: FakeClock) -> None:
    w.lead.user.researcher_number = LEAD_NO
    db.commit()
    lead = bearer(db, w.lead, clock)
    lines = [KAKENHI, {"kind": "side_appointment", "name": "客員研究員", "agency": "海外大学", "foreign": True},
             {"kind": "foreign_support", "name": "渡航費支援", "agency": "外国財団", "amount_thousand_yen": 800,
              "foreign": True}]
    r = client.post(f"{BASE}/calls/{w.call.id}/proposals", headers=lead, json=_body(disclosures=lines))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = client.get(f"{BASE}/proposals/{pid}/integrity", headers=lead)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [d["kind"] for d in body["disclosures"]] == ["funding_received", "side_appointment", "foreign_support"]
    assert body["disclosures"][0]["amount_yen"] == 12_500_000  # entered in 千円
    [signature] = body["signatures"]
    stored = list(db.scalars(select(Disclosure).where(Disclosure.proposal_id == pid).order_by(Disclosure.id)))
    assert signature["disclosures_digest"] == integrity.disclosures_digest(service.disclosure_lines(stored))
    assert body["statement_ja"].startswith("私は、")
    assert client.get(f"{BASE}/proposals/{pid}/integrity", headers=bearer(db, w.staff, clock)).status_code == 200
    assert audit_count(db, "programme:integrity:read") == 1  # the staff's read, not the proposer's
    # Reviewers never see disclosures, even cleared and after the close; nor do other applicants or agencies.
    client.post(f"{BASE}/proposals/{pid}/conflict", headers=bearer(db, w.reviewer, clock), json={"grounds": []})
    clock.set(w.call.closes_at + timedelta(days=1))
    for person in (w.reviewer, w.other_researcher, w.nedo_staff, w.reviewer_conflicted):
        assert client.get(f"{BASE}/proposals/{pid}/integrity", headers=bearer(db, person, clock)).status_code == 404


def test_submission_without_second_factor_is_refused_and_writes_nothing(
        client: TestClient, db: Session, w: World, factory: Factory, clock: FakeClock) -> None:
    bare = factory.person(roles=("researcher",), with_totp=False)  # no second factor enrolled
    db.commit()
    headers = bearer(db, bare, clock)
    r = client.post(f"{BASE}/calls/{w.call.id}/proposals", headers=headers, json=_body(disclosures=[KAKENHI]))
    assert r.status_code == 403 and "二要素認証" in r.text
    assert db.scalar(select(func.count()).select_from(Proposal)) == 0
    assert db.scalar(select(func.count()).select_from(Disclosure)) == 0
    # A draft needs no signature; submitting it does.
    r = client.post(f"{BASE}/calls/{w.call.id}/proposals", headers=headers, json=_body(draft=True))
    assert r.status_code == 201, r.text
    r = client.post(f"{BASE}/proposals/{r.json()['id']}/submit", headers=headers)
    assert r.status_code == 403, r.text
    assert db.scalar(select(func.count()).select_from(IntegritySignature)) == 0
    db.expire_all()
    assert db.scalar(select(Proposal.state)) == "draft"


@pytest.mark.parametrize(("line", "says"), [
    ({**KAKENHI, "effort_percent": 150}, "エフォート"),
    ({**KAKENHI, "agency": None}, "配分機関"),
    ({**KAKENHI, "kind": "gift"}, "申告の種類"),
    ({**KAKENHI, "start_fiscal_year": 2026, "end_fiscal_year": 2025}, "終了年度"),
    ({**KAKENHI, "amount_thousand_yen": "12万"}, "千円"),
])
def test_bad_disclosures_get_a_clear_bilingual_422(client: TestClient, db: Session, w: World, clock: FakeClock,
                                                   line: dict[str, object], says: str) -> None:
    r = client.post(f"{BASE}/calls/{w.call.id}/proposals", headers=bearer(db, w.lead, clock),
                    json=_body(disclosures=[line]))
    assert r.status_code == 422, r.text
    assert says in r.text and "/" in r.text
    assert db.scalar(select(func.count()).select_from(Disclosure)) == 0


def test_changes_after_adoption_are_declared_and_audited(client: TestClient, db: Session, w: World,
                                                         clock: FakeClock) -> None:
    proposal = submit(db, w, clock, disclosures=[DisclosureLine(kind="affiliation", name="A大学")])
    db.commit()
    change = {"disclosure": {**KAKENHI, "kind": "funding_applied", "name": "新規応募", "agency": "NEDO"},
              "reason": "採択後に他制度へ応募したため"}
    lead = bearer(db, w.lead, clock)
    r = client.post(f"{BASE}/proposals/{proposal.id}/integrity/changes", headers=lead, json=change)
    assert r.status_code == 409, r.text  # before adoption the proposal itself is edited
    adopt(db, w, clock, proposal)
    db.commit()
    r = client.post(f"{BASE}/proposals/{proposal.id}/integrity/changes", headers=bearer(db, w.colleague, clock),
                    json=change)
    assert r.status_code == 201, r.text
    assert r.json()["after_adoption"] is True and r.json()["change_reason"] == "採択後に他制度へ応募したため"
    assert audit_count(db, "programme:integrity:change") == 1
    for person, status in ((w.other_researcher, 404), (w.reviewer, 403)):  # the cleared reviewer sees it
        assert client.post(f"{BASE}/proposals/{proposal.id}/integrity/changes", headers=bearer(db, person, clock),
                           json=change).status_code == status
    body = client.get(f"{BASE}/proposals/{proposal.id}/integrity", headers=bearer(db, w.lead, clock)).json()
    assert [d["name"] for d in body["disclosures"]] == ["A大学"] and [d["name"] for d in body["changes"]] == ["新規応募"]


# ---------------------------------------------------------------------------------------------
# The duplication check over the database


def _nedo_call(db: Session, w: World, clock: FakeClock, factory: Factory) -> int:
    now = clock.now()
    nedo_officer = factory.person(roles=("officer",))
    call = service.create_call(
        db, agency_code="NEDO", code="K-2026-NEDO-1", title_ja="海中測位の実証", title_en="Underwater positioning",
        project_type="project", technology_codes=["V1-OC-02"], cap_yen=3_000_000_000, first_fiscal_year=2026,
        period_years=3, opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30),
        officer_id=nedo_officer.user.id, now=now, actor=w.nedo_staff.principal())
    service.publish_call(db, call_id=call.id, now=now, actor=w.nedo_staff.principal())
    return call.id


def test_duplication_flags_reach_the_staff_of_the_agencies_concerned(client: TestClient, db: Session, w: World,
                                                                     factory: Factory, clock: FakeClock) -> None:
    w.lead.user.researcher_number = LEAD_NO
    jst_p = service.submit_proposal(db, call_id=w.call.id, title="量子慣性航法による海中測位",
                                    budget={2026: 100_000_000}, lead_effort=70, now=clock.now(),
                                    actor=w.lead.principal(),
                                    disclosures=[DisclosureLine(kind="funding_received", name="量子慣性センサ基礎",
                                                                agency="JSPS", effort_percent=20)])
    nedo_call = _nedo_call(db, w, clock, factory)
    nedo_p = service.submit_proposal(
        db, call_id=nedo_call, title="量子慣性航法を用いた海中測位", budget={2026: 100_000_000},
        now=clock.now(), actor=w.other_researcher.principal(),
        team=[service.TeamMemberInput(user_id=w.lead.user.id, researcher_number=LEAD_NO, effort_percent=30)])
    db.commit()
    r = client.get(f"{BASE}/duplication-flags", headers=bearer(db, w.staff, clock))
    assert r.status_code == 200, r.text
    flags = {f["kind"]: f for f in r.json()}
    assert set(flags) == {"effort", "similar_title"}
    assert flags["effort"]["researcher_number"] == LEAD_NO and flags["effort"]["score"] == 120.0
    named = {p["proposal_id"]: p for p in flags["similar_title"]["proposals"]}
    assert named[jst_p.id]["title"] == "量子慣性航法による海中測位" and named[jst_p.id]["own_agency"] is True
    # Another agency's proposal is named by receipt number and state only (least privilege).
    assert named[nedo_p.id]["title"] is None and named[nedo_p.id]["receipt_number"] == nedo_p.receipt_number
    # NEDO's staff see the same flags from their side.
    nedo_flags = client.get(f"{BASE}/duplication-flags", headers=bearer(db, w.nedo_staff, clock)).json()
    assert {f["kind"] for f in nedo_flags} == {"effort", "similar_title"}
    assert audit_count(db, "programme:duplication:read") == 2
    for person in (w.lead, w.reviewer):
        assert client.get(f"{BASE}/duplication-flags", headers=bearer(db, person, clock)).status_code == 403
    # Withdrawing one proposal ends both flags.
    client.post(f"{BASE}/proposals/{nedo_p.id}/withdraw", headers=bearer(db, w.other_researcher, clock))
    assert client.get(f"{BASE}/duplication-flags", headers=bearer(db, w.staff, clock)).json() == []


def test_an_edit_before_the_close_is_signed_again_over_the_new_lines(db: Session, world: World,
                                                                      clock: FakeClock) -> None:
    w = world
    proposal = submit(db, w, clock, disclosures=[DisclosureLine(kind="affiliation", name="A大学")])
    entered = service.proposal_input(db, proposal_id=proposal.id, actor=w.lead.principal(), now=clock.now())
    assert [d.name for d in entered.disclosures] == ["A大学"]  # the edit form keeps the lines
    changed = [*entered.disclosures, DisclosureLine(kind="foreign_support", name="渡航費", agency="外国財団",
                                                    foreign=True)]
    service.update_proposal(db, proposal_id=proposal.id, entered=replace(entered, disclosures=changed),
                            now=clock.now(), actor=w.lead.principal())
    first, second = db.scalars(select(IntegritySignature).where(IntegritySignature.proposal_id == proposal.id)
                               .order_by(IntegritySignature.id))
    assert first.disclosures_digest != second.disclosures_digest
    assert second.disclosures_digest == integrity.disclosures_digest(changed)
    with pytest.raises(Forbidden):  # an edit of a submitted proposal signs again: a second factor is needed
        service.update_proposal(db, proposal_id=proposal.id, entered=entered, now=clock.now(),
                                actor=w.lead.principal(mfa=False))
