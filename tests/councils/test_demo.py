"""The demo councils: every state and composition (issue 13), in Japanese, idempotent."""

from __future__ import annotations

from sqlalchemy.orm import Session

from banso.councils import repository as repo
from banso.councils import service
from banso.demo import seed
from banso.demo.councils import NAVIGATION, NAVIGATION_AGAIN, OCEAN, QUANTUM, SPACE, _who, seed_councils
from banso.kit.clock import FakeClock
from banso.kit.crypto import SecretBox
from banso.sealed import store as sealed


def test_demo_councils(db: Session, clock: FakeClock, box: SecretBox) -> None:
    seed.seed(db, box=box, now=clock.now())
    assert seed_councils(db, now=clock.now(), box=box, store=sealed.fake_deps()) == 4
    assert seed_councils(db, now=clock.now(), box=box, store=sealed.fake_deps()) == 0
    ocean, space, quantum = (repo.council_by_title(db, t) for t in (OCEAN, SPACE, QUANTUM))
    assert ocean is not None and space is not None and quantum is not None
    assert (ocean.state, space.state, quantum.state) == ("proposed", "active", "dissolved")
    assert len(repo.meetings(db, space.id)) == 3 and len(repo.decisions(db, space.id)) == 3
    # issue 13: one meeting recorded as held, with materials (one marked confidential) and minutes out for
    # confirmation; the first meeting's minutes were confirmed by its attendees before approval
    first, held = (mt for mt in repo.meetings(db, space.id) if mt.minutes_state != "none")
    assert first.minutes_state == "approved" and {c.answer for c in repo.confirmations(db, first.id)} == {"confirmed"}
    assert held.held and held.minutes_state == "circulated"
    assert sorted(mt.confidential for mt in repo.materials(db, held.id)) == [False, True]
    assert sorted(c.answer for c in repo.confirmations(db, held.id)) == ["commented", "pending", "pending"]
    assert len(repo.action_items(db, space.id, overdue_at=clock.now())) == 2
    assert space.bylaws_version == 2 and space.duty_version == 1
    # the chair reads everything; the researcher of the pending council sees only its public page
    chair = _who(db, "watanabe.shota@utokyo.example.jp")
    assert service.can_read_content(db, council_id=space.id, actor=chair)
    overdue = service.my_action_items(db, actor=chair, now=clock.now(), overdue_only=True)
    assert len(overdue) == 1
    pending = _who(db, "yamamoto.aya@tohoku.example.jp")
    page = service.get_council(db, council_id=ocean.id, actor=pending)
    assert page.standing.pending_consent and page.content_block == "council_not_operating"
    outsider = _who(db, "inoue.hiroshi@cao.example.jp")
    assert service.list_councils(db, actor=outsider) == []


def test_demo_project_councils_of_each_composition(db: Session, clock: FakeClock, box: SecretBox) -> None:
    """Issue 13: a project council with the think tank, one with a needs ministry, one lapsed and proposed again."""
    seed.seed(db, box=box, now=clock.now())
    seed_councils(db, now=clock.now(), box=box, store=sealed.fake_deps())
    by_title = {t: repo.council_by_title(db, t) for t in (SPACE, QUANTUM, NAVIGATION, NAVIGATION_AGAIN)}
    parties = {t: {mb.party for mb in repo.memberships(db, c.id)} for t, c in by_title.items() if c is not None}
    assert {"think_tank", "funding_agency", "research_representative", "organising_ministry"} <= parties[SPACE]
    assert "needs_ministry" in parties[QUANTUM]
    lapsed, again = by_title[NAVIGATION], by_title[NAVIGATION_AGAIN]
    assert lapsed is not None and again is not None and lapsed.project_ref == again.project_ref
    assert (lapsed.state, again.state) == ("lapsed", "established")
