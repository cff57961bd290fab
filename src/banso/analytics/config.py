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
