"""API fuzzing with schemathesis: no generated request may make the server answer 5xx.

The pytest plugin of schemathesis does not run under pytest 9, so the operations' Hypothesis
strategies are drawn inside one ordinary Hypothesis test instead.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from tests.support.factories import Factory
from tests.support.http import bearer


def test_no_server_errors(app, db: Session, factory: Factory, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    admin = factory.person(roles=("admin", "auditor"))
    headers = bearer(db, admin, clock)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    seen: set[str] = set()

    @given(data=st.data())
    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations))
        case = data.draw(operation.as_strategy())
        response = case.call(headers=headers)
        seen.add(f"{case.method} {case.path}")
        assert response.status_code < 500, (case.method, case.formatted_path, response.status_code,
                                            response.text[:300])

    run()
    assert len(seen) >= len(operations) // 2, seen
