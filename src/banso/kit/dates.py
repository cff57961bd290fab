"""The one range rule for dates and times people send (issue 17, O1): years 1900 through 2199.

A date outside any plausible council, call or designation is a typing or hostile input, and one far
enough out (``9999-12-31T23:59:59-14:00``) cannot even be turned into UTC: Python raises
``OverflowError``, which the database layer would turn into a 500. API schemas declare ``Moment`` and
``Day``; page forms and services call :func:`check_moment`; the refusal says the same thing either way.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeVar

from pydantic import AfterValidator, ValidationInfo
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


Moment = Annotated[datetime, AfterValidator(_in_range)]
"""A date-time an API caller sends, held to the accepted years."""

Day = Annotated[date, AfterValidator(_in_range)]
"""A calendar date an API caller sends, held to the accepted years."""
