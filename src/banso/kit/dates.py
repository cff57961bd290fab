"""The one range rule for dates and times people send (issue 17, O1): years 1900 through 2199.

A date outside any plausible council, call or designation is a typing or hostile input, and one far
enough out (``9999-12-31T23:59:59-14:00``) cannot even be turned into UTC: Python raises
``OverflowError``, which the database layer would turn into a 500. API schemas declare ``Moment`` and
``Day``; page forms and services call :func:`check_moment`; the refusal says the same thing either way.

A date is written as a date (ISO 8601), never as a number: pydantic would read ``0``, ``"0"``, ``1.5`` or
``100000000000`` as seconds (or milliseconds) since 1970 and make a meeting in 1970 of a typing slip, so
``Moment`` and ``Day`` refuse a number or a text of digits before pydantic reads it (outside test F7).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from banso.kit.errors import ValidationFailed

D = TypeVar("D", bound=date)
EARLIEST_YEAR = 1900
LATEST_YEAR = 2199


def out_of_range_message(label: str) -> str:
    """Return the bilingual message for a date outside the years banso accepts."""
    return (f"{label} は {EARLIEST_YEAR} 年から {LATEST_YEAR} 年までの日付で指定してください / "
            f"{label} must be a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}")


def in_range(value: date) -> bool:
    """Return True when ``value`` (a date or a date-time, in its own zone) lies in the accepted years."""
    # The local year decides: a zone offset moves a time by under a day, so any value inside the
    # window converts to UTC without overflow.
    return EARLIEST_YEAR <= value.year <= LATEST_YEAR


def check_moment(value: date, field: str) -> None:
    """Refuse a date or date-time outside the accepted years (422 naming the field)."""
    if not in_range(value):
        raise ValidationFailed(out_of_range_message(field), field=field)


def _in_range(value: D, info: ValidationInfo) -> D:
    if not in_range(value):
        raise PydanticCustomError("date_range", "{message}",
                                  {"message": out_of_range_message(info.field_name or "date")})
    return value


_NUMBER = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*")


def not_a_date_message(label: str) -> str:
    """Return the bilingual message for a date sent as a number."""
    return (f"{label} は数値ではなく日付（例 2026-12-07T10:00:00+09:00）で指定してください / "
            f"{label} must be a date such as 2026-12-07T10:00:00+09:00, not a number")


def _not_a_number(value: Any, info: ValidationInfo) -> Any:
    # bool is an int to Python and pydantic alike; a number as text is read as a timestamp too
    if isinstance(value, (int, float, bool)) or (isinstance(value, (str, bytes)) and _NUMBER.fullmatch(
            value.decode("latin-1") if isinstance(value, bytes) else value)):
        raise PydanticCustomError("date_not_number", "{message}",
                                  {"message": not_a_date_message(info.field_name or "date")})
    return value


Moment = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_in_range)]
"""A date-time an API caller sends (ISO 8601 text, never a number), held to the accepted years."""

Day = Annotated[date, BeforeValidator(_not_a_number), AfterValidator(_in_range)]
"""A calendar date an API caller sends (ISO 8601 text, never a number), held to the accepted years."""
