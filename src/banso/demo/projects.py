"""Seed the demo's adopted project: a call of the previous fiscal year, walked through to adoption a year ago,
whose council is established and whose first annual results report is overdue (F6; idempotent).

Run after ``banso.demo.programme.seed_programme`` (agencies, ledgers, the reviewer on the panel). The steps
are the services' own, each at the moment it happened (a year ago), so the audit log tells the story in
order: call published → proposal submitted → conflict declared and scored after the close → adopted →
council opened and consented → the results reports scheduled. Nothing is submitted: the FY report for
the year of adoption was due on 31 May and is overdue today, as the issue's demo asks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from banso.councils import service as councils
from banso.demo.programme import REVIEWER_EMAIL, _principal, _user
from banso.programme import repository as repo
from banso.programme import rules, service
from banso.programme.council_link import CouncilsServiceGateway

CALL_CODE = "DEMO-JST-OC-01"
PROJECT_TITLE = "自律型無人潜水機の長期海中運用技術"


def seed_adopted_project(session: Session, *, now: datetime) -> bool:
    """Create the adopted demo project if missing; return True when created (never commits)."""
    if repo.call_by_code(session, CALL_CODE) is not None or repo.agency_by_code(session, "JST") is None:
        return False
    staff = _principal(_user(session, "tanaka.yuki@jst.example.jp"))
    officer = _user(session, "sato.kenichi@cao.example.jp")
    reviewer = _principal(_user(session, REVIEWER_EMAIL))
    lead = _user(session, "yamamoto.aya@tohoku.example.jp")
    partner = _user(session, "yoshida.emi@kaiyo-robotics.example.co.jp")
    opened = now - timedelta(days=420)
    fy = rules.fiscal_year_at(opened)
    call = service.create_call(
        session, agency_code="JST", code=CALL_CODE, title_ja="無人潜水機の長期運用技術（前年度公募・デモ）",
        title_en="Long-duration operation of unmanned underwater vehicles (last year's call, demo)",
        project_type="project", technology_codes=["V1-OC-01"], cap_yen=3_000_000_000, first_fiscal_year=fy,
        period_years=3, opens_at=opened, closes_at=opened + timedelta(days=30), officer_id=officer.id,
        now=opened, actor=staff, description="経済安全保障重要技術育成プログラム（デモ・採択済み）")
    service.publish_call(session, call_id=call.id, now=opened, actor=staff)
    service.add_panel_member(session, call_id=call.id, user_id=reviewer.user_id, now=opened, actor=staff)
    submitted = opened + timedelta(days=20)
    proposal = service.submit_proposal(
        session, call_id=call.id, title=PROJECT_TITLE, summary="電池・通信・自己診断を統合し、無人潜水機の半年連続運用を実証する。",
        budget={fy: 200_000_000, fy + 1: 250_000_000, fy + 2: 200_000_000},
        team=[service.TeamMemberInput(user_id=partner.id, role="collaborator")], now=submitted,
        actor=_principal(lead))
    reviewed = opened + timedelta(days=40)  # after the close: review starts (F6)
    service.declare_conflict(session, proposal_id=proposal.id, has_conflict=False, now=reviewed, actor=reviewer)
    service.score_proposal(session, proposal_id=proposal.id, scores={"significance": 5, "innovation": 4,
                                                                     "feasibility": 4, "implementation": 4},
                           now=reviewed, actor=reviewer, comment="長期運用の実証計画が具体的")
    adopted = opened + timedelta(days=50)
    service.decide(session, proposal_id=proposal.id, outcome="adopt", reason="実証計画が具体的で実現性が高い",
                   now=adopted, actor=staff, councils=CouncilsServiceGateway())
    project = repo.project_of_proposal(session, proposal.id)
    assert project is not None and project.council_id is not None
    # C1: the founding researchers consent, so the project's council is established and funds may flow.
    for person in (lead, partner):
        councils.consent(session, council_id=project.council_id, actor=_principal(person),
                         now=adopted + timedelta(days=3), decision="consent")
    return True
