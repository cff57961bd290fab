"""The analytics package's settings: the only place in ``banso.analytics`` that reads the environment.

The package takes everything else as arguments from its caller (folders, windows, technology files),
so it needs nothing from ``banso.config``.
"""

from __future__ import annotations

import os

SPARK_MASTER_VARIABLE = "BANSO_SPARK_MASTER"
DEFAULT_SPARK_MASTER = "local[2]"


def spark_master() -> str:
    """Return the Spark master URL for ``--engine spark`` (``BANSO_SPARK_MASTER``, default ``local[2]``)."""
    return os.environ.get(SPARK_MASTER_VARIABLE, DEFAULT_SPARK_MASTER)


MIN_WORKS_VARIABLE = "BANSO_ANALYTICS_MIN_WORKS"
DEFAULT_MIN_WORKS = 50
BOOTSTRAP_VARIABLE = "BANSO_ANALYTICS_BOOTSTRAP"
DEFAULT_BOOTSTRAP = 200


def _positive_int(variable: str, default: int) -> int:
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"{variable} must be a non-negative integer (got {raw!r})")
    return value


def min_works() -> int:
    """Return the fewest works a technology needs in the window to be ranked (``BANSO_ANALYTICS_MIN_WORKS``, 50).

    A technology with fewer is marked ``small_sample`` and left unranked (issue 16).
    """
    return _positive_int(MIN_WORKS_VARIABLE, DEFAULT_MIN_WORKS)


def bootstrap_samples() -> int:
    """Return the number of bootstrap resamples for the intervals (``BANSO_ANALYTICS_BOOTSTRAP``, 200)."""
    return _positive_int(BOOTSTRAP_VARIABLE, DEFAULT_BOOTSTRAP)
