"""Pure properties of the K Program policy (F3, F5, I7), over generated facts (Hypothesis).

The predicates here decide what the programme pages offer (``banso.programme.pages``) and what the
services allow; they are checked without a database. Where a predicate replaced a rule a view used
to compute (the reviewer's score form), a property pins that the two agree on every visible proposal.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from banso.authz.permissions import Permission, Role
from banso.authz.policies import programme as policy
from banso.authz.principal import AuthMethod, Principal
from banso.programme.models import CallState, CommissionState, ProposalState

USERS = st.integers(1, 5)
ORGS = st.integers(1, 4)
ROLE_NAMES = st.sets(st.sampled_from([r.value for r in Role]), max_size=3)


@st.composite
def principals(draw: st.DrawFn) -> Principal:
    roles = draw(st.sets(st.sampled_from([Role.RESEARCHER, Role.REVIEWER, Role.AGENCY_STAFF, Role.OFFICER,
                                          Role.INDUSTRY, Role.ANALYST]), max_size=3))
    return Principal(user_id=draw(USERS), email="p@example.jp", name="p", organization_id=draw(ORGS),
                     roles=frozenset(roles), method=AuthMethod.SESSION, mfa=True)


anyone = st.builds(policy.ProposalStanding, proposer_id=USERS, proposer_org_id=ORGS,
                   team_user_ids=st.frozensets(USERS, max_size=3), team_org_ids=st.frozensets(ORGS, max_size=2),
                   agency_org_id=st.one_of(st.none(), ORGS), on_panel=st.booleans(),
                   conflict=st.one_of(st.none(), st.booleans()))
# A cleared panel reviewer from another organisation (user 5, organisation 4 never apply): the cases where
# reviewing, staff and decisions meet come up often, not once in hundreds of draws.
cleared = st.builds(policy.ProposalStanding, proposer_id=st.integers(1, 4), proposer_org_id=st.integers(1, 3),
                    team_user_ids=st.frozensets(st.integers(1, 4), max_size=2),
                    team_org_ids=st.frozensets(st.integers(1, 3), max_size=2),
                    agency_org_id=st.one_of(st.none(), ORGS), on_panel=st.just(True), conflict=st.just(False))
standings = st.one_of(anyone, cleared)
proposal_states = st.sampled_from([s.value for s in ProposalState])
@st.composite
def _parties(draw: st.DrawFn) -> policy.CommissionParties:
    """A commission with a roster (Art. 64): the engaged are a subset of the named; the contact may be anyone."""
    named = draw(st.frozensets(USERS, max_size=3))
    return policy.CommissionParties(
        commissioned_by_id=draw(USERS), commissioner_org_id=draw(ORGS), organization_id=draw(ORGS),
        state=draw(st.sampled_from([s.value for s in CommissionState])), named=named,
        engaged=draw(st.frozensets(st.sampled_from(sorted(named)), max_size=3)) if named else frozenset(),
        contact_id=draw(st.one_of(st.none(), USERS)))


parties = _parties()


@settings(max_examples=300)
@given(roles=ROLE_NAMES, is_active=st.booleans(), on_panel=st.booleans())
def test_panels_take_active_reviewers_once(roles: set[str], is_active: bool, on_panel: bool) -> None:
    """F3: a panel takes active people with the reviewer role, each once; a call names an active officer."""
    eligible = policy.is_panel_eligible(roles=roles, is_active=is_active)
    assert eligible == (is_active and Role.REVIEWER.value in roles)
    assert policy.can_join_panel(roles=roles, is_active=is_active, on_panel=on_panel) == (eligible and not on_panel)
    assert policy.can_be_call_officer(roles=roles, is_active=is_active) == (is_active and Role.OFFICER.value in roles)


@settings(max_examples=400)
@given(actor=principals(), standing=standings, state=proposal_states)
def test_page_actions_on_a_proposal_need_sight_of_it(actor: Principal, standing: policy.ProposalStanding,
                                                     state: str) -> None:
    """I7: every action a proposal page offers is offered only to someone who may see the proposal."""
    sees = policy.can_see_proposal(actor, standing)
    for action in (policy.can_withdraw, policy.can_score, policy.can_decide):
        if action(actor, standing, state=state):
            assert sees, action.__name__
            assert state == ProposalState.SUBMITTED  # nothing is done to a decided or withdrawn proposal
    if policy.can_read_all_scores(actor, standing):
        assert sees


@settings(max_examples=400)
@given(actor=principals(), standing=standings, state=proposal_states)
def test_a_reviewer_scores_only_without_conflict_and_never_as_staff(actor: Principal,
                                                                    standing: policy.ProposalStanding,
                                                                    state: str) -> None:
    """F3: scoring needs the panel, a declared absence of conflict, another organisation; staff decide instead."""
    if policy.can_score(actor, standing, state=state):
        assert standing.on_panel and standing.conflict is False and actor.has(Permission.PROGRAMME_REVIEW)
        assert not policy.is_applicant(actor, standing) and not policy.same_organisation(actor, standing)
        assert not policy.is_agency_staff(actor, standing.agency_org_id)
        assert not policy.can_decide(actor, standing, state=state)
    if policy.can_decide(actor, standing, state=state):
        assert policy.is_agency_staff(actor, standing.agency_org_id)


@settings(max_examples=400)
@given(actor=principals(), standing=standings, state=proposal_states)
def test_the_score_form_rule_is_the_one_the_view_used(actor: Principal, standing: policy.ProposalStanding,
                                                      state: str) -> None:
    """The move keeps behaviour: on a visible proposal, the old view's reviewer rule and ``can_score`` agree."""
    if not policy.can_see_proposal(actor, standing):
        return
    staff = policy.is_agency_staff(actor, standing.agency_org_id)
    old_reviewer = (not staff and actor.user_id != standing.proposer_id
                    and actor.user_id not in standing.team_user_ids and actor.has(Permission.PROGRAMME_REVIEW))
    assert policy.can_score(actor, standing, state=state) == (old_reviewer and state == ProposalState.SUBMITTED)
    assert policy.can_withdraw(actor, standing, state=state) == (
        actor.user_id == standing.proposer_id and state == ProposalState.SUBMITTED)


@settings(max_examples=300)
@given(actor=principals(), state=st.sampled_from([s.value for s in CallState]), agency_org=st.one_of(st.none(), ORGS),
       window=st.sampled_from(["draft", "upcoming", "open", "closed"]), live=st.booleans())
def test_call_actions(actor: Principal, state: str, agency_org: int | None, window: str, live: bool) -> None:
    """F3: only a visible draft is published, by its agency's staff; one live proposal per open call."""
    if policy.can_publish_call(actor, state=state, agency_org_id=agency_org):
        assert state == CallState.DRAFT and policy.can_see_call(actor, state=state, agency_org_id=agency_org)
        assert policy.can_manage_call(actor, agency_org)
    may = policy.can_propose(actor, window=window, has_live_proposal=live)
    assert may == (actor.has(Permission.PROGRAMME_PROPOSE) and window == "open" and not live)


@settings(max_examples=400)
@given(actor=principals(), c=parties)
def test_commission_actions_belong_to_one_side_of_a_visible_commission(actor: Principal,
                                                                       c: policy.CommissionParties) -> None:
    """F5, I7, Art. 64: only the owner side and the named people of the institution who acknowledged see a
    commission; a named person acknowledges first (seeing only the duty); the owner side closes it."""
    sees = policy.can_see_commission(actor, c)
    same_org = actor.organization_id == c.organization_id
    engaged = same_org and actor.user_id in c.engaged
    assert sees == (policy.is_owner(actor, c) or engaged)
    assert policy.is_contractor(actor, c) == engaged  # never "anyone at the institution"
    if policy.can_acknowledge(actor, c):
        assert not sees or policy.is_owner(actor, c)  # the duty comes before the content
        assert same_org and actor.user_id in c.named and actor.user_id not in c.engaged
        assert policy.can_see_duty(actor, c) and not policy.can_work_on(actor, c)
    if policy.can_work_on(actor, c):
        assert sees and engaged and c.state == CommissionState.ACTIVE
    if policy.can_close(actor, c):
        assert policy.is_owner(actor, c) and c.state == CommissionState.ACTIVE
    if policy.can_add_to_roster(actor, c):
        assert same_org and c.contact_id == actor.user_id
    if not policy.can_see_duty(actor, c):
        assert not any(a(actor, c) for a in (policy.can_acknowledge, policy.can_work_on, policy.can_close,
                                             policy.can_add_to_roster, policy.can_remove_from_roster,
                                             policy.can_see_roster))


@settings(max_examples=200)
@given(actor=principals(), c=parties)
def test_officers_of_the_commissioning_organisation_are_its_owner_side(actor: Principal,
                                                                       c: policy.CommissionParties) -> None:
    """F5: besides the commissioning officer, only officers of the commissioning organisation own it."""
    owner = policy.is_owner(actor, c)
    if owner and actor.user_id != c.commissioned_by_id:
        assert policy.is_commissioner(actor) and actor.organization_id == c.commissioner_org_id
