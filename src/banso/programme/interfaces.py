"""What the programme domain needs from other domains, as narrow Protocols (STYLE: external systems)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from banso.authz.principal import Principal


@dataclass(frozen=True)
class ProjectCouncil:
    """One council proposed for a project (the current one and those before it, issue 13)."""

    council_id: int
    title: str
    state: str


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
        representative_id: int | None = None,
        others: Mapping[int, str] | None = None,
    ) -> int:
        """Propose the project's council and return its id.

        ``founders`` are the project's researchers (required, C1); ``representative_id`` is the research
        representative whose consent establishes it (Art. 62); ``others`` are further founders by party type
        (funding agency staff, think tank contact; issue 13).
        """
        ...

    def is_established(self, session: Session, council_id: int) -> bool:
        """Return True once the council is established (and until it ends)."""
        ...

    def councils_of_project(self, session: Session, project_id: int) -> list[ProjectCouncil]:
        """Return every council proposed for the project, oldest first (history kept on re-proposal)."""
        ...

    def propose_member(self, session: Session, *, council_id: int, user_id: int, now: datetime,
                       actor: Principal) -> bool:
        """Invite someone added to the project's team to its council (they join by their own consent); return
        False when nothing was asked (council not operating, or already a member or invited)."""
        ...

    def remove_member(self, session: Session, *, council_id: int, user_id: int, reason: str, now: datetime,
                      actor: Principal) -> bool:
        """Remove someone taken off the project's team from its council with ``reason`` (C3); return False when
        they were not a member."""
        ...
