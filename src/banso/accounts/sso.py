"""Single sign-on by OpenID Connect (O3): GビズID for businesses, the ministries' own identity providers.

The authorization code flow with PKCE (S256), ``state`` and ``nonce``; the provider's metadata from
its discovery document (whose ``issuer`` must equal the configured one exactly), the ID token's
signature, ``iss``, ``aud``, ``exp``, ``iat`` and ``nonce`` checked with Authlib's OpenID Connect
claims over joserfc, a small leeway. A person is found by the provider's (issuer, subject) pair once
linked, else linked by an e-mail address the provider marks verified; an unverified address never
links. The session is started exactly as a password login starts one; the second factor (I7) counts
as passed only when the provider asserts one (``amr``/``acr`` in the configured sets), otherwise the
person passes the local TOTP page as after a password.

Services never commit: every refusal is audited (A1) and raised marked audited, so the request's
unit of work keeps the entry and the consumed state together.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session

from banso.accounts import repository as repo
from banso.accounts import rules
from banso.accounts import service as accounts
from banso.accounts.models import AccountIdentity, SsoRequest, User
from banso.accounts.security import sha256_hex
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.config import OidcProvider, Settings
from banso.kit.crypto import SecretBox
from banso.kit.errors import BansoError, Forbidden, NotFound

# The cookie that binds a started login to the browser that started it (login CSRF).
SSO_STATE_COOKIE = "banso_sso"
SSO_COOKIE_PATH = "/login/sso"
# Asymmetric algorithms only: "none" and HMAC with the client secret are never accepted for ID tokens.
SIGNING_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                                "EdDSA", "Ed25519"})
METADATA_MAX_AGE_SECONDS = 3600
# After a failed discovery the next logins are refused at once for this long instead of each
# waiting out the timeout on a provider that is down (every waiting login holds a worker thread).
DISCOVERY_RETRY_SECONDS = 30
JWKS_MIN_REFRESH_SECONDS = 60

MSG_REQUEST = ("シングルサインオンの要求が無効か期限切れです。もう一度ログインしてください / "
               "The single sign-on request is invalid or has expired; please sign in again")
MSG_REPLAY = ("このシングルサインオンの応答は既に使用されました。もう一度ログインしてください / "
              "This single sign-on response was already used; please sign in again")
MSG_ISSUER = ("IDプロバイダーの発行者（issuer）が設定と一致しないため、ログインを拒否しました / "
              "The identity provider's issuer does not match the configured one; sign-in refused")
MSG_UNTRUSTED = ("IDプロバイダーの応答を検証できなかったため、ログインを拒否しました / "
                 "The identity provider's answer could not be verified; sign-in refused")
MSG_EXPIRED = ("IDトークンの有効期限が切れています。もう一度ログインしてください / "
               "The ID token has expired; please sign in again")
MSG_PROVIDER_ERROR = ("IDプロバイダーがログインを完了しませんでした / "
                      "The identity provider did not complete the sign-in")
MSG_UNKNOWN = ("このIDに対応する banso の利用者が登録されていません。管理者に連絡してください / "
               "No banso account is registered for this identity; please contact your administrator")
MSG_UNVERIFIED = ("IDプロバイダーがメールアドレスを確認済みとしていないため、アカウントと関連付けできません / "
                  "The identity provider has not verified this e-mail address, so it cannot be linked to an account")
MSG_LINKED_ELSEWHERE = ("このアカウントは同じIDプロバイダーの別のIDに関連付けられています / "
                        "This account is already linked to another identity at this provider")
MSG_DISABLED = "このアカウントは無効です / This account is disabled"
MSG_UNREACHABLE = ("IDプロバイダーに接続できません。しばらくしてから再試行してください / "
                   "The identity provider cannot be reached; please try again later")
MSG_NO_PROVIDER = "このシングルサインオンは設定されていません / This single sign-on provider is not configured"


class ProviderUnreachable(BansoError):
    """The identity provider did not answer (network, timeout, 5xx): a gateway failure, not a refusal."""

    status_code = 502
    code = "bad_gateway"


class ProviderError(Exception):
    """The provider's answer cannot be trusted or used; ``reason`` is the audit code, ``message`` the page text."""

    def __init__(self, reason: str, message: str = MSG_UNTRUSTED, *, detail: str = "",
                 unreachable: bool = False) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.message = message
        self.detail = detail[:300]
        self.unreachable = unreachable


# ---------------------------------------------------------------------------------------------
# The relying party's side of the protocol (one provider)


class OidcClient:
    """Talk to one OpenID Provider: discovery, authorization URL, code exchange, ID token, userinfo."""

    def __init__(self, provider: OidcProvider, *, redirect_uri: str, timeout: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.provider = provider
        self.redirect_uri = redirect_uri
        self._timeout = timeout
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._failed: tuple[float, ProviderError] | None = None  # the last discovery failure, and when
        self._jwks: KeySet | None = None
        self._jwks_at = 0.0

    def _get(self, url: str, **kwargs: Any) -> dict[str, Any]:
        return self._json(self._send("GET", url, **kwargs), url)

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            with httpx.Client(timeout=self._timeout, follow_redirects=False) as http:
                return http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise ProviderError("unreachable", MSG_UNREACHABLE, detail=f"{url}: {exc!r}", unreachable=True) from None

    @staticmethod
    def _json(response: httpx.Response, url: str) -> dict[str, Any]:
        if response.status_code >= 500:
            raise ProviderError("unreachable", MSG_UNREACHABLE, detail=f"{url}: HTTP {response.status_code}",
                                unreachable=True)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise ProviderError("bad_response", detail=f"{url}: HTTP {response.status_code} {error or ''}".strip())
        return body

    def metadata(self) -> dict[str, Any]:
        """Return the provider's discovery document (cached an hour); its issuer must be the configured one.

        A failure is remembered for :data:`DISCOVERY_RETRY_SECONDS`: meanwhile the same error is raised
        at once, without asking the provider again.
        """
        with self._lock:
            now = self._monotonic()
            if self._metadata is not None and now - self._metadata_at < METADATA_MAX_AGE_SECONDS:
                return self._metadata
            if self._failed is not None and now - self._failed[0] < DISCOVERY_RETRY_SECONDS:
                failed = self._failed[1]
                raise ProviderError(failed.reason, failed.message, detail=f"(remembered) {failed.detail}",
                                    unreachable=failed.unreachable)
        try:
            document = self._discover()
        except ProviderError as exc:
            with self._lock:
                self._failed = (self._monotonic(), exc)
            raise
        with self._lock:
            self._metadata, self._metadata_at, self._failed = document, self._monotonic(), None
        return document

    def _discover(self) -> dict[str, Any]:
        url = self.provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._get(url)
        # OpenID Connect Discovery 4.3: the issuer in the document must be exactly the configured one.
        if document.get("issuer") != self.provider.issuer:
            raise ProviderError("issuer_mismatch", MSG_ISSUER,
                                detail=f"configured {self.provider.issuer!r}, provider says {document.get('issuer')!r}")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(document.get(key), str):
                raise ProviderError("bad_discovery", detail=f"discovery document lacks {key}")
        return document

    def authorization_url(self, *, state: str, nonce: str, verifier: str) -> str:
        """Return the provider's authorization URL for this login (code flow, PKCE S256)."""
        params = {
            "response_type": "code",
            "client_id": self.provider.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.provider.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        endpoint = str(self.metadata()["authorization_endpoint"])
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params)

    def exchange(self, *, code: str, verifier: str) -> dict[str, Any]:
        """Redeem the authorization code (with the PKCE verifier) for the token response."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": verifier}
        secret = self.provider.client_secret
        auth = (self.provider.client_id, secret.get_secret_value()) if secret is not None else None
        if auth is None:
            form["client_id"] = self.provider.client_id
        url = str(self.metadata()["token_endpoint"])
        response = self._send("POST", url, data=form, auth=auth, headers={"Accept": "application/json"})
        try:
            tokens = self._json(response, url)
        except ProviderError as exc:
            raise ProviderError("token_exchange_failed", MSG_UNTRUSTED, detail=exc.detail,
                                unreachable=exc.unreachable) from None
        if not isinstance(tokens.get("id_token"), str):
            raise ProviderError("token_exchange_failed", detail="no id_token in the token response")
        return tokens

    def _key_set(self, *, refresh: bool) -> KeySet:
        with self._lock:
            fresh_enough = time.monotonic() - self._jwks_at < JWKS_MIN_REFRESH_SECONDS
            if self._jwks is not None and (not refresh or fresh_enough):
                return self._jwks
        url = str(self.metadata()["jwks_uri"])
        try:
            keys = KeySet.import_key_set(self._get(url))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as exc:
            raise ProviderError("bad_jwks", detail=repr(exc)) from None
        with self._lock:
            self._jwks, self._jwks_at = keys, time.monotonic()
        return keys

    def id_token_claims(self, id_token: str, *, nonce: str, access_token: str | None, now: datetime,
                        leeway: int) -> dict[str, Any]:
        """Return the ID token's claims after checking signature, iss, aud, exp, iat, nonce, azp, at_hash."""
        offered = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        algorithms = sorted(SIGNING_ALGORITHMS & set(offered)) or ["RS256"]
        try:
            try:
                token = jwt.decode(id_token, self._key_set(refresh=False), algorithms=algorithms)
            except InvalidKeyIdError:  # the provider rotated its keys: fetch them once more
                token = jwt.decode(id_token, self._key_set(refresh=True), algorithms=algorithms)
            claims = CodeIDToken(
                token.claims, token.header,
                {"iss": {"essential": True, "value": self.provider.issuer},
                 "aud": {"essential": True, "value": self.provider.client_id},
                 "sub": {"essential": True}},
                {"nonce": nonce, "client_id": self.provider.client_id, "access_token": access_token},
            )
            claims.validate(now=int(now.timestamp()), leeway=leeway)
        except ExpiredTokenError:
            raise ProviderError("id_token_expired", MSG_EXPIRED) from None
        except (JoseError, ValueError, TypeError) as exc:
            claim = getattr(exc, "claim", None) or getattr(exc, "error", "")
            reason = "issuer_mismatch" if claim == "iss" else "id_token_invalid"
            raise ProviderError(reason, MSG_ISSUER if claim == "iss" else MSG_UNTRUSTED,
                                detail=f"{type(exc).__name__}: {exc}") from None
        return dict(claims)

    def userinfo(self, access_token: str) -> dict[str, Any]:
        """Return the userinfo claims (empty when the provider has no userinfo endpoint)."""
        endpoint = self.metadata().get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return {}
        return self._get(endpoint, headers={"Authorization": f"Bearer {access_token}",
                                            "Accept": "application/json"})


class SsoClients:
    """The configured providers' clients, by name (built once by ``banso.app.wiring``: their caches persist)."""

    def __init__(self, settings: Settings) -> None:
        self._by_name = {
            p.name: OidcClient(p, redirect_uri=settings.sso_redirect_uri, timeout=settings.oidc_timeout_seconds)
            for p in settings.sso_providers
        }

    def get(self, name: str | None) -> OidcClient | None:
        """Return the client of provider ``name`` (None: the first configured), or None."""
        if name is None:
            return next(iter(self._by_name.values()), None)
        return self._by_name.get(name)


# ---------------------------------------------------------------------------------------------
# Services: start a login, finish it


@dataclass(frozen=True)
class SsoStart:
    """Where to send the browser, and the state it must bring back (kept in a cookie)."""

    url: str
    state: str


@dataclass(frozen=True)
class SsoLogin:
    """A finished single sign-on: the new session, where to go, and whether the second factor is done."""

    session: accounts.NewSession
    next_url: str
    second_factor_done: bool


def _refuse(session: Session, *, reason: str, message: str, now: datetime, ip: str | None,
            provider: str | None = None, user: User | None = None, label: str | None = None,
            detail: str = "", unreachable: bool = False) -> NoReturn:
    """Audit a refused single sign-on (A1) and raise it marked audited (its consumed state is kept too)."""
    data: dict[str, Any] = {"reason": reason, "provider": provider}
    if detail:
        data["detail"] = detail
    audit.record(session, tag=AuditTag.LOGIN_SSO_REFUSED, now=now, actor_id=user.id if user else None,
                 actor_label=user.email if user else (label or "anonymous"), ip=ip, data=data)
    error: BansoError = ProviderUnreachable(message) if unreachable else Forbidden(message)
    raise error.mark_audited()


def begin(session: Session, *, clients: SsoClients, provider: str | None, next_url: str, now: datetime,
          settings: Settings, box: SecretBox, ip: str | None) -> SsoStart:
    """Start a single sign-on: remember state, nonce and PKCE verifier, return the provider's URL."""
    client = clients.get(provider)
    if client is None:
        raise NotFound(MSG_NO_PROVIDER)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    # O4: the provider first (its discovery document may take the whole timeout), the database after:
    # on SQLite a transaction holds the write lock from its first statement.
    try:
        url = client.authorization_url(state=state, nonce=nonce, verifier=verifier)
    except ProviderError as exc:
        _refuse(session, reason=exc.reason, message=exc.message, now=now, ip=ip, provider=client.provider.name,
                detail=exc.detail, unreachable=exc.unreachable)
    # Expired requests are worthless; deleting them here keeps the table as small as the login rate.
    repo.delete_sso_requests_before(session, now - timedelta(seconds=settings.oidc_login_ttl_seconds))
    session.add(SsoRequest(state_hash=sha256_hex(state), provider=client.provider.name, nonce=nonce,
                           verifier_enc=box.seal(verifier), next_url=next_url, created_at=now))
    session.flush()
    return SsoStart(url=url, state=state)


def _claim_request(session: Session, *, state: str, cookie_state: str | None, now: datetime, settings: Settings,
                   ip: str | None) -> SsoRequest:
    """Return the started login this callback answers and mark it used; refuse a foreign, stale or replayed one."""
    # The state must come back to the browser that started the login (its cookie): no login CSRF.
    if not state or not cookie_state or not secrets.compare_digest(state.encode(), cookie_state.encode()):
        _refuse(session, reason="state_mismatch", message=MSG_REQUEST, now=now, ip=ip)
    request = repo.sso_request_by_hash(session, sha256_hex(state), lock=True)
    if request is None:
        _refuse(session, reason="unknown_state", message=MSG_REQUEST, now=now, ip=ip)
    if request.used_at is not None:
        _refuse(session, reason="replayed_state", message=MSG_REPLAY, now=now, ip=ip, provider=request.provider)
    if now - request.created_at > timedelta(seconds=settings.oidc_login_ttl_seconds):
        _refuse(session, reason="expired_request", message=MSG_REQUEST, now=now, ip=ip, provider=request.provider)
    request.used_at = now  # one callback per state, kept even when this one is refused
    return request


@dataclass(frozen=True)
class Claimed:
    """A started login that a callback answers, claimed (marked used) in a unit of its own."""

    provider: str
    nonce: str
    verifier_enc: bytes
    next_url: str


def claim(session: Session, *, state: str, cookie_state: str | None, now: datetime, settings: Settings,
          ip: str | None) -> Claimed:
    """Claim the started login a callback answers; refuse a foreign, stale or replayed one (audited).

    Its unit commits before :func:`finish` calls the provider (O4): the callback's state is used
    for good even if the provider never answers, and no transaction is open while it is asked.
    """
    request = _claim_request(session, state=state, cookie_state=cookie_state, now=now, settings=settings, ip=ip)
    return Claimed(provider=request.provider, nonce=request.nonce, verifier_enc=request.verifier_enc,
                   next_url=request.next_url)


def finish(session: Session, *, clients: SsoClients, claimed: Claimed, code: str, error: str, iss: str | None,
           now: datetime, settings: Settings, box: SecretBox, ip: str | None, user_agent: str | None,
           replaces: str | None) -> SsoLogin:
    """Finish a single sign-on from the provider's callback and start the session (second factor per I7).

    ``session`` is untouched until the provider has answered (O4: no transaction, so on SQLite no
    write lock, is held while the provider is asked); ``claimed`` comes from :func:`claim`.
    """
    client = clients.get(claimed.provider)
    if client is None:
        _refuse(session, reason="unknown_provider", message=MSG_REQUEST, now=now, ip=ip, provider=claimed.provider)
    name = client.provider.name
    if error:
        _refuse(session, reason="provider_error", message=MSG_PROVIDER_ERROR, now=now, ip=ip, provider=name,
                detail=error)
    # RFC 9207: a provider that names itself in the response must be the one this login went to.
    if iss is not None and iss != client.provider.issuer:
        _refuse(session, reason="issuer_mismatch", message=MSG_ISSUER, now=now, ip=ip, provider=name,
                detail=f"iss={iss!r}")
    if not code:
        _refuse(session, reason="no_code", message=MSG_PROVIDER_ERROR, now=now, ip=ip, provider=name)
    try:
        claims = _verified_claims(client, request=claimed, code=code, box=box, now=now, settings=settings)
    except ProviderError as exc:
        _refuse(session, reason=exc.reason, message=exc.message, now=now, ip=ip, provider=name, detail=exc.detail,
                unreachable=exc.unreachable)
    user, identity = _linked_user(session, client.provider, claims, now=now, ip=ip)
    evidence = provider_second_factor(claims, client.provider)
    new = accounts.open_session(session, user=user, now=now, settings=settings, ip=ip, user_agent=user_agent,
                                replaces=replaces, mfa_verified=evidence is not None)
    identity.last_login_at = now
    second_factor = evidence or ("pending" if user.totp_enabled else "not_enrolled")
    audit.record(session, tag=AuditTag.LOGIN_SSO, now=now, actor_id=user.id, actor_label=user.email, ip=ip,
                 subject=f"session:{new.record.id}",
                 data={"provider": name, "issuer": client.provider.issuer, "subject": identity.subject,
                       "second_factor": second_factor})
    return SsoLogin(session=new, next_url=claimed.next_url, second_factor_done=evidence is not None)


def _verified_claims(client: OidcClient, *, request: Claimed, code: str, box: SecretBox, now: datetime,
                     settings: Settings) -> dict[str, Any]:
    """Redeem the code and return the ID token's checked claims, with e-mail claims from userinfo if needed."""
    tokens = client.exchange(code=code, verifier=box.open(request.verifier_enc))
    access_token = tokens.get("access_token") if isinstance(tokens.get("access_token"), str) else None
    claims = client.id_token_claims(str(tokens["id_token"]), nonce=request.nonce, access_token=access_token,
                                    now=now, leeway=settings.oidc_leeway_seconds)
    if "email" not in claims and access_token:
        info = client.userinfo(access_token)
        # OpenID Connect Core 5.3.2: userinfo about someone else must not be used.
        if info and info.get("sub") != claims["sub"]:
            raise ProviderError("userinfo_subject_mismatch", detail="userinfo sub differs from the ID token's")
        for key in ("email", "email_verified", "name"):
            if key in info and key not in claims:
                claims[key] = info[key]
    return claims


def provider_second_factor(claims: dict[str, Any], provider: OidcProvider) -> str | None:
    """Return how the provider asserted a second factor (``amr:…`` or ``acr:…``), or None (I7).

    Only the signed ID token's ``amr`` and ``acr`` count, and only values the operator configured.
    """
    amr = claims.get("amr")
    if isinstance(amr, list):
        hits = sorted({v for v in amr if isinstance(v, str)} & set(provider.mfa_amr))
        if hits:
            return "amr:" + ",".join(hits)
    acr = claims.get("acr")
    if isinstance(acr, str) and acr in provider.mfa_acr:
        return f"acr:{acr}"
    return None


def email_is_verified(value: object) -> bool:
    """Return True only for a provider's explicit yes (JSON true; some providers send the string "true")."""
    return value is True or value == "true"


def _linked_user(session: Session, provider: OidcProvider, claims: dict[str, Any], *, now: datetime,
                 ip: str | None) -> tuple[User, AccountIdentity]:
    """Return the person behind these claims and their identity row: by subject once linked, else by verified e-mail."""
    issuer, subject = provider.issuer, str(claims["sub"])
    label = f"{provider.name}:{subject}"
    identity = repo.identity_of(session, issuer, subject)
    if identity is not None:  # subject wins once linked, whatever e-mail the provider sends now
        user = repo.user_by_id(session, identity.user_id)
        assert user is not None  # the identity row cascades with its user
    else:
        user, identity = _link_by_email(session, provider, claims, subject=subject, now=now, ip=ip)
    if not user.is_active:
        _refuse(session, reason="disabled", message=MSG_DISABLED, now=now, ip=ip, provider=provider.name, user=user,
                label=label)
    return user, identity


def _link_by_email(session: Session, provider: OidcProvider, claims: dict[str, Any], *, subject: str,
                   now: datetime, ip: str | None) -> tuple[User, AccountIdentity]:
    """Link a first-time identity to the account with its verified e-mail (or create one if configured)."""
    label = f"{provider.name}:{subject}"
    raw_email = claims.get("email")
    try:
        email = rules.normalise_email(raw_email) if isinstance(raw_email, str) else None
    except ValueError:
        email = None
    if email is None:
        _refuse(session, reason="unknown_user", message=MSG_UNKNOWN, now=now, ip=ip, provider=provider.name,
                label=label, detail="no e-mail address")
    if not email_is_verified(claims.get("email_verified")):
        _refuse(session, reason="email_unverified", message=MSG_UNVERIFIED, now=now, ip=ip, provider=provider.name,
                label=email)
    user = repo.user_by_email(session, email)
    if user is None and provider.create_accounts and provider.new_account_organization_id is not None:
        user = _create_account(session, provider, claims, email=email, now=now)
    if user is None:
        _refuse(session, reason="unknown_user", message=MSG_UNKNOWN, now=now, ip=ip, provider=provider.name,
                label=email)
    if repo.identity_of_user(session, user.id, provider.issuer) is not None:
        _refuse(session, reason="linked_elsewhere", message=MSG_LINKED_ELSEWHERE, now=now, ip=ip,
                provider=provider.name, user=user)
    identity = AccountIdentity(user_id=user.id, issuer=provider.issuer, subject=subject, email=email,
                               created_at=now)
    session.add(identity)
    session.flush()
    audit.record(session, tag=AuditTag.IDENTITY_LINK, now=now, actor_id=user.id, actor_label=user.email, ip=ip,
                 subject=f"user:{user.id}",
                 data={"provider": provider.name, "issuer": provider.issuer, "subject": subject, "by": "email"})
    return user, identity


def _create_account(session: Session, provider: OidcProvider, claims: dict[str, Any], *, email: str,
                    now: datetime) -> User:
    """Create a role-less account for a first-time person (only when the operator enabled it)."""
    assert provider.new_account_organization_id is not None
    name = claims.get("name") if isinstance(claims.get("name"), str) else None
    # An unusable random password: this person signs in through the provider (or after a reset).
    return accounts.create_user(session, email=email, name_ja=(name or email)[:200], name_en=(name or email)[:200],
                                organization_id=provider.new_account_organization_id, roles=[],
                                password=secrets.token_urlsafe(48), now=now, actor=None)
