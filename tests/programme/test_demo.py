"""The demo programme seed: creates calls, ledgers and proposals once, and never twice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from banso.accounts.models import User
from banso.demo import seed
from banso.demo.programme import seed_programme
from banso.kit.clock import FakeClock
from banso.kit.crypto import SecretBox
from banso.programme import repository as repo
from banso.programme import service
from banso.web.context import AppContext


def test_seed_programme_is_idempotent(db: Session, clock: FakeClock, box: SecretBox) -> None:
    seed.seed(db, box=box, now=clock.now())
    assert seed_programme(db, now=clock.now()) is True
    assert seed_programme(db, now=clock.now()) is False
    assert {a.code for a in repo.agencies(db)} == {"JST", "NEDO"}
    assert len(repo.calls(db)) == 3  # two open calls and the closed, reviewed one (F6)
    report = service.reconcile(db, actor=None)
    assert report.ok and sum(a.received for a in report.agencies) == 500_000_000_000


def test_demo_reviewer_sits_on_every_seeded_panel_and_may_declare(db: Session, clock: FakeClock,
                                                                   box: SecretBox) -> None:
    from banso.accounts import repository as accounts_repo
    from banso.accounts import service as accounts
    from banso.authz.principal import AuthMethod
    from banso.demo.programme import REVIEWER_EMAIL

    seed.seed(db, box=box, now=clock.now())
    seed_programme(db, now=clock.now())
    reviewer = accounts_repo.user_by_email(db, REVIEWER_EMAIL)
    assert reviewer is not None and "reviewer" in reviewer.roles
    for call in repo.calls(db):
        assert {p.user_id for p in repo.panel(db, call.id)} == {reviewer.id}
    who = accounts.principal_for(reviewer, method=AuthMethod.SESSION, mfa=True)
    queue = service.review_queue(db, actor=who)
    assert len(queue) == 4  # two open proposals, two reviewed ones; none from the reviewer's university


def test_demo_commissions_the_think_tank(db: Session, clock: FakeClock, box: SecretBox) -> None:
    from banso.accounts import repository as accounts_repo
    from banso.accounts import service as accounts
    from banso.authz.principal import AuthMethod
    from banso.programme import commissions

    seed.seed(db, box=box, now=clock.now())
    seed_programme(db, now=clock.now())
    seed_programme(db, now=clock.now())
    analyst = accounts_repo.user_by_email(db, "kobayashi.mari@estt.example.or.jp")
    assert analyst is not None
    who = accounts.principal_for(analyst, method=AuthMethod.SESSION, mfa=True)
    [commission] = commissions.list_commissions(db, actor=who)
    view = commissions.get_commission(db, commission_id=commission.id, actor=who)
    assert view.contractor and len(view.tasks) == 2 and view.assessment is not None


def test_demo_has_an_adopted_project_with_an_overdue_report(db: Session, clock: FakeClock, box: SecretBox) -> None:
    from banso.accounts import repository as accounts_repo
    from banso.accounts import service as accounts
    from banso.authz.principal import AuthMethod
    from banso.demo.projects import PROJECT_TITLE, seed_adopted_project
    from banso.programme import reporting

    seed.seed(db, box=box, now=clock.now())
    seed_programme(db, now=clock.now())
    assert seed_adopted_project(db, now=clock.now()) is True
    assert seed_adopted_project(db, now=clock.now()) is False
    staff = accounts_repo.user_by_email(db, "tanaka.yuki@jst.example.jp")
    assert staff is not None
    who = accounts.principal_for(staff, method=AuthMethod.SESSION, mfa=True)
    rows = reporting.agency_status(db, actor=who, now=clock.now())
    assert [r.project.title for r in rows if r.overdue] == [PROJECT_TITLE]  # the year of adoption's report
    mine = [r for r in rows if r.project.title == PROJECT_TITLE]
    assert len(mine) == 3 and [r.overdue for r in mine] == [True, False, False]  # then the next annual, the final
    project = mine[0].project
    from banso.councils.models import Council

    council = db.get(Council, project.council_id)
    assert council is not None and council.state == "established"  # C1: its founders consented
    assert reporting.project_reports(db, project_id=project.id, actor=who, now=clock.now()).may_decide


def test_demo_walks_a_full_review_cycle_with_one_duplication_flag(db: Session, clock: FakeClock,
                                                                  box: SecretBox) -> None:
    from sqlalchemy import select

    from banso.accounts import repository as accounts_repo
    from banso.accounts import service as accounts
    from banso.authz.principal import AuthMethod
    from banso.notifications.models import Notification
    from banso.programme import review

    seed.seed(db, box=box, now=clock.now())
    seed_programme(db, now=clock.now())
    staff = accounts_repo.user_by_email(db, "tanaka.yuki@jst.example.jp")
    assert staff is not None
    who = accounts.principal_for(staff, method=AuthMethod.SESSION, mfa=True)
    call = repo.call_by_code(db, "DEMO-JST-CY-01")
    assert call is not None
    panel = review.panel_view(db, call_id=call.id, actor=who, now=clock.now())
    assert sorted(r.proposal.state for r in panel.rows) == ["adopted", "rejected"]
    assert all(r.reviewers and r.reviewers[0].assigned and r.reviewers[0].score for r in panel.rows)
    [flag] = review.duplication_flags(db, actor=who, now=clock.now())
    assert (flag.kind, flag.researcher_number, flag.score) == ("effort", "10234567", 110.0)
    kinds = set(db.scalars(select(Notification.kind)))
    assert {"programme.proposal_decided", "programme.reviewer_assigned"} <= kinds


def test_demo_follows_the_adopted_project_with_plan_changes_and_export_control(
        db: Session, clock: FakeClock, box: SecretBox, ctx: AppContext) -> None:
    """Issue 15: a sealed research plan on an open proposal, one approved and one pending plan change, a 該当 item
    in the project council and the foreign-affiliated newcomer's deemed-export check pending (F7)."""
    from sqlalchemy import select

    from banso.councils.models import ExportClearance
    from banso.demo.followups import CLASSIFIED_TITLE, FOREIGN_EMAIL, PLAN_PROPOSAL_TITLE, seed_followups
    from banso.demo.projects import PROJECT_TITLE, seed_adopted_project
    from banso.information.deps import information_deps
    from banso.information.models import ExportClassification, Item
    from banso.programme.models import PlanDocument, Proposal
    from banso.sealed.store import sealed_deps

    seed.seed(db, box=box, now=clock.now())
    seed_programme(db, now=clock.now())
    seed_adopted_project(db, now=clock.now())
    store, deps = sealed_deps(ctx), information_deps(ctx)
    assert seed_followups(db, now=clock.now(), store=store, deps=deps) is True
    assert seed_followups(db, now=clock.now(), store=store, deps=deps) is False
    [document] = db.scalars(select(PlanDocument).join(Proposal, Proposal.id == PlanDocument.proposal_id)
                            .where(Proposal.title == PLAN_PROPOSAL_TITLE))
    assert document.kind == "research_plan" and document.blob  # sealed (I11)
    proposal = db.scalar(select(Proposal).where(Proposal.title == PROJECT_TITLE))
    assert proposal is not None
    project = repo.project_of_proposal(db, proposal.id)
    assert project is not None
    assert sorted(c.state for c in repo.plan_changes(db, project.id)) == ["approved", "requested"]
    item = db.scalar(select(Item).where(Item.title == CLASSIFIED_TITLE))
    assert item is not None and item.council_id == project.council_id and item.export_control == "applicable"
    assert db.scalar(select(ExportClassification.list_item).where(ExportClassification.item_id == item.id))
    foreign = db.scalar(select(User).where(User.email == FOREIGN_EMAIL))
    assert foreign is not None and foreign.foreign_affiliation
    [check] = db.scalars(select(ExportClearance).where(ExportClearance.user_id == foreign.id))
    assert (check.council_id, check.state, check.trigger) == (project.council_id, "pending", "join")
