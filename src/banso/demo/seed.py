"""Seed the demo database with organisations and named personas (idempotent).

Ministries and agencies are the real participants of the system; companies, the start-up
and the think tank are fictional. E-mail domains use ``.example`` so nothing can be mailed.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from banso.accounts import repository as repo
from banso.accounts import service as accounts
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.kit.crypto import SecretBox

DEMO_PASSWORD = "banso-demo-2026!"


@dataclass(frozen=True)
class DemoOrg:
    """An organisation of the demo cast."""

    key: str
    name_ja: str
    name_en: str
    kind: str
    short_name: str


@dataclass(frozen=True)
class Persona:
    """A demo person with a known password and TOTP secret."""

    email: str
    name_ja: str
    name_en: str
    org: str
    roles: tuple[str, ...]
    title_ja: str
    password: str = DEMO_PASSWORD

    @property
    def totp_secret(self) -> str:
        """Return the persona's fixed demo TOTP secret (derived from the e-mail, stable across runs)."""
        digest = hashlib.sha256(f"banso-demo-totp:{self.email}".encode()).digest()[:20]
        return base64.b32encode(digest).decode()


ORGS: tuple[DemoOrg, ...] = (
    DemoOrg("cao", "内閣府 科学技術・イノベーション推進事務局", "Cabinet Office, Science, Technology and Innovation",
            "ministry", "内閣府"),
    DemoOrg("meti", "経済産業省", "Ministry of Economy, Trade and Industry", "ministry", "METI"),
    DemoOrg("mlit", "国土交通省", "Ministry of Land, Infrastructure, Transport and Tourism", "ministry", "MLIT"),
    DemoOrg("mext", "文部科学省", "Ministry of Education, Culture, Sports, Science and Technology", "ministry", "MEXT"),
    DemoOrg("jst", "国立研究開発法人科学技術振興機構", "Japan Science and Technology Agency", "funding_agency", "JST"),
    DemoOrg("nedo", "国立研究開発法人新エネルギー・産業技術総合開発機構",
            "New Energy and Industrial Technology Development Organization", "funding_agency", "NEDO"),
    DemoOrg("utokyo", "東京大学", "The University of Tokyo", "university", "東大"),
    DemoOrg("tohoku", "東北大学", "Tohoku University", "university", "東北大"),
    DemoOrg("kyoto", "京都大学", "Kyoto University", "university", "京大"),
    DemoOrg("mirai", "みらい宇宙システムズ株式会社", "Mirai Space Systems Co., Ltd.", "company", "みらい宇宙"),
    DemoOrg("kaiyo", "日本海洋ロボティクス株式会社", "Japan Ocean Robotics Corporation", "company", "海洋ロボ"),
    DemoOrg("qlink", "株式会社クオンタムリンク", "QuantumLink Inc.", "startup", "QuantumLink"),
    DemoOrg("estt", "一般財団法人 経済安全保障技術調査研究所", "Economic Security Technology Think Tank", "think_tank",
            "ESTT"),
)

PERSONAS: tuple[Persona, ...] = (
    Persona("nakamura.ryo@cao.example.jp", "中村 亮", "Ryo Nakamura", "cao", ("admin", "auditor"),
            "システム管理者"),
    Persona("sato.kenichi@cao.example.jp", "佐藤 健一", "Kenichi Sato", "cao", ("officer",), "参事官"),
    Persona("suzuki.misaki@meti.example.jp", "鈴木 美咲", "Misaki Suzuki", "meti", ("officer",), "課長補佐"),
    Persona("takahashi.naoki@mext.example.jp", "高橋 直樹", "Naoki Takahashi", "mext", ("officer",), "企画官"),
    Persona("tanaka.yuki@jst.example.jp", "田中 由紀", "Yuki Tanaka", "jst", ("agency_staff",), "プログラム主管"),
    Persona("ito.daisuke@nedo.example.jp", "伊藤 大輔", "Daisuke Ito", "nedo", ("agency_staff",), "主任研究員"),
    Persona("watanabe.shota@utokyo.example.jp", "渡辺 翔太", "Shota Watanabe", "utokyo", ("researcher",), "教授"),
    Persona("yamamoto.aya@tohoku.example.jp", "山本 彩", "Aya Yamamoto", "tohoku", ("researcher",), "准教授"),
    Persona("kato.takeshi@mirai-space.example.co.jp", "加藤 剛", "Takeshi Kato", "mirai", ("industry",),
            "技術開発部長"),
    Persona("yoshida.emi@kaiyo-robotics.example.co.jp", "吉田 恵美", "Emi Yoshida", "kaiyo", ("industry",),
            "主任技師"),
    Persona("matsumoto.ken@quantumlink.example.co.jp", "松本 健", "Ken Matsumoto", "qlink", ("industry",),
            "代表取締役CTO"),
    Persona("kobayashi.mari@estt.example.or.jp", "小林 真理", "Mari Kobayashi", "estt", ("analyst",),
            "主席研究員"),
    # ニーズ省庁: enters the social-implementation needs the think tank's ranking weighs (T5, issue 16).
    Persona("kondo.yui@mlit.example.jp", "近藤 結衣", "Yui Kondo", "mlit", ("needs_officer",), "技術調査官"),
    Persona("inoue.hiroshi@cao.example.jp", "井上 浩", "Hiroshi Inoue", "cao", ("auditor",), "監査担当"),
    # 審査委員: Kyoto University submits no proposal in the demo, so she may review every demo proposal.
    Persona("kimura.haruka@kyoto-u.example.jp", "木村 遥", "Haruka Kimura", "kyoto", ("reviewer",), "教授"),
    # 輸出管理責任者 (F7, issue 15): classifies the project council's designs (該非判定) and clears newcomers.
    Persona("hayashi.makoto@tohoku.example.jp", "林 誠", "Makoto Hayashi", "tohoku", ("export_officer",),
            "安全保障輸出管理室長"),
    # A researcher with a foreign affiliation, brought onto the adopted project by an approved plan change (F7).
    Persona("becker.lena@tohoku.example.jp", "ベッカー レナ", "Lena Becker", "tohoku", ("researcher",), "特任助教"),
)


def is_seeded(session: Session) -> bool:
    """Return True when the demo cast already exists."""
    return repo.user_by_email(session, PERSONAS[0].email) is not None


def seed(session: Session, *, box: SecretBox, now: datetime) -> int:
    """Create the demo cast if missing; return how many people were created (never commits)."""
    if is_seeded(session):
        return 0
    org_ids: dict[str, int] = {}
    for org in ORGS:
        existing = repo.org_by_name(session, org.name_ja)
        if existing is None:
            existing = accounts.create_organization(
                session, name_ja=org.name_ja, name_en=org.name_en, kind=org.kind, short_name=org.short_name,
                now=now, actor=None,
            )
        org_ids[org.key] = existing.id
    created = 0
    for persona in PERSONAS:
        user = accounts.create_user(
            session, email=persona.email, name_ja=persona.name_ja, name_en=persona.name_en,
            organization_id=org_ids[persona.org], roles=list(persona.roles), password=persona.password,
            now=now, actor=None,
        )
        accounts.enrol_with_secret(session, user=user, secret=persona.totp_secret, box=box, now=now)
        created += 1
    audit.record(session, tag=AuditTag.DEMO_SEED, now=now, actor_label="system",
                 data={"organisations": len(ORGS), "people": created})
    return created
