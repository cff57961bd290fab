"""Migration 0031 (issue 13): numbers written out in migrated article texts become placeholders, so a later vote
on the parameter changes the article; what each version renders (and what was signed) stays the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from banso.councils import articles
from banso.db.engine import make_engine
from banso.migrations import migrate
from banso.sealed import store as sealed
from tests.db.test_sealed_migration import _insert

ROWS = [{"number": 1, "key": "duty", "title_ja": "守秘義務", "title_en": "Confidentiality", "text": "秘密を漏らさない。"},
        {"number": 2, "key": "designation", "title_ja": "情報の指定", "title_en": "Designation",
         "text": "指定の期間は確定した終期を定めるものとし、5年を超えることができない。"},
        {"number": 3, "key": "publication", "title_ja": "研究成果の公開", "title_en": "Publication",
         "text": "協議会は30日以内に全員一致により決定する。解散後も第1条の義務は存続する。協議会は7日以内に全員一致により決定する。"}]


def _json(value: Any) -> Any:
    """A JSON column read with plain SQL: text on SQLite, already decoded on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def test_literal_numbers_become_placeholders_and_the_rendered_text_is_unchanged(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'before.db'}")
    attributes = {"sealed_deps": sealed.fake_deps()}
    migrate.upgrade(engine, "0026", attributes=attributes)
    with engine.begin() as conn:
        org = _insert(conn, "organizations", kind="university")
        user = _insert(conn, "users", organization_id=org, email="a@example.jp", is_active=True)
        council = _insert(conn, "councils", proposer_id=user)
        version = _insert(conn, "council_bylaws", council_id=council, version=1, text="署名された本文",
                          created_by_id=user, articles=ROWS, designation_max_years=5,
                          nondisclosure_decision_days=30)
        proposal = _insert(conn, "council_bylaws_proposals", council_id=council, base_version=1,
                           articles=ROWS, parameters=({"designation_max_years": 5,
                                                                             "nondisclosure_decision_days": 30}),
                           proposed_by_id=user)
    migrate.upgrade(engine, "0031", attributes=attributes)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT text, articles FROM council_bylaws WHERE id = :i"), {"i": version}).one()
        proposed = conn.execute(sa.text("SELECT articles FROM council_bylaws_proposals WHERE id = :i"),
                                {"i": proposal}).scalar_one()
    assert row.text == "署名された本文"  # what was signed is not touched
    after = _json(row.articles)
    assert after[1]["text"] == "指定の期間は確定した終期を定めるものとし、${designation_max_years}年を超えることができない。"
    # the value's number becomes its placeholder; a number that is not the value stays as written
    assert after[2]["text"] == ("協議会は${nondisclosure_decision_days}日以内に全員一致により決定する。解散後も第${art_duty}条の"
                                "義務は存続する。協議会は7日以内に全員一致により決定する。")
    assert _json(proposed) == after
    params = articles.parameters({"designation_max_years": 5, "nondisclosure_days": 30})
    assert articles.render(council_title="X", articles=articles.from_json(after), params=params) == articles.render(
        council_title="X", articles=articles.from_json(ROWS), params=params)
    changed = articles.parameters({"designation_max_years": 3, "nondisclosure_days": 30})
    assert "3年を超えることができない" in articles.render(council_title="X", articles=articles.from_json(after),
                                                 params=changed)
    migrate.downgrade(engine, "0026")  # and back (placeholders stay: same rendering)
