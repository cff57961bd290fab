"""HTTP tests of the HTML pages: login with TOTP, CSRF, language, access, tokens, admin and audit pages."""

from __future__ import annotations

import base64
import json
import re

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.audit import checkpoints, merkle
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.kit.clock import FakeClock
from banso.web.context import AppContext
from banso.web.deps import LANG_COOKIE, PRELOGIN_CSRF_COOKIE, SESSION_COOKIE
from tests.support.factories import Factory, Person
from tests.support.http import csrf_of, log_in, post_code, post_password, sign_in


@pytest.fixture
def researcher(factory: Factory, db: Session) -> Person:
    """Return a researcher with a second factor."""
    person = factory.person(roles=("researcher",))
    db.commit()
    return person


@pytest.fixture
def admin(factory: Factory, db: Session) -> Person:
    """Return an administrator with a second factor."""
    person = factory.person(roles=("admin",))
    db.commit()
    return person


# ---------------------------------------------------------------------------------------------
# Anonymous access


@pytest.mark.parametrize("url", ["/dashboard", "/audit", "/audit/entries/0", "/account/tokens", "/admin/users"])
def test_pages_redirect_anonymous_people_to_login(client: TestClient, url: str) -> None:
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={url}"


def test_root_sends_anonymous_people_to_login_and_signed_in_people_to_dashboard(
    client: TestClient, db: Session, researcher: Person, ctx: AppContext
) -> None:
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"
    sign_in(client, db, researcher, ctx)
    assert client.get("/", follow_redirects=False).headers["location"] == "/dashboard"


# ---------------------------------------------------------------------------------------------
# Login with password and TOTP


def test_login_with_totp_lands_on_dashboard_in_japanese(
    client: TestClient, researcher: Person, clock: FakeClock
) -> None:
    response = post_password(client, researcher.email, researcher.password)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    # Password alone is not enough: the dashboard sends the browser to the second factor.
    assert client.get("/dashboard", follow_redirects=False).headers["location"].startswith("/login/2fa")
    done = post_code(client, researcher.code(clock))
    assert done.status_code == 303 and done.headers["location"] == "/dashboard"
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    # Issue 14: the home says what waits for the person; account details (the role) are on the account page.
    assert "ダッシュボード" in page.text and "対応が必要なこと" in page.text
    assert researcher.user.name_ja in page.text
    assert "研究者" in client.get("/account").text  # the role label


def test_replayed_totp_code_is_refused_with_a_clear_message(
    client: TestClient, researcher: Person, clock: FakeClock, db: Session
) -> None:
    code = researcher.code(clock)
    log_in(client, researcher, clock)
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/dashboard").text)})
    assert client.get("/dashboard", follow_redirects=False).status_code == 303

    # Same 30-second step, same code: refused as a replay.
    assert post_password(client, researcher.email, researcher.password).status_code == 303
    replay = post_code(client, code)
    assert replay.status_code == 401
    assert "このコードは既に使用されました" in replay.text
    assert client.get("/dashboard", follow_redirects=False).status_code == 303
    tags = [e.tag for e in audit.list_entries(db, actor_id=researcher.user.id, limit=5)]
    assert AuditTag.MFA_REPLAY_REFUSED.value in tags

    # The next step's code works.
    clock.advance(seconds=30)
    fresh = post_code(client, researcher.code(clock))
    assert fresh.status_code == 303
    assert client.get("/dashboard").status_code == 200


def test_wrong_code_is_refused(client: TestClient, researcher: Person, clock: FakeClock) -> None:
    post_password(client, researcher.email, researcher.password)
    wrong = str((int(researcher.code(clock)) + 1) % 1_000_000).zfill(6)
    response = post_code(client, wrong)
    assert response.status_code == 401
    assert "確認コードが違います" in response.text


def test_wrong_password_shows_a_form_error_and_is_audited(
    client: TestClient, researcher: Person, db: Session
) -> None:
    response = post_password(client, researcher.email, "not the password at all")
    assert response.status_code == 401
    assert "メールアドレスまたはパスワードが違います" in response.text
    assert "Wrong e-mail" not in response.text  # only the reader's language
    assert f'value="{researcher.email}"' in response.text  # the form keeps the e-mail
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    failed = [e for e in audit.list_entries(db, limit=10) if e.tag == AuditTag.LOGIN_FAILED.value]
    assert failed and failed[0].actor_label == researcher.email


def test_login_is_locked_after_five_failures(client: TestClient, researcher: Person) -> None:
    for _ in range(5):
        assert post_password(client, researcher.email, "wrong password 123").status_code == 401
    locked = post_password(client, researcher.email, researcher.password)
    assert locked.status_code == 429
    assert "ログイン試行が多すぎます" in locked.text
    assert client.get("/dashboard", follow_redirects=False).status_code == 303


def test_person_without_second_factor_enrols_with_qr_code_and_gets_recovery_codes(
    client: TestClient, factory: Factory, db: Session, clock: FakeClock
) -> None:
    person = factory.person(with_totp=False)
    db.commit()
    response = post_password(client, person.email, person.password)
    assert response.headers["location"] == "/account/2fa/setup"
    assert client.get("/dashboard", follow_redirects=False).headers["location"] == "/account/2fa/setup"
    page = client.get("/account/2fa/setup")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    qr = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', page.text)
    assert qr and b"<svg" in base64.b64decode(qr.group(1))
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.text)
    assert secret
    totp = pyotp.TOTP(secret.group(1).replace(" ", ""))

    bad = client.post("/account/2fa/setup", data={"code": "000000" if totp.at(clock.now()) != "000000" else "111111",
                                                  "csrf_token": csrf_of(page.text)})
    assert bad.status_code == 422 and "確認コードが違います" in bad.text

    done = client.post("/account/2fa/setup", data={"code": totp.at(clock.now()), "csrf_token": csrf_of(page.text)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([^<]+)</code></li>", done.text)
    assert len(codes) >= 8
    assert client.get("/dashboard").status_code == 200

    # A recovery code completes a later login.
    client.cookies.clear()
    post_password(client, person.email, person.password)
    assert post_code(client, codes[0]).status_code == 303
    assert client.get("/dashboard").status_code == 200


def test_second_factor_page_needs_the_password_step_first(client: TestClient) -> None:
    response = client.get("/login/2fa", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_login_next_is_kept_and_open_redirects_are_refused(
    client: TestClient, researcher: Person, clock: FakeClock
) -> None:
    response = post_password(client, researcher.email, researcher.password, next_url="https://evil.example/")
    assert response.headers["location"] == "/login/2fa?next=/dashboard"
    done = post_code(client, researcher.code(clock), next_url="/audit")
    assert done.headers["location"] == "/audit"


# ---------------------------------------------------------------------------------------------
# CSRF


def test_login_post_without_the_prelogin_token_is_refused(client: TestClient, researcher: Person) -> None:
    response = client.post("/login", data={"email": researcher.email, "password": researcher.password})
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
    client.get("/login")
    assert client.cookies.get(PRELOGIN_CSRF_COOKIE)
    forged = client.post("/login", data={"email": researcher.email, "password": researcher.password,
                                         "csrf_token": "forged"})
    assert forged.status_code == 403


def test_session_posts_without_the_csrf_token_are_refused(
    client: TestClient, db: Session, researcher: Person, ctx: AppContext
) -> None:
    sign_in(client, db, researcher, ctx)
    issue = client.post("/account/tokens", data={"name": "no csrf"})
    assert issue.status_code == 403
    assert "CSRF" in issue.text
    assert accounts_repo.tokens_of(db, researcher.user.id) == []
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert client.get("/dashboard").status_code == 200  # still signed in


# ---------------------------------------------------------------------------------------------
# Language


def test_language_switch_changes_the_page_language(
    client: TestClient, db: Session, researcher: Person, ctx: AppContext
) -> None:
    sign_in(client, db, researcher, ctx)
    assert '<html lang="ja">' in client.get("/dashboard").text
    switch = client.get("/lang/en?next=/dashboard", follow_redirects=False)
    assert switch.status_code == 303 and switch.headers["location"] == "/dashboard"
    cookie = switch.headers["set-cookie"]
    assert f"{LANG_COOKIE}=en" in cookie and "Max-Age=31536000" in cookie and "SameSite=lax" in cookie
    page = client.get("/dashboard")
    assert '<html lang="en">' in page.text
    assert "What waits for you" in page.text and "対応が必要なこと" not in page.text
    assert researcher.user.name_en in page.text
    client.get("/lang/ja?next=/dashboard")
    assert "対応が必要なこと" in client.get("/dashboard").text


def test_language_switch_validates_code_and_next(client: TestClient) -> None:
    assert client.get("/lang/fr?next=/login", follow_redirects=False).status_code == 404
    evil = client.get("/lang/en?next=//evil.example/", follow_redirects=False)
    assert evil.headers["location"] == "/"
    login = client.get("/lang/en?next=/login")
    assert "Sign in" in login.text and '<html lang="en">' in login.text


# ---------------------------------------------------------------------------------------------
# Administration


def test_admin_page_is_forbidden_for_non_admins(
    client: TestClient, db: Session, researcher: Person, ctx: AppContext
) -> None:
    sign_in(client, db, researcher, ctx)
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "このページを閲覧する権限がありません" in response.text
    assert "利用者管理" not in response.text.split("<main", 1)[0]  # no admin link in the menu
    refused = client.post(f"/admin/users/{researcher.user.id}/disable",
                          data={"csrf_token": csrf_of(client.get("/dashboard").text)})
    assert refused.status_code == 403
    db.refresh(researcher.user)
    assert researcher.user.is_active


def test_admin_creates_resets_and_disables_people(
    client: TestClient, db: Session, admin: Person, researcher: Person, ctx: AppContext
) -> None:
    sign_in(client, db, admin, ctx)
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert researcher.email in page.text and "利用者管理" in page.text
    token = csrf_of(page.text)

    created = client.post("/admin/users", data={
        "csrf_token": token, "email": "new.person@test.example.jp", "name_ja": "新規 花子", "name_en": "Hanako New",
        "organization_id": str(researcher.user.organization_id), "roles": ["researcher", "reviewer"],
        "password": "a long enough password 42",
    }, follow_redirects=False)
    assert created.status_code == 303
    new_user = accounts_repo.user_by_email(db, "new.person@test.example.jp")
    assert new_user is not None and sorted(new_user.roles) == ["researcher", "reviewer"]

    duplicate = client.post("/admin/users", data={
        "csrf_token": token, "email": "new.person@test.example.jp", "name_ja": "重複", "name_en": "",
        "organization_id": str(researcher.user.organization_id), "password": "a long enough password 42",
    })
    assert duplicate.status_code == 409 and "既に登録されています" in duplicate.text

    reset = client.post(f"/admin/users/{researcher.user.id}/reset-2fa", data={"csrf_token": token},
                        follow_redirects=False)
    assert reset.status_code == 303
    disabled = client.post(f"/admin/users/{new_user.id}/disable", data={"csrf_token": token}, follow_redirects=False)
    assert disabled.status_code == 303
    db.expire_all()
    assert not accounts_repo.user_by_id(db, researcher.user.id).totp_enabled  # type: ignore[union-attr]
    assert not accounts_repo.user_by_id(db, new_user.id).is_active  # type: ignore[union-attr]
    tags = {e.tag for e in audit.list_entries(db, actor_id=admin.user.id, limit=20)}
    assert {AuditTag.USER_CREATE.value, AuditTag.MFA_RESET.value, AuditTag.USER_DISABLE.value} <= tags


# ---------------------------------------------------------------------------------------------
# API tokens


def test_token_is_issued_shown_once_and_revoked_through_the_page(
    client: TestClient, db: Session, researcher: Person, ctx: AppContext
) -> None:
    sign_in(client, db, researcher, ctx)
    page = client.get("/account/tokens")
    issued = client.post("/account/tokens", data={"csrf_token": csrf_of(page.text), "name": "nightly export",
                                                  "expires_in_days": "30"})
    assert issued.status_code == 201
    assert issued.headers["cache-control"] == "no-store"
    raw = re.search(r'id="raw-token"[^>]*value="([^"]+)"', issued.text)
    assert raw, "the raw token is shown once"
    api = TestClient(client.app)
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {raw.group(1)}"}).status_code == 200

    listing = client.get("/account/tokens")
    assert "nightly export" in listing.text and raw.group(1) not in listing.text
    token = accounts_repo.tokens_of(db, researcher.user.id)[0]
    revoked = client.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf_of(listing.text)},
                          follow_redirects=False)
    assert revoked.status_code == 303
    assert "トークンを失効させました" in client.get(revoked.headers["location"]).text
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {raw.group(1)}"}).status_code == 401


def test_someone_elses_token_cannot_be_revoked(
    client: TestClient, db: Session, researcher: Person, factory: Factory, ctx: AppContext
) -> None:
    from banso.accounts import service as accounts

    other = factory.person()
    foreign = accounts.issue_token(db, user=other.user, name="theirs", scopes=None, expires_in_days=30,
                                   now=ctx.clock.now(), actor=None)
    db.commit()
    sign_in(client, db, researcher, ctx)
    token = csrf_of(client.get("/account/tokens").text)
    response = client.post(f"/account/tokens/{foreign.record.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 404
    db.refresh(foreign.record)
    assert foreign.record.revoked_at is None


# ---------------------------------------------------------------------------------------------
# Audit pages


def _own_entry(db: Session, person: Person) -> int:
    entries = audit.list_entries(db, actor_id=person.user.id, limit=1)
    assert entries
    return entries[0].seq


def test_audit_entry_of_another_person_is_404_for_a_non_auditor(
    client: TestClient, db: Session, researcher: Person, factory: Factory, ctx: AppContext
) -> None:
    other = factory.person()
    db.commit()
    theirs = _own_entry(db, other)
    sign_in(client, db, researcher, ctx)
    mine = _own_entry(db, researcher)
    assert client.get(f"/audit/entries/{mine}").status_code == 200
    hidden = client.get(f"/audit/entries/{theirs}")
    assert hidden.status_code == 404
    assert other.email not in hidden.text
    listing = client.get("/audit")
    assert listing.status_code == 200
    # Issue 14: entries name people, not e-mails; the listing holds the viewer's entries only.
    assert f'href="/audit/entries/{mine}"' in listing.text and f'href="/audit/entries/{theirs}"' not in listing.text
    assert other.user.name_ja not in listing.text and other.email not in listing.text


def test_auditor_sees_every_entry(client: TestClient, db: Session, factory: Factory, ctx: AppContext) -> None:
    auditor = factory.person(roles=("auditor",))
    other = factory.person()
    db.commit()
    sign_in(client, db, auditor, ctx)
    theirs = _own_entry(db, other)
    assert client.get(f"/audit/entries/{theirs}").status_code == 200
    listing = client.get("/audit").text  # issue 14: the actor is a name and organisation, not an e-mail
    assert f'href="/audit/entries/{theirs}"' in listing and other.user.name_ja in listing


def test_audit_page_shows_the_signed_checkpoint_and_public_key(
    client: TestClient, db: Session, admin: Person, ctx: AppContext
) -> None:
    sign_in(client, db, admin, ctx)
    before = client.get("/audit")
    assert "署名済みのチェックポイントはまだありません" in before.text
    signed = client.post("/audit/checkpoints", data={"csrf_token": csrf_of(before.text)}, follow_redirects=False)
    assert signed.status_code == 303
    cp = audit.latest_checkpoint(db)
    assert cp is not None
    page = client.get("/audit")
    assert cp.root.hex() in page.text
    assert "署名は有効です" in page.text
    assert checkpoints.public_key_pem(ctx.signing_key).strip().splitlines()[1] in page.text


def test_audit_entry_page_embeds_a_proof_that_verifies(
    client: TestClient, db: Session, admin: Person, ctx: AppContext
) -> None:
    sign_in(client, db, admin, ctx)
    seq = _own_entry(db, admin)
    pending = client.get(f"/audit/entries/{seq}")
    assert 'data-verified="not-covered"' in pending.text  # no checkpoint yet

    checkpoints.sign_checkpoint(db, key=ctx.signing_key, now=ctx.clock.now())
    db.commit()
    page = client.get(f"/audit/entries/{seq}")
    assert page.status_code == 200
    assert 'id="proof-status"' in page.text and 'data-verified="pending"' in page.text
    assert '<script src="/static/audit-verify.js' in page.text
    blob = re.search(r'<script type="application/json" id="proof-data">(.*?)</script>', page.text, re.DOTALL)
    assert blob
    data = json.loads(blob.group(1))
    cp = data["checkpoint"]
    leaf = base64.b64decode(data["leaf_b64"])
    assert merkle.leaf_hash(leaf).hex() == data["leaf_hash_hex"]
    proof = [bytes.fromhex(h) for h in data["proof"]]
    assert merkle.verify_inclusion(leaf, data["seq"], cp["tree_size"], proof, bytes.fromhex(cp["root_hex"]))
    # The signed note binds the size and root, and the embedded raw key verifies its signature.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(data["public_key_b64"]))
    key.verify(base64.b64decode(cp["signature_b64"]), cp["note"].encode())
    assert f"\n{cp['tree_size']}\n" in cp["note"]


def test_unknown_audit_entry_is_404(client: TestClient, db: Session, admin: Person, ctx: AppContext) -> None:
    sign_in(client, db, admin, ctx)
    assert client.get("/audit/entries/999999").status_code == 404
    assert client.get("/audit/entries/-1").status_code == 404


def test_audit_list_paginates(client: TestClient, db: Session, admin: Person, ctx: AppContext) -> None:
    for n in range(30):
        audit.record(db, tag=AuditTag.USER_UPDATE, now=ctx.clock.now(), actor_id=admin.user.id,
                     actor_label=admin.email, data={"n": n})
    db.commit()
    sign_in(client, db, admin, ctx)
    first = client.get("/audit")
    older = re.search(r'href="/audit\?before=(\d+)"', first.text)
    assert older
    second = client.get(f"/audit?before={older.group(1)}")
    first_seqs = set(re.findall(r'href="/audit/entries/(\d+)"', first.text))
    second_seqs = set(re.findall(r'href="/audit/entries/(\d+)"', second.text))
    assert second_seqs and not first_seqs & second_seqs
    assert max(map(int, second_seqs)) < min(map(int, first_seqs))
