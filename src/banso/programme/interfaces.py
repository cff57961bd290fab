"""What the programme domain needs from other domains, as narrow Protocols (STYLE: external systems)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from banso.authz.principal import Principal


class CouncilGateway(Protocol):
    """The project council (協議会) a K Program project must have (C2)."""

    def open_for_project(
        self,
        session: Session,
        *,
        project_id: int,
        title: str,
        purpose: str,
        technology: str | None,
        founders: Sequence[int],
        proposer_id: int,
        now: datetime,
        actor: Principal,
    ) -> int:
        """Propose the project's council with ``founders`` (the project's researchers); return its id."""
        ...

    def is_established(self, session: Session, council_id: int) -> bool:
        """Return True once every founder has consented (and until the council ends)."""
        ...
