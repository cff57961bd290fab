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
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.live import LiveServer, launch_demo

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
