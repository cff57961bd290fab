"""Plan changes after adoption (計画変更, F6, issue 15), over HTTP.

The research representative requests; a budget move inside one fiscal year of at most 50 % of that year's direct
costs is applied on notice (届出), anything else waits for the agency's staff, who approve (applied, recorded with
who and when) or return it with a reason; the lead is told in the inbox; every step is audited.
"""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.councils import service as councils
from banso.councils.models import Consent, Council, ExportClearance, Membership
from banso.kit.clock import FakeClock
from banso.kit.errors import ValidationFailed
from banso.notifications.models import Notification
from banso.programme import change_rules, service
from banso.programme import repository as repo
from banso.programme.budget import Category
from banso.programme.models import Project
from banso.web.context import AppContext
from tests.support.http import bearer, sign_in
from tests.support.programme import World, adopt, establish_council, fund, submit

BASE = "/api/v1/programme"
M = 1_000_000


@pytest.fixture
def project(db: Session, w: World, clock: FakeClock) -> Project:
    """An adopted project whose plan is ¥300M (FY2026) and ¥400M (FY2027), all under その他."""
    adopted = adopt(db, w, clock, submit(db, w, clock))
    db.commit()
    return adopted


def _cells(db: Session, project: Project) -> dict[tuple[int, str], int]:
    db.expire_all()
    return {(i.fiscal_year, i.category): i.amount for i in repo.budget_items(db, project.proposal_id)}


def _totals(db: Session, project: Project) -> dict[int, int]:
    return {b.fiscal_year: b.amount for b in repo.budget(db, project.proposal_id)}


def _move(yen: int, *, from_year: int = 2026, to_year: int = 2026, to: str = "equipment") -> dict[str, object]:
    return {"from_year": from_year, "from_category": "other", "to_year": to_year, "to_category": to, "yen": yen}


def _request(client: TestClient, db: Session, w: World, clock: FakeClock, project: Project, body: dict[str, object],
             who: object = None) -> tuple[int, dict[str, object]]:
    r = client.post(f"{BASE}/projects/{project.id}/changes", json=body,
                    headers=bearer(db, who or w.lead, clock))  # type: ignore[arg-type]
    return r.status_code, r.json()


def _notes(db: Session, user_id: int, kind: str) -> list[Notification]:
    return list(db.scalars(select(Notification).where(Notification.recipient_id == user_id, Notification.kind == kind)))


def _tags(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEntry.tag).where(AuditEntry.tag.like("programme:plan_change:%"))
                           .order_by(AuditEntry.seq)))


def test_the_threshold_is_half_of_the_years_direct_costs() -> None:
    """The rule (JST/NEDO 費目間流用): ≤ 50 % inside a year is notified; above it, or across years, needs approval."""
    cells = {(2026, Category.OTHER): 300 * M, (2026, Category.EQUIPMENT): 100 * M, (2027, Category.OTHER): 400 * M}
    half = change_rules.parse_moves([_move(200 * M)], years=[2026, 2027])
    assert change_rules.moved_share_percent(cells, half) == 50.0
    assert not change_rules.needs_approval(cells, half)
    more = change_rules.parse_moves([_move(200 * M + 1)], years=[2026, 2027])
    assert change_rules.needs_approval(cells, more)  # ¥1 over the line, though it rounds to 50.0 %
    across = change_rules.parse_moves([_move(M, to_year=2027)], years=[2026, 2027])
    assert change_rules.needs_approval(cells, across)
    with pytest.raises(ValidationFailed, match="不足"):
        change_rules.apply_moves(cells, change_rules.parse_moves([_move(301 * M)], years=[2026, 2027]))


def test_a_small_move_is_applied_on_notice_and_the_staff_are_told(client: TestClient, db: Session, w: World,
                                                                  clock: FakeClock, project: Project) -> None:
    """届出: 100M of 300M (33 %) moves at once; totals unchanged; staff told; audited as a notice."""
    code, body = _request(client, db, w, clock, project, {"kind": "budget", "reason": "装置の前倒し購入",
                                                          "moves": [_move(100 * M)]})
    assert code == 201 and body["state"] == "notified" and body["share_percent"] == pytest.approx(33.33)
    assert _cells(db, project)[(2026, "other")] == 200 * M and _cells(db, project)[(2026, "equipment")] == 100 * M
    assert _totals(db, project)[2026] == 300 * M
    assert _notes(db, w.staff.user.id, "programme.plan_change_notified")
    assert _tags(db) == ["programme:plan_change:notify"]


def test_a_large_move_waits_for_approval_then_is_applied_and_the_lead_is_told(
        client: TestClient, db: Session, w: World, clock: FakeClock, project: Project) -> None:
    """承認: 200M+1 of 300M waits; nothing moves until the staff approve; who and when are recorded."""
    code, body = _request(client, db, w, clock, project, {"kind": "budget", "reason": "人件費の増額",
                                                          "moves": [_move(200 * M + 1, to="personnel")]})
    assert code == 201 and body["state"] == "requested"
    assert _cells(db, project)[(2026, "other")] == 300 * M
    assert _notes(db, w.staff.user.id, "programme.plan_change_requested")
    clock.advance(seconds=3600)
    r = client.post(f"{BASE}/projects/{project.id}/changes/{body['id']}/decision", json={"decision": "approve"},
                    headers=bearer(db, w.staff, clock))
    assert r.status_code == 200 and r.json()["state"] == "approved"
    assert r.json()["decided_by_id"] == w.staff.user.id and r.json()["decided_at"]
    assert _cells(db, project)[(2026, "personnel")] == 200 * M + 1
    notes = _notes(db, w.lead.user.id, "programme.plan_change_decided")
    assert notes and "承認" in notes[0].title_ja
    assert _tags(db) == ["programme:plan_change:request", "programme:plan_change:decide"]
    again = client.post(f"{BASE}/projects/{project.id}/changes/{body['id']}/decision", json={"decision": "approve"},
                        headers=bearer(db, w.staff, clock))
    assert again.status_code == 409


def test_a_move_between_years_needs_approval_and_moves_the_years_totals(
        client: TestClient, db: Session, w: World, clock: FakeClock, project: Project) -> None:
    """年度間: even ¥1M needs approval; once approved each year's total follows."""
    code, body = _request(client, db, w, clock, project, {"kind": "budget", "reason": "実証を翌年度へ",
                                                          "moves": [_move(50 * M, to_year=2027)]})
    assert code == 201 and body["state"] == "requested"
    r = client.post(f"{BASE}/projects/{project.id}/changes/{body['id']}/decision", json={"decision": "approve"},
                    headers=bearer(db, w.staff, clock))
    assert r.status_code == 200
    db.expire_all()
    assert _totals(db, project) == {2026: 250 * M, 2027: 450 * M}


def _commit(db: Session, w: World, clock: FakeClock, project: Project, by_year: dict[int, int]) -> None:
    for fy, yen in by_year.items():
        service.commit_funds(db, project_id=project.id, fiscal_year=fy, amount=yen, now=clock.now(),
                             actor=w.staff.principal())
    db.commit()


def _available(db: Session) -> int:
    db.expire_all()
    account = repo.account_by_key(db, "JST:available:-")
    return account.balance if account is not None else 0


def _approve_between_years(client: TestClient, db: Session, w: World, clock: FakeClock, project: Project,
                           yen: int) -> tuple[int, dict[str, object], int]:
    code, body = _request(client, db, w, clock, project, {"kind": "budget", "reason": "実証を翌年度へ",
                                                          "moves": [_move(yen, to_year=2027)]})
    assert code == 201
    r = client.post(f"{BASE}/projects/{project.id}/changes/{body['id']}/decision", json={"decision": "approve"},
                    headers=bearer(db, w.staff, clock))
    return r.status_code, r.json(), int(body["id"])  # type: ignore[call-overload]


def test_an_approved_move_between_years_moves_the_ledgers_commitments(
        client: TestClient, db: Session, w: World, clock: FakeClock, project: Project) -> None:
    """F3 + 年度間: a plan committed in full stays committed in full — released from FY2026, committed to FY2027 in
    the approval's unit of work; the fund's available balance is unchanged and the ledger still reconciles."""
    _commit(db, w, clock, project, {2026: 300 * M, 2027: 400 * M})
    before = _available(db)
    code, _, change_id = _approve_between_years(client, db, w, clock, project, 50 * M)
    assert code == 200
    db.expire_all()
    assert repo.committed_by_year(db, project.id) == _totals(db, project) == {2026: 250 * M, 2027: 450 * M}
    assert _available(db) == before
    moved = [t for t in repo.transactions(db, project_id=project.id) if t.memo and f"#{change_id}" in t.memo]
    assert [(t.kind, t.fiscal_year, t.amount) for t in moved] == [("release", 2026, 50 * M),
                                                                   ("commitment", 2027, 50 * M)]
    assert service.reconcile(db, actor=None).ok
    ledger_tags = db.scalars(select(AuditEntry.tag).where(AuditEntry.tag.like("programme:ledger:%")))
    assert {"programme:ledger:release", "programme:ledger:commitment"} <= set(ledger_tags)


def test_a_move_the_target_years_fund_cannot_cover_is_refused_and_nothing_changes(
        client: TestClient, db: Session, world: World, clock: FakeClock) -> None:
    """Never overdrawn: FY2027 is committed in full and the fund has nothing left, so the ¥50M it would need is
    refused with a 409 and a reason; the plan, the commitments and the change's state stay as they were; audited."""
    w = world  # funded below with exactly what the commitments take
    project = adopt(db, w, clock, submit(db, w, clock))
    fund(db, w, clock, amount=500 * M)
    _commit(db, w, clock, project, {2026: 100 * M, 2027: 400 * M})  # FY2026 in part: nothing to release there
    code, body, change_id = _approve_between_years(client, db, w, clock, project, 50 * M)
    assert code == 409
    assert "基金の配分可能残高" in str(body) and "cannot cover" in str(body)
    db.expire_all()
    assert _totals(db, project) == {2026: 300 * M, 2027: 400 * M}
    assert repo.committed_by_year(db, project.id) == {2026: 100 * M, 2027: 400 * M}
    assert _available(db) == 0
    assert [c.state for c in repo.plan_changes(db, project.id) if c.id == change_id] == ["requested"]
    assert _tags(db) == ["programme:plan_change:request", "programme:plan_change:refused"]


def test_commitment_targets_follow_a_year_committed_in_full_and_keep_a_partial_one() -> None:
    """The pure rule: full years follow their new total, partial years keep theirs (cut to the new total)."""
    old, new = {2026: 300 * M, 2027: 400 * M}, {2026: 250 * M, 2027: 450 * M}
    assert change_rules.commitment_targets(old, new, {2026: 300 * M, 2027: 400 * M}) == new
    assert change_rules.commitment_targets(old, new, {2026: 280 * M, 2027: 100 * M}) == {2026: 250 * M,
                                                                                         2027: 100 * M}
    assert change_rules.commitment_targets(old, new, {}) == {2026: 0, 2027: 0}


def test_a_return_needs_a_reason_that_reaches_the_lead(client: TestClient, db: Session, w: World, clock: FakeClock,
                                                       project: Project) -> None:
    """差戻し: a reason is required (422 without), nothing is applied, the lead reads the reason."""
    _, body = _request(client, db, w, clock, project, {"kind": "budget", "reason": "全額を装置に",
                                                       "moves": [_move(250 * M)]})
    url = f"{BASE}/projects/{project.id}/changes/{body['id']}/decision"
    assert client.post(url, json={"decision": "return"}, headers=bearer(db, w.staff, clock)).status_code == 422
    r = client.post(url, json={"decision": "return", "reason": "研究計画との関係を説明してください"},
                    headers=bearer(db, w.staff, clock))
    assert r.status_code == 200 and r.json()["state"] == "returned"
    assert _cells(db, project)[(2026, "other")] == 300 * M
    assert "研究計画との関係" in _notes(db, w.lead.user.id, "programme.plan_change_decided")[0].body_ja


def test_who_may_request_decide_and_see(client: TestClient, db: Session, w: World, clock: FakeClock,
                                        project: Project) -> None:
    """The lead requests; a team member and the staff may not (403); outsiders 404; the lead does not decide."""
    small = {"kind": "budget", "reason": "理由", "moves": [_move(250 * M)]}
    assert _request(client, db, w, clock, project, small, who=w.colleague)[0] == 403
    assert _request(client, db, w, clock, project, small, who=w.staff)[0] == 403
    for outsider in (w.other_researcher, w.nedo_staff):
        assert _request(client, db, w, clock, project, small, who=outsider)[0] == 404
        assert client.get(f"{BASE}/projects/{project.id}/changes",
                          headers=bearer(db, outsider, clock)).status_code == 404
    code, body = _request(client, db, w, clock, project, small)
    assert code == 201
    assert client.post(f"{BASE}/projects/{project.id}/changes/{body['id']}/decision", json={"decision": "approve"},
                       headers=bearer(db, w.lead, clock)).status_code == 403
    listed = client.get(f"{BASE}/projects/{project.id}/changes", headers=bearer(db, w.colleague, clock))
    assert listed.status_code == 200 and listed.json()["changes"][0]["id"] == body["id"]
    assert listed.json()["may_request"] is False and listed.json()["threshold_percent"] == 50


@pytest.mark.parametrize(("body", "status", "needle"), [
    ({"kind": "budget", "reason": "r", "moves": [_move(301 * M)]}, 422, "不足"),
    ({"kind": "budget", "reason": "r", "moves": [{**_move(M), "to_category": "indirect"}]}, 422, "直接経費"),
    ({"kind": "budget", "reason": "r", "moves": [_move(M, to_year=2031)]}, 422, "年度"),
    ({"kind": "budget", "reason": "r", "moves": [_move(-5)]}, 422, "正の整数"),
    ({"kind": "budget", "reason": "r", "moves": [_move(2**70, to="travel"),  # cancel out: the net checks passed
                                                 {**_move(2**70), "from_category": "travel", "to_category": "other"}]},
     422, "大きすぎ"),
    ({"kind": "budget", "reason": "r", "moves": [_move(10 * M, to="travel"),
                                                 {**_move(10 * M), "from_category": "travel", "to_category": "other"}]},
     422, "双方向"),
    ({"kind": "budget", "reason": "r", "moves": [_move(300 * M, to="travel"),  # on through a cell that held nothing
                                                 {**_move(300 * M), "from_category": "travel"}]}, 422, "不足"),
    ({"kind": "budget", "reason": "r", "moves": [{**_move(M), "yen": "100"}]}, 422, "数値で入力"),
    ({"kind": "budget", "reason": "", "moves": [_move(M)]}, 422, "理由"),
    ({"kind": "team", "reason": "r"}, 422, "追加"),
    ({"kind": "schedule", "reason": "r", "milestones": [{"id": 999999, "due_on": "2026-12-01"}]}, 422, "マイルストーン"),
])
def test_bad_requests_get_a_reason(client: TestClient, db: Session, w: World, clock: FakeClock, project: Project,
                                   body: dict[str, object], status: int, needle: str) -> None:
    """O1: every bad request is a 4xx with a Japanese-first reason; nothing is recorded."""
    code, answer = _request(client, db, w, clock, project, body)
    assert code == status and needle in str(answer)
    assert _tags(db) == []


def test_one_change_at_a_time(client: TestClient, db: Session, w: World, clock: FakeClock, project: Project) -> None:
    """A second request while one awaits the agency is 409 (a decision applies to the plan it was asked on)."""
    big = {"kind": "budget", "reason": "r", "moves": [_move(250 * M)]}
    assert _request(client, db, w, clock, project, big)[0] == 201
    assert _request(client, db, w, clock, project, big)[0] == 409


def test_an_approved_team_change_changes_who_sees_the_project(client: TestClient, db: Session, w: World,
                                                              clock: FakeClock, project: Project) -> None:
    """研究体制の変更: the colleague leaves (loses the project: 404), another researcher joins (sees it)."""
    code, body = _request(client, db, w, clock, project, {
        "kind": "team", "reason": "異動のため", "remove": [w.colleague.user.id],
        "add": [{"user_id": w.other_researcher.user.id, "role": "member", "effort_percent": 20}]})
    assert code == 201 and body["state"] == "requested"
    r = client.post(f"{BASE}/projects/{project.id}/changes/{body['id']}/decision", json={"decision": "approve"},
                    headers=bearer(db, w.staff, clock))
    assert r.status_code == 200
    assert client.get(f"{BASE}/projects/{project.id}", headers=bearer(db, w.colleague, clock)).status_code == 404
    assert client.get(f"{BASE}/projects/{project.id}",
                      headers=bearer(db, w.other_researcher, clock)).status_code == 200


def test_an_approved_team_change_follows_in_the_project_council_and_f7_fires_on_join(
        client: TestClient, db: Session, w: World, clock: FakeClock, project: Project) -> None:
    """C1 + C3 + F7: the leaver loses council membership with the change's reason; the newcomer (a foreign national)
    is invited, not enrolled — they join by their own consent, and joining a council that holds classified items
    opens the deemed-export check for the export-control officer."""
    establish_council(db, w, clock, project)
    assert project.council_id is not None
    council = db.get(Council, project.council_id)
    assert council is not None
    council.export_controlled = True  # what classifying an item 該当 leaves (tests/information/test_export_control)
    w.other_researcher.user.nationality = "US"
    db.commit()
    code, body = _request(client, db, w, clock, project, {
        "kind": "team", "reason": "異動のため", "remove": [w.colleague.user.id],
        "add": [{"user_id": w.other_researcher.user.id, "role": "member", "effort_percent": 20}]})
    assert code == 201
    r = client.post(f"{BASE}/projects/{project.id}/changes/{body['id']}/decision", json={"decision": "approve"},
                    headers=bearer(db, w.staff, clock))
    assert r.status_code == 200
    db.expire_all()
    gone = db.scalar(select(Membership).where(Membership.council_id == council.id,
                                              Membership.user_id == w.colleague.user.id))
    assert gone is not None and gone.left_at is not None and "異動のため" in (gone.removal_reason or "")
    assert gone.removed_by_id == w.staff.user.id
    newcomer = w.other_researcher.user.id
    invited = db.scalar(select(Consent).where(Consent.council_id == council.id, Consent.user_id == newcomer))
    assert invited is not None and invited.decision == "pending" and invited.kind == "join"
    assert db.scalar(select(Membership).where(Membership.council_id == council.id,
                                              Membership.user_id == newcomer)) is None  # not without consent
    assert db.scalar(select(ExportClearance).where(ExportClearance.user_id == newcomer)) is None
    councils.consent(db, council_id=council.id, actor=w.other_researcher.principal(), now=clock.now(),
                     decision="consent")
    db.commit()
    check = db.scalar(select(ExportClearance).where(ExportClearance.council_id == council.id,
                                                    ExportClearance.user_id == newcomer))
    assert check is not None and check.state == "pending" and check.trigger == "join"


def test_an_approved_schedule_change_moves_the_milestone(client: TestClient, db: Session, w: World, clock: FakeClock,
                                                         project: Project) -> None:
    """実施日程の変更: the milestone's due date moves when approved, the old date is kept in the record."""
    ms = service.add_milestone(db, project_id=project.id, title="試作機完成", due_on=date(2026, 12, 1),
                               now=clock.now(), actor=w.staff.principal())
    db.commit()
    code, body = _request(client, db, w, clock, project, {"kind": "schedule", "reason": "部品の納期遅延",
                                                          "milestones": [{"id": ms.id, "due_on": "2027-02-01"}]})
    assert code == 201 and body["detail"]["milestones"][0]["was"] == "2026-12-01"
    client.post(f"{BASE}/projects/{project.id}/changes/{body['id']}/decision", json={"decision": "approve"},
                headers=bearer(db, w.staff, clock))
    db.expire_all()
    assert repo.milestones(db, project.id)[0].due_on == date(2027, 2, 1)


def test_the_pages_request_and_decide(client: TestClient, db: Session, w: World, ctx: AppContext, clock: FakeClock,
                                      project: Project) -> None:
    """Japanese first: the project links to its changes; the lead requests in 千円; the staff approve on the page."""
    token = sign_in(client, db, w.lead, ctx)
    assert f"/programme/projects/{project.id}/changes" in client.get(f"/programme/projects/{project.id}").text
    page = client.get(f"/programme/projects/{project.id}/changes")
    assert page.status_code == 200 and "計画変更" in page.text and "50" in page.text
    r = client.post(f"/programme/projects/{project.id}/changes", follow_redirects=False, data={
        "csrf_token": token, "kind": "budget", "reason": "装置の追加", "from_year": "2026", "from_category": "other",
        "to_year": "2026", "to_category": "equipment", "amount": "250,000"})
    assert r.status_code == 303, r.text
    bad = client.post(f"/programme/projects/{project.id}/changes", data={
        "csrf_token": token, "kind": "budget", "reason": "", "from_year": "2026", "from_category": "other",
        "to_year": "2026", "to_category": "equipment", "amount": "1"})
    assert bad.status_code in (409, 422) and "計画変更" in bad.text
    change = repo.plan_changes(db, project.id)[0]
    assert change.state == "requested"
    clock.advance(minutes=5)
    staff_token = sign_in(client, db, w.staff, ctx)
    page = client.get(f"/programme/projects/{project.id}/changes")
    assert "承認する" in page.text and f"/changes/{change.id}/decision" in page.text
    r = client.post(f"/programme/projects/{project.id}/changes/{change.id}/decision", follow_redirects=False,
                    data={"csrf_token": staff_token, "decision": "approve", "reason": ""})
    assert r.status_code == 303, r.text
    assert _cells(db, project)[(2026, "equipment")] == 250 * M


def test_money_paid_in_a_year_cannot_move_out_of_it(client: TestClient, db: Session, w: World, clock: FakeClock,
                                                    project: Project) -> None:
    """F3, per fiscal year: ¥200M of FY2026 is paid, so moving ¥150M of its ¥300M to FY2027 (leaving ¥150M) is
    refused with a 409 and a Japanese-first reason even though FY2027's unpaid commitment would cover the release;
    the plan, the commitments and the change stay as they were, and the ledger still reconciles."""
    _commit(db, w, clock, project, {2026: 300 * M, 2027: 400 * M})
    establish_council(db, w, clock, project)
    service.disburse(db, project_id=project.id, amount=200 * M, now=clock.now(), actor=w.staff.principal(),
                     councils=w.councils)
    db.commit()
    code, body, change_id = _approve_between_years(client, db, w, clock, project, 150 * M)
    assert code == 409
    text = str(body)
    assert text.index("支払済み") < text.index("money already paid") and "2026年度" in text
    db.expire_all()
    assert _totals(db, project) == {2026: 300 * M, 2027: 400 * M}
    assert repo.committed_by_year(db, project.id) == {2026: 300 * M, 2027: 400 * M}
    assert [c.state for c in repo.plan_changes(db, project.id) if c.id == change_id] == ["requested"]
    assert service.reconcile(db, actor=None).ok
    r = client.post(f"{BASE}/projects/{project.id}/changes/{change_id}/decision",
                    json={"decision": "return", "reason": "支払済み"}, headers=bearer(db, w.staff, clock))
    assert r.status_code == 200
    ok_code, _, _ = _approve_between_years(client, db, w, clock, project, 100 * M)  # leaves ¥200M = what was paid
    assert ok_code == 200


def test_splitting_a_large_move_into_notices_still_needs_approval(client: TestClient, db: Session, w: World,
                                                                  clock: FakeClock, project: Project) -> None:
    """The 50 % line counts the year: ¥120M (40 %) is applied on notice; a second ¥45M (15 %, under the line on
    its own) would bring FY2026 to 55 % moved on notice, so it waits for the agency and nothing moves."""
    first = {"kind": "budget", "reason": "装置の前倒し", "moves": [_move(120 * M)]}
    code, body = _request(client, db, w, clock, project, first)
    assert code == 201 and body["state"] == "notified"
    second = {"kind": "budget", "reason": "旅費へ", "moves": [_move(45 * M, to="travel")]}
    code, body = _request(client, db, w, clock, project, second)
    assert code == 201 and body["state"] == "requested"
    assert (2026, "travel") not in _cells(db, project) or _cells(db, project)[(2026, "travel")] == 0
    assert _tags(db) == ["programme:plan_change:notify", "programme:plan_change:request"]


def test_a_team_change_cannot_take_the_research_representative_off(client: TestClient, db: Session, w: World,
                                                                   clock: FakeClock, project: Project) -> None:
    """The lead is the project's 研究代表者: a team change removing them is 422 with a Japanese-first reason,
    nothing is recorded, and the lead stays on the team."""
    code, body = _request(client, db, w, clock, project, {"kind": "team", "reason": "交代",
                                                          "remove": [w.lead.user.id]})
    assert code == 422
    text = str(body)
    assert text.index("研究代表者は") < text.index("research representative cannot")
    assert _tags(db) == [] and repo.plan_changes(db, project.id) == []
    assert w.lead.user.id in {m.user_id for m in repo.members(db, project.proposal_id)}
