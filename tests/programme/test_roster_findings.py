"""LOW findings of session 9's outside tester on the Art. 64 roster (issue 13), each closed: the contact cannot
take themself off the roster; a removed person may still fetch their own acknowledgement; roster reads are
audited. Over HTTP (the app's TestClient) and the services."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.audit.tags import LABELS, AuditTag
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict
from banso.programme import roster
from banso.programme.models import CommissionRosterEntry
from banso.web.context import AppContext
from tests.programme.test_thinktank_roster import Tank
from tests.support.factories import Factory, audit_count
from tests.support.http import bearer, sign_in


@pytest.fixture
def tank(db: Session, factory: Factory, clock: FakeClock) -> Tank:
    """A commission with its contact named by the commissioning officer and a colleague named and acknowledged."""
    t = Tank(db, factory, clock)
    roster.name_contact(db, commission_id=t.id, user_id=t.contact.user.id, now=clock.now(),
                        actor=t.officer.principal())
    roster.add_person(db, commission_id=t.id, user_id=t.colleague.user.id, now=clock.now(),
                      actor=t.contact.principal())
    roster.acknowledge(db, commission_id=t.id, now=clock.now(), actor=t.colleague.principal())
    db.commit()
    return t


def _row(db: Session, tank: Tank, user_id: int) -> CommissionRosterEntry:
    return db.scalars(select(CommissionRosterEntry).where(CommissionRosterEntry.commission_id == tank.id,
                                                         CommissionRosterEntry.user_id == user_id)).one()


def test_the_contact_cannot_remove_themself(client: TestClient, db: Session, tank: Tank, clock: FakeClock,
                                            ctx: AppContext) -> None:
    own = _row(db, tank, tank.contact.user.id)
    colleague = _row(db, tank, tank.colleague.user.id)
    base = f"/api/v1/programme/commissions/{tank.id}"
    refused = client.post(f"{base}/roster/{own.id}/remove", headers=bearer(db, tank.contact, clock),
                          json={"reason": "退職"})
    assert refused.status_code == 409 and "窓口担当者は自分を名簿から外せません" in refused.text
    assert audit_count(db, "programme:roster:refused") >= 1
    db.expire_all()
    assert _row(db, tank, tank.contact.user.id).removed_at is None
    # the page offers no removal of the contact's own row; the colleague's row keeps its form
    csrf = sign_in(client, db, tank.contact, ctx)
    page = client.get(f"/programme/commissions/{tank.id}").text
    assert f'id="remove-form-{own.id}"' not in page and f'id="remove-form-{colleague.id}"' in page
    posted = client.post(f"/programme/commissions/{tank.id}/roster/{own.id}/remove",
                         data={"csrf_token": csrf, "reason": "退職"})
    assert posted.status_code == 409 and "窓口担当者は自分を名簿から外せません" in posted.text
    # the commissioning side may still take the contact off (and names another)
    with pytest.raises(Conflict):
        roster.remove_person(db, commission_id=tank.id, roster_id=own.id, reason="x", now=clock.now(),
                             actor=tank.contact.principal())
    done = roster.remove_person(db, commission_id=tank.id, roster_id=own.id, reason="交代", now=clock.now(),
                                actor=tank.officer.principal())
    assert done.removed_at is not None


def test_a_removed_person_fetches_their_own_acknowledgement(client: TestClient, db: Session, tank: Tank,
                                                           clock: FakeClock) -> None:
    row = _row(db, tank, tank.colleague.user.id)
    roster.remove_person(db, commission_id=tank.id, roster_id=row.id, reason="担当替え", now=clock.now(),
                         actor=tank.contact.principal())
    db.commit()
    base = f"/api/v1/programme/commissions/{tank.id}"
    h = bearer(db, tank.colleague, clock)
    assert client.get(base, headers=h).status_code == 404  # access to the commission ended
    pdf = client.get(f"{base}/roster/{row.id}/pdf", headers=h)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")  # their own record of the duty
    # not anyone else's: the contact's acknowledgement stays closed to the removed colleague
    contact_row = _row(db, tank, tank.contact.user.id)
    roster.acknowledge(db, commission_id=tank.id, now=clock.now(), actor=tank.contact.principal())
    db.commit()
    assert client.get(f"{base}/roster/{contact_row.id}/pdf", headers=h).status_code == 404
    assert client.get(f"{base}/roster/{row.id}/pdf", headers=bearer(db, tank.bystander, clock)).status_code == 404


def test_roster_reads_are_audited(client: TestClient, db: Session, tank: Tank, clock: FakeClock,
                                  ctx: AppContext) -> None:
    assert AuditTag.PROGRAMME_ROSTER_READ in LABELS
    before = audit_count(db, "programme:roster:read")
    listed = client.get(f"/api/v1/programme/commissions/{tank.id}/roster", headers=bearer(db, tank.officer, clock))
    assert listed.status_code == 200 and len(listed.json()["entries"]) == 2
    assert audit_count(db, "programme:roster:read") == before + 1
    db.expire_all()
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "programme:roster:read")
                       .order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and entry.actor_id == tank.officer.user.id and len(entry.data["roster_ids"]) == 2
    sign_in(client, db, tank.contact, ctx)
    assert client.get(f"/programme/commissions/{tank.id}").status_code == 200
    assert audit_count(db, "programme:roster:read") == before + 2  # the page read too
