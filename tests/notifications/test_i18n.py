"""The inbox templates pass the shared i18n checks (the shared test looks templates up by file name only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from tests.web.test_i18n import JINJA_OPTIONS, PLACEHOLDER, TEMPLATES, _catalogue, _hard_coded_text

OURS = sorted((TEMPLATES / "notifications").glob("*.html"))


def _msgids(path: Path) -> set[str]:
    found = set()
    for _lineno, message, _comments, _context in extract_from_file("jinja2", str(path), options=JINJA_OPTIONS):
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("template", OURS, ids=lambda p: p.name)
def test_no_text_outside_gettext(template: Path) -> None:
    problems = _hard_coded_text(template.read_text(encoding="utf-8"))
    assert not problems, f"{template.name}: visible text outside _(): {problems}"


@pytest.mark.parametrize("template", [*OURS, TEMPLATES / "base.html"], ids=lambda p: p.name)
def test_every_message_is_translated(template: Path) -> None:
    ja, en = _catalogue("ja"), _catalogue("en")
    ids = _msgids(template)
    assert ids
    missing = sorted(mid for mid in ids if not ja.get(mid, "").strip() or mid not in en)
    assert not missing, f"{template.name}: missing in the catalogues: {missing}"
    assert all(set(PLACEHOLDER.findall(mid)) == set(PLACEHOLDER.findall(ja[mid])) for mid in ids)
