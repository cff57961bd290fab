"""The OpenAPI document of ``/api/v1``: who must authenticate, which errors come back, what files are.

FastAPI's generated document knows the routes' 2xx JSON bodies only. This module adds what a client
(and the fuzz run, ``tests/api/test_fuzz.py``, which checks every answer against it) needs besides:

- the **security scheme**: API tokens (``banso tokens issue``) as HTTP bearer; an operation whose
  dependencies ask for the caller (``ApiUser``) requires it, one that only looks at who asks accepts it,
  public operations have none (the session cookie is for pages, never documented here);
- the **errors**, every one in the single ``Error`` shape ``web/errors.py`` and the middleware write
  (``{error, message, field?, problems?}``), on every operation they can come from;
- the **content types** of files, which endpoints declare with :func:`file_response`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from banso.web.deps import RequirePermission, api_principal, get_auth

BEARER = "apiToken"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "description": "Every error answer of the API: a code, a message (Japanese / English), and for bad "
                   "input the field or the list of problems.",
    "properties": {
        "error": {"type": "string", "description": "machine-readable code, e.g. not_found, validation_failed"},
        "message": {"type": "string"},
        "field": {"type": "string"},
        "problems": {"type": "array", "items": {
            "type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            "required": ["field", "message"]}},
    },
    "required": ["error", "message"],
}

# Status → when it is documented. Every operation can be refused by admission control (503) or the
# database being away (503), and any input can be out of range (422); the rest depends on the route.
_ERRORS: dict[str, str] = {
    "400": "Bad request (e.g. a value the database cannot hold)",
    "401": "No valid API token (or a second factor is required)",
    "403": "The token's holder or scopes may not do this",
    "404": "Not found — or not visible to the caller (I7: 404, not 403)",
    "409": "Conflicts with the current state",
    "413": "Request body too large",
    "422": "Invalid input (the reason in message, field or problems)",
    "429": "Too many requests (Retry-After)",
    "503": "Server busy or database unavailable (Retry-After)",
    "507": "Insufficient storage",
}
_ALWAYS = ("400", "404", "409", "422", "429", "503")
_WITH_BODY = ("413", "507")
_WITH_CALLER = ("401", "403")


def file_response(*media_types: str, description: str = "The file") -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route that answers a file (binary) of one of ``media_types``."""
    # Text formats carry no schema: a reader parses YAML or CSV into data, which no "string" schema fits.
    return {200: {"description": description, "content": {
        media: {} if media.startswith("text/") or media.endswith("yaml") else {
            "schema": {"type": "string", "format": "binary"}} for media in media_types}}}


def _walk(dependant: Dependant) -> Iterable[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _walk(dep)


def _caller(dependant: Dependant) -> str:
    """``"required"`` when the route asks for the caller, ``"optional"`` when it only looks, else ``""``."""
    calls = list(_walk(dependant))
    if api_principal in calls:
        return "required"
    if get_auth in calls or any(isinstance(c, RequirePermission) for c in calls):
        return "optional"
    return ""


def _error(status: str) -> dict[str, Any]:
    return {"description": _ERRORS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _complete_document(app: FastAPI, schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    # Our 422 is the Error shape, not FastAPI's: drop its unused validation schemas.
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    components["securitySchemes"] = {BEARER: {
        "type": "http", "scheme": "bearer",
        "description": "API token issued by an operator with `banso tokens issue EMAIL` (bns_…)."}}
    # The effective routes, with the dependencies their routers and includes add (as FastAPI builds them).
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.original_route.include_in_schema:
            continue
        caller = _caller(route.dependant)
        for method in route.methods or ():
            operation = schema["paths"].get(route.path or "", {}).get(method.lower())
            if operation is not None:
                _complete(operation, caller)


def _complete(operation: dict[str, Any], caller: str) -> None:
    if caller == "required":
        operation["security"] = [{BEARER: []}]
    elif caller == "optional":
        operation["security"] = [{}, {BEARER: []}]  # anonymous callers get the public answer
    statuses = list(_ALWAYS)
    if "requestBody" in operation:
        statuses += _WITH_BODY
    if caller:  # also "optional": a token that is not valid (expired, revoked) is refused
        statuses += _WITH_CALLER
    responses = operation.setdefault("responses", {})
    for status in sorted(statuses):
        responses[status] = _error(status)


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at the app's ``openapi_url`` (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _complete_document(app, FastAPI.openapi(app))  # FastAPI's own, cached on the app
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
