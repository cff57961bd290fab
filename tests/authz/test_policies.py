"""Pure properties of the access predicates in ``authz/policies`` (accounts, content, councils, information),
over generated principals, standings and item facts (Hypothesis).

Three kinds of property, each tied to the design's rules:

* **monotonicity** — more rights (more platform roles, a wider token, a second factor, a current pledge, a
  pending invitation, a wider designation scope) never take access away;
* **refusals** — ex-members, strangers, the unpledged, sessions without a second factor and observers are
  refused what C3, I3, I4, I7 and I13 keep from them;
* **containment** — a stronger right implies the weaker one it builds on (manage ⇒ read, file ⇒ item, an
  earlier version ⇒ the current one), and the audit listing filter agrees with the one-entry predicate.

The egress gate over these predicates has its own properties in ``test_egress.py``; the SQL twins are
checked against the predicates on generated database worlds in ``test_policy_twins.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from banso.authz.permissions import Permission, Role
from banso.authz.policies import accounts, content
from banso.authz.policies import councils as council_policy
from banso.authz.policies import information as policy
from banso.authz.policies.councils import Standing
from banso.authz.principal import AuthMethod, Principal
from banso.councils.models import CouncilRole, CouncilState
from banso.information.models import Handling, ItemState, ScopeKind

USERS = st.integers(1, 4)
ORGS = st.integers(1, 3)
# Mostly people with a platform role and a plain session (or a full token): the cases where council facts decide.
ROLES = st.one_of(st.frozensets(st.sampled_from(list(Role)), min_size=1, max_size=3),
                  st.frozensets(st.sampled_from(list(Role)), max_size=3))
SCOPES_OF_TOKENS = st.one_of(st.none(), st.none(), st.none(), st.frozensets(st.sampled_from(list(Permission))))
# The design's words, spelled out here rather than imported, so that a mutated policy cannot move the oracle.
MANAGER_ROLES = frozenset({CouncilRole.CHAIR.value, CouncilRole.SECRETARIAT.value})
OPERATING = frozenset({CouncilState.ESTABLISHED.value, CouncilState.ACTIVE.value})


def _principal(user_id: int, org: int, roles: frozenset[Role], mfa: bool,
               token_scopes: frozenset[Permission] | None) -> Principal:
    return Principal(user_id=user_id, email=f"u{user_id}@example.jp", name="u", organization_id=org, roles=roles,
                     method=AuthMethod.SESSION if token_scopes is None else AuthMethod.TOKEN, mfa=mfa,
                     token_scopes=token_scopes)


principals = st.builds(_principal, USERS, ORGS, ROLES, st.integers(0, 3).map(bool), SCOPES_OF_TOKENS)
# Mostly insiders (a role in an operating council, pledged), so that the cases where the item's own facts
# decide come up often; the rest cover every way of standing outside.
insiders = st.builds(Standing, council_state=st.sampled_from(sorted(OPERATING)),
                     role=st.sampled_from([r.value for r in CouncilRole]), pending_consent=st.booleans(),
                     pledge_current=st.just(True))
anyone = st.builds(Standing, council_state=st.sampled_from([s.value for s in CouncilState]),
                   role=st.one_of(st.none(), st.sampled_from([r.value for r in CouncilRole])),
                   pending_consent=st.booleans(), pledge_current=st.booleans())
standings = st.one_of(insiders, anyone)
scopes = st.builds(policy.Scope, kind=st.sampled_from([k.value for k in ScopeKind]),
                   user_ids=st.frozensets(USERS), organization_ids=st.frozensets(ORGS))


@st.composite
def items(draw: st.DrawFn) -> policy.ItemFacts:
    state = draw(st.sampled_from([s.value for s in ItemState]))
    return policy.ItemFacts(state=state, provider_id=draw(USERS),
                            scope=draw(scopes) if state == ItemState.DESIGNATED else None)


file_ranges = st.one_of(st.none(), st.builds(policy.FileRange, file_ids=st.frozensets(st.integers(1, 3), min_size=1),
                                             held=st.booleans(), scope=st.one_of(st.none(), scopes)))


def _keep(draw: st.DrawFn) -> bool:
    return draw(st.integers(0, 2)) > 0  # keep a right two times in three: one missing right at a time is common


@st.composite
def principal_pairs(draw: st.DrawFn) -> tuple[Principal, Principal]:
    """A person and the same person with some of their rights taken away: fewer roles, a narrower token, no
    second factor. Returned as (weaker, stronger)."""
    strong = draw(principals)
    roles = frozenset(r for r in strong.roles if _keep(draw))
    if strong.token_scopes is None:
        scopes = None if _keep(draw) else frozenset(p for p in strong.permissions if _keep(draw))
    else:
        scopes = frozenset(p for p in strong.token_scopes if _keep(draw))
    weak = _principal(strong.user_id, strong.organization_id, roles, strong.mfa and _keep(draw), scopes)
    return weak, strong


@st.composite
def standing_pairs(draw: st.DrawFn) -> tuple[Standing, Standing]:
    """A standing and the same standing without its current pledge or its pending invitation (or both).
    Returned as (weaker, stronger)."""
    high = draw(standings)
    low = replace(high, pledge_current=high.pledge_current and _keep(draw),
                  pending_consent=high.pending_consent and _keep(draw))
    return low, high


# ---------------------------------------------------------------------------------------------
# Councils (C1–C6, I7)

COUNCIL_PREDICATES: dict[str, Callable[[Principal, Standing], bool]] = {
    "see": council_policy.can_see_council,
    "read": council_policy.can_read_content,
    "manage": council_policy.can_manage,
    "lifecycle": council_policy.can_manage_lifecycle,
    "bylaws": council_policy.can_amend_bylaws,
    "act_on_own_item": lambda a, s: council_policy.can_act_on_item(a, s, assignee_id=a.user_id),
    "answer_own_request": lambda a, s: council_policy.can_answer_request(a, s, addressee_id=a.user_id),
    "answer_someone_elses": lambda a, s: council_policy.can_answer_request(a, s, addressee_id=a.user_id + 10),
}


@settings(max_examples=400)
@given(actors=principal_pairs(), pair=standing_pairs())
def test_more_rights_never_close_a_council(actors: tuple[Principal, Principal],
                                          pair: tuple[Standing, Standing]) -> None:
    """Monotonicity: more roles, a wider token, a second factor, a current pledge or an invitation never
    take council access away."""
    (weak, strong), (low, high) = actors, pair
    for name, allowed in COUNCIL_PREDICATES.items():
        if allowed(weak, low):
            assert allowed(strong, high), name


@settings(max_examples=400)
@given(actor=principals, standing=standings)
def test_council_content_needs_membership_pledge_second_factor_and_an_operating_council(
        actor: Principal, standing: Standing) -> None:
    """C3, I7: content (and anything built on it) is closed to ex-members and strangers, to the unpledged,
    to a session without a second factor and while the council is not operating."""
    if council_policy.can_read_content(actor, standing):
        assert standing.role is not None and standing.pledge_current and actor.mfa
        assert standing.council_state in OPERATING and actor.has(Permission.COUNCIL_PARTICIPATE)
    for name in ("manage", "act_on_own_item", "answer_own_request", "answer_someone_elses"):
        if COUNCIL_PREDICATES[name](actor, standing):
            assert council_policy.can_read_content(actor, standing), name
    if council_policy.can_manage(actor, standing) or council_policy.can_manage_lifecycle(actor, standing):
        assert standing.role in MANAGER_ROLES  # observers and members never run the council


@settings(max_examples=200)
@given(actor=principals, standing=standings)
def test_ex_members_and_strangers_see_nothing_of_a_council(actor: Principal, standing: Standing) -> None:
    """C3: who left (or was never asked) is an outsider at once: not even the public page."""
    gone = replace(standing, role=None, pending_consent=False)
    assert not any(allowed(actor, gone) for allowed in COUNCIL_PREDICATES.values())
    invited = replace(standing, role=None, pending_consent=True)  # sees the public page, never the content
    assert not council_policy.can_read_content(actor, invited)


# ---------------------------------------------------------------------------------------------
# Information items (I2–I7, I13)


def _item_predicates(item: policy.ItemFacts, file_range: policy.FileRange | None,
                     ) -> dict[str, Callable[[Principal, Standing], bool]]:
    return {
        "read": lambda a, s: policy.can_read_item(a, s, item),
        "file": lambda a, s: all(policy.can_read_file(a, s, item, f, file_range) for f in (1, 2, 3)),
        "manage": lambda a, s: policy.can_manage_item(a, s, item),
        "contribute": policy.can_contribute,
        # I13: the one rule, for a member whose organisation is a ministry and for one whose is not
        "nondisclosure": lambda a, s: policy.can_request_nondisclosure(a, s, policy.Requester(org_kind="ministry")),
        "nondisclosure_other": lambda a, s: policy.can_request_nondisclosure(a, s, policy.Requester(org_kind="company")),
        "withheld_review": lambda a, s: policy.can_propose_withheld_review(a, s, item,
                                                                          policy.Requester(org_kind="ministry")),
        "ballot": lambda a, s: policy.can_see_ballot(a, s, is_voter=True, item=item),
        "vote": policy.can_vote,
        "incidents": policy.can_manage_incidents,
        "publish_early": lambda a, s: policy.can_publish_early(a, s, item),
        "propose_publication": lambda a, s: policy.can_propose_publication(a, s, item),
        "old_version": lambda a, s: policy.can_read_version(a, s, item, current=False),
        "add_version": lambda a, s: policy.can_add_version(a, s, item),
    }


@settings(max_examples=400)
@given(actors=principal_pairs(), pair=standing_pairs(), item=items(), file_range=file_ranges)
def test_more_rights_never_close_an_item(actors: tuple[Principal, Principal], pair: tuple[Standing, Standing],
                                        item: policy.ItemFacts, file_range: policy.FileRange | None) -> None:
    """Monotonicity over every item predicate, with the same item and council role."""
    (weak, strong), (low, high) = actors, pair
    for name, allowed in _item_predicates(item, file_range).items():
        if allowed(weak, low):
            assert allowed(strong, high), name


@st.composite
def wider(draw: st.DrawFn, scope: policy.Scope) -> policy.Scope:
    kind = scope.kind if scope.kind != ScopeKind.NAMED else draw(st.sampled_from([k.value for k in ScopeKind]))
    kind = ScopeKind.ALL.value if draw(st.integers(0, 3)) == 0 else kind
    return policy.Scope(kind=kind, user_ids=scope.user_ids | draw(st.frozensets(USERS)),
                        organization_ids=scope.organization_ids | draw(st.frozensets(ORGS)))


@settings(max_examples=400)
@given(actor=principals, standing=standings, scope=scopes, data=st.data())
def test_a_wider_designation_never_shuts_a_reader_out(actor: Principal, standing: Standing, scope: policy.Scope,
                                                      data: st.DataObject) -> None:
    """I3: more people, more organisations, or every participant never reads fewer."""
    broad = data.draw(wider(scope))
    assert policy.in_scope(actor, scope) <= policy.in_scope(actor, broad)
    narrow_item = policy.ItemFacts(state=ItemState.DESIGNATED.value, provider_id=9, scope=scope)
    broad_item = replace(narrow_item, scope=broad)
    assert policy.can_read_item(actor, standing, narrow_item) <= policy.can_read_item(actor, standing, broad_item)
    held = data.draw(st.booleans())
    narrow_range = policy.FileRange(file_ids=frozenset({1}), held=held, scope=scope)
    assert (policy.can_read_file(actor, standing, narrow_item, 1, narrow_range)
            <= policy.can_read_file(actor, standing, narrow_item, 1, replace(narrow_range, scope=broad)))


@settings(max_examples=400)
@given(actor=st.one_of(st.none(), principals), standing=st.one_of(st.none(), standings), item=items(),
       file_range=file_ranges)
def test_without_council_content_access_only_public_content_is_read(
        actor: Principal | None, standing: Standing | None, item: policy.ItemFacts,
        file_range: policy.FileRange | None) -> None:
    """C3, I7: anonymous people, ex-members, the unpledged and sessions without a second factor read public
    items (and their undesignated files) and nothing else."""
    access = actor is not None and standing is not None and council_policy.can_read_content(actor, standing)
    if access:
        return
    assert policy.can_read_item(actor, standing, item) == (item.state == ItemState.PUBLIC)
    for file_id in (1, 2, 3):
        in_range = file_range is not None and file_id in file_range.file_ids
        assert policy.can_read_file(actor, standing, item, file_id, file_range) == (
            item.state == ItemState.PUBLIC and not in_range)
        assert policy.can_read_version(actor, standing, item, current=False) is False


@settings(max_examples=400)
@given(actor=principals, standing=standings, item=items(), file_range=file_ranges)
def test_held_and_designated_content_stays_with_its_people(actor: Principal, standing: Standing,
                                                           item: policy.ItemFacts,
                                                           file_range: policy.FileRange | None) -> None:
    """I4: a held item is the provider's and the secretariat's (not the chair's); I3: a designated item the
    provider's and its scope's; a file in a range follows the range the same way."""
    provider = item.provider_id == actor.user_id
    if policy.can_read_item(actor, standing, item):
        if item.state == ItemState.HELD:
            assert provider or standing.role == CouncilRole.SECRETARIAT
        if item.state == ItemState.DESIGNATED:
            assert provider or policy.in_scope(actor, item.scope)
    for file_id in (1, 2, 3):
        if not policy.can_read_file(actor, standing, item, file_id, file_range):
            continue
        assert policy.can_read_item(actor, standing, item)  # a file never opens more than its item
        if file_range is not None and file_id in file_range.file_ids and not provider:
            if file_range.held:
                assert standing.role == CouncilRole.SECRETARIAT
            else:
                assert policy.in_scope(actor, file_range.scope)


@settings(max_examples=400)
@given(actor=principals, standing=standings, item=items(), handling=st.frozensets(
    st.sampled_from([h.value for h in Handling])))
def test_openness_and_edits_are_never_one_persons_decision_over_anothers_item(
        actor: Principal, standing: Standing, item: policy.ItemFacts, handling: frozenset[str]) -> None:
    """I13 and I1: only the provider publishes early or revises (and not once public); a manager only
    proposes publishing another's item; observers and members manage nothing of another's; the provider
    always keeps a copy of their own."""
    provider = item.provider_id == actor.user_id
    if policy.can_publish_early(actor, standing, item) or policy.can_add_version(actor, standing, item):
        assert provider
    if policy.can_add_version(actor, standing, item):
        assert item.state != ItemState.PUBLIC
    if policy.can_propose_publication(actor, standing, item):
        assert not provider and standing.role in MANAGER_ROLES
    if not provider and standing.role not in MANAGER_ROLES:  # observers, members, ex-members
        assert not policy.can_manage_item(actor, standing, item)
        assert not policy.can_manage_incidents(actor, standing)
    if provider:
        assert policy.can_download(actor, item, sorted(handling))
    elif {Handling.VIEW_ONLY.value, Handling.NO_DOWNLOAD.value} & handling:
        assert not policy.can_download(actor, item, sorted(handling))


@settings(max_examples=200)
@given(actor=principals, standing=standings, item=items())
def test_ex_members_neither_vote_nor_see_proposals_and_earlier_versions_are_never_more_open(
        actor: Principal, standing: Standing, item: policy.ItemFacts) -> None:
    """I4, C3: a voter must still be a member; I13: an earlier version is never more open than the current."""
    gone = replace(standing, role=None)
    assert not policy.can_vote(actor, gone)
    assert not policy.can_see_ballot(actor, gone, is_voter=True, item=item)
    if policy.can_vote(actor, standing):
        assert standing.council_state in OPERATING and actor.mfa
    assert (policy.can_read_version(actor, standing, item, current=False)
            <= policy.can_read_version(actor, standing, item, current=True))


# ---------------------------------------------------------------------------------------------
# Sealed council content (C6, C5, F5)

PARTIES = content.AnswerParties(requester_id=1, addressee_id=2, answered_by_id=3)


@settings(max_examples=400)
@given(actors=principal_pairs(), pair=standing_pairs())
def test_more_rights_never_close_an_answer_or_the_minutes(actors: tuple[Principal, Principal],
                                                         pair: tuple[Standing, Standing]) -> None:
    """Monotonicity of the C6 and C5 readers; an answer is read only by its parties and the managers."""
    (weak, strong), (low, high) = actors, pair
    if content.can_read_answer(weak, low, PARTIES):
        assert content.can_read_answer(strong, high, PARTIES)
        assert weak.user_id in {1, 2, 3} or low.role in MANAGER_ROLES
    if content.can_read_council_text(weak, low):
        assert content.can_read_council_text(strong, high)


# ---------------------------------------------------------------------------------------------
# Accounts and audit

ACCOUNT_PREDICATES: dict[str, Callable[[Principal, int], bool]] = {
    "issue_token": accounts.can_issue_token_for,
    "manage_token": accounts.can_manage_token,
    "view_user": accounts.can_view_user,
    "read_audit_entry": accounts.can_read_audit_entry,
}


@settings(max_examples=400)
@given(actors=principal_pairs(), subject=USERS)
def test_more_rights_never_close_accounts_or_audit(actors: tuple[Principal, Principal], subject: int) -> None:
    """Monotonicity: more roles or a wider token never lose a person, a token or an audit entry."""
    weak, strong = actors
    for name, allowed in ACCOUNT_PREDICATES.items():
        if allowed(weak, subject):
            assert allowed(strong, subject), name


@settings(max_examples=400)
@given(actor=principals, entry_actor=st.one_of(st.none(), USERS), other=USERS)
def test_the_audit_listing_filter_agrees_with_the_entry_predicate(actor: Principal, entry_actor: int | None,
                                                                  other: int) -> None:
    """The listing's filter (the SQL side) admits exactly the entries the one-entry predicate lets the
    actor read, for everyone who may list audit entries at all (A1: own actions; auditors: all)."""
    if not (actor.has(Permission.AUDIT_OWN_READ) or actor.has(Permission.AUDIT_LOG_READ)):
        return
    only = accounts.audit_entry_filter_actor(actor)
    listed = only is None or entry_actor == only
    assert listed == accounts.can_read_audit_entry(actor, entry_actor)
    if other != actor.user_id and not actor.has(Permission.TOKEN_MANAGE_ANY):
        assert not accounts.can_manage_token(actor, other)  # nobody else's token without the admin right
