"""Issue 11: commission deliverables are sealed under the commission's own key, read only by the people
engaged, stamped per recipient, recorded and audited (F5, I8, I11, I12)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.information import distribution
from banso.kit.clock import FakeClock
from banso.kit.errors import NotFound
from banso.leak.text import strip_marks
from banso.programme import commissions as cm
from banso.programme.models import Commission, CommissionDeliverable
from banso.sealed import store as sealed
from banso.sealed.crypto import KeyUnavailable
from banso.sealed.models import SealedDistribution
from banso.web.context import AppContext
from tests.support.factories import Factory, Person, audit_count
from tests.support.http import bearer
from tests.support.programme import engage

REPORT = ("量子技術の国際動向（最終報告）\n\n"
          "第一に、米国と中国が論文数で先行している。\n\n"
          "第二に、我が国は量子センシングで上位に位置する。\n\n"
          "第三に、人材の流動性が課題である。\n")
FILENAME = "機微な最終報告書.txt"


class Cast:
    """A commissioning officer and a colleague, a think tank with two analysts, and people not engaged."""

    def __init__(self, db: Session, factory: Factory, clock: FakeClock) -> None:
        ministry, tank = factory.org(kind="ministry"), factory.org(kind="think_tank")
        self.officer: Person = factory.person(roles=("officer",), org=ministry)
        self.colleague: Person = factory.person(roles=("officer",), org=ministry)
        self.analyst: Person = factory.person(roles=("analyst",), org=tank)
        self.other_officer: Person = factory.person(roles=("officer",))  # another ministry
        self.researcher: Person = factory.person()  # unrelated
        cm.assess_institution(db, organization_id=tank.id, assessed_on=date(2026, 3, 1), analysis_score=4,
                              hub_score=4, talent_score=4, now=clock.now(), actor=self.officer.principal())
        self.commission: Commission = cm.create_commission(
            db, code="TT-SEAL-1", title="量子技術の国際動向調査", organization_id=tank.id, starts_on=date(2026, 4, 1),
            due_on=date(2027, 3, 31), tasks=[cm.TaskInput("最終報告書", date(2027, 3, 31))], now=clock.now(),
            actor=self.officer.principal())
        engage(db, self.commission.id, officer=self.officer.principal(), person=self.analyst, now=clock.now())
        db.commit()

    @property
    def base(self) -> str:
        """Return the API path of the commission."""
        return f"/api/v1/programme/commissions/{self.commission.id}"


@pytest.fixture
def cast(db: Session, factory: Factory, clock: FakeClock) -> Cast:
    """Return the committed cast."""
    return Cast(db, factory, clock)


def _upload(client: TestClient, db: Session, cast: Cast, clock: FakeClock) -> int:
    r = client.post(f"{cast.base}/deliverables", headers=bearer(db, cast.analyst, clock),
                    files={"file": (FILENAME, REPORT.encode(), "text/plain")}, data={"title": "最終報告書"})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_a_deliverable_is_not_stored_in_plaintext(client: TestClient, db: Session, cast: Cast, clock: FakeClock,
                                                  ctx: AppContext) -> None:
    """I11: neither the database nor any file under the data folder holds the deliverable's bytes."""
    did = _upload(client, db, cast, clock)
    row = db.get(CommissionDeliverable, did)
    assert row is not None and row.content is None and row.blob is not None and row.wrapped_key
    stored = db.execute(text("SELECT content, blob FROM programme_commission_deliverables WHERE id = :i"),
                        {"i": did}).one()
    assert stored[0] is None
    needle = "量子センシング".encode()
    assert [p for p in Path(ctx.data_dir).rglob("*") if p.is_file() and needle in p.read_bytes()] == []
    # The commission's key lives in a key store of its own, apart from the councils' keys.
    assert (ctx.data_dir / "keys" / "commissions" / f"commission-{cast.commission.id}.key").is_file()
    assert list((ctx.data_dir / "keys" / "councils").glob("*.key")) == []


def test_two_recipients_get_different_copies_each_attributed(client: TestClient, db: Session, cast: Cast,
                                                             clock: FakeClock) -> None:
    """I8: the officer and the analyst get different bytes; an excerpt names its recipient."""
    did = _upload(client, db, cast, clock)
    copies = {}
    for person in (cast.officer, cast.analyst):
        got = client.get(f"{cast.base}/deliverables/{did}", headers=bearer(db, person, clock))
        assert got.status_code == 200
        copies[person.user.id] = got.content
    assert len(set(copies.values())) == 2 and all(strip_marks(c.decode()) == REPORT for c in copies.values())
    for user_id, data in copies.items():
        finding = distribution.attribute(db, data=data.decode().split("\n\n")[2].encode(), now=clock.now())
        assert finding.user_id == user_id and finding.sealed is not None
        assert (finding.sealed.kind, finding.sealed.object_id) == ("deliverable", did)
        assert finding.sealed.commission_id == cast.commission.id and finding.sealed.council_id is None


@pytest.mark.parametrize("who", ["other_officer", "researcher"])
def test_a_person_not_engaged_gets_404(client: TestClient, db: Session, cast: Cast, clock: FakeClock,
                                       who: str) -> None:
    """F5, I7: only the commissioning side and the institution; everyone else 404, no copy recorded."""
    did = _upload(client, db, cast, clock)
    person: Person = getattr(cast, who)
    got = client.get(f"{cast.base}/deliverables/{did}", headers=bearer(db, person, clock))
    assert got.status_code == 404 and got.json()["error"] == "not_found"
    assert db.scalar(select(SealedDistribution.id)) is None


def test_every_download_is_recorded_and_audited_by_id(client: TestClient, db: Session, cast: Cast,
                                                      clock: FakeClock) -> None:
    """I8, A1: a distribution row and an audit entry per copy, with ids; never the file name."""
    did = _upload(client, db, cast, clock)
    for person in (cast.colleague, cast.analyst):
        got = client.get(f"{cast.base}/deliverables/{did}", headers=bearer(db, person, clock))
        assert got.headers["x-banso-distribution"]
    rows = db.scalars(select(SealedDistribution).order_by(SealedDistribution.id)).all()
    assert [(r.kind, r.user_id) for r in rows] == [("deliverable", cast.colleague.user.id),
                                                   ("deliverable", cast.analyst.user.id)]
    entries = db.scalars(select(AuditEntry).where(AuditEntry.tag == "programme:commission:download")).all()
    assert sorted(e.data["distribution_id"] for e in entries) == [r.id for r in rows]
    everything = json.dumps([e.data for e in db.scalars(select(AuditEntry))], ensure_ascii=False)
    assert FILENAME not in everything


def test_a_tampered_deliverable_is_refused_and_audited(client: TestClient, db: Session, cast: Cast,
                                                       clock: FakeClock, ctx: AppContext) -> None:
    """I11: a changed ciphertext fails authentication: 422, audited, no copy handed out."""
    did = _upload(client, db, cast, clock)
    row = db.get(CommissionDeliverable, did)
    assert row is not None and row.blob is not None
    blob = ctx.data_dir / "information" / "blobs" / row.blob[:2] / row.blob
    damaged = bytearray(blob.read_bytes())
    damaged[20] ^= 0x80
    blob.write_bytes(bytes(damaged))
    got = client.get(f"{cast.base}/deliverables/{did}", headers=bearer(db, cast.officer, clock))
    assert got.status_code == 422 and got.json()["error"] == "integrity_failed"
    assert audit_count(db, "programme:integrity:failed") == 1
    assert db.scalar(select(SealedDistribution.id)) is None


def test_the_commission_key_is_its_own(db: Session, cast: Cast, clock: FakeClock) -> None:
    """I11: destroying the commission's key shreds its deliverables; a council key of the same id does not."""
    store = sealed.fake_deps()
    row = cm.upload_deliverable(db, commission_id=cast.commission.id, title="報告", filename="r.txt",
                                content=REPORT.encode(), now=clock.now(), actor=cast.analyst.principal(), store=store)
    store.council_keys.revoke(cast.commission.id)
    copy = cm.download_deliverable(db, commission_id=cast.commission.id, deliverable_id=row.id, now=clock.now(),
                                   actor=cast.officer.principal(), store=store)
    assert strip_marks(copy.data.decode()) == REPORT
    store.commission_keys.revoke(cast.commission.id)
    with pytest.raises(KeyUnavailable):
        cm.download_deliverable(db, commission_id=cast.commission.id, deliverable_id=row.id, now=clock.now(),
                                actor=cast.officer.principal(), store=store)
    with pytest.raises(NotFound):  # out of reach is missing, whatever the key state
        cm.download_deliverable(db, commission_id=cast.commission.id, deliverable_id=row.id, now=clock.now(),
                                actor=cast.researcher.principal(), store=store)
