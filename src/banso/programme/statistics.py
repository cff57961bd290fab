"""Call statistics for the funding agency (issue 15, F6): proposals per call by status, the adoption rate and the
review progress (reviewers assigned, conflicts declared, scores in) — for the staff of the call's agency only.

Drafts (一時保存) are the applicants' own and never counted. Amounts are whole yen here; pages and workbooks show
them in 千円 (``kit/japanese.format_sen``, ``programme.budget.thousand_yen``). Reading them is audited (A1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.policies import programme as policy
from banso.authz.principal import Principal
from banso.kit.errors import Forbidden
from banso.programme import repository as repo
from banso.programme import service
from banso.programme.models import Call, ProposalState


@dataclass(frozen=True)
class CallStats:
    """One call's figures."""

    call: Call
    submitted: int  # 審査中 (submitted, not yet decided)
    adopted: int
    rejected: int
    withdrawn: int
    requested_yen: int  # over every proposal counted (not withdrawn)
    adopted_yen: int
    assigned: int  # reviewer assignments (per proposal)
    declared: int  # conflict-of-interest declarations
    scored: int  # scores submitted

    @property
    def proposals(self) -> int:
        """Proposals received and not withdrawn."""
        return self.submitted + self.adopted + self.rejected

    @property
    def adoption_rate(self) -> float | None:
        """Adopted over decided (adopted + rejected); None before any decision."""
        decided = self.adopted + self.rejected
        return round(self.adopted / decided, 3) if decided else None


def _stats_of(session: Session, call: Call, actor: Principal, now: datetime) -> CallStats:
    proposals = [p for p in repo.proposals(session, policy.visible_proposals(actor, now=now, call_id=call.id))
                 if p.state != ProposalState.DRAFT]
    live = [p for p in proposals if p.state != ProposalState.WITHDRAWN]
    ids = [p.id for p in live]

    def count(state: ProposalState) -> int:
        return sum(1 for p in proposals if p.state == state)

    return CallStats(call=call, submitted=count(ProposalState.SUBMITTED), adopted=count(ProposalState.ADOPTED),
                     rejected=count(ProposalState.REJECTED), withdrawn=count(ProposalState.WITHDRAWN),
                     requested_yen=sum(p.total_yen for p in live),
                     adopted_yen=sum(p.total_yen for p in live if p.state == ProposalState.ADOPTED),
                     assigned=len(repo.assignments(session, ids)), declared=len(repo.conflicts_on(session, ids)),
                     scored=len(repo.scores_on(session, ids)))


def call_statistics(session: Session, *, actor: Principal, now: datetime, audited: bool = True) -> list[CallStats]:
    """Return the figures of every call of the agencies ``actor`` staffs, newest first (403 for anyone else)."""
    agencies = {a.id for a in repo.agencies(session) if policy.is_agency_staff(actor, a.organization_id)}
    if not agencies:
        raise Forbidden("公募統計は配分機関の担当者のみ閲覧できます / only agency staff read call statistics")
    rows = [_stats_of(session, call, actor, now) for call in service.list_calls(session, actor=actor)
            if call.agency_id in agencies]
    if audited:
        audit.record_for(session, AuditTag.PROGRAMME_STATISTICS_READ, now=now, actor=actor,
                         subject="programme:statistics", data={"calls": len(rows)})
    return rows
