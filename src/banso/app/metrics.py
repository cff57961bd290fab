"""Prometheus metrics of the server: requests, latency, in-flight requests, job runs (composition root).

One :class:`Metrics` per app. With several workers (``banso serve --workers N``) every worker writes
its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (a fresh folder made per server start) and
``/metrics`` reads all of them, so whichever worker answers, the scrape shows one view of the server.
Requests are labelled by the *route template* (``/api/v1/information/items/{item_id}``), never the
raw path: ids in paths would make a new time series per item and exhaust Prometheus.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Read pages and API answers take milliseconds; uploads and renders up to seconds.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_LIVE_GAUGE = re.compile(r"^gauge_live\w*_(\d+)\.db$")


class Metrics:
    """The server's metrics; values shared through ``multiproc_dir`` when several workers run."""

    def __init__(self, multiproc_dir: Path | None = None) -> None:
        if multiproc_dir is not None and values.ValueClass is values.MutexValue:
            # prometheus_client picks its storage when first imported: the folder must be in the
            # environment by then, or each worker would count alone and /metrics show one of them.
            raise RuntimeError("PROMETHEUS_MULTIPROC_DIR must be set before prometheus_client is imported")
        self.multiproc_dir = multiproc_dir
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("banso_http_requests", "HTTP requests answered, by method, route template and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("banso_http_request_duration_seconds",
                                 "Time from request to the end of the response, admission wait included.",
                                 ["method", "route"], buckets=_BUCKETS, registry=self.registry)
        self.in_flight = Gauge("banso_http_requests_in_flight", "Requests being served or waiting for admission.",
                               multiprocess_mode="livesum", registry=self.registry)
        self.job_runs = Counter("banso_job_runs", "Scheduled job runs, by job.", ["job"], registry=self.registry)
        self.job_failures = Counter("banso_job_failures", "Scheduled job runs that failed, by job.", ["job"],
                                    registry=self.registry)
        self.job_leader = Gauge("banso_job_leader",
                                "1 in the process that runs the scheduled jobs (the sum over workers is 1).",
                                multiprocess_mode="livesum", registry=self.registry)

    def job_ran(self, job: str, ok: bool) -> None:
        """Count one run of ``job`` (and a failure when it raised)."""
        self.job_runs.labels(job=job).inc()
        if not ok:
            self.job_failures.labels(job=job).inc()

    def exposition(self) -> bytes:
        """Return the text exposition of every worker's metrics (or this process's alone)."""
        if self.multiproc_dir is None:
            return generate_latest(self.registry)
        forget_dead_workers(self.multiproc_dir)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.multiproc_dir))  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def process_exits(self) -> None:
        """Drop this process's live gauges (in-flight, leader) when it stops serving."""
        if self.multiproc_dir is not None:
            mark_process_dead(os.getpid(), str(self.multiproc_dir))  # type: ignore[no-untyped-call]


def forget_dead_workers(folder: Path) -> None:
    """Drop the live gauges of workers that are gone (killed workers never say so themselves)."""
    for path in folder.iterdir():
        found = _LIVE_GAUGE.match(path.name)
        if found and not _alive(int(found.group(1))):
            mark_process_dead(int(found.group(1)), str(folder))  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def route_label(scope: Scope) -> str:
    """Return the route template that served ``scope`` (``unmatched`` for a 404 outside every route)."""
    fastapi_scope = scope.get("fastapi")
    context = fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    # FastAPI records the full template (router prefix included) beside the route; older versions
    # copied the route with its prefix, so the route's own path is the template there.
    for candidate in (getattr(context, "path", None), getattr(scope.get("route"), "path", None)):
        if isinstance(candidate, str) and candidate:
            return candidate
    if scope.get("path_params") is not None and scope.get("root_path"):
        return f"{scope['root_path']}/{{path}}"  # a mounted app (the static files)
    return "unmatched"


class RequestMetrics:
    """Count every HTTP request by method, route template and status, time it, and track in-flight ones."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets when the app raises before answering
        started = time.perf_counter()

        async def observe(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, observe)
        finally:
            self.metrics.in_flight.dec()
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope.get("method", "")
        method = method if method in _METHODS else "other"  # a made-up method must not add a series
        route = route_label(scope)
        with contextlib.suppress(ValueError):  # never fail a response over its metrics
            self.metrics.requests.labels(method=method, route=route, status=str(status)).inc()
            self.metrics.latency.labels(method=method, route=route).observe(seconds)

