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
"""

from __future__ import annotations

import ipaddress
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any

from banso.kit.errors import BansoError

# ---------------------------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------------------------


class InterchangeError(BansoError):
    """A MISP or STIX document is malformed; ``message`` names what is wrong."""

    status_code = 422
    code = "interchange_invalid"


class Openness(StrEnum):
    """Openness an imported item starts with (I2)."""

    PUBLIC = "public"  # 公開
    COUNCIL = "council"  # 協議会内共有
    DESIGNATE = "designate"  # 指定 proposed (I3, I4 still apply)


class Scope(StrEnum):
    """Suggested designation scope (I3); ``all`` when nothing is designated."""

    ALL = "all"
    ORGANISATIONS = "organisations"
    PROVIDER_ORGANISATION = "provider_organisation"
    NAMED = "named"


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
        designation_scope=str(interchange.scope) if interchange.openness is Openness.DESIGNATE else None,
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


def _load(doc: Mapping[str, Any] | bytes | str, what: str) -> dict[str, Any]:
    data: object = doc
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InterchangeError(f"{what} is not UTF-8 text (invalid byte at offset {exc.start})") from exc
    if isinstance(data, str):
        if not data.strip():
            raise InterchangeError(f"{what} is empty")
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InterchangeError(
                f"{what} is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from exc
        except RecursionError as exc:  # hostile nesting must not become a 500
            raise InterchangeError(f"{what} is nested too deeply") from exc
    if isinstance(data, Mapping):
        return dict(data)
    raise InterchangeError(f"{what} must be a JSON object, not {_json_kind(data)}")


def _list(container: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InterchangeError(f"{where}.{key} must be an array, not {_json_kind(value)}")
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
        raise InterchangeError(f"{where} is not an RFC 3339 timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as exc:
        raise InterchangeError(f"{where} {value!r} is not an RFC 3339 timestamp") from exc
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
            raise InterchangeError(f"{where}.Tag[{i}] has no name")
        names.append(name)
    return names


def _misp_attributes(container: Mapping[str, Any], where: str) -> tuple[list[Indicator], list[str]]:
    indicators: list[Indicator] = []
    tags: list[str] = []
    for i, attr in enumerate(_list(container, "Attribute", where)):
        here = f"{where}.Attribute[{i}]"
        if not isinstance(attr, dict):
            raise InterchangeError(f"{here} must be an object, not {_json_kind(attr)}")
        if attr.get("deleted") in (True, "1", 1):
            continue  # MISP keeps soft-deleted attributes in exports; they are not part of the event
        kind = _text(attr.get("type"))
        if not kind:
            raise InterchangeError(f"{here} has no type")
        value = attr.get("value")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or not str(value).strip():
            raise InterchangeError(f"{here} ({kind}) has no value")
        indicators.append(Indicator(kind, str(value).strip(), _text(attr.get("comment"))))
        tags.extend(_misp_tags(attr, here))
    return indicators, tags


def _misp_created(event: Mapping[str, Any]) -> datetime | None:
    day = event.get("date")
    if day is not None:
        try:
            return datetime.strptime(str(day), "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError as exc:
            raise InterchangeError(f"MISP event date {day!r} is not YYYY-MM-DD") from exc
    stamp = event.get("timestamp")
    if stamp is not None:
        try:
            return datetime.fromtimestamp(int(str(stamp)), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise InterchangeError(f"MISP event timestamp {stamp!r} is not a Unix time") from exc
    return None


def parse_misp(doc: Mapping[str, Any] | bytes | str) -> Interchange:
    """Read a MISP event (``{"Event": {...}}`` or a bare event) into an ``Interchange``."""
    data = _load(doc, "MISP document")
    if "Event" in data:
        event = data["Event"]
        if not isinstance(event, dict):
            raise InterchangeError(f"MISP 'Event' must be an object, not {_json_kind(event)}")
    elif any(key in data for key in ("info", "uuid", "Attribute")):
        event = data
    else:
        raise InterchangeError("not a MISP event: expected {\"Event\": {...}} or a bare event with 'info'")

    title = _text(event.get("info"))
    if not title:
        raise InterchangeError("MISP event has no 'info' (its title)")
    source_id = _text(event.get("uuid"))
    try:
        uuid.UUID(source_id)
    except ValueError as exc:
        raise InterchangeError("MISP event has no valid 'uuid'") from exc

    tags = _misp_tags(event, "Event")
    indicators, attr_tags = _misp_attributes(event, "Event")
    tags.extend(attr_tags)  # attribute-level TLP counts: one RED attribute makes the whole item RED
    for j, obj in enumerate(_list(event, "Object", "Event")):
        if not isinstance(obj, dict):
            raise InterchangeError(f"Event.Object[{j}] must be an object, not {_json_kind(obj)}")
        found, obj_tags = _misp_attributes(obj, f"Event.Object[{j}]")
        indicators.extend(found)
        tags.extend(obj_tags)

    labels = _dedupe(tag for tag in tags if tlp_level(tag) is not None)
    handling = handling_for(labels)
    created = _misp_created(event)
    kept = _dedupe_indicators(indicators)

    summary = ""
    for report in _list(event, "EventReport", "Event"):
        if isinstance(report, dict) and _text(report.get("content")) and not report.get("deleted"):
            summary = _text(report.get("content"))
            break
    if not summary:
        orgc = event.get("Orgc")
        org = _text(orgc.get("name")) if isinstance(orgc, dict) else ""
        threat = _MISP_THREAT_LEVELS.get(str(event.get("threat_level_id", "")), "undefined")
        day = created.date().isoformat() if created else "undated"
        summary = f"MISP event of {day}{f' by {org}' if org else ''}, threat level {threat}: {len(kept)} indicators."

    return Interchange(
        title=title,
        summary=summary,
        body=render_body(kept),
        tlp_labels=labels,
        openness=handling.openness,
        scope=handling.scope,
        source_format="misp",
        source_id=source_id,
        created=created,
        raw=data,
        indicators=kept,
    )


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

_COMPARISON = re.compile(
    r"(?P<obj>[a-z0-9][a-z0-9-]*):(?P<path>(?:[A-Za-z0-9_\[\]*-]+|'[^']*'|\.)+)"
    r"\s*=\s*(?P<value>'(?:[^'\\]|\\.)*'|-?\d+)"
)


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


def _pattern_comparisons(pattern: str) -> list[tuple[str, str]]:
    """Return ``(object path, value)`` for every equality comparison in a STIX pattern."""
    found = []
    for match in _COMPARISON.finditer(pattern):
        path = f"{match['obj']}:{match['path'].replace(chr(39), '')}"
        if path.startswith("file:hashes."):
            name = path.removeprefix("file:hashes.").upper()
            path = f"file:hashes.{_HASH_NAMES.get(name, name)}"
        raw = match["value"]
        value = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith("'") else raw
        found.append((path, value))
    return found


def _misp_type_label(obj: Mapping[str, Any]) -> str | None:
    labels = obj.get("labels")
    for label in labels if isinstance(labels, list) else []:
        match = _MISP_LABEL.match(label) if isinstance(label, str) else None
        if match:
            return match.group(1)
    return None


def _stix_indicator(obj: Mapping[str, Any], where: str) -> list[Indicator]:
    pattern = obj.get("pattern")
    if not isinstance(pattern, str) or not pattern.strip():
        raise InterchangeError(f"{where} has no pattern")
    comment = _text(obj.get("description"))
    if _text(obj.get("pattern_type")).lower() not in ("", "stix"):
        # Sigma, YARA, Snort …: not an observable, but the analyst still needs to see it.
        return [Indicator(f"{_text(obj.get('pattern_type')).lower()}-rule", pattern.strip(), comment)]
    comparisons = _pattern_comparisons(pattern)
    misp_type = _misp_type_label(obj)
    if misp_type and comparisons and len(misp_type.split("|")) == len(comparisons):
        return [Indicator(misp_type, "|".join(value for _, value in comparisons), comment)]
    if not comparisons:
        return [Indicator("stix-pattern", pattern.strip(), comment)]
    return [Indicator(_PATH_TYPES.get(path, f"stix:{path}"), value, comment) for path, value in comparisons]


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
        raise InterchangeError(f"{where} must be an object, not {_json_kind(obj)}")
    kind = obj.get("type")
    if not isinstance(kind, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", kind):
        raise InterchangeError(f"{where} has no valid 'type'")
    ident = obj.get("id")
    prefix = f"{kind}--"
    if not isinstance(ident, str) or not ident.startswith(prefix):
        raise InterchangeError(f"{where} ({kind}) has id {ident!r}; expected '{prefix}<uuid>'")
    try:
        uuid.UUID(ident.removeprefix(prefix))
    except ValueError as exc:
        raise InterchangeError(f"{where} has id {ident!r}; expected '{prefix}<uuid>'") from exc
    version = obj.get("spec_version")
    if version is None and kind not in _SCO_TYPES:
        raise InterchangeError(f"{where} ({ident}) has no spec_version; only STIX 2.1 is supported")
    if version is not None and version != "2.1":
        raise InterchangeError(f"{where} ({ident}) is STIX {version}; only STIX 2.1 is supported")
    return obj


def _marking_refs(obj: Mapping[str, Any], where: str) -> list[str]:
    refs = list(_list(obj, "object_marking_refs", where))
    for granular in _list(obj, "granular_markings", where):
        if isinstance(granular, dict):
            refs.append(granular.get("marking_ref"))
    for ref in refs:
        if not isinstance(ref, str):
            raise InterchangeError(f"{where} has a marking reference that is not a string")
    return refs


# ---------------------------------------------------------------------------------------------
# STIX 2.1 import
# ---------------------------------------------------------------------------------------------


def parse_stix(doc: Mapping[str, Any] | bytes | str) -> Interchange:
    """Read a STIX 2.1 bundle into an ``Interchange``; TLP comes from the markings its objects reference."""
    data = _load(doc, "STIX document")
    kind = data.get("type")
    if kind is None:
        raise InterchangeError("STIX document has no 'type'; expected 'bundle'")
    if kind != "bundle":
        raise InterchangeError(f"expected a STIX 2.1 bundle, got type {kind!r}")
    if "spec_version" in data:  # STIX 2.0 put spec_version on the bundle; 2.1 puts it on each object
        raise InterchangeError(f"STIX {data['spec_version']} bundle; only STIX 2.1 is supported")
    bundle_id = data.get("id")
    if not isinstance(bundle_id, str) or not bundle_id.startswith("bundle--"):
        raise InterchangeError("STIX bundle has no valid 'id' (bundle--<uuid>)")
    raw_objects = data.get("objects")
    if not isinstance(raw_objects, list) or not raw_objects:
        raise InterchangeError("STIX bundle has no objects")
    objects = [_check_stix_object(obj, i) for i, obj in enumerate(raw_objects)]
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
    tlp_labels = _dedupe(labels)
    level = max(levels) if levels else None
    openness, scope = _HANDLING[level]

    indicators: list[Indicator] = []
    notes: list[str] = []
    reports = [obj for obj in objects if obj["type"] == "report"]
    for i, obj in enumerate(objects):
        kind = obj["type"]
        if kind == "indicator":
            indicators.extend(_stix_indicator(obj, f"objects[{i}] ({obj['id']})"))
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
        raise InterchangeError("STIX bundle has no report, indicator or vulnerability to take a title from")
    first = titled[0]
    title = _text(first.get("name")) or _text(first.get("pattern"))
    if not title:
        raise InterchangeError(f"STIX {first['type']} {first['id']} has no name")
    summary = _text(first.get("description")) or (
        f"STIX 2.1 bundle {bundle_id}: {len(kept)} indicators."
    )
    created = _parse_stamp(first["created"], f"{first['id']} created") if "created" in first else None
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


# ---------------------------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------------------------

# uuid5 namespace for everything banso exports: the same item always gets the same ids.
BANSO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:banso:interchange")
_IDENTITY_ID = f"identity--{uuid.uuid5(BANSO_NAMESPACE, 'identity:banso')}"
_IDENTITY_CREATED = "2022-01-19T00:00:00.000Z"  # the expert council's proposal (seed)


def _openness_level(openness: str, scope: str | None) -> TlpLevel:
    if openness == "public":
        return TlpLevel.CLEAR
    if openness in ("council", "scheduled", "withheld"):
        # Scheduled results and withheld results are council-shared, not public (I6).
        return TlpLevel.GREEN
    if openness == "held":
        return TlpLevel.RED  # I4: only provider and secretariat hold it until the vote
    if openness == "designated":
        if scope == Scope.NAMED:
            return TlpLevel.RED
        if scope == Scope.PROVIDER_ORGANISATION:
            return TlpLevel.AMBER_STRICT
        return TlpLevel.AMBER
    raise ValueError(f"unknown openness {openness!r}")


def export_tlp(item: ExportItem) -> tuple[TlpLevel, tuple[str, ...]]:
    """Choose the TLP level and labels an export carries.

    Verbatim labels from the import are kept, unless banso's own openness is stricter (a council may
    have designated an item imported as CLEAR, I3): an export never loosens what banso enforces.
    """
    floor = _openness_level(item.openness, item.designation_scope)
    verbatim = [label for label in item.tlp_labels if tlp_level(label) is not None]
    if verbatim:
        level = max(lv for lv in (tlp_level(label) for label in verbatim) if lv is not None)
        if level >= floor:
            return level, _dedupe(verbatim)
    return floor, (floor.label,)


def _export_text(item: ExportItem) -> str:
    # An imported body is just the indicators rendered; repeating it would grow on every round trip.
    body = item.body.strip()
    if not body or body == render_body(item.indicators).strip():
        return item.summary
    return f"{item.summary}\n\n{body}" if item.summary else body


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
# MISP distribution: 0 your organisation only, 1 this community, 3 all communities.
_MISP_DISTRIBUTION = {TlpLevel.CLEAR: "3", TlpLevel.GREEN: "1"}


def to_misp(item: ExportItem) -> dict[str, Any]:
    """Export an item as a MISP event (``{"Event": {...}}``) with its TLP tags."""
    level, labels = export_tlp(item)
    stamp = str(int(_utc(item.modified).timestamp()))
    attributes = []
    for ind in _dedupe_indicators(item.indicators):
        attributes.append({
            "uuid": str(uuid.uuid5(BANSO_NAMESPACE, f"item:{item.id}:attribute:{ind.type}:{ind.value}")),
            "type": ind.type,
            "category": _MISP_CATEGORIES.get(ind.type, "Other"),
            "value": ind.value,
            "comment": ind.comment,
            "to_ids": stix_pattern(ind.type, ind.value) is not None,
            "distribution": "5",  # inherit the event's
            "timestamp": stamp,
        })
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
        "Attribute": attributes,
    }
    text = _export_text(item)
    if text:
        event["EventReport"] = [{
            "uuid": str(uuid.uuid5(BANSO_NAMESPACE, f"item:{item.id}:event-report")),
            "name": item.title,
            "content": text,
            "distribution": "5",
        }]
    return {"Event": event}


def to_stix(item: ExportItem) -> dict[str, Any]:
    """Export an item as a STIX 2.1 bundle: identity, TLP 2.0 marking, report, indicators, notes."""
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
        report["description"] = text
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
