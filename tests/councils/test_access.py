"""Every council resource through the inherited access-test set (STYLE.md; I7: hidden answers 404).

The parts for a council:

* outsider — a signed-in person with no membership;
* member_without_pledge — a current member who consented but has not signed the pledge: sees the
  public page and the bylaws (200), gets 404 on everything else;
* member_out_of_scope — a former member (signed the pledge, then left): 404 everywhere at once;
* member_in_scope — a current member with a current pledge and a second factor.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.councils import service
from banso.councils.endpoints import file_store
from banso.kit.clock import FakeClock
from banso.leak.text import strip_marks
from banso.web.context import AppContext
from tests.authz.access import AccessTestSet, Arranged
from tests.support.councils import establish
from tests.support.factories import Factory

PUBLIC: dict[str, int | None] = {**AccessTestSet.expected, "member_without_pledge": 200}


class CouncilAccess(AccessTestSet):
    """Arranges an active council with a meeting, a decision, an action item and an answered request."""

    path: ClassVar[str] = "/api/v1/councils/{council_id}"

    @pytest.fixture(autouse=True)
    def _wire(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def arrange(self, factory: Factory, db: Session, clock: FakeClock) -> Arranged:
        cast = establish(factory, db, clock)
        cid = cast.council.id
        officer = cast.officer.principal()
        unpledged = factory.person()
        former = factory.person()
        for person in (unpledged, former):
            service.invite(db, council_id=cid, actor=officer, now=clock.now(), user_id=person.user.id,
                           role="member", deadline=clock.now() + timedelta(days=7))
            service.consent(db, council_id=cid, actor=person.principal(), now=clock.now(), decision="consent")
        service.sign_pledge(db, council_id=cid, actor=former.principal(), now=clock.now(), bylaws_version=1)
        meeting = service.schedule_meeting(
            db, council_id=cid, actor=officer, now=clock.now(), title="第1回会合",
            starts_at=clock.now() + timedelta(days=1), agenda=[service.AgendaInput("議題", "useful_information")])
        decision = service.record_decision(db, council_id=cid, actor=officer, now=clock.now(), text="決定",
                                           matter="effective_promotion", adoption="consensus",
                                           store=file_store(self.ctx))
        item = service.create_action_item(db, council_id=cid, actor=officer, now=clock.now(), title="取組",
                                          assignee_id=cast.company.user.id, due_at=clock.now() + timedelta(days=3),
                                          decision_id=decision.id)
        req = service.create_request(db, council_id=cid, actor=officer, now=clock.now(), title="資料",
                                     body="提供を求める", matter="useful_information", addressee_kind="participant",
                                     addressee_id=cast.company.user.id, due_at=clock.now() + timedelta(days=5))
        view = service.answer_request(db, council_id=cid, request_id=req.id, actor=cast.company.principal(),
                                      now=clock.now(), text="回答",
                                      files=[service.UploadedFile("資料.txt", "text/plain", "機微な内容".encode())],
                                      store=file_store(self.ctx))
        service.leave(db, council_id=cid, actor=former.principal(), now=clock.now())
        pledge = service.pledge_preview(db, council_id=cid, actor=cast.company.principal(), now=clock.now()).current
        assert pledge is not None
        return Arranged(
            parts={"outsider": cast.outsider, "member_without_pledge": unpledged, "member_out_of_scope": former,
                   "member_in_scope": cast.company},
            values={"council_id": cid, "meeting_id": meeting.id, "item_id": item.id, "request_id": req.id,
                    "file_id": view.files[0].id, "pledge_id": pledge.id},
        )

    def call(self, client: TestClient, headers: dict[str, str], arranged: Arranged) -> httpx.Response:
        return client.get(self.path.format(**arranged.values), headers=headers)


class TestCouncilPage(CouncilAccess):
    """The public page: members with or without a pledge; 404 for outsiders and former members."""

    expected = PUBLIC

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        body = response.json()
        assert body["council"]["id"] == arranged.values["council_id"]
        assert "第62条第7項" in body["bylaws_text"]
        assert {m["role"] for m in body["members"]} >= {"secretariat", "chair", "member"}


class TestBylaws(CouncilAccess):
    """The bylaws: members read what they consent and pledge to."""

    expected = PUBLIC
    path = "/api/v1/councils/{council_id}/bylaws"

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        assert [b["version"] for b in response.json()] == [1]


class TestPledgeText(CouncilAccess):
    """The pledge to sign: every member (they must read it to sign it)."""

    expected = PUBLIC
    path = "/api/v1/councils/{council_id}/pledge"

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        assert "国家公務員" in response.json()["text"]


class TestMeetings(CouncilAccess):
    """Meetings: pledged members only."""

    path = "/api/v1/councils/{council_id}/meetings"

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        assert [m["id"] for m in response.json()] == [arranged.values["meeting_id"]]


class TestMeetingDetail(CouncilAccess):
    """One meeting with agenda and attendance."""

    path = "/api/v1/councils/{council_id}/meetings/{meeting_id}"

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        assert response.json()["agenda"][0]["matter"] == "useful_information"


class TestDecisions(CouncilAccess):
    """Decisions."""

    path = "/api/v1/councils/{council_id}/decisions"

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        assert response.json()[0]["matter"] == "effective_promotion"


class TestActionItems(CouncilAccess):
    """Action items."""

    path = "/api/v1/councils/{council_id}/actions"

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        assert [a["id"] for a in response.json()] == [arranged.values["item_id"]]


class TestMaterialRequests(CouncilAccess):
    """Material requests."""

    path = "/api/v1/councils/{council_id}/requests"


class TestMaterialRequestDetail(CouncilAccess):
    """One material request with its answer files."""

    path = "/api/v1/councils/{council_id}/requests/{request_id}"

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        assert response.json()["files"][0]["filename"] == "資料.txt"


class TestMaterialFile(CouncilAccess):
    """An answer file's bytes."""

    path = "/api/v1/councils/{council_id}/requests/{request_id}/files/{file_id}"

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        # Issue 11 (I8): the addressee gets a copy stamped for them, not the stored bytes.
        assert response.content.decode() != "機微な内容" and strip_marks(response.content.decode()) == "機微な内容"


class TestPledgePdf(CouncilAccess):
    """A signed pledge's PDF: its signer (and the chair/secretariat); others 404."""

    path = "/api/v1/councils/{council_id}/pledges/{pledge_id}/pdf"
    # the signer is member_in_scope; everybody else must not learn the pledge exists
    expected: ClassVar[dict[str, int | None]] = {**AccessTestSet.expected}

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
