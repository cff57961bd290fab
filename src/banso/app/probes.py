"""Liveness, readiness and metrics routes for operators and orchestrators (composition root).

* ``GET /livez``: the process answers HTTP (nothing else is checked, so a slow database never gets
  a healthy worker restarted).
* ``GET /readyz``: may this worker take traffic? The database answers within a short timeout, its
  migrations are at head, and the data folder takes a write. 200 with the checks, or 503 with the
  reasons (Japanese first, then English); details of a failure go to the log, not to the caller.
* ``GET /metrics``: Prometheus text exposition (``app/metrics.py``), for loopback clients and for
  the bearer token in ``BANSO_METRICS_TOKEN``.

None of them is audited (no principal, no content) and none is in the OpenAPI document. They are
plain ``def`` handlers: their blocking work runs in the thread pool, never on the event loop.
"""

from __future__ import annotations

import hmac
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from banso.app.metrics import CONTENT_TYPE, Metrics
from banso.config import Settings
from banso.migrations import migrate

log = logging.getLogger("banso.probes")
PROBE_PATHS = frozenset({"/livez", "/readyz", "/metrics", "/healthz"})  # never rate limited nor audited
_LOOPBACK = frozenset({"127.0.0.1", "::1"})


@dataclass(frozen=True)
class Check:
    """One readiness check: passed or not, how long it took, and the reason shown when it failed."""

    name: str
    ok: bool
    ms: float
    reason: str | None = None
    detail: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the check as the JSON the probe answers."""
        body: dict[str, Any] = {"ok": self.ok, "ms": round(self.ms, 1)}
        if self.reason:
            body["reason"] = self.reason
        body.update(self.detail or {})
        return body


def probe_engine(url: str, timeout_seconds: float) -> Engine:
    """Return an engine that connects afresh per probe and gives up after ``timeout_seconds``.

    Its own engine, not the app's: the request pool's checkout would wait for a free connection
    (and SQLite's unit of work begins with ``BEGIN IMMEDIATE``, which waits for the writer); a
    probe must answer in seconds whatever the load.
    """
    seconds = max(1, round(timeout_seconds))
    if url.startswith("sqlite"):
        return create_engine(url, poolclass=NullPool, connect_args={"timeout": timeout_seconds})
    return create_engine(url, poolclass=NullPool, connect_args={
        "connect_timeout": seconds, "options": f"-c statement_timeout={seconds * 1000}"})


class Readiness:
    """The checks behind ``/readyz``."""

    def __init__(self, settings: Settings, *, url: str) -> None:
        self.settings = settings
        self.url = url
        self._engine: Engine | None = None
        self._head: list[str | None] = []

    @property
    def engine(self) -> Engine:
        """Return the probe engine (built on the first probe: most apps, the tests', are never probed)."""
        if self._engine is None:
            self._engine = probe_engine(self.url, self.settings.readiness_timeout_seconds)
        return self._engine

    @property
    def head(self) -> str | None:
        """Return the newest migration (read from the migration scripts once)."""
        if not self._head:
            self._head.append(migrate.head_revision())
        return self._head[0]

    def check(self) -> list[Check]:
        """Run every check and return them (database and migrations together: one query answers both)."""
        return [*self._database(), self._data_dir()]

    def _database(self) -> list[Check]:
        started = time.perf_counter()
        try:
            missing = self._missing_sqlite_file()
            if missing:  # connecting would create an empty database in its place
                raise FileNotFoundError(missing)
            with self.engine.connect() as conn:
                has_table = self.engine.dialect.has_table(conn, "alembic_version")
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() if has_table else None
        except Exception:
            log.warning("readiness: the database did not answer", exc_info=True)
            spent = (time.perf_counter() - started) * 1000
            return [Check("database", False, spent, "データベースに接続できません / the database does not answer")]
        spent = (time.perf_counter() - started) * 1000
        at_head = current == self.head
        migrations = Check("migrations", at_head, 0.0, None if at_head else
                           "データベースのスキーマが最新ではありません（banso db upgrade） / "
                           "the database is not migrated to head (banso db upgrade)",
                           {"current": current, "head": self.head})
        return [Check("database", True, spent), migrations]

    def _missing_sqlite_file(self) -> str | None:
        url = make_url(self.url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return None if Path(str(url.database)).is_file() else str(url.database)

    def _data_dir(self) -> Check:
        started = time.perf_counter()
        try:
            with tempfile.NamedTemporaryFile(dir=self.settings.data_dir, prefix=".readyz-") as probe:
                probe.write(b"ready\n")
                probe.flush()
                os.fsync(probe.fileno())
        except OSError:
            log.warning("readiness: the data folder %s takes no write", self.settings.data_dir, exc_info=True)
            return Check("data_dir", False, (time.perf_counter() - started) * 1000,
                         "データフォルダに書き込めません / the data folder takes no write")
        return Check("data_dir", True, (time.perf_counter() - started) * 1000)

    def close(self) -> None:
        """Dispose of the probe engine."""
        if self._engine is not None:
            self._engine.dispose()


def may_read_metrics(request: Request, settings: Settings) -> bool:
    """Return True for a loopback client (unless turned off) or the configured bearer token."""
    host = request.client.host if request.client else ""
    if settings.metrics_loopback and host in _LOOPBACK:
        return True
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else ""
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())


def probe_router(settings: Settings, readiness: Readiness, metrics: Metrics,
                 jobs_state: Callable[[], str]) -> APIRouter:
    """Return the router of /livez, /readyz and /metrics."""
    router = APIRouter(include_in_schema=False)

    @router.get("/livez")
    def livez() -> dict[str, str]:
        return {"status": "alive"}

    @router.get("/readyz")
    def readyz() -> JSONResponse:
        checks = readiness.check()
        ready = all(c.ok for c in checks)
        body: dict[str, Any] = {"status": "ready" if ready else "not ready",
                                "checks": {c.name: c.as_json() for c in checks}, "jobs": jobs_state(),
                                "worker": os.getpid()}  # which of several workers answered
        if not ready:
            body["reasons"] = [c.reason for c in checks if not c.ok]
        return JSONResponse(body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})

    @router.get("/metrics")
    def read_metrics(request: Request) -> Response:
        if not may_read_metrics(request, settings):
            return JSONResponse(
                {"error": "unauthorized",
                 "message": "メトリクスはループバックまたは BANSO_METRICS_TOKEN のBearerトークンでのみ読めます / "
                            "/metrics is served to loopback clients or with the bearer token of BANSO_METRICS_TOKEN"},
                status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        return Response(metrics.exposition(), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    return router

