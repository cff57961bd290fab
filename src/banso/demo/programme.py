"""Seed the demo's K Program: registry, JST/NEDO ledgers, two open calls and two proposals (idempotent).

Uses the personas of ``banso.demo.seed`` (run that first). The reviewer 木村 遥 (京都大学, a university
that submits no proposal here) sits on both panels, so review (conflict declaration, scores) and, after
a call closes, adoption can be walked through in the demo. The basic guideline (F2) and one
think-tank commission to ESTT (F5; 佐藤 commissions and names 小林 ESTT's contact on the Art. 64 roster; she
acknowledges, names colleagues and delivers) are seeded too.

A third, closed JST call walks a full review cycle (F6): two proposals with integrity disclosures, 木村
assigned to both and declaring no conflict with grounds, scores and comments, one adoption and one rejection
with their notices — and one duplication flag: 渡辺 (e-Rad 10234567) commits 40 % to his open JST proposal
and 70 % to the adopted one, 110 % in all (過度の集中).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts import service as accounts
from banso.accounts.models import User
from banso.authz.principal import AuthMethod, Principal
from banso.demo.seed import ORGS
from banso.kit.clock import to_jst
from banso.programme import commissions, guideline, integrity, registry_io, review, roster, rules, service
from banso.programme import repository as repo
from banso.programme.council_link import CouncilsServiceGateway
from banso.programme.models import Commission

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


# ---------------------------------------------------------------------------------------------
# The basic guideline (F2), summarised from public knowledge — NOT the official text.
#
# Source: 「特定重要技術の研究開発の促進及びその成果の適切な活用に関する基本指針」閣議決定 2022-09-30
# (経済安全保障推進法 第60条), 内閣府. What is certain: the title, the date, that it rests on Part 4 of
# the Act (特定重要技術の開発支援) — information for researchers and the councils (Art. 61–62), the
# designated fund (Art. 63) and commissioned research (the think tank, Art. 64) — and that its annex
# lists 20 technology areas. What is NOT certain (``certainty: unsure``): the wording of each measure,
# how the guideline itself words talent (人材) measures, and the fund amounts quoted in the body.
# Technology links are banso's editorial mapping: the guideline names areas, the K Program visions
# name the technologies that carry each measure.

GUIDELINE_CODE = "KIHON-SHISHIN"
GUIDELINE_SOURCE = ("「特定重要技術の研究開発の促進及びその成果の適切な活用に関する基本指針」閣議決定 2022-09-30, "
                    "内閣府（経済安全保障推進法 第60条）")
GUIDELINE_BODY = (
    "経済安全保障推進法第4章（特定重要技術の開発支援）に基づき、特定重要技術の研究開発の促進とその成果の適切な"
    "活用に関する基本的な方向を定める。国は、先端的な重要技術について、研究者への情報提供、官民の協議会による"
    "伴走支援、指定基金による資金支援、調査研究の委託（シンクタンク機能）を一体的に進め、研究成果の適切な活用と"
    "技術流出の防止を図る。別紙に20の技術領域を掲げる。\n"
    "（banso デモ用の要約。原文ではありません。金額・文言は原典で確認してください。）"
)
_V1_CONFIRMED = ["V1-OC-02", "V1-OC-03", "V1-SA-01", "V1-SA-02", "V1-SA-07", "V1-SA-08", "V1-CY-01", "V1-CY-02",
                 "V1-CY-03", "V1-CY-04", "V1-CY-05", "V1-BI-01", "V1-BI-02", "V1-BI-03"]
GUIDELINE_MEASURES: tuple[guideline.MeasureInput, ...] = (
    guideline.MeasureInput(
        kind="information", title_ja="研究者への必要な情報の提供（法第61条）",
        title_en="Providing researchers with the information they need (Art. 61)",
        body="国が保有する国内外の技術動向・懸念情報等を、特定重要技術の研究開発を行う者に提供する。",
        area_codes=["G03", "G09", "G14", "G15", "G16"], certainty="unsure",
        note="wording summarised; area links are banso's mapping"),
    guideline.MeasureInput(
        kind="information", title_ja="官民パートナーシップ（協議会）による伴走支援と情報共有（法第62条）",
        title_en="Public-private councils for hands-on support and information sharing (Art. 62)",
        body="研究代表者の同意を得て協議会を組織し、守秘義務の下で有用な情報の共有、研究開発の方向性の議論、"
             "成果の活用に向けた調整を行う。指定基金の採択課題には協議会を設置する。",
        technology_codes=_V1_CONFIRMED, certainty="confirmed"),
    guideline.MeasureInput(
        kind="information", title_ja="調査研究の委託（シンクタンク機能, 法第64条）",
        title_en="Commissioned research: the think-tank function (Art. 64)",
        body="特定重要技術の調査研究を、必要な能力を有する機関に委託する。受託者は守秘義務を負う。",
        area_codes=[f"G{i:02d}" for i in range(1, 21)], certainty="confirmed"),
    guideline.MeasureInput(
        kind="funding", title_ja="指定基金による研究開発の支援（経済安全保障重要技術育成プログラム, 法第63条）",
        title_en="Funding through the designated fund: the K Program (Art. 63)",
        body="指定基金（JST・NEDO）により、研究開発ビジョンに掲げる重要技術の研究開発を支援する。"
             "基金規模は当初約2,500億円、その後の補正予算を合わせて約5,000億円とされる（要確認）。",
        technology_codes=_V1_CONFIRMED, certainty="unsure", note="fund amounts from memory: verify"),
    guideline.MeasureInput(
        kind="funding", title_ja="成果の適切な活用と技術流出防止",
        title_en="Appropriate use of results and prevention of technology leakage",
        body="重要な技術の特定と流出防止措置を研究開発計画に位置付け、定期的に確認する。",
        technology_codes=["V1-OC-02", "V1-SA-01", "V1-CY-03"], certainty="unsure",
        note="banso's reading; technology links are examples"),
    guideline.MeasureInput(
        kind="talent", title_ja="研究開発を担う人材の育成・確保",
        title_en="Developing and securing the researchers who carry the work",
        body="特定重要技術の研究開発を担う研究者・技術者の育成と確保、処遇と研究環境の整備に努める。",
        area_codes=["G03", "G05", "G09", "G14"], certainty="unsure",
        note="how the guideline words talent measures is not certain: verify"),
)


def seed_guideline(session: Session, *, now: datetime) -> bool:
    """Record the 2022-09-30 basic guideline once (needs the registry); return True when created."""
    if guideline.latest_version(session, GUIDELINE_CODE) is not None:
        return False
    guideline.adopt_guideline(
        session, code=GUIDELINE_CODE, title_ja="特定重要技術の研究開発の促進及びその成果の適切な活用に関する基本指針",
        title_en="Basic guideline on promoting R&D of specified critical technologies and the appropriate use of results",
        adopted_on=date(2022, 9, 30), body=GUIDELINE_BODY, source=GUIDELINE_SOURCE, certainty="unsure",
        measures=GUIDELINE_MEASURES, now=now, actor=None)
    return True


def seed_commission(session: Session, *, now: datetime) -> bool:
    """Assess the demo think tank (ESTT) and commission it once; return True when created."""
    if session.scalars(select(Commission).where(Commission.code == "DEMO-TT-2026-01")).first() is not None:
        return False
    names = {o.key: o.name_ja for o in ORGS}
    estt = accounts_repo.org_by_name(session, names["estt"])
    if estt is None:
        return False
    officer = _principal(_user(session, "sato.kenichi@cao.example.jp"))
    today = to_jst(now).date()
    commissions.assess_institution(
        session, organization_id=estt.id, assessed_on=today, analysis_score=4, hub_score=3, talent_score=4,
        analysis_note="論文・特許の計量分析の実績（デモ）", hub_note="国内外の研究機関との情報網を構築中（デモ）",
        talent_note="博士号取得の分析人材を継続採用（デモ）", now=now, actor=officer)
    commission = commissions.create_commission(
        session, code="DEMO-TT-2026-01", title="量子・宇宙分野の国際研究開発動向調査（デモ）",
        organization_id=estt.id, starts_on=today, due_on=today + timedelta(days=120),
        purpose="重要技術の研究開発ビジョン改定に向けた主要国の動向把握。",
        tasks=[commissions.TaskInput("主要国の研究開発動向の整理", today + timedelta(days=60)),
               commissions.TaskInput("最終報告書の提出", today + timedelta(days=120))],
        now=now, actor=officer)
    # Art. 64 roster (issue 13): 小林 is ESTT's contact and has acknowledged the duty herself (second factor);
    # in the demo she names her colleagues on the commission page, and each acknowledges in turn.
    kobayashi = _user(session, "kobayashi.mari@estt.example.or.jp")
    roster.name_contact(session, commission_id=commission.id, user_id=kobayashi.id, now=now, actor=officer)
    roster.acknowledge(session, commission_id=commission.id, now=now, actor=_principal(kobayashi))
    return True


def seed_programme(session: Session, *, now: datetime) -> bool:
    """Create the demo programme if missing; return True when something was created (never commits)."""
    if not repo.technologies(session):
        service.import_registry(session, data=registry_io.parse(REGISTRY_FILE.read_text("utf-8"), fmt="yaml"),
                                now=now, actor=None)
    seed_guideline(session, now=now)
    seed_commission(session, now=now)
    if repo.call_by_code(session, "DEMO-JST-OC-02") is not None:
        return False
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
    # e-Rad researcher numbers (研究者番号, demo values): the duplication check joins on them (F6).
    watanabe.researcher_number = watanabe.researcher_number or "10234567"
    yamamoto.researcher_number = yamamoto.researcher_number or "20123456"
    yoshida = _user(session, "yoshida.emi@kaiyo-robotics.example.co.jp")
    # F6: the full budget sheet in 千円 (direct costs by category; 間接経費 is the call's 30 %), team with effort.
    service.submit_proposal(
        session, call_id=created["DEMO-JST-OC-02"].id, title="光格子時計と量子慣性センサによる海中測位",
        summary="非GPS環境での長時間高精度航法を実現する。",
        budget_sheet={fy: {"equipment": 400_000, "travel": 10_000, "personnel": 150_000, "other": 55_000},
                      fy + 1: {"equipment": 600_000, "travel": 15_000, "personnel": 250_000, "other": 58_000},
                      fy + 2: {"equipment": 500_000, "travel": 12_000, "personnel": 200_000, "other": 50_000}},
        team=[service.TeamMemberInput(user_id=yamamoto.id, role="co_lead", researcher_number="20123456",
                                      effort_percent=20),
              service.TeamMemberInput(user_id=yoshida.id, role="collaborator")],
        lead_effort=40,
        core_technologies="量子慣性センサの製造・校正技術", leak_prevention="区域管理、アクセス記録、輸出管理の事前確認",
        now=now, actor=_principal(watanabe))
    # A draft (一時保存): seen by its proposer alone until submitted.
    service.save_proposal(
        session, call_id=created["DEMO-NEDO-SA-01"].id, draft=True, now=now, actor=_principal(watanabe),
        entered=service.ProposalInput(title="量子鍵配送を用いた衛星光リンクの秘匿化（作成中）",
                                      budget_sheet={fy: {"equipment": 50_000, "personnel": 20_000}}, lead_effort=10))
    kato = _user(session, "kato.takeshi@mirai-space.example.co.jp")
    service.submit_proposal(
        session, call_id=created["DEMO-NEDO-SA-01"].id, title="小型衛星搭載光通信端末の高速化",
        summary="低軌道衛星間で10Gbps級の光リンクを実証する。", budget={fy: 500_000_000, fy + 1: 900_000_000},
        now=now, actor=_principal(kato))
    seed_review_cycle(session, now=now)
    return True


def seed_review_cycle(session: Session, *, now: datetime) -> None:
    """Walk one closed JST call through review (F6): assigned reviewer, grounds, scores, decisions, notices."""
    staff = _user(session, "tanaka.yuki@jst.example.jp")
    officer = _user(session, "sato.kenichi@cao.example.jp")
    reviewer = _user(session, REVIEWER_EMAIL)
    watanabe = _user(session, "watanabe.shota@utokyo.example.jp")
    yamamoto = _user(session, "yamamoto.aya@tohoku.example.jp")
    kato = _user(session, "kato.takeshi@mirai-space.example.co.jp")
    fy = rules.fiscal_year_at(now)
    opened, submitted = now - timedelta(days=120), now - timedelta(days=60)
    call = service.create_call(
        session, agency_code="JST", code="DEMO-JST-CY-01", title_ja="海中無人機の長時間自律航行技術（審査済みデモ公募）",
        title_en="Long-endurance autonomous underwater vehicles (reviewed demo call)", project_type="project",
        technology_codes=["V1-OC-02"], cap_yen=3 * BN, first_fiscal_year=fy, period_years=3, opens_at=opened,
        closes_at=now - timedelta(days=30), officer_id=officer.id, now=opened, actor=_principal(staff),
        description="審査の一巡（担当審査委員・利益相反申告・評点・採否通知）を示すデモ公募")
    service.publish_call(session, call_id=call.id, now=opened, actor=_principal(staff))
    service.add_panel_member(session, call_id=call.id, user_id=reviewer.id, now=opened, actor=_principal(staff))
    adopted = service.submit_proposal(
        session, call_id=call.id, title="量子慣性航法による海中無人機の長時間測位", lead_effort=50,
        budget_sheet={fy: {"equipment": 300_000, "personnel": 100_000}, fy + 1: {"equipment": 200_000}},
        team=[service.TeamMemberInput(user_id=watanabe.id, role="co_lead", researcher_number="10234567",
                                      effort_percent=70)],
        disclosures=[integrity.DisclosureLine(kind="funding_received", name="海中音響測位の基礎研究",
                                              agency="日本学術振興会", start_fiscal_year=fy - 1, end_fiscal_year=fy + 1,
                                              amount_yen=15_000_000, effort_percent=10),
                     integrity.DisclosureLine(kind="side_appointment", name="客員研究員",
                                              agency="海洋研究開発機構")],
        now=submitted, actor=_principal(yamamoto))
    rejected = service.submit_proposal(
        session, call_id=call.id, title="海中ドローン群の協調制御", budget={fy: 200_000_000, fy + 1: 200_000_000},
        disclosures=[integrity.DisclosureLine(kind="affiliation", name="未来宇宙株式会社")],
        now=submitted + timedelta(days=1), actor=_principal(kato))
    for proposal in (adopted, rejected):
        review.assign_reviewer(session, proposal_id=proposal.id, reviewer_id=reviewer.id,
                               now=submitted + timedelta(days=2), actor=_principal(staff))
        service.declare_conflict(session, proposal_id=proposal.id, has_conflict=None, grounds=[],
                                 now=submitted + timedelta(days=3), actor=_principal(reviewer))
    scored = now - timedelta(days=20)
    service.score_proposal(session, proposal_id=adopted.id, scores={"significance": 5, "innovation": 4,
                           "feasibility": 4, "implementation": 4}, comment="測位精度の目標が明確で実現性が高い。",
                           now=scored, actor=_principal(reviewer))
    service.score_proposal(session, proposal_id=rejected.id, scores={"significance": 3, "innovation": 3,
                           "feasibility": 2, "implementation": 2}, comment="群制御の通信前提が不明確。",
                           now=scored, actor=_principal(reviewer))
    decided = now - timedelta(days=10)
    service.decide(session, proposal_id=adopted.id, outcome="adopt", reason="評点上位・重複なし（エフォートは要確認）",
                   notice_reason="研究目標の明確さと実現可能性が高く評価されました。", now=decided,
                   actor=_principal(staff), councils=CouncilsServiceGateway())
    service.decide(session, proposal_id=rejected.id, outcome="reject", reason="評点が採択水準に達しない",
                   notice_reason="通信方式の実現性について具体的な計画が求められます。", now=decided,
                   actor=_principal(staff), councils=CouncilsServiceGateway())
