"""The SQL twins of the programme predicates select exactly what the pure predicates allow (I7).

Every combination of commissioning officer, commissioning organisation and institution over a small
cast is written to the database; for every person, the commission list (``restrict_commissions``)
must equal the commissions ``can_see_commission`` allows. The same for the panel candidates a call
page offers (``restrict_panel_candidates`` + ``is_panel_eligible`` against ``can_join_panel``).
"""

from __future__ import annotations

from datetime import date
from itertools import product

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts.models import User
from banso.authz.policies import programme as policy
from banso.kit.clock import FakeClock
from banso.programme import commissions as cm
from banso.programme import repository as repo
from banso.programme import service
from banso.programme.models import CapabilityAssessment, Commission, CommissionRosterEntry, PanelMember
from tests.support.factories import Factory, Person
from tests.support.programme import build_world


def test_the_commission_list_is_what_can_see_commission_allows(db: Session, factory: Factory,
                                                               clock: FakeClock) -> None:
    orgs = [factory.org(kind=k) for k in ("ministry", "ministry", "think_tank")]
    people: list[Person] = [factory.person(roles=roles, org=o) for o in orgs
                            for roles in (("officer",), ("analyst",), ("researcher", "officer"))]
    officers = [p for p in people if "officer" in p.user.roles]
    assessments = {o.id: CapabilityAssessment(organization_id=o.id, assessed_on=date(2026, 4, 1), analysis_score=3,
                                              hub_score=3, talent_score=3, assessor_id=officers[0].user.id,
                                              created_at=clock.now()) for o in orgs}
    db.add_all(assessments.values())
    db.flush()
    for n, (by, owner_org, institution) in enumerate(product(officers, orgs, orgs)):
        db.add(Commission(code=f"TW-{n}", title="t", organization_id=institution.id,
                          assessment_id=assessments[institution.id].id, commissioned_by_id=by.user.id,
                          commissioner_org_id=owner_org.id, confidentiality_terms="守秘", starts_on=date(2026, 4, 1),
                          due_on=date(2027, 3, 31), created_at=clock.now(), updated_at=clock.now()))
    db.flush()
    every = list(db.scalars(select(Commission).order_by(Commission.id.desc())))
    assert len(every) == len(officers) * len(orgs) ** 2
    # Art. 64 (issue 13): each person of the institution is, by turns, not named, named, named and acknowledged,
    # or acknowledged and removed; a row of another institution's person never counts.
    for n, (commission, person) in enumerate(product(every, people)):
        turn = n % 5
        if turn == 0:
            continue
        at = clock.now()
        db.add(CommissionRosterEntry(
            commission_id=commission.id, user_id=person.user.id, organization_id=person.user.organization_id,
            named_by_id=officers[0].user.id, named_at=at, acknowledged_at=at if turn in (2, 3, 4) else None,
            removed_at=at if turn == 3 else None))
    db.flush()
    for person in people:
        actor = person.principal()
        listed = [c.id for c in cm.list_commissions(db, actor=actor)]
        allowed = [c.id for c in every
                   if policy.can_see_commission(actor, policy.parties_of(c, cm.roster_of(db, c.id)))]
        assert listed == allowed, person.user.roles
        assert 0 < len(listed) < len(every)  # nobody sees none, nobody sees all: the grid has both sides


def test_the_panel_candidates_are_what_can_join_panel_allows(db: Session, factory: Factory,
                                                             clock: FakeClock) -> None:
    w = build_world(db, factory, clock)
    inactive = factory.person(roles=("reviewer",))
    inactive.user.is_active = False
    factory.person(roles=("reviewer", "researcher"))
    db.flush()
    on_panel = {m.user_id for m in db.scalars(select(PanelMember).where(PanelMember.call_id == w.call.id))}
    stmt = policy.restrict_panel_candidates(select(User).order_by(User.organization_id, User.id), w.call.id)
    offered = [u.id for u in accounts_repo.users(db, stmt) if policy.is_panel_eligible(roles=u.roles,
                                                                                       is_active=u.is_active)]
    allowed = [u.id for u in accounts_repo.list_users(db)
               if policy.can_join_panel(roles=u.roles, is_active=u.is_active, on_panel=u.id in on_panel)]
    assert offered == allowed and w.reviewer_off_panel.user.id in offered
    assert inactive.user.id not in offered and not on_panel & set(offered)
    # Whoever is offered is accepted by the service, and then no longer offered.
    service.add_panel_member(db, call_id=w.call.id, user_id=offered[0], now=clock.now(), actor=w.staff.principal())
    assert repo.panel_member(db, w.call.id, offered[0]) is not None
    assert offered[0] not in [u.id for u in accounts_repo.users(db, stmt)]
