"""Council events reach people as notifications that say no more than each recipient may know (I7)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from banso.app.jobs import run_due
from banso.councils import service
from banso.kit.clock import FakeClock
from banso.notifications import service as notifications
from banso.web.context import AppContext
from tests.support.councils import establish, propose
from tests.support.factories import Factory


def titles(db: Session, user_id: int) -> list[str]:
    return [n.title_ja for n in notifications.inbox(db, user_id=user_id)]


def test_founders_are_asked_to_consent(db: Session, factory: Factory, clock: FakeClock) -> None:
    cast = propose(factory, db, clock)
    for founder in (cast.researcher, cast.company):
        assert any("参加同意のお願い" in t and cast.council.title_ja in t for t in titles(db, founder.user.id))
    assert titles(db, cast.officer.user.id) == []  # the proposer consented by proposing
    assert titles(db, cast.outsider.user.id) == []


def test_meeting_title_only_for_pledged_members(db: Session, factory: Factory, clock: FakeClock) -> None:
    cast = establish(factory, db, clock, pledge=False)
    service.sign_pledge(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                        bylaws_version=cast.council.bylaws_version)
    service.sign_pledge(db, council_id=cast.council.id, actor=cast.researcher.principal(), now=clock.now(),
                        bylaws_version=cast.council.bylaws_version)
    service.schedule_meeting(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                             title="第3回 秘密の議題", starts_at=clock.now() + timedelta(days=7))
    db.flush()
    pledged = titles(db, cast.researcher.user.id)
    unpledged = titles(db, cast.company.user.id)
    assert any("第3回 秘密の議題" in t for t in pledged)
    assert any("会合が予定されました" in t for t in unpledged)
    assert not any("秘密" in t for t in unpledged)  # the title is council content: no pledge, no title


def test_assignee_is_told_and_leaving_hides_the_notices(db: Session, factory: Factory, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    service.create_action_item(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                               title="試験計画の提出", assignee_id=cast.company.user.id,
                               due_at=clock.now() + timedelta(days=10))
    db.flush()
    assert any("試験計画の提出" in t for t in titles(db, cast.company.user.id))
    service.leave(db, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now())
    db.flush()
    assert titles(db, cast.company.user.id) == []
    assert notifications.unread_count(db, user_id=cast.company.user.id) == 0


def test_job_reminds_pending_founders(db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = propose(factory, db, clock, days=14)
    db.commit()
    before = len(titles(db, cast.company.user.id))
    clock.advance(days=12)  # close to the deadline: a reminder is due
    done = run_due(ctx)
    assert any(d.startswith("councils:due") for d in done), done
    assert len(titles(db, cast.company.user.id)) == before + 1
    assert any(t.startswith("【再送】") for t in titles(db, cast.company.user.id))


def test_action_reminder_stages() -> None:
    from datetime import UTC, datetime

    from banso.councils import rules

    due = datetime(2026, 5, 10, tzinfo=UTC)
    stage = rules.action_reminder_stage
    assert stage(due_at=due, now=due - timedelta(days=5), is_open=True, sent=None) is None
    assert stage(due_at=due, now=due - timedelta(days=1), is_open=True, sent=None) == "due_soon"
    assert stage(due_at=due, now=due - timedelta(hours=1), is_open=True, sent="due_soon") is None
    assert stage(due_at=due, now=due + timedelta(hours=1), is_open=True, sent="due_soon") == "overdue"
    assert stage(due_at=due, now=due + timedelta(days=3), is_open=True, sent="overdue") is None
    assert stage(due_at=due, now=due + timedelta(days=3), is_open=False, sent=None) is None


def test_job_reminds_assignees_once_per_stage(db: Session, factory: Factory, clock: FakeClock,
                                              ctx: AppContext) -> None:
    cast = establish(factory, db, clock)
    service.create_action_item(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                               title="安全審査資料の作成", assignee_id=cast.company.user.id,
                               due_at=clock.now() + timedelta(days=5))
    db.commit()

    def reminders() -> list[str]:
        return [t for t in titles(db, cast.company.user.id) if "期限" in t and "安全審査資料の作成" in t
                and ("近づいて" in t or "過ぎて" in t)]

    run_due(ctx)
    assert reminders() == []  # not yet due soon
    clock.advance(days=4)
    run_due(ctx)
    run_due(ctx)  # a second run in the same stage sends nothing more
    assert len(reminders()) == 1 and "近づいて" in reminders()[0]
    clock.advance(days=2)
    run_due(ctx)
    assert len(reminders()) == 2 and any("過ぎて" in t for t in reminders())
