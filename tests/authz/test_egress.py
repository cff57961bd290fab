"""Pure properties of the one egress decision (I3, I7, I8, I12, I13), over generated facts (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from banso.authz import egress
from banso.authz.egress import Egress
from banso.authz.permissions import Role
from banso.authz.policies import councils as council_policy
from banso.authz.policies import information as policy
from banso.authz.policies.councils import Standing
from banso.authz.principal import AuthMethod, Principal
from banso.councils.models import CouncilRole, CouncilState
from banso.information.models import Handling, ItemState, ScopeKind

USERS = st.integers(1, 4)
ORGS = st.integers(1, 3)
FILES = st.integers(1, 3)


@st.composite
def principals(draw: st.DrawFn) -> Principal | None:
    if draw(st.integers(0, 9)) == 0:
        return None
    return Principal(user_id=draw(USERS), email="p@example.jp", name="p", organization_id=draw(ORGS),
                     roles=frozenset(draw(st.sets(st.sampled_from([Role.RESEARCHER, Role.OFFICER, Role.AUDITOR]),
                                                  min_size=1))),
                     method=AuthMethod.SESSION, mfa=draw(st.integers(0, 4)) > 0)


# Most generated people are insiders (operating council, member, pledged), so the interesting cases — a reader
# facing a handling, a range, a version — come up often; the rest cover every way of being shut out.
insiders = st.builds(Standing, council_state=st.sampled_from([s.value for s in council_policy.OPERATING]),
                     role=st.sampled_from([r.value for r in CouncilRole]), pending_consent=st.just(False),
                     pledge_current=st.just(True))
anyone = st.builds(Standing, council_state=st.sampled_from([s.value for s in CouncilState]),
                   role=st.one_of(st.none(), st.sampled_from([r.value for r in CouncilRole])),
                   pending_consent=st.booleans(), pledge_current=st.booleans())
standings = st.one_of(insiders, insiders, insiders, anyone, st.none())
scopes = st.builds(policy.Scope, kind=st.sampled_from([k.value for k in ScopeKind]),
                   user_ids=st.frozensets(USERS), organization_ids=st.frozensets(ORGS))
handlings = st.lists(st.sampled_from([h.value for h in Handling]), max_size=3, unique=True).map(tuple)


@st.composite
def facts(draw: st.DrawFn) -> egress.ItemFacts:
    state = draw(st.sampled_from([s.value for s in ItemState]))
    item = policy.ItemFacts(state=state, provider_id=draw(USERS),
                            scope=draw(scopes) if state == ItemState.DESIGNATED else None)
    file_range = draw(st.one_of(st.none(), st.builds(policy.FileRange, file_ids=st.frozensets(FILES, min_size=1),
                                                     held=st.booleans(), scope=st.one_of(st.none(), scopes))))
    return egress.ItemFacts(item=item, standing=draw(standings), file_range=file_range,
                            handling=draw(handlings) if state == ItemState.DESIGNATED else (),
                            range_handling=draw(handlings) if file_range is not None else (),
                            current_version=draw(st.integers(1, 3)))


@settings(max_examples=150)
@given(actor=principals(), f=facts(), way=st.sampled_from(list(Egress)), file_id=FILES, version=st.integers(1, 3))
def test_nothing_leaves_to_someone_who_may_not_read_the_item(actor: Principal | None, f: egress.ItemFacts,
                                                             way: Egress, file_id: int, version: int) -> None:
    decision = egress.decide(actor, f, way, file_id=file_id, version=version)
    readable = policy.can_read_item(actor, f.standing, f.item)
    if not readable:
        assert not decision.allowed and decision.status == 404  # I7: out of scope looks missing
    if decision.allowed:
        assert readable
    if decision.copy:
        assert decision.allowed and decision.audited and actor is not None  # I8: a copy is stamped and audited


@settings(max_examples=150)
@given(actor=principals(), f=facts(), file_id=FILES)
def test_a_file_is_viewable_exactly_when_readable_and_downloadable_only_without_view_only(
        actor: Principal | None, f: egress.ItemFacts, file_id: int) -> None:
    view = egress.decide(actor, f, Egress.VIEW, file_id=file_id)
    download = egress.decide(actor, f, Egress.FILE, file_id=file_id)
    readable = policy.can_read_file(actor, f.standing, f.item, file_id, f.file_range)
    assert view.allowed == readable  # I12: view-only means viewable by whoever may read the file
    assert download.allowed <= view.allowed
    in_range = f.file_range is not None and file_id in f.file_range.file_ids
    handling = f.range_handling if in_range else f.handling
    forbids = bool({Handling.VIEW_ONLY.value, Handling.NO_DOWNLOAD.value} & set(handling))
    public = f.item.state == ItemState.PUBLIC and not in_range
    if readable and forbids and not public and actor is not None and actor.user_id != f.item.provider_id:
        assert not download.allowed and download.status == 403  # known, but never a copy
    if download.allowed:
        assert download.copy == (not public)


@settings(max_examples=120)
@given(actor=principals(), f=facts())
def test_body_and_export_follow_the_items_handling(actor: Principal | None, f: egress.ItemFacts) -> None:
    for way in (Egress.BODY, Egress.EXPORT):
        decision = egress.decide(actor, f, way)
        forbids = bool({Handling.VIEW_ONLY.value, Handling.NO_DOWNLOAD.value} & set(f.handling))
        provider = actor is not None and actor.user_id == f.item.provider_id
        if decision.allowed and f.item.state != ItemState.PUBLIC:
            assert provider or not forbids
    assert egress.decide(actor, f, Egress.BODY) == egress.decide(actor, f, Egress.EXPORT)  # one rule for copies


@settings(max_examples=120)
@given(actor=principals(), f=facts(), version=st.integers(1, 3))
def test_earlier_versions_of_a_public_item_stay_council_only(actor: Principal | None, f: egress.ItemFacts,
                                                             version: int) -> None:
    decision = egress.decide(actor, f, Egress.VERSION, version=version)
    if f.item.state == ItemState.PUBLIC and version != f.current_version:
        content = (actor is not None and f.standing is not None
                   and council_policy.can_read_content(actor, f.standing))
        assert decision.allowed == content


@settings(max_examples=120)
@given(actor=principals(), f=facts(), is_voter=st.booleans())
def test_a_proposal_needs_council_content_access(actor: Principal | None, f: egress.ItemFacts, is_voter: bool) -> None:
    decision = egress.decide_ballot(actor, egress.BallotFacts(item=f, is_voter=is_voter))
    if decision.allowed:
        assert actor is not None and f.standing is not None
        assert council_policy.can_read_content(actor, f.standing)  # C3, I4, I7: pledge, second factor, operating
    if actor is not None and egress.may_vote(actor, egress.BallotFacts(item=f, is_voter=is_voter)):
        assert decision.allowed and is_voter
