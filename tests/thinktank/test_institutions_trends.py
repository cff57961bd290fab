"""Who leads and how it moved (issue 16, session 11): each technology's leading institutions and its trend over
rolling windows (with bootstrap intervals per window) on the think-tank page, under /api/v1/thinktank, in the
reports; the indicators' access rule (everyone with thinktank:analysis:read; the CSV reports as every report)."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from pathlib import Path

import pandas as pd
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from banso.analytics.countries import country_name
from banso.thinktank import service
from banso.thinktank.service import Analysis
from banso.web.context import AppContext
from tests.support.factories import Factory
from tests.support.http import bearer, sign_in

API = "/api/v1/thinktank"


def _analysis(ctx: AppContext) -> Analysis:
    a = service.load_analysis(ctx.settings.data_dir)
    assert a is not None
    return a


def _busiest(a: Analysis) -> str:
    """The technology with the most papers that has leading institutions and a trend."""
    assert a.institutions is not None and a.trends is not None
    have = set(a.institutions["technology"]) & set(a.trends["technology"])
    return str(max((r for r in a.japan_rows() if r["technology"] in have), key=lambda r: r["papers"])["technology"])


def _table(html: str, table_id: str) -> str:
    return html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]


def test_the_demo_writes_trends_with_intervals_per_window(built: Path) -> None:
    trends = pd.read_parquet(built / "indicators" / "trends.parquet")
    assert sorted(set(zip(trends["window_start"], trends["window_end"], strict=True))) == [
        (2013, 2017), (2015, 2019), (2017, 2021), (2019, 2023)]
    # the last window is the indicators' own: the same figures
    last = trends[trends["window_start"] == 2019].set_index(["technology", "country"])
    ind = pd.read_parquet(built / "indicators" / "indicators.parquet").set_index(["technology", "country"])
    pd.testing.assert_series_equal(last["top10_share_fractional"].sort_index(),
                                   ind["top10_share_fractional"].sort_index())
    assert (trends["samples"] == 200).all() and trends["share_low"].notna().any()
    assert (built / "indicators" / "uncertainty.parquet").is_file()  # the indicators' window too


def test_technology_page_shows_who_leads_and_the_trend_in_japanese(client: TestClient, db: Session, factory: Factory,
                                                                   ctx: AppContext, analysis_dir: Path) -> None:
    sign_in(client, db, factory.person(roles=("researcher",)), ctx)
    a = _analysis(ctx)
    tech = _busiest(a)
    page = client.get(f"/thinktank/technologies/{tech}")
    assert page.status_code == 200
    text = unescape(page.text)
    assert "主要機関（誰が主導しているか）" in text and "移動期間での推移" in text
    leaders = a.leading_institutions(tech)
    table = unescape(_table(page.text, "leaders-table"))
    assert re.findall(r'data-institution="(\d+)"', table) == [str(r["institution_id"]) for r in leaders]
    first = leaders[0]
    assert first["institution"] in table and country_name(first["country"], "ja") in table
    with_ror = next(r for r in leaders if r["ror"])
    assert f">{with_ror['ror'].rsplit('/', 1)[-1]}</code>" in table  # the id as text
    assert "href=\"https://ror.org" not in page.text  # never a link: a synthetic id names no organisation
    assert "合成データ" in text  # synthetic, and said so
    # Per country: the select lists the countries with leaders; ?country= shows that country's institutions
    countries = a.institution_countries(tech)
    other = next(c for c in countries if c != "JP")
    chosen = client.get(f"/thinktank/technologies/{tech}?country={other.lower()}")
    own = _table(chosen.text, "country-leaders-table")
    expected = a.leading_institutions(tech, other)
    assert expected and re.findall(r'data-institution="(\d+)"', own) == [str(r["institution_id"]) for r in expected]
    assert f"{country_name(other, 'ja')}の主要機関" in unescape(chosen.text)
    # The trend: one row per window (a narrow table), Japan's share with its interval, the chart
    rows = a.trend_table(tech)
    trend = _table(page.text, "trend-table")
    assert re.findall(r'data-window="([^"]+)"', trend) == [r["window"] for r in rows]
    assert trend.count("<th ") == 6  # six columns: fits the page, whatever the number of windows
    shown = next(r for r in rows if r["japan"] and r["japan"]["share_low"] is not None)
    row = trend.split(f'data-window="{shown["window"]}"', 1)[1].split("</tr>", 1)[0]
    j = shown["japan"]
    assert f"{j['top10_share_fractional'] * 100:.1f}%" in row
    assert f"{j['share_low'] * 100:.1f}–{j['share_high'] * 100:.1f}%" in row
    ranked = next(r for r in rows if r["japan"] and r["japan"]["rank_low"] is not None)["japan"]
    assert f">{int(ranked['rank_low'])}–{int(ranked['rank_high'])}<" in trend  # whole numbers, not 2.0–6.0
    assert "200 回ブートストラップ" in text
    assert f'src="/thinktank/technologies/{tech}/trends.png' in page.text
    png = client.get(f"/thinktank/technologies/{tech}/trends.png")
    assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get("/thinktank/technologies/no-such-tech/trends.png").status_code == 404


def test_technology_page_in_english(client: TestClient, db: Session, factory: Factory, ctx: AppContext,
                                    analysis_dir: Path) -> None:
    sign_in(client, db, factory.person(roles=("industry",)), ctx)
    client.cookies.set("banso_lang", "en")
    a = _analysis(ctx)
    tech = _busiest(a)
    text = unescape(client.get(f"/thinktank/technologies/{tech}").text)
    assert "Who leads: institutions" in text and "Trend over rolling windows" in text
    assert "Window (publication years)" in text and "Leading other country" in text
    first = a.leading_institutions(tech)[0]
    assert country_name(first["country"], "en") in _table(text, "leaders-table")
    assert "bootstrap resamples" in text
    png = client.get(f"/thinktank/technologies/{tech}/trends.png?lang=en")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"


def test_without_trends_the_page_says_how_and_the_api_answers_404(client: TestClient, db: Session, factory: Factory,
                                                                   ctx: AppContext, analysis_dir: Path) -> None:
    (analysis_dir / "indicators" / "trends.parquet").unlink()
    person = factory.person(roles=("researcher",))
    sign_in(client, db, person, ctx)
    a = _analysis(ctx)
    assert a.trends is None
    tech = str(a.japan_rows()[0]["technology"])
    page = client.get(f"/thinktank/technologies/{tech}")
    assert page.status_code == 200 and 'id="no-trends"' in page.text
    # a researcher reads that it is not computed, never the server's folders (outside tester, session 11)
    assert "banso analyze trends" not in page.text and str(analysis_dir) not in page.text
    assert 'id="trend-chart"' not in page.text
    assert client.get(f"/thinktank/technologies/{tech}/trends.png").status_code == 404
    r = client.get(f"{API}/trends/{tech}", headers=bearer(db, person, ctx.clock))  # type: ignore[arg-type]
    assert r.status_code == 404
    message = r.json()["message"]
    assert message.startswith("推移（移動期間）が計算されていません") and "banso analyze trends" in message
    assert " / Trends over rolling windows have not been computed" in message
    assert client.get(f"{API}/institutions/{tech}", headers=bearer(db, person, ctx.clock)).status_code == 200  # type: ignore[arg-type]
    sign_in(client, db, factory.person(roles=("analyst",)), ctx)  # who runs analyses is told how
    page = client.get(f"/thinktank/technologies/{tech}")
    assert "banso analyze trends --store" in page.text and "--bootstrap 200" in page.text


def test_api_institutions_and_trends(client: TestClient, db: Session, factory: Factory, ctx: AppContext,
                                     analysis_dir: Path) -> None:
    person = factory.person(roles=("industry",))  # not a ranking role: the indicators' rule
    headers = bearer(db, person, ctx.clock)  # type: ignore[arg-type]
    a = _analysis(ctx)
    tech = _busiest(a)
    world = client.get(f"{API}/institutions/{tech}", headers=headers)
    assert world.status_code == 200
    body = world.json()
    assert body["synthetic"] is True and body["country"] is None and body["window"] == a.window
    assert [r["institution_id"] for r in body["institutions"]] == [
        r["institution_id"] for r in a.leading_institutions(tech)]
    first = body["institutions"][0]
    assert set(first) == {"rank", "institution_id", "institution", "ror", "country", "country_ja", "country_en",
                          "top10"}
    assert first["country_ja"] == country_name(first["country"], "ja")
    other = next(c for c in a.institution_countries(tech) if c != "JP")
    one = client.get(f"{API}/institutions/{tech}?country={other.lower()}", headers=headers).json()
    assert one["country"] == other and one["institutions"] and {r["country"] for r in one["institutions"]} == {other}
    trends = client.get(f"{API}/trends/{tech}", headers=headers)
    assert trends.status_code == 200
    t = trends.json()
    assert t["samples"] == 200 and t["windows"] == ["2013–2017", "2015–2019", "2017–2021", "2019–2023"]
    assert len(t["rows"]) == int((a.trends["technology"] == tech).sum())  # type: ignore[index]
    jp = client.get(f"{API}/trends/{tech}?country=JP", headers=headers).json()["rows"]
    assert jp and {r["country"] for r in jp} == {"JP"}
    with_ci = [r for r in jp if r["share_low"] is not None]
    assert with_ci and all(r["share_low"] <= r["top10_share_fractional"] <= r["share_high"] for r in with_ci)
    assert all(r["country_ja"] == "日本" for r in jp)
    for url in (f"{API}/trends/no-such-tech", f"{API}/institutions/no-such-tech"):
        assert client.get(url, headers=headers).status_code == 404
    assert client.get(f"{API}/trends/{tech}?country=JPN", headers=headers).status_code == 422
    # A token narrowed to other scopes carries none of the think tank (the policy's rule, T8); no token: 401
    narrow = bearer(db, person, ctx.clock, scopes=["councils:council:participate"])  # type: ignore[arg-type]
    for url in (f"{API}/institutions/{tech}", f"{API}/trends/{tech}"):
        r = client.get(url, headers=narrow)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", url
        assert client.get(url).status_code == 401


def test_openapi_lists_the_new_schemas(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    for path, schema in (("/api/v1/thinktank/institutions/{technology}", "InstitutionsRead"),
                         ("/api/v1/thinktank/trends/{technology}", "TrendsRead")):
        op = spec["paths"][path]["get"]
        assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(schema)
        assert [p["name"] for p in op["parameters"]] == ["technology", "country"]
    schemas = spec["components"]["schemas"]
    assert {"InstitutionsRead", "InstitutionRead", "TrendsRead", "TrendRead"} <= set(schemas)
    assert {"share_low", "share_high", "rank_low", "rank_high", "small_sample"} <= set(schemas["TrendRead"]["properties"])


def test_reports_carry_institutions_and_trends(client: TestClient, db: Session, factory: Factory, ctx: AppContext,
                                               analysis_dir: Path) -> None:
    officer = factory.person(roles=("officer",))
    sign_in(client, db, officer, ctx)
    a = _analysis(ctx)
    card = client.get("/thinktank/priorities").text
    assert 'id="trends-csv"' in card and 'id="institutions-csv"' in card
    trends = client.get("/thinktank/reports/trends.csv")
    assert trends.status_code == 200 and trends.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(trends.content.decode("utf-8-sig"))))
    assert len(rows) == len(a.trends)  # type: ignore[arg-type]
    assert {"share_low", "rank_high", "country_ja", "country_en"} <= set(rows[0])
    inst = client.get("/thinktank/reports/institutions.csv")
    assert inst.status_code == 200
    inst_rows = list(csv.DictReader(io.StringIO(inst.content.decode("utf-8-sig"))))
    assert {"institution", "ror", "country_ja"} <= set(inst_rows[0]) and len(inst_rows) == len(a.institutions)  # type: ignore[arg-type]
    book = load_workbook(io.BytesIO(client.get("/thinktank/reports/report.xlsx").content), read_only=True)
    assert {"top_institutions", "trends"} <= set(book.sheetnames)
    # (the HTML report's trend charts and their bound: tests/analytics/test_trend_intervals.py, without the web)
    pdf = client.get("/thinktank/reports/report.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert pdf.content.count(b"/Subtype /Image") >= 2  # Japan's position and the trend panels
    api = client.get(f"{API}/reports/trends.csv", headers=bearer(db, officer, ctx.clock))  # type: ignore[arg-type]
    assert api.status_code == 200 and api.content == trends.content
    # These two carry no ranking and no needs reason: the readers of the indicators take them, as the page and the
    # API give them the same rows (outside tester, session 11: they were refused with 403); the ranking reports not
    assert client.get("/thinktank/reports/trends.csv?analysis=999999").status_code == 404  # no such analysis
    sign_in(client, db, factory.person(roles=("researcher",)), ctx)
    for kind in ("trends.csv", "institutions.csv"):
        assert client.get(f"/thinktank/reports/{kind}").status_code == 200
    assert client.get("/thinktank/reports/priorities.csv").status_code == 403
    (analysis_dir / "indicators" / "trends.parquet").unlink()
    sign_in(client, db, officer, ctx)
    assert 'id="trends-csv"' not in client.get("/thinktank/priorities").text  # offered only when there
    missing = client.get(f"{API}/reports/trends.csv", headers=bearer(db, officer, ctx.clock))  # type: ignore[arg-type]
    assert missing.status_code == 404 and missing.json()["message"].startswith("推移（移動期間）が計算されていません")


def test_trends_without_bootstrap_have_no_intervals(client: TestClient, db: Session, factory: Factory,
                                                    ctx: AppContext, analysis_dir: Path) -> None:
    path = analysis_dir / "indicators" / "trends.parquet"
    plain = pd.read_parquet(path)
    plain.drop(columns=["works", "small_sample", "samples", "share_low", "share_high", "rank_low",
                        "rank_high"]).to_parquet(path, index=False)  # as `banso analyze trends` without --bootstrap
    person = factory.person(roles=("researcher",))
    sign_in(client, db, person, ctx)
    a = _analysis(ctx)
    tech = _busiest(a)
    body = client.get(f"{API}/trends/{tech}", headers=bearer(db, person, ctx.clock)).json()  # type: ignore[arg-type]
    assert body["samples"] == 0 and body["rows"]
    assert all(r["share_low"] is None and r["rank_low"] is None and r["works"] is None for r in body["rows"])
    page = unescape(client.get(f"/thinktank/technologies/{tech}").text)
    assert 'id="trend-table"' in page and "回ブートストラップ" not in page
    assert client.get(f"/thinktank/technologies/{tech}/trends.png").status_code == 200


def test_an_unknown_or_malformed_country_is_answered_with_its_reason(client: TestClient, db: Session,
                                                                     factory: Factory, ctx: AppContext,
                                                                     analysis_dir: Path) -> None:
    """Outside tester (session 11): ?country= fell back to Japan (page) or gave an empty list (API), silently."""
    person = factory.person(roles=("researcher",))
    sign_in(client, db, person, ctx)
    headers = bearer(db, person, ctx.clock)  # type: ignore[arg-type]
    a = _analysis(ctx)
    tech = _busiest(a)
    absent = next(c for c in ("AQ", "VA", "NR", "TV", "PN") if c not in a.institution_countries(tech)
                  and not (a.trends["country"] == c).any())  # type: ignore[index]
    page = client.get(f"/thinktank/technologies/{tech}?country={absent.lower()}")
    assert page.status_code == 404
    assert f"国コード {absent}（{country_name(absent, 'ja')}）はこの分析にありません" in unescape(page.text)
    client.cookies.set("banso_lang", "en")
    english = unescape(client.get(f"/thinktank/technologies/{tech}?country={absent}").text)
    assert f"Country code {absent} ({country_name(absent, 'en')}) is not in this analysis" in english
    client.cookies.delete("banso_lang")
    for raw in ("JPN", "1", "<b>"):  # malformed: 422, said as such
        bad = client.get(f"/thinktank/technologies/{tech}", params={"country": raw})
        assert bad.status_code == 422 and "2 文字の英字" in unescape(bad.text), raw
        assert "<b>" not in bad.text
    xx = client.get(f"/thinktank/technologies/{tech}?country=XX")
    assert xx.status_code == 422 and "XX は ISO 3166-1 の国コードではありません" in unescape(xx.text)
    assert client.get(f"/thinktank/technologies/{tech}?country=").status_code == 200  # none asked: the default
    for kind in ("institutions", "trends"):
        r = client.get(f"{API}/{kind}/{tech}?country={absent}", headers=headers)
        assert r.status_code == 404 and r.json()["error"] == "country_not_in_analysis", kind
        assert r.json()["message"].startswith(f"国コード {absent}（") and " / Country code " in r.json()["message"]
        assert r.json()["detail"].startswith(f"国コード {absent}")  # the reader's half (Japanese by default)
        xx = client.get(f"{API}/{kind}/{tech}?country=xx", headers=headers)
        assert xx.status_code == 422 and "ISO 3166-1 の国コードではありません" in xx.json()["message"], kind
        malformed = client.get(f"{API}/{kind}/{tech}?country=J1", headers=headers)
        assert malformed.status_code == 422 and malformed.json()["message"].startswith("入力内容が正しくありません")
    listed = a.institution_countries(tech)[0]
    ok = client.get(f"{API}/institutions/{tech}?country={listed.lower()}", headers=headers)
    assert ok.status_code == 200 and ok.json()["country"] == listed


def test_downloads_that_are_not_computed_say_why(client: TestClient, db: Session, factory: Factory,
                                                 ctx: AppContext, analysis_dir: Path) -> None:
    """Outside tester (session 11): the page's trends.csv answered 404 without the reason the page gives."""
    (analysis_dir / "indicators" / "trends.parquet").unlink()
    (analysis_dir / "indicators" / "top_institutions.parquet").unlink()
    officer = factory.person(roles=("officer",))
    sign_in(client, db, officer, ctx)
    headers = bearer(db, officer, ctx.clock)  # type: ignore[arg-type]
    for kind, reason in (("trends.csv", "推移（移動期間）が計算されていません"), ("institutions.csv", "主要機関の表がありません")):
        page = client.get(f"/thinktank/reports/{kind}")
        assert page.status_code == 404 and reason in unescape(page.text), kind
        # headed as a thing not there, not as a refused request (outside tester, session 12)
        assert "表示できる内容がありません" in page.text and "要求を処理できませんでした" not in page.text, kind
        api = client.get(f"{API}/reports/{kind}", headers=headers)
        assert api.status_code == 404 and api.json()["message"].startswith(reason), kind
        assert api.json()["error"] == "not_computed"
