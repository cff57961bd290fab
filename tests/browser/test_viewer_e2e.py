"""End to end (issue 11, I12): a view-only PDF is viewed in scope with the viewer's watermark on screen,
and the viewer is 404 for a member out of scope.

The provider shares a PDF under a view-only designation naming one researcher; everyone accepts;
the researcher opens the item, follows "閲覧" (there is no download link) and sees the pages as
images. The screenshot of a page image carries the red diagonal watermark and, pixel for pixel,
the invisible mark that decodes to the distribution row the server recorded for this viewer.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from PIL import Image

from banso.leak.pdf import make_sample_pdf
from banso.leak.screen import read_pixel_mark_bytes
from tests.browser.helpers import log_in, new_page, open_new_item_form, persona
from tests.browser.live import LiveServer, launch_demo

pytestmark = pytest.mark.browser

SPACE = "次世代宇宙輸送・衛星コンステレーション技術 協議会"
KATO = "kato.takeshi@mirai-space.example.co.jp"  # provider (member)
WATANABE = "watanabe.shota@utokyo.example.jp"  # chair, in scope
TAKAHASHI = "takahashi.naoki@mext.example.jp"  # secretariat
TANAKA = "tanaka.yuki@jst.example.jp"  # member, out of scope
TITLE = "E2E 閲覧のみの燃焼解析報告"
PDF = make_sample_pdf("燃焼解析報告", ["燃焼室圧力の解析結果。", "再着火条件の検討。"], paragraphs_per_page=1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with launch_demo(tmp_path_factory.mktemp("viewer-e2e")) as live:
        yield live


def _fingerprints(live: LiveServer, email: str) -> set[str]:
    """Return the codes the server recorded for this person's on-screen views (read from its database)."""
    with sqlite3.connect(f"file:{live.data_dir / 'banso.db'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT d.fingerprint FROM info_distributions d JOIN users u ON u.id = d.user_id "
                          "WHERE u.email = ? AND d.channel = 'view-pdf'", (email,)).fetchall()
    return {row[0] for row in rows}


def _red_share(png: bytes) -> float:
    import io

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    return float(((rgb[..., 0] - rgb[..., 1] > 25) & (rgb[..., 0] - rgb[..., 2] > 25)).mean())


def test_view_only_pdf_is_viewed_in_scope_with_the_viewers_watermark(server: LiveServer, browser: Any) -> None:
    url = server.url
    kato = new_page(browser)
    log_in(kato, url, persona(KATO))
    open_new_item_form(kato, url, SPACE)
    kato.fill("#item-title", TITLE)
    kato.fill("#item-summary", "燃焼解析の報告書。画面での閲覧のみとする。")
    kato.fill("#item-body", "報告書は別添のとおり。")
    kato.select_option("#item-category", "sampling_data")
    kato.select_option("#item-provenance", "participant")
    kato.set_input_files("#item-files", files=[{"name": "燃焼解析報告.pdf", "mimeType": "application/pdf",
                                                "buffer": PDF}])
    kato.check("#item-designate")
    kato.fill("#new-reason", "該非判定が未了のため、判定まで共同研究者に限定し、画面閲覧のみとする。")
    kato.check("input[name=scope_kind][value=named]")
    watanabe_id = kato.locator("#new-users label", has_text="渡辺").locator("input").get_attribute("value")
    kato.check(f"#new-users input[value=\"{watanabe_id}\"]")
    kato.check("input[name=handling][value=view_only]")
    kato.fill("#new-ends", (date.today() + timedelta(days=60)).isoformat())
    kato.click("#provide-button")
    kato.wait_for_url(re.compile(r"/information/items/\d+"))
    item_id = int(re.search(r"/information/items/(\d+)", kato.url).group(1))  # type: ignore[union-attr]

    voters = {}
    for email in (WATANABE, TAKAHASHI, TANAKA):
        voter = voters[email] = new_page(browser)
        log_in(voter, url, persona(email))
        voter.goto(f"{url}/information")
        voter.click(f"#to-vote a:has-text('{TITLE}')")
        voter.wait_for_url(re.compile(r"/information/ballots/\d+"))
        voter.click("#accept-button")
        voter.wait_for_load_state()

    # In scope: a View link and no download link; the pages come as images stamped for 渡辺.
    watanabe = voters[WATANABE]
    watanabe.goto(f"{url}/information/items/{item_id}")
    assert watanabe.locator("#file-table .file-link").count() == 0
    assert watanabe.locator("#body-download").count() == 0
    watanabe.click("#file-table .view-link")
    watanabe.wait_for_url(re.compile(rf"/information/items/{item_id}/files/\d+/view$"))
    viewer_url = watanabe.url
    assert persona(WATANABE).email in watanabe.locator("#viewer-banner").inner_text()
    first = watanabe.locator(".viewer-page[data-page='1'] img")
    first.scroll_into_view_if_needed()
    watanabe.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=first.element_handle())
    shot = first.screenshot()
    assert _red_share(shot) > 0.01  # the diagonal watermark is on screen
    found = read_pixel_mark_bytes(shot)  # the screenshot itself carries the viewer's invisible mark
    assert found is not None and found[1] and found[0].hex() in _fingerprints(server, WATANABE)

    # Out of scope: the viewer and its images are missing (I7), as is the item.
    tanaka = voters[TANAKA]
    for path in (viewer_url, f"{viewer_url}/1.png", f"{url}/information/items/{item_id}"):
        response = tanaka.goto(path)
        assert response is not None and response.status == 404, path
    for p in (kato, *voters.values()):
        p.context.close()
