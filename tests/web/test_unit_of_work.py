"""The one unit of work (``banso.kit.unit``): who commits, and what a failed or refused unit leaves.

Real parts only: the migrated database, the app through its TestClient, and SQLAlchemy events on
the real engine to make the database refuse a commit or to count transactions. In the test
database a session's transaction is a SAVEPOINT of the test's outer transaction, so "begin" and
"commit" are counted (and refused) at both levels: BEGIN/SAVEPOINT and COMMIT/RELEASE.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

import banso
from banso.accounts.models import ApiToken, Organization
from banso.audit import service as audit
from banso.audit.models import AuditEntry
from banso.kit.cli import unit_of_work
from banso.kit.clock import FakeClock
from banso.kit.errors import Forbidden
from banso.web.context import AppContext
from tests.support.factories import Factory
from tests.support.http import bearer, sign_in

COMMITS = ("commit", "release_savepoint")
BEGINS = ("begin", "savepoint")


class WriteRefused(Exception):
    """What the database answers when the test makes it refuse a write."""


@contextmanager
def refusing_audit_writes(engine: Engine) -> Iterator[None]:
    """Make the real engine refuse every INSERT into the audit log while inside.

    Every action writes its audit entry, and the entry reaches the database when the unit of
    work commits (it is only added to the session before): so the commit is what fails.
    """

    def refuse(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_ENTRIES"):
            raise WriteRefused("the database refused the write")

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


@contextmanager
def counting(engine: Engine) -> Iterator[dict[str, int]]:
    """Count transactions begun and committed on the real engine while inside."""
    seen = {"begin": 0, "commit": 0}

    def listener(kind: str) -> Any:
        def count(*_args: Any) -> None:
            seen[kind] += 1
        return count

    listeners = [(name, listener("begin")) for name in BEGINS] + [(name, listener("commit")) for name in COMMITS]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    try:
        yield seen
    finally:
        for name, fn in listeners:
            event.remove(engine, name, fn)


def tokens_named(db: Session, name: str) -> int:
    return int(db.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.name == name)) or 0)


def audit_count(db: Session, tag: str) -> int:
    return int(db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.tag == tag)) or 0)


@pytest.fixture
def server(app: Any) -> Iterator[TestClient]:
    """A client that gets the server's 500 answer instead of the exception (as a browser would)."""
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_failing_commit_of_an_api_write_is_a_500_and_nothing_is_done(
    server: TestClient, db: Session, factory: Factory, clock: FakeClock, engine: Engine
) -> None:
    headers = bearer(db, factory.person(), clock)
    issued = audit_count(db, "accounts:token:issue")
    with refusing_audit_writes(engine):
        response = server.post("/api/v1/tokens", json={"name": "doomed"}, headers=headers)
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error" and "token" not in response.json()
    assert tokens_named(db, "doomed") == 0
    assert audit_count(db, "accounts:token:issue") == issued


def test_a_failing_commit_of_a_page_form_is_a_500_and_no_success_is_shown(
    server: TestClient, db: Session, factory: Factory, ctx: AppContext, clock: FakeClock, engine: Engine
) -> None:
    person = factory.person()
    bearer(db, person, clock)
    token = db.scalars(select(ApiToken).where(ApiToken.user_id == person.user.id)).one()
    csrf = sign_in(server, db, person, ctx)
    with refusing_audit_writes(engine):
        response = server.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf},
                               follow_redirects=False)
    assert response.status_code == 500  # not the 303 to "revoked"
    assert "location" not in response.headers
    db.refresh(token)
    assert token.revoked_at is None
    # The same form succeeds once the database takes the write again (the commit alone failed).
    done = server.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/account/tokens?revoked=1"
    db.refresh(token)
    assert token.revoked_at is not None


def test_a_token_authenticated_api_request_is_one_transaction(
    client: TestClient, db: Session, factory: Factory, clock: FakeClock, engine: Engine
) -> None:
    headers = bearer(db, factory.person(), clock)
    clock.advance(seconds=120)  # the token's last use is written again: the login step writes too
    with counting(engine) as seen:
        response = client.post("/api/v1/tokens", json={"name": "one"}, headers=headers)
    assert response.status_code == 201, response.text
    assert seen == {"begin": 1, "commit": 1}


def test_a_rejected_token_keeps_its_audit_entry(
    client: TestClient, db: Session, factory: Factory, clock: FakeClock, engine: Engine
) -> None:
    bearer(db, factory.person(), clock)  # the log has entries (its head row exists: no savepoint to create it)
    with counting(engine) as seen:
        response = client.get("/api/v1/me", headers={"Authorization": "Bearer bns_AAAAAAAA_" + "z" * 43})
    assert response.status_code == 401
    assert audit_count(db, "accounts:token:rejected") == 1  # A1, in the request's one transaction
    assert seen == {"begin": 1, "commit": 1}


def test_an_audited_refusal_is_kept_and_the_refused_work_rolled_back(
    db: Session, ctx: AppContext, clock: FakeClock
) -> None:
    with pytest.raises(typer.Exit), unit_of_work(ctx) as session:
        session.add(Organization(name_ja="途中まで", name_en="Half done", kind="university", created_at=clock.now()))
        session.flush()  # the refused work reached the database before the refusal
        audit.refuse(session, Forbidden("だめです / refused"), "test:refused", now=clock.now(), actor=None,
                     subject="test")
    assert audit_count(db, "test:refused") == 1
    assert db.scalar(select(func.count()).select_from(Organization).where(Organization.name_ja == "途中まで")) == 0


def test_an_unaudited_refusal_rolls_everything_back(db: Session, ctx: AppContext, clock: FakeClock) -> None:
    with pytest.raises(typer.Exit), unit_of_work(ctx) as session:
        audit.record_for(session, "test:unkept", now=clock.now(), actor=None, subject="test")
        raise Forbidden("だめです / refused")
    assert audit_count(db, "test:unkept") == 0


# Only the unit of work commits; migrations run Alembic's own transaction.
MAY_COMMIT = {Path("kit/unit.py"), Path("migrations/env.py")}


def test_nothing_but_the_unit_of_work_commits() -> None:
    root = Path(banso.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root) in MAY_COMMIT:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "commit"):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []
