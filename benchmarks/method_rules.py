"""Benchmark what ``web.methods.MethodRules`` adds to a request: matching the path against every route template.

Run:  PYTHONPATH=src .venv/bin/python benchmarks/method_rules.py

Builds the real app on an in-memory SQLite, then times, in one run (ratios, not absolute numbers, are the
result): the route-table lookup alone for a page, a download, an API file and a static path (median of 7
runs of 2,000 lookups), and a whole anonymous GET /livez and GET /login through the TestClient (median of 7
runs of 200 requests), whose lookup is part of their time.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker
from tests.support.app import START, make_context, make_settings

from banso.app.factory import create_app
from banso.db.engine import make_engine
from banso.kit.clock import FakeClock
from banso.web.errors import method_not_allowed
from banso.web.methods import MethodRules


def _median_us(work: Callable[[], object], number: int) -> float:
    runs = []
    for _ in range(7):
        start = time.perf_counter()
        for _ in range(number):
            work()
        runs.append((time.perf_counter() - start) / number * 1e6)
    return statistics.median(runs)


def main() -> None:
    engine = make_engine("sqlite://")
    app = create_app(make_context(make_settings(Path(tempfile.mkdtemp())), engine, sessionmaker(engine),
                                  FakeClock(START)), background_jobs=False)
    rules = MethodRules(app, respond_405=method_not_allowed)
    print(f"route templates: {len(rules.table({'app': app}))}")
    for path in ("/dashboard", "/information/items/12/files/3", "/api/v1/programme/calls/5/panel.xlsx",
                 "/static/app.css"):
        scope = {"app": app, "path": path}
        print(f"lookup {path}: {_median_us(lambda scope=scope: rules.rules_for(scope), 2000):.1f} µs")  # type: ignore[misc]
    with TestClient(app) as client:
        for path in ("/livez", "/login"):
            client.get(path)
            print(f"GET {path}: {_median_us(lambda path=path: client.get(path), 200):.0f} µs")  # type: ignore[misc]


if __name__ == "__main__":
    main()
