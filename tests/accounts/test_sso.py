"""Single sign-on by OpenID Connect (O3, I7, A1) against a real OpenID Provider (``oidc-provider`` on Node).

banso runs in the app's TestClient; everything between banso and the provider is real HTTP on
loopback: discovery, the browser's trip through the provider's login (httpx), the code exchange,
the provider's keys and userinfo. banso's clock follows the real time (the provider's) and a test
may move it ahead.
"""

from __future__ import annotations

import http.server
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from banso.accounts import sso
from banso.accounts.models import AccountIdentity, SsoRequest, User
from banso.app.factory import create_app
from banso.audit.models import AuditEntry
from banso.audit.tags import AuditTag
from banso.config import Mode, OidcProvider, Settings
from banso.db.engine import make_engine
from banso.kit.clock import FakeClock
from banso.kit.crypto import SecretBox
from banso.kit.errors import Forbidden
from banso.web.deps import SESSION_COOKIE
from tests.support.app import make_context
from tests.support.factories import TEST_SECRET, Factory, Person
from tests.support.http import alert_text, post_code
from tests.support.live import fresh_database
from tests.support.oidc import ID_TOKEN_TTL_SECONDS, REDIRECT_URI, Provider, free_port, running_provider

ALICE, BOB, CAROL = "alice.sso@example.jp", "bob.sso@example.jp", "carol.sso@example.jp"
LOA2 = "urn:banso:test:loa2"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """Run the OpenID Provider for this module."""
    with running_provider() as running:
        yield running


class RealTimeClock(FakeClock):
    """The real time, moved on by hand: the provider stamps its tokens with the real time, however slow the test."""

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC))
        self._offset = timedelta()

    def now(self) -> datetime:
        """Return the real time plus what the test advanced."""
        return datetime.now(UTC) + self._offset

    def advance(self, **kwargs: float) -> datetime:
        """Move the clock forward by ``timedelta(**kwargs)`` and return the new time."""
        self._offset += timedelta(**kwargs)
        return self.now()

    def set(self, when: datetime) -> None:
        """Jump to ``when``."""
        self._offset = when - datetime.now(UTC)


@pytest.fixture
def clock() -> FakeClock:
    """Return a controllable clock that follows the real time (the provider's)."""
    return RealTimeClock()


def sso_settings(folder: Path, provider: Provider, **overrides: Any) -> Settings:
    """Return test settings with the provider configured as banso's single sign-on."""
    values: dict[str, Any] = {
        "mode": Mode.TEST, "data_dir": folder / "data", "secret_key": TEST_SECRET, "database_url": "sqlite://",
        "base_url": "http://testserver", "oidc_issuer": provider.issuer, "oidc_client_id": provider.client_id,
        "oidc_client_secret": SecretStr(provider.client_secret), "oidc_mfa_acr": [LOA2],
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
def settings(tmp_path: Path, provider: Provider) -> Settings:
    """Return test settings with single sign-on configured."""
    return sso_settings(tmp_path, provider)


def person_with_email(factory: Factory, db: Session, email: str, *, with_totp: bool = True) -> Person:
    """Create a person whose e-mail is one the provider knows."""
    person = factory.person(with_totp=with_totp)
    person.user.email = email
    db.commit()
    return person


@contextmanager
def banso_with(settings: Settings, engine: Engine, session_factory: sessionmaker[Session],
               clock: FakeClock) -> Iterator[TestClient]:
    """Yield a client of banso wired with other settings (same database and clock)."""
    app = create_app(make_context(settings, engine, session_factory, clock), background_jobs=False)
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def start(client: TestClient, next_url: str = "/dashboard") -> str:
    """Open /login/sso and return the provider's authorization URL banso redirects to."""
    response = client.get(f"/login/sso?next={next_url}", follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    return str(response.headers["location"])


def finish(client: TestClient, callback_url: str) -> Any:
    """Bring the provider's answer back to banso's callback (without following banso's redirect)."""
    assert callback_url.startswith(REDIRECT_URI)
    return client.get(callback_url, follow_redirects=False)


def refusals(db: Session) -> list[dict[str, Any]]:
    """Return the data of every audited single sign-on refusal."""
    db.expire_all()
    return [e.data for e in db.scalars(select(AuditEntry).where(AuditEntry.tag == AuditTag.LOGIN_SSO_REFUSED))]


def identities(db: Session) -> list[AccountIdentity]:
    """Return the linked identities."""
    db.expire_all()
    return list(db.scalars(select(AccountIdentity)))


# ---------------------------------------------------------------------------------------------
# The login page and the request banso sends


def test_login_page_offers_single_sign_on(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert "GビズID / 組織のIDでログイン" in page.text
    assert 'href="/login/sso?provider=default&amp;next=/dashboard"' in page.text


def test_login_page_without_providers_shows_no_link(tmp_path: Path, engine: Engine,
                                                    session_factory: sessionmaker[Session], clock: FakeClock) -> None:
    plain = Settings(mode=Mode.TEST, data_dir=tmp_path / "d", secret_key=TEST_SECRET, database_url="sqlite://")
    assert plain.sso_providers == []
    with banso_with(plain, engine, session_factory, clock) as client:
        assert "/login/sso" not in client.get("/login").text
        assert client.get("/login/sso", follow_redirects=False).status_code == 404


def test_authorization_request_uses_pkce_state_and_nonce(client: TestClient, provider: Provider, db: Session) -> None:
    url = start(client)
    assert url.startswith(f"{provider.issuer}/auth?")
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert params["response_type"] == "code" and params["client_id"] == provider.client_id
    assert params["redirect_uri"] == REDIRECT_URI
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 43 and len(params["nonce"]) >= 43
    assert client.cookies.get(sso.SSO_STATE_COOKIE) == params["state"]
    stored = db.scalars(select(SsoRequest)).one()
    assert stored.state_hash != params["state"] and stored.nonce == params["nonce"]
    assert params["state"].encode() not in stored.verifier_enc  # the verifier is sealed at rest


# ---------------------------------------------------------------------------------------------
# Full logins and linking


def test_full_login_links_by_verified_email_then_asks_for_totp(
    client: TestClient, provider: Provider, factory: Factory, db: Session, clock: FakeClock
) -> None:
    alice = person_with_email(factory, db, ALICE)
    response = finish(client, provider.sign_in(start(client, "/account/tokens"), "alice", amr="pwd"))
    # I7: the provider asserted no second factor, so the local TOTP page follows, as after a password.
    assert response.status_code == 303
    assert response.headers["location"] == "/login/2fa?next=/account/tokens"
    assert client.get("/dashboard", follow_redirects=False).status_code == 303  # not signed in fully yet
    [identity] = identities(db)
    assert (identity.user_id, identity.issuer, identity.subject) == (alice.user.id, provider.issuer, "alice")
    clock.advance(seconds=30)
    done = post_code(client, alice.code(clock), "/account/tokens")
    assert done.status_code == 303 and done.headers["location"] == "/account/tokens"
    assert client.get("/account/tokens").status_code == 200
    tags = [e.tag for e in db.scalars(select(AuditEntry).where(AuditEntry.actor_id == alice.user.id))]
    assert {AuditTag.IDENTITY_LINK, AuditTag.LOGIN_SSO, AuditTag.MFA_VERIFY} <= set(tags)


@pytest.mark.parametrize(("amr", "acr", "evidence"), [
    ("pwd,mfa", None, "amr:mfa"),
    ("pwd,otp", None, "amr:otp"),
    ("hwk", None, "amr:hwk"),
    ("pwd", LOA2, f"acr:{LOA2}"),
])
def test_second_factor_asserted_by_the_provider_counts(
    client: TestClient, provider: Provider, factory: Factory, db: Session, amr: str, acr: str | None, evidence: str
) -> None:
    person_with_email(factory, db, ALICE, with_totp=False)  # no local TOTP at all: the provider's counts (I7)
    response = finish(client, provider.sign_in(start(client), "alice", amr=amr, acr=acr))
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    assert client.get("/dashboard", follow_redirects=False).status_code == 200
    db.expire_all()
    login = db.scalars(select(AuditEntry).where(AuditEntry.tag == AuditTag.LOGIN_SSO)).one()
    assert login.data["second_factor"] == evidence


def test_without_an_asserted_second_factor_an_unenrolled_person_must_enrol(
    client: TestClient, provider: Provider, factory: Factory, db: Session
) -> None:
    person_with_email(factory, db, ALICE, with_totp=False)
    response = finish(client, provider.sign_in(start(client), "alice", amr="pwd", acr="urn:banso:test:loa1"))
    assert response.status_code == 303 and response.headers["location"] == "/account/2fa/setup"
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_subject_wins_once_linked(client: TestClient, provider: Provider, factory: Factory, db: Session) -> None:
    alice = person_with_email(factory, db, ALICE)
    assert finish(client, provider.sign_in(start(client), "alice", amr="mfa")).status_code == 303
    alice.user.email = "alice.renamed@example.jp"  # the provider still says alice.sso@…: the subject decides
    db.commit()
    client.cookies.clear()
    again = finish(client, provider.sign_in(start(client), "alice", amr="mfa"))
    assert again.status_code == 303 and again.headers["location"] == "/dashboard"
    assert [i.user_id for i in identities(db)] == [alice.user.id]


def test_accounts_are_created_on_first_login_only_when_configured(
    tmp_path: Path, provider: Provider, factory: Factory, db: Session, engine: Engine,
    session_factory: sessionmaker[Session], clock: FakeClock,
) -> None:
    org = factory.org()
    db.commit()
    creating = sso_settings(tmp_path, provider, oidc_create_accounts=True, oidc_new_account_organization_id=org.id)
    with banso_with(creating, engine, session_factory, clock) as client:
        response = finish(client, provider.sign_in(start(client), "carol"))  # amr pwd,otp: a second factor
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    created = db.scalars(select(User).where(User.email == CAROL)).one()
    assert created.organization_id == org.id and created.roles == []


# ---------------------------------------------------------------------------------------------
# Refusals: each one a Japanese-first page with its 4xx, and an audit entry (A1)


def test_unverified_email_never_links(client: TestClient, provider: Provider, factory: Factory, db: Session) -> None:
    person_with_email(factory, db, BOB)
    response = finish(client, provider.sign_in(start(client), "bob", amr="mfa"))
    assert response.status_code == 403
    assert alert_text(response.text).startswith("IDプロバイダーがメールアドレスを確認済みとしていない")
    assert SESSION_COOKIE not in response.cookies
    assert identities(db) == []
    assert [r["reason"] for r in refusals(db)] == ["email_unverified"]


def test_unknown_person_is_refused(client: TestClient, provider: Provider) -> None:
    response = finish(client, provider.sign_in(start(client), "carol"))
    assert response.status_code == 403
    assert "このIDに対応する banso の利用者が登録されていません" in alert_text(response.text)
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_unknown_person_refusal_is_audited(client: TestClient, provider: Provider, db: Session) -> None:
    finish(client, provider.sign_in(start(client), "carol"))
    [refusal] = refusals(db)
    assert refusal["reason"] == "unknown_user" and refusal["provider"] == "default"


def test_wrong_issuer_is_refused(tmp_path: Path, provider: Provider, db: Session, engine: Engine,
                                 session_factory: sessionmaker[Session], clock: FakeClock) -> None:
    # The same server under another name: its discovery document names a different issuer.
    wrong = sso_settings(tmp_path, provider, oidc_issuer=f"http://localhost:{provider.port}")
    with banso_with(wrong, engine, session_factory, clock) as client:
        response = client.get("/login/sso", follow_redirects=False)
    assert response.status_code == 403
    assert "発行者（issuer）が設定と一致しない" in alert_text(response.text)
    assert [r["reason"] for r in refusals(db)] == ["issuer_mismatch"]


def test_unreachable_provider_answers_502(tmp_path: Path, provider: Provider, db: Session, engine: Engine,
                                         session_factory: sessionmaker[Session], clock: FakeClock) -> None:
    gone = sso_settings(tmp_path, provider, oidc_issuer=f"http://127.0.0.1:{free_port()}", oidc_timeout_seconds=2)
    with banso_with(gone, engine, session_factory, clock) as client:
        response = client.get("/login/sso", follow_redirects=False)
    assert response.status_code == 502
    assert "IDプロバイダーに接続できません" in alert_text(response.text)
    assert [r["reason"] for r in refusals(db)] == ["unreachable"]


def test_replayed_state_is_refused(client: TestClient, provider: Provider, factory: Factory, db: Session) -> None:
    person_with_email(factory, db, ALICE)
    authorize = start(client)
    state = client.cookies.get(sso.SSO_STATE_COOKIE)
    callback = provider.sign_in(authorize, "alice", amr="mfa")
    assert finish(client, callback).status_code == 303
    # The same callback URL again, from the same browser (its state cookie put back): used once already.
    client.cookies.clear()
    client.cookies.set(sso.SSO_STATE_COOKIE, str(state), path=sso.SSO_COOKIE_PATH)
    replay = finish(client, callback)
    assert replay.status_code == 403
    assert "既に使用されました" in alert_text(replay.text)
    assert SESSION_COOKIE not in replay.cookies
    assert [r["reason"] for r in refusals(db)] == ["replayed_state"]


def test_callback_from_another_browser_is_refused(client: TestClient, provider: Provider, factory: Factory,
                                                  db: Session) -> None:
    person_with_email(factory, db, ALICE)
    callback = provider.sign_in(start(client), "alice", amr="mfa")
    client.cookies.clear()  # a victim's browser, handed the attacker's callback URL (login CSRF)
    response = finish(client, callback)
    assert response.status_code == 403
    assert [r["reason"] for r in refusals(db)] == ["state_mismatch"]


def test_expired_id_token_is_refused(client: TestClient, provider: Provider, factory: Factory, db: Session,
                                     clock: FakeClock, settings: Settings) -> None:
    person_with_email(factory, db, ALICE)
    callback = provider.sign_in(start(client), "alice", amr="mfa")
    # banso's clock runs ahead past the token's expiry plus the leeway (a skewed relying party), still
    # well inside the login request's own lifetime. The token is issued during the callback, so the
    # margin also absorbs a slow machine between the exchange and the check.
    skew = ID_TOKEN_TTL_SECONDS + settings.oidc_leeway_seconds + 30
    assert skew < settings.oidc_login_ttl_seconds
    clock.advance(seconds=skew)
    response = finish(client, callback)
    assert response.status_code == 403
    assert "IDトークンの有効期限が切れています" in alert_text(response.text)
    assert [r["reason"] for r in refusals(db)] == ["id_token_expired"]
    assert identities(db) == []


def test_provider_error_is_refused(client: TestClient, provider: Provider) -> None:
    start(client)
    state = client.cookies.get(sso.SSO_STATE_COOKIE)
    response = client.get(f"/login/sso/callback?state={state}&error=access_denied", follow_redirects=False)
    assert response.status_code == 403
    assert "IDプロバイダーがログインを完了しませんでした" in alert_text(response.text)


# ---------------------------------------------------------------------------------------------
# PKCE: a code is worth nothing without the verifier only banso holds


def test_intercepted_code_cannot_be_redeemed_without_the_verifier(client: TestClient, provider: Provider) -> None:
    callback = provider.sign_in(start(client), "alice", amr="mfa")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    # The provider does not require PKCE of its clients: this refusal exists only because banso
    # bound the code to its S256 challenge.
    stolen = provider.redeem(code)
    assert stolen.status_code == 400, stolen.text
    assert stolen.json()["error"] == "invalid_grant"


def test_wrong_pkce_verifier_is_refused(client: TestClient, provider: Provider, factory: Factory, db: Session,
                                        box: SecretBox) -> None:
    person_with_email(factory, db, ALICE)
    callback = provider.sign_in(start(client), "alice", amr="mfa")
    stored = db.scalars(select(SsoRequest)).one()
    stored.verifier_enc = box.seal(secrets.token_urlsafe(64))  # not the verifier the challenge was made from
    db.commit()
    response = finish(client, callback)
    assert response.status_code == 403
    assert [r["reason"] for r in refusals(db)] == ["token_exchange_failed"]
    assert identities(db) == []


# ---------------------------------------------------------------------------------------------
# The ID token checks themselves, on real tokens from the provider


def _real_tokens(provider: Provider, settings: Settings, nonce: str) -> dict[str, Any]:
    """Run a login straight against the provider with banso's client; return the token response."""
    client = sso.SsoClients(settings).get(None)
    assert client is not None
    verifier = secrets.token_urlsafe(64)
    url = client.authorization_url(state=secrets.token_urlsafe(16), nonce=nonce, verifier=verifier)
    code = parse_qs(urlsplit(provider.sign_in(url, "alice", amr="mfa")).query)["code"][0]
    return client.exchange(code=code, verifier=verifier)


@pytest.mark.parametrize("wrong", ["issuer", "audience", "nonce"])
def test_id_token_for_another_issuer_audience_or_nonce_is_refused(provider: Provider, settings: Settings,
                                                                   wrong: str) -> None:
    tokens = _real_tokens(provider, settings, nonce="n-0123456789")
    good = sso.SsoClients(settings).get(None)
    assert good is not None
    now = datetime.now(UTC)
    claims = good.id_token_claims(tokens["id_token"], nonce="n-0123456789", access_token=tokens["access_token"],
                                  now=now, leeway=30)
    assert claims["sub"] == "alice" and "mfa" in claims["amr"]
    config = good.provider.model_copy(update={"issuer": provider.issuer + "/other"} if wrong == "issuer" else
                                      {"client_id": "someone-else"} if wrong == "audience" else {})
    other = sso.OidcClient(config, redirect_uri=REDIRECT_URI, timeout=5)
    other._metadata, other._metadata_at = good.metadata(), good._metadata_at  # cached: skip discovery's own check
    nonce = "another-nonce" if wrong == "nonce" else "n-0123456789"
    with pytest.raises(sso.ProviderError) as refused:
        other.id_token_claims(tokens["id_token"], nonce=nonce, access_token=tokens["access_token"], now=now, leeway=30)
    assert refused.value.reason == ("issuer_mismatch" if wrong == "issuer" else "id_token_invalid")
    claim = {"issuer": "iss", "audience": "aud", "nonce": "nonce"}[wrong]
    assert f"claim: '{claim}'" in refused.value.detail, refused.value.detail  # refused by that claim's own check


# ---------------------------------------------------------------------------------------------
# Settings


def test_settings_refuse_incoherent_providers(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="new_account_organization_id"):
        OidcProvider(issuer="https://idp.example.jp", client_id="x", create_accounts=True)
    with pytest.raises(ValidationError, match="openid"):
        OidcProvider(issuer="https://idp.example.jp", client_id="x", scopes=["email"])
    with pytest.raises(ValidationError, match="https"):
        Settings(mode=Mode.PRODUCTION, secret_key="s" * 40, database_url="sqlite:///x.db",
                 oidc_issuer="http://idp.example.jp", oidc_client_id="x")
    several = Settings(mode=Mode.TEST, data_dir=tmp_path, secret_key=TEST_SECRET, oidc_issuer="https://a.example.jp",
                       oidc_client_id="a", oidc_providers=[OidcProvider(name="gbiz", issuer="https://b.example.jp",
                                                                        client_id="b", label="GビズID")])
    assert [p.name for p in several.sso_providers] == ["default", "gbiz"]
    assert several.sso_redirect_uri == "http://127.0.0.1:8000/login/sso/callback"


def test_look_alike_email_never_links_to_another_account(factory: Factory, db: Session, clock: FakeClock) -> None:
    # "\u212Aato" (Kelvin sign) lowered by str.lower() is "kato": a provider's verified look-alike address
    # linked to kato's account would be an account takeover (issue 17). Only ASCII addresses link.
    kato = person_with_email(factory, db, "kato@x.jp")
    config = OidcProvider(issuer="https://idp.example.jp", client_id="banso")
    for look_alike in ("\u212Aato@x.jp", "KATO@x.jp\u0130"):
        with pytest.raises(Forbidden):
            sso._link_by_email(db, config, {"email": look_alike, "email_verified": True}, subject="s-1",
                               now=clock.now(), ip=None)
    assert identities(db) == []
    user, identity = sso._link_by_email(db, config, {"email": "KATO@x.jp", "email_verified": True},
                                        subject="s-2", now=clock.now(), ip=None)
    assert user.id == kato.user.id and identity.email == "kato@x.jp"


def test_no_transaction_is_open_while_the_provider_is_asked(
    tmp_path: Path, provider: Provider, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """O4: a provider that is slow (or never answers) must not hold a database connection, so on SQLite
    not the write lock every other user needs: the state is claimed and committed first, the provider
    asked with nothing checked out, the login written after. (A committed database of its own: the
    shared test database keeps one connection checked out for its outer transaction.)"""
    with fresh_database(tmp_path) as url:
        settings = sso_settings(tmp_path, provider).model_copy(update={"database_url": url})
        engine = make_engine(url)
        sessions = sessionmaker(bind=engine, expire_on_commit=False)
        with sessions() as session:
            person_with_email(Factory(session, clock, SecretBox(TEST_SECRET)), session, ALICE)
            session.commit()
        checked_out: dict[str, int] = {}

        def watching(name: str, real: Any) -> Any:
            def call(self: sso.OidcClient, *args: Any, **kwargs: Any) -> Any:
                checked_out[name] = engine.pool.checkedout()
                return real(self, *args, **kwargs)
            return call

        monkeypatch.setattr(sso.OidcClient, "authorization_url",
                            watching("authorization_url", sso.OidcClient.authorization_url))
        monkeypatch.setattr(sso.OidcClient, "exchange", watching("exchange", sso.OidcClient.exchange))
        try:
            with banso_with(settings, engine, sessions, clock) as client:
                response = finish(client, provider.sign_in(start(client), "alice", amr="pwd"))
        finally:
            engine.dispose()
        assert response.status_code == 303, response.text[:300]
        assert response.headers["location"].startswith("/login/2fa")
        assert checked_out == {"authorization_url": 0, "exchange": 0}


class _Discovery(http.server.BaseHTTPRequestHandler):
    """A provider's discovery endpoint that counts its callers and is down until told otherwise."""

    hits = 0
    up = False

    def do_GET(self) -> None:  # the name http.server calls
        type(self).hits += 1
        if not type(self).up:
            self.send_response(503)
            self.end_headers()
            return
        base = f"http://{self.headers['Host']}"
        body = json.dumps({"issuer": base, "authorization_endpoint": base + "/auth",
                           "token_endpoint": base + "/token", "jwks_uri": base + "/jwks"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_failed_discovery_is_remembered_briefly_so_logins_do_not_each_wait_for_a_down_provider() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    now = [1000.0]
    try:
        issuer = f"http://127.0.0.1:{server.server_address[1]}"
        config = OidcProvider(issuer=issuer, client_id="banso", client_secret=SecretStr("s"))
        client = sso.OidcClient(config, redirect_uri=REDIRECT_URI, timeout=5, monotonic=lambda: now[0])
        for _ in range(3):
            with pytest.raises(sso.ProviderError) as refused:
                client.metadata()
            assert refused.value.unreachable and refused.value.message == sso.MSG_UNREACHABLE
        assert _Discovery.hits == 1  # the second and third logins were refused without asking again
        _Discovery.up = True
        now[0] += sso.DISCOVERY_RETRY_SECONDS - 1
        with pytest.raises(sso.ProviderError):
            client.metadata()
        assert _Discovery.hits == 1
        now[0] += 2  # the pause is over: the provider is asked again, and is back
        assert client.metadata()["issuer"] == issuer
        assert client.metadata()["token_endpoint"] == issuer + "/token"
        assert _Discovery.hits == 2  # and the good document is cached
    finally:
        server.shutdown()
        server.server_close()
