"""End-to-end: a K Program call from publication to the first disbursement, in headless chromium (issue 5).

NEDO staff create and publish a call, seat the demo reviewer on its panel; a company proposes with a
think-tank analyst on the team; the reviewer declares no conflict of interest and scores; after the
call closes the staff adopt the proposal, which creates the project and proposes its council; a
disbursement is refused until both founders have consented (each in their own browser), then accepted.

Personas here are used by no other browser test (one login per persona per 30-second TOTP step).
The call closes one to two minutes after it is created, so the test waits for the close (decisions
are recorded only after a call closes).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.helpers import log_in, new_page, persona

pytestmark = pytest.mark.browser

JST = ZoneInfo("Asia/Tokyo")
STAFF = "ito.daisuke@nedo.example.jp"  # NEDO, runs the call
OFFICER = "suzuki.misaki@meti.example.jp"  # METI, proposes the project council
PROPOSER = "kato.takeshi@mirai-space.example.co.jp"
TEAM_MEMBER = "kobayashi.mari@estt.example.or.jp"
REVIEWER = "kimura.haruka@kyoto-u.example.jp"  # 京都大学: no proposal comes from there
CODE = "E2E-NEDO-01"
TITLE = "小型衛星コンステレーション向け光通信端末（E2E）"


def option_value(page: Any, select: str, text: str) -> str:
    """Return the value of the option of ``select`` whose label contains ``text``."""
    value = page.locator(f"{select} option", has_text=text).first.get_attribute("value")
    assert value, f"no option {text!r} in {select}"
    return str(value)


def fiscal_year(moment: datetime) -> int:
    """Return the Japanese fiscal year (April–March) of a JST moment."""
    return moment.year if moment.month >= 4 else moment.year - 1


def test_call_to_disbursement_after_the_council_is_established(live_server: Any, browser: Any, page: Any) -> None:
    url = live_server.url
    opened: list[Any] = []
    now = datetime.now(JST)
    fy = fiscal_year(now)
    closes = now.replace(second=0, microsecond=0) + timedelta(minutes=2)  # 60–120 s from now
    try:
        # 1. NEDO staff create the call (draft), publish it and seat the reviewer on its panel.
        log_in(page, url, persona(STAFF))
        page.goto(f"{url}/programme/calls/new")
        page.select_option("#agency_code", "NEDO")
        page.fill("#code", CODE)
        page.fill("#title_ja", TITLE)
        page.select_option("#project_type", "project")
        page.fill("#cap_yen", "1,000,000,000")
        page.fill("#first_fiscal_year", str(fy))
        page.fill("#period_years", "2")
        page.fill("#opens_at", (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
        page.fill("#closes_at", closes.strftime("%Y-%m-%dT%H:%M"))
        page.select_option("#officer_id", option_value(page, "#officer_id", persona(OFFICER).name_ja))
        page.check("input[name=technology_codes][value='V1-SA-01']")
        page.click("#call-form button[type=submit]")
        page.wait_for_url(re.compile(r"/programme/calls/\d+\?done=created"))
        call_url = page.url.split("?")[0]
        page.click("#publish-form button[type=submit]")
        page.wait_for_url(re.compile(r"done=published"))
        page.select_option("#panel-user", option_value(page, "#panel-user", persona(REVIEWER).name_ja))
        page.click("#panel-form button[type=submit]")
        page.wait_for_url(re.compile(r"done=panel"))
        assert persona(REVIEWER).name_ja in page.locator("#panel-list").inner_text()

        # 2. The company proposes, with the analyst on the team (both become council founders).
        proposer = new_page(browser)
        opened.append(proposer.context)
        log_in(proposer, url, persona(PROPOSER))
        proposer.goto(call_url)
        proposer.click("#propose")
        proposer.fill("#title", "光通信端末の小型・高速化と実証")
        proposer.fill("#summary", "低軌道衛星間で10Gbps級の光リンクを実証する。")
        proposer.fill("#team", TEAM_MEMBER)
        proposer.fill(f"#sheet-equipment-{fy}", "200,000")  # 千円; 30 % indirect costs are added (F6)
        proposer.fill(f"#sheet-other-{fy + 1}", "300,000")
        proposer.click("#to-confirm")
        proposer.wait_for_url(re.compile(r"/programme/proposals/\d+/confirm"))
        proposer.click("#submit-form button[type=submit]")
        proposer.wait_for_url(re.compile(r"/programme/proposals/\d+\?done=submitted"))
        assert re.search(r"K-\d{4}-\d{6}", proposer.locator("#receipt-number").inner_text())
        proposal_url = proposer.url.split("?")[0]
        proposal_id = proposal_url.rsplit("/", 1)[1]
        assert proposer.locator("h1").inner_text() == "光通信端末の小型・高速化と実証"

        # 3. The reviewer does not see the proposal before declaring, declares no conflict, and still reads
        #    nothing until the call closes (F6); then scores.
        reviewer = new_page(browser)
        opened.append(reviewer.context)
        log_in(reviewer, url, persona(REVIEWER))
        response = reviewer.goto(proposal_url)
        assert response is not None and response.status == 404
        reviewer.goto(f"{url}/programme/review")
        row = reviewer.locator(f"#queue-table tr[data-proposal-id='{proposal_id}']")
        row.locator("input[name=has_conflict][value=no]").check()
        row.locator("button[type=submit]").click()
        reviewer.wait_for_url(re.compile(r"/programme/review\?done=declared"))
        response = reviewer.goto(proposal_url)
        assert response is not None and response.status == 404
        wait = (closes - datetime.now(JST)).total_seconds() + 2
        if wait > 0:
            time.sleep(wait)
        reviewer.goto(proposal_url)
        for select in reviewer.locator("#score-form select[name=value]").all():
            select.select_option("4")
        reviewer.fill("#comment", "実証計画が具体的で、経済安全保障上の意義が大きい。")
        reviewer.click("#score-form button[type=submit]")
        reviewer.wait_for_url(re.compile(r"done="))
        assert "4.0" in reviewer.locator("#score").inner_text()

        # 4. After the call closes, the staff adopt: the project and its council proposal appear.
        page.goto(proposal_url)
        assert "4.0" in page.locator("#scores-table").inner_text()
        page.check("#decision-form input[name=outcome][value=adopt]")
        page.fill("#decision-reason", "審査の結果、採択とする。")
        page.click("#decision-form button[type=submit]")
        page.wait_for_url(re.compile(r"done=decided"))
        assert page.locator("#to-council").count() == 1
        page.click("#to-project")
        page.wait_for_url(re.compile(r"/programme/projects/\d+"))
        project_url = page.url.split("?")[0]
        council_url = url + page.locator("#council-link").get_attribute("href")
        assert "badge-warn" in (page.locator("#council-state").get_attribute("class") or "")

        # The council proposal exists, proposed by the call's officer, awaiting the founders.
        proposer.goto(council_url)
        assert "光通信端末の小型・高速化と実証" in proposer.locator("#council-title").inner_text()
        assert proposer.locator(".council-state").first.inner_text() == "提案中"
        # Issue 13: the adopting agency staff member is a founder too (funding agency), beside the lead and the team.
        assert proposer.locator("#consent-count").inner_text() == "1 / 4"

        # 5. Commit part of the plan; the disbursement is refused while the council is not established.
        page.select_option("#commit-fy", str(fy))
        page.fill("#commit-amount", "100,000,000")
        page.click("#commit-form button[type=submit]")
        page.wait_for_url(re.compile(r"done=committed"))
        assert page.locator("#committed").inner_text() == "1億円"
        page.fill("#pay-amount", "50,000,000")
        with page.expect_response(re.compile(r"/disbursements$")) as refused:
            page.click("#disburse-form button[type=submit]")
        assert refused.value.status == 409
        assert "協議会" in page.locator("#money").inner_text()
        page.goto(project_url)
        assert page.locator("#disbursed").inner_text() == "0円"

        # 6. Both founders consent, each in their own browser; the council is established.
        proposer.goto(council_url)
        proposer.check("#consent-read-bylaws")
        proposer.click("#consent-button")
        proposer.wait_for_url(re.compile(r"done=consented"))
        # Issue 13: the research representative's consent establishes the project council; the team joins by
        # its own consent.
        assert proposer.locator(".council-state").first.inner_text() == "設立済"
        member = new_page(browser)
        opened.append(member.context)
        log_in(member, url, persona(TEAM_MEMBER))
        member.goto(council_url)
        member.check("#consent-read-bylaws")
        member.click("#consent-button")
        member.wait_for_url(re.compile(r"done=consented"))
        assert member.locator(".council-state").first.inner_text() == "設立済"
        # Established on the research representative's and the team's consent; the agency's answer is not needed.
        assert member.locator("#consent-count").inner_text() == "3 / 4"

        # 7. The disbursement is now accepted.
        page.goto(project_url)
        page.fill("#pay-amount", "50,000,000")
        page.click("#disburse-form button[type=submit]")
        page.wait_for_url(re.compile(r"done=disbursed"))
        assert page.locator("#disbursed").inner_text() == "5,000万円"
        assert page.locator("#committed").inner_text() == "5,000万円"
    finally:
        for ctx in opened:
            ctx.close()
