"""Service flow: call → proposal → review → adoption → council proposed → disbursement refused →
council established → disbursement accepted (C2), on the migrated database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.councils import repository as councils_repo
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.programme import repository as repo
from banso.programme import service
from banso.programme.models import Proposal
from tests.support.programme import BN, World, adopt, establish_council, fund, submit


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_end_to_end_disbursement_waits_for_the_council(db: Session, world: World, clock: FakeClock) -> None:
    w = world
    fund(db, w, clock)
    proposal = submit(db, w, clock)
    project = adopt(db, w, clock, proposal)
    assert proposal.state == "adopted"
    # C2: adoption opened the council proposal with the project's researchers as required founders
    council = councils_repo.council_by_id(db, project.council_id or 0)
    assert council is not None and council.state == "proposed"
    assert council.project_ref == f"programme:project:{project.id}"
    assert set(council.required_person_ids) == {w.lead.user.id, w.colleague.user.id, w.partner.user.id}
    assert council.proposer_id == w.officer.user.id
    service.commit_funds(db, project_id=project.id, fiscal_year=2026, amount=300_000_000, now=clock.now(),
                         actor=w.staff.principal())
    with pytest.raises(Conflict, match="council") as refused:
        service.disburse(db, project_id=project.id, amount=100_000_000, now=clock.now(), actor=w.staff.principal(),
                         councils=w.councils)
    from banso.audit.service import was_audited

    assert was_audited(refused.value)  # A1: the refusal is in the log (the caller commits it)
    assert db.scalar(select(AuditEntry.subject).where(
        AuditEntry.tag == "programme:ledger:disbursement_refused")) == f"project:{project.id}"
    establish_council(db, w, clock, project)
    assert w.councils.is_established(db, project.council_id or 0)
    tx = service.disburse(db, project_id=project.id, amount=100_000_000, now=clock.now(),
                          actor=w.staff.principal(), councils=w.councils)
    assert tx.kind == "disbursement" and tx.fiscal_year == 2026
    view = service.get_project(db, project_id=project.id, actor=w.lead.principal(), councils=w.councils)
    assert (view.committed, view.disbursed, view.council_established) == (200_000_000, 100_000_000, True)
    report = service.reconcile(db, actor=None)
    assert report.ok
    jst = next(a for a in report.agencies if a.agency == "JST")
    assert (jst.received, jst.available, jst.committed, jst.disbursed) == (10 * BN, 10 * BN - 300_000_000,
                                                                           200_000_000, 100_000_000)
    tags = set(db.scalars(select(AuditEntry.tag).where(AuditEntry.tag.like("programme:%"))))
    assert {"programme:proposal:submit", "programme:decision:record", "programme:project:create",
            "programme:project:council_open", "programme:ledger:disbursement"} <= tags


def test_bad_proposals_are_refused_and_change_nothing(db: Session, world: World, clock: FakeClock) -> None:
    w = world
    before = _count(db, Proposal)
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        ({"budget": {2026: -5}}, ValidationFailed, "negative"),
        ({"budget": {2026: 1.5}}, ValidationFailed, "whole yen"),
        ({"budget": {2026: "$100"}}, ValidationFailed, "not an amount of yen"),
        ({"budget": {2026: "100 USD"}}, ValidationFailed, "not an amount of yen"),
        ({"budget": {2025: 100}}, ValidationFailed, "outside the call period"),
        ({"budget": {2029: 100}}, ValidationFailed, "outside the call period"),
        ({"budget": {2026: 2 * BN, 2027: 2 * BN}}, ValidationFailed, "cap"),
        ({"budget": {2026: BN}}, ValidationFailed, "core technologies"),
        ({"budget": {2026: BN}, "core_technologies": "量子慣性センサ"}, ValidationFailed, "leak-prevention"),
    ]
    for kwargs, exc, message in cases:
        with pytest.raises(exc, match=message):
            submit(db, w, clock, **kwargs)  # type: ignore[arg-type]
    assert _count(db, Proposal) == before


def test_declaration_at_one_billion_and_duplicates_and_late(db: Session, world: World, clock: FakeClock) -> None:
    w = world
    p = submit(db, w, clock, budget={"FY2026": "¥1,000,000,000", 2027: "500,000,000円"},
               core_technologies="量子慣性センサの製造技術", leak_prevention="アクセス管理と輸出管理")
    assert p.total_yen == 1_500_000_000 and p.core_technologies
    with pytest.raises(Conflict, match="already submitted"):
        submit(db, w, clock)
    service.withdraw_proposal(db, proposal_id=p.id, now=clock.now(), actor=w.lead.principal())
    again = submit(db, w, clock)  # allowed after withdrawal
    assert again.id != p.id
    clock.set(w.call.closes_at + timedelta(seconds=1))
    with pytest.raises(Conflict, match="late"):
        submit(db, w, clock, by=w.other_researcher, team=[])


def test_call_input_errors(db: Session, world: World, clock: FakeClock) -> None:
    w = world
    base: dict[str, object] = {
        "agency_code": "JST", "code": "K-X", "title_ja": "x", "title_en": "x", "project_type": "project",
        "technology_codes": ["V1-OC-02"], "cap_yen": BN, "first_fiscal_year": 2026, "period_years": 3,
        "opens_at": clock.now(), "closes_at": clock.now() + timedelta(days=1), "officer_id": w.officer.user.id,
        "now": clock.now(), "actor": w.staff.principal()}
    for change, message in [({"project_type": "big"}, "project_type"), ({"technology_codes": ["NOPE"]}, "unknown"),
                            ({"cap_yen": -1}, "negative"), ({"cap_yen": 10.0}, "whole yen"),
                            ({"closes_at": clock.now()}, "after opens_at"), ({"officer_id": w.lead.user.id}, "officer"),
                            ({"code": "K-2026-OC-02"}, "already exists")]:
        with pytest.raises((ValidationFailed, Conflict), match=message):
            service.create_call(db, **{**base, **change})  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        service.create_call(db, **{**base, "actor": w.nedo_staff.principal()})  # type: ignore[arg-type]


def test_conflict_of_interest_hides_the_proposal(db: Session, world: World, clock: FakeClock) -> None:
    w = world
    p = submit(db, w, clock)
    # not declared yet: hidden, but in the review queue (title and organisation only)
    with pytest.raises(NotFound):
        service.get_proposal(db, proposal_id=p.id, actor=w.reviewer.principal(), now=clock.now())
    assert [q.id for q in service.review_queue(db, actor=w.reviewer.principal())] == [p.id]
    # same organisation as the proposer: not even in the queue, cannot declare, cannot score
    assert service.review_queue(db, actor=w.reviewer_same_org.principal()) == []
    with pytest.raises(NotFound):
        service.declare_conflict(db, proposal_id=p.id, has_conflict=False, now=clock.now(),
                                 actor=w.reviewer_same_org.principal())
    scores = {"significance": 5, "innovation": 5, "feasibility": 5, "implementation": 5}
    with pytest.raises(NotFound):
        service.score_proposal(db, proposal_id=p.id, scores=scores, now=clock.now(),
                               actor=w.reviewer_same_org.principal())
    # conflicted: hidden for good
    with pytest.raises(ValidationFailed, match="reason"):
        service.declare_conflict(db, proposal_id=p.id, has_conflict=True, now=clock.now(),
                                 actor=w.reviewer_conflicted.principal())
    service.declare_conflict(db, proposal_id=p.id, has_conflict=True, reason="共同研究者", now=clock.now(),
                             actor=w.reviewer_conflicted.principal())
    with pytest.raises(Conflict):
        service.declare_conflict(db, proposal_id=p.id, has_conflict=False, now=clock.now(),
                                 actor=w.reviewer_conflicted.principal())
    with pytest.raises(NotFound):
        service.score_proposal(db, proposal_id=p.id, scores=scores, now=clock.now(),
                               actor=w.reviewer_conflicted.principal())
    assert service.list_proposals(db, actor=w.reviewer_conflicted.principal(), now=clock.now()) == []
    # off the panel: nothing
    assert service.review_queue(db, actor=w.reviewer_off_panel.principal()) == []
    # cleared reviewer sees and scores, once the call has closed (F6)
    service.declare_conflict(db, proposal_id=p.id, has_conflict=False, now=clock.now(), actor=w.reviewer.principal())
    clock.set(w.call.closes_at + timedelta(seconds=1))
    view = service.get_proposal(db, proposal_id=p.id, actor=w.reviewer.principal(), now=clock.now())
    assert view.proposal.id == p.id
    with pytest.raises(ValidationFailed, match="1–5"):
        service.score_proposal(db, proposal_id=p.id, scores={**scores, "innovation": 6}, now=clock.now(),
                               actor=w.reviewer.principal())
    row = service.score_proposal(db, proposal_id=p.id, scores=scores, now=clock.now(), actor=w.reviewer.principal())
    assert row.total == 5.0
    assert [x.id for x in service.list_proposals(db, actor=w.reviewer.principal(), now=clock.now())] == [p.id]
    # other agency's staff do not see it
    assert service.list_proposals(db, actor=w.nedo_staff.principal(), now=clock.now()) == []


def test_decisions_wait_for_the_close_and_need_scores(db: Session, world: World, clock: FakeClock) -> None:
    w = world
    p = submit(db, w, clock)
    with pytest.raises(Conflict, match="after the call closes"):
        service.decide(db, proposal_id=p.id, outcome="adopt", reason="x", now=clock.now(), actor=w.staff.principal(),
                       councils=w.councils)
    clock.set(w.call.closes_at + timedelta(days=1))
    with pytest.raises(Conflict, match="score"):
        service.decide(db, proposal_id=p.id, outcome="adopt", reason="x", now=clock.now(), actor=w.staff.principal(),
                       councils=w.councils)
    with pytest.raises(Forbidden):
        service.decide(db, proposal_id=p.id, outcome="reject", reason="x", now=clock.now(),
                       actor=w.lead.principal(), councils=w.councils)
    service.decide(db, proposal_id=p.id, outcome="reject", reason="予算超過", now=clock.now(),
                   actor=w.staff.principal(), councils=w.councils)
    assert p.state == "rejected" and repo.project_of_proposal(db, p.id) is None


def test_ledger_refusals_change_nothing(db: Session, world: World, clock: FakeClock) -> None:
    w = world
    fund(db, w, clock, amount=500_000_000)
    project = adopt(db, w, clock, submit(db, w, clock))
    before = service.reconcile(db, actor=None)
    for amount, message in [(-1, "negative"), (0, "more than"), (1.0, "whole yen"), ("12.5", "not an amount"),
                            ("€10", "not an amount"), (True, "not an amount")]:
        with pytest.raises(ValidationFailed, match=message):
            service.add_tranche(db, agency_code="JST", fiscal_year=2026, amount=amount, now=clock.now(),
                                actor=w.staff.principal())
    from datetime import date

    with pytest.raises(ValidationFailed, match="outside FY2026"):
        service.add_tranche(db, agency_code="JST", fiscal_year=2026, amount=1, value_date=date(2027, 4, 1),
                            now=clock.now(), actor=w.staff.principal())
    with pytest.raises(Conflict, match="above the plan"):
        service.commit_funds(db, project_id=project.id, fiscal_year=2026, amount=300_000_001, now=clock.now(),
                             actor=w.staff.principal())
    with pytest.raises(ValidationFailed, match="not in the project's budget plan"):
        service.commit_funds(db, project_id=project.id, fiscal_year=2030, amount=1, now=clock.now(),
                             actor=w.staff.principal())
    service.commit_funds(db, project_id=project.id, fiscal_year=2026, amount=300_000_000, now=clock.now(),
                         actor=w.staff.principal())
    with pytest.raises(Conflict, match="insufficient available"):  # 200m left, 400m asked
        service.commit_funds(db, project_id=project.id, fiscal_year=2027, amount=400_000_000, now=clock.now(),
                             actor=w.staff.principal())
    establish_council(db, w, clock, project)
    with pytest.raises(Conflict, match="insufficient committed"):
        service.disburse(db, project_id=project.id, amount=300_000_001, now=clock.now(), actor=w.staff.principal(),
                         councils=w.councils)
    with pytest.raises(Forbidden):  # the team sees the project but may not pay itself
        service.disburse(db, project_id=project.id, amount=1, now=clock.now(), actor=w.lead.principal(),
                         councils=w.councils)
    with pytest.raises(NotFound):  # another agency's staff may not know the project
        service.disburse(db, project_id=project.id, amount=1, now=clock.now(), actor=w.nedo_staff.principal(),
                         councils=w.councils)
    with pytest.raises(NotFound):
        service.disburse(db, project_id=project.id, amount=1, now=clock.now(), actor=w.other_researcher.principal(),
                         councils=w.councils)
    service.disburse(db, project_id=project.id, amount=300_000_000, now=clock.now(), actor=w.staff.principal(),
                     councils=w.councils)
    with pytest.raises(Conflict, match="insufficient disbursed"):
        service.record_return(db, project_id=project.id, amount=300_000_001, now=clock.now(),
                              actor=w.staff.principal())
    service.record_return(db, project_id=project.id, amount=50_000_000, now=clock.now(), actor=w.staff.principal())
    after = service.reconcile(db, actor=None)
    assert after.ok and before.ok
    # refusals rolled back their savepoint (transaction row and audit entry): the log still verifies (A3)
    from banso.audit import service as audit
    from banso.audit.export import checkpoint_records, iter_entry_records
    from banso.audit.verify import verify_log

    db.flush()
    size = audit.tree_size(db)
    assert verify_log(iter_entry_records(db, upto=size), checkpoint_records(db), None, expected_size=size).ok
    jst = next(a for a in after.agencies if a.agency == "JST")
    assert (jst.available, jst.committed, jst.disbursed) == (250_000_000, 0, 250_000_000)


def test_milestones_and_declaration_reviews(db: Session, world: World, clock: FakeClock) -> None:
    from datetime import date

    w = world
    project = adopt(db, w, clock, submit(db, w, clock, budget={2026: BN}, core_technologies="c",
                                         leak_prevention="l"))
    assert project.declaration_required and project.declaration_review_due is not None
    with pytest.raises(ValidationFailed, match="outside the project period"):
        service.add_milestone(db, project_id=project.id, title="x", due_on=date(2028, 1, 1), now=clock.now(),
                              actor=w.staff.principal())
    m = service.add_milestone(db, project_id=project.id, title="原理実証", due_on=date(2027, 3, 31), now=clock.now(),
                              actor=w.staff.principal())
    service.set_milestone_status(db, project_id=project.id, milestone_id=m.id, status="achieved", now=clock.now(),
                                 actor=w.staff.principal())
    assert m.status == "achieved" and m.achieved_at is not None
    review = service.review_declaration(db, project_id=project.id, outcome="adequate", note="適切", now=clock.now(),
                                        actor=w.staff.principal())
    assert project.declaration_review_due == review.next_due > clock.now().date()
    with pytest.raises(Forbidden):
        service.add_milestone(db, project_id=project.id, title="x", due_on=date(2026, 6, 1), now=clock.now(),
                              actor=w.lead.principal())
