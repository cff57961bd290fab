"""Pure rules of research integrity and the duplication check (F6): no session, no clock, no HTTP.

* **Conflict grounds** (利益相反の事由) a reviewer answers before seeing anything.
* **Disclosures** (研究インテグリティに係る申告): what each line must hold.
* **Duplication and concentration** (不合理な重複・過度の集中), checked by e-Rad researcher number:

  - *excessive concentration*: the effort (エフォート) a researcher commits over their live proposals and
    projects plus the other funding they disclosed adds up to more than 100 %;
  - *unreasonable duplication*: two live proposals or projects with the same researcher whose titles are
    similar, or a proposal whose title is similar to other funding its team disclosed. Similarity is the
    Jaccard index of the two titles' token sets (|A ∩ B| / |A ∪ B|) after NFKC normalisation and lower
    casing; tokens are Latin/digit words and the character bigrams of each run of kanji/katakana (Japanese
    has no spaces; bigrams are the usual cheap stand-in for words; hiragana — particles — only separates). A pair at or above
    ``SIMILAR_TITLE_THRESHOLD`` is flagged. The measure is deliberately simple and explainable: staff see
    the score and the shared tokens and decide.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from banso.kit.errors import ValidationFailed

SIMILAR_TITLE_THRESHOLD = 0.5
EFFORT_LIMIT = 100
STATEMENT_VERSION = "2026-1"
STATEMENT_JA = ("私は、他の研究費の受入れ・応募状況、所属・兼業、外国からの支援を含む研究インテグリティに係る情報を"
                "漏れなく正確に申告しました。採択後に変更が生じた場合は速やかに申告します。")
STATEMENT_EN = ("I have disclosed fully and accurately all other research funding received or applied for, my "
                "affiliations and side appointments, and any foreign support. I will declare any change after "
                "adoption without delay.")


class ConflictGround(StrEnum):
    """Grounds for a reviewer's conflict of interest (利益相反の事由, F6)."""

    ORGANISATION = "organisation"  # 同一機関・所属
    COLLABORATION = "collaboration"  # 共著・共同研究
    FAMILY_SUPERVISOR = "family_supervisor"  # 親族・師弟関係
    COMPETITOR = "competitor"  # 競合する応募者
    OTHER = "other"  # その他


GROUND_LABELS: Mapping[str, tuple[str, str]] = {
    ConflictGround.ORGANISATION: ("同一機関・所属", "same organisation"),
    ConflictGround.COLLABORATION: ("共著・共同研究", "co-authorship or joint project"),
    ConflictGround.FAMILY_SUPERVISOR: ("親族・師弟関係", "family or supervisor"),
    ConflictGround.COMPETITOR: ("競合する応募者", "competing applicant"),
    ConflictGround.OTHER: ("その他", "other"),
}


def check_grounds(grounds: Iterable[str] | None, *, has_conflict: bool | None) -> tuple[bool, list[str] | None]:
    """Return (has_conflict, grounds) after checking the ticked grounds agree with the answer.

    ``grounds`` None keeps the old yes/no declaration (no grounds recorded); any ground ticked is a conflict.
    """
    if grounds is None:
        if has_conflict is None:
            raise ValidationFailed("利益相反の有無を選んでください / declare whether you have a conflict",
                                   field="has_conflict")
        return has_conflict, None
    picked: list[str] = []
    for ground in grounds:
        if ground not in GROUND_LABELS:
            raise ValidationFailed(f"利益相反の事由が不正です: {ground!r} / unknown conflict ground {ground!r}",
                                   field="grounds")
        if ground not in picked:
            picked.append(ground)
    conflicted = bool(picked)
    if has_conflict is not None and has_conflict != conflicted:
        raise ValidationFailed("利益相反ありの場合は事由を選び、なしの場合は選ばないでください / a conflict needs "
                               "at least one ground, no conflict none", field="grounds")
    return conflicted, picked


# ---------------------------------------------------------------------------------------------
# Disclosures


FUNDING_KINDS = frozenset({"funding_received", "funding_applied"})
DISCLOSURE_KINDS = ("funding_received", "funding_applied", "affiliation", "side_appointment", "foreign_support")
KIND_LABELS: Mapping[str, tuple[str, str]] = {
    "funding_received": ("受入れ中の研究費", "funding received"),
    "funding_applied": ("応募中の研究費", "funding applied for"),
    "affiliation": ("所属", "affiliation"),
    "side_appointment": ("兼業・兼職", "side appointment"),
    "foreign_support": ("外国からの支援", "foreign support"),
}


@dataclass(frozen=True)
class DisclosureLine:
    """One checked disclosure line (amount in whole yen; entered in 千円)."""

    kind: str
    name: str
    agency: str | None = None
    researcher_number: str | None = None
    start_fiscal_year: int | None = None
    end_fiscal_year: int | None = None
    amount_yen: int | None = None
    effort_percent: int | None = None
    foreign: bool = False


def check_disclosure(line: DisclosureLine, index: int) -> DisclosureLine:
    """Return ``line`` when it is consistent; raise a bilingual 422 naming the line otherwise."""
    where = f"disclosures[{index}]"
    if line.kind not in KIND_LABELS:
        raise ValidationFailed(f"{where}: 申告の種類が不正です / unknown disclosure kind {line.kind!r}",
                               field="disclosures")
    if line.effort_percent is not None and not 0 <= line.effort_percent <= EFFORT_LIMIT:
        raise ValidationFailed(f"{where}: エフォートは0〜100の整数（%）です / effort is a whole percentage 0–100",
                               field="disclosures")
    if line.amount_yen is not None and line.amount_yen < 0:
        raise ValidationFailed(f"{where}: 金額は0以上です / the amount must not be negative", field="disclosures")
    if (line.start_fiscal_year is not None and line.end_fiscal_year is not None
            and line.end_fiscal_year < line.start_fiscal_year):
        raise ValidationFailed(f"{where}: 終了年度が開始年度より前です / the period ends before it starts",
                               field="disclosures")
    if line.kind in FUNDING_KINDS and not line.agency:
        raise ValidationFailed(f"{where}: 研究費には配分機関を入力してください / funding needs its agency",
                               field="disclosures")
    return line


def disclosures_digest(lines: Sequence[DisclosureLine]) -> str:
    """Return the SHA-256 of the disclosure lines as signed (stable order, canonical JSON)."""
    rows = [[line.kind, line.name, line.agency, line.researcher_number, line.start_fiscal_year,
             line.end_fiscal_year, line.amount_yen, line.effort_percent, line.foreign] for line in lines]
    payload = json.dumps({"statement": STATEMENT_VERSION, "lines": rows}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Duplication and concentration


# Kanji and katakana runs carry a title's content; hiragana (particles, okurigana) only separates them.
_JAPANESE = re.compile(r"[\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_HIRAGANA = re.compile(r"[\u3040-\u309f]+")
_WORD = re.compile(r"[a-z0-9]+")
_LATIN_STOP = frozenset({"a", "an", "and", "the", "of", "for", "in", "on", "to", "by", "with"})


def title_tokens(title: str) -> frozenset[str]:
    """Return the token set of a title: Latin/digit words (no stop words) and Japanese character bigrams."""
    text = unicodedata.normalize("NFKC", title).lower()
    tokens: set[str] = set()
    for run in _JAPANESE.findall(text):
        tokens.update([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
    latin = _HIRAGANA.sub(" ", _JAPANESE.sub(" ", text))
    tokens.update(w for w in _WORD.findall(latin) if w not in _LATIN_STOP)
    return frozenset(tokens)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Return |a ∩ b| / |a ∪ b| (0 for two empty sets)."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


@dataclass(frozen=True)
class Engagement:
    """A researcher's place on one live proposal or project (the check's input)."""

    researcher_number: str
    proposal_id: int
    title: str
    effort_percent: int | None
    state: str
    receipt_number: str | None = None
    agency_id: int | None = None


@dataclass(frozen=True)
class OtherFunding:
    """Other funding a researcher disclosed on a proposal."""

    researcher_number: str
    proposal_id: int
    name: str
    agency: str | None
    effort_percent: int | None
    kind: str


@dataclass(frozen=True)
class Flag:
    """One finding for the staff, with its evidence."""

    kind: str  # "effort" (過度の集中) or "similar_title" / "same_funding" (不合理な重複)
    researcher_number: str
    proposal_ids: tuple[int, ...]
    score: float  # total effort % or the Jaccard index
    evidence: Mapping[str, object] = field(default_factory=dict)


def _effort_flags(engagements: Sequence[Engagement], funding: Sequence[OtherFunding]) -> list[Flag]:
    by_person: dict[str, list[tuple[str, int, int]]] = {}
    for e in engagements:
        if e.effort_percent:
            by_person.setdefault(e.researcher_number, []).append(("proposal", e.proposal_id, e.effort_percent))
    # Other funding is counted once per researcher and name, however many proposals disclose it.
    seen: set[tuple[str, str, str]] = set()
    for f in funding:
        key = (f.researcher_number, _norm(f.name), _norm(f.agency or ""))
        if f.effort_percent and f.kind == "funding_received" and key not in seen:
            seen.add(key)
            by_person.setdefault(f.researcher_number, []).append(("other", f.proposal_id, f.effort_percent))
    flags = []
    for number, parts in sorted(by_person.items()):
        total = sum(p[2] for p in parts)
        if total > EFFORT_LIMIT:
            flags.append(Flag(kind="effort", researcher_number=number,
                              proposal_ids=tuple(sorted({p[1] for p in parts if p[0] == "proposal"})),
                              score=float(total),
                              evidence={"parts": [{"source": s, "proposal_id": pid, "effort_percent": pct}
                                                  for s, pid, pct in parts]}))
    return flags


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def _title_flags(engagements: Sequence[Engagement], threshold: float, tokens: Mapping[int, frozenset[str]]) -> list[Flag]:
    flags = []
    by_person: dict[str, dict[int, Engagement]] = {}
    for e in engagements:
        by_person.setdefault(e.researcher_number, {})[e.proposal_id] = e
    for number, found in sorted(by_person.items()):
        mine = sorted(found.values(), key=lambda e: e.proposal_id)
        for i, a in enumerate(mine):
            for b in mine[i + 1:]:
                ta, tb = tokens[a.proposal_id], tokens[b.proposal_id]
                score = jaccard(ta, tb)
                if score >= threshold:
                    flags.append(Flag(kind="similar_title", researcher_number=number,
                                      proposal_ids=(a.proposal_id, b.proposal_id), score=round(score, 3),
                                      evidence={"shared_tokens": sorted(ta & tb)}))
    return flags


def _funding_flags(engagements: Sequence[Engagement], funding: Sequence[OtherFunding], threshold: float,
                   tokens: Mapping[int, frozenset[str]]) -> list[Flag]:
    on = {(e.researcher_number, e.proposal_id) for e in engagements}
    flags = []
    for f in funding:
        if (f.researcher_number, f.proposal_id) not in on:
            continue
        tf, te = title_tokens(f.name), tokens[f.proposal_id]
        score = jaccard(tf, te)
        if score >= threshold:
            flags.append(Flag(kind="same_funding", researcher_number=f.researcher_number,
                              proposal_ids=(f.proposal_id,), score=round(score, 3),
                              evidence={"funding": f.name, "agency": f.agency, "funding_kind": f.kind,
                                        "shared_tokens": sorted(tf & te)}))
    return flags


def duplication_flags(engagements: Sequence[Engagement], funding: Sequence[OtherFunding], *,
                      threshold: float = SIMILAR_TITLE_THRESHOLD) -> list[Flag]:
    """Return every effort, similar-title and same-funding flag over the given live engagements (F6)."""
    titles = {e.proposal_id: e.title for e in engagements}
    tokens = {pid: title_tokens(title) for pid, title in titles.items()}  # one tokenisation per proposal
    return (_effort_flags(engagements, funding) + _title_flags(engagements, threshold, tokens)
            + _funding_flags(engagements, funding, threshold, tokens))
