"""Publication conditions (issue 13; DESIGN I6, I10, I13, I5's machinery): prior notice, who may request
non-disclosure, and a review date for every withheld result.

* A researcher's result is announced to the council (inbox and e-mail) and becomes public only after the
  bylaws' notice period; the item page and the API show the date it becomes public and the notice's end.
* Officers of a needs ministry (ニーズ省庁) in the council may file a non-disclosure request — one rule in
  ``authz/policies/information.can_request_nondisclosure`` (until memberships carry the party type, a needs
  ministry is recognised by the member's organisation being a ministry).
* An accepted request withholds the result until a review date (bylaws ``withheld_review_months``,
  default 12); reminders go out 30 and 7 days before; at the date the result becomes public unless a
  renewal was accepted unanimously before it; a unanimous vote may release it earlier.
* The minimality view shows the review dates and how reviews ended (dates and counts, never which result).

Time moves with the fake clock (``FakeClock.advance``) and the due job (``run_due_information``): no sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.councils import service as councils
from banso.councils.models import BylawsVersion
from banso.db.engine import make_engine
from banso.information import minimality, rules, service
from banso.information.deps import InformationDeps, information_deps
from banso.information.models import Ballot, Item
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict, Forbidden, ValidationFailed
from banso.migrations import migrate
from banso.notifications.models import Notification
from banso.web.context import AppContext
from tests.db.test_sealed_migration import _insert
from tests.support.councils import Cast, day, establish, join
from tests.support.factories import Factory, Person, audit_count
from tests.support.http import bearer, sign_in
from tests.support.information import API, answer_ballot

DAY = timedelta(days=1)


def _result(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> Item:
    return service.create_item(db, deps, council_id=cast.council.id, actor=cast.researcher.principal(),
                               now=clock.now(), title="水中音響通信の成果", summary="概要", body="成果の本文",
                               matter="rd_content_and_results", category="research_result",
                               provenance="researcher_generated")


def _needs_officer(factory: Factory, db: Session, clock: FakeClock, cast: Cast, *, kind: str = "ministry") -> Person:
    """An officer of a needs ministry (ニーズ省庁) who joins the council and pledges."""
    person = factory.person(roles=("needs_officer",), org=factory.org(kind=kind))
    return join(cast, db, clock, person)


def _everyone(cast: Cast, *extra: Person) -> list[Person]:
    return [cast.officer, cast.researcher, cast.company, *extra]


def _withheld(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock,
              *extra: Person) -> tuple[Item, Ballot]:
    """A result withheld by an accepted non-disclosure request of the organising ministry's officer (``extra``:
    members who joined besides the founders, who vote too)."""
    item = _result(db, deps, cast, clock)
    request = service.request_nondisclosure(db, item_id=item.id, actor=cast.officer.principal(), now=clock.now(),
                                            reason_code="wmd_diversion", reason="大量破壊兵器への転用のおそれ")
    answer_ballot(db, request, _everyone(cast, *extra), clock)
    assert request.state == "accepted" and item.state == "withheld"
    return item, request


def _kinds(db: Session, kind: str) -> list[int]:
    return list(db.scalars(select(Notification.recipient_id).where(Notification.kind == kind)))


# ---------------------------------------------------------------------------------------------
# Pure rules


def test_review_dates_move_by_calendar_months() -> None:
    assert rules.add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert rules.add_months(datetime(2026, 4, 1, tzinfo=UTC), 12) == datetime(2027, 4, 1, tzinfo=UTC)
    assert rules.add_months(datetime(2026, 11, 15, tzinfo=UTC), 3) == datetime(2027, 2, 15, tzinfo=UTC)


def test_a_renewal_stays_within_one_bylaws_period_and_is_decided_before_the_review() -> None:
    now = datetime(2026, 4, 1, tzinfo=UTC)
    review = datetime(2026, 6, 1, tzinfo=UTC)
    text, new, deadline = rules.check_withheld_renewal(now=now, reason=" 継続 ", review_at=review, given=None,
                                                       months=12, deadline=None)
    assert (text, new, deadline) == ("継続", datetime(2027, 6, 1, tzinfo=UTC), now + 14 * DAY)
    for given in (review, datetime(2027, 6, 2, tzinfo=UTC)):  # not later than the current date; not beyond
        with pytest.raises(ValidationFailed, match="review date"):
            rules.check_withheld_renewal(now=now, reason="継続", review_at=review, given=given, months=12,
                                         deadline=None)
    with pytest.raises(ValidationFailed, match="deadline"):
        rules.check_withheld_renewal(now=now, reason="継続", review_at=review, given=None, months=12,
                                     deadline=review + DAY)
    with pytest.raises(ValidationFailed, match="reason"):
        rules.check_withheld_renewal(now=now, reason=" ", review_at=review, given=None, months=12, deadline=None)


# ---------------------------------------------------------------------------------------------
# 1. Prior notice (I13)


def test_prior_notice_reaches_the_council_and_the_page_shows_when_it_becomes_public(
        client: TestClient, db: Session, factory: Factory, ctx: AppContext) -> None:
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    cast = establish(factory, db, clock)
    item = _result(db, information_deps(ctx), cast, clock)
    db.commit()
    assert sorted(_kinds(db, "information.publication_scheduled")) == sorted(
        p.user.id for p in _everyone(cast))  # inbox (and e-mail: email_now) for the council, not outsiders
    detail = client.get(f"{API}/items/{item.id}", headers=bearer(db, cast.company, clock))
    assert detail.status_code == 200, detail.text
    conditions = detail.json()["publication"]
    assert conditions["notice_ends_at"] is not None and conditions["review_at"] is None
    assert conditions["may_request_nondisclosure"] is False  # a company member may not
    sign_in(client, db, cast.company, ctx)
    page = client.get(f"/information/items/{item.id}")
    assert page.status_code == 200
    assert 'id="publish-date"' in page.text and 'id="notice-end"' in page.text
    assert "ニーズ省庁" in page.text  # who may still ask to withhold it, and until when


def test_a_result_held_for_a_designation_vote_gets_its_notice_when_the_vote_fails(
        db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    # While held, only the provider and the secretariat had it (I4): the council had no notice of it yet.
    item = service.create_item(
        db, deps, council_id=cast.council.id, actor=cast.researcher.principal(), now=clock.now(),
        title="保留された成果", summary="概要", body="本文", matter="rd_content_and_results",
        category="research_result", provenance="researcher_generated",
        designation=service.DesignationInput(reason="輸出管理", scope_kind="all", ends_at=clock.now() + 365 * DAY,
                                             deadline=clock.now() + 60 * DAY))
    assert item.state == "held"
    assert cast.company.user.id not in _kinds(db, "information.publication_scheduled")
    clock.advance(days=45)  # past the 30-day window counted from filing
    ballot = db.scalar(select(Ballot).where(Ballot.item_id == item.id))
    assert ballot is not None
    answer_ballot(db, ballot, [cast.company], clock, decision="object")
    assert ballot.state == "rejected"
    assert item.state == "scheduled" and item.publish_at == clock.now() + 30 * DAY  # not public at once
    assert cast.company.user.id in _kinds(db, "information.publication_scheduled")
    with pytest.raises(Conflict, match="prior-notice"):  # the provider cannot cut the new window short
        service.publish_now(db, item_id=item.id, actor=cast.researcher.principal(), now=clock.now())
    request = service.request_nondisclosure(db, item_id=item.id, actor=cast.officer.principal(), now=clock.now(),
                                            reason_code="other", reason="公開前に検討したい")
    assert request.state == "open"


# ---------------------------------------------------------------------------------------------
# 2. Non-disclosure requests by needs ministries (I6, I13)


def test_a_needs_ministry_officer_in_the_council_may_request_non_disclosure(
        db: Session, deps: InformationDeps, factory: Factory, cast: Cast, clock: FakeClock) -> None:
    needs = _needs_officer(factory, db, clock, cast)
    item = _result(db, deps, cast, clock)
    view = service.read_item(db, deps, item_id=item.id, actor=needs.principal(), now=clock.now())
    assert view.may_request_nondisclosure
    request = service.request_nondisclosure(db, item_id=item.id, actor=needs.principal(), now=clock.now(),
                                            reason_code="national_security", reason="防衛装備への転用のおそれ")
    assert request.kind == "nondisclosure" and request.state == "open"
    answer_ballot(db, request, _everyone(cast), clock)
    assert request.state == "accepted" and item.state == "withheld"


def test_who_is_not_a_ministry_officer_in_the_council_is_refused_and_audited(
        db: Session, deps: InformationDeps, factory: Factory, cast: Cast, clock: FakeClock) -> None:
    company_needs = _needs_officer(factory, db, clock, cast, kind="company")  # the role, but not a ministry
    item = _result(db, deps, cast, clock)
    for who in (company_needs, cast.company):
        assert not service.read_item(db, deps, item_id=item.id, actor=who.principal(),
                                     now=clock.now()).may_request_nondisclosure
        with pytest.raises(Forbidden, match="ニーズ省庁") as refused:
            service.request_nondisclosure(db, item_id=item.id, actor=who.principal(), now=clock.now(),
                                          reason_code="other", reason="理由")
        assert councils.was_audited(refused.value)
    assert audit_count(db, "information:nondisclosure:refused") == 2
    # a ministry officer outside the council does not even learn of the result (I7)
    outside = factory.person(roles=("needs_officer",), org=factory.org(kind="ministry"))
    with pytest.raises(Exception, match="not found"):
        service.request_nondisclosure(db, item_id=item.id, actor=outside.principal(), now=clock.now(),
                                      reason_code="other", reason="理由")


def test_the_api_takes_a_needs_ministry_request(client: TestClient, db: Session, factory: Factory,
                                                ctx: AppContext) -> None:
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    cast = establish(factory, db, clock)
    needs = _needs_officer(factory, db, clock, cast)
    item = _result(db, information_deps(ctx), cast, clock)
    db.commit()
    made = client.post(f"{API}/items/{item.id}/nondisclosure", headers=bearer(db, needs, clock),
                       json={"reason_code": "critical_infrastructure", "reason": "基幹インフラへの脅威"})
    assert made.status_code == 201, made.text
    refused = client.post(f"{API}/items/{item.id}/nondisclosure", headers=bearer(db, cast.company, clock),
                          json={"reason_code": "other", "reason": "理由"})
    assert refused.status_code == 403 and "ニーズ省庁" in refused.text


# ---------------------------------------------------------------------------------------------
# 3. Review date, reminders, release at the review date (I5 machinery, I6, I13)


def test_an_accepted_request_sets_the_review_date_from_the_bylaws(db: Session, deps: InformationDeps,
                                                                  cast: Cast, clock: FakeClock) -> None:
    item, request = _withheld(db, deps, cast, clock)
    assert request.ends_at == rules.add_months(clock.now(), 12)  # default: 12 months after the decision
    view = service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(), now=clock.now())
    assert view.review_at == request.ends_at
    decided = db.scalars(select(Notification).where(Notification.kind == "information.nondisclosure_decided")).all()
    assert decided and all("見直し日" in n.body_ja for n in decided)
    bylaws = db.scalar(select(BylawsVersion).where(BylawsVersion.council_id == cast.council.id))
    assert bylaws is not None and bylaws.withheld_review_months == 12
    bylaws.withheld_review_months = 6
    _, shorter = _withheld(db, deps, cast, clock)
    assert shorter.ends_at == rules.add_months(clock.now(), 6)


def test_reminders_30_and_7_days_before_then_public_at_the_review_date(db: Session, deps: InformationDeps,
                                                                         cast: Cast, clock: FakeClock) -> None:
    item, request = _withheld(db, deps, cast, clock)
    assert request.ends_at is not None
    clock.set(request.ends_at - 31 * DAY)
    assert service.run_due_information(db, now=clock.now()).reminders == 0
    clock.set(request.ends_at - 30 * DAY)
    assert service.run_due_information(db, now=clock.now()).reminders == 1
    assert service.run_due_information(db, now=clock.now()).reminders == 0  # once
    clock.set(request.ends_at - 7 * DAY)
    assert service.run_due_information(db, now=clock.now()).reminders == 1
    reminded = _kinds(db, "information.withheld_review_due")
    assert sorted(reminded) == sorted(p.user.id for p in _everyone(cast) * 2)
    assert audit_count(db, "information:withheld:remind") == 2
    clock.set(request.ends_at - timedelta(minutes=1))
    service.run_due_information(db, now=clock.now())
    assert item.state == "withheld"
    clock.set(request.ends_at)
    report = service.run_due_information(db, now=clock.now())
    assert report.released == 1 and item.state == "public" and item.published_at == clock.now()
    assert request.state == "lapsed" and item.id in [i.id for i in service.public_items(db)]
    assert audit_count(db, "information:withheld:release") == 1
    assert sorted(_kinds(db, "information.withheld_released")) == sorted(p.user.id for p in _everyone(cast))


def test_a_unanimous_renewal_keeps_it_withheld_to_the_new_date(db: Session, deps: InformationDeps, cast: Cast,
                                                              clock: FakeClock) -> None:
    item, request = _withheld(db, deps, cast, clock)
    assert request.ends_at is not None
    first_review = request.ends_at
    clock.set(first_review - 40 * DAY)
    renewal = service.propose_withheld_renewal(db, item_id=item.id, actor=cast.officer.principal(),
                                               now=clock.now(), reason="国際情勢に変化なし")
    assert renewal.kind == "withhold_renewal" and renewal.ends_at == rules.add_months(first_review, 12)
    assert renewal.deadline < first_review and renewal.renews_id == request.id
    with pytest.raises(Conflict):  # one vote at a time
        service.propose_release(db, item_id=item.id, actor=cast.researcher.principal(), now=clock.now(),
                                reason="公開したい")
    answer_ballot(db, renewal, _everyone(cast), clock)
    assert renewal.state == "accepted" and request.state == "lapsed" and item.state == "withheld"
    assert audit_count(db, "information:withheld:renew_accept") == 1
    clock.set(first_review + DAY)
    assert service.run_due_information(db, now=clock.now()).released == 0 and item.state == "withheld"
    assert service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(),
                             now=clock.now()).review_at == renewal.ends_at
    assert renewal.ends_at is not None
    clock.set(renewal.ends_at)
    assert service.run_due_information(db, now=clock.now()).released == 1 and item.state == "public"


def test_one_objection_to_the_renewal_and_the_result_is_public_at_its_review(
        db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    item, request = _withheld(db, deps, cast, clock)
    assert request.ends_at is not None
    clock.set(request.ends_at - 20 * DAY)
    renewal = service.propose_withheld_renewal(db, item_id=item.id, actor=cast.officer.principal(),
                                               now=clock.now(), reason="継続したい")
    answer_ballot(db, renewal, [cast.company], clock, decision="object")
    assert renewal.state == "rejected" and request.state == "accepted"
    clock.set(request.ends_at)
    assert service.run_due_information(db, now=clock.now()).released == 1 and item.state == "public"


def test_an_undecided_renewal_at_the_review_date_does_not_keep_it(db: Session, deps: InformationDeps,
                                                                  cast: Cast, clock: FakeClock) -> None:
    item, request = _withheld(db, deps, cast, clock)
    assert request.ends_at is not None
    clock.set(request.ends_at - 2 * DAY)
    renewal = service.propose_withheld_renewal(db, item_id=item.id, actor=cast.officer.principal(),
                                               now=clock.now(), reason="継続したい")
    assert renewal.deadline <= request.ends_at
    clock.set(request.ends_at)
    service.run_due_information(db, now=clock.now())  # the missing answers reject it (I4)
    assert renewal.state == "rejected" and item.state == "public"


def test_release_by_unanimous_vote_before_the_review_date(db: Session, deps: InformationDeps, cast: Cast,
                                                         clock: FakeClock) -> None:
    item, request = _withheld(db, deps, cast, clock)
    clock.advance(days=60)
    release = service.propose_release(db, item_id=item.id, actor=cast.researcher.principal(), now=clock.now(),
                                      reason="懸念が解消された")
    assert release.kind == "release" and item.state == "withheld"
    answer_ballot(db, release, [cast.company], clock, decision="object")
    assert release.state == "rejected" and item.state == "withheld"
    again = service.propose_release(db, item_id=item.id, actor=cast.researcher.principal(), now=clock.now(),
                                    reason="再提案")
    answer_ballot(db, again, _everyone(cast), clock)
    assert again.state == "accepted" and item.state == "public" and request.state == "lapsed"
    assert audit_count(db, "information:withheld:release_accept") == 1


def test_who_may_put_a_withheld_result_to_the_vote(db: Session, deps: InformationDeps, factory: Factory,
                                                   cast: Cast, clock: FakeClock) -> None:
    member = join(cast, db, clock, factory.person(roles=("industry",)))
    item, _ = _withheld(db, deps, cast, clock, member)
    view = service.read_item(db, deps, item_id=item.id, actor=member.principal(), now=clock.now())
    assert not (view.may_renew_withholding or view.may_propose_release)
    with pytest.raises(Forbidden) as refused:  # neither ministry officer, provider nor manager
        service.propose_release(db, item_id=item.id, actor=member.principal(), now=clock.now(), reason="公開を")
    assert councils.was_audited(refused.value)
    for who in (cast.officer, cast.researcher):  # the requesting ministry; the provider (and chair)
        view = service.read_item(db, deps, item_id=item.id, actor=who.principal(), now=clock.now())
        assert view.may_renew_withholding and view.may_propose_release
    scheduled = _result(db, deps, cast, clock)
    with pytest.raises(Conflict, match="withheld"):  # only a withheld result has a review
        service.propose_withheld_renewal(db, item_id=scheduled.id, actor=cast.officer.principal(),
                                         now=clock.now(), reason="継続")


def test_the_api_and_the_pages_renew_and_release(client: TestClient, db: Session, factory: Factory,
                                                 ctx: AppContext) -> None:
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    cast = establish(factory, db, clock)
    item, _ = _withheld(db, information_deps(ctx), cast, clock)
    db.commit()
    h_off = bearer(db, cast.officer, clock)
    detail = client.get(f"{API}/items/{item.id}", headers=h_off).json()["publication"]
    assert detail["review_at"] is not None and detail["may_renew_withholding"] and detail["may_propose_release"]
    too_far = client.post(f"{API}/items/{item.id}/withheld-renewal", headers=h_off,
                          json={"reason": "継続", "review_at": "2099-01-01T00:00:00+09:00"})
    assert too_far.status_code == 422 and "見直し日" in too_far.text
    made = client.post(f"{API}/items/{item.id}/withheld-renewal", headers=h_off, json={"reason": "継続"})
    assert made.status_code == 201 and made.json()["kind"] == "withhold_renewal", made.text
    busy = client.post(f"{API}/items/{item.id}/release", headers=h_off, json={"reason": "公開"})
    assert busy.status_code == 409
    csrf = sign_in(client, db, cast.researcher, ctx)
    page = client.get(f"/information/items/{item.id}")
    assert 'id="review-date"' in page.text and 'id="withheld-renewal-form"' not in page.text  # a vote is open
    ballot = client.get(f"/information/ballots/{made.json()['id']}")
    assert ballot.status_code == 200 and 'id="ballot-review"' in ballot.text
    answer = client.post(f"/information/ballots/{made.json()['id']}/vote",
                         data={"decision": "object", "reason": "公開すべき", "csrf_token": csrf})
    assert answer.status_code in (200, 303), answer.text[:300]
    page = client.get(f"/information/items/{item.id}")
    assert 'id="release-form"' in page.text and 'id="withheld-renewal-form"' in page.text
    released = client.post(f"/information/items/{item.id}/release",
                           data={"reason": "懸念が解消された", "deadline": "", "csrf_token": csrf},
                           follow_redirects=False)
    assert released.status_code == 303 and "/information/ballots/" in released.headers["location"]
    empty = client.post(f"/information/items/{item.id}/withheld-renewal",
                        data={"reason": "", "review_at": day(clock, 30), "csrf_token": csrf})
    assert empty.status_code in (409, 422)  # a vote is open, or the form is incomplete: never a 500


# ---------------------------------------------------------------------------------------------
# 4. The minimality view (I10)


def test_minimality_shows_review_dates_and_outcomes(client: TestClient, db: Session, factory: Factory,
                                                    ctx: AppContext) -> None:
    clock = ctx.clock
    assert isinstance(clock, FakeClock)
    cast = establish(factory, db, clock)
    deps = information_deps(ctx)
    kept, first = _withheld(db, deps, cast, clock)
    freed, _ = _withheld(db, deps, cast, clock)
    release = service.propose_release(db, item_id=freed.id, actor=cast.officer.principal(), now=clock.now(),
                                      reason="解除")
    answer_ballot(db, release, _everyone(cast), clock)
    lapsing, second = _withheld(db, deps, cast, clock)
    assert second.ends_at is not None and first.ends_at is not None
    clock.set(second.ends_at - 10 * DAY)
    renewal = service.propose_withheld_renewal(db, item_id=kept.id, actor=cast.officer.principal(),
                                               now=clock.now(), reason="継続")
    answer_ballot(db, renewal, _everyone(cast), clock)
    clock.set(second.ends_at)
    service.run_due_information(db, now=clock.now())
    assert (kept.state, freed.state, lapsing.state) == ("withheld", "public", "public")
    report = minimality.council_minimality(db, council_id=cast.council.id, actor=cast.company.principal(),
                                           now=clock.now())
    assert report.withheld_reviews == [renewal.ends_at]
    assert (report.withheld_renewed, report.withheld_released_at_review, report.withheld_released_by_vote) == (
        1, 1, 1)
    assert report.nondisclosure_accepted == 3  # all three were accepted, though two have since lapsed
    db.commit()
    api = client.get(f"{API}/councils/{cast.council.id}/minimality", headers=bearer(db, cast.company, clock))
    assert api.status_code == 200 and len(api.json()["withheld_reviews"]) == 1
    assert api.json()["withheld_released_at_review"] == 1 and "title" not in api.text.replace("council_title", "")
    sign_in(client, db, cast.company, ctx)
    page = client.get("/information/minimality")
    assert page.status_code == 200 and 'id="withheld-table"' in page.text
    assert kept.title not in page.text  # aggregates: never which result


# ---------------------------------------------------------------------------------------------
# Bylaws and migration 0022


def test_the_bylaws_set_the_review_period(client: TestClient, db: Session, factory: Factory,
                                          clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    cid = cast.council.id
    h_off, h_res, h_com = (bearer(db, p, clock) for p in (cast.officer, cast.researcher, cast.company))
    rows = client.get(f"/api/v1/councils/{cid}/bylaws/1", headers=h_off).json()["articles"]
    for row in rows:
        del row["number"]
    url = f"/api/v1/councils/{cid}/bylaws/proposals"  # issue 13: the bylaws change by unanimous vote
    for bad in (0, 61):
        refused = client.post(url, headers=h_off, json={"articles": rows, "summary": "見直し",
                                                        "parameters": {"withheld_review_months": bad}})
        assert refused.status_code == 422 and "withheld_review_months" in refused.text
    made = client.post(url, headers=h_off, json={"articles": rows, "summary": "見直しを24か月に",
                                                 "parameters": {"withheld_review_months": 24}})
    assert made.status_code == 201, made.text
    for h in (h_res, h_com):
        assert client.post(f"{url}/{made.json()['id']}/votes", headers=h,
                           json={"decision": "accept"}).status_code == 200
    enacted = client.get(f"/api/v1/councils/{cid}/bylaws/2", headers=h_off)
    assert enacted.status_code == 200 and enacted.json()["withheld_review_months"] == 24, enacted.text


def test_migration_0022_gives_existing_withheld_results_a_review_date(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'before.db'}")
    migrate.upgrade(engine, "0018")
    old = datetime(2024, 1, 15, 3, 0)  # decided long ago: 12 months later is past, so 31 days from now
    recent = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=10)
    with engine.begin() as conn:
        org = _insert(conn, "organizations", kind="ministry")
        user = _insert(conn, "users", organization_id=org, email="m@example.jp", is_active=True)
        council = _insert(conn, "councils", proposer_id=user)
        ids = {}
        for name, decided in (("old", old), ("recent", recent)):
            item = _insert(conn, "info_items", council_id=council, provider_id=user, provider_org_id=org,
                           current_designation_id=None, state="withheld", is_result=True, wrapped_key=b"k")
            ids[name] = _insert(conn, "info_ballots", item_id=item, council_id=council, kind="nondisclosure",
                                state="accepted", proposed_by_id=user, decided_at=decided, ends_at=None)
        _insert(conn, "council_bylaws", council_id=council, version=1, created_by_id=user)
    before_upgrade = datetime.now(UTC).replace(tzinfo=None)
    migrate.upgrade(engine, "0022")
    with engine.connect() as conn:
        ends: dict[int, object] = {int(row[0]): row[1] for row in conn.execute(
            sa.text("SELECT id, ends_at FROM info_ballots"))}
        months = conn.execute(sa.text("SELECT withheld_review_months FROM council_bylaws")).scalar_one()
    got = {k: datetime.fromisoformat(str(v)) for k, v in ends.items()}
    assert months == 12
    assert before_upgrade + timedelta(days=31) <= got[ids["old"]] <= datetime.now(UTC).replace(tzinfo=None) + \
        timedelta(days=31)
    assert got[ids["recent"]] == rules.add_months(recent, 12)
    migrate.downgrade(engine, "0018")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM info_ballots WHERE ends_at IS NOT NULL")).scalar_one() == 0
