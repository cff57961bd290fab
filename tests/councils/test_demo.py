"""The demo councils: every state and composition (issue 13), in Japanese, idempotent."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.councils import repository as repo
from banso.councils import rules, service
from banso.councils.membership import PartyType
from banso.councils.models import Council, OralStatement
from banso.demo import seed
from banso.demo.councils import (
    DESIGNATED_STATEMENT,
    NAVIGATION,
    NAVIGATION_AGAIN,
    OCEAN,
    QUANTUM,
    SPACE,
    _who,
    seed_councils,
)
from banso.demo.information import seed_exclusions, seed_information
from banso.demo.programme import seed_programme
from banso.information.deps import over_sealed
from banso.information.models import ExclusionClaim
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
    assert "observer" in parties[NAVIGATION_AGAIN]  # issue 13: an observer joined by invitation


def test_demo_covers_every_party_type_and_the_council_opened_at_adoption(db: Session, clock: FakeClock,
                                                                          box: SecretBox) -> None:
    """Issue 13: across the demo's project councils every party type of the Act appears, and the council opened
    when a project is adopted proposes the funding agency, the organising ministry and the think tank."""
    seed.seed(db, box=box, now=clock.now())
    seed_councils(db, now=clock.now(), box=box, store=sealed.fake_deps())
    seed_programme(db, now=clock.now())
    every = db.scalars(select(Council).where(Council.project_ref.is_not(None))).all()
    parties = {c.title_ja: {mb.party for mb in repo.memberships(db, c.id)} for c in every}
    assert set().union(*parties.values()) == {p.value for p in PartyType}
    opened = [p for t, p in parties.items() if t not in (OCEAN, SPACE, QUANTUM, NAVIGATION, NAVIGATION_AGAIN)]
    assert any({"funding_agency", "organising_ministry", "think_tank", "research_representative"} <= p
               for p in opened), parties


def test_demo_oral_statements_and_exclusion_claims(db: Session, clock: FakeClock, box: SecretBox) -> None:
    """Issue 13: the demo shows an oral statement designated in writing and one whose period ended (outside the duty),
    and two exclusion claims: one accepted (on an item, for the claimant only) and one pending (on the statement)."""
    store = sealed.fake_deps()
    seed.seed(db, box=box, now=clock.now())
    seed_councils(db, now=clock.now(), box=box, store=store)
    seed_information(db, over_sealed(store), now=clock.now())
    assert seed_exclusions(db, now=clock.now(), store=store) == 2
    assert seed_exclusions(db, now=clock.now(), store=store) == 0  # idempotent
    space = repo.council_by_title(db, SPACE)
    assert space is not None
    said = db.scalars(select(OralStatement).where(OralStatement.council_id == space.id)).all()
    states = {rules.statement_state(stated_confidential=s.stated_confidential, designated_at=s.designated_at,
                                    deadline=s.designation_deadline, now=clock.now()) for s in said}
    assert states == {rules.StatementState.DESIGNATED, rules.StatementState.OUTSIDE}
    designated = next(s for s in said if s.summary_sha256 == rules.sha256_text(DESIGNATED_STATEMENT))
    claims = db.scalars(select(ExclusionClaim).where(ExclusionClaim.council_id == space.id)).all()
    assert sorted((c.state, c.item_id is not None, c.statement_id) for c in claims) == [
        ("accepted", True, None), ("filed", False, designated.id)]
