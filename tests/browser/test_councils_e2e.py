"""End-to-end: a council from proposal to a completed action item, in headless chromium (issue 3).

An officer proposes a council; two participants consent, each in their own browser context; the
council is established; everyone signs the pledge; the secretariat schedules a meeting, records a
decision and gives the assignee an action item; the assignee completes it; an outsider gets 404.

Personas here are used by no other browser test (one login per persona per 30-second TOTP step).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.helpers import log_in, new_page, persona

pytestmark = pytest.mark.browser

OFFICER = "takahashi.naoki@mext.example.jp"
CHAIR = "yamamoto.aya@tohoku.example.jp"  # the linked project's researcher
MEMBER = "yoshida.emi@kaiyo-robotics.example.co.jp"
OUTSIDER = "matsumoto.ken@quantumlink.example.co.jp"
TITLE = "深海探査用自律型無人機 協議会（E2E）"


def consent(page: Any, council_url: str) -> None:
    """Consent to found the council."""
    page.goto(council_url)
    assert TITLE in page.locator("#council-title").inner_text()
    page.check("#consent-read-bylaws")  # issue 14: "I have read the bylaws and I agree"
    page.click("#consent-button")
    page.wait_for_url(re.compile(r"done=consented"))
    assert "同意を記録しました" in page.content()


def sign_pledge(page: Any, council_url: str) -> None:
    """Read and sign the pledge (the Art. 62(7) duty and its penalty are shown)."""
    page.goto(council_url)
    text = page.locator("#pledge-text").inner_text()
    assert "第62条第7項" in text and "50万円以下の罰金" in text
    page.check("#pledge-agree")
    page.click("#sign-pledge")
    page.wait_for_url(re.compile(r"done=pledged"))
    assert page.locator("#my-pledge").inner_text() == "誓約済み"


def test_council_from_proposal_to_completed_action_item(live_server: Any, browser: Any, page: Any) -> None:
    url = live_server.url
    opened: list[Any] = []
    try:
        # 1. The officer proposes the council with two founders; the researcher is required (C1).
        log_in(page, url, persona(OFFICER))
        page.click(".main-nav >> text=協議会")
        page.wait_for_url(re.compile(r"/councils$"))
        page.click("#propose-council")
        page.wait_for_url(re.compile(r"/councils/new$"))
        page.fill("#title_ja", TITLE)
        page.fill("#purpose", "深海探査用の自律型無人機（AUV）の研究開発を官民で伴走支援する。")
        page.fill("#technology", "自律型無人探査機（AUV）の無人・省人化技術")
        page.fill("#project_ref", "K-E2E-01")
        page.locator(f"#founder-table tr[data-email='{CHAIR}'] select.founder-role").select_option(label="会長")
        page.locator(f"#founder-table tr[data-email='{CHAIR}'] input[name=required]").check()
        page.locator(f"#founder-table tr[data-email='{MEMBER}'] select.founder-role").select_option(label="構成員")
        page.click("#propose-form button[type=submit]")
        page.wait_for_url(re.compile(r"/councils/\d+\?done=proposed$"))
        council_url = page.url.split("?")[0]
        assert page.locator("#council-title").inner_text() == TITLE
        assert page.locator(".council-state").first.inner_text() == "提案中"
        assert page.locator("#consent-count").inner_text() == "1 / 3"

        # 2. Both founders consent, each in their own browser.
        chair = new_page(browser)
        member = new_page(browser)
        opened += [chair.context, member.context]
        log_in(chair, url, persona(CHAIR))
        consent(chair, council_url)
        # Issue 13: a project council is established on the research representative's consent (the required
        # researcher stands in for one); the other founder joins by their own consent.
        assert chair.locator(".council-state").first.inner_text() == "設立済"
        log_in(member, url, persona(MEMBER))
        consent(member, council_url)
        assert member.locator(".council-state").first.inner_text() == "設立済"
        assert member.locator("#consent-count").inner_text() == "3 / 3"

        # 3. Each signs the confidentiality pledge before seeing the council's work (C3).
        assert member.locator("#meetings").count() == 0
        sign_pledge(member, council_url)
        sign_pledge(chair, council_url)
        sign_pledge(page, council_url)
        page.click("#activate")
        page.wait_for_url(re.compile(r"done=activated"))
        assert page.locator(".council-state").first.inner_text() == "活動中"

        # 4. The secretariat schedules a meeting with an agenda item under matter ①.
        page.click("#schedule summary")
        page.fill("#meeting-title", "第1回会合")
        page.fill("#meeting-location", "文部科学省 会議室（オンライン併用）")
        page.fill("#agenda-title-0", "海外の研究開発動向の共有")
        page.select_option("#agenda-matter-0", "useful_information")
        page.click("#meeting-form button[type=submit]")
        page.wait_for_url(re.compile(r"/meetings/\d+\?done=meeting$"))
        assert "海外の研究開発動向の共有" in page.locator("#agenda-list").inner_text()

        # 5. ... records a decision and gives the member an action item from it (C5).
        page.click("#decisions > details summary")
        page.fill("#decision-text", "主要国の研究開発動向を調査し、次回会合で報告する。")
        page.select_option("#decision-matter", "useful_information")
        page.select_option("#decision-adoption", "unanimous")
        page.click("#decision-form button[type=submit]")
        page.wait_for_url(re.compile(r"done=decision"))
        decision = page.locator("#decision-list > li").first
        assert "全会一致" in decision.inner_text()
        member_id = page.locator("#attendance-table tr", has_text=persona(MEMBER).name_ja).get_attribute("data-user-id")
        decision.locator("details summary").click()
        form = decision.locator("form.action-form")
        form.locator("input[name=title]").fill("主要国の動向調査報告書の作成")
        form.locator("select[name=assignee_id]").select_option(member_id)
        form.locator("button[type=submit]").click()
        page.wait_for_url(re.compile(r"done=action"))
        row = page.locator("#decision-list .action-table tbody tr").first
        assert "主要国の動向調査報告書の作成" in row.inner_text() and "対応中" in row.inner_text()

        # 6. The assignee completes it from "my action items".
        member.goto(f"{url}/councils/actions")
        item = member.locator("#my-actions tbody tr", has_text="主要国の動向調査報告書の作成")
        assert item.get_attribute("data-status") == "open"
        item.locator("button.complete-action").click()
        member.wait_for_url(re.compile(r"/councils/actions\?done=completed$"))
        done = member.locator("#my-actions tbody tr", has_text="主要国の動向調査報告書の作成")
        assert done.get_attribute("data-status") == "done" and "完了" in done.inner_text()

        # 7. An outsider gets the 404 page on the council's URL (I7), and no trace in their list.
        outsider = new_page(browser)
        opened.append(outsider.context)
        log_in(outsider, url, persona(OUTSIDER))
        response = outsider.goto(council_url)
        assert response is not None and response.status == 404
        assert "ページが見つかりません" in outsider.content() and TITLE not in outsider.content()
        outsider.goto(f"{url}/councils")
        assert TITLE not in outsider.content()
    finally:
        for ctx in opened:
            ctx.close()
