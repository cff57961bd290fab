"""Catalogue completeness and no hard-coded UI text (issue 2, item 7: Babel catalogues, no hard-coded strings)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

import banso
from banso.web.i18n import Translator

SRC = Path(banso.__file__).resolve().parent
TEMPLATES = SRC / "web" / "templates"
VIEWS = sorted(SRC.glob("*/views.py"))
LOCALE = SRC / "locale"
JINJA_OPTIONS = {"trim_blocks": "true", "lstrip_blocks": "true"}
PLACEHOLDER = re.compile(r"\{(\w+)\}")
LETTER = re.compile(r"[^\W\d_]")  # any letter, Latin or Japanese
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
VISIBLE_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder", "label"}


def _msgids() -> dict[str, str]:
    """Return every msgid used by the templates and the Python views, with where it was found."""
    found: dict[str, str] = {}
    for template in sorted(TEMPLATES.glob("**/*.html")):
        for _lineno, message, _comments, _context in extract_from_file("jinja2", str(template),
                                                                       options=JINJA_OPTIONS):
            text = message if isinstance(message, str) else message[0]
            found.setdefault(text, template.name)
    for view in VIEWS:
        for _lineno, message, _comments, _context in extract_from_file("python", str(view)):
            text = message if isinstance(message, str) else message[0]
            found.setdefault(text, view.name)
    return found


def _catalogue(locale: str) -> dict[str, str]:
    with (LOCALE / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {str(m.id): str(m.string or "") for m in read_po(handle, locale=locale) if m.id}


def test_extraction_finds_the_ui_messages() -> None:
    ids = _msgids()
    assert len(ids) > 100
    assert {"Dashboard", "Audit log", "Sign in", "Verified"} <= set(ids)


def test_every_message_has_a_japanese_translation_with_the_same_placeholders() -> None:
    ja = _catalogue("ja")
    missing = sorted(f"{where}: {mid!r}" for mid, where in _msgids().items() if not ja.get(mid, "").strip())
    assert not missing, "untranslated in ja/messages.po:\n" + "\n".join(missing)
    wrong = sorted(mid for mid in _msgids() if set(PLACEHOLDER.findall(mid)) != set(PLACEHOLDER.findall(ja[mid])))
    assert not wrong, f"placeholders differ in: {wrong}"


def test_english_catalogue_lists_every_message() -> None:
    en = _catalogue("en")
    missing = sorted(set(_msgids()) - set(en))
    assert not missing, f"missing from en/messages.po: {missing}"


def test_translator_uses_the_catalogues() -> None:
    assert Translator("ja").gettext("Dashboard") == "ダッシュボード"
    assert Translator("en").gettext("Dashboard") == "Dashboard"
    assert Translator("ja").gettext("Welcome, {name}", name="中村 亮") == "中村 亮 様"


class _VisibleText(HTMLParser):
    """Collect text nodes and user-visible attribute values that contain letters."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value and LETTER.search(value):
                self.problems.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and LETTER.search(data):
            self.problems.append(data.strip())


def _hard_coded_text(source: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(JINJA.sub(" ", source))
    return parser.problems


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.glob("**/*.html")))
def test_templates_have_no_text_outside_gettext(template: str) -> None:
    problems = _hard_coded_text((TEMPLATES / template).read_text(encoding="utf-8"))
    assert not problems, f"{template}: visible text outside _(): {problems}"


def test_the_hard_coded_text_check_catches_text() -> None:
    assert _hard_coded_text("<p>Hello</p>") == ["Hello"]
    assert _hard_coded_text("<p>{{ _('Hello') }} ログイン</p>") == ["ログイン"]
    assert _hard_coded_text('<img alt="Logo" src="x">') == ["<img alt='Logo'>"]
    assert _hard_coded_text("<p>{{ _('Hello') }} — #{{ n }}</p>") == []
