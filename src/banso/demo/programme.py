"""Seed the demo's K Program: registry, JST/NEDO ledgers, two open calls and two proposals (idempotent).

Uses the personas of ``banso.demo.seed`` (run that first). The reviewer 木村 遥 (京都大学, a university
that submits no proposal here) sits on both panels, so review (conflict declaration, scores) and, after
a call closes, adoption can be walked through in the demo. The basic guideline (F2) is seeded too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts import service as accounts
from banso.accounts.models import User
from banso.authz.principal import AuthMethod, Principal
from banso.demo.seed import ORGS
from banso.programme import registry_io, rules, service
from banso.programme import repository as repo

REGISTRY_FILE = Path(__file__).resolve().parent.parent / "programme" / "data" / "registry.yaml"
BN = 1_000_000_000
REVIEWER_EMAIL = "kimura.haruka@kyoto-u.example.jp"


def _principal(user: User) -> Principal:
    return accounts.principal_for(user, method=AuthMethod.SESSION, mfa=True)


def _user(session: Session, email: str) -> User:
    user = accounts_repo.user_by_email(session, email)
    if user is None:
        raise LookupError(f"demo persona {email} is missing: run banso.demo.seed.seed first")
    return user


def seed_programme(session: Session, *, now: datetime) -> bool:
    """Create the demo programme if missing; return True when something was created (never commits)."""
    if repo.call_by_code(session, "DEMO-JST-OC-02") is not None:
        return False
    if not repo.technologies(session):
        service.import_registry(session, data=registry_io.parse(REGISTRY_FILE.read_text("utf-8"), fmt="yaml"),
                                now=now, actor=None)
    names = {o.key: o.name_ja for o in ORGS}
    for code, key, name_en in (("JST", "jst", "Japan Science and Technology Agency"),
                               ("NEDO", "nedo", "New Energy and Industrial Technology Development Organization")):
        org = accounts_repo.org_by_name(session, names[key])
        service.create_agency(session, code=code, name_ja=names[key], name_en=name_en,
                              organization_id=org.id if org else None, now=now, actor=None)
    jst_staff = _user(session, "tanaka.yuki@jst.example.jp")
    nedo_staff = _user(session, "ito.daisuke@nedo.example.jp")
    officer = _user(session, "sato.kenichi@cao.example.jp")
    fy = rules.fiscal_year_at(now)
    # The designated fund: about ¥500bn across JST and NEDO (demo split; tranches by fiscal year).
    for agency, staff in (("JST", jst_staff), ("NEDO", nedo_staff)):
        service.add_tranche(session, agency_code=agency, fiscal_year=fy - 1, amount=125 * BN, now=now,
                            actor=_principal(staff), memo="令和3年度補正・令和4年度予算（デモ）")
        service.add_tranche(session, agency_code=agency, fiscal_year=fy, amount=125 * BN, now=now,
                            actor=_principal(staff), memo="追加措置（デモ）")
    calls = [
        ("DEMO-JST-OC-02", "JST", jst_staff, "量子技術等を用いた海中における革新的航法技術", "project", ["V1-OC-02"],
         6 * BN),
        ("DEMO-NEDO-SA-01", "NEDO", nedo_staff, "低軌道衛星間光通信技術の研究開発", "project", ["V1-SA-01"],
         9 * BN),
    ]
    created = {}
    for code, agency, staff, title, ptype, techs, cap in calls:
        call = service.create_call(
            session, agency_code=agency, code=code, title_ja=title, title_en=title, project_type=ptype,
            technology_codes=techs, cap_yen=cap, first_fiscal_year=fy, period_years=3,
            opens_at=now - timedelta(days=7), closes_at=now + timedelta(days=60), officer_id=officer.id, now=now,
            actor=_principal(staff), description="経済安全保障重要技術育成プログラム（デモ公募）",
            documents=[service.DocumentInput(title="公募要領（デモ）", filename=f"{code}-koubo.pdf")])
        service.publish_call(session, call_id=call.id, now=now, actor=_principal(staff))
        reviewer = accounts_repo.user_by_email(session, REVIEWER_EMAIL)
        if reviewer is not None:
            service.add_panel_member(session, call_id=call.id, user_id=reviewer.id, now=now,
                                     actor=_principal(staff))
        created[code] = call
    watanabe = _user(session, "watanabe.shota@utokyo.example.jp")
    yamamoto = _user(session, "yamamoto.aya@tohoku.example.jp")
    yoshida = _user(session, "yoshida.emi@kaiyo-robotics.example.co.jp")
    service.submit_proposal(
        session, call_id=created["DEMO-JST-OC-02"].id, title="光格子時計と量子慣性センサによる海中測位",
        summary="非GPS環境での長時間高精度航法を実現する。", budget={fy: 800_000_000, fy + 1: 1_200_000_000,
                                                              fy + 2: 1_000_000_000},
        team=[service.TeamMemberInput(user_id=yamamoto.id), service.TeamMemberInput(user_id=yoshida.id,
                                                                                     role="collaborator")],
        core_technologies="量子慣性センサの製造・校正技術", leak_prevention="区域管理、アクセス記録、輸出管理の事前確認",
        now=now, actor=_principal(watanabe))
    kato = _user(session, "kato.takeshi@mirai-space.example.co.jp")
    service.submit_proposal(
        session, call_id=created["DEMO-NEDO-SA-01"].id, title="小型衛星搭載光通信端末の高速化",
        summary="低軌道衛星間で10Gbps級の光リンクを実証する。", budget={fy: 500_000_000, fy + 1: 900_000_000},
        now=now, actor=_principal(kato))
    return True
