"""ASGI middleware: body size limit, security headers, CSRF for cookie-authenticated writes."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class BodyTooLarge(Exception):
    """The request body exceeded the limit."""


class BodySizeLimit:
    """Refuse request bodies over ``max_bytes`` with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, *, max_bytes: int,
                 larger: Sequence[tuple[re.Pattern[str], int]] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # (path pattern, limit): POST routes that take files may allow more than the default
        self.larger = tuple(larger)

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
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _json_error(send, 400, "bad_request", "invalid Content-Length")
                    return
                if declared > max_bytes:
                    await _json_error(send, 413, "payload_too_large", f"body exceeds {max_bytes} bytes")
                    return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not response_started:
                await _json_error(send, 413, "payload_too_large", f"body exceeds {max_bytes} bytes")


async def _json_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": code, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
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

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        import anyio

        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.app = app
        self.limit = limit
        self._slots = anyio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self._slots:
            await self.app(scope, receive, send)
