"""The programme world: the shipped registry, two agencies with ledgers, a published call with a panel,
and the steps from a proposal to a funded project with its council."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.councils import service as councils
from banso.kit.clock import FakeClock
from banso.programme import commissions as cm
from banso.programme import registry_io, service
from banso.programme.council_link import CouncilsServiceGateway
from banso.programme.endpoints import deliverable_store
from banso.programme.models import Agency, Call, Commission, Project, Proposal
from banso.web.context import AppContext
from tests.support.councils import Cast, establish
from tests.support.factories import Factory, Person

REGISTRY = Path(__file__).resolve().parents[2] / "src" / "banso" / "programme" / "data" / "registry.yaml"
BN = 1_000_000_000
@dataclass
class World:
    """The cast and the call."""

    jst: Agency
    nedo: Agency
    staff: Person  # JST programme staff
    nedo_staff: Person
    officer: Person  # ministry officer of the call
    lead: Person  # proposer (university A)
    colleague: Person  # team member (university A)
    partner: Person  # team member (company)
    other_researcher: Person  # another proposer (university B)
    reviewer: Person  # panel, unrelated organisation
    reviewer_same_org: Person  # panel, from university A
    reviewer_conflicted: Person  # panel, will declare a conflict
    reviewer_off_panel: Person
    call: Call
    councils: CouncilsServiceGateway


def load_registry(db: Session, clock: FakeClock) -> None:
    """Import the shipped registry file."""
    service.import_registry(db, data=registry_io.parse(REGISTRY.read_text("utf-8"), fmt="yaml"), now=clock.now(),
                            actor=None)


def build_world(db: Session, factory: Factory, clock: FakeClock) -> World:
    """Arrange registry, agencies, people and a published call with a panel (flushes, never commits)."""
    load_registry(db, clock)
    jst_org, nedo_org = factory.org(kind="funding_agency"), factory.org(kind="funding_agency")
    ministry = factory.org(kind="ministry")
    uni_a, uni_b, company = factory.org(), factory.org(), factory.org(kind="company")
    jst = service.create_agency(db, code="JST", name_ja="科学技術振興機構", name_en="JST", organization_id=jst_org.id,
                                now=clock.now(), actor=None)
    nedo = service.create_agency(db, code="NEDO", name_ja="新エネルギー・産業技術総合開発機構", name_en="NEDO",
                                 organization_id=nedo_org.id, now=clock.now(), actor=None)
    w = World(
        jst=jst, nedo=nedo,
        staff=factory.person(roles=("agency_staff",), org=jst_org),
        nedo_staff=factory.person(roles=("agency_staff",), org=nedo_org),
        officer=factory.person(roles=("officer",), org=ministry),
        lead=factory.person(roles=("researcher",), org=uni_a),
        colleague=factory.person(roles=("researcher",), org=uni_a),
        partner=factory.person(roles=("industry",), org=company),
        other_researcher=factory.person(roles=("researcher",), org=uni_b),
        reviewer=factory.person(roles=("reviewer",)),
        reviewer_same_org=factory.person(roles=("reviewer",), org=uni_a),
        reviewer_conflicted=factory.person(roles=("reviewer",)),
        reviewer_off_panel=factory.person(roles=("reviewer",)),
        call=None,  # type: ignore[arg-type]
        councils=CouncilsServiceGateway(),
    )
    now = clock.now()
    w.call = service.create_call(
        db, agency_code="JST", code="K-2026-OC-02", title_ja="海中における革新的航法技術",
        title_en="Innovative underwater navigation", project_type="project", technology_codes=["V1-OC-02"],
        cap_yen=3 * BN, first_fiscal_year=2026, period_years=3, opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30), officer_id=w.officer.user.id, now=now, actor=w.staff.principal(),
        documents=[service.DocumentInput(title="公募要領", filename="koubo.pdf")])
    service.publish_call(db, call_id=w.call.id, now=now, actor=w.staff.principal())
    for r in (w.reviewer, w.reviewer_same_org, w.reviewer_conflicted):
        service.add_panel_member(db, call_id=w.call.id, user_id=r.user.id, now=now, actor=w.staff.principal())
    db.flush()
    return w


def submit(db: Session, w: World, clock: FakeClock, *, budget: dict[object, object] | None = None,
           by: Person | None = None, **kwargs: object) -> Proposal:
    """Submit a proposal by the lead with a colleague and a company partner on the team."""
    who = by or w.lead
    team = kwargs.pop("team", [service.TeamMemberInput(user_id=w.colleague.user.id),
                               service.TeamMemberInput(user_id=w.partner.user.id, role="collaborator")])
    return service.submit_proposal(
        db, call_id=w.call.id, title="量子慣性航法による海中測位", summary="概要", budget=budget or {2026: 300_000_000,
        2027: 400_000_000}, team=team, now=clock.now(), actor=who.principal(), **kwargs)  # type: ignore[arg-type]


def adopt(db: Session, w: World, clock: FakeClock, proposal: Proposal) -> Project:
    """Review and adopt ``proposal`` after the call closes; return the project."""
    # F6: review starts when the call closes.
    clock.set(w.call.closes_at + timedelta(days=10))
    service.declare_conflict(db, proposal_id=proposal.id, has_conflict=False, now=clock.now(),
                             actor=w.reviewer.principal())
    service.score_proposal(db, proposal_id=proposal.id, scores={"significance": 5, "innovation": 4,
                                                                "feasibility": 4, "implementation": 3},
                           now=clock.now(), actor=w.reviewer.principal())
    service.decide(db, proposal_id=proposal.id, outcome="adopt", reason="評価が高い", now=clock.now(),
                   actor=w.staff.principal(), councils=w.councils)
    db.flush()
    from banso.programme import repository as repo

    project = repo.project_of_proposal(db, proposal.id)
    assert project is not None
    return project


def establish_council(db: Session, w: World, clock: FakeClock, project: Project) -> None:
    """Every founding researcher consents: the project's council is established (C1)."""
    assert project.council_id is not None
    for person in (w.lead, w.colleague, w.partner):
        councils.consent(db, council_id=project.council_id, actor=person.principal(), now=clock.now(),
                         decision="consent")
    db.flush()


def fund(db: Session, w: World, clock: FakeClock, amount: int = 10 * BN, fiscal_year: int = 2026) -> None:
    """Put a tranche into JST's ledger."""
    service.add_tranche(db, agency_code="JST", fiscal_year=fiscal_year, amount=amount, now=clock.now(),
                        actor=w.staff.principal())


def engage(db: Session, commission_id: int, *, officer: Principal, person: Person, now: datetime) -> None:
    """Art. 64 (issue 13): the commissioning officer names ``person`` as the institution's contact, which puts
    them on the roster, and they acknowledge the duty personally (with a second factor)."""
    from banso.programme import roster

    roster.name_contact(db, commission_id=commission_id, user_id=person.user.id, now=now, actor=officer)
    roster.acknowledge(db, commission_id=commission_id, now=now, actor=person.principal())


class Scene:
    """An active council whose secretariat officer commissioned a think tank that filed a deliverable."""

    def __init__(self, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
        self.council: Cast = establish(factory, db, clock)
        self.officer: Person = self.council.officer  # commissioning officer, pledged council secretariat
        tank = factory.org(kind="think_tank")
        self.analyst: Person = factory.person(roles=("analyst",), org=tank)
        self.outsider: Person = factory.person(roles=("officer",))
        officer = self.officer.principal()
        cm.assess_institution(db, organization_id=tank.id, assessed_on=date(2026, 3, 1), analysis_score=4,
                              hub_score=4, talent_score=4, now=clock.now(), actor=officer)
        self.commission: Commission = cm.create_commission(
            db, code="TT-PG-1", title="海洋無人機の国際動向調査", organization_id=tank.id, starts_on=date(2026, 4, 1),
            due_on=date(2027, 3, 31), tasks=[cm.TaskInput("最終報告書", date(2027, 3, 31))], now=clock.now(),
            actor=officer, purpose="主要国の無人探査機の研究開発動向")
        engage(db, self.commission.id, officer=officer, person=self.analyst, now=clock.now())
        self.deliverable = cm.upload_deliverable(
            db, commission_id=self.commission.id, title="中間報告書", filename="interim.txt",
            content="各国の動向（中間）".encode(), content_type="text/plain", now=clock.now(),
            actor=self.analyst.principal(), store=deliverable_store(ctx))
        db.commit()

    @property
    def url(self) -> str:
        """Return the commission page."""
        return f"/programme/commissions/{self.commission.id}"
