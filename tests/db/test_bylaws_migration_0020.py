"""Migration 0020 (issue 13): existing bylaws versions get their articles, their signed text untouched."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from banso.db.engine import make_engine
from banso.migrations import migrate
from banso.sealed import store as sealed
from tests.db.test_sealed_migration import _insert

OLD_MODEL = ("# X 協議会 規約\n\n## 第1条（目的）\n目的の本文\n\n## 第2条（協議事項）\n四つの事項\n\n## 第3条（参加者）\n参加\n\n"
             "## 第4条（会長及び事務局）\n庶務\n\n## 第5条（会合）\n招集\n\n## 第6条（守秘義務）\n秘密を漏らしてはならない。\n\n"
             "## 第7条（情報の指定）\n指定は必要最小限とする。")


def test_existing_versions_are_split_into_articles_and_keep_their_text(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'before.db'}")
    migrate.upgrade(engine, "0018", attributes={"sealed_deps": sealed.fake_deps()})
    with engine.begin() as conn:
        org = _insert(conn, "organizations", kind="university")
        user = _insert(conn, "users", organization_id=org, email="a@example.jp", is_active=True)
        council = _insert(conn, "councils", proposer_id=user)
        shaped = _insert(conn, "council_bylaws", council_id=council, version=1, text=OLD_MODEL, created_by_id=user)
        plain = _insert(conn, "council_bylaws", council_id=council, version=2, text="独自の規約本文。",
                        created_by_id=user)
    migrate.upgrade(engine, "0020", attributes={"sealed_deps": sealed.fake_deps()})
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(sa.text("SELECT id, text, articles FROM council_bylaws"))}
    first = json.loads(rows[shaped].articles)
    assert [(a["number"], a["key"]) for a in first][5] == (6, "duty")  # signed pledges cite 第6条: still true
    assert [a["key"] for a in first] == ["purpose", "matters", "members", "secretariat", "meetings", "duty",
                                         "designation"]
    assert rows[shaped].text == OLD_MODEL  # what was signed stays as it was
    second = json.loads(rows[plain].articles)
    assert [(a["number"], a["key"], a["title_ja"]) for a in second] == [(1, "text", "本文"), (2, "duty", "守秘義務")]
    assert second[0]["text"] == "独自の規約本文。"
    migrate.downgrade(engine, "0018")  # and back
    with engine.connect() as conn:
        assert "articles" not in {c["name"] for c in sa.inspect(conn).get_columns("council_bylaws")}
