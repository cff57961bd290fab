"""The review panel (審査会) refuses alike through every door: the page, its .xlsx download and the API (I7).

A person who may not see a call's panel gets the same answer from the page and from the workbook: 404 where
the call itself is not theirs to know (a draft of another agency, no such call), 403 where the call is
published (its existence is public) but the panel is the agency staff's. A refused download exports nothing.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.programme import service
from banso.web.context import AppContext
from tests.support.factories import audit_count
from tests.support.http import bearer, sign_in
from tests.support.programme import World

EXPORT = "programme:panel:export"
PANEL_READ = "programme:panel:read"


def _draft(db: Session, w: World, clock: FakeClock) -> int:
    now = clock.now()
    call = service.create_call(
        db, agency_code="JST", code="K-2026-OC-99", title_ja="下書きの公募", title_en="A draft call",
        project_type="project", technology_codes=["V1-OC-02"], cap_yen=1_000_000_000, first_fiscal_year=2026,
        period_years=3, opens_at=now + timedelta(days=10), closes_at=now + timedelta(days=40),
        officer_id=w.officer.user.id, now=now, actor=w.staff.principal(), documents=[])
    db.commit()
    return call.id


def _answers(client: TestClient, db: Session, clock: FakeClock, ctx: AppContext, person: object,
             call_id: int) -> tuple[int, int, int, int]:
    client.cookies.clear()
    sign_in(client, db, person, ctx)  # type: ignore[arg-type]
    page = client.get(f"/programme/calls/{call_id}/review-panel").status_code
    book = client.get(f"/programme/calls/{call_id}/review-panel.xlsx").status_code
    client.cookies.clear()
    token = bearer(db, person, clock)  # type: ignore[arg-type]
    api = client.get(f"/api/v1/programme/calls/{call_id}/panel", headers=token).status_code
    api_book = client.get(f"/api/v1/programme/calls/{call_id}/panel.xlsx", headers=token).status_code
    return page, book, api, api_book


def test_the_workbook_refuses_as_the_page_does(client: TestClient, db: Session, w: World, clock: FakeClock,
                                               ctx: AppContext) -> None:
    draft = _draft(db, w, clock)
    db.commit()
    cases = {
        (w.call.id, "reviewer"): 403, (w.call.id, "lead"): 403, (w.call.id, "nedo_staff"): 403,
        (w.call.id, "partner"): 403, (draft, "nedo_staff"): 404, (draft, "lead"): 404, (draft, "reviewer"): 404,
        (draft + 1000, "staff"): 404, (draft + 1000, "lead"): 404,
    }
    for (call_id, name), status in cases.items():
        got = _answers(client, db, clock, ctx, getattr(w, name), call_id)
        assert got == (status,) * 4, (name, call_id, got)
    assert audit_count(db, EXPORT) == 0  # nothing refused was exported
    assert _answers(client, db, clock, ctx, w.staff, draft) == (200,) * 4  # the agency's own draft: its staff see it
    assert audit_count(db, EXPORT) == 2


def test_head_on_the_panel_answers_as_get_and_records_the_read(client: TestClient, db: Session, w: World,
                                                               clock: FakeClock, ctx: AppContext) -> None:
    """HEAD runs the page's own GET (same authorisation) and is kept like it: the read is audited (A1), no export.

    Outside tester, session 12: a HEAD that kept nothing let a member watch an audited record's length change
    without a trace.
    """
    reads = audit_count(db, PANEL_READ)
    sign_in(client, db, w.staff, ctx)
    head = client.head(f"/programme/calls/{w.call.id}/review-panel")
    assert head.status_code == 200 and head.content == b"" and "text/html" in head.headers["content-type"]
    assert client.head(f"/programme/calls/{w.call.id}/review-panel.xlsx").status_code == 405
    db.expire_all()
    assert (audit_count(db, PANEL_READ), audit_count(db, EXPORT)) == (reads + 1, 0)
    assert client.get(f"/programme/calls/{w.call.id}/review-panel").status_code == 200
    db.expire_all()
    assert audit_count(db, PANEL_READ) == reads + 2
    sign_in(client, db, w.lead, ctx)
    assert client.head(f"/programme/calls/{w.call.id}/review-panel").status_code == 403  # as GET
