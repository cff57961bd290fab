"""The key pages of issue 14 for the layout and accessibility browser tests, found by following links.

Two demo personas between them reach every key page: the MEXT officer (home, council, item, call, think
tank and a technology's page, audit log) and the JST programme officer (a proposal). Ids are read from the links the pages
show, so the tests do not depend on the seed's numbering.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.browser.helpers import log_in, persona

OFFICER = "takahashi.naoki@mext.example.jp"
AGENCY = "tanaka.yuki@jst.example.jp"
WIDTHS = {"phone": (390, 844), "laptop": (1366, 768)}
LANGS = ("ja", "en")
_SIGNED_IN: dict[tuple[str, str], Any] = {}  # (server, e-mail) → the signed-in browser state
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"


def first_link(page: Any, url: str, start: str, pattern: str) -> str:
    """Return the first link on ``start`` whose path matches ``pattern`` (fails the test when none)."""
    page.goto(url + start)
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
    found = next((h for h in hrefs if re.fullmatch(pattern, h.split("?")[0].split("#")[0])), None)
    assert found, f"no link like {pattern} on {start}"
    return str(found.split("#")[0])


def key_pages(page: Any, url: str, email: str) -> dict[str, str]:
    """Return the key pages ``email`` can open: name → path."""
    if email == AGENCY:
        return {"proposal": first_link(page, url, "/programme", r"/programme/proposals/\d+")}
    return {
        "home": "/dashboard",
        "council": first_link(page, url, "/councils", r"/councils/\d+"),
        "item": first_link(page, url, "/information", r"/information/items/\d+"),
        "call": first_link(page, url, "/programme", r"/programme/calls/\d+"),
        "thinktank": "/thinktank",
        # session 11: a technology's page has who leads (institutions) and the trend table and chart
        "thinktank_technology": first_link(page, url, "/thinktank", r"/thinktank/technologies/[A-Za-z0-9_.-]+"),
        "audit": "/audit",
    }


@contextmanager
def signed_in(browser: Any, url: str, email: str, width: int, height: int, lang: str, *,
              bypass_csp: bool = False) -> Iterator[Any]:
    """Yield a page of a fresh context at ``width``×``height`` signed in as ``email`` with the UI in ``lang``."""
    state = _SIGNED_IN.get((url, email))
    ctx = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": width, "height": height},
                              bypass_csp=bypass_csp, storage_state=state)
    ctx.set_default_timeout(20_000)
    try:
        page = ctx.new_page()
        if state is None:
            # Once per persona and server: a TOTP code is accepted once, so signing in again within its
            # 30 s step is refused (replay protection); later contexts reuse the session cookie.
            log_in(page, url, persona(email))
            _SIGNED_IN[(url, email)] = ctx.storage_state()
        page.goto(f"{url}/lang/{lang}?next=/dashboard")
        assert page.evaluate("document.documentElement.lang") == lang
        yield page
    finally:
        ctx.close()


def every_view() -> list[Any]:
    """Return the (persona, width, language) combinations as pytest params."""
    return [pytest.param(email, width, lang, id=f"{email.split('.')[0]}-{width}-{lang}")
            for email in (OFFICER, AGENCY) for width in WIDTHS for lang in LANGS]
