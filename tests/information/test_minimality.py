"""The minimality view (I10) against a council with known designations, renewals and requests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.councils import service as councils
from banso.councils.models import BylawsVersion
from banso.information import minimality, service
from banso.information.deps import InformationDeps
from banso.information.models import Ballot, Item
from banso.kit.clock import FakeClock
from banso.kit.errors import NotFound
from tests.support.councils import Cast, establish
from tests.support.factories import Factory

DAY = timedelta(days=1)


def _item(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock, *, provider=None, **kw) -> Item:  # type: ignore[no-untyped-def]
    fields = {"title": "評価報告", "summary": "概要", "body": "本文", "matter": "useful_information",
              "category": "sampling_data", "provenance": "participant"}
    fields.update(kw)
    return service.create_item(db, deps, council_id=cast.council.id, actor=(provider or cast.company).principal(),
                               now=clock.now(), **fields)


def _vote(db: Session, ballot: Ballot, cast: Cast, clock: FakeClock, decision: str = "accept") -> None:
    for person in (cast.officer, cast.researcher, cast.company):
        view = service.get_ballot(db, ballot_id=ballot.id, actor=person.principal())
        if view.my_vote is not None and view.my_vote.decision == "pending":
            service.vote(db, ballot_id=ballot.id, actor=person.principal(), now=clock.now(), decision=decision,
                         reason="理由" if decision == "object" else None)
            if decision == "object":
                return


def _designated(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock, days: int,
                decision: str = "accept") -> Item:
    designation = service.DesignationInput(reason="懸念", scope_kind="named", user_ids=[cast.researcher.user.id],
                                           ends_at=clock.now() + days * DAY)
    item = _item(db, deps, cast, clock, designation=designation)
    ballot = db.scalar(select(Ballot).where(Ballot.item_id == item.id))
    assert ballot is not None
    _vote(db, ballot, cast, clock, decision)
    return item


def _result(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock, days: int) -> Item:
    return _item(db, deps, cast, clock, provider=cast.researcher, provenance="researcher_generated",
                 category="research_result", publish_at=clock.now() + days * DAY)


def _request(db: Session, item: Item, cast: Cast, clock: FakeClock) -> Ballot:
    return service.request_nondisclosure(db, item_id=item.id, actor=cast.officer.principal(), now=clock.now(),
                                         reason_code="wmd_diversion", reason="転用のおそれ")


@pytest.fixture
def known(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> Cast:
    """Eight items: 1 council, 3 designated (365+renewal to 730, 60, 20 days), 1 rejected, 3 requested results."""
    t0 = clock.now()
    # I13: these bylaws give 5 days' prior notice, so the results keep the dates they ask for
    bylaws = db.scalar(select(BylawsVersion).where(BylawsVersion.council_id == cast.council.id))
    assert bylaws is not None
    bylaws.publication_notice_days = 5
    _item(db, deps, cast, clock)  # A: council-shared
    long = _designated(db, deps, cast, clock, 365)  # B, renewed to 730 days
    renewal = service.propose_renewal(db, item_id=long.id, actor=cast.company.principal(), now=t0,
                                      ends_at=t0 + 730 * DAY, reason="継続", deadline=t0 + 10 * DAY)
    _vote(db, renewal, cast, clock)
    assert renewal.state == "accepted"
    mid = _designated(db, deps, cast, clock, 60)  # C, renewal rejected
    refused = service.propose_renewal(db, item_id=mid.id, actor=cast.company.principal(), now=t0,
                                      ends_at=t0 + 400 * DAY, reason="継続", deadline=t0 + 10 * DAY)
    _vote(db, refused, cast, clock, "object")
    assert refused.state == "rejected"
    _designated(db, deps, cast, clock, 20)  # D
    rejected = _designated(db, deps, cast, clock, 100, decision="object")  # E
    assert rejected.state == "council"
    kept, freed, pending = (_result(db, deps, cast, clock, d) for d in (10, 10, 40))
    _vote(db, _request(db, kept, cast, clock), cast, clock)
    _vote(db, _request(db, freed, cast, clock), cast, clock, "object")
    _request(db, pending, cast, clock)
    assert (kept.state, freed.state, pending.state) == ("withheld", "scheduled", "scheduled")
    service.run_due_information(db, now=clock.now())
    return cast


def test_numbers_of_a_known_council(db: Session, known: Cast, clock: FakeClock) -> None:
    report = minimality.council_minimality(db, council_id=known.council.id, actor=known.company.principal(),
                                           now=clock.now())
    assert report.council_id == known.council.id and report.council_title == known.council.title_ja
    assert report.items == 8
    assert report.by_state == {"held": 0, "council": 2, "designated": 3, "scheduled": 2, "withheld": 1, "public": 0}
    assert report.designated_share == pytest.approx(3 / 8)
    assert report.designation_days == [20, 60, 730]
    assert report.median_days == 60.0 and report.max_days == 730
    assert (report.expiring_30, report.expiring_90) == (1, 2)
    assert (report.proposals_accepted, report.proposals_rejected) == (3, 1)
    assert (report.renewals_accepted, report.renewals_rejected) == (1, 1)
    assert (report.nondisclosure_requested, report.nondisclosure_accepted, report.nondisclosure_rejected,
            report.nondisclosure_open) == (3, 1, 1, 1)


def test_numbers_after_a_lapse_and_a_publication(db: Session, known: Cast, clock: FakeClock) -> None:
    clock.set(clock.now() + 21 * DAY)
    due = service.run_due_information(db, now=clock.now())
    assert due.lapsed == 1 and due.published == 1
    report = minimality.council_minimality(db, council_id=known.council.id, actor=known.officer.principal(),
                                           now=clock.now())
    assert report.by_state == {"held": 0, "council": 3, "designated": 2, "scheduled": 1, "withheld": 1, "public": 1}
    assert report.designated_share == pytest.approx(2 / 8)
    assert report.designation_days == [20, 60, 730]  # a lapsed designation was still agreed
    assert (report.expiring_30, report.expiring_90) == (0, 1)
    clock.set(clock.now() + 10 * DAY)  # the open request's 30-day deadline passes unanswered: rejected (I6)
    service.run_due_information(db, now=clock.now())
    report = minimality.council_minimality(db, council_id=known.council.id, actor=known.officer.principal(),
                                           now=clock.now())
    assert (report.nondisclosure_rejected, report.nondisclosure_open) == (2, 0)


def test_who_sees_the_report(db: Session, known: Cast, clock: FakeClock, factory: Factory) -> None:
    council_id = known.council.id
    auditor = factory.person(roles=("auditor",)).principal()
    assert minimality.council_minimality(db, council_id=council_id, actor=auditor, now=clock.now()).items == 8
    for who in (known.outsider.principal(), known.researcher.principal(mfa=False)):
        with pytest.raises(NotFound):
            minimality.council_minimality(db, council_id=council_id, actor=who, now=clock.now())
    with pytest.raises(NotFound):
        minimality.council_minimality(db, council_id=10**9, actor=auditor, now=clock.now())
    councils.leave(db, council_id=council_id, actor=known.company.principal(), now=clock.now())
    with pytest.raises(NotFound):  # leaving ends access at once (C3)
        minimality.council_minimality(db, council_id=council_id, actor=known.company.principal(), now=clock.now())


def test_platform_view(db: Session, deps: InformationDeps, known: Cast, clock: FakeClock, factory: Factory) -> None:
    other = establish(factory, db, clock)
    _item(db, deps, other, clock)
    _designated(db, deps, other, clock, 100)
    auditor = factory.person(roles=("auditor",)).principal()
    total, per_council = minimality.platform_minimality(db, actor=auditor, now=clock.now())
    assert [r.council_id for r in per_council] == [known.council.id, other.council.id]
    assert total.council_id is None and total.items == 10
    assert total.by_state["designated"] == 4 and total.designated_share == pytest.approx(0.4)
    assert total.designation_days == [20, 60, 100, 730] and total.median_days == 80.0 and total.max_days == 730
    assert total.proposals_accepted == 4 and total.nondisclosure_requested == 3
    # a member sees the councils they have content access to, no others
    total, per_council = minimality.platform_minimality(db, actor=other.company.principal(), now=clock.now())
    assert [r.council_id for r in per_council] == [other.council.id] and total.items == 2
    total, per_council = minimality.platform_minimality(db, actor=known.outsider.principal(), now=clock.now())
    assert per_council == [] and total.items == 0 and total.median_days is None and total.designated_share == 0.0
