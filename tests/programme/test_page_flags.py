"""Every K Program page offers exactly the actions its page model allows (issue 12: thin views).

For several personas each page is rendered through the app and the controls it shows are compared
with the capability flags (``may_*``) of the page model ``banso.programme.pages`` returns for the
same person at the same moment. A view or template that decided a flag on its own, differently,
fails here. A page the model refuses (``NotFound``) must answer 404. Each flag is seen both set and
unset across the personas, so no comparison is vacuous.

The programme API exposes no capability flags; its permissions are the services' own decisions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.kit.clock import FakeClock
from banso.kit.errors import NotFound
from banso.programme import commissions as cm
from banso.programme import pages, roster, service
from banso.programme.models import Call, Commission, Project, Proposal
from banso.web.context import AppContext
from tests.support.factories import Factory, Person
from tests.support.http import sign_in
from tests.support.programme import Scene, World, adopt, build_world, fund, submit

PERSONAS = ("staff", "nedo_staff", "officer", "lead", "colleague", "partner", "other_researcher", "reviewer",
            "reviewer_same_org", "reviewer_conflicted", "reviewer_off_panel")

Markers = dict[str, tuple[str, ...]]  # flag -> the HTML that shows its control


@dataclass
class Stage:
    """A world with an adopted proposal (and its project), a submitted one, a draft call and an open one."""

    w: World
    adopted: Proposal
    submitted: Proposal
    project: Project
    draft: Call
    open: Call


@pytest.fixture
def stage(db: Session, factory: Factory, clock: FakeClock) -> Stage:
    """Return the committed stage."""
    w = build_world(db, factory, clock)
    fund(db, w, clock)
    adopted = submit(db, w, clock)
    submitted = submit(db, w, clock, by=w.other_researcher, team=[])
    service.declare_conflict(db, proposal_id=adopted.id, has_conflict=True, reason="共同研究者",
                             now=clock.now(), actor=w.reviewer_conflicted.principal())
    service.declare_conflict(db, proposal_id=submitted.id, has_conflict=False, now=clock.now(),
                             actor=w.reviewer.principal())
    draft = _call(db, w, clock, "K-DRAFT-01", opens_in=timedelta(days=40))
    project = adopt(db, w, clock, adopted)  # moves the clock past the first call's close
    open_call = _call(db, w, clock, "K-OPEN-01", opens_in=-timedelta(days=1))
    service.publish_call(db, call_id=open_call.id, now=clock.now(), actor=w.staff.principal())
    db.commit()
    return Stage(w=w, adopted=adopted, submitted=submitted, project=project, draft=draft, open=open_call)


def _call(db: Session, w: World, clock: FakeClock, code: str, *, opens_in: timedelta) -> Call:
    """Create a draft call of JST whose window opens ``opens_in`` from now and lasts 30 days."""
    opens = clock.now() + opens_in
    return service.create_call(
        db, agency_code="JST", code=code, title_ja="公募", title_en="Call", project_type="individual",
        technology_codes=["V1-OC-02"], cap_yen=500_000_000, first_fiscal_year=2027, period_years=2, opens_at=opens,
        closes_at=opens + timedelta(days=30), officer_id=w.officer.user.id, now=clock.now(),
        actor=w.staff.principal())


class Ledger:
    """Which values each flag took across the personas (so that no flag is compared only one way)."""

    def __init__(self) -> None:
        self.seen: dict[str, set[bool]] = defaultdict(set)

    def check(self, client: TestClient, db: Session, url: str, model: Callable[..., Any], markers: Markers,
              who: str, actor: Principal) -> Any:
        """Render ``url`` and compare its controls with the flags of ``model(actor=actor)``; return the model or None."""
        page = client.get(url)
        try:
            found = model(actor=actor)
        except NotFound:
            found = None
        finally:
            db.rollback()  # the model's audited reads stay out of the test's session
        if found is None:
            assert page.status_code == 404, (who, url, page.status_code)
            return None
        assert page.status_code == 200, (who, url, page.status_code)
        for flag, shown in markers.items():
            value = getattr(found, flag)
            self.seen[flag].add(bool(value))
            for marker in shown:
                assert (marker in page.text) == bool(value), (who, url, flag, marker, value)
        return found

    def both_ways(self, flags: list[str]) -> None:
        """Assert every flag was seen set for someone and unset for someone else."""
        for flag in flags:
            assert self.seen[flag] == {True, False}, (flag, self.seen[flag])


PROPOSAL: Markers = {"may_withdraw": ('id="withdraw-form"',), "may_score": ('id="score-form"',),
                     "may_read_scores": ('id="scores"',), "may_decide": ('id="decision-form"',)}
CALL: Markers = {"may_publish": ('id="publish-form"',), "may_manage_panel": ('id="panel"', 'id="panel-form"'),
                 "may_propose": ('id="propose"',)}
PROJECT: Markers = {"may_manage_money": ('id="commit-form"', 'id="disburse-form"'),
                    "may_manage_milestones": ('id="milestone-form"',)}


def test_programme_pages_show_exactly_the_flags_of_their_page_model(client: TestClient, db: Session,
                                                                    stage: Stage, ctx: AppContext,
                                                                    clock: FakeClock) -> None:
    w, ledger = stage.w, Ledger()
    for who in PERSONAS:
        person: Person = getattr(w, who)
        sign_in(client, db, person, ctx)
        actor = person.principal()
        ledger.check(client, db, "/programme", lambda actor: pages.overview(db, actor=actor, now=clock.now()),
                     {"may_record_tranche": ('id="tranche-form"',)}, who, actor)
        ledger.check(client, db, "/programme/calls", lambda actor: pages.calls(db, actor=actor, now=clock.now()),
                     {"may_create": ('id="new-call"',)}, who, actor)
        ledger.check(client, db, "/programme/guidelines", lambda actor: pages.guidelines(db, actor=actor),
                     {"may_adopt": ('id="adopt-link"',)}, who, actor)
        for call in (w.call, stage.draft, stage.open):
            ledger.check(client, db, f"/programme/calls/{call.id}",
                         partial(pages.call_page, db, call_id=call.id, now=clock.now()), CALL, who,
                         actor)
        for proposal in (stage.adopted, stage.submitted):
            ledger.check(client, db, f"/programme/proposals/{proposal.id}",
                         partial(pages.proposal_page, db, proposal_id=proposal.id, now=clock.now()),
                         PROPOSAL, who, actor)
        ledger.check(client, db, f"/programme/projects/{stage.project.id}",
                     lambda actor: pages.project_page(db, project_id=stage.project.id, actor=actor, councils=w.councils),
                     PROJECT, who, actor)
        queue = client.get("/programme/review")
        model = pages.review_queue(db, actor=actor, now=clock.now())
        assert queue.status_code == 200
        for item in model.items:
            declare = f'action="/programme/proposals/{item.id}/conflict"' in queue.text
            opens = f'<a href="/programme/proposals/{item.id}">' in queue.text
            assert declare == (item.id in model.may_declare), (who, item.id)
            assert opens == (item.id in model.may_open), (who, item.id)
            ledger.seen["may_declare"].add(item.id in model.may_declare)
            ledger.seen["may_open"].add(item.id in model.may_open)
    ledger.both_ways(["may_record_tranche", "may_create", "may_adopt", *CALL, *PROPOSAL, *PROJECT, "may_declare",
                      "may_open"])


def test_commission_pages_show_exactly_the_flags_of_their_page_model(client: TestClient, db: Session,
                                                                     factory: Factory, ctx: AppContext,
                                                                     clock: FakeClock) -> None:
    scene = Scene(db, factory, clock, ctx)
    # A second commission of the same institution, not acknowledged yet: the analyst, named as its contact
    # (Art. 64 roster), may acknowledge it.
    fresh: Commission = cm.create_commission(
        db, code="TT-PG-2", title="宇宙分野の調査", organization_id=scene.commission.organization_id,
        starts_on=date(2026, 4, 1), due_on=date(2027, 3, 31), tasks=[cm.TaskInput("報告書", date(2027, 3, 31))],
        now=clock.now(), actor=scene.officer.principal())
    roster.name_contact(db, commission_id=fresh.id, user_id=scene.analyst.user.id, now=clock.now(),
                        actor=scene.officer.principal())
    db.commit()
    ledger = Ledger()
    commission: Markers = {"may_acknowledge": ('id="acknowledge-form"',), "may_work": ('id="deliverable-form"',),
                           "may_close": ('id="complete-form"', 'id="cancel-form"'),
                           "may_file": (f'id="file-form-{scene.deliverable.id}"',)}
    people = {"officer": scene.officer, "analyst": scene.analyst, "outsider": scene.outsider,
              "researcher": scene.council.researcher}
    for who, person in people.items():
        sign_in(client, db, person, ctx)
        actor = person.principal()
        ledger.check(client, db, "/programme/commissions", lambda actor: pages.commissions_page(db, actor=actor),
                     {"may_assess": ('id="assess-form"',), "may_commission": ('id="commission-form"',)}, who, actor)
        for row in (scene.commission, fresh):
            ledger.check(client, db, f"/programme/commissions/{row.id}",
                         partial(pages.commission_page, db, commission_id=row.id, now=clock.now()),
                         commission, who, actor)
    ledger.both_ways(["may_assess", "may_commission", *commission])
