"""Every audit event type has a label in Japanese and English (issue 14): one table, both catalogues."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import banso
from banso.audit import views  # noqa: F401 - registers the template globals the macros use
from banso.audit.tags import GROUP_LABELS, LABELS, SUBJECT_KINDS, AuditTag, group_of, grouped
from banso.web.i18n import Translator
from banso.web.templating import env

LOCALE = Path(banso.__file__).resolve().parent / "locale"


def _catalogue(locale: str) -> dict[str, str]:
    with (LOCALE / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return {str(m.id): str(m.string or "") for m in read_po(handle, locale=locale) if m.id and not m.fuzzy}


def _all_labels() -> dict[str, str]:
    """Return every label msgid the audit page shows, with what it labels."""
    found = {f"tag {tag}": LABELS[tag] for tag in AuditTag if tag in LABELS}
    found |= {f"group {g}": text for g, text in GROUP_LABELS.items()}
    found |= {f"subject kind {k}": text for k, text in SUBJECT_KINDS.items()}
    return found


def test_every_tag_is_in_the_label_table() -> None:
    missing = [str(tag) for tag in AuditTag if tag not in LABELS]
    assert not missing, f"audit tags without a label in banso.audit.tags.LABELS: {missing}"
    assert not set(LABELS) - set(AuditTag), "labels for tags that do not exist"
    assert {group_of(tag) for tag in AuditTag} <= set(GROUP_LABELS), "an event group without a label"


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_label_is_in_both_catalogues(locale: str) -> None:
    catalogue = _catalogue(locale)
    absent = sorted(f"{what}: {msgid!r}" for what, msgid in _all_labels().items() if msgid not in catalogue)
    assert not absent, f"missing from {locale}/messages.po:\n" + "\n".join(absent)
    if locale == "ja":
        untranslated = sorted(f"{what}: {msgid!r}" for what, msgid in _all_labels().items()
                              if not catalogue[msgid].strip())
        assert not untranslated, "no Japanese for:\n" + "\n".join(untranslated)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_the_page_macro_names_every_tag(locale: str) -> None:
    """The macro the audit page, entry page and dashboard use shows a label, never the raw code (fails before:
    129 of 139 tags rendered as their code)."""
    macros = env.get_template("_macros.html").make_module(Translator(locale).callables)
    raw = [str(tag) for tag in AuditTag if str(macros.tag_label(str(tag))).strip() == str(tag)]
    assert not raw, f"shown as raw codes in {locale}: {raw}"
    if locale == "ja":
        english = [str(tag) for tag in AuditTag if str(macros.tag_label(str(tag))).strip() == LABELS[tag]
                   and LABELS[tag].isascii()]
        assert not english, f"English labels on Japanese pages: {english}"


def test_groups_list_every_tag_once() -> None:
    listed = [tag for _group, tags in grouped() for tag in tags]
    assert sorted(listed) == sorted(str(t) for t in AuditTag)
