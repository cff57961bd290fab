"""HTTP helpers: sign in (through the services or through the login pages), bearer tokens, CSRF tokens
and error alerts read from pages."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.accounts import service as accounts
from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from banso.web.deps import SESSION_COOKIE
from tests.support.factories import Person

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def bearer(db: Session, person: Person, clock: FakeClock, scopes: list[str] | None = None) -> dict[str, str]:
    """Issue an API token for ``person`` and return the Authorization header.

    As an operator would for a verified person: the token counts as a second factor when the person
    has one enrolled (``banso tokens issue --second-factor``).
    """
    issued = accounts.issue_token(db, user=person.user, name="test", scopes=scopes, expires_in_days=30,
                                  now=clock.now(), actor=None, second_factor=person.totp_secret is not None)
    db.commit()
    return {"Authorization": f"Bearer {issued.raw}"}


def sign_in(client: TestClient, db: Session, person: Person, ctx: AppContext) -> str:
    """Start a fully verified web session for ``person`` through the services; return its CSRF token."""
    ctx.clock.advance(seconds=30)  # type: ignore[attr-defined]  # a fresh TOTP step: no replay
    new = accounts.login_with_password(db, email=person.email, password=person.password, ip="testclient",
                                       user_agent="pytest", now=ctx.clock.now(), settings=ctx.settings)
    if person.totp_secret:
        accounts.verify_second_factor(db, user=new.user, web_session=new.record, code=person.code(ctx.clock),
                                      box=ctx.box, now=ctx.clock.now(), ip="testclient", settings=ctx.settings)
    db.commit()
    client.cookies.set(SESSION_COOKIE, new.cookie)
    return new.record.csrf_token


def csrf_of(html: str) -> str:
    """Return the first CSRF token embedded in a page."""
    found = CSRF_RE.search(html)
    assert found, "page has no CSRF field"
    return found.group(1)


def alert_text(html: str) -> str:
    """Return the text of the page's error alert."""
    found = re.search(r'<div class="alert alert-error"[^>]*>.*?<div class="alert-body">(.*?)</div>', html, re.DOTALL)
    assert found, "page shows no error"
    # The error summary heads its list of problems (links to the fields, issue 14): the problems are the text.
    body = re.sub(r'<p class="error-summary-title"[^>]*>.*?</p>', "", found.group(1), flags=re.DOTALL)
    return re.sub(r"<[^>]+>", "", body).strip()


def post_password(client: TestClient, email: str, password: str, next_url: str = "/dashboard") -> httpx.Response:
    """Open the login page and submit e-mail and password with the pre-login CSRF token."""
    page = client.get("/login")
    assert page.status_code == 200
    response: httpx.Response = client.post("/login", data={"email": email, "password": password, "next": next_url,
                                                           "csrf_token": csrf_of(page.text)}, follow_redirects=False)
    return response


def post_code(client: TestClient, code: str, next_url: str = "/dashboard") -> httpx.Response:
    """Open the second-factor page and submit a code."""
    page = client.get(f"/login/2fa?next={next_url}")
    assert page.status_code == 200, page.text[:500]
    response: httpx.Response = client.post("/login/2fa", data={"code": code, "next": next_url,
                                                               "csrf_token": csrf_of(page.text)},
                                           follow_redirects=False)
    return response


def log_in(client: TestClient, person: Person, clock: FakeClock) -> None:
    """Log in through the pages with password and the TOTP code of the clock's current step."""
    response = post_password(client, person.email, person.password)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login/2fa")
    done = post_code(client, person.code(clock))
    assert done.status_code == 303, done.text[:500]
    assert done.headers["location"] == "/dashboard"
