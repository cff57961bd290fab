"""End-to-end: the task-centred home in a real browser (issue 14) — every link it shows opens, the menu's count
matches the list, and the account page holds the API tokens link."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.helpers import log_in, persona

pytestmark = pytest.mark.browser

OFFICER = "sato.kenichi@cao.example.jp"  # a persona no other browser test signs in (no TOTP replay)


def test_home_links_open_and_the_menu_counts_the_tasks(live_server: Any, page: Any) -> None:
    log_in(page, live_server.url, persona(OFFICER))
    assert page.get_attribute("html", "lang") == "ja"
    assert page.locator("#tasks-title").inner_text().startswith("対応が必要なこと")
    shown = int(page.locator("#task-count").inner_text())
    badge = page.locator("#nav-tasks")
    if shown:
        assert badge.inner_text().split()[0] == str(shown)
        assert "件の対応が必要なこと" in badge.locator(".visually-hidden").inner_text()
    else:
        assert badge.count() == 0
    hrefs = {a.get_attribute("href") for a in page.locator("#tasks a, #due-soon a, #activity a").all()}
    for href in sorted(h for h in hrefs if h):
        assert page.request.get(f"{live_server.url}{href}").status == 200, href  # no link that answers 404
    assert "APIトークン" not in page.locator(".main-nav").inner_text()
    page.click("a.user-name")
    page.wait_for_url(f"{live_server.url}/account")
    page.click("#manage-tokens")
    page.wait_for_url(f"{live_server.url}/account/tokens")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/dashboard")
    assert page.evaluate("document.querySelector('#tasks').getBoundingClientRect().right") <= 390
