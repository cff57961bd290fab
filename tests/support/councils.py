"""Council scenes built through the real services: a proposed or established council with its cast,
members joining, and the date values the council forms take."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from banso.councils import articles, bylaws, service
from banso.councils.models import BylawsProposal, Council
from banso.kit.clock import FakeClock, to_jst
from tests.support.factories import Factory, Person


@dataclass
class Cast:
    """Who is who around one council."""

    council: Council
    officer: Person  # proposer, secretariat
    researcher: Person  # founding member (the project's researcher)
    company: Person  # founding member
    outsider: Person
    extra: dict[str, Person] = field(default_factory=dict)


def propose(factory: Factory, db: Session, clock: FakeClock, *, days: int = 14, project_ref: str | None = None) -> Cast:
    """A proposed council: an officer (secretariat) and two founders who have not answered yet.

    By default a technology council, where every founder's consent is needed (C1); with ``project_ref`` a project
    council, where the researcher (the required founder) is the research representative whose consent decides
    (issue 13, ``councils/membership.py``).
    """
    officer = factory.person(roles=("officer",))
    researcher = factory.person(roles=("researcher",))
    company = factory.person(roles=("industry",))
    outsider = factory.person(roles=("researcher",))
    council = service.propose(
        db, actor=officer.principal(), now=clock.now(), title_ja="海洋無人機技術 協議会",
        title_en="Unmanned maritime vehicle council", purpose="自律型無人探査機の研究開発を伴走支援する。",
        technology="自律型無人探査機（AUV）の無人・省人化技術", project_ref=project_ref,
        consent_deadline=clock.now() + timedelta(days=days),
        founders=[service.FounderSpec(researcher.user.id, "chair"), service.FounderSpec(company.user.id, "member")],
        required_person_ids=[researcher.user.id],
    )
    db.flush()
    return Cast(council=council, officer=officer, researcher=researcher, company=company, outsider=outsider)


def establish(factory: Factory, db: Session, clock: FakeClock, *, pledge: bool = True,
              activate: bool = True) -> Cast:
    """An established (and by default active) council whose founders all signed the pledge."""
    cast = propose(factory, db, clock)
    for p in (cast.researcher, cast.company):
        service.consent(db, council_id=cast.council.id, actor=p.principal(), now=clock.now(), decision="consent")
    assert cast.council.state == "established"
    if pledge:
        for p in (cast.officer, cast.researcher, cast.company):
            service.sign_pledge(db, council_id=cast.council.id, actor=p.principal(), now=clock.now(),
                                bylaws_version=cast.council.bylaws_version)
    if activate:
        service.activate(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now())
    db.flush()
    return cast


def join(cast: Cast, db: Session, clock: FakeClock, person: Person, *, pledge: bool = True,
         role: str = "member") -> Person:
    """Invite ``person`` into the cast's council in ``role``; they consent and (by default) sign the pledge."""
    cid = cast.council.id
    service.invite(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(), user_id=person.user.id,
                   role=role, deadline=clock.now() + timedelta(days=7))
    service.consent(db, council_id=cid, actor=person.principal(), now=clock.now(), decision="consent")
    if pledge:
        service.sign_pledge(db, council_id=cid, actor=person.principal(), now=clock.now(),
                            bylaws_version=cast.council.bylaws_version)
    db.flush()
    return person


def active_council(factory: Factory, db: Session, clock: FakeClock, *, bystander: bool = False) -> Cast:
    """An active council, all founders pledged, committed for HTTP tests; ``bystander`` adds a pledged member
    (``cast.extra["bystander"]``) beside officer (secretariat), researcher (chair) and company (member)."""
    cast = establish(factory, db, clock)
    if bystander:
        cast.extra["bystander"] = join(cast, db, clock, factory.person())
    db.commit()
    return cast


def day(clock: FakeClock, days: int) -> str:
    """Return a date input value (JST) ``days`` from now."""
    return (to_jst(clock.now()) + timedelta(days=days)).strftime("%Y-%m-%d")


def moment(clock: FakeClock, days: int) -> str:
    """Return a datetime-local input value (JST) ``days`` from now."""
    return (to_jst(clock.now()) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


def article_inputs(db: Session, cast: Cast, edit: Callable[[str, str], str] | None = None,
                   add: Sequence[articles.ArticleInput] = ()) -> list[articles.ArticleInput]:
    """Return the articles in force as amendment input; ``edit(key, text)`` changes an article's text and
    ``add`` appends new ones."""
    form = bylaws.amend_form(db, council_id=cast.council.id, actor=cast.officer.principal())
    rows = [articles.ArticleInput(a.key, a.title_ja, a.title_en, edit(a.key, a.text) if edit else a.text)
            for a in form.articles]
    return rows + list(add)


def amend(db: Session, clock: FakeClock, cast: Cast, rows: Sequence[articles.ArticleInput], *,
          summary: str = "改正", parameters: Mapping[str, int | None] | None = None,
          voters: Sequence[Person] | None = None) -> BylawsProposal:
    """Propose an amendment as the officer (secretariat) and have ``voters`` (default: researcher and company,
    the other founders) accept it."""
    proposal = bylaws.propose_amendment(db, council_id=cast.council.id, actor=cast.officer.principal(),
                                        now=clock.now(), articles_in=rows, parameters=parameters or {},
                                        summary=summary)
    for person in (voters if voters is not None else (cast.researcher, cast.company)):
        bylaws.vote(db, council_id=cast.council.id, proposal_id=proposal.id, actor=person.principal(),
                    now=clock.now(), decision="accept")
    db.flush()
    return proposal
