"""Typed membership of a council (issue 13): the statutory party types and the consent rule per council type.

Pure rules: no session, no HTTP, no clock — times are passed in.

* **Party type** (当事者の種別) is who a person is to the council under Arts. 62–64 of the Act, separate from
  the council role (chair/secretariat/member/observer) that says what they do in it.
* **Consent rule per council type** (C1, Art. 62): a *project council* (``project_ref`` set) is organised with
  the research representative's (研究代表者) consent — it is established when every research representative has
  consented in time, and it lapses when one declines or has not answered by the deadline. Any other founder of a
  project council joins by their own consent; a decline is recorded and that founder simply does not join.
  Every other council keeps "every founder consents" (:func:`banso.councils.rules.establishment_outcome`).
* **Removal** by the secretariat (C3): access ends at once, the pledge record and the duty remain; the last chair
  cannot be removed (see :func:`check_removal`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from banso.councils.models import ConsentDecision, CouncilRole
from banso.councils.rules import ConsentFact, Outcome, establishment_outcome
from banso.kit.errors import Conflict, ValidationFailed


class PartyType(StrEnum):
    """Statutory party type of a founder or member (Act Arts. 62–64; seed 2(2)②)."""

    ORGANISING_MINISTRY = "organising_ministry"  # 組織する省庁（所管大臣）
    RESEARCH_REPRESENTATIVE = "research_representative"  # 研究代表者
    FUNDING_AGENCY = "funding_agency"  # 資金配分機関
    THINK_TANK = "think_tank"  # 調査研究機関
    NEEDS_MINISTRY = "needs_ministry"  # ニーズ省庁
    PARTICIPANT = "participant"  # その他参加者
    OBSERVER = "observer"  # オブザーバー


DEFAULT_PARTY = PartyType.PARTICIPANT

PARTY_LABELS_JA: dict[str, str] = {
    PartyType.ORGANISING_MINISTRY: "組織する省庁（所管大臣）",
    PartyType.RESEARCH_REPRESENTATIVE: "研究代表者",
    PartyType.FUNDING_AGENCY: "資金配分機関",
    PartyType.THINK_TANK: "調査研究機関",
    PartyType.NEEDS_MINISTRY: "ニーズ省庁",
    PartyType.PARTICIPANT: "その他参加者",
    PartyType.OBSERVER: "オブザーバー",
}
PARTY_LABELS_EN: dict[str, str] = {
    PartyType.ORGANISING_MINISTRY: "Organising ministry",
    PartyType.RESEARCH_REPRESENTATIVE: "Research representative",
    PartyType.FUNDING_AGENCY: "Funding agency",
    PartyType.THINK_TANK: "Think tank",
    PartyType.NEEDS_MINISTRY: "Needs ministry",
    PartyType.PARTICIPANT: "Other participant",
    PartyType.OBSERVER: "Observer",
}


def party_label(value: str, lang: str = "ja") -> str:
    """Return the label of a party type (the raw value for an unknown one)."""
    return (PARTY_LABELS_JA if lang == "ja" else PARTY_LABELS_EN).get(value, value)


def parse_party(value: str | None) -> PartyType:
    """Return the party type, the default (その他参加者) for none, or refuse an unknown one (4xx)."""
    if value is None or value == "":
        return DEFAULT_PARTY
    try:
        return PartyType(value)
    except ValueError:
        allowed = ", ".join(p.value for p in PartyType)
        raise ValidationFailed(f"当事者の種別「{value}」は不明です（{allowed} のいずれか） / unknown party type "
                               f"{value!r}; use one of {allowed}", field="party") from None


def party_for_org_kind(org_kind: str) -> PartyType:
    """Return the party type an organisation's kind suggests (ministry, funding agency, think tank, others)."""
    return {"ministry": PartyType.ORGANISING_MINISTRY, "funding_agency": PartyType.FUNDING_AGENCY,
            "think_tank": PartyType.THINK_TANK}.get(org_kind, PartyType.PARTICIPANT)


# Which organisations a party type may come from (an empty set: any organisation).
_PARTY_ORG_KINDS: dict[PartyType, frozenset[str]] = {
    PartyType.ORGANISING_MINISTRY: frozenset({"ministry"}),
    PartyType.NEEDS_MINISTRY: frozenset({"ministry"}),
    PartyType.FUNDING_AGENCY: frozenset({"funding_agency"}),
    PartyType.THINK_TANK: frozenset({"think_tank"}),
}


def check_party(party: PartyType, *, org_kind: str, may_lead_research: bool, is_proposer: bool,
                field: str = "party") -> None:
    """Refuse a party type the person cannot hold (C1, Art. 62): a research representative is a researcher who
    may lead a project (not the council's proposer, whose consent would then establish a project council alone);
    ministries, funding agencies and think tanks are people of such an organisation."""
    if party == PartyType.RESEARCH_REPRESENTATIVE and (is_proposer or not may_lead_research):
        raise ValidationFailed("研究代表者には研究開発を担う研究者を指定してください（提案者は指定できません） / the research "
                               "representative must be a researcher who may lead a project, not the proposer",
                               field=field)
    kinds = _PARTY_ORG_KINDS.get(party)
    if kinds and org_kind not in kinds:
        raise ValidationFailed(f"「{party_label(party)}」にはその種別の組織の方を指定してください / a "
                               f"{party_label(party, 'en').lower()} must belong to such an organisation", field=field)


def is_project_council(project_ref: str | None) -> bool:
    """A council linked to a project is a project council (C1, C2)."""
    return bool(project_ref)


def representatives(parties: dict[int, str], required_ids: Sequence[int]) -> frozenset[int]:
    """Return whose consent a project council needs: the founders typed research representative.

    Councils proposed before party types existed have none typed: their required researchers
    (``required_person_ids``, C1) stand in, and failing those every founder (the old rule).
    """
    typed = frozenset(uid for uid, party in parties.items() if party == PartyType.RESEARCH_REPRESENTATIVE)
    return typed or frozenset(required_ids) or frozenset(parties)


def _in_time(fact: ConsentFact, deadline: datetime) -> bool:
    return fact.decision == ConsentDecision.CONSENTED and fact.decided_at is not None and fact.decided_at < deadline


def project_outcome(consents: Sequence[ConsentFact], needed: frozenset[int], *, deadline: datetime,
                    now: datetime) -> Outcome:
    """Decide a proposed project council: the research representatives' consent establishes it (Art. 62).

    A decline by a representative, or a representative's missing answer at the deadline, lapses it;
    others' answers do not decide it.
    """
    mine = [c for c in consents if c.user_id in needed]
    if not mine:
        return Outcome.LAPSE if now >= deadline else Outcome.WAIT
    if any(c.decision == ConsentDecision.DECLINED for c in mine):
        return Outcome.LAPSE
    if all(_in_time(c, deadline) for c in mine):
        return Outcome.ESTABLISH
    return Outcome.LAPSE if now >= deadline else Outcome.WAIT


def outcome_for(consents: Sequence[ConsentFact], *, project_ref: str | None, parties: dict[int, str],
                required_ids: Sequence[int], deadline: datetime, now: datetime) -> Outcome:
    """Decide a proposed council by its type: project councils by the representatives, others by everyone (C1)."""
    if is_project_council(project_ref):
        return project_outcome(consents, representatives(parties, required_ids), deadline=deadline, now=now)
    return establishment_outcome(consents, deadline=deadline, now=now)


def check_removal(*, target_role: str | None, other_chairs: int, self_removal: bool) -> None:
    """Refuse removing a non-member, oneself (leave instead) or the last chair (name another chair first)."""
    if target_role is None:
        raise ValidationFailed("この方は現在の構成員ではありません / this person is not a current member",
                               field="user_id")
    if self_removal:
        raise Conflict("自分自身は除名できません（脱退してください） / you cannot remove yourself; leave instead",
                       field="user_id")
    if target_role == CouncilRole.CHAIR and other_chairs == 0:
        raise Conflict("唯一の議長は除名できません。先に別の議長を選任してください / the only chair cannot be removed; "
                       "make another member chair first", field="user_id")



def check_role_change(*, old_role: str, new_role: str, other_chairs: int) -> None:
    """Refuse turning the only chair into something else (confirming exclusions and the council's business need a
    chair; the same rule as :func:`check_removal`)."""
    if old_role == CouncilRole.CHAIR and new_role != CouncilRole.CHAIR and other_chairs == 0:
        raise Conflict("唯一の議長の役割は変更できません。先に別の議長を選任してください / the only chair's role cannot be "
                       "changed; make another member chair first", field="role")
