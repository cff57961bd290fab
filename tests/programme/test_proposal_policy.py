"""Pure properties of the F6 proposal rules of the programme policy (Hypothesis, no database): review
starts at the close, a draft belongs to its applicants, and only the proposer edits before the close."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from banso.authz.policies import programme as policy
from banso.authz.principal import Principal
from banso.programme.models import ProposalState
from tests.authz.test_programme_policy import principals, standings

with_state = st.builds(lambda s, state, closed: replace(s, state=state, call_closed=closed), standings,
                       st.sampled_from([s.value for s in ProposalState]), st.booleans())


@settings(max_examples=400)
@given(actor=principals(), standing=with_state)
def test_review_waits_for_the_close_and_drafts_stay_with_the_applicants(actor: Principal,
                                                                        standing: policy.ProposalStanding) -> None:
    if policy.can_review(actor, standing):
        assert standing.call_closed and standing.state != ProposalState.DRAFT
    if standing.state == ProposalState.DRAFT:
        assert policy.can_see_proposal(actor, standing) == policy.is_applicant(actor, standing)
        assert not policy.can_declare_conflict(actor, standing)
    if policy.can_edit_proposal(actor, standing):
        assert actor.user_id == standing.proposer_id and not standing.call_closed
        assert policy.can_see_proposal(actor, standing)
    if policy.can_submit_draft(actor, standing):
        assert standing.state == ProposalState.DRAFT and policy.can_edit_proposal(actor, standing)


@settings(max_examples=200)
@given(actor=principals(), standing=with_state)
def test_closing_the_call_only_ever_opens_review(actor: Principal, standing: policy.ProposalStanding) -> None:
    """Before the close a non-applicant sees a proposal only as the agency's staff."""
    if not standing.call_closed and policy.can_see_proposal(actor, standing):
        assert policy.is_applicant(actor, standing) or policy.is_agency_staff(actor, standing.agency_org_id)
