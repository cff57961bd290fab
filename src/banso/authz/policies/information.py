"""Who may know of, read and act on an information item (I2–I7) — the only place that decides it.

Two forms of the same rule live here side by side, and the model-based test checks they agree:
:func:`can_read_item` decides for one item already loaded (pages, files, API, notifications) and
:func:`restrict_items` turns the rule into SQL for everything that lists (lists, search, counts,
exports). There is no third path.

* **public** — anyone, signed in or not (I6: results are public by default).
* **council / scheduled / withheld** — council content access: a current member with a pledge for
  the duty in force, a second factor this session, the council operating (C3, I7).
* **held** (a designation proposal is open) — content access *and* being the provider or a
  member of the council's secretariat (I4: only they hold the content until the decision).
* **designated** — content access *and* (the provider, or in the designation's scope: every
  participant, the named organisations, or the named people) (I3, I7).
* **export-controlled** (F7) — a non-public item classified 該当 or 要確認 is held from a person of another
  nationality or with a foreign affiliation until the export-control officer clears them in the council
  (``Standing.export_hold``): 404 like any out-of-scope item, on every path. The provider is not held (it is
  their own technology); everything else in the council stays readable to them.

Out of scope is indistinguishable from missing: callers raise 404 (``require_visible``).
Voters see a *proposal* (title, summary, reason, scope, period) through :func:`can_see_ballot`,
never the content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select

from banso.authz.permissions import Permission, Role
from banso.authz.policies import councils as council_policy
from banso.authz.policies.councils import MANAGER_ROLES, OPERATING, Standing
from banso.authz.principal import Principal
from banso.councils.models import Council, CouncilRole, Membership, Pledge
from banso.information.models import (
    CONTROLLED_VERDICTS,
    Ballot,
    Handling,
    Incident,
    Item,
    ItemState,
    ScopeEntry,
    ScopeKind,
)

COUNCIL_WIDE = frozenset({ItemState.COUNCIL, ItemState.SCHEDULED, ItemState.WITHHELD})


@dataclass(frozen=True)
class Scope:
    """The scope of the designation in force on an item."""

    kind: str
    user_ids: frozenset[int]
    organization_ids: frozenset[int]


@dataclass(frozen=True)
class ItemFacts:
    """The facts about one item the policy decides on."""

    state: str
    provider_id: int
    scope: Scope | None  # the designation in force (state designated), else None
    export_control: str | None = None  # F7: the classification verdict in force (ExportVerdict value)

    @property
    def controlled(self) -> bool:
        """Return True when the item is classified 該当 or 要確認 (F7) and not public."""
        return self.export_control in CONTROLLED_VERDICTS and self.state != ItemState.PUBLIC


def in_scope(actor: Principal, scope: Scope | None) -> bool:
    """Return True when ``actor`` falls inside a designation's scope (I3)."""
    if scope is None:
        return False
    if scope.kind == ScopeKind.ALL:
        return True
    if scope.kind == ScopeKind.ORGANISATIONS:
        return actor.organization_id in scope.organization_ids or actor.user_id in scope.user_ids
    return actor.user_id in scope.user_ids


def can_read_item(actor: Principal | None, standing: Standing | None, item: ItemFacts) -> bool:
    """Return True when ``actor`` may read the item's content (and so know that it exists)."""
    if item.state == ItemState.PUBLIC:
        return True
    if actor is None or standing is None or not council_policy.can_read_content(actor, standing):
        return False  # I7: session + second factor + current pledge + operating council
    if item.provider_id == actor.user_id:
        return True
    if item.controlled and standing.export_hold:
        return False  # F7: deemed export held until the export-control officer clears the person
    if item.state in COUNCIL_WIDE:
        return True
    if item.state == ItemState.HELD:
        return standing.role == CouncilRole.SECRETARIAT  # I4: provider and secretariat only (not the chair)
    if item.state == ItemState.DESIGNATED:
        return in_scope(actor, item.scope)
    return False


@dataclass(frozen=True)
class FileRange:
    """A designation that covers only some files of an item (I3: range), open or in force."""

    file_ids: frozenset[int]
    held: bool  # the vote is open: only provider and secretariat hold these files (I4)
    scope: Scope | None  # the scope in force once accepted


def can_read_file(actor: Principal | None, standing: Standing | None, item: ItemFacts, file_id: int,
                  file_range: FileRange | None) -> bool:
    """Return True when ``actor`` may read one file of an item.

    A file outside any partial designation follows the item. A file inside one needs council
    content access whatever the item's state (even a published result's designated attachment) and
    then the provider, the secretariat while the vote is open, or the scope once accepted.
    """
    if not can_read_item(actor, standing, item):
        return False
    if file_range is None or file_id not in file_range.file_ids:
        return True
    if actor is None or standing is None or not council_policy.can_read_content(actor, standing):
        return False
    if item.provider_id == actor.user_id:
        return True
    if file_range.held:
        return standing.role == CouncilRole.SECRETARIAT
    return in_scope(actor, file_range.scope)


NO_DOWNLOAD = frozenset({Handling.VIEW_ONLY.value, Handling.NO_DOWNLOAD.value})  # forbid taking a copy (I3)


def can_download(actor: Principal, item: ItemFacts, handling: Sequence[str]) -> bool:
    """A reader may take a copy unless the designation's handling forbids it; the provider always may."""
    return item.provider_id == actor.user_id or not NO_DOWNLOAD & set(handling)


def can_manage_item(actor: Principal, standing: Standing, item: ItemFacts) -> bool:
    """Provider, chair or secretariat may edit, propose designations and publish (with read access)."""
    return can_read_item(actor, standing, item) and (
        item.provider_id == actor.user_id or standing.role in MANAGER_ROLES
    )


def can_contribute(actor: Principal, standing: Standing) -> bool:
    """Any participant with content access may provide an item to the council."""
    return council_policy.can_read_content(actor, standing)


# The statutory party type of a needs ministry's membership (issue 13, "members" branch); until memberships
# carry it, a needs ministry is recognised by the member's organisation being a ministry (accounts OrgKind).
NEEDS_MINISTRY = "needs_ministry"
MINISTRY_ORG = "ministry"
_OFFICER_ROLES = frozenset({Role.OFFICER, Role.NEEDS_OFFICER})


@dataclass(frozen=True)
class Requester:
    """What the policy needs to know of a would-be requester beyond the standing (loaded by the gate)."""

    org_kind: str | None  # the kind of the person's organisation (accounts.models.OrgKind)
    party: str | None = None  # the member's statutory party type, once memberships carry one


def can_request_nondisclosure(actor: Principal, standing: Standing, requester: Requester) -> bool:
    """Who may file a non-disclosure request (非公開要請, I6, I13) — the one rule, used by the page, the API
    and the service alike.

    A current member of the council with content access (pledge, second factor, operating council) who is
    an officer of a government ministry taking part: the organising ministry's officers (they propose
    councils), and the officers of a needs ministry (ニーズ省庁) that is a member of the council (I13).
    """
    if not council_policy.can_read_content(actor, standing):
        return False
    if actor.has(Permission.COUNCIL_PROPOSE):
        return True  # the organising ministry (所管省庁), as before
    if not actor.roles & _OFFICER_ROLES:
        return False  # a ministry's people who are no officers (an administrator, say) do not speak for it
    return requester.party == NEEDS_MINISTRY or requester.org_kind == MINISTRY_ORG


def can_propose_withheld_review(actor: Principal, standing: Standing, item: ItemFacts, requester: Requester) -> bool:
    """Who may put a withheld result to a unanimous vote — to keep it withheld past its review date, or to
    release it before (I6, I13): those who may request non-disclosure, and the result's provider, chair and
    secretariat (who may manage it)."""
    return can_request_nondisclosure(actor, standing, requester) or can_manage_item(actor, standing, item)


def can_see_ballot(actor: Principal, standing: Standing, *, is_voter: bool, item: ItemFacts) -> bool:
    """Voters, the proposer's side (readers of the item) and managers see a proposal — never the content.

    F7: a proposal names its item (title, summary), so a person held from a classified item does not see a
    proposal on it either — voter or manager alike — until the export-control officer clears them (the
    provider is never held). A unanimous vote therefore waits for that clearance.
    """
    if not council_policy.can_see_council(actor, standing) or not standing.is_member:
        return False
    if item.controlled and standing.export_hold and item.provider_id != actor.user_id:
        return False
    return is_voter or can_read_item(actor, standing, item) or standing.role in MANAGER_ROLES


def can_vote(actor: Principal, standing: Standing) -> bool:
    """A voter must still be a current member of an operating council with a second factor."""
    return (standing.is_member and standing.council_state in OPERATING and actor.mfa
            and actor.has(Permission.COUNCIL_PARTICIPATE))


def can_manage_incidents(actor: Principal, standing: Standing | None) -> bool:
    """The council's secretariat/chair works incidents (I9); an auditor may read them."""
    return standing is not None and council_policy.can_manage(actor, standing)


def can_work_incident(actor: Principal, standing: Standing | None, *, council_id: int | None) -> bool:
    """Who works an incident (I9): the council's chair or secretariat with content access; an incident
    outside any council (platform-wide attribution), an auditor."""
    if council_id is None:
        return actor.has(Permission.AUDIT_LOG_READ)
    return can_manage_incidents(actor, standing)


def can_see_incident(actor: Principal, *, works_it: bool, is_reporter: bool) -> bool:
    """An incident is shown to those who work it, to auditors and to its reporter (redacted, I9)."""
    return works_it or is_reporter or actor.has(Permission.AUDIT_LOG_READ)


def sees_attribution(actor: Principal, *, works_it: bool) -> bool:
    """Only those who work an incident, and auditors, see whom a leaked copy was attributed to (I9)."""
    return works_it or actor.has(Permission.AUDIT_LOG_READ)


def may_report_to_council(actor: Principal, standing: Standing | None) -> bool:
    """A report names a council only its current members know of (I7: else it answers like a missing one)."""
    return standing is not None and council_policy.can_see_council(actor, standing) and standing.is_member


def can_read_minimality(actor: Principal, standing: Standing | None) -> bool:
    """A council's minimality report (I10): its members with content access, and auditors."""
    return actor.has(Permission.AUDIT_LOG_READ) or (
        standing is not None and council_policy.can_read_content(actor, standing))


# ---------------------------------------------------------------------------------------------
# The same rule in SQL (lists, search, counts, exports)


def restrict_incidents(stmt: Select[Any], actor: Principal) -> Select[Any]:
    """Restrict a query that selects from ``Incident`` to those ``actor`` may see (:func:`can_see_incident`)."""
    if actor.has(Permission.AUDIT_LOG_READ):
        return stmt
    works = council_policy.reads_content_of(Incident.council_id, actor, managers_only=True)
    return stmt.where(or_(Incident.reported_by_id == actor.user_id, works))


def restrict_minimality(stmt: Select[Any], actor: Principal) -> Select[Any]:
    """Restrict a query that selects from ``Council`` to those whose minimality report ``actor`` may read."""
    if actor.has(Permission.AUDIT_LOG_READ):
        return stmt
    return stmt.where(council_policy.reads_content_of(Council.id, actor))


def restrict_items(stmt: Select[Any], actor: Principal | None) -> Select[Any]:
    """Restrict a query that selects from ``Item`` to the items ``actor`` may read.

    Mirrors :func:`can_read_item` exactly; ``tests/information/test_stateful.py`` checks that both
    give the same answer after every step of a random designation lifecycle.
    """
    public = Item.state == ItemState.PUBLIC.value
    if actor is None or not actor.mfa or not actor.has(Permission.COUNCIL_PARTICIPATE):
        return stmt.where(public)
    member = exists().where(Membership.council_id == Item.council_id, Membership.user_id == actor.user_id,
                            Membership.left_at.is_(None))
    secretariat = exists().where(Membership.council_id == Item.council_id, Membership.user_id == actor.user_id,
                                 Membership.left_at.is_(None), Membership.role == CouncilRole.SECRETARIAT.value)
    pledged = exists().where(Pledge.council_id == Item.council_id, Pledge.user_id == actor.user_id,
                             Pledge.duty_version == Council.duty_version, Council.id == Item.council_id)
    operating = exists().where(Council.id == Item.council_id,
                               Council.state.in_([s.value for s in OPERATING]))
    scoped = exists().where(
        Ballot.id == Item.current_designation_id,
        or_(Ballot.scope_kind == ScopeKind.ALL.value,
            exists().where(ScopeEntry.ballot_id == Ballot.id,
                           or_(ScopeEntry.user_id == actor.user_id,
                               and_(Ballot.scope_kind == ScopeKind.ORGANISATIONS.value,
                                    ScopeEntry.organization_id == actor.organization_id)))),
    )
    content = and_(member, pledged, operating)
    held = _export_held(actor)
    by_state = or_(
        Item.provider_id == actor.user_id,
        and_(~held, or_(
            Item.state.in_([s.value for s in COUNCIL_WIDE]),
            and_(Item.state == ItemState.HELD.value, secretariat),
            and_(Item.state == ItemState.DESIGNATED.value, scoped),
        )),
    )
    return stmt.where(or_(public, and_(content, by_state)))


def _export_held(actor: Principal) -> ColumnElement[bool]:
    # F7: a classified item is held from a foreign person not cleared in its council (Standing.export_hold)
    return and_(Item.export_control.in_(sorted(CONTROLLED_VERDICTS)),
                council_policy.export_hold_sql(Item.council_id, actor.user_id))


def minimality_counts(actor: Principal) -> ColumnElement[bool]:
    """The condition, on ``Item`` (or a query joined to it), of the items a council's minimality report (I10)
    counts for ``actor``: every item of the council but those held from them under F7 (their own excepted).

    The report counts out-of-scope designated items on purpose — every participant votes on every designation,
    so the numbers tell them nothing new — but a held person neither reads nor sees the proposals on a
    classified item (:func:`can_see_ballot`), so for them it does not exist, in counts too (I7).
    """
    return or_(Item.provider_id == actor.user_id, ~_export_held(actor))


def readable_items(actor: Principal | None) -> Select[Any]:
    """Return the query of every item ``actor`` may read, newest first."""
    return restrict_items(select(Item), actor).order_by(Item.id.desc())


# ---------------------------------------------------------------------------------------------
# Openness by agreement (I13): nobody opens what another provided


def can_publish_early(actor: Principal, standing: Standing, item: ItemFacts) -> bool:
    """Only the provider may publish their own item before its time (I13: the provider's consent).

    A result still waits for the end of its prior-notice window; the service checks the date.
    """
    return can_read_item(actor, standing, item) and item.provider_id == actor.user_id


def can_propose_publication(actor: Principal, standing: Standing, item: ItemFacts) -> bool:
    """The chair or secretariat may propose publishing another's item early, to a unanimous vote (I13)."""
    return (can_read_item(actor, standing, item) and item.provider_id != actor.user_id
            and standing.role in MANAGER_ROLES)


def can_read_version(actor: Principal | None, standing: Standing | None, item: ItemFacts, *, current: bool) -> bool:
    """Return True when ``actor`` may read one version (body or files) of an item (I13).

    Only the current version of a public item is public: an earlier one was never published, so
    it needs the same council content access as a council-shared item.
    """
    if current or item.state != ItemState.PUBLIC:
        return can_read_item(actor, standing, item)
    council_shared = ItemFacts(state=ItemState.COUNCIL.value, provider_id=item.provider_id, scope=None,
                               export_control=item.export_control)
    return can_read_item(actor, standing, council_shared)


def may_declare_researcher_generated(actor: Principal, *, researcher_ids: frozenset[int]) -> bool:
    """Only the researchers of the council's project file results as researcher-generated (I1, I13)."""
    return actor.user_id in researcher_ids


def can_add_version(actor: Principal, standing: Standing, item: ItemFacts) -> bool:
    """Only the provider revises their item, and a published item is final (I1, I13): a chair or secretariat
    must not put their own words under another's name, and new content on the public portal would skip the
    prior-notice window — a revised result is filed as a new item with its own window."""
    return (can_read_item(actor, standing, item) and item.provider_id == actor.user_id
            and item.state != ItemState.PUBLIC)


def can_classify(actor: Principal | None, standing: Standing | None, item: ItemFacts) -> bool:
    """The export-control officer (輸出管理責任者) who can read a non-public item records its classification
    (該非判定, F7). A public item is outside the regime (公知の技術) and is not classified."""
    return (actor is not None and actor.has(Permission.EXPORT_CONTROL) and item.state != ItemState.PUBLIC
            and can_read_item(actor, standing, item))
