"""The inherited access-test set (STYLE.md, after NetBox ``utilities/testing/views.py``).

Every protected resource gets the same five callers, asked from the outside over HTTP:
anonymous, outsider, member without pledge, member out of scope, member in scope.
A subclass arranges the resource and says who plays each part; a part that does not exist
for the resource (no council yet, so no pledge) is ``None`` and that test is reported skipped
with the reason. A hidden resource must answer 404, never 403 (I7).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from tests.support.factories import Factory, Person
from tests.support.http import bearer

PARTS = ("anonymous", "outsider", "member_without_pledge", "member_out_of_scope", "member_in_scope")


@dataclass
class Arranged:
    """The resource's callers and whatever the request needs (ids, paths)."""

    parts: dict[str, Person | None]
    values: dict[str, Any]


class AccessTestSet:
    """Inherit, set ``expected`` and implement ``arrange`` and ``call``."""

    # status each part gets; None = not applicable to this resource
    expected: ClassVar[dict[str, int | None]] = {
        "anonymous": 401,
        "outsider": 404,
        "member_without_pledge": 404,
        "member_out_of_scope": 404,
        "member_in_scope": 200,
    }

    def arrange(self, factory: Factory, db: Session, clock: FakeClock) -> Arranged:
        """Create the resource and the people who play each part."""
        raise NotImplementedError

    def call(self, client: TestClient, headers: dict[str, str], arranged: Arranged) -> httpx.Response:
        """Make the request under test."""
        raise NotImplementedError

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        """Extra checks on a successful answer (override to assert content)."""

    @pytest.mark.parametrize("part", PARTS)
    def test_access(self, part: str, client: TestClient, factory: Factory, db: Session, clock: FakeClock) -> None:
        expected = self.expected[part]
        if expected is None:
            pytest.skip(f"{part} has no meaning for this resource yet")
        arranged = self.arrange(factory, db, clock)
        db.commit()
        headers: dict[str, str] = {}
        if part != "anonymous":
            person = arranged.parts.get(part)
            if person is None:
                pytest.skip(f"{part} not arranged for this resource")
            headers = bearer(db, person, clock)
        response = self.call(client, headers, arranged)
        assert response.status_code == expected, (part, response.status_code, response.text[:300])
        if expected == 404:
            # I7: the answer must not tell a hidden resource from a missing one
            assert response.json()["error"] == "not_found"
        if 200 <= response.status_code < 300:
            self.check(response, arranged)
