"""Domain exceptions of the analytics package; the CLI maps them to a message and exit code 2."""

from __future__ import annotations


class AnalyticsError(Exception):
    """A problem with the user's input that the user can fix (bad folder, bad file, empty window)."""


class SnapshotError(AnalyticsError):
    """The snapshot folder is missing, empty or unreadable as a whole."""


class StoreError(AnalyticsError):
    """The Parquet store is missing or incomplete (an interrupted ingest)."""


class TechnologyFileError(AnalyticsError):
    """The technology definition file is malformed."""
