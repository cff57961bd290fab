"""Openness by agreement (DESIGN I13, I1, I6): nobody opens what another provided.

* Early publication needs the provider's consent: the provider publishes their own item; the chair
  or secretariat may only propose it to a unanimous vote that includes the provider.
* Researcher-generated provenance is set only by the researchers of the council's project.
* Every result gets a prior-notice window (bylaws, default 30 days) for non-disclosure requests.
* Only the current version of a public item is public; earlier versions stay council-only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.authz.policies import information as policy
from banso.authz.policies.councils import Standing
from banso.councils import repository as council_repo
from banso.councils import service as councils
from banso.councils.models import BylawsVersion
from banso.information import distribution, rules, search, service
from banso.information.deps import InformationDeps, information_deps
from banso.information.models import Ballot, BallotState, Item, ItemFile, ItemState
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.leak.pdf import make_sample_pdf
from banso.notifications.models import Notification
from banso.web.context import AppContext
from tests.support.councils import Cast, active_council, establish, join
from tests.support.factories import Factory, Person, audit_count, count_rows
from tests.support.http import bearer, sign_in
from tests.support.information import API, item_form

DAY = timedelta(days=1)
PDF_V1 = make_sample_pdf("初版", ["初版の数値 1111。"])
PDF_V2 = make_sample_pdf("改訂版", ["改訂版の数値 2222。"])
T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


def _item(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock, *, provider: Person | None = None,
          **changes: object) -> Item:
    fields: dict[str, object] = {"title": "AUV 航法評価", "summary": "概要", "body": "本文：誤差 0.3%。",
                                 "matter": "useful_information", "category": "sampling_data",
                                 "provenance": "participant"}
    fields.update(changes)
    return service.create_item(db, deps, council_id=cast.council.id, actor=(provider or cast.company).principal(),
                               now=clock.now(), **fields)


def _result(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock, **changes: object) -> Item:
    fields: dict[str, object] = {"title": "成果報告", "category": "research_result",
                                 "provenance": "researcher_generated", "body": "成果の本文 v1"}
    fields.update(changes)
    return _item(db, deps, cast, clock, provider=cast.researcher, **fields)


def _answer(db: Session, ballot: Ballot, clock: FakeClock, people: list[Person], decision: str = "accept") -> None:
    for person in people:
        service.vote(db, ballot_id=ballot.id, actor=person.principal(), now=clock.now(), decision=decision,
                     reason="反対" if decision == "object" else None)


# ---------------------------------------------------------------------------------------------
# Pure rules and policy


def test_publication_date_is_never_before_the_notice_ends() -> None:
    window_end = T0 + 30 * DAY
    assert rules.publication_date(now=T0, given=None, notice_days=30) == window_end
    assert rules.publication_date(now=T0, given=T0 + 5 * DAY, notice_days=30) == window_end
    assert rules.publication_date(now=T0, given=T0, notice_days=30) == window_end
    assert rules.publication_date(now=T0, given=T0 + 45 * DAY, notice_days=30) == T0 + 45 * DAY
    assert rules.publication_date(now=T0, given=None, notice_days=7) == T0 + 7 * DAY


def test_resting_state_of_results_follows_the_date() -> None:
    assert rules.resting_state(is_result=False, publish_at=None, now=T0) == ItemState.COUNCIL
    assert rules.resting_state(is_result=True, publish_at=T0 + DAY, now=T0) == ItemState.SCHEDULED
    assert rules.resting_state(is_result=True, publish_at=T0, now=T0) == ItemState.PUBLIC


def test_publication_vote_needs_the_providers_own_acceptance() -> None:
    assert rules.with_provider_consent(BallotState.ACCEPTED, "accept") == BallotState.ACCEPTED
    assert rules.with_provider_consent(BallotState.OPEN, "pending") == BallotState.OPEN
    assert rules.with_provider_consent(BallotState.OPEN, "object") == BallotState.REJECTED
    # the provider left the council: the others cannot consent for them
    assert rules.with_provider_consent(BallotState.ACCEPTED, None) == BallotState.REJECTED


def test_publication_proposal_needs_a_reason_and_a_sane_deadline() -> None:
    assert rules.check_publication_proposal(now=T0, reason=" 公開の必要 ", deadline=None) == (
        "公開の必要", T0 + rules.DEFAULT_VOTE_DAYS * DAY)
    with pytest.raises(ValidationFailed, match="reason"):
        rules.check_publication_proposal(now=T0, reason=" ", deadline=None)
    with pytest.raises(ValidationFailed, match="deadline"):
        rules.check_publication_proposal(now=T0, reason="理由", deadline=T0 + 100 * DAY)


def test_policy_of_early_publication_and_versions(db: Session, cast: Cast) -> None:
    facts = policy.ItemFacts(state=ItemState.COUNCIL.value, provider_id=cast.company.user.id, scope=None)
    chair = councils.standing_of(db, cast.council, cast.researcher.user.id)
    member = councils.standing_of(db, cast.council, cast.company.user.id)
    assert isinstance(chair, Standing) and isinstance(member, Standing)
    assert policy.can_publish_early(cast.company.principal(), member, facts)
    assert not policy.can_publish_early(cast.researcher.principal(), chair, facts)
    assert policy.can_propose_publication(cast.researcher.principal(), chair, facts)
    assert not policy.can_propose_publication(cast.company.principal(), member, facts)
    public = policy.ItemFacts(state=ItemState.PUBLIC.value, provider_id=cast.company.user.id, scope=None)
    assert policy.can_read_version(None, None, public, current=True)
    assert not policy.can_read_version(None, None, public, current=False)
    assert policy.can_read_version(cast.researcher.principal(), chair, public, current=False)
    assert not policy.can_read_version(cast.researcher.principal(mfa=False), chair, public, current=False)
    assert policy.may_declare_researcher_generated(cast.researcher.principal(),
                                                   researcher_ids=frozenset({cast.researcher.user.id}))
    assert not policy.may_declare_researcher_generated(cast.company.principal(),
                                                       researcher_ids=frozenset({cast.researcher.user.id}))


# ---------------------------------------------------------------------------------------------
# Early publication needs the provider's consent


def test_chair_and_secretariat_cannot_publish_a_members_item(db: Session, deps: InformationDeps, cast: Cast,
                                                             clock: FakeClock) -> None:
    item = _item(db, deps, cast, clock)  # the company's council-shared item
    for manager in (cast.researcher, cast.officer):  # chair, secretariat
        with pytest.raises(Forbidden, match="provider") as refused:
            service.publish_now(db, item_id=item.id, actor=manager.principal(), now=clock.now())
        assert councils.was_audited(refused.value)
    assert item.state == "council" and item.id not in [i.id for i in service.public_items(db)]
    assert audit_count(db, "information:publication:refused") == 2
    published = service.publish_now(db, item_id=item.id, actor=cast.company.principal(), now=clock.now())
    assert published.state == "public"  # the provider consents to their own item


def test_early_publication_vote_needs_everyone_and_the_provider(db: Session, deps: InformationDeps, cast: Cast,
                                                                clock: FakeClock) -> None:
    item = _item(db, deps, cast, clock)
    ballot = service.propose_publication(db, item_id=item.id, actor=cast.researcher.principal(), now=clock.now(),
                                         reason="成果発表会で紹介するため")
    assert ballot.kind == "publication" and ballot.state == "open" and item.state == "council"
    assert audit_count(db, "information:publication:propose") == 1
    with pytest.raises(Conflict):  # one vote at a time; and publish-now waits for it
        service.propose_publication(db, item_id=item.id, actor=cast.officer.principal(), now=clock.now(),
                                    reason="別案")
    _answer(db, ballot, clock, [cast.officer])
    assert ballot.state == "open"  # the provider has not answered
    _answer(db, ballot, clock, [cast.company], "object")
    assert ballot.state == "rejected" and item.state == "council"
    again = service.propose_publication(db, item_id=item.id, actor=cast.officer.principal(), now=clock.now(),
                                        reason="再提案")
    _answer(db, again, clock, [cast.researcher, cast.company])
    assert again.state == "accepted" and item.state == "public"
    assert audit_count(db, "information:publication:accept") == 1


def test_provider_cannot_be_outvoted_by_leaving(db: Session, deps: InformationDeps, cast: Cast,
                                                clock: FakeClock) -> None:
    item = _item(db, deps, cast, clock)
    ballot = service.propose_publication(db, item_id=item.id, actor=cast.officer.principal(), now=clock.now(),
                                         reason="公開したい")
    councils.leave(db, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now())
    _answer(db, ballot, clock, [cast.researcher])  # everyone left accepts; the provider's consent is gone
    assert ballot.state == "rejected" and item.state == "council"


def test_provider_publishes_directly_and_managers_only_propose(db: Session, deps: InformationDeps, cast: Cast,
                                                              clock: FakeClock) -> None:
    item = _item(db, deps, cast, clock)
    with pytest.raises(Conflict, match="provider"):
        service.propose_publication(db, item_id=item.id, actor=cast.company.principal(), now=clock.now(),
                                    reason="自分で")
    other = _item(db, deps, cast, clock, provider=cast.researcher)
    with pytest.raises(Forbidden):  # a plain member may not propose publishing another's item
        service.propose_publication(db, item_id=other.id, actor=cast.company.principal(), now=clock.now(),
                                    reason="公開を")
    view = service.read_item(db, deps, item_id=item.id, actor=cast.researcher.principal(), now=clock.now())
    assert (view.can_publish, view.can_propose_publication) == (False, True)
    view = service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(), now=clock.now())
    assert (view.can_publish, view.can_propose_publication) == (True, False)


# ---------------------------------------------------------------------------------------------
# Researcher-generated provenance only by the project's researchers


def test_only_project_researchers_declare_researcher_generated(db: Session, deps: InformationDeps, cast: Cast,
                                                               clock: FakeClock) -> None:
    for who in (cast.company, cast.officer):
        with pytest.raises(Forbidden, match="researchers of the council's project") as refused:
            _item(db, deps, cast, clock, provider=who, provenance="researcher_generated", category="research_result")
        assert councils.was_audited(refused.value)
    assert audit_count(db, "information:provenance:refused") == 2
    assert service.count_items(db, actor=cast.officer.principal()) == 0  # nothing half-written
    mine = _result(db, deps, cast, clock)  # the researcher is the project's (the council's required founder)
    assert mine.provenance == "researcher_generated" and mine.state == "scheduled"


def test_researchers_of_a_linked_k_program_project_count(db: Session, deps: InformationDeps, factory: Factory,
                                                         clock: FakeClock) -> None:
    from tests.support.programme import adopt, build_world, establish_council, submit

    w = build_world(db, factory, clock)
    project = adopt(db, w, clock, submit(db, w, clock))
    establish_council(db, w, clock, project)
    council = council_repo.council_by_id(db, project.council_id or 0)
    assert council is not None
    council.required_person_ids = []  # the project link alone names the researchers
    for person in (w.officer, w.lead, w.colleague, w.partner):
        councils.sign_pledge(db, council_id=council.id, actor=person.principal(), now=clock.now(),
                             bylaws_version=council.bylaws_version)
    assert service.project_researchers(db, council) == {w.lead.user.id, w.colleague.user.id, w.partner.user.id}
    made = service.create_item(db, deps, council_id=council.id, actor=w.colleague.principal(), now=clock.now(),
                               title="成果", summary="", body="本文", matter="rd_content_and_results",
                               category="research_result", provenance="researcher_generated")
    assert made.state == "scheduled"
    with pytest.raises(Forbidden):
        service.create_item(db, deps, council_id=council.id, actor=w.officer.principal(), now=clock.now(),
                            title="成果", summary="", body="本文", matter="rd_content_and_results",
                            category="research_result", provenance="researcher_generated")


# ---------------------------------------------------------------------------------------------
# The prior-notice window (I13) and non-disclosure requests during it (I6)


def test_result_without_a_date_waits_for_the_notice_and_readers_are_told(db: Session, deps: InformationDeps,
                                                                          cast: Cast, clock: FakeClock) -> None:
    result = _result(db, deps, cast, clock)
    assert result.state == "scheduled" and result.publish_at == clock.now() + 30 * DAY
    assert result.id not in [i.id for i in service.public_items(db)]
    with pytest.raises(NotFound):
        service.read_item(db, deps, item_id=result.id, actor=None, now=clock.now())
    told = set(db.scalars(select(Notification.recipient_id).where(
        Notification.kind == "information.publication_scheduled")))
    assert told == {cast.officer.user.id, cast.researcher.user.id, cast.company.user.id}
    assert cast.outsider.user.id not in told
    clock.advance(days=29)
    assert service.run_due_information(db, now=clock.now()).published == 0
    clock.advance(days=1)
    assert service.run_due_information(db, now=clock.now()).published == 1 and result.state == "public"


def test_a_sooner_date_is_moved_to_the_end_of_the_bylaws_window(db: Session, deps: InformationDeps, cast: Cast,
                                                                clock: FakeClock) -> None:
    soon = _result(db, deps, cast, clock, publish_at=clock.now() + 3 * DAY)
    late = _result(db, deps, cast, clock, publish_at=clock.now() + 90 * DAY)
    past = _result(db, deps, cast, clock, publish_at=clock.now() - DAY, is_result=True)
    assert soon.publish_at == past.publish_at == clock.now() + 30 * DAY
    assert late.publish_at == clock.now() + 90 * DAY
    bylaws = db.scalar(select(BylawsVersion).where(BylawsVersion.council_id == cast.council.id))
    assert bylaws is not None and bylaws.publication_notice_days == 30  # the default
    bylaws.publication_notice_days = 10
    ten = _result(db, deps, cast, clock)
    assert ten.publish_at == clock.now() + 10 * DAY


def test_bylaws_amendment_sets_the_notice_window(client: TestClient, db: Session, factory: Factory,
                                                 clock: FakeClock, deps: InformationDeps) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    h_off, h_res, h_com = (bearer(db, p, clock) for p in (cast.officer, cast.researcher, cast.company))
    url = f"/api/v1/councils/{cast.council.id}/bylaws/proposals"
    rows = [{k: v for k, v in a.items() if k != "number"}
            for a in client.get(f"/api/v1/councils/{cast.council.id}/bylaws/1", headers=h_off).json()["articles"]]

    def amended(summary: str, parameters: dict[str, int]) -> dict[str, int]:
        """Propose and have every member accept (issue 13: bylaws change only by unanimous vote)."""
        made = client.post(url, headers=h_off, json={"articles": rows, "summary": summary, "parameters": parameters})
        assert made.status_code == 201, made.text
        for h in (h_res, h_com):
            voted = client.post(f"{url}/{made.json()['id']}/votes", headers=h, json={"decision": "accept"})
            assert voted.status_code == 200, voted.text
        version = voted.json()["result_version"]
        body: dict[str, int] = client.get(f"/api/v1/councils/{cast.council.id}/bylaws/{version}",
                                          headers=h_off).json()
        return body

    for bad in (0, 366):
        refused = client.post(url, headers=h_off, json={"articles": rows, "summary": "告知期間",
                                                        "parameters": {"publication_notice_days": bad}})
        assert refused.status_code == 422 and "publication" in refused.text
    assert amended("告知期間を10日に", {"publication_notice_days": 10})["publication_notice_days"] == 10
    assert amended("決定期限", {"nondisclosure_days": 20})["publication_notice_days"] == 10  # kept
    db.expire_all()
    council = council_repo.council_by_id(db, cast.council.id)
    assert council is not None
    result = service.create_item(db, deps, council_id=council.id, actor=cast.researcher.principal(),
                                 now=clock.now(), title="成果", summary="", body="本文", matter="rd_content_and_results",
                                 category="research_result", provenance="researcher_generated")
    assert result.publish_at == clock.now() + 10 * DAY


def test_a_participant_cannot_publish_a_result_at_once(db: Session, deps: InformationDeps, cast: Cast,
                                                       clock: FakeClock) -> None:
    # A participant's result (not researcher-generated) and a TLP:CLEAR-like "public" flag wait too.
    flagged = _item(db, deps, cast, clock, category="research_result", is_result=True, public=True)
    assert flagged.state == "scheduled"


def test_nondisclosure_can_be_requested_during_the_window(db: Session, deps: InformationDeps, cast: Cast,
                                                          clock: FakeClock) -> None:
    result = _result(db, deps, cast, clock)
    request = service.request_nondisclosure(db, item_id=result.id, actor=cast.officer.principal(), now=clock.now(),
                                            reason_code="wmd_diversion", reason="大量破壊兵器への転用のおそれ")
    _answer(db, request, clock, [cast.researcher, cast.company])
    assert request.state == "accepted" and result.state == "withheld"
    clock.advance(days=31)
    service.run_due_information(db, now=clock.now())
    assert result.state == "withheld"


def test_provider_publish_now_cannot_cut_the_window_short(db: Session, deps: InformationDeps, cast: Cast,
                                                          clock: FakeClock) -> None:
    result = _result(db, deps, cast, clock, publish_at=clock.now() + 60 * DAY)
    with pytest.raises(Conflict, match="prior-notice window"):
        service.publish_now(db, item_id=result.id, actor=cast.researcher.principal(), now=clock.now())
    view = service.read_item(db, deps, item_id=result.id, actor=cast.researcher.principal(), now=clock.now())
    assert not view.can_publish
    with pytest.raises(Conflict, match="prior-notice window"):  # nor can a vote
        service.propose_publication(db, item_id=result.id, actor=cast.officer.principal(), now=clock.now(),
                                    reason="早く")
    clock.advance(days=30)
    assert service.publish_now(db, item_id=result.id, actor=cast.researcher.principal(),
                               now=clock.now()).state == "public"


def test_the_date_coming_first_withdraws_an_early_publication_vote(db: Session, deps: InformationDeps, cast: Cast,
                                                                    clock: FakeClock) -> None:
    result = _result(db, deps, cast, clock, publish_at=clock.now() + 45 * DAY)
    clock.advance(days=30)  # the notice is over; the provider's own date is still 15 days away
    ballot = service.propose_publication(db, item_id=result.id, actor=cast.officer.principal(), now=clock.now(),
                                         reason="前倒し", deadline=clock.now() + 20 * DAY)
    clock.advance(days=15)
    assert service.run_due_information(db, now=clock.now()).published == 1
    assert result.state == "public" and ballot.state == "withdrawn"


# ---------------------------------------------------------------------------------------------
# Earlier versions of a published result stay council-only


def _published_with_two_versions(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> Item:
    result = _result(db, deps, cast, clock, files=[service.Upload("初版.pdf", "application/pdf", PDF_V1)])
    service.add_version(db, deps, item_id=result.id, actor=cast.researcher.principal(), now=clock.now(),
                        body="成果の本文 v2", note="改訂", files=[service.Upload("改訂版.pdf", "application/pdf", PDF_V2)])
    clock.advance(days=30)
    service.run_due_information(db, now=clock.now(), deps=deps)
    assert result.state == "public" and result.current_version == 2
    return result


def test_earlier_version_of_a_public_result_is_council_only(db: Session, deps: InformationDeps, cast: Cast,
                                                            clock: FakeClock) -> None:
    result = _published_with_two_versions(db, deps, cast, clock)
    old_file, new_file = (db.scalars(select(ItemFile).where(ItemFile.item_id == result.id)
                                     .order_by(ItemFile.version)).all())
    for who in (None, cast.outsider.principal(), cast.company.principal(mfa=False)):
        current = service.read_item(db, deps, item_id=result.id, actor=who, now=clock.now())
        assert current.body == "成果の本文 v2"
        assert [f.id for f in current.files] == [new_file.id] and [v.version for v in current.versions] == [2]
        with pytest.raises(NotFound):
            service.read_item(db, deps, item_id=result.id, actor=who, now=clock.now(), version=1)
        with pytest.raises(NotFound):
            distribution.download_file(db, deps, item_id=result.id, file_id=old_file.id, actor=who, now=clock.now())
        assert distribution.download_file(db, deps, item_id=result.id, file_id=new_file.id, actor=who,
                                          now=clock.now()).distribution_id is None  # public: as stored
    # nor is the earlier file's name found by search (the current one is)
    assert [h.item.id for h in search.search_items(db, actor=None, query="改訂版.pdf")] == [result.id]
    assert search.search_items(db, actor=None, query="初版.pdf") == []
    reads = audit_count(db, "information:item:read")
    member = cast.company.principal()
    earlier = service.read_item(db, deps, item_id=result.id, actor=member, now=clock.now(), version=1)
    assert earlier.body == "成果の本文 v1" and {f.id for f in earlier.files} == {old_file.id, new_file.id}
    assert audit_count(db, "information:item:read") == reads + 1  # a non-public read is audited (I8)
    copy = distribution.download_file(db, deps, item_id=result.id, file_id=old_file.id, actor=member,
                                      now=clock.now())
    assert copy.distribution_id is not None and copy.data != PDF_V1  # stamped per recipient (I8)


# ---------------------------------------------------------------------------------------------
# Over HTTP: the API and the pages


@pytest.fixture
def active(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council (officer secretariat, researcher chair, company member, all pledged)."""
    return active_council(factory, db, clock)


def test_api_publish_is_the_providers_and_the_chair_proposes(client: TestClient, db: Session, active: Cast,
                                                             clock: FakeClock) -> None:
    h_com, h_res = bearer(db, active.company, clock), bearer(db, active.researcher, clock)
    made = client.post(f"{API}/items", headers=h_com, data=item_form(active, clock))
    assert made.status_code == 201, made.text
    item_id = made.json()["id"]
    refused = client.post(f"{API}/items/{item_id}/publish", headers=h_res)
    assert refused.status_code == 403 and "provider" in refused.json()["message"]
    db.expire_all()
    assert audit_count(db, "information:publication:refused") == 1  # the refusal was committed (A1)
    empty = client.post(f"{API}/items/{item_id}/publication", headers=h_res, json={"reason": ""})
    assert empty.status_code == 422
    proposed = client.post(f"{API}/items/{item_id}/publication", headers=h_res, json={"reason": "公開したい"})
    assert proposed.status_code == 201 and proposed.json()["kind"] == "publication", proposed.text
    ballot_id = proposed.json()["id"]
    assert client.get(f"{API}/public/items/{item_id}").status_code == 404
    for person in (active.officer, active.company):
        answer = client.post(f"{API}/ballots/{ballot_id}/vote", headers=bearer(db, person, clock),
                             json={"decision": "accept"})
        assert answer.status_code == 200, answer.text
    assert client.get(f"{API}/public/items/{item_id}").status_code == 200


def test_api_refuses_self_declared_researcher_generated(client: TestClient, db: Session, active: Cast,
                                                        clock: FakeClock) -> None:
    before = count_rows(db, Item)
    made = client.post(f"{API}/items", headers=bearer(db, active.company, clock), data=item_form(
        active, clock, provenance="researcher_generated", category="research_result"))
    assert made.status_code == 403 and "researcher-generated" in made.json()["message"]
    assert "研究者" in made.json()["message"]
    assert count_rows(db, Item) == before
    db.expire_all()
    assert audit_count(db, "information:provenance:refused") == 1
    ok = client.post(f"{API}/items", headers=bearer(db, active.researcher, clock), data=item_form(
        active, clock, provenance="researcher_generated", category="research_result"))
    assert ok.status_code == 201 and ok.json()["state"] == "scheduled"


def test_api_and_pages_keep_earlier_versions_council_only(client: TestClient, db: Session, active: Cast,
                                                          ctx: AppContext, clock: FakeClock) -> None:
    deps = information_deps(ctx)
    result = _published_with_two_versions(db, deps, active, clock)
    old_file, new_file = (db.scalars(select(ItemFile).where(ItemFile.item_id == result.id)
                                     .order_by(ItemFile.version)).all())
    outsider = join(active, db, clock, active.outsider, pledge=False)  # a member who has not pledged (C3)
    db.commit()
    # anonymous: the portal shows the current version only
    portal = client.get(f"{API}/public/items/{result.id}")
    assert portal.status_code == 200 and [f["id"] for f in portal.json()["files"]] == [new_file.id]
    assert client.get(f"{API}/public/items/{result.id}/files/{old_file.id}").status_code == 404
    assert client.get(f"/public/items/{result.id}/files/{old_file.id}").status_code == 404
    page = client.get(f"/public/items/{result.id}")
    assert page.status_code == 200 and "初版.pdf" not in page.text and "改訂版.pdf" in page.text
    # a member without a pledge: the current version, never the earlier one (API and pages)
    h_out = bearer(db, outsider, clock)
    assert client.get(f"{API}/items/{result.id}", headers=h_out).status_code == 200
    assert client.get(f"{API}/items/{result.id}", headers=h_out, params={"version": 1}).status_code == 404
    assert client.get(f"{API}/items/{result.id}/files/{old_file.id}", headers=h_out).status_code == 404
    sign_in(client, db, outsider, ctx)
    assert client.get(f"/information/items/{result.id}?version=1").status_code == 404
    assert client.get(f"/information/items/{result.id}/files/{old_file.id}").status_code == 404
    # a pledged member reads it (audited)
    h_com = bearer(db, active.company, clock)
    earlier = client.get(f"{API}/items/{result.id}", headers=h_com, params={"version": 1})
    assert earlier.status_code == 200 and earlier.json()["body"] == "成果の本文 v1"


def test_item_page_offers_the_chair_a_proposal_not_publish_now(client: TestClient, db: Session, active: Cast,
                                                               ctx: AppContext, clock: FakeClock) -> None:
    item = service.create_item(db, information_deps(ctx), council_id=active.council.id,
                               actor=active.company.principal(), now=clock.now(), title="評価資料", summary="",
                               body="本文", matter="useful_information", category="sampling_data",
                               provenance="participant")
    db.commit()
    token = sign_in(client, db, active.researcher, ctx)
    page = client.get(f"/information/items/{item.id}")
    assert 'id="publish-form"' not in page.text and 'id="publication-form"' in page.text
    refused = client.post(f"/information/items/{item.id}/publish", data={"csrf_token": token})
    assert refused.status_code == 403
    proposed = client.post(f"/information/items/{item.id}/publication", data={
        "csrf_token": token, "reason": "成果発表のため"}, follow_redirects=False)
    assert proposed.status_code == 303 and "/information/ballots/" in proposed.headers["location"]
    ballot = client.get(proposed.headers["location"])
    assert ballot.status_code == 200 and "早期公開提案" in ballot.text
    sign_in(client, db, active.company, ctx)
    mine = client.get(f"/information/items/{item.id}")
    assert 'id="publication-form"' not in mine.text
