"""Access to accounts and audit resources through the inherited test set."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import service
from banso.audit.models import AuditEntry
from banso.kit.clock import FakeClock
from tests.authz.access import AccessTestSet, Arranged
from tests.support.factories import Factory


class TestAuditEntryAccess(AccessTestSet):
    """An audit entry is visible to the person who acted and to auditors; 404 to others."""

    expected = {**AccessTestSet.expected, "member_without_pledge": None}

    def arrange(self, factory: Factory, db: Session, clock: FakeClock) -> Arranged:
        owner = factory.person()
        colleague = factory.person(org=owner.user.organization)
        outsider = factory.person()
        service.issue_token(db, user=owner.user, name="x", scopes=None, expires_in_days=1, now=clock.now(),
                            actor=owner.principal())
        db.flush()
        seq = db.scalars(select(AuditEntry.seq).where(AuditEntry.tag == "accounts:token:issue")
                         .order_by(AuditEntry.seq.desc())).first()
        # same organisation is not enough: the entry is about the owner's own action
        return Arranged(parts={"outsider": outsider, "member_out_of_scope": colleague, "member_in_scope": owner},
                        values={"seq": seq})

    def call(self, client: TestClient, headers: dict[str, str], arranged: Arranged) -> httpx.Response:
        return client.get(f"/api/v1/audit/entries/{arranged.values['seq']}", headers=headers)

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        assert response.json()["tag"] == "accounts:token:issue"


class TestInclusionProofAccess(TestAuditEntryAccess):
    """The inclusion proof of an entry follows the entry's visibility."""

    def call(self, client: TestClient, headers: dict[str, str], arranged: Arranged) -> httpx.Response:
        return client.get(f"/api/v1/audit/entries/{arranged.values['seq']}/proof", headers=headers)

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        body = response.json()
        assert body["seq"] == arranged.values["seq"] and body["tree_size"] > body["seq"]


class TestTokenRevokeAccess(AccessTestSet):
    """Revoking a token: its owner may; anyone else gets 404 (it is not theirs to know)."""

    expected = {**AccessTestSet.expected, "member_without_pledge": None, "member_in_scope": 204}

    def arrange(self, factory: Factory, db: Session, clock: FakeClock) -> Arranged:
        owner = factory.person()
        colleague = factory.person(org=owner.user.organization)
        outsider = factory.person()
        issued = service.issue_token(db, user=owner.user, name="target", scopes=None, expires_in_days=1,
                                     now=clock.now(), actor=None)
        return Arranged(parts={"outsider": outsider, "member_out_of_scope": colleague, "member_in_scope": owner},
                        values={"token_id": issued.record.id})

    def call(self, client: TestClient, headers: dict[str, str], arranged: Arranged) -> httpx.Response:
        return client.delete(f"/api/v1/tokens/{arranged.values['token_id']}", headers=headers)


class TestUserRecordAccess(AccessTestSet):
    """A person's record: themselves and directory readers; 404 for other participants."""

    expected = {**AccessTestSet.expected, "member_without_pledge": None}

    def arrange(self, factory: Factory, db: Session, clock: FakeClock) -> Arranged:
        subject = factory.person()
        colleague = factory.person(org=subject.user.organization)
        outsider = factory.person(roles=("industry",))
        return Arranged(parts={"outsider": outsider, "member_out_of_scope": colleague, "member_in_scope": subject},
                        values={"user_id": subject.user.id})

    def call(self, client: TestClient, headers: dict[str, str], arranged: Arranged) -> httpx.Response:
        return client.get(f"/api/v1/users/{arranged.values['user_id']}", headers=headers)

    def check(self, response: httpx.Response, arranged: Arranged) -> None:
        body = response.json()
        assert body["id"] == arranged.values["user_id"]
        assert "password_hash" not in body and "totp_secret_enc" not in body
