"""The one rule for free text typed by people (issue 12, O1): trimmed, required or optional, at most N
characters, and only characters a reader can see.

Services call :func:`clean_text`; API schemas and page forms declare the same rule as a pydantic
constraint, ``Annotated[str, Text(300, line=True)]``, so a refusal says the same thing whichever door the
text came through: ``title を入力してください / title is required`` or
``title は 300 文字以内で入力してください / title must be at most 300 characters``.

Two kinds of field (issue 17): a *line* (titles, names, codes, subjects: ``line=True``) holds no control
character at all; a *multi-line* text (bodies, notes, reasons: the default) keeps line feeds and tabs,
with CR LF and lone CR read as LF. Both refuse what :func:`forbidden_character` names, the same definition
the file-name rule (``banso.sealed.uploads.safe_filename``) uses: C0/C1 controls (NUL, ESC …), line and
paragraph separators, bidirectional controls (U+202E makes "report\u202efdp.exe" display as
"reportexe.pdf"), surrogates, private-use and unassigned code points. Invisible format characters (Cf)
are refused too: a line keeps only U+200D ZERO WIDTH JOINER (emoji sequences), so "a\u200bb", a BOM or
tag characters (U+E0000–E007F, hidden "ASCII smuggling") cannot make two titles look alike; a multi-line
text also keeps the joiners, zero-width space, word joiner and soft hyphen that pasted prose carries
(banso's own copy marks among them) but no BOM or tag character. A value with no visible character at
all (only joiners, combining marks, blank letters) is refused in both.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import annotated_types
from pydantic import BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from banso.kit.errors import ValidationFailed


def required_message(label: str) -> str:
    """Return the bilingual message for a blank required field."""
    return f"{label} を入力してください / {label} is required"


def invalid_message(label: str) -> str:
    """Return the bilingual message for a value that is not of the field's kind (a number, a choice)."""
    return f"{label} が正しくありません / {label} is not valid"


def choose_message(label: str) -> str:
    """Return the bilingual message for a choice the form must carry (none was chosen)."""
    return f"{label} を選択してください / choose {label}"


def invalid_date_message(label: str) -> str:
    """Return the bilingual message for a field that is not a date."""
    return f"{label} の日付が正しくありません / {label} is not a valid date"


def too_long_message(label: str, max_length: int) -> str:
    """Return the bilingual message for a field longer than ``max_length`` characters."""
    return (f"{label} は {max_length:,} 文字以内で入力してください / "
            f"{label} must be at most {max_length:,} characters")


def forbidden_character_message(label: str, ch: str) -> str:
    """Return the bilingual message for a character no text may hold (named by its code point)."""
    point = f"U+{ord(ch):04X}"
    return (f"{label} に使用できない文字（{point}）が含まれています / "
            f"{label} contains a character that is not allowed ({point})")


def invisible_message(label: str) -> str:
    """Return the bilingual message for a text made only of characters a reader cannot see."""
    return f"{label} に表示される文字がありません / {label} has no visible characters"


def single_line_message(label: str) -> str:
    """Return the bilingual message for a line break in a one-line field."""
    return f"{label} は改行を含まない 1 行で入力してください / {label} must be a single line"


# Bidirectional formatting controls (Trojan Source, CVE-2021-42574): ALM, LRM, RLM, the embeddings and
# overrides U+202A–202E and the isolates U+2066–2069.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Cc: C0/C1 controls; Zl/Zp: U+2028/2029, which break lines in JavaScript and some viewers;
# Cs: lone surrogates (not text at all); Co: private use (no meaning a reader shares); Cn: unassigned.
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs", "Co", "Cn"})
MULTILINE_CONTROLS = frozenset("\n\t")
# Format characters (Cf) a field keeps; every other one is refused (issue 17). A line keeps ZWJ alone (emoji
# such as 👨‍👩‍👧); prose also keeps ZWNJ, ZWSP, WORD JOINER (line-break and joining hints; banso's copy marks
# U+200B/U+200C/U+2060 survive a quoted passage) and SOFT HYPHEN (text pasted from word processors).
LINE_FORMAT = frozenset("\u200d")
MULTILINE_FORMAT = frozenset("\u200d\u200c\u200b\u2060\u00ad")
# Letters that draw nothing (Hangul fillers, the blank Braille pattern) and categories no reader sees alone.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Mn", "Me", "Zs"})
_WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                              *(f"LPT{i}" for i in range(1, 10))})


def forbidden_character(text: str, *, allowed: frozenset[str] = frozenset(),
                        formats: frozenset[str] | None = None) -> str | None:
    """Return the first character of ``text`` that no name or text may hold (``allowed`` excepted), or None.

    With ``formats`` every format character (Cf) but those is forbidden as well.
    """
    # The distinct characters of even a long body are few, so each is looked up once.
    bad = {ch for ch in set(text) if ch not in allowed and _is_forbidden(ch, formats)}
    return min(bad, key=text.index) if bad else None


def _is_forbidden(ch: str, formats: frozenset[str] | None) -> bool:
    category = unicodedata.category(ch)
    return (ch in BIDI_CONTROLS or category in FORBIDDEN_CATEGORIES
            or (formats is not None and category == "Cf" and ch not in formats))


def has_visible_character(text: str) -> bool:
    """Return True when ``text`` holds a character a reader can see (not only spaces, joiners, marks)."""
    return any(ch not in _BLANK_LETTERS and unicodedata.category(ch) not in _UNSEEN_CATEGORIES for ch in set(text))


def is_windows_device_name(name: str) -> bool:
    """Return True when ``name`` is a Windows device (CON, NUL, COM1, LPT9 …) with any extension, in any case."""
    # Windows opens the device for "con.txt" and "CON .tar.gz" alike: only the part before the first dot counts.
    return name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES


def normalise_text(value: str, *, line: bool) -> str:
    """Return ``value`` trimmed; a multi-line text's CR LF and lone CR become LF."""
    text = value.strip()
    return text if line else text.replace("\r\n", "\n").replace("\r", "\n")


def text_problem(value: str, label: str, *, max_length: int | None, required: bool = True,
                 line: bool = False) -> str | None:
    """Return why the already trimmed ``value`` breaks the rule (None: no limit), or None when it keeps it."""
    if required and not value:
        return required_message(label)
    if max_length is not None and len(value) > max_length:
        return too_long_message(label, max_length)
    bad = forbidden_character(value, allowed=frozenset() if line else MULTILINE_CONTROLS,
                              formats=LINE_FORMAT if line else MULTILINE_FORMAT)
    if bad is not None:
        return single_line_message(label) if line and bad in "\r\n" else forbidden_character_message(label, bad)
    if value and not has_visible_character(value):
        return invisible_message(label)
    return None


def clean_text(value: object, field: str, *, max_length: int | None, required: bool = True,
               label: str | None = None, line: bool = False) -> str:
    """Return ``value`` trimmed (None reads as blank), or refuse it when blank and required, too long or
    holding a forbidden character.

    ``field`` names the refused field on the error; ``label`` is how the message names it when that
    differs (an imported file says where: ``row 3: name_ja``). ``line`` marks a one-line field (a title,
    a name): no line break or tab; otherwise line feeds and tabs are kept and CR LF read as LF.
    """
    text = normalise_text("" if value is None else str(value), line=line)
    problem = text_problem(text, label or field, max_length=max_length, required=required, line=line)
    if problem is not None:
        raise ValidationFailed(problem, field=field)
    return text


@dataclass(frozen=True)
class Text(annotated_types.GroupedMetadata):
    """The text rule as pydantic metadata: ``Annotated[str, Text(300, line=True)]``, ``Text(300, required=False)``.

    Strings are trimmed first and refused with :func:`clean_text`'s message (the error's ``msg``);
    anything that is not a string is left to the annotated type to refuse. The length bounds are
    also declared as constraints so the API's JSON schema shows them. ``line=True`` is a one-line
    field (titles, names); without it line feeds and tabs are kept (bodies, notes).
    """

    max_length: int
    required: bool = True
    line: bool = False

    def __iter__(self) -> Iterator[object]:
        if self.required:
            yield annotated_types.MinLen(1)
        yield annotated_types.MaxLen(self.max_length)
        yield BeforeValidator(self._trimmed)

    def _trimmed(self, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        text = normalise_text(value, line=self.line)
        problem = text_problem(text, info.field_name or "value", max_length=self.max_length,
                               required=self.required, line=self.line)
        if problem is not None:
            # The rule's bounds travel in ctx so the web layer can say it again with the field's label.
            raise PydanticCustomError("text", "{message}", {"message": problem, "max_length": self.max_length,
                                                            "required": self.required, "line": self.line})
        return text


def join_messages(messages: list[str]) -> str:
    """Return several bilingual messages ("日本語 / English") as one: the Japanese halves, then the English ones."""
    halves = [m.partition(" / ") for m in messages]
    ja = "；".join(h[0] for h in halves)
    en = "; ".join(h[2] or h[0] for h in halves)
    return f"{ja} / {en}"
