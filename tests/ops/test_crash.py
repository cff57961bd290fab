"""``kill -9`` of a real ``banso serve`` loses no acknowledged write (issue 17 "Proof in CI"; DESIGN quality bar
"a killed process loses no committed data", A1/A3, I11).

A writer thread provides information items (each with a sealed file) and records council decisions over
HTTP with an API token, remembering every write the server acknowledged (2xx). The server is killed with
SIGKILL at random moments, several rounds, and restarted; at the end every acknowledged write must be there
and readable, the item's file decrypted, and ``banso audit verify`` must pass. Runs on SQLite, and on
PostgreSQL when ``BANSO_TEST_DATABASE_URL`` is set (in a database of its own on that server).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from banso.db.engine import make_engine
from banso.kit.clock import FakeClock
from banso.kit.crypto import SecretBox
from tests.support.councils import establish
from tests.support.factories import TEST_SECRET, Factory
from tests.support.mail import free_port

pytestmark = pytest.mark.slow

ROUNDS = 5
STARTUP_TIMEOUT_S = 60.0
API = "/api/v1"


@dataclass
class Acked:
    """What the server acknowledged: (id, unique marker) of each item (in its file) and decision (its text).

    Lists, not maps by id: a lost row's id can be handed out again (SQLite reuses the highest rowid), and
    only the marker then tells the acknowledged write from the later one that took its id.
    """

    items: list[tuple[int, str]] = field(default_factory=list)
    decisions: list[tuple[int, str]] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)  # a 5xx other than 503 (asserted by the test)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.items) + len(self.decisions)


@dataclass
class Site:
    """A data folder and database a real ``banso`` process runs on."""

    data: Path
    url: str

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BANSO_")}
        env.update({"BANSO_DATA_DIR": str(self.data), "BANSO_DATABASE_URL": self.url,
                    "BANSO_SECRET_KEY": TEST_SECRET, "BANSO_MODE": "development", "PYTHONUNBUFFERED": "1",
                    "NO_COLOR": "1", "COLUMNS": "200"})
        return env

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "banso", *args], env=self.env(), capture_output=True,
                              text=True, timeout=120, check=False)


@pytest.fixture
def database_of_its_own(tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file, or a fresh database on the PostgreSQL server of ``BANSO_TEST_DATABASE_URL``."""
    shared = os.environ.get("BANSO_TEST_DATABASE_URL")
    if not shared:
        yield f"sqlite:///{tmp_path / 'data' / 'banso.db'}"
        return
    name = f"banso_crash_{uuid.uuid4().hex[:12]}"
    admin = create_engine(shared, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield urllib.parse.urlunsplit(urllib.parse.urlsplit(shared)._replace(path=f"/{name}"))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def site(tmp_path: Path, database_of_its_own: str) -> Site:
    """A migrated data folder (``banso db upgrade``) on the database of its own."""
    (tmp_path / "data").mkdir()
    site = Site(tmp_path / "data", database_of_its_own)
    done = site.run("db", "upgrade")
    assert done.returncode == 0, done.stderr
    return site


def _seed(site: Site) -> tuple[int, str]:
    """An active council whose researcher holds a second-factor API token; return (council id, token)."""
    engine = make_engine(site.url)
    try:
        with Session(engine) as db:
            clock = FakeClock(datetime.now(UTC))
            cast = establish(Factory(db, clock, SecretBox(TEST_SECRET)), db, clock)
            db.commit()
            council_id, email = cast.council.id, cast.researcher.email
    finally:
        engine.dispose()
    issued = site.run("tokens", "issue", email, "--second-factor")
    assert issued.returncode == 0, issued.stderr
    return council_id, issued.stdout.strip()


class Server:
    """``banso serve`` on a fixed loopback port, started and SIGKILLed again and again."""

    def __init__(self, site: Site, port: int, log: Path) -> None:
        self.site, self.port, self.log = site, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "banso", "serve", "--port", str(self.port)],
                                         env=self.site.env(), stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as resp:  # loopback only
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "banso serve did not answer /healthz"
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no rollback runs."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def _writer(base: str, token: str, council_id: int, acked: Acked, stop: threading.Event) -> None:
    """Write until stopped; remember exactly the writes answered 2xx (a refused or cut-off one is not)."""
    headers = {"Authorization": f"Bearer {token}"}
    n = 0
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        while not stop.is_set():
            n += 1
            marker = f"crash-{uuid.uuid4().hex}"
            try:
                if n % 2:
                    r = client.post(f"{API}/information/items", data={
                        "council_id": str(council_id), "title": f"耐障害試験 {n}", "matter": "useful_information",
                        "category": "sampling_data", "provenance": "participant", "body": marker},
                        files={"files": (f"note-{n}.txt", f"{marker}\n".encode(), "text/plain")})
                else:
                    r = client.post(f"{API}/councils/{council_id}/decisions", json={
                        "text": marker, "matter": "effective_promotion", "adoption": "consensus"})
            except httpx.HTTPError:
                time.sleep(0.05)  # the server is down (killed, or not up again yet)
                continue
            if r.is_success:
                with acked.lock:
                    (acked.items if n % 2 else acked.decisions).append((int(r.json()["id"]), marker))
            elif r.status_code >= 500 and r.status_code != 503:
                acked.server_errors.append(f"{r.status_code} {r.request.url.path}: {r.text[:300]}")


def _check_everything_acknowledged(base: str, token: str, council_id: int, acked: Acked) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for item_id, marker in acked.items:
            item = client.get(f"{API}/information/items/{item_id}")
            assert item.status_code == 200, (item_id, item.text[:300])
            files = item.json()["files"]
            assert len(files) == 1, item.json()
            copy = client.get(f"{API}/information/items/{item_id}/files/{files[0]['id']}")
            assert copy.status_code == 200, (item_id, copy.text[:300])
            # Decrypted; the recipient's copy carries an invisible fingerprint (I8: format characters).
            assert marker in "".join(c for c in copy.text if unicodedata.category(c) != "Cf")
        listed = client.get(f"{API}/councils/{council_id}/decisions")
        assert listed.status_code == 200
        texts = {d["id"]: d["text"] for d in listed.json()}
        assert [(d, m) for d, m in acked.decisions if texts.get(d) != m] == []


def test_kill_9_loses_no_acknowledged_write(site: Site, tmp_path: Path) -> None:
    council_id, token = _seed(site)
    server = Server(site, free_port(), tmp_path / "server.log")
    acked, stop = Acked(), threading.Event()
    rng = random.Random()  # a new moment each run; the seed is in the failure message
    seed = rng.randrange(1 << 30)
    rng.seed(seed)
    writer = threading.Thread(target=_writer, args=(server.url, token, council_id, acked, stop), daemon=True)
    try:
        server.start()
        writer.start()
        for _ in range(ROUNDS):
            before = acked.count()
            deadline = time.monotonic() + 20
            while acked.count() == before:  # the round must have written something
                assert time.monotonic() < deadline, f"no write acknowledged in 20 s (seed {seed})"
                time.sleep(0.05)
            time.sleep(rng.uniform(0.1, 1.5))
            server.kill()
            server.start()
        stop.set()
        writer.join(timeout=30)
        assert acked.items and acked.decisions
        assert acked.server_errors == []
        _check_everything_acknowledged(server.url, token, council_id, acked)
    finally:
        stop.set()
        server.stop()
    verified = site.run("audit", "verify")
    assert verified.returncode == 0, (seed, verified.stdout, verified.stderr)
