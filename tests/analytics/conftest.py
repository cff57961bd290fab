"""Fixtures for the analytics tests: small synthetic snapshots (hand-made records are in
tests/support/openalex.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from banso.analytics.ingest import ingest
from banso.analytics.synth import write_synthetic_snapshot
from tests.support.openalex import REAL_DATA


@pytest.fixture(scope="session")
def synth_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    write_synthetic_snapshot(root, works=1500, seed=7, part_size=500, processes=1)
    return root


@pytest.fixture(scope="session")
def synth_store(synth_snapshot: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("store")
    ingest(synth_snapshot, store)
    return store


@pytest.fixture(scope="session")
def real_data() -> Path:
    if not (REAL_DATA / "works").is_dir():
        pytest.skip(f"real OpenAlex records not found at {REAL_DATA.resolve()} (expected ../shared/data/openalex-works)")
    return REAL_DATA
