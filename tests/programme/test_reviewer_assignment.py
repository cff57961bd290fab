"""Review as agencies run it (F6, issue 15): reviewers assigned per proposal by the agency's staff, conflicts
declared with their grounds before anything is seen, scoring after the close, the panel view with scores and
comments side by side, and adoption/rejection notices (inbox and e-mail) with the reasons the agency gives.

The panel-wide rule is kept for a proposal nobody is assigned to (every panel reviewer declares and, when
clear, reviews); once a proposal has an assignment only its assigned reviewers review it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.notifications.models import Notification
from banso.programme import integrity, review, service
from banso.programme.models import Proposal
from banso.web.context import AppContext
from tests.support.factories import Factory, audit_count
from tests.support.http import bearer, sign_in
from tests.support.programme import World, submit

BASE = "/api/v1/programme"
SCORES = {"significance": 5, "innovation": 4, "feasibility": 4, "implementation": 3}


def _close(w: World, clock: FakeClock) -> None:
    clock.set(w.call.closes_at + timedelta(days=1))


def _visible_ids(db: Session, who: object, clock: FakeClock) -> set[int]:
    return {p.id for p in service.list_proposals(db, actor=who, now=clock.now())}  # type: ignore[arg-type]


def test_assigned_reviewer_alone_reviews_and_only_after_declaring_and_the_close(db: Session, world: World,
                                                                                clock: FakeClock) -> None:
    w = world
    proposal = submit(db, w, clock)
    assigned, panel = w.reviewer_off_panel.principal(), w.reviewer.principal()
    review.assign_reviewer(db, proposal_id=proposal.id, reviewer_id=w.reviewer_off_panel.user.id,
                           now=clock.now(), actor=w.staff.principal())
    # F6: the panel reviewer who is not assigned loses this proposal (queue, declaration, reading: 404).
    assert proposal.id not in {p.id for p in service.review_queue(db, actor=panel)}
    with pytest.raises(NotFound):
        service.declare_conflict(db, proposal_id=proposal.id, has_conflict=None, grounds=[], now=clock.now(),
                                 actor=panel)
    # The assigned reviewer (not on the panel) sees the title in the queue and declares before the close ...
    assert proposal.id in {p.id for p in service.review_queue(db, actor=assigned)}
    service.declare_conflict(db, proposal_id=proposal.id, has_conflict=None, grounds=[], now=clock.now(),
                             actor=assigned)
    # ... but reads nothing before the close.
    with pytest.raises(NotFound):
        service.get_proposal(db, proposal_id=proposal.id, actor=assigned, now=clock.now())
    assert proposal.id not in _visible_ids(db, assigned, clock)
    _close(w, clock)
    assert service.get_proposal(db, proposal_id=proposal.id, actor=assigned, now=clock.now()).proposal.id == proposal.id
    assert proposal.id in _visible_ids(db, assigned, clock)  # the SQL twin agrees
    assert proposal.id not in _visible_ids(db, panel, clock)
    with pytest.raises(NotFound):
        service.get_proposal(db, proposal_id=proposal.id, actor=panel, now=clock.now())
    service.score_proposal(db, proposal_id=proposal.id, scores=SCORES, comment="実現性が高い", now=clock.now(),
                           actor=assigned)
    assert audit_count(db, "programme:reviewer:assign") == 1


def test_panel_wide_rule_holds_for_a_proposal_nobody_is_assigned_to(db: Session, world: World,
                                                                    clock: FakeClock) -> None:
    w = world
    proposal = submit(db, w, clock)
    other = submit(db, w, clock, by=w.other_researcher)
    review.assign_reviewer(db, proposal_id=other.id, reviewer_id=w.reviewer_off_panel.user.id, now=clock.now(),
                           actor=w.staff.principal())
    service.declare_conflict(db, proposal_id=proposal.id, has_conflict=False, now=clock.now(),
                             actor=w.reviewer.principal())
    _close(w, clock)
    assert _visible_ids(db, w.reviewer.principal(), clock) == {proposal.id}
    assert _visible_ids(db, w.reviewer_off_panel.principal(), clock) == set()  # assigned, not declared yet


def test_conflict_grounds_are_recorded_and_hide_the_proposal(db: Session, world: World, clock: FakeClock) -> None:
    w = world
    proposal = submit(db, w, clock)
    who = w.reviewer_conflicted.principal()
    with pytest.raises(ValidationFailed) as unknown:
        service.declare_conflict(db, proposal_id=proposal.id, has_conflict=None, grounds=["friendship"],
                                 now=clock.now(), actor=who)
    assert "利益相反の事由" in str(unknown.value)
    with pytest.raises(ValidationFailed):  # "no conflict" with a ground ticked contradicts itself
        service.declare_conflict(db, proposal_id=proposal.id, has_conflict=False, grounds=["competitor"],
                                 now=clock.now(), actor=who)
    row = service.declare_conflict(db, proposal_id=proposal.id, has_conflict=None,
                                   grounds=["collaboration", "family_supervisor"], now=clock.now(), actor=who,
                                   reason="共著論文あり")
    assert row.has_conflict is True and row.grounds == ["collaboration", "family_supervisor"]
    with pytest.raises(Conflict):
        service.declare_conflict(db, proposal_id=proposal.id, has_conflict=False, now=clock.now(), actor=who)
    _close(w, clock)
    with pytest.raises(NotFound):
        service.get_proposal(db, proposal_id=proposal.id, actor=who, now=clock.now())


def test_assignment_refusals(db: Session, world: World, factory: Factory, clock: FakeClock) -> None:
    w = world
    proposal = submit(db, w, clock)
    staff = w.staff.principal()
    for person in (w.reviewer_same_org, w.colleague, w.other_researcher):  # same org / applicant / no reviewer role
        with pytest.raises(ValidationFailed):
            review.assign_reviewer(db, proposal_id=proposal.id, reviewer_id=person.user.id, now=clock.now(),
                                   actor=staff)
    with pytest.raises(NotFound):  # another agency's staff do not see the proposal at all
        review.assign_reviewer(db, proposal_id=proposal.id, reviewer_id=w.reviewer.user.id, now=clock.now(),
                               actor=w.nedo_staff.principal())
    with pytest.raises(Forbidden):  # the proposer sees it but does not assign
        review.assign_reviewer(db, proposal_id=proposal.id, reviewer_id=w.reviewer.user.id, now=clock.now(),
                               actor=w.lead.principal())
    review.assign_reviewer(db, proposal_id=proposal.id, reviewer_id=w.reviewer_off_panel.user.id, now=clock.now(),
                           actor=staff)
    review.unassign_reviewer(db, proposal_id=proposal.id, reviewer_id=w.reviewer_off_panel.user.id,
                             now=clock.now(), actor=staff)
    [told] = db.scalars(select(Notification).where(Notification.recipient_id == w.reviewer_off_panel.user.id,
                                                   Notification.kind == "programme.reviewer_assigned"))
    assert told.hidden is True  # unassigned: the notice goes with the assignment
    review.assign_reviewer(db, proposal_id=proposal.id, reviewer_id=w.reviewer.user.id, now=clock.now(), actor=staff)
    with pytest.raises(Conflict):
        review.assign_reviewer(db, proposal_id=proposal.id, reviewer_id=w.reviewer.user.id, now=clock.now(),
                               actor=staff)
    service.declare_conflict(db, proposal_id=proposal.id, has_conflict=False, now=clock.now(),
                             actor=w.reviewer.principal())
    _close(w, clock)
    service.score_proposal(db, proposal_id=proposal.id, scores=SCORES, now=clock.now(), actor=w.reviewer.principal())
    with pytest.raises(Conflict):  # a reviewer who scored stays on record
        review.unassign_reviewer(db, proposal_id=proposal.id, reviewer_id=w.reviewer.user.id, now=clock.now(),
                                 actor=staff)


def _scored(db: Session, w: World, clock: FakeClock) -> Proposal:
    proposal = submit(db, w, clock)
    for r in (w.reviewer, w.reviewer_off_panel):
        review.assign_reviewer(db, proposal_id=proposal.id, reviewer_id=r.user.id, now=clock.now(),
                               actor=w.staff.principal())
        service.declare_conflict(db, proposal_id=proposal.id, has_conflict=None, grounds=[], now=clock.now(),
                                 actor=r.principal())
    _close(w, clock)
    service.score_proposal(db, proposal_id=proposal.id, scores=SCORES, comment="意義が大きい", now=clock.now(),
                           actor=w.reviewer.principal())
    service.score_proposal(db, proposal_id=proposal.id, scores={k: 2 for k in SCORES}, comment="実現性に疑問",
                           now=clock.now(), actor=w.reviewer_off_panel.principal())
    db.commit()
    return proposal


def test_panel_view_shows_scores_and_comments_side_by_side_to_staff_only(client: TestClient, db: Session, w: World,
                                                                         clock: FakeClock) -> None:
    proposal = _scored(db, w, clock)
    r = client.get(f"{BASE}/calls/{w.call.id}/panel", headers=bearer(db, w.staff, clock))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["review_open"] is True
    row = next(x for x in body["rows"] if x["proposal_id"] == proposal.id)
    by_reviewer = {x["reviewer_id"]: x for x in row["reviewers"]}
    assert by_reviewer[w.reviewer.user.id]["comment"] == "意義が大きい"
    assert by_reviewer[w.reviewer_off_panel.user.id]["comment"] == "実現性に疑問"
    assert all(x["assigned"] and x["has_conflict"] is False and x["grounds"] == [] for x in row["reviewers"])
    assert row["mean_score"] is not None
    # Panel members not assigned to this proposal are not listed on it.
    assert w.reviewer_conflicted.user.id not in by_reviewer
    assert audit_count(db, "programme:panel:read") == 1
    for person in (w.reviewer, w.lead, w.nedo_staff):
        assert client.get(f"{BASE}/calls/{w.call.id}/panel", headers=bearer(db, person, clock)).status_code in (403,
                                                                                                                404)
    assert audit_count(db, "programme:panel:read") == 1


def _notices(db: Session, user_id: int) -> list[Notification]:
    db.expire_all()
    return list(db.scalars(select(Notification).where(Notification.recipient_id == user_id,
                                                      Notification.kind == "programme.proposal_decided")))


def test_adoption_and_rejection_notices_carry_only_the_reasons_given(client: TestClient, db: Session, w: World,
                                                                     clock: FakeClock) -> None:
    adopted = _scored(db, w, clock)
    clock.set(w.call.opens_at + timedelta(hours=1))
    rejected = submit(db, w, clock, by=w.other_researcher, team=[])
    service.declare_conflict(db, proposal_id=rejected.id, has_conflict=False, now=clock.now(),
                             actor=w.reviewer_conflicted.principal())
    db.commit()
    _close(w, clock)
    staff = bearer(db, w.staff, clock)
    r = client.post(f"{BASE}/proposals/{adopted.id}/decision", headers=staff,
                    json={"outcome": "adopt", "reason": "審査会内部メモ: 評点上位", "notice_reason": "独創性と実現可能性が高く評価されました"})
    assert r.status_code == 201, r.text
    assert r.json()["notice_reason"] == "独創性と実現可能性が高く評価されました"
    r = client.post(f"{BASE}/proposals/{rejected.id}/decision", headers=staff,
                    json={"outcome": "reject", "reason": "予算超過の懸念"})
    assert r.status_code == 201, r.text
    for person in (w.lead, w.colleague, w.partner):  # the proposer and the team with accounts
        [note] = _notices(db, person.user.id)
        assert "採択" in note.title_ja and "不採択" not in note.title_ja
        assert "独創性と実現可能性" in note.body_ja and "内部メモ" not in note.body_ja
        assert note.email_now is True and note.subject == f"proposal:{adopted.id}"
    [note] = _notices(db, w.other_researcher.user.id)
    assert "不採択" in note.title_ja and "not adopted" in note.title_en
    assert "予算超過" not in note.body_ja and "理由" not in note.body_ja  # no reasons chosen: none given
    for person in (w.reviewer, w.reviewer_off_panel, w.staff):
        assert _notices(db, person.user.id) == []
    assert audit_count(db, "programme:decision:notice") == 2
    # The panel's own reason stays with the staff; the applicants read the reasons given (F6).
    mine = client.get(f"{BASE}/proposals/{adopted.id}", headers=bearer(db, w.lead, clock)).json()["decision"]
    assert mine["reason"] == "" and mine["notice_reason"] == "独創性と実現可能性が高く評価されました"
    theirs = client.get(f"{BASE}/proposals/{adopted.id}", headers=staff).json()["decision"]
    assert theirs["reason"] == "審査会内部メモ: 評点上位"


# ---------------------------------------------------------------------------------------------
# Egress matrix rows for the new ways out (I12): who may know a proposal's panel view, integrity
# disclosures, duplication flags and decision notice. KNOW = 200 with the marker; HIDE = 404/403 and no marker.

MARK_COMMENT, MARK_DISCLOSURE = "QXPANELCOMMENT", "QXDISCLOSURE"


def _matrix_world(db: Session, w: World, clock: FakeClock) -> Proposal:
    w.lead.user.researcher_number = "11110001"
    proposal = service.submit_proposal(
        db, call_id=w.call.id, title="量子慣性航法による海中測位", budget={2026: 100_000_000}, lead_effort=90,
        team=[service.TeamMemberInput(user_id=w.colleague.user.id)], now=clock.now(), actor=w.lead.principal(),
        disclosures=[integrity.DisclosureLine(kind="funding_received", name=MARK_DISCLOSURE, agency="JSPS",
                                              effort_percent=30)])
    review.assign_reviewer(db, proposal_id=proposal.id, reviewer_id=w.reviewer.user.id, now=clock.now(),
                           actor=w.staff.principal())
    review.assign_reviewer(db, proposal_id=proposal.id, reviewer_id=w.reviewer_conflicted.user.id,
                           now=clock.now(), actor=w.staff.principal())
    service.declare_conflict(db, proposal_id=proposal.id, has_conflict=None, grounds=[], now=clock.now(),
                             actor=w.reviewer.principal())
    service.declare_conflict(db, proposal_id=proposal.id, has_conflict=None, grounds=["competitor"],
                             reason="競合する提案を出している", now=clock.now(), actor=w.reviewer_conflicted.principal())
    db.commit()
    return proposal


def test_egress_matrix_rows_for_panel_integrity_flags_and_notices(client: TestClient, db: Session, w: World,
                                                                  clock: FakeClock) -> None:
    proposal = _matrix_world(db, w, clock)
    principals = {"proposer": w.lead, "team_member": w.colleague, "other_applicant": w.other_researcher,
                  "staff": w.staff, "other_agency_staff": w.nedo_staff, "conflicted_reviewer": w.reviewer_conflicted,
                  "assigned_reviewer": w.reviewer, "unassigned_panel_reviewer": w.reviewer_same_org}
    paths = {"proposal": f"{BASE}/proposals/{proposal.id}", "integrity": f"{BASE}/proposals/{proposal.id}/integrity",
             "panel": f"{BASE}/calls/{w.call.id}/panel", "flags": f"{BASE}/duplication-flags"}
    may_know = {  # written from the rules (F6, I7), not from the code
        "before_close": {"proposal": {"proposer", "team_member", "staff"},
                         "integrity": {"proposer", "team_member", "staff"}, "panel": {"staff"}, "flags": {"staff"}},
        "after_close": {"proposal": {"proposer", "team_member", "staff", "assigned_reviewer"},
                        "integrity": {"proposer", "team_member", "staff"}, "panel": {"staff"}, "flags": {"staff"}},
    }
    markers = {"proposal": "量子慣性航法", "integrity": MARK_DISCLOSURE, "panel": MARK_COMMENT, "flags": "11110001"}
    for moment, table in may_know.items():
        if moment == "after_close":
            _close(w, clock)
            service.score_proposal(db, proposal_id=proposal.id, scores=SCORES, comment=MARK_COMMENT,
                                   now=clock.now(), actor=w.reviewer.principal())
            db.commit()
        for who, person in principals.items():
            headers = bearer(db, person, clock)
            for path_name, url in paths.items():
                r = client.get(url, headers=headers)
                cell = f"{moment}:{path_name}:{who}"
                if who in table[path_name]:
                    assert r.status_code == 200, cell
                    if path_name != "panel" or moment == "after_close":
                        assert markers[path_name] in r.text, cell
                else:
                    # a list answers 200 with nothing of this proposal in it (another agency's staff)
                    assert r.status_code in (403, 404) or (path_name == "flags" and r.json() == []), cell
                    assert markers[path_name] not in r.text, cell
    # The decision notice reaches the proposer and the team only and carries no comment or disclosure.
    service.decide(db, proposal_id=proposal.id, outcome="reject", reason="内部", notice_reason="総合評価による",
                   now=clock.now(), actor=w.staff.principal(), councils=w.councils)
    db.commit()
    for who, person in principals.items():
        notes = _notices(db, person.user.id)
        assert bool(notes) == (who in {"proposer", "team_member"}), who
        assert all(MARK_COMMENT not in n.body_ja + n.body_en and MARK_DISCLOSURE not in n.body_ja for n in notes)


# ---------------------------------------------------------------------------------------------
# Pages (Japanese first): the panel page with its assignment form, the review queue's grounds, the flags page,
# the integrity page and its change form.


def test_pages_for_staff_reviewers_and_applicants(client: TestClient, db: Session, w: World, ctx: AppContext,
                                                  clock: FakeClock) -> None:
    proposal = _matrix_world(db, w, clock)
    token = sign_in(client, db, w.staff, ctx)
    page = client.get(f"/programme/calls/{w.call.id}/review-panel")
    assert page.status_code == 200 and "審査会資料" in page.text and "量子慣性航法" in page.text
    done = client.post(f"/programme/proposals/{proposal.id}/reviewers", follow_redirects=False,
                       data={"csrf_token": token, "call_id": str(w.call.id), "reviewer_id": str(w.reviewer_same_org.user.id)})
    assert done.status_code == 422 and "審査委員の役割" in done.text  # same organisation: a form error, not a 500
    done = client.post(f"/programme/proposals/{proposal.id}/reviewers", follow_redirects=False,
                       data={"csrf_token": token, "call_id": str(w.call.id),
                             "reviewer_id": str(w.reviewer_off_panel.user.id)})
    assert done.status_code == 303, done.text
    flags = client.get("/programme/duplication")
    assert flags.status_code == 200 and "過度の集中" in flags.text and "11110001" in flags.text
    assert "重複" in client.get(f"/programme/calls/{w.call.id}").text  # the call page links both for staff
    # The assigned reviewer declares with grounds on the queue page.
    token = sign_in(client, db, w.reviewer_off_panel, ctx)
    queue = client.get("/programme/review")
    assert "共著・共同研究" in queue.text
    done = client.post(f"/programme/proposals/{proposal.id}/conflict", follow_redirects=False,
                       data={"csrf_token": token, "has_conflict": "yes", "grounds": ["collaboration"],
                             "reason": "共著あり"})
    assert done.status_code == 303, done.text
    db.expire_all()
    decl = service.declare_conflict  # (the declaration is final: a second one is refused)
    with pytest.raises(Conflict):
        decl(db, proposal_id=proposal.id, has_conflict=False, now=clock.now(), actor=w.reviewer_off_panel.principal())
    assert client.get("/programme/duplication").status_code == 403  # reviewers never see flags
    # The proposer reads the integrity page; the reviewer gets 404.
    assert client.get(f"/programme/proposals/{proposal.id}/integrity").status_code == 404
    sign_in(client, db, w.lead, ctx)
    page = client.get(f"/programme/proposals/{proposal.id}/integrity")
    assert page.status_code == 200 and MARK_DISCLOSURE in page.text and "誓約" in page.text
    assert "integrity-link" in client.get(f"/programme/proposals/{proposal.id}").text
