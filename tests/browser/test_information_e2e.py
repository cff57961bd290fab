"""End to end (issue 4): propose a designation, everyone accepts, an in-scope member reads it, an
out-of-scope member gets 404, the clock passes the end date, the item becomes council-shared, and a
result appears on the public portal.

Runs its own ``banso demo`` whose clock can be moved: ``BANSO_CLOCK_OFFSET_FILE`` (demo and tests
only) adds the seconds written in a file to the real time, and the server's job loop runs every
2 s here, so the lapse (I5) happens by itself after the jump — no call from the test triggers it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from tests.browser.helpers import log_in, new_page, open_new_item_form, persona
from tests.browser.live import LiveServer, launch_demo

pytestmark = pytest.mark.browser

SPACE = "次世代宇宙輸送・衛星コンステレーション技術 協議会"
KATO = "kato.takeshi@mirai-space.example.co.jp"  # provider (member)
WATANABE = "watanabe.shota@utokyo.example.jp"  # chair, in scope
TAKAHASHI = "takahashi.naoki@mext.example.jp"  # secretariat
TANAKA = "tanaka.yuki@jst.example.jp"  # member, out of scope
SEEDED_DESIGNATED = "再使用型ロケットエンジン燃焼試験データ（第3期）"  # demo: named scope, ends in 25 days
TITLE = "E2E 再着火試験の結果（速報）"
BODY = "再着火まで 1.8 秒。詳細は別添。"
JUMP = 70 * 86400  # past both designations' ends


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Any]]:
    base = tmp_path_factory.mktemp("info-e2e")
    offset = base / "clock-offset"
    env = {"BANSO_CLOCK_OFFSET_FILE": str(offset), "BANSO_CHECKPOINT_INTERVAL_SECONDS": "2"}
    with launch_demo(base, env) as live:
        yield live, offset


def _status(page: Any, url: str) -> int:
    response = page.goto(url)
    assert response is not None
    return int(response.status)


def test_designation_lifecycle_in_the_browser(server: tuple[LiveServer, Any], browser: Any) -> None:
    live, offset = server
    url = live.url

    # 1. The provider proposes a designation as they provide a research result (scope: 渡辺 by name).
    kato = new_page(browser)
    log_in(kato, url, persona(KATO))
    open_new_item_form(kato, url, SPACE)
    kato.fill("#item-title", TITLE)
    kato.fill("#item-summary", "再着火試験の速報値。特許出願まで限定共有とする。")
    kato.fill("#item-body", BODY)
    kato.select_option("#item-category", "research_result")
    kato.select_option("#item-provenance", "participant")
    kato.check("#item-result")
    kato.check("#item-designate")
    kato.fill("#new-reason", "特許出願前のため、出願までの間は共同研究者に限定する。")
    kato.check("input[name=scope_kind][value=named]")
    watanabe_id = kato.locator("#new-users label", has_text="渡辺").locator("input").get_attribute("value")
    kato.check(f"#new-users input[value=\"{watanabe_id}\"]")
    kato.fill("#new-ends", (date.today() + timedelta(days=60)).isoformat())
    kato.click("#provide-button")
    kato.wait_for_url(re.compile(r"/information/items/\d+"))
    item_id = int(re.search(r"/information/items/(\d+)", kato.url).group(1))  # type: ignore[union-attr]
    assert "held" in kato.content() or "保留" in kato.content() or "指定提案中" in kato.content()

    # 2. Every other participant accepts on the proposal page, which never shows the body (I4).
    # (Each person keeps one browser: a TOTP code is accepted once, so no second sign-in in the same step.)
    voters = {}
    for email in (WATANABE, TAKAHASHI, TANAKA):
        voter = voters[email] = new_page(browser)
        log_in(voter, url, persona(email))
        voter.goto(f"{url}/information")
        voter.click(f"#to-vote a:has-text('{TITLE}')")
        voter.wait_for_url(re.compile(r"/information/ballots/\d+"))
        assert BODY not in voter.content()
        voter.click("#accept-button")
        voter.wait_for_load_state()

    # 3. The in-scope member reads it; the out-of-scope member gets 404 and does not see it listed.
    watanabe, tanaka = voters[WATANABE], voters[TANAKA]
    assert _status(watanabe, f"{url}/information/items/{item_id}") == 200
    assert BODY in watanabe.locator("#item-body").inner_text()
    assert _status(tanaka, f"{url}/information/items/{item_id}") == 404
    tanaka.goto(f"{url}/information")
    assert TITLE not in tanaka.locator("#item-table").inner_text()
    assert SEEDED_DESIGNATED not in tanaka.locator("#item-table").inner_text()
    anon = new_page(browser)
    anon.goto(f"{url}/public")
    assert TITLE not in anon.content()

    # 4. The clock passes both end dates; the server's own job lapses the designations (I5).
    offset.write_text(str(JUMP), encoding="utf-8")
    deadline = time.monotonic() + 60
    while TITLE not in anon.content():
        assert time.monotonic() < deadline, "the result never reached the public portal"
        time.sleep(1)
        anon.goto(f"{url}/public")
    anon.click(f"text={TITLE}")
    assert BODY in anon.content()  # public: no sign-in needed (I6)

    # 5. The seeded designation became council-shared: 田中 (never in its scope) now reads it.
    tanaka.context.close()
    tanaka = new_page(browser)
    log_in(tanaka, url, persona(TANAKA), offset_seconds=JUMP)  # sessions expired; 2FA at the server's time
    tanaka.goto(f"{url}/information")
    tanaka.click(f"#item-table a:has-text('{SEEDED_DESIGNATED}')")
    assert tanaka.locator("#item-body").inner_text().strip() != ""
    for p in (kato, watanabe, voters[TAKAHASHI], tanaka, anon):
        p.context.close()
