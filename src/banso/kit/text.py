"""The one rule for free text typed by people (issue 12): trimmed, required or optional, at most N characters.

Services call :func:`clean_text`; API schemas and page forms declare the same rule as a pydantic
constraint, ``Annotated[str, Text(300)]``, so a refusal says the same thing whichever door the text
came through: ``title を入力してください / title is required`` or
``title は 300 文字以内で入力してください / title must be at most 300 characters``.
"""

from __future__ import annotations

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


def invalid_date_message(label: str) -> str:
    """Return the bilingual message for a field that is not a date."""
    return f"{label} の日付が正しくありません / {label} is not a valid date"


def too_long_message(label: str, max_length: int) -> str:
    """Return the bilingual message for a field longer than ``max_length`` characters."""
    return (f"{label} は {max_length:,} 文字以内で入力してください / "
            f"{label} must be at most {max_length:,} characters")


def text_problem(value: str, label: str, *, max_length: int | None, required: bool = True) -> str | None:
    """Return why the already trimmed ``value`` breaks the rule (None: no limit), or None when it keeps it."""
    if required and not value:
        return required_message(label)
    if max_length is not None and len(value) > max_length:
        return too_long_message(label, max_length)
    return None


def clean_text(value: object, field: str, *, max_length: int | None, required: bool = True,
               label: str | None = None) -> str:
    """Return ``value`` trimmed (None reads as blank), or refuse it when blank and required or too long.

    ``field`` names the refused field on the error; ``label`` is how the message names it when that
    differs (an imported file says where: ``row 3: name_ja``).
    """
    text = "" if value is None else str(value).strip()
    problem = text_problem(text, label or field, max_length=max_length, required=required)
    if problem is not None:
        raise ValidationFailed(problem, field=field)
    return text


@dataclass(frozen=True)
class Text(annotated_types.GroupedMetadata):
    """The text rule as pydantic metadata: ``Annotated[str, Text(300)]``, ``Text(300, required=False)``.

    Strings are trimmed first and refused with :func:`clean_text`'s message (the error's ``msg``);
    anything that is not a string is left to the annotated type to refuse. The length bounds are
    also declared as constraints so the API's JSON schema shows them.
    """

    max_length: int
    required: bool = True

    def __iter__(self) -> Iterator[object]:
        if self.required:
            yield annotated_types.MinLen(1)
        yield annotated_types.MaxLen(self.max_length)
        yield BeforeValidator(self._trimmed)

    def _trimmed(self, value: object, info: ValidationInfo) -> object:
        if not isinstance(value, str):
            return value
        text = value.strip()
        problem = text_problem(text, info.field_name or "value", max_length=self.max_length,
                               required=self.required)
        if problem is not None:
            raise PydanticCustomError("text", "{message}", {"message": problem})
        return text
