"""Council fixtures: a cast of people and councils in each state, built through the real services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.councils import service
from banso.councils.models import Council
from banso.information import sealed
from banso.information.sealed import SealedDeps
from banso.kit.clock import FakeClock
from tests.conftest import Factory, Person


@dataclass
class Cast:
    """Who is who around one council."""

    council: Council
    officer: Person  # proposer, secretariat
    researcher: Person  # founding member (the project's researcher)
    company: Person  # founding member
    outsider: Person
    extra: dict[str, Person] = field(default_factory=dict)


def audit_count(db: Session, tag: str) -> int:
    """Count audit entries with this tag."""
    return int(db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.tag == tag)) or 0)


def propose(factory: Factory, db: Session, clock: FakeClock, *, days: int = 14) -> Cast:
    """A proposed council: an officer (secretariat) and two founders who have not answered yet."""
    officer = factory.person(roles=("officer",))
    researcher = factory.person(roles=("researcher",))
    company = factory.person(roles=("industry",))
    outsider = factory.person(roles=("researcher",))
    council = service.propose(
        db, actor=officer.principal(), now=clock.now(), title_ja="海洋無人機技術 協議会",
        title_en="Unmanned maritime vehicle council", purpose="自律型無人探査機の研究開発を伴走支援する。",
        technology="自律型無人探査機（AUV）の無人・省人化技術", project_ref="K-001",
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


@pytest.fixture
def store() -> SealedDeps:
    """Return an in-memory sealed store (blobs and council/commission keys)."""
    return sealed.fake_deps()
