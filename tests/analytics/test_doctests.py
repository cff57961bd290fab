"""The numpy-style examples in the public analytics API run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["expressions", "exact", "config", "technologies", "topsis", "synth", "ingest", "keywords", "texts", "screen", "trends",
           "spark_store"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    mod = importlib.import_module(f"banso.analytics.{name}")
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0, f"{name} has no examples"
    assert res.failed == 0
