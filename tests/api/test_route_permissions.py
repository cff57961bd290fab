"""Every ``/api/v1`` route declares the permission a narrowed API token must carry (issue 11).

Routes declare it with ``banso.web.deps.requires`` — on the route, on its router, or where the app
includes the router. This test walks the real app, so a new route or router without a declaration
fails here instead of silently ignoring token scopes.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from banso.authz.permissions import Permission
from banso.web.deps import RequirePermission


def _declared(dependant: Dependant) -> set[Permission]:
    """Return every permission declared anywhere in a route's dependency tree."""
    found: set[Permission] = set()
    for sub in dependant.dependencies:
        if isinstance(sub.call, RequirePermission):
            found |= sub.call.permissions
        found |= _declared(sub)
    return found


def api_routes(app: FastAPI) -> list[Any]:
    """Return the app's effective API routes (with the dependencies their include added)."""
    return [r for r in iter_route_contexts(app.routes)
            if isinstance(r.original_route, APIRoute) and (r.path or "").startswith("/api/v1/")]


def test_every_api_route_declares_its_permission(app: FastAPI) -> None:
    routes = api_routes(app)
    assert len(routes) > 100  # the walk really sees the app's routers
    missing = sorted(f"{sorted(r.methods)} {r.path}" for r in routes if not _declared(r.dependant))
    assert missing == [], "API routes without a declared permission (use banso.web.deps.requires):\n" + "\n".join(
        missing)


def test_declared_permissions_are_the_expected_ones(app: FastAPI) -> None:
    by_path = {(next(iter(r.methods)), r.path): _declared(r.dependant) for r in api_routes(app)}
    assert by_path[("GET", "/api/v1/notifications")] == {Permission.DASHBOARD_VIEW}
    assert by_path[("GET", "/api/v1/audit/entries")] == {Permission.AUDIT_OWN_READ, Permission.AUDIT_LOG_READ}
    assert by_path[("POST", "/api/v1/audit/checkpoints")] == {Permission.AUDIT_CHECKPOINT_SIGN}
    assert by_path[("GET", "/api/v1/information/ballots")] == {Permission.COUNCIL_PARTICIPATE}
    assert by_path[("GET", "/api/v1/councils")] == {Permission.COUNCIL_PARTICIPATE}
    assert by_path[("POST", "/api/v1/users")] == {Permission.USER_MANAGE}
    assert by_path[("GET", "/api/v1/me")] == {Permission.DASHBOARD_VIEW}
