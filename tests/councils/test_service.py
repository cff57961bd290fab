"""Council services on a real database: every transition and every bad-input case of issue 3."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.councils import bylaws, meetings, service
from banso.councils import models as m
from banso.councils.articles import ArticleInput
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.leak.text import strip_marks
from banso.sealed.store import SealedDeps
from tests.support.councils import amend, article_inputs, establish, propose
from tests.support.factories import Factory, audit_count

TABLES = (m.Council, m.BylawsVersion, m.Consent, m.Membership, m.Pledge, m.Meeting, m.AgendaItem,
          m.MeetingAttendance, m.Decision, m.ActionItem, m.MaterialRequest, m.MaterialFile)


def snapshot(db: Session) -> dict[str, Any]:
    """Row counts of every council table and every council's state and consents."""
    db.flush()
    counts: dict[str, Any] = {t.__tablename__: db.scalar(select(func.count()).select_from(t)) for t in TABLES}
    counts["states"] = [(c.id, c.state, c.bylaws_version, c.duty_version)
                        for c in db.scalars(select(m.Council).order_by(m.Council.id))]
    counts["consents"] = [(c.id, c.decision, c.decided_at) for c in db.scalars(select(m.Consent).order_by(m.Consent.id))]
    counts["members"] = [(x.id, x.role, x.left_at) for x in db.scalars(select(m.Membership).order_by(m.Membership.id))]
    counts["actions"] = [(a.id, a.status) for a in db.scalars(select(m.ActionItem).order_by(m.ActionItem.id))]
    return counts


# --- proposal (C1) ---------------------------------------------------------------------------


def test_propose_creates_council_bylaws_consents_and_audit(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = propose(factory, db, clock)
    c = cast.council
    assert c.state == "proposed" and c.bylaws_version == 1 and c.duty_version == 1
    page = service.get_council(db, council_id=c.id, actor=cast.researcher.principal())
    assert "第62条第7項" in page.bylaws.text and c.title_ja in page.bylaws.text
    roles = {mv.user.id: mv.membership.role for mv in page.members}
    assert roles == {cast.officer.user.id: "secretariat", cast.researcher.user.id: "chair",
                     cast.company.user.id: "member"}
    decisions = {k.user_id: k.decision for k in page.consents}
    assert decisions[cast.officer.user.id] == "consented"  # proposing is consenting
    assert decisions[cast.researcher.user.id] == decisions[cast.company.user.id] == "pending"
    assert audit_count(db, "council:council:propose") == 1


def _propose_kwargs(cast_people: dict[str, Any], clock: FakeClock, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title_ja": "試験協議会", "title_en": "Test", "purpose": "目的", "technology": "技術",
        "consent_deadline": clock.now() + timedelta(days=7),
        "founders": [service.FounderSpec(cast_people["r"].user.id, "member")]}
    base.update(over)
    return base


@pytest.mark.parametrize("change, field", [
    ({"title_ja": "  "}, "title_ja"),
    ({"purpose": ""}, "purpose"),
    ({"technology": None, "project_ref": None}, "technology"),
    ({"consent_deadline": "past"}, "consent_deadline"),
    ({"founders": []}, "founders"),
    ({"founders": "bad-role"}, "role"),
    ({"required_person_ids": "outsider"}, "founders"),
    ({"designation_max_years": 9}, "designation_max_years"),
])
def test_propose_bad_input_changes_nothing(change: dict[str, Any], field: str, factory: Factory, db: Session,
                                           clock: FakeClock) -> None:
    officer = factory.person(roles=("officer",))
    r = factory.person()
    o = factory.person()
    kwargs = _propose_kwargs({"r": r}, clock, **change)
    if kwargs["consent_deadline"] == "past":
        kwargs["consent_deadline"] = clock.now() - timedelta(minutes=1)
    if kwargs["founders"] == "bad-role":
        kwargs["founders"] = [service.FounderSpec(r.user.id, "king")]
    if kwargs.get("required_person_ids") == "outsider":
        kwargs["required_person_ids"] = [o.user.id]
    before = snapshot(db)
    with pytest.raises(ValidationFailed) as err:
        service.propose(db, actor=officer.principal(), now=clock.now(), **kwargs)
    assert err.value.field == field
    assert snapshot(db) == before


def test_only_officers_propose(factory: Factory, db: Session, clock: FakeClock) -> None:
    researcher = factory.person()
    other = factory.person()
    with pytest.raises(Forbidden):
        service.propose(db, actor=researcher.principal(), now=clock.now(), **_propose_kwargs({"r": other}, clock))


# --- consent and establishment (C1) ------------------------------------------------------------


def test_all_consents_establish_then_activate_and_dissolve(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = propose(factory, db, clock)
    cid = cast.council.id
    service.consent(db, council_id=cid, actor=cast.researcher.principal(), now=clock.now(), decision="consent")
    assert cast.council.state == "proposed"
    clock.advance(days=1)
    service.consent(db, council_id=cid, actor=cast.company.principal(), now=clock.now(), decision="consent")
    assert cast.council.state == "established" and cast.council.established_at == clock.now()
    assert audit_count(db, "council:consent:give") == 2 and audit_count(db, "council:council:establish") == 1
    with pytest.raises(Forbidden):  # an ordinary member does not run the lifecycle
        service.activate(db, council_id=cid, actor=cast.company.principal(), now=clock.now())
    service.activate(db, council_id=cid, actor=cast.officer.principal(), now=clock.now())
    assert cast.council.state == "active"
    with pytest.raises(Conflict):
        service.activate(db, council_id=cid, actor=cast.officer.principal(), now=clock.now())
    with pytest.raises(ValidationFailed):
        service.dissolve(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(), reason=" ")
    service.dissolve(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(), reason="目的を達成")
    assert cast.council.state == "dissolved" and cast.council.end_reason == "目的を達成"
    assert audit_count(db, "council:council:dissolve") == 1


def test_decline_lapses_and_needs_a_reason(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = propose(factory, db, clock)
    before = snapshot(db)
    with pytest.raises(ValidationFailed) as err:
        service.consent(db, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(),
                        decision="decline")
    assert err.value.field == "reason" and snapshot(db) == before
    service.consent(db, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(),
                    decision="decline", reason="社内の承認が得られないため")
    assert cast.council.state == "lapsed"
    assert "declined" in (cast.council.end_reason or "")
    assert audit_count(db, "council:consent:decline") == 1 and audit_count(db, "council:council:lapse") == 1
    with pytest.raises(Conflict):  # consents are closed
        service.consent(db, council_id=cast.council.id, actor=cast.researcher.principal(), now=clock.now(),
                        decision="consent")


def test_consenting_twice_is_refused_audited_and_changes_nothing(factory: Factory, db: Session,
                                                                 clock: FakeClock) -> None:
    cast = propose(factory, db, clock)
    service.consent(db, council_id=cast.council.id, actor=cast.researcher.principal(), now=clock.now(),
                    decision="consent")
    before = snapshot(db)
    with pytest.raises(Conflict, match="already answered") as err:
        service.consent(db, council_id=cast.council.id, actor=cast.researcher.principal(), now=clock.now(),
                        decision="decline", reason="やはり")
    assert service.was_audited(err.value)
    assert snapshot(db) == before
    assert audit_count(db, "council:consent:refused") == 1


def test_consenting_after_the_deadline_is_refused_and_the_job_lapses(factory: Factory, db: Session,
                                                                     clock: FakeClock) -> None:
    cast = propose(factory, db, clock, days=3)
    service.consent(db, council_id=cast.council.id, actor=cast.researcher.principal(), now=clock.now(),
                    decision="consent")
    clock.advance(days=3)
    before = snapshot(db)
    with pytest.raises(Conflict, match="deadline"):
        service.consent(db, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(),
                        decision="consent")
    assert snapshot(db) == before
    assert audit_count(db, "council:consent:refused") == 1
    report = service.run_due_councils(db, now=clock.now())
    assert report.lapsed == [cast.council.id]
    assert cast.council.state == "lapsed" and "no consent" in (cast.council.end_reason or "")


def test_job_sends_reminders_once_per_window(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = propose(factory, db, clock, days=10)
    assert service.run_due_councils(db, now=clock.now()).reminders == []
    clock.advance(days=3, hours=1)  # inside the 7-day window
    report = service.run_due_councils(db, now=clock.now())
    assert sorted(r.user_id for r in report.reminders) == sorted([cast.researcher.user.id, cast.company.user.id])
    assert service.run_due_councils(db, now=clock.now()).reminders == []
    assert audit_count(db, "council:consent:remind") == 2


def test_outsiders_cannot_consent_or_see(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = propose(factory, db, clock)
    with pytest.raises(NotFound):
        service.consent(db, council_id=cast.council.id, actor=cast.outsider.principal(), now=clock.now(),
                        decision="consent")
    with pytest.raises(NotFound):
        service.get_council(db, council_id=cast.council.id, actor=cast.outsider.principal())
    assert service.list_councils(db, actor=cast.outsider.principal()) == []
    assert [c.id for c in service.list_councils(db, actor=cast.company.principal())] == [cast.council.id]


# --- bylaws and pledges (C3) -------------------------------------------------------------------


def test_duty_change_requires_re_signing(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    assert service.can_read_content(db, council_id=cid, actor=cast.company.principal())
    # an amendment that leaves the duty alone keeps pledges current (issue 13: accepted by every member)
    amend(db, clock, cast, article_inputs(db, cast, add=[ArticleInput("supplementary", "附則", "",
                                                                       "この規約は令和8年4月1日から施行する。")]),
          summary="附則の追加")
    assert cast.council.bylaws_version == 2 and cast.council.duty_version == 1
    assert service.can_read_content(db, council_id=cid, actor=cast.company.principal())
    # a duty change closes the content until re-signed
    amend(db, clock, cast, article_inputs(
        db, cast, edit=lambda key, text: text.replace("盗用してはならない", "盗用し、又は目的外に利用してはならない")),
        summary="守秘義務の条の改正")
    assert cast.council.bylaws_version == 3 and cast.council.duty_version == 3
    assert not service.can_read_content(db, council_id=cid, actor=cast.company.principal())
    diff = service.diff_bylaws(db, council_id=cid, old=1, new=3, actor=cast.company.principal())
    assert "目的外に利用" in diff
    before = snapshot(db)
    with pytest.raises(Conflict, match="not in force") as err:
        service.sign_pledge(db, council_id=cid, actor=cast.company.principal(), now=clock.now(), bylaws_version=2)
    assert service.was_audited(err.value) and snapshot(db) == before
    assert audit_count(db, "council:pledge:refused") == 1
    pledge = service.sign_pledge(db, council_id=cid, actor=cast.company.principal(), now=clock.now(),
                                 bylaws_version=3)
    assert pledge.bylaws_version == 3 and "第3版" in pledge.text and "第4条（守秘義務）" in pledge.text
    assert service.can_read_content(db, council_id=cid, actor=cast.company.principal())
    preview = service.pledge_preview(db, council_id=cid, actor=cast.company.principal(), now=clock.now())
    assert preview.current is not None and len(preview.history) == 2


def test_amendment_bad_input(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    rows = article_inputs(db, cast)
    before = snapshot(db)

    def offer(actor: Principal, rows: list[ArticleInput], summary: str = "改正") -> None:
        bylaws.propose_amendment(db, council_id=cid, actor=actor, now=clock.now(), articles_in=rows, parameters={},
                                 summary=summary)

    with pytest.raises(ValidationFailed, match="changes nothing"):
        offer(cast.officer.principal(), rows)
    changed = article_inputs(db, cast, edit=lambda key, text: text + "追記" if key == "purpose" else text)
    with pytest.raises(ValidationFailed):
        offer(cast.officer.principal(), changed, summary="")
    with pytest.raises(ValidationFailed, match="duty"):
        offer(cast.officer.principal(), [r for r in changed if r.key != "duty"])
    with pytest.raises(ValidationFailed, match="重複"):
        offer(cast.officer.principal(), [*changed, changed[0]])
    with pytest.raises(Forbidden):
        offer(cast.company.principal(), changed)
    with pytest.raises(Forbidden):
        offer(cast.officer.principal(mfa=False), changed)
    assert snapshot(db) == before


def test_signing_needs_a_second_factor_and_membership(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = establish(factory, db, clock, pledge=False)
    before = snapshot(db)
    with pytest.raises(Forbidden) as err:
        service.sign_pledge(db, council_id=cast.council.id, actor=cast.company.principal(mfa=False),
                            now=clock.now(), bylaws_version=1)
    assert service.was_audited(err.value) and snapshot(db) == before
    with pytest.raises(NotFound):
        service.sign_pledge(db, council_id=cast.council.id, actor=cast.outsider.principal(), now=clock.now(),
                            bylaws_version=1)
    service.sign_pledge(db, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(),
                        bylaws_version=1)
    with pytest.raises(Conflict, match="already"):
        service.sign_pledge(db, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(),
                            bylaws_version=1)
    assert audit_count(db, "council:pledge:sign") == 1


def test_pledge_is_immutable_and_downloads_as_pdf(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    preview = service.pledge_preview(db, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now())
    assert preview.current is not None
    pledge, pdf = service.pledge_pdf(db, council_id=cast.council.id, pledge_id=preview.current.id,
                                     actor=cast.company.principal(), now=clock.now())
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    assert audit_count(db, "council:pledge:download") == 1
    chair_pledge = service.pledge_preview(db, council_id=cast.council.id, actor=cast.researcher.principal(),
                                          now=clock.now()).current
    assert chair_pledge is not None
    with pytest.raises(NotFound):  # another member's pledge is not a plain member's to download
        service.pledge_pdf(db, council_id=cast.council.id, pledge_id=chair_pledge.id,
                           actor=cast.company.principal(), now=clock.now())
    # the chair (a manager) may download any pledge of the council
    service.pledge_pdf(db, council_id=cast.council.id, pledge_id=pledge.id, actor=cast.researcher.principal(),
                       now=clock.now())
    pledge.text = "改ざん"
    with pytest.raises(ValueError, match="immutable"):
        db.flush()
    db.rollback()


# --- membership -----------------------------------------------------------------------------


def test_leaving_ends_access_at_once_and_keeps_the_pledge(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    assert service.list_meetings(db, council_id=cid, actor=cast.company.principal()) == []
    service.leave(db, council_id=cid, actor=cast.company.principal(), now=clock.now())
    with pytest.raises(NotFound):
        service.list_meetings(db, council_id=cid, actor=cast.company.principal())
    with pytest.raises(NotFound):
        service.get_council(db, council_id=cid, actor=cast.company.principal())
    assert service.list_councils(db, actor=cast.company.principal()) == []
    assert len(service.list_pledges(db, council_id=cid, actor=cast.officer.principal())) == 3
    assert audit_count(db, "council:member:leave") == 1


def test_join_with_consent_and_roles(factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    newcomer = factory.person(roles=("analyst",))
    with pytest.raises(ValidationFailed):
        service.invite(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                       user_id=newcomer.user.id, role="member", deadline=clock.now() - timedelta(days=1))
    with pytest.raises(Forbidden):
        service.invite(db, council_id=cid, actor=cast.company.principal(), now=clock.now(),
                       user_id=newcomer.user.id, role="member", deadline=clock.now() + timedelta(days=7))
    service.invite(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(), user_id=newcomer.user.id,
                   role="observer", deadline=clock.now() + timedelta(days=7))
    # the invitee sees the public page but no content yet
    page = service.get_council(db, council_id=cid, actor=newcomer.principal())
    assert page.content_block == "not_a_member"
    service.consent(db, council_id=cid, actor=newcomer.principal(), now=clock.now(), decision="consent")
    assert service.get_council(db, council_id=cid, actor=newcomer.principal()).content_block == "pledge_required"
    service.sign_pledge(db, council_id=cid, actor=newcomer.principal(), now=clock.now(), bylaws_version=1)
    assert service.can_read_content(db, council_id=cid, actor=newcomer.principal())
    with pytest.raises(Conflict):
        service.invite(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                       user_id=newcomer.user.id, role="member", deadline=clock.now() + timedelta(days=7))
    service.set_role(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(), user_id=newcomer.user.id,
                     role="member")
    with pytest.raises(ValidationFailed):
        service.set_role(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(),
                         user_id=cast.outsider.user.id, role="member")
    assert audit_count(db, "council:member:join") == 1 and audit_count(db, "council:member:role") == 1


# --- meetings, decisions, action items (C5) -------------------------------------------------


def test_meeting_agenda_attendance_minutes(factory: Factory, db: Session, clock: FakeClock,
                                           store: SealedDeps) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    officer = cast.officer.principal()
    before = snapshot(db)
    with pytest.raises(ValidationFailed):
        service.schedule_meeting(db, council_id=cid, actor=officer, now=clock.now(), title="第1回",
                                 starts_at=clock.now() - timedelta(hours=1))
    with pytest.raises(ValidationFailed):  # one bad agenda item: nothing is written
        service.schedule_meeting(db, council_id=cid, actor=officer, now=clock.now(), title="第1回",
                                 starts_at=clock.now() + timedelta(days=1),
                                 agenda=[service.AgendaInput("ok", "useful_information"),
                                         service.AgendaInput("bad", "gossip")])
    with pytest.raises(Forbidden):
        service.schedule_meeting(db, council_id=cid, actor=cast.company.principal(), now=clock.now(),
                                 title="第1回", starts_at=clock.now() + timedelta(days=1))
    assert snapshot(db) == before
    meeting = service.schedule_meeting(
        db, council_id=cid, actor=officer, now=clock.now(), title="第1回会合", location="内閣府 会議室A",
        starts_at=clock.now() + timedelta(days=1),
        agenda=[service.AgendaInput("社会実装イメージの共有", "useful_information")])
    service.add_agenda_item(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(),
                            title="情報管理の方法", matter="information_management")
    service.record_attendance(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(),
                              user_id=cast.company.user.id, status="present")
    service.record_attendance(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(),
                              user_id=cast.company.user.id, status="excused")
    with pytest.raises(ValidationFailed):
        service.record_attendance(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(),
                                  user_id=cast.outsider.user.id, status="present")
    service.draft_minutes(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(), text="議事録案", store=store)
    with pytest.raises(Conflict, match="not taken place"):
        service.approve_minutes(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now())
    clock.advance(days=2)
    # issue 13: the attendees confirm before approval; an excused member is not asked, so the deadline decides
    with pytest.raises(ValidationFailed, match="record who attended"):
        meetings.circulate_minutes(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now())
    service.record_attendance(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(),
                              user_id=cast.researcher.user.id, status="present")
    meetings.circulate_minutes(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(),
                               deadline=clock.now() + timedelta(days=1))
    clock.advance(days=1)
    service.approve_minutes(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now())
    with pytest.raises(Conflict):
        service.draft_minutes(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(), text="x",
                              store=store)
    view = service.get_meeting(db, council_id=cid, meeting_id=meeting.id, actor=cast.company.principal(),
                               now=clock.now(), store=store)
    assert [a.matter for a in view.agenda] == ["useful_information", "information_management"]
    assert [(a.user_id, a.status) for a in view.attendance] == sorted(
        [(cast.company.user.id, "excused"), (cast.researcher.user.id, "present")])
    assert view.meeting.minutes_state == "approved"
    assert audit_count(db, "council:minutes:approve") == 1 and audit_count(db, "council:meeting:read") == 1


def test_decisions_and_action_items(factory: Factory, db: Session, clock: FakeClock, store: SealedDeps) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    officer = cast.officer.principal()
    with pytest.raises(ValidationFailed):
        service.record_decision(db, council_id=cid, actor=officer, now=clock.now(), text="x", matter="x",
                                adoption="consensus", store=store)
    with pytest.raises(ValidationFailed):
        service.record_decision(db, council_id=cid, actor=officer, now=clock.now(), text="x",
                                matter="effective_promotion", adoption="coin_toss", store=store)
    decision = service.record_decision(db, council_id=cid, actor=officer, now=clock.now(),
                                       text="試験海域の利用調整を進める", matter="effective_promotion",
                                       adoption="consensus", store=store)
    before = snapshot(db)
    with pytest.raises(ValidationFailed) as err:
        service.create_action_item(db, council_id=cid, actor=officer, now=clock.now(), title="調整",
                                   assignee_id=cast.outsider.user.id, due_at=clock.now() + timedelta(days=7))
    assert err.value.field == "assignee_id" and service.was_audited(err.value)
    assert audit_count(db, "council:action:refused") == 1
    with pytest.raises(ValidationFailed) as err:
        service.create_action_item(db, council_id=cid, actor=officer, now=clock.now(), title="調整",
                                   assignee_id=cast.company.user.id, due_at=clock.now() - timedelta(days=1))
    assert err.value.field == "due_at"
    with pytest.raises(ValidationFailed):
        service.create_action_item(db, council_id=cid, actor=officer, now=clock.now(), title=" ",
                                   assignee_id=cast.company.user.id, due_at=clock.now() + timedelta(days=1))
    assert snapshot(db) == before
    soon = service.create_action_item(db, council_id=cid, actor=officer, now=clock.now(), title="海域調整",
                                      assignee_id=cast.company.user.id, due_at=clock.now() + timedelta(days=1),
                                      decision_id=decision.id)
    later = service.create_action_item(db, council_id=cid, actor=officer, now=clock.now(), title="報告書",
                                       assignee_id=cast.researcher.user.id, due_at=clock.now() + timedelta(days=30))
    clock.advance(days=2)
    overdue = service.list_action_items(db, council_id=cid, actor=officer, now=clock.now(), overdue_only=True)
    assert [a.id for a in overdue] == [soon.id]
    mine = service.my_action_items(db, actor=cast.company.principal(), now=clock.now(), overdue_only=True)
    assert [a.id for a in mine] == [soon.id]
    assert service.my_action_items(db, actor=cast.researcher.principal(), now=clock.now(), overdue_only=True) == []
    with pytest.raises(Forbidden):  # someone else's item (a plain member)
        service.complete_action_item(db, council_id=cid, item_id=later.id, actor=cast.company.principal(),
                                     now=clock.now())
    service.complete_action_item(db, council_id=cid, item_id=soon.id, actor=cast.company.principal(),
                                 now=clock.now(), note="完了")
    assert soon.status == "done"
    with pytest.raises(Conflict):
        service.complete_action_item(db, council_id=cid, item_id=soon.id, actor=cast.company.principal(),
                                     now=clock.now())
    with pytest.raises(Forbidden):  # only managers cancel
        service.cancel_action_item(db, council_id=cid, item_id=later.id, actor=cast.company.principal(),
                                   now=clock.now())
    service.cancel_action_item(db, council_id=cid, item_id=later.id, actor=officer, now=clock.now())
    assert service.list_action_items(db, council_id=cid, actor=officer, now=clock.now(), overdue_only=True) == []
    assert audit_count(db, "council:action:complete") == 1 and audit_count(db, "council:action:cancel") == 1


# --- material requests (C6) -------------------------------------------------------------------


def test_material_request_answer_with_files(factory: Factory, db: Session, clock: FakeClock,
                                            store: SealedDeps) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    officer = cast.officer.principal()
    analyst = factory.person(roles=("analyst",), org=factory.org(kind="think_tank"))
    service.invite(db, council_id=cid, actor=officer, now=clock.now(), user_id=analyst.user.id, role="observer",
                   deadline=clock.now() + timedelta(days=7))
    service.consent(db, council_id=cid, actor=analyst.principal(), now=clock.now(), decision="consent")
    service.sign_pledge(db, council_id=cid, actor=analyst.principal(), now=clock.now(), bylaws_version=1)
    with pytest.raises(ValidationFailed):  # the company is no think tank
        service.create_request(db, council_id=cid, actor=officer, now=clock.now(), title="動向", body="調査",
                               matter="useful_information", addressee_kind="think_tank",
                               addressee_id=cast.company.user.id, due_at=clock.now() + timedelta(days=14))
    with pytest.raises(ValidationFailed):
        service.create_request(db, council_id=cid, actor=officer, now=clock.now(), title="動向", body="調査",
                               matter="useful_information", addressee_kind="think_tank",
                               addressee_id=analyst.user.id, due_at=clock.now())
    req = service.create_request(db, council_id=cid, actor=officer, now=clock.now(), title="諸外国の研究開発動向",
                                 body="主要国の論文動向をまとめてください", matter="useful_information",
                                 addressee_kind="think_tank", addressee_id=analyst.user.id,
                                 due_at=clock.now() + timedelta(days=14))
    with pytest.raises(Forbidden):  # not the addressee
        service.answer_request(db, council_id=cid, request_id=req.id, actor=cast.company.principal(),
                               now=clock.now(), text="x", files=[], store=store)
    with pytest.raises(ValidationFailed):
        service.answer_request(db, council_id=cid, request_id=req.id, actor=analyst.principal(), now=clock.now(),
                               text="回答", files=[service.UploadedFile("empty.txt", "text/plain", b"")], store=store)
    view = service.answer_request(db, council_id=cid, request_id=req.id, actor=analyst.principal(),
                                  now=clock.now(), text="別添のとおり",
                                  files=[service.UploadedFile("../動向.csv", "text/csv", "国,論文数\nJP,10\n".encode())],
                                  store=store)
    assert view.request.status == "answered" and [f.filename for f in view.files] == ["動向.csv"]
    # C6 (issue 11): a pledged member who is neither requester, addressee nor manager no longer gets the file.
    with pytest.raises(NotFound):
        service.read_file(db, council_id=cid, request_id=req.id, file_id=view.files[0].id,
                          actor=cast.company.principal(), now=clock.now(), store=store)
    copy = service.read_file(db, council_id=cid, request_id=req.id, file_id=view.files[0].id,
                             actor=officer, now=clock.now(), store=store)
    assert strip_marks(copy.data.decode()).startswith("国,論文数")
    assert audit_count(db, "council:file:download") == 1
    with pytest.raises(Conflict):
        service.answer_request(db, council_id=cid, request_id=req.id, actor=analyst.principal(), now=clock.now(),
                               text="再回答", files=[], store=store)
    service.close_request(db, council_id=cid, request_id=req.id, actor=officer, now=clock.now())
    assert req.status == "closed"
