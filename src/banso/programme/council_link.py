"""The real CouncilGateway: the councils domain (``banso.councils.service``) opens the project council.

C2: adopting a K Program project opens its council proposal automatically. A council is
proposed by a ministry officer (C1), so the call's officer (所管省庁の担当官, ``Call.officer_id``)
is the proposer (typed by their organisation: organising ministry or funding agency); the project's
researchers are required founders, the research representative's consent establishes the council
(Art. 62), and the adopting agency staff member and the think tank's contact are proposed as founders
who join by their own consent (issue 13).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts import service as accounts
from banso.authz.principal import AuthMethod, Principal
from banso.kit.errors import ValidationFailed
from banso.programme.interfaces import ProjectCouncil

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
        representative_id: int | None = None,
        others: Mapping[int, str] | None = None,
    ) -> int:
        """Propose the council as the call's officer, typed by party (issue 13).

        The researchers are required founders (C1); the research representative's consent establishes the
        council (Art. 62); ``others`` (agency staff, the think tank's contact) join by their own consent.
        """
        from banso.councils import membership
        from banso.councils import service as councils

        officer = accounts_repo.user_by_id(session, proposer_id)
        if officer is None or not officer.is_active:
            raise ValidationFailed("公募の所管省庁担当官が有効な利用者ではないため協議会を開けません / the call's ministry officer is not an active user; cannot open the council",
                                   field="officer_id")
        proposer = accounts.principal_for(officer, method=AuthMethod.SESSION, mfa=officer.totp_enabled)
        researchers = sorted({uid for uid in founders if uid != proposer_id})
        lead = representative_id if representative_id in researchers else (researchers[0] if researchers else None)
        specs = [councils.FounderSpec(user_id=uid, party=(membership.PartyType.RESEARCH_REPRESENTATIVE if uid == lead
                                                          else membership.PartyType.PARTICIPANT).value)
                 for uid in researchers]
        specs += [councils.FounderSpec(user_id=uid, party=membership.parse_party(party).value)
                  for uid, party in sorted((others or {}).items()) if uid != proposer_id and uid not in researchers]
        council = councils.propose(
            session,
            actor=proposer,
            now=now,
            title_ja=f"{title} 協議会"[:200],
            title_en=f"Council of K Program project {project_id}",
            purpose=purpose,
            consent_deadline=now + timedelta(days=self.consent_days),
            founders=specs,
            technology=technology,
            project_ref=project_ref(project_id),
            required_person_ids=researchers,
            proposer_party=membership.party_for_org_kind(officer.organization.kind).value,
        )
        return council.id

    def is_established(self, session: Session, council_id: int) -> bool:
        """Return True while the council is established or active."""
        from banso.councils import repository as councils_repo
        from banso.councils.models import CouncilState

        council = councils_repo.council_by_id(session, council_id)
        return council is not None and council.state in (CouncilState.ESTABLISHED, CouncilState.ACTIVE)

    def councils_of_project(self, session: Session, project_id: int) -> list[ProjectCouncil]:
        """Return every council proposed for the project, oldest first (a lapsed one stays on record)."""
        from banso.councils import repository as councils_repo

        return [ProjectCouncil(council_id=c.id, title=c.title_ja, state=c.state)
                for c in councils_repo.councils_by_project_ref(session, project_ref(project_id))]

    def propose_member(self, session: Session, *, council_id: int, user_id: int, now: datetime,
                       actor: Principal) -> bool:
        """Invite a newcomer to the project's team as a participant, with the consent deadline of founders."""
        from banso.councils import service as councils

        return councils.invite_for_project(session, council_id=council_id, actor=actor, now=now, user_id=user_id,
                                           deadline=now + timedelta(days=self.consent_days)) is not None

    def remove_member(self, session: Session, *, council_id: int, user_id: int, reason: str, now: datetime,
                      actor: Principal) -> bool:
        """Remove someone who left the project's team, with the reason (the pledge and duty remain, C3)."""
        from banso.councils import service as councils

        return councils.remove_for_project(session, council_id=council_id, actor=actor, now=now, user_id=user_id,
                                           reason=reason) is not None


def project_ref(project_id: int) -> str:
    """Return the ``Council.project_ref`` of a K Program project."""
    return f"programme:project:{project_id}"
