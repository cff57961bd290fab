"""The real CouncilGateway: the councils domain (``banso.councils.service``) opens the project council.

C2: adopting a K Program project opens its council proposal automatically. A council is
proposed by a ministry officer (C1), so the call's officer (所管省庁の担当官, ``Call.officer_id``)
is the proposer; the project's researchers are the founders whose consent is required. The
adopting agency staff member is recorded in the programme's own audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts import service as accounts
from banso.authz.principal import AuthMethod, Principal
from banso.kit.errors import ValidationFailed

CONSENT_DAYS = 30  # founders' consent deadline after adoption


class CouncilsServiceGateway:
    """Open and query project councils through ``banso.councils``."""

    def __init__(self, *, consent_days: int = CONSENT_DAYS) -> None:
        self.consent_days = consent_days

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
        """Propose the council as the call's officer, with the project's researchers as required founders."""
        from banso.councils import service as councils

        officer = accounts_repo.user_by_id(session, proposer_id)
        if officer is None or not officer.is_active:
            raise ValidationFailed("the call's ministry officer is not an active user; cannot open the council",
                                   field="officer_id")
        proposer = accounts.principal_for(officer, method=AuthMethod.SESSION, mfa=officer.totp_enabled)
        researchers = sorted({uid for uid in founders if uid != proposer_id})
        council = councils.propose(
            session,
            actor=proposer,
            now=now,
            title_ja=f"{title} 協議会"[:200],
            title_en=f"Council of K Program project {project_id}",
            purpose=purpose,
            consent_deadline=now + timedelta(days=self.consent_days),
            founders=[councils.FounderSpec(user_id=uid) for uid in researchers],
            technology=technology,
            project_ref=f"programme:project:{project_id}",
            required_person_ids=researchers,
        )
        return council.id

    def is_established(self, session: Session, council_id: int) -> bool:
        """Return True while the council is established or active."""
        from banso.councils import repository as councils_repo
        from banso.councils.models import CouncilState

        council = councils_repo.council_by_id(session, council_id)
        return council is not None and council.state in (CouncilState.ESTABLISHED, CouncilState.ACTIVE)
