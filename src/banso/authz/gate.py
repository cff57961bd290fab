"""The one gate (DESIGN I12): the access facts of council content, loaded once, and the decisions made on them.

A path that lets content or its metadata out loads the facts here once per request —
:func:`item_access` for an item (the item, the person's standing in its council, the designation in
force and any open one, its scope, file range and handling: two statements at most, three for an anonymous reader) — and asks the
facts for a decision (:meth:`ItemAccess.decide`, pure rules in ``banso.authz.egress``). Callers pass
the :class:`ItemAccess` on instead of loading again; no path re-derives a flag. Notices are checked
here too, when they are written (:func:`readers`) and again when they are read or e-mailed
(:func:`knowable_subjects`), because a person's access can end between the two (C3, I7).

The SQL form of the read rule stays beside the Python form in ``banso.authz.policies.information``
(``restrict_items``, used by lists, counts, search and exports); the stateful model test checks they agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts.models import User
from banso.authz import egress
from banso.authz.permissions import Role
from banso.authz.policies import councils as council_policy
from banso.authz.policies import information as policy
from banso.authz.policies import programme as programme_policy
from banso.authz.policies.councils import Standing
from banso.authz.principal import AuthMethod, Principal
from banso.councils import repository as council_repo
from banso.councils.models import Consent, ConsentDecision, Council, Membership, Pledge
from banso.information.models import (
    Ballot,
    BallotKind,
    BallotState,
    Incident,
    Item,
    ItemState,
    ScopeEntry,
    ScopeKind,
    Vote,
)
from banso.kit.errors import NotFound
from banso.programme import repository as programme_repo
from banso.programme.models import Commission, CommissionRosterEntry, Proposal

# ---------------------------------------------------------------------------------------------
# Standing: what one person is to one council


def standing(session: Session, council_id: int, user_id: int) -> Standing | None:
    """Return ``user_id``'s standing in a council in one statement (None when the council is missing)."""
    return council_repo.standing_of(session, council_id, user_id)


def standings(session: Session, council_id: int, user_ids: Iterable[int]) -> dict[int, Standing]:
    """Return the standing of each of ``user_ids`` in a council (three statements, whatever their number)."""
    ids = sorted(set(user_ids))
    council = session.get(Council, council_id)
    if council is None or not ids:
        return {}
    roles: dict[int, str] = {user_id: role for user_id, role in session.execute(
        select(Membership.user_id, Membership.role).where(
            Membership.council_id == council_id, Membership.user_id.in_(ids), Membership.left_at.is_(None)))}
    pending = set(session.scalars(select(Consent.user_id).where(
        Consent.council_id == council_id, Consent.user_id.in_(ids), Consent.decision == ConsentDecision.PENDING.value)))
    pledged = set(session.scalars(select(Pledge.user_id).where(
        Pledge.council_id == council_id, Pledge.user_id.in_(ids), Pledge.duty_version == council.duty_version)))
    held = set(session.scalars(select(User.id).where(
        User.id.in_(ids), council_policy.export_hold_sql(council_id, User.id)))) if council.export_controlled else set()
    return {u: Standing(council_state=council.state, role=roles.get(u), pending_consent=u in pending,
                        pledge_current=u in pledged and u in roles, export_hold=u in held) for u in ids}


def requester(session: Session, actor: Principal) -> policy.Requester:
    """Return what the non-disclosure rule needs to know of ``actor`` besides the standing (I6, I13)."""
    org = accounts_repo.org_by_id(session, actor.organization_id)
    return policy.Requester(org_kind=org.kind if org is not None else None)


def recipient(user: User) -> Principal:
    """Return ``user`` as they would be signed in: a web session with their second factor if they enrolled one.

    Notices and e-mails are decided for this principal: what a person may be told is what they could read.
    """
    return Principal(user_id=user.id, email=user.email, name=user.name_ja, organization_id=user.organization_id,
                     roles=frozenset(Role(r) for r in user.roles), method=AuthMethod.SESSION,
                     mfa=bool(user.totp_enabled) and user.is_active)


# ---------------------------------------------------------------------------------------------
# Items


@dataclass(frozen=True)
class ItemAccess:
    """The access facts of one item for one person, loaded once (I12)."""

    actor: Principal | None
    item: Item
    standing: Standing | None
    facts: egress.ItemFacts
    designation: Ballot | None  # the designation in force (whole item or some files)
    pending: Ballot | None  # an open designation proposal
    ballots: tuple[Ballot, ...] = ()  # every proposal on the item, oldest first (loaded with the facts)
    council: Council | None = None  # the item's council when it came with the standing (pages show its title)

    @property
    def readable(self) -> bool:
        """Return True when the person may read the item (and so know it exists)."""
        return policy.can_read_item(self.actor, self.standing, self.facts.item)

    @property
    def scope(self) -> policy.Scope | None:
        """Return the scope of the whole-item designation in force."""
        return self.facts.item.scope

    @property
    def file_range(self) -> policy.FileRange | None:
        """Return the partial designation (open or in force) covering some files."""
        return self.facts.file_range

    def decide(self, way: egress.Egress, *, file_id: int | None = None, version: int | None = None) -> egress.Decision:
        """Return the egress decision for this person and item (see ``banso.authz.egress``)."""
        return egress.decide(self.actor, self.facts, way, file_id=file_id, version=version)

    def handling(self, file_id: int | None = None) -> list[str]:
        """Return the handling in force for the item, or for one file under a partial designation."""
        in_range = (file_id is not None and self.facts.file_range is not None
                    and file_id in self.facts.file_range.file_ids)
        return list(self.facts.range_handling if in_range else self.facts.handling)

    def for_actor(self, actor: Principal | None, standing: Standing | None) -> ItemAccess:
        """Return the same item's facts for another person (notices: the item's facts are loaded once)."""
        facts = egress.ItemFacts(item=self.facts.item, standing=standing, file_range=self.facts.file_range,
                                 handling=self.facts.handling, range_handling=self.facts.range_handling,
                                 current_version=self.facts.current_version)
        return ItemAccess(actor=actor, item=self.item, standing=standing, facts=facts,
                          designation=self.designation, pending=self.pending, ballots=self.ballots,
                          council=self.council)


def _scopes(session: Session, ballots: Sequence[Ballot]) -> dict[int, policy.Scope]:
    scoped = [b for b in ballots if b.scope_kind is not None]
    if not scoped:
        return {}
    users: dict[int, set[int]] = {b.id: set() for b in scoped}
    orgs: dict[int, set[int]] = {b.id: set() for b in scoped}
    for entry in session.scalars(select(ScopeEntry).where(ScopeEntry.ballot_id.in_([b.id for b in scoped]))):
        if entry.user_id is not None:
            users[entry.ballot_id].add(entry.user_id)
        if entry.organization_id is not None:
            orgs[entry.ballot_id].add(entry.organization_id)
    return {b.id: policy.Scope(kind=b.scope_kind or ScopeKind.NAMED.value, user_ids=frozenset(users[b.id]),
                               organization_ids=frozenset(orgs[b.id])) for b in scoped}


# Built once: constructing a statement costs more CPU than running it on an item read (the values are bound).
_BALLOTS_OF_ITEM = select(Ballot).where(Ballot.item_id == bindparam("item_id")).order_by(Ballot.id)
# The council row (the item page shows its title) and the item's proposals, one row each (none: one row
# with no proposal), come along at no extra statement.
_ITEM_WITH_STANDING = (select(Item, Council, Ballot,
                              *council_repo.standing_columns(Item.council_id, bindparam("user_id")))
                       .join(Council, Council.id == Item.council_id)
                       .outerjoin(Ballot, Ballot.item_id == Item.id)
                       .where(Item.id == bindparam("item_id")).order_by(Ballot.id))


def _item_facts(session: Session, item: Item, loaded: tuple[Ballot, ...] | None
                ) -> tuple[policy.ItemFacts, policy.FileRange | None, tuple[str, ...], tuple[str, ...], Ballot | None,
                           Ballot | None, tuple[Ballot, ...]]:
    """Load the item's proposals unless ``loaded`` (one statement; another for the scope of a scoped
    designation in force).

    All of them, not only the designation in force and an open one: the item page and the API list them,
    so the facts and the list come from the same read (I12).
    """
    ballots = loaded if loaded is not None else tuple(session.scalars(_BALLOTS_OF_ITEM, {"item_id": item.id}))
    current = next((b for b in ballots if b.id == item.current_designation_id), None)
    pending = next((b for b in ballots if b.id != item.current_designation_id
                    and b.state == BallotState.OPEN.value and b.kind == BallotKind.DESIGNATION.value), None)
    scopes = _scopes(session, [b for b in (current,) if b is not None])
    whole_scope = scopes.get(current.id) if current is not None and item.state == ItemState.DESIGNATED else None
    file_range: policy.FileRange | None = None
    if current is not None:
        if current.file_ids:
            file_range = policy.FileRange(file_ids=frozenset(current.file_ids), held=False,
                                          scope=scopes.get(current.id))
    elif pending is not None and pending.file_ids:
        file_range = policy.FileRange(file_ids=frozenset(pending.file_ids), held=True, scope=None)
    # The handling is fixed before the content is shared (I3): a proposal's handling binds the provider's
    # holders (the secretariat, I4) from the moment it is proposed, not only once it is accepted.
    whole = current if item.state == ItemState.DESIGNATED else (pending if item.state == ItemState.HELD else None)
    handling = tuple(whole.handling) if whole is not None and not whole.file_ids else ()
    in_range = current if current is not None else pending
    range_handling = tuple(in_range.handling) if in_range is not None and in_range.file_ids else ()
    facts = policy.ItemFacts(state=item.state, provider_id=item.provider_id, scope=whole_scope,
                             export_control=item.export_control)
    return facts, file_range, handling, range_handling, current, pending, ballots


def _access(session: Session, actor: Principal | None, item: Item, where: Standing | None,
            council: Council | None = None, loaded: tuple[Ballot, ...] | None = None) -> ItemAccess:
    facts, file_range, handling, range_handling, current, pending, ballots = _item_facts(session, item, loaded)
    return ItemAccess(actor=actor, item=item, standing=where,
                      facts=egress.ItemFacts(item=facts, standing=where, file_range=file_range, handling=handling,
                                             range_handling=range_handling, current_version=item.current_version),
                      designation=current, pending=pending, ballots=ballots, council=council)


def access_for(session: Session, actor: Principal | None, item: Item) -> ItemAccess:
    """Load the access facts of an item already in hand for ``actor``."""
    return _access(session, actor, item, None if actor is None else standing(session, item.council_id, actor.user_id))


def item_access(session: Session, actor: Principal | None, item_id: int) -> ItemAccess | None:
    """Load the access facts of item ``item_id`` for ``actor`` (None when there is no such item).

    The item, its council, the person's standing in it and the item's proposals come in one statement
    (a second for the scope of a scoped designation in force).
    """
    if actor is None:
        item = session.get(Item, item_id)
        return None if item is None else _access(session, None, item, None)
    rows = session.execute(_ITEM_WITH_STANDING, {"item_id": item_id, "user_id": actor.user_id}).all()
    if not rows:
        return None
    first = rows[0]
    return _access(session, actor, first[0], council_repo.standing_from(first[3:]), first[1],
                   tuple(row[2] for row in rows if row[2] is not None))


def readers(session: Session, access: ItemAccess, *, user_ids: Iterable[int] | None = None,
            way: egress.Egress = egress.Egress.NOTICE, file_id: int | None = None) -> list[int]:
    """Return the people (current members, or ``user_ids``) whom a notice about the item may name.

    Each is judged as they would be signed in with their own second factor (:func:`recipient`). With
    ``file_id`` the notice is about one file under a partial designation: only its readers are told.
    """
    council_id = access.item.council_id
    if user_ids is None:
        user_ids = session.scalars(select(Membership.user_id).where(
            Membership.council_id == council_id, Membership.left_at.is_(None)))
    ids = sorted(set(user_ids))
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    where = standings(session, council_id, ids)
    result = []
    for user_id in ids:
        user = users.get(user_id)
        if user is None or not user.is_active:
            continue
        them = access.for_actor(recipient(user), where.get(user_id))
        # A notice about one file under a partial designation goes to that file's readers only.
        if them.decide(egress.Egress.VIEW if file_id is not None else way, file_id=file_id).allowed:
            result.append(user_id)
    return result


# ---------------------------------------------------------------------------------------------
# Ballots


@dataclass(frozen=True)
class BallotAccess:
    """The access facts of one proposal for one person."""

    ballot: Ballot
    item: ItemAccess
    is_voter: bool

    @property
    def facts(self) -> egress.BallotFacts:
        """Return the pure facts the ballot decision takes."""
        return egress.BallotFacts(item=self.item.facts, is_voter=self.is_voter)

    def decide(self) -> egress.Decision:
        """Return whether the person may see the proposal (never the content, I4)."""
        return egress.decide_ballot(self.item.actor, self.facts)

    def may_vote(self) -> bool:
        """Return True when the person may vote on it now (I4, C3)."""
        return self.item.actor is not None and egress.may_vote(self.item.actor, self.facts)


def ballot_access(session: Session, actor: Principal, ballot: Ballot) -> BallotAccess:
    """Load the access facts of a proposal for ``actor``."""
    item = session.get(Item, ballot.item_id)
    assert item is not None  # foreign key
    is_voter = session.scalar(select(Vote.id).where(Vote.ballot_id == ballot.id, Vote.user_id == actor.user_id)
                              .limit(1)) is not None
    return BallotAccess(ballot=ballot, item=access_for(session, actor, item), is_voter=is_voter)


def ballot_recipients(session: Session, ballot: Ballot, user_ids: Iterable[int]) -> tuple[list[int], list[int]]:
    """Split ``user_ids`` into those who may see the proposal and those who may not (yet).

    The second group (a voter who has not signed the pledge, or has no second factor) may only be told that a
    vote awaits them in the council, never the proposal's title (C3, I4).
    """
    item = session.get(Item, ballot.item_id)
    assert item is not None
    base = access_for(session, None, item)
    ids = sorted(set(user_ids))
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    voters = set(session.scalars(select(Vote.user_id).where(Vote.ballot_id == ballot.id)))
    where = standings(session, ballot.council_id, ids)
    told: list[int] = []
    untold: list[int] = []
    for user_id in ids:
        user = users.get(user_id)
        if user is None or not user.is_active:
            continue
        facts = egress.BallotFacts(item=base.for_actor(recipient(user), where.get(user_id)).facts,
                                   is_voter=user_id in voters)
        (told if egress.decide_ballot(recipient(user), facts).allowed else untold).append(user_id)
    return told, untold


# ---------------------------------------------------------------------------------------------
# Proposals (F6): what one person is to one proposal, and its research-plan documents


def proposal_standing(session: Session, actor: Principal, proposal: Proposal,
                      now: datetime) -> programme_policy.ProposalStanding:
    """Load the facts about ``actor`` and ``proposal`` the programme policy decides on (team, panel, conflict, close)."""
    call = programme_repo.call_by_id(session, proposal.call_id)
    assert call is not None
    agency = programme_repo.agency_by_id(session, call.agency_id)
    assert agency is not None
    team = programme_repo.members(session, proposal.id)
    declaration = programme_repo.conflict(session, proposal.id, actor.user_id)
    return programme_policy.ProposalStanding(
        proposer_id=proposal.proposer_id, proposer_org_id=proposal.organization_id,
        team_user_ids=frozenset(m.user_id for m in team if m.user_id is not None),
        team_org_ids=frozenset(m.organization_id for m in team if m.organization_id is not None),
        agency_org_id=agency.organization_id,
        on_panel=programme_repo.panel_member(session, call.id, actor.user_id) is not None,
        conflict=None if declaration is None else declaration.has_conflict,
        state=proposal.state, call_closed=programme_policy.review_started(closes_at=call.closes_at, now=now),
        assigned=programme_repo.assignment(session, proposal.id, actor.user_id) is not None,
        has_assignments=programme_repo.has_assignments(session, proposal.id),
    )


@dataclass(frozen=True)
class PlanDocumentAccess:
    """The decision on one person and one proposal's research-plan documents, from facts loaded once (I12)."""

    proposal: Proposal
    standing: programme_policy.ProposalStanding
    readable: bool  # list, download (stamped, audited)
    may_upload: bool


def plan_document_access(session: Session, actor: Principal, proposal_id: int, now: datetime) -> PlanDocumentAccess:
    """Return the decision on ``proposal_id``'s documents for ``actor``; an unknown proposal is unreadable (404)."""
    proposal = programme_repo.proposal_by_id(session, proposal_id)
    if proposal is None:
        raise NotFound("見つかりません / not found")
    standing = proposal_standing(session, actor, proposal, now)
    return PlanDocumentAccess(proposal=proposal, standing=standing,
                              readable=programme_policy.can_read_plan_documents(actor, standing),
                              may_upload=programme_policy.can_upload_plan_document(actor, standing))


# ---------------------------------------------------------------------------------------------
# Notices: may this person still be told about this subject?


def _subject_allowed(session: Session, actor: Principal, subject: str,
                     councils: dict[int, Standing | None]) -> bool:
    parts = subject.split(":")
    kind, ident = parts[0], parts[1] if len(parts) > 1 else ""
    if not ident.isdigit():
        return True  # not council content (accounts, programme, …): the sender decided
    number = int(ident)
    if kind == "item":
        access = item_access(session, actor, number)
        return access is not None and access.decide(egress.Egress.NOTICE).allowed
    if kind == "ballot":
        ballot = session.get(Ballot, number)
        return ballot is not None and ballot_access(session, actor, ballot).decide().allowed
    if kind == "incident":
        # An incident notice (its title is the reporter's words) goes to the council's managers: shown while
        # they still manage it, and always to the reporter (I9, I7).
        incident = session.get(Incident, number)
        if incident is None:
            return False
        if incident.reported_by_id == actor.user_id:
            return True
        where = None if incident.council_id is None else standing(session, incident.council_id, actor.user_id)
        return policy.can_manage_incidents(actor, where)
    if kind == "commission" and len(parts) > 2:
        # "commission:5:request:9" names a request to the commission (Art. 64, issue 13): shown only while the
        # reader is on its roster and acknowledged; taken off the roster, the notice is gone at once (I7).
        return _engaged_in(session, actor, number)
    if kind == "council":
        if number not in councils:
            councils[number] = standing(session, number, actor.user_id)
        where = councils[number]
        if where is None or not council_policy.can_see_council(actor, where):
            return False
        # "council:12" names only what the public page shows; "council:12:meeting:3" names content.
        return len(parts) <= 2 or council_policy.can_read_content(actor, where)
    return True


def _engaged_in(session: Session, actor: Principal, commission_id: int) -> bool:
    commission = session.get(Commission, commission_id)
    if commission is None:
        return False
    roster = session.scalars(select(CommissionRosterEntry).where(CommissionRosterEntry.commission_id == commission_id,
                                                                 CommissionRosterEntry.user_id == actor.user_id))
    return programme_policy.is_contractor(actor, programme_policy.parties_of(commission, list(roster)))


def knowable_subjects(session: Session, actor: Principal, subjects: Iterable[str | None], *,
                      known: Mapping[int, Standing | None] | None = None) -> set[str]:
    """Return those of ``subjects`` that ``actor`` may still be told about (I7, I12: checked on every read).

    A person who left the council, lost their second factor, no longer holds the pledge for the duty in force,
    or reads through a token without council scope is no longer shown notices that name council content.
    """
    # ``known``: the actor's standings the caller loaded in this same request (a page), so not loaded twice;
    # nothing is kept across requests, so an access that ended is seen at once (I7).
    councils: dict[int, Standing | None] = dict(known or {})
    return {s for s in set(subjects) if s and _subject_allowed(session, actor, s, councils)}
