"""Statement budgets of the read path (issue 12): how many SQL statements one request runs.

Counted with a SQLAlchemy ``before_cursor_execute`` listener on the test engine, not timed, so the
budgets fail the same way on any machine. Savepoint bookkeeping (the test fixture turns every commit
into a savepoint) is not counted; everything else is: the token or session look-up, the access facts
(I12), the content, and the audit append (A1) with its Merkle nodes (A3).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from banso.information import service
from banso.information.deps import information_deps
from banso.information.models import ItemFile
from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from tests.information.test_pages import PDF
from tests.support.councils import Cast, establish, join
from tests.support.factories import Factory
from tests.support.http import bearer, sign_in

API = "/api/v1/information"


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """Yield the list of SQL statements run on ``engine`` while the block runs (savepoints left out)."""
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if not sql.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            statements.append(" ".join(sql.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.fixture
def shared(factory: Factory, db: Session, ctx: AppContext, clock: FakeClock) -> tuple[Cast, int, int]:
    """An active council with four pledged members and a council-shared item with a PDF (I1)."""
    cast = establish(factory, db, clock)
    join(cast, db, clock, factory.person())
    item = service.create_item(
        db, information_deps(ctx), council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(),
        title="AUV 航法評価", summary="評価の概要", body="本文", matter="useful_information",
        category="sampling_data", provenance="participant",
        files=[service.Upload("評価報告.pdf", "application/pdf", PDF)])
    file_id = db.scalar(select(ItemFile.id).where(ItemFile.item_id == item.id))
    assert file_id is not None
    db.commit()
    return cast, item.id, file_id


def _budget(client: TestClient, engine: Engine, path: str, headers: dict[str, str] | None = None) -> list[str]:
    """Return the statements of the second request to ``path`` (the first warms the session's caches)."""
    assert client.get(path, headers=headers or {}).status_code == 200
    with counted(engine) as statements:
        answer = client.get(path, headers=headers or {})
    assert answer.status_code == 200, answer.text[:300]
    return statements


def _show(statements: list[str]) -> str:
    return "\n".join(s[:160] for s in statements)


def test_api_item_read_budget(client: TestClient, db: Session, ctx: AppContext, clock: FakeClock,
                              shared: tuple[Cast, int, int]) -> None:
    cast, item_id, _ = shared
    statements = _budget(client, ctx.engine, f"{API}/items/{item_id}", bearer(db, cast.researcher, clock))
    # token and user (1), item with council, standing and proposals (1), versions with files (1),
    # audit append: head, entry, head update, and the Merkle nodes it completes (4). Before: 12.
    assert len(statements) <= 7, _show(statements)


def test_api_file_download_budget(client: TestClient, db: Session, ctx: AppContext, clock: FakeClock,
                                  shared: tuple[Cast, int, int]) -> None:
    cast, item_id, file_id = shared
    statements = _budget(client, ctx.engine, f"{API}/items/{item_id}/files/{file_id}",
                         bearer(db, cast.researcher, clock))
    # token (1), item with standing and proposals (1), the file (1), distribution row (1), audit (4). Before: 10.
    # + the item again (1): I12, the gate decides again at the moment of egress, after the copy was stamped
    # with no transaction open (O4; access may have been withdrawn meanwhile).
    assert len(statements) <= 9, _show(statements)


def test_item_page_budget(client: TestClient, db: Session, ctx: AppContext, clock: FakeClock,
                          shared: tuple[Cast, int, int]) -> None:
    cast, item_id, _ = shared
    sign_in(client, db, cast.researcher, ctx)
    statements = _budget(client, ctx.engine, f"/information/items/{item_id}")
    # As the API read, with the web session and its user in one statement (7; the council row comes with the
    # item and the standing); the people the page names not already loaded (0 here, else 1); the members for
    # the designation form (1, a manager only); the notification bell's unread notices (1; the standing in this
    # council is the page's). Before: 26. + the exclusion claims on the item (1; issue 13, found once for the
    # list, the reader's own claim and whether they may claim).
    assert len(statements) <= 9, _show(statements)


def test_council_page_budget(client: TestClient, db: Session, ctx: AppContext, clock: FakeClock,
                             shared: tuple[Cast, int, int]) -> None:
    cast, _, _ = shared
    sign_in(client, db, cast.researcher, ctx)
    statements = _budget(client, ctx.engine, f"/councils/{cast.council.id}")
    # Web session with its user (1), council with standing (1), bylaws, members with pledges, consents, own
    # pledges (4), meetings, decisions, action items, requests (4), people to invite (1, a manager), the
    # notification bell's unread notices (1; the standing in this council is the page's). Before: 30 (the
    # standing loaded once per part, one pledge and one user look-up per member).
    assert len(statements) <= 12, _show(statements)
