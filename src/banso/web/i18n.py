"""Translations from Babel catalogues (``locale/<lang>/LC_MESSAGES/messages.po``).

Message ids are English; Japanese is the default UI language. Catalogues are read with
Babel's ``read_po`` at start-up, so no compiled .mo files need to be kept in git.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from banso.kit.japanese import format_minute

LOCALES = ("ja", "en")
DEFAULT_LOCALE = "ja"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


@lru_cache
def catalogue(locale: str) -> dict[str, str]:
    """Return msgid → msgstr for ``locale`` (untranslated and fuzzy entries left out)."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        cat = read_po(handle, locale=locale)
    return {
        str(msg.id): str(msg.string)
        for msg in cat
        if msg.id and isinstance(msg.id, str) and msg.string and not msg.fuzzy
    }


def normalise_locale(value: str | None) -> str:
    """Return a supported locale code for a cookie or header value."""
    if value:
        code = value.strip().lower()[:2]
        if code in LOCALES:
            return code
    return DEFAULT_LOCALE


class Translator:
    """gettext and formatting for one locale."""

    def __init__(self, locale: str) -> None:
        self.locale = normalise_locale(locale)
        self._messages = catalogue(self.locale)

    def gettext(self, message: str, **params: object) -> str:
        """Translate ``message`` and fill ``{name}`` placeholders."""
        text = self._messages.get(message, message)
        return text.format(**params) if params else text

    def datetime(self, value: datetime | None, fmt: str = "medium") -> str:
        """Format a timestamp in the UI's one date-time format: JST, to the minute (``kit.japanese``).

        ``fmt`` is accepted for old call sites and ignored: pages show one format, never seconds (issue 14).
        """
        del fmt
        return "—" if value is None else format_minute(value, self.locale)

    def number(self, value: float) -> str:
        """Format a number for this locale."""
        return format_decimal(value, locale=self.locale)

    @property
    def callables(self) -> dict[str, Callable[..., str]]:
        """Return the helpers templates use: ``_``, ``fmt_dt``, ``fmt_num``."""
        return {"_": self.gettext, "fmt_dt": self.datetime, "fmt_num": self.number}
