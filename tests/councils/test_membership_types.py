"""Typed membership (issue 13): party types, the consent rule per council type (C1, Art. 62), removal by the
secretariat (C3), the auto-opened project council's founders and re-proposal of a lapsed project council (C2)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.councils import repository as councils_repo
from banso.councils import service
from banso.councils.membership import party_label
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.notifications import service as notifications
from banso.programme import commissions as cm
from banso.programme import service as programme
from banso.programme.models import Project
from banso.web.context import AppContext
from tests.support.councils import Cast, establish, propose
from tests.support.factories import Factory, audit_count
from tests.support.http import bearer, csrf_of, sign_in
from tests.support.programme import World, adopt, build_world, engage, fund, submit


def _answer(db: Session, cast: Cast, who: str, clock: FakeClock, decision: str = "consent") -> None:
    person = getattr(cast, who)
    service.consent(db, council_id=cast.council.id, actor=person.principal(), now=clock.now(), decision=decision,
                    reason="社内の承認が得られないため" if decision == "decline" else None)


def _typed_project_council(factory: Factory, db: Session, clock: FakeClock, *, days: int = 14) -> Cast:
    """A project council: the researcher (its required founder) stands as the research representative."""
    return propose(factory, db, clock, days=days, project_ref="K-001")


# --- party types ----------------------------------------------------------------------------------


def test_party_types_are_stored_with_consents_and_memberships(factory: Factory, db: Session,
                                                               clock: FakeClock) -> None:
    officer, rep, tank = (factory.person(roles=("officer",), org=factory.org(kind="ministry")),
                          factory.person(roles=("researcher",)),
                          factory.person(roles=("analyst",), org=factory.org(kind="think_tank")))
    council = service.propose(
        db, actor=officer.principal(), now=clock.now(), title_ja="量子センサ 協議会", title_en="", purpose="伴走支援",
        consent_deadline=clock.now() + timedelta(days=14), project_ref="K-9",
        founders=[service.FounderSpec(rep.user.id, party="research_representative"),
                  service.FounderSpec(tank.user.id, "observer", party="think_tank")],
        proposer_party="organising_ministry")
    parties = {c.user_id: c.party for c in councils_repo.consents(db, council.id)}
    assert parties == {officer.user.id: "organising_ministry", rep.user.id: "research_representative",
                       tank.user.id: "think_tank"}
    assert {mb.user_id: mb.party for mb in councils_repo.memberships(db, council.id)} == parties
    with pytest.raises(ValidationFailed, match="当事者の種別") as err:
        service.propose(db, actor=officer.principal(), now=clock.now(), title_ja="x", title_en="", purpose="p",
                        consent_deadline=clock.now() + timedelta(days=14), technology="t",
                        founders=[service.FounderSpec(rep.user.id, party="minister")])
    assert err.value.field == "party"
    assert party_label("needs_ministry") == "ニーズ省庁" and party_label("needs_ministry", "en") == "Needs ministry"


def test_invitation_carries_the_party_type(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    needs = factory.person(roles=("officer",), org=factory.org(kind="ministry"))
    row = service.invite(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                         user_id=needs.user.id, role="member", party="needs_ministry",
                         deadline=clock.now() + timedelta(days=7))
    assert row.party == "needs_ministry"
    service.consent(db, council_id=cast.council.id, actor=needs.principal(), now=clock.now(), decision="consent")
    joined = councils_repo.current_membership(db, cast.council.id, needs.user.id)
    assert joined is not None and joined.party == "needs_ministry"
    with pytest.raises(ValidationFailed):
        service.invite(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                       user_id=factory.person().user.id, role="member", party="king",
                       deadline=clock.now() + timedelta(days=7))


def test_a_party_type_must_fit_the_person(factory: Factory, db: Session, clock: FakeClock) -> None:
    """Outside finding (session 9): the proposer typed himself research representative and established a project
    council alone when the only researcher declined; an industry user was invited as a needs ministry."""
    officer = factory.person(roles=("officer",), org=factory.org(kind="ministry"))
    researcher, company = factory.person(roles=("researcher",)), factory.person(roles=("industry",),
                                                                                org=factory.org(kind="company"))
    base = {"actor": officer.principal(), "now": clock.now(), "title_ja": "偽プロジェクト協議会", "title_en": "",
            "purpose": "p", "consent_deadline": clock.now() + timedelta(days=14), "project_ref": "JP-FAKE-001"}
    with pytest.raises(ValidationFailed, match="研究代表者") as err:
        service.propose(db, **base, founders=[service.FounderSpec(officer.user.id, "secretariat",  # type: ignore[arg-type]
                                                                  party="research_representative"),
                                              service.FounderSpec(researcher.user.id)])
    assert err.value.field == "founders"
    with pytest.raises(ValidationFailed, match="研究代表者"):  # an officer may not lead a project
        service.propose(db, **base, founders=[service.FounderSpec(researcher.user.id),  # type: ignore[arg-type]
                                              service.FounderSpec(officer.user.id, party="research_representative")])
    with pytest.raises(ValidationFailed, match="ニーズ省庁"):
        service.propose(db, **base, founders=[service.FounderSpec(researcher.user.id,  # type: ignore[arg-type]
                                                                  party="research_representative"),
                                              service.FounderSpec(company.user.id, party="needs_ministry")])
    cast = establish(factory, db, clock)
    with pytest.raises(ValidationFailed, match="ニーズ省庁"):
        service.invite(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                       user_id=company.user.id, role="member", party="needs_ministry",
                       deadline=clock.now() + timedelta(days=7))
    # A company researcher may represent a project (industry-led projects); the council waits for their consent.
    council = service.propose(db, **base, founders=[service.FounderSpec(company.user.id,  # type: ignore[arg-type]
                                                                        party="research_representative")])
    assert council.state == "proposed"


# --- consent rule per council type (C1, Art. 62) ----------------------------------------------------


def test_a_decline_by_another_founder_no_longer_lapses_a_project_council(factory: Factory, db: Session,
                                                                          clock: FakeClock) -> None:
    cast = _typed_project_council(factory, db, clock)
    _answer(db, cast, "company", clock, "decline")
    assert cast.council.state == "proposed"  # old rule: lapsed at once
    assert councils_repo.current_membership(db, cast.council.id, cast.company.user.id) is None  # does not join
    decline = councils_repo.latest_consent(db, cast.council.id, cast.company.user.id)
    assert decline is not None and decline.decision == "declined" and decline.reason  # recorded
    _answer(db, cast, "researcher", clock)
    assert cast.council.state == "established"
    entry = db.scalar(select(AuditEntry).where(AuditEntry.tag == "council:council:establish"))
    assert entry is not None and entry.data["not_joined"] == [cast.company.user.id]
    # the decliner has nothing more to do with the council (I7)
    with pytest.raises(NotFound):
        service.get_council(db, council_id=cast.council.id, actor=cast.company.principal())


def test_the_research_representatives_decline_lapses_a_project_council(factory: Factory, db: Session,
                                                                        clock: FakeClock) -> None:
    cast = _typed_project_council(factory, db, clock)
    _answer(db, cast, "company", clock)
    _answer(db, cast, "researcher", clock, "decline")
    assert cast.council.state == "lapsed" and audit_count(db, "council:council:lapse") == 1


def test_the_representatives_silence_at_the_deadline_lapses_a_project_council(factory: Factory, db: Session,
                                                                               clock: FakeClock) -> None:
    cast = _typed_project_council(factory, db, clock, days=3)
    _answer(db, cast, "company", clock)
    assert cast.council.state == "proposed"
    clock.advance(days=3)
    assert service.run_due_councils(db, now=clock.now()).lapsed == [cast.council.id]
    assert "no consent" in (cast.council.end_reason or "")


def test_a_technology_council_still_needs_every_founder(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = propose(factory, db, clock)  # no project: every founder consents (C1)
    _answer(db, cast, "researcher", clock)
    assert cast.council.state == "proposed"
    _answer(db, cast, "company", clock, "decline")
    assert cast.council.state == "lapsed"


def test_a_founder_answering_after_the_representative_joins_the_project_council(factory: Factory, db: Session,
                                                                                clock: FakeClock) -> None:
    cast = _typed_project_council(factory, db, clock)
    _answer(db, cast, "researcher", clock)
    assert cast.council.state == "established"
    assert councils_repo.current_membership(db, cast.council.id, cast.company.user.id) is None
    # still asked: sees the public page and may consent until the deadline
    assert service.get_council(db, council_id=cast.council.id, actor=cast.company.principal()).standing.pending_consent
    _answer(db, cast, "company", clock)
    joined = councils_repo.current_membership(db, cast.council.id, cast.company.user.id)
    assert joined is not None and joined.founding and joined.role == "member"
    assert audit_count(db, "council:member:join") == 1


# --- removal by the secretariat (C3) -----------------------------------------------------------------


def test_removal_ends_access_at_once_keeps_the_pledge_and_tells_the_person(factory: Factory, db: Session,
                                                                           clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    cid, company = cast.council.id, cast.company
    assert service.can_read_content(db, council_id=cid, actor=company.principal())
    with pytest.raises(Forbidden):  # an ordinary member does not remove anyone
        service.remove_member(db, council_id=cid, actor=company.principal(), now=clock.now(),
                              user_id=cast.researcher.user.id, reason="理由")
    with pytest.raises(ValidationFailed) as err:
        service.remove_member(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                              user_id=company.user.id, reason="  ")
    assert err.value.field == "reason"
    row = service.remove_member(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                                user_id=company.user.id, reason="所属企業が事業から撤退したため")
    assert row.left_at == clock.now() and row.removed_by_id == cast.officer.user.id
    # access ends at once: the next read is 404, as for anyone outside
    with pytest.raises(NotFound):
        service.get_council(db, council_id=cid, actor=company.principal())
    assert not service.can_read_content(db, council_id=cid, actor=company.principal())
    # the pledge and the duty remain on record
    assert [p.user_id for p in councils_repo.pledges(db, cid)].count(company.user.id) == 1
    entry = db.scalar(select(AuditEntry).where(AuditEntry.tag == "council:member:remove"))
    assert entry is not None and entry.data["user_id"] == company.user.id and entry.data["reason"]
    inbox = notifications.inbox(db, user_id=company.user.id)
    assert any(n.kind == "council.member_removed" and "撤退" in n.body_ja for n in inbox)
    with pytest.raises(ValidationFailed):  # no longer a member
        service.remove_member(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                              user_id=company.user.id, reason="二度目")


def test_the_only_chair_cannot_be_removed_until_another_is_named(factory: Factory, db: Session,
                                                                 clock: FakeClock) -> None:
    cast = establish(factory, db, clock)  # the researcher is the only chair
    cid = cast.council.id
    with pytest.raises(Conflict, match="議長"):
        service.remove_member(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                              user_id=cast.researcher.user.id, reason="交代")
    with pytest.raises(Conflict, match="自分自身"):
        service.remove_member(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                              user_id=cast.officer.user.id, reason="退任")
    service.set_role(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                     user_id=cast.company.user.id, role="chair")
    service.remove_member(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                          user_id=cast.researcher.user.id, reason="交代")
    assert councils_repo.current_membership(db, cid, cast.researcher.user.id) is None


# --- the auto-opened project council and re-proposal (C2) ------------------------------------------------


def _project_with_tank(db: Session, factory: Factory, clock: FakeClock) -> tuple[World, Project, int]:
    w = build_world(db, factory, clock)
    tank_org = factory.org(kind="think_tank")
    analyst = factory.person(roles=("analyst",), org=tank_org)
    officer = w.officer.principal()
    cm.assess_institution(db, organization_id=tank_org.id, assessed_on=date(2026, 3, 1), analysis_score=4,
                          hub_score=4, talent_score=4, now=clock.now(), actor=officer)
    commission = cm.create_commission(
        db, code="TT-M-1", title="海中航法の国際動向調査", organization_id=tank_org.id, starts_on=date(2026, 4, 1),
        due_on=date(2027, 3, 31), tasks=[cm.TaskInput("最終報告書", date(2027, 3, 31))], now=clock.now(),
        actor=officer, purpose="主要国の研究開発動向")
    engage(db, commission.id, officer=officer, person=analyst, now=clock.now())  # Art. 64 roster contact
    fund(db, w, clock)
    project = adopt(db, w, clock, submit(db, w, clock))
    return w, project, analyst.user.id


def test_the_auto_opened_project_council_proposes_every_party(db: Session, factory: Factory,
                                                              clock: FakeClock) -> None:
    w, project, analyst_id = _project_with_tank(db, factory, clock)
    parties = {c.user_id: c.party for c in councils_repo.consents(db, project.council_id or 0)}
    assert parties == {
        w.officer.user.id: "organising_ministry", w.lead.user.id: "research_representative",
        w.colleague.user.id: "participant", w.partner.user.id: "participant",
        w.staff.user.id: "funding_agency", analyst_id: "think_tank",
    }
    council = councils_repo.council_by_id(db, project.council_id or 0)
    assert council is not None and set(council.required_person_ids) == {
        w.lead.user.id, w.colleague.user.id, w.partner.user.id}
    # the research representative's consent establishes it (Art. 62); the others join by their own
    service.consent(db, council_id=council.id, actor=w.lead.principal(), now=clock.now(), decision="consent")
    assert council.state == "established" and w.councils.is_established(db, council.id)


def test_lapse_repropose_establish_then_payment(db: Session, factory: Factory, clock: FakeClock) -> None:
    w, project, _ = _project_with_tank(db, factory, clock)
    first = project.council_id or 0
    programme.commit_funds(db, project_id=project.id, fiscal_year=2026, amount=300_000_000, now=clock.now(),
                           actor=w.staff.principal())
    with pytest.raises(Conflict, match="proposed"):  # nothing to propose again while the council is proposed
        programme.repropose_council(db, project_id=project.id, now=clock.now(), actor=w.staff.principal(),
                                    councils=w.councils)
    service.consent(db, council_id=first, actor=w.lead.principal(), now=clock.now(), decision="decline",
                    reason="研究体制を見直すため")
    lapsed = councils_repo.council_by_id(db, first)
    assert lapsed is not None and lapsed.state == "lapsed"
    with pytest.raises(Forbidden):
        programme.repropose_council(db, project_id=project.id, now=clock.now(), actor=w.lead.principal(),
                                    councils=w.councils)
    view = programme.get_project(db, project_id=project.id, actor=w.staff.principal(), councils=w.councils)
    assert view.may_repropose
    second = programme.repropose_council(db, project_id=project.id, now=clock.now(), actor=w.officer.principal(),
                                         councils=w.councils)
    assert second != first and project.council_id == second
    with pytest.raises(Conflict):
        programme.disburse(db, project_id=project.id, amount=100_000_000, now=clock.now(),
                           actor=w.staff.principal(), councils=w.councils)
    service.consent(db, council_id=second, actor=w.lead.principal(), now=clock.now(), decision="consent")
    tx = programme.disburse(db, project_id=project.id, amount=100_000_000, now=clock.now(),
                            actor=w.staff.principal(), councils=w.councils)
    assert tx.kind == "disbursement"
    view = programme.get_project(db, project_id=project.id, actor=w.lead.principal(), councils=w.councils)
    assert [(c.council_id, c.state) for c in view.councils] == [(first, "lapsed"), (second, "established")]
    assert not view.may_repropose and view.council_established
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "programme:project:council_open")
                       .order_by(AuditEntry.seq)).all()[-1]
    assert entry.data["previous_council_id"] == first and entry.data["council_id"] == second


# --- API and pages ---------------------------------------------------------------------------------------


def test_api_party_types_and_removal(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    officer, company = bearer(db, cast.officer, clock), bearer(db, cast.company, clock)
    cid = cast.council.id
    page = client.get(f"/api/v1/councils/{cid}", headers=company).json()
    assert {mb["party"] for mb in page["members"]} == {"participant"}
    needs = factory.person(roles=("officer",), org=factory.org(kind="ministry"))
    db.commit()
    r = client.post(f"/api/v1/councils/{cid}/invitations", headers=officer,
                    json={"user_id": needs.user.id, "party": "needs_ministry", "deadline": "2099-01-01T00:00:00+09:00"})
    assert r.status_code == 201 and r.json()["party"] == "needs_ministry", r.text
    r = client.post(f"/api/v1/councils/{cid}/invitations", headers=officer,
                    json={"user_id": factory.person().user.id, "party": "emperor",
                          "deadline": "2099-01-01T00:00:00+09:00"})
    assert r.status_code == 422 and r.json()["field"] == "party"
    url = f"/api/v1/councils/{cid}/members/{cast.company.user.id}/removal"
    assert client.post(url, headers=officer, json={}).status_code == 422  # a reason is required
    assert client.post(url, headers=company, json={"reason": "x"}).status_code == 403
    r = client.post(url, headers=officer, json={"reason": "事業撤退"})
    assert r.status_code == 200 and r.json()["removal_reason"] == "事業撤退", r.text
    for path in ("", "/meetings", "/decisions", "/pledge", "/bylaws"):
        assert client.get(f"/api/v1/councils/{cid}{path}", headers=company).status_code == 404, path


def test_pages_show_party_labels_remove_and_repropose(client: TestClient, db: Session, factory: Factory,
                                                      ctx: AppContext) -> None:
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    cast = establish(factory, db, clock)
    db.commit()
    token = sign_in(client, db, cast.officer, ctx)
    html = client.get(f"/councils/{cast.council.id}").text
    assert "その他参加者" in html and 'id="remove-form"' in html and "法律上の参加者の種別" in html
    r = client.post(f"/councils/{cast.council.id}/removals", data={"csrf_token": token, "user_id": "",
                                                                   "reason": "x"})
    assert r.status_code == 422
    r = client.post(f"/councils/{cast.council.id}/removals",
                    data={"csrf_token": token, "user_id": str(cast.company.user.id), "reason": "事業撤退"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    sign_in(client, db, cast.company, ctx)
    assert client.get(f"/councils/{cast.council.id}").status_code == 404
    # the project page: the re-proposal button once the council lapsed, and the history after it
    w = build_world(db, factory, clock)
    project = adopt(db, w, clock, submit(db, w, clock))
    service.consent(db, council_id=project.council_id or 0, actor=w.lead.principal(), now=clock.now(),
                    decision="decline", reason="体制見直し")
    db.commit()
    token = sign_in(client, db, w.staff, ctx)
    html = client.get(f"/programme/projects/{project.id}").text
    assert 'id="repropose-form"' in html and "協議会を再提案する" in html
    r = client.post(f"/programme/projects/{project.id}/council", data={"csrf_token": csrf_of(html)},
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    html = client.get(f"/programme/projects/{project.id}").text
    assert 'id="council-history"' in html and "不成立" in html and 'id="repropose-form"' not in html
    sign_in(client, db, w.lead, ctx)
    assert 'id="repropose-form"' not in client.get(f"/programme/projects/{project.id}").text
    assert client.post(f"/programme/projects/{project.id}/council",
                       data={"csrf_token": token}).status_code in (403, 404)


def test_the_only_chair_cannot_be_made_something_else(factory: Factory, db: Session, clock: FakeClock) -> None:
    """Outside finding (session 9): removal refused the last chair but a role change did not."""
    cast = establish(factory, db, clock)  # the researcher is the only chair
    with pytest.raises(Conflict, match="唯一の議長"):
        service.set_role(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                         user_id=cast.researcher.user.id, role="member")
    service.set_role(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                     user_id=cast.company.user.id, role="chair")
    assert service.set_role(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                            user_id=cast.researcher.user.id, role="member").role == "member"
