"""Information items for tests: the API's form fields, voting over the API, and items provided through
the service."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.information import service
from banso.information.deps import InformationDeps
from banso.information.models import Ballot, Item
from banso.kit.clock import FakeClock
from banso.kit.errors import BansoError
from tests.support.councils import Cast
from tests.support.factories import Person
from tests.support.http import bearer

API = "/api/v1/information"
YEAR = timedelta(days=365)
BODY = "本文：水中航法の誤差は 0.3%。機微な数値 4242。"
ITEM_FIELDS: dict[str, Any] = {"title": "AUV 航法アルゴリズム評価", "summary": "評価結果の概要",
                               "body": "本文：水中航法の誤差は 0.3%。", "matter": "useful_information",
                               "category": "sampling_data", "provenance": "participant"}


def item_form(cast: Cast, clock: FakeClock, **changes: Any) -> dict[str, Any]:
    """Return the multipart fields of a new item (a participant's sampling data)."""
    fields: dict[str, Any] = {
        "council_id": str(cast.council.id), "title": "AUV 航法アルゴリズム評価", "summary": "評価結果の概要",
        "body": BODY, "matter": "useful_information", "category": "sampling_data", "provenance": "participant"}
    fields.update(changes)
    return fields


def designation_fields(clock: FakeClock, *user_ids: int, **changes: Any) -> dict[str, Any]:
    """Return the multipart fields of a designation proposal naming ``user_ids``."""
    fields: dict[str, Any] = {
        "designate": "true", "reason": "輸出管理上の懸念", "scope_kind": "named",
        "user_ids": [str(u) for u in user_ids], "ends_at": (clock.now() + YEAR).isoformat(),
        "deadline": (clock.now() + timedelta(days=7)).isoformat(), "handling": ["watermark"]}
    fields.update(changes)
    return fields


def vote_all(client: TestClient, db: Session, clock: FakeClock, ballot_id: int, people: list[Person]) -> None:
    """Every listed voter accepts over the API (each with their own token)."""
    for person in people:
        answer = client.post(f"{API}/ballots/{ballot_id}/vote", headers=bearer(db, person, clock),
                             json={"decision": "accept"})
        assert answer.status_code == 200, answer.text


def answer_ballot(db: Session, ballot: Ballot, people: list[Person], clock: FakeClock,
                  decision: str = "accept") -> None:
    """Every listed person with a pending vote on ``ballot`` answers through the service (an objection with a
    reason); people who may not see the proposal are passed over."""
    for person in people:
        try:
            view = service.get_ballot(db, ballot_id=ballot.id, actor=person.principal())
        except BansoError:
            continue
        if view.my_vote is not None and view.my_vote.decision == "pending":
            service.vote(db, ballot_id=ballot.id, actor=person.principal(), now=clock.now(), decision=decision,
                         reason="理由" if decision == "object" else None)


def provide_item(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock, *,
                 provider: Person | None = None, **changes: Any) -> Item:
    """Provide an item through the service: by default the company's sampling data (``ITEM_FIELDS``)."""
    fields = {**ITEM_FIELDS, **changes}
    return service.create_item(db, deps, council_id=cast.council.id, actor=(provider or cast.company).principal(),
                               now=clock.now(), **fields)
