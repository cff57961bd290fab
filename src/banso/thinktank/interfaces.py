"""The think tank's port to the commissions (DESIGN F5, T6): filing a report as a commission's deliverable.

The think tank and the K Program sit side by side in the layers and know nothing of each other; the
composition root wires the real filer (``banso.app.commission_filing``) over the commissions service,
so the commission's own rules (Art. 64 roster, acknowledgement, active state) and its sealed store
decide and keep the filed copy (I11, I12).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.web.context import AppContext


@runtime_checkable
class CommissionFiler(Protocol):
    """Where a think-tank report may be filed as a commission deliverable, and the filing itself."""

    def targets(self, session: Session, *, actor: Principal) -> list[tuple[int, str]]:
        """Return the commissions ``actor`` may file a deliverable into now (id, title)."""
        ...

    def file(self, session: Session, *, commission_id: int, actor: Principal, now: datetime, title: str,
             filename: str, content: bytes, content_type: str) -> int:
        """File one file as a deliverable of the commission (the commission's rules decide); return its id."""
        ...


def commission_filer(ctx: AppContext) -> CommissionFiler:
    """Return the commission filer the composition root wired (``banso.app.commission_filing``)."""
    return ctx.collaborators.get(CommissionFiler)  # type: ignore[type-abstract]
