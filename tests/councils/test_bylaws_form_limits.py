"""The bylaws amendment form refuses in words what it used to take silently (outside tester, session 9): more
articles than the cap (rows past it were dropped) and order values that are not numbers ("nan", "inf")."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.councils import articles, bylaws
from banso.councils import repository as repo
from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from tests.support.councils import Cast, active_council
from tests.support.factories import Factory
from tests.support.http import sign_in


def _form(db: Session, cast: Cast, token: str) -> dict[str, str]:
    current = bylaws.amend_form(db, council_id=cast.council.id, actor=cast.officer.principal()).articles
    data = {"csrf_token": token, "summary": "附則の追加"}
    for n, a in enumerate(current):
        data |= {f"key_{n}": a.key, f"title_ja_{n}": a.title_ja, f"title_en_{n}": a.title_en, f"text_{n}": a.text,
                 f"order_{n}": str(n + 1)}
    return data


def _setup(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
           ctx: AppContext) -> tuple[Cast, dict[str, str]]:
    cast = active_council(factory, db, clock)
    token = sign_in(client, db, cast.officer, ctx)
    return cast, _form(db, cast, token)


def test_more_articles_than_the_cap_are_refused_not_dropped(client: TestClient, db: Session, factory: Factory,
                                                            clock: FakeClock, ctx: AppContext) -> None:
    cast, data = _setup(client, db, factory, clock, ctx)
    start = len([k for k in data if k.startswith("key_")])
    for n in range(start, articles.MAX_ARTICLES + 5):  # rows up to index 64
        data |= {f"key_{n}": f"extra_{n}", f"title_ja_{n}": f"附則{n}", f"title_en_{n}": "", f"text_{n}": "本文",
                 f"order_{n}": str(n + 1)}
    for n in range(start, start + 10):  # ten of them removed: 55 rows below the cap's index, 4 past it
        data[f"remove_{n}"] = "yes"
    sent = client.post(f"/councils/{cast.council.id}/bylaws", data=data, follow_redirects=False)
    assert sent.status_code == 422, sent.status_code
    assert f"条は {articles.MAX_ARTICLES} までです" in sent.text and 'class="error-summary"' in sent.text
    assert repo.open_bylaws_proposal(db, cast.council.id) is None


def test_an_order_that_is_not_a_number_is_refused(client: TestClient, db: Session, factory: Factory,
                                                  clock: FakeClock, ctx: AppContext) -> None:
    cast, data = _setup(client, db, factory, clock, ctx)
    n = len([k for k in data if k.startswith("key_")])
    data |= {f"key_{n}": "supplementary", f"title_ja_{n}": "附則", f"title_en_{n}": "", f"text_{n}": "施行日"}
    for bad in ("nan", "NaN", "inf", "-Infinity", "abc"):
        sent = client.post(f"/councils/{cast.council.id}/bylaws", data=data | {f"order_{n}": bad},
                           follow_redirects=False)
        assert sent.status_code == 422, (bad, sent.status_code)
        assert "順序は数字で入力してください" in sent.text and 'class="error-summary"' in sent.text
    assert repo.open_bylaws_proposal(db, cast.council.id) is None
    ok = client.post(f"/councils/{cast.council.id}/bylaws", data=data | {f"order_{n}": "2.5"}, follow_redirects=False)
    assert ok.status_code == 303  # a fractional order still places the article between two others
