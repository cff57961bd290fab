"""The HTML-form toolkit shared by the server-rendered pages.

Form values bound to pydantic models (:func:`bind`; dates and times are entered and shown in JST,
ids typed into forms), the redirect after a successful post, and :func:`refused`: the one way a
page answers a refused form.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Self, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from banso.kit.clock import JST, as_utc, to_jst
from banso.kit.dates import check_moment
from banso.kit.errors import BansoError, NotFound, ValidationFailed
from banso.kit.text import choose_message, invalid_date_message, invalid_message, required_message
from banso.kit.unit import settle
from banso.web.problems import field_code, labels_for, pydantic_message, relabel
from banso.web.templating import translator_for
from banso.web.views import localised

R = TypeVar("R", bound=Response)
M = TypeVar("M", bound=BaseModel)
_CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@dataclass(frozen=True)
class Problem:
    """One refused field as the error summary lists it: its code, its anchor and the reader's message."""

    field: str
    text: str

    @property
    def anchor(self) -> str:
        """Return the id of the field's input on the page (``field-<code>``, dots as dashes)."""
        return "field-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.field)


class FormError(str):
    """The error a refused form shows: the text (every problem, in the reader's language) and the problems.

    A ``str`` so that templates printing ``{{ error }}`` keep working; the error summary macro lists
    ``error.problems`` with a link to each field (issue 14, GOV.UK / デジタル庁 error summary).
    """

    problems: tuple[Problem, ...]

    def __new__(cls, text: str, problems: Sequence[Problem] = ()) -> Self:
        made = super().__new__(cls, text)
        made.problems = tuple(problems)
        return made


class FormProblems(ValidationFailed):
    """Every problem of a form at once: ``problems`` are (field code, bilingual message), the first is the error's."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__(problems[0][1], field=problems[0][0])
        self.problems = list(problems)


def _english_second(text: str) -> str:
    if " / " in text:
        first, second = text.split(" / ", 1)
        if _CJK.search(second) and not _CJK.search(first):  # some messages put English first
            return f"{second} / {first}"
    return text


def error_message(request: Request, exc: BansoError, labels: Mapping[str, str] | None = None, *,
                  name_field: bool = False) -> str:
    """Return the reader's half of a bilingual service message, with form labels for field names.

    ``labels`` maps a service's field name to the label (msgid) the form shows (the shared table of
    ``web.problems`` labels the rest); ``name_field`` prefixes that label when the message does not
    mention the field.
    """
    return _problem_text(request, exc.field, exc.message, labels, name_field=name_field)


def _problem_text(request: Request, field: str | None, message: str, labels: Mapping[str, str] | None, *,
                  name_field: bool = False) -> str:
    locale = translator_for(request).locale
    text = localised(relabel(_english_second(message), field, labels), locale)
    if name_field and field:
        ja_label, en_label = labels_for(field, labels)
        label = ja_label if locale == "ja" else en_label
        if label not in text:  # a terse half without the field: say which field it is
            text = f"{label}：{text}" if locale == "ja" else f"{label}: {text}"
    return text


def form_error(request: Request, exc: BansoError, labels: Mapping[str, str] | None = None, *,
               name_field: bool = False) -> FormError:
    """Return the refusal as the page shows it: every problem with its field, the first one first."""
    found = exc.problems if isinstance(exc, FormProblems) else [(exc.field or "", exc.message)]
    problems = [Problem(field, _problem_text(request, field or None, message, labels, name_field=name_field))
                for field, message in found]
    joiner = "；" if translator_for(request).locale == "ja" else "; "
    return FormError(joiner.join(p.text for p in problems), [p for p in problems if p.field])


def refused(request: Request, db: Session, exc: BansoError, page: Callable[..., R],
            labels: Mapping[str, str] | None = None, *, name_field: bool = False,
            show_not_found: bool = False) -> R:
    """Answer a refused form: settle the refusal, then re-render the page with the error and its 4xx.

    The refusal is settled by the unit of work's rule (``banso.kit.unit.settle``): an audited
    refusal commits its entry (A1), anything else the request wrote is rolled back. ``NotFound``
    propagates to the 404 page (I7: outsiders cannot tell) unless ``show_not_found`` (the caller's
    own things, e.g. a token that is not theirs, answer 404 on the form). ``page`` is called with
    ``error=`` (a :class:`FormError`: every problem, see :func:`form_error`) and ``status=`` (the 4xx).
    """
    if isinstance(exc, NotFound) and not show_not_found:
        raise exc
    settle(db, exc)
    return page(error=form_error(request, exc, labels, name_field=name_field), status=exc.status_code)


def bind(model: type[M], values: Mapping[str, object], labels: Mapping[str, str] | None = None) -> M:
    """Return a form's values validated into ``model`` (the schema the API validates against).

    Every problem becomes part of one :class:`FormProblems` (a ``ValidationFailed``), so :func:`refused`
    lists them all: each pydantic error is said with the field's labels (``web.problems``), the text
    rule's and the date rule's in their own words.
    """
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        problems = [(field_code(problem["loc"]) or model.__name__, pydantic_message(problem, labels))
                    for problem in exc.errors()]
        raise FormProblems(problems) from None


def redirect(url: str, done: str | None = None, anchor: str | None = None) -> RedirectResponse:
    """Return the 303 after a successful post; ``done`` names the notice the next page shows."""
    target = url + (f"?done={done}" if done else "") + (f"#{anchor}" if anchor else "")
    return RedirectResponse(target, status_code=303)


def notice(done: str | None, allowed: Collection[str]) -> str | None:
    """Return the notice a redirect asked for when the page knows it (anything else is ignored)."""
    return done if done in allowed else None


def int_or_none(value: str | None, field: str) -> int | None:
    """Return an id typed or chosen in a form; blank is None, anything but digits a 4xx."""
    text = (value or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 12:
        raise ValidationFailed(invalid_message(field), field=field)
    return int(text)


def require_int(value: str | None, field: str) -> int:
    """Return an id the form must carry; blank asks the person to choose one."""
    found = int_or_none(value, field)
    if found is None:
        raise ValidationFailed(choose_message(field), field=field)
    return found


def parse_when(value: str | None, field: str, *, end_of_day: bool = False) -> datetime:
    """Return a form date (``YYYY-MM-DD``) or date-time (``YYYY-MM-DDTHH:MM``) read as JST, in UTC."""
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(required_message(field), field=field)
    try:
        if "T" in text or " " in text:
            moment = datetime.fromisoformat(text.replace(" ", "T"))
        else:
            day = datetime.fromisoformat(text).date()
            moment = datetime.combine(day, time(23, 59) if end_of_day else time(0, 0))
    except ValueError:
        raise ValidationFailed(invalid_date_message(field), field=field) from None
    check_moment(moment, field)  # O1: far-future and far-past dates are refused before they overflow
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=JST)
    return as_utc(moment)


def local_input(moment: datetime | None) -> str:
    """Return a time as the value of a datetime-local input (JST)."""
    return to_jst(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""


def date_input(moment: datetime | None) -> str:
    """Return a time as the value of a date input (JST)."""
    return to_jst(moment).strftime("%Y-%m-%d") if moment else ""
