"""Benchmark authorised reads of controlled information (issue 4; DESIGN "Quality bars": web, I7, I8).

Run:  .venv/bin/python benchmarks/information_reads.py [--seconds 15] [--clients 50] [--postgres/--no-postgres]
      [--public-clients 32]          also run the public item below the thread pool's 40 tokens
      [--profile 40]                 instead: pyinstrument of the services + whole requests one at a time
      [--workers 1 2]                serve with 1, then 2 worker processes (uvicorn's supervisor, as
                                     `banso serve --workers N`; more than 1: PostgreSQL only)
      [--slow-clients 30]            also the item read while 30 clients send a POST body at 1 byte/s

For each backend (SQLite by default, and a throwaway PostgreSQL server started like scripts/test.sh
does) the script builds a fresh data folder and database, migrates it, seeds the demo (people with
TOTP, the active space council with pledged members, its information items) and issues one API
token per client, round-robin over the council's pledged members (渡辺, 加藤, 田中, 高橋). Tokens of
users with TOTP, issued as an operator vouching for their second factor (``banso tokens issue --second-factor``),
count as second-factor principals, so they may read non-public content (I7).

It then serves the real app (``create_app``, one uvicorn worker on 127.0.0.1, in a subprocess so
that the load generator does not share its GIL) with one extra route, ``GET /bench/bare``: a sync
handler on the same app object — same middleware, routing and thread-pool dispatch — that returns
pre-built JSON bytes of the same size as the item response, with no policy, database or audit.

Scenarios, each ``--warmup`` s unrecorded then ``--seconds`` s recorded, ``--clients`` concurrent
keep-alive HTTP/1.1 connections. The load generator is a minimal asyncio HTTP/1.1 client on uvloop
(``RawHttp``, ≈5% of one core at 1,200 req/s); ``--client httpx`` uses httpx.AsyncClient instead,
which on 2 vCPUs saturates before the bare endpoint does (≈100–260 req/s), so it cannot serve as
the load for a baseline. Latency is measured per request with ``time.perf_counter``; a request
counts when it both started and ended inside the recorded window; errors (any non-200, or a
transport error) are counted in every phase.

* ``bare`` (before)  — the baseline;
* ``item read``      — ``GET /api/v1/information/items/{id}`` of the council-shared scenario item:
                       token check, policy, body decryption, audit append (``information:item:read``);
* ``item read + K slow clients`` (``--slow-clients K``) — the same, while K more connections each send
                       the headers of a form ``POST /api/v1/information/items`` (a member's token), then
                       its body at 1 byte a second, stopping when the scenario ends; the table shows
                       what the readers got, the notes what the slow clients saw (an answer, or still open);
* ``file download``  — ``GET /api/v1/information/items/{id}/files/{file_id}``, its PDF: policy, key
                       release, decryption, per-recipient stamp (visible footer + invisible
                       fingerprint), a distribution row and an audit append (``information:file:download``);
* ``public item``    — anonymous ``GET /api/v1/information/public/items/{id}`` of a published result
                       (policy, no audit); with ``--public-clients N`` once more with N clients;
* ``bare`` (after)   — the baseline again; ratios use the mean of the two bare runs.

Afterwards it checks that exactly one audit entry (and, for downloads, one distribution row) was
appended per 200 response of the non-public scenarios, that a downloaded copy is attributed to its
recipient, and that the whole audit log verifies against a freshly signed checkpoint (A1–A3).
Exit status 1 when a check fails or any request got a non-200 answer. Results: benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(width=None if sys.stdout.isatty() else 200)  # full table when redirected to a file

MEMBERS = (  # pledged members of the space council (demo), round-robin over the clients
    "watanabe.shota@utokyo.example.jp",
    "kato.takeshi@mirai-space.example.co.jp",
    "tanaka.yuki@jst.example.jp",
    "takahashi.naoki@mext.example.jp",
)
PUBLIC_TITLE = "高頻度SAR観測による洪水域推定手法（論文）"
READ_TAG = "information:item:read"
DOWNLOAD_TAG = "information:file:download"


# ---------------------------------------------------------------------------------------------
# helpers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                    TimeElapsedColumn(), console=console, transient=True)


def proc_cpu_seconds(pid: int) -> float:
    """Return user+system CPU seconds of a process (from /proc; 0 when unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def tree_cpu_seconds(pid: int) -> float:
    """Return the CPU seconds of a process and all its descendants (the workers of a multi-worker server)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    tree, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(proc_cpu_seconds(p) for p in tree)


def postgres_cpu_seconds() -> float:
    """Return the CPU seconds of every ``postgres`` process (the throwaway server's backends)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text[:64]:
            fields = text.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def machine_busy_jiffies() -> tuple[int, int]:
    """Return (busy, total) jiffies of all CPUs from /proc/stat (the whole machine, other tenants included)."""
    try:
        parts = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return sum(parts) - idle, sum(parts)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# ---------------------------------------------------------------------------------------------
# throwaway PostgreSQL (the logic of scripts/test.sh, step 3)


@contextlib.contextmanager
def throwaway_postgres(*, durable: bool = False) -> Iterator[tuple[str, str]]:
    """Start a PostgreSQL server in a temp dir on a free loopback port; yield (URL, version); remove on exit."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) for x in Path(p).parent.name.split(".")
                                                                         if x.isdigit()])
    if not bins or not Path(bins[-1], "initdb").exists():
        raise SystemExit("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin "
                         "(apt-get install postgresql)")
    pgbin = Path(bins[-1])
    pg_user: str | None = None
    if os.geteuid() == 0:  # initdb refuses to run as root
        if subprocess.run(["id", "-u", "postgres"], check=False, capture_output=True).returncode == 0:
            pg_user = "postgres"
        else:
            if subprocess.run(["id", "-u", "banso-test"], check=False, capture_output=True).returncode != 0:
                subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                                "banso-test"], check=True)
            pg_user = "banso-test"

    def as_pg(*cmd: str | Path, **kw: Any) -> subprocess.CompletedProcess[str]:
        argv = [str(c) for c in cmd]
        if pg_user:
            argv = ["runuser", "-u", pg_user, "--", *argv]
        return subprocess.run(argv, check=False, cwd="/", text=True, capture_output=True, **kw)

    tmp = Path(tempfile.mkdtemp(prefix="banso-pg-bench."))
    started = False
    try:
        tmp.chmod(0o755)
        (tmp / "data").mkdir()
        (tmp / "sock").mkdir()
        (tmp / "server.log").touch()
        if pg_user:
            for p in ("data", "sock", "server.log"):
                shutil.chown(tmp / p, user=pg_user)
        port = free_port()
        r = as_pg(pgbin / "initdb", "-D", tmp / "data", "-A", "trust", "-U", "banso", "-E", "UTF8",
                  "--locale=C.UTF-8")
        if r.returncode:
            raise SystemExit(f"initdb failed:\n{r.stdout}{r.stderr}")
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp / 'sock'}"
        if not durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        r = as_pg(pgbin / "pg_ctl", "-D", tmp / "data", "-l", tmp / "server.log", "-w", "-t", "60", "-o", opts,
                  "start")
        if r.returncode:
            raise SystemExit(f"pg_ctl start failed:\n{(tmp / 'server.log').read_text()}")
        started = True
        r = subprocess.run([str(pgbin / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "banso",
                            "banso_bench"], check=False, text=True, capture_output=True)
        if r.returncode:
            raise SystemExit(f"createdb failed: {r.stderr}\n{(tmp / 'server.log').read_text()}")
        # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
        version = subprocess.run([str(pgbin / "postgres"), "--version"], check=False, text=True,
                                 capture_output=True).stdout.split()[2]
        mode = "durable: fsync on" if durable else "fsync=off, synchronous_commit=off as in scripts/test.sh"
        console.print(f"PostgreSQL {version} on 127.0.0.1:{port} (data in {tmp}, removed on exit; {mode})")
        yield f"postgresql+psycopg://banso@127.0.0.1:{port}/banso_bench", version
    finally:
        if started and as_pg(pgbin / "pg_ctl", "-D", tmp / "data", "-m", "fast", "-w", "-t", "30", "stop").returncode:
            as_pg(pgbin / "pg_ctl", "-D", tmp / "data", "-m", "immediate", "-w", "-t", "10", "stop")
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# fixture: data folder, database, demo seed, tokens


@dataclass
class Fixture:
    """What the load needs to know about the seeded database."""

    data_dir: Path
    database_url: str | None
    item_id: int
    file_id: int
    file_bytes: int
    public_item_id: int | None
    tokens: list[tuple[str, int, str]]  # (raw token, user id, e-mail), one per client
    item_json_bytes: int
    seed_s: float


def settings_for(data_dir: Path, database_url: str | None) -> Any:
    from banso.config import Mode, Settings

    # Rate limits off: every client here shares one address, and the figure is the server's throughput.
    return Settings(mode=Mode.DEMO, data_dir=data_dir, database_url=database_url, rate_limit_per_second=0,
                    rate_limit_anonymous_per_second=0)


def build_fixture(data_dir: Path, database_url: str | None, clients: int) -> Fixture:
    """Migrate, seed the demo and issue the clients' tokens (the sequence of ``banso demo``)."""
    from sqlalchemy import select

    from banso.accounts import repository as accounts_repo
    from banso.accounts import service as accounts
    from banso.app.wiring import build_context
    from banso.audit import checkpoints
    from banso.authz.principal import AuthMethod
    from banso.demo import seed
    from banso.demo.councils import seed_councils
    from banso.demo.information import SCENARIO, seed_information
    from banso.demo.programme import seed_programme
    from banso.information import service as info
    from banso.information.deps import information_deps
    from banso.information.endpoints import item_detail
    from banso.information.models import Item, ItemFile, ItemState
    from banso.migrations import migrate
    from banso.sealed.store import local_deps as sealed_store

    start = time.perf_counter()
    ctx = build_context(settings_for(data_dir, database_url))
    deps = information_deps(ctx)
    migrate.upgrade(ctx.engine)
    with ctx.sessions() as db:
        seed.seed(db, box=ctx.box, now=ctx.clock.now())
        seed_councils(db, now=ctx.clock.now(), box=ctx.box, store=sealed_store(ctx.data_dir, ctx.settings.secret_key))
        seed_programme(db, now=ctx.clock.now())
        seed_information(db, deps, now=ctx.clock.now())
        checkpoints.sign_checkpoint(db, key=ctx.signing_key, now=ctx.clock.now())
        db.commit()
    with ctx.sessions() as db:
        tokens: list[tuple[str, int, str]] = []
        for i in range(clients):
            email = MEMBERS[i % len(MEMBERS)]
            user = accounts_repo.user_by_email(db, email)
            assert user is not None and user.totp_enabled, f"{email}: demo persona with TOTP expected"
            # as an operator vouching for a person with TOTP (`banso tokens issue --second-factor`)
            issued = accounts.issue_token(db, user=user, name=f"bench-{i}", scopes=None, expires_in_days=1,
                                          now=ctx.clock.now(), actor=None, second_factor=True)
            tokens.append((issued.raw, user.id, email))
        db.commit()
    with ctx.sessions() as db:
        item = db.scalar(select(Item).where(Item.title == SCENARIO))
        assert item is not None, "demo item missing"
        assert item.state != ItemState.PUBLIC, f"the scenario item should be non-public, is {item.state}"
        pdf = db.scalar(select(ItemFile).where(ItemFile.item_id == item.id, ItemFile.kind == "pdf"))
        assert pdf is not None, "the scenario item has no PDF"
        public = db.scalar(select(Item).where(Item.title == PUBLIC_TITLE, Item.state == ItemState.PUBLIC.value))
        # The size of the item response, for the bare endpoint: the real service and shaping, rolled back
        # (so neither an audit entry nor anything else is left behind).
        user = accounts_repo.user_by_email(db, MEMBERS[0])
        assert user is not None
        principal = accounts.principal_for(user, method=AuthMethod.TOKEN, mfa=True)
        view = info.read_item(db, deps, item_id=item.id, actor=principal, now=ctx.clock.now())
        item_json = len(json.dumps(item_detail(view).model_dump(mode="json"), ensure_ascii=False,
                                   separators=(",", ":")).encode())
        fx = Fixture(data_dir=data_dir, database_url=database_url, item_id=item.id, file_id=pdf.id,
                     file_bytes=pdf.size,
                     public_item_id=public.id if public is not None else None, tokens=tokens,
                     item_json_bytes=item_json, seed_s=time.perf_counter() - start)
        db.rollback()
    ctx.engine.dispose()
    return fx


def count_rows(data_dir: Path, database_url: str | None) -> dict[str, int]:
    """Return the audit entries per benchmarked tag, all entries, and the distribution rows."""
    from sqlalchemy import func, select

    from banso.audit.models import AuditEntry
    from banso.db.engine import make_engine, make_session_factory
    from banso.information.models import Distribution

    engine = make_engine(settings_for(data_dir, database_url).sqlalchemy_url)
    try:
        with make_session_factory(engine)() as db:
            tags = dict(db.execute(select(AuditEntry.tag, func.count()).where(AuditEntry.tag.in_(
                [READ_TAG, DOWNLOAD_TAG])).group_by(AuditEntry.tag)).all())
            out = {READ_TAG: tags.get(READ_TAG, 0), DOWNLOAD_TAG: tags.get(DOWNLOAD_TAG, 0),
                   "entries": db.scalar(select(func.count()).select_from(AuditEntry)) or 0,
                   "distributions": db.scalar(select(func.count()).select_from(Distribution)) or 0}
            db.rollback()
    finally:
        engine.dispose()
    return out


def verify_audit(data_dir: Path, database_url: str | None) -> tuple[bool, str, float]:
    """Sign a checkpoint now and verify the whole log against it (``banso audit verify``)."""
    from banso.app.wiring import build_context
    from banso.audit import checkpoints
    from banso.audit import service as audit
    from banso.audit.export import checkpoint_records, iter_entry_records, stored_upper_bound
    from banso.audit.verify import verify_log

    ctx = build_context(settings_for(data_dir, database_url))
    try:
        with ctx.sessions() as db:
            checkpoints.sign_checkpoint(db, key=ctx.signing_key, now=ctx.clock.now(), actor_label="benchmark")
            db.commit()
        with ctx.sessions() as db:
            start = time.perf_counter()
            size = audit.tree_size(db)
            report = verify_log(iter_entry_records(db, upto=max(size, stored_upper_bound(db))),
                                checkpoint_records(db), ctx.signing_key.public_key(), expected_size=size)
            spent = time.perf_counter() - start
            db.rollback()
    finally:
        ctx.engine.dispose()
    return report.ok, report.summary(), spent


def attribute_copy(data_dir: Path, database_url: str | None, item_id: int, pdf: bytes) -> int | None:
    """Return the user a downloaded copy is attributed to (rolled back: leaves no audit entry)."""
    from banso.app.wiring import build_context
    from banso.information import distribution

    ctx = build_context(settings_for(data_dir, database_url))
    try:
        with ctx.sessions() as db:
            finding = distribution.attribute(db, data=pdf, filename="copy.pdf", item_id=item_id,
                                             now=ctx.clock.now())
            db.rollback()
            return finding.user_id
    finally:
        ctx.engine.dispose()


# ---------------------------------------------------------------------------------------------
# the server (a subprocess running this file with --serve)


def bare_payload(size: int) -> bytes:
    """Return a JSON document of exactly ``size`` bytes (at least the fixed part)."""
    head, tail = b'{"bench":"bare","pad":"', b'"}'
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


def build_app(data_dir: Path, database_url: str | None, bare_bytes: int) -> Any:
    """Return the real app (``create_app``) with the extra ``GET /bench/bare`` route."""
    from fastapi import Response

    from banso.app.factory import create_app
    from banso.app.wiring import build_context

    app = create_app(build_context(settings_for(data_dir, database_url)), background_jobs=False)
    payload = bare_payload(bare_bytes)

    @app.get("/bench/bare", include_in_schema=False)
    def bare() -> Response:  # sync, like the information endpoints: same thread-pool dispatch
        return Response(payload, media_type="application/json")

    return app


def serve(data_dir: Path, database_url: str | None, port: int, bare_bytes: int, workers: int = 1) -> None:
    """Serve the real app plus ``GET /bench/bare`` on 127.0.0.1:port (``workers`` processes; blocks)."""
    import uvicorn

    # `banso serve` runs uvicorn.run(app, host, port, log_level="info", proxy_headers=False), and with
    # --workers N the import string of an app factory under uvicorn's supervisor, as here; the access
    # log is left out here (it would cost every scenario alike and flood the terminal).
    if workers == 1:
        app = build_app(data_dir, database_url, bare_bytes)
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, proxy_headers=False)
        return
    os.environ["BENCH_SERVE"] = json.dumps({"data_dir": str(data_dir), "database_url": database_url,
                                            "bare_bytes": bare_bytes})
    uvicorn.run("information_reads:app_from_environment", factory=True, workers=workers,
                app_dir=str(Path(__file__).resolve().parent), host="127.0.0.1", port=port, log_level="warning",
                access_log=False, proxy_headers=False)


def app_from_environment() -> Any:
    """Build one worker's app from BENCH_SERVE (uvicorn calls this in each worker process)."""
    spec = json.loads(os.environ["BENCH_SERVE"])
    return build_app(Path(spec["data_dir"]), spec["database_url"], spec["bare_bytes"])


@contextlib.contextmanager
def server_process(fx: Fixture, log_path: Path, workers: int = 1) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", "--data-dir", str(fx.data_dir),
           "--port", str(port), "--bare-bytes", str(fx.item_json_bytes), "--serve-workers", str(workers)]
    if fx.database_url:
        cmd += ["--database-url", fx.database_url]
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the server did not come up in 60 s:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


# ---------------------------------------------------------------------------------------------
# the load


@dataclass
class Scenario:
    name: str
    path: str
    auth: bool = True
    clients: int | None = None  # default: --clients
    slow_clients: int = 0  # connections sending a request body at 1 byte/s during the scenario


@dataclass
class Outcome:
    """One scenario's numbers."""

    scenario: str
    backend: str
    seconds: float
    latencies: list[float] = field(default_factory=list)  # recorded window, 200 only, seconds
    errors: Counter[str] = field(default_factory=Counter)  # recorded window, by status (0: transport)
    errors_outside: Counter[str] = field(default_factory=Counter)  # warm-up and tail
    tail_s: float = 0.0  # waiting for the requests in flight at the end of the window
    ok_total: int = 0  # every 200, warm-up and tail included (for the audit check)
    err_total: int = 0
    error_samples: list[str] = field(default_factory=list)
    sample: bytes = b""
    sample_user: int | None = None
    bytes_per_response: float = 0.0
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    postgres_cpu_s: float = 0.0
    machine_busy: float = 0.0  # share of all CPUs busy during the window (any process)
    slow: Counter[str] = field(default_factory=Counter)  # what the slow clients saw (answer status, or open)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        k = (len(data) - 1) * q
        lo = int(k)
        hi = min(lo + 1, len(data) - 1)
        return (data[lo] + (data[hi] - data[lo]) * (k - lo)) * 1000


class RawHttp:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: one connection per worker.

    httpx.AsyncClient costs 2–8 ms of client CPU per request here (more with one shared pool of 50
    connections), so on 2 vCPUs it, not the server, would set the pace of the bare endpoint. This
    client costs ≈ 0.05 ms, which leaves the CPU to the server under test.
    """

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def request_bytes(self, path: str, headers: dict[str, str]) -> bytes:
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: */*",
                 *(f"{k}: {v}" for k, v in headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def get(self, request: bytes) -> tuple[int, bytes]:
        """Send one request and return (status, body); 0 and the error text on a transport error."""
        try:
            async with asyncio.timeout(self.timeout):
                if self.writer is None:
                    self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
                assert self.reader is not None
                self.writer.write(request)
                head = await self.reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                status = int(lines[0].split(b" ", 2)[1])
                length, chunked, close = None, False, False
                for line in lines[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"transfer-encoding" and b"chunked" in value.lower():
                        chunked = True
                    elif name == b"connection" and b"close" in value.lower():
                        close = True
                if chunked:
                    parts = []
                    while (size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)):
                        parts.append(await self.reader.readexactly(size + 2))
                    await self.reader.readuntil(b"\r\n")
                    body = b"".join(p[:-2] for p in parts)
                else:
                    body = await self.reader.readexactly(length or 0)
                if close:
                    self.close()
                return status, body
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError,
                ValueError, IndexError) as exc:
            self.close()
            return 0, f"{type(exc).__name__}: {exc}".encode()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def run_scenario(base: str, sc: Scenario, fx: Fixture, *, backend: str, clients: int, warmup: float,
                       seconds: float, server_pid: int, progress: Progress, client_kind: str) -> Outcome:
    import httpx

    out = Outcome(scenario=sc.name, backend=backend, seconds=seconds)
    nbytes = 0
    task = progress.add_task(f"{backend}: {sc.name}", total=warmup + seconds, info="warm-up")
    host, port = base.removeprefix("http://").split(":")
    clock = time.perf_counter  # not loop.time(): uvloop's is libuv's cached millisecond clock
    t_start = clock()
    t_rec, t_end = t_start + warmup, t_start + warmup + seconds
    cpu: dict[str, tuple[float, ...]] = {}
    timeout = 120.0  # above the 30 s SQLite busy and pool timeouts, so a stall shows as latency or a 500

    async def worker(i: int) -> None:
        nonlocal nbytes
        _, user_id, _ = fx.tokens[i % len(fx.tokens)]
        headers = {"Authorization": f"Bearer {fx.tokens[i % len(fx.tokens)][0]}"} if sc.auth else {}
        if client_kind == "httpx":
            hx = httpx.AsyncClient(base_url=base, timeout=timeout)
        else:
            raw = RawHttp(host, int(port), timeout)
            request = raw.request_bytes(sc.path, headers)
        try:
            while True:
                t0 = clock()
                if t0 >= t_end:
                    return
                if client_kind == "httpx":
                    try:
                        r = await hx.get(sc.path, headers=headers)
                        status, body = r.status_code, r.content
                    except httpx.HTTPError as exc:
                        status, body = 0, repr(exc).encode()
                else:
                    status, body = await raw.get(request)
                t1 = clock()
                recorded = t_rec <= t0 and t1 <= t_end
                if status == 200:
                    out.ok_total += 1
                    if recorded:
                        out.latencies.append(t1 - t0)
                        nbytes += len(body)
                    if not out.sample:
                        out.sample, out.sample_user = body, user_id
                else:
                    out.err_total += 1
                    if recorded:
                        out.errors[str(status)] += 1
                    else:
                        out.errors_outside[str(status)] += 1
                    if len(out.error_samples) < 3:
                        out.error_samples.append(f"{status} after {t1 - t0:.1f} s: "
                                                 f"{body[:300].decode(errors='replace')}")
        finally:
            if client_kind == "httpx":
                await hx.aclose()
            else:
                raw.close()

    async def ticker() -> None:
        while (now := clock()) < t_end:
            if now >= t_rec and "start" not in cpu:
                cpu["start"] = (tree_cpu_seconds(server_pid), time.process_time(), postgres_cpu_seconds(),
                                *machine_busy_jiffies())
            progress.update(task, completed=now - t_start,
                            info="warm-up" if now < t_rec else f"{len(out.latencies):,} requests")
            await asyncio.sleep(min(0.25, max(0.0, (t_rec if now < t_rec else t_end) - now)))
        cpu["end"] = (tree_cpu_seconds(server_pid), time.process_time(), postgres_cpu_seconds(),
                      *machine_busy_jiffies())
        progress.update(task, completed=warmup + seconds, info="waiting for requests in flight")

    slow = [slow_client(host, int(port), fx.tokens[i % len(fx.tokens)][0], t_end, out.slow)
            for i in range(sc.slow_clients)]
    await asyncio.gather(ticker(), *(worker(i) for i in range(clients)), *slow)
    out.tail_s = clock() - t_end
    progress.remove_task(task)
    if "start" in cpu and "end" in cpu:
        out.server_cpu_s = cpu["end"][0] - cpu["start"][0]
        out.postgres_cpu_s = cpu["end"][2] - cpu["start"][2]
        out.machine_busy = (cpu["end"][3] - cpu["start"][3]) / max(1, cpu["end"][4] - cpu["start"][4])
        out.client_cpu_s = cpu["end"][1] - cpu["start"][1]
    out.bytes_per_response = nbytes / max(1, out.requests)
    return out


SLOW_BODY_BYTES = 4096  # declared, within the 2 MiB body limit; at 1 byte/s it never arrives


async def slow_client(host: str, port: int, token: str, until: float, seen: Counter[str]) -> None:
    """Send a POST's headers, then its body at 1 byte a second until ``until`` (bounded), and note the outcome.

    With a signed-in user's token (any account: without one the request is refused before its body
    is read), to a form endpoint, which reads the whole body before it answers.
    """
    head = (f"POST /api/v1/information/items HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {SLOW_BODY_BYTES}\r\n\r\n").encode()
    writer: asyncio.StreamWriter | None = None
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(head)
        answer = asyncio.ensure_future(reader.readline())
        while time.perf_counter() < until:
            done, _ = await asyncio.wait({answer}, timeout=min(1.0, max(0.0, until - time.perf_counter())))
            if done:
                line = answer.result()
                seen[line.split(b" ")[1].decode() if line.count(b" ") >= 2 else "closed"] += 1
                return
            writer.write(b" ")
            await writer.drain()
        answer.cancel()
        seen["still open at the end"] += 1
    except (OSError, ConnectionError) as exc:
        seen[f"closed ({type(exc).__name__})"] += 1
    finally:
        if writer is not None:
            writer.close()


def run_async(coro: Any) -> Any:
    """Run on uvloop when installed (cheaper for the load generator), else asyncio."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


# ---------------------------------------------------------------------------------------------
# one backend end to end


@dataclass
class BackendRun:
    backend: str
    outcomes: list[Outcome]
    checks: list[tuple[str, bool, str]]
    notes: list[str]


def run_backend(backend: str, database_url: str | None, args: argparse.Namespace, workdir: Path) -> list[BackendRun]:
    """Seed once, then run the scenarios against a server with each of ``--workers`` (several: PostgreSQL only)."""
    data_dir = workdir / f"data-{backend}"
    with console.status(f"{backend}: migrate, seed the demo, issue {args.clients} tokens…"):
        fx = build_fixture(data_dir, database_url, args.clients)
    console.print(f"{backend}: seeded in {fx.seed_s:.1f} s; item #{fx.item_id} (file #{fx.file_id}), "
                  f"public item #{fx.public_item_id}; item response ≈ {fx.item_json_bytes} B")
    runs = []
    for workers in args.workers:
        if workers > 1 and database_url is None:
            console.print(f"{backend}: {workers} workers skipped (`banso serve` refuses several workers on SQLite)")
            continue
        label = backend if args.workers == [1] else f"{backend}, {workers} worker{'s' if workers > 1 else ''}"
        runs.append(run_server(label, fx, args, workdir, workers))
    return runs


def run_server(backend: str, fx: Fixture, args: argparse.Namespace, workdir: Path, workers: int) -> BackendRun:
    """Serve with ``workers`` processes, run every scenario, then check the audit log and the copies."""
    data_dir, database_url = fx.data_dir, fx.database_url
    scenarios = [
        Scenario("bare (before)", "/bench/bare"),
        Scenario("item read", f"/api/v1/information/items/{fx.item_id}"),
    ]
    if args.slow_clients:
        scenarios.append(Scenario(f"item read + {args.slow_clients} slow clients",
                                  f"/api/v1/information/items/{fx.item_id}", slow_clients=args.slow_clients))
    scenarios.append(Scenario("file download", f"/api/v1/information/items/{fx.item_id}/files/{fx.file_id}"))
    if fx.public_item_id is not None and not args.no_public:
        public = f"/api/v1/information/public/items/{fx.public_item_id}"
        scenarios.append(Scenario("public item", public, auth=False))
        if args.public_clients and args.public_clients != args.clients:
            scenarios.append(Scenario(f"public item ({args.public_clients} clients)", public, auth=False,
                                      clients=args.public_clients))
    scenarios.append(Scenario("bare (after)", "/bench/bare"))
    before = count_rows(data_dir, database_url)
    outcomes: list[Outcome] = []
    notes = [f"load average before: {loadavg()}"]
    log_name = "server-" + re.sub(r"[^\w.-]+", "-", backend) + ".log"
    with server_process(fx, workdir / log_name, workers) as (base, proc), _progress() as progress:
        for sc in scenarios:
            o = run_async(run_scenario(base, sc, fx, backend=backend, clients=sc.clients or args.clients,
                                       warmup=args.warmup, seconds=args.seconds, server_pid=proc.pid,
                                       progress=progress, client_kind=args.client))
            outcomes.append(o)
            errors = ", ".join(f"{k}×{v}" for k, v in (o.errors + o.errors_outside).items()) or "0"
            console.print(f"  {backend} {o.scenario:<24} {o.requests:>7,} req {o.rps:8.1f} req/s  "
                          f"p50 {o.pct(.5):7.1f}  p95 {o.pct(.95):7.1f}  p99 {o.pct(.99):7.1f} ms  "
                          f"errors {errors}  server CPU {o.server_cpu_s / o.seconds:.0%}  "
                          f"client CPU {o.client_cpu_s / o.seconds:.0%}  postgres CPU {o.postgres_cpu_s / o.seconds:.0%}  "
                          f"machine busy {o.machine_busy:.0%} of {os.cpu_count()} CPUs  tail {o.tail_s:.1f} s  "
                          f"load {loadavg()}" + (f"  slow clients: {dict(o.slow)}" if o.slow else ""))
    server_log = (workdir / log_name).read_text(errors="replace")
    after = count_rows(data_dir, database_url)
    by = {o.scenario: o for o in outcomes}
    checks: list[tuple[str, bool, str]] = []
    read_ok = sum(o.ok_total for o in outcomes if o.scenario.startswith("item read"))
    dl_ok = by["file download"].ok_total
    d_read, d_dl = after[READ_TAG] - before[READ_TAG], after[DOWNLOAD_TAG] - before[DOWNLOAD_TAG]
    d_dist = after["distributions"] - before["distributions"]
    checks.append(("audit entries `information:item:read` = 200 item reads", d_read == read_ok,
                   f"{d_read:,} entries for {read_ok:,} responses"))
    checks.append(("audit entries `information:file:download` = 200 downloads", d_dl == dl_ok,
                   f"{d_dl:,} entries for {dl_ok:,} responses"))
    checks.append(("distribution rows = 200 downloads", d_dist == dl_ok, f"{d_dist:,} rows for {dl_ok:,} responses"))
    other = after["entries"] - before["entries"] - d_read - d_dl
    checks.append(("no other audit entries (public reads and the bare route write none)", other == 0,
                   f"{other} other entries"))
    sample = by["file download"].sample
    stamped = sample.startswith(b"%PDF") and b"/BansoFP" in sample
    checks.append(("downloaded copy is a stamped PDF", stamped, f"{len(sample):,} B, /BansoFP present: {stamped}"))
    if stamped:
        who = attribute_copy(data_dir, database_url, fx.item_id, sample)
        checks.append(("copy attributed to its recipient", who == by["file download"].sample_user,
                       f"attributed to user {who}, issued to user {by['file download'].sample_user}"))
    item_sample = by["item read"].sample
    with contextlib.suppress(ValueError):
        item_json = json.loads(item_sample)
        checks.append(("item response is the item", item_json.get("item", {}).get("id") == fx.item_id,
                       f"{len(item_sample):,} B (bare payload {fx.item_json_bytes:,} B)"))
    ok, summary, verify_s = verify_audit(data_dir, database_url)
    checks.append(("audit log verifies (banso audit verify)", ok, f"{summary} ({verify_s:.1f} s)"))
    for o in outcomes:
        if o.err_total:
            notes.append(f"{o.scenario}: {o.err_total} non-200 responses (recorded window: {dict(o.errors)}, "
                         f"warm-up and tail: {dict(o.errors_outside)}); samples: " + " | ".join(o.error_samples))
    if "Traceback" in server_log or "ERROR" in server_log:
        kinds = Counter(line for line in server_log.splitlines()
                        if line and not line.startswith((" ", "Traceback", "The above", "During handling"))
                        and ("Error" in line or "error" in line))
        notes.append(f"server log ({workdir / log_name}): {server_log.count('Traceback')} tracebacks; "
                     + "; ".join(f"{n}× {k[:160]}" for k, n in kinds.most_common(6)))
        first = server_log.find("Traceback")
        chunk = server_log[first:].split("ERROR:", 1)[0].splitlines()
        keep = [line for i, line in enumerate(chunk)
                if "/src/banso/" in line or (i and "/src/banso/" in chunk[i - 1])
                or re.match(r"^[A-Za-z_][\w.]*(Error|Exception)\b", line) or line.startswith("[SQL:")]
        notes.append("first server traceback (banso frames and exceptions):\n" + "\n".join(keep)[:4000])
    for o in outcomes:
        if o.slow:
            notes.append(f"{o.scenario}: the slow clients saw {dict(o.slow)}")
    notes.append(f"load average after: {loadavg()}")
    return BackendRun(backend=backend, outcomes=outcomes, checks=checks, notes=notes)


# ---------------------------------------------------------------------------------------------
# profile of one download (pyinstrument), in process


def profile_download(workdir: Path, repeats: int, database_url: str | None, backend: str) -> None:
    """Profile ``repeats`` downloads and reads through the services in one thread, then time whole requests."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        console.print("[yellow]pyinstrument is not installed: .venv/bin/python -m pip install pyinstrument[/yellow]")
        return
    from banso.accounts import repository as accounts_repo
    from banso.accounts import service as accounts
    from banso.app.wiring import build_context
    from banso.authz.principal import AuthMethod
    from banso.information import distribution
    from banso.information import service as info
    from banso.information.deps import information_deps

    data_dir = workdir / f"data-profile-{backend}"
    fx = build_fixture(data_dir, database_url, 1)
    ctx = build_context(settings_for(data_dir, database_url))
    deps = information_deps(ctx)
    with ctx.sessions() as db:
        user = accounts_repo.user_by_email(db, MEMBERS[0])
        assert user is not None
        principal = accounts.principal_for(user, method=AuthMethod.TOKEN, mfa=True)
        db.rollback()

    def one(kind: str) -> None:
        with ctx.sessions() as db:
            raw = fx.tokens[0][0]
            accounts.authenticate_token(db, raw=raw, now=ctx.clock.now(), ip="127.0.0.1")
            db.commit()
            if kind == "download":
                distribution.download_file(db, deps, item_id=fx.item_id, file_id=fx.file_id, actor=principal,
                                           now=ctx.clock.now())
            else:
                info.read_item(db, deps, item_id=fx.item_id, actor=principal, now=ctx.clock.now())
            db.commit()

    for kind in ("download", "read"):
        for _ in range(5):
            one(kind)  # warm caches (fonts, compiled statements)
        profiler = Profiler(interval=0.001)
        start = time.perf_counter()
        profiler.start()
        for _ in range(repeats):
            one(kind)
        profiler.stop()
        per = (time.perf_counter() - start) / repeats * 1000
        print(f"\n==== pyinstrument: {repeats} × {kind} through the services in one thread ({backend}): "
              f"{per:.1f} ms each ====")
        print(profiler.output_text(unicode=True, color=False, show_all=False, short_mode=False))
    ctx.engine.dispose()

    # The whole request, one at a time, in process (TestClient: no network, no concurrency).
    from fastapi.testclient import TestClient

    app = build_app(data_dir, database_url, fx.item_json_bytes)
    auth = {"Authorization": f"Bearer {fx.tokens[0][0]}"}
    paths = {"bare": "/bench/bare", "item read": f"/api/v1/information/items/{fx.item_id}",
             "file download": f"/api/v1/information/items/{fx.item_id}/files/{fx.file_id}"}
    if fx.public_item_id is not None:
        paths["public item"] = f"/api/v1/information/public/items/{fx.public_item_id}"
    print(f"\n==== whole requests through the app, one at a time (TestClient, {backend}) ====")
    from sqlalchemy import event

    statements: list[str] = []
    event.listen(app.state.ctx.engine, "before_cursor_execute",
                 lambda _c, _cur, sql, *_: statements.append(sql.split(None, 1)[0].upper()))
    with TestClient(app) as client:
        for name, path in paths.items():
            headers = {} if name == "public item" else auth  # the portal is read anonymously
            for _ in range(5):
                assert client.get(path, headers=headers).status_code == 200
            times = []
            statements.clear()
            for _ in range(repeats * 2):
                start = time.perf_counter()
                r = client.get(path, headers=headers)
                times.append(time.perf_counter() - start)
                assert r.status_code == 200, r.text
            kinds = Counter(statements)
            per = ", ".join(f"{k} {v / len(times):.1f}" for k, v in kinds.most_common())
            print(f"{name:<14} median {statistics.median(times) * 1000:6.2f} ms  "
                  f"mean {statistics.mean(times) * 1000:6.2f} ms  over {len(times)} requests; "
                  f"SQL statements per request: {len(statements) / len(times):.1f} ({per or 'none'})")


# ---------------------------------------------------------------------------------------------
# report


def ms(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:.1f}"  # NaN: no successful request in the window


def report(runs: list[BackendRun], args: argparse.Namespace) -> None:
    headers = ["scenario", "backend", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors",
               "p95 ÷ bare", "req/s ÷ bare", "server CPU ms/req"]
    title = f"{args.clients} clients, {args.seconds:g} s per scenario after {args.warmup:g} s warm-up"
    table = Table(*headers, title=title)
    md = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for run in runs:
        bares = [o for o in run.outcomes if o.scenario.startswith("bare")]
        base_p95 = statistics.mean(o.pct(.95) for o in bares)
        base_rps = statistics.mean(o.rps for o in bares)
        for o in run.outcomes:
            errors = o.err_total  # any phase: a stalled request may end after the window
            if o.scenario.startswith("bare"):
                ratio_p95, ratio_rps = f"{o.pct(.95) / base_p95:.2f}", f"{o.rps / base_rps:.2f}"
            else:
                ratio_p95, ratio_rps = f"**{o.pct(.95) / base_p95:.1f}×**", f"**{o.rps / base_rps:.3f}**"
            cpu = f"{o.server_cpu_s / o.requests * 1000:.2f}" if o.requests else "—"
            if not o.requests:
                ratio_p95, ratio_rps = "—", "**0**"
            row = [o.scenario, run.backend, f"{o.requests:,}", f"{o.rps:,.1f}", ms(o.pct(.5)), ms(o.pct(.95)),
                   ms(o.pct(.99)), f"{errors}", ratio_p95, ratio_rps, cpu]
            table.add_row(*[c.replace("**", "") for c in row])
            md.append("| " + " | ".join(row) + " |")
        md.append(f"| bare baseline (mean of the two) | {run.backend} | | {base_rps:,.1f} | | {base_p95:.1f} "
                  "| | | 1 | 1 | |")
        table.add_row("bare baseline (mean)", run.backend, "", f"{base_rps:,.1f}", "", f"{base_p95:.1f}", "", "",
                      "1", "1", "", end_section=True)
    console.print(table)
    for run in runs:
        console.rule(f"{run.backend}: checks")
        for name, ok, detail in run.checks:
            console.print(f"{'[green]ok[/green]  ' if ok else '[red]FAIL[/red]'} {name}: {detail}")
        for note in run.notes:
            console.print(f"note: {note}")
    summary = comparisons(runs)
    for line in summary:
        console.print(line)
    console.rule("Markdown")
    print("\n".join(md + [""] + [f"- {line}" for line in summary]))


def comparisons(runs: list[BackendRun]) -> list[str]:
    """Return the issue-17 figures: item reads with N workers ÷ 1 worker, and the change slow clients make."""
    lines = []
    single: dict[str, float] = {}
    for run in runs:
        base, _, workers = run.backend.partition(", ")
        by = {o.scenario: o for o in run.outcomes}
        read = by.get("item read")
        if read is None:
            continue
        if workers.startswith("1 "):
            single[base] = read.rps
        elif single.get(base):
            lines.append(f"{run.backend}: item read {read.rps:,.1f} req/s = **{read.rps / single[base]:.2f}×** "
                         f"the 1-worker {single[base]:,.1f} req/s (target ≥ 1.6×)")
        for name, slow in by.items():
            if "slow clients" in name and read.rps:
                change = (slow.rps - read.rps) / read.rps
                lines.append(f"{run.backend}: {name}: {slow.rps:,.1f} req/s, p95 {ms(slow.pct(.95))} ms "
                             f"(without: {read.rps:,.1f} req/s, p95 {ms(read.pct(.95))} ms): throughput "
                             f"**{change:+.0%}** (target within ±10 %), {slow.err_total} errors")
    return lines


# ---------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="recorded seconds per scenario")
    parser.add_argument("--warmup", type=float, default=2.0, help="unrecorded seconds before each scenario")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (keep-alive connections)")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction, default=True, help="run on SQLite")
    parser.add_argument("--postgres", action=argparse.BooleanOptionalAction, default=True,
                        help="run on a throwaway PostgreSQL server")
    parser.add_argument("--pg-durable", action="store_true",
                        help="PostgreSQL with fsync on (default: fsync=off, synchronous_commit=off as scripts/test.sh)")
    parser.add_argument("--no-public", action="store_true", help="skip the anonymous public-item scenario")
    parser.add_argument("--public-clients", type=int, default=0, metavar="N",
                        help="also run the public-item scenario with N clients (e.g. 32: below the thread pool's 40)")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="load generator: raw asyncio HTTP/1.1 (default) or httpx.AsyncClient per worker")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="instead of the load: profile N downloads and N reads in process with pyinstrument")
    parser.add_argument("--workdir", type=Path, default=None, help="folder for data and logs (default: a temp dir)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1], metavar="N",
                        help="serve with N worker processes; several values run one after the other on the same "
                             "data, e.g. --workers 1 2 (N > 1: PostgreSQL only, as `banso serve`)")
    parser.add_argument("--slow-clients", type=int, default=0, metavar="K",
                        help="also run the item read while K clients send a POST body at 1 byte/s (bounded: "
                             "they stop when the scenario ends)")
    # internal: the server subprocess
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bare-bytes", type=int, default=1000, help=argparse.SUPPRESS)
    parser.add_argument("--serve-workers", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.data_dir, args.database_url, args.port, args.bare_bytes, args.serve_workers)
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the clean-up (PostgreSQL, temp dirs)

    with tempfile.TemporaryDirectory(prefix="banso-info-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        if args.profile:
            if args.sqlite:
                profile_download(workdir, args.profile, None, "SQLite")
            if args.postgres:
                with throwaway_postgres(durable=args.pg_durable) as (url, version):
                    profile_download(workdir, args.profile, url, f"PostgreSQL {version.split('.')[0]}")
            return
        console.print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
                      f"load {loadavg()}, workdir {workdir}")
        runs: list[BackendRun] = []
        try:
            if args.sqlite:
                runs += run_backend("SQLite", None, args, workdir)
            if args.postgres:
                with throwaway_postgres(durable=args.pg_durable) as (url, version):
                    runs += run_backend(f"PostgreSQL {version.split('.')[0]}", url, args, workdir)
        except Exception:
            traceback.print_exc()
            if not runs:
                raise
        report(runs, args)
        failed = [name for run in runs for name, ok, _ in run.checks if not ok]
        errors = [f"{run.backend} {o.scenario}: {o.err_total}" for run in runs for o in run.outcomes if o.err_total]
        if failed or errors:
            console.print(f"[red]problems:[/red] failed checks {failed or 'none'}; non-200 responses {errors or 'none'}")
            sys.exit(1)


if __name__ == "__main__":
    main()
