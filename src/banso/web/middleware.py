"""ASGI middleware: rate limits, bodies read before admission, admission, security headers, error answers."""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Self

from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banso.web.form_text import Undecodable, is_form, undecodable_field
from banso.web.templating import render_error

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class BufferedBody:
    """Read the whole request body before the request goes on, within a size limit and a minimum rate (O4).

    Why before admission: ``ConcurrencyLimit`` (inside this) hands out few slots; a client that sends
    its headers and then one byte a second held a slot for as long as it liked, and thirty of them
    took the server down. Here a body is read first, on the event loop (no thread, no slot, no
    database connection), and the request is admitted only once it is complete.

    * Over ``max_bytes`` (or the route's larger limit): 413, from Content-Length at once, else as
      soon as the body passes the limit.
    * Too slow: after ``grace_seconds`` the body must keep up ``min_rate`` bytes a second on
      average (``received >= min_rate * (elapsed - grace)``), else 408 and the connection closes.

    A body stays in memory up to ``memory_bytes`` and goes to a temporary file beyond, so that
    bodies waiting for admission cost disk, not memory.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, larger: Sequence[tuple[re.Pattern[str], int]] = (),
                 grace_seconds: float, min_rate: int, memory_bytes: int = 1024 * 1024) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # (path pattern, limit): POST routes that take files may allow more than the default
        self.larger = tuple(larger)
        self.grace_seconds = grace_seconds
        self.min_rate = min_rate
        self.memory_bytes = memory_bytes

    def limit_for(self, scope: Scope) -> int:
        """Return the body limit of this request (a file-upload route's own, else the default)."""
        if scope.get("method") == "POST":
            path = scope.get("path", "")
            for pattern, limit in self.larger:
                if pattern.match(path):
                    return max(limit, self.max_bytes)
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is None:
            await _json_error(send, 400, "bad_request", "Content-Length が不正です / invalid Content-Length")
            return
        if declared > max_bytes:
            await _too_large(scope, receive, send, max_bytes)
            return
        with _Spool(self.memory_bytes) as spool:
            outcome = await self._read(receive, spool, max_bytes)
            if outcome == "slow":
                await _json_error(send, 408, "request_timeout", _too_slow(self.grace_seconds, self.min_rate),
                                  close=True)
            elif outcome == "large":
                await _too_large(scope, receive, send, max_bytes, close=True)
            elif outcome == "read":
                content_type = _header(scope, b"content-type")
                bad = await spool.undecodable_field(content_type) if is_form(content_type) else None
                if bad is not None:  # O1: Starlette would take it as Latin-1 and store mojibake
                    await _json_error(send, 422, "invalid_encoding", _undecodable_message(bad))
                    return
                await self.app(scope, spool.replay(receive), send)
            # "gone": the client left before its body was complete; nobody to answer

    async def _read(self, receive: Receive, spool: _Spool, max_bytes: int) -> str:
        """Read the body into ``spool``; return ``read``, ``slow``, ``large`` or ``gone``."""
        import anyio

        start = anyio.current_time()
        while True:
            # The minimum rate as a moving deadline: every byte received buys 1/min_rate s more.
            deadline = start + self.grace_seconds + spool.size / self.min_rate
            with anyio.move_on_after(max(deadline - anyio.current_time(), 0.0)):
                message = await receive()
                if message["type"] != "http.request":
                    return "gone"
                await spool.add(message.get("body", b""))
                if spool.size > max_bytes:
                    return "large"
                if not message.get("more_body", False):
                    return "read"
                continue
            return "slow"


class _Spool:
    """A request body as read: in memory up to ``memory_bytes``, then in a temporary file."""

    CHUNK = 64 * 1024

    def __init__(self, memory_bytes: int) -> None:
        self.memory_bytes = memory_bytes
        self.size = 0
        self._chunks: list[bytes] = []
        self._file: Any = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._file is not None:
            self._file.close()

    async def add(self, data: bytes) -> None:
        """Keep ``data``; past the memory budget write it to the file (in a worker thread: disk I/O)."""
        import tempfile

        import anyio

        self.size += len(data)
        if self._file is None and self.size <= self.memory_bytes:
            self._chunks.append(data)
            return
        if self._file is None:
            self._file = await anyio.to_thread.run_sync(tempfile.TemporaryFile)
            data, self._chunks = b"".join([*self._chunks, data]), []
        await anyio.to_thread.run_sync(self._file.write, data)

    async def undecodable_field(self, content_type: str) -> Undecodable | None:
        """Return the first form field of the body that is not UTF-8 (``banso.web.form_text``), else None."""
        import anyio

        if self._file is None:
            return undecodable_field(content_type, self._chunks)
        return await anyio.to_thread.run_sync(self._undecodable_in_file, content_type)  # disk I/O, parsing

    def _undecodable_in_file(self, content_type: str) -> Undecodable | None:
        self._file.seek(0)
        return undecodable_field(content_type, iter(lambda: self._file.read(self.CHUNK), b""))

    def replay(self, receive: Receive) -> Receive:
        """Return a ``receive`` that gives the body back, then passes on (a later disconnect)."""
        import anyio

        state = {"done": False, "rewound": False}

        async def replayed() -> Message:
            if state["done"]:
                return await receive()
            if self._file is None:
                state["done"] = True
                return {"type": "http.request", "body": b"".join(self._chunks), "more_body": False}
            if not state["rewound"]:
                await anyio.to_thread.run_sync(self._file.seek, 0)
                state["rewound"] = True
            chunk: bytes = await anyio.to_thread.run_sync(self._file.read, self.CHUNK)
            more = len(chunk) == self.CHUNK and self._file.tell() < self.size
            state["done"] = not more
            return {"type": "http.request", "body": chunk, "more_body": more}

        return replayed


def _header(scope: Scope, name: bytes) -> str:
    """Return a request header's value as text ('' when absent)."""
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


def _content_length(scope: Scope) -> int | None:
    """Return the declared body length (0 when none is declared), or None when it is not a number."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                return None
            return declared if declared >= 0 else None
    return 0


def _too_slow(grace_seconds: float, min_rate: int) -> str:
    return (f"リクエスト本文の受信が遅すぎます（{grace_seconds:g} 秒の後は毎秒 {min_rate} バイト以上）"
            f" / The request body arrived too slowly (after {grace_seconds:g} s at least {min_rate} bytes a second)")


async def _too_large(scope: Scope, receive: Receive, send: Send, max_bytes: int, *, close: bool = False) -> None:
    """Answer 413: JSON under ``/api/``, the error page elsewhere (a browser form gets a page, as every
    other refusal of a page route does in ``banso.web.errors``)."""
    message = f"リクエスト本文が大きすぎます（上限 {max_bytes} バイト） / body exceeds {max_bytes} bytes"
    # the page needs the app (its settings and translations): a bare ASGI app behind this answers JSON
    if str(scope.get("path", "")).startswith("/api/") or "app" not in scope:
        await _json_error(send, 413, "payload_too_large", message, close=close)
        return
    page = render_error(Request(scope), status=413, code="payload_too_large", message=message)
    if close:
        page.headers["connection"] = "close"
    await page(scope, receive, send)


async def _json_error(send: Send, status: int, code: str, message: str, *, close: bool = False,
                      headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"error": code, "message": message}, ensure_ascii=False).encode()
    head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]
    if close:  # the rest of an unread body is not worth waiting for: end the connection after the answer
        head.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        (b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
         b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    ),
]


class SecurityHeaders:
    """Add security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                present = {name for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, add_headers)


NO_STORE_HEADERS: list[tuple[bytes, bytes]] = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]


class NoStoreWhenAuthenticated:
    """Mark every response to an authenticated request ``Cache-Control: no-store`` and ``Pragma: no-cache``.

    Why here and not per route: a confidential page, JSON answer or file download must never stay in
    a shared or browser cache, and a route that forgets the header would leak silently. A request
    counts as authenticated when it carries an ``Authorization`` header or the session cookie, or
    when the response starts a session; anonymous requests (the public portal) keep their caching.
    Static assets are exempt: they are the same for everyone.
    """

    def __init__(self, app: ASGIApp, *, session_cookie: str) -> None:
        self.app = app
        self.session_cookie = session_cookie

    def _carries_credentials(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                return True
            if name == b"cookie" and self.session_cookie in cookie_parser(value.decode("latin-1")):
                return True
        return False

    def _starts_session(self, headers: list[Any]) -> bool:
        marker = f"{self.session_cookie}=".encode()
        return any(name.lower() == b"set-cookie" and value.startswith(marker) for name, value in headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith("/static/"):
            await self.app(scope, receive, send)
            return
        authenticated = self._carries_credentials(scope)

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                if authenticated or self._starts_session(headers):
                    headers = [h for h in headers if h[0].lower() not in {b"cache-control", b"pragma", b"expires"}]
                    headers.extend(NO_STORE_HEADERS)
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, add_headers)


class ConcurrencyLimit:
    """Admit at most ``limit`` HTTP requests at a time; the rest wait on the event loop.

    Why: sync endpoints run in AnyIO's worker threads (40 by default). A request that holds the
    SQLite write lock (``BEGIN IMMEDIATE``) or a pooled connection still needs a worker thread to
    validate its response and close its session. If every thread is taken by requests *waiting*
    for that lock or connection, the holder can never finish: all of them stall until the 30 s
    timeouts and answer 500 (found by benchmarks/information_reads.py at 41+ concurrent clients).
    Keeping the number of admitted requests below the thread count means a holder always finds a
    thread. Waiting here costs no thread and no connection.
    """

    def __init__(self, app: ASGIApp, *, limit: int, exempt: frozenset[str] = frozenset()) -> None:
        import anyio

        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.app = app
        self.limit = limit
        # Probes (/livez, /readyz, /metrics) use no pooled connection; admitting them past the queue
        # keeps a liveness check answering while slow or many clients fill the slots.
        self.exempt = exempt
        self._slots = anyio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "") in self.exempt:
            await self.app(scope, receive, send)
            return
        async with self._slots:
            await self.app(scope, receive, send)


class _Bucket:
    """A token bucket: ``burst`` tokens at most, refilled at ``rate`` a second."""

    __slots__ = ("at", "tokens")

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens = tokens
        self.at = at


def _normalised_authorization(value: bytes) -> bytes:
    """Return an Authorization value as a server reads it: scheme lower-cased, white space trimmed."""
    scheme, _, rest = value.strip().partition(b" ")
    return scheme.lower() + b" " + rest.strip()


class RateLimit:
    """Answer 429 with ``Retry-After`` to a client over its request rate (a token bucket per client).

    A client is its credential when it sends one (the API token or the session cookie, kept only as a
    hash), else its address: several people behind one address each have their own bucket once
    signed in, and one token cannot be spread over many addresses. The credential is counted before
    it is verified, so it is normalised first (scheme in any case, surrounding white space ignored:
    ``Bearer`` plus N spaces is the same token), and a request with a credential is ALSO charged to
    its address, with ``ADDRESS_FACTOR`` times the authenticated rate and burst: a random cookie or
    token per request no longer buys a fresh bucket, while a ministry behind one NAT address is not
    throttled as one user. Anonymous requests keep their anonymous address bucket. A rate of 0 turns
    a limit off.
    Buckets live in this process (with several workers each has its own) and at most
    ``max_clients`` of them: the least recently seen are forgotten first, which only ever gives a
    client a full bucket again. Health probes are never limited.
    """

    ADDRESS_FACTOR = 10

    def __init__(self, app: ASGIApp, *, session_cookie: str, per_second: float, burst: int,
                 anonymous_per_second: float, anonymous_burst: int, max_clients: int = 50_000,
                 clock: Callable[[], float] = time.monotonic, exempt: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.exempt = exempt  # health probes and metrics
        self.session_cookie = session_cookie
        self.limits = {True: (per_second, max(burst, 1)), False: (anonymous_per_second, max(anonymous_burst, 1))}
        # what all credentialed requests from one address may do together (see the class docstring)
        self.address_limit = (per_second * self.ADDRESS_FACTOR, max(burst, 1) * self.ADDRESS_FACTOR)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def client_of(self, scope: Scope) -> tuple[str, bool]:
        """Return the client's key and whether it is a credential (else the address)."""
        for name, value in scope.get("headers", []):
            if name == b"authorization" and value.strip():
                return "t" + hashlib.sha256(_normalised_authorization(value)).hexdigest()[:32], True
            if name == b"cookie":
                session = cookie_parser(value.decode("latin-1")).get(self.session_cookie, "").strip()
                if session:
                    return "s" + hashlib.sha256(session.encode()).hexdigest()[:32], True
        return self.address_of(scope), False

    @staticmethod
    def address_of(scope: Scope) -> str:
        """Return the key of the client's address bucket."""
        client = scope.get("client")
        return "a" + (client[0] if client else "unknown")

    def wait_of(self, scope: Scope) -> float:
        """Charge the request to its buckets; return 0, or the seconds until it may come again."""
        key, credential = self.client_of(scope)
        rate, burst = self.limits[credential]
        wait = self.wait_for(key, rate, burst) if rate > 0 else 0.0
        if credential and wait <= 0 and self.address_limit[0] > 0:
            # "c": credentialed requests of one address, apart from that address's anonymous bucket
            wait = self.wait_for("c" + self.address_of(scope), *self.address_limit)
        return wait

    def wait_for(self, key: str, rate: float, burst: int) -> float:
        """Take a token from ``key``'s bucket; return 0, or the seconds until one is free (none taken)."""
        now = self.clock()
        bucket = self._buckets.pop(key, None) or _Bucket(float(burst), now)
        self._buckets[key] = bucket  # most recently seen last
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        bucket.tokens = min(float(burst), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "") in self.exempt:
            await self.app(scope, receive, send)
            return
        wait = self.wait_of(scope)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        await _json_error(send, 429, "too_many_requests",
                          f"リクエストが多すぎます。{retry_after} 秒後に再度お試しください"
                          f" / Too many requests; try again in {retry_after} s",
                          headers=[(b"retry-after", str(retry_after).encode())], close=True)


class CatchErrors:
    """Answer an unexpected error with ``respond``'s page and keep the connection open (O4).

    Starlette's outermost ServerErrorMiddleware sends its 500 and then re-raises, so the server logs
    the error a second time and closes the keep-alive connection. Installed innermost, this answers
    first and does not re-raise: ``respond`` logs once and draws the answer (500, or 503/507 for an
    outage, see ``web.errors.error_response``). When the response has already started, nothing can
    be said any more: the error goes on so that the server cuts the connection and the client sees
    an incomplete answer, never a complete-looking one.
    """

    def __init__(self, app: ASGIApp, *, respond: Callable[[Request, Exception], Response]) -> None:
        self.app = app
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = self.respond(Request(scope, receive), exc)
            await response(scope, receive, send)


def _undecodable_message(bad: Undecodable) -> str:
    """The refusal of a form field that is not UTF-8; a typed part is a file whose name the client dropped."""
    if bad.typed:
        return (f"ファイルを選んでください（「{bad.name}」にファイル名がありません） / "
                f"choose a file (the part {bad.name!r} has no file name)")
    return f"フォームの項目「{bad.name}」が UTF-8 ではありません / form field {bad.name!r} is not UTF-8 text"
