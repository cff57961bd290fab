"""Filing a think-tank commission's deliverable into a council as an information item (F5).

The deliverable is opened by the commissions service (who may read it: the commissioning officer or
the institution, F5) and filed with information's own services, so encryption, the default openness,
an optional designation proposal and the audit entry come from one place (``banso.information.filing``).
Programme is above information: it files its deliverables, information knows nothing of commissions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.information import service
from banso.information.deps import InformationDeps
from banso.information.filing import refuse_if_filed
from banso.information.models import Item
from banso.programme import commissions
from banso.programme.models import Commission
from banso.sealed.store import SealedDeps


def file_deliverable(session: Session, deps: InformationDeps, *, commission_id: int, deliverable_id: int,
                     council_id: int, actor: Principal, now: datetime, store: SealedDeps,
                     designation: service.DesignationInput | None = None) -> Item:
    """File a commission deliverable into a council as a think-tank item (F5)."""
    row, data = commissions.open_deliverable(session, commission_id=commission_id, deliverable_id=deliverable_id,
                                             now=now, actor=actor, store=store)
    # open_deliverable decided access and loaded the commission: read it back from the session (no query).
    commission = session.get(Commission, commission_id)
    assert commission is not None
    origin = f"commission:{commission_id}:deliverable:{deliverable_id}"
    refuse_if_filed(session, council_id, origin, actor)
    return service.create_item(
        session, deps, council_id=council_id, actor=actor, now=now, title=row.title[:300],
        summary=f"委託調査「{commission.title}」（{commission.code}）の成果物", body=commission.purpose or row.title,
        matter="useful_information", category="government_research", provenance="think_tank",
        files=[service.Upload(row.filename, row.content_type, data)], designation=designation, origin=origin)
