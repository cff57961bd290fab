"""Article texts state the bylaws parameters through placeholders (issue 13): a vote that changes a parameter
changes the article that states it, for the model text and for the texts migrated from before 0020 (which
stated the numbers literally). Over the services and the bylaws page (the app's TestClient)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.councils import articles, service
from banso.councils import models as m
from banso.councils import repository as repo
from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from tests.support.councils import Cast, active_council, amend, article_inputs
from tests.support.factories import Factory
from tests.support.http import sign_in

LEGACY_DESIGNATION = ("1. 協議会において共有される情報は、指定は必要最小限とする。\n"
                      "2. 指定の期間は確定した終期を定めるものとし、5年を超えることができない。")
LEGACY_PUBLICATION = "1. 研究成果は公開を基本とする。\n2. 政府から非公開の要請があったときは、協議会は30日以内に全員一致により決定する。"
LEGACY_SECRETARIAT = "本協議会の庶務は事務局が処理する。解散後も記録は保存し、第{duty}条の義務は存続する。2年ごとに見直す。"


@pytest.fixture
def cast(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council: officer (secretariat), researcher (chair) and company (members)."""
    return active_council(factory, db, clock)


def _in_force(db: Session, cast: Cast) -> m.BylawsVersion:
    db.expire_all()
    council = repo.council_by_id(db, cast.council.id)
    assert council is not None
    row = repo.bylaws(db, council.id, council.bylaws_version)
    assert row is not None
    return row


def test_a_vote_on_a_parameter_changes_the_model_articles_that_state_it(
        client: TestClient, db: Session, cast: Cast, clock: FakeClock, ctx: AppContext) -> None:
    first = _in_force(db, cast)
    assert "会合の日から30日以内に書面により指定" in first.text and "決定の日から12か月を経過する日に見直す" in first.text
    amend(db, clock, cast, article_inputs(db, cast), parameters={"oral_designation_days": 21,
                                                                 "withheld_review_months": 6})
    db.commit()
    now = _in_force(db, cast)
    assert now.version == first.version + 1
    assert "会合の日から21日以内に書面により指定" in now.text and "決定の日から6か月を経過する日に見直す" in now.text
    assert "会合の日から30日以内" in first.text  # the earlier version reads as it was signed
    sign_in(client, db, cast.researcher, ctx)
    page = client.get(f"/councils/{cast.council.id}/bylaws/{now.version}").text
    assert "会合の日から21日以内に書面により指定" in page
    # the pledge to sign again (the period bounds the duty, C3) states it too, and so does its PDF's text
    preview = service.pledge_preview(db, council_id=cast.council.id, actor=cast.researcher.principal(),
                                     now=clock.now())
    assert preview.bylaws_version == now.version and "会合の日から21日以内に書面により指定されたもの" in preview.text


def test_migrated_texts_with_literal_numbers_follow_a_changed_parameter(db: Session, cast: Cast,
                                                                        clock: FakeClock) -> None:
    # a version as 0020 left it for a council founded before: the numbers written out in the article texts
    row = _in_force(db, cast)
    parts = articles.from_json(row.articles or [])
    duty = articles.duty_number(parts)
    texts = {"designation": LEGACY_DESIGNATION, "publication": LEGACY_PUBLICATION,
             "secretariat": LEGACY_SECRETARIAT.format(duty=duty)}
    legacy = [articles.Article(a.number, a.key, a.title_ja, a.title_en, texts.get(a.key, a.text)) for a in parts]
    row.articles = articles.to_json(legacy)
    db.commit()
    amend(db, clock, cast, article_inputs(db, cast), parameters={"designation_max_years": 3,
                                                                 "nondisclosure_days": 45})
    db.commit()
    now = _in_force(db, cast)
    assert "3年を超えることができない" in now.text and "5年を超えることができない" not in now.text
    assert "協議会は45日以内に全員一致により決定する" in now.text
    stored = {a["key"]: a["text"] for a in now.articles or []}
    assert f"第{duty}条の義務は存続する" in now.text and "${art_duty}" in stored["secretariat"]
    assert "2年ごとに見直す" in now.text  # a number in no known phrase is left as written
    assert "${designation_max_years}年" in stored["designation"]


def test_placeholders_render_the_same_text_and_leave_other_numbers() -> None:
    parts = [articles.Article(1, "designation", "指定", "Designation", LEGACY_DESIGNATION),
             articles.Article(2, "duty", "守秘義務", "Confidentiality", "秘密を漏らしてはならない。"),
             articles.Article(3, "secretariat", "事務局", "Secretariat", LEGACY_SECRETARIAT.format(duty=6))]
    params = articles.parameters({})
    done = articles.with_placeholders(parts, params)
    assert articles.render(council_title="X", articles=done, params=params) == articles.render(
        council_title="X", articles=parts, params=params)
    assert "${designation_max_years}" in done[0].text
    # 第6条 is not the duty article here (it is 第2条): a literal that is not the value stays literal
    assert "第6条の義務" in done[2].text
    other = articles.with_placeholders(parts, articles.parameters({"designation_max_years": 4}))
    assert "5年を超えることができない" in other[0].text
