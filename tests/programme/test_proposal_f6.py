"""Proposals as agencies take them (F6, issue 15) through the JSON API: a draft (一時保存) seen by its
proposer alone, the budget sheet by fiscal year × category in 千円 with indirect costs at the call's rate,
team roles with e-Rad numbers and effort, submission with a receipt number (受付番号) told in the inbox,
edits until the close (audited), reviewers reading nothing before the close, and the sheet's Excel
download and upload with its refusals."""

from __future__ import annotations

import io
from datetime import timedelta

from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.kit.clock import FakeClock
from banso.programme import budget_excel
from banso.programme.models import BudgetItem, Proposal
from tests.support.factories import Factory
from tests.support.http import bearer
from tests.support.programme import World, build_world

BASE = "/api/v1/programme"
SHEET = {"FY2026": {"equipment": 100_000, "travel": "1,500", "personnel": 50_000, "other": "250.5"},
         "FY2027": {"equipment": 20_000, "personnel": 60_000}}
# FY2026 direct 151,750.5 千円 → indirect 30 % = 45,525.15 千円; FY2027 direct 80,000 → 24,000
FY2026_TOTAL = 151_750_500 + 45_525_150
FY2027_TOTAL = 80_000_000 + 24_000_000


def _world(db: Session, factory: Factory, clock: FakeClock) -> World:
    w = build_world(db, factory, clock)
    db.commit()
    return w


def _body(**change: object) -> dict[str, object]:
    return {"title": "量子慣性航法", "budget_sheet": SHEET, "lead_effort": 40,
            "team": [],
            **change}


def _team(w: World) -> list[dict[str, object]]:
    return [{"user_id": w.colleague.user.id, "role": "co_lead", "researcher_number": "12345678", "effort_percent": 25},
            {"name": "外部 協力者", "role": "collaborator"}]


def _audit_tags(db: Session, subject: str) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(AuditEntry.tag).where(AuditEntry.subject == subject).order_by(AuditEntry.seq)))


def test_draft_confirm_submit_receipt_and_edit_until_close(client: TestClient, db: Session, factory: Factory,
                                                            clock: FakeClock) -> None:
    w = _world(db, factory, clock)
    lead, staff, reviewer = (bearer(db, p, clock) for p in (w.lead, w.staff, w.reviewer))
    r = client.post(f"{BASE}/calls/{w.call.id}/proposals", headers=lead,
                    json=_body(team=_team(w), draft=True))
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["state"] == "draft" and draft["receipt_number"] is None and draft["submitted_at"] is None
    pid = draft["id"]
    assert draft["total_yen"] == FY2026_TOTAL + FY2027_TOTAL
    # the draft belongs to its proposer: staff and reviewers neither see nor list nor queue it
    assert client.get(f"{BASE}/proposals/{pid}", headers=staff).status_code == 404
    assert client.get(f"{BASE}/proposals", headers=staff).json() == []
    assert client.get(f"{BASE}/review-queue", headers=reviewer).json() == []
    # the proposer reads it back (the confirmation page shows the same): sheet in yen and 千円, team and effort
    mine = client.get(f"{BASE}/proposals/{pid}", headers=lead).json()
    cells = {(c["fiscal_year"], c["category"]): c["amount_thousand_yen"] for c in mine["budget_sheet"]}
    assert cells[(2026, "other")] == "250.5" and cells[(2026, "indirect")] == "45525.15"
    assert cells[(2027, "indirect")] == "24000" and (2027, "travel") not in cells
    assert {b["fiscal_year"]: b["amount"] for b in mine["budget"]} == {2026: FY2026_TOTAL, 2027: FY2027_TOTAL}
    assert mine["indirect_rate_percent"] == 30
    roles = {m["role"]: m for m in mine["team"]}
    assert roles["lead"]["effort_percent"] == 40 and roles["co_lead"]["effort_percent"] == 25
    assert roles["co_lead"]["researcher_number"] == "12345678" and roles["collaborator"]["effort_percent"] is None
    # a second proposal to the same call while the draft lives is refused
    assert client.post(f"{BASE}/calls/{w.call.id}/proposals", headers=lead, json=_body(team=[])).status_code == 409
    # only the proposer submits; then a receipt number, an inbox notice, the audit
    colleague = bearer(db, w.colleague, clock)
    assert client.post(f"{BASE}/proposals/{pid}/submit", headers=colleague).status_code == 403
    r = client.post(f"{BASE}/proposals/{pid}/submit", headers=lead)
    assert r.status_code == 200, r.text
    receipt = r.json()["receipt_number"]
    assert receipt == f"K-2026-{pid:06d}" and r.json()["state"] == "submitted"
    assert client.post(f"{BASE}/proposals/{pid}/submit", headers=lead).status_code == 409
    inbox = client.get("/api/v1/notifications", headers=lead).json()["items"]
    assert any(receipt in n["title_ja"] for n in inbox)
    # staff now see it; a reviewer who declared no conflict still reads nothing before the close
    assert client.get(f"{BASE}/proposals/{pid}", headers=staff).status_code == 200
    assert client.post(f"{BASE}/proposals/{pid}/conflict", headers=reviewer,
                       json={"has_conflict": False}).status_code == 201
    assert client.get(f"{BASE}/proposals/{pid}", headers=reviewer).status_code == 404
    assert client.get(f"{BASE}/proposals", headers=reviewer).json() == []
    assert client.get(f"{BASE}/proposals/{pid}/budget.xlsx", headers=reviewer).status_code == 404
    # edits until the close, each audited; the receipt number stays
    r = client.put(f"{BASE}/proposals/{pid}", headers=lead,
                   json=_body(team=_team(w), budget_sheet={"FY2026": {"equipment": 10_000}}))
    assert r.status_code == 200, r.text
    assert r.json()["total_yen"] == 13_000_000 and r.json()["receipt_number"] == receipt
    assert _audit_tags(db, f"proposal:{pid}") == ["programme:proposal:draft", "programme:proposal:submit",
                                                  "programme:proposal:read", "programme:conflict:declare",
                                                  "programme:proposal:update"]  # the staff's read is audited too
    clock.set(w.call.closes_at + timedelta(seconds=1))
    lead, reviewer = bearer(db, w.lead, clock), bearer(db, w.reviewer, clock)
    late = client.put(f"{BASE}/proposals/{pid}", headers=lead, json=_body(team=_team(w)))
    assert late.status_code == 409 and "締切" in late.json()["message"]
    # after the close the cleared reviewer reads it
    assert client.get(f"{BASE}/proposals/{pid}", headers=reviewer).status_code == 200
    assert [p["id"] for p in client.get(f"{BASE}/proposals", headers=reviewer).json()] == [pid]


def test_reviewer_reads_nothing_before_the_close(client: TestClient, db: Session, factory: Factory,
                                                 clock: FakeClock) -> None:
    """Issue 15 bullet 1: a cleared panel reviewer used to read a proposal while the call was still open."""
    w = _world(db, factory, clock)
    lead, reviewer = bearer(db, w.lead, clock), bearer(db, w.reviewer, clock)
    pid = client.post(f"{BASE}/calls/{w.call.id}/proposals", headers=lead,
                      json={"title": "x", "budget": {"2026": 100_000_000}}).json()["id"]
    assert client.post(f"{BASE}/proposals/{pid}/conflict", headers=reviewer,
                       json={"has_conflict": False}).status_code == 201
    assert client.get(f"{BASE}/proposals/{pid}", headers=reviewer).status_code == 404
    assert client.get(f"{BASE}/proposals", headers=reviewer).json() == []
    scores = {"significance": 4, "innovation": 4, "feasibility": 3, "implementation": 3}
    assert client.put(f"{BASE}/proposals/{pid}/score", headers=reviewer, json={"scores": scores}).status_code == 404


def test_bad_sheets_and_teams_are_refused(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    w = _world(db, factory, clock)
    lead = bearer(db, w.lead, clock)
    url = f"{BASE}/calls/{w.call.id}/proposals"
    cases: list[tuple[dict[str, object], str]] = [
        ({"budget_sheet": {"FY2026": {"indirect": 100}}}, "間接経費は自動計算"),
        ({"budget_sheet": {"FY2026": {"food": 100}}}, "cannot be entered"),
        ({"budget_sheet": {"FY2026": {"equipment": "-5"}}}, "千円単位"),
        ({"budget_sheet": {"FY2026": {"equipment": "1.2345"}}}, "千円単位"),
        ({"budget_sheet": {"FY2026": {"equipment": "12万"}}}, "千円単位"),
        ({"budget_sheet": {"FY2030": {"equipment": 1}}}, "outside the call period"),
        ({"budget_sheet": {"FY2026": {"equipment": 3_000_000}}}, "cap"),
        ({"budget_sheet": {"FY2026": {"equipment": 800_000}}}, "core technologies"),  # ¥1.04bn in FY2026 (F4)
        ({"budget_sheet": {"FY2026": {"equipment": 0}}}, "¥0"),
        ({"budget_sheet": {"FY2026": {"equipment": 1}}, "budget": {"2026": 1000}}, "either"),
        ({"team": [{"name": "A", "role": "boss"}]}, "role"),
        ({"team": [{"name": "A", "researcher_number": "1234567"}]}, "8 digits"),
        ({"team": [{"name": "A", "effort_percent": 0}]}, "1–100"),
        ({"team": [{"name": "A", "effort_percent": 101}]}, "1–100"),
        ({"lead_effort": 150}, "1–100"),
    ]
    for change, message in cases:
        body = {"title": "x", "budget_sheet": {"FY2026": {"equipment": 1000}}, **change}
        r = client.post(url, headers=lead, json=body)
        assert r.status_code == 422, (change, r.text)
        assert message in r.json()["message"], (change, r.json()["message"])
    db.expire_all()
    assert db.scalar(select(Proposal.id)) is None


def test_budget_excel_round_trip_and_hostile_files(client: TestClient, db: Session, factory: Factory,
                                                   clock: FakeClock) -> None:
    w = _world(db, factory, clock)
    lead = bearer(db, w.lead, clock)
    pid = client.post(f"{BASE}/calls/{w.call.id}/proposals", headers=lead,
                      json=_body(team=_team(w), draft=True)).json()["id"]
    r = client.get(f"{BASE}/proposals/{pid}/budget.xlsx", headers=lead)
    assert r.status_code == 200 and r.headers["content-type"] == budget_excel.XLSX_MEDIA_TYPE
    ws = load_workbook(io.BytesIO(r.content))[budget_excel.SHEET]
    assert ws["B3"].value == "FY2026" and ws["B4"].value == 100_000 and ws["B7"].value == 250.5
    assert ws["B9"].value == 45525.15  # 間接経費 at 30 %
    db.expire_all()
    before = sorted((i.fiscal_year, i.category, i.amount) for i in db.scalars(select(BudgetItem)))
    # upload the download unchanged: nothing changes
    up = client.put(f"{BASE}/proposals/{pid}/budget.xlsx", headers=lead,
                    files={"file": ("b.xlsx", r.content, budget_excel.XLSX_MEDIA_TYPE)})
    assert up.status_code == 200, up.text
    db.expire_all()
    assert sorted((i.fiscal_year, i.category, i.amount) for i in db.scalars(select(BudgetItem))) == before
    # an edited cell is taken; the indirect row is computed again, whatever the file says
    wb = load_workbook(io.BytesIO(r.content))
    wb[budget_excel.SHEET]["C5"] = 2_000
    wb[budget_excel.SHEET]["C9"] = 999_999
    up = client.put(f"{BASE}/proposals/{pid}/budget.xlsx", headers=lead,
                    files={"file": ("b.xlsx", _save(wb), budget_excel.XLSX_MEDIA_TYPE)})
    assert up.status_code == 200 and up.json()["total_yen"] == FY2026_TOTAL + (82_000_000 * 13 // 10)

    def refused(content: bytes, message: str) -> None:
        got = client.put(f"{BASE}/proposals/{pid}/budget.xlsx", headers=lead,
                         files={"file": ("b.xlsx", content, budget_excel.XLSX_MEDIA_TYPE)})
        assert got.status_code == 422 and message in got.json()["message"], got.text

    formula = load_workbook(io.BytesIO(r.content))
    formula[budget_excel.SHEET]["B4"] = "=1+1"
    refused(_save(formula), "数式")
    extra = load_workbook(io.BytesIO(r.content))
    extra.create_sheet("other")
    refused(_save(extra), "経費計画")
    relabelled = load_workbook(io.BytesIO(r.content))
    relabelled[budget_excel.SHEET]["A5"] = "食費"
    refused(_save(relabelled), "A5")
    text = load_workbook(io.BytesIO(r.content))
    text[budget_excel.SHEET]["B6"] = "たくさん"
    refused(_save(text), "千円単位")
    refused(b"PK\x03\x04 not really a zip", "Excel")
    refused(b"x" * (budget_excel.MAX_FILE_BYTES + 1), "大きすぎ")
    refused(_save(Workbook()), "経費計画")
    # another person may not replace it
    other = bearer(db, w.other_researcher, clock)
    assert client.put(f"{BASE}/proposals/{pid}/budget.xlsx", headers=other,
                      files={"file": ("b.xlsx", r.content, budget_excel.XLSX_MEDIA_TYPE)}).status_code == 404


def _save(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
