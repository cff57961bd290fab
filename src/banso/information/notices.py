"""What information events tell people (I4–I7, I12). A text names an item only to people the gate lets know
of it: a proposal's title only to those who may see the proposal (voters with content access, I4); other
notices only to the item's current readers. The inbox and the e-mail job ask the gate again when the notice
is read or sent (``banso.authz.gate.knowable_subjects``): access may have ended in between."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.authz import gate
from banso.councils import notices as council_notices
from banso.councils import repository as council_repo
from banso.councils.models import OralStatement
from banso.information.models import Ballot, BallotKind, ExclusionClaim, Item, Vote
from banso.kit.japanese import format_minute, official_minute
from banso.notifications import service as notifications

_KIND_JA = {BallotKind.DESIGNATION: "指定提案", BallotKind.RENEWAL: "指定延長提案",
            BallotKind.NONDISCLOSURE: "非公開要請"}
_KIND_EN = {BallotKind.DESIGNATION: "designation proposal", BallotKind.RENEWAL: "renewal proposal",
            BallotKind.NONDISCLOSURE: "non-disclosure request"}


def _when(value: datetime) -> str:
    # Notices are official: the Japanese text gives 和暦 with the Western year (issue 14).
    return official_minute(value)


def _when_en(value: datetime) -> str:
    return format_minute(value, "en")


def _send(session: Session, recipients: Iterable[int], *, kind: str, title_ja: str, title_en: str, body_ja: str,
          body_en: str, link: str, subject: str, now: datetime) -> None:
    ids = sorted(set(recipients))
    if ids:
        notifications.notify(session, recipient_ids=ids, kind=kind, title_ja=title_ja, title_en=title_en,
                             body_ja=body_ja, body_en=body_en, link=link, subject=subject, now=now, email_now=True)


def ballot_opened(session: Session, *, ballot: Ballot, item: Item, voter_ids: Iterable[int], now: datetime) -> None:
    """Ask the voters to answer a proposal before its deadline (the proposal only, never the content).

    A voter who may not see the proposal yet (no pledge for the duty in force, no second factor) is told only
    that a vote awaits them in the council and what they need to take part — never its title (C3, I4, I12).
    """
    kind = BallotKind(ballot.kind)
    told, untold = gate.ballot_recipients(session, ballot, voter_ids)
    _send(session, told, kind=f"information.{kind.value}_opened",
          title_ja=f"{_KIND_JA[kind]}「{item.title}」への回答のお願い（期限 {_when(ballot.deadline)}）",
          title_en=f"Please answer the {_KIND_EN[kind]} on “{item.title}” by {_when_en(ballot.deadline)} JST",
          body_ja="全員の同意がなければ成立しません。提案の内容（理由・範囲・期間）を確認して回答してください。",
          body_en="It takes effect only if every participant accepts. Review the reason, scope and period.",
          link=f"/information/ballots/{ballot.id}", subject=f"ballot:{ballot.id}", now=now)
    _send(session, untold, kind=f"information.{kind.value}_opened",
          title_ja=f"協議会で回答を求める提案があります（期限 {_when(ballot.deadline)}）",
          title_en=f"A proposal in one of your councils awaits your answer (by {_when_en(ballot.deadline)} JST)",
          body_ja="提案を見て回答するには、現行の規約に基づく守秘義務の誓約と二要素認証が必要です。",
          body_en="To see and answer it, sign the confidentiality pledge for the bylaws in force and sign in "
                  "with your second factor.",
          link=f"/councils/{ballot.council_id}", subject=f"council:{ballot.council_id}", now=now)


def ballot_decided(session: Session, *, ballot: Ballot, item: Item, now: datetime) -> None:
    """Tell the voters and the provider who may see the proposal how it ended (an accepted non-disclosure
    request or renewal of it with the result's review date, I13)."""
    kind = BallotKind(ballot.kind)
    voters = session.scalars(select(Vote.user_id).where(Vote.ballot_id == ballot.id)).all()
    told, _ = gate.ballot_recipients(session, ballot, [*voters, item.provider_id])
    outcome_ja = {"accepted": "成立", "rejected": "不成立"}.get(ballot.state, ballot.state)
    body_ja, body_en = "詳細は提案のページをご覧ください。", "See the proposal page for details."
    if kind in _WITHHOLDING and ballot.state == "accepted" and ballot.ends_at is not None:
        body_ja = (f"この成果は見直し日 {_when(ballot.ends_at)} まで非公開です。全員一致の継続がなければ、見直し日に"
                   f"公開されます。{body_ja}")
        body_en = (f"The result stays withheld until its review date, {_when_en(ballot.ends_at)} JST; unless everyone "
                   f"agrees to keep it withheld, it becomes public then. {body_en}")
    _send(session, told, kind=f"information.{kind.value}_decided",
          title_ja=f"{_KIND_JA[kind]}「{item.title}」は{outcome_ja}しました",
          title_en=f"The {_KIND_EN[kind]} on “{item.title}” was {ballot.state}",
          body_ja=body_ja, body_en=body_en,
          link=f"/information/ballots/{ballot.id}", subject=f"ballot:{ballot.id}", now=now)


def designation_ending(session: Session, *, item: Item, ballot: Ballot, days: int, recipient_ids: Iterable[int],
                       now: datetime) -> None:
    """Remind the readers 30 and 7 days before a designation ends (I5)."""
    assert ballot.ends_at is not None
    _send(session, recipient_ids, kind="information.designation_ending",
          title_ja=f"指定「{item.title}」はあと{days}日で終了します（{_when(ballot.ends_at)}）",
          title_en=f"The designation of “{item.title}” ends in {days} days ({_when_en(ballot.ends_at)} JST)",
          body_ja="延長が必要な場合は、終了前に全員一致の延長提案が必要です。",
          body_en="A renewal needs a unanimous vote before the end.",
          link=f"/information/items/{item.id}", subject=f"item:{item.id}", now=now)


def designation_lapsed(session: Session, *, item: Item, ballot: Ballot, now: datetime) -> None:
    """Tell the current readers that a designation ended by itself (I5)."""
    where_ja = "公開されました" if item.state == "public" else "協議会内共有になりました"
    where_en = "is now public" if item.state == "public" else "is now shared with the whole council"
    _send(session, gate.readers(session, gate.access_for(session, None, item)), kind="information.designation_lapsed",
          title_ja=f"指定期間が終了し「{item.title}」は{where_ja}", title_en=f"The designation ended: “{item.title}” {where_en}",
          body_ja="指定期間の満了により自動的に解除されました。", body_en="The period ended; the designation lapsed by itself.",
          link=f"/information/items/{item.id}", subject=f"item:{item.id}", now=now)


# Openness by agreement (I13): an early-publication vote is a ballot like the others.
_KIND_JA[BallotKind.PUBLICATION] = "早期公開提案"
_KIND_EN[BallotKind.PUBLICATION] = "early publication proposal"


def publication_scheduled(session: Session, *, item: Item, recipient_ids: Iterable[int], now: datetime) -> None:
    """Give the council's readers prior notice of a result's publication (I13), so that a
    non-disclosure request (I6) can be filed before it becomes public."""
    assert item.publish_at is not None
    _send(session, recipient_ids, kind="information.publication_scheduled",
          title_ja=f"研究成果「{item.title}」は {_when(item.publish_at)} に公開されます（事前告知）",
          title_en=f"Prior notice: the result “{item.title}” becomes public on {_when_en(item.publish_at)} JST",
          body_ja="公開までの間に、所管省庁は非公開要請を行うことができます。要請は全員一致で成立します。",
          body_en="Until then a ministry may file a non-disclosure request; it takes effect only if everyone accepts.",
          link=f"/information/items/{item.id}", subject=f"item:{item.id}", now=now)


# Publication conditions (issue 13, I6, I13): a withheld result has a review date and is released then unless
# everyone agrees to keep it withheld; it may also be released earlier by a unanimous vote.
_KIND_JA[BallotKind.WITHHOLD_RENEWAL] = "非公開継続提案"
_KIND_EN[BallotKind.WITHHOLD_RENEWAL] = "proposal to keep withholding"
_KIND_JA[BallotKind.RELEASE] = "非公開解除提案"
_KIND_EN[BallotKind.RELEASE] = "release proposal"
_WITHHOLDING = (BallotKind.NONDISCLOSURE, BallotKind.WITHHOLD_RENEWAL)


def withheld_review_due(session: Session, *, item: Item, ballot: Ballot, days: int, recipient_ids: Iterable[int],
                        now: datetime) -> None:
    """Remind the result's readers 30 and 7 days before a withheld result's review date (I13)."""
    assert ballot.ends_at is not None
    _send(session, recipient_ids, kind="information.withheld_review_due",
          title_ja=f"非公開の研究成果「{item.title}」の見直し日まであと{days}日です（{_when(ballot.ends_at)}）",
          title_en=f"The withheld result “{item.title}” is reviewed in {days} days ({_when_en(ballot.ends_at)} JST)",
          body_ja="見直し日に自動的に公開されます。非公開を続けるには、見直し日前に全員一致の継続提案が必要です。",
          body_en="It becomes public at its review date; keeping it withheld needs a unanimous vote before then.",
          link=f"/information/items/{item.id}", subject=f"item:{item.id}", now=now)


def withheld_released(session: Session, *, item: Item, recipient_ids: Iterable[int], now: datetime) -> None:
    """Tell the council's readers that a withheld result was released at its review date (I13)."""
    _send(session, recipient_ids, kind="information.withheld_released",
          title_ja=f"見直し日を迎え、研究成果「{item.title}」は公開されました",
          title_en=f"The review date came: the result “{item.title}” is now public",
          body_ja="非公開の継続が全員一致で認められなかったため、見直し日に公開されました。",
          body_en="Keeping it withheld was not agreed unanimously, so it was released at its review date.",
          link=f"/information/items/{item.id}", subject=f"item:{item.id}", now=now)


# ---------------------------------------------------------------------------------------------
# Exclusion claims (秘密情報の除外, issue 13): the secretariat and the chair are told of a claim, the chair of a
# decision to confirm, the claimant of the outcome. A text names the item only to its readers (gate.readers) and
# an oral statement only to council-content readers; the subject makes the gate ask again at every read (I7, I12).

_GROUND_JA = {"public": "公知", "independent": "独自開発", "third_party": "第三者から適法に取得", "prior": "既知"}
_GROUND_EN = {"public": "already public", "independent": "independently developed",
              "third_party": "lawfully received from a third party", "prior": "known before"}
_OUTCOME_JA = {"accepted": "除外を認める（申出者のみ）", "rejected": "除外を認めない", "filed": "事務局で判断し直し"}
_OUTCOME_EN = {"accepted": "accepted (for the claimant only)", "rejected": "rejected", "filed": "sent back to be decided again"}


def _claim_where(session: Session, claim: ExclusionClaim, item: Item | None,
                 user_ids: Iterable[int]) -> tuple[list[int], str, str, str, str]:
    """Return who of ``user_ids`` may be told (readers of the target), the subject, the link and the target's name
    in both languages."""
    ids = sorted(set(user_ids))
    if item is not None:
        told = gate.readers(session, gate.access_for(session, None, item), user_ids=ids) if ids else []
        return told, f"item:{item.id}", f"/information/items/{item.id}", f"「{item.title}」", f"“{item.title}”"
    council = council_repo.council_by_id(session, claim.council_id)
    statement = session.get(OralStatement, claim.statement_id)
    told = [uid for uid in ids if council is not None and council_notices.may_read_content(session, council, uid)]
    meeting = statement.meeting_id if statement is not None else 0
    return (told, f"council:{claim.council_id}:statement:{claim.statement_id}",
            f"/councils/{claim.council_id}/meetings/{meeting}", "会合での発言", "a statement at a meeting")


def _managers(session: Session, council_id: int, roles: Iterable[str]) -> list[int]:
    wanted = set(roles)
    return [m.user_id for m in council_repo.current_members(session, council_id) if m.role in wanted]


def exclusion_filed(session: Session, *, claim: ExclusionClaim, item: Item | None, now: datetime) -> None:
    """Tell the secretariat and the chair (not the claimant) that an exclusion claim awaits a decision."""
    managers = [uid for uid in _managers(session, claim.council_id, ("secretariat", "chair")) if uid != claim.claimant_id]
    told, subject, link, name_ja, name_en = _claim_where(session, claim, item, managers)
    _send(session, told, kind="information.exclusion_filed",
          title_ja=f"{name_ja}について除外の申出（{_GROUND_JA.get(claim.ground, claim.ground)}）があります",
          title_en=f"An exclusion claim ({_GROUND_EN.get(claim.ground, claim.ground)}) on {name_en} awaits a decision",
          body_ja="事務局が証拠を確認して判断し、議長が確認します。申出は申出者本人についてのみ効力を持ちます。",
          body_en="The secretariat decides on the evidence and the chair confirms. A claim frees only the claimant.",
          link=link, subject=subject, now=now)


def exclusion_decided(session: Session, *, claim: ExclusionClaim, item: Item | None, now: datetime) -> None:
    """Tell the chair (not the decider or the claimant) to confirm, and the claimant what the secretariat found."""
    chairs = [uid for uid in _managers(session, claim.council_id, ("chair",))
              if uid not in (claim.claimant_id, claim.decided_by_id)]
    told, subject, link, name_ja, name_en = _claim_where(session, claim, item, chairs)
    found_ja = "認める" if claim.decision == "accept" else "認めない"
    found_en = "accept" if claim.decision == "accept" else "reject"
    _send(session, told, kind="information.exclusion_decided",
          title_ja=f"{name_ja}についての除外の申出を事務局が判断しました（{found_ja}）。確認してください",
          title_en=f"The secretariat decided to {found_en} an exclusion claim on {name_en}: please confirm",
          body_ja="議長が確認すると確定します。差し戻すこともできます。",
          body_en="It is settled when the chair confirms it; the chair may also send it back.",
          link=link, subject=subject, now=now)
    mine, subject, link, name_ja, name_en = _claim_where(session, claim, item, [claim.claimant_id])
    _send(session, mine, kind="information.exclusion_outcome",
          title_ja=f"{name_ja}についての除外の申出：事務局の判断は「{found_ja}」です（議長の確認待ち）",
          title_en=f"Your exclusion claim on {name_en}: the secretariat decided to {found_en} (awaiting the chair)",
          body_ja="議長の確認により確定します。", body_en="It is settled when the chair confirms it.",
          link=link, subject=subject, now=now)


def exclusion_settled(session: Session, *, claim: ExclusionClaim, item: Item | None, now: datetime) -> None:
    """Tell the claimant the outcome once the chair confirmed it (or sent it back to be decided again)."""
    mine, subject, link, name_ja, name_en = _claim_where(session, claim, item, [claim.claimant_id])
    outcome_ja, outcome_en = _OUTCOME_JA.get(claim.state, claim.state), _OUTCOME_EN.get(claim.state, claim.state)
    _send(session, mine, kind="information.exclusion_outcome",
          title_ja=f"{name_ja}についての除外の申出の結果：{outcome_ja}",
          title_en=f"Your exclusion claim on {name_en}: {outcome_en}",
          body_ja=("認められた除外はあなた自身についてのみ効力を持ち、他の参加者の守秘義務は変わりません。"
                   if claim.state == "accepted" else "詳しくは申出の記録を確認してください。"),
          body_en=("An accepted exclusion frees only you; everyone else's duty is unchanged."
                   if claim.state == "accepted" else "See the claim's record for details."),
          link=link, subject=subject, now=now)
