"""Notices for exclusion claims (秘密情報の除外, issue 13), from the outside (HTTP).

Filed: the secretariat and the chair are told (inbox, e-mail queue), never the claimant or other members.
Decided by the secretariat: the chair is asked to confirm and the claimant told the provisional finding.
Confirmed or sent back: the claimant is told the outcome. Every text names the item only to its readers, and the
gate asks again at every read (I7, I12): a reader who left the council is no longer shown it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.councils import service as councils
from banso.kit.clock import FakeClock
from tests.support.councils import Cast, active_council
from tests.support.factories import Factory
from tests.support.http import bearer

INFO = "/api/v1/information"


@pytest.fixture
def cast(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council: officer (secretariat), researcher (chair), company (provider) and a bystander."""
    return active_council(factory, db, clock, bystander=True)


def _inbox(client: TestClient, h: dict[str, str]) -> list[dict[str, Any]]:
    got = client.get("/api/v1/notifications", headers=h)
    assert got.status_code == 200, got.text
    return list(got.json()["items"])


def _kinds(client: TestClient, h: dict[str, str], kind: str) -> list[str]:
    return [n["title_ja"] for n in _inbox(client, h) if n["kind"] == kind]


def _item(client: TestClient, cast: Cast, h: dict[str, str]) -> int:
    made = client.post(f"{INFO}/items", headers=h, data={
        "council_id": str(cast.council.id), "title": "QXEXCLTITLE 水深データ", "matter": "useful_information",
        "category": "sampling_data", "provenance": "participant", "body": "水深 120m", "confidential": "true"})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _file(client: TestClient, h: dict[str, str], item_id: int) -> int:
    made = client.post(f"{INFO}/exclusions", headers=h, data={
        "item_id": str(item_id), "ground": "public", "evidence": "2019年の学会予稿集で公開済み"})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def test_filing_deciding_and_confirming_tell_the_right_people(client: TestClient, db: Session, cast: Cast,
                                                               clock: FakeClock) -> None:
    bystander = cast.extra["bystander"]
    h_off, h_chair, h_com, h_by = (bearer(db, p, clock) for p in (cast.officer, cast.researcher, cast.company,
                                                                   bystander))
    item = _item(client, cast, h_com)
    cid = _file(client, h_by, item)
    # Filed: the secretariat and the chair, with the item's title and the ground; not the claimant or the provider
    for h in (h_off, h_chair):
        filed = [n for n in _inbox(client, h) if n["kind"] == "information.exclusion_filed"]
        assert len(filed) == 1 and "QXEXCLTITLE" in filed[0]["title_ja"] and "公知" in filed[0]["title_ja"]
        assert filed[0]["link"] == f"/information/items/{item}"
    for h in (h_com, h_by):
        assert _kinds(client, h, "information.exclusion_filed") == []
    # Decided: the chair is asked to confirm; the claimant learns the provisional finding; the decider is not told
    decided = client.post(f"{INFO}/exclusions/{cid}/decision", headers=h_off,
                          json={"decision": "accept", "reason": "予稿集で確認"})
    assert decided.status_code == 200, decided.text
    assert len(_kinds(client, h_chair, "information.exclusion_decided")) == 1
    assert _kinds(client, h_off, "information.exclusion_decided") == []
    provisional = _kinds(client, h_by, "information.exclusion_outcome")
    assert len(provisional) == 1 and "議長の確認待ち" in provisional[0] and "認める" in provisional[0]
    assert _kinds(client, h_com, "information.exclusion_outcome") == []
    # Confirmed: the claimant is told the outcome (personal: only for them)
    assert client.post(f"{INFO}/exclusions/{cid}/confirmation", headers=h_chair,
                       json={"confirm": True}).status_code == 200
    outcome = _kinds(client, h_by, "information.exclusion_outcome")
    assert len(outcome) == 2 and any("除外を認める（申出者のみ）" in t for t in outcome)


def test_a_sent_back_claim_and_a_claim_on_a_statement(client: TestClient, db: Session, cast: Cast,
                                                      clock: FakeClock) -> None:
    bystander = cast.extra["bystander"]
    h_off, h_chair, h_by = (bearer(db, p, clock) for p in (cast.officer, cast.researcher, bystander))
    meeting = client.post(f"/api/v1/councils/{cast.council.id}/meetings", headers=h_off, json={
        "title": "第2回会合", "held": True, "starts_at": (clock.now() - timedelta(days=1)).isoformat()})
    assert meeting.status_code == 201, meeting.text
    mid = meeting.json()["id"]
    said = client.post(f"/api/v1/councils/{cast.council.id}/meetings/{mid}/statements", headers=h_off, json={
        "speaker_id": cast.company.user.id, "summary": "QXEXCLSAID 潜航深度 800m", "stated_confidential": True})
    assert said.status_code == 201, said.text
    made = client.post(f"{INFO}/exclusions", headers=h_by, data={
        "council_id": str(cast.council.id), "statement_id": str(said.json()["id"]), "ground": "independent",
        "evidence": "自社で独自に開発"})
    assert made.status_code == 201, made.text
    filed = [n for n in _inbox(client, h_off) if n["kind"] == "information.exclusion_filed"]
    assert len(filed) == 1 and filed[0]["link"] == f"/councils/{cast.council.id}/meetings/{mid}"
    assert "QXEXCLSAID" not in filed[0]["title_ja"]  # the notice names the statement, never its words
    cid = made.json()["id"]
    assert client.post(f"{INFO}/exclusions/{cid}/decision", headers=h_off,
                       json={"decision": "reject", "reason": "証拠不足"}).status_code == 200
    assert client.post(f"{INFO}/exclusions/{cid}/confirmation", headers=h_chair,
                       json={"confirm": False}).status_code == 200
    assert any("判断し直し" in t for t in _kinds(client, h_by, "information.exclusion_outcome"))


def test_a_reader_who_left_is_no_longer_shown_the_notice(client: TestClient, db: Session, cast: Cast,
                                                          clock: FakeClock) -> None:
    """I7, I12: the gate decides again at read time; a secretariat member removed from the council loses it."""
    bystander = cast.extra["bystander"]
    h_off, h_com, h_by = (bearer(db, p, clock) for p in (cast.officer, cast.company, bystander))
    second = cast.extra.setdefault("second", cast.outsider)
    councils.invite(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                    user_id=second.user.id, role="secretariat", deadline=clock.now() + timedelta(days=7))
    councils.consent(db, council_id=cast.council.id, actor=second.principal(), now=clock.now(), decision="consent")
    councils.sign_pledge(db, council_id=cast.council.id, actor=second.principal(), now=clock.now(),
                         bylaws_version=cast.council.bylaws_version)
    db.commit()
    h_second = bearer(db, second, clock)
    _file(client, h_by, _item(client, cast, h_com))
    assert len(_kinds(client, h_second, "information.exclusion_filed")) == 1
    councils.remove_member(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                           user_id=second.user.id, reason="異動")
    db.commit()
    assert _kinds(client, h_second, "information.exclusion_filed") == []
    assert len(_kinds(client, h_off, "information.exclusion_filed")) == 1


def test_the_home_lists_the_claim_to_decide_then_to_confirm(client: TestClient, db: Session, cast: Cast,
                                                             clock: FakeClock) -> None:
    """The secretariat's home lists the filed claim (named by the item's title); once decided it leaves theirs and
    appears on the chair's; confirmed, it leaves the chair's; the claimant and other members never see it there."""
    bystander = cast.extra["bystander"]
    h_off, h_chair, h_com, h_by = (bearer(db, p, clock) for p in (cast.officer, cast.researcher, cast.company,
                                                                   bystander))

    def tasks(h: dict[str, str]) -> dict[str, Any]:
        return {t["key"]: t for t in client.get("/api/v1/me/tasks", headers=h).json()["items"]
                if t["kind"] == "exclusion"}

    cid = _file(client, h_by, _item(client, cast, h_com))
    key = f"exclusion:{cid}"
    mine = tasks(h_off)
    assert list(mine) == [key] and mine[key]["variant"] == "decide" and "QXEXCLTITLE" in mine[key]["name"]
    assert tasks(h_chair) == {} and tasks(h_com) == {} and tasks(h_by) == {}
    client.post(f"{INFO}/exclusions/{cid}/decision", headers=h_off, json={"decision": "reject", "reason": "不足"})
    assert tasks(h_off) == {} and tasks(h_chair)[key]["variant"] == "confirm"
    client.post(f"{INFO}/exclusions/{cid}/confirmation", headers=h_chair, json={"confirm": True})
    assert tasks(h_chair) == {}
