"""Helpers shared by the end-to-end browser tests: personas, signing in, separate browsers."""

from __future__ import annotations

import re
import time
from typing import Any

import pyotp

from banso.demo.seed import PERSONAS


def persona(email: str) -> Any:
    """Return the demo persona with this e-mail."""
    return next(p for p in PERSONAS if p.email == email)


def log_in(page: Any, url: str, who: Any, *, offset_seconds: float = 0) -> None:
    """Sign in with password and the persona's TOTP code (at the server's time when its clock is offset)."""
    page.goto(f"{url}/login")
    page.fill("#email", who.email)
    page.fill("#password", who.password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"/login/2fa"))
    page.fill("#code", pyotp.TOTP(who.totp_secret).at(time.time() + offset_seconds))
    page.click("form[action='/login/2fa'] button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard$"))


def new_page(browser: Any) -> Any:
    """Open a page in a fresh context of its own (its own cookies: another person's browser)."""
    ctx = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    return ctx.new_page()


def open_new_item_form(page: Any, url: str, council_title: str) -> int:
    """Go from the councils list to ``council_title``'s new-item form; return the council's id."""
    page.goto(f"{url}/councils")
    page.click(f"text={council_title}")
    match = re.search(r"/councils/(\d+)", page.url)
    assert match is not None, page.url
    council_id = int(match.group(1))
    page.goto(f"{url}/councils/{council_id}/information/new")
    return council_id
