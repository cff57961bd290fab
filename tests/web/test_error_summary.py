"""Issue 14: a refused form shows every problem at once in an error summary that links to each field, the
message beside the field, and keeps what was typed and chosen (GOV.UK / デジタル庁 error summary pattern)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from tests.support.councils import Cast, establish
from tests.support.factories import Factory
from tests.support.http import alert_text, sign_in
from tests.support.programme import World, build_world, submit


@pytest.fixture
def cast(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council (committed so the app's sessions see it)."""
    made = establish(factory, db, clock)
    db.commit()
    return made


def _summary_links(html: str) -> list[tuple[str, str]]:
    summary = re.search(r'<div id="form-error".*?</ul>', html, re.DOTALL)
    assert summary, "no error summary"
    return re.findall(r'<li><a href="#([\w-]+)" data-field="[\w.]+">(.*?)</a></li>', summary.group(0))


def test_every_problem_is_listed_and_linked_to_its_field(client: TestClient, db: Session, cast: Cast,
                                                         ctx: AppContext) -> None:
    token = sign_in(client, db, cast.company, ctx)
    answer = client.post("/information/incidents", data={"csrf_token": token, "title": " ", "description": ""})
    assert answer.status_code == 422
    links = _summary_links(answer.text)
    assert [anchor for anchor, _ in links] == ["field-title", "field-description"]  # both, not only the first
    assert [text for _, text in links] == ["「件名」を入力してください", "「事象の内容」を入力してください"]
    summary = re.search(r'<div id="form-error"[^>]*>', answer.text)
    assert summary and 'tabindex="-1"' in summary.group(0) and "autofocus" in summary.group(0)
    assert 'role="alert"' in answer.text
    for field in ("title", "description"):  # each field: its id, aria-invalid, and the message beside it
        assert re.search(rf'id="field-{field}" aria-invalid="true" aria-describedby="field-{field}-error"', answer.text)
        assert f'<p class="field-error" id="field-{field}-error">' in answer.text


def test_what_was_typed_is_kept_and_the_english_page_names_fields_in_english(client: TestClient, db: Session,
                                                                            cast: Cast, ctx: AppContext) -> None:
    token = sign_in(client, db, cast.company, ctx)
    client.cookies.set("banso_lang", "en")
    answer = client.post("/information/incidents", data={"csrf_token": token, "title": "資料の持ち出し",
                                                         "description": ""})
    assert answer.status_code == 422 and 'value="資料の持ち出し"' in answer.text
    assert _summary_links(answer.text) == [("field-description", "What happened is required")]
    assert "is required" in alert_text(answer.text)


def test_the_conflict_of_interest_answer_survives_a_refusal(client: TestClient, db: Session, factory: Factory,
                                                            ctx: AppContext, clock: FakeClock) -> None:
    w: World = build_world(db, factory, clock)
    proposal = submit(db, w, clock)
    db.commit()
    clock.set(w.call.closes_at)
    token = sign_in(client, db, w.reviewer_conflicted, ctx)
    refused = client.post(f"/programme/proposals/{proposal.id}/conflict",
                          data={"csrf_token": token, "has_conflict": "yes"})  # a conflict needs its reason
    assert refused.status_code == 422
    assert re.search(r'name="has_conflict" value="yes" checked', refused.text), "the answer was cleared"
    assert not re.search(r'name="has_conflict" value="no" required checked', refused.text)
