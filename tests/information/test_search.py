"""Full-text search over information items: Japanese substrings, policy filtering, no designated body (I7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.information import search, service
from banso.information.deps import InformationDeps
from banso.information.models import Ballot, Item
from banso.information.search_models import SearchDoc
from banso.kit.clock import FakeClock
from banso.kit.errors import ValidationFailed
from tests.support.councils import Cast
from tests.support.factories import audit_count
from tests.support.information import provide_item

YEAR = timedelta(days=365)


def _item(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock, *, provider=None, **kw) -> Item:  # type: ignore[no-untyped-def]
    item = provide_item(db, deps, cast, clock, provider=provider, **kw)
    search.refresh(db, deps, item)
    return item


def _designated(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock, **kw) -> Item:  # type: ignore[no-untyped-def]
    designation = service.DesignationInput(reason="輸出管理上の懸念", scope_kind="named",
                                           user_ids=[cast.researcher.user.id], ends_at=clock.now() + YEAR)
    item = _item(db, deps, cast, clock, designation=designation, **kw)
    ballot = db.scalar(select(Ballot).where(Ballot.item_id == item.id))
    assert ballot is not None
    for person in (cast.officer, cast.researcher):
        service.vote(db, ballot_id=ballot.id, actor=person.principal(), now=clock.now(), decision="accept")
    assert item.state == "designated"
    search.refresh(db, deps, item)
    return item


def _ids(hits: list[search.SearchHit]) -> list[int]:
    return [h.item.id for h in hits]


def test_japanese_substrings_of_one_two_and_more_characters(db: Session, deps: InformationDeps, cast: Cast,
                                                           clock: FakeClock) -> None:
    sonar = _item(db, deps, cast, clock, title="水中音響ソーナーの試験", summary="海域試験の結果",
                  body="曳航式ソーナーで探知距離を測定した。")
    battery = _item(db, deps, cast, clock, title="全固体電池の劣化解析", summary="充放電サイクル",
                    body="電解質界面の抵抗上昇を確認。")
    reader = cast.researcher.principal()
    assert _ids(search.search_items(db, actor=reader, query="電")) == [battery.id]  # 1 character: LIKE
    assert _ids(search.search_items(db, actor=reader, query="ソー")) == [sonar.id]  # 2 characters: LIKE
    assert _ids(search.search_items(db, actor=reader, query="探知距離")) == [sonar.id]  # body, ≥ 3: FTS/ILIKE
    assert _ids(search.search_items(db, actor=reader, query="界面の抵抗")) == [battery.id]
    assert search.search_items(db, actor=reader, query="存在しない語句") == []
    # NFKC + casefold: half-width katakana and full-width Latin find the normal forms
    assert _ids(search.search_items(db, actor=reader, query="ｿｰﾅｰ")) == [sonar.id]
    assert _ids(search.search_items(db, actor=reader, query="ＡＵＶ")) == []
    auv = _item(db, deps, cast, clock)
    assert _ids(search.search_items(db, actor=reader, query="ＡＵＶ")) == [auv.id]
    assert _ids(search.search_items(db, actor=reader, query="auv 航法")) == [auv.id]
    hit = search.search_items(db, actor=reader, query="探知距離")[0]
    assert "探知距離" in hit.snippet and len(hit.snippet) <= 2 * search.SNIPPET_RADIUS + len("探知距離") + 2


def test_file_names_are_indexed(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    item = _item(db, deps, cast, clock, files=[service.Upload("潮流観測データ.csv", "text/csv", b"a,b\n1,2\n")])
    hits = search.search_items(db, actor=cast.officer.principal(), query="潮流観測")
    assert _ids(hits) == [item.id]


def test_out_of_scope_users_never_get_a_designated_item(db: Session, deps: InformationDeps, cast: Cast,
                                                        clock: FakeClock) -> None:
    secret = _designated(db, deps, cast, clock, title="極秘センサー配置計画", summary="配置の概要",
                         body="配置座標は北緯35度の海底である。")
    for who in (cast.officer.principal(), cast.outsider.principal(), cast.researcher.principal(mfa=False), None):
        for query in ("極", "極秘", "極秘センサー", "センサー配置"):
            assert secret.id not in _ids(search.search_items(db, actor=who, query=query))
    # in scope: found by title, with a title/summary snippet
    hits = search.search_items(db, actor=cast.researcher.principal(), query="センサー配置")
    assert _ids(hits) == [secret.id] and "北緯" not in hits[0].snippet


def test_designated_body_is_not_indexed(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    secret = _designated(db, deps, cast, clock, title="配置計画", summary="概要のみ",
                         body="配置座標は北緯35度の海底である。")
    doc = db.get(SearchDoc, secret.id)
    assert doc is not None and "北緯" not in doc.doc and "配置計画" in doc.doc
    for who in (cast.researcher.principal(), cast.company.principal()):  # in scope, provider
        for query in ("北緯", "北緯35度", "海底である"):
            assert search.search_items(db, actor=who, query=query) == []


def test_held_item_body_is_not_indexed_and_lapse_reindexes(db: Session, deps: InformationDeps, cast: Cast,
                                                           clock: FakeClock) -> None:
    secret = _designated(db, deps, cast, clock, title="配置計画", summary="概要", body="深度は二千メートル。")
    clock.set(clock.now() + YEAR + timedelta(days=1))
    service.run_due_information(db, now=clock.now())
    assert secret.state == "council"
    search.refresh(db, deps, secret)  # the service does this after every state change
    assert _ids(search.search_items(db, actor=cast.officer.principal(), query="二千メートル")) == [secret.id]


@pytest.mark.parametrize("query", ['"', '""', '"極秘', "*", "航法*", "NEAR(航法 評価)", "航法 OR 評価", "AND",
                                   "doc:航法", "^航法", "a%b", "_", "\\", "'; DROP TABLE info_items; --", "(", "-"])
def test_fts_syntax_in_the_query_does_not_error(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock,
                                                query: str) -> None:
    _item(db, deps, cast, clock, title="NEAR(航法 評価) OR 100% の a_b", summary="概要")
    hits = search.search_items(db, actor=cast.officer.principal(), query=query)
    assert isinstance(hits, list)
    if query in ("NEAR(航法 評価)", "(", "_"):
        assert len(hits) == 1  # taken literally: the title contains it
    if query in ("a%b", "\\", '"極秘'):
        assert hits == []  # LIKE wildcards and quotes are literal too


def test_public_item_is_found_anonymously_and_council_items_are_not(db: Session, deps: InformationDeps, cast: Cast,
                                                                    clock: FakeClock) -> None:
    public = _item(db, deps, cast, clock, provider=cast.researcher, provenance="researcher_generated",
                   category="research_result", title="公開成果：海洋観測ブイ", body="ブイの設計図を公開する。")
    council = _item(db, deps, cast, clock, title="協議会限り：海洋観測ブイの改良", body="改良案。")
    clock.advance(days=30)  # I13: the result is public once its prior-notice window ends
    service.run_due_information(db, now=clock.now(), deps=deps)
    assert public.state == "public" and council.state == "council"
    assert _ids(search.search_items(db, actor=None, query="観測ブイ")) == [public.id]
    assert _ids(search.search_items(db, actor=None, query="設計図")) == [public.id]
    assert set(_ids(search.search_items(db, actor=cast.officer.principal(), query="観測ブイ"))) == {public.id,
                                                                                                  council.id}
    assert audit_count(db, "information:search:query") == 1  # anonymous searches are not audited


def test_signed_in_searches_are_audited_without_the_query(db: Session, deps: InformationDeps, cast: Cast,
                                                           clock: FakeClock) -> None:
    from banso.audit.models import AuditEntry

    item = _item(db, deps, cast, clock)
    search.search_items(db, actor=cast.officer.principal(), query="航法アルゴリズム", now=clock.now())
    entry = db.scalar(select(AuditEntry).where(AuditEntry.tag == "information:search:query"))
    assert entry is not None and entry.actor_id == cast.officer.user.id
    assert entry.data["query_length"] == len("航法アルゴリズム") and entry.data["hits"] == 1
    assert entry.data["item_ids"] == [item.id]
    assert "航法" not in str(entry.data)


def test_council_filter_and_validation(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    item = _item(db, deps, cast, clock)
    reader = cast.officer.principal()
    assert _ids(search.search_items(db, actor=reader, query="航法", council_id=cast.council.id)) == [item.id]
    assert search.search_items(db, actor=reader, query="航法", council_id=cast.council.id + 999) == []
    for bad in ("", "   ", "\u3000", "x" * 201):
        with pytest.raises(ValidationFailed):
            search.search_items(db, actor=reader, query=bad)


def test_refresh_replaces_the_document(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    item = _item(db, deps, cast, clock, body="旧い本文の語句")
    assert _ids(search.search_items(db, actor=cast.officer.principal(), query="旧い本文")) == [item.id]
    service.add_version(db, deps, item_id=item.id, actor=cast.company.principal(), now=clock.now(),
                        body="新しい本文の語句", note="改訂")
    search.refresh(db, deps, item)
    assert search.search_items(db, actor=cast.officer.principal(), query="旧い本文") == []
    assert _ids(search.search_items(db, actor=cast.officer.principal(), query="新しい本文")) == [item.id]
    assert search.reindex(db, deps) >= 1
    assert _ids(search.search_items(db, actor=cast.officer.principal(), query="新しい本文")) == [item.id]
