"""Every query of the information domain: items, versions, files, proposals and votes.

The service keeps the rules (I1–I13); this module only reads and locks rows. Access facts (an item with
the reader's standing, its proposals and scopes) are loaded by the gate (``banso.authz.gate``, I12).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from banso.authz.policies import information as policy
from banso.authz.policies import programme as programme_policy
from banso.authz.principal import Principal
from banso.councils.models import Membership
from banso.information.models import (
    CONTROLLED_VERDICTS,
    Ballot,
    BallotKind,
    BallotState,
    ExclusionClaim,
    ExclusionState,
    ExportClassification,
    Item,
    ItemFile,
    ItemState,
    ItemVersion,
    ScopeEntry,
    Vote,
    VoteDecision,
)


def item_by_id(session: Session, item_id: int) -> Item | None:
    """Return the item with this id."""
    return session.get(Item, item_id)


def lock_item(session: Session, item_id: int) -> Item | None:
    """Return the item locked for update with its current values (``SELECT … FOR UPDATE`` on PostgreSQL).

    SQLite's transactions already hold the write lock (BEGIN IMMEDIATE); ``populate_existing``
    reads the values again either way, in case another transaction changed them meanwhile.
    """
    stmt = select(Item).where(Item.id == item_id).with_for_update().execution_options(populate_existing=True)
    return session.scalar(stmt)


def file_by_id(session: Session, file_id: int) -> ItemFile | None:
    """Return the file with this id."""
    return session.get(ItemFile, file_id)


def ballot_by_id(session: Session, ballot_id: int) -> Ballot | None:
    """Return the proposal with this id."""
    return session.get(Ballot, ballot_id)


def version_row(session: Session, item_id: int, version: int) -> ItemVersion | None:
    """Return one version of an item (with its sealed body)."""
    return session.scalar(select(ItemVersion).where(ItemVersion.item_id == item_id, ItemVersion.version == version))


_VERSIONS_AND_FILES = (select(ItemVersion, ItemFile)
                       .outerjoin(ItemFile, and_(ItemFile.item_id == ItemVersion.item_id,
                                                 ItemFile.version == ItemVersion.version))
                       .where(ItemVersion.item_id == bindparam("item_id"))
                       .order_by(ItemVersion.version.desc(), ItemFile.id))  # built once: read on every item read


def versions_and_files(session: Session, item_id: int) -> tuple[list[ItemVersion], list[ItemFile]]:
    """Return an item's versions (newest first) and files (newest version first, then by id) in one statement.

    Each file belongs to exactly one version, so joining files to their version repeats no file.
    """
    rows = session.execute(_VERSIONS_AND_FILES, {"item_id": item_id}).all()
    versions = list(dict.fromkeys(version for version, _ in rows))
    files = [file for _, file in rows if file is not None]
    return versions, files


def file_ids_of(session: Session, item_id: int) -> set[int]:
    """Return the ids of an item's files."""
    return set(session.scalars(select(ItemFile.id).where(ItemFile.item_id == item_id)))


def has_open_ballot(session: Session, item_id: int) -> bool:
    """Return True when a vote on the item is open."""
    return session.scalar(select(Ballot.id).where(Ballot.item_id == item_id, Ballot.state == BallotState.OPEN.value)
                          .limit(1)) is not None


def open_ballots_of(session: Session, item_id: int) -> list[Ballot]:
    """Return the open votes on an item."""
    return list(session.scalars(select(Ballot).where(Ballot.item_id == item_id,
                                                     Ballot.state == BallotState.OPEN.value)))


def council_ballots(session: Session, council_id: int) -> list[Ballot]:
    """Return a council's proposals, newest first."""
    return list(session.scalars(select(Ballot).where(Ballot.council_id == council_id).order_by(Ballot.id.desc())))


def items_by_ids(session: Session, item_ids: Sequence[int] | set[int]) -> dict[int, Item]:
    """Return the items with these ids, by id."""
    ids = set(item_ids)
    return {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(ids)))} if ids else {}


def ballots_voted_by(session: Session, user_id: int, ballot_ids: Sequence[int]) -> set[int]:
    """Return those of ``ballot_ids`` on which ``user_id`` is a voter."""
    if not ballot_ids:
        return set()
    return set(session.scalars(select(Vote.ballot_id).where(Vote.user_id == user_id,
                                                            Vote.ballot_id.in_(list(ballot_ids)))))


def pending_ballots_of(session: Session, user_id: int) -> list[Ballot]:
    """Return the open proposals awaiting ``user_id``'s answer, soonest deadline first."""
    return list(session.scalars(select(Ballot).join(Vote, Vote.ballot_id == Ballot.id)
                                .where(Vote.user_id == user_id, Vote.decision == VoteDecision.PENDING.value,
                                       Ballot.state == BallotState.OPEN.value).order_by(Ballot.deadline)))


def votes_of(session: Session, ballot_id: int) -> list[Vote]:
    """Return the votes on a proposal, in the order they were asked."""
    return list(session.scalars(select(Vote).where(Vote.ballot_id == ballot_id).order_by(Vote.id)))


def vote_of(session: Session, ballot_id: int, user_id: int, *, lock: bool = False) -> Vote | None:
    """Return ``user_id``'s vote on a proposal (locked for update when asked)."""
    stmt = select(Vote).where(Vote.ballot_id == ballot_id, Vote.user_id == user_id)
    return session.scalar(stmt.with_for_update() if lock else stmt)


def decision_of(session: Session, ballot_id: int, user_id: int) -> str | None:
    """Return ``user_id``'s answer on a proposal, if they are a voter."""
    return session.scalar(select(Vote.decision).where(Vote.ballot_id == ballot_id, Vote.user_id == user_id))


def scope_entries(session: Session, ballot_id: int) -> list[ScopeEntry]:
    """Return the scope entries of a proposal."""
    return list(session.scalars(select(ScopeEntry).where(ScopeEntry.ballot_id == ballot_id)))


def current_members(session: Session, council_id: int) -> list[Membership]:
    """Return a council's current members, in the order they joined."""
    return list(session.scalars(select(Membership).where(Membership.council_id == council_id,
                                                         Membership.left_at.is_(None)).order_by(Membership.id)))


def project_people(session: Session, council_id: int) -> tuple[list[int], list[int]]:
    """Return the team members and the leads of the projects linked to a council (C1, I1)."""
    # The project tables are programme's (above information): authz, which reads every domain's
    # tables for its access facts, holds the statements.
    team = session.scalars(programme_policy.council_project_team(council_id)).all()
    leads = session.scalars(programme_policy.council_project_leads(council_id)).all()
    return [u for u in team if u is not None], list(leads)


def due_ballots(session: Session, now: datetime) -> list[Ballot]:
    """Return the open proposals whose deadline has passed, oldest first."""
    return list(session.scalars(select(Ballot).where(Ballot.state == BallotState.OPEN.value,
                                                     Ballot.deadline <= now).order_by(Ballot.id)))


def designated_items(session: Session) -> list[Item]:
    """Return the items with a designation in force."""
    return list(session.scalars(select(Item).where(Item.current_designation_id.is_not(None)).order_by(Item.id)))


def held_until(session: Session, item_id: int) -> datetime | None:
    """Return when the last rejected designation of the whole item stopped holding it (None: never held so)."""
    rows = session.execute(select(Ballot.decided_at, Ballot.file_ids).where(
        Ballot.item_id == item_id, Ballot.kind == BallotKind.DESIGNATION.value,
        Ballot.state == BallotState.REJECTED.value)).all()
    # A partial designation (file_ids) never held the item itself: its body stayed with the council.
    return max((decided for decided, file_ids in rows if decided is not None and not file_ids), default=None)


def withheld_reviews(session: Session) -> list[tuple[Item, Ballot]]:
    """Return each withheld result with the accepted ballot that withholds it (its ``ends_at`` is the review
    date, I6, I13): the non-disclosure request or the accepted renewal of it in force."""
    rows = session.execute(
        select(Item, Ballot).join(Ballot, Ballot.item_id == Item.id)
        .where(Item.state == ItemState.WITHHELD.value, Ballot.state == BallotState.ACCEPTED.value,
               Ballot.kind.in_((BallotKind.NONDISCLOSURE.value, BallotKind.WITHHOLD_RENEWAL.value)))
        .order_by(Item.id, Ballot.id.desc())).all()
    latest: dict[int, tuple[Item, Ballot]] = {}
    for item, ballot in rows:
        latest.setdefault(item.id, (item, ballot))
    return list(latest.values())


def scheduled_due(session: Session, now: datetime) -> list[Item]:
    """Return the scheduled items whose publication date has come."""
    return list(session.scalars(select(Item).where(Item.state == ItemState.SCHEDULED.value,
                                                   Item.publish_at <= now).order_by(Item.id)))


def public_items(session: Session, *, limit: int, offset: int) -> list[Item]:
    """Return published items, newest first."""
    return list(session.scalars(select(Item).where(Item.state == ItemState.PUBLIC.value)
                                .order_by(Item.published_at.desc(), Item.id.desc()).limit(limit).offset(offset)))


def _public_matching(text: str | None, council_ids: Sequence[int] | None) -> Select[Item]:
    stmt = select(Item).where(Item.state == ItemState.PUBLIC.value)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Item.title.ilike(pattern, escape="\\"), Item.summary.ilike(pattern, escape="\\")))
    if council_ids is not None:
        stmt = stmt.where(Item.council_id.in_(list(council_ids)))
    return stmt


def public_search(session: Session, *, text: str | None, council_ids: Sequence[int] | None, limit: int,
                  offset: int) -> tuple[list[Item], int]:
    """Return one page of published items whose title or summary holds ``text`` (any case), newest first, and how
    many match in all; ``council_ids`` narrows to those councils' items (the portal's technology facet)."""
    stmt = _public_matching(text, council_ids)
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = session.scalars(stmt.order_by(Item.published_at.desc(), Item.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def public_councils_matching(session: Session, *, text: str | None) -> dict[int, int]:
    """Return, per council, how many published items match ``text`` (the counts of the portal's facets)."""
    sub = _public_matching(text, None).subquery()
    rows = session.execute(select(sub.c.council_id, func.count()).group_by(sub.c.council_id))
    return {int(cid): int(n) for cid, n in rows}


def readable_items(session: Session, actor: Principal | None, *, council_id: int | None, state: ItemState | None,
                   limit: int, offset: int) -> list[Item]:
    """Return the items ``actor`` may read (the SQL twin of the read rule, I7), optionally of one council/state."""
    stmt = policy.readable_items(actor)
    if council_id is not None:
        stmt = stmt.where(Item.council_id == council_id)
    if state is not None:
        stmt = stmt.where(Item.state == state.value)
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def count_readable_items(session: Session, actor: Principal | None, *, council_id: int | None) -> int:
    """Count the items ``actor`` may read (the same rule as :func:`readable_items`)."""
    stmt = policy.restrict_items(select(func.count()).select_from(Item), actor)
    if council_id is not None:
        stmt = stmt.where(Item.council_id == council_id)
    return int(session.scalar(stmt) or 0)


def live_decisions(session: Session, ballot_id: int) -> list[tuple[int, str]]:
    """Return (voter, answer) of every vote on a proposal."""
    return [(user_id, decision) for user_id, decision in session.execute(
        select(Vote.user_id, Vote.decision).where(Vote.ballot_id == ballot_id))]


def claims_on(session: Session, *, item_id: int | None = None, statement_id: int | None = None,
              claimant_id: int | None = None, states: Sequence[str] = ()) -> list[ExclusionClaim]:
    """Return exclusion claims on one item or one oral statement, optionally of one claimant and in ``states``."""
    query = select(ExclusionClaim).where(ExclusionClaim.item_id == item_id if item_id is not None
                                         else ExclusionClaim.statement_id == statement_id)
    if claimant_id is not None:
        query = query.where(ExclusionClaim.claimant_id == claimant_id)
    if states:
        query = query.where(ExclusionClaim.state.in_(list(states)))
    return list(session.scalars(query.order_by(ExclusionClaim.id)))


def open_claims_in(session: Session, council_ids: Sequence[int]) -> list[ExclusionClaim]:
    """Return the claims awaiting a decision or a confirmation in these councils, oldest first (the home)."""
    if not council_ids:
        return []
    return list(session.scalars(select(ExclusionClaim).where(
        ExclusionClaim.council_id.in_(list(council_ids)),
        ExclusionClaim.state.in_([ExclusionState.FILED.value, ExclusionState.PROPOSED.value]))
        .order_by(ExclusionClaim.id)))


def claim_by_id(session: Session, claim_id: int) -> ExclusionClaim | None:
    """Return the exclusion claim with this id."""
    return session.get(ExclusionClaim, claim_id)


# ---------------------------------------------------------------------------------------------
# Export control (F7)


def holds_controlled(session: Session, council_id: int) -> bool:
    """Return True when the council holds a non-public item classified 該当 or 要確認."""
    return bool(session.scalar(select(exists().where(
        Item.council_id == council_id, Item.export_control.in_(sorted(CONTROLLED_VERDICTS)),
        Item.state != ItemState.PUBLIC.value))))


def classifications(session: Session, item_id: int) -> list[ExportClassification]:
    """Return the item's classifications, newest first."""
    return list(session.scalars(select(ExportClassification).where(ExportClassification.item_id == item_id)
                                .order_by(ExportClassification.id.desc())))
