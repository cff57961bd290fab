"""Who may see and do what in a council (C1–C6, I7) — the only place that decides it.

Levels, from the outside in:

* **Outsider** — no current membership and no pending invitation: every council resource
  answers 404 and the council never appears in lists. A member who *left* is an outsider
  again at once (C3); their pledge record stays.
* **Public page** — a current member (any role, pledged or not) or a person with a pending
  founding/join consent sees the council's public page: title, purpose, linked technology and
  project, state, deadline, the members list (names, organisations, roles — a participant must
  know with whom they would share before pledging) and the bylaws (they consent to and pledge
  on them). Nothing else.
* **Content** — meetings, agendas, minutes, decisions, action items, material requests and
  their files: a current member with a pledge for the duty version in force, a second factor
  for this session, and the council established or active. Observers count as members here
  (they sign the same pledge). Anyone short of that gets 404, like an outsider.
* **Manage** — content access and the role chair or secretariat (事務局): meetings, minutes,
  decisions, action items, material requests, invitations, roles, activation, dissolution.
* **Propose** — ministry officers (``Permission.COUNCIL_PROPOSE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select
from sqlalchemy.orm import aliased

from banso.accounts.models import User
from banso.authz.permissions import Permission
from banso.authz.principal import Principal
from banso.councils.models import (
    ClearanceState,
    Consent,
    ConsentDecision,
    Council,
    CouncilRole,
    CouncilState,
    ExportClearance,
    Membership,
    Pledge,
)

MANAGER_ROLES = frozenset({CouncilRole.CHAIR, CouncilRole.SECRETARIAT})
OPERATING = frozenset({CouncilState.ESTABLISHED, CouncilState.ACTIVE})


@dataclass(frozen=True)
class Standing:
    """What one person is to one council: the facts the policy decides on."""

    council_state: str
    role: str | None  # role of the current membership; None when not a current member
    pending_consent: bool  # an unanswered founding or join consent
    pledge_current: bool  # a pledge for the council's duty version in force
    # F7: the person is of another nationality or foreign-affiliated and the export-control officer has not
    # cleared them in this council: items classified 該当/要確認 are held from them (deemed export, みなし輸出).
    export_hold: bool = False

    @property
    def is_member(self) -> bool:
        """Return True for a current member (not left)."""
        return self.role is not None


def can_propose(actor: Principal) -> bool:
    """Ministry officers propose councils (C1)."""
    return actor.has(Permission.COUNCIL_PROPOSE)


def can_see_council(actor: Principal, standing: Standing) -> bool:
    """Current members and invited people see the public page; everyone else gets 404."""
    if not actor.has(Permission.COUNCIL_PARTICIPATE):
        return False
    return standing.is_member or standing.pending_consent


def content_block_reason(actor: Principal, standing: Standing) -> str | None:
    """Return why non-public content is closed to ``actor`` (None when it is open)."""
    if not can_see_council(actor, standing) or not standing.is_member:
        return "not_a_member"
    if standing.council_state not in OPERATING:
        return "council_not_operating"
    if not standing.pledge_current:
        return "pledge_required"  # C3
    if not actor.mfa:
        return "second_factor_required"  # I7
    return None


def can_read_content(actor: Principal, standing: Standing) -> bool:
    """Non-public content needs membership, a current pledge, a second factor and an operating council."""
    return content_block_reason(actor, standing) is None


def can_manage(actor: Principal, standing: Standing) -> bool:
    """Chair and secretariat run the council day to day (with content access)."""
    return can_read_content(actor, standing) and standing.role in MANAGER_ROLES


def can_manage_lifecycle(actor: Principal, standing: Standing) -> bool:
    """Activation and dissolution: a chair or secretariat member with a second factor (pledge not needed)."""
    return standing.role in MANAGER_ROLES and actor.mfa and can_see_council(actor, standing)


def can_amend_bylaws(actor: Principal, standing: Standing) -> bool:
    """Chair or secretariat propose a bylaws amendment (with a second factor; no pledge needed: the bylaws are
    not council content); it takes effect only by every member's vote (issue 13, I4)."""
    return can_manage_lifecycle(actor, standing)


def can_see_bylaws_proposals(actor: Principal, standing: Standing) -> bool:
    """Current members see amendment proposals and their votes (the bylaws they are bound by)."""
    return can_see_council(actor, standing) and standing.is_member


def can_vote_bylaws(actor: Principal, standing: Standing) -> bool:
    """A current member other than an observer votes on an amendment of an operating council, signed in with a
    second factor (a binding decision, as a designation vote, I4)."""
    return (can_see_bylaws_proposals(actor, standing) and standing.role != CouncilRole.OBSERVER
            and standing.council_state in OPERATING and actor.mfa)


def can_act_on_item(actor: Principal, standing: Standing, *, assignee_id: int) -> bool:
    """An action item is completed by its assignee or a manager."""
    return can_read_content(actor, standing) and (actor.user_id == assignee_id or can_manage(actor, standing))


def can_answer_request(actor: Principal, standing: Standing, *, addressee_id: int) -> bool:
    """A material request is answered by its addressee or a manager (C6)."""
    return can_read_content(actor, standing) and (actor.user_id == addressee_id or can_manage(actor, standing))


def can_download_pledge(actor: Principal, standing: Standing, *, is_signer: bool) -> bool:
    """A signed pledge goes to its signer while a member, or to a manager of the council (C3)."""
    return (is_signer and standing.is_member) or can_manage(actor, standing)


def reads_content_of(council_id: Any, actor: Principal, *, managers_only: bool = False) -> ColumnElement[bool]:
    """The SQL twin of :func:`can_read_content` (with ``managers_only``, of :func:`can_manage`) for the council
    ``council_id`` (a column): for lists that keep only the councils whose content ``actor`` reads."""
    if not actor.mfa or not actor.has(Permission.COUNCIL_PARTICIPATE):
        return false()
    member = and_(Membership.council_id == council_id, Membership.user_id == actor.user_id,
                  Membership.left_at.is_(None))
    if managers_only:
        member = and_(member, Membership.role.in_([r.value for r in MANAGER_ROLES]))
    pledged = exists().where(Pledge.council_id == council_id, Pledge.user_id == actor.user_id,
                             Pledge.duty_version == Council.duty_version, Council.id == council_id)
    operating = exists().where(Council.id == council_id, Council.state.in_([s.value for s in OPERATING]))
    return and_(exists().where(member), pledged, operating)


def restrict_visible(stmt: Select[tuple[Council]], actor: Principal) -> Select[tuple[Council]]:
    """Restrict a council query to the councils ``actor`` may know exist (lists, counts, search)."""
    if not actor.has(Permission.COUNCIL_PARTICIPATE):
        return stmt.where(Council.id.is_(None))
    member = exists().where(
        Membership.council_id == Council.id, Membership.user_id == actor.user_id, Membership.left_at.is_(None)
    )
    invited = exists().where(
        Consent.council_id == Council.id, Consent.user_id == actor.user_id,
        Consent.decision == ConsentDecision.PENDING.value,
    )
    return stmt.where(or_(member, invited))


def visible_councils(actor: Principal) -> Select[tuple[Council]]:
    """Return the query of every council ``actor`` may see, newest first."""
    return restrict_visible(select(Council), actor).order_by(Council.id.desc())


# Confidentiality scope (issue 13): oral statements and exclusion claims


def can_designate_statement(actor: Principal, standing: Standing, *, speaker_id: int) -> bool:
    """A written designation of an oral statement is filed by its speaker or by the chair/secretariat."""
    return can_read_content(actor, standing) and (actor.user_id == speaker_id or standing.role in MANAGER_ROLES)


def can_claim_exclusion(actor: Principal, standing: Standing) -> bool:
    """Any current member bound by the duty (who can read the content) may claim an exclusion for themselves."""
    return can_read_content(actor, standing)


def can_decide_exclusion(actor: Principal, standing: Standing, *, claimant_id: int) -> bool:
    """The secretariat decides a claim (never on its own claim); the chair confirms it (two people)."""
    return (can_read_content(actor, standing) and standing.role == CouncilRole.SECRETARIAT
            and actor.user_id != claimant_id)


def can_confirm_exclusion(actor: Principal, standing: Standing, *, claimant_id: int, decided_by_id: int | None) -> bool:
    """The chair confirms the secretariat's decision: a different person from the decider and the claimant."""
    return (can_read_content(actor, standing) and standing.role == CouncilRole.CHAIR
            and actor.user_id not in (claimant_id, decided_by_id))


# ---------------------------------------------------------------------------------------------
# Deemed export (F7): who is held from a council's classified items until the export-control officer clears them

HOME_COUNTRY = "JP"


def is_foreign(nationality: str | None, foreign_affiliation: str | None) -> bool:
    """Return True for a person of another nationality or with a foreign affiliation (F7: みなし輸出の対象)."""
    return (nationality is not None and nationality.upper() != HOME_COUNTRY) or bool(foreign_affiliation)


def foreign_sql(user_id: Any) -> ColumnElement[bool]:
    """The SQL form of :func:`is_foreign` for the person ``user_id`` (a value, a column or a bound parameter)."""
    person = aliased(User)  # an alias: ``user_id`` may be the outer query's own ``User.id`` (correlated, not shadowed)
    return exists().where(person.id == user_id, or_(
        and_(person.nationality.is_not(None), person.nationality != HOME_COUNTRY),
        and_(person.foreign_affiliation.is_not(None), person.foreign_affiliation != "")))


def export_hold_sql(council_id: Any, user_id: Any) -> ColumnElement[bool]:
    """True when ``user_id`` is foreign and not cleared in ``council_id`` (the standing's ``export_hold``)."""
    cleared = exists().where(ExportClearance.council_id == council_id, ExportClearance.user_id == user_id,
                             ExportClearance.state == ClearanceState.CLEARED.value)
    return and_(foreign_sql(user_id), ~cleared)


def is_clearance_officer(actor: Principal, standing: Standing) -> bool:
    """The export-control officer (輸出管理責任者) of a council: the role's permission and content access to the
    council (C3, I7). Others do not learn that a check exists (404)."""
    return actor.has(Permission.EXPORT_CONTROL) and can_read_content(actor, standing)


def can_decide_clearance(actor: Principal, standing: Standing, *, person_id: int) -> bool:
    """The council's export-control officer clears or refuses a person's access to its classified items (F7) —
    never their own check: an officer who is himself foreign is cleared by another officer (no self-clearance)."""
    return is_clearance_officer(actor, standing) and person_id != actor.user_id


def restrict_clearances(stmt: Select[Any], actor: Principal) -> Select[Any]:
    """Restrict a query that selects from ``ExportClearance`` to those ``actor`` decides
    (:func:`can_decide_clearance`: not the officer's own check)."""
    if not actor.has(Permission.EXPORT_CONTROL):
        return stmt.where(false())
    return stmt.where(reads_content_of(ExportClearance.council_id, actor), ExportClearance.user_id != actor.user_id)
