"""Seed what follows the demo's adoption (issue 15): a research-plan document on an open-call proposal, the adopted
project's plan changes (one approved team change, one budget move between years awaiting the agency), a technology
item in the project council classified 該当 (F7), and the deemed-export check (みなし輸出) pending for the
foreign-affiliated researcher the approved team change brought in, who joined by her own consent.

Run after ``seed_adopted_project``. Built through the services, at past times, so the audit log tells the story in
order. Idempotent (nothing when the project already has a plan change, or the cast predates these personas);
never commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts.models import User
from banso.authz.principal import Principal
from banso.councils import service as councils
from banso.demo.projects import PROJECT_TITLE
from banso.information import export_control
from banso.information import service as information
from banso.information.deps import InformationDeps
from banso.leak.pdf import make_sample_pdf
from banso.programme import plan_changes, plan_documents
from banso.programme import repository as repo
from banso.programme.council_link import CouncilsServiceGateway
from banso.programme.models import Project, Proposal
from banso.sealed.store import SealedDeps

EXPORT_OFFICER_EMAIL = "hayashi.makoto@tohoku.example.jp"
FOREIGN_EMAIL = "becker.lena@tohoku.example.jp"
PLAN_PROPOSAL_TITLE = "光格子時計と量子慣性センサによる海中測位"
CLASSIFIED_TITLE = "長期運用向け水中音響通信モジュールの詳細設計"
LISTED = "輸出貿易管理令別表第1 11項（潜水艇）"


def _person(session: Session, email: str) -> User | None:
    return accounts_repo.user_by_email(session, email)


def _project(session: Session) -> Project | None:
    proposal = session.scalar(select(Proposal).where(Proposal.title == PROJECT_TITLE))
    return None if proposal is None else repo.project_of_proposal(session, proposal.id)


def seed_followups(session: Session, *, now: datetime, store: SealedDeps, deps: InformationDeps) -> bool:
    """Create the issue-15 follow-ups if missing; return True when created (never commits)."""
    from banso.demo.programme import _principal, _user

    project = _project(session)
    officer, foreign = _person(session, EXPORT_OFFICER_EMAIL), _person(session, FOREIGN_EMAIL)
    if project is None or project.council_id is None or officer is None or foreign is None:
        return False
    if repo.plan_changes(session, project.id):
        return False
    _plan_document(session, now=now, store=store)
    cid = project.council_id
    lead_user = session.get(User, project.lead_id)
    assert lead_user is not None
    sato, lead = _principal(_user(session, "sato.kenichi@cao.example.jp")), _principal(lead_user)
    staff, hayashi = _principal(_user(session, "tanaka.yuki@jst.example.jp")), _principal(officer)
    t0 = now - timedelta(days=60)
    # The council starts work: pledges, activation, and the institution's export-control officer joins.
    for who in (sato, lead):
        councils.sign_pledge(session, council_id=cid, actor=who, now=t0, bylaws_version=1)
    councils.activate(session, council_id=cid, actor=sato, now=t0 + timedelta(hours=1))
    councils.invite(session, council_id=cid, actor=sato, now=t0 + timedelta(hours=2), user_id=officer.id,
                    role="member", deadline=t0 + timedelta(days=14))
    councils.consent(session, council_id=cid, actor=hayashi, now=t0 + timedelta(days=1), decision="consent")
    councils.sign_pledge(session, council_id=cid, actor=hayashi, now=t0 + timedelta(days=1), bylaws_version=1)
    # F7: the lead shares a design the officer classifies 該当 (listed technology).
    item = information.create_item(
        session, deps, council_id=cid, actor=lead, now=t0 + timedelta(days=2), title=CLASSIFIED_TITLE,
        summary="半年連続運用に向けた水中音響通信モジュールの詳細設計（変調方式・送受波器の仕様）。",
        body="通信距離 10 km、伝送速度 9.6 kbps を目標とする変調方式と送受波器の設計値。",
        matter="rd_content_and_results", category="research_result", provenance="participant")
    export_control.classify(session, item_id=item.id, actor=hayashi, now=t0 + timedelta(days=3),
                            verdict="applicable", list_item=LISTED,
                            reason="送受波器の仕様を別表第1 11項の該当基準と照合した。")
    _plan_changes(session, project, foreign, lead=lead, staff=staff, t0=t0 + timedelta(days=10))
    # The newcomer joins by her own consent; being foreign-affiliated, she waits for the officer's clearance.
    councils.consent(session, council_id=cid, actor=_principal(foreign), now=t0 + timedelta(days=20),
                     decision="consent")
    session.flush()
    return True


def _plan_changes(session: Session, project: Project, foreign: User, *, lead: Principal, staff: Principal,
                  t0: datetime) -> None:
    foreign.nationality, foreign.foreign_affiliation = "DE", "ミュンヘン工科大学（客員研究員を兼務）"
    team = plan_changes.request_change(
        session, project_id=project.id, now=t0, actor=lead, change=plan_changes.ChangeInput(
            kind="team", reason="音響通信の専門家を研究体制に加える。",
            add=[{"user_id": foreign.id, "role": "member", "effort_percent": 30}]))
    plan_changes.decide_change(session, project_id=project.id, change_id=team.id, decision="approve", reason=None,
                               now=t0 + timedelta(days=5), actor=staff, councils=CouncilsServiceGateway())
    years = sorted(b.fiscal_year for b in repo.budget(session, project.proposal_id))
    plan_changes.request_change(
        session, project_id=project.id, now=t0 + timedelta(days=20), actor=lead, change=plan_changes.ChangeInput(
            kind="budget", reason="海域実証を翌年度に延期するため、装置費の一部を翌年度へ移す。",
            moves=[{"from_year": years[1], "from_category": "other", "to_year": years[2],
                    "to_category": "other", "yen": 20_000_000}]))


def _plan_document(session: Session, *, now: datetime, store: SealedDeps) -> None:
    from banso.demo.programme import _principal

    proposal = session.scalar(select(Proposal).where(Proposal.title == PLAN_PROPOSAL_TITLE))
    if proposal is None:
        return
    author = session.get(User, proposal.proposer_id)
    assert author is not None
    pdf = make_sample_pdf("研究提案書：光格子時計と量子慣性センサによる海中測位", [
        "本提案は、光格子時計と量子慣性センサを組み合わせ、GNSS の届かない海中で長時間の高精度測位を実現する。",
        "第1年度に小型化した光格子時計を試作し、第2年度に慣性センサとの統合、第3年度に海域実証を行う。",
    ])
    plan_documents.upload(session, proposal_id=proposal.id, kind="research_plan", title="研究提案書",
                          filename="研究提案書.pdf", content=pdf, content_type="application/pdf", now=now,
                          actor=_principal(author), store=store)
