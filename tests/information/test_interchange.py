"""MISP / STIX imports and exports through the API on a real database (issue 11; I3, I4, I7, I8, I12).

Imports: confidential text stays out of the summary and the search index; MISP distributions and
sharing groups become organisation-scoped proposals. Exports: view-only refused like body.txt,
never looser than banso, stamped for the recipient, recorded and audited like a download.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from pymisp import MISPEvent
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.information import distribution
from banso.information.models import Ballot, Distribution
from banso.information.search_models import SearchDoc
from banso.kit.clock import FakeClock
from banso.leak.text import strip_invisible
from tests.support.councils import Cast, establish
from tests.support.factories import Factory, Person, audit_count
from tests.support.http import bearer
from tests.support.information import API, designation_fields, item_form, vote_all

DATA = Path(__file__).parent / "data"


def import_doc(client: TestClient, db: Session, clock: FakeClock, cast: Cast, person: Person,
               doc: dict[str, Any]) -> httpx.Response:
    payload = json.dumps(doc, ensure_ascii=False).encode()
    response: httpx.Response = client.post(f"{API}/items/import", headers=bearer(db, person, clock),
                                           data={"council_id": str(cast.council.id)},
                                           files=[("file", ("event.json", payload, "application/json"))])
    return response


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def ballot_of(db: Session, item_id: int) -> Ballot:
    db.expire_all()
    ballot = db.scalar(select(Ballot).where(Ballot.item_id == item_id))
    assert ballot is not None
    return ballot


def export(client: TestClient, db: Session, clock: FakeClock, person: Person, item_id: int,
           fmt: str) -> httpx.Response:
    response: httpx.Response = client.get(f"{API}/items/{item_id}/export", params={"format": fmt},
                                          headers=bearer(db, person, clock))
    return response


def distributions(db: Session, item_id: int) -> list[Distribution]:
    db.expire_all()
    return list(db.scalars(select(Distribution).where(Distribution.item_id == item_id).order_by(Distribution.id)))


# --- imports ---------------------------------------------------------------------------------------


def test_red_report_text_never_reaches_summary_ballot_or_index(client: TestClient, db: Session, factory: Factory,
                                                               clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    made = import_doc(client, db, clock, cast, cast.company, load("misp_event_red_report.json"))
    assert made.status_code == 201, made.text
    item_id = made.json()["id"]
    assert made.json()["state"] == "held" and "KUROSHIO" not in made.json()["summary"]
    ballot = client.get(f"{API}/ballots/{ballot_of(db, item_id).id}", headers=bearer(db, cast.researcher, clock))
    assert ballot.status_code == 200 and "KUROSHIO" not in ballot.text and "sonar" not in ballot.text
    index = db.scalar(select(SearchDoc.doc).where(SearchDoc.item_id == item_id))
    assert index is not None and "kuroshio" not in index.lower() and "sonar" not in index.lower()
    own = client.get(f"{API}/items/{item_id}", headers=bearer(db, cast.company, clock))
    body = own.json()["body"]  # kept, sealed, for the provider: the source's title first, then its report text
    assert body.startswith("件名 / Title: ") and "The KUROSHIO-LOADER second stage" in body
    assert "KUROSHIO" not in made.json()["title"]  # voters are told of the proposal by its neutral title (I4)


def test_misp_distribution_zero_is_proposed_for_the_importers_organisation(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    doc = load("misp_event_sharing_group.json")
    doc["Event"]["distribution"] = "0"
    del doc["Event"]["SharingGroup"]
    made = import_doc(client, db, clock, cast, cast.company, doc)
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "held"  # was "council": council-wide despite "your organisation only"
    ballot = ballot_of(db, made.json()["id"])
    detail = client.get(f"{API}/ballots/{ballot.id}", headers=bearer(db, cast.researcher, clock)).json()
    assert detail["scope"] == {"kind": "organisations", "user_ids": [],
                               "organization_ids": [cast.company.user.organization_id]}
    assert "MISP distribution 0 (your organisation only)" in detail["ballot"]["reason"]


def test_sharing_group_maps_to_council_organisations_and_names_the_rest(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    doc = load("misp_event_sharing_group.json")
    researcher_org = cast.researcher.user.organization
    doc["Event"]["SharingGroup"]["SharingGroupOrg"][0]["Organisation"]["name"] = researcher_org.name_en
    made = import_doc(client, db, clock, cast, cast.company, doc)
    assert made.status_code == 201, made.text
    ballot = ballot_of(db, made.json()["id"])
    detail = client.get(f"{API}/ballots/{ballot.id}", headers=bearer(db, cast.researcher, clock)).json()
    assert detail["scope"]["kind"] == "organisations"
    assert sorted(detail["scope"]["organization_ids"]) == sorted(
        [cast.company.user.organization_id, researcher_org.id])
    assert "sharing group 「Maritime tech ISAC」" in detail["ballot"]["reason"]
    note = detail["ballot"]["range_note"]
    assert "Maritime tech ISAC" in note and "not matched to a council organisation: NISC-JP, Harbour Sensors Ltd" in note
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "information:item:import")).one()
    data = entry.data  # the auditor learns that a sharing group bound the import, not its names (I12)
    assert data["sharing_group"] is True and data["unmatched_organisations"] == 2
    assert "Maritime" not in str(data) and "NISC" not in str(data)


def test_pattern_budget_is_a_422_and_matches_patterns_import(client: TestClient, db: Session, factory: Factory,
                                                              clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    bundle = load("stix_bundle_matches.json")
    bundle["objects"][3]["pattern"] = "[file:name = '" + "Final_Report_Q3-" * 300 + "']"
    made = import_doc(client, db, clock, cast, cast.company, bundle)
    assert made.status_code == 422 and "at most 4096" in made.json()["message"]
    made = import_doc(client, db, clock, cast, cast.company, load("stix_bundle_matches.json"))
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "held" and "hydrophone" not in made.json()["summary"]


# --- exports ---------------------------------------------------------------------------------------


def test_held_item_exports_red_whatever_its_labels(client: TestClient, db: Session, factory: Factory,
                                                   clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    made = import_doc(client, db, clock, cast, cast.company, load("misp_event_amber.json"))
    assert made.json()["state"] == "held"
    misp = export(client, db, clock, cast.company, made.json()["id"], "misp")
    assert misp.status_code == 200 and misp.json()["Event"]["Tag"] == [{"name": "tlp:red"}]  # was tlp:amber
    stix = export(client, db, clock, cast.company, made.json()["id"], "stix").json()
    assert {o["name"] for o in stix["objects"] if o["type"] == "marking-definition"} == {"TLP:RED"}


def test_view_only_item_is_not_exported_exactly_as_body_txt_is_refused(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    h_com = bearer(db, cast.company, clock)
    made = client.post(f"{API}/items", headers=h_com, data={
        **item_form(cast, clock), **designation_fields(clock, cast.researcher.user.id, handling=["view_only"])})
    item_id = made.json()["id"]
    vote_all(client, db, clock, ballot_of(db, item_id).id, [cast.officer, cast.researcher])
    assert client.get(f"{API}/items/{item_id}", headers=h_com).json()["item"]["state"] == "designated"
    h_res = bearer(db, cast.researcher, clock)
    body = client.get(f"{API}/items/{item_id}/body.txt", headers=h_res)
    refused_before = audit_count(db, "information:file:refused")
    for fmt in ("misp", "stix"):
        answer = client.get(f"{API}/items/{item_id}/export", params={"format": fmt}, headers=h_res)
        assert answer.status_code == body.status_code == 403, answer.text
        assert "4242" not in answer.text and "閲覧のみ" in answer.json()["message"]
    assert audit_count(db, "information:file:refused") == refused_before + 2
    assert distributions(db, item_id) == []
    own = export(client, db, clock, cast.company, item_id, "misp")  # the provider keeps their own copy
    assert own.status_code == 200 and own.json()["Event"]["Tag"] == [{"name": "tlp:red"}]


def test_export_is_marked_recorded_audited_and_attributable(client: TestClient, db: Session, factory: Factory,
                                                            clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    made = client.post(f"{API}/items", headers=bearer(db, cast.company, clock), data=item_form(cast, clock))
    item_id = made.json()["id"]
    exports_before = audit_count(db, "information:item:export")
    misp = export(client, db, clock, cast.researcher, item_id, "misp")
    assert misp.status_code == 200, misp.text
    stix = export(client, db, clock, cast.researcher, item_id, "stix")
    rows = distributions(db, item_id)
    assert [(r.channel, r.user_id) for r in rows] == [("misp", cast.researcher.user.id),
                                                      ("stix", cast.researcher.user.id)]
    assert audit_count(db, "information:item:export") == exports_before + 2

    name = cast.researcher.user.name_ja
    report = misp.json()["Event"]["EventReport"][0]["content"]
    assert report != strip_invisible(report)  # zero-width marks in the text (I8)
    assert f"交付先 / Issued to: {name}" in strip_invisible(report) and "4242" in report
    assert misp.json()["Event"]["Tag"] == [{"name": "tlp:amber"}]  # council-shared: never GREEN
    stix_report = next(o for o in stix.json()["objects"] if o["type"] == "report")
    assert name in stix_report["x_banso_recipient"]
    event = MISPEvent()
    event.load(misp.content.decode())  # PyMISP reads what banso sends

    for response, row in ((misp, rows[0]), (stix, rows[1])):
        finding = distribution.attribute(db, data=response.content, item_id=item_id, now=clock.now())
        assert finding.distribution is not None and finding.distribution.id == row.id
        assert finding.user_id == cast.researcher.user.id

    # public content goes out as it is: no record, no mark
    made = import_doc(client, db, clock, cast, cast.company, {"Event": {
        "uuid": "7d3c1b2a-4e5f-4a6b-9c8d-0e1f2a3b4c5d", "info": "Public advisory", "distribution": "3",
        "Tag": [{"name": "tlp:clear"}], "Attribute": [{"type": "domain", "value": "advisory.example"}]}})
    assert made.json()["state"] == "public"
    answer = export(client, db, clock, cast.researcher, made.json()["id"], "misp")
    assert answer.status_code == 200 and "Issued to" not in answer.text
    assert distributions(db, made.json()["id"]) == []
