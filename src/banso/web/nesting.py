"""Refuse JSON request bodies nested deeper than ``banso.kit.nesting.MAX_DEPTH`` (issue 17, O1).

The depth is read from the body as it arrives, before FastAPI parses it: a body of 100,000 ``[``
would otherwise end in ``RecursionError`` inside the parser and an unexplained 400. Nothing is
buffered here; the body size limit (``banso.web.middleware.BodySizeLimit``) still bounds the length.
"""

from __future__ import annotations

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banso.kit.nesting import MAX_DEPTH, JsonNesting, too_deep_message


class _TooDeep(HTTPException):
    """The body nests deeper than the limit.

    An ``HTTPException``, because FastAPI turns anything else raised while it reads the body into a
    bare 400; this one reaches ``banso.web.errors`` and is answered 422 with its reason.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=422, detail=too_deep_message("JSON", limit))


def _is_json(scope: Scope) -> bool:
    """Return True for a body FastAPI would parse as JSON (it also parses one that declares no type)."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            kind: bytes = value.split(b";", 1)[0].strip().lower()
            return kind == b"application/json" or kind.endswith(b"+json")
    return True


class JsonNestingLimit:
    """Answer 422 to a JSON request body nested deeper than ``max_depth``, naming the limit."""

    def __init__(self, app: ASGIApp, *, max_depth: int = MAX_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        scanner = JsonNesting()
        started = False

        async def checked_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and scanner.feed(message.get("body", b"")) > self.max_depth:
                raise _TooDeep(self.max_depth)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, checked_receive, tracking_send)
        except _TooDeep:
            if not started:
                await _refuse(send, self.max_depth)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"error": "validation_failed", "message": too_deep_message("JSON", limit)},
                      ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 422,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
