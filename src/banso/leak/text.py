"""Invisible fingerprints in plain text and CSV (I8: a text excerpt of a leaked copy is attributable).

Method
------
Each *mark* is the 64-bit fingerprint code followed by its 16-bit checksum, written as 80
zero-width characters — U+200B ZERO WIDTH SPACE for 0, U+200C ZERO WIDTH NON-JOINER for 1 —
framed by U+2060 WORD JOINER on both sides (82 code points, 246 UTF-8 bytes per mark). These
are Unicode format characters (category Cf, default-ignorable): they have no glyph and no width,
so the stamped text renders exactly like the original, and deleting them gives the original back.

* **Text** — every non-blank line (a paragraph, or one line of a hard-wrapped paragraph) gets a
  mark inside it, and long lines get another mark every ~240 characters. A mark goes where a line
  break is already allowed (after the space that follows the first word, or between two kanji or
  kana), so it adds no new break opportunity; a line with no such place gets the mark after its
  first character. Never before the first or after the last visible character, because selections
  and trimming tools tend to drop invisible characters at the edges of an excerpt.
* **CSV** — every data record gets one mark inside one *text* cell (a cell that starts with a
  letter and is not a number, boolean, e-mail address, URL or identifier-like code), preferably a
  column of names or prose. The file still parses with :mod:`csv`; numeric and date cells and the
  header row are untouched. **Effect:** the chosen cell value gains 82 invisible characters, so
  an exact comparison or join on that column (e.g. ``row["氏名"] == "山田太郎"``) no longer matches
  until :func:`strip_marks` is applied.

Because every paragraph (every CSV row) carries the whole code, copying one paragraph or row is
enough; the checksum tells an intact mark from a damaged one, and several marks outvote damage.
Line-ending changes (CRLF↔LF), stripping leading and trailing whitespace, and NFC/NFKC
normalisation keep the marks.

Limits
------
* Does not survive retyping, OCR of a screenshot or print-out, or any tool that removes
  format (Cf) characters — many sanitisers, some chat and mail clients, and "remove zero-width
  spaces" clean-ups do exactly that.
* Lines with no safe anchor (for example pure Arabic or Indic text, where U+200C would change the
  shaping) carry no mark; a CSV with no text cells cannot be marked (:class:`CannotFingerprint`).
* Two recipients comparing their copies see where the copies differ and can remove the marks;
  they cannot forge another recipient's code without knowing it.
* Editors that show invisible characters reveal the marks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from banso.kit.errors import BansoError
from banso.leak.fingerprint import CHECK_BITS, CODE_BITS, bits_to_code, check_code, code_to_bits

ZERO: Final = "\u200b"
ONE: Final = "\u200c"
FRAME: Final = "\u2060"
MARK_BITS: Final = CODE_BITS + CHECK_BITS
MARK_SPACING: Final = 240
_MARK_RE: Final = re.compile(f"{FRAME}?[{ZERO}{ONE}]{{{MARK_BITS}}}{FRAME}?")
# Maximal runs of bit characters; only runs of exactly MARK_BITS decode (a run with characters
# lost or added is too damaged to place its bits).
_RUN_RE: Final = re.compile(f"[{ZERO}{ONE}]+")
_INVISIBLE: Final = {ord(ZERO): None, ord(ONE): None, ord(FRAME): None}


class CannotFingerprint(BansoError):
    """The content has no place where an invisible fingerprint can be put (I8)."""

    status_code = 422
    code = "cannot_fingerprint"


@dataclass(frozen=True)
class TextMark:
    """One decoded mark: the code, whether its checksum verified, and where it starts."""

    code: bytes
    verified: bool
    offset: int


def encode_mark(code: bytes) -> str:
    """Return the invisible mark (82 format characters) carrying ``code`` and its checksum."""
    return FRAME + "".join(ONE if bit else ZERO for bit in code_to_bits(code)) + FRAME


def find_marks(text: str) -> list[TextMark]:
    """Return every decodable mark in ``text``, intact or damaged, in order."""
    marks = []
    for match in _RUN_RE.finditer(text):
        run = match.group()
        if len(run) != MARK_BITS:
            continue
        code, verified = bits_to_code([1 if ch == ONE else 0 for ch in run])
        marks.append(TextMark(code=code, verified=verified, offset=match.start()))
    return marks


def strip_marks(text: str) -> str:
    """Remove banso marks from ``text`` (other zero-width characters are kept)."""
    return _MARK_RE.sub("", text)


def strip_invisible(text: str) -> str:
    """Remove every character of the mark alphabet (U+200B, U+200C, U+2060) from ``text``."""
    return text.translate(_INVISIBLE)


# --- where a mark may go ------------------------------------------------------------------------

_SMALL_KANA: Final = frozenset("ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ")


def _is_ideographic(ch: str) -> bool:
    """Return True for kanji and full-size kana, between which a line may always break (UAX #14 ID)."""
    cp = ord(ch)
    if ch in _SMALL_KANA:
        return False
    return (
        0x3041 <= cp <= 0x3096  # hiragana letters
        or 0x30A1 <= cp <= 0x30FA  # katakana letters
        or 0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3FFFF
    )


def _is_safe_anchor(ch: str) -> bool:
    """Return True if a zero-width character after ``ch`` cannot change how ``ch`` is drawn."""
    if ch.isspace() or unicodedata.category(ch)[0] in "CMZ":
        return False
    cp = ord(ch)
    # Scripts below U+0590 (Latin, Greek, Cyrillic, ...) and CJK do not join or form conjuncts;
    # after Arabic or Indic letters U+200C would break the shaping, so those get no mark.
    return cp < 0x0590 or 0x2E80 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFFEF or 0x20000 <= cp <= 0x3FFFF


def _may_follow(ch: str) -> bool:
    """Return True if ``ch`` may come right after a mark (not a combining mark or joiner)."""
    return not ch.isspace() and unicodedata.category(ch)[0] not in "CMZ"


def _neutral(s: str, i: int, seen_visible: bool) -> bool:
    """Return True if a line break is already allowed before ``s[i]`` (so a mark changes nothing)."""
    prev, cur = s[i - 1], s[i]
    if not _may_follow(cur):
        return False
    if prev == " " and seen_visible:
        # UAX #14 forbids a break before closing punctuation even after a space ("word ."), so
        # only a word or an opening bracket or quote may follow.
        category = unicodedata.category(cur)
        return category[0] in "LN" or category in ("Ps", "Pi")
    return _is_ideographic(prev) and _is_ideographic(cur)


def _anchors(s: str) -> list[int]:
    """Return the insertion points for marks in one line ``s`` (without its line ending)."""
    positions: list[int] = []
    fallback: int | None = None
    seen_visible = False
    for i in range(1, len(s)):
        if not seen_visible and not s[i - 1].isspace():
            seen_visible = True
        if fallback is None and _is_safe_anchor(s[i - 1]) and _may_follow(s[i]):
            fallback = i
        if _neutral(s, i, seen_visible) and (not positions or i - positions[-1] >= MARK_SPACING):
            positions.append(i)
    if positions:
        return positions
    if fallback is not None:
        return [fallback]
    # A one-character line: after its only character is the one place left.
    stripped = s.rstrip()
    if stripped and _is_safe_anchor(stripped[-1]):
        return [len(stripped)]
    return []


def _insert(s: str, positions: list[int], mark: str) -> str:
    out = []
    last = 0
    for pos in positions:
        out.append(s[last:pos])
        out.append(mark)
        last = pos
    out.append(s[last:])
    return "".join(out)


def _split_line_ending(line: str) -> tuple[str, str]:
    body = line.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
    return body, line[len(body):]


def stamp_text(text: str, *, code: bytes) -> str:
    """Return ``text`` with an invisible mark carrying ``code`` in every non-blank line (I8)."""
    mark = encode_mark(check_code(code))
    out = []
    marked = 0
    for line in text.splitlines(keepends=True):
        body, ending = _split_line_ending(line)
        positions = _anchors(body)
        marked += len(positions)
        out.append(_insert(body, positions, mark) + ending)
    if marked == 0 and text.strip():
        raise CannotFingerprint("この文書には見えない識別符号を入れられる箇所がありません / This text has no place where an invisible fingerprint can be put.")
    return "".join(out)


# --- CSV ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    start: int  # index in the raw data of the cell's first content character
    value: str  # the cell's value as csv would read it


def _scan_csv(data: str, delimiter: str) -> Iterator[list[_Cell]]:
    """Yield the records of ``data`` with raw offsets (RFC 4180, lenient like :mod:`csv`)."""
    n = len(data)
    i = 0
    row: list[_Cell] = []
    stops = (delimiter, "\r", "\n")
    while i < n:
        if data[i] == '"':
            start = j = i + 1
            parts = []
            while True:
                k = data.find('"', j)
                if k == -1:
                    parts.append(data[j:])
                    j = n
                    break
                if k + 1 < n and data[k + 1] == '"':
                    parts.append(data[j : k + 1])
                    j = k + 2
                    continue
                parts.append(data[j:k])
                j = k + 1
                break
            m = j
            while m < n and data[m] not in stops:
                m += 1
            row.append(_Cell(start, "".join(parts) + data[j:m]))
        else:
            m = i
            while m < n and data[m] not in stops:
                m += 1
            row.append(_Cell(i, data[i:m]))
        i = m
        if i < n and data[i] == delimiter:
            i += 1
            if i == n:
                row.append(_Cell(n, ""))
            continue
        if i < n and data[i] == "\r":
            i += 1
        if i < n and data[i] == "\n":
            i += 1
        yield row
        row = []
    if row:
        yield row


_NOT_TEXT_TOKENS: Final = frozenset({"true", "false", "yes", "no", "null", "none", "nan", "na", "n/a", "inf"})
_EMAIL_RE: Final = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
_IDENT_RE: Final = re.compile(r"^[A-Za-z0-9_.:/-]*[0-9_][A-Za-z0-9_.:/-]*$")


def _is_text_cell(value: str) -> bool:
    """Return True for a cell holding words (a name, a title), not a number, date, code or address."""
    v = value.strip()
    if len(v) < 2 or not v[0].isalpha() or v.lower() in _NOT_TEXT_TOKENS:
        return False
    try:
        float(v)
    except ValueError:
        pass
    else:
        return False
    return not (_EMAIL_RE.match(v) or "://" in v or _IDENT_RE.match(v))


def _is_prose_cell(value: str) -> bool:
    return _is_text_cell(value) and (" " in value.strip() or any(ord(c) > 0x7F and c.isalpha() for c in value))


def _cell_anchor(cell: _Cell) -> int | None:
    """Return the raw insertion point inside a text cell, or None."""
    # Only the part before any quote character maps one-to-one onto the raw data.
    head = cell.value.split('"', 1)[0]
    anchors = _anchors(head)
    return cell.start + anchors[0] if anchors else None


def stamp_csv(data: str, *, code: bytes, delimiter: str = ",", header: bool = True) -> str:
    """Return CSV ``data`` with an invisible mark carrying ``code`` in one text cell of every record (I8)."""
    mark = encode_mark(check_code(code))
    records = list(_scan_csv(data, delimiter))
    body = records[1:] if header else records
    if not body:
        return data
    # One column for the whole file, so the effect is easy to state: "the 氏名 column gains marks".
    width = max(len(r) for r in body)
    prose = [sum(1 for r in body if c < len(r) and _is_prose_cell(r[c].value)) for c in range(width)]
    text = [sum(1 for r in body if c < len(r) and _is_text_cell(r[c].value)) for c in range(width)]
    ranking = sorted(range(width), key=lambda c: (-prose[c], -text[c], c))
    column = ranking[0]
    inserts: list[int] = []
    for row in body:
        order = [column] + [c for c in range(len(row)) if c != column]
        for c in order:
            if c < len(row) and _is_text_cell(row[c].value):
                pos = _cell_anchor(row[c])
                if pos is not None:
                    inserts.append(pos)
                    break
    if not inserts:
        raise CannotFingerprint("この CSV には見えない識別符号を入れられる文字のセルがありません / This CSV has no text cells where an invisible fingerprint can be put.")
    return _insert(data, inserts, mark)
