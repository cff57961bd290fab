"""I8: invisible fingerprints in text and CSV survive excerpts; the text looks the same."""

from __future__ import annotations

import csv
import io
import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from banso.leak.attribute import attribute
from banso.leak.text import (
    FRAME,
    ONE,
    ZERO,
    CannotFingerprint,
    encode_mark,
    find_marks,
    stamp_csv,
    stamp_text,
    strip_invisible,
    strip_marks,
)
from tests.support.leak import RECIPIENTS, issue_code

PARAGRAPHS = [
    "経済安全保障推進法第62条に基づき、協議会の構成員は守秘義務を負います。本資料は協議会限りとします。",
    (
        "The council discussed the navigation accuracy of the autonomous underwater vehicle (AUV) and agreed "
        "to share the evaluation data among pledged participants only."
    ),
    (
        "水中航法アルゴリズムの評価結果：平均誤差は 0.3% 以下であり、従来手法に比べて大幅に改善した。"
        "ただし、長時間運用時のドリフトについては追加の検証が必要である。"
    ),
    (
        "Action items: (1) the think tank prepares a comparison with foreign programmes by 30 June; "
        "(2) the secretariat circulates the revised bylaws; (3) participants review the draft designation."
    ),
    "次回会合では、指定の期間（最長5年）と範囲について審議する。Minutes approved without objection.",
    "本資料の無断複製・転送を禁ずる。Unauthorised copying or forwarding is prohibited.",
]
DOCUMENT = "\n\n".join(PARAGRAPHS) + "\n"
CODE = issue_code(0)


def excerpt(stamped: str) -> bytes:
    """Paragraphs 3–5 of a copy, pasted into a Windows text file and trimmed."""
    paragraphs = stamped.split("\n\n")
    return "\r\n\r\n".join(paragraphs[2:5]).strip().encode()


def test_stamped_text_renders_identically() -> None:
    stamped = stamp_text(DOCUMENT, code=CODE)
    assert stamped != DOCUMENT
    # Only the three invisible mark characters were added, nothing else changed.
    assert strip_invisible(stamped) == DOCUMENT
    assert strip_marks(stamped) == DOCUMENT
    added = set(stamped) - set(DOCUMENT)
    assert added == {ZERO, ONE, FRAME}
    assert all(unicodedata.category(ch) == "Cf" for ch in added)
    # Normalisation keeps the marks.
    assert len(find_marks(unicodedata.normalize("NFKC", stamped))) == len(find_marks(stamped))


def test_every_paragraph_carries_an_intact_mark() -> None:
    stamped = stamp_text(DOCUMENT, code=CODE)
    for paragraph in stamped.split("\n\n"):
        marks = find_marks(paragraph)
        assert marks and all(m.code == CODE and m.verified for m in marks)
        # Never at the edges, where selections and trimming drop invisible characters.
        assert paragraph.strip()[0] not in (ZERO, ONE, FRAME)
        assert paragraph.strip()[-1] not in (ZERO, ONE, FRAME)


def test_marks_sit_where_a_line_may_already_break() -> None:
    stamped = stamp_text("Hello world again\n日本語の文章\n", code=CODE)
    mark = encode_mark(CODE)
    assert stamped == f"Hello {mark}world again\n日{mark}本語の文章\n"


def test_long_paragraph_gets_several_marks() -> None:
    long = " ".join(["word"] * 400)
    assert len(find_marks(stamp_text(long, code=CODE))) >= 5


def test_single_word_line_falls_back_to_after_first_character() -> None:
    assert stamp_text("Introduction", code=CODE) == "I" + encode_mark(CODE) + "ntroduction"


def test_combining_marks_are_not_split() -> None:
    text = "e\u0301cole publique"  # e + combining acute
    stamped = stamp_text(text, code=CODE)
    assert stamped.startswith("e\u0301cole ")


def test_unmarkable_text_is_refused() -> None:
    with pytest.raises(CannotFingerprint):
        stamp_text("مرحبا", code=CODE)  # Arabic: U+200C would change the shaping
    assert stamp_text("  \n\n", code=CODE) == "  \n\n"


def test_text_excerpt_of_three_paragraphs_is_attributed(candidates: dict[str, bytes]) -> None:
    for k in range(RECIPIENTS):
        copy = stamp_text(DOCUMENT, code=issue_code(k))
        result = attribute(excerpt(copy), candidates, filename="leak.txt")
        assert result.best == f"dl-{k}", result.explanation
        assert result.confidence > 0.99
        assert result.distance == 0
        [evidence] = result.evidence
        assert evidence.channel == "text-zero-width" and evidence.verified
        assert evidence.occurrences >= 3


def test_one_paragraph_is_enough(candidates: dict[str, bytes]) -> None:
    copy = stamp_text(DOCUMENT, code=issue_code(7))
    one = copy.split("\n\n")[3].replace("\n", "\r\n").strip()
    result = attribute(one.encode(), candidates)
    assert result.best == "dl-7" and result.confidence > 0.99


def test_utf16_paste_is_read(candidates: dict[str, bytes]) -> None:
    copy = stamp_text(DOCUMENT, code=issue_code(3))
    result = attribute(copy.encode("utf-16"), candidates)
    assert result.best == "dl-3"


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_characters=[ZERO, ONE, FRAME]), max_size=300))
def test_stamp_text_property(text: str) -> None:
    try:
        stamped = stamp_text(text, code=CODE)
    except CannotFingerprint:
        return
    assert strip_invisible(stamped) == text
    assert len(stamped.splitlines()) == len(text.splitlines())
    marks = find_marks(stamped)
    assert all(m.code == CODE and m.verified for m in marks)
    if text.strip():
        assert marks


# --- CSV ----------------------------------------------------------------------------------------

HEADER = ["id", "氏名", "所属", "金額", "日付", "メール"]


def make_csv(rows: int = 100) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HEADER)
    orgs = ["東京大学", "NEDO", "Ocean Robotics, Inc.", "海洋研究開発機構"]
    for i in range(1, rows + 1):
        w.writerow([i, f"研究者{i:03d} 太郎", orgs[i % 4], f"{1000 * i + 0.5}", f"2024-04-{1 + i % 28:02d}",
                    f"user{i}@example.jp"])
    return out.getvalue()


def test_csv_still_parses_and_only_the_text_column_changes() -> None:
    original = make_csv()
    stamped = stamp_csv(original, code=CODE)
    before = list(csv.reader(io.StringIO(original)))
    after = list(csv.reader(io.StringIO(stamped)))
    assert len(after) == len(before) == 101
    assert after[0] == before[0]  # the header row keeps its column names
    for old, new in zip(before[1:], after[1:], strict=True):
        assert len(new) == len(old)
        assert new[0] == old[0] and new[3] == old[3] and new[4] == old[4] and new[5] == old[5]
        assert new[1] != old[1] and strip_marks(new[1]) == old[1]  # the name cell gains the mark
        float(new[3])
    assert strip_marks(stamped) == original
    assert len(find_marks(stamped)) == 100


def test_csv_excerpt_of_twenty_rows_is_attributed(candidates: dict[str, bytes]) -> None:
    original = make_csv()
    for k in range(RECIPIENTS):
        copy = stamp_csv(original, code=issue_code(k))
        lines = copy.splitlines()
        leaked = "\n".join(lines[40 + k : 60 + k]).strip()
        rows = list(csv.reader(io.StringIO(leaked)))
        assert len(rows) == 20 and all(len(r) == len(HEADER) for r in rows)
        result = attribute(leaked.encode(), candidates, filename="leak.csv")
        assert result.best == f"dl-{k}", result.explanation
        assert result.confidence > 0.99
        assert result.evidence[0].occurrences == 20


def test_csv_without_text_cells_is_refused() -> None:
    with pytest.raises(CannotFingerprint):
        stamp_csv("a,b\n1,2\n3,4.5\n", code=CODE)


def test_csv_quoted_cells() -> None:
    data = 'id,memo\r\n1,"Line one\r\nline ""two"", end"\r\n2,"plain text"\r\n'
    stamped = stamp_csv(data, code=CODE)
    assert [[strip_marks(c) for c in r] for r in csv.reader(io.StringIO(stamped))] == list(
        csv.reader(io.StringIO(data))
    )
    assert len(find_marks(stamped)) == 2


cells = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(alphabet=st.characters(blacklist_characters=[ZERO, ONE, FRAME], blacklist_categories=["Cs"]),
            max_size=20),
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.lists(cells, min_size=1, max_size=5), min_size=2, max_size=8))
def test_stamp_csv_property(rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    data = out.getvalue()
    try:
        stamped = stamp_csv(data, code=CODE)
    except CannotFingerprint:
        assume(False)
        return
    parsed = [[strip_marks(c) for c in r] for r in csv.reader(io.StringIO(stamped, newline=""))]
    assert parsed == list(csv.reader(io.StringIO(data, newline="")))
    assert strip_invisible(stamped) == data
    assert all(m.code == CODE and m.verified for m in find_marks(stamped))
