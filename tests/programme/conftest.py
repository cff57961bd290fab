"""Programme fixtures: the world of tests/support/programme.py (a registry, two agencies with ledgers, a
published call with a panel, people).

Tests run on the shared migrated ``db`` (migration 0004) and use the real council gateway
(``banso.programme.council_link.CouncilsServiceGateway`` over ``banso.councils.service``).
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from tests.support.factories import Factory
from tests.support.programme import World, build_world, fund


@pytest.fixture
def world(db: Session, factory: Factory, clock: FakeClock) -> World:
    """Return the arranged world (nothing committed; the test's transaction is rolled back)."""
    return build_world(db, factory, clock)


@pytest.fixture
def w(db: Session, factory: Factory, clock: FakeClock) -> World:
    """The programme world, funded and committed so the app's sessions see it."""
    built = build_world(db, factory, clock)
    fund(db, built, clock)
    db.commit()
    return built
