"""The analytics package's settings: the only place in ``banso.analytics`` that reads the environment.

The package takes everything else as arguments from its caller (folders, windows, technology files),
so it needs nothing from ``banso.config``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SPARK_MASTER_VARIABLE = "BANSO_SPARK_MASTER"
DEFAULT_SPARK_MASTER = "local[2]"


def spark_master() -> str:
    """Return the Spark master URL for ``--engine spark`` (``BANSO_SPARK_MASTER``, default ``local[2]``)."""
    return os.environ.get(SPARK_MASTER_VARIABLE, DEFAULT_SPARK_MASTER)


def spark_python() -> str:
    """Return the Python the Spark executors run (``PYSPARK_PYTHON``, default this interpreter).

    It must have banso's dependencies (``pip install 'banso[spark]'``): the executors decode, project
    and match with msgspec, DuckDB, ISA-L and ahocorasick-rs (docs/analytics.md "Running on a Spark cluster").
    """
    return os.environ.get("PYSPARK_PYTHON") or sys.executable


def spark_driver_java_options() -> str:
    """Return ``spark.driver.extraJavaOptions`` as the administrator set it in ``spark-defaults.conf``
    (``$SPARK_CONF_DIR``, else ``$SPARK_HOME/conf``), or "" when none is set or there is no such file.

    Read so the quiet session (``engine.spark_session``) adds its log configuration to those options rather than
    replacing them: a value given to the session builder wins over the file's.
    """
    conf_dir = os.environ.get("SPARK_CONF_DIR") or (
        str(Path(os.environ["SPARK_HOME"]) / "conf") if os.environ.get("SPARK_HOME") else "")
    path = Path(conf_dir) / "spark-defaults.conf" if conf_dir else None
    if path is None or not path.is_file():
        return ""
    value = ""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, *rest = line.strip().split(None, 1) or [""]
        if key == "spark.driver.extraJavaOptions":
            value = rest[0].strip() if rest else ""  # the last one wins, as Spark reads the file
    return value


DOCUMENT_TYPES_VARIABLE = "BANSO_ANALYTICS_DOCUMENT_TYPES"
# OpenAlex's `type` values of research output (docs/analytics.md "Exact counting and document types"):
# not editorial, letter, erratum, paratext, peer-review, dataset, dissertation, report, other, ...
DEFAULT_DOCUMENT_TYPES = ("article", "review", "preprint", "book-chapter", "book")


# OpenAlex's work types (https://docs.openalex.org/api-entities/works/work-object#type): a type outside
# this list is a typo, refused rather than silently counting nothing.
OPENALEX_TYPES = (
    "article", "book-chapter", "dataset", "preprint", "dissertation", "book", "review", "paratext",
    "libguides", "letter", "other", "reference-entry", "report", "editorial", "erratum", "grant", "standard",
    "peer-review", "supplementary-materials", "retraction",
)


def parse_document_types(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list of OpenAlex work types; raise ValueError naming an unknown one.

    >>> parse_document_types("article, Review")
    ('article', 'review')
    >>> parse_document_types("artcle")
    Traceback (most recent call last):
    ...
    ValueError: 不明な OpenAlex の文献種別です: artcle / unknown OpenAlex work type(s): artcle (known: article, ...)
    """
    chosen = tuple(dict.fromkeys(t.strip().lower() for t in text.split(",") if t.strip()))
    unknown = [t for t in chosen if t not in OPENALEX_TYPES]
    if unknown:
        raise ValueError(f"不明な OpenAlex の文献種別です: {', '.join(unknown)} / "
                         f"unknown OpenAlex work type(s): {', '.join(unknown)} (known: {', '.join(OPENALEX_TYPES)})")
    if not chosen:
        raise ValueError("数える文献種別が空です / the list of counted work types is empty")
    return chosen


def document_types() -> tuple[str, ...]:
    """Return the OpenAlex work types that count (``BANSO_ANALYTICS_DOCUMENT_TYPES``, comma-separated).

    >>> document_types()
    ('article', 'review', 'preprint', 'book-chapter', 'book')
    """
    raw = os.environ.get(DOCUMENT_TYPES_VARIABLE, "").strip()
    return parse_document_types(raw) if raw else DEFAULT_DOCUMENT_TYPES


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
        raise ValueError(f"{variable} は 0 以上の整数にしてください（{raw!r}） / "
                         f"{variable} must be a non-negative integer (got {raw!r})")
    return value


def min_works() -> int:
    """Return the fewest works a technology needs in the window to be ranked (``BANSO_ANALYTICS_MIN_WORKS``, 50).

    A technology with fewer is marked ``small_sample`` and left unranked (issue 16).
    """
    return _positive_int(MIN_WORKS_VARIABLE, DEFAULT_MIN_WORKS)


def bootstrap_samples() -> int:
    """Return the number of bootstrap resamples for the intervals (``BANSO_ANALYTICS_BOOTSTRAP``, 200)."""
    return _positive_int(BOOTSTRAP_VARIABLE, DEFAULT_BOOTSTRAP)
