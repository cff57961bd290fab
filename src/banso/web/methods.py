"""HEAD, OPTIONS and 405 for every route, decided once here from the routes themselves (RFC 9110 §9.3.2, §15.5.6).

FastAPI answers only the methods a route declares, so HEAD and OPTIONS were 405 everywhere, and a page's
405 lost its ``Allow`` header (the HTML error page dropped it; Starlette also names only the first route
of a path, not all of them). :class:`MethodRules` sits between the middleware and the router and

* answers a method no route of the path takes with **405 and the full ``Allow``** (every method of every
  route whose template matches the path, plus HEAD where it is answered and OPTIONS): JSON in the one
  error shape under ``/api/``, the error page elsewhere (``web.errors.method_not_allowed``);
* answers **OPTIONS** with 204 and ``Allow`` (no CORS: the API is same-origin or token-based). It says only
  what the route templates say, which the OpenAPI document says too: nothing about whether a given item
  exists or who may read it;
* answers **HEAD** by class of route (:func:`head_class`):

  - *reads* — an HTML page (``response_class=HTMLResponse``), an ``/api/`` route answering JSON, a JSON
    model outside the API (the health probes) or a redirect (the front door ``/``) — run
    the GET handler and send its status and headers without the body. The handler is the GET's own, so
    authorisation is the same: 401/403/404 (and the page's redirect to the login) exactly as GET. The
    request's unit of work is committed as for GET (``web.deps.get_db``): a HEAD confirms access and
    the answer's length, so an audited read (the panel view, a meeting) is recorded as one (A1) — a
    HEAD that kept nothing let a member watch audited records change without a trace.
  - *egress* — everything else: file downloads and exports (.xlsx/.pdf/.csv, stamped copies, sealed
    files, the viewer's page images), routes answering a bare ``Response`` (the language switch and the SSO
    start, which set cookies; /readyz and /metrics) — and any page or JSON route marked
    :func:`no_head` (the in-browser viewer and the item page, which stamp and record the text they
    show: a HEAD would record a copy nobody saw). Their GET
    records a distribution, stamps a copy or audits an export (I8, I12); running it for a HEAD would
    record an egress that never happened, and answering without running it cannot give GET's headers
    (type, length, file name depend on the copy). So HEAD is 405 with ``Allow: GET, OPTIONS`` there: the same
    answer for every item id and every caller, so it tells nothing about the item either.

Paths no route template matches (404, /static, trailing-slash redirects) go to the router unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.utils import get_typed_return_annotation
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_NO_HEAD: Final = "__banso_no_head__"
ORDER: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def no_head(endpoint: Endpoint) -> Endpoint:
    """Mark a GET page or JSON route whose answer is an egress (stamped, recorded): HEAD is 405 there."""
    setattr(endpoint, _NO_HEAD, True)
    return endpoint


def _declares_file(route: APIRoute) -> bool:
    """Return True when the route's 200 answer is documented as something other than JSON (``file_response``)."""
    content = (route.responses or {}).get(200, {}).get("content", {})
    return any(not media.endswith("json") for media in content)


def head_class(route: BaseRoute, path: str) -> str:
    """Return ``"read"`` when HEAD may run this GET route (body dropped), else ``"egress"`` (HEAD is 405)."""
    if not isinstance(route, APIRoute) or getattr(route.endpoint, _NO_HEAD, False):
        return "egress"
    answer = route.response_class
    if isinstance(answer, DefaultPlaceholder):
        answer = answer.value
    json = isinstance(answer, type) and issubclass(answer, JSONResponse)
    if path.startswith("/api/"):
        return "read" if json and not _declares_file(route) else "egress"
    if isinstance(answer, type) and issubclass(answer, HTMLResponse):
        return "read"  # a page
    if json and route.response_model is not None:
        return "read"  # a JSON model outside the API: the health probes
    return "read" if _returns(route, RedirectResponse) else "egress"  # a redirect (the front door)


def _returns(route: APIRoute, kind: type) -> bool:
    """Return True when the route's endpoint is annotated to return ``kind`` (or a subclass of it)."""
    try:
        answer = get_typed_return_annotation(route.endpoint)
    except (NameError, TypeError):  # an annotation that does not resolve says nothing
        return False
    return isinstance(answer, type) and issubclass(answer, kind)


@dataclass(frozen=True)
class _Template:
    regex: re.Pattern[str]
    methods: frozenset[str]
    head: str  # "read" or "egress": what a HEAD does when this is the path's GET route
    path: str


def _templates(routes: Sequence[BaseRoute]) -> list[_Template]:
    """The app's routes in routing order, each as its path pattern and methods (mounts left out)."""
    table: list[_Template] = []
    for context in iter_route_contexts(routes):
        path, methods = context.path, context.methods
        if not path or not methods:
            continue
        regex, _, _ = compile_path(path)
        table.append(_Template(regex, frozenset(m.upper() for m in methods),
                               head_class(context.original_route, path) if "GET" in methods else "egress", path))
    return table


def allow_header(methods: set[str]) -> str:
    """Return the methods as an ``Allow`` value, in the usual order."""
    return ", ".join(sorted(methods, key=lambda m: (ORDER.index(m) if m in ORDER else len(ORDER), m)))


class MethodRules:
    """Answer HEAD, OPTIONS and unsupported methods for every route (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, respond_405: Callable[[Request, str], Response]) -> None:
        self.app = app
        self.respond_405 = respond_405
        self._table: list[_Template] | None = None

    def table(self, scope: Scope) -> list[_Template]:
        """Return the route table of the app serving ``scope`` (built on the first request)."""
        if self._table is None:
            self._table = _templates(scope["app"].routes)
        return self._table

    def rules_for(self, scope: Scope) -> tuple[set[str], str | None]:
        """Return the methods the path's routes declare and, if one takes GET, its HEAD class."""
        path, root = scope.get("path", ""), scope.get("root_path", "")
        if root and path.startswith(root):  # behind a proxy's prefix the routes match what follows it
            path = path[len(root):] or "/"
        declared: set[str] = set()
        head: str | None = None
        for template in self.table(scope):
            if template.regex.match(path):
                declared |= template.methods
                if head is None and "GET" in template.methods:
                    head = template.head  # the router dispatches GET to the first match
        return declared, head

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "app" not in scope:
            await self.app(scope, receive, send)
            return
        method = scope["method"].upper()
        declared, head = self.rules_for(scope)
        if not declared or method in declared:
            await self.app(scope, receive, send)
            return
        allowed = declared | {"OPTIONS"} | ({"HEAD"} if head == "read" else set())
        if method == "OPTIONS":
            await Response(status_code=204, headers={"Allow": allow_header(allowed)})(scope, receive, send)
        elif method == "HEAD" and head == "read":
            await self.app({**scope, "method": "GET"}, receive, _without_body(send))
        else:
            response = self.respond_405(Request(scope, receive), allow_header(allowed))
            if method == "HEAD":
                send = _without_body(send)
            await response(scope, receive, send)


def _without_body(send: Send) -> Send:
    """Return a ``send`` that passes the status and headers (Content-Length included) and no body."""

    async def head_send(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return head_send
