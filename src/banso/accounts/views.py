"""HTML pages of the accounts domain: login, second factor, logout, API tokens and people (admin)."""

from __future__ import annotations

import base64
import io
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from banso.accounts import repository as repo
from banso.accounts import service, sso
from banso.accounts.models import OrgKind, User, WebSession
from banso.authz.guard import require
from banso.authz.permissions import Permission, Role
from banso.kit.clock import as_utc
from banso.kit.errors import BansoError, NotFound, ValidationFailed
from banso.kit.unit import unit_of_work
from banso.web.csrf import new_prelogin_token, verify_csrf, verify_prelogin_csrf
from banso.web.deps import PRELOGIN_CSRF_COOKIE, SESSION_COOKIE, Auth, Ctx, Db, client_ip
from banso.web.forms import error_message, refused
from banso.web.pages import PageUser, safe_next
from banso.web.templating import render

router = APIRouter(include_in_schema=False)
Csrf = Depends(verify_csrf)
NO_STORE = {"Cache-Control": "no-store"}


def _set_session_cookie(response: Response, value: str, ctx: Ctx) -> None:
    response.set_cookie(
        SESSION_COOKIE, value, max_age=ctx.settings.session_max_age_seconds, httponly=True, samesite="lax",
        secure=ctx.settings.secure_cookies, path="/",
    )


def qr_svg_data_uri(text: str) -> str:
    """Return ``text`` as a QR code in an SVG data: URI (rendered on the server; the CSP allows data: images)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


# ---------------------------------------------------------------------------------------------
# Login (password, then the second factor)


def _login_page(request: Request, ctx: Ctx, *, next_url: str, email: str = "", error: str | None = None,
                status: int = 200) -> HTMLResponse:
    token = request.cookies.get(PRELOGIN_CSRF_COOKIE) or new_prelogin_token()
    response = render(request, "login.html", {"next": next_url, "email": email, "error": error,
                                              "login_csrf": token, "sso_providers": ctx.settings.sso_providers},
                      status=status)
    response.set_cookie(PRELOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax",
                        secure=ctx.settings.secure_cookies, path="/")
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, auth: Auth, ctx: Ctx, next: str | None = None) -> Response:
    """Show the login form (and set the pre-login CSRF cookie)."""
    if auth.principal is not None:
        return RedirectResponse(safe_next(next, "/dashboard"), status_code=303)
    return _login_page(request, ctx, next_url=safe_next(next, "/dashboard"))


@router.post("/login", response_class=HTMLResponse, dependencies=[Depends(verify_prelogin_csrf)])
def login(
    request: Request,
    ctx: Ctx,
    db: Db,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/dashboard",
) -> Response:
    """Check e-mail and password, start a session and continue to the second factor."""
    next_url = safe_next(next, "/dashboard")
    try:
        new = service.login_with_password(
            db, email=email, password=password, ip=client_ip(request),
            user_agent=request.headers.get("user-agent"), now=ctx.clock.now(), settings=ctx.settings,
            replaces=request.cookies.get(SESSION_COOKIE),
        )
    except BansoError as exc:  # A1: the failed attempt and the throttle counter persist (raised audited)
        return refused(request, db, exc, partial(_login_page, request, ctx, next_url=next_url, email=email))
    return _signed_in_redirect(new, next_url, ctx)


def _signed_in_redirect(new: service.NewSession, next_url: str, ctx: Ctx, *, second_factor_done: bool = False
                        ) -> RedirectResponse:
    """Send a freshly signed-in browser on: to its page, the second factor, or enrolment (I7)."""
    if second_factor_done:
        target = next_url
    else:
        target = f"/login/2fa?next={quote(next_url)}" if new.user.totp_enabled else "/account/2fa/setup"
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(response, new.cookie, ctx)
    response.delete_cookie(PRELOGIN_CSRF_COOKIE, path="/")
    return response


# ---------------------------------------------------------------------------------------------
# Single sign-on (OpenID Connect, O3)


@router.get("/login/sso")
def sso_start(
    request: Request,
    auth: Auth,
    ctx: Ctx,
    db: Db,
    provider: Annotated[str | None, Query(max_length=32)] = None,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """Send the browser to the identity provider (authorization code flow with PKCE, state and nonce)."""
    next_url = safe_next(next, "/dashboard")
    if auth.principal is not None:
        return RedirectResponse(next_url, status_code=303)
    try:
        start = sso.begin(db, clients=ctx.collaborators.get(sso.SsoClients), provider=provider, next_url=next_url,
                          now=ctx.clock.now(), settings=ctx.settings, box=ctx.box, ip=client_ip(request))
    except BansoError as exc:  # A1: a provider that cannot be trusted is refused audited
        return refused(request, db, exc, partial(_login_page, request, ctx, next_url=next_url))
    response = RedirectResponse(start.url, status_code=303)
    response.set_cookie(sso.SSO_STATE_COOKIE, start.state, max_age=ctx.settings.oidc_login_ttl_seconds,
                        httponly=True, samesite="lax", secure=ctx.settings.secure_cookies, path=sso.SSO_COOKIE_PATH)
    return response


@router.get("/login/sso/callback")
def sso_callback(
    request: Request,
    ctx: Ctx,
    db: Db,
    state: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[str, Query(max_length=4000)] = "",
    error: Annotated[str, Query(max_length=200)] = "",
    iss: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Finish the single sign-on: check everything the provider sent, then start the session as a login does."""
    response = _finish_sso(request, ctx, db, state=state, code=code, error=error, iss=iss)
    response.delete_cookie(sso.SSO_STATE_COOKIE, path=sso.SSO_COOKIE_PATH)
    return response


def _finish_sso(request: Request, ctx: Ctx, db: Db, *, state: str, code: str, error: str,
                iss: str | None) -> Response:
    """Claim the state in a unit of its own, then finish the login on the request's unit (O4, A1)."""
    page = partial(_login_page, request, ctx, next_url="/dashboard")
    try:
        # O4: the state is claimed and committed before the provider is asked, so no transaction
        # (on SQLite: the write lock) waits on the provider's answer.
        with unit_of_work(ctx.sessions) as first:
            claimed = sso.claim(first, state=state, cookie_state=request.cookies.get(sso.SSO_STATE_COOKIE),
                                now=ctx.clock.now(), settings=ctx.settings, ip=client_ip(request))
    except BansoError as exc:  # audited and settled by its own unit already: only the page is left
        if isinstance(exc, NotFound):
            raise
        return page(error=error_message(request, exc), status=exc.status_code)
    try:
        done = sso.finish(
            db, clients=ctx.collaborators.get(sso.SsoClients), claimed=claimed, code=code, error=error, iss=iss,
            now=ctx.clock.now(), settings=ctx.settings, box=ctx.box, ip=client_ip(request),
            user_agent=request.headers.get("user-agent"), replaces=request.cookies.get(SESSION_COOKIE),
        )
    except BansoError as exc:  # A1: every refusal is audited, and the state stays used
        return refused(request, db, exc, page)
    return _signed_in_redirect(done.session, safe_next(done.next_url, "/dashboard"), ctx,
                               second_factor_done=done.second_factor_done)


def _second_factor_redirect(auth: Auth, next_url: str) -> RedirectResponse | None:
    """Return where to go when the second-factor page does not apply to this caller."""
    if auth.principal is not None:
        return RedirectResponse(next_url, status_code=303)
    if auth.needs_enrolment:
        return RedirectResponse("/account/2fa/setup", status_code=303)
    if not auth.pending_mfa:
        return RedirectResponse(f"/login?next={quote(next_url)}", status_code=303)
    return None


@router.get("/login/2fa", response_class=HTMLResponse)
def second_factor_form(request: Request, auth: Auth, next: str | None = None) -> Response:
    """Ask for the TOTP code (or a recovery code)."""
    next_url = safe_next(next, "/dashboard")
    return _second_factor_redirect(auth, next_url) or _second_factor_page(request, next_url)


def _second_factor_page(request: Request, next_url: str, *, error: str | None = None,
                        status: int = 200) -> Response:
    return render(request, "login_2fa.html", {"next": next_url, "error": error}, status=status)


@router.post("/login/2fa", response_class=HTMLResponse, dependencies=[Csrf])
def second_factor(
    request: Request,
    auth: Auth,
    ctx: Ctx,
    db: Db,
    code: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/dashboard",
) -> Response:
    """Verify the code; a code from an already used time-step is refused as a replay."""
    next_url = safe_next(next, "/dashboard")
    redirect = _second_factor_redirect(auth, next_url)
    if redirect is not None:
        return redirect
    assert isinstance(auth.user, User) and isinstance(auth.web_session, WebSession)
    try:
        service.verify_second_factor(
            db, user=auth.user, web_session=auth.web_session, code=code, box=ctx.box, now=ctx.clock.now(),
            ip=client_ip(request), settings=ctx.settings,
        )
    except BansoError as exc:  # A1: failures and refused replays are audited and counted (raised audited)
        return refused(request, db, exc, partial(_second_factor_page, request, next_url))
    response = RedirectResponse(next_url, status_code=303)
    _rotate(response, auth, ctx, db)
    return response


def _rotate(response: Response, auth: Auth, ctx: Ctx, db: Db) -> None:
    """Give the session a new id after a privilege step (the old id stops working)."""
    assert isinstance(auth.web_session, WebSession)
    new = service.rotate_session(db, web_session=auth.web_session, now=ctx.clock.now(), settings=ctx.settings)
    _set_session_cookie(response, new.cookie, ctx)


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request, auth: Auth, ctx: Ctx, db: Db) -> RedirectResponse:
    """End the session and forget its cookie."""
    if isinstance(auth.web_session, WebSession) and isinstance(auth.user, User):
        service.logout(db, web_session=auth.web_session, user=auth.user, now=ctx.clock.now(),
                       ip=client_ip(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---------------------------------------------------------------------------------------------
# Second-factor enrolment


def _enrolment_redirect(auth: Auth) -> RedirectResponse | None:
    if auth.principal is not None:
        return RedirectResponse("/dashboard", status_code=303)
    if auth.pending_mfa:
        return RedirectResponse("/login/2fa", status_code=303)
    if not auth.needs_enrolment:
        return RedirectResponse("/login?next=/account/2fa/setup", status_code=303)
    return None


def _enrolment_page(request: Request, auth: Auth, ctx: Ctx, db: Db, *, error: str | None = None,
                    status: int = 200) -> Response:
    assert isinstance(auth.user, User)
    # The pending secret must survive until the confirming code arrives: the request's unit commits it.
    secret = service.begin_enrolment(db, user=auth.user, box=ctx.box)
    uri = service.totp_uri(auth.user, secret)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    response = render(request, "enrol.html", {"qr": qr_svg_data_uri(uri), "secret": grouped, "error": error},
                      status=status)
    response.headers.update(NO_STORE)
    return response


@router.get("/account/2fa/setup", response_class=HTMLResponse)
def enrolment_form(request: Request, auth: Auth, ctx: Ctx, db: Db) -> Response:
    """Show the QR code and secret to add to an authenticator app."""
    return _enrolment_redirect(auth) or _enrolment_page(request, auth, ctx, db)


@router.post("/account/2fa/setup", response_class=HTMLResponse, dependencies=[Csrf])
def enrol(
    request: Request, auth: Auth, ctx: Ctx, db: Db, code: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    """Confirm enrolment with a first code and show the recovery codes once."""
    redirect = _enrolment_redirect(auth)
    if redirect is not None:
        return redirect
    assert isinstance(auth.user, User)
    assert auth.web_session is None or isinstance(auth.web_session, WebSession)
    try:
        codes = service.confirm_enrolment(db, user=auth.user, web_session=auth.web_session, code=code, box=ctx.box,
                                          now=ctx.clock.now(), ip=client_ip(request))
    except BansoError as exc:  # A1: the failed confirmation is audited (raised audited)
        return refused(request, db, exc, partial(_enrolment_page, request, auth, ctx, db))
    response = render(request, "recovery_codes.html", {"codes": codes})
    response.headers.update(NO_STORE)
    _rotate(response, auth, ctx, db)
    return response


# ---------------------------------------------------------------------------------------------
# API tokens


def _tokens_page(request: Request, principal: PageUser, ctx: Ctx, db: Db, *, issued: Any = None,
                 error: str | None = None, notice: str | None = None, status: int = 200) -> Response:
    tokens = service.list_tokens(db, actor=principal)
    moment = ctx.clock.now()
    expired = {t.id for t in tokens if t.expires_at is not None and as_utc(t.expires_at) <= moment}
    response = render(request, "tokens.html", {
        "tokens": tokens,
        "issued": issued,
        "error": error,
        "notice": notice,
        "expired_ids": expired,
        "max_days": ctx.settings.token_max_lifetime_days,
        "permissions": sorted(p.value for p in principal.permissions),
    }, status=status)
    if issued is not None:
        response.headers.update(NO_STORE)
    return response


@router.get("/account/tokens", response_class=HTMLResponse)
def tokens(request: Request, principal: PageUser, ctx: Ctx, db: Db, revoked: int | None = None) -> Response:
    """List the caller's API tokens."""
    return _tokens_page(request, principal, ctx, db, notice="revoked" if revoked else None)


@router.post("/account/tokens", response_class=HTMLResponse, dependencies=[Csrf])
def issue_token(
    request: Request,
    principal: PageUser,
    auth: Auth,
    ctx: Ctx,
    db: Db,
    name: Annotated[str, Form(max_length=200)] = "",
    expires_in_days: Annotated[str, Form(max_length=6)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Issue a token for the caller; the raw value is shown on this response only.

    A blank expiry means the platform's maximum lifetime, never "no expiry".
    """
    assert isinstance(auth.user, User)
    try:
        days = _form_days(expires_in_days)
        issued = service.issue_token(db, user=auth.user, name=name, scopes=scopes or None, expires_in_days=days,
                                     now=ctx.clock.now(), actor=principal,
                                     max_days=ctx.settings.token_max_lifetime_days)
    except BansoError as exc:
        return refused(request, db, exc, partial(_tokens_page, request, principal, ctx, db))
    return _tokens_page(request, principal, ctx, db, issued=issued, status=201)


def _form_days(value: str) -> int | None:
    """Return the expiry typed in the token form (blank: None, the maximum); refuse anything else."""
    cleaned = value.strip()
    if not cleaned:
        return None
    if not cleaned.isdigit():
        raise ValidationFailed("有効期間は日数（整数）で入力してください / expiry must be a whole number of days",
                               field="expires_in_days")
    return int(cleaned)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[Csrf])
def revoke_token(token_id: int, request: Request, principal: PageUser, ctx: Ctx, db: Db) -> Response:
    """Revoke one of the caller's tokens (others' tokens answer 404)."""
    try:
        service.revoke_token(db, token_id=token_id, actor=principal, now=ctx.clock.now())
    except BansoError as exc:  # another's token: 404 on this page, like a missing one
        return refused(request, db, exc, partial(_tokens_page, request, principal, ctx, db), show_not_found=True)
    return RedirectResponse("/account/tokens?revoked=1", status_code=303)


# ---------------------------------------------------------------------------------------------
# People and organisations (admin)


def _admin_page(request: Request, principal: PageUser, db: Db, *, error: str | None = None,
                notice: str | None = None, form: dict[str, Any] | None = None, status: int = 200) -> Response:
    require(principal, Permission.USER_MANAGE)
    return render(request, "admin_users.html", {
        "users": repo.list_users(db),
        "orgs": repo.list_orgs(db),
        "roles": [r.value for r in Role],
        "org_kinds": [k.value for k in OrgKind],
        "error": error,
        "notice": notice,
        "form": form or {},
    }, status=status)


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users(request: Request, principal: PageUser, db: Db, done: str | None = None) -> Response:
    """List people and organisations (admin; 403 for everyone else)."""
    return _admin_page(request, principal, db, notice=done)


@router.post("/admin/users", response_class=HTMLResponse, dependencies=[Csrf])
def admin_create_user(
    request: Request,
    principal: PageUser,
    ctx: Ctx,
    db: Db,
    email: Annotated[str, Form(max_length=254)] = "",
    name_ja: Annotated[str, Form(max_length=200)] = "",
    name_en: Annotated[str, Form(max_length=200)] = "",
    organization_id: Annotated[str, Form(max_length=12)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Create a person (admin action, audited)."""
    require(principal, Permission.USER_MANAGE)
    form = {"email": email, "name_ja": name_ja, "name_en": name_en, "organization_id": organization_id,
            "roles": roles or []}
    try:
        service.create_user(db, email=email, name_ja=name_ja, name_en=name_en,
                            organization_id=int(organization_id) if organization_id.isdigit() else 0,
                            roles=roles or [], password=password, now=ctx.clock.now(), actor=principal)
    except BansoError as exc:
        return refused(request, db, exc, partial(_admin_page, request, principal, db, form=form))
    return RedirectResponse("/admin/users?done=created", status_code=303)


@router.post("/admin/users/{user_id}/reset-2fa", dependencies=[Csrf])
def admin_reset_second_factor(user_id: int, principal: PageUser, ctx: Ctx, db: Db) -> RedirectResponse:
    """Remove a person's second factor so they enrol again (admin action, audited)."""
    service.reset_second_factor(db, user_id=user_id, actor=principal, now=ctx.clock.now())
    return RedirectResponse("/admin/users?done=reset", status_code=303)


@router.post("/admin/users/{user_id}/disable", dependencies=[Csrf])
def admin_disable_user(user_id: int, principal: PageUser, ctx: Ctx, db: Db) -> RedirectResponse:
    """Disable a person: their sessions and tokens stop at once (admin action, audited)."""
    service.disable_user(db, user_id=user_id, actor=principal, now=ctx.clock.now())
    return RedirectResponse("/admin/users?done=disabled", status_code=303)
