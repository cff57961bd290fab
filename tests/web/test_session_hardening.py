"""Sessions (issue 11): a new session id at each privilege step, CSRF on every state change, and
``Cache-Control: no-store`` on every authenticated response."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.accounts.security import sha256_hex
from banso.kit.clock import FakeClock
from banso.kit.crypto import SecretBox
from banso.web.context import AppContext
from banso.web.deps import PRELOGIN_CSRF_COOKIE, SESSION_COOKIE
from tests.support.factories import Factory
from tests.support.http import bearer, csrf_of, post_code, post_password, sign_in

SAFE = {"GET", "HEAD", "OPTIONS"}


def _cookie(client: TestClient) -> str:
    value = client.cookies.get(SESSION_COOKIE)
    assert value
    return str(value)


def _me_with(app: FastAPI, cookie: str) -> int:
    """Return the status of GET /api/v1/me made with only this session cookie (a fresh client)."""
    with TestClient(app, base_url="http://testserver") as other:
        other.cookies.set(SESSION_COOKIE, cookie)
        return int(other.get("/api/v1/me").status_code)


# ---------------------------------------------------------------------------------------------
# Session id rotation


def test_second_factor_gives_a_new_session_id_and_ends_the_old_one(
    client: TestClient, app: FastAPI, factory: Factory, db: Session, clock: FakeClock
) -> None:
    person = factory.person()
    db.commit()
    assert post_password(client, person.email, person.password).status_code == 303
    before = _cookie(client)
    clock.advance(seconds=30)
    done = post_code(client, person.code(clock))
    assert done.status_code == 303 and done.headers["location"] == "/dashboard"
    after = _cookie(client)
    assert after != before
    assert _me_with(app, before) == 401  # the pre-second-factor id is worth nothing now
    assert _me_with(app, after) == 200
    assert client.get("/dashboard").status_code == 200  # the browser carries on with the new id


def test_password_login_ends_the_session_the_browser_already_had(
    client: TestClient, factory: Factory, db: Session
) -> None:
    first, second = factory.person(), factory.person()
    db.commit()
    assert post_password(client, first.email, first.password).status_code == 303
    old = _cookie(client)
    # logging in again from the same browser (back at the login form): a fresh id, the old one ends
    assert client.get("/login").status_code == 200
    again = client.post("/login", data={"email": second.email, "password": second.password, "next": "/dashboard",
                                        "csrf_token": client.cookies.get(PRELOGIN_CSRF_COOKIE)},
                        follow_redirects=False)
    assert again.status_code == 303
    assert _cookie(client) != old
    record = accounts_repo.session_by_hash(db, sha256_hex(old))
    assert record is not None
    db.refresh(record)
    assert record.revoked_at is not None


def test_confirming_enrolment_gives_a_new_session_id(
    client: TestClient, app: FastAPI, factory: Factory, db: Session, clock: FakeClock, box: SecretBox
) -> None:
    person = factory.person(with_totp=False)
    db.commit()
    assert post_password(client, person.email, person.password).status_code == 303
    before = _cookie(client)
    page = client.get("/account/2fa/setup")
    assert page.status_code == 200
    user = accounts_repo.user_by_id(db, person.user.id)
    assert user is not None
    db.refresh(user)
    assert user.totp_secret_enc is not None
    secret = box.open(user.totp_secret_enc)
    done = client.post("/account/2fa/setup", data={"code": pyotp.TOTP(secret).at(clock.now()),
                                                    "csrf_token": csrf_of(page.text)})
    assert done.status_code == 200, done.text[:300]
    after = _cookie(client)
    assert after != before
    assert _me_with(app, before) == 401
    assert _me_with(app, after) == 200


# ---------------------------------------------------------------------------------------------
# CSRF on every state change


def _unsafe_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Return (method, concrete path) for every non-GET route of the app, path parameters set to 1."""
    found: list[tuple[str, str]] = []
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute):
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path or "")
        found += [(method, path) for method in sorted((route.methods or set()) - SAFE)]
    return found


def test_every_state_change_refuses_a_cookie_session_without_the_csrf_token(
    client: TestClient, app: FastAPI, factory: Factory, db: Session, ctx: AppContext
) -> None:
    admin = factory.person(roles=("admin", "officer", "agency_staff", "auditor"))
    sign_in(client, db, admin, ctx)
    routes = _unsafe_routes(app)
    assert len(routes) > 100 and ("POST", "/api/v1/audit/checkpoints") in routes
    accepted: list[str] = []
    for method, path in routes:
        response = client.request(method, path, data={"csrf_token": "forged"}, follow_redirects=False)
        if response.status_code != 403 or "CSRF" not in response.text:
            accepted.append(f"{method} {path} -> {response.status_code}")
    assert accepted == [], "state changes that took a cookie session without its CSRF token:\n" + "\n".join(
        accepted)


def test_signing_a_checkpoint_needs_the_csrf_token_but_a_bearer_token_does_not(
    client: TestClient, factory: Factory, db: Session, ctx: AppContext, clock: FakeClock
) -> None:
    admin = factory.person(roles=("admin",))
    csrf = sign_in(client, db, admin, ctx)
    refused = client.post("/api/v1/audit/checkpoints")
    assert refused.status_code == 403 and "CSRF" in refused.json()["message"]
    assert client.post("/api/v1/audit/checkpoints", headers={"X-CSRF-Token": csrf}).status_code == 201
    client.cookies.clear()
    assert client.post("/api/v1/audit/checkpoints", headers=bearer(db, admin, clock)).status_code == 201


# ---------------------------------------------------------------------------------------------
# No caching of authenticated responses


def _no_store(response: Any) -> bool:
    return bool(response.headers.get("cache-control") == "no-store" and response.headers.get("pragma") == "no-cache")


def test_authenticated_pages_json_and_errors_are_not_stored(
    client: TestClient, factory: Factory, db: Session, ctx: AppContext, clock: FakeClock
) -> None:
    person = factory.person()
    headers = bearer(db, person, clock)
    for path in ("/api/v1/me", "/api/v1/notifications", "/api/v1/tokens", "/api/v1/users/999999"):
        response = client.get(path, headers=headers)
        assert response.status_code in (200, 404)
        assert _no_store(response), (path, response.headers.get("cache-control"))
    sign_in(client, db, person, ctx)
    for path in ("/dashboard", "/account/tokens", "/inbox", "/api/v1/me"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert _no_store(response), (path, response.headers.get("cache-control"))


def test_login_response_that_starts_a_session_is_not_stored(
    client: TestClient, factory: Factory, db: Session
) -> None:
    person = factory.person()
    db.commit()
    response = post_password(client, person.email, person.password)
    assert response.status_code == 303 and SESSION_COOKIE in response.headers["set-cookie"]
    assert _no_store(response)


def test_pledge_pdf_download_is_not_stored(client: TestClient, factory: Factory, db: Session,
                                          clock: FakeClock) -> None:
    from tests.support.councils import establish

    cast = establish(factory, db, clock)
    db.commit()
    headers = bearer(db, cast.researcher, clock)
    pledges = client.get(f"/api/v1/councils/{cast.council.id}/pledges", headers=headers)
    assert pledges.status_code == 200, pledges.text
    mine = [p for p in pledges.json() if p["user_id"] == cast.researcher.user.id]
    pdf = client.get(f"/api/v1/councils/{cast.council.id}/pledges/{mine[0]['id']}/pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert _no_store(pdf)


@pytest.mark.parametrize("path", ["/public", "/api/v1/information/public/items"])
def test_anonymous_public_pages_may_be_cached(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, path
    assert "no-store" not in response.headers.get("cache-control", "")
    assert "pragma" not in response.headers


def test_static_assets_stay_cacheable_for_signed_in_people(
    client: TestClient, factory: Factory, db: Session, ctx: AppContext
) -> None:
    sign_in(client, db, factory.person(), ctx)
    css = re.findall(r'href="(/static/[^"]+\.css[^"]*)"', client.get("/dashboard").text)
    assert css
    assert "no-store" not in client.get(css[0]).headers.get("cache-control", "")

