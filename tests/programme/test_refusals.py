"""A refused programme action keeps its audit entry (A1) on the page as in the API and in the other domains.

The K Program pages once rolled every refusal back, so a refusal the service had audited (a
tampered deliverable, I11) vanished from the log when it came through a form; councils' and
information's pages kept it. The one unit of work (``banso.kit.unit``) now settles every refusal.
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.information.models import Item
from banso.kit.clock import FakeClock
from banso.programme.models import CommissionDeliverable
from banso.web.context import AppContext
from tests.support.factories import Factory, audit_count
from tests.support.http import alert_text, sign_in
from tests.support.programme import Scene


def _tamper(db: Session, ctx: AppContext, deliverable_id: int) -> None:
    row = db.get(CommissionDeliverable, deliverable_id)
    assert row is not None and row.blob is not None
    blob = ctx.data_dir / "information" / "blobs" / row.blob[:2] / row.blob
    damaged = bytearray(blob.read_bytes())
    damaged[20] ^= 0x80
    blob.write_bytes(bytes(damaged))


def test_a_refused_filing_through_the_page_keeps_its_audit_entry(client: TestClient, db: Session, factory: Factory,
                                                                 clock: FakeClock, ctx: AppContext) -> None:
    """A1, I11: filing a tampered deliverable from the page is refused (422) and the refusal stays on record."""
    scene = Scene(db, factory, clock, ctx)
    token = sign_in(client, db, scene.officer, ctx)
    _tamper(db, ctx, scene.deliverable.id)
    before = audit_count(db, "programme:integrity:failed")
    refused = client.post(f"{scene.url}/deliverables/{scene.deliverable.id}/file",
                          data={"csrf_token": token, "council_id": str(scene.council.council.id)})
    assert refused.status_code == 422 and alert_text(refused.text)
    assert f'id="file-form-{scene.deliverable.id}"' in refused.text  # the page re-rendered the form
    db.expire_all()
    assert audit_count(db, "programme:integrity:failed") == before + 1  # kept, not rolled back
    assert db.scalars(select(Item)).all() == []  # nothing else of the refused action
