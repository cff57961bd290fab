"""Fixtures of the think-tank tests: one small synthetic analysis, built once, copied into each test's data folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from banso.config import Settings
from banso.thinktank import service
from banso.thinktank.demo import prepare_demo_analytics


@pytest.fixture(autouse=True, scope="module")
def rank_small_technologies() -> Iterator[None]:
    """This 1,500-work demo has no technology with 50 works: rank them all, as before issue 16's flag."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BANSO_ANALYTICS_MIN_WORKS", "1")
        yield


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic analysis, built once for the module."""
    data = tmp_path_factory.mktemp("tt") / "data"
    # Set here too: this session-scoped fixture is built before any module-scoped one (pytest orders by scope).
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BANSO_ANALYTICS_MIN_WORKS", "1")
        root = prepare_demo_analytics(data, works=1500, seed=7)
    assert service.outputs_exist(root)
    return root


@pytest.fixture
def analysis_dir(built: Path, settings: Settings) -> Path:
    """Copy the analysis into the test settings' data_dir (outputs only, not the snapshot)."""
    target = service.analytics_dir(settings.data_dir)
    for sub in (service.INDICATORS, service.PRIORITIES):
        shutil.copytree(built / sub, target / sub)
    return target
