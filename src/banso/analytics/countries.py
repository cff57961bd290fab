"""Country names in Japanese and English for the ISO 3166-1 alpha-2 codes the indicators use (issue 16).

The table (``data/countries.yaml``) was written from the Unicode CLDR names Babel ships
(``babel.Locale('ja').territories``); it is read here, so showing a name needs no Babel at run time.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    import pandas as pd

LANGS = ("ja", "en")


@lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, str]]:
    text = resources.files("banso.analytics").joinpath("data/countries.yaml").read_text(encoding="utf-8")
    table: dict[str, dict[str, str]] = yaml.safe_load(text)["countries"]
    return table


def country_name(code: str | None, lang: str = "ja") -> str:
    """Return the country's name in ``lang`` (``ja`` or ``en``); an unknown code is returned as given.

    >>> country_name("JP", "ja"), country_name("JP", "en"), country_name("us", "en")
    ('日本', 'Japan', 'United States')
    >>> country_name("XX", "ja"), country_name(None, "en")
    ('XX', '')
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be ja or en (got {lang!r})")
    if not code:
        return ""
    names = _table().get(code.upper())
    return names[lang] if names else code


def is_country_code(code: str) -> bool:
    """Return True when ``code`` (any case) is an ISO 3166-1 alpha-2 code of the names table.

    >>> is_country_code("jp"), is_country_code("XX"), is_country_code("JPN"), is_country_code("u\u017f")
    (True, False, False, False)
    """
    # ASCII letters before upper-casing: str.upper() maps "ß" to "SS" and "ſ" (long s) to "S", so "uſ" would
    # pass as US (outside tester, session 12)
    return code.isascii() and code.isalpha() and code.upper() in _table()


def country_label(code: str | None, lang: str = "ja") -> str:
    """Return ``name (CODE)`` — the name for readers, the code for those matching it to the data.

    >>> country_label("CN", "ja"), country_label("CN", "en")
    ('中国 (CN)', 'China (CN)')
    """
    name = country_name(code, lang)
    return f"{name} ({code})" if code and name != code else name


def with_country_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with ``country_ja`` and ``country_en`` beside its ``country`` codes (None where none): the
    tables that leave banso (workbook sheets, CSV files, API answers) name the countries in both languages."""
    return frame.assign(**{f"country_{lang}": [country_name(c, lang) if isinstance(c, str) else None
                                               for c in frame["country"]] for lang in ("ja", "en")})
