"""MISP / STIX 2.1 interchange and the TLP 2.0 → openness mapping (I2, I3): pure, no database."""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from banso.information import interop
from banso.information.interop import (
    ExportItem,
    Indicator,
    InterchangeError,
    Openness,
    Scope,
    TlpLevel,
    as_export_item,
    handling_for,
    normalise_tlp,
    parse_misp,
    parse_stix,
    to_misp,
    to_stix,
)
from banso.kit.errors import BansoError

DATA = Path(__file__).parent / "data"
CREATED = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
MODIFIED = datetime(2026, 4, 2, 10, 0, 0, 123456, tzinfo=UTC)

TLP1 = {
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
TLP2 = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
EXPECTED = {
    "clear": (Openness.PUBLIC, Scope.ALL),
    "white": (Openness.PUBLIC, Scope.ALL),
    "green": (Openness.COUNCIL, Scope.ALL),
    "amber": (Openness.DESIGNATE, Scope.ORGANISATIONS),
    "amber+strict": (Openness.DESIGNATE, Scope.PROVIDER_ORGANISATION),
    "red": (Openness.DESIGNATE, Scope.NAMED),
}


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def misp_event(*tags: str, **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "uuid": "0b7c7f3e-3f0a-4d59-9f0e-9a2b8c1d2e3f",
        "info": "Test event",
        "date": "2026-03-01",
        "Tag": [{"name": tag} for tag in tags],
        "Attribute": [{"type": "ip-dst", "value": "192.0.2.1"}],
    }
    event.update(extra)
    return {"Event": event}


def stix_bundle(*objects: dict[str, Any], refs: list[str] | None = None) -> dict[str, Any]:
    indicator: dict[str, Any] = {
        "type": "indicator", "spec_version": "2.1",
        "id": "indicator--11111111-2222-4333-8444-555555555555",
        "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
        "name": "C2", "pattern": "[ipv4-addr:value = '192.0.2.1']", "pattern_type": "stix",
        "valid_from": "2026-03-01T00:00:00Z",
    }
    if refs is not None:
        indicator["object_marking_refs"] = refs
    return {"type": "bundle", "id": "bundle--aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
            "objects": [*objects, indicator]}


def tlp2_definition(token: str) -> dict[str, Any]:
    return interop.tlp2_marking_definition(interop._TLP_TOKENS[token])


def tlp1_definition(token: str) -> dict[str, Any]:
    return {"type": "marking-definition", "spec_version": "2.1", "id": TLP1[token],
            "created": "2017-01-20T00:00:00.000Z", "definition_type": "tlp",
            "name": f"TLP:{token.upper()}", "definition": {"tlp": token}}


def export_item(**changes: Any) -> ExportItem:
    values: dict[str, Any] = {
        "id": 42, "title": "Leaked VPN credentials", "summary": "VPN accounts seen for sale.", "body": "",
        "category": "cyber_incident", "openness": "council", "designation_scope": None, "tlp_labels": (),
        "created": CREATED, "modified": MODIFIED,
        "indicators": (
            Indicator("ip-dst", "203.0.113.9", "login source"),
            Indicator("domain", "vpn-portal.example"),
            Indicator("url", "https://vpn-portal.example/it's"),
            Indicator("sha256", "a" * 64),
            Indicator("md5", "b" * 32),
            Indicator("email-src", "it-desk@vpn-portal.example"),
            Indicator("ip-dst|port", "2001:db8::7|8443"),
            Indicator("filename|sha256", "設計書.zip|" + "c" * 64),
            Indicator("vulnerability", "CVE-2024-3400", "exploited"),
            Indicator("link", "https://blog.example.org/post", "write-up"),
        ),
    }
    values.update(changes)
    return ExportItem(**values)


# --- TLP mapping -------------------------------------------------------------------------------

LABEL_CASES = [
    ("TLP:CLEAR", "clear"), ("tlp:clear", "clear"), ("Tlp:Clear", "clear"),
    ("TLP:WHITE", "white"), ("tlp:white", "white"),
    ("TLP:GREEN", "green"), ("tlp:green", "green"),
    ("TLP:AMBER", "amber"), ("tlp:amber", "amber"),
    ("TLP:AMBER+STRICT", "amber+strict"), ("tlp:amber+strict", "amber+strict"), ("TLP: Amber + Strict", "amber+strict"),
    ("TLP:RED", "red"), ("tlp:red", "red"),
]


@pytest.mark.parametrize(("label", "token"), LABEL_CASES)
def test_each_label_maps_to_openness_and_scope(label: str, token: str) -> None:
    handling = handling_for([label])
    assert (handling.openness, handling.scope) == EXPECTED[token]


@pytest.mark.parametrize(("label", "token"), LABEL_CASES)
def test_misp_event_tag_maps_and_is_kept_verbatim(label: str, token: str) -> None:
    result = parse_misp(misp_event(label, 'misp-galaxy:threat-actor="APT10"'))
    assert (result.openness, result.scope) == EXPECTED[token]
    assert result.tlp_labels == (label,)


@pytest.mark.parametrize("token", sorted(TLP2))
def test_stix_tlp2_extension_marking_maps(token: str) -> None:
    result = parse_stix(stix_bundle(tlp2_definition(token), refs=[TLP2[token]]))
    assert (result.openness, result.scope) == EXPECTED[token]
    assert result.tlp_labels == (f"TLP:{token.upper()}",)


@pytest.mark.parametrize("token", sorted(TLP1))
def test_stix_tlp1_definition_marking_maps(token: str) -> None:
    result = parse_stix(stix_bundle(tlp1_definition(token), refs=[TLP1[token]]))
    assert (result.openness, result.scope) == EXPECTED[token]
    assert result.tlp_labels == (f"TLP:{token.upper()}",)


@pytest.mark.parametrize(("token", "ref"), [*TLP1.items(), *TLP2.items()])
def test_stix_well_known_marking_id_counts_without_its_definition(token: str, ref: str) -> None:
    result = parse_stix(stix_bundle(refs=[ref]))
    assert (result.openness, result.scope) == EXPECTED[token]


def test_stix_marking_with_custom_id_is_read_from_its_content() -> None:
    definition = {**tlp2_definition("amber+strict"), "id": "marking-definition--0f0f0f0f-1111-4222-8333-444444444444",
                  "name": "tlp:amber+strict"}
    result = parse_stix(stix_bundle(definition, refs=[definition["id"]]))
    assert result.scope is Scope.PROVIDER_ORGANISATION
    assert result.tlp_labels == ("tlp:amber+strict",)


def test_most_restrictive_label_wins() -> None:
    assert handling_for(["TLP:CLEAR", "tlp:red", "TLP:AMBER"]).level is TlpLevel.RED
    assert handling_for(["TLP:AMBER", "TLP:AMBER+STRICT"]).scope is Scope.PROVIDER_ORGANISATION
    result = parse_misp(misp_event("tlp:green", "tlp:amber"))
    assert result.scope is Scope.ORGANISATIONS
    assert result.tlp_labels == ("tlp:green", "tlp:amber")


def test_misp_attribute_level_tag_counts() -> None:
    doc = misp_event("tlp:green")
    doc["Event"]["Attribute"].append({"type": "domain", "value": "x.example", "Tag": [{"name": "tlp:red"}]})
    result = parse_misp(doc)
    assert result.scope is Scope.NAMED
    assert result.tlp_labels == ("tlp:green", "tlp:red")


def test_stix_most_restrictive_marking_across_objects_wins() -> None:
    report = {"type": "report", "spec_version": "2.1", "id": "report--99999999-8888-4777-8666-555555555555",
              "created": "2026-03-01T00:00:00.000Z", "modified": "2026-03-01T00:00:00.000Z",
              "name": "R", "published": "2026-03-01T00:00:00.000Z",
              "object_refs": ["indicator--11111111-2222-4333-8444-555555555555"],
              "object_marking_refs": [TLP2["green"]]}
    result = parse_stix(stix_bundle(report, refs=[TLP1["amber"]]))
    assert result.openness is Openness.DESIGNATE and result.scope is Scope.ORGANISATIONS
    assert set(result.tlp_labels) == {"TLP:GREEN", "TLP:AMBER"}


def test_unreferenced_marking_definitions_do_not_count() -> None:
    # A bundle may ship the whole TLP library; only what an object references applies.
    result = parse_stix(stix_bundle(tlp2_definition("red"), tlp2_definition("clear"), refs=[TLP2["clear"]]))
    assert result.openness is Openness.PUBLIC


def test_no_label_means_council_shared() -> None:
    misp = parse_misp(misp_event('misp-galaxy:threat-actor="APT10"', "tlp:ex:chr"))
    stix = parse_stix(stix_bundle())
    for result in (misp, stix):
        assert result.openness is Openness.COUNCIL
        assert result.scope is Scope.ALL
        assert result.tlp_labels == ()
    assert handling_for([]).level is None


def test_normalise_tlp() -> None:
    assert normalise_tlp("tlp:amber+strict") == "TLP:AMBER+STRICT"
    assert normalise_tlp("TLP:WHITE") == "TLP:CLEAR"
    assert normalise_tlp('misp-galaxy:x="y"') is None


# --- fixtures ------------------------------------------------------------------------------------


def test_misp_fixture() -> None:
    result = parse_misp(load("misp_event_amber.json"))
    assert result.title.startswith("OSINT - Phishing campaign")
    assert result.source_format == "misp"
    assert result.source_id == "6f0e2a4c-9b7d-4e1a-8c3f-2d5b7a9e1c04"
    assert result.tlp_labels == ("tlp:amber",)
    assert (result.openness, result.scope) == (Openness.DESIGNATE, Scope.ORGANISATIONS)
    assert result.category == "cyber_incident"
    assert result.created == datetime(2024, 3, 12, tzinfo=UTC)
    values = {(i.type, i.value) for i in result.indicators}
    assert ("ip-dst", "203.0.113.47") in values
    assert ("domain", "redelivery-notice-jp.example") in values
    assert ("url", "https://redelivery-notice-jp.example/login.php?id=JP0312") in values
    assert ("filename", "不在連絡票_0312.iso") in values  # from Object[].Attribute[]
    assert ("domain", "legit-carrier.example") not in values  # soft-deleted
    assert len(result.indicators) == 8
    assert "- ip-dst: 203.0.113.47 — Credential harvester hosting" in result.body
    # Issue 11: TLP:AMBER text never reaches the summary voters see; the summary is neutral.
    assert result.summary == interop.neutral_summary("MISP event", 8, ("tlp:amber",))
    assert result.raw["Event"]["uuid"] == result.source_id


def test_misp_accepts_bare_event_bytes_and_str() -> None:
    doc = load("misp_event_amber.json")
    bare = parse_misp(doc["Event"])
    as_bytes = parse_misp(json.dumps(doc).encode("utf-8"))
    as_bom = parse_misp(b"\xef\xbb\xbf" + json.dumps(doc).encode("utf-8"))
    as_str = parse_misp(json.dumps(doc, ensure_ascii=False))
    assert bare.indicators == as_bytes.indicators == as_bom.indicators == as_str.indicators


def test_stix_red_fixture() -> None:
    result = parse_stix(load("stix_bundle_red.json"))
    assert result.source_format == "stix-2.1"
    assert result.source_id == "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"
    assert result.title.startswith("Exploitation of a firewall")
    # Issue 11: the TLP:RED report text stays in the sealed body, never in the summary voters see.
    assert "command injection" not in result.summary
    assert result.body.startswith("An unauthenticated command injection")
    assert result.tlp_labels == ("TLP:RED",)
    assert (result.openness, result.scope) == (Openness.DESIGNATE, Scope.NAMED)
    assert result.created == datetime(2024, 4, 16, 3, 21, tzinfo=UTC)
    assert {(i.type, i.value) for i in result.indicators} == {
        ("ip-dst", "192.0.2.151"),
        ("domain", "update-check.cdn-sync.example"),
        ("sha256", "3de2a8a7e4b6c1d0f9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6"),
        ("vulnerability", "CVE-2024-3400"),
    }
    assert "- ip-dst: 192.0.2.151 — Beaconing every 300 s over HTTPS" in result.body


def test_stix_tlp1_white_fixture() -> None:
    result = parse_stix(load("stix_bundle_tlp1_white.json"))
    assert result.tlp_labels == ("TLP:WHITE",)
    assert result.openness is Openness.PUBLIC
    assert result.indicators == (
        Indicator("url", "https://conf-registration.example/sso/login", ""),
    )


def test_stix_title_falls_back_to_first_indicator_and_reads_observables() -> None:
    sco = {"type": "file", "id": "file--12345678-1234-4234-8234-123456789abc",
           "hashes": {"SHA-256": "d" * 64, "MD5": "e" * 32}, "name": "dropper.exe"}
    result = parse_stix(stix_bundle(sco))
    assert result.title == "C2"
    assert {(i.type, i.value) for i in result.indicators} == {
        ("ip-dst", "192.0.2.1"), ("sha256", "d" * 64), ("md5", "e" * 32), ("filename", "dropper.exe"),
    }


# --- malformed input -----------------------------------------------------------------------------

MALFORMED_MISP = [
    (b"\x89PNG\r\n\x1a\n", "not UTF-8"),
    ("{not json", "not JSON"),
    ("", "empty"),
    ("[1, 2]", "must be a JSON object, not an array"),
    ("42", "must be a JSON object, not a number"),
    ({"foo": "bar"}, "not a MISP event"),
    ({"Event": []}, "'Event' must be an object"),
    ({"Event": {"uuid": "0b7c7f3e-3f0a-4d59-9f0e-9a2b8c1d2e3f", "Attribute": []}}, "no 'info'"),
    ({"Event": {"uuid": "0b7c7f3e-3f0a-4d59-9f0e-9a2b8c1d2e3f", "info": "   "}}, "no 'info'"),
    ({"Event": {"info": "x"}}, "no valid 'uuid'"),
    ({"Event": {"info": "x", "uuid": "not-a-uuid"}}, "no valid 'uuid'"),
    ({"Event": {"info": "x", "uuid": "0b7c7f3e-3f0a-4d59-9f0e-9a2b8c1d2e3f", "Attribute": {}}},
     "Event.Attribute must be an array"),
    ({"Event": {"info": "x", "uuid": "0b7c7f3e-3f0a-4d59-9f0e-9a2b8c1d2e3f",
                "Attribute": [{"type": "ip-dst"}]}}, "Event.Attribute[0] (ip-dst) has no value"),
    ({"Event": {"info": "x", "uuid": "0b7c7f3e-3f0a-4d59-9f0e-9a2b8c1d2e3f",
                "Attribute": [{"value": "1.2.3.4"}]}}, "Event.Attribute[0] has no type"),
    ({"Event": {"info": "x", "uuid": "0b7c7f3e-3f0a-4d59-9f0e-9a2b8c1d2e3f",
                "Object": [{"Attribute": [{"type": "md5"}]}]}}, "Event.Object[0].Attribute[0] (md5) has no value"),
    ({"Event": {"info": "x", "uuid": "0b7c7f3e-3f0a-4d59-9f0e-9a2b8c1d2e3f", "Tag": [{"colour": "#fff"}]}},
     "Event.Tag[0] has no name"),
    ({"Event": {"info": "x", "uuid": "0b7c7f3e-3f0a-4d59-9f0e-9a2b8c1d2e3f", "date": "12/03/2024"}},
     "not YYYY-MM-DD"),
    ("[" * 100_000, "nested too deeply"),
]


@pytest.mark.parametrize(("doc", "message"), MALFORMED_MISP)
def test_malformed_misp_is_rejected_with_a_specific_message(doc: Any, message: str) -> None:
    with pytest.raises(InterchangeError) as caught:
        parse_misp(doc)
    assert message in caught.value.message
    assert caught.value.status_code == 422
    assert isinstance(caught.value, BansoError)


def _bundle_with(**changes: Any) -> dict[str, Any]:
    bundle = load("stix_bundle_red.json")
    bundle.update(changes)
    return bundle


def _bundle_with_object(index: int, **changes: Any) -> dict[str, Any]:
    bundle = load("stix_bundle_red.json")
    bundle["objects"][index].update(changes)
    return bundle


MALFORMED_STIX = [
    ("{", "not JSON"),
    ("[]", "must be a JSON object, not an array"),
    ({"id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": []}, "no 'type'"),
    (_bundle_with(type="report"), "expected a STIX 2.1 bundle, got type 'report'"),
    (_bundle_with(objects=[]), "bundle has no objects"),
    ({"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}, "bundle has no objects"),
    (_bundle_with(spec_version="2.0"), "only STIX 2.1 is supported"),
    (_bundle_with(id="5d0092c5"), "no valid 'id'"),
    (_bundle_with(objects=["x"]), "objects[0] must be an object, not a string"),
    (_bundle_with_object(3, id="indicator--nope"), "expected 'indicator--<uuid>'"),
    (_bundle_with_object(3, id="report--a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"), "expected 'indicator--<uuid>'"),
    (_bundle_with_object(3, spec_version="2.0"), "only STIX 2.1 is supported"),
    (_bundle_with_object(3, type=None), "objects[3] has no valid 'type'"),
    (_bundle_with_object(3, pattern=None), "has no pattern"),
    (_bundle_with_object(2, created="yesterday"), "not an RFC 3339 timestamp"),
    (_bundle_with_object(2, object_marking_refs="marking-definition--x"), "object_marking_refs must be an array"),
    (_bundle_with(objects=[load("stix_bundle_red.json")["objects"][0]]), "no report, indicator or vulnerability"),
]


@pytest.mark.parametrize(("doc", "message"), MALFORMED_STIX)
def test_malformed_stix_is_rejected_with_a_specific_message(doc: Any, message: str) -> None:
    with pytest.raises(InterchangeError) as caught:
        parse_stix(doc)
    assert message in caught.value.message


def test_stix_spec_version_missing_on_sdo_is_rejected() -> None:
    bundle = load("stix_bundle_red.json")
    del bundle["objects"][3]["spec_version"]
    with pytest.raises(InterchangeError, match="has no spec_version"):
        parse_stix(bundle)


# --- export --------------------------------------------------------------------------------------

UUID_ID = re.compile(r"^([a-z0-9][a-z0-9-]*)--([0-9a-f-]{36})$")
SCO = interop._SCO_TYPES
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _refs(value: Any, key: str = "") -> list[str]:
    """Every identifier in ``*_ref`` / ``*_refs`` properties, however deep."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k.endswith("_ref") and isinstance(v, str):
                found.append(v)
            elif k.endswith("_refs") and isinstance(v, list):
                found.extend(x for x in v if isinstance(x, str))
            else:
                found.extend(_refs(v, k))
    elif isinstance(value, list):
        for v in value:
            found.extend(_refs(v, key))
    return found


def assert_valid_stix_bundle(bundle: dict[str, Any]) -> None:
    assert bundle["type"] == "bundle"
    assert "spec_version" not in bundle
    assert UUID_ID.match(bundle["id"]) and bundle["id"].startswith("bundle--")
    ids = set()
    for obj in bundle["objects"]:
        match = UUID_ID.match(obj["id"])
        assert match, obj["id"]
        assert match.group(1) == obj["type"]
        uuid.UUID(match.group(2))
        assert obj["spec_version"] == "2.1"
        assert STAMP.match(obj["created"]), obj
        if obj["type"] not in ("marking-definition", *SCO):
            assert STAMP.match(obj["modified"]) and obj["modified"] >= obj["created"]
        if obj["type"] == "indicator":
            assert obj["pattern_type"] == "stix" and STAMP.match(obj["valid_from"])
            assert obj["pattern"].startswith("[") and obj["pattern"].endswith("]")
        if obj["type"] == "report":
            assert obj["object_refs"] and STAMP.match(obj["published"])
        ids.add(obj["id"])
    assert len(ids) == len(bundle["objects"])
    for ref in _refs(bundle["objects"]):
        assert ref in ids, f"dangling ref {ref}"
    json.dumps(bundle)  # JSON-serialisable as is


def test_stix_export_is_a_valid_bundle() -> None:
    bundle = to_stix(export_item())
    assert_valid_stix_bundle(bundle)
    types = [obj["type"] for obj in bundle["objects"]]
    assert types.count("indicator") == 8 and types.count("vulnerability") == 1 and types.count("note") == 1
    by_type = {obj["type"]: obj for obj in bundle["objects"]}
    # Council-shared content is under the confidentiality duty: at least AMBER, never GREEN (issue 11).
    assert by_type["marking-definition"]["extensions"][interop.TLP2_EXTENSION_ID]["tlp_2_0"] == "amber"
    report = by_type["report"]
    assert report["name"] == "Leaked VPN credentials"
    assert report["description"] == "VPN accounts seen for sale."
    assert report["created"] == "2026-04-01T09:30:00.000Z"
    assert report["modified"] == "2026-04-02T10:00:00.123Z"
    for obj in bundle["objects"]:
        if obj["type"] not in ("identity", "marking-definition"):
            assert obj["object_marking_refs"] == [TLP2["amber"]]


def test_stix_export_builds_patterns() -> None:
    patterns = {obj["name"]: obj["pattern"] for obj in to_stix(export_item())["objects"]
                if obj["type"] == "indicator"}
    assert patterns["203.0.113.9"] == "[ipv4-addr:value = '203.0.113.9']"
    assert patterns["vpn-portal.example"] == "[domain-name:value = 'vpn-portal.example']"
    assert patterns["https://vpn-portal.example/it's"] == "[url:value = 'https://vpn-portal.example/it\\'s']"
    assert patterns["a" * 64] == f"[file:hashes.'SHA-256' = '{'a' * 64}']"
    assert patterns["b" * 32] == f"[file:hashes.MD5 = '{'b' * 32}']"
    assert patterns["it-desk@vpn-portal.example"] == "[email-addr:value = 'it-desk@vpn-portal.example']"
    assert patterns["2001:db8::7|8443"] == (
        "[network-traffic:dst_ref.value = '2001:db8::7' AND network-traffic:dst_port = 8443]")
    assert interop.stix_pattern("ip-src", "2001:db8::1") == "[ipv6-addr:value = '2001:db8::1']"
    assert interop.stix_pattern("hostname", "a.example") == "[domain-name:value = 'a.example']"
    assert interop.stix_pattern("ip-dst", "not an ip") is None
    assert interop.stix_pattern("text", "free text") is None


def test_stix_export_ids_are_deterministic() -> None:
    first, second = to_stix(export_item()), to_stix(export_item())
    assert first == second
    other = to_stix(export_item(id=43))
    assert {o["id"] for o in first["objects"]} & {o["id"] for o in other["objects"]} == {
        interop._IDENTITY_ID, TLP2["amber"]}
    report_id = next(o["id"] for o in first["objects"] if o["type"] == "report")
    assert report_id == f"report--{uuid.uuid5(interop.BANSO_NAMESPACE, 'item:42')}"


def test_stix_export_of_item_without_indicators_is_still_valid() -> None:
    bundle = to_stix(export_item(indicators=(), body="Narrative only."))
    assert_valid_stix_bundle(bundle)
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    assert report["description"] == "VPN accounts seen for sale.\n\nNarrative only."


def test_naive_datetimes_are_taken_as_utc() -> None:
    bundle = to_stix(export_item(created=datetime(2026, 1, 1, 0, 0), modified=datetime(2026, 1, 2, 3, 4, 5)))
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    assert (report["created"], report["modified"]) == ("2026-01-01T00:00:00.000Z", "2026-01-02T03:04:05.000Z")


@pytest.mark.parametrize(("openness", "scope", "expected"), [
    ("public", None, TlpLevel.CLEAR),
    ("council", None, TlpLevel.AMBER),  # issue 11: council-shared is under the duty, never GREEN
    ("scheduled", None, TlpLevel.AMBER),
    ("withheld", None, TlpLevel.AMBER),
    ("held", None, TlpLevel.RED),  # issue 11: I4, only provider and secretariat hold it
    ("designated", "all", TlpLevel.AMBER),
    ("designated", "organisations", TlpLevel.AMBER_STRICT),  # issue 11: named organisations only
    ("designated", None, TlpLevel.AMBER),
    ("designated", "provider_organisation", TlpLevel.AMBER_STRICT),
    ("designated", "named", TlpLevel.RED),
])
def test_export_tlp_from_openness(openness: str, scope: str | None, expected: TlpLevel) -> None:
    item = export_item(openness=openness, designation_scope=scope)
    assert interop.export_tlp(item) == (expected, (expected.label,))
    marking = next(o for o in to_stix(item)["objects"] if o["type"] == "marking-definition")
    assert marking["id"] == TLP2[expected.token]
    assert to_misp(item)["Event"]["Tag"] == [{"name": f"tlp:{expected.token}"}]


def test_designated_named_scope_exports_red() -> None:
    item = export_item(openness="designated", designation_scope="named")
    misp = to_misp(item)["Event"]
    assert misp["Tag"] == [{"name": "tlp:red"}]
    assert misp["distribution"] == "0"
    stix = to_stix(item)
    assert {o["name"] for o in stix["objects"] if o["type"] == "marking-definition"} == {"TLP:RED"}
    assert parse_stix(stix).scope is Scope.NAMED
    assert parse_misp(to_misp(item)).scope is Scope.NAMED


def test_export_keeps_verbatim_labels() -> None:
    item = export_item(openness="public", tlp_labels=("TLP:WHITE",))
    assert to_misp(item)["Event"]["Tag"] == [{"name": "tlp:white"}]
    assert interop.export_tlp(item) == (TlpLevel.CLEAR, ("TLP:WHITE",))


def test_export_never_loosens_a_stricter_designation() -> None:
    # Imported as CLEAR, then designated for named people by the council (I3): RED goes out.
    item = export_item(openness="designated", designation_scope="named", tlp_labels=("tlp:clear",))
    assert interop.export_tlp(item) == (TlpLevel.RED, ("TLP:RED",))
    assert to_misp(item)["Event"]["Tag"] == [{"name": "tlp:red"}]


def test_misp_export_shape() -> None:
    event = to_misp(export_item())["Event"]
    assert set(event) >= {"uuid", "info", "date", "threat_level_id", "analysis", "distribution", "Tag", "Attribute"}
    uuid.UUID(event["uuid"])
    assert event["info"] == "Leaked VPN credentials"
    assert event["date"] == "2026-04-01"
    assert event["distribution"] == "0"  # AMBER: your organisation only (issue 11; was "1", this community)
    attrs = {(a["type"], a["value"]): a for a in event["Attribute"]}
    assert len(attrs) == 10
    assert attrs[("ip-dst", "203.0.113.9")]["to_ids"] is True
    assert attrs[("ip-dst", "203.0.113.9")]["category"] == "Network activity"
    assert attrs[("link", "https://blog.example.org/post")]["to_ids"] is False
    assert to_misp(export_item()) == to_misp(export_item())


# --- round trips ---------------------------------------------------------------------------------


def _canonical_labels(labels: tuple[str, ...]) -> set[str | None]:
    return {normalise_tlp(label) for label in labels}


def test_round_trip_misp_to_stix_to_misp() -> None:
    original = parse_misp(load("misp_event_amber.json"))
    stix = to_stix(as_export_item(original, item_id=7, created=CREATED, modified=MODIFIED))
    assert_valid_stix_bundle(stix)
    again = parse_stix(json.dumps(stix))
    assert (again.openness, again.scope) == (original.openness, original.scope)
    assert _canonical_labels(again.tlp_labels) == _canonical_labels(original.tlp_labels) == {"TLP:AMBER"}
    assert {(i.type, i.value) for i in again.indicators} == {(i.type, i.value) for i in original.indicators}
    assert {i.comment for i in again.indicators} == {i.comment for i in original.indicators}
    assert again.title == original.title
    # and back to MISP once more
    third = parse_misp(to_misp(as_export_item(again, item_id=7, created=CREATED, modified=MODIFIED)))
    assert third.indicators == again.indicators
    assert third.summary == original.summary  # the body is not folded into the summary again


def test_round_trip_stix_to_misp_to_stix() -> None:
    original = parse_stix(load("stix_bundle_red.json"))
    misp = to_misp(as_export_item(original, item_id=8, created=CREATED, modified=MODIFIED))
    again = parse_misp(json.dumps(misp, ensure_ascii=False).encode("utf-8"))
    assert (again.openness, again.scope) == (original.openness, original.scope) == (Openness.DESIGNATE,
                                                                                     Scope.NAMED)
    assert _canonical_labels(again.tlp_labels) == _canonical_labels(original.tlp_labels) == {"TLP:RED"}
    assert again.indicators == original.indicators
    assert again.summary == interop.neutral_summary("MISP event", 4, again.tlp_labels)  # issue 11
    assert "An unauthenticated command injection" in again.body
    stix = to_stix(as_export_item(again, item_id=8, created=CREATED, modified=MODIFIED))
    assert_valid_stix_bundle(stix)
    assert parse_stix(stix).indicators == original.indicators


def test_round_trip_of_every_exported_indicator_type() -> None:
    item = export_item(openness="designated", designation_scope="provider_organisation")
    from_stix = parse_stix(copy.deepcopy(to_stix(item)))
    from_misp = parse_misp(copy.deepcopy(to_misp(item)))
    for back in (from_stix, from_misp):
        assert set(back.indicators) == set(item.indicators)
        assert back.scope is Scope.PROVIDER_ORGANISATION
    assert from_stix.tlp_labels == ("TLP:AMBER+STRICT",)
    assert from_misp.tlp_labels == ("tlp:amber+strict",)


def test_round_trip_tlp1_white_stays_public() -> None:
    original = parse_stix(load("stix_bundle_tlp1_white.json"))
    item = as_export_item(original, item_id=9, created=CREATED, modified=MODIFIED)
    assert to_misp(item)["Event"]["Tag"] == [{"name": "tlp:white"}]
    stix = to_stix(item)
    assert parse_stix(stix).openness is Openness.PUBLIC
    assert parse_misp(to_misp(item)).openness is Openness.PUBLIC
