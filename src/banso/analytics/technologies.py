"""Technology definition file (T1): load and validate the YAML that maps technologies to topics and keywords."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from banso.analytics.errors import TechnologyFileError

_TOPIC_RE = re.compile(r"^(?:https?://openalex\.org/)?T(\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Technology:
    """One technology: an id, its names and the topic ids / keyword phrases that select its works.

    ``group`` is a free label (the shipped file: ``guideline``, ``vision1``, ``vision2``); ``registry`` is
    the code of the matching vision technology in the programme registry
    (``banso/programme/data/registry.yaml``, e.g. ``V1-OC-01``), empty when there is none.

    Examples
    --------
    >>> Technology("q", "量子", "Quantum", (10682,), ("qubit",)).topics
    (10682,)
    """

    id: str
    name_ja: str
    name_en: str
    topics: tuple[int, ...] = ()
    keywords: tuple[str, ...] = ()
    group: str = ""
    registry: str = ""


@dataclass(frozen=True)
class TechnologySet:
    """The parsed technology file."""

    technologies: tuple[Technology, ...]
    source: str = ""
    version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        """Return the technology ids in file order."""
        return [t.id for t in self.technologies]

    def select(self, ids: list[str]) -> TechnologySet:
        """Return the subset with the given ids; unknown ids raise a clear error."""
        known = {t.id: t for t in self.technologies}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise TechnologyFileError(
                f"不明な技術 ID: {', '.join(unknown)}（{self.source or '技術定義ファイル'} にありません） / "
                f"unknown technology id(s): {', '.join(unknown)} (not in {self.source or 'the technology file'}; "
                f"known: {', '.join(sorted(known)[:8])}{' …' if len(known) > 8 else ''})"
            )
        return TechnologySet(tuple(known[i] for i in ids), self.source, self.version)


def default_technology_file() -> Path:
    """Return the path of the shipped default technology file."""
    return Path(str(resources.files("banso.analytics") / "data" / "technologies.yaml"))


def parse_topic_id(value: object) -> int:
    """Parse ``T10682`` or ``https://openalex.org/T10682`` to ``10682``.

    Examples
    --------
    >>> parse_topic_id("https://openalex.org/T10682")
    10682
    """
    m = _TOPIC_RE.match(str(value).strip())
    if not m:
        raise ValueError(str(value))
    return int(m.group(1))


def parse_technologies(data: object, *, source: str = "<memory>") -> TechnologySet:
    """Validate a decoded technology document and return a :class:`TechnologySet`.

    Examples
    --------
    >>> ts = parse_technologies({"technologies": [
    ...     {"id": "q", "name_ja": "量子", "name_en": "Quantum", "topics": ["T10682"],
    ...      "keywords": ["Qubit"], "registry": "V2-99"}]})
    >>> ts.technologies[0].keywords, ts.technologies[0].registry
    (('qubit',), 'V2-99')
    """

    def fail(ja: str, en: str) -> TechnologyFileError:
        return TechnologyFileError(f"{source}: {ja} / {source}: {en}")

    if not isinstance(data, dict) or "technologies" not in data:
        raise fail("最上位に 'technologies:' の一覧を持つ対応表が必要です", "expected a mapping with a top-level 'technologies:' list")
    items = data["technologies"]
    if not isinstance(items, list) or not items:
        raise fail("'technologies' は空でない一覧にしてください", "'technologies' must be a non-empty list")
    seen: set[str] = set()
    registry_codes: dict[str, str] = {}  # registry code -> id of the technology that has it
    techs: list[Technology] = []
    for i, item in enumerate(items):
        where = f"technologies[{i}]"
        if not isinstance(item, dict):
            raise fail(f"{where} は id, name_ja, name_en, topics, keywords の対応表にしてください",
                       f"{where} must be a mapping with id, name_ja, name_en, topics, keywords")
        for key in ("id", "name_ja", "name_en"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise fail(f"{where} ({item.get('id', '?')}): '{key}' は空でない文字列で必須です",
                           f"{where} ({item.get('id', '?')}): '{key}' is required and must be a non-empty string")
        tid = item["id"].strip()
        if tid in seen:
            raise fail(f"{where}: 技術 ID '{tid}' が重複しています", f"{where}: duplicate technology id '{tid}'")
        seen.add(tid)
        topics_raw = item.get("topics") or []
        keywords_raw = item.get("keywords") or []
        if not isinstance(topics_raw, list) or not isinstance(keywords_raw, list):
            raise fail(f"{where} ({tid}): 'topics' と 'keywords' は一覧にしてください",
                       f"{where} ({tid}): 'topics' and 'keywords' must be lists")
        topics: list[int] = []
        for t in topics_raw:
            try:
                topics.append(parse_topic_id(t))
            except ValueError:
                raise fail(
                    f"{where} ({tid}): トピック ID {t!r} は OpenAlex のトピック ID（T12345 か https://openalex.org/T12345）"
                    "ではありません",
                    f"{where} ({tid}): topic id {t!r} is not an OpenAlex topic id (T12345 or https://openalex.org/T12345)"
                ) from None
        keywords: list[str] = []
        for k in keywords_raw:
            if not isinstance(k, str | int | float) or not str(k).strip():
                raise fail(f"{where} ({tid}): キーワード {k!r} は空でない文字列にしてください",
                           f"{where} ({tid}): keyword {k!r} must be a non-empty string")
            keywords.append(str(k).strip().lower())
        if not topics and not keywords:
            raise fail(f"{where} ({tid}): トピック ID かキーワードを 1 つ以上指定してください",
                       f"{where} ({tid}): give at least one topic id or keyword phrase")
        code_raw = item.get("registry")
        code = ""
        if code_raw is not None:
            if not isinstance(code_raw, str) or not code_raw.strip():
                raise fail(f"{where} ({tid}): 'registry' は空でない文字列（登録コード、例: V1-OC-01）にしてください",
                           f"{where} ({tid}): 'registry' must be a non-empty string "
                           "(a registry code, e.g. V1-OC-01)")
            code = code_raw.strip()
            if code in registry_codes:
                raise fail(f"{where} ({tid}): 登録コード '{code}' が重複しています（技術 '{registry_codes[code]}' に付与済み）",
                           f"{where} ({tid}): duplicate registry code '{code}' "
                           f"(already given to technology '{registry_codes[code]}')")
            registry_codes[code] = tid
        techs.append(
            Technology(
                id=tid,
                name_ja=item["name_ja"].strip(),
                name_en=item["name_en"].strip(),
                topics=tuple(dict.fromkeys(topics)),
                keywords=tuple(dict.fromkeys(keywords)),
                group=str(item.get("group", "")),
                registry=code,
            )
        )
    return TechnologySet(tuple(techs), source, str(data.get("version", "")))


def load_technologies(path: Path | None = None) -> TechnologySet:
    """Load and validate a technology YAML file (the shipped default when ``path`` is None)."""
    path = path or default_technology_file()
    if not path.is_file():
        raise TechnologyFileError(f"技術定義ファイルが見つかりません: {path} / technology file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TechnologyFileError(f"{path}: YAML として読めません: {exc} / {path}: not valid YAML: {exc}") from None
    except UnicodeDecodeError:
        raise TechnologyFileError(f"{path}: UTF-8 のテキストではありません / {path}: not UTF-8 text") from None
    return parse_technologies(data, source=str(path))
