"""What council events tell people: in-app notifications and e-mail (through notifications.service).

The notification contract (notifications/service.py) puts the burden on the caller: a text may
say only what its recipient may know. So every notice here decides per recipient, through the
council policy, whether the text may name council content (a meeting's title, an action's
title) or only that something happened in a council whose public page they can see (I7).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.authz import gate
from banso.authz.policies import councils as policy
from banso.councils import repository as repo
from banso.councils.models import Council
from banso.kit.japanese import format_minute, official_minute
from banso.notifications import service as notifications


def _subject(council: Council) -> str:
    return f"council:{council.id}"


def _when(value: datetime) -> str:
    # Notices are official: the Japanese text gives 和暦 with the Western year (issue 14).
    return official_minute(value)


def _when_en(value: datetime) -> str:
    return format_minute(value, "en")


def may_read_content(session: Session, council: Council, user_id: int) -> bool:
    """Return True if ``user_id`` could read the council's content when signed in with 2FA."""
    user = accounts_repo.user_by_id(session, user_id)
    if user is None or not user.is_active:
        return False
    where = gate.standing(session, council.id, user_id)
    return where is not None and policy.can_read_content(gate.recipient(user), where)


def _send(session: Session, council: Council, recipients: Iterable[int], *, kind: str, title_ja: str,
          title_en: str, body_ja: str, body_en: str, link: str, now: datetime, email_now: bool = True,
          names: str | None = None) -> None:
    """Notify ``recipients``. ``names`` ("meeting:3") marks a text that names council content: its subject is
    then ``council:N:meeting:3``, which the gate shows only to readers of the council's content at every later
    read and e-mail (I7, I12); a plain ``council:N`` text says only what the public page says."""
    ids = sorted(set(recipients))
    if ids:
        subject = f"{_subject(council)}:{names}" if names else _subject(council)
        notifications.notify(session, recipient_ids=ids, kind=kind, title_ja=title_ja, title_en=title_en,
                             body_ja=body_ja, body_en=body_en, link=link, subject=subject, now=now,
                             email_now=email_now)


def consent_requested(session: Session, council: Council, user_ids: Iterable[int], *, deadline: datetime,
                      now: datetime, reminder: bool = False) -> None:
    """Ask founders or newcomers to consent (C1); invitees may see the council's public page."""
    prefix_ja, prefix_en = ("【再送】", "Reminder: ") if reminder else ("", "")
    _send(session, council, user_ids, kind="council.consent_requested",
          title_ja=f"{prefix_ja}協議会「{council.title_ja}」への参加同意のお願い（期限 {_when(deadline)}）",
          title_en=f"{prefix_en}please answer the invitation to council “{council.title_en}” "
                   f"(deadline {_when(deadline)} JST)",
          body_ja="協議会は全ての参加者の同意により設立されます。規約を確認のうえ、期限までに同意又は不同意を回答してください。",
          body_en="A council is established only when every participant consents. Please read the bylaws and "
                  "consent or decline before the deadline.",
          link=f"/councils/{council.id}", now=now)


def meeting_scheduled(session: Session, council: Council, *, meeting_id: int, title: str, starts_at: datetime,
                      actor_id: int, now: datetime) -> None:
    """Tell current members about a new meeting; only readers learn its title."""
    readers: list[int] = []
    others: list[int] = []
    for membership in repo.current_members(session, council.id):
        if membership.user_id == actor_id:
            continue
        (readers if may_read_content(session, council, membership.user_id) else others).append(membership.user_id)
    link = f"/councils/{council.id}/meetings/{meeting_id}"
    _send(session, council, readers, kind="council.meeting_scheduled",
          title_ja=f"会合「{title}」が {_when(starts_at)} に予定されました",
          title_en=f"Meeting “{title}” scheduled for {_when_en(starts_at)} JST",
          body_ja=f"協議会「{council.title_ja}」の会合です。議題と資料を確認してください。",
          body_en=f"A meeting of council “{council.title_en}”. Please review the agenda.", link=link, now=now,
          names=f"meeting:{meeting_id}")
    _send(session, council, others, kind="council.meeting_scheduled",
          title_ja=f"協議会「{council.title_ja}」で会合が予定されました",
          title_en=f"A meeting was scheduled in council “{council.title_en}”",
          body_ja="内容を見るには守秘義務の誓約が必要です。", body_en="Sign the confidentiality pledge to see the details.",
          link=f"/councils/{council.id}", now=now)


def action_assigned(session: Session, council: Council, *, item_id: int, title: str, assignee_id: int,
                    due_at: datetime, now: datetime) -> None:
    """Tell the assignee about an action item (C5)."""
    if may_read_content(session, council, assignee_id):
        _send(session, council, [assignee_id], kind="council.action_item_assigned",
              title_ja=f"取組事項「{title}」が割り当てられました（期限 {_when(due_at)}）",
              title_en=f"Action item “{title}” assigned to you (due {_when_en(due_at)} JST)",
              body_ja=f"協議会「{council.title_ja}」の協議結果に基づく取組です。",
              body_en=f"Follow-up of a decision of council “{council.title_en}”.",
              link=f"/councils/{council.id}", now=now, names=f"action:{item_id}")
    else:
        _send(session, council, [assignee_id], kind="council.action_item_assigned",
              title_ja=f"協議会「{council.title_ja}」で取組事項が割り当てられました",
              title_en=f"An action item was assigned to you in council “{council.title_en}”",
              body_ja="内容を見るには守秘義務の誓約が必要です。", body_en="Sign the confidentiality pledge to see it.",
              link=f"/councils/{council.id}", now=now)


def action_reminder(session: Session, council: Council, *, item_id: int, title: str, assignee_id: int,
                    due_at: datetime, overdue: bool, now: datetime) -> None:
    """Remind the assignee that an action item is due soon or overdue (C5)."""
    readable = may_read_content(session, council, assignee_id)
    label_ja = f"「{title}」" if readable else ""
    label_en = f" “{title}”" if readable else ""
    if overdue:
        title_ja = f"取組事項{label_ja}の期限（{_when(due_at)}）を過ぎています"
        title_en = f"Action item{label_en} is overdue (due {_when_en(due_at)} JST)"
    else:
        title_ja = f"取組事項{label_ja}の期限（{_when(due_at)}）が近づいています"
        title_en = f"Action item{label_en} is due soon ({_when_en(due_at)} JST)"
    _send(session, council, [assignee_id], kind="council.action_item_overdue" if overdue else "council.action_item_due",
          title_ja=title_ja, title_en=title_en,
          body_ja=f"協議会「{council.title_ja}」の取組事項です。完了したら協議会のページで完了にしてください。",
          body_en=f"An action item of council “{council.title_en}”. Mark it done on the council page when finished.",
          link=f"/councils/{council.id}", now=now, names=f"action:{item_id}" if readable else None)


def material_requested(session: Session, council: Council, *, request_id: int, title: str, addressee_id: int,
                       due_at: datetime, now: datetime) -> None:
    """Tell the addressee of a material request (C6)."""
    readable = may_read_content(session, council, addressee_id)
    _send(session, council, [addressee_id], kind="council.material_requested",
          title_ja=(f"資料提供の求め「{title}」（期限 {_when(due_at)}）" if readable
                    else f"協議会「{council.title_ja}」から資料提供の求めがあります"),
          title_en=(f"Request for materials “{title}” (due {_when(due_at)} JST)" if readable
                    else f"Council “{council.title_en}” requests materials from you"),
          body_ja="期限までに回答してください。", body_en="Please answer before the due date.",
          link=f"/councils/{council.id}/requests/{request_id}" if readable else f"/councils/{council.id}", now=now,
          names=f"request:{request_id}" if readable else None)


def access_lost(session: Session, council: Council, user_id: int, *, now: datetime) -> None:
    """Hide a former member's notifications about the council (I7: no text after access ends)."""
    notifications.hide_for_subject(session, user_id=user_id, subject=_subject(council), now=now)


def minutes_circulated(session: Session, council: Council, *, meeting_id: int, title: str,
                       user_ids: Iterable[int], deadline: datetime, now: datetime, reminder: bool = False) -> None:
    """Ask attendees to confirm a meeting's minutes by the deadline (C5); only readers learn the meeting's title."""
    readers: list[int] = []
    others: list[int] = []
    for user_id in user_ids:
        (readers if may_read_content(session, council, user_id) else others).append(user_id)
    prefix_ja, prefix_en = ("【再送】", "Reminder: ") if reminder else ("", "")
    _send(session, council, readers, kind="council.minutes_circulated",
          title_ja=f"{prefix_ja}会合「{title}」の議事録案の確認のお願い（期限 {_when(deadline)}）",
          title_en=f"{prefix_en}please confirm the minutes of “{title}” (by {_when(deadline)} JST)",
          body_ja=f"協議会「{council.title_ja}」の会合の議事録案です。内容を確認し、確認又は意見を期限までに回答してください。",
          body_en=f"Draft minutes of a meeting of council “{council.title_en}”. Please confirm them or comment "
                  "before the deadline.",
          link=f"/councils/{council.id}/meetings/{meeting_id}#minutes", now=now, names=f"meeting:{meeting_id}")
    _send(session, council, others, kind="council.minutes_circulated",
          title_ja=f"{prefix_ja}協議会「{council.title_ja}」の議事録案の確認のお願い",
          title_en=f"{prefix_en}council “{council.title_en}” asks you to confirm minutes",
          body_ja="内容を見るには守秘義務の誓約が必要です。", body_en="Sign the confidentiality pledge to see the details.",
          link=f"/councils/{council.id}", now=now)


def member_removed(session: Session, council: Council, user_id: int, *, reason: str, now: datetime) -> None:
    """Tell a removed member that the secretariat ended their membership, and why (issue 13, C3).

    They have lost access, so the notice is not about the council's subject (that would be hidden from them at
    once, I7): it names only the council's title, which they knew, the reason given, and that the duty remains.
    """
    notifications.notify(
        session, recipient_ids=[user_id], kind="council.member_removed",
        title_ja=f"協議会「{council.title_ja}」の構成員から除かれました",
        title_en=f"You were removed from council “{council.title_en}”",
        body_ja=f"事務局があなたの構成員資格を終了しました。理由: {reason}\n"
                "協議会の情報へのアクセスは終了しました。守秘義務（法第62条第7項）は引き続き負います。",
        body_en=f"The secretariat ended your membership. Reason: {reason}\n"
                "Your access to the council's information has ended; the duty of confidentiality (Art. 62(7)) "
                "remains.",
        link=None, subject=f"account:{user_id}", now=now, email_now=True)


def bylaws_vote_requested(session: Session, council: Council, *, proposal_id: int, summary: str,
                          user_ids: Iterable[int], deadline: datetime, now: datetime, reminder: bool = False) -> None:
    """Ask members to vote on a bylaws amendment by its deadline (issue 13; a vote request, not a general
    notice). The bylaws are on the council's public page for members, so the summary may be named."""
    prefix_ja, prefix_en = ("【再送】", "Reminder: ") if reminder else ("", "")
    _send(session, council, user_ids, kind="council.bylaws_vote",
          title_ja=f"{prefix_ja}協議会「{council.title_ja}」の規約改正案への投票のお願い（期限 {_when(deadline)}）",
          title_en=f"{prefix_en}please vote on the bylaws amendment of council “{council.title_en}” "
                   f"(by {_when_en(deadline)} JST)",
          body_ja=f"改正案: {summary}\n全ての参加者が期限までに賛成した場合に限り改正は効力を生じます。"
                  "一人でも反対し、又は期限までに回答がないときは否決となります。条ごとの変更を確認して回答してください。",
          body_en=f"Amendment: {summary}\nIt takes effect only if every member accepts before the deadline; one "
                  "objection or a missing answer rejects it. Review the changes article by article and answer.",
          link=f"/councils/{council.id}/bylaws/proposals/{proposal_id}", now=now)


def bylaws_decided(session: Session, council: Council, *, proposal_id: int, accepted: bool, version: int | None,
                   resign: bool, user_ids: Iterable[int], now: datetime) -> None:
    """Tell the members how a bylaws amendment ended; when the duty changed, that everyone signs again (C3)."""
    if accepted:
        title_ja = f"協議会「{council.title_ja}」の規約が改正されました（第{version}版）"
        title_en = f"The bylaws of council “{council.title_en}” were amended (version {version})"
        body_ja = ("守秘義務に関する規定が変更されたため、非公開情報を見る前に守秘義務誓約書に改めて署名してください。"
                   if resign else "守秘義務に関する規定は変更されていません。")
        body_en = ("The duty of confidentiality changed: sign the pledge again before reading non-public content."
                   if resign else "The duty of confidentiality is unchanged.")
    else:
        title_ja = f"協議会「{council.title_ja}」の規約改正案は成立しませんでした"
        title_en = f"The bylaws amendment of council “{council.title_en}” did not pass"
        body_ja, body_en = "現行の規約が引き続き適用されます。", "The bylaws in force stay as they are."
    _send(session, council, user_ids, kind="council.pledge_required" if resign else "council.bylaws_decided",
          title_ja=title_ja, title_en=title_en, body_ja=body_ja, body_en=body_en,
          link=f"/councils/{council.id}/bylaws/proposals/{proposal_id}", now=now)


def statement_designation_due(session: Session, council: Council, *, meeting_id: int, user_ids: Iterable[int],
                              deadline: datetime, now: datetime) -> None:
    """Remind the speaker and the secretariat that a statement made orally as confidential falls outside the
    duty unless designated in writing by ``deadline`` (issue 13). The text names no content, only the meeting."""
    readers = [u for u in user_ids if may_read_content(session, council, u)]
    _send(session, council, readers, kind="council.statement_designation_due",
          title_ja=f"【期限 {_when(deadline)}】口頭で秘として述べた事項の書面による指定",
          title_en=f"Written designation of a statement made orally as confidential due by {_when(deadline)} JST",
          body_ja="会合で秘として述べられた事項は、期限までに書面で指定されなければ守秘義務の対象外となります。",
          body_en="A statement made orally as confidential at a meeting falls outside the duty unless it is "
                  "designated in writing before the deadline.",
          link=f"/councils/{council.id}/meetings/{meeting_id}#statements", now=now, names=f"meeting:{meeting_id}")
