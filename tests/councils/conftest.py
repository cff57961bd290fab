"""Council fixtures: an in-memory sealed store (the casts are built by tests/support/councils.py)."""

from __future__ import annotations

import pytest

from banso.sealed import store as sealed
from banso.sealed.store import SealedDeps


@pytest.fixture
def store() -> SealedDeps:
    """Return an in-memory sealed store (blobs and council/commission keys)."""
    return sealed.fake_deps()
