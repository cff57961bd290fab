"""Each SQL twin agrees with its pure predicate on generated database worlds (Hypothesis).

``restrict_items`` (lists, search, counts, exports) against ``can_read_item``, and ``restrict_visible``
(council lists) against ``can_see_council``. The model-based tests (``tests/information/test_stateful.py``,
``tests/councils/test_stateful.py``) reach the worlds the services can make step by step; here one reader's
standing and a handful of items are written straight into the tables, so every combination comes up in few
examples: ex-members, stale pledges after a duty change, councils in every state, organisation scopes,
designations left on items of another state, narrowed tokens, sessions without a second factor.

The expected answer is computed from the generated facts themselves, not loaded through the services, so
a disagreement names either the predicate or the SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from banso.authz.permissions import Permission, Role
from banso.authz.policies import councils as council_policy
from banso.authz.policies import information as policy
from banso.authz.policies.councils import Standing
from banso.authz.principal import AuthMethod, Principal
from banso.councils.models import Consent, Council, CouncilRole, CouncilState, Membership, Pledge
from banso.information.models import Ballot, Item, ItemState, ScopeEntry, ScopeKind
from banso.kit.clock import FakeClock
from tests.support.councils import Cast, establish
from tests.support.factories import Factory, Person

TWINS = settings(max_examples=500, deadline=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
STANDINGS = ("none", "left", *(r.value for r in CouncilRole))
# Mostly operating councils, so that the items' own facts decide often; every state still comes up.
COUNCIL_STATES = st.one_of(st.sampled_from(["established", "active"]),
                           st.sampled_from([s.value for s in CouncilState]))
PEOPLE = 5  # officer, researcher, company, outsider, and one more


@dataclass(frozen=True)
class Reader:
    """One generated reader: who they are to the council and what their session carries."""

    person: int  # index into the cast
    standing: str  # one of STANDINGS
    pledged: bool  # signed the pledge for duty version 1
    invited: bool  # an unanswered consent
    roles: frozenset[Role]
    mfa: bool
    token_scopes: frozenset[Permission] | None
    anonymous: bool


@dataclass(frozen=True)
class ItemSpec:
    """One generated item and the designation recorded on it (if any)."""

    state: str
    provider: int  # index into the cast
    scope_kind: str | None
    scope_people: frozenset[int]
    scope_orgs: frozenset[int]  # indexes into the cast: that person's organisation


ROLE_SETS = st.frozensets(st.sampled_from(list(Role)), min_size=1, max_size=2)
# Many readers are insiders (a current role, pledged, a second factor, a plain session), so that the items'
# own facts decide often; the others stand anywhere.
insiders = st.builds(
    Reader, person=st.integers(0, PEOPLE - 1), standing=st.sampled_from([r.value for r in CouncilRole]),
    pledged=st.just(True), invited=st.booleans(), roles=ROLE_SETS, mfa=st.just(True), token_scopes=st.none(),
    anonymous=st.just(False))
anyone = st.builds(
    Reader, person=st.integers(0, PEOPLE - 1), standing=st.sampled_from(STANDINGS), pledged=st.booleans(),
    invited=st.booleans(), roles=ROLE_SETS, mfa=st.booleans(),
    token_scopes=st.sampled_from([None, frozenset({Permission.DASHBOARD_VIEW}),
                                  frozenset({Permission.COUNCIL_PARTICIPATE})]),
    anonymous=st.integers(0, 9).map(lambda n: n == 0))
# Ex-members and strangers who hold everything else (a pledge on record, a second factor): C3 alone refuses them.
formers = st.builds(
    Reader, person=st.integers(0, PEOPLE - 1), standing=st.sampled_from(["left", "none"]), pledged=st.just(True),
    invited=st.booleans(), roles=ROLE_SETS, mfa=st.just(True), token_scopes=st.none(), anonymous=st.just(False))
readers = st.one_of(insiders, formers, anyone)
# Designated items with a recorded scope come up most often: theirs is the richest rule (I3); every other
# state, and designations left on items of another state, still come up.
item_specs = st.builds(
    ItemSpec, state=st.one_of(st.just(ItemState.DESIGNATED.value), st.sampled_from([s.value for s in ItemState])),
    provider=st.integers(0, PEOPLE - 1),
    scope_kind=st.one_of(st.sampled_from([k.value for k in ScopeKind]), st.none()),
    scope_people=st.frozensets(st.integers(0, PEOPLE - 1), max_size=3),
    scope_orgs=st.frozensets(st.integers(0, PEOPLE - 1), max_size=3))


@pytest.fixture
def people(factory: Factory, db: Session, clock: FakeClock) -> tuple[Cast, list[Person]]:
    """An active council (founders pledged at duty version 1) and five people around it."""
    cast = establish(factory, db, clock)
    db.flush()
    return cast, [cast.officer, cast.researcher, cast.company, cast.outsider, factory.person()]


def _write_reader(db: Session, cast: Cast, person: Person, reader: Reader, clock: FakeClock) -> None:
    """Replace the person's membership, pledge and consent rows by the generated ones."""
    cid, user = cast.council.id, person.user
    for table in (Membership, Pledge, Consent):
        db.execute(delete(table).where(table.council_id == cid, table.user_id == user.id))
    now = clock.now()
    if reader.standing != "none":
        db.add(Membership(council_id=cid, user_id=user.id, organization_id=user.organization_id,
                          role=CouncilRole.MEMBER.value if reader.standing == "left" else reader.standing,
                          joined_at=now, left_at=now if reader.standing == "left" else None))
    if reader.pledged:
        db.add(Pledge(council_id=cid, user_id=user.id, organization_id=user.organization_id, bylaws_version=1,
                      duty_version=1, text="誓約", text_sha256="0" * 64, signed_at=now))
    if reader.invited:
        db.add(Consent(council_id=cid, user_id=user.id, organization_id=user.organization_id, kind="join",
                       role=CouncilRole.MEMBER.value, decision="pending", deadline=now, created_at=now))


def _write_item(db: Session, cast: Cast, cast_people: list[Person], spec: ItemSpec, clock: FakeClock) -> Item:
    provider, now = cast_people[spec.provider].user, clock.now()
    item = Item(council_id=cast.council.id, title="t", summary="s", matter="useful_information",
                category="sampling_data", provenance="participant", state=spec.state, provider_id=provider.id,
                provider_org_id=provider.organization_id, wrapped_key=b"k", created_at=now, updated_at=now)
    db.add(item)
    db.flush()
    if spec.scope_kind is not None:
        ballot = Ballot(item_id=item.id, council_id=cast.council.id, kind="designation", state="accepted",
                        reason="r", scope_kind=spec.scope_kind, deadline=now, proposed_by_id=provider.id,
                        created_at=now)
        db.add(ballot)
        db.flush()
        db.add_all([ScopeEntry(ballot_id=ballot.id, user_id=cast_people[i].user.id) for i in spec.scope_people])
        db.add_all([ScopeEntry(ballot_id=ballot.id, organization_id=cast_people[i].user.organization_id)
                    for i in spec.scope_orgs])
        item.current_designation_id = ballot.id
    db.flush()
    return item


def _facts(cast_people: list[Person], spec: ItemSpec) -> policy.ItemFacts:
    """The facts the pure predicate decides on, from the generated spec (a designated item's scope is the
    designation recorded on it)."""
    scope = None
    if spec.state == ItemState.DESIGNATED and spec.scope_kind is not None:
        scope = policy.Scope(kind=spec.scope_kind,
                             user_ids=frozenset(cast_people[i].user.id for i in spec.scope_people),
                             organization_ids=frozenset(cast_people[i].user.organization_id for i in spec.scope_orgs))
    return policy.ItemFacts(state=spec.state, provider_id=cast_people[spec.provider].user.id, scope=scope)


def _principal(person: Person, reader: Reader) -> Principal | None:
    if reader.anonymous:
        return None
    user = person.user
    return Principal(user_id=user.id, email=user.email, name="r", organization_id=user.organization_id,
                     roles=reader.roles, method=AuthMethod.SESSION if reader.token_scopes is None else AuthMethod.TOKEN,
                     mfa=reader.mfa, token_scopes=reader.token_scopes)


def _standing(reader: Reader, council_state: str, duty_version: int) -> Standing:
    member = reader.standing not in ("none", "left")
    return Standing(council_state=council_state, role=reader.standing if member else None,
                    pending_consent=reader.invited, pledge_current=reader.pledged and duty_version == 1)


def test_restrict_items_and_can_read_item_agree_on_generated_worlds(
        db: Session, people: tuple[Cast, list[Person]], clock: FakeClock) -> None:
    """I2–I7, I12: the SQL of lists, search and counts lets through exactly the items the predicate does."""
    cast, cast_people = people

    @TWINS
    @given(reader=readers, specs=st.lists(item_specs, min_size=2, max_size=6), council_state=COUNCIL_STATES,
           duty_version=st.one_of(st.just(1), st.sampled_from([1, 2])))
    def agree(reader: Reader, specs: list[ItemSpec], council_state: str, duty_version: int) -> None:
        nested = db.begin_nested()
        try:
            db.execute(update(Council).where(Council.id == cast.council.id)
                       .values(state=council_state, duty_version=duty_version))
            person = cast_people[reader.person]
            _write_reader(db, cast, person, reader, clock)
            written = {_write_item(db, cast, cast_people, spec, clock).id: spec for spec in specs}
            actor, standing = _principal(person, reader), _standing(reader, council_state, duty_version)
            expected = {i for i, spec in written.items()
                        if policy.can_read_item(actor, standing, _facts(cast_people, spec))}
            listed = set(db.scalars(policy.restrict_items(select(Item.id).where(Item.id.in_(written)), actor)))
            assert listed == expected, (reader, council_state, duty_version, written)
        finally:
            nested.rollback()

    agree()


def test_restrict_visible_and_can_see_council_agree_on_generated_worlds(
        db: Session, people: tuple[Cast, list[Person]], clock: FakeClock) -> None:
    """C1, C3: the council list shows exactly the councils whose public page the predicate opens."""
    cast, cast_people = people

    @TWINS
    @given(reader=readers.filter(lambda r: not r.anonymous),
           council_state=COUNCIL_STATES)
    def agree(reader: Reader, council_state: str) -> None:
        nested = db.begin_nested()
        try:
            db.execute(update(Council).where(Council.id == cast.council.id).values(state=council_state))
            person = cast_people[reader.person]
            _write_reader(db, cast, person, reader, clock)
            actor = _principal(person, reader)
            assert actor is not None
            expected = council_policy.can_see_council(actor, _standing(reader, council_state, 1))
            stmt = council_policy.visible_councils(actor).with_only_columns(Council.id)
            assert (cast.council.id in set(db.scalars(stmt))) == expected, (reader, council_state)
        finally:
            nested.rollback()

    agree()
