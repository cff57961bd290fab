"""API tokens (issue 11): a maximum lifetime, the second factor recorded at issue (I7), revocation on
second-factor reset, password reset and departure (each audited, A1), and scopes held on every router."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import service as accounts
from banso.accounts.models import ApiToken
from banso.audit.models import AuditEntry
from banso.kit.clock import FakeClock, as_utc
from banso.kit.errors import ValidationFailed
from banso.web.context import AppContext
from tests.support.councils import Cast, establish
from tests.support.factories import Factory, Person
from tests.support.http import bearer, csrf_of, sign_in
from tests.support.information import API, item_form

DAY = timedelta(days=1)


def _token(db: Session, token_id: int) -> ApiToken:
    token = db.get(ApiToken, token_id)
    assert token is not None
    db.refresh(token)
    return token


def _revocations(db: Session, reason: str) -> list[AuditEntry]:
    entries = db.scalars(select(AuditEntry).where(AuditEntry.tag == "accounts:token:revoke")).all()
    return [e for e in entries if isinstance(e.data, dict) and e.data.get("reason") == reason]


def _header(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


# ---------------------------------------------------------------------------------------------
# Maximum lifetime


def test_api_blank_expiry_means_the_maximum_and_more_is_refused(
    client: TestClient, db: Session, factory: Factory, clock: FakeClock
) -> None:
    person = factory.person()
    headers = bearer(db, person, clock)
    for body in ({"name": "absent"}, {"name": "null", "expires_in_days": None}):
        issued = client.post("/api/v1/tokens", json=body, headers=headers)
        assert issued.status_code == 201, issued.text
        assert issued.json()["expires_at"] is not None
        assert as_utc(_token(db, issued.json()["id"]).expires_at) == clock.now() + 90 * DAY
    too_long = client.post("/api/v1/tokens", json={"name": "long", "expires_in_days": 91}, headers=headers)
    assert too_long.status_code == 422
    assert too_long.json()["field"] == "expires_in_days" and "90" in too_long.json()["message"]


def test_web_form_blank_expiry_means_the_maximum(
    client: TestClient, db: Session, factory: Factory, ctx: AppContext
) -> None:
    person = factory.person()
    sign_in(client, db, person, ctx)
    page = client.get("/account/tokens")
    issued = client.post("/account/tokens", data={"csrf_token": csrf_of(page.text), "name": "blank expiry",
                                                  "expires_in_days": ""})
    assert issued.status_code == 201, issued.text[:300]
    token = db.scalars(select(ApiToken).where(ApiToken.name == "blank expiry")).one()
    assert token.expires_at is not None
    assert as_utc(token.expires_at) == ctx.clock.now() + 90 * DAY
    for bad in ("365", "abc"):
        refused = client.post("/account/tokens", data={"csrf_token": csrf_of(page.text), "name": f"bad {bad}",
                                                       "expires_in_days": bad})
        assert refused.status_code == 422, bad
        assert "expir" in refused.text


def test_the_maximum_is_a_setting(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                                  ctx: AppContext) -> None:
    ctx.settings.token_max_lifetime_days = 30  # BANSO_TOKEN_MAX_LIFETIME_DAYS=30
    headers = bearer(db, factory.person(), clock)
    issued = client.post("/api/v1/tokens", json={"name": "blank"}, headers=headers)
    assert issued.status_code == 201
    assert as_utc(_token(db, issued.json()["id"]).expires_at) == clock.now() + 30 * DAY
    assert client.post("/api/v1/tokens", json={"name": "x", "expires_in_days": 31}, headers=headers).status_code == 422
    # and tokens older than the (shortened) maximum stop working
    clock.advance(days=30)
    assert client.get("/api/v1/me", headers=_header(issued.json()["token"])).status_code == 401


def test_a_token_without_expiry_from_before_ends_at_the_maximum(
    client: TestClient, db: Session, factory: Factory, clock: FakeClock
) -> None:
    person = factory.person()
    issued = accounts.issue_token(db, user=person.user, name="legacy", scopes=None, expires_in_days=1,
                                  now=clock.now(), actor=None)
    issued.record.expires_at = None  # as tokens were stored before the maximum existed
    db.commit()
    assert client.get("/api/v1/me", headers=_header(issued.raw)).status_code == 200
    clock.advance(days=90)
    refused = client.get("/api/v1/me", headers=_header(issued.raw))
    assert refused.status_code == 401 and "expired" in refused.json()["message"]


# ---------------------------------------------------------------------------------------------
# The second factor is recorded at issue (I7)


@pytest.fixture
def shared_item(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> tuple[Cast, int]:
    """An active council and a council-shared item provided over the API by the company."""
    cast = establish(factory, db, clock)
    db.commit()
    made = client.post(f"{API}/items", headers=bearer(db, cast.company, clock), data=item_form(cast, clock))
    assert made.status_code == 201, made.text
    return cast, int(made.json()["id"])


def test_operator_token_without_the_flag_does_not_count_as_a_second_factor(
    client: TestClient, db: Session, clock: FakeClock, shared_item: tuple[Cast, int]
) -> None:
    cast, item_id = shared_item
    plain = accounts.issue_token(db, user=cast.researcher.user, name="cli", scopes=None, expires_in_days=30,
                                 now=clock.now(), actor=None)
    db.commit()
    assert client.get(f"{API}/items/{item_id}", headers=_header(plain.raw)).status_code in (403, 404)
    assert plain.record.second_factor is False
    vouched = bearer(db, cast.researcher, clock)  # `banso tokens issue --second-factor`
    assert client.get(f"{API}/items/{item_id}", headers=vouched).status_code == 200


def test_operator_cannot_vouch_for_a_person_without_totp(db: Session, factory: Factory, clock: FakeClock) -> None:
    person = factory.person(with_totp=False)
    with pytest.raises(ValidationFailed) as refused:
        accounts.issue_token(db, user=person.user, name="cli", scopes=None, expires_in_days=30, now=clock.now(),
                             actor=None, second_factor=True)
    assert refused.value.field == "second_factor"


def test_token_from_a_verified_session_counts_and_passes_that_on(
    client: TestClient, db: Session, ctx: AppContext, shared_item: tuple[Cast, int]
) -> None:
    cast, item_id = shared_item
    csrf = sign_in(client, db, cast.researcher, ctx)
    issued = client.post("/api/v1/tokens", json={"name": "from session"}, headers={"X-CSRF-Token": csrf})
    assert issued.status_code == 201, issued.text
    client.cookies.clear()
    raw = issued.json()["token"]
    assert client.get(f"{API}/items/{item_id}", headers=_header(raw)).status_code == 200
    # a token minted by a token has exactly the standing of the one that minted it
    plain = accounts.issue_token(db, user=cast.researcher.user, name="cli", scopes=None, expires_in_days=30,
                                 now=ctx.clock.now(), actor=None)
    db.commit()
    minted = client.post("/api/v1/tokens", json={"name": "child"}, headers=_header(plain.raw))
    assert minted.status_code == 201
    assert client.get(f"{API}/items/{item_id}", headers=_header(minted.json()["token"])).status_code in (403, 404)
    assert (issued.json()["second_factor"], minted.json()["second_factor"]) == (True, False)


# ---------------------------------------------------------------------------------------------
# Revocation, audited


def test_second_factor_reset_revokes_tokens_and_stops_ballots_and_inbox(
    client: TestClient, db: Session, factory: Factory, clock: FakeClock, shared_item: tuple[Cast, int]
) -> None:
    cast, _ = shared_item
    admin = factory.person(roles=("admin",))
    headers = bearer(db, cast.researcher, clock)
    assert client.get(f"{API}/ballots", headers=headers).status_code == 200
    assert client.get("/api/v1/notifications", headers=headers).status_code == 200
    accounts.reset_second_factor(db, user_id=cast.researcher.user.id, actor=admin.principal(), now=clock.now())
    db.commit()
    assert client.get(f"{API}/ballots", headers=headers).status_code == 401
    assert client.get("/api/v1/notifications", headers=headers).status_code == 401
    entries = _revocations(db, "second_factor_reset")
    assert len(entries) == 1 and entries[0].actor_id == admin.user.id


def test_password_reset_revokes_tokens_audited(client: TestClient, db: Session, factory: Factory,
                                               clock: FakeClock) -> None:
    person = factory.person()
    headers = bearer(db, person, clock)
    second = bearer(db, person, clock)
    accounts.reset_password(db, user_id=person.user.id, password="a brand new long passphrase", actor=None,
                            now=clock.now())
    db.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers=second).status_code == 401
    assert len(_revocations(db, "password_reset")) == 2
    with pytest.raises(ValidationFailed):
        accounts.reset_password(db, user_id=person.user.id, password="short", actor=None, now=clock.now())


def test_leaving_the_platform_revokes_tokens_for_good(client: TestClient, db: Session, factory: Factory,
                                                      clock: FakeClock) -> None:
    person = factory.person()
    headers = bearer(db, person, clock)
    accounts.disable_user(db, user_id=person.user.id, actor=None, now=clock.now())
    db.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert len(_revocations(db, "user_disabled")) == 1
    person.user.is_active = True  # re-enabled later: the old token stays dead
    db.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


# ---------------------------------------------------------------------------------------------
# Narrowed scopes on every router


def test_narrow_token_is_held_to_its_scopes_on_inbox_audit_and_ballots(
    client: TestClient, db: Session, factory: Factory, clock: FakeClock
) -> None:
    person: Person = factory.person()
    witness = bearer(db, person, clock, scopes=["audit:checkpoint:read"])
    for path in ("/api/v1/notifications", "/api/v1/audit/entries", f"{API}/ballots", f"{API}/items",
                 "/api/v1/councils", "/api/v1/programme/calls", "/api/v1/me"):
        refused = client.get(path, headers=witness)
        assert refused.status_code == 403, (path, refused.status_code)
    assert client.post("/api/v1/notifications/read-all", headers=witness).status_code == 403
    assert client.get("/api/v1/audit/checkpoints", headers=witness).status_code == 200
    inbox = bearer(db, person, clock, scopes=["platform:dashboard:view"])
    assert client.get("/api/v1/notifications", headers=inbox).status_code == 200
    assert client.get("/api/v1/audit/entries", headers=inbox).status_code == 403


def test_narrow_token_that_may_issue_cannot_mint_a_wider_one(
    client: TestClient, db: Session, factory: Factory, clock: FakeClock
) -> None:
    person = factory.person()
    narrow = bearer(db, person, clock, scopes=["accounts:token:issue_own"])
    wider = client.post("/api/v1/tokens", json={"name": "w", "scopes": ["platform:dashboard:view"]}, headers=narrow)
    assert wider.status_code == 422 and wider.json()["field"] == "scopes"
    same = client.post("/api/v1/tokens", json={"name": "same"}, headers=narrow)
    assert same.status_code == 201 and same.json()["scopes"] == ["accounts:token:issue_own"]


def test_api_tokens_do_not_open_pages(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    person = factory.person()
    for scopes in (["audit:checkpoint:read"], None):
        headers = bearer(db, person, clock, scopes=scopes)
        for path in ("/inbox", "/dashboard", "/account/tokens"):
            refused = client.get(path, headers=headers, follow_redirects=False)
            assert refused.status_code == 403, (scopes, path, refused.status_code)
            assert "/api/v1" in refused.text
