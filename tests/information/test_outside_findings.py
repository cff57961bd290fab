"""Holes an outside tester found in the merged one gate (issue 11), each reproduced here over HTTP or the services.

Each test failed on the code it was found on: a chair/secretariat writing under another's name onto the public
portal; a 500 for an over-long integer in an import; a designated numbers-only CSV served without a mark; a
TLP:RED event's title e-mailed to every voter; a TLP:RED tag on a MISP object ignored.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.information import distribution, service
from banso.information.deps import InformationDeps
from banso.information.models import Item
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict, Forbidden
from banso.leak.text import find_marks
from banso.notifications.models import Notification
from tests.information.test_interchange import import_doc
from tests.support.councils import Cast, establish
from tests.support.factories import Factory
from tests.support.http import bearer
from tests.support.information import API


def _item(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock, **kw: Any) -> Item:
    fields: dict[str, Any] = {"title": "成果", "summary": "概要", "body": "本文 v1", "matter": "useful_information",
                              "category": "sampling_data", "provenance": "participant"}
    fields.update(kw)
    return service.create_item(db, deps, council_id=cast.council.id, actor=cast.company.principal(),
                               now=clock.now(), **fields)


def test_only_the_provider_revises_and_a_published_item_is_final(
        db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    shared = _item(db, deps, cast, clock)
    for manager in (cast.officer, cast.researcher):  # secretariat and chair
        with pytest.raises(Forbidden):
            service.add_version(db, deps, item_id=shared.id, actor=manager.principal(), now=clock.now(),
                                body="事務局が書いた本文", note="")
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "information:version:refused")).first()
    assert entry is not None and entry.subject == f"item:{shared.id}"
    service.add_version(db, deps, item_id=shared.id, actor=cast.company.principal(), now=clock.now(),
                        body="本文 v2", note="改訂")
    assert shared.current_version == 2
    result = _item(db, deps, cast, clock, is_result=True)
    clock.advance(days=31)
    service.run_due_information(db, now=clock.now(), deps=deps)
    assert result.state == "public"
    with pytest.raises(Conflict):  # new words on the portal would skip the prior-notice window (I13)
        service.add_version(db, deps, item_id=result.id, actor=cast.company.principal(), now=clock.now(),
                            body="公開後の差し替え", note="")
    assert result.current_version == 1
    page = service.read_item(db, deps, item_id=shared.id, actor=cast.officer.principal(), now=clock.now())
    assert not page.can_add_version and page.can_manage  # the page offers no form the service would refuse


def test_an_over_long_integer_in_an_import_is_a_clear_422(client: TestClient, db: Session, factory: Factory,
                                                         clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    bundle = ('{"type":"bundle","id":"bundle--' + str(uuid.uuid4()) + '","objects":[{"type":"report","x":'
              + "7" * 4400 + "}]}").encode()
    made = client.post(f"{API}/items/import", headers=bearer(db, cast.company, clock),
                       data={"council_id": str(cast.council.id)},
                       files=[("file", ("bundle.json", bundle, "application/json"))])
    assert made.status_code == 422 and "cannot be read" in made.text
    # Someone who may not provide to the council learns nothing, not even whether the document parses (I7).
    outsider = client.post(f"{API}/items/import", headers=bearer(db, cast.outsider, clock),
                           data={"council_id": str(cast.council.id)},
                           files=[("file", ("bundle.json", bundle, "application/json"))])
    assert outsider.status_code == 404


def test_a_designated_numbers_only_csv_is_still_marked_for_its_recipient(
        db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    numbers = b"id,value\n1001,2.5\n1002,3.5\n"
    item = _item(db, deps, cast, clock, files=[service.Upload("numbers.csv", "text/csv", numbers)])
    file_id = service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(), now=clock.now()).files[0].id
    copy = distribution.download_file(db, deps, item_id=item.id, file_id=file_id,
                                      actor=cast.researcher.principal(), now=clock.now())
    assert copy.data != numbers and find_marks(copy.data.decode())
    found = distribution.attribute(db, data=copy.data, item_id=item.id, now=clock.now())
    assert found.user_id == cast.researcher.user.id


def _red_event(info: str, *, event_tags: list[str], object_tags: list[str] | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "info": info, "uuid": str(uuid.uuid4()), "date": "2026-11-30", "distribution": "3",
        "Tag": [{"name": t} for t in event_tags],
        "Attribute": [{"type": "domain", "category": "Network activity", "value": "c2.example", "to_ids": True}],
    }
    if object_tags is not None:
        event["Object"] = [{"name": "domain-ip", "Attribute": [
            {"type": "domain", "category": "Network activity", "value": "redobj.example", "comment": "REDOBJ",
             "Tag": [{"name": t} for t in object_tags]}]}]
    return {"Event": event}


def test_a_red_events_title_never_reaches_voters(client: TestClient, db: Session, factory: Factory,
                                                  clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    info = "REDINFO breach at the Mirai ground station key server"
    made = import_doc(client, db, clock, cast, cast.company, _red_event(info, event_tags=["tlp:red"]))
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "held" and "REDINFO" not in made.json()["title"]
    db.expire_all()
    told = db.scalars(select(Notification).where(Notification.recipient_id != cast.company.user.id)).all()
    assert told and not any("REDINFO" in n.title_ja + n.title_en + n.body_ja + n.body_en for n in told)
    own = client.get(f"{API}/items/{made.json()['id']}", headers=bearer(db, cast.company, clock)).json()
    assert info in own["body"]  # the provider keeps the source's title, sealed in the body


def test_a_red_tag_on_a_misp_object_binds_the_whole_import(client: TestClient, db: Session, factory: Factory,
                                                            clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    doc = _red_event("ordinary title", event_tags=["tlp:clear"], object_tags=["tlp:red"])
    made = import_doc(client, db, clock, cast, cast.company, doc)
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "held"  # was public: the RED object's value went to the anonymous portal
    portal = client.get(f"{API}/public/items/{made.json()['id']}")
    assert portal.status_code == 404 and "redobj" not in portal.text
    wrapped = {"Event": {**_red_event("wrapped", event_tags=[])["Event"],
                         "EventTag": [{"Tag": {"name": "tlp:amber"}}]}}
    assert import_doc(client, db, clock, cast, cast.company, wrapped).json()["state"] == "held"
