"""The one gate (I12) on the paths the first release left open: ballots, votes, notices, e-mail, ballot history,
partial-designation reminders and refused reads. Each test failed on the code before the gate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import service as accounts
from banso.audit.models import AuditEntry
from banso.authz.principal import Principal
from banso.councils import service as councils
from banso.information import service
from banso.information.deps import InformationDeps
from banso.information.models import Ballot, Item
from banso.kit.clock import FakeClock
from banso.kit.errors import NotFound
from banso.notifications import service as notifications
from banso.notifications.mailer import FakeMailer
from banso.notifications.models import Notification
from tests.support.councils import Cast, join
from tests.support.factories import Factory, Person

TITLE = "秘匿された提案の件名 ZX-7"


def designate(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock, *, user_ids: list[int]) -> Item:
    """The company provides an item with a named-scope designation proposal (held while the vote runs)."""
    return service.create_item(
        db, deps, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(), title=TITLE,
        summary="提案の概要", body="本文", matter="useful_information", category="sampling_data",
        provenance="participant", designation=service.DesignationInput(
            reason="輸出管理上の懸念", scope_kind="named", user_ids=user_ids,
            ends_at=clock.now() + timedelta(days=365)))


def ballot_of(db: Session, item: Item) -> Ballot:
    return db.scalars(select(Ballot).where(Ballot.item_id == item.id)).one()


def titles(db: Session, person: Person, actor: Principal | None = None) -> list[str]:
    return [n.title_ja for n in notifications.inbox(db, user_id=person.user.id, actor=actor)]


def test_an_unpledged_member_is_no_voter_and_never_sees_the_proposal(
        db: Session, deps: InformationDeps, cast: Cast, factory: Factory, clock: FakeClock) -> None:
    unpledged = join(cast, db, clock, factory.person(), pledge=False)
    item = designate(db, deps, cast, clock, user_ids=[cast.researcher.user.id])
    ballot = ballot_of(db, item)
    with pytest.raises(NotFound):
        service.get_ballot(db, ballot_id=ballot.id, actor=unpledged.principal())
    assert service.my_open_ballots(db, actor=unpledged.principal()) == []
    assert service.list_ballots(db, council_id=cast.council.id, actor=unpledged.principal()) == []
    with pytest.raises(NotFound):
        service.vote(db, ballot_id=ballot.id, actor=unpledged.principal(), now=clock.now(), decision="object",
                     reason="見ていないが反対")
    assert not any(TITLE in t for t in titles(db, unpledged))
    # a pledged voter sees it and is told its title
    assert service.get_ballot(db, ballot_id=ballot.id, actor=cast.researcher.principal()).item_title == TITLE
    assert any(TITLE in t for t in titles(db, cast.researcher))


def test_a_voter_without_a_second_factor_sees_no_proposal_and_gets_no_mail_naming_it(
        db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    item = designate(db, deps, cast, clock, user_ids=[cast.researcher.user.id])
    ballot = ballot_of(db, item)
    no_mfa = cast.researcher.principal(mfa=False)  # e.g. a token after a second-factor reset
    with pytest.raises(NotFound):
        service.get_ballot(db, ballot_id=ballot.id, actor=no_mfa)
    assert service.my_open_ballots(db, actor=no_mfa) == []
    with pytest.raises(NotFound):
        service.vote(db, ballot_id=ballot.id, actor=no_mfa, now=clock.now(), decision="accept")
    assert not any(TITLE in t for t in titles(db, cast.researcher, actor=no_mfa))
    assert notifications.unread_count(db, user_id=cast.researcher.user.id, actor=no_mfa) < \
        notifications.unread_count(db, user_id=cast.researcher.user.id, actor=cast.researcher.principal())
    # The second factor is reset before the e-mail job runs: the e-mail naming the proposal is withheld.
    accounts.reset_second_factor(db, user_id=cast.researcher.user.id, actor=None, now=clock.now())
    mailer = FakeMailer()
    notifications.send_pending_email(db, mailer=mailer, now=clock.now())
    to_researcher = [m for m in mailer.sent if cast.researcher.user.email in str(m["To"])]
    texts = [str(m["Subject"]) + "".join(str(p.get_content()) for p in m.walk() if p.get_content_type() == "text/plain")
             for m in to_researcher]
    assert not any(TITLE in t for t in texts)
    withheld = db.scalars(select(Notification).where(Notification.recipient_id == cast.researcher.user.id,
                                                     Notification.subject == f"ballot:{ballot.id}")).all()
    assert withheld and all(n.emailed_at is None and "withheld" in (n.email_error or "") for n in withheld)


def test_a_member_who_left_loses_ballots_and_notices_at_once(
        db: Session, deps: InformationDeps, cast: Cast, factory: Factory, clock: FakeClock) -> None:
    leaver = join(cast, db, clock, factory.person())
    item = designate(db, deps, cast, clock, user_ids=[cast.researcher.user.id])
    ballot = ballot_of(db, item)
    assert service.my_open_ballots(db, actor=leaver.principal()) == [ballot]
    councils.leave(db, council_id=cast.council.id, actor=leaver.principal(), now=clock.now())
    assert service.my_open_ballots(db, actor=leaver.principal()) == []
    assert not any(TITLE in t for t in titles(db, leaver))
    # the outcome is not sent to the former member
    for person in (cast.officer, cast.researcher):
        service.vote(db, ballot_id=ballot.id, actor=person.principal(), now=clock.now(), decision="accept")
    assert item.state == "designated"
    rows = db.scalars(select(Notification).where(Notification.recipient_id == leaver.user.id,
                                                 Notification.kind == "information.designation_decided")).all()
    assert rows == []


def test_a_published_items_ballot_history_is_council_metadata(
        db: Session, deps: InformationDeps, cast: Cast, factory: Factory, clock: FakeClock) -> None:
    item = service.create_item(
        db, deps, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(), title="成果",
        summary="概要", body="本文", matter="useful_information", category="sampling_data",
        provenance="participant", is_result=True, publish_at=clock.now() + timedelta(days=40))
    service.request_nondisclosure(db, item_id=item.id, actor=cast.officer.principal(), now=clock.now(),
                                  reason_code="wmd_diversion", reason="大量破壊兵器への転用の懸念（理由本文）")
    service.vote(db, ballot_id=ballot_of(db, item).id, actor=cast.researcher.principal(), now=clock.now(),
                 decision="object", reason="公開すべき（反対理由）")
    assert item.state == "scheduled"
    clock.advance(days=41)
    service.run_due_information(db, now=clock.now(), deps=deps)
    assert item.state == "public"
    stranger = factory.person()
    seen_by_stranger = service.read_item(db, deps, item_id=item.id, actor=stranger.principal(), now=clock.now())
    assert seen_by_stranger.ballots == []
    seen_by_member = service.read_item(db, deps, item_id=item.id, actor=cast.researcher.principal(), now=clock.now())
    assert [b.reason_code for b in seen_by_member.ballots] == ["wmd_diversion"]
    anonymous = service.read_item(db, deps, item_id=item.id, actor=None, now=clock.now())
    assert anonymous.ballots == []


def test_a_partial_designations_end_reminder_reaches_only_that_files_readers(
        db: Session, deps: InformationDeps, cast: Cast, factory: Factory, clock: FakeClock) -> None:
    bystander = join(cast, db, clock, factory.person())
    item = service.create_item(
        db, deps, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(), title=TITLE,
        summary="概要", body="本文", matter="useful_information", category="sampling_data", provenance="participant",
        files=[service.Upload("範囲.csv", "text/csv", b"a,b\n1,2\n")])
    file_id = service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(), now=clock.now()).files[0].id
    service.propose_designation(db, item_id=item.id, actor=cast.company.principal(), now=clock.now(),
                                designation=service.DesignationInput(
                                    reason="一部のファイルのみ", scope_kind="named", user_ids=[cast.researcher.user.id],
                                    ends_at=clock.now() + timedelta(days=60), file_ids=[file_id]))
    ballot = ballot_of(db, item)
    for person in (cast.officer, cast.researcher, bystander):
        service.vote(db, ballot_id=ballot.id, actor=person.principal(), now=clock.now(), decision="accept")
    assert item.current_designation_id == ballot.id and item.state == "council"
    clock.advance(days=31)
    service.run_due_information(db, now=clock.now(), deps=deps)
    told = set(db.scalars(select(Notification.recipient_id).where(
        Notification.kind == "information.designation_ending")))
    assert cast.researcher.user.id in told and cast.company.user.id in told
    assert bystander.user.id not in told and cast.officer.user.id not in told


def test_a_refused_read_by_a_signed_in_person_is_audited(
        db: Session, deps: InformationDeps, cast: Cast, factory: Factory, clock: FakeClock) -> None:
    item = service.create_item(
        db, deps, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(), title=TITLE,
        summary="概要", body="本文", matter="useful_information", category="sampling_data", provenance="participant")
    stranger = factory.person()
    with pytest.raises(NotFound):
        service.read_item(db, deps, item_id=item.id, actor=stranger.principal(), now=clock.now())
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "information:read:refused")
                       .order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and entry.subject == f"item:{item.id}"
    assert TITLE not in str(entry.data)  # ids, never titles of non-public content
    with pytest.raises(NotFound):  # anonymous probes are refused without filling the log
        service.read_item(db, deps, item_id=item.id, actor=None, now=clock.now())
    assert db.scalars(select(AuditEntry).where(AuditEntry.tag == "information:read:refused")).all() == [entry]


def test_audit_entries_name_no_file_of_non_public_content(
        db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    secret_name = "極秘_ZX7_設計図.csv"
    item = service.create_item(
        db, deps, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(), title=TITLE,
        summary="概要", body="本文", matter="useful_information", category="sampling_data", provenance="participant",
        files=[service.Upload(secret_name, "text/csv", b"a,b\n1,2\n")])
    entries = db.scalars(select(AuditEntry).where(AuditEntry.subject == f"item:{item.id}")).all()
    assert any(e.tag == "information:file:upload" for e in entries)
    assert not any("ZX7" in str(e.data) for e in entries)


def test_an_incident_notice_leaves_the_inbox_of_a_manager_who_left(
        db: Session, cast: Cast, clock: FakeClock) -> None:
    from banso.information import incidents

    incidents.report_incident(db, actor=cast.company.principal(), now=clock.now(), title="漏えいの疑い ZX-7 の写し",
                              description="外部で見つかった", council_id=cast.council.id)
    assert any("ZX-7" in t for t in titles(db, cast.officer))  # the secretariat is told
    councils.leave(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now())
    assert not any("ZX-7" in t for t in titles(db, cast.officer))  # and no longer, once it left (I7, I9)
    assert any("ZX-7" in t for t in titles(db, cast.researcher))  # the chair still manages it
