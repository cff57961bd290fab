"""Real parts for tests that need several connections: a fresh committed database on the test backend,
a context on it, and a real uvicorn server on loopback (in a thread or a subprocess)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import make_url

from banso.app.wiring import build_context
from banso.db.engine import make_engine
from banso.kit.clock import FakeClock
from banso.migrations import migrate
from banso.web.context import AppContext
from tests.support.app import START, make_settings
from tests.support.mail import free_port

ROOT = Path(__file__).resolve().parents[2]


def backend_url_for_tests() -> str | None:
    """Return the PostgreSQL URL of this test pass (BANSO_TEST_DATABASE_URL), or None on SQLite."""
    return os.environ.get("BANSO_TEST_DATABASE_URL") or None


@contextmanager
def fresh_database(folder: Path) -> Iterator[str]:
    """Yield the URL of a new, migrated, empty database on the test backend; drop it afterwards.

    Unlike the shared test database (one outer transaction rolled back per test), what is written
    here is committed, so other connections, threads and servers see it.
    """
    base = backend_url_for_tests()
    if base is None:
        url = f"sqlite:///{folder / 'live.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
        return
    name = f"banso_live_{secrets.token_hex(4)}"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def live_context(folder: Path, url: str, clock: FakeClock | None = None) -> AppContext:
    """Return the application's wiring on ``url`` with test settings (data below ``folder``) and ``clock``."""
    settings = make_settings(folder).model_copy(update={"database_url": url})
    return build_context(settings, clock=clock or FakeClock(START))


@contextmanager
def server_thread(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def server_process(data_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """Run ``banso db upgrade`` and ``banso serve`` in a subprocess on a free loopback port; yield its URL."""
    port = free_port()
    full = {**os.environ, "BANSO_MODE": "development", "BANSO_DATA_DIR": str(data_dir), **env}
    full["PYTHONPATH"] = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(ROOT / "src")) if p)
    subprocess.run([sys.executable, "-m", "banso", "db", "upgrade"], env=full, check=True, capture_output=True,
                   timeout=120)
    proc = subprocess.Popen([sys.executable, "-m", "banso", "serve", "--port", str(port)], env=full,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "server exited"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
