"""Issue 14: axe-core finds no serious or critical accessibility violation on the key pages, in ja and en.

axe-core comes from the npm registry at the locked version (``tests/support/axe``: ``npm ci``) and is
injected with Playwright into each key page of a signed-in persona (the context bypasses the CSP for
this one inline script; the app itself allows none). A refused form with its error summary is checked too.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.live import LiveServer
from tests.browser.pages import LANGS, OFFICER, key_pages, signed_in
from tests.support.axe import axe_source, serious_violations

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def axe() -> str:
    """The source of axe.min.js (installed with npm ci when missing)."""
    return axe_source()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("email", [OFFICER, "tanaka.yuki@jst.example.jp"])
def test_key_pages_have_no_serious_violations(browser: Any, live_server: LiveServer, axe: str, email: str,
                                             lang: str) -> None:
    found: dict[str, list[str]] = {}
    for width, height in ((390, 844), (1366, 768)):
        with signed_in(browser, live_server.url, email, width, height, lang, bypass_csp=True) as page:
            for name, path in key_pages(page, live_server.url, email).items():
                page.goto(live_server.url + path)
                problems = serious_violations(page, axe)
                if problems:
                    found[f"{name}@{width}"] = problems
    assert not found, found


@pytest.mark.parametrize("lang", LANGS)
def test_a_refused_form_with_its_error_summary_has_no_serious_violations(browser: Any, live_server: LiveServer,
                                                                         axe: str, lang: str) -> None:
    with signed_in(browser, live_server.url, OFFICER, 1366, 768, lang, bypass_csp=True) as page:
        page.goto(f"{live_server.url}/councils/new")
        page.evaluate("document.querySelector('form[action=\"/councils\"]').noValidate = true")
        page.click("form[action='/councils'] button[type=submit]")
        summary = page.locator("#form-error")
        assert summary.is_visible()
        assert page.evaluate("document.activeElement.id") == "form-error"  # the summary takes the focus
        assert summary.locator("li a").count() >= 1
        assert not serious_violations(page, axe)
