"""Information fixtures: an active council whose founders pledged, and in-memory stores."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from banso.information.deps import InformationDeps
from banso.kit.clock import FakeClock
from banso.sealed.crypto import FakeKeyStore
from banso.sealed.files import FakeFileStore
from tests.support.councils import Cast, establish
from tests.support.factories import Factory


@pytest.fixture
def deps() -> InformationDeps:
    """Return information collaborators backed by memory."""
    return InformationDeps(store=FakeFileStore(), keys=FakeKeyStore(), fingerprint_key=b"k" * 32)


@pytest.fixture
def cast(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council: officer (secretariat), researcher (chair), company (member), all pledged."""
    return establish(factory, db, clock)
