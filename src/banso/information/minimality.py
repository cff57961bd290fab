"""The minimality view (I10): is designation (指定) kept the exception it must be (I2)?

Per council: how many items there are and in which state, the share designated, how long the
accepted designation periods are, how many designations end within 30 and 90 days, how renewals,
designation proposals and non-disclosure requests (非公開要請) were decided; the review dates of the
withheld results and how their reviews ended (renewed, released at the review date, released early by
vote; issue 13, I13) — dates and counts, never which result.

Who sees it, and why that is safe: a council's report is shown to its current members with
content access (membership, a current pledge, a second factor, an operating council — the same
test as any council content), and to holders of ``Permission.AUDIT_LOG_READ``, who can read every
designation event in the audit log anyway. Everyone else gets 404. The report holds aggregates
only — counts and period lengths, never a title, an item id, a scope or a person. Every
participant votes on every designation proposal, renewal and non-disclosure request of the
council (I4, I6: unanimity), so the counts reveal nothing members do not already know from the
ballots; what stays hidden from an out-of-scope member is *which* item is designated and what it
holds (I7), and the report names none. (Observers, who do not vote, and members who joined after
a vote learn only these numbers — the view I10 asks for.) One exception (F7): items held from a foreign
member not yet cleared, and the proposals on them, are left out of that member's report — they do not see those
proposals either, so the numbers would tell them what the hold hides.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.authz.policies import information as policy
from banso.authz.principal import Principal
from banso.councils import repository as council_repo
from banso.councils.models import Council
from banso.information.models import Ballot, BallotKind, BallotState, Item, ItemState
from banso.kit.errors import NotFound

SOON = (timedelta(days=30), timedelta(days=90))
_AGREED = (BallotState.ACCEPTED.value, BallotState.LAPSED.value)  # a lapsed ballot had been accepted


@dataclass
class MinimalityReport:
    """Aggregates of one council (or, with ``council_id`` None, of several)."""

    council_id: int | None
    council_title: str
    items: int = 0
    by_state: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in ItemState})
    designated_share: float = 0.0
    designation_days: list[int] = field(default_factory=list)
    median_days: float | None = None
    max_days: int | None = None
    expiring_30: int = 0
    expiring_90: int = 0
    renewals_accepted: int = 0
    renewals_rejected: int = 0
    proposals_accepted: int = 0
    proposals_rejected: int = 0
    nondisclosure_requested: int = 0
    nondisclosure_accepted: int = 0
    nondisclosure_rejected: int = 0
    nondisclosure_open: int = 0
    # Withheld results (I6, I13): their review dates (dates only: never which result) and how reviews ended
    withheld_reviews: list[datetime] = field(default_factory=list)
    withheld_review_30: int = 0  # review dates within 30 days
    withheld_renewed: int = 0  # accepted renewals of withholding
    withheld_renewal_rejected: int = 0
    withheld_released_at_review: int = 0  # released at the review date (no renewal)
    withheld_released_by_vote: int = 0  # released earlier by a unanimous vote


def _finish(report: MinimalityReport) -> MinimalityReport:
    days = sorted(report.designation_days)
    report.designation_days = days
    report.designated_share = report.by_state[ItemState.DESIGNATED.value] / report.items if report.items else 0.0
    report.median_days = float(statistics.median(days)) if days else None
    report.max_days = days[-1] if days else None
    return report


def _period_days(ballots: list[Ballot]) -> list[int]:
    """Return each accepted designation's period in days, from its decision to its effective end.

    An accepted renewal (I5) extends the period of the designation it renews, so a designation
    renewed twice counts once, from the first decision to the last agreed end.
    """
    by_id = {b.id: b for b in ballots}
    end: dict[int, datetime] = {}
    for ballot in ballots:
        if ballot.kind == BallotKind.DESIGNATION and ballot.state in _AGREED and ballot.ends_at is not None:
            end[ballot.id] = ballot.ends_at
    for ballot in sorted(ballots, key=lambda b: b.id):
        if ballot.kind != BallotKind.RENEWAL or ballot.state not in _AGREED or ballot.ends_at is None:
            continue
        root = ballot
        seen = set()
        while root.kind == BallotKind.RENEWAL and root.renews_id in by_id and root.id not in seen:
            seen.add(root.id)
            root = by_id[root.renews_id]
        if root.id in end:
            end[root.id] = max(end[root.id], ballot.ends_at)
    days = []
    for ballot_id, ends_at in end.items():
        decided = by_id[ballot_id].decided_at
        if decided is not None:
            days.append(max(0, round((ends_at - decided).total_seconds() / 86400)))
    return days


def _withheld(report: MinimalityReport, ballots: list[Ballot], *, by_state: dict[str, int], now: datetime) -> None:
    """Fill in the withheld results' review dates and the outcomes of their reviews (I6, I10, I13)."""
    withholding = (BallotKind.NONDISCLOSURE.value, BallotKind.WITHHOLD_RENEWAL.value)
    reviews = sorted(b.ends_at for b in ballots if b.kind in withholding and b.state == BallotState.ACCEPTED.value
                     and b.ends_at is not None)
    report.withheld_reviews = reviews
    report.withheld_review_30 = sum(1 for r in reviews if now < r <= now + SOON[0])
    renew, release = BallotKind.WITHHOLD_RENEWAL.value, BallotKind.RELEASE.value
    report.withheld_renewed = sum(1 for b in ballots if b.kind == renew and b.state in _AGREED)
    report.withheld_renewal_rejected = sum(1 for b in ballots if b.kind == renew and b.state == BallotState.REJECTED)
    report.withheld_released_by_vote = sum(1 for b in ballots if b.kind == release and b.state == BallotState.ACCEPTED)
    # A withholding ballot lapses when a renewal replaces it, an early release is accepted, or the review date
    # passes; only the last releases at the review: the lapse happened at or after its date.
    report.withheld_released_at_review = sum(
        1 for b in ballots if b.kind in withholding and b.state == BallotState.LAPSED.value
        and b.ends_at is not None and b.lapsed_at is not None and b.lapsed_at >= b.ends_at)


def _report(session: Session, council: Council, *, actor: Principal, now: datetime) -> MinimalityReport:
    report = MinimalityReport(council_id=council.id, council_title=council.title_ja)
    counted = policy.minimality_counts(actor)  # F7: nothing held from the viewer counts
    for state, count in session.execute(select(Item.state, func.count()).where(Item.council_id == council.id, counted)
                                        .group_by(Item.state)).all():
        report.by_state[str(state)] = int(count)
        report.items += int(count)
    ballots = list(session.scalars(select(Ballot).join(Item, Item.id == Ballot.item_id)
                                   .where(Ballot.council_id == council.id, counted)))
    tally = Counter((b.kind, b.state) for b in ballots)
    for kind in (BallotKind.DESIGNATION, BallotKind.RENEWAL):
        accepted = sum(tally[(kind.value, s)] for s in _AGREED)
        rejected = tally[(kind.value, BallotState.REJECTED.value)]
        if kind == BallotKind.DESIGNATION:
            report.proposals_accepted, report.proposals_rejected = accepted, rejected
        else:
            report.renewals_accepted, report.renewals_rejected = accepted, rejected
    nd = BallotKind.NONDISCLOSURE.value
    report.nondisclosure_requested = sum(n for (kind, _), n in tally.items() if kind == nd)
    # an accepted request lapses when its result is released or its withholding renewed: it was accepted all the same
    report.nondisclosure_accepted = sum(tally[(nd, s)] for s in _AGREED)
    report.nondisclosure_rejected = tally[(nd, BallotState.REJECTED.value)]
    report.nondisclosure_open = tally[(nd, BallotState.OPEN.value)]
    report.designation_days = _period_days(ballots)
    _withheld(report, ballots, by_state=report.by_state, now=now)
    # Designations in force now, by the end of the designation currently in force (I5).
    in_force = session.scalars(select(Ballot.ends_at).join(Item, Item.current_designation_id == Ballot.id)
                               .where(Item.council_id == council.id, Item.state == ItemState.DESIGNATED.value,
                                      counted))
    for ends_at in in_force:
        if ends_at is None or ends_at <= now:
            continue
        report.expiring_30 += int(ends_at <= now + SOON[0])
        report.expiring_90 += int(ends_at <= now + SOON[1])
    return _finish(report)


def council_minimality(session: Session, *, council_id: int, actor: Principal, now: datetime) -> MinimalityReport:
    """Return one council's minimality report (404 unless a member with content access, or an auditor)."""
    found = council_repo.council_with_standing(session, council_id, actor.user_id)
    if found is None or not policy.can_read_minimality(actor, found[1]):
        raise NotFound("協議会が見つかりません / council not found")
    council = found[0]
    return _report(session, council, actor=actor, now=now)


def _total(reports: list[MinimalityReport]) -> MinimalityReport:
    total = MinimalityReport(council_id=None, council_title="合計 / all councils")
    for r in reports:
        total.items += r.items
        for state, count in r.by_state.items():
            total.by_state[state] = total.by_state.get(state, 0) + count
        total.designation_days.extend(r.designation_days)
        total.withheld_reviews = sorted([*total.withheld_reviews, *r.withheld_reviews])
        for name in ("expiring_30", "expiring_90", "renewals_accepted", "renewals_rejected", "proposals_accepted",
                     "proposals_rejected", "nondisclosure_requested", "nondisclosure_accepted",
                     "nondisclosure_rejected", "nondisclosure_open", "withheld_review_30", "withheld_renewed",
                     "withheld_renewal_rejected", "withheld_released_at_review", "withheld_released_by_vote"):
            setattr(total, name, getattr(total, name) + getattr(r, name))
    return _finish(total)


def platform_minimality(session: Session, *, actor: Principal,
                        now: datetime) -> tuple[MinimalityReport, list[MinimalityReport]]:
    """Return the totals and per-council reports over every council ``actor`` may see the report of."""
    councils = list(session.scalars(policy.restrict_minimality(select(Council), actor).order_by(Council.id)))
    reports = [_report(session, council, actor=actor, now=now) for council in councils]
    return _total(reports), reports
