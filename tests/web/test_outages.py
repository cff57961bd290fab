"""Outages (O4): a down database answers 503 with Retry-After, a full disk 507, and after a 500 the
keep-alive connection stays open. Real parts: a PostgreSQL URL where nothing listens, a small tmpfs
filled to the last byte (root only), a real uvicorn server.
"""

from __future__ import annotations

import errno
import http.client
import logging
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from banso.accounts.models import ApiToken
from banso.app.factory import create_app
from banso.app.wiring import build_context
from banso.config import Mode, Settings
from banso.db.engine import make_engine
from banso.kit.clock import FakeClock
from banso.kit.crypto import SecretBox
from banso.migrations import migrate
from banso.programme.models import CommissionDeliverable
from banso.web.deps import SESSION_COOKIE
from banso.web.errors import RETRY_AFTER_SECONDS, outage_status
from tests.support.app import START, make_context
from tests.support.cli import banso
from tests.support.factories import TEST_SECRET, Factory
from tests.support.http import bearer, sign_in
from tests.support.live import live_context, server_thread
from tests.support.mail import free_port
from tests.support.programme import Scene

# --- the database is down: 503 with Retry-After ------------------------------------------------------


@pytest.fixture
def no_database(tmp_path: Path) -> Iterator[TestClient]:
    """The app configured for a PostgreSQL server on a loopback port where nothing listens."""
    url = f"postgresql+psycopg://banso@127.0.0.1:{free_port()}/banso"
    ctx = build_context(Settings(mode=Mode.TEST, data_dir=tmp_path / "data", secret_key=TEST_SECRET,
                                 database_url=url))
    try:
        with TestClient(create_app(ctx, background_jobs=False), base_url="http://testserver") as client:
            yield client
    finally:
        ctx.engine.dispose()


def test_a_down_database_is_503_with_retry_after_on_the_api(no_database: TestClient) -> None:
    response = no_database.get("/api/v1/me", headers={"Authorization": "Bearer banso_anything"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert response.json()["error"] == "database_unavailable"
    assert response.json()["message"].startswith("データベースに接続できません")
    assert "/ The database is unavailable" in response.json()["message"]


def test_a_down_database_is_a_503_page(no_database: TestClient) -> None:
    no_database.cookies.set(SESSION_COOKIE, "some-session")
    response = no_database.get("/dashboard")
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert response.headers["content-type"].startswith("text/html")
    assert "データベースに接続できません" in response.text


def test_only_outages_are_classified_as_outages() -> None:
    assert outage_status(OSError(errno.ENOSPC, "No space left on device")) == 507
    assert outage_status(OSError(errno.EACCES, "Permission denied")) is None
    assert outage_status(RuntimeError("boom")) is None
    assert outage_status(ValueError("x")) is None


def test_a_sqlite_io_error_with_room_on_disk_is_503() -> None:
    """SQLITE_IOERR (any extended code) was a 500; with room on the disk it is an unavailable database."""
    ioerr = sqlite3.OperationalError("disk I/O error")
    ioerr.sqlite_errorcode = 10 + 3 * 256  # SQLITE_IOERR_WRITE
    assert outage_status(ioerr) == 503


# --- the disk is full: 507 ---------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 16 MB tmpfs (root only); unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> None:
    """Write a file into ``folder`` until its filesystem has no byte left."""
    with open(folder / "filler", "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    with open(folder / "filler-tail", "wb", buffering=0) as out:  # the last partial block
        try:
            while True:
                out.write(b"\0" * 512)
                out.flush()
        except OSError:
            pass


def test_a_full_file_store_is_507_and_nothing_is_recorded(
        small_disk: Path, settings: Settings, engine: Engine, session_factory: sessionmaker[Session],
        db: Session, factory: Factory, clock: FakeClock) -> None:
    ctx = make_context(settings.model_copy(update={"data_dir": small_disk / "data"}), engine, session_factory, clock)
    scene = Scene(db, factory, clock, ctx)  # keys and a first deliverable on the small disk
    before = db.scalar(select(func.count()).select_from(CommissionDeliverable))
    fill(small_disk)
    with TestClient(create_app(ctx, background_jobs=False), base_url="http://testserver") as client:
        api = client.post(f"/api/v1/programme/commissions/{scene.commission.id}/deliverables",
                          headers=bearer(db, scene.analyst, clock), data={"title": "最終報告書"},
                          files={"file": ("final.txt", "最終報告".encode() * 4096, "text/plain")})
        token = sign_in(client, db, scene.analyst, ctx)
        page = client.post(f"{scene.url}/deliverables", data={"csrf_token": token, "title": "最終報告書"},
                           files={"file": ("final.txt", "最終報告".encode() * 4096, "text/plain")})
    assert api.status_code == 507, api.text
    assert api.json()["error"] == "insufficient_storage"
    assert api.json()["message"].startswith("サーバーのディスクがいっぱい")
    assert page.status_code == 507 and page.headers["content-type"].startswith("text/html")
    assert "サーバーのディスクがいっぱい" in page.text
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(CommissionDeliverable)) == before


def test_a_full_sqlite_database_is_507(small_disk: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{small_disk / 'banso.db'}"
    migrating = make_engine(url)
    migrate.upgrade(migrating)
    migrating.dispose()
    clock = FakeClock(START)
    ctx = live_context(tmp_path, url, clock)
    try:
        with ctx.sessions() as db:
            person = Factory(db, clock, SecretBox(ctx.settings.secret_key)).person()
            db.commit()
            headers = bearer(db, person, clock)
        fill(small_disk)
        with TestClient(create_app(ctx, background_jobs=False), base_url="http://testserver") as client:
            response = client.post("/api/v1/tokens", headers=headers, json={"name": "full-disk"})
        assert response.status_code == 507, response.text
        assert response.json()["error"] == "insufficient_storage"
        (small_disk / "filler").unlink()
        with ctx.sessions() as db:  # nothing half-written once there is room again
            assert db.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.name == "full-disk")) == 0
    finally:
        ctx.engine.dispose()


def test_a_disk_full_before_the_first_connection_is_507(small_disk: Path, tmp_path: Path) -> None:
    """The pool's first connection sets WAL on a full disk: SQLite says only "disk I/O error"
    (SQLITE_IOERR), which was a 500; the engine sees the database's folder is full and says ENOSPC."""
    url = f"sqlite:///{small_disk / 'banso.db'}"
    migrating = make_engine(url)
    migrate.upgrade(migrating)
    clock = FakeClock(START)
    with Session(migrating) as db:
        person = Factory(db, clock, SecretBox(TEST_SECRET)).person()
        db.commit()
        headers = bearer(db, person, clock)
    migrating.dispose()  # the WAL files go: the next connection must make them again
    fill(small_disk)
    ctx = live_context(tmp_path, url, clock)
    try:
        with TestClient(create_app(ctx, background_jobs=False), base_url="http://testserver") as client:
            response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 507, response.text
        assert response.json()["error"] == "insufficient_storage"
    finally:
        ctx.engine.dispose()


def test_serve_on_a_full_disk_exits_1_with_a_message(small_disk: Path) -> None:
    """``banso serve`` could not open the database (WAL on a full disk): a traceback before, now a message."""
    data = small_disk / "data"
    assert banso(["db", "upgrade"], data).returncode == 0
    fill(small_disk)
    served = banso(["serve", "--port", "1"], data)
    assert served.returncode == 1, served.stderr
    assert "データベースを開けません / cannot open the database" in served.stdout
    assert "No space left on device" in served.stdout and "Traceback" not in served.stderr


# --- after a 500 the connection stays open -----------------------------------------------------------


def test_after_a_500_the_keep_alive_connection_serves_the_next_request(
        app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-only/boom", boom)
    with server_thread(app) as base, caplog.at_level(logging.ERROR, logger="banso.web"):
        conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
        try:
            conn.request("GET", "/test-only/boom")
            first = conn.getresponse()
            first_body = first.read()
            sock = conn.sock
            conn.request("GET", "/healthz")
            second = conn.getresponse()
            second.read()
            same_socket = conn.sock is sock and sock is not None
        finally:
            conn.close()
    assert first.status == 500 and b"internal_error" in first_body
    assert first.getheader("connection") != "close"
    assert second.status == 200
    assert same_socket  # one connection: the server did not hang up after the 500
    logged = [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], RuntimeError)]
    assert len(logged) == 1  # logged once, with its traceback
