"""HTTP tests of the K Program pages: who sees what, forms, bad input as 4xx form errors, 404 for outsiders."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.councils import repository as councils_repo
from banso.kit.clock import FakeClock, to_jst
from banso.programme import models as pm
from banso.programme import repository as repo
from banso.web.context import AppContext
from banso.web.deps import LANG_COOKIE
from tests.support.http import alert_text, sign_in
from tests.support.programme import World, adopt, establish_council, submit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLES = (pm.Call, pm.Proposal, pm.BudgetLine, pm.ConflictDeclaration, pm.Score, pm.PanelDecision, pm.Project,
          pm.LedgerTransaction, pm.Posting, pm.Milestone, pm.PanelMember)


def snapshot(db: Session) -> dict[str, Any]:
    """Row counts of the programme tables and the balances a refused form must not change."""
    db.expire_all()
    counts: dict[str, Any] = {t.__tablename__: db.scalar(select(func.count()).select_from(t)) for t in TABLES}
    counts["balances"] = [(a.key, a.balance) for a in db.scalars(select(pm.LedgerAccount).order_by(pm.LedgerAccount.id))]
    counts["states"] = [(p.id, p.state) for p in db.scalars(select(pm.Proposal).order_by(pm.Proposal.id))]
    return counts


def _proposal(db: Session, w: World, clock: FakeClock) -> pm.Proposal:
    p = submit(db, w, clock)
    db.commit()
    return p


# --- overview, registry, ledger (F1, F3) ------------------------------------------------------


def test_overview_shows_registry_ledger_and_calls(client: TestClient, db: Session, w: World, ctx: AppContext) -> None:
    sign_in(client, db, w.staff, ctx)
    page = client.get("/programme")
    assert page.status_code == 200
    assert "K Program" in page.text and "技術リスト" in page.text
    assert 'data-area="G16"' in page.text and "V1-OC-02" in page.text  # areas → technologies by round
    assert 'data-agency="JST"' in page.text and "¥10,000,000,000" in page.text and "照合一致" in page.text
    assert 'data-agency="NEDO"' not in page.text  # another agency's ledger is not theirs
    assert 'href="/programme/ledger/JST.xlsx"' in page.text and 'href="/programme/calls.xlsx"' in page.text
    assert 'href="/programme/calls/' in page.text
    nav = re.findall(r'<nav class="main-nav".*?</nav>', page.text, re.DOTALL)[0]
    assert nav.index("協議会") < nav.index("K Program") < nav.index("監査ログ")
    client.cookies.set(LANG_COOKIE, "en")
    english = client.get("/programme")
    assert english.status_code == 200 and "Technology registry" in english.text and "Reconciled" in english.text


def test_researchers_see_no_ledger_and_exports_are_staff_only(client: TestClient, db: Session, w: World,
                                                             ctx: AppContext) -> None:
    sign_in(client, db, w.lead, ctx)
    page = client.get("/programme")
    assert page.status_code == 200 and "ledger-table" not in page.text
    assert "台帳の残高は資金配分機関の担当者に表示されます" in page.text
    assert client.get("/programme/ledger/JST.xlsx").status_code == 403
    sign_in(client, db, w.staff, ctx)
    book = client.get("/programme/ledger/JST.xlsx")
    assert book.status_code == 200 and book.headers["content-type"] == XLSX and book.content[:2] == b"PK"
    stats = client.get("/programme/calls.xlsx")
    assert stats.status_code == 200 and stats.headers["content-type"] == XLSX


def test_tranche_form_and_bad_amounts(client: TestClient, db: Session, w: World, ctx: AppContext) -> None:
    token = sign_in(client, db, w.staff, ctx)
    before = snapshot(db)
    for amount in ("-5", "1.5", "$100", ""):
        bad = client.post("/programme/agencies/JST/tranches",
                          data={"csrf_token": token, "fiscal_year": "2026", "amount": amount})
        assert bad.status_code == 422, amount
        assert "alert-error" in bad.text
    assert snapshot(db) == before
    assert client.post("/programme/agencies/JST/tranches",
                       data={"fiscal_year": "2026", "amount": "100"}).status_code == 403  # no CSRF token
    ok = client.post("/programme/agencies/JST/tranches",
                     data={"csrf_token": token, "fiscal_year": "2026", "amount": "¥1,000"}, follow_redirects=False)
    assert ok.status_code == 303
    sign_in(client, db, w.lead, ctx)
    assert client.post("/programme/agencies/JST/tranches", data={"csrf_token": sign_in(client, db, w.lead, ctx),
                       "fiscal_year": "2026", "amount": "1"}).status_code == 403


# --- calls (F3) -------------------------------------------------------------------------------


def _call_form(w: World, clock: FakeClock, **change: str) -> dict[str, str]:
    now = to_jst(clock.now())
    form = {"agency_code": "JST", "code": "K-TEST-01", "title_ja": "試験公募", "title_en": "", "project_type": "individual",
            "technology_codes": "V1-OC-02", "cap_yen": "500,000,000", "first_fiscal_year": "2026", "period_years": "2",
            "opens_at": now.strftime("%Y-%m-%dT%H:%M"), "closes_at": (now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
            "officer_id": str(w.officer.user.id), "description": "説明"}
    form.update(change)
    return form


def test_staff_create_and_publish_a_call(client: TestClient, db: Session, w: World, ctx: AppContext,
                                         clock: FakeClock) -> None:
    token = sign_in(client, db, w.staff, ctx)
    listing = client.get("/programme/calls")
    assert listing.status_code == 200 and 'href="/programme/calls/new"' in listing.text
    assert w.call.code in listing.text
    assert client.get("/programme/calls/new").status_code == 200
    made = client.post("/programme/calls", data={**_call_form(w, clock), "csrf_token": token}, follow_redirects=False)
    assert made.status_code == 303
    call = repo.call_by_code(db, "K-TEST-01")
    assert call is not None and call.state == "draft"
    page = client.get(made.headers["location"])
    assert page.status_code == 200 and "準備中" in page.text and 'id="publish-form"' in page.text
    # researchers do not see a draft (404) nor the create form
    sign_in(client, db, w.lead, ctx)
    assert client.get(f"/programme/calls/{call.id}").status_code == 404
    assert client.get("/programme/calls/new").status_code == 404
    token = sign_in(client, db, w.staff, ctx)
    published = client.post(f"/programme/calls/{call.id}/publish", data={"csrf_token": token}, follow_redirects=False)
    assert published.status_code == 303
    db.expire_all()
    assert repo.call_by_id(db, call.id).state == "published"  # type: ignore[union-attr]
    again = client.post(f"/programme/calls/{call.id}/publish", data={"csrf_token": token})
    assert again.status_code == 409 and "alert-error" in again.text


@pytest.mark.parametrize("change, status, needle", [
    ({"cap_yen": "-1"}, 422, "負の金額"),
    ({"cap_yen": "10.5"}, 422, "上限額"),
    ({"project_type": "big"}, 422, "研究開発の類型"),
    ({"technology_codes": ""}, 422, "研究開発ビジョンの技術"),
    ({"closes_at": "2020-01-01T00:00"}, 422, "締切は受付開始より後"),
    ({"code": "K-2026-OC-02"}, 409, "既にあります"),
    ({"officer_id": ""}, 422, "担当官"),
])
def test_bad_call_input_is_a_form_error_and_changes_nothing(client: TestClient, db: Session, w: World,
                                                            ctx: AppContext, clock: FakeClock,
                                                            change: dict[str, str], status: int, needle: str) -> None:
    token = sign_in(client, db, w.staff, ctx)
    before = snapshot(db)
    page = client.post("/programme/calls", data={**_call_form(w, clock, **change), "csrf_token": token})
    assert page.status_code == status
    assert needle in alert_text(page.text)
    assert 'value="試験公募"' in page.text  # the form keeps what was typed
    assert snapshot(db) == before


def test_panel_form(client: TestClient, db: Session, w: World, ctx: AppContext) -> None:
    token = sign_in(client, db, w.staff, ctx)
    page = client.get(f"/programme/calls/{w.call.id}")
    assert 'id="panel-form"' in page.text and f'value="{w.reviewer_off_panel.user.id}"' in page.text
    ok = client.post(f"/programme/calls/{w.call.id}/panel",
                     data={"csrf_token": token, "user_id": str(w.reviewer_off_panel.user.id)}, follow_redirects=False)
    assert ok.status_code == 303
    bad = client.post(f"/programme/calls/{w.call.id}/panel", data={"csrf_token": token, "user_id": str(w.lead.user.id)})
    assert bad.status_code == 422 and "alert-error" in bad.text
    sign_in(client, db, w.lead, ctx)
    assert 'id="panel-form"' not in client.get(f"/programme/calls/{w.call.id}").text


# --- proposals (F3, F4) -----------------------------------------------------------------------


def _proposal_form(w: World, token: str, budget: dict[int, str], **extra: str) -> dict[str, Any]:
    return {"csrf_token": token, "title": "海中測位の新方式", "summary": "概要", "team": w.colleague.email,
            "budget_fy": [str(fy) for fy in budget], "budget": list(budget.values()), **extra}


def test_submit_a_proposal_through_the_form(client: TestClient, db: Session, w: World, ctx: AppContext) -> None:
    token = sign_in(client, db, w.lead, ctx)
    call_page = client.get(f"/programme/calls/{w.call.id}")
    assert call_page.status_code == 200 and 'id="propose"' in call_page.text and "受付中" in call_page.text
    form = client.get(f"/programme/calls/{w.call.id}/propose")
    assert form.status_code == 200 and 'name="core_technologies"' in form.text and "2026年度" in form.text
    sent = client.post(f"/programme/calls/{w.call.id}/proposals",
                       data=_proposal_form(w, token, {2026: "300,000,000", 2027: "¥400,000,000", 2028: ""}),
                       follow_redirects=False)
    assert sent.status_code == 303
    page = client.get(sent.headers["location"])
    assert page.status_code == 200 and "提案を提出しました" in page.text and "¥700,000,000" in page.text
    proposal = repo.live_proposal_of(db, w.call.id, w.lead.user.id)
    assert proposal is not None
    assert {m.user_id for m in repo.members(db, proposal.id)} == {w.lead.user.id, w.colleague.user.id}
    again = client.post(f"/programme/calls/{w.call.id}/proposals",
                        data=_proposal_form(w, token, {2026: "1"}))
    assert again.status_code == 409 and "提出済み" in alert_text(again.text)


@pytest.mark.parametrize("budget, extra, status, needle", [
    ({2026: "1,000,000,000"}, {}, 422, "重要技術の申告が必要"),
    ({2026: "1,000,000,000"}, {"core_technologies": "量子慣性センサ"}, 422, "技術流出防止措置の申告が必要"),
    ({2026: "-5"}, {}, 422, "負の金額"),
    ({2026: "12.5"}, {}, 422, "円の整数"),
    ({2026: "2,000,000,000", 2027: "2,000,000,000"}, {"core_technologies": "c", "leak_prevention": "l"}, 422,
     "上限額を超えています"),
    ({2026: ""}, {}, 422, "年度別経費計画が空です"),
    ({2026: "100"}, {"team": "nobody@nowhere.example"}, 422, "登録された利用者ではありません"),
])
def test_bad_proposals_are_form_errors_and_change_nothing(client: TestClient, db: Session, w: World, ctx: AppContext,
                                                          budget: dict[int, str], extra: dict[str, str], status: int,
                                                          needle: str) -> None:
    token = sign_in(client, db, w.lead, ctx)
    before = snapshot(db)
    page = client.post(f"/programme/calls/{w.call.id}/proposals", data=_proposal_form(w, token, budget, **extra))
    assert page.status_code == status
    assert needle in alert_text(page.text)
    assert 'value="海中測位の新方式"' in page.text
    assert snapshot(db) == before


def test_late_proposal_is_refused(client: TestClient, db: Session, w: World, ctx: AppContext,
                                  clock: FakeClock) -> None:
    clock.set(w.call.closes_at + timedelta(seconds=1))
    token = sign_in(client, db, w.other_researcher, ctx)
    before = snapshot(db)
    page = client.post(f"/programme/calls/{w.call.id}/proposals", data=_proposal_form(w, token, {2026: "100"}))
    assert page.status_code == 409 and "締切を過ぎています" in alert_text(page.text)
    assert snapshot(db) == before


# --- review (conflicts, scores, decision) -----------------------------------------------------


def test_review_declare_and_score(client: TestClient, db: Session, w: World, ctx: AppContext) -> None:
    p = _proposal(db, w, ctx.clock)  # type: ignore[arg-type]
    token = sign_in(client, db, w.reviewer, ctx)
    queue = client.get("/programme/review")
    assert queue.status_code == 200 and f'data-proposal-id="{p.id}"' in queue.text
    assert f'href="/programme/proposals/{p.id}"' not in queue.text  # not before declaring
    assert client.get(f"/programme/proposals/{p.id}").status_code == 404
    # the form asks for a choice
    before = snapshot(db)
    bad = client.post(f"/programme/proposals/{p.id}/conflict", data={"csrf_token": token})
    assert bad.status_code == 422 and "利益相反の有無" in alert_text(bad.text)
    assert snapshot(db) == before
    ok = client.post(f"/programme/proposals/{p.id}/conflict", data={"csrf_token": token, "has_conflict": "no"},
                     follow_redirects=False)
    # F6: declared, but nothing is read before the call closes: back to the queue
    assert ok.status_code == 303 and ok.headers["location"] == "/programme/review?done=declared"
    assert client.get(f"/programme/proposals/{p.id}").status_code == 404
    assert f'href="/programme/proposals/{p.id}"' not in client.get("/programme/review").text
    ctx.clock.set(w.call.closes_at + timedelta(seconds=1))  # type: ignore[attr-defined]
    token = sign_in(client, db, w.reviewer, ctx)
    assert f'href="/programme/proposals/{p.id}"' in client.get("/programme/review").text
    page = client.get(f"/programme/proposals/{p.id}")
    assert page.status_code == 200 and 'id="score-form"' in page.text and 'id="decision-form"' not in page.text
    criteria = ["significance", "innovation", "feasibility", "implementation"]
    before = snapshot(db)
    bad = client.post(f"/programme/proposals/{p.id}/score",
                      data={"csrf_token": token, "criterion": criteria, "value": ["5", "6", "4", "3"]})
    assert bad.status_code == 422 and "1〜5" in alert_text(bad.text)
    assert snapshot(db) == before
    scored = client.post(f"/programme/proposals/{p.id}/score",
                         data={"csrf_token": token, "criterion": criteria, "value": ["5", "4", "4", "3"],
                               "comment": "良い"}, follow_redirects=False)
    assert scored.status_code == 303
    assert repo.score(db, p.id, w.reviewer.user.id) is not None


def test_conflicted_and_same_org_reviewers_get_404(client: TestClient, db: Session, w: World,
                                                   ctx: AppContext) -> None:
    p = _proposal(db, w, ctx.clock)  # type: ignore[arg-type]
    token = sign_in(client, db, w.reviewer_conflicted, ctx)
    before = snapshot(db)
    no_reason = client.post(f"/programme/proposals/{p.id}/conflict", data={"csrf_token": token, "has_conflict": "yes"})
    assert no_reason.status_code == 422 and "alert-error" in no_reason.text
    assert snapshot(db) == before
    ok = client.post(f"/programme/proposals/{p.id}/conflict",
                     data={"csrf_token": token, "has_conflict": "yes", "reason": "共同研究者"}, follow_redirects=False)
    assert ok.status_code == 303
    assert client.get(f"/programme/proposals/{p.id}").status_code == 404
    assert "利益相反あり（申告済）" in client.get("/programme/review").text
    scores = {"csrf_token": token, "criterion": ["significance"], "value": ["5"]}
    assert client.post(f"/programme/proposals/{p.id}/score", data=scores).status_code == 404
    # same organisation as the proposer: not in the queue, 404 everywhere
    token = sign_in(client, db, w.reviewer_same_org, ctx)
    assert f'data-proposal-id="{p.id}"' not in client.get("/programme/review").text
    assert client.get(f"/programme/proposals/{p.id}").status_code == 404
    assert client.post(f"/programme/proposals/{p.id}/conflict",
                       data={"csrf_token": token, "has_conflict": "no"}).status_code == 404
    # another researcher
    sign_in(client, db, w.other_researcher, ctx)
    assert client.get(f"/programme/proposals/{p.id}").status_code == 404


def test_adoption_opens_the_council_and_disbursement_waits_for_it(client: TestClient, db: Session, w: World,
                                                                   ctx: AppContext, clock: FakeClock) -> None:
    p = _proposal(db, w, clock)
    from banso.programme import service

    db.commit()
    token = sign_in(client, db, w.staff, ctx)
    # before the close: the decision is refused as a form error
    early = client.post(f"/programme/proposals/{p.id}/decision",
                        data={"csrf_token": token, "outcome": "adopt", "reason": "高評価"})
    assert early.status_code == 409 and "締切後" in alert_text(early.text)
    clock.set(w.call.closes_at + timedelta(days=1))
    # F6: review starts at the close
    service.declare_conflict(db, proposal_id=p.id, has_conflict=False, now=clock.now(), actor=w.reviewer.principal())
    service.score_proposal(db, proposal_id=p.id, scores={"significance": 5, "innovation": 4, "feasibility": 4,
                                                         "implementation": 3}, now=clock.now(),
                           actor=w.reviewer.principal())
    db.commit()
    token = sign_in(client, db, w.staff, ctx)
    before = snapshot(db)
    no_reason = client.post(f"/programme/proposals/{p.id}/decision", data={"csrf_token": token, "outcome": "adopt"})
    assert no_reason.status_code == 422 and snapshot(db) == before
    adopted = client.post(f"/programme/proposals/{p.id}/decision",
                          data={"csrf_token": token, "outcome": "adopt", "reason": "高評価"}, follow_redirects=False)
    assert adopted.status_code == 303
    page = client.get(adopted.headers["location"])
    project = repo.project_of_proposal(db, p.id)
    assert project is not None and project.council_id is not None
    council = councils_repo.council_by_id(db, project.council_id)
    assert council is not None and council.state == "proposed"
    assert f'href="/councils/{project.council_id}"' in page.text and "採択" in page.text
    # the project page: council not established, disbursement refused (409) and nothing changes
    pj = client.get(f"/programme/projects/{project.id}")
    assert pj.status_code == 200 and "未設置" in pj.text and f'href="/councils/{project.council_id}"' in pj.text
    committed = client.post(f"/programme/projects/{project.id}/commitments",
                            data={"csrf_token": token, "fiscal_year": "2026", "amount": "300,000,000"},
                            follow_redirects=False)
    assert committed.status_code == 303
    before = snapshot(db)
    refused = client.post(f"/programme/projects/{project.id}/disbursements",
                          data={"csrf_token": token, "amount": "100,000,000"})
    assert refused.status_code == 409
    assert "協議会の設置前は支払できません" in alert_text(refused.text)
    assert snapshot(db) == before
    over = client.post(f"/programme/projects/{project.id}/commitments",
                       data={"csrf_token": token, "fiscal_year": "2026", "amount": "1"})
    assert over.status_code == 409 and "計画額を超えます" in alert_text(over.text)
    # the researchers consent: the council is established and the payment goes through
    establish_council(db, w, clock, project)
    db.commit()
    paid = client.post(f"/programme/projects/{project.id}/disbursements",
                       data={"csrf_token": token, "amount": "100,000,000"}, follow_redirects=False)
    assert paid.status_code == 303
    pj = client.get(f"/programme/projects/{project.id}")
    assert "設置済み" in pj.text and "¥200,000,000" in pj.text and "¥100,000,000" in pj.text
    # the team sees the project but has no money forms; another agency's staff gets 404
    sign_in(client, db, w.lead, ctx)
    lead_view = client.get(f"/programme/projects/{project.id}")
    assert lead_view.status_code == 200 and 'id="disburse-form"' not in lead_view.text
    assert f'data-project-id="{project.id}"' in client.get("/programme/projects").text
    sign_in(client, db, w.nedo_staff, ctx)
    assert client.get(f"/programme/projects/{project.id}").status_code == 404


def test_milestones_form(client: TestClient, db: Session, w: World, ctx: AppContext, clock: FakeClock) -> None:
    project = adopt(db, w, clock, submit(db, w, clock))
    db.commit()
    token = sign_in(client, db, w.staff, ctx)
    before = snapshot(db)
    bad = client.post(f"/programme/projects/{project.id}/milestones",
                      data={"csrf_token": token, "title": "原理実証", "due_on": "2035-01-01"})
    assert bad.status_code == 422 and "alert-error" in bad.text and snapshot(db) == before
    ok = client.post(f"/programme/projects/{project.id}/milestones",
                     data={"csrf_token": token, "title": "原理実証", "due_on": "2027-03-31"}, follow_redirects=False)
    assert ok.status_code == 303
    ms = repo.milestones(db, project.id)[0]
    done = client.post(f"/programme/projects/{project.id}/milestones/{ms.id}",
                       data={"csrf_token": token, "status": "achieved"}, follow_redirects=False)
    assert done.status_code == 303
    assert "達成" in client.get(f"/programme/projects/{project.id}").text
