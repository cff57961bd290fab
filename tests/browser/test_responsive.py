"""Issue 14: the key pages fit a phone (390 px) and a laptop (1366 px) in both languages, with screenshots.

For a signed-in persona each key page (home, council, item, call, proposal, think tank, audit log) is
measured: the document is never wider than the screen (``document.documentElement.scrollWidth``), the
logo and the language switch share one line, and on the phone the main menu folds behind a button that
says whether it is open (``aria-expanded``). A full-page screenshot of every page at both widths in both
languages is kept under ``build/screenshots/`` as a test artefact.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.live import LiveServer
from tests.browser.pages import OFFICER, SCREENSHOTS, WIDTHS, every_view, key_pages, signed_in

pytestmark = pytest.mark.browser


def _one_line(page: Any) -> bool:
    """Return True when the logo and the language switch sit on the same line of the header."""
    boxes = page.evaluate("""() => ['.brand-logo', '.lang-switch'].map(s => {
        const r = document.querySelector(s).getBoundingClientRect(); return [r.top, r.bottom]; })""")
    (logo_top, logo_bottom), (switch_top, switch_bottom) = boxes
    return bool(switch_top < logo_bottom and logo_top < switch_bottom)


def _menu_folds(page: Any) -> None:
    toggle = page.locator(".nav-toggle")
    menu = page.locator("#main-menu")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert not menu.is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and menu.is_visible()
    toggle.click()
    assert not menu.is_visible()


@pytest.mark.parametrize(("email", "width", "lang"), every_view())
def test_key_pages_fit_the_screen(browser: Any, live_server: LiveServer, email: str, width: str, lang: str) -> None:
    size = WIDTHS[width]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with signed_in(browser, live_server.url, email, *size, lang) as page:
        wide: dict[str, int] = {}
        for name, path in key_pages(page, live_server.url, email).items():
            response = page.goto(live_server.url + path)
            assert response is not None and response.status == 200, (name, path)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}-{lang}.png"), full_page=True)
            scroll = int(page.evaluate("document.documentElement.scrollWidth"))
            if scroll > size[0]:
                wide[name] = scroll
            assert _one_line(page), (name, "logo and language switch on two lines")
        assert not wide, f"pages wider than {size[0]} px: {wide}"
        if width == "phone":
            _menu_folds(page)
        else:
            assert not page.locator(".nav-toggle").is_visible() and page.locator("#main-menu").is_visible()


def test_label_value_rows_stack_on_a_phone(browser: Any, live_server: LiveServer) -> None:
    """A fact's label sits above its value on a phone (values were squeezed to 4 characters a line)."""
    with signed_in(browser, live_server.url, OFFICER, 390, 844, "ja") as page:
        page.goto(live_server.url + key_pages(page, live_server.url, OFFICER)["council"])
        rows = page.evaluate("""() => [...document.querySelectorAll('.facts')].slice(0, 3).map(d => {
            const t = d.querySelector('dt').getBoundingClientRect(), v = d.querySelector('dd').getBoundingClientRect();
            return [t.bottom <= v.top + 1, v.width]; })""")
        assert rows, "the council page shows no label/value rows"
        for stacked, value_width in rows:
            assert stacked and value_width > 300, rows
