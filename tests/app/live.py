"""`banso serve` as a real process on loopback, its /metrics read back, and a database of its own on PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.mail import free_port


@dataclass
class Served:
    """One running `banso serve`."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """Return what the server printed so far."""
        return self.log.read_text(errors="replace")

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        """GET ``path`` on a new connection."""
        return httpx.get(self.url + path, timeout=10, **kwargs)  # type: ignore[arg-type]

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Return every sample of /metrics, keyed by (name, sorted labels)."""
        response = self.get("/metrics")
        assert response.status_code == 200, response.text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(response.text) for s in family.samples}

    def metric(self, name: str, **labels: str) -> float:
        """Return one sample's value (0 when the series does not exist yet)."""
        return self.metrics().get((name, tuple(sorted(labels.items()))), 0.0)


def banso_env(data: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    """Return the environment of a served banso: the caller's, without its BANSO_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANSO_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({"BANSO_DATA_DIR": str(data), "BANSO_MODE": "development", **extra})
    if database_url:
        env["BANSO_DATABASE_URL"] = database_url
    return env


@contextlib.contextmanager
def serve(data: Path, database_url: str | None, *args: str, **extra: str) -> Iterator[Served]:
    """Run ``banso serve ARGS`` on a free loopback port until /livez answers; stop it afterwards."""
    port = free_port()
    log = data.parent / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "banso", "serve", "--port", str(port), *args],
                                env=banso_env(data, database_url, **extra), stdout=out, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, f"banso serve exited with {proc.returncode}:\n{served.output()}"
            with contextlib.suppress(httpx.HTTPError):
                if served.get("/livez").status_code == 200:
                    break
            assert time.monotonic() < deadline, f"banso serve did not come up:\n{served.output()}"
            time.sleep(0.2)
        yield served
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server gracefully (SIGINT, as Ctrl-C), or kill it after 20 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(condition: object, *, seconds: float = 30, what: str = "condition") -> None:
    """Poll ``condition()`` every 0.2 s until it is true, or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@contextlib.contextmanager
def own_postgres_database(url: str) -> Iterator[str]:
    """Create a fresh database beside the test database (the servers commit; tests must not see it)."""
    name = f"banso_live_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                         {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
