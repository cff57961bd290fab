"""Pure rules of ``authz.policies.content`` (C6, F5, I7): who reads an answer, minutes, a deliverable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banso.authz.permissions import Role
from banso.authz.policies import content
from banso.authz.policies.councils import Standing
from banso.authz.principal import AuthMethod, Principal

PARTIES = content.AnswerParties(requester_id=1, addressee_id=2, answered_by_id=3)


def _actor(user_id: int, *, mfa: bool = True) -> Principal:
    return Principal(user_id=user_id, email=f"u{user_id}@example.jp", name="x", organization_id=1,
                     roles=frozenset({Role.RESEARCHER}), method=AuthMethod.SESSION, mfa=mfa)


def _standing(role: str | None = "member", *, pledge: bool = True, state: str = "active") -> Standing:
    return Standing(council_state=state, role=role, pending_consent=False, pledge_current=pledge)


@pytest.mark.parametrize(("user_id", "role", "expected"), [
    (1, "secretariat", True),  # the requester (requests are made by managers)
    (2, "member", True),  # the addressee
    (3, "member", True),  # whoever answered on the addressee's behalf
    (9, "chair", True),  # a manager
    (9, "member", False),  # a pledged member who is none of them (issue 11)
    (9, "observer", False),
])
def test_who_reads_an_answer(user_id: int, role: str, expected: bool) -> None:
    assert content.can_read_answer(_actor(user_id), _standing(role), PARTIES) is expected


@given(user_id=st.sampled_from([1, 2, 3, 9]), role=st.sampled_from(["chair", "secretariat", "member", None]),
       pledge=st.booleans(), mfa=st.booleans(), state=st.sampled_from(["proposed", "active", "dissolved"]))
def test_no_answer_without_content_access(user_id: int, role: str | None, pledge: bool, mfa: bool,
                                          state: str) -> None:
    """C3, I7: even a party needs membership, a current pledge, a second factor and an operating council."""
    standing = _standing(role, pledge=pledge, state=state)
    allowed = content.can_read_answer(_actor(user_id, mfa=mfa), standing, PARTIES)
    if allowed:
        assert role is not None and pledge and mfa and state == "active"
    assert allowed is not True or content.can_read_council_text(_actor(user_id, mfa=mfa), standing)


def test_deliverables_are_for_the_people_engaged() -> None:
    assert content.can_read_deliverable(is_owner=True, is_contractor=False)
    assert content.can_read_deliverable(is_owner=False, is_contractor=True)
    assert not content.can_read_deliverable(is_owner=False, is_contractor=False)
