"""The glossary (issue 14): no drifted variant of a statutory or programme term in templates, the Japanese
catalogue or Japanese text in the sources; the glossary's own rules are exercised too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from banso.kit import glossary

SRC = Path(glossary.__file__).resolve().parents[1]
TEMPLATES = SRC / "web" / "templates"
JA_CATALOGUE = SRC / "locale" / "ja" / "LC_MESSAGES" / "messages.po"
# The glossary names the drifted variants itself; the bylaws are adopted text and checked with the rest.
NOT_SCANNED = {SRC / "kit" / "glossary.py"}


def _catalogue_strings() -> list[tuple[str, str]]:
    """Return (where, text) for every msgstr of the Japanese catalogue (msgids are English)."""
    found, current, where = [], [], ""
    for number, line in enumerate(JA_CATALOGUE.read_text("utf-8").splitlines(), 1):
        if line.startswith("msgstr "):
            current, where = [line[7:]], f"messages.po:{number}"
        elif line.startswith('"') and current:
            current.append(line)
        else:
            if current:
                found.append((where, "".join(s.strip('"') for s in current)))
            current = []
    if current:
        found.append((where, "".join(s.strip('"') for s in current)))
    return found


def _sources() -> list[tuple[str, str]]:
    texts = [(str(p.relative_to(SRC)), p.read_text("utf-8")) for p in sorted(TEMPLATES.rglob("*.html"))]
    texts += [(str(p.relative_to(SRC)), p.read_text("utf-8")) for p in sorted(SRC.rglob("*.py")) if p not in NOT_SCANNED]
    texts += [(str(p.relative_to(SRC)), p.read_text("utf-8")) for p in sorted(SRC.rglob("*.md"))]
    return texts + _catalogue_strings()


def test_no_drifted_terms_in_templates_catalogue_or_sources() -> None:
    found = [f"{where}: 「{variant}」 → 「{preferred}」"
             for where, text in _sources() for variant, preferred in glossary.find_drifts(text)]
    assert not found, "drifted terms (kit/glossary.py):\n" + "\n".join(found)


def test_the_scan_covers_what_it_says() -> None:
    wheres = [w for w, _ in _sources()]
    assert any(w.startswith("web/templates/") for w in wheres)
    assert any(w.startswith("messages.po:") for w in wheres)
    assert any(w == "councils/notices.py" for w in wheres)


@pytest.mark.parametrize(("text", "variant"), [
    ("会議「第3回」が予定されました", "会議"), ("対応事項の期限", "対応事項"), ("Kプログラムの公募", "Kプログラム"),
    ("Ｋプログラム", "Ｋプログラム"), ("指定の最小限性", "最小限性"), ("協議会の会議です", "会議"),
])
def test_drifted_variants_are_found(text: str, variant: str) -> None:
    assert variant in [v for v, _ in glossary.find_drifts(text)]


@pytest.mark.parametrize("text", ["第2会議室", "オンライン会議のURL", "プログラム会議決定", "有識者会議", "第1回会合",
                                  "取組事項", "経済安全保障重要技術育成プログラム（K Program）"])
def test_right_words_and_other_compounds_pass(text: str) -> None:
    assert glossary.find_drifts(text) == []


def test_term_by_key() -> None:
    assert glossary.term("meeting") == "会合" and glossary.term("meeting", "en") == "meeting"
    assert glossary.term("k_program") == "K Program"
    with pytest.raises(KeyError):
        glossary.term("meting")
    assert all(re.compile(p) for t in glossary.TERMS for p in t.drifts)
