"""Think-tank pages (issue 6, Web): Japan's position, a technology's countries, priorities with weights."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.analytics.prioritise import CRITERIA
from banso.config import Settings
from banso.thinktank import service
from banso.thinktank.demo import prepare_demo_analytics
from banso.web.context import AppContext
from tests.support.factories import Factory
from tests.support.http import sign_in


@pytest.fixture(autouse=True, scope="module")
def rank_small_technologies() -> Iterator[None]:
    """This 1,500-work demo has no technology with 50 works: rank them all, as before issue 16's flag."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BANSO_ANALYTICS_MIN_WORKS", "1")
        yield


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic analysis, built once for the module."""
    data = tmp_path_factory.mktemp("tt") / "data"
    root = prepare_demo_analytics(data, works=1500, seed=7)
    assert service.outputs_exist(root)
    return root


@pytest.fixture
def analysis_dir(built: Path, settings: Settings) -> Path:
    """Copy the analysis into the test settings' data_dir (outputs only, not the snapshot)."""
    target = service.analytics_dir(settings.data_dir)
    for sub in (service.INDICATORS, service.PRIORITIES):
        shutil.copytree(built / sub, target / sub)
    return target


def _names(html: str, table_id: str) -> list[str]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'data-technology="([^"]+)"', body)


def _names_ja() -> dict[str, str]:
    from banso.analytics.technologies import load_technologies

    return {t.id: t.name_ja for t in load_technologies(None).technologies}


def test_demo_is_idempotent(built: Path) -> None:
    stamp = (built / "priorities" / "ranking.parquet").stat().st_mtime_ns
    assert prepare_demo_analytics(built.parent, works=1500) == built
    assert (built / "priorities" / "ranking.parquet").stat().st_mtime_ns == stamp


def test_anonymous_is_sent_to_login(client: TestClient) -> None:
    for url in ("/thinktank", "/thinktank/priorities", "/thinktank/technologies/G03-ai", "/thinktank/japan.png"):
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), url


def test_no_analysis_yet_shows_how_to_make_one(client: TestClient, db: Session, factory: Factory,
                                                ctx: AppContext) -> None:
    sign_in(client, db, factory.person(roles=("researcher",)), ctx)
    r = client.get("/thinktank")
    assert r.status_code == 200
    assert 'id="no-analysis"' in r.text and "banso analyze indicators" in r.text
    assert client.get("/thinktank/priorities").status_code == 200
    assert client.get("/thinktank/technologies/G03-ai").status_code == 404


def test_overview_shows_japan_across_technologies(client: TestClient, db: Session, factory: Factory,
                                                  ctx: AppContext, analysis_dir: Path) -> None:
    sign_in(client, db, factory.person(roles=("researcher",)), ctx)
    r = client.get("/thinktank")
    assert r.status_code == 200
    assert '<a href="/thinktank" aria-current="page">シンクタンク</a>' in r.text
    a = service.load_analysis(ctx.settings.data_dir)
    assert a is not None
    rows = a.japan_rows()
    assert _names(r.text, "japan-table") == [x["technology"] for x in rows]
    # A technology where Japan has a rank (which one depends on the synthetic draw).
    semi = next(x for x in rows if x["japan_rank"] is not None)
    row = r.text.split(f'data-technology="{semi["technology"]}"', 1)[1].split("</tr>", 1)[0]
    assert _names_ja()[semi["technology"]] in row
    assert f">{int(semi['japan_rank'])}<" in row
    assert f"{semi['japan_top10_share'] * 100:.1f}%" in row
    assert semi["leader"] in row
    assert 'src="/thinktank/japan.png' in r.text
    png = client.get("/thinktank/japan.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_technology_page_shows_country_table_and_chart(client: TestClient, db: Session, factory: Factory,
                                                       ctx: AppContext, analysis_dir: Path) -> None:
    sign_in(client, db, factory.person(roles=("industry",)), ctx)
    a = service.load_analysis(ctx.settings.data_dir)
    assert a is not None
    tech = max(a.japan_rows(), key=lambda x: x["papers"])["technology"]
    r = client.get(f"/thinktank/technologies/{tech}")
    assert r.status_code == 200
    assert _names_ja()[tech] in r.text
    countries = a.countries(tech)
    table = r.text.split('id="country-table"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'data-country="([^"]+)"', table) == [c["country"] for c in countries]
    first = countries[0]
    assert f"{first['top10_share_fractional'] * 100:.1f}%" in table
    for header in ("RCA", "h指数", "国際共著率", "年平均成長率", "Top10%シェア（分数）"):
        assert header in r.text
    png = client.get(f"/thinktank/technologies/{tech}/chart.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    assert client.get("/thinktank/technologies/no-such-tech").status_code == 404
    assert client.get("/thinktank/technologies/no-such-tech/chart.png").status_code == 404


def test_english_page(client: TestClient, db: Session, factory: Factory, ctx: AppContext,
                      analysis_dir: Path) -> None:
    sign_in(client, db, factory.person(roles=("researcher",)), ctx)
    client.cookies.set("banso_lang", "en")
    r = client.get("/thinktank")
    assert "Japan&#39;s position across critical technologies" in r.text
    from banso.analytics.technologies import load_technologies

    en = {t.id: t.name_en for t in load_technologies(None).technologies}
    assert en["G05-semiconductor"] in r.text


def _weights(**over: float) -> dict[str, str]:
    w = {f"w_{k}": str(v[0]) for k, v in CRITERIA.items()}
    w.update({f"w_{k}": str(v) for k, v in over.items()})
    return w


def test_analyst_changes_weights_and_the_ranking_changes(client: TestClient, db: Session, factory: Factory,
                                                         ctx: AppContext, analysis_dir: Path) -> None:
    csrf = sign_in(client, db, factory.person(roles=("analyst",)), ctx)
    base = client.get("/thinktank/priorities")
    assert base.status_code == 200 and 'id="weights-form"' in base.text
    saved = _names(base.text, "ranking-table")
    a = service.load_analysis(ctx.settings.data_dir)
    assert a is not None and a.ranking is not None
    assert saved == list(a.ranking.sort_values("rank")["technology"])
    assert "押し上げた基準" in base.text and 'id="contribution-table"' in base.text
    # Only the leader's share counts: the ranking follows dependence on the leader.
    only = {k: 0.0 for k in CRITERIA} | {"leader_share": 1.0}
    posted = client.post("/thinktank/priorities", data={"csrf_token": csrf, **_weights(**only)})
    assert posted.status_code == 200
    assert "指定した重みで順位を再計算しました" in posted.text
    new = _names(posted.text, "ranking-table")
    assert sorted(new) == sorted(saved) and new != saved
    expected = service.recompute(a, {k: float(v) for k, v in only.items()})
    assert new == list(expected["technology"])
    assert 'name="w_leader_share" type="text" inputmode="decimal" maxlength="20" value="1.0"' in posted.text
    # The same by GET parameters.
    got = client.get("/thinktank/priorities", params=_weights(**only))
    assert got.status_code == 200 and _names(got.text, "ranking-table") == new


@pytest.mark.parametrize("bad", [{"japan_share": -1}, {k: 0 for k in CRITERIA}, {"needs": "abc"}, {"momentum": "nan"}])
def test_invalid_weights_are_a_form_error(client: TestClient, db: Session, factory: Factory, ctx: AppContext,
                                          analysis_dir: Path, bad: dict[str, object]) -> None:
    csrf = sign_in(client, db, factory.person(roles=("analyst",)), ctx)
    data = _weights() | {f"w_{k}": str(v) for k, v in bad.items()}
    r = client.post("/thinktank/priorities", data={"csrf_token": csrf, **data})
    assert r.status_code == 422
    assert 'class="alert alert-error"' in r.text and 'id="weights-form"' in r.text
    assert client.get("/thinktank/priorities", params=data).status_code == 422


def test_recompute_needs_csrf_and_the_analyst_role(client: TestClient, db: Session, factory: Factory,
                                                   ctx: AppContext, analysis_dir: Path) -> None:
    csrf = sign_in(client, db, factory.person(roles=("researcher",)), ctx)
    page = client.get("/thinktank/priorities")
    assert page.status_code == 200 and 'id="weights-form"' not in page.text
    assert _names(page.text, "ranking-table")
    assert client.post("/thinktank/priorities", data={"csrf_token": csrf, **_weights()}).status_code == 403
    assert client.get("/thinktank/priorities", params=_weights()).status_code == 403
    analyst = factory.person(roles=("analyst",))
    sign_in(client, db, analyst, ctx)
    assert client.post("/thinktank/priorities", data=_weights()).status_code == 403  # no CSRF token
