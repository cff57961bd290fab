"""The one Content-Disposition builder (banso.kit.disposition): hostile names parse back to the name made safe."""

from __future__ import annotations

import email.message
import email.utils
import re
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from banso.kit.disposition import MAX_NAME, ascii_fallback, content_disposition, safe_download_name

# RFC 6266: disposition-type *( ";" disposition-parm ); the fallback a quoted-string with no quote or
# backslash inside, the extended value UTF-8'' then attr-chars and %XX only (RFC 8187).
GRAMMAR = re.compile(r"""(?:attachment|inline)(?:; filename="[^"\\\x00-\x1f\x7f;%]*"(?:; filename\*=UTF-8''"""
                     r"""(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})+)?)?""")


def parsed(header: str) -> tuple[str, str | None, str | None]:
    """Return (disposition type, name a modern client saves as, ASCII fallback) as a mail parser reads them."""
    message = email.message.Message()
    message["Content-Disposition"] = header
    fallback = extended = None
    for key, value in message.get_params(header="content-disposition", unquote=True) or []:
        if key == "filename" and isinstance(value, tuple):  # filename*: RFC 2231/8187, charset'lang'%XX
            extended = email.utils.collapse_rfc2231_value(value)
        elif key == "filename":
            fallback = value
    return message.get_content_disposition() or "", extended or fallback, fallback


def check(name: str, *, inline: bool = False) -> None:
    header = content_disposition(name, inline=inline)
    assert GRAMMAR.fullmatch(header), header  # no CR/LF, no stray quote or semicolon: nothing can be injected
    kind, saved, fallback = parsed(header)
    intent = safe_download_name(name)
    assert kind == ("inline" if inline else "attachment")
    assert saved == intent  # filename* wins where present (RFC 6266 4.3), else the fallback is the name itself
    assert fallback == ascii_fallback(intent) and fallback.isascii()
    assert "/" not in intent and "\\" not in intent and "\r" not in intent and "\n" not in intent
    assert 0 < len(intent) <= MAX_NAME
    star = re.search(r"filename\*=UTF-8''(\S+)", header)
    assert (star is None) == (fallback == intent)
    if star:
        assert unquote(star.group(1), errors="strict") == intent


HOSTILE = [
    ("report.pdf", "report.pdf"),
    ("評価報告書.pdf", "評価報告書.pdf"),
    ('a";b.pdf', 'a";b.pdf'),
    ("a; filename=evil.exe", "a; filename=evil.exe"),
    ("x.pdf\r\nSet-Cookie: a=b", "x.pdf Set-Cookie: a=b"),
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("C:\\Users\\me\\秘密.docx", "秘密.docx"),
    (".htaccess", "htaccess"),
    ("", "download"),
    ("../", "download"),
    ("\x00\x1b", "download"),
    ("report\u202efdp.exe", "reportfdp.exe"),  # the bidi override is dropped: no "reportexe.pdf" display trick
    ("😀 smile 👨‍👩‍👧.txt", "😀 smile 👨👩👧.txt"),
    ("100%.csv", "100%.csv"),
    ("tab\there.txt", "tab here.txt"),
    ("あ" * 400 + ".xlsx", "あ" * (MAX_NAME - 5) + ".xlsx"),
    ("b" * 400, "b" * MAX_NAME),
]


@pytest.mark.parametrize(("name", "intent"), HOSTILE)
def test_hostile_names_parse_back_to_the_safe_name(name: str, intent: str) -> None:
    assert safe_download_name(name) == intent
    check(name)
    check(name, inline=True)


def test_plain_ascii_names_keep_the_short_form() -> None:
    assert content_disposition("ledger-JST.xlsx") == 'attachment; filename="ledger-JST.xlsx"'
    assert content_disposition("評価.pdf") == "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E8%A9%95%E4%BE%A1.pdf"
    assert content_disposition('a"b.pdf') == "attachment; filename=\"a_b.pdf\"; filename*=UTF-8''a%22b.pdf"
    assert content_disposition(inline=True) == "inline"
    assert content_disposition() == "attachment"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.booleans())
def test_any_name_parses_back_to_its_safe_form(name: str, inline: bool) -> None:
    check(name, inline=inline)
