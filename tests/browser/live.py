"""A live ``banso demo`` in a subprocess for the end-to-end tests: started on a free loopback port, ready once
``GET /healthz`` answers 200, stopped when the block ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.mail import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class LiveServer:
    """A running ``banso demo``."""

    url: str
    data_dir: Path
    log_path: Path

    def output(self) -> str:
        """Return what the server has printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as resp:  # loopback only
            return bool(resp.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=15)


@contextmanager
def launch_demo(base: Path, extra_env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """Run ``banso demo`` with its data under ``base`` on a free loopback port until the block ends."""
    port = free_port()
    data_dir = base / "data"
    log_path = base / "server.log"
    env = {**os.environ, "BANSO_MODE": "demo", "PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "TERM": "dumb",
           **(extra_env or {})}
    env.pop("BANSO_TEST_DATABASE_URL", None)
    cmd = [sys.executable, "-m", "banso", "demo", "--port", str(port), "--data", str(data_dir)]
    server = LiveServer(url=f"http://127.0.0.1:{port}", data_dir=data_dir, log_path=log_path)

    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(server.url):
            if proc.poll() is not None:
                pytest.fail(f"`{' '.join(cmd)}` exited with {proc.returncode} before /healthz answered.\n"
                            f"--- server output ---\n{server.output()}", pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"`{' '.join(cmd)}`: GET {server.url}/healthz did not return 200 within "
                            f"{STARTUP_TIMEOUT_S:.0f} s.\n--- server output ---\n{server.output()}", pytrace=False)
            time.sleep(0.25)
        yield server
    finally:
        _stop(proc)
