"""End-to-end: log in with TOTP, switch language, and see an audit proof verified in the page (issue 2, item 9).

Each test signs in a different demo persona: two logins by one persona within the same 30-second
TOTP step would be refused as a replay.
"""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest

from banso.demo.seed import PERSONAS

pytestmark = pytest.mark.browser


def _persona(roles: set[str]) -> Any:
    """Return the first demo persona holding exactly ``roles``."""
    for persona in PERSONAS:
        if set(persona.roles) == roles:
            return persona
    raise AssertionError(f"the demo has no persona with roles {roles}")


def _log_in(page: Any, url: str, persona: Any) -> None:
    """Sign in through the login pages with password and the persona's current TOTP code."""
    page.goto(f"{url}/login")
    page.fill("#email", persona.email)
    page.fill("#password", persona.password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"/login/2fa"))
    page.fill("#code", pyotp.TOTP(persona.totp_secret).now())
    page.click("form[action='/login/2fa'] button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard$"))


def test_login_switch_language_and_verify_an_audit_proof(live_server: Any, page: Any) -> None:
    admin = _persona({"admin", "auditor"})
    _log_in(page, live_server.url, admin)

    # The dashboard, in Japanese by default.
    assert page.get_attribute("html", "lang") == "ja"
    assert page.locator("h1").inner_text().startswith(admin.name_ja)
    nav = [a.split()[0] for a in page.locator(".main-nav a").all_inner_texts()]  # first word: K Program → "K"
    # Issue 14: API tokens moved from the main menu to the account page.
    assert nav == ["ダッシュボード", "受信箱", "協議会", "情報", "K", "シンクタンク", "監査ログ",
                   "利用者管理", "公開成果"]

    # English, then back to Japanese, from the header switch.
    page.click(".lang-switch a[hreflang=en]")
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert "Welcome, " + admin.name_en in page.locator("h1").inner_text()
    assert "What waits for you" in page.content()  # issue 14: the home is task-centred
    page.click(".lang-switch a[hreflang=ja]")
    page.wait_for_function("document.documentElement.lang === 'ja'")
    assert "対応が必要なこと" in page.content()

    # The audit page: the latest checkpoint, verified by the server, and the entries.
    page.click(".main-nav >> text=監査ログ")
    page.wait_for_url(re.compile(r"/audit$"))
    assert "署名は有効です" in page.locator("#checkpoint-signature").inner_text()
    assert re.fullmatch(r"[0-9a-f]{64}", page.locator("#checkpoint-root").inner_text())

    # Sign a checkpoint now (other tests may have grown the log since the last one), then open
    # an entry it covers: the browser checks its inclusion proof itself.
    page.click("form[action='/audit/checkpoints'] button[type=submit]")
    page.wait_for_url(re.compile(r"/audit"))
    page.locator("a.entry-link[data-covered='true']").first.click()
    page.wait_for_url(re.compile(r"/audit/entries/\d+$"))
    status = page.locator("#proof-status[data-verified='true']")
    status.wait_for(timeout=15_000)
    assert "検証済み" in status.inner_text()
    for step in ("leaf", "path", "note"):
        assert page.get_attribute(f"#verify-steps [data-step='{step}']", "data-state") == "ok"
    # Chromium's WebCrypto verifies Ed25519; other browsers may skip it, never fail it.
    assert page.get_attribute("#verify-steps [data-step='signature']", "data-state") in {"ok", "skip"}
    assert page.locator("#computed-root").inner_text() == page.locator("#proof dd code.hash").first.inner_text()


def test_researcher_sees_only_own_entries_and_gets_404_for_others(live_server: Any, page: Any) -> None:
    researcher = _persona({"researcher"})
    _log_in(page, live_server.url, researcher)
    nav = [a.split()[0] for a in page.locator(".main-nav a").all_inner_texts()]
    assert nav == ["ダッシュボード", "受信箱", "協議会", "情報", "K", "シンクタンク", "監査ログ",
                   "公開成果"]  # no user management; API tokens are on the account page (issue 14)

    page.goto(f"{live_server.url}/audit")
    # Issue 14: the actor is shown by name and organisation, not by e-mail.
    labels = {t.strip().splitlines()[0] for t in page.locator("#audit-entries tbody tr td:nth-child(4)").all_inner_texts()}
    assert labels == {researcher.name_ja}

    # Entry 0 was written by the seeding system, not by this person: it answers 404 (I7).
    response = page.goto(f"{live_server.url}/audit/entries/0")
    assert response is not None and response.status == 404
    assert "ページが見つかりません" in page.content()

    response = page.goto(f"{live_server.url}/admin/users")
    assert response is not None and response.status == 403
