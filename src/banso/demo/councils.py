"""Seed the demo councils in Japanese (issue 3): consent pending, active with meetings, dissolved, and a project
council that lapsed and was proposed again (issue 13). Founders carry their party types under the Act: one
council with the think tank and the funding agency, one with a needs ministry (ニーズ省庁), one lapsed and
re-proposed that an observer (オブザーバー) joined by invitation; the council opened at adoption (organising ministry,
funding agency, think tank, research representative, participants) is seeded by ``demo.programme``. The active
council also holds oral statements (one designated in writing, one outside the duty after its period).

Built through the real services at past times, so every step is in the audit log as it would be
in real use. Idempotent: a council whose title already exists is left alone. Never commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts import service as accounts
from banso.authz.principal import AuthMethod, Principal
from banso.councils import articles, bylaws, meetings, service, statements
from banso.councils import repository as repo
from banso.councils.service import AgendaInput, FounderSpec
from banso.kit.crypto import SecretBox
from banso.leak.pdf import make_sample_pdf
from banso.sealed.store import SealedDeps

OCEAN = "海洋無人機技術 協議会"
SPACE = "次世代宇宙輸送・衛星コンステレーション技術 協議会"
QUANTUM = "量子暗号通信 協議会"
NAVIGATION = "光格子時計による海中測位 協議会"  # lapsed: the research representative declined
NAVIGATION_AGAIN = "光格子時計による海中測位 協議会（再提案）"  # proposed again for the same project; established
NAVIGATION_PROJECT = "JPMJKP-2312"
# Oral statements (issue 13): one designated in writing in time, one whose period ended without a designation
DESIGNATED_STATEMENT = "加藤: 第2段エンジンの推力目標は 120kN、燃焼時間は 300 秒を想定している（未公表）。"
LAPSED_STATEMENT = "加藤: 地上局は北海道大樹町の候補地で年内に用地交渉を始める予定である。"


def _who(session: Session, email: str) -> Principal:
    user = accounts_repo.user_by_email(session, email)
    if user is None:
        raise LookupError(f"demo persona {email} is missing; seed the people first")
    return accounts.principal_for(user, method=AuthMethod.SESSION, mfa=True)


def seed_councils(session: Session, *, now: datetime, store: SealedDeps, box: SecretBox | None = None) -> int:
    """Create the demo councils if missing, minutes and decisions sealed in ``store``; never commits."""
    del box  # demo personas already carry their second factor; kept for a uniform seeding signature
    created = 0
    for title, build in ((OCEAN, _ocean), (SPACE, _space), (QUANTUM, _quantum), (NAVIGATION, _navigation)):
        if repo.council_by_title(session, title) is None:
            build(session, now, store)
            created += 1
    session.flush()
    return created


def _ocean(session: Session, now: datetime, store: SealedDeps) -> None:
    """Consent pending: two of four founders have answered."""
    sato = _who(session, "sato.kenichi@cao.example.jp")
    yoshida = _who(session, "yoshida.emi@kaiyo-robotics.example.co.jp")
    yamamoto = _who(session, "yamamoto.aya@tohoku.example.jp")
    kobayashi = _who(session, "kobayashi.mari@estt.example.or.jp")
    start = now - timedelta(days=5)
    council = service.propose(
        session, actor=sato, now=start, title_ja=OCEAN, title_en="Council on Unmanned Maritime Vehicle Technology",
        purpose=("自律型無人探査機（AUV）の長距離航行・海中通信・省電力化に関する研究開発について、"
                 "社会実装の担い手となる関係省庁・企業が伴走し、海洋状況把握（MDA）への活用を見据えた"
                 "情報共有と研究成果の取扱いを協議する。"),
        technology="自律型無人探査機（AUV）の無人化・省人化技術（K Program 第1次ビジョン 海洋領域）",
        project_ref="JPMJKP-2301", consent_deadline=now + timedelta(days=9), proposer_party="organising_ministry",
        founders=[FounderSpec(yamamoto.user_id, "chair", "research_representative"),
                  FounderSpec(yoshida.user_id, "member", "participant"),
                  FounderSpec(kobayashi.user_id, "observer", "think_tank")],
        required_person_ids=[yamamoto.user_id],
    )
    service.consent(session, council_id=council.id, actor=yoshida, now=start + timedelta(days=2), decision="consent")


def _space(session: Session, now: datetime, store: SealedDeps) -> None:
    """Established and active: pledges, two meetings, decisions and action items (one overdue)."""
    takahashi = _who(session, "takahashi.naoki@mext.example.jp")
    watanabe = _who(session, "watanabe.shota@utokyo.example.jp")
    kato = _who(session, "kato.takeshi@mirai-space.example.co.jp")
    tanaka = _who(session, "tanaka.yuki@jst.example.jp")
    kobayashi = _who(session, "kobayashi.mari@estt.example.or.jp")
    t0 = now - timedelta(days=90)
    council = service.propose(
        session, actor=takahashi, now=t0, title_ja=SPACE,
        title_en="Council on Next-Generation Space Transportation and Satellite Constellation Technology",
        purpose=("小型衛星コンステレーションによる高頻度観測と、再使用型宇宙輸送システムの研究開発について、"
                 "研究者・企業・関係省庁が社会実装のイメージと研究開発の進め方を共有し、"
                 "何が機微でありオープン・クローズをどうするかを参加者が納得して決める。"),
        technology="衛星コンステレーションによる高分解能・高頻度な光学／SAR衛星観測技術",
        project_ref="JPMJKP-2205", consent_deadline=t0 + timedelta(days=14), proposer_party="organising_ministry",
        founders=[FounderSpec(watanabe.user_id, "chair", "research_representative"),
                  FounderSpec(kato.user_id, "member", "participant"),
                  FounderSpec(tanaka.user_id, "member", "funding_agency"),
                  FounderSpec(kobayashi.user_id, "observer", "think_tank")],
        required_person_ids=[watanabe.user_id],
    )
    cid = council.id
    for i, who in enumerate((watanabe, kato, tanaka, kobayashi)):
        service.consent(session, council_id=cid, actor=who, now=t0 + timedelta(days=1 + i), decision="consent")
    t1 = t0 + timedelta(days=6)
    for who in (takahashi, watanabe, kato, tanaka, kobayashi):
        service.sign_pledge(session, council_id=cid, actor=who, now=t1, bylaws_version=1)
    service.activate(session, council_id=cid, actor=takahashi, now=t1 + timedelta(hours=1))

    m1 = service.schedule_meeting(
        session, council_id=cid, actor=takahashi, now=t1 + timedelta(days=1), title="第1回会合",
        starts_at=t1 + timedelta(days=14), location="文部科学省 第2会議室（オンライン併用）",
        agenda=[AgendaInput("衛星データの社会実装イメージ（防災・海洋監視）の共有", "useful_information"),
                AgendaInput("地上局・試験設備の共用と規制面の課題", "effective_promotion"),
                AgendaInput("研究成果の公開方針と論文発表の手順", "rd_content_and_results"),
                AgendaInput("協議会における情報管理の方法（共有範囲・保存・持出し）", "information_management")])
    meeting_day = t1 + timedelta(days=14)
    for who in (takahashi, watanabe, kato, tanaka, kobayashi):
        service.record_attendance(session, council_id=cid, meeting_id=m1.id, actor=takahashi, now=meeting_day,
                                  user_id=who.user_id,
                                  status={tanaka.user_id: "excused", kobayashi.user_id: "observer"}.get(who.user_id,
                                                                                                      "present"))
    d1 = service.record_decision(
        session, council_id=cid, actor=takahashi, now=meeting_day, meeting_id=m1.id, matter="effective_promotion",
        adoption="consensus", store=store,
        text="JAXA相模原の試験設備の共用について、事務局が関係機関と調整を開始する。")
    d2 = service.record_decision(
        session, council_id=cid, actor=takahashi, now=meeting_day, meeting_id=m1.id, matter="rd_content_and_results",
        adoption="unanimous", store=store,
        text="研究成果は公開を基本とし、論文投稿の2週間前に協議会へ概要を共有する。")
    service.record_decision(
        session, council_id=cid, actor=takahashi, now=meeting_day, meeting_id=m1.id,
        matter="information_management", adoption="consensus", store=store,
        text="協議会で共有する資料は本システム上でのみ閲覧し、参加者の端末への保存は行わない。")
    service.draft_minutes(
        session, council_id=cid, meeting_id=m1.id, actor=takahashi, now=meeting_day + timedelta(days=2), store=store,
        text=("第1回会合 議事録\n出席: 高橋（事務局）、渡辺（会長）、加藤、小林（オブザーバー）／欠席: 田中\n"
              "1. 社会実装イメージ: 防災・海洋監視での高頻度観測ニーズを共有した。\n"
              "2. 試験設備: 共用に向けて事務局が調整する。\n"
              "3. 成果の公開: 公開を基本とすることを全員一致で確認した。\n"
              "4. 情報管理: 本システム上での閲覧に限ることとした。"))
    # C5: the attendees (present) confirm the draft before the secretariat approves it.
    meetings.circulate_minutes(session, council_id=cid, meeting_id=m1.id, actor=takahashi,
                               now=meeting_day + timedelta(days=2))
    for i, who in enumerate((takahashi, watanabe, kato)):
        meetings.confirm_minutes(session, council_id=cid, meeting_id=m1.id, actor=who, answer="confirm",
                                 now=meeting_day + timedelta(days=3 + i), store=store)
    service.approve_minutes(session, council_id=cid, meeting_id=m1.id, actor=takahashi,
                            now=meeting_day + timedelta(days=7))
    # issue 13: said at the first meeting as confidential, never designated in writing: outside the duty now
    statements.record_statement(session, council_id=cid, meeting_id=m1.id, actor=takahashi,
                                now=meeting_day + timedelta(days=1), speaker_id=kato.user_id, store=store,
                                stated_confidential=True, summary=LAPSED_STATEMENT)
    a_done = service.create_action_item(
        session, council_id=cid, actor=takahashi, now=meeting_day, decision_id=d1.id, assignee_id=takahashi.user_id,
        title="試験設備の共用について関係機関へ照会する", due_at=meeting_day + timedelta(days=21))
    service.complete_action_item(session, council_id=cid, item_id=a_done.id, actor=takahashi,
                                 now=meeting_day + timedelta(days=18), note="照会済み。回答を第2回で報告。")
    service.create_action_item(
        session, council_id=cid, actor=takahashi, now=meeting_day, decision_id=d2.id, assignee_id=watanabe.user_id,
        title="論文投稿予定（2件）の概要を協議会へ共有する", due_at=now - timedelta(days=10))  # overdue
    service.create_action_item(
        session, council_id=cid, actor=takahashi, now=meeting_day, decision_id=d1.id, assignee_id=kato.user_id,
        title="地上局の運用計画（案）を作成する", due_at=now - timedelta(days=3))  # overdue
    service.create_action_item(
        session, council_id=cid, actor=takahashi, now=now - timedelta(days=2), assignee_id=kobayashi.user_id,
        title="第2回会合に向けた諸外国動向の要約を提出する", due_at=now + timedelta(days=12))

    req = service.create_request(
        session, council_id=cid, actor=takahashi, now=meeting_day + timedelta(days=1),
        title="主要国における光学・SAR小型衛星コンステレーションの研究開発動向",
        body="論文・特許の動向と主要機関を整理し、我が国の位置付けと差を示してください。",
        matter="useful_information", addressee_kind="think_tank", addressee_id=kobayashi.user_id,
        due_at=meeting_day + timedelta(days=30))
    service.answer_request(
        session, council_id=cid, request_id=req.id, actor=kobayashi, now=meeting_day + timedelta(days=25),
        store=store, text=("論文数では米国・中国が先行し、SAR分野の上位10%論文シェアは我が国が第4位。"
              "主要機関の整理表は第2回会合で説明予定。"))
    _amend_by_vote(session, now, cid, takahashi)
    m2 = service.schedule_meeting(
        session, council_id=cid, actor=takahashi, now=now - timedelta(days=5), title="第2回会合",
        starts_at=now + timedelta(days=10), location="文部科学省 第2会議室（オンライン併用）",
        agenda=[AgendaInput("シンクタンクによる諸外国動向の報告", "useful_information"),
                AgendaInput("試験設備の共用調整の結果", "effective_promotion")])
    del m2
    _held_meeting(session, now, store, cid, takahashi=takahashi, watanabe=watanabe, kato=kato, tanaka=tanaka,
                  kobayashi=kobayashi)


def _amend_by_vote(session: Session, now: datetime, cid: int, proposer: Principal) -> None:
    """A bylaws amendment every member accepted (issue 13): an article added, the duty untouched."""
    form = bylaws.amend_form(session, council_id=cid, actor=proposer)
    rows = [articles.ArticleInput(a.key, a.title_ja, a.title_en, a.text) for a in form.articles]
    rows.append(articles.ArticleInput("supplementary", "附則", "Supplementary provision",
                                      "第${art_secretariat}条第3項に基づく資料の提供期限は、原則として依頼の日から30日とする。"))
    proposal = bylaws.propose_amendment(session, council_id=cid, actor=proposer, now=now - timedelta(days=24),
                                        articles_in=rows, parameters={}, summary="附則（資料提供期限の目安）を追加")
    for row in repo.bylaws_votes(session, proposal.id):
        user = accounts_repo.user_by_id(session, row.user_id)
        if row.decision != "pending" or user is None:
            continue
        voter = accounts.principal_for(user, method=AuthMethod.SESSION, mfa=True)
        bylaws.vote(session, council_id=cid, proposal_id=proposal.id, actor=voter, now=now - timedelta(days=20),
                    decision="accept")


def _held_meeting(session: Session, now: datetime, store: SealedDeps, cid: int, *, takahashi: Principal,
                  watanabe: Principal, kato: Principal, tanaka: Principal, kobayashi: Principal) -> None:
    """An ad-hoc meeting recorded after it was held, with materials and minutes out for confirmation (issue 13)."""
    held_at = now - timedelta(days=4)
    meeting = service.schedule_meeting(
        session, council_id=cid, actor=takahashi, now=now - timedelta(days=3), title="臨時会合（打上げ試験の日程調整）",
        starts_at=held_at, location="オンライン", held=True,
        agenda=[AgendaInput("打上げ試験の日程と試験設備の共用", "effective_promotion")])
    meetings.add_material(
        session, council_id=cid, meeting_id=meeting.id, actor=kato, now=now - timedelta(days=3), confidential=True,
        title="資料1 打上げ試験計画（案）",
        file=service.UploadedFile("launch-test-plan.pdf", "application/pdf",
                                  make_sample_pdf("打上げ試験計画（案）", ["試験日程の候補と必要な設備を示す。"])), store=store)
    meetings.add_material(
        session, council_id=cid, meeting_id=meeting.id, actor=takahashi, now=now - timedelta(days=3),
        confidential=False, title="資料2 試験設備の共用状況",
        file=service.UploadedFile("facilities.csv", "text/csv", "設備,空き状況\n相模原 試験棟,10月\n".encode()), store=store)
    meetings.record_attendance_sheet(
        session, council_id=cid, meeting_id=meeting.id, actor=takahashi, now=now - timedelta(days=3),
        entries=[meetings.AttendanceEntry(takahashi.user_id, "present"),
                 meetings.AttendanceEntry(watanabe.user_id, "present"),
                 meetings.AttendanceEntry(kato.user_id, "proxy"),
                 meetings.AttendanceEntry(tanaka.user_id, "absent"),
                 meetings.AttendanceEntry(kobayashi.user_id, "observer")])
    service.draft_minutes(
        session, council_id=cid, meeting_id=meeting.id, actor=takahashi, now=now - timedelta(days=2), store=store,
        text=("臨時会合 議事録案\n出席: 高橋（事務局）、渡辺（会長）、加藤（代理出席）／オブザーバー: 小林／欠席: 田中\n"
              "1. 打上げ試験は11月第2週を第1候補とし、相模原の試験棟の共用を事務局が調整する。"))
    meetings.circulate_minutes(session, council_id=cid, meeting_id=meeting.id, actor=takahashi,
                               now=now - timedelta(days=2))
    # issue 13: said at the meeting as confidential and designated in writing by the speaker within the period
    said = statements.record_statement(session, council_id=cid, meeting_id=meeting.id, actor=takahashi,
                                       now=now - timedelta(days=3), speaker_id=kato.user_id, store=store,
                                       stated_confidential=True, summary=DESIGNATED_STATEMENT)
    statements.designate_statement(session, council_id=cid, statement_id=said.id, actor=kato,
                                   now=now - timedelta(days=2), store=store,
                                   text="上記の発言（第2段の推力・燃焼時間の目標値）を秘密として書面により指定します。")
    meetings.confirm_minutes(session, council_id=cid, meeting_id=meeting.id, actor=watanabe, answer="comment",
                             now=now - timedelta(days=1), store=store,
                             comment="第1候補が難しい場合の第2候補（11月第4週）も記載してください。")


def _quantum(session: Session, now: datetime, store: SealedDeps) -> None:
    """Dissolved after the project ended; records and the duty remain."""
    suzuki = _who(session, "suzuki.misaki@meti.example.jp")
    matsumoto = _who(session, "matsumoto.ken@quantumlink.example.co.jp")
    yamamoto = _who(session, "yamamoto.aya@tohoku.example.jp")
    kondo = _who(session, "kondo.yui@mlit.example.jp")  # ニーズ省庁: brings the implementation needs
    t0 = now - timedelta(days=420)
    council = service.propose(
        session, actor=suzuki, now=t0, title_ja=QUANTUM, title_en="Council on Quantum Cryptographic Communication",
        purpose="量子鍵配送（QKD）網の実証に関する研究開発について、通信事業者・研究者と伴走支援を行う。",
        technology="量子暗号通信（量子鍵配送）技術", project_ref="JPMJKP-2108", consent_deadline=t0 + timedelta(days=14),
        proposer_party="organising_ministry",
        founders=[FounderSpec(matsumoto.user_id, "chair", "participant"),
                  FounderSpec(yamamoto.user_id, "member", "research_representative"),
                  FounderSpec(kondo.user_id, "member", "needs_ministry")],
        required_person_ids=[yamamoto.user_id],
    )
    cid = council.id
    for i, who in enumerate((matsumoto, yamamoto, kondo)):
        service.consent(session, council_id=cid, actor=who, now=t0 + timedelta(days=2 + i), decision="consent")
    t1 = t0 + timedelta(days=5)
    for who in (suzuki, matsumoto, yamamoto, kondo):
        service.sign_pledge(session, council_id=cid, actor=who, now=t1, bylaws_version=1)
    service.activate(session, council_id=cid, actor=suzuki, now=t1)
    m = service.schedule_meeting(
        session, council_id=cid, actor=suzuki, now=t1, title="第1回会合", starts_at=t1 + timedelta(days=20),
        location="経済産業省 別館会議室",
        agenda=[AgendaInput("都市間QKD網実証の進め方", "effective_promotion")])
    service.record_decision(session, council_id=cid, actor=suzuki, now=t1 + timedelta(days=20), meeting_id=m.id,
                            text="実証結果は原則公開とし、鍵管理装置の実装詳細は協議のうえ取り扱う。",
                            matter="rd_content_and_results", adoption="consensus", store=store)
    service.dissolve(session, council_id=cid, actor=suzuki, now=now - timedelta(days=30),
                     reason="研究開発プロジェクトの終了に伴い解散（記録は保存、守秘義務は存続）")


def _navigation(session: Session, now: datetime, store: SealedDeps) -> None:
    """A project council that lapsed (the research representative declined) and was proposed again (issue 13)."""
    del store  # nothing sealed: neither council holds content yet
    sato = _who(session, "sato.kenichi@cao.example.jp")
    watanabe = _who(session, "watanabe.shota@utokyo.example.jp")
    yoshida = _who(session, "yoshida.emi@kaiyo-robotics.example.co.jp")
    tanaka = _who(session, "tanaka.yuki@jst.example.jp")
    kondo = _who(session, "kondo.yui@mlit.example.jp")
    founders = [FounderSpec(watanabe.user_id, "chair", "research_representative"),
                FounderSpec(yoshida.user_id, "member", "participant"),
                FounderSpec(tanaka.user_id, "member", "funding_agency"),
                FounderSpec(kondo.user_id, "member", "needs_ministry")]
    purpose = ("光格子時計と量子慣性センサによる海中測位の研究開発について、研究代表者・企業・資金配分機関・"
               "ニーズ省庁が伴走し、研究成果の取扱いを協議する。")
    t0 = now - timedelta(days=40)
    first = service.propose(
        session, actor=sato, now=t0, title_ja=NAVIGATION, title_en="Council on Undersea Positioning by Optical Clocks",
        purpose=purpose, technology="量子技術等を用いた海中における革新的航法技術", project_ref=NAVIGATION_PROJECT,
        consent_deadline=t0 + timedelta(days=14), founders=founders, required_person_ids=[watanabe.user_id],
        proposer_party="organising_ministry")
    service.consent(session, council_id=first.id, actor=yoshida, now=t0 + timedelta(days=1), decision="consent")
    service.consent(session, council_id=first.id, actor=watanabe, now=t0 + timedelta(days=3), decision="decline",
                    reason="研究体制（共同研究先）の見直し中のため、体制確定後に改めて同意します。")
    t1 = t0 + timedelta(days=20)
    again = service.propose(
        session, actor=sato, now=t1, title_ja=NAVIGATION_AGAIN,
        title_en="Council on Undersea Positioning by Optical Clocks (proposed again)", purpose=purpose,
        technology="量子技術等を用いた海中における革新的航法技術", project_ref=NAVIGATION_PROJECT,
        consent_deadline=t1 + timedelta(days=14), founders=founders, required_person_ids=[watanabe.user_id],
        proposer_party="organising_ministry")
    for i, who in enumerate((watanabe, tanaka, kondo)):
        service.consent(session, council_id=again.id, actor=who, now=t1 + timedelta(days=1 + i), decision="consent")
    # yoshida has not answered yet: the representative's consent established the council; she may still join
    # issue 13: the composition with an observer (オブザーバー) — NEDO follows the project, invited, joins by consent
    ito = _who(session, "ito.daisuke@nedo.example.jp")
    service.sign_pledge(session, council_id=again.id, actor=sato, now=t1 + timedelta(days=4), bylaws_version=1)
    service.invite(session, council_id=again.id, actor=sato, now=t1 + timedelta(days=5), user_id=ito.user_id,
                   role="observer", party="observer", deadline=t1 + timedelta(days=19))
    service.consent(session, council_id=again.id, actor=ito, now=t1 + timedelta(days=6), decision="consent")
