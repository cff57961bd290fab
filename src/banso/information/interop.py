"""MISP and STIX 2.1 interchange for cyber-incident items (サイバーインシデント・脆弱性情報).

Pure: no session, no clock, no I/O. Imports turn a MISP event or a STIX 2.1 bundle into a neutral
``Interchange``; exports turn an ``ExportItem`` back into either format.

The Traffic Light Protocol (TLP 2.0, FIRST) label decides the openness an imported item starts with:

=================  ============  =======================================================
TLP                openness      designation scope (I3: least privilege)
=================  ============  =======================================================
CLEAR (1.0 WHITE)  public        —
GREEN              council       — (I2: council-shared, every pledged participant)
AMBER              designate     ``organisations``: the recipients' organisations
AMBER+STRICT       designate     ``provider_organisation``: the provider's organisation only
RED                designate     ``named``: named people only
none               council       — (I2: council-shared is the default)
=================  ============  =======================================================

Several labels: the most restrictive wins. Labels are kept verbatim as found, so an export can
carry them back out unchanged. A "designate" result is only a *suggestion*: the designation itself
still needs its proposal and unanimous vote (I3, I4).

A MISP event's own distribution narrows this further, never widens it: "your organisation only" (0)
and "this community only" (1) suggest the provider's organisation, a sharing group (4) the
organisations it names (``named_organisations``); the stricter of label and distribution wins, and
the sharing group's name is kept. A source that becomes a proposal gets a neutral summary (format,
label, counts): its text goes to the sealed body only, because voters see the summary (I4).

Exports are never looser than what banso enforces: public → CLEAR, council-shared → AMBER (the
Art. 62(7) duty rules out GREEN), held → RED, designated for all participants → AMBER, for named
organisations → AMBER+STRICT, for named people or with view-only/no-download handling → RED.

Patterns are read with the STIX 2.1 grammar (``stix2-patterns``), never a backtracking regular
expression, within the size budgets below.
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any

from stix2patterns.exceptions import ParseException
from stix2patterns.inspector import INDEX_STAR
from stix2patterns.v21.pattern import Pattern

from banso.kit.dates import in_range, out_of_range_message
from banso.kit.errors import BansoError
from banso.kit.nesting import json_depth

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------


class InterchangeError(BansoError):
    """A MISP or STIX document is malformed; ``message`` names what is wrong."""

    status_code = 422
    code = "interchange_invalid"


# Budgets: every import is linear in its size, and its size is bounded, so no document can hold a
# worker (O4). Worst cases measured for issue 11: one 4,000-character pattern costs at most about
# 0.05 s of CPU (an IN set of 1,300 members, REPEATS qualifiers); a bundle at the pattern budget about
# 0.7 s of CPU (1.3 s wall on the shared 2-core test machine at load 8); a 5 MiB MISP event with
# 10,000 attributes 0.4 s. The OASIS examples take milliseconds.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32  # JSON nesting; a MISP event with objects needs 8, a STIX bundle with extensions about 6
MAX_OBJECTS = 10_000  # STIX objects, or MISP attributes plus objects
MAX_PATTERN_CHARS = 4_096  # one STIX pattern
MAX_PATTERN_TOTAL_CHARS = 65_536  # all patterns of one bundle (about 1,000 typical indicators)
MAX_PATTERN_COMPARISONS = 256  # one STIX pattern
MAX_COMPARISONS = 2_048  # all patterns of one bundle


class Openness(StrEnum):
    """Openness an imported item starts with (I2)."""

    PUBLIC = "public"  # 公開
    COUNCIL = "council"  # 協議会内共有
    DESIGNATE = "designate"  # 指定 proposed (I3, I4 still apply)


class Scope(StrEnum):
    """Suggested designation scope (I3); ``all`` when nothing is designated."""

    ALL = "all"
    ORGANISATIONS = "organisations"  # every organisation of the council (TLP:AMBER)
    NAMED_ORGANISATIONS = "named_organisations"  # the organisations a MISP sharing group names
    PROVIDER_ORGANISATION = "provider_organisation"
    NAMED = "named"

    @property
    def strictness(self) -> int:
        """Return the rank of the scope, from all participants (0) to named people (4)."""
        return list(Scope).index(self)


class TlpLevel(IntEnum):
    """TLP 2.0 levels, ordered from least to most restrictive."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def token(self) -> str:
        """Return the lower-case level word, e.g. ``amber+strict``."""
        return self.name.lower().replace("_", "+")

    @property
    def label(self) -> str:
        """Return the canonical TLP 2.0 label, e.g. ``TLP:AMBER+STRICT``."""
        return f"TLP:{self.token.upper()}"


_TLP_TOKENS = {
    "clear": TlpLevel.CLEAR,
    "white": TlpLevel.CLEAR,  # TLP 1.0 WHITE became TLP 2.0 CLEAR
    "green": TlpLevel.GREEN,
    "amber": TlpLevel.AMBER,
    "amber+strict": TlpLevel.AMBER_STRICT,
    "red": TlpLevel.RED,
}
_TLP_LABEL = re.compile(r"^\s*tlp\s*:\s*(clear|white|green|amber\s*\+\s*strict|amber|red)\s*$", re.IGNORECASE)


def _tlp_token(label: str) -> str | None:
    match = _TLP_LABEL.match(label)
    return re.sub(r"\s+", "", match.group(1)).lower() if match else None


@dataclass(frozen=True)
class Tlp:
    """A TLP label exactly as found, e.g. ``TLP:AMBER+STRICT`` or ``tlp:amber+strict``."""

    label: str

    @property
    def level(self) -> TlpLevel | None:
        """Return the level the label names, or None when it is not a TLP 1.0/2.0 label."""
        token = _tlp_token(self.label)
        return _TLP_TOKENS[token] if token else None

    @property
    def canonical(self) -> str | None:
        """Return the TLP 2.0 spelling (``TLP:WHITE`` becomes ``TLP:CLEAR``), or None."""
        level = self.level
        return level.label if level is not None else None


def tlp_level(label: str) -> TlpLevel | None:
    """Return the level a label names (any case, TLP 1.0 or 2.0), or None."""
    return Tlp(label).level


def normalise_tlp(label: str) -> str | None:
    """Return the canonical TLP 2.0 label for ``label``, or None when it is not a TLP label."""
    return Tlp(label).canonical


@dataclass(frozen=True)
class Handling:
    """What a set of TLP labels means for a banso item."""

    level: TlpLevel | None
    openness: Openness
    scope: Scope


_HANDLING = {
    None: (Openness.COUNCIL, Scope.ALL),  # I2: council-shared is the default openness
    TlpLevel.CLEAR: (Openness.PUBLIC, Scope.ALL),
    TlpLevel.GREEN: (Openness.COUNCIL, Scope.ALL),
    TlpLevel.AMBER: (Openness.DESIGNATE, Scope.ORGANISATIONS),
    TlpLevel.AMBER_STRICT: (Openness.DESIGNATE, Scope.PROVIDER_ORGANISATION),
    TlpLevel.RED: (Openness.DESIGNATE, Scope.NAMED),
}


def labels_anywhere(data: object) -> tuple[str, ...]:
    """Return every TLP label anywhere in a document: a tag on a MISP object or inside an EventTag/AttributeTag
    wrapper, a STIX ``labels`` entry, a statement marking that says "TLP:RED", a bare ``"tlp": "red"``.

    Labels in such places are not where the formats put them, but ignoring one would make an import looser
    than its source asked (I3): the strictest label found anywhere binds. Iterative (no recursion) and linear
    in the document, whose size and depth ``_load`` has already bounded.
    """
    found: list[str] = []
    stack: list[object] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            for key, inner in value.items():
                if key == "tlp" and isinstance(inner, str) and tlp_level(f"tlp:{inner}") is not None:
                    found.append(f"tlp:{inner.strip()}")
                stack.append(inner)
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and len(value) <= 32 and tlp_level(value) is not None:
            found.append(value.strip())
    return _dedupe(found)


def _stricter_too(labels: Sequence[str], anywhere: Sequence[str]) -> tuple[str, ...]:
    """Return ``labels`` plus those of ``anywhere`` naming a level the labels do not already name."""
    named = {tlp_level(label) for label in labels}
    extra = [label for label in anywhere if tlp_level(label) not in named]
    return _dedupe([*labels, *_dedupe_levels(extra)])


def _dedupe_levels(labels: Sequence[str]) -> list[str]:
    seen: set[TlpLevel | None] = set()
    kept = []
    for label in labels:
        if tlp_level(label) not in seen:
            seen.add(tlp_level(label))
            kept.append(label)
    return kept


def handling_for(labels: Iterable[str]) -> Handling:
    """Map TLP labels to openness and suggested scope; the most restrictive label wins (I2, I3)."""
    levels = [level for level in (tlp_level(label) for label in labels) if level is not None]
    level = max(levels) if levels else None
    openness, scope = _HANDLING[level]
    return Handling(level, openness, scope)


@dataclass(frozen=True)
class Indicator:
    """One observable or indicator, typed with MISP's attribute vocabulary (``ip-dst``, ``sha256`` …)."""

    type: str
    value: str
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class Interchange:
    """A MISP event or STIX bundle as banso sees it, ready to become an information item."""

    title: str
    summary: str
    body: str  # human-readable rendering of the indicators and other objects
    category: str = "cyber_incident"
    tlp_labels: tuple[str, ...]  # verbatim, in the order found
    openness: Openness
    scope: Scope
    source_format: str  # "misp" | "stix-2.1"
    source_id: str  # MISP event uuid / STIX bundle id
    created: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False)
    indicators: tuple[Indicator, ...]
    distribution: str | None = None  # MISP distribution as found ("0" … "4"), None for STIX
    sharing_group: str | None = None  # MISP sharing group name, never dropped (I3: scope stated)
    sharing_group_orgs: tuple[str, ...] = ()  # the organisation names the sharing group lists


@dataclass(frozen=True)
class ExportItem:
    """An information item as the exporters need it; the service fills it after the access check (I7)."""

    id: int
    title: str
    summary: str
    body: str
    category: str
    openness: str  # "public" | "council" | "designated"
    designation_scope: str | None  # "all" | "organisations" | "named" | "provider_organisation" | None
    tlp_labels: tuple[str, ...]  # verbatim labels from an import, if any
    created: datetime
    modified: datetime
    indicators: tuple[Indicator, ...]
    handling: tuple[str, ...] = ()  # the designation's handling (view_only, no_download, watermark)
    recipient: str = ""  # who this copy is issued to (I8); empty for public content
    provided_confidential: bool | None = None  # issue 13: marked at provision; None = not recorded


# Interchange scope → the designation scope a banso item would carry (AMBER: every organisation).
_DESIGNATION_SCOPES = {Scope.ALL: "all", Scope.ORGANISATIONS: "all", Scope.NAMED_ORGANISATIONS: "organisations",
                       Scope.PROVIDER_ORGANISATION: "provider_organisation", Scope.NAMED: "named"}


def as_export_item(
    interchange: Interchange, *, item_id: int, created: datetime, modified: datetime
) -> ExportItem:
    """Build the ``ExportItem`` an imported document would become, before anyone changes it."""
    openness = {
        Openness.PUBLIC: "public",
        Openness.COUNCIL: "council",
        Openness.DESIGNATE: "designated",
    }[interchange.openness]
    return ExportItem(
        id=item_id,
        title=interchange.title,
        summary=interchange.summary,
        body=interchange.body,
        category=interchange.category,
        openness=openness,
        designation_scope=_DESIGNATION_SCOPES[interchange.scope] if interchange.openness is Openness.DESIGNATE else None,
        tlp_labels=interchange.tlp_labels,
        created=created,
        modified=modified,
        indicators=interchange.indicators,
    )


def render_body(indicators: Sequence[Indicator]) -> str:
    """Render indicators as plain text lines, ``type: value — comment``."""
    lines = []
    for ind in indicators:
        line = f"- {ind.type}: {ind.value}"
        if ind.comment:
            line += f" — {ind.comment}"
        lines.append(line)
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Input helpers
# ---------------------------------------------------------------------------------------------


def _json_kind(value: object) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return "null"


def _check_shape(data: object, what: str) -> None:
    """Refuse JSON nested deeper than ``MAX_DEPTH``; iterative, so hostile nesting costs no stack."""
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InterchangeError(f"入れ子が深すぎます / {what} is nested too deeply (more than {MAX_DEPTH} levels)")
        children = value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (Mapping, list)))


def _load(doc: Mapping[str, Any] | bytes | str, what: str) -> dict[str, Any]:
    data: object = doc
    if isinstance(data, (bytes, bytearray, str)) and len(data) > MAX_DOCUMENT_BYTES:
        raise InterchangeError(f"文書が大きすぎます / {what} is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB")
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InterchangeError(f"UTF-8 のテキストとして読めません（{exc.start} バイト目） / {what} is not UTF-8 text (invalid byte at offset {exc.start})") from exc
    if isinstance(data, str):
        if not data.strip():
            raise InterchangeError(f"文書が空です / {what} is empty")
        if json_depth(data) > MAX_DEPTH:  # O1: measured before the recursive parser sees it
            raise InterchangeError(f"入れ子が深すぎます / {what} is nested too deeply (more than {MAX_DEPTH} levels)")
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InterchangeError(
                f"JSON として読めません（{exc.lineno} 行 {exc.colno} 列） / "
                f"{what} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from exc
        except RecursionError as exc:  # hostile nesting must not become a 500
            raise InterchangeError(f"入れ子が深すぎます / {what} is nested too deeply") from exc
        except ValueError as exc:  # e.g. an integer past Python's 4,300-digit limit: a clear 422, never a 500
            raise InterchangeError(f"数値が長すぎます / {what} holds a value that cannot be read: {exc}"[:300]) from exc
    if isinstance(data, Mapping):
        _check_shape(data, what)
        return dict(data)
    raise InterchangeError(f"JSON のオブジェクトではありません / {what} must be a JSON object, not {_json_kind(data)}")


def _list(container: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InterchangeError(f"{where}.{key} は配列でなければなりません / {where}.{key} must be an array, not {_json_kind(value)}")
    return value


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _dedupe(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _dedupe_indicators(items: Iterable[Indicator]) -> tuple[Indicator, ...]:
    seen: dict[tuple[str, str], Indicator] = {}
    for ind in items:
        seen.setdefault((ind.type, ind.value), ind)
    return tuple(seen.values())


def _utc(dt: datetime) -> datetime:
    # Naive datetimes are UTC by the database's convention.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _stamp(dt: datetime) -> str:
    # STIX wants RFC 3339 in UTC with "Z"; milliseconds like the OASIS examples.
    utc = _utc(dt)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _parse_stamp(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise InterchangeError(f"{where} は RFC 3339 の日時ではありません / {where} is not an RFC 3339 timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as exc:
        raise InterchangeError(f"{where} {value!r} は RFC 3339 の日時ではありません / {where} {value!r} is not an RFC 3339 timestamp") from exc
    if not in_range(parsed):  # O1: 9999-12-31T23:59:59-14:00 cannot be turned into UTC
        raise InterchangeError(out_of_range_message(where))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# MISP import
# ---------------------------------------------------------------------------------------------

_MISP_THREAT_LEVELS = {"1": "high", "2": "medium", "3": "low", "4": "undefined"}


def _misp_tags(container: Mapping[str, Any], where: str) -> list[str]:
    names = []
    for i, tag in enumerate(_list(container, "Tag", where)):
        name = tag.get("name") if isinstance(tag, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise InterchangeError(f"{where}.Tag[{i}] に名前がありません / {where}.Tag[{i}] has no name")
        names.append(name)
    return names


def _misp_attributes(container: Mapping[str, Any], where: str) -> tuple[list[Indicator], list[str]]:
    indicators: list[Indicator] = []
    tags: list[str] = []
    for i, attr in enumerate(_list(container, "Attribute", where)):
        here = f"{where}.Attribute[{i}]"
        if not isinstance(attr, dict):
            raise InterchangeError(f"{here} はオブジェクトでなければなりません / {here} must be an object, not {_json_kind(attr)}")
        if attr.get("deleted") in (True, "1", 1):
            continue  # MISP keeps soft-deleted attributes in exports; they are not part of the event
        kind = _text(attr.get("type"))
        if not kind:
            raise InterchangeError(f"{here} に種類（type）がありません / {here} has no type")
        value = attr.get("value")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value).strip():
            raise InterchangeError(f"{here}（{kind}）に値がありません / {here} ({kind}) has no value")
        indicators.append(Indicator(kind, str(value).strip(), _text(attr.get("comment"))))
        tags.extend(_misp_tags(attr, here))
    return indicators, tags


def _misp_created(event: Mapping[str, Any]) -> datetime | None:
    day = event.get("date")
    if day is not None:
        try:
            parsed = datetime.strptime(str(day), "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError as exc:
            raise InterchangeError(f"MISP イベントの日付 {day!r} が YYYY-MM-DD 形式ではありません / MISP event date {day!r} is not YYYY-MM-DD") from exc
        if not in_range(parsed):
            raise InterchangeError(out_of_range_message("MISP event date"))
        return parsed
    stamp = event.get("timestamp")
    if stamp is not None:
        try:
            moment = datetime.fromtimestamp(int(str(stamp)), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise InterchangeError(f"MISP イベントの timestamp {stamp!r} が Unix 時刻ではありません / MISP event timestamp {stamp!r} is not a Unix time") from exc
        if not in_range(moment):
            raise InterchangeError(out_of_range_message("MISP event timestamp"))
        return moment
    return None


MISP_DISTRIBUTION_NAMES = {"0": "your organisation only", "1": "this community only",
                            "2": "connected communities", "3": "all communities", "4": "sharing group"}
# MISP distributions narrower than a council: never council-wide (I3: least privilege).
_MISP_RESTRICTED = {"0": Scope.PROVIDER_ORGANISATION, "1": Scope.PROVIDER_ORGANISATION,
                    "4": Scope.NAMED_ORGANISATIONS}


def _misp_distribution(event: Mapping[str, Any]) -> tuple[str | None, str | None, tuple[str, ...]]:
    """Return the event's distribution code, its sharing group name and the organisations it names."""
    raw = event.get("distribution")
    if raw is None or raw == "":
        return None, None, ()
    code = str(raw).strip()
    if code not in MISP_DISTRIBUTION_NAMES:
        raise InterchangeError(f"MISP の配布範囲が不正です / MISP event distribution {raw!r} is not 0–4")
    if code != "4":
        return code, None, ()
    group = event.get("SharingGroup")
    group = group if isinstance(group, dict) else {}
    name = _text(group.get("name")) or f"sharing group #{_text(str(event.get('sharing_group_id', ''))) or '?'}"
    orgs: list[str] = []
    owner = group.get("Organisation")
    for entry in [{"Organisation": owner}, *_list(group, "SharingGroupOrg", "Event.SharingGroup")]:
        org = entry.get("Organisation") if isinstance(entry, dict) else None
        if isinstance(org, dict) and _text(org.get("name")):
            orgs.append(_text(org.get("name")))
    return code, name, _dedupe(orgs)


def _misp_count(event: Mapping[str, Any]) -> None:
    count = len(_list(event, "Attribute", "Event")) + len(_list(event, "Object", "Event"))
    for obj in _list(event, "Object", "Event"):
        count += len(_list(obj, "Attribute", "Event.Object")) if isinstance(obj, dict) else 0
    if count > MAX_OBJECTS:
        raise InterchangeError(f"属性が多すぎます / MISP event has {count} attributes and objects; "
                               f"at most {MAX_OBJECTS} are accepted")


def _misp_reports(event: Mapping[str, Any]) -> list[str]:
    return [_text(report.get("content")) for report in _list(event, "EventReport", "Event")
            if isinstance(report, dict) and _text(report.get("content")) and not report.get("deleted")]


def _restricted(handling: Handling, narrower: Scope | None) -> tuple[Openness, Scope]:
    """Combine a TLP handling with a source's own narrower distribution: the stricter scope wins."""
    if narrower is None or handling.scope.strictness >= narrower.strictness:
        return handling.openness, handling.scope
    return Openness.DESIGNATE, narrower


def neutral_summary(source_format: str, indicators: int, labels: Sequence[str]) -> str:
    """Return the summary voters see for confidential sources: format, label and counts, never the text (I4).

    The source id is kept on the item (``source_id``); leaving it out keeps the summary the same
    through an export and re-import.
    """
    tlp = ", ".join(_dedupe(normalise_tlp(label) or label for label in labels)) or "no TLP"
    return (f"{source_format} ({tlp}): {indicators} indicators. 本文は指定の範囲内でのみ閲覧できます / "
            "the text is kept in the sealed body.")


def neutral_title(doc: Interchange) -> str:
    """Return the title a confidential source gets (format, label, short source id), never its own words (I4)."""
    kind = "MISP event" if doc.source_format == "misp" else "STIX 2.1 bundle"
    tlp = ", ".join(_dedupe(normalise_tlp(label) or label for label in doc.tlp_labels)) or "no TLP"
    return f"{kind} {doc.source_id[-12:]} ({tlp}) の取込み / import"


def parse_misp(doc: Mapping[str, Any] | bytes | str) -> Interchange:
    """Read a MISP event (``{"Event": {...}}`` or a bare event) into an ``Interchange``."""
    data = _load(doc, "MISP document")
    if "Event" in data:
        event = data["Event"]
        if not isinstance(event, dict):
            raise InterchangeError(f"MISP の Event はオブジェクトでなければなりません / MISP 'Event' must be an object, not {_json_kind(event)}")
    elif any(key in data for key in ("info", "uuid", "Attribute")):
        event = data
    else:
        raise InterchangeError("MISP イベントではありません / not a MISP event: expected {\"Event\": {...}} or a bare event with 'info'")

    title = _text(event.get("info"))
    if not title:
        raise InterchangeError("MISP イベントに info（件名）がありません / MISP event has no 'info' (its title)")
    source_id = _text(event.get("uuid"))
    try:
        uuid.UUID(source_id)
    except ValueError as exc:
        raise InterchangeError("MISP イベントに有効な uuid がありません / MISP event has no valid 'uuid'") from exc
    _misp_count(event)

    tags = _misp_tags(event, "Event")
    indicators, attr_tags = _misp_attributes(event, "Event")
    tags.extend(attr_tags)  # attribute-level TLP counts: one RED attribute makes the whole item RED
    for j, obj in enumerate(_list(event, "Object", "Event")):
        if not isinstance(obj, dict):
            raise InterchangeError(f"Event.Object[{j}] はオブジェクトでなければなりません / Event.Object[{j}] must be an object, not {_json_kind(obj)}")
        found, obj_tags = _misp_attributes(obj, f"Event.Object[{j}]")
        indicators.extend(found)
        tags.extend(obj_tags)

    labels = _dedupe(tag for tag in tags if tlp_level(tag) is not None)
    labels = _stricter_too(labels, labels_anywhere(event))
    distribution, group, group_orgs = _misp_distribution(event)
    openness, scope = _restricted(handling_for(labels), _MISP_RESTRICTED.get(distribution or ""))
    created = _misp_created(event)
    kept = _dedupe_indicators(indicators)
    reports = _misp_reports(event)

    if openness is Openness.DESIGNATE:
        # I4: voters see the summary before the vote; the report text stays in the sealed body.
        summary = neutral_summary("MISP event", len(kept), labels)
        body = "\n\n".join([*reports, render_body(kept)]).strip()
    else:
        summary = reports[0] if reports else _misp_fallback_summary(event, created, len(kept))
        body = render_body(kept)

    return Interchange(
        title=title,
        summary=summary,
        body=body,
        tlp_labels=labels,
        openness=openness,
        scope=scope,
        source_format="misp",
        source_id=source_id,
        created=created,
        raw=data,
        indicators=kept,
        distribution=distribution,
        sharing_group=group,
        sharing_group_orgs=group_orgs,
    )


def _misp_fallback_summary(event: Mapping[str, Any], created: datetime | None, count: int) -> str:
    orgc = event.get("Orgc")
    org = _text(orgc.get("name")) if isinstance(orgc, dict) else ""
    threat = _MISP_THREAT_LEVELS.get(str(event.get("threat_level_id", "")), "undefined")
    day = created.date().isoformat() if created else "undated"
    return f"MISP event of {day}{f' by {org}' if org else ''}, threat level {threat}: {count} indicators."


# ---------------------------------------------------------------------------------------------
# STIX 2.1 markings and patterns
# ---------------------------------------------------------------------------------------------

TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
# OASIS cti-stix-common-objects, extension-definition-specifications/tlp-2.0.
TLP2_MARKING_IDS: dict[TlpLevel, str] = {
    TlpLevel.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    TlpLevel.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    TlpLevel.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    TlpLevel.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    TlpLevel.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# STIX 2.1 specification §7.2.1.4 (TLP 1.0 marking definitions, definition_type "tlp").
TLP1_MARKING_IDS: dict[str, str] = {
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
_WELL_KNOWN_MARKINGS: dict[str, tuple[TlpLevel, str]] = {
    **{mid: (level, level.label) for level, mid in TLP2_MARKING_IDS.items()},
    **{mid: (_TLP_TOKENS[token], f"TLP:{token.upper()}") for token, mid in TLP1_MARKING_IDS.items()},
}


def tlp2_marking_definition(level: TlpLevel) -> dict[str, Any]:
    """Return the official TLP 2.0 marking-definition object for ``level``."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKING_IDS[level],
        "created": "2022-10-01T00:00:00.000Z",
        "name": level.label,
        "extensions": {TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": level.token}},
    }


def _marking_from_definition(obj: Mapping[str, Any]) -> tuple[TlpLevel, str] | None:
    """Read a marking-definition object's TLP level and its verbatim label, if it is a TLP one."""
    name = _text(obj.get("name"))
    found: list[tuple[TlpLevel, str]] = []
    extensions = obj.get("extensions")
    if isinstance(extensions, dict) and isinstance(extensions.get(TLP2_EXTENSION_ID), dict):
        token = _text(extensions[TLP2_EXTENSION_ID].get("tlp_2_0")).lower()
        if token in _TLP_TOKENS:
            found.append((_TLP_TOKENS[token], f"TLP:{token.upper()}"))
    definition = obj.get("definition")
    if _text(obj.get("definition_type")).lower() == "tlp" and isinstance(definition, dict):
        token = _text(definition.get("tlp")).lower()
        if token in _TLP_TOKENS:
            found.append((_TLP_TOKENS[token], f"TLP:{token.upper()}"))
    named = tlp_level(name)
    if named is not None:
        found.append((named, name))
    if not found:
        return None
    # Contradicting parts of one definition: trust the most restrictive, label it by its own name.
    level = max(level for level, _ in found)
    return level, name if named is not None else found[0][1]


_SCO_TYPES = frozenset({
    "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
    "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
    "user-account", "windows-registry-key", "x509-certificate",
})

# MISP attribute type → STIX 2.1 object path, for the single (non-composite) types.
_SIMPLE_PATHS = {
    "domain": "domain-name:value",
    "hostname": "domain-name:value",
    "url": "url:value",
    "email": "email-addr:value",
    "email-src": "email-addr:value",
    "email-dst": "email-addr:value",
    "filename": "file:name",
    "md5": "file:hashes.MD5",
    "sha1": "file:hashes.'SHA-1'",
    "sha256": "file:hashes.'SHA-256'",
    "sha512": "file:hashes.'SHA-512'",
    "mutex": "mutex:name",
    "regkey": "windows-registry-key:key",
}
# STIX 2.1 object path (quotes removed, hash names canonical) → MISP attribute type.
_PATH_TYPES = {
    "ipv4-addr:value": "ip-dst",
    "ipv6-addr:value": "ip-dst",
    "domain-name:value": "domain",
    "domain-name:resolves_to_refs[*].value": "ip-dst",
    "url:value": "url",
    "email-addr:value": "email-src",
    "file:name": "filename",
    "file:hashes.MD5": "md5",
    "file:hashes.SHA-1": "sha1",
    "file:hashes.SHA-256": "sha256",
    "file:hashes.SHA-512": "sha512",
    "mutex:name": "mutex",
    "windows-registry-key:key": "regkey",
    "network-traffic:dst_ref.value": "ip-dst",
    "network-traffic:src_ref.value": "ip-src",
    "network-traffic:dst_port": "port",
    "network-traffic:src_port": "port",
}
_HASH_NAMES = {"MD5": "MD5", "SHA1": "SHA-1", "SHA-1": "SHA-1", "SHA256": "SHA-256", "SHA-256": "SHA-256",
               "SHA512": "SHA-512", "SHA-512": "SHA-512"}
_MISP_LABEL = re.compile(r'^misp:type="([^"]+)"$')


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ip_object(value: str) -> str | None:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return None
    return "ipv4-addr" if network.version == 4 else "ipv6-addr"


def stix_pattern(kind: str, value: str) -> str | None:
    """Build a STIX 2.1 pattern for a MISP-typed indicator, or None when STIX has no observable for it."""
    if kind == "stix2-pattern":  # a pattern MISP has no type for, kept whole at import: valid or nothing
        try:
            _pattern_comparisons(value)
        except InterchangeError:
            return None
        return value
    parts = kind.split("|")
    values = value.split("|") if len(parts) > 1 else [value]
    if len(parts) != len(values) or len(parts) > 2:
        return None
    if len(parts) == 1:
        if kind in ("ip-src", "ip-dst"):
            obj = _ip_object(value)
            return f"[{obj}:value = {_quote(value)}]" if obj else None
        path = _SIMPLE_PATHS.get(kind)
        return f"[{path} = {_quote(value)}]" if path else None
    first, second = parts
    if first in ("ip-src", "ip-dst") and second == "port":
        side = "src" if first == "ip-src" else "dst"
        if not _ip_object(values[0]) or not values[1].isdigit():
            return None
        return f"[network-traffic:{side}_ref.value = {_quote(values[0])} AND network-traffic:{side}_port = {values[1]}]"
    if first in ("domain", "hostname") and second == "ip":
        return (f"[domain-name:value = {_quote(values[0])} AND "
                f"domain-name:resolves_to_refs[*].value = {_quote(values[1])}]")
    if first == "filename" and second in ("md5", "sha1", "sha256", "sha512"):
        return f"[file:name = {_quote(values[0])} AND {_SIMPLE_PATHS[second]} = {_quote(values[1])}]"
    return None


def _path_text(object_type: str, steps: Sequence[object]) -> str:
    """Spell an inspected object path as banso keys it: ``file:hashes.SHA-256``, ``x:refs[*].value``."""
    text = ""
    for step in steps:
        if step is INDEX_STAR:
            text += "[*]"
        elif isinstance(step, int):
            text += f"[{step}]"
        else:
            text += f".{step}" if text else str(step)
    path = f"{object_type}:{text}"
    if path.startswith("file:hashes."):
        name = path.removeprefix("file:hashes.").upper()
        path = f"file:hashes.{_HASH_NAMES.get(name, name)}"
    return path


def _literal(token: str) -> str:
    # A string literal keeps its quotes in the parse tree; numbers, booleans, b'', h'', t'' stay as written.
    if len(token) >= 2 and token[0] == token[-1] == "'":
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def _pattern_comparisons(pattern: str, where: str = "pattern") -> list[tuple[str, str, str]]:
    """Return ``(object path, operator, value)`` for every comparison in a STIX 2.1 pattern.

    The pattern is parsed with the STIX 2.1 grammar (ANTLR, ``stix2-patterns``), linear in its length,
    which ``MAX_PATTERN_CHARS`` bounds; a backtracking regular expression over untrusted text could be
    made to run for hours (issue 11).
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise InterchangeError(f"パターンが長すぎます / {where} has a pattern of {len(pattern)} characters; "
                               f"at most {MAX_PATTERN_CHARS}")
    try:
        inspected = Pattern(pattern).inspect()
    except ParseException as exc:
        raise InterchangeError(f"{where} の STIX パターンの構文が不正です / {where} has an invalid STIX 2.1 pattern: {exc}") from None
    except RecursionError:
        raise InterchangeError(f"パターンの入れ子が深すぎます / {where} has a pattern nested too deeply") from None
    comparisons = [(object_type, steps, op, value) for object_type, found in inspected.comparisons.items()
                   for steps, op, value in found]
    if len(comparisons) > MAX_PATTERN_COMPARISONS:
        raise InterchangeError(
            f"比較が多すぎます / {where} has a pattern with {len(comparisons)} comparisons; "
            f"at most {MAX_PATTERN_COMPARISONS}")
    return [(_path_text(object_type, steps), op, _literal(value)) for object_type, steps, op, value in comparisons]


def _misp_type_label(obj: Mapping[str, Any]) -> str | None:
    labels = obj.get("labels")
    for label in labels if isinstance(labels, list) else []:
        match = _MISP_LABEL.match(label) if isinstance(label, str) else None
        if match:
            return match.group(1)
    return None


_RULE_TYPES = {"yara": "yara", "sigma": "sigma", "snort": "snort", "suricata": "suricata", "zeek": "zeek"}


def _stix_indicator(obj: Mapping[str, Any], where: str) -> tuple[list[Indicator], int]:
    """Return the indicators a STIX indicator object carries and how many comparisons its pattern has."""
    pattern = obj.get("pattern")
    if not isinstance(pattern, str) or not pattern.strip():
        raise InterchangeError(f"{where} にパターンがありません / {where} has no pattern")
    comment = _text(obj.get("description"))
    pattern_type = _text(obj.get("pattern_type")).lower()
    if pattern_type not in ("", "stix"):
        # Sigma, YARA, Snort …: not an observable, but the analyst still needs to see it.
        if pattern_type in _RULE_TYPES:
            return [Indicator(_RULE_TYPES[pattern_type], pattern.strip(), comment)], 0
        return [Indicator("text", pattern.strip(), f"{pattern_type} rule{f' — {comment}' if comment else ''}")], 0
    found = _pattern_comparisons(pattern, where)
    comparisons = [(path, value) for path, op, value in found if op == "="]
    misp_type = _misp_type_label(obj)
    if misp_type and comparisons and len(misp_type.split("|")) == len(comparisons) == len(found):
        return [Indicator(misp_type, "|".join(value for _, value in comparisons), comment)], len(found)
    typed = [Indicator(_PATH_TYPES[path], value, comment) for path, value in comparisons if path in _PATH_TYPES]
    if len(typed) < len(found) or not found:
        # Something MISP has no type for (another operator, an unmapped path): keep the whole pattern.
        typed.append(Indicator("stix2-pattern", pattern.strip(), comment))
    return typed, len(found)


def _stix_observable(obj: Mapping[str, Any]) -> list[Indicator]:
    kind = obj["type"]
    if kind in ("ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr") and _text(obj.get("value")):
        return [Indicator(_PATH_TYPES[f"{kind}:value"], _text(obj.get("value")))]
    if kind == "mutex" and _text(obj.get("name")):
        return [Indicator("mutex", _text(obj.get("name")))]
    if kind == "file":
        found = []
        if _text(obj.get("name")):
            found.append(Indicator("filename", _text(obj.get("name"))))
        hashes = obj.get("hashes")
        for name, value in (hashes.items() if isinstance(hashes, dict) else []):
            path = f"file:hashes.{_HASH_NAMES.get(str(name).upper(), str(name).upper())}"
            if path in _PATH_TYPES and _text(value):
                found.append(Indicator(_PATH_TYPES[path], _text(value)))
        return found
    return []


def _check_stix_object(obj: object, i: int) -> dict[str, Any]:
    where = f"objects[{i}]"
    if not isinstance(obj, dict):
        raise InterchangeError(f"{where} はオブジェクトでなければなりません / {where} must be an object, not {_json_kind(obj)}")
    kind = obj.get("type")
    if not isinstance(kind, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", kind):
        raise InterchangeError(f"{where} に有効な種類（type）がありません / {where} has no valid 'type'")
    ident = obj.get("id")
    prefix = f"{kind}--"
    if not isinstance(ident, str) or not ident.startswith(prefix):
        raise InterchangeError(f"{where}（{kind}）の id {ident!r} は {prefix}<uuid> の形ではありません / "
                f"{where} ({kind}) has id {ident!r}; expected '{prefix}<uuid>'")
    try:
        uuid.UUID(ident.removeprefix(prefix))
    except ValueError as exc:
        raise InterchangeError(f"{where} の id {ident!r} は {prefix}<uuid> の形ではありません / {where} has id {ident!r}; expected '{prefix}<uuid>'") from exc
    version = obj.get("spec_version")
    if version is None and kind not in _SCO_TYPES:
        raise InterchangeError(f"{where}（{ident}）に「spec_version」がありません（STIX 2.1 のみ対応） / "
                f"{where} ({ident}) has no spec_version; only STIX 2.1 is supported")
    if version is not None and version != "2.1":
        raise InterchangeError(f"{where}（{ident}）は STIX {version} です（STIX 2.1 のみ対応） / {where} ({ident}) is STIX {version}; only STIX 2.1 is supported")
    return obj


def _marking_refs(obj: Mapping[str, Any], where: str) -> list[str]:
    refs = list(_list(obj, "object_marking_refs", where))
    for granular in _list(obj, "granular_markings", where):
        if isinstance(granular, dict):
            refs.append(granular.get("marking_ref"))
    for ref in refs:
        if not isinstance(ref, str):
            raise InterchangeError(f"{where} のマーキング参照が文字列ではありません / {where} has a marking reference that is not a string")
    return refs


def _check_pattern_budget(objects: Sequence[Mapping[str, Any]]) -> None:
    """Bound the grammar work of one bundle before any pattern is parsed (O4: no import holds a worker)."""
    total = sum(len(obj["pattern"]) for obj in objects
                if obj["type"] == "indicator" and isinstance(obj.get("pattern"), str))
    if total > MAX_PATTERN_TOTAL_CHARS:
        raise InterchangeError(
            f"パターンの合計が長すぎます / STIX bundle has {total} characters of patterns; "
            f"at most {MAX_PATTERN_TOTAL_CHARS} are accepted")


# ---------------------------------------------------------------------------------------------
# STIX 2.1 import
# ---------------------------------------------------------------------------------------------


def parse_stix(doc: Mapping[str, Any] | bytes | str) -> Interchange:
    """Read a STIX 2.1 bundle into an ``Interchange``; TLP comes from the markings its objects reference."""
    data = _load(doc, "STIX document")
    kind = data.get("type")
    if kind is None:
        raise InterchangeError("STIX 文書に type がありません（bundle が必要です） / STIX document has no 'type'; expected 'bundle'")
    if kind != "bundle":
        raise InterchangeError(f"STIX 2.1 の bundle ではありません（type {kind!r}） / expected a STIX 2.1 bundle, got type {kind!r}")
    if "spec_version" in data:  # STIX 2.0 put spec_version on the bundle; 2.1 puts it on each object
        raise InterchangeError(f"STIX {data['spec_version']} の bundle です（STIX 2.1 のみ対応） / STIX {data['spec_version']} bundle; only STIX 2.1 is supported")
    bundle_id = data.get("id")
    if not isinstance(bundle_id, str) or not bundle_id.startswith("bundle--"):
        raise InterchangeError("STIX bundle に有効な id（bundle--<uuid>）がありません / STIX bundle has no valid 'id' (bundle--<uuid>)")
    raw_objects = data.get("objects")
    if not isinstance(raw_objects, list) or not raw_objects:
        raise InterchangeError("STIX bundle にオブジェクトがありません / STIX bundle has no objects")
    if len(raw_objects) > MAX_OBJECTS:
        raise InterchangeError(f"オブジェクトが多すぎます / STIX bundle has {len(raw_objects)} objects; "
                               f"at most {MAX_OBJECTS} are accepted")
    objects = [_check_stix_object(obj, i) for i, obj in enumerate(raw_objects)]
    _check_pattern_budget(objects)
    by_id = {obj["id"]: obj for obj in objects}

    # Only referenced markings count: bundles often carry the whole TLP set as a library.
    labels: list[str] = []
    levels: list[TlpLevel] = []
    for i, obj in enumerate(objects):
        for ref in _marking_refs(obj, f"objects[{i}]"):
            known = _WELL_KNOWN_MARKINGS.get(ref)
            defined = by_id.get(ref)
            from_definition = _marking_from_definition(defined) if defined is not None else None
            if from_definition is not None:
                levels.append(from_definition[0])
                labels.append(from_definition[1])
            if known is not None:
                levels.append(known[0])  # the well-known id pins the level whatever the copy says
                if from_definition is None:
                    labels.append(known[1])
    # A label in a place the markings do not say still binds; marking definitions themselves are not markings
    # (a bundle may carry every TLP definition and reference one).
    anywhere = labels_anywhere([o for o in objects if o.get("type") != "marking-definition"])
    tlp_labels = _stricter_too(_dedupe(labels), anywhere)
    levels.extend(level for level in (tlp_level(label) for label in tlp_labels) if level is not None)
    level = max(levels) if levels else None
    openness, scope = _HANDLING[level]

    indicators: list[Indicator] = []
    notes: list[str] = []
    comparisons = 0
    reports = [obj for obj in objects if obj["type"] == "report"]
    for i, obj in enumerate(objects):
        kind = obj["type"]
        if kind == "indicator":
            found, count = _stix_indicator(obj, f"objects[{i}] ({obj['id']})")
            indicators.extend(found)
            comparisons += count
            if comparisons > MAX_COMPARISONS:
                raise InterchangeError(f"比較が多すぎます / STIX bundle has more than {MAX_COMPARISONS} "
                                       "indicator comparisons")
        elif kind == "vulnerability" and _text(obj.get("name")):
            indicators.append(Indicator("vulnerability", _text(obj.get("name")), _text(obj.get("description"))))
        elif kind == "note" and _text(obj.get("content")):
            misp_type = _misp_type_label(obj)
            if misp_type:
                indicators.append(Indicator(misp_type, _text(obj.get("content")), _text(obj.get("abstract"))))
            else:
                notes.append(_text(obj.get("content")))
        elif kind in _SCO_TYPES:
            indicators.extend(_stix_observable(obj))
    kept = _dedupe_indicators(indicators)

    titled = reports or [obj for obj in objects if obj["type"] in ("indicator", "vulnerability")]
    if not titled:
        raise InterchangeError("STIX bundle に件名の元になる「report」「indicator」「vulnerability」がありません / "
                "STIX bundle has no report, indicator or vulnerability to take a title from")
    first = titled[0]
    title = _text(first.get("name")) or _text(first.get("pattern"))
    if not title:
        raise InterchangeError(f"STIX {first['type']} {first['id']} に名前がありません / STIX {first['type']} {first['id']} has no name")
    description = _text(first.get("description"))
    created = _parse_stamp(first["created"], f"{first['id']} created") if "created" in first else None
    if openness is Openness.DESIGNATE:
        # I4: voters see the summary before the vote; the report text stays in the sealed body.
        summary = neutral_summary("STIX 2.1 bundle", len(kept), tlp_labels)
        body = "\n\n".join(part for part in (description, render_body(kept), *notes) if part)
    else:
        summary = description or f"STIX 2.1 bundle {bundle_id}: {len(kept)} indicators."
        body = "\n\n".join(part for part in (render_body(kept), *notes) if part)

    return Interchange(
        title=title,
        summary=summary,
        body=body,
        tlp_labels=tlp_labels,
        openness=openness,
        scope=scope,
        source_format="stix-2.1",
        source_id=bundle_id,
        created=created,
        raw=data,
        indicators=kept,
    )


def parse_document(doc: Mapping[str, Any] | bytes | str) -> Interchange:
    """Read a MISP event or a STIX 2.1 bundle, whichever ``doc`` is, within the size budgets."""
    data = _load(doc, "the document")
    return parse_stix(data) if data.get("type") == "bundle" else parse_misp(data)


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------

# uuid5 namespace for everything banso exports: the same item always gets the same ids.
BANSO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:banso:interchange")
_IDENTITY_ID = f"identity--{uuid.uuid5(BANSO_NAMESPACE, 'identity:banso')}"
_IDENTITY_CREATED = "2022-01-19T00:00:00.000Z"  # the expert council's proposal (seed)


_STRICT_HANDLING = frozenset({"view_only", "no_download"})


def _openness_level(openness: str, scope: str | None, handling: Sequence[str] = ()) -> TlpLevel:
    """The loosest TLP level that is still no looser than what banso enforces for the item."""
    if openness == "public":
        return TlpLevel.CLEAR
    if openness in ("council", "scheduled", "withheld"):
        # Council-shared content is under the Art. 62(7) duty (C3): never GREEN (community-wide).
        return TlpLevel.AMBER
    if openness == "held":
        return TlpLevel.RED  # I4: only provider and secretariat hold it until the vote
    if openness == "designated":
        if scope == Scope.NAMED or _STRICT_HANDLING & set(handling):
            return TlpLevel.RED
        if scope in ("organisations", Scope.NAMED_ORGANISATIONS, Scope.PROVIDER_ORGANISATION):
            return TlpLevel.AMBER_STRICT  # named organisations only: AMBER would reach their clients
        return TlpLevel.AMBER
    raise ValueError(f"unknown openness {openness!r}")


def export_tlp(item: ExportItem) -> tuple[TlpLevel, tuple[str, ...]]:
    """Choose the TLP level and labels an export carries.

    Verbatim labels from the import are kept, unless banso's own openness is stricter (a council may
    have designated an item imported as CLEAR, I3): an export never loosens what banso enforces.
    """
    floor = _openness_level(item.openness, item.designation_scope, item.handling)
    verbatim = [label for label in item.tlp_labels if tlp_level(label) is not None]
    if verbatim:
        level = max(lv for lv in (tlp_level(label) for label in verbatim) if lv is not None)
        if level >= floor:
            return level, _dedupe(verbatim)
    return floor, (floor.label,)


def _export_text(item: ExportItem) -> str:
    """Return summary, narrative and recipient line; the rendered indicators are left out, as they go
    out as attributes/indicators and repeating them would grow the text on every round trip."""
    body = item.body.strip()
    rendered = render_body(item.indicators).strip()
    if rendered:
        body = body.replace(rendered, "", 1).strip()
    parts = [item.summary.strip(), body]
    if item.recipient:
        parts.append(f"交付先 / Issued to: {item.recipient}")
    return "\n\n".join(part for part in parts if part)


def _misp_tag(label: str) -> str:
    token = _tlp_token(label)
    return f"tlp:{token}" if token else label


_MISP_CATEGORIES = {
    "ip-src": "Network activity", "ip-dst": "Network activity", "domain": "Network activity",
    "hostname": "Network activity", "url": "Network activity", "ip-dst|port": "Network activity",
    "ip-src|port": "Network activity", "domain|ip": "Network activity",
    "md5": "Payload delivery", "sha1": "Payload delivery", "sha256": "Payload delivery",
    "sha512": "Payload delivery", "filename": "Payload delivery", "filename|md5": "Payload delivery",
    "filename|sha1": "Payload delivery", "filename|sha256": "Payload delivery",
    "email-src": "Payload delivery", "email-dst": "Payload delivery", "email": "Payload delivery",
    "vulnerability": "External analysis", "link": "External analysis",
    "mutex": "Artifacts dropped", "regkey": "Persistence mechanism",
}
# PyMISP describeTypes (MISP 2.4/2.5): an export carries only these attribute types.
MISP_TYPES = frozenset({
    'AS', 'aba-rtn', 'anonymised', 'attachment', 'authentihash', 'azure-application-id',
    'bank-account-nr', 'bic', 'bin', 'boolean', 'bro', 'btc', 'campaign-id', 'campaign-name', 'cc-number',
    'cdhash', 'chrome-extension-id', 'comment', 'community-id', 'cookie', 'cortex', 'counter',
    'country-of-residence', 'cpe', 'dash', 'date-of-birth', 'datetime', 'dkim', 'dkim-signature',
    'dns-soa-email', 'dom-hash', 'domain', 'domain|ip', 'edge-extension-id', 'email', 'email-attachment',
    'email-body', 'email-dst', 'email-dst-display-name', 'email-header', 'email-message-id',
    'email-mime-boundary', 'email-reply-to', 'email-src', 'email-src-display-name', 'email-subject',
    'email-thread-index', 'email-x-mailer', 'eppn', 'favicon-mmh3', 'filename', 'filename-pattern',
    'filename|authentihash', 'filename|impfuzzy', 'filename|imphash', 'filename|md5', 'filename|pehash',
    'filename|sha1', 'filename|sha224', 'filename|sha256', 'filename|sha3-224', 'filename|sha3-256',
    'filename|sha3-384', 'filename|sha3-512', 'filename|sha384', 'filename|sha512', 'filename|sha512/224',
    'filename|sha512/256', 'filename|ssdeep', 'filename|tlsh', 'filename|vhash', 'first-name', 'float',
    'frequent-flyer-number', 'full-name', 'gender', 'gene', 'git-commit-id', 'github-organisation',
    'github-repository', 'github-username', 'hassh-md5', 'hasshserver-md5', 'hex', 'hostname',
    'hostname|port', 'http-method', 'iban', 'identity-card-number', 'impfuzzy', 'imphash', 'integer',
    'ip-dst', 'ip-dst|port', 'ip-src', 'ip-src|port', 'issue-date-of-the-visa', 'ja3-fingerprint-md5',
    'jabber-id', 'jarm-fingerprint', 'kusto-query', 'last-name', 'link', 'mac-address', 'mac-eui-64',
    'malware-sample', 'malware-type', 'md5', 'middle-name', 'mime-type', 'mobile-application-id', 'mutex',
    'named pipe', 'nationality', 'onion-address', 'other', 'passenger-name-record-locator-number',
    'passport-country', 'passport-expiration', 'passport-number', 'pattern-in-file', 'pattern-in-memory',
    'pattern-in-traffic', 'payment-details', 'pdb', 'pehash', 'pgp-private-key', 'pgp-public-key',
    'phone-number', 'place-of-birth', 'place-port-of-clearance',
    'place-port-of-onward-foreign-destination', 'place-port-of-original-embarkation', 'port',
    'primary-residence', 'process-state', 'prtn', 'redress-number', 'regkey', 'regkey|value', 'sha1',
    'sha224', 'sha256', 'sha3-224', 'sha3-256', 'sha3-384', 'sha3-512', 'sha384', 'sha512', 'sha512/224',
    'sha512/256', 'sigma', 'size-in-bytes', 'snort', 'special-service-request', 'ssdeep',
    'ssh-fingerprint', 'stix2-pattern', 'suricata', 'target-email', 'target-external', 'target-location',
    'target-machine', 'target-org', 'target-user', 'telfhash', 'text', 'threat-actor', 'tlsh',
    'travel-details', 'twitter-id', 'uri', 'url', 'user-agent', 'uuid', 'vhash', 'visa-number',
    'vulnerability', 'weakness', 'whois-creation-date', 'whois-registrant-email', 'whois-registrant-name',
    'whois-registrant-org', 'whois-registrant-phone', 'whois-registrar', 'windows-scheduled-task',
    'windows-service-displayname', 'windows-service-name', 'x509-fingerprint-md5',
    'x509-fingerprint-sha1', 'x509-fingerprint-sha256', 'xmr', 'yara', 'zeek'
})
# MISP distribution: 0 your organisation only, 1 this community, 3 all communities.
_MISP_DISTRIBUTION = {TlpLevel.CLEAR: "3", TlpLevel.GREEN: "1"}


def _misp_attribute(item: ExportItem, ind: Indicator, stamp: str) -> dict[str, Any]:
    kind, comment = ind.type, ind.comment
    if kind not in MISP_TYPES:  # e.g. a type from an older import; MISP refuses unknown types
        kind, comment = "text", f"{ind.type}{f' — {comment}' if comment else ''}"
    attribute: dict[str, Any] = {
        "uuid": str(uuid.uuid5(BANSO_NAMESPACE, f"item:{item.id}:attribute:{ind.type}:{ind.value}")),
        "type": kind,
        "value": ind.value,
        "comment": comment,
        "to_ids": stix_pattern(ind.type, ind.value) is not None,
        "distribution": "5",  # inherit the event's
        "timestamp": stamp,
    }
    if kind in _MISP_CATEGORIES:  # otherwise MISP picks the type's default category
        attribute["category"] = _MISP_CATEGORIES[kind]
    return attribute


def to_misp(item: ExportItem, *, mark: Callable[[str], str] | None = None) -> dict[str, Any]:
    """Export an item as a MISP event (``{"Event": {...}}``) with its TLP tags.

    ``mark`` stamps the free text for its recipient (I8); the indicator values are left as they are.
    """
    level, labels = export_tlp(item)
    stamp = str(int(_utc(item.modified).timestamp()))
    event: dict[str, Any] = {
        "uuid": str(uuid.uuid5(BANSO_NAMESPACE, f"item:{item.id}")),
        "info": item.title,
        "date": item.created.date().isoformat(),
        "timestamp": stamp,
        "published": False,
        "threat_level_id": "4",  # undefined: banso does not grade threats
        "analysis": "2",  # completed: an item is exported as it stands
        "distribution": _MISP_DISTRIBUTION.get(level, "0"),
        "Tag": [{"name": name} for name in _dedupe(_misp_tag(label) for label in labels)],
        "Attribute": [_misp_attribute(item, ind, stamp) for ind in _dedupe_indicators(item.indicators)],
        "x_banso_provided_confidential": item.provided_confidential,  # issue 13 (null: not recorded)
    }
    text = _export_text(item)
    if text:
        event["EventReport"] = [{
            "uuid": str(uuid.uuid5(BANSO_NAMESPACE, f"item:{item.id}:event-report")),
            "name": item.title,
            "content": mark(text) if mark else text,
            "distribution": "5",
        }]
    return {"Event": event}


def to_stix(item: ExportItem, *, mark: Callable[[str], str] | None = None) -> dict[str, Any]:
    """Export an item as a STIX 2.1 bundle: identity, TLP 2.0 marking, report, indicators, notes.

    ``mark`` stamps the report text for its recipient (I8), who is also named in ``x_banso_recipient``.
    """
    level, _ = export_tlp(item)
    marking = tlp2_marking_definition(level)
    created = _stamp(item.created)
    modified = _stamp(max(_utc(item.created), _utc(item.modified)))  # STIX: modified >= created
    report_id = f"report--{uuid.uuid5(BANSO_NAMESPACE, f'item:{item.id}')}"

    def common(kind: str, key: str) -> dict[str, Any]:
        return {
            "type": kind,
            "spec_version": "2.1",
            "id": f"{kind}--{uuid.uuid5(BANSO_NAMESPACE, f'item:{item.id}:{key}')}",
            "created": created,
            "modified": modified,
            "created_by_ref": _IDENTITY_ID,
            "object_marking_refs": [marking["id"]],
        }

    content: list[dict[str, Any]] = []
    for ind in _dedupe_indicators(item.indicators):
        key = f"{ind.type}:{ind.value}"
        pattern = stix_pattern(ind.type, ind.value)
        if pattern is not None:
            obj = common("indicator", f"indicator:{key}")
            obj.update(name=ind.value, pattern=pattern, pattern_type="stix", pattern_version="2.1",
                       valid_from=created, labels=[f'misp:type="{ind.type}"'])
            if ind.comment:
                obj["description"] = ind.comment
        elif ind.type == "vulnerability":
            obj = common("vulnerability", f"vulnerability:{key}")
            obj["name"] = ind.value
            if ind.comment:
                obj["description"] = ind.comment
            if re.fullmatch(r"CVE-\d{4}-\d{4,}", ind.value, re.IGNORECASE):
                obj["external_references"] = [{"source_name": "cve", "external_id": ind.value.upper()}]
        else:
            # STIX has no observable for it (a link, free text …): keep it as a note on the report.
            obj = common("note", f"note:{key}")
            obj.update(content=ind.value, object_refs=[report_id], labels=[f'misp:type="{ind.type}"'])
            if ind.comment:
                obj["abstract"] = ind.comment
        content.append(obj)

    report = common("report", "report")
    report["id"] = report_id
    report.update(
        name=item.title,
        report_types=["threat-report"],
        published=modified,
        # STIX requires at least one ref; an item without indicators points at its author.
        object_refs=[obj["id"] for obj in content if obj["type"] != "note"] or [_IDENTITY_ID],
    )
    text = _export_text(item)
    if text:
        report["description"] = mark(text) if mark else text
    if item.recipient:
        report["x_banso_recipient"] = item.recipient
    report["x_banso_provided_confidential"] = item.provided_confidential  # issue 13 (null: not recorded)
    identity = {
        "type": "identity",
        "spec_version": "2.1",
        "id": _IDENTITY_ID,
        "created": _IDENTITY_CREATED,
        "modified": _IDENTITY_CREATED,
        "name": "banso",
        "identity_class": "system",
    }
    stamp = _stamp(item.modified)
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid5(BANSO_NAMESPACE, f'item:{item.id}:bundle:{stamp}')}",
        "objects": [identity, marking, report, *content],
    }
