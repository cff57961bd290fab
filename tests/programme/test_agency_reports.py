"""Agency reports as Excel (issue 15, F6): the panel view and the duplication/concentration flags as workbooks,
and call statistics (proposals per call by status, adoption rate, review progress) as a page, an API and a
workbook — amounts in 千円, Japanese headers, for the call's agency staff only, audited. The tests open the
workbooks and read the cells."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.programme import review, service
from banso.programme.models import Proposal
from banso.web.context import AppContext
from tests.support.factories import audit_count
from tests.support.http import bearer, sign_in
from tests.support.programme import World, submit

BASE = "/api/v1/programme"
LEAD_NO = "11110001"
SCORES = {"significance": 5, "innovation": 4, "feasibility": 4, "implementation": 3}
MARK = "QXPANELNOTE"


def _cycle(db: Session, w: World, clock: FakeClock) -> tuple[Proposal, Proposal]:
    """Two proposals naming the lead (effort 70 + 50 %: a concentration flag; similar titles), one reviewed by two
    assigned reviewers after the close (one score in); a third, unrelated, rejected."""
    w.lead.user.researcher_number = LEAD_NO
    first = submit(db, w, clock, budget={2026: 123_456_000, 2027: 100_000_000}, lead_effort=70, team=[])
    other = service.submit_proposal(
        db, call_id=w.call.id, title="量子慣性航法を用いた海中測位", summary="概要", budget={2026: 50_000_000},
        now=clock.now(), actor=w.other_researcher.principal(),
        team=[service.TeamMemberInput(user_id=w.lead.user.id, researcher_number=LEAD_NO, effort_percent=50)])
    for r in (w.reviewer, w.reviewer_conflicted):
        review.assign_reviewer(db, proposal_id=first.id, reviewer_id=r.user.id, now=clock.now(),
                               actor=w.staff.principal())
        service.declare_conflict(db, proposal_id=first.id, has_conflict=None, grounds=[], now=clock.now(),
                                 actor=r.principal())
    clock.set(w.call.closes_at + timedelta(days=1))
    service.score_proposal(db, proposal_id=first.id, scores=SCORES, comment=f"意義が大きい {MARK}", now=clock.now(),
                           actor=w.reviewer.principal())
    clock.set(w.call.opens_at + timedelta(hours=1))
    third = service.submit_proposal(db, call_id=w.call.id, title="深層学習による創薬支援", summary="概要",
                                    budget={2026: 10_000_000}, team=[], now=clock.now(), actor=w.partner.principal())
    clock.set(w.call.closes_at + timedelta(days=1))
    service.decide(db, proposal_id=third.id, outcome="reject", reason="対象外", now=clock.now(),
                   actor=w.staff.principal(), councils=w.councils)
    db.commit()
    return first, other


def _sheet(content: bytes) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(content))
    ws = book.worksheets[0]
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def test_call_statistics_page_api_and_workbook(client: TestClient, db: Session, w: World, clock: FakeClock,
                                               ctx: AppContext) -> None:
    _cycle(db, w, clock)
    staff = bearer(db, w.staff, clock)
    [row] = [r for r in client.get(f"{BASE}/statistics", headers=staff).json() if r["call_id"] == w.call.id]
    assert (row["proposals"], row["submitted"], row["adopted"], row["rejected"], row["withdrawn"]) == (3, 2, 0, 1, 0)
    assert row["adoption_rate"] == 0.0 and row["requested_yen"] == 283_456_000
    assert (row["assigned"], row["declared"], row["scored"]) == (2, 2, 1)

    got = client.get(f"{BASE}/calls.xlsx", headers=staff)
    assert got.status_code == 200
    rows = _sheet(got.content)
    assert rows[0][:10] == ("公募番号", "公募名", "類型", "状態", "上限額（千円）", "提案数", "提案額（千円）", "採択数",
                            "採択額（千円）", "採択率")
    assert rows[0][13:] == ("審査委員割当", "利益相反申告", "評点提出")
    mine = next(r for r in rows[1:] if r[0] == w.call.code)
    assert mine[4] == 3_000_000 and mine[5] == 3 and mine[6] == 283_456 and mine[7] == 0  # 千円
    assert mine[9] == 0.0 and mine[10:16] == (1, 2, 0, 2, 2, 1)
    assert audit_count(db, "programme:statistics:export") == 1 and audit_count(db, "programme:statistics:read") == 1

    sign_in(client, db, w.staff, ctx)
    page = client.get("/programme/statistics")
    assert page.status_code == 200 and 'id="statistics-table"' in page.text and "283,456" in page.text
    assert 'href="/programme/statistics"' in client.get("/programme").text


def test_statistics_are_for_agency_staff_only(client: TestClient, db: Session, w: World, clock: FakeClock,
                                              ctx: AppContext) -> None:
    _cycle(db, w, clock)
    for person in (w.lead, w.reviewer, w.officer):
        headers = bearer(db, person, clock)
        assert client.get(f"{BASE}/statistics", headers=headers).status_code == 403
        assert client.get(f"{BASE}/calls.xlsx", headers=headers).status_code == 403
    # another agency's staff sees only their own agency's calls (none here): this call is not in it
    nedo = client.get(f"{BASE}/statistics", headers=bearer(db, w.nedo_staff, clock)).json()
    assert w.call.id not in [r["call_id"] for r in nedo]
    sign_in(client, db, w.lead, ctx)
    assert client.get("/programme/statistics").status_code == 403
    assert 'href="/programme/statistics"' not in client.get("/programme").text  # no link it may not follow


def test_panel_workbook_has_scores_and_comments_side_by_side(client: TestClient, db: Session, w: World,
                                                             clock: FakeClock, ctx: AppContext) -> None:
    first, _ = _cycle(db, w, clock)
    got = client.get(f"{BASE}/calls/{w.call.id}/panel.xlsx", headers=bearer(db, w.staff, clock))
    assert got.status_code == 200, got.text
    rows = _sheet(got.content)
    assert rows[0] == ("受付番号", "提案名", "状態", "提案額（千円）", "審査委員", "担当割当", "利益相反", "評点合計",
                       "コメント", "平均点", "審査結果", "重複・集中の指摘")
    lines = [r for r in rows[1:] if r[0] == first.receipt_number]
    assert [(r[4], r[5], r[6]) for r in lines] == [(w.reviewer.user.name_ja, "割当", "なし"),
                                                   (w.reviewer_conflicted.user.name_ja, "割当", "なし")]
    scored = lines[0]
    assert scored[3] == 223_456 and scored[7] == scored[9] == 4.1 and MARK in scored[8]  # 4.1: the weighted total
    assert lines[1][7] is None and scored[11] >= 1  # not scored yet; the concentration flag counted
    assert audit_count(db, "programme:panel:export") == 1
    for person in (w.reviewer, w.lead, w.nedo_staff):
        denied = client.get(f"{BASE}/calls/{w.call.id}/panel.xlsx", headers=bearer(db, person, clock))
        assert denied.status_code in (403, 404) and MARK not in denied.text
    sign_in(client, db, w.staff, ctx)
    assert f'href="/programme/calls/{w.call.id}/review-panel.xlsx"' in client.get(
        f"/programme/calls/{w.call.id}/review-panel").text
    page_copy = client.get(f"/programme/calls/{w.call.id}/review-panel.xlsx")
    assert page_copy.status_code == 200 and _sheet(page_copy.content)[0][0] == "受付番号"


def test_duplication_workbook_names_the_flag_and_its_evidence(client: TestClient, db: Session, w: World,
                                                              clock: FakeClock, ctx: AppContext) -> None:
    first, other = _cycle(db, w, clock)
    got = client.get(f"{BASE}/duplication-flags.xlsx", headers=bearer(db, w.staff, clock))
    assert got.status_code == 200, got.text
    rows = _sheet(got.content)
    assert rows[0] == ("種別", "e-Rad 研究者番号", "指標", "受付番号", "提案名", "状態", "自機関", "根拠")
    effort = [r for r in rows[1:] if r[0] == "過度の集中（エフォート合計）"]
    assert {r[3] for r in effort} == {first.receipt_number, other.receipt_number}
    assert all(r[1] == LEAD_NO and r[2] == 120.0 and r[6] == "○" for r in effort)
    assert "effort_percent" not in effort[0][7] and "70%" in effort[0][7]
    assert audit_count(db, "programme:duplication:export") == 1
    for person in (w.lead, w.reviewer):
        assert client.get(f"{BASE}/duplication-flags.xlsx", headers=bearer(db, person, clock)).status_code == 403
    # another agency's staff: no flag touches their proposals, so the workbook has the header only
    assert _sheet(client.get(f"{BASE}/duplication-flags.xlsx",
                             headers=bearer(db, w.nedo_staff, clock)).content) == [rows[0]]
    sign_in(client, db, w.staff, ctx)
    assert 'id="duplication-xlsx"' in client.get("/programme/duplication").text
    assert client.get("/programme/duplication.xlsx").status_code == 200
