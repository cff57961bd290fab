"""End-to-end fixtures: the real ``banso demo`` in a subprocess, driven by Playwright in Debian's chromium.

Tests here are marked ``browser`` (``pytestmark = pytest.mark.browser``). Fixtures:

- ``live_server`` (session): ``python -m banso demo --port P --data TMP`` with BANSO_MODE=demo,
  ready once ``GET /healthz`` answers 200; has ``.url`` (no trailing slash) and ``.data_dir``.
- ``browser`` (session): headless /usr/bin/chromium launched through ``playwright.sync_api``.
  ``playwright install`` is never used — browser downloads are blocked here.
- ``context`` / ``page`` (function): a fresh context in ja-JP / Asia/Tokyo and a page in it. When a
  test fails, a screenshot and the page's HTML are saved to ``tests/browser/artifacts/``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("BANSO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
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


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as resp:  # noqa: S310 (loopback only)
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
    port = _free_port()
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


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Start the real app (``banso demo``) on a free loopback port; stop it after the session."""
    with launch_demo(tmp_path_factory.mktemp("live-server")) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Launch headless Debian chromium through Playwright (one browser per test session)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: browser tests need Debian's chromium. "
                    "`bash scripts/test.sh` installs it (as root: apt-get install -y chromium fonts-noto-cjk). "
                    "Do not run `playwright install`: browser downloads are blocked.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """Return a fresh browser context (Japanese locale, Tokyo time); closed after the test."""
    ctx = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Return a page; on test failure save a screenshot and the HTML to tests/browser/artifacts/."""
    pg = context.new_page()
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed and not pg.is_closed():
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        try:
            pg.screenshot(path=str(ARTIFACTS / f"{stem}.png"), full_page=True)
            (ARTIFACTS / f"{stem}.html").write_text(pg.content(), encoding="utf-8")
            sys.stderr.write(f"\nbrowser artifacts: {ARTIFACTS / stem}.png / .html\n")
        except Exception as exc:  # noqa: BLE001 (never hide the real failure)
            sys.stderr.write(f"\ncould not save browser artifacts for {request.node.nodeid}: {exc}\n")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the item (``item.rep_setup`` / ``rep_call`` / ``rep_teardown``)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
