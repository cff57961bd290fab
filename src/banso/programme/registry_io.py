"""Read and write the technology registry (F1) as YAML or CSV — pure, no session.

YAML has three lists: ``areas``, ``rounds`` and ``technologies``. CSV has one row per record
with a ``record`` column (``area``, ``round`` or ``technology``); a technology's guideline areas
are separated by ``;``. Errors name the row (``row 7``, counted as a spreadsheet shows it, the
header being row 1) or the YAML entry (``technologies[3]``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from banso.kit.cells import CSV_LINE_END, csv_cell, is_formula_like, note_line, restore_cell
from banso.kit.dates import check_moment
from banso.kit.errors import ValidationFailed
from banso.kit.nesting import too_deep_message, value_depth
from banso.kit.text import clean_text

# A registry file is a mapping of lists of mappings holding lists of codes: four levels; a little room.
MAX_REGISTRY_DEPTH = 16
DOMAINS = ("ocean", "space_aviation", "cross_domain_cyber", "bio", "other")
CERTAINTIES = ("confirmed", "unsure")
CSV_COLUMNS = ("record", "code", "round", "domain", "name_ja", "name_en", "areas", "decided_on", "certainty",
               "note", "source")


@dataclass(frozen=True)
class AreaRecord:
    """A guideline area as read from a file."""

    code: str
    name_ja: str
    name_en: str
    position: int


@dataclass(frozen=True)
class RoundRecord:
    """A vision round as read from a file."""

    round: int
    title_ja: str
    decided_on: date
    source: str | None


@dataclass(frozen=True)
class TechnologyRecord:
    """A vision technology as read from a file."""

    code: str
    round: int
    domain: str
    name_ja: str
    name_en: str
    areas: tuple[str, ...]
    certainty: str
    note: str | None


@dataclass
class RegistryData:
    """Everything a registry file holds."""

    areas: list[AreaRecord] = field(default_factory=list)
    rounds: list[RoundRecord] = field(default_factory=list)
    technologies: list[TechnologyRecord] = field(default_factory=list)


def _text(raw: dict[str, Any], key: str, where: str, *, required: bool = True, max_length: int = 300) -> str:
    """Return ``raw[key]`` under the one text rule, the message saying where in the file it is.

    Every registry field but the note is a line (codes, names, titles, sources).
    """
    return clean_text(raw.get(key), key, max_length=max_length, required=required, label=f"{where}: {key}",
                      line=key != "note")


def _int(raw: dict[str, Any], key: str, where: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool):
        raise ValidationFailed(f"{where}: {key} は整数で入力してください（{value!r}） / {where}: {key} must be a whole number, not {value!r}", field=key)
    if isinstance(value, int):
        return value
    text = "" if value is None else str(value).strip()
    if not text.isdigit():
        raise ValidationFailed(f"{where}: {key} は整数で入力してください（{value!r}） / {where}: {key} must be a whole number, not {value!r}", field=key)
    return int(text)


def _date(raw: dict[str, Any], key: str, where: str) -> date:
    value = raw.get(key)
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"{where}: {key} は YYYY-MM-DD 形式の日付で入力してください（{value!r}） / "
                f"{where}: {key} must be a date YYYY-MM-DD, not {value!r}", field=key) from None
    check_moment(day, f"{where}: {key}")
    return day


def _area(raw: dict[str, Any], where: str, position: int) -> AreaRecord:
    return AreaRecord(code=_text(raw, "code", where, max_length=20), name_ja=_text(raw, "name_ja", where),
                      name_en=_text(raw, "name_en", where), position=position)


def _round(raw: dict[str, Any], where: str) -> RoundRecord:
    number = _int(raw, "round", where)
    if number < 1:
        raise ValidationFailed(f"{where}: round は1以上です / {where}: round must be 1 or more", field="round")
    return RoundRecord(round=number, title_ja=_text(raw, "title_ja", where) if raw.get("title_ja") else
                       _text(raw, "name_ja", where), decided_on=_date(raw, "decided_on", where),
                       source=_text(raw, "source", where, required=False, max_length=2000) or None)


def _technology(raw: dict[str, Any], where: str) -> TechnologyRecord:
    domain = _text(raw, "domain", where, max_length=40)
    if domain not in DOMAINS:
        raise ValidationFailed(f"{where}: 領域 {domain!r} は選択肢（{', '.join(DOMAINS)}）にありません / "
                f"{where}: domain {domain!r} is not one of {', '.join(DOMAINS)}", field="domain")
    certainty = _text(raw, "certainty", where, required=False, max_length=16) or "confirmed"
    if certainty not in CERTAINTIES:
        raise ValidationFailed(f"{where}: 確度 {certainty!r} は選択肢（{', '.join(CERTAINTIES)}）にありません / "
                f"{where}: certainty {certainty!r} is not one of {', '.join(CERTAINTIES)}",
                               field="certainty")
    areas_raw = raw.get("areas") or []
    if isinstance(areas_raw, str):
        areas_raw = [a for a in areas_raw.replace(",", ";").split(";")]
    areas = tuple(str(a).strip() for a in areas_raw if str(a).strip())
    return TechnologyRecord(
        code=_text(raw, "code", where, max_length=30), round=_int(raw, "round", where), domain=domain,
        name_ja=_text(raw, "name_ja", where), name_en=_text(raw, "name_en", where, required=False) or "",
        areas=areas, certainty=certainty, note=_text(raw, "note", where, required=False, max_length=2000) or None,
    )


def check_consistency(data: RegistryData, *, known_areas: set[str] = frozenset(),  # type: ignore[assignment]
                      known_rounds: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """Raise on duplicate codes or references to areas or rounds that exist neither in the file nor the database."""
    seen: set[str] = set()
    for i, a in enumerate(data.areas):
        if a.code in seen:
            raise ValidationFailed(f"areas[{i}]: 分野コード {a.code!r} が重複しています / areas[{i}]: area code {a.code!r} appears twice", field="code")
        seen.add(a.code)
    rounds = {r.round for r in data.rounds}
    if len(rounds) != len(data.rounds):
        raise ValidationFailed("ビジョンの回が重複しています / a vision round appears twice", field="round")
    areas = seen | set(known_areas)
    rounds |= set(known_rounds)
    codes: set[str] = set()
    for t in data.technologies:
        if t.code in codes:
            raise ValidationFailed(f"技術 {t.code}: コードが重複しています / technology {t.code}: code appears twice", field="code")
        codes.add(t.code)
        if t.round not in rounds:
            raise ValidationFailed(f"技術 {t.code}: ビジョン第{t.round}回は定義されていません / technology {t.code}: vision round {t.round} is not defined", field="round")
        unknown = [c for c in t.areas if c not in areas]
        if unknown:
            raise ValidationFailed(f"技術 {t.code}: 指針の分野（{', '.join(unknown)}）が登録されていません / "
                f"technology {t.code}: unknown guideline area {', '.join(unknown)}", field="areas")


def parse_yaml(text: str) -> RegistryData:
    """Parse a YAML registry file."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValidationFailed(f"YAML として読めません{where}: {getattr(exc, 'problem', exc)} / not valid YAML{where}: {getattr(exc, 'problem', exc)}", field="file") from None
    except RecursionError:  # O1: PyYAML recurses once per level; "[[[[…" must be a 422, not a 500
        raise ValidationFailed(too_deep_message("YAML", MAX_REGISTRY_DEPTH), field="file") from None
    if value_depth(doc) > MAX_REGISTRY_DEPTH:
        raise ValidationFailed(too_deep_message("YAML", MAX_REGISTRY_DEPTH), field="file")
    if not isinstance(doc, dict):
        raise ValidationFailed("登録簿の YAML は「areas」「rounds」「technologies」を持つ対応表です / a registry YAML file is a mapping with areas, rounds and technologies", field="file")
    unknown = set(doc) - {"areas", "rounds", "technologies"}
    if unknown:
        raise ValidationFailed(f"不明な最上位キーがあります（{', '.join(sorted(map(str, unknown)))}） / unknown top-level keys: {', '.join(sorted(map(str, unknown)))}", field="file")
    data = RegistryData()
    for section in ("areas", "rounds", "technologies"):
        items = doc.get(section) or []
        if not isinstance(items, list):
            raise ValidationFailed(f"{section} はリストで指定してください / {section} must be a list", field="file")
        for i, raw in enumerate(items):
            where = f"{section}[{i}]"
            if not isinstance(raw, dict):
                raise ValidationFailed(f"{where}: 対応表（キーと値）で指定してください / {where}: expected a mapping", field="file")
            if section == "areas":
                data.areas.append(_area(raw, where, i + 1))
            elif section == "rounds":
                data.rounds.append(_round(raw, where))
            else:
                data.technologies.append(_technology(raw, where))
    return data


def parse_csv(text: str) -> RegistryData:
    """Parse a CSV registry file (UTF-8, header row, one record per row)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = reader.fieldnames or []
    missing = [c for c in ("record", "code", "name_ja") if c not in header]
    if missing:
        raise ValidationFailed(f"CSV の見出し行に列がありません（{', '.join(missing)}） / CSV header lacks column(s): {', '.join(missing)}", field="file")
    data = RegistryData()
    for raw_row in reader:
        where = f"row {reader.line_num}"
        if (raw_row.get("record") or "").startswith("#"):  # a note line, e.g. the export's CSV_NOTE
            continue
        if None in raw_row:
            raise ValidationFailed(f"{where}: 見出し行より列が多すぎます / {where}: more cells than header columns", field="file")
        row = {k: restore_cell(v) if isinstance(v, str) else v for k, v in raw_row.items()}  # O1: undo csv_cell
        kind = (row.get("record") or "").strip()
        if kind == "area":
            data.areas.append(_area(row, where, len(data.areas) + 1))
        elif kind == "round":
            data.rounds.append(_round({**row, "round": row.get("round") or row.get("code")}, where))
        elif kind == "technology":
            data.technologies.append(_technology(row, where))
        else:
            raise ValidationFailed(f"{where}: record は「area」「round」「technology」のいずれかです（{kind!r}） / "
                f"{where}: record must be area, round or technology, not {kind!r}", field="record")
    return data


def parse(text: str, *, fmt: str) -> RegistryData:
    """Parse ``text`` as ``fmt`` (``yaml`` or ``csv``) and check it on its own."""
    if fmt == "yaml":
        data = parse_yaml(text)
    elif fmt == "csv":
        data = parse_csv(text)
    else:
        raise ValidationFailed(f"登録簿の形式 {fmt!r} は扱えません（yaml か csv） / unknown registry format {fmt!r}; use yaml or csv", field="format")
    return data


def to_yaml(data: RegistryData, *, header: str = "") -> str:
    """Serialise ``data`` as YAML."""
    doc = {
        "areas": [{"code": a.code, "name_ja": a.name_ja, "name_en": a.name_en} for a in data.areas],
        "rounds": [{"round": r.round, "title_ja": r.title_ja, "decided_on": r.decided_on.isoformat(),
                    "source": r.source} for r in data.rounds],
        "technologies": [
            {"code": t.code, "round": t.round, "domain": t.domain, "name_ja": t.name_ja, "name_en": t.name_en,
             "areas": list(t.areas), "certainty": t.certainty, **({"note": t.note} if t.note else {})}
            for t in data.technologies
        ],
    }
    dumped: str = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
    return header + dumped


def to_csv(data: RegistryData) -> str:
    """Serialise ``data`` as CSV; formula-like cells start with ' and the file then ends with a note (O1)."""
    records: list[dict[str, object]] = []
    for a in data.areas:
        records.append({"record": "area", "code": a.code, "name_ja": a.name_ja, "name_en": a.name_en})
    for r in data.rounds:
        records.append({"record": "round", "code": str(r.round), "round": r.round, "name_ja": r.title_ja,
                        "decided_on": r.decided_on.isoformat(), "source": r.source or ""})
    for t in data.technologies:
        records.append({"record": "technology", "code": t.code, "round": t.round, "domain": t.domain,
                        "name_ja": t.name_ja, "name_en": t.name_en, "areas": ";".join(t.areas),
                        "certainty": t.certainty, "note": t.note or ""})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator=CSV_LINE_END)  # a CR in a cell is quoted
    writer.writeheader()
    neutralised = 0
    for record in records:
        neutralised += sum(1 for v in record.values() if is_formula_like(v))
        writer.writerow({k: csv_cell(v) for k, v in record.items()})
    if neutralised:
        out.write(note_line(len(CSV_COLUMNS)))
    return out.getvalue()
