"""Exclusion claims on oral statements from the page (issue 13): the statement's own page shows the statement, the
claims on it and the claim form to those the service allows to claim (the same decision as the API,
``information/exclusions``); filing, deciding and confirming work on the page; refusals answer a Japanese 4xx with the
form's error summary. Over HTTP (the app's TestClient, the migrated database, the real sealed store)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.information import models as im
from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from tests.councils.test_secrecy_scope import EVIDENCE_PDF, _h, _meeting, _statement
from tests.support.councils import Cast, active_council
from tests.support.factories import Factory, audit_count
from tests.support.http import csrf_of, sign_in


@pytest.fixture
def cast(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council: officer (secretariat), researcher (chair), company (speaker) and a bystander (members)."""
    return active_council(factory, db, clock, bystander=True)


def _said(client: TestClient, cast: Cast, db: Session, clock: FakeClock) -> tuple[int, int, int]:
    """A held meeting with a statement made as confidential by the company, and one not stated as confidential."""
    (h_off,) = _h(db, clock, cast.officer)
    mid = _meeting(client, cast, h_off, clock, days_ago=1)
    said = _statement(client, cast, h_off, mid, cast.company.user.id)
    plain = _statement(client, cast, h_off, mid, cast.company.user.id, confidential=False)
    return mid, int(said["id"]), int(plain["id"])


def test_the_claim_form_is_shown_only_to_those_who_may_claim(client: TestClient, db: Session, cast: Cast,
                                                              clock: FakeClock, ctx: AppContext) -> None:
    mid, said, plain = _said(client, cast, db, clock)
    url = f"/councils/{cast.council.id}/statements/{said}"
    sign_in(client, db, cast.extra["bystander"], ctx)
    meeting = client.get(f"/councils/{cast.council.id}/meetings/{mid}").text
    assert f'href="{url}#exclusions"' in meeting  # the meeting page links each statement to its page
    page = client.get(url)
    assert page.status_code == 200 and "潜航深度" in page.text and 'id="claim-form"' in page.text
    assert f'action="{url}/exclusions"' in page.text
    before = audit_count(db, "council:statement:read")
    client.get(url)
    assert audit_count(db, "council:statement:read") == before + 1  # I8: the statement page read is audited
    # outside the duty (not stated as confidential): nothing to be excluded from, no form
    assert 'id="claim-form"' not in client.get(f"/councils/{cast.council.id}/statements/{plain}").text
    # the speaker cannot claim an exclusion from their own statement
    sign_in(client, db, cast.company, ctx)
    own = client.get(url)
    assert own.status_code == 200 and 'id="claim-form"' not in own.text
    # outsiders learn nothing (I7)
    sign_in(client, db, cast.outsider, ctx)
    assert client.get(url).status_code == 404


def test_filing_deciding_and_confirming_a_claim_on_the_statement_page(client: TestClient, db: Session, cast: Cast,
                                                                      clock: FakeClock, ctx: AppContext) -> None:
    _, said, _ = _said(client, cast, db, clock)
    url = f"/councils/{cast.council.id}/statements/{said}"
    sign_in(client, db, cast.extra["bystander"], ctx)
    page = client.get(url).text
    filed = client.post(f"{url}/exclusions", data={
        "csrf_token": csrf_of(page), "ground": "prior", "evidence": "2018年の社内報告書に同じ数値（添付）"},
        files={"file": ("report.pdf", EVIDENCE_PDF, "application/pdf")}, follow_redirects=False)
    assert filed.status_code in (302, 303), filed.text[:300]
    assert filed.headers["location"].startswith(url)
    shown = client.get(filed.headers["location"]).text
    assert "秘密情報の除外を申し出ました。" in shown
    assert "2018年の社内報告書" in shown and 'id="claim-form"' not in shown  # one open claim at a time
    claim = db.scalars(select(im.ExclusionClaim).where(im.ExclusionClaim.statement_id == said)).one()
    assert claim.file_name == "report.pdf" and claim.item_id is None
    assert f"/information/exclusions/{claim.id}/file" in shown
    sign_in(client, db, cast.officer, ctx)
    officer_page = client.get(url).text
    decided = client.post(f"/information/exclusions/{claim.id}/decision", data={
        "csrf_token": csrf_of(officer_page), "decision": "accept", "reason": "提供前の社内報告書で既知と確認"},
        follow_redirects=False)
    assert decided.status_code in (302, 303) and decided.headers["location"].startswith(url)
    sign_in(client, db, cast.researcher, ctx)
    chair_page = client.get(url).text
    assert client.post(f"/information/exclusions/{claim.id}/confirmation", data={
        "csrf_token": csrf_of(chair_page), "confirm": "yes"}, follow_redirects=False).status_code in (302, 303)
    db.expire_all()
    assert db.get(im.ExclusionClaim, claim.id).state == "accepted"  # type: ignore[union-attr]
    sign_in(client, db, cast.extra["bystander"], ctx)
    assert "この発言はあなたについてのみ守秘義務の対象外" in client.get(url).text


def test_refused_claims_answer_a_japanese_4xx_with_the_error_summary(client: TestClient, db: Session, cast: Cast,
                                                                     clock: FakeClock, ctx: AppContext) -> None:
    _, said, plain = _said(client, cast, db, clock)
    url = f"/councils/{cast.council.id}/statements/{said}"
    # the speaker: 409, Japanese first, on the statement page's error summary
    sign_in(client, db, cast.company, ctx)
    page = client.get(url).text
    own = client.post(f"{url}/exclusions", data={"csrf_token": csrf_of(page), "ground": "public", "evidence": "公開"})
    assert own.status_code == 409 and 'class="error-summary"' in own.text
    assert "自ら提供した情報・自らの発言について除外を申し出ることはできません" in own.text
    assert audit_count(db, "information:exclusion:refused") >= 1
    sign_in(client, db, cast.extra["bystander"], ctx)
    page = client.get(url).text
    # an unknown ground: 422 with the values kept
    bad = client.post(f"{url}/exclusions", data={"csrf_token": csrf_of(page), "ground": "rumour",
                                                 "evidence": "噂で聞いた"})
    assert bad.status_code == 422 and 'class="error-summary"' in bad.text and "除外の理由を公知・独自開発・第三者から適法に取得・既知から選んでください" in bad.text
    assert "噂で聞いた" in bad.text
    # a statement outside the duty: 409
    outside = client.post(f"/councils/{cast.council.id}/statements/{plain}/exclusions", data={
        "csrf_token": csrf_of(page), "ground": "public", "evidence": "公開"})
    assert outside.status_code == 409 and "この発言は守秘義務の対象外です" in outside.text
    # a hostile file is refused before anything is stored
    hostile = client.post(f"{url}/exclusions", data={"csrf_token": csrf_of(page), "ground": "prior",
                                                     "evidence": "既知"},
                          files={"file": ("run.exe", b"MZ\x90\x00" * 10, "application/octet-stream")})
    assert hostile.status_code == 422 and 'class="error-summary"' in hostile.text
    assert db.scalars(select(im.ExclusionClaim)).first() is None
    # outsiders: 404
    sign_in(client, db, cast.outsider, ctx)
    assert client.post(f"{url}/exclusions", data={"csrf_token": csrf_of(client.get("/councils").text),
                                                  "ground": "public", "evidence": "x"}).status_code == 404
