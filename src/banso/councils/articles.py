"""Bylaws as structured articles (規約の条, issue 13): the model structure, parameters, diff and duty detection.

Pure: no session, no HTTP, no clock. A bylaws version is an ordered list of :class:`Article` (number, key,
titles, text) plus the numeric :data:`PARAMETERS`. An article's stored text may hold ``${name}``
placeholders, filled when shown (:func:`render`): ``art_<key>`` with the current number of that article
(so cross-references survive renumbering) and a parameter name with its value in the version (so the
text and the structured field can never disagree). The article with key ``"duty"`` carries the duty of
Art. 62(7) (C3); a change to it, or to a parameter that bounds the duty, is a duty change.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Any

from banso.kit.errors import ValidationFailed
from banso.kit.text import clean_text

DUTY_KEY = "duty"
DUTY_BOUND_KEYS = (DUTY_KEY, "designation")  # articles whose change is a change to the duty (C3)
MAX_ARTICLES = 60
MAX_ARTICLE_TEXT = 20_000
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_HEADING = re.compile(r"^##\s*第\s*(\d+)\s*条\s*[（(]([^）)]*)[）)]\s*$")


@dataclass(frozen=True)
class Article:
    """One article (条) of a council's bylaws; ``text`` may hold ``${…}`` placeholders (see module doc)."""

    number: int
    key: str
    title_ja: str
    title_en: str
    text: str

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form stored with the bylaws version."""
        return {"number": self.number, "key": self.key, "title_ja": self.title_ja, "title_en": self.title_en,
                "text": self.text}


@dataclass(frozen=True)
class Parameter:
    """A numeric bylaws parameter: its column on the bylaws version, its API field, bounds and default."""

    column: str
    field: str
    low: int
    high: int
    default: int
    bounds_duty: bool  # C3: a change to it changes what the duty covers, so everyone re-signs
    label_ja: str
    label_en: str


# The one table of bylaws parameters (issue 13). A parameter that another part adds (oral designation days,
# review period …) is one more row here and one more column on BylawsVersion.
PARAMETERS: tuple[Parameter, ...] = (
    Parameter("designation_max_years", "designation_max_years", 1, 5, 5, True, "指定期間の上限（年）",
              "designation maximum period (years)"),  # I3
    Parameter("nondisclosure_decision_days", "nondisclosure_days", 1, 180, 30, False, "非公開要請の決定期限（日）",
              "non-disclosure decision deadline (days)"),  # I6
    Parameter("publication_notice_days", "publication_notice_days", 1, 365, 30, False, "公表前の通知期間（日）",
              "prior notice before publication (days)"),  # I13
    Parameter("minutes_confirmation_days", "minutes_confirmation_days", 1, 90, 14, False, "議事録の確認期限（日）",
              "days to confirm circulated minutes"),  # C5
    # Issue 13: the period for designating an oral statement in writing bounds what falls under the duty (C3).
    Parameter("oral_designation_days", "oral_designation_days", 1, 365, 30, True, "口頭の秘密の書面指定期限（日）",
              "days to designate an oral statement in writing"),
    # Issue 13 (I6, I13): a withheld result is reviewed this many months after it was withheld.
    Parameter("withheld_review_months", "withheld_review_months", 1, 60, 12, False, "非公開成果の見直しまでの期間（月）",
              "months until a withheld result is reviewed"),
)


def parameters(given: Mapping[str, int | None], current: Mapping[str, int] | None = None) -> dict[str, int]:
    """Return every bylaws parameter by column: given (by API field or column) else current else default;
    refuse a value outside its bounds with a bilingual message naming the field."""
    unknown = sorted(set(given) - {p.field for p in PARAMETERS} - {p.column for p in PARAMETERS})
    if unknown:
        raise ValidationFailed(f"規約にないパラメータです: {', '.join(unknown)} / unknown bylaws parameter(s): "
                               f"{', '.join(unknown)}", field="parameters")
    values: dict[str, int] = {}
    for p in PARAMETERS:
        value = given.get(p.field, given.get(p.column))
        if value is None:
            value = current[p.column] if current is not None else p.default
        if not p.low <= value <= p.high:
            raise ValidationFailed(f"{p.label_ja}は {p.low}〜{p.high} の範囲で指定してください / "
                                   f"{p.label_en} must be {p.low}..{p.high}", field=p.field)
        values[p.column] = value
    return values


def _model() -> list[dict[str, str]]:
    raw = resources.files("banso.councils").joinpath("data/model_bylaws.json").read_text(encoding="utf-8")
    rows: list[dict[str, str]] = json.loads(raw)["articles"]
    return rows


def model_articles(*, council_title: str) -> list[Article]:
    """Return the model bylaws' articles for one council (the council's title filled in, the rest kept)."""
    return [Article(number=i, key=row["key"], title_ja=row["title_ja"], title_en=row["title_en"],
                    text=Template(row["text"]).safe_substitute(council_title=council_title))
            for i, row in enumerate(_model(), start=1)]


def model_duty_article() -> Article:
    """Return the model's duty article (守秘義務) as written (for bylaws that had none)."""
    return next(a for a in model_articles(council_title="") if a.key == DUTY_KEY)


def from_json(rows: Iterable[Mapping[str, Any]]) -> list[Article]:
    """Return the articles stored with a bylaws version."""
    return [Article(number=int(r["number"]), key=str(r["key"]), title_ja=str(r["title_ja"]),
                    title_en=str(r.get("title_en") or ""), text=str(r["text"])) for r in rows]


def to_json(articles: Sequence[Article]) -> list[dict[str, Any]]:
    """Return the JSON form of ``articles``."""
    return [a.as_dict() for a in articles]


@dataclass(frozen=True)
class ArticleInput:
    """An article as typed by the chair or secretariat; its number is its place in the list."""

    key: str
    title_ja: str
    title_en: str
    text: str


def checked(inputs: Sequence[ArticleInput]) -> list[Article]:
    """Validate typed articles and number them 1..n in order; exactly one is the duty article (C3)."""
    if not inputs:
        raise ValidationFailed("規約には少なくとも一つの条が必要です / the bylaws need at least one article",
                               field="articles")
    if len(inputs) > MAX_ARTICLES:
        raise ValidationFailed(f"条は {MAX_ARTICLES} までです / at most {MAX_ARTICLES} articles", field="articles")
    seen: set[str] = set()
    out: list[Article] = []
    for number, given in enumerate(inputs, start=1):
        key = given.key.strip()
        if not _KEY.match(key):
            raise ValidationFailed(f"第{number}条のキーが正しくありません（英小文字・数字・_） / article {number}: "
                                   "the key must be lower-case letters, digits and _", field="articles")
        if key in seen:
            raise ValidationFailed(f"キー「{key}」が重複しています / the key “{key}” is used twice", field="articles")
        seen.add(key)
        out.append(Article(
            number=number, key=key,
            title_ja=clean_text(given.title_ja, f"第{number}条 title_ja", max_length=100, line=True),
            title_en=clean_text(given.title_en, f"article {number} title_en", max_length=100, line=True,
                                required=False),
            text=clean_text(given.text, f"第{number}条 text", max_length=MAX_ARTICLE_TEXT)))
    if DUTY_KEY not in seen:
        raise ValidationFailed("守秘義務の条（キー duty）は削除できません / the duty article (key “duty”) cannot "
                               "be removed (C3)", field="articles")
    return out


def duty_number(articles: Sequence[Article]) -> int | None:
    """Return the number of the article that carries the duty (第N条), or None."""
    return next((a.number for a in articles if a.key == DUTY_KEY), None)


def _values(articles: Sequence[Article], params: Mapping[str, int]) -> dict[str, object]:
    return {**{f"art_{a.key}": a.number for a in articles}, **params}


def render_article(article: Article, articles: Sequence[Article], params: Mapping[str, int]) -> str:
    """Return an article's text with its placeholders filled (article numbers, parameter values)."""
    return Template(article.text).safe_substitute(_values(articles, params))


# Phrases that state a parameter's value (or the duty article's number) literally, as the bylaws texts stored
# before 0020 did (they were kept filled in) and as a proposer may type: the number becomes its placeholder so
# that a vote changing the parameter changes the article (issue 13). Each pattern's group ``n`` is the number.
_LITERALS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?P<n>\d+)(?=年を超えることができない)"), "designation_max_years"),
    (re.compile(r"(?<=協議会は)(?P<n>\d+)(?=日以内に全員一致により決定)"), "nondisclosure_decision_days"),
    (re.compile(r"(?<=事務局は)(?P<n>\d+)(?=日前までに協議会に通知)"), "publication_notice_days"),
    (re.compile(r"(?<=出席者は)(?P<n>\d+)(?=日以内に確認)"), "minutes_confirmation_days"),
    (re.compile(r"(?<=会合の日から)(?P<n>\d+)(?=日以内に書面により指定)"), "oral_designation_days"),
    (re.compile(r"(?<=決定の日から)(?P<n>\d+)(?=か月を経過する日に見直す)"), "withheld_review_months"),
    (re.compile(r"(?<=第)(?P<n>\d+)(?=条の義務)"), f"art_{DUTY_KEY}"),
)


def with_placeholders(articles: Sequence[Article], params: Mapping[str, int]) -> list[Article]:
    """Return the articles with each literal number of a known phrase (:data:`_LITERALS`) turned into its
    placeholder, where the number equals the value in ``params`` (or the duty article's number): the rendered
    text stays exactly the same, and a later change of the parameter now shows in the article (issue 13)."""
    values = _values(articles, params)

    def placeholder(name: str, value: object) -> Callable[[re.Match[str]], str]:
        return lambda m: f"${{{name}}}" if int(m["n"]) == value else m[0]

    def fill(text: str) -> str:
        for pattern, name in _LITERALS:
            if (value := values.get(name)) is not None:
                text = pattern.sub(placeholder(name, value), text)
        return text

    return [Article(number=a.number, key=a.key, title_ja=a.title_ja, title_en=a.title_en, text=fill(a.text))
            for a in articles]


def heading(article: Article) -> str:
    """Return ``第N条（title）``."""
    return f"第{article.number}条（{article.title_ja}）"


def render(*, council_title: str, articles: Sequence[Article], params: Mapping[str, int]) -> str:
    """Return the full text of a bylaws version (what members read, hash and compare)."""
    parts = [f"# {council_title} 規約", ""]
    for a in articles:
        parts += [f"## {heading(a)}", render_article(a, articles, params), ""]
    return "\n".join(parts).rstrip() + "\n"


def parse(text: str) -> list[Article]:
    """Split a bylaws text written as ``## 第N条（見出し）`` sections into articles (numbered in order).

    Keys follow the model where a heading's title matches one of its articles; others get ``article_N``.
    Text before the first heading (a title line, a preamble) is not an article and is dropped, except when
    there is no heading at all: then the whole text is article 1 (key ``text``). A text without a duty
    article gets the model's (C3: every bylaws version carries the duty); say so in the summary.
    """
    by_title = {row["title_ja"]: row["key"] for row in _model()}
    by_title.update({"守秘義務": DUTY_KEY, "会合": "meetings", "協議事項": "matters", "参加者": "members",
                     "会長及び事務局": "secretariat", "規約の変更": "amendment", "研究成果の公開": "publication"})
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        found = _HEADING.match(line.strip())
        if found:
            sections.append((found.group(2).strip(), []))
        elif sections:
            sections[-1][1].append(line)
    if not sections:
        body = text.strip()
        articles = [Article(number=1, key="text", title_ja="本文", title_en="Text", text=body)] if body else []
    else:
        articles = []
        used: set[str] = set()
        for number, (title, lines) in enumerate(sections, start=1):
            key = by_title.get(title, f"article_{number}")
            if key in used:
                key = f"article_{number}"
            used.add(key)
            articles.append(Article(number=number, key=key, title_ja=title or f"第{number}条",
                                    title_en=_title_en(key), text="\n".join(lines).strip()))
    if duty_number(articles) is None:
        duty = model_duty_article()
        articles.append(Article(number=len(articles) + 1, key=DUTY_KEY, title_ja=duty.title_ja,
                                title_en=duty.title_en, text=duty.text))
    return articles


def _title_en(key: str) -> str:
    return next((row["title_en"] for row in _model() if row["key"] == key), "")


# ---------------------------------------------------------------------------------------------
# Comparing two versions


@dataclass(frozen=True)
class ArticleChange:
    """How one article differs between two versions: added, changed, removed or same, with a line diff."""

    key: str
    change: str  # "added" | "changed" | "removed" | "same"
    old: Article | None
    new: Article | None
    lines: list[tuple[str, str]]  # (kind, line): kind "add" | "del" | "same"


def _line_diff(old: str, new: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        tag, rest = line[:2], line[2:]
        if tag == "+ ":
            out.append(("add", rest))
        elif tag == "- ":
            out.append(("del", rest))
        elif tag == "  ":
            out.append(("same", rest))
    return out


def compare(old: Sequence[Article], old_params: Mapping[str, int], new: Sequence[Article],
            new_params: Mapping[str, int]) -> list[ArticleChange]:
    """Return the changes article by article (matched by key), in the new order, removed ones last.

    Texts are compared as shown (placeholders filled), so a renumbering or a parameter change that alters
    what an article says counts as a change of that article.
    """
    before = {a.key: a for a in old}
    after = {a.key: a for a in new}
    changes: list[ArticleChange] = []
    for a in new:
        b = before.get(a.key)
        new_text = f"{heading(a)}\n{render_article(a, new, new_params)}"
        if b is None:
            changes.append(ArticleChange(a.key, "added", None, a, [("add", x) for x in new_text.splitlines()]))
            continue
        old_text = f"{heading(b)}\n{render_article(b, old, old_params)}"
        kind = "same" if old_text == new_text and a.title_en == b.title_en else "changed"
        changes.append(ArticleChange(a.key, kind, b, a, _line_diff(old_text, new_text)))
    for b in old:
        if b.key not in after:
            old_text = f"{heading(b)}\n{render_article(b, old, old_params)}"
            changes.append(ArticleChange(b.key, "removed", b, None, [("del", x) for x in old_text.splitlines()]))
    return changes


def changed_parameters(old: Mapping[str, int], new: Mapping[str, int]) -> list[str]:
    """Return the columns of the parameters whose value differs."""
    return [p.column for p in PARAMETERS if old.get(p.column) != new.get(p.column)]


def duty_changed(old: Sequence[Article], old_params: Mapping[str, int], new: Sequence[Article],
                 new_params: Mapping[str, int]) -> bool:
    """Return True when the duty changed (C3): the duty article's number, title or text as shown, or a
    parameter that bounds the duty. Decided from the diff, never declared by the proposer (issue 13)."""
    if any(p.bounds_duty and old_params.get(p.column) != new_params.get(p.column) for p in PARAMETERS):
        return True
    # The duty article and the article that sets what is secret (指定: the scope of the duty) both bind the pledge:
    # the model's duty article itself says a change to "this article or the provisions setting the scope of
    # secrets" requires signing again (outside finding, session 9: the scope article was not looked at).
    changes = {c.key: c.change for c in compare(old, old_params, new, new_params)}
    return any(changes.get(key, "removed") != "same" for key in DUTY_BOUND_KEYS if key == DUTY_KEY or key in changes)
