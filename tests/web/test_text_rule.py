"""The one text rule (issue 12): ``kit.text.clean_text`` for services, ``kit.text.Text`` for schemas and
``web.forms.bind`` for pages trim the same way and refuse with the same bilingual message naming the field."""

from __future__ import annotations

from typing import Annotated

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from banso.kit.errors import ValidationFailed
from banso.kit.text import Text, clean_text, has_visible_character, required_message, too_long_message
from banso.programme import registry_io
from banso.web.forms import bind
from banso.web.problems import relabel

LIMIT = 12
SPACE = st.text(alphabet=st.sampled_from(" \t\r\n\u3000\u00a0\u2003"), max_size=4)
FIELD = st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True)


# Characters the rule keeps in a one-line field (issue 17: controls, separators, bidi controls, surrogates,
# private-use and unassigned code points are refused, and format characters but ZWJ; a text of only
# invisible characters is refused too: see test_hostile_input.py).
KEPT = st.characters(exclude_categories=("Cc", "Zl", "Zp", "Cs", "Co", "Cn", "Cf"))


def _core(min_size: int, max_size: int | None) -> st.SearchStrategy[str]:
    """Text that neither starts nor ends with whitespace (what a trimmed field keeps)."""
    return st.text(KEPT, min_size=min_size, max_size=max_size).filter(
        lambda s: s == s.strip() and len(s) >= min_size and has_visible_character(s))


class Form(BaseModel):
    """A form with a required and an optional field under the rule."""

    title: Annotated[str, Text(LIMIT)]
    note: Annotated[str | None, Text(LIMIT, required=False)] = None


@settings(max_examples=200)
@given(core=_core(1, LIMIT), before=SPACE, after=SPACE, field=FIELD)
def test_surrounding_whitespace_is_trimmed_by_every_door(core: str, before: str, after: str, field: str) -> None:
    typed = before + core + after
    assert clean_text(typed, field, max_length=LIMIT) == core
    assert Form(title=typed, note=typed).model_dump() == {"title": core, "note": core}
    assert bind(Form, {"title": typed}).title == core


@settings(max_examples=200)
@given(core=_core(LIMIT + 1, LIMIT + 40), before=SPACE, field=FIELD)
def test_text_over_the_limit_is_refused_naming_the_field(core: str, before: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        clean_text(before + core, field, max_length=LIMIT, required=False)
    assert refused.value.field == field and refused.value.message == too_long_message(field, LIMIT)
    assert f"{field} は {LIMIT} 文字以内" in refused.value.message and f"{field} must be at most {LIMIT}" in \
        refused.value.message
    with pytest.raises(ValidationFailed) as bound:  # the page's binding says exactly what the service says
        bind(Form, {"title": "t", "note": before + core})
    # ... naming the field by its label rather than its code (issue 14: web.problems.relabel)
    assert (bound.value.field, bound.value.message) == ("note", relabel(too_long_message("note", LIMIT), "note"))


@given(blank=SPACE, field=FIELD)
def test_blank_is_refused_when_required_and_empty_when_optional(blank: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        clean_text(blank, field, max_length=LIMIT)
    assert refused.value.field == field
    assert refused.value.message == f"{field} を入力してください / {field} is required" == required_message(field)
    assert clean_text(blank, field, max_length=LIMIT, required=False) == ""
    assert clean_text(None, field, max_length=LIMIT, required=False) == ""
    assert Form(title="t", note=blank).note == ""


def test_the_api_schema_reports_the_services_message() -> None:
    with pytest.raises(ValidationError) as caught:
        Form(title="   ")
    (problem,) = caught.value.errors()
    assert problem["loc"] == ("title",) and problem["msg"] == required_message("title")
    assert Form.model_json_schema()["properties"]["title"]["maxLength"] == LIMIT  # the API documents the limit


def test_what_the_rule_does_not_cover_is_left_to_the_type() -> None:
    with pytest.raises(ValidationError) as caught:
        Form(title=5)  # type: ignore[arg-type]  # not trimmed into a string: the annotated type refuses it
    assert caught.value.errors()[0]["type"] == "string_type"
    with pytest.raises(ValidationFailed) as bound:
        bind(Form, {"title": ["a", "b"]})
    assert bound.value.field == "title" and bound.value.message == "「件名」が正しくありません / Title is not valid"


def test_an_imported_file_says_where_the_refused_text_is() -> None:
    with pytest.raises(ValidationFailed) as refused:
        registry_io.parse("record,code,round,domain,name_ja,name_en,areas\narea,,,,バイオ,Bio,\n", fmt="csv")
    assert refused.value.field == "code"
    assert refused.value.message == required_message("row 2: code")
