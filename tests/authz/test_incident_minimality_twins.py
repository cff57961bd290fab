"""The SQL twins of the incident and minimality rules agree with their Python predicates (I7, I9, I10).

Lists filter in SQL (``restrict_incidents``, ``restrict_minimality``); single reads decide in Python
(``can_see_incident``/``can_work_incident``, ``can_read_minimality``). Both must give the same answer for
every person, including those whose access just ended (left the council, no second factor, no pledge).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.authz.policies import information as policy
from banso.authz.principal import Principal
from banso.councils import repository as council_repo
from banso.councils import service as councils
from banso.councils.models import Council
from banso.information import incidents
from banso.information.models import Incident
from banso.kit.clock import FakeClock
from tests.support.councils import establish
from tests.support.factories import Factory


def _python_incidents(db: Session, actor: Principal) -> set[int]:
    seen = set()
    for incident in db.scalars(select(Incident)):
        where = (None if incident.council_id is None
                 else council_repo.standing_of(db, incident.council_id, actor.user_id))
        works = policy.can_work_incident(actor, where, council_id=incident.council_id)
        if policy.can_see_incident(actor, works_it=works, is_reporter=incident.reported_by_id == actor.user_id):
            seen.add(incident.id)
    return seen


def _python_minimality(db: Session, actor: Principal) -> set[int]:
    return {c.id for c in db.scalars(select(Council))
            if policy.can_read_minimality(actor, council_repo.standing_of(db, c.id, actor.user_id))}


def test_incident_and_minimality_lists_match_the_predicates(db: Session, factory: Factory, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    other = establish(factory, db, clock)
    incidents.report_incident(db, actor=cast.company.principal(), now=clock.now(), title="掲示板に掲載",
                              description="資料が掲載されている", council_id=cast.council.id)
    incidents.report_incident(db, actor=other.company.principal(), now=clock.now(), title="別の協議会",
                              description="別件", council_id=other.council.id)
    incidents.report_incident(db, actor=cast.outsider.principal(), now=clock.now(), title="出所不明",
                              description="どの協議会か不明")
    # the chair of the first council leaves: their access ends at once (C3)
    councils.leave(db, council_id=cast.council.id, actor=cast.researcher.principal(), now=clock.now())
    db.flush()
    auditor = factory.person(roles=("auditor",)).principal()
    people = [cast.officer.principal(), cast.officer.principal(mfa=False), cast.researcher.principal(),
              cast.company.principal(), cast.outsider.principal(), other.officer.principal(), auditor]
    for actor in people:
        listed = {i.id for i in incidents.list_incidents(db, actor=actor)}
        assert listed == _python_incidents(db, actor), actor.email
        sql = {c.id for c in db.scalars(policy.restrict_minimality(select(Council), actor))}
        assert sql == _python_minimality(db, actor), actor.email
    # the twins are not vacuous: the secretariat works its council's incident, the leaver no longer does
    assert len(_python_incidents(db, cast.officer.principal())) == 1
    assert _python_incidents(db, cast.researcher.principal()) == set()
    assert len(_python_incidents(db, auditor)) == 3
