"""Proposal and project access through the inherited access-test set (conflict-of-interest policy)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.programme import service
from tests.authz.access import AccessTestSet, Arranged
from tests.support.factories import Factory
from tests.support.programme import World, adopt, build_world, submit


def _world(factory: Factory, db: Session, clock: FakeClock) -> World:
    return build_world(db, factory, clock)


class TestProposalAccess(AccessTestSet):
    """A proposal: outsider = reviewer off the panel; "without pledge" = a panel reviewer who has not declared
    (no declaration, no access — the declaration plays the pledge's part); out of scope = a conflicted reviewer
    (and, in the subclass below, a reviewer from the proposer's organisation); in scope = a reviewer who
    declared no conflict."""

    def arrange(self, factory: Factory, db: Session, clock: FakeClock) -> Arranged:
        w = _world(factory, db, clock)
        p = submit(db, w, clock)
        clock.set(w.call.closes_at + timedelta(days=1))  # F6: reviewers read nothing before the close
        service.declare_conflict(db, proposal_id=p.id, has_conflict=True, reason="同一研究室出身", now=clock.now(),
                                 actor=w.reviewer_conflicted.principal())
        service.declare_conflict(db, proposal_id=p.id, has_conflict=False, now=clock.now(),
                                 actor=w.reviewer.principal())
        undeclared = factory.person(roles=("reviewer",))  # on the panel, has not declared yet
        service.add_panel_member(db, call_id=w.call.id, user_id=undeclared.user.id, now=clock.now(),
                                 actor=w.staff.principal())
        return Arranged(parts={"outsider": w.reviewer_off_panel, "member_without_pledge": undeclared,
                               "member_out_of_scope": w.reviewer_conflicted, "member_in_scope": w.reviewer},
                        values={"id": p.id, "w": w})

    def call(self, client: TestClient, headers: dict[str, str], arranged: Arranged) -> httpx.Response:
        return client.get(f"/api/v1/programme/proposals/{arranged.values['id']}", headers=headers)

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        body = response.json()
        assert body["id"] == arranged.values["id"] and len(body["budget"]) == 2


class TestProposalAccessSameOrganisation(TestProposalAccess):
    """Out of scope played by a panel reviewer from the proposer's organisation."""

    def arrange(self, factory: Factory, db: Session, clock: FakeClock) -> Arranged:
        arranged = super().arrange(factory, db, clock)
        arranged.parts["member_out_of_scope"] = arranged.values["w"].reviewer_same_org
        return arranged


class TestScoreAccess(TestProposalAccess):
    """Scoring follows the same policy: hidden proposals answer 404, the cleared reviewer scores."""

    def call(self, client: TestClient, headers: dict[str, str], arranged: Arranged) -> httpx.Response:
        return client.put(f"/api/v1/programme/proposals/{arranged.values['id']}/score", headers=headers,
                          json={"scores": {"significance": 4, "innovation": 4, "feasibility": 3,
                                           "implementation": 3}})

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        assert response.json()["total"] == 3.6


class TestProjectAccess(AccessTestSet):
    """A project: its team, the call's officer and the agency's staff; others 404."""

    expected = {**AccessTestSet.expected, "member_without_pledge": None}  # noqa: RUF012

    def arrange(self, factory: Factory, db: Session, clock: FakeClock) -> Arranged:
        w = _world(factory, db, clock)
        project = adopt(db, w, clock, submit(db, w, clock))
        return Arranged(parts={"outsider": w.other_researcher, "member_out_of_scope": w.nedo_staff,
                               "member_in_scope": w.colleague}, values={"id": project.id})

    def call(self, client: TestClient, headers: dict[str, str], arranged: Arranged) -> httpx.Response:
        return client.get(f"/api/v1/programme/projects/{arranged.values['id']}", headers=headers)

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        body = response.json()
        assert body["council_established"] is False and body["council_id"] is not None
