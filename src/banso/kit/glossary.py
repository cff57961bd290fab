"""The glossary (用語集) of statutory and programme terms: one Japanese word per thing (issue 14).

Pages, notices and the Japanese catalogue say each thing one way. Where the Act (経済施策を一体的に講ずる
ことによる安全保障の確保の推進に関する法律, 第4章) or the Cabinet Office names it, that word; where the Act
leaves it to the council (Art. 62: 協議会の組織及び運営に関し必要な事項は協議会が定める), the word of banso's
model bylaws (``councils/data/model_bylaws_ja.md``), which councils adopt. Each term lists the variants that
drifted into the text; ``tests/kit/test_glossary.py`` scans templates, the Japanese catalogue and the Python
sources and fails on any of them. Templates may also ask for a word by key: ``{{ term("meeting") }}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """A term: its key, the Japanese and English words, the drifted variants (patterns) and why this word."""

    key: str
    ja: str
    en: str
    drifts: tuple[str, ...]
    source: str


TERMS: tuple[Term, ...] = (
    Term("council", "協議会", "council", ("協議体",), "Act Art. 62 (協議会)"),
    # The Act does not name a council's sittings; banso's model bylaws (第5条 会合) do. 会議 stays right in
    # compounds that are not a council's sitting: a meeting room, an online meeting tool, the Cabinet
    # Office's programme council (プログラム会議) and expert panels (有識者会議).
    Term("meeting", "会合", "meeting",
         (r"(?<!オンライン)(?<!プログラム)(?<!有識者)(?<!テレビ)(?<!Web)会議(?![室体])",),
         "model bylaws 第5条（会合）; DESIGN C5 (meetings)"),
    Term("action_item", "取組事項", "action item", ("対応事項",),
         "a council's follow-up of its decisions (協議結果に基づく取組, C5)"),
    # The Cabinet Office and JST write the programme's short name in Latin letters in Japanese text too:
    # 経済安全保障重要技術育成プログラム（K Program）.
    Term("k_program", "K Program", "K Program", (r"[KＫ]\s?プログラム",), "Cabinet Office, JST (K Program)"),
    Term("k_program_full", "経済安全保障重要技術育成プログラム", "Economic Security Key Technology Research Program",
         ("経済安保重要技術育成プログラム", "経済安全保障重要技術開発プログラム"), "Cabinet Office"),
    Term("designation", "指定", "designation", (), "DESIGN: designation (指定) is the exception and must be minimal"),
    # 「最小限性」 is not a Japanese word people use: the check is whether designations stay 必要最小限.
    Term("minimality", "必要最小限", "minimality", ("最小限性",), "DESIGN I10 (minimality view): designations kept to the necessary minimum"),
)

_BY_KEY = {t.key: t for t in TERMS}


def term(key: str, locale: str = "ja") -> str:
    """Return the word for ``key`` in ``locale`` (KeyError for an unknown key: a typo must not pass)."""
    entry = _BY_KEY[key]
    return entry.ja if locale == "ja" else entry.en


def drift_patterns() -> list[tuple[Term, re.Pattern[str]]]:
    """Return each term with each of its drifted variants compiled."""
    return [(t, re.compile(p)) for t in TERMS for p in t.drifts]


def find_drifts(text: str) -> list[tuple[str, str]]:
    """Return ``(variant found, preferred word)`` for every drifted variant in ``text``."""
    return [(m.group(0), t.ja) for t, pattern in drift_patterns() for m in pattern.finditer(text)]
