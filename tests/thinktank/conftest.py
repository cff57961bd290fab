"""Fixtures of the think-tank tests: one small synthetic analysis, built once, copied into each test's data folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from banso.config import Settings
from banso.thinktank import service
from banso.thinktank.demo import prepare_demo_analytics


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic analysis, built once for the module."""
    data = tmp_path_factory.mktemp("tt") / "data"
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
