"""The one translation point for refused input (issue 14): field labels and pydantic errors in both languages.

A refusal names a field by its code (``title``); people read the label the form shows (「件名」/ Title).
:func:`relabel` puts the labels into a bilingual service message ("日本語 / English"), and
:func:`pydantic_message` turns a pydantic error (by its ``type`` and ``ctx``) into such a message, so a
page and the API ``detail`` say the same thing in the reader's language whichever door the input came
through. Labels are catalogue msgids (English), translated with the Japanese catalogue: the API schemas'
common fields are below, and a page passes its own ``FIELD_LABELS`` (``web.forms.refused``), which win.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import Request

from banso.kit.text import (
    invalid_date_message,
    invalid_message,
    normalise_text,
    required_message,
    text_problem,
    too_long_message,
)
from banso.web.i18n import Translator, normalise_locale

# Field codes → label msgids shared by the API schemas (a page's own FIELD_LABELS win over these).
_LABELS: dict[str, str] = {
    "title": "Title", "title_ja": "Title (Japanese)", "title_en": "Title (English, optional)",
    "name_ja": "Name (Japanese)", "name_en": "Name (English)", "purpose": "Purpose", "summary": "Summary",
    "body": "Body", "reason": "Reason", "note": "Note", "description": "What happened", "decision": "Your answer",
    "technology": "Technology", "country": "Country", "consent_deadline": "Consent deadline", "deadline": "Deadline",
    "starts_at": "Date and time", "due_at": "Due date", "ends_at": "End of the designation (JST)",
    "publish_at": "Publication date (JST)", "founders": "Founding participants", "user_id": "Person",
    "user_ids": "People in scope", "organization_ids": "Organisations in scope", "role": "Role",
    "matter": "Matter", "category": "Category", "provenance": "Provenance", "handling": "Handling",
    "file": "File", "files": "Files", "data": "File", "query": "Search", "outcome": "Outcome",
    "amount": "Amount", "email": "E-mail address", "password": "Password", "expires_in_days": "Valid for (days)",
    "assignee_id": "Assignee", "addressee_id": "Addressed to", "bylaws_version": "Version", "text": "Text",
    "scope_kind": "Who may read it", "reason_code": "Reason code", "penalty_provision": "Penalty provision",
    "recipient_ids": "Recipients", "subject": "Subject", "tag": "Event type", "code": "Code",
    "designation_max_years": "Longest designation period", "nondisclosure_days": "Days to decide a non-disclosure request",
    "changes_duty": "Changes the duty of confidentiality", "addressee_kind": "Kind of addressee",
    "project_ref": "Project", "status": "Status", "adoption": "Adoption", "decision_id": "From decision",
}
# The API schemas' other fields (issue 14: a Japanese refusal names every field by its Japanese label; the
# sweep in tests/web/test_japanese_messages.py posts to every API route and fails on a field left unnamed).
_LABELS.update({
    "verdict": "Classification", "list_item": "List item",
    "kind": "Kind", "organization_id": "Organisation", "roles": "Roles", "articles": "Articles",
    "entries": "Attendance entries", "answer": "Answer on the minutes", "speaker_id": "Speaker",
    "stated_confidential": "Stated as confidential", "format": "Registry file format",
    "content": "Registry file content", "adopted_on": "Date the guideline was adopted", "measures": "Measures",
    "fiscal_year": "Fiscal year", "agency_code": "Funding agency", "project_type": "Project type",
    "technology_codes": "Technologies of the call", "cap_yen": "Budget cap (yen)",
    "first_fiscal_year": "First fiscal year", "period_years": "Period (years)", "opens_at": "Call opens at",
    "closes_at": "Call closes at", "officer_id": "Ministry officer", "scores": "Review scores",
    "reviewer_id": "Reviewer", "disclosure": "Integrity disclosure", "due_on": "Due on",
    "evaluator_ids": "Evaluators", "has_conflict": "Conflict of interest", "grade": "Grade", "comment": "Comment",
    "result": "Evaluation result", "assessed_on": "Date of the capability assessment",
    "analysis_score": "Analysis capability score", "hub_score": "Hub capability score",
    "talent_score": "Talent capability score", "starts_on": "Starts on", "tasks": "Tasks", "council_id": "Council",
    "ground": "Ground for exclusion", "evidence": "Evidence", "confirm": "Chair's confirmation",
    "level": "Level of need", "name": "Name", "weights": "Weights", "commission_id": "Commission",
})
_PREFIXES = frozenset({"body", "query", "path", "form", "header", "cookie"})


def field_code(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """Return a pydantic location as the field code pages and the API name (``founders.0.user_id``)."""
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in _PREFIXES:
        parts = parts[1:]
    return ".".join(parts)


def labels_for(field: str, labels: Mapping[str, str] | None = None) -> tuple[str, str]:
    """Return the field's label as the Japanese message shows it (「件名」) and as the English one does (Title).

    A nested code (``founders.0.user_id``) is labelled by its last named part; a code nobody labelled
    keeps its name (a test walks the forms so that none is left).
    """
    names = [p for p in field.split(".") if p and not p.isdigit()] or [field]
    table = {**_LABELS, **(labels or {})}
    msgid = next((table[n] for n in (field, names[-1], names[0]) if n in table), None)
    if msgid is None:
        return f"「{field}」", field
    return f"「{Translator('ja').gettext(msgid)}」", msgid


def _halves(message: str) -> tuple[str, str]:
    ja, sep, en = message.partition(" / ")
    return (ja, en) if sep else (message, message)


def _tidy(ja: str) -> str:
    # The kit's messages leave a space after the field for Latin codes; a bracketed label needs none.
    return re.sub(r"」 (?=[^\s])", "」", ja)


def bilingual(make: Callable[[str], str], field: str, labels: Mapping[str, str] | None = None) -> str:
    """Return ``make(label)``'s Japanese half with the Japanese label and its English half with the English one."""
    ja_label, en_label = labels_for(field, labels)
    return f"{_tidy(_halves(make(ja_label))[0])} / {_halves(make(en_label))[1]}"


def relabel(message: str, field: str | None, labels: Mapping[str, str] | None = None) -> str:
    """Return a service message with its field code replaced by the field's label in each half.

    Only the first mention is the field ("amount is not an amount of yen" keeps its second "amount").
    A message that never names the field is returned as it is.
    """
    if not field:
        return message
    ja_label, en_label = labels_for(field, labels)
    ja, en = _halves(message)
    last = field.split(".")[-1]
    for code in dict.fromkeys((field, last)):
        pattern = rf"(?<![\w.]){re.escape(code)}(?![\w])"
        if re.search(pattern, ja):
            ja = re.sub(pattern + " ?", ja_label, ja, count=1)
            en = re.sub(pattern, en_label, en, count=1)
            break
    return f"{_tidy(ja)} / {en}" if ja != en else _tidy(ja)


# pydantic error types, by what the reader is told (ctx values fill {ge}, {max_length} …).
_NUMBER = ("{label} は数値で入力してください / {label} must be a number")
_MESSAGES: dict[str, str] = {
    "greater_than": "{label} は {gt} より大きい値で入力してください / {label} must be greater than {gt}",
    "greater_than_equal": "{label} は {ge} 以上で入力してください / {label} must be at least {ge}",
    "less_than": "{label} は {lt} 未満で入力してください / {label} must be less than {lt}",
    "less_than_equal": "{label} は {le} 以下で入力してください / {label} must be at most {le}",
    "string_too_short": "{label} は {min_length} 文字以上で入力してください / {label} must be at least {min_length} characters",
    "too_short": "{label} を {min_length} 件以上指定してください / {label} needs at least {min_length} entries",
    "too_long": "{label} は {max_length} 件以内で指定してください / {label} takes at most {max_length} entries",
    "literal_error": "{label} は選択肢の中から選んでください / {label} must be one of {expected}",
    "enum": "{label} は選択肢の中から選んでください / {label} must be one of {expected}",
    "bool_parsing": "{label} は「はい」か「いいえ」で指定してください / {label} must be true or false",
    "bool_type": "{label} は「はい」か「いいえ」で指定してください / {label} must be true or false",
    "extra_forbidden": "{label} は受け付けていない項目です / {label} is not a field this request takes",
    "timezone_aware": "{label} は時差（例 +09:00）付きの日時で指定してください / {label} needs a time zone (e.g. +09:00)",
    "int_parsing": _NUMBER, "int_type": _NUMBER, "int_from_float": _NUMBER, "float_parsing": _NUMBER,
    "float_type": _NUMBER, "decimal_parsing": _NUMBER, "decimal_type": _NUMBER, "finite_number": _NUMBER,
}
_DATES = frozenset({"date_parsing", "date_type", "date_from_datetime_parsing", "date_from_datetime_inexact",
                    "datetime_parsing", "datetime_type", "datetime_from_date_parsing", "time_parsing",
                    "time_type", "datetime_object_invalid"})
_OWN = frozenset({"text", "date_range"})  # banso's own rules: their message is already bilingual
JSON_INVALID = "リクエスト本文を JSON として読めません / the request body is not valid JSON"


def pydantic_message(error: Mapping[str, Any], labels: Mapping[str, str] | None = None) -> str:
    """Return the bilingual message for one pydantic error, naming the field by its labels."""
    kind = str(error.get("type", ""))
    field = field_code(tuple(error.get("loc", ())))
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "json_invalid":
        return JSON_INVALID
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return bilingual(required_message, field, labels)
    if kind == "string_too_long":
        return bilingual(lambda label: too_long_message(label, int(ctx["max_length"])), field, labels)
    if kind in _DATES:
        return bilingual(invalid_date_message, field, labels)
    if kind == "text" and "max_length" in ctx:  # the text rule again, with labels instead of the code
        value = normalise_text(str(error.get("input", "")), line=bool(ctx["line"]))
        return bilingual(lambda label: text_problem(value, label, max_length=ctx["max_length"],
                                                    required=bool(ctx["required"]), line=bool(ctx["line"]))
                         or invalid_message(label), field, labels)
    if kind in _OWN or _is_bilingual(str(error.get("msg", ""))):  # banso's own rules say it in both languages
        return relabel(str(error.get("msg", "")), field, labels)
    if kind == "value_error" and " / " in str(ctx.get("error", "")):  # a validator's own bilingual message
        return relabel(str(ctx["error"]), field, labels)
    template = _MESSAGES.get(kind)
    if template is None:
        return bilingual(invalid_message, field, labels)
    values = {k: _shown(v) for k, v in ctx.items()}
    return bilingual(lambda label: template.format_map({**values, "label": label}), field, labels)


def _is_bilingual(message: str) -> bool:
    first, sep, _ = message.partition(" / ")
    return bool(sep) and re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", first) is not None


def _shown(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def reader_locale(request: Request) -> str:
    """Return the language of the person reading an answer: the UI cookie, else Accept-Language, else the default.

    The API has no cookie, so its clients choose with ``Accept-Language`` (``ja``/``en``).
    """
    from banso.web.deps import LANG_COOKIE

    chosen = request.cookies.get(LANG_COOKIE)
    if chosen:
        return normalise_locale(chosen)
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";", 1)[0].strip().lower()[:2]
        if code in ("ja", "en"):
            return code
    settings = getattr(getattr(request.app.state, "ctx", None), "settings", None)
    return normalise_locale(settings.default_locale if settings is not None else None)


def reader_half(message: str, locale: str) -> str:
    """Return the half of a bilingual message for ``locale``."""
    ja, en = _halves(message)
    return ja if locale == "ja" else en
