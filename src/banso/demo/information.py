"""Seed controlled information in the active demo council (issue 4): every state an item can be in.

Council-shared material with files, a designation in force (ending in 25 days, so the 30-day
reminder has gone out), a proposal still being voted on, a published research result on the
public portal, a result scheduled for publication, and an AMBER MISP event imported as a
designation proposal. Built through the real services at past times. Idempotent; never commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.councils import repository as council_repo
from banso.councils.models import OralStatement
from banso.councils.rules import sha256_text
from banso.demo.councils import DESIGNATED_STATEMENT, SPACE, _who
from banso.information import exclusions, interchange, service
from banso.information.deps import InformationDeps
from banso.information.models import Ballot, ExclusionClaim, Item
from banso.leak.pdf import make_sample_pdf
from banso.sealed.store import SealedDeps

SCENARIO = "衛星データの防災分野における社会実装シナリオ"


def _csv(rows: int) -> bytes:
    lines = ["試験番号,燃焼時間_s,燃焼室圧力_MPa,推力_kN,混合比"]
    for i in range(1, rows + 1):
        lines.append(f"T-{i:03d},{20 + i % 7 * 5},{6.5 + (i % 5) * 0.1:.1f},{98 + i % 11},{3.4 + (i % 3) * 0.05:.2f}")
    return ("\n".join(lines) + "\n").encode()


def seed_information(session: Session, deps: InformationDeps, *, now: datetime) -> int:
    """Create the demo items if missing; return how many were created (never commits)."""
    council = council_repo.council_by_title(session, SPACE)
    if council is None or session.scalar(select(Item.id).where(Item.title == SCENARIO)) is not None:
        return 0
    cid = council.id
    takahashi = _who(session, "takahashi.naoki@mext.example.jp")
    watanabe = _who(session, "watanabe.shota@utokyo.example.jp")
    kato = _who(session, "kato.takeshi@mirai-space.example.co.jp")
    tanaka = _who(session, "tanaka.yuki@jst.example.jp")
    t0 = now - timedelta(days=40)

    scenario_pdf = make_sample_pdf(SCENARIO, [
        ("本資料は、小型SAR衛星コンステレーションによる高頻度観測データを、洪水・土砂災害の初動対応に"
         "活用するための社会実装シナリオを整理したものである。"),
        "想定ユーザーは国・自治体の災害対策本部であり、発災後3時間以内に浸水域の推定図を提供することを目標とする。",
        "課題は、夜間・悪天候時の観測機会の確保、地上局の冗長化、及び解析結果の品質保証である。",
    ])
    service.create_item(
        session, deps, council_id=cid, actor=takahashi, now=t0, title=SCENARIO,
        summary="防災分野での衛星データ活用の社会実装イメージ（ニーズ省庁ヒアリング結果を含む）。",
        body="発災後3時間以内に浸水域推定図を提供するための観測計画・データ配信・解析体制を整理した。",
        matter="useful_information", category="implementation_scenario", provenance="government",
        files=[service.Upload("社会実装シナリオ.pdf", "application/pdf", scenario_pdf)])

    designated = service.create_item(
        session, deps, council_id=cid, actor=kato, now=t0 + timedelta(days=1),
        title="再使用型ロケットエンジン燃焼試験データ（第3期）",
        summary="燃焼試験30回分の計測データ。輸出管理上の該非判定が未了のため、範囲を限定して共有する。",
        body="燃焼室圧力・推力・混合比の計測値。再着火試験の条件設定に用いる。",
        matter="rd_content_and_results", category="sampling_data", provenance="participant",
        files=[service.Upload("燃焼試験データ.csv", "text/csv", _csv(30))],
        designation=service.DesignationInput(
            reason="外為法上の該非判定が未了であり、判定までの間、共同研究者に限定する必要がある。",
            scope_kind="named", user_ids=[watanabe.user_id, kato.user_id], ends_at=now + timedelta(days=25),
            deadline=t0 + timedelta(days=8), handling=["watermark"],
            range_note="添付CSVの全体"))
    ballot = session.scalar(select(Ballot).where(Ballot.item_id == designated.id))
    assert ballot is not None
    for who in (watanabe, takahashi, tanaka):
        service.vote(session, ballot_id=ballot.id, actor=who, now=t0 + timedelta(days=2), decision="accept",
                     deps=deps)
    service.run_due_information(session, now=now - timedelta(days=1), deps=deps)  # the 30-day reminder has gone out

    service.create_item(
        session, deps, council_id=cid, actor=kato, now=now - timedelta(days=2),
        title="SAR衛星の軌道制御アルゴリズム（詳細設計）",
        summary="編隊飛行時の相対軌道制御の詳細設計。指定を提案中（投票受付中）。",
        body="相対位置誤差 10 m 以下を維持する制御則の設計パラメータ。",
        matter="rd_content_and_results", category="research_result", provenance="participant",
        designation=service.DesignationInput(
            reason="特許出願前であり、出願までの間、参加企業と大学に限定したい。", scope_kind="organisations",
            organization_ids=[kato.organization_id, watanabe.organization_id], ends_at=now + timedelta(days=365),
            deadline=now + timedelta(days=12), handling=["watermark", "no_download"]))

    paper = make_sample_pdf("高頻度SAR観測による洪水域推定手法", [
        "本研究では、小型SAR衛星の高頻度観測データから洪水域を推定する手法を提案する。",
        "2019年台風第19号の事例で検証し、既存手法に比べて推定精度（F値）が0.08向上した。",
    ])
    service.create_item(
        session, deps, council_id=cid, actor=watanabe, now=t0,  # I13: published after 30 days' prior notice
        title="高頻度SAR観測による洪水域推定手法（論文）",
        summary="研究者自らが生み出した成果。公開を基本とし、協議会での共有を経て公開した。",
        body="査読付き論文として投稿済み。データ及びコードは論文の公開と同時に公開する。",
        matter="rd_content_and_results", category="research_result", provenance="researcher_generated",
        files=[service.Upload("洪水域推定手法.pdf", "application/pdf", paper)])

    service.create_item(
        session, deps, council_id=cid, actor=watanabe, now=now - timedelta(days=19),  # notice ends in 11 days
        title="衛星間光通信の捕捉追尾試験結果（速報）", summary="公開予定の研究成果（2週間後に公開）。",
        body="捕捉時間 2.1 秒、追尾誤差 3 μrad。", matter="rd_content_and_results", category="research_result",
        provenance="researcher_generated", publish_at=now + timedelta(days=11))

    event = resources.files("banso.demo").joinpath("data/misp_event_amber.json").read_bytes()
    interchange.import_interchange(session, deps, council_id=cid, actor=takahashi, now=now - timedelta(days=1),
                                   data=event, filename="misp_event_amber.json")
    service.run_due_information(session, now=now, deps=deps)  # the paper's notice has ended: it is public
    session.flush()
    return 6


def seed_exclusions(session: Session, *, now: datetime, store: SealedDeps) -> int:
    """Create the demo exclusion claims if missing (issue 13); return how many were created (never commits).

    One accepted: 加藤 showed that the disaster-use scenario was already public (公知), decided by the secretariat
    (高橋) and confirmed by the chair (渡辺) — it frees only him. One pending: 田中 (JST) claims she knew the
    designated oral statement's figures before (既知), waiting for the secretariat.
    """
    council = council_repo.council_by_title(session, SPACE)
    scenario = session.scalar(select(Item).where(Item.title == SCENARIO))
    if council is None or scenario is None or session.scalar(
            select(ExclusionClaim.id).where(ExclusionClaim.council_id == council.id)) is not None:
        return 0
    takahashi = _who(session, "takahashi.naoki@mext.example.jp")
    watanabe = _who(session, "watanabe.shota@utokyo.example.jp")
    kato = _who(session, "kato.takeshi@mirai-space.example.co.jp")
    tanaka = _who(session, "tanaka.yuki@jst.example.jp")
    accepted = exclusions.file_claim(
        session, actor=kato, now=now - timedelta(days=12), ground="public", store=store, item_id=scenario.id,
        evidence="同じ社会実装シナリオは2025年の防災学会の公開シンポジウム資料（予稿集 p.41–44）に掲載済み。")
    exclusions.decide_claim(session, claim_id=accepted.claim.id, actor=takahashi, now=now - timedelta(days=10),
                            store=store, decision="accept", reason="予稿集の該当頁で公知であることを確認した。")
    exclusions.confirm_claim(session, claim_id=accepted.claim.id, actor=watanabe, now=now - timedelta(days=9),
                             store=store, confirm=True)
    created = 1
    said = session.scalar(select(OralStatement).where(OralStatement.council_id == council.id,
                                                      OralStatement.summary_sha256 == sha256_text(
                                                          DESIGNATED_STATEMENT)))
    if said is not None:
        exclusions.file_claim(
            session, actor=tanaka, now=now - timedelta(days=1), ground="prior", store=store, council_id=council.id,
            statement_id=said.id, evidence="JSTの事前評価資料（2025年7月受領）に同じ推力目標値が記載されていた。")
        created += 1
    session.flush()
    return created
