"""Information resources through the inherited access-test set (STYLE.md; I7: hidden answers 404).

The parts for a designated item (scope: named people — the researcher and the unpledged member):

* outsider — a signed-in person with no membership;
* member_without_pledge — a current member named *in* the scope who has not signed the pledge: still
  404, since reading non-public content needs a current pledge whatever the scope (C3, I7);
* member_out_of_scope — a pledged member of the council not named in the scope;
* member_in_scope — the researcher, named in the scope, pledged, with a second factor.

For a proposal (ballot) the scope is the voter roll fixed when it opened (I4): the unpledged and the
out-of-scope members joined after it opened, so they neither vote nor may read the held item.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.information import service
from banso.information.deps import information_deps
from banso.kit.clock import FakeClock
from banso.leak.pdf import make_sample_pdf
from banso.web.context import AppContext
from tests.authz.access import AccessTestSet, Arranged
from tests.support.councils import establish, join
from tests.support.factories import Factory

API = "/api/v1/information"
PDF = make_sample_pdf("評価報告", ["機微な数値 4242。"])


class DesignatedItemAccess(AccessTestSet):
    """Arranges a designated item with a PDF, unanimously accepted, scoped to named people."""

    path: ClassVar[str] = API + "/items/{item_id}"

    @pytest.fixture(autouse=True)
    def _wire(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def arrange(self, factory: Factory, db: Session, clock: FakeClock) -> Arranged:
        cast = establish(factory, db, clock)
        unpledged = join(cast, db, clock, factory.person(), pledge=False)
        bystander = join(cast, db, clock, factory.person())
        deps = information_deps(self.ctx)
        item = service.create_item(
            db, deps, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(),
            title="AUV 航法評価", summary="概要", body="本文 4242", matter="useful_information",
            category="sampling_data", provenance="participant",
            files=[service.Upload("評価報告.pdf", "application/pdf", PDF)],
            designation=service.DesignationInput(
                reason="輸出管理上の懸念", scope_kind="named",
                user_ids=[cast.researcher.user.id, unpledged.user.id], ends_at=clock.now() + timedelta(days=365)))
        ballot = service.my_open_ballots(db, actor=cast.researcher.principal())[0]
        # The unpledged member is not a voter: the voter list is the pledged participants (C3, I4, I12).
        for person in (cast.officer, cast.researcher, bystander):
            service.vote(db, ballot_id=ballot.id, actor=person.principal(), now=clock.now(), decision="accept")
        assert item.state == "designated"
        file_id = service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(),
                                    now=clock.now()).files[0].id
        return Arranged(
            parts={"outsider": cast.outsider, "member_without_pledge": unpledged,
                   "member_out_of_scope": bystander, "member_in_scope": cast.researcher},
            values={"item_id": item.id, "file_id": file_id, "ballot_id": ballot.id},
        )

    def call(self, client: TestClient, headers: dict[str, str], arranged: Arranged) -> httpx.Response:
        return client.get(self.path.format(**arranged.values), headers=headers)


class TestItemDetail(DesignatedItemAccess):
    """The item itself: body, files, designation."""

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        body = response.json()
        assert body["item"]["id"] == arranged.values["item_id"] and body["body"] == "本文 4242"
        assert body["item"]["state"] == "designated"


class TestItemFile(DesignatedItemAccess):
    """A file of the item: a stamped copy for the reader (I8)."""

    path = API + "/items/{item_id}/files/{file_id}"

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        assert response.content.startswith(b"%PDF") and response.content != PDF
        assert response.headers["cache-control"] == "no-store"


class TestItemBody(DesignatedItemAccess):
    """The body as a fingerprinted text download."""

    path = API + "/items/{item_id}/body.txt"

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        assert "4242" in response.text


class HeldProposalAccess(AccessTestSet):
    """Arranges an open designation proposal; two people join the council only after it opened."""

    path: ClassVar[str] = API + "/ballots/{ballot_id}"

    @pytest.fixture(autouse=True)
    def _wire(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def arrange(self, factory: Factory, db: Session, clock: FakeClock) -> Arranged:
        cast = establish(factory, db, clock)
        item = service.create_item(
            db, information_deps(self.ctx), council_id=cast.council.id, actor=cast.company.principal(),
            now=clock.now(), title="AUV 航法評価", summary="概要", body="本文 4242", matter="useful_information",
            category="sampling_data", provenance="participant",
            designation=service.DesignationInput(reason="輸出管理上の懸念", scope_kind="all",
                                                 ends_at=clock.now() + timedelta(days=365)))
        assert item.state == "held"
        ballot = service.my_open_ballots(db, actor=cast.researcher.principal())[0]
        unpledged = join(cast, db, clock, factory.person(), pledge=False)
        latecomer = join(cast, db, clock, factory.person())
        return Arranged(
            parts={"outsider": cast.outsider, "member_without_pledge": unpledged,
                   "member_out_of_scope": latecomer, "member_in_scope": cast.researcher},
            values={"ballot_id": ballot.id, "item_id": item.id},
        )

    def call(self, client: TestClient, headers: dict[str, str], arranged: Arranged) -> httpx.Response:
        return client.get(self.path.format(**arranged.values), headers=headers)


class TestBallot(HeldProposalAccess):
    """The proposal: voters see title, summary, reason, scope and period — never the body (I4)."""

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        body = response.json()
        assert body["ballot"]["id"] == arranged.values["ballot_id"] and body["item_title"] == "AUV 航法評価"
        assert "4242" not in response.text and body["can_read_item"] is False


class TestHeldItem(HeldProposalAccess):
    """The held item: not even a voter reads it before the decision (I4: provider and secretariat only)."""

    path = API + "/items/{item_id}"
    expected: ClassVar[dict[str, int | None]] = {**AccessTestSet.expected, "member_in_scope": 404}
