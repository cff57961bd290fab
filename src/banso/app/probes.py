"""Liveness, readiness and metrics routes for operators and orchestrators (composition root).

* ``GET /livez``: the process answers HTTP (nothing else is checked, so a slow database never gets
  a healthy worker restarted).
* ``GET /readyz``: may this worker take traffic? The database answers within a short timeout, its
  migrations are at head, it takes a write (SQLite: the write lock within the timeout; PostgreSQL:
  not a read-only standby), the key store answers (the HSM draws a random number; key files: the
  folder is readable and writable) and the data folder takes a write. 200, or 503 with the reasons
  (Japanese first, then English). Anyone gets the status and the reasons; the checks with their
  timings, the migration revisions, the job role and the worker's pid only loopback clients or the
  metrics token (they tell an outsider what runs where). Details of a failure go to the log.
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
from banso.sealed.crypto import KeyStore

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
        # isolation_level None: pysqlite leaves BEGIN to us (the write-lock check issues its own).
        return create_engine(url, poolclass=NullPool, connect_args={"timeout": timeout_seconds,
                                                                    "isolation_level": None})
    return create_engine(url, poolclass=NullPool, connect_args={
        "connect_timeout": seconds, "options": f"-c statement_timeout={seconds * 1000}"})


class Readiness:
    """The checks behind ``/readyz``."""

    def __init__(self, settings: Settings, *, url: str, key_stores: Callable[[], list[KeyStore]]) -> None:
        self.settings = settings
        self.url = url
        self._key_stores = key_stores
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
        return [*self._database(), self._keys(), self._data_dir()]

    def _database(self) -> list[Check]:
        started = time.perf_counter()
        try:
            missing = self._missing_sqlite_file()
            if missing:  # connecting would create an empty database in its place
                raise FileNotFoundError(missing)
            with self.engine.connect() as conn:
                has_table = self.engine.dialect.has_table(conn, "alembic_version")
                current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() if has_table else None
                writable = self._takes_a_write(conn)
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
        write = Check("database_write", writable, 0.0, None if writable else
                      "データベースが書き込みを受け付けません（書き込みロックが空かない、または読み取り専用） / "
                      "the database takes no write (its write lock stays taken, or it is read-only)")
        return [Check("database", True, spent), migrations, write]

    def _takes_a_write(self, conn: Any) -> bool:
        """Return True when a write could start now: SQLite's write lock within the timeout, PostgreSQL a primary."""
        if self.engine.dialect.name == "sqlite":
            # The probe engine has no BEGIN hook and no pysqlite transaction control: take the
            # write lock by hand and give it back at once. A lock held past the timeout (a stuck
            # writer) makes every write of every worker wait, so this worker is not ready either.
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except Exception:
                log.warning("readiness: the SQLite write lock stayed taken", exc_info=True)
                return False
            conn.exec_driver_sql("ROLLBACK")
            return True
        return not conn.execute(text("SELECT pg_is_in_recovery()")).scalar()

    def _keys(self) -> Check:
        started = time.perf_counter()
        try:
            for store in self._key_stores():
                store.ping()
        except Exception:
            log.warning("readiness: the key store does not answer", exc_info=True)
            return Check("keys", False, (time.perf_counter() - started) * 1000,
                         "鍵ストア（HSM または鍵フォルダ）が応答しません / the key store (HSM or key folder) does not answer")
        return Check("keys", True, (time.perf_counter() - started) * 1000)

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
    def readyz(request: Request) -> JSONResponse:
        checks = readiness.check()
        ready = all(c.ok for c in checks)
        body: dict[str, Any] = {"status": "ready" if ready else "not ready"}
        if not ready:
            body["reasons"] = [c.reason for c in checks if not c.ok]
        if may_read_metrics(request, settings):  # the operator's view: what was checked, which worker
            body.update({"checks": {c.name: c.as_json() for c in checks}, "jobs": jobs_state(),
                         "worker": os.getpid()})
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

