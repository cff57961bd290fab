"""Every route that takes a file is an upload route of the body-size limit (O1; outside tester, issue 14).

The app-wide body limit (BodySizeLimit) is a few MiB; routes that take a file up to the service's 20 MiB cap are
listed in ``UPLOAD_ROUTES``. A route added with a ``File()`` parameter but not listed refused every file above the
app-wide limit with 413 although its page says 20 MiB; this sweep keeps the list and the routes equal.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.information.endpoints import UPLOAD_ROUTES
from banso.kit.clock import FakeClock
from tests.support.factories import Factory
from tests.support.http import bearer

# Routes whose own cap fits under the app-wide body limit, so they need no larger budget (and get none).
SMALL_UPLOADS = {
    "/api/v1/programme/proposals/{proposal_id}/budget.xlsx",  # budget_excel.MAX_FILE_BYTES = 1 MB
    "/programme/proposals/{proposal_id}/budget",
}


def _takes_file(dependant: Dependant) -> bool:
    return any(isinstance(f.field_info, params.File) for f in dependant.body_params) or any(
        _takes_file(d) for d in dependant.dependencies)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "7", path)


def _routes(app: FastAPI) -> list[APIRoute]:
    return [r for r in iter_route_contexts(app.routes) if isinstance(r.original_route, APIRoute)]


def test_every_route_with_a_file_parameter_is_an_upload_route(app: FastAPI) -> None:
    """A route with a ``File()`` parameter matches UPLOAD_ROUTES (or is a declared small upload); a write route
    matched by UPLOAD_ROUTES takes a file, so the larger budget is not handed to anything else."""
    routes = _routes(app)
    with_files = {r.path for r in routes if _takes_file(r.dependant)}
    assert len(with_files) > 15  # the walk really sees the app's routers
    missing = sorted(p for p in with_files - SMALL_UPLOADS if not UPLOAD_ROUTES.match(_concrete(p)))
    assert missing == [], "file-taking routes missing from UPLOAD_ROUTES:\n" + "\n".join(missing)
    assert SMALL_UPLOADS <= with_files  # an exemption names a real route
    extra = sorted(r.path for r in routes if {"POST", "PUT", "PATCH"} & set(r.methods)
                   and UPLOAD_ROUTES.match(_concrete(r.path)) and not _takes_file(r.dependant))
    assert extra == [], "UPLOAD_ROUTES grants the larger body to routes without a file:\n" + "\n".join(extra)


@pytest.mark.parametrize("path", [
    "/api/v1/programme/proposals/7/documents", "/programme/proposals/7/documents",
    "/api/v1/programme/commissions/7/requests/7/answer", "/programme/commissions/7/requests/7/answer"])
def test_a_file_above_the_app_wide_limit_reaches_the_route(client: TestClient, db: Session, factory: Factory,
                                                           clock: FakeClock, path: str) -> None:
    """A 3 MiB file (over the app-wide limit, under the 20 MiB cap) is not refused with 413 by the body limit on
    this session's new upload routes; the route itself then answers (here: the proposal/commission is unknown)."""
    person = factory.person(roles=("analyst",))
    db.commit()
    sent = client.post(path, headers=bearer(db, person, clock), data={"text": "x", "title": "x"},
                       files=[("file", ("big.csv", b"a,b\n" * (3 * 1024 * 256), "text/csv"))])
    assert sent.status_code != 413, sent.text[:300]
