"""Account services on a real migrated database: login, second factor, throttling, tokens, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import service
from banso.accounts.models import ApiToken, User
from banso.audit.models import AuditEntry
from banso.config import Settings
from banso.kit.clock import FakeClock
from banso.kit.errors import AuthenticationRequired, Conflict, TooManyRequests, ValidationFailed
from tests.support.factories import Factory


def tags(db: Session) -> list[str]:
    return list(db.scalars(select(AuditEntry.tag).order_by(AuditEntry.seq)))


def login(db: Session, email: str, password: str, clock: FakeClock, settings: Settings, ip: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return service.login_with_password(db, email=email, password=password, ip=ip, user_agent="t",
                                       now=clock.now(), settings=settings)


def test_create_user_validates_and_audits(db: Session, factory: Factory, clock: FakeClock) -> None:
    org = factory.org()
    with pytest.raises(ValidationFailed, match="at least"):
        service.create_user(db, email="a@b.example.jp", name_ja="甲", name_en="A", organization_id=org.id,
                            roles=["researcher"], password="short", now=clock.now(), actor=None)
    with pytest.raises(ValidationFailed, match="unknown role"):
        service.create_user(db, email="a@b.example.jp", name_ja="甲", name_en="A", organization_id=org.id,
                            roles=["emperor"], password="a fine long password", now=clock.now(), actor=None)
    user = service.create_user(db, email="A@B.example.jp", name_ja="甲", name_en="A", organization_id=org.id,
                               roles=["researcher"], password="a fine long password", now=clock.now(), actor=None)
    assert user.email == "a@b.example.jp"
    assert user.password_hash.startswith("$argon2")
    with pytest.raises(Conflict):
        service.create_user(db, email="a@b.example.jp", name_ja="乙", name_en="B", organization_id=org.id,
                            roles=[], password="a fine long password", now=clock.now(), actor=None)
    assert "accounts:user:create" in tags(db)


def test_login_and_second_factor(db: Session, factory: Factory, clock: FakeClock, settings: Settings, box) -> None:  # type: ignore[no-untyped-def]
    person = factory.person()
    new = login(db, person.email, person.password, clock, settings)
    assert new.record.mfa_verified_at is None
    with pytest.raises(AuthenticationRequired):
        service.verify_second_factor(db, user=new.user, web_session=new.record, code="000000", box=box,
                                     now=clock.now(), ip=None, settings=settings)
    code = person.code(clock)
    assert service.verify_second_factor(db, user=new.user, web_session=new.record, code=code, box=box,
                                        now=clock.now(), ip=None, settings=settings) == "totp"
    assert new.record.mfa_verified_at == clock.now()
    # the same code again, on a new session, is a replay
    second = login(db, person.email, person.password, clock, settings)
    with pytest.raises(AuthenticationRequired, match="already used"):
        service.verify_second_factor(db, user=second.user, web_session=second.record, code=code, box=box,
                                     now=clock.now(), ip=None, settings=settings)
    assert second.record.mfa_verified_at is None
    clock.advance(seconds=30)
    service.verify_second_factor(db, user=second.user, web_session=second.record, code=person.code(clock), box=box,
                                 now=clock.now(), ip=None, settings=settings)
    t = tags(db)
    assert {"accounts:session:login", "accounts:mfa:verify", "accounts:mfa:verify_failed",
            "accounts:mfa:replay_refused"} <= set(t)


def test_recovery_code_works_once(db: Session, factory: Factory, clock: FakeClock, settings: Settings, box) -> None:  # type: ignore[no-untyped-def]
    person = factory.person(with_totp=False)
    codes = service.enrol_with_secret(db, user=person.user, secret="JBSWY3DPEHPK3PXP", box=box, now=clock.now())
    assert len(codes) == 10 and len(set(codes)) == 10
    first = login(db, person.email, person.password, clock, settings)
    assert service.verify_second_factor(db, user=first.user, web_session=first.record, code=codes[3].upper(),
                                        box=box, now=clock.now(), ip=None, settings=settings) == "recovery"
    again = login(db, person.email, person.password, clock, settings)
    with pytest.raises(AuthenticationRequired):
        service.verify_second_factor(db, user=again.user, web_session=again.record, code=codes[3], box=box,
                                     now=clock.now(), ip=None, settings=settings)
    assert "accounts:mfa:recovery_used" in tags(db)


def test_enrolment_flow(db: Session, factory: Factory, clock: FakeClock, box) -> None:  # type: ignore[no-untyped-def]
    import pyotp

    person = factory.person(with_totp=False)
    secret = service.begin_enrolment(db, user=person.user, box=box)
    assert service.begin_enrolment(db, user=person.user, box=box) == secret  # pending secret is stable
    assert person.user.totp_secret_enc is not None and secret.encode() not in person.user.totp_secret_enc
    with pytest.raises(ValidationFailed):
        service.confirm_enrolment(db, user=person.user, web_session=None, code="123456", box=box,
                                  now=clock.now(), ip=None)
    codes = service.confirm_enrolment(db, user=person.user, web_session=None,
                                      code=pyotp.TOTP(secret).at(clock.now()), box=box, now=clock.now(), ip=None)
    assert person.user.totp_enabled and len(codes) == 10
    assert service.totp_uri(person.user, secret).startswith("otpauth://totp/banso:")


def test_wrong_password_and_lockout(db: Session, factory: Factory, clock: FakeClock, settings: Settings) -> None:
    person = factory.person()
    for _ in range(settings.login_max_failures):
        with pytest.raises(AuthenticationRequired):
            login(db, person.email, "wrong password!!", clock, settings)
    # locked now, even with the right password
    with pytest.raises(TooManyRequests):
        login(db, person.email, person.password, clock, settings)
    assert "accounts:session:locked" in tags(db)
    clock.advance(seconds=settings.login_lockout_seconds + 1)
    assert login(db, person.email, person.password, clock, settings).user.id == person.user.id


def test_unknown_email_fails_like_wrong_password(db: Session, clock: FakeClock, settings: Settings) -> None:
    with pytest.raises(AuthenticationRequired, match="Wrong e-mail or password"):
        login(db, "nobody@nowhere.example.jp", "whatever password", clock, settings)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "accounts:session:login_failed")).one()
    assert entry.data["reason"] == "unknown_user"


def test_tokens_never_exceed_user_rights(db: Session, factory: Factory, clock: FakeClock) -> None:
    person = factory.person(roles=("researcher",))
    with pytest.raises(ValidationFailed, match="does not hold"):
        service.issue_token(db, user=person.user, name="x", scopes=["accounts:user:manage"], expires_in_days=30,
                            now=clock.now(), actor=None)
    issued = service.issue_token(db, user=person.user, name="x", scopes=["platform:dashboard:view"],
                                 expires_in_days=30, now=clock.now(), actor=None)
    stored = db.get(ApiToken, issued.record.id)
    assert stored is not None and issued.raw not in (stored.token_hash, stored.prefix)
    token, user = service.authenticate_token(db, raw=issued.raw, now=clock.now(), ip=None)
    principal = service.principal_for(user, method=service.AuthMethod.TOKEN, mfa=True, token=token)
    assert {p.value for p in principal.permissions} == {"platform:dashboard:view"}
    # a role later taken away is gone from the token too
    admin = factory.person(roles=("admin",))
    full = service.issue_token(db, user=admin.user, name="y", scopes=None, expires_in_days=30,
                               now=clock.now(), actor=None)
    service.set_roles(db, user_id=admin.user.id, roles=["researcher"], actor=admin.principal(), now=clock.now())
    token2, user2 = service.authenticate_token(db, raw=full.raw, now=clock.now(), ip=None)
    p2 = service.principal_for(user2, method=service.AuthMethod.TOKEN, mfa=True, token=token2)
    assert not any(p.value == "accounts:user:manage" for p in p2.permissions)


def test_token_expiry_and_revocation(db: Session, factory: Factory, clock: FakeClock) -> None:
    person = factory.person()
    issued = service.issue_token(db, user=person.user, name="x", scopes=None, expires_in_days=1,
                                 now=clock.now(), actor=None)
    service.authenticate_token(db, raw=issued.raw, now=clock.now(), ip=None)
    clock.advance(days=2)
    with pytest.raises(AuthenticationRequired, match="expired"):
        service.authenticate_token(db, raw=issued.raw, now=clock.now(), ip=None)
    other = service.issue_token(db, user=person.user, name="y", scopes=None, expires_in_days=30,
                                now=clock.now(), actor=None)
    service.revoke_token(db, token_id=other.record.id, actor=person.principal(), now=clock.now())
    with pytest.raises(AuthenticationRequired, match="revoked"):
        service.authenticate_token(db, raw=other.raw, now=clock.now(), ip=None)
    with pytest.raises(Conflict):
        service.revoke_token(db, token_id=other.record.id, actor=person.principal(), now=clock.now())
    with pytest.raises(AuthenticationRequired, match="unknown"):
        service.authenticate_token(db, raw="bns_AAAAAAAA_" + "x" * 43, now=clock.now(), ip=None)
    assert tags(db).count("accounts:token:rejected") == 3


def test_disable_user_ends_sessions(db: Session, factory: Factory, clock: FakeClock, settings: Settings) -> None:
    person = factory.person()
    new = login(db, person.email, person.password, clock, settings)
    cookie = new.cookie
    assert service.resolve_session(db, cookie=cookie, now=clock.now(), settings=settings) is not None
    service.disable_user(db, user_id=person.user.id, actor=None, now=clock.now())
    assert service.resolve_session(db, cookie=cookie, now=clock.now(), settings=settings) is None
    with pytest.raises(AuthenticationRequired):
        login(db, person.email, person.password, clock, settings)


def test_session_idle_timeout(db: Session, factory: Factory, clock: FakeClock, settings: Settings) -> None:
    person = factory.person()
    new = login(db, person.email, person.password, clock, settings)
    clock.advance(seconds=settings.session_idle_seconds + 1)
    assert service.resolve_session(db, cookie=new.cookie, now=clock.now(), settings=settings) is None
    assert db.get(User, person.user.id) is not None
