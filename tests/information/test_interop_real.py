"""MISP events and STIX 2.1 bundles shaped like real ones (issue 11): distributions, sharing groups,
TLP 1.0 and 2.0 markings, MATCHES patterns, and exports that PyMISP loads. Pure, no database.

The data files are written for these tests after PyMISP's test events and the OASIS STIX 2.1 examples.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pymisp import MISPEvent

from banso.information import interop
from banso.information.interop import (
    ExportItem,
    Indicator,
    Openness,
    Scope,
    TlpLevel,
    as_export_item,
    parse_misp,
    parse_stix,
    to_misp,
    to_stix,
)

DATA = Path(__file__).parent / "data"
CREATED = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)
DESCRIBE = MISPEvent().describe_types


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def with_event(name: str, **changes: Any) -> dict[str, Any]:
    doc = load(name)
    doc["Event"].update(changes)
    return doc


def assert_pymisp_loads(document: dict[str, Any]) -> MISPEvent:
    """Load an export with PyMISP; every attribute type must be a MISP type valid for its category."""
    event = MISPEvent()
    event.load(json.dumps(document, ensure_ascii=False))
    for attribute in event.attributes:
        assert attribute.type in DESCRIBE["types"], attribute.type
        assert attribute.type in DESCRIBE["category_type_mappings"][attribute.category], (
            attribute.type, attribute.category)
    return event


# --- MISP distribution and sharing groups (never council-wide when the source said otherwise) -----


@pytest.mark.parametrize(("distribution", "openness", "scope"), [
    ("0", Openness.DESIGNATE, Scope.PROVIDER_ORGANISATION),  # your organisation only
    ("1", Openness.DESIGNATE, Scope.PROVIDER_ORGANISATION),  # this community only
    ("2", Openness.COUNCIL, Scope.ALL),  # connected communities
    ("3", Openness.COUNCIL, Scope.ALL),  # all communities
    (0, Openness.DESIGNATE, Scope.PROVIDER_ORGANISATION),  # numbers as PyMISP writes them
])
def test_misp_distribution_without_tlp_decides_the_scope(distribution: Any, openness: Openness,
                                                         scope: str) -> None:
    doc = with_event("misp_event_sharing_group.json", distribution=distribution)
    del doc["Event"]["SharingGroup"]
    result = parse_misp(doc)
    assert (result.openness, result.scope) == (openness, scope)
    assert result.sharing_group is None


def test_sharing_group_is_kept_with_its_organisations() -> None:
    result = parse_misp(load("misp_event_sharing_group.json"))
    assert (result.openness, result.scope) == (Openness.DESIGNATE, "named_organisations")
    assert result.distribution == "4"
    assert result.sharing_group == "Maritime tech ISAC"
    assert result.sharing_group_orgs == ("NISC-JP", "Ocean Robotics KK", "Harbour Sensors Ltd")
    assert "secretariat's meeting notice" not in result.summary  # confidential: neutral summary
    assert "secretariat's meeting notice" in result.body


def test_sharing_group_without_details_is_still_named() -> None:
    doc = load("misp_event_sharing_group.json")
    del doc["Event"]["SharingGroup"]
    result = parse_misp(doc)
    assert result.sharing_group == "sharing group #7"
    assert result.scope == "named_organisations"


@pytest.mark.parametrize(("tag", "distribution", "scope"), [
    ("tlp:clear", "0", Scope.PROVIDER_ORGANISATION),  # the distribution is stricter than the label
    ("tlp:amber", "1", Scope.PROVIDER_ORGANISATION),
    ("tlp:amber", "4", "named_organisations"),
    ("tlp:amber+strict", "4", Scope.PROVIDER_ORGANISATION),  # the label is stricter than the group
    ("tlp:red", "4", Scope.NAMED),
    ("tlp:red", "3", Scope.NAMED),
])
def test_the_stricter_of_label_and_distribution_wins(tag: str, distribution: str, scope: str) -> None:
    result = parse_misp(with_event("misp_event_sharing_group.json", distribution=distribution,
                                   Tag=[{"name": tag}]))
    assert (result.openness, result.scope) == (Openness.DESIGNATE, scope)
    assert result.sharing_group == ("Maritime tech ISAC" if distribution == "4" else None)


def test_unknown_distribution_is_refused() -> None:
    with pytest.raises(interop.InterchangeError, match="distribution '9' is not 0–4"):
        parse_misp(with_event("misp_event_sharing_group.json", distribution="9"))


# --- confidential text stays out of the summary ------------------------------------------------


def test_red_report_text_goes_to_the_sealed_body_not_the_summary() -> None:
    result = parse_misp(load("misp_event_red_report.json"))
    assert (result.openness, result.scope) == (Openness.DESIGNATE, Scope.NAMED)
    assert "KUROSHIO" not in result.summary and "sonar" not in result.summary
    assert result.summary == interop.neutral_summary("MISP event", 5, ("tlp:red",))
    assert result.body.startswith("The KUROSHIO-LOADER second stage")
    assert "- filename|sha256: 設計変更通知.docm|" in result.body
    for tag in ("tlp:clear", "tlp:green"):  # open sources keep their report as the summary
        opened = parse_misp(with_event("misp_event_red_report.json", Tag=[{"name": tag}]))
        assert opened.summary.startswith("The KUROSHIO-LOADER second stage")


def test_stix_oasis_style_bundle_with_tlp1_and_tlp2_markings_and_matches() -> None:
    result = parse_stix(load("stix_bundle_matches.json"))
    assert result.tlp_labels == ("TLP:AMBER+STRICT", "TLP:AMBER")
    assert (result.openness, result.scope) == (Openness.DESIGNATE, Scope.PROVIDER_ORGANISATION)
    assert "hydrophone" not in result.summary and "hydrophone" in result.body
    assert set(result.indicators) == {
        Indicator("stix2-pattern", "[file:name MATCHES '^Final Report.+\\\\.exe$']",
                  "Droppers are named like quarterly reports"),
        Indicator("ip-dst", "198.51.100.3"),
        Indicator("sha256", "9f2c4e6a8b0d1f3e5a7c9b1d3f5e7a9c0b2d4f6e8a1c3e5b7d9f0a2c4e6b8d0f"),
        Indicator("filename", "Final Report Q3.exe"),  # from the observed-data's file object
    }
    unmarked = load("stix_bundle_matches.json")
    for obj in unmarked["objects"]:
        obj.pop("object_marking_refs", None)
    assert parse_stix(unmarked).summary.startswith("Three engineers opened droppers")  # council: as written


# --- exports: valid MISP, never looser than banso ------------------------------------------------


def export_of(name: str, **changes: Any) -> ExportItem:
    parsed = interop.parse_document((DATA / name).read_bytes())
    item = as_export_item(parsed, item_id=11, created=CREATED, modified=CREATED)
    values = {**item.__dict__, **changes}
    return ExportItem(**values)


@pytest.mark.parametrize("name", ["misp_event_red_report.json", "misp_event_sharing_group.json",
                                  "misp_event_amber.json", "stix_bundle_matches.json", "stix_bundle_red.json",
                                  "stix_bundle_tlp1_white.json"])
def test_every_misp_export_loads_in_pymisp(name: str) -> None:
    event = assert_pymisp_loads(to_misp(export_of(name)))
    assert event.attributes


def test_matches_pattern_round_trips_as_a_stix2_pattern() -> None:
    item = export_of("stix_bundle_matches.json")
    misp = assert_pymisp_loads(to_misp(item))
    assert "stix2-pattern" in {a.type for a in misp.attributes}
    bundle = to_stix(item)
    patterns = {o["pattern"] for o in bundle["objects"] if o["type"] == "indicator"}
    assert "[file:name MATCHES '^Final Report.+\\\\.exe$']" in patterns
    assert set(parse_stix(bundle).indicators) == set(item.indicators)


def test_unknown_types_export_as_text() -> None:
    item = export_of("misp_event_red_report.json", indicators=(Indicator("stix:process:pid", "4242", "pid"),
                                                               Indicator("ip-dst", "192.0.2.9")))
    event = assert_pymisp_loads(to_misp(item))
    text = next(a for a in event.attributes if a.value == "4242")
    assert (text.type, text.comment) == ("text", "stix:process:pid — pid")


def test_known_misp_types_are_pymisp_types() -> None:
    assert interop.MISP_TYPES == frozenset(DESCRIBE["types"])


@pytest.mark.parametrize(("openness", "scope", "handling", "level"), [
    ("held", None, (), TlpLevel.RED),
    ("council", None, (), TlpLevel.AMBER),
    ("designated", "all", (), TlpLevel.AMBER),
    ("designated", "organisations", (), TlpLevel.AMBER_STRICT),
    ("designated", "provider_organisation", (), TlpLevel.AMBER_STRICT),
    ("designated", "named", (), TlpLevel.RED),
    ("designated", "all", ("view_only",), TlpLevel.RED),  # only the provider may take it out
    ("designated", "all", ("no_download", "watermark"), TlpLevel.RED),
])
def test_exports_are_never_looser_than_banso(openness: str, scope: str | None, handling: tuple[str, ...],
                                             level: TlpLevel) -> None:
    for labels in [(), ("tlp:clear",), ("TLP:GREEN",), ("tlp:amber",)]:
        item = export_of("misp_event_red_report.json", openness=openness, designation_scope=scope,
                         handling=handling, tlp_labels=labels)
        assert interop.export_tlp(item)[0] >= level
        event = assert_pymisp_loads(to_misp(item))
        assert interop.handling_for(t.name for t in event.tags).level == interop.export_tlp(item)[0]
        assert interop.handling_for(parse_stix(to_stix(item)).tlp_labels).level == interop.export_tlp(item)[0]


def test_held_item_with_amber_label_exports_red() -> None:
    item = export_of("misp_event_amber.json", openness="held", designation_scope=None)
    assert to_misp(item)["Event"]["Tag"] == [{"name": "tlp:red"}]
    assert parse_stix(to_stix(item)).scope is Scope.NAMED


def test_recipient_line_and_mark_reach_both_formats() -> None:
    item = export_of("misp_event_red_report.json", recipient="試験 太郎（海洋ロボ）に交付")
    misp = to_misp(item, mark=lambda text: text.upper())["Event"]["EventReport"][0]["content"]
    assert misp.endswith("交付先 / ISSUED TO: 試験 太郎（海洋ロボ）に交付")
    bundle = to_stix(copy.deepcopy(item), mark=lambda text: f"<{text}>")
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    assert report["x_banso_recipient"] == "試験 太郎（海洋ロボ）に交付"
    assert report["description"].startswith("<") and "KUROSHIO" in report["description"]
