"""``?country=`` takes two ASCII letters only (outside tester, session 12).

``str.upper()`` maps some non-ASCII letters onto ASCII ones ("ß" → "SS", "ſ" long s → "S", "ﬁ" → "FI",
dotless "ı" → "I"), so a check made after upper-casing read ``?country=uſ`` as the United States (200 on
the page) and ``?country=ß`` as South Sudan, where the API's own query rule answered 422 for both.
"""

from __future__ import annotations

import pytest

from banso.kit.errors import ValidationFailed
from banso.thinktank.service import CountryNotInAnalysis, asked_country


@pytest.mark.parametrize("raw", ["u\u017f", "\u00df", "\ufb01", "\u0131t", "\uff2a\uff30", "J\u0130"])
def test_letters_that_upper_case_into_ascii_are_malformed(raw: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        asked_country(raw, {"US", "SS", "FI", "IT", "JP", "JI"})
    assert refused.value.field == "country"
    assert "2 文字の英字" in refused.value.message


def test_ascii_codes_keep_their_rules() -> None:
    assert asked_country(" us ", {"US"}) == "US"
    assert asked_country("", {"US"}) is None
    with pytest.raises(CountryNotInAnalysis):
        asked_country("fi", {"US"})
    with pytest.raises(ValidationFailed):
        asked_country("xx", {"US"})  # two letters, but no ISO 3166-1 code
