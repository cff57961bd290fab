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


DOCUMENT_TYPES_VARIABLE = "BANSO_ANALYTICS_DOCUMENT_TYPES"
# OpenAlex's `type` values of research output (docs/analytics.md "Exact counting and document types"):
# not editorial, letter, erratum, paratext, peer-review, dataset, dissertation, report, other, ...
DEFAULT_DOCUMENT_TYPES = ("article", "review", "preprint", "book-chapter", "book")


def document_types() -> tuple[str, ...]:
    """Return the OpenAlex work types that count (``BANSO_ANALYTICS_DOCUMENT_TYPES``, comma-separated).

    >>> document_types()
    ('article', 'review', 'preprint', 'book-chapter', 'book')
    """
    raw = os.environ.get(DOCUMENT_TYPES_VARIABLE, "")
    chosen = tuple(t.strip().lower() for t in raw.split(",") if t.strip())
    return chosen or DEFAULT_DOCUMENT_TYPES
