"""Account services: people, login, second factor, sessions and API tokens.

Services never commit: the request or command that owns the unit of work does, so each
action and its audit entry (A1) commit together or not at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from sqlalchemy.orm import Session

from banso.accounts import repository as repo
from banso.accounts import rules
from banso.accounts.models import (
    ApiToken,
    LoginThrottle,
    Organization,
    OrgKind,
    RecoveryCode,
    User,
    WebSession,
)
from banso.accounts.security import (
    DUMMY_PASSWORD_HASH,
    hash_password,
    new_recovery_codes,
    normalise_recovery_code,
    random_alnum,
    sha256_hex,
    verify_password,
)
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.guard import require, require_visible
from banso.authz.permissions import Permission, Role, parse_permissions, permissions_for
from banso.authz.policies import accounts as policy
from banso.authz.principal import AuthMethod, Principal
from banso.config import DEFAULT_TOKEN_MAX_LIFETIME_DAYS, Settings
from banso.kit.crypto import SecretBox
from banso.kit.errors import AuthenticationRequired, Conflict, NotFound, TooManyRequests, ValidationFailed
from banso.kit.text import clean_text, join_messages

ISSUER = "banso"


# ---------------------------------------------------------------------------------------------
# Organisations and people


def create_organization(
    session: Session,
    *,
    name_ja: str,
    name_en: str,
    kind: str,
    short_name: str | None = None,
    now: datetime,
    actor: Principal | None,
) -> Organization:
    """Create an organisation; the name must be unique."""
    if actor is not None:
        require(actor, Permission.ORG_MANAGE)
    try:
        kind_value = OrgKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in OrgKind)
        raise ValidationFailed(f"機関の種類 {kind!r} は選択肢（{allowed}）にありません / unknown organisation kind {kind!r}; use one of {allowed}", field="kind") from None
    name_ja = clean_text(name_ja, "name_ja", max_length=200, line=True)
    name_en = clean_text(name_en, "name_en", max_length=200, line=True)
    short_name = clean_text(short_name, "short_name", max_length=50, required=False, line=True) or None
    if repo.org_by_name(session, name_ja) is not None:
        raise Conflict(f"機関 {name_ja!r} は既に登録されています / organisation {name_ja!r} already exists", field="name_ja")
    org = Organization(
        name_ja=name_ja, name_en=name_en, kind=kind_value.value, short_name=short_name, created_at=now
    )
    session.add(org)
    session.flush()
    audit.record(
        session,
        tag=AuditTag.ORG_CREATE,
        now=now,
        actor_id=actor.user_id if actor else None,
        actor_label=actor.label if actor else "system",
        subject=f"org:{org.id}",
        data={"name_ja": org.name_ja, "kind": org.kind},
    )
    return org


def create_user(
    session: Session,
    *,
    email: str,
    name_ja: str,
    name_en: str,
    organization_id: int,
    roles: list[str],
    password: str,
    now: datetime,
    actor: Principal | None,
    researcher_number: str | None = None,
    locale: str = "ja",
) -> User:
    """Create a person; ``actor`` None means the bootstrap CLI (an operator on the server)."""
    if actor is not None:
        require(actor, Permission.USER_MANAGE)
    try:
        email_n = rules.normalise_email(email)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="email") from None
    try:
        role_values = sorted({Role(r).value for r in roles})
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise ValidationFailed(f"役割 {roles!r} に選択肢（{allowed}）にないものがあります / unknown role in {roles!r}; use one of {allowed}", field="roles") from None
    problems = rules.password_problems(password, email=email_n)
    if problems:
        raise ValidationFailed(join_messages(problems), field="password")
    name_ja = clean_text(name_ja, "name_ja", max_length=200, line=True)
    name_en = clean_text(name_en, "name_en", max_length=200, required=False, line=True)
    if repo.org_by_id(session, organization_id) is None:
        raise ValidationFailed(f"機関 {organization_id} は存在しません / organisation {organization_id} does not exist", field="organization_id")
    if repo.user_by_email(session, email_n) is not None:
        raise Conflict(f"メールアドレス {email_n} の利用者は既に登録されています / a user with e-mail {email_n} already exists", field="email")
    user = User(
        email=email_n,
        name_ja=name_ja,
        name_en=name_en or name_ja,
        organization_id=organization_id,
        roles=role_values,
        password_hash=hash_password(password),
        researcher_number=researcher_number,
        locale=locale,
        is_active=True,
        totp_enabled=False,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        tag=AuditTag.USER_CREATE,
        now=now,
        actor_id=actor.user_id if actor else None,
        actor_label=actor.label if actor else "system",
        subject=f"user:{user.id}",
        data={"email": user.email, "roles": role_values, "organization_id": organization_id},
    )
    return user


def set_roles(session: Session, *, user_id: int, roles: list[str], actor: Principal, now: datetime) -> User:
    """Replace a person's platform roles (admin action, audited)."""
    require(actor, Permission.ROLE_MANAGE)
    user = repo.user_by_id(session, user_id)
    require_visible(user is not None, "user")
    assert user is not None
    try:
        new = sorted({Role(r).value for r in roles})
    except ValueError:
        raise ValidationFailed(f"役割 {roles!r} に存在しないものがあります / unknown role in {roles!r}", field="roles") from None
    old = list(user.roles)
    for added in sorted(set(new) - set(old)):
        audit.record(session, tag=AuditTag.ROLE_GRANT, now=now, actor_id=actor.user_id, actor_label=actor.label,
                     subject=f"user:{user.id}", data={"role": added})
    for removed in sorted(set(old) - set(new)):
        audit.record(session, tag=AuditTag.ROLE_REVOKE, now=now, actor_id=actor.user_id, actor_label=actor.label,
                     subject=f"user:{user.id}", data={"role": removed})
    user.roles = new
    user.updated_at = now
    return user


def set_export_profile(session: Session, *, user_id: int, nationality: str | None, foreign_affiliation: str | None,
                       actor: Principal, now: datetime) -> User:
    """Record a person's nationality (ISO 3166-1 alpha-2) and foreign affiliation (admin action, audited).

    F7 (deemed export): a person of another nationality or with a foreign affiliation reads a council's items
    classified 該当/要確認 only once the export-control officer clears them there.
    """
    require(actor, Permission.USER_MANAGE)
    user = repo.user_by_id(session, user_id)
    require_visible(user is not None, "user")
    assert user is not None
    code = (nationality or "").strip().upper() or None
    if code is not None and not (len(code) == 2 and code.isascii() and code.isalpha()):
        raise ValidationFailed("国籍は ISO 3166-1 の 2 文字の国名コード（例: JP）で入力してください / nationality must "
                               "be a two-letter ISO 3166-1 country code (e.g. JP)", field="nationality")
    affiliation = clean_text(foreign_affiliation, "foreign_affiliation", max_length=200, required=False) or None
    user.nationality, user.foreign_affiliation, user.updated_at = code, affiliation, now
    audit.record(session, tag=AuditTag.EXPORT_PROFILE_SET, now=now, actor_id=actor.user_id, actor_label=actor.label,
                 subject=f"user:{user.id}", data={"nationality": code, "foreign_affiliation": affiliation})
    return user


def disable_user(session: Session, *, user_id: int, actor: Principal | None, now: datetime) -> User:
    """Disable a person: their sessions and tokens stop working at once."""
    if actor is not None:
        require(actor, Permission.USER_MANAGE)
    user = repo.user_by_id(session, user_id)
    if user is None:
        raise NotFound("利用者が見つかりません / user not found")
    user.is_active = False
    user.updated_at = now
    _end_sessions(session, user_id=user.id, now=now)
    audit.record(session, tag=AuditTag.USER_DISABLE, now=now, actor_id=actor.user_id if actor else None,
                 actor_label=actor.label if actor else "system", subject=f"user:{user.id}")
    # Revoked, not just refused while disabled: re-enabling the person must not revive old tokens.
    revoke_tokens_of(session, user_id=user.id, actor=actor, now=now, reason="user_disabled")
    return user


def reset_password(
    session: Session, *, user_id: int, password: str, actor: Principal | None, now: datetime
) -> User:
    """Set a new password (admin or operator action): sessions end and every API token is revoked."""
    if actor is not None:
        require(actor, Permission.USER_MANAGE)
    user = repo.user_by_id(session, user_id)
    if user is None:
        raise NotFound("利用者が見つかりません / user not found")
    problems = rules.password_problems(password, email=user.email)
    if problems:
        raise ValidationFailed(join_messages(problems), field="password")
    user.password_hash = hash_password(password)
    user.updated_at = now
    _end_sessions(session, user_id=user.id, now=now)
    audit.record(session, tag=AuditTag.USER_UPDATE, now=now, actor_id=actor.user_id if actor else None,
                 actor_label=actor.label if actor else "system", subject=f"user:{user.id}",
                 data={"change": "password_reset"})
    revoke_tokens_of(session, user_id=user.id, actor=actor, now=now, reason="password_reset")
    return user


def _end_sessions(session: Session, *, user_id: int, now: datetime) -> None:
    """Revoke every live web session of a person."""
    for web_session in repo.active_sessions_of(session, user_id):
        web_session.revoked_at = now


def principal_for(
    user: User,
    *,
    method: AuthMethod,
    mfa: bool,
    session_id: int | None = None,
    token: ApiToken | None = None,
) -> Principal:
    """Build the request principal for ``user``."""
    scopes = None
    if token is not None and token.scopes is not None:
        scopes = parse_permissions(token.scopes)
    return Principal(
        user_id=user.id,
        email=user.email,
        name=user.name_ja,
        organization_id=user.organization_id,
        roles=frozenset(Role(r) for r in user.roles),
        method=method,
        mfa=mfa,
        token_scopes=scopes,
        session_id=session_id,
        token_id=token.id if token else None,
    )


def token_principal(token: ApiToken, user: User) -> Principal:
    """Build the principal of a request authenticated by ``token``.

    I7: the token stands for a second factor only if it was recorded as issued behind one, and
    only while the user still has one enrolled.
    """
    return principal_for(user, method=AuthMethod.TOKEN, mfa=token.second_factor and user.totp_enabled, token=token)


# ---------------------------------------------------------------------------------------------
# Login, throttling and sessions


@dataclass(frozen=True)
class NewSession:
    """A freshly started web session and the raw cookie value (shown once)."""

    cookie: str
    record: WebSession
    user: User


def _throttle_keys(email: str, ip: str | None) -> list[str]:
    keys = [f"email:{email}"]
    if ip:
        keys.append(f"ip:{ip}")
    return keys


def _register_failure(session: Session, *, key: str, now: datetime, settings: Settings) -> bool:
    """Count a failed login against ``key``; return True if this failure locked it."""
    row = repo.throttle_for(session, key, lock=True)
    if row is None:
        row = LoginThrottle(key=key, failures=0)
        session.add(row)
    decision = rules.after_failure(
        failures=row.failures,
        first_failure_at=row.first_failure_at,
        now=now,
        max_failures=settings.login_max_failures,
        lockout=timedelta(seconds=settings.login_lockout_seconds),
    )
    row.failures = decision.failures
    row.first_failure_at = decision.first_failure_at
    newly_locked = decision.locked_until is not None and not rules.is_locked(row.locked_until, now)
    if decision.locked_until is not None:
        row.locked_until = decision.locked_until
    return newly_locked


def _locked_key(session: Session, keys: list[str], now: datetime) -> str | None:
    for key in keys:
        row = repo.throttle_for(session, key)
        if row is not None and rules.is_locked(row.locked_until, now):
            return key
    return None


def login_with_password(
    session: Session,
    *,
    email: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
    settings: Settings,
    replaces: str | None = None,
) -> NewSession:
    """Check e-mail and password and start a session (second factor still pending if enrolled).

    ``replaces`` is the session cookie the browser sent, if any: on success that session ends,
    so a privilege step never keeps an old session id alive (no session fixation).
    Raises AuthenticationRequired on a wrong e-mail or password and TooManyRequests while
    locked out. Failures are audited and counted; the caller must commit even on failure.
    """
    email_n = email.strip().lower()
    keys = _throttle_keys(email_n, ip)
    locked = _locked_key(session, keys, now)
    if locked is not None:
        audit.record(session, tag=AuditTag.LOGIN_FAILED, now=now, actor_label=email_n, ip=ip,
                     data={"reason": "locked", "key": locked.split(":", 1)[0]})
        raise TooManyRequests("ログイン試行が多すぎます。しばらく待ってから再試行してください / Too many attempts; try later").mark_audited()
    user = repo.user_by_email(session, email_n)
    ok = verify_password(user.password_hash if user else DUMMY_PASSWORD_HASH, password)
    if user is None or not ok or not user.is_active:
        reason = "unknown_user" if user is None else ("disabled" if ok else "bad_password")
        audit.record(session, tag=AuditTag.LOGIN_FAILED, now=now, actor_id=user.id if user else None,
                     actor_label=email_n, ip=ip, data={"reason": reason})
        for key in keys:
            if _register_failure(session, key=key, now=now, settings=settings):
                audit.record(session, tag=AuditTag.LOGIN_LOCKED, now=now, actor_label=email_n, ip=ip,
                             data={"key": key.split(":", 1)[0],
                                   "until": (now + timedelta(seconds=settings.login_lockout_seconds)).isoformat()})
        raise AuthenticationRequired("メールアドレスまたはパスワードが違います / Wrong e-mail or password").mark_audited()
    # Success clears the account's counter (not the address's: one good login must not
    # reset throttling for an attacker spraying many accounts from one address).
    row = repo.throttle_for(session, f"email:{email_n}")
    if row is not None:
        session.delete(row)
    new = open_session(session, user=user, now=now, settings=settings, ip=ip, user_agent=user_agent,
                       replaces=replaces)
    record = new.record
    audit.record(session, tag=AuditTag.LOGIN, now=now, actor_id=user.id, actor_label=user.email, ip=ip,
                 subject=f"session:{record.id}", data={"second_factor": "pending" if user.totp_enabled else "not_enrolled"})
    return new


def open_session(
    session: Session, *, user: User, now: datetime, settings: Settings, ip: str | None, user_agent: str | None,
    replaces: str | None, mfa_verified: bool = False,
) -> NewSession:
    """Start a web session for ``user`` (password or single sign-on), ending the one ``replaces`` names.

    ``mfa_verified`` marks the second factor as passed now (a provider asserted one, I7).
    """
    _end_session_of_cookie(session, replaces, now=now)
    raw, record = _new_session_record(
        user_id=user.id, created_at=now, now=now, settings=settings, ip=ip, user_agent=user_agent
    )
    if mfa_verified:
        record.mfa_verified_at = now
    session.add(record)
    session.flush()
    return NewSession(cookie=raw, record=record, user=user)


def _new_session_record(
    *, user_id: int, created_at: datetime, now: datetime, settings: Settings, ip: str | None,
    user_agent: str | None,
) -> tuple[str, WebSession]:
    """Return a fresh random cookie value and its (unsaved) session row with a fresh CSRF token."""
    raw = secrets.token_urlsafe(32)
    record = WebSession(
        token_hash=sha256_hex(raw),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=created_at,
        last_seen_at=now,
        expires_at=created_at + timedelta(seconds=settings.session_max_age_seconds),
        mfa_verified_at=None,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    return raw, record


def _end_session_of_cookie(session: Session, cookie: str | None, *, now: datetime) -> None:
    """Revoke the live session a cookie value names, if any."""
    if not cookie or len(cookie) > 200:
        return
    record = repo.session_by_hash(session, sha256_hex(cookie))
    if record is not None and record.revoked_at is None:
        record.revoked_at = now


def rotate_session(session: Session, *, web_session: WebSession, now: datetime, settings: Settings) -> NewSession:
    """Replace a session by a new id and CSRF token with the same standing; the old id stops working.

    Called at each privilege step (second factor passed, enrolment confirmed) so that a session id
    seen before the step (e.g. planted, or logged) is worth nothing after it. The new session keeps
    the old one's start time, so rotation never extends the absolute session lifetime.
    """
    user = repo.user_by_id(session, web_session.user_id)
    if user is None:
        raise NotFound("利用者が見つかりません / user not found")
    raw, record = _new_session_record(
        user_id=web_session.user_id, created_at=web_session.created_at, now=now, settings=settings,
        ip=web_session.ip, user_agent=web_session.user_agent,
    )
    record.mfa_verified_at = web_session.mfa_verified_at
    web_session.revoked_at = now
    session.add(record)
    session.flush()
    return NewSession(cookie=raw, record=record, user=user)


def resolve_session(
    session: Session, *, cookie: str | None, now: datetime, settings: Settings
) -> tuple[WebSession, User] | None:
    """Return the live session and its user for a cookie value, or None."""
    if not cookie or len(cookie) > 200:
        return None
    found = repo.session_with_user(session, sha256_hex(cookie))
    if found is None or found[0].revoked_at is not None:
        return None
    record, user = found
    if rules.session_expired(
        created_at=record.created_at,
        last_seen_at=record.last_seen_at,
        now=now,
        max_age=timedelta(seconds=settings.session_max_age_seconds),
        idle=timedelta(seconds=settings.session_idle_seconds),
    ):
        return None
    if not user.is_active:
        return None
    # Write last_seen at most once a minute so reads do not all become writes.
    if now - record.last_seen_at > timedelta(seconds=60):
        record.last_seen_at = now
    return record, user


def logout(session: Session, *, web_session: WebSession, user: User, now: datetime, ip: str | None) -> None:
    """End a web session."""
    web_session.revoked_at = now
    audit.record(session, tag=AuditTag.LOGOUT, now=now, actor_id=user.id, actor_label=user.email, ip=ip,
                 subject=f"session:{web_session.id}")


# ---------------------------------------------------------------------------------------------
# Second factor (TOTP, recovery codes)


def totp_uri(user: User, secret: str) -> str:
    """Return the otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def begin_enrolment(session: Session, *, user: User, box: SecretBox) -> str:
    """Create (or return the pending) TOTP secret for a user who is not yet enrolled."""
    if user.totp_enabled:
        raise Conflict("二段階認証は既に設定済みです / The second factor is already set up")
    if user.totp_secret_enc is not None:
        return box.open(user.totp_secret_enc)
    secret = pyotp.random_base32()
    user.totp_secret_enc = box.seal(secret)
    return secret


def confirm_enrolment(
    session: Session,
    *,
    user: User,
    web_session: WebSession | None,
    code: str,
    box: SecretBox,
    now: datetime,
    ip: str | None,
) -> list[str]:
    """Confirm enrolment with a first code; return the recovery codes (shown once)."""
    if user.totp_enabled:
        raise Conflict("二段階認証は既に設定済みです / The second factor is already set up")
    if user.totp_secret_enc is None:
        raise ValidationFailed("登録手続が開始されていません / enrolment was not started", field="code")
    secret = box.open(user.totp_secret_enc)
    step = rules.match_totp(secret, code, now)
    if step is None:
        audit.record(session, tag=AuditTag.MFA_VERIFY_FAILED, now=now, actor_id=user.id, actor_label=user.email,
                     ip=ip, data={"during": "enrolment"})
        raise ValidationFailed("確認コードが違います / The code is not valid", field="code").mark_audited()
    user.totp_enabled = True
    user.totp_last_step = step
    user.updated_at = now
    codes = _replace_recovery_codes(session, user=user)
    if web_session is not None:
        web_session.mfa_verified_at = now
    audit.record(session, tag=AuditTag.MFA_ENROL, now=now, actor_id=user.id, actor_label=user.email, ip=ip,
                 subject=f"user:{user.id}", data={"recovery_codes": len(codes)})
    return codes


def _replace_recovery_codes(session: Session, *, user: User) -> list[str]:
    repo.delete_recovery_codes(session, user.id)
    codes = new_recovery_codes()
    for code in codes:
        # Why SHA-256, not argon2: recovery codes carry ~59 bits of randomness, so a slow hash
        # adds nothing against guessing and would cost ten argon2 runs per enrolment.
        session.add(RecoveryCode(user_id=user.id, code_hash=sha256_hex(normalise_recovery_code(code))))
    return codes


def enrol_with_secret(session: Session, *, user: User, secret: str, box: SecretBox, now: datetime) -> list[str]:
    """Enrol a known secret directly (bootstrap and demo seeding only); return recovery codes."""
    user.totp_secret_enc = box.seal(secret)
    user.totp_enabled = True
    user.totp_last_step = None
    user.updated_at = now
    codes = _replace_recovery_codes(session, user=user)
    audit.record(session, tag=AuditTag.MFA_ENROL, now=now, actor_id=user.id, actor_label=user.email,
                 subject=f"user:{user.id}", data={"recovery_codes": len(codes), "by": "operator"})
    return codes


def verify_second_factor(
    session: Session,
    *,
    user: User,
    web_session: WebSession,
    code: str,
    box: SecretBox,
    now: datetime,
    ip: str | None,
    settings: Settings,
) -> str:
    """Verify a TOTP code (or a recovery code) for this session; return which kind was used.

    A code from a time-step already used is refused as a replay. Failures count towards
    the login throttle like wrong passwords.
    """
    if not user.totp_enabled or user.totp_secret_enc is None:
        raise Conflict("二段階認証が設定されていません / No second factor is set up")
    keys = _throttle_keys(user.email, ip)
    if _locked_key(session, keys, now) is not None:
        audit.record(session, tag=AuditTag.MFA_VERIFY_FAILED, now=now, actor_id=user.id, actor_label=user.email,
                     ip=ip, data={"reason": "locked"})
        raise TooManyRequests("試行が多すぎます / Too many attempts; try later").mark_audited()
    candidate = code.strip()
    if "-" in candidate or len(candidate) > 8:
        if _use_recovery_code(session, user=user, code=candidate, now=now):
            web_session.mfa_verified_at = now
            remaining = len(repo.unused_recovery_codes(session, user.id))
            audit.record(session, tag=AuditTag.MFA_RECOVERY_USED, now=now, actor_id=user.id, actor_label=user.email,
                         ip=ip, subject=f"session:{web_session.id}", data={"remaining": remaining})
            return "recovery"
    else:
        secret = box.open(user.totp_secret_enc)
        step = rules.match_totp(secret, candidate, now)
        if step is not None and rules.is_replay(step, user.totp_last_step):
            audit.record(session, tag=AuditTag.MFA_REPLAY_REFUSED, now=now, actor_id=user.id, actor_label=user.email,
                         ip=ip, data={"step": step})
            raise AuthenticationRequired("このコードは既に使用されました / This code was already used").mark_audited()
        if step is not None:
            user.totp_last_step = step
            web_session.mfa_verified_at = now
            audit.record(session, tag=AuditTag.MFA_VERIFY, now=now, actor_id=user.id, actor_label=user.email, ip=ip,
                         subject=f"session:{web_session.id}")
            return "totp"
    audit.record(session, tag=AuditTag.MFA_VERIFY_FAILED, now=now, actor_id=user.id, actor_label=user.email, ip=ip,
                 data={"reason": "bad_code"})
    for key in keys:
        if _register_failure(session, key=key, now=now, settings=settings):
            audit.record(session, tag=AuditTag.LOGIN_LOCKED, now=now, actor_label=user.email, ip=ip,
                         data={"key": key.split(":", 1)[0]})
    raise AuthenticationRequired("確認コードが違います / The code is not valid").mark_audited()


def _use_recovery_code(session: Session, *, user: User, code: str, now: datetime) -> bool:
    digest = sha256_hex(normalise_recovery_code(code))
    for row in repo.unused_recovery_codes(session, user.id):
        if secrets.compare_digest(row.code_hash, digest):
            row.used_at = now
            return True
    return False


def reset_second_factor(session: Session, *, user_id: int, actor: Principal | None, now: datetime) -> User:
    """Remove a person's second factor (admin action after identity checks); they must enrol again."""
    if actor is not None:
        require(actor, Permission.USER_MANAGE)
    user = repo.user_by_id(session, user_id)
    if user is None:
        raise NotFound("利用者が見つかりません / user not found")
    user.totp_enabled = False
    user.totp_secret_enc = None
    user.totp_last_step = None
    repo.delete_recovery_codes(session, user.id)
    _end_sessions(session, user_id=user.id, now=now)
    audit.record(session, tag=AuditTag.MFA_RESET, now=now, actor_id=actor.user_id if actor else None,
                 actor_label=actor.label if actor else "system", subject=f"user:{user.id}")
    # I7: a token must not outlive the second factor it stood for.
    revoke_tokens_of(session, user_id=user.id, actor=actor, now=now, reason="second_factor_reset")
    return user


# ---------------------------------------------------------------------------------------------
# API tokens


@dataclass(frozen=True)
class IssuedToken:
    """A new API token; ``raw`` is shown once and never stored."""

    raw: str
    record: ApiToken


def issue_token(
    session: Session,
    *,
    user: User,
    name: str,
    scopes: list[str] | None,
    expires_in_days: int | None,
    now: datetime,
    actor: Principal | None,
    max_days: int = DEFAULT_TOKEN_MAX_LIFETIME_DAYS,
    second_factor: bool = False,
) -> IssuedToken:
    """Issue an API token for ``user``; scopes must be a subset of the user's permissions.

    ``expires_in_days`` None means the maximum ``max_days`` (never "no expiry"). The token counts
    as a second factor (I7) only if ``actor`` had passed one; with no actor (an operator at the
    server, ``banso tokens issue``) only if the operator says so with ``second_factor`` and the
    user has TOTP enrolled.
    """
    if actor is not None and actor.token_scopes is not None:
        # A token may mint tokens only within its own rights: default to them, refuse more.
        scopes = scopes or sorted(p.value for p in actor.permissions)
        extra = sorted(set(scopes) - {p.value for p in actor.permissions})
        if extra:
            raise ValidationFailed(f"このトークンにない権限です（{', '.join(extra)}） / this token does not hold: {', '.join(extra)}", field="scopes")
    if actor is not None:
        allowed = policy.can_issue_token_for(actor, user.id)
        require_visible(allowed, "user")
    if not user.is_active:
        raise ValidationFailed("無効にされた利用者にはトークンを発行できません / cannot issue a token for a disabled user", field="email")
    name = clean_text(name, "name", max_length=100, required=False, line=True) or "api"
    try:
        expires_at = rules.token_expiry(now=now, expires_in_days=expires_in_days, max_days=max_days)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="expires_in_days") from None
    counts_as_mfa = _token_second_factor(user, actor=actor, operator_vouches=second_factor)
    scope_values: list[str] | None = None
    if scopes:
        try:
            wanted = parse_permissions(tuple(scopes))
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="scopes") from None
        held = permissions_for(frozenset(Role(r) for r in user.roles))
        extra = sorted(wanted - held)
        if extra:
            # Never more rights than the user: refuse rather than silently narrow.
            raise ValidationFailed(f"この利用者にない権限です（{', '.join(extra)}） / the user does not hold: {', '.join(extra)}", field="scopes")
        scope_values = sorted(p.value for p in wanted)
    prefix = random_alnum(8)
    secret = secrets.token_urlsafe(32)
    raw = rules.format_token(prefix, secret)
    record = ApiToken(
        user_id=user.id,
        name=name,
        prefix=prefix,
        token_hash=sha256_hex(raw),
        scopes=scope_values,
        second_factor=counts_as_mfa,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(record)
    session.flush()
    audit.record(session, tag=AuditTag.TOKEN_ISSUE, now=now, actor_id=actor.user_id if actor else None,
                 actor_label=actor.label if actor else "system", subject=f"token:{record.id}",
                 data={"user": user.email, "prefix": prefix, "scopes": scope_values,
                       "expires_at": expires_at.isoformat(), "second_factor": counts_as_mfa})
    return IssuedToken(raw=raw, record=record)


def _token_second_factor(user: User, *, actor: Principal | None, operator_vouches: bool) -> bool:
    """Decide whether a new token counts as a second factor (I7); refuse an impossible operator claim."""
    if actor is not None:
        # Issued over HTTP: a session principal exists only after the second factor, and a token
        # minting a token passes on exactly what it had.
        return actor.mfa and user.totp_enabled
    if operator_vouches and not user.totp_enabled:
        raise ValidationFailed(
            "二段階認証が未設定の利用者のトークンは二段階認証済みにできません / "
            "the user has no second factor enrolled, so the token cannot count as one",
            field="second_factor",
        )
    return operator_vouches


def revoke_token(session: Session, *, token_id: int, actor: Principal | None, now: datetime) -> ApiToken:
    """Revoke an API token (its owner or an admin); unknown or foreign tokens answer 404."""
    token = repo.token_by_id(session, token_id)
    if actor is not None:
        require_visible(token is not None and policy.can_manage_token(actor, token.user_id), "token")
    if token is None:
        raise NotFound("トークンが見つかりません / token not found")
    if token.revoked_at is not None:
        raise Conflict("このトークンは既に失効しています / token is already revoked")
    token.revoked_at = now
    audit.record(session, tag=AuditTag.TOKEN_REVOKE, now=now, actor_id=actor.user_id if actor else None,
                 actor_label=actor.label if actor else "system", subject=f"token:{token.id}",
                 data={"prefix": token.prefix})
    return token


def revoke_tokens_of(
    session: Session, *, user_id: int, actor: Principal | None, now: datetime, reason: str
) -> list[ApiToken]:
    """Revoke every unrevoked API token of a person, auditing each with ``reason`` (A1)."""
    revoked = [t for t in repo.tokens_of(session, user_id) if t.revoked_at is None]
    for token in revoked:
        token.revoked_at = now
        audit.record(session, tag=AuditTag.TOKEN_REVOKE, now=now, actor_id=actor.user_id if actor else None,
                     actor_label=actor.label if actor else "system", subject=f"token:{token.id}",
                     data={"prefix": token.prefix, "reason": reason})
    return revoked


def list_tokens(session: Session, *, actor: Principal) -> list[ApiToken]:
    """Return the caller's own tokens."""
    return repo.tokens_of(session, actor.user_id)


def authenticate_token(
    session: Session, *, raw: str, now: datetime, ip: str | None, max_lifetime: timedelta | None = None
) -> tuple[ApiToken, User]:
    """Return the token and its user, or raise AuthenticationRequired (and audit the rejection).

    ``max_lifetime`` caps every token at its creation time plus the maximum, whatever its own expiry.
    """
    parsed = rules.parse_token(raw)
    token = repo.token_by_prefix(session, parsed[0]) if parsed else None
    reason = None
    if token is None or not secrets.compare_digest(token.token_hash, sha256_hex(raw.strip())):
        reason = "unknown"
    elif token.revoked_at is not None:
        reason = "revoked"
    elif rules.token_expired(created_at=token.created_at, expires_at=token.expires_at, now=now,
                             max_lifetime=max_lifetime):
        reason = "expired"
    elif not token.user.is_active:
        reason = "user_disabled"
    if reason is not None:
        audit.record(session, tag=AuditTag.TOKEN_REJECTED, now=now, ip=ip,
                     actor_id=token.user_id if token else None,
                     subject=f"token:{token.id}" if token else None,
                     data={"reason": reason, "prefix": parsed[0] if parsed else None})
        raise AuthenticationRequired(f"API トークンが無効です / API token is not valid ({reason})").mark_audited()
    assert token is not None
    if token.last_used_at is None or now - token.last_used_at > timedelta(seconds=60):
        token.last_used_at = now
    return token, token.user
