"""The think tank's Art. 64 roster (issue 13, DESIGN F5, C3, I7).

The commissioned institution's contact names each person engaged; each acknowledges the duty personally
with a second factor and gets a PDF like the pledge; only named people who acknowledged see the commission
(everyone else at the institution: 404); removal ends access at once and the record of the duty stays.
Migration 0023 carries the one person who acknowledged for the whole institution onto the roster.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.db.engine import make_engine
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.migrations import migrate
from banso.programme import commissions as cm
from banso.programme import roster
from banso.programme.models import Commission, CommissionRosterEntry
from banso.sealed import store as sealed
from banso.web.context import AppContext
from tests.db.test_sealed_migration import NOW, _insert
from tests.support.factories import Factory, Person
from tests.support.http import bearer, sign_in

STORE = sealed.fake_deps()


class Tank:
    """A commissioning officer, a think tank with a contact and two colleagues, another institution's analyst."""

    def __init__(self, db: Session, factory: Factory, clock: FakeClock) -> None:
        ministry, org = factory.org(kind="ministry"), factory.org(kind="think_tank")
        self.officer: Person = factory.person(roles=("officer",), org=ministry)
        self.contact: Person = factory.person(roles=("analyst",), org=org)
        self.colleague: Person = factory.person(roles=("analyst",), org=org)
        self.bystander: Person = factory.person(roles=("analyst",), org=org)  # never named
        self.stranger: Person = factory.person(roles=("analyst",), org=factory.org(kind="think_tank"))
        cm.assess_institution(db, organization_id=org.id, assessed_on=date(2026, 10, 1), analysis_score=4,
                              hub_score=4, talent_score=4, now=clock.now(), actor=self.officer.principal())
        self.commission: Commission = cm.create_commission(
            db, code="TT-R64-1", title="半導体製造装置の供給網調査", organization_id=org.id,
            starts_on=date(2026, 12, 1), due_on=date(2027, 3, 31), tasks=[cm.TaskInput("報告書", date(2027, 3, 31))],
            now=clock.now(), actor=self.officer.principal(), purpose="主要国の供給網の把握")
        self.id = self.commission.id


@pytest.fixture
def tank(db: Session, factory: Factory, clock: FakeClock) -> Tank:
    return Tank(db, factory, clock)


def _tags(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEntry.tag).where(AuditEntry.tag.like("programme:%")).order_by(AuditEntry.seq)))


def test_only_named_people_who_acknowledged_see_the_commission(db: Session, tank: Tank, clock: FakeClock) -> None:
    """Art. 64, I7: a colleague at the institution gets 404 until named and acknowledged (it saw it before)."""
    now = clock.now()
    for who in (tank.contact, tank.colleague, tank.bystander):
        with pytest.raises(NotFound):
            cm.get_commission(db, commission_id=tank.id, actor=who.principal())
        assert cm.list_commissions(db, actor=who.principal()) == []
    roster.name_contact(db, commission_id=tank.id, user_id=tank.contact.user.id, now=now,
                        actor=tank.officer.principal())
    # Named, not yet acknowledged: the duty only (to acknowledge it), never the tasks or the material.
    with pytest.raises(NotFound):
        cm.get_commission(db, commission_id=tank.id, actor=tank.contact.principal())
    assert [c.id for c in cm.awaiting(db, actor=tank.contact.principal())] == [tank.id]
    assert "第64条" in roster.preview(db, commission_id=tank.id, actor=tank.contact.principal(), now=now)
    with pytest.raises(Forbidden):  # C3: a second factor, as for the pledge; the refusal is audited
        roster.acknowledge(db, commission_id=tank.id, now=now, actor=tank.contact.principal(mfa=False))
    assert "programme:roster:refused" in _tags(db)
    entry = roster.acknowledge(db, commission_id=tank.id, now=now, actor=tank.contact.principal())
    assert entry.acknowledged_sha256 == hashlib.sha256((entry.acknowledged_text or "").encode()).hexdigest()
    assert tank.contact.user.name_ja in (entry.acknowledged_text or "")
    assert tank.commission.confidentiality_terms in (entry.acknowledged_text or "")
    assert cm.get_commission(db, commission_id=tank.id, actor=tank.contact.principal()).contractor
    assert cm.awaiting(db, actor=tank.contact.principal()) == []
    for who in (tank.colleague, tank.bystander, tank.stranger):  # still nothing for the unnamed
        with pytest.raises(NotFound):
            cm.get_commission(db, commission_id=tank.id, actor=who.principal())
        with pytest.raises(NotFound):
            roster.view(db, commission_id=tank.id, actor=who.principal(), now=now)
        with pytest.raises(NotFound):
            cm.upload_deliverable(db, commission_id=tank.id, title="x", filename="x.txt", content=b"x",
                                  now=now, actor=who.principal(), store=STORE)


def test_the_contact_manages_the_roster_and_removal_ends_access(db: Session, tank: Tank, clock: FakeClock) -> None:
    """The contact names and removes; removal ends access at once, the row and the duty's record stay."""
    now = clock.now()
    with pytest.raises(NotFound):  # only the commissioning side names the contact (I7: the unnamed see nothing)
        roster.name_contact(db, commission_id=tank.id, user_id=tank.contact.user.id, now=now,
                            actor=tank.contact.principal())
    with pytest.raises(ValidationFailed):  # the contact is a person of the institution
        roster.name_contact(db, commission_id=tank.id, user_id=tank.stranger.user.id, now=now,
                            actor=tank.officer.principal())
    roster.name_contact(db, commission_id=tank.id, user_id=tank.contact.user.id, now=now,
                        actor=tank.officer.principal())
    named = roster.add_person(db, commission_id=tank.id, user_id=tank.colleague.user.id, now=now,
                              actor=tank.contact.principal())
    with pytest.raises(Conflict):
        roster.add_person(db, commission_id=tank.id, user_id=tank.colleague.user.id, now=now,
                          actor=tank.contact.principal())
    with pytest.raises(ValidationFailed):
        roster.add_person(db, commission_id=tank.id, user_id=tank.stranger.user.id, now=now,
                          actor=tank.contact.principal())
    with pytest.raises(Forbidden):  # a named colleague does not manage the roster
        roster.add_person(db, commission_id=tank.id, user_id=tank.bystander.user.id, now=now,
                          actor=tank.colleague.principal())
    roster.acknowledge(db, commission_id=tank.id, now=now, actor=tank.colleague.principal())
    assert cm.get_commission(db, commission_id=tank.id, actor=tank.colleague.principal()).contractor
    with pytest.raises(Forbidden):
        roster.remove_person(db, commission_id=tank.id, roster_id=named.id, reason="x", now=now,
                             actor=tank.colleague.principal())
    with pytest.raises(ValidationFailed):  # a reason is required
        roster.remove_person(db, commission_id=tank.id, roster_id=named.id, reason=" ", now=now,
                             actor=tank.contact.principal())
    gone = roster.remove_person(db, commission_id=tank.id, roster_id=named.id, reason="担当替え", now=now,
                                actor=tank.contact.principal())
    assert gone.removed_at is not None and gone.acknowledged_at is not None  # the duty's record remains
    with pytest.raises(NotFound):  # access ends at once
        cm.get_commission(db, commission_id=tank.id, actor=tank.colleague.principal())
    # their own record of a duty that remains: the removed signer may still fetch it (outside tester's finding;
    # this asserted NotFound before, the very hole closed in session 10)
    own, _ = roster.acknowledgement_pdf(db, commission_id=tank.id, roster_id=named.id, now=now,
                                        actor=tank.colleague.principal())
    assert own.id == named.id
    with pytest.raises(Conflict):
        roster.remove_person(db, commission_id=tank.id, roster_id=named.id, reason="再", now=now,
                             actor=tank.officer.principal())
    # Named again later: a new row, a new personal acknowledgement.
    again = roster.add_person(db, commission_id=tank.id, user_id=tank.colleague.user.id, now=now,
                              actor=tank.contact.principal())
    assert again.id != named.id and again.acknowledged_at is None
    with pytest.raises(NotFound):
        cm.get_commission(db, commission_id=tank.id, actor=tank.colleague.principal())
    tags = _tags(db)
    assert {"programme:roster:contact", "programme:roster:add", "programme:roster:remove",
            "programme:commission:acknowledge"} <= set(tags)


def test_the_acknowledgement_is_a_pdf_for_its_signer_the_contact_and_the_owner(db: Session, tank: Tank,
                                                                             clock: FakeClock) -> None:
    now = clock.now()
    roster.name_contact(db, commission_id=tank.id, user_id=tank.contact.user.id, now=now,
                        actor=tank.officer.principal())
    named = roster.add_person(db, commission_id=tank.id, user_id=tank.colleague.user.id, now=now,
                              actor=tank.contact.principal())
    with pytest.raises(NotFound):  # nothing to download before acknowledging
        roster.acknowledgement_pdf(db, commission_id=tank.id, roster_id=named.id, now=now,
                                   actor=tank.colleague.principal())
    roster.acknowledge(db, commission_id=tank.id, now=now, actor=tank.colleague.principal())
    for who in (tank.colleague, tank.contact, tank.officer):
        row, pdf = roster.acknowledgement_pdf(db, commission_id=tank.id, roster_id=named.id, now=now,
                                              actor=who.principal())
        assert pdf.startswith(b"%PDF") and row.id == named.id
    for who in (tank.bystander, tank.stranger):
        with pytest.raises(NotFound):
            roster.acknowledgement_pdf(db, commission_id=tank.id, roster_id=named.id, now=now,
                                       actor=who.principal())
    assert _tags(db).count("programme:roster:download") == 3


def test_roster_over_the_api_and_the_page(client: TestClient, db: Session, tank: Tank, clock: FakeClock,
                                          ctx: AppContext) -> None:
    db.commit()
    base = f"/api/v1/programme/commissions/{tank.id}"
    officer, contact, colleague, bystander = (bearer(db, p, clock) for p in (tank.officer, tank.contact,
                                                                             tank.colleague, tank.bystander))
    assert client.get(f"{base}/roster", headers=contact).status_code == 404
    bad = client.post(f"{base}/contact", headers=officer, json={"user_id": tank.stranger.user.id})
    assert bad.status_code == 422 and "委託先機関" in bad.text
    assert client.post(f"{base}/contact", headers=officer, json={"user_id": tank.contact.user.id}).status_code == 200
    assert client.post(f"{base}/roster", headers=contact, json={"user_id": "x"}).status_code == 422
    added = client.post(f"{base}/roster", headers=contact, json={"user_id": tank.colleague.user.id})
    assert added.status_code == 201, added.text
    mine = client.get(f"{base}/roster", headers=colleague).json()
    assert mine["entries"] == [] and mine["mine"]["id"] == added.json()["id"] and mine["may_acknowledge"]
    assert "第64条" in client.get(f"{base}/acknowledgement", headers=colleague).json()["text"]
    assert client.get(base, headers=colleague).status_code == 404
    assert client.post(f"{base}/acknowledge", headers=colleague).status_code == 200
    assert client.get(base, headers=colleague).status_code == 200
    assert client.get(base, headers=bystander).status_code == 404
    pdf = client.get(f"{base}/roster/{added.json()['id']}/pdf", headers=colleague)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    listed = client.get(f"{base}/roster", headers=officer).json()["entries"]
    assert [e["user_id"] for e in listed] == [tank.contact.user.id, tank.colleague.user.id]

    url = f"/programme/commissions/{tank.id}"
    csrf = sign_in(client, db, tank.contact, ctx)
    page = client.get(url)  # the contact, not acknowledged: the duty, the roster, no tasks
    assert page.status_code == 200 and 'id="acknowledge-form"' in page.text and 'id="task-table"' not in page.text
    assert 'id="roster-add-form"' in page.text and f'id="remove-form-{added.json()["id"]}"' in page.text
    refused = client.post(f"{url}/roster/{added.json()['id']}/remove", data={"csrf_token": csrf, "reason": ""})
    assert refused.status_code == 422
    r = client.post(f"{url}/roster/{added.json()['id']}/remove", data={"csrf_token": csrf, "reason": "異動"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    assert client.get(base, headers=colleague).status_code == 404  # removed: access ended at once
    r = client.post(f"{url}/acknowledge", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(url)
    assert 'id="task-table"' in page.text and 'id="my-acknowledgement-pdf"' in page.text
    sign_in(client, db, tank.bystander, ctx)
    assert client.get(url).status_code == 404
    assert 'data-commission-id' not in client.get("/programme/commissions").text


def test_migration_0023_puts_the_institution_wide_acknowledger_on_the_roster(tmp_path: Path) -> None:
    """Existing data: the person who acknowledged for the institution becomes its contact, acknowledged."""
    engine = make_engine(f"sqlite:///{tmp_path / 'legacy.db'}")
    migrate.upgrade(engine, "0018", attributes={"sealed_deps": sealed.fake_deps()})
    terms = "（守秘義務）第三者に開示しない。"
    with engine.begin() as conn:
        org = _insert(conn, "organizations", kind="think_tank")
        user = _insert(conn, "users", organization_id=org, email="a@example.jp", is_active=True)
        assessment = _insert(conn, "programme_capability_assessments", organization_id=org, assessor_id=user)
        acked = _insert(conn, "programme_commissions", code="OLD-1", organization_id=org, assessment_id=assessment,
                        commissioned_by_id=user, commissioner_org_id=org, confidentiality_terms=terms,
                        acknowledged_by_id=user, acknowledged_at=NOW)
        _insert(conn, "programme_commissions", code="OLD-2", organization_id=org, assessment_id=assessment,
                commissioned_by_id=user, commissioner_org_id=org, confidentiality_terms=terms)
    migrate.upgrade(engine, "0023", attributes={"sealed_deps": sealed.fake_deps()})
    with Session(engine) as session:
        rows = list(session.scalars(select(CommissionRosterEntry)))
        assert len(rows) == 1
        row = rows[0]
        assert (row.commission_id, row.user_id, row.is_contact, row.source) == (acked, user, True, "migrated")
        assert row.acknowledged_at == NOW and row.removed_at is None
        assert row.acknowledged_sha256 == hashlib.sha256(terms.encode()).hexdigest()
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM programme_commission_roster")).scalar_one() == 1
    engine.dispose()
