"""The proposal pages of F6 over HTTP: the budget sheet form in 千円, save as draft (一時保存), the
confirmation page (確認画面), submission with a receipt number, edits until the close, the Excel
download, and the draft hidden from the agency's staff."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.programme import repository as repo
from banso.web.context import AppContext
from tests.support.http import alert_text, sign_in
from tests.support.programme import World


def _form(w: World, token: str, action: str, **extra: Any) -> dict[str, Any]:
    return {"csrf_token": token, "title": "海中測位の新方式", "summary": "概要", "action": action,
            "team": f"{w.colleague.email}, co_lead, 12345678, 20", "lead_effort": "40",
            "sheet_fy": ["2026", "2027", "2028"], "sheet_equipment": ["12,000", "", ""],
            "sheet_travel": ["500.5", "", ""], "sheet_personnel": ["", "8,000", ""], "sheet_other": ["", "", ""],
            **extra}


def test_draft_confirm_and_submit_through_the_pages(client: TestClient, db: Session, w: World,
                                                    ctx: AppContext) -> None:
    token = sign_in(client, db, w.lead, ctx)
    form = client.get(f"/programme/calls/{w.call.id}/propose")
    assert form.status_code == 200 and 'id="sheet-form"' in form.text and "千円" in form.text
    assert 'id="save-draft"' in form.text and 'id="to-confirm"' in form.text
    saved = client.post(f"/programme/calls/{w.call.id}/proposals", data=_form(w, token, "confirm"),
                        follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/confirm")
    proposal = repo.live_proposal_of(db, w.call.id, w.lead.user.id)
    assert proposal is not None and proposal.state == "draft" and proposal.receipt_number is None
    confirm = client.get(saved.headers["location"])
    assert confirm.status_code == 200 and 'id="submit-form"' in confirm.text
    # 12,500.5 千円 + 30 % = 16,250.65 千円 in FY2026; 8,000 + 2,400 in FY2027
    assert "12,500.5" in confirm.text and "16,250.65" in confirm.text and "10,400" in confirm.text
    assert "主たる共同研究者" in confirm.text and "12345678" in confirm.text
    # the agency's staff do not see a draft
    staff_client = TestClient(client.app)
    sign_in(staff_client, db, w.staff, ctx)
    assert staff_client.get(f"/programme/proposals/{proposal.id}").status_code == 404
    done = client.post(f"/programme/proposals/{proposal.id}/submit", data={"csrf_token": token},
                       follow_redirects=False)
    assert done.status_code == 303
    page = client.get(done.headers["location"])
    db.expire_all()
    proposal = repo.proposal_by_id(db, proposal.id)
    assert proposal is not None and proposal.receipt_number is not None
    assert page.status_code == 200 and proposal.receipt_number in page.text and "提案を提出しました" in page.text
    assert staff_client.get(f"/programme/proposals/{proposal.id}").status_code == 200
    xlsx = client.get(f"/programme/proposals/{proposal.id}/budget.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    # an edit until the close (the form comes back filled)
    edit = client.get(f"/programme/proposals/{proposal.id}/edit")
    assert edit.status_code == 200 and 'value="12000"' in edit.text and "co_lead, 12345678, 20" in edit.text
    changed = client.post(f"/programme/proposals/{proposal.id}/edit",
                          data=_form(w, token, "", sheet_equipment=["1,000", "", ""]), follow_redirects=False)
    assert changed.status_code == 303
    ctx.clock.set(w.call.closes_at + timedelta(seconds=1))  # type: ignore[attr-defined]
    token = sign_in(client, db, w.lead, ctx)
    assert client.get(f"/programme/proposals/{proposal.id}/edit").status_code == 409


def test_a_bad_cell_is_a_form_error(client: TestClient, db: Session, w: World, ctx: AppContext) -> None:
    token = sign_in(client, db, w.lead, ctx)
    bad = client.post(f"/programme/calls/{w.call.id}/proposals",
                      data=_form(w, token, "draft", sheet_travel=["十万", "", ""]))
    assert bad.status_code == 422 and "千円単位" in alert_text(bad.text)
    assert repo.live_proposal_of(db, w.call.id, w.lead.user.id) is None
    effort = client.post(f"/programme/calls/{w.call.id}/proposals",
                         data=_form(w, token, "draft", team=f"{w.colleague.email}, co_lead, 12345678, 120"))
    assert effort.status_code == 422 and "エフォート" in alert_text(effort.text)


def test_importing_the_budget_sheet_without_a_file_is_refused_on_the_page(client: TestClient, db: Session, w: World,
                                                                         ctx: AppContext) -> None:
    """Issue 14: no file chosen gives the form's Japanese error, not FastAPI's bare 422 JSON."""
    token = sign_in(client, db, w.lead, ctx)
    saved = client.post(f"/programme/calls/{w.call.id}/proposals", data=_form(w, token, "draft"),
                        follow_redirects=False)
    assert saved.status_code == 303
    proposal = repo.live_proposal_of(db, w.call.id, w.lead.user.id)
    assert proposal is not None
    refused = client.post(f"/programme/proposals/{proposal.id}/budget", data={"csrf_token": token})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("text/html")
    assert "ファイルを選んでください" in alert_text(refused.text)
