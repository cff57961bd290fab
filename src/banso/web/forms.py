"""Form values shared by the server-rendered pages: dates and times are entered and shown in JST."""

from __future__ import annotations

from datetime import datetime, time

from banso.kit.clock import JST, as_utc, to_jst
from banso.kit.errors import ValidationFailed


def parse_when(value: str | None, field: str, *, end_of_day: bool = False) -> datetime:
    """Return a form date (``YYYY-MM-DD``) or date-time (``YYYY-MM-DDTHH:MM``) read as JST, in UTC."""
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(f"{field} を入力してください / {field} is required", field=field)
    try:
        if "T" in text or " " in text:
            moment = datetime.fromisoformat(text.replace(" ", "T"))
        else:
            day = datetime.fromisoformat(text).date()
            moment = datetime.combine(day, time(23, 59) if end_of_day else time(0, 0))
    except ValueError:
        raise ValidationFailed(f"{field} の日付が正しくありません / {field} is not a valid date",
                               field=field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=JST)
    return as_utc(moment)


def local_input(moment: datetime | None) -> str:
    """Return a time as the value of a datetime-local input (JST)."""
    return to_jst(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


def date_input(moment: datetime | None) -> str:
    """Return a time as the value of a date input (JST)."""
    return to_jst(moment).strftime("%Y-%m-%d") if moment else ""
