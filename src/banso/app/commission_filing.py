"""The think tank's commission filer (DESIGN F5, T6): a report filed as a commission deliverable.

Lives in the composition root because it joins two sibling domains: the think tank asks, the
commissions service decides (Art. 64 roster: only engaged people who acknowledged, while the
commission is active) and seals the file under the commission's key (I11); downloads of the filed
copy then go through the commission's stamped, audited copy path (I8, I12).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from banso.authz.policies import programme as policy
from banso.authz.principal import Principal
from banso.programme import commissions
from banso.sealed.store import SealedDeps


class ProgrammeCommissionFiler:
    """Files think-tank reports through ``banso.programme.commissions`` into its sealed store."""

    def __init__(self, store: SealedDeps) -> None:
        self.store = store

    def targets(self, session: Session, *, actor: Principal) -> list[tuple[int, str]]:
        """Return the active commissions ``actor`` works on (named and acknowledged), newest first."""
        return [(c.id, f"{c.title}（{c.code}）") for c in commissions.list_commissions(session, actor=actor)
                if policy.can_work_on(actor, commissions.parties(session, c))]

    def file(self, session: Session, *, commission_id: int, actor: Principal, now: datetime, title: str,
             filename: str, content: bytes, content_type: str) -> int:
        """Upload ``content`` as a deliverable (validated and sealed as any upload); return its id."""
        row = commissions.upload_deliverable(session, commission_id=commission_id, title=title, filename=filename,
                                             content=content, content_type=content_type, now=now, actor=actor,
                                             store=self.store)
        return row.id
