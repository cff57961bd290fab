"""Fixtures for the I8 leak-attribution tests: the codes of 20 recipients (tests/support/leak.py)."""

from __future__ import annotations

import pytest

from tests.support.leak import RECIPIENTS, issue_code


@pytest.fixture(scope="session")
def candidates() -> dict[str, bytes]:
    return {f"dl-{k}": issue_code(k) for k in range(RECIPIENTS)}
