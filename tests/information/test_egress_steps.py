"""Copies and views are stamped with no transaction open (O4), and the gate decides again at egress (I12, I8).

Stamping a PDF, rendering a page or marking a long text takes seconds. Before, it ran inside the request's
transaction: on SQLite that held the write lock every other request needs (16 parallel 8 MB downloads stalled
an unrelated read for 29 s), on PostgreSQL a connection and an open transaction. Now a download reads in a
step of its own (``banso.kit.unit.read_step``: on SQLite ``BEGIN DEFERRED``, no lock), stamps with nothing
open, then decides again and records the copy with the fingerprint its stamp carries.

The real stamper runs; the test wraps it (the module's ``stamp_kind`` / ``stamp_view``) to look at the
database while it runs: how many connections are checked out, and whether another connection can take
the write lock at once. Access withdrawn meanwhile (the reader leaves the council, C3) gives no bytes and
no distribution row. A committed database of its own (the shared test database holds one connection
for its outer transaction); runs on PostgreSQL when BANSO_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from banso.app.factory import create_app
from banso.audit.models import AuditEntry
from banso.audit.tags import AuditTag
from banso.councils import service as councils
from banso.db.engine import make_engine
from banso.information import distribution, service, viewer
from banso.information.deps import information_deps
from banso.information.models import Ballot, Distribution, ItemFile
from banso.kit.clock import FakeClock
from banso.kit.crypto import SecretBox
from banso.leak.pdf import make_sample_pdf
from banso.sealed import store as sealed_store
from banso.sealed.models import SealedDistribution
from banso.web.context import AppContext
from tests.support.app import START
from tests.support.councils import Cast, establish
from tests.support.factories import Factory
from tests.support.http import bearer, sign_in
from tests.support.information import API, provide_item
from tests.support.live import fresh_database, live_context
from tests.support.programme import engage

PDF = make_sample_pdf("評価報告", [f"第{n}節 水中航法の誤差は 0.{n}%。" for n in range(1, 5)], paragraphs_per_page=2)
LOCK_WAIT_S = 1.0  # how long another writer may wait for the lock while a copy is stamped


@dataclass
class Live:
    """A committed database with an active council, one council-shared item with a PDF, and banso on it."""

    ctx: AppContext
    client: TestClient
    cast: Cast
    clock: FakeClock
    item_id: int
    file_id: int
    url: str


@contextmanager
def live(tmp_path: Path, *, view_only: bool = False) -> Iterator[Live]:
    with fresh_database(tmp_path) as url:
        clock = FakeClock(START)
        ctx = live_context(tmp_path, url, clock)
        try:
            deps = information_deps(ctx)
            with ctx.sessions() as db:
                cast = establish(Factory(db, clock, SecretBox(ctx.settings.secret_key)), db, clock)
                extra: dict[str, Any] = {}
                if view_only:  # designated to the researcher alone, view-only (I3), accepted by everyone (I4)
                    extra["designation"] = service.DesignationInput(
                        reason="輸出管理上の懸念", scope_kind="named", user_ids=[cast.researcher.user.id],
                        handling=["view_only"], ends_at=clock.now() + timedelta(days=365))
                item = provide_item(db, deps, cast, clock, files=[service.Upload("report.pdf", "application/pdf", PDF)],
                                    **extra)
                db.commit()
                if view_only:
                    ballot = db.scalar(select(Ballot).where(Ballot.item_id == item.id))
                    assert ballot is not None
                    for person in (cast.officer, cast.researcher):
                        service.vote(db, ballot_id=ballot.id, actor=person.principal(), now=clock.now(),
                                     decision="accept")
                    db.commit()
                item_id = item.id
            file_id = _first_file(ctx, item_id)
            with TestClient(create_app(ctx, background_jobs=False), base_url="http://testserver") as client:
                yield Live(ctx, client, cast, clock, item_id, file_id, url)
        finally:
            ctx.engine.dispose()


def _first_file(ctx: AppContext, item_id: int) -> int:
    with ctx.sessions() as db:
        found = db.scalar(select(ItemFile.id).where(ItemFile.item_id == item_id))
    assert found is not None
    return int(found)


def _impatient(url: str) -> Engine:
    """An engine whose SQLite connections wait at most LOCK_WAIT_S for the write lock (not 30 s)."""
    engine: Engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _short_wait(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute(f"PRAGMA busy_timeout={int(LOCK_WAIT_S * 1000)}")
    return engine


def _write_lock_free(url: str) -> bool | None:
    """Return whether another connection takes SQLite's write lock within LOCK_WAIT_S (None: not SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    conn = sqlite3.connect(str(parsed.database), timeout=LOCK_WAIT_S, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("COMMIT")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def _watch(env: Live, seen: dict[str, Any], also: Callable[[], None] | None = None) -> Callable[..., Any]:
    """Wrap a stamper: note what is held while it runs (and run ``also``), then stamp for real."""
    def wrap(real: Callable[..., Any]) -> Callable[..., Any]:
        def stamp(*args: Any, **kwargs: Any) -> Any:
            seen["checked_out"] = env.ctx.engine.pool.checkedout()
            seen["lock_free"] = _write_lock_free(env.url)
            seen["code"] = kwargs["code"]
            if also is not None:
                also()
            return real(*args, **kwargs)
        return stamp
    return wrap


def _distributions(env: Live) -> list[Distribution]:
    with env.ctx.sessions() as db:
        return list(db.scalars(select(Distribution).where(Distribution.user_id == env.cast.researcher.user.id)))


def _leave(env: Live) -> None:
    """The researcher leaves the council (C3: access ends at once), committed by another connection."""
    engine = _impatient(env.url)
    try:
        with sessionmaker(bind=engine, expire_on_commit=False)() as db:
            councils.leave(db, council_id=env.cast.council.id, actor=env.cast.researcher.principal(),
                           now=env.clock.now())
            db.commit()
    finally:
        engine.dispose()


def _get_file(env: Live, how: str) -> Any:
    """Download the item's file as the researcher, over the API (token) or the pages (session cookie)."""
    if how == "api":
        with env.ctx.sessions() as db:
            headers = bearer(db, env.cast.researcher, env.clock)
        return env.client.get(f"{API}/items/{env.item_id}/files/{env.file_id}", headers=headers)
    with env.ctx.sessions() as db:
        sign_in(env.client, db, env.cast.researcher, env.ctx)
    env.clock.advance(seconds=61)  # the sign-in touches its session row (a write) before the download
    return env.client.get(f"/information/items/{env.item_id}/files/{env.file_id}")


@pytest.mark.parametrize("how", ["api", "page"])
def test_a_copy_is_stamped_with_no_transaction_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    how: str) -> None:
    with live(tmp_path) as env:
        seen: dict[str, Any] = {}
        monkeypatch.setattr(distribution, "stamp_kind", _watch(env, seen)(distribution.stamp_kind))
        response = _get_file(env, how)
        assert response.status_code == 200, response.text[:300]
        assert response.content.startswith(b"%PDF") and response.content != PDF
        # Before: 1 connection checked out and the write lock held (SQLite) for the whole stamping.
        assert seen["checked_out"] == 0
        assert seen["lock_free"] in (True, None)
        rows = _distributions(env)
        assert [r.fingerprint for r in rows] == [seen["code"].hex()]  # the record carries the stamp's code (I8)


def test_access_withdrawn_while_stamping_gives_no_bytes_and_no_record(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    with live(tmp_path) as env:
        seen: dict[str, Any] = {}
        monkeypatch.setattr(distribution, "stamp_kind",
                            _watch(env, seen, also=lambda: _leave(env))(distribution.stamp_kind))
        response = _get_file(env, "api")
        # I12: the gate decides at the moment of egress; the reader left while the copy was being stamped.
        assert response.status_code == 404, response.text[:300]
        assert b"%PDF" not in response.content
        assert _distributions(env) == []
        with env.ctx.sessions() as db:
            refused = db.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.tag == AuditTag.INFO_READ_REFUSED, AuditEntry.actor_id == env.cast.researcher.user.id))
        assert refused == 1


def test_the_body_is_marked_with_no_transaction_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with live(tmp_path) as env:
        seen: dict[str, Any] = {}
        monkeypatch.setattr(distribution, "stamp_plain", _watch(env, seen)(distribution.stamp_plain))
        with env.ctx.sessions() as db:
            headers = bearer(db, env.cast.researcher, env.clock)
        response = env.client.get(f"{API}/items/{env.item_id}/body.txt", headers=headers)
        assert response.status_code == 200, response.text[:300]
        assert seen["checked_out"] == 0 and seen["lock_free"] in (True, None)
        assert [r.fingerprint for r in _distributions(env)] == [seen["code"].hex()]


def test_a_page_image_is_rendered_and_stamped_with_no_transaction_open(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with live(tmp_path, view_only=True) as env:
        seen: dict[str, Any] = {}
        monkeypatch.setattr(viewer, "stamp_view", _watch(env, seen)(viewer.stamp_view))
        with env.ctx.sessions() as db:
            sign_in(env.client, db, env.cast.researcher, env.ctx)
        response = env.client.get(f"/information/items/{env.item_id}/files/{env.file_id}/view/1.png")
        assert response.status_code == 200, response.text[:300]
        assert response.content.startswith(b"\x89PNG")
        assert seen["checked_out"] == 0 and seen["lock_free"] in (True, None)
        assert [(r.channel, r.fingerprint) for r in _distributions(env)] == [("view-pdf", seen["code"].hex())]


def test_a_page_image_after_access_is_withdrawn_is_not_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with live(tmp_path, view_only=True) as env:
        seen: dict[str, Any] = {}
        monkeypatch.setattr(viewer, "stamp_view", _watch(env, seen, also=lambda: _leave(env))(viewer.stamp_view))
        with env.ctx.sessions() as db:
            sign_in(env.client, db, env.cast.researcher, env.ctx)
        response = env.client.get(f"/information/items/{env.item_id}/files/{env.file_id}/view/1.png")
        assert response.status_code == 404
        assert not response.content.startswith(b"\x89PNG")
        assert _distributions(env) == []


@pytest.mark.parametrize("good", [True, False])
def test_an_upload_is_validated_completely_with_no_transaction_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    good: bool) -> None:
    """O1, O4: the full parse of an upload runs before the write unit's first statement; a refusal is still
    the same audited 422, raised where it always was."""
    with live(tmp_path) as env:
        seen: dict[str, Any] = {}

        def watching(*args: Any, **kwargs: Any) -> Any:
            seen["checked_out"] = env.ctx.engine.pool.checkedout()
            seen["lock_free"] = _write_lock_free(env.url)
            return real(*args, **kwargs)

        real = service.sniff
        monkeypatch.setattr(service, "sniff", watching)
        with env.ctx.sessions() as db:
            headers = bearer(db, env.cast.company, env.clock)
        data = PDF if good else PDF[: len(PDF) // 2]  # a cut PDF parses to nothing a stamp could use
        response = env.client.post(f"{API}/items/{env.item_id}/versions", headers=headers,
                                   data={"body": "改訂", "note": "v2"},
                                   files=[("files", ("report-v2.pdf", data, "application/pdf"))])
        assert response.status_code == (201 if good else 422), response.text[:300]
        # Before: 1 connection checked out and the write lock held (SQLite) while the PDF was parsed.
        assert seen["checked_out"] == 0 and seen["lock_free"] in (True, None)
        with env.ctx.sessions() as db:
            rejected = db.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.tag == AuditTag.INFO_UPLOAD_REJECTED))
        assert rejected == (0 if good else 1)


def test_an_answer_file_is_validated_with_no_transaction_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """O1, O4, C6: a material request's answer file is parsed before the write that seals it."""
    from banso.councils import service as council_service

    with live(tmp_path) as env:
        with env.ctx.sessions() as db:
            request = councils.create_request(
                db, council_id=env.cast.council.id, actor=env.cast.officer.principal(), now=env.clock.now(),
                title="資料の求め", body="動向をまとめてください", matter="useful_information",
                addressee_kind="participant", addressee_id=env.cast.company.user.id,
                due_at=env.clock.now() + timedelta(days=14))
            db.commit()
            request_id = request.id
            headers = bearer(db, env.cast.company, env.clock)
        seen: dict[str, Any] = {}
        real = council_service.sniff

        def watching(*args: Any, **kwargs: Any) -> Any:
            seen["checked_out"] = env.ctx.engine.pool.checkedout()
            seen["lock_free"] = _write_lock_free(env.url)
            return real(*args, **kwargs)

        monkeypatch.setattr(council_service, "sniff", watching)
        response = env.client.post(f"/api/v1/councils/{env.cast.council.id}/requests/{request_id}/answer",
                                   headers=headers, data={"text": "回答本文"},
                                   files=[("files", ("answer.pdf", PDF, "application/pdf"))])
        assert response.status_code == 200, response.text[:300]
        # Before: 1 connection checked out and the write lock held (SQLite) while the PDF was parsed.
        assert seen["checked_out"] == 0 and seen["lock_free"] in (True, None)
        # I8, I12: a copy of the sealed answer file is stamped with no transaction open too.
        file_id = response.json()["files"][0]["id"]
        stamped: dict[str, Any] = {}
        monkeypatch.setattr(sealed_store, "stamp_kind", _watch(env, stamped)(sealed_store.stamp_kind))
        with env.ctx.sessions() as db:
            officer = bearer(db, env.cast.officer, env.clock)
        copy = env.client.get(f"/api/v1/councils/{env.cast.council.id}/requests/{request_id}/files/{file_id}",
                              headers=officer)
        assert copy.status_code == 200 and copy.content.startswith(b"%PDF"), copy.text[:300]
        assert stamped["checked_out"] == 0 and stamped["lock_free"] in (True, None)
        with env.ctx.sessions() as db:
            assert db.scalars(select(SealedDistribution.fingerprint)).all() == [stamped["code"].hex()]


def test_a_deliverable_is_validated_with_no_transaction_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """O1, O4, F5: a commission deliverable is parsed before the write that seals it."""
    from banso.programme import commissions as cm
    from tests.programme.test_commissions import Cast as CommissionCast
    from tests.programme.test_commissions import _assess, _commission

    with fresh_database(tmp_path) as url:
        clock = FakeClock(START)
        ctx = live_context(tmp_path, url, clock)
        try:
            with ctx.sessions() as db:
                c = CommissionCast(Factory(db, clock, SecretBox(ctx.settings.secret_key)))
                _assess(db, c, clock, c.tank.id)
                commission = _commission(db, c, clock)
                engage(db, commission.id, officer=c.officer.principal(), person=c.analyst, now=clock.now())
                db.commit()
                headers = bearer(db, c.analyst, clock)
                commission_id = commission.id
            seen: dict[str, Any] = {}
            real = cm.sniff

            def watching(*args: Any, **kwargs: Any) -> Any:
                seen["checked_out"] = ctx.engine.pool.checkedout()
                seen["lock_free"] = _write_lock_free(url)
                return real(*args, **kwargs)

            monkeypatch.setattr(cm, "sniff", watching)
            with TestClient(create_app(ctx, background_jobs=False), base_url="http://testserver") as client:
                response = client.post(f"/api/v1/programme/commissions/{commission_id}/deliverables", headers=headers,
                                       data={"title": "報告書"}, files={"file": ("report.pdf", PDF, "application/pdf")})
                assert response.status_code == 201, response.text[:300]
                # I8, I12: a copy of the sealed deliverable is stamped with no transaction open too.
                stamped: dict[str, Any] = {}

                def watching_stamp(*args: Any, **kwargs: Any) -> Any:
                    stamped["checked_out"] = ctx.engine.pool.checkedout()
                    stamped["lock_free"] = _write_lock_free(url)
                    return real_stamp(*args, **kwargs)

                real_stamp = sealed_store.stamp_kind
                monkeypatch.setattr(sealed_store, "stamp_kind", watching_stamp)
                deliverable_id = response.json()["id"]
                copy = client.get(f"/api/v1/programme/commissions/{commission_id}/deliverables/{deliverable_id}",
                                  headers=headers)
        finally:
            ctx.engine.dispose()
        # Before: 1 connection checked out and the write lock held (SQLite) while the PDF was parsed.
        assert seen["checked_out"] == 0 and seen["lock_free"] in (True, None)
        assert copy.status_code == 200 and copy.content.startswith(b"%PDF"), copy.text[:300]
        assert stamped["checked_out"] == 0 and stamped["lock_free"] in (True, None)


def test_a_meeting_material_is_validated_and_stamped_with_no_transaction_open(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """O1, O4, I8, I12: a meeting material (配布資料) is parsed before the write that seals it, and its copy is
    stamped with no transaction open and recorded with the fingerprint in the stamp."""
    from banso.councils import service as council_service

    with live(tmp_path) as env:
        with env.ctx.sessions() as db:
            meeting = council_service.schedule_meeting(
                db, council_id=env.cast.council.id, actor=env.cast.officer.principal(), now=env.clock.now(),
                title="第1回会合", starts_at=env.clock.now() + timedelta(days=7))
            db.commit()
            meeting_id = meeting.id
            headers = bearer(db, env.cast.company, env.clock)
            reader = bearer(db, env.cast.researcher, env.clock)
        seen: dict[str, Any] = {}
        real = council_service.sniff

        def watching(*args: Any, **kwargs: Any) -> Any:
            seen["checked_out"] = env.ctx.engine.pool.checkedout()
            seen["lock_free"] = _write_lock_free(env.url)
            return real(*args, **kwargs)

        monkeypatch.setattr(council_service, "sniff", watching)
        base = f"/api/v1/councils/{env.cast.council.id}/meetings/{meeting_id}/materials"
        made = env.client.post(base, headers=headers, data={"title": "配布資料1", "confidential": "true"},
                               files=[("file", ("material.pdf", PDF, "application/pdf"))])
        assert made.status_code == 201, made.text[:300]
        assert seen["checked_out"] == 0 and seen["lock_free"] in (True, None)
        stamped: dict[str, Any] = {}
        monkeypatch.setattr(sealed_store, "stamp_kind", _watch(env, stamped)(sealed_store.stamp_kind))
        copy = env.client.get(f"{base}/{made.json()['id']}", headers=reader)
        assert copy.status_code == 200 and copy.content.startswith(b"%PDF"), copy.text[:300]
        # Before (issue_copy inside the request's unit): 1 connection checked out, the write lock held.
        assert stamped["checked_out"] == 0 and stamped["lock_free"] in (True, None)
        with env.ctx.sessions() as db:
            assert db.scalars(select(SealedDistribution.fingerprint)).all() == [stamped["code"].hex()]
