"""HTTP tests of the information API (I1–I11): a designation through to scoped reads, the public portal,
stamped downloads, and refusals as clear 4xx (never 5xx), audited where the design says so."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.information import service
from banso.information.endpoints import UPLOAD_BODY_BYTES
from banso.information.models import Distribution, Item, ItemVersion
from banso.kit.clock import FakeClock
from banso.leak.pdf import make_sample_pdf
from banso.leak.text import strip_invisible
from banso.web.context import AppContext
from tests.support.councils import establish, join
from tests.support.factories import Factory, audit_count, count_rows
from tests.support.http import bearer, sign_in
from tests.support.information import API, BODY, YEAR, designation_fields, item_form, vote_all

PDF = make_sample_pdf("AUV 航法評価報告", ["水中航法の誤差は 0.3%。", "試験海域での結果。"])


# ---------------------------------------------------------------------------------------------
# Helpers shared with the page and access tests


def _provide(client: TestClient, headers: dict[str, str], data: dict[str, Any],
             files: list[tuple[str, tuple[str, bytes, str]]] | None = None) -> httpx.Response:
    return client.post(f"{API}/items", headers=headers, data=data, files=files or [])


# ---------------------------------------------------------------------------------------------
# The designation, end to end


def test_designation_flow_keeps_the_item_to_its_scope(client: TestClient, db: Session, factory: Factory,
                                                      clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    bystander = join(cast, db, clock, factory.person())
    db.commit()
    h_com, h_res, h_by, h_off, h_out = (bearer(db, p, clock) for p in
                                        (cast.company, cast.researcher, bystander, cast.officer, cast.outsider))
    made = _provide(client, h_com, {**item_form(cast, clock), **designation_fields(clock, cast.researcher.user.id)},
                    [("files", ("評価報告.pdf", PDF, "application/pdf"))])
    assert made.status_code == 201, made.text
    item_id = made.json()["id"]
    assert made.json()["state"] == "held" and made.json()["provenance"] == "participant"

    # I4: voters see the proposal (title, summary, reason, scope, period), never the content
    mine = client.get(f"{API}/ballots", headers=h_res).json()
    assert [b["item_id"] for b in mine] == [item_id]
    ballot_id = mine[0]["id"]
    proposal = client.get(f"{API}/ballots/{ballot_id}", headers=h_res)
    assert proposal.status_code == 200
    assert proposal.json()["item_title"] == "AUV 航法アルゴリズム評価"
    assert proposal.json()["scope"] == {"kind": "named", "user_ids": [cast.researcher.user.id], "organization_ids": []}
    assert "4242" not in proposal.text and proposal.json()["can_read_item"] is False
    assert proposal.json()["tally"]["accept"] == 1  # the proposer's own
    assert client.get(f"{API}/items/{item_id}", headers=h_res).status_code == 404  # held: provider + secretariat
    assert client.get(f"{API}/items/{item_id}", headers=h_off).status_code == 200

    vote_all(client, db, clock, ballot_id, [cast.officer, cast.researcher, bystander])
    decided = client.get(f"{API}/ballots/{ballot_id}", headers=h_res).json()
    assert decided["ballot"]["state"] == "accepted" and decided["tally"] == {"accept": 4, "object": 0, "pending": 0}

    # in scope: 200 with body, files, designation
    got = client.get(f"{API}/items/{item_id}", headers=h_res)
    assert got.status_code == 200, got.text
    detail = got.json()
    assert detail["item"]["state"] == "designated" and detail["body"] == BODY
    assert detail["scope"]["user_ids"] == [cast.researcher.user.id] and detail["designation"]["ends_at"]
    file_id = detail["files"][0]["id"]
    copy = client.get(f"{API}/items/{item_id}/files/{file_id}", headers=h_res)
    assert copy.status_code == 200 and copy.content.startswith(b"%PDF") and copy.content != PDF
    assert copy.headers["content-disposition"].startswith('attachment; filename="')
    assert "; filename*=UTF-8''" in copy.headers["content-disposition"] and "%E8%A9%95%E4%BE%A1" in copy.headers["content-disposition"]  # 評価, RFC 5987
    text = client.get(f"{API}/items/{item_id}/body.txt", headers=h_res)
    assert text.status_code == 200 and strip_invisible(text.text) == BODY and text.text != BODY
    db.expire_all()
    assert audit_count(db, "information:file:download") == 2
    assert count_rows(db, Distribution) == 2
    assert client.get(f"{API}/items/count", headers=h_res).json()["count"] == 1
    found = client.get(f"{API}/search", params={"q": "航法"}, headers=h_res)
    assert found.status_code == 200 and [h["item"]["id"] for h in found.json()] == [item_id]

    # out of scope (a pledged member, the secretariat, an outsider): 404 everywhere, absent from lists
    for headers in (h_by, h_off, h_out):
        for path in (f"/items/{item_id}", f"/items/{item_id}/files/{file_id}", f"/items/{item_id}/body.txt",
                     f"/items/{item_id}/export?format=misp"):
            refused = client.get(API + path, headers=headers)
            assert refused.status_code == 404 and refused.json()["error"] == "not_found", (path, refused.text)
        assert item_id not in [i["id"] for i in client.get(f"{API}/items", headers=headers).json()]
        assert client.get(f"{API}/items/count", headers=headers).json()["count"] == 0
        assert client.get(f"{API}/search", params={"q": "航法"}, headers=headers).json() == []
    assert client.get(f"{API}/ballots/{ballot_id}", headers=h_out).status_code == 404


def test_public_portal_serves_published_results_to_anonymous_callers(client: TestClient, db: Session,
                                                                     factory: Factory, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    h_res = bearer(db, cast.researcher, clock)
    result = _provide(client, h_res, item_form(cast, clock, title="成果報告", provenance="researcher_generated",
                                               category="research_result", is_result="true"),
                      [("files", ("成果.pdf", PDF, "application/pdf"))])
    # I1, I6: public by default — after the prior-notice window (I13), not at once
    assert result.status_code == 201 and result.json()["state"] == "scheduled"
    council_only = _provide(client, h_res, item_form(cast, clock))
    assert council_only.json()["state"] == "council"
    clock.advance(days=30)
    assert service.run_due_information(db, now=clock.now()).published == 1
    db.commit()
    client.cookies.clear()
    listed = client.get(f"{API}/public/items")
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json()] == [result.json()["id"]]
    one = client.get(f"{API}/public/items/{result.json()['id']}")
    assert one.status_code == 200 and one.json()["body"] == BODY
    download = client.get(f"{API}/public/items/{result.json()['id']}/files/{one.json()['files'][0]['id']}")
    assert download.status_code == 200 and download.content == PDF  # public copies are not stamped
    hidden = client.get(f"{API}/public/items/{council_only.json()['id']}")
    assert hidden.status_code == 404
    assert client.get(f"{API}/items").status_code == 401


def test_lying_upload_is_422_and_creates_nothing(client: TestClient, db: Session, factory: Factory,
                                                 clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    before = count_rows(db, Item)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    lying = _provide(client, bearer(db, cast.company, clock), item_form(cast, clock),
                     [("files", ("report.pdf", png, "application/pdf"))])
    assert lying.status_code == 422 and "PNG" in lying.json()["message"], lying.text
    assert count_rows(db, Item) == before
    assert audit_count(db, "information:upload:rejected") == 1  # the refusal is kept (A1)


def test_upload_size_limits(client: TestClient, db: Session, factory: Factory, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    headers = bearer(db, cast.company, clock)
    # Upload routes take files larger than the app-wide 2 MiB body limit ...
    big = ("項目,値\n" + "試験,1\n" * 400_000).encode()
    assert 2 * 1024 * 1024 < len(big) < UPLOAD_BODY_BYTES
    accepted = _provide(client, headers, item_form(cast, clock), [("files", ("data.csv", big, "text/csv"))])
    assert accepted.status_code == 201, accepted.text[:300]
    # ... but not larger than their own cap, and other routes keep the 2 MiB limit.
    huge = client.post(f"{API}/items", headers={**headers, "Content-Length": str(UPLOAD_BODY_BYTES + 1)},
                       content=b"x")
    assert huge.status_code == 413
    too_big = client.post(f"{API}/items", headers=headers, data=item_form(cast, clock),
                          files=[("files", ("big.csv", b"a,b\n" * (UPLOAD_BODY_BYTES // 4 + 1), "text/csv"))])
    assert too_big.status_code == 413
    other = client.post(f"{API}/incidents", headers={**headers, "Content-Type": "application/json"},
                        content=b'{"title": "x", "description": "' + b"y" * (3 * 1024 * 1024) + b'"}')
    assert other.status_code == 413


def test_vote_after_the_deadline_is_409_and_audited(client: TestClient, db: Session, factory: Factory,
                                                    clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    made = _provide(client, bearer(db, cast.company, clock),
                    {**item_form(cast, clock), **designation_fields(
                        clock, cast.researcher.user.id, deadline=(clock.now() + timedelta(days=2)).isoformat())})
    assert made.status_code == 201, made.text
    ballot_id = client.get(f"{API}/ballots", headers=bearer(db, cast.researcher, clock)).json()[0]["id"]
    clock.advance(days=3)
    late = client.post(f"{API}/ballots/{ballot_id}/vote", headers=bearer(db, cast.researcher, clock),
                       json={"decision": "accept"})
    assert late.status_code == 409 and late.json()["error"] == "conflict"
    db.expire_all()
    assert audit_count(db, "information:vote:refused") == 1
    no_reason = client.post(f"{API}/ballots/{ballot_id}/vote", headers=bearer(db, cast.officer, clock),
                            json={"decision": "maybe"})
    assert no_reason.status_code == 422


def test_tampered_ciphertext_is_a_clear_error(client: TestClient, db: Session, factory: Factory,
                                              clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    made = _provide(client, bearer(db, cast.company, clock), item_form(cast, clock))
    version = db.scalar(select(ItemVersion).where(ItemVersion.item_id == made.json()["id"]))
    assert version is not None
    blob = bytearray(version.body_sealed)
    blob[-1] ^= 1
    version.body_sealed = bytes(blob)
    db.commit()
    broken = client.get(f"{API}/items/{made.json()['id']}", headers=bearer(db, cast.researcher, clock))
    assert broken.status_code in (409, 422) and broken.json()["error"] == "integrity_failed", broken.text
    db.expire_all()
    assert audit_count(db, "information:integrity:failed") == 1


def test_bad_input_is_422_with_the_field(client: TestClient, db: Session, factory: Factory,
                                         clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    headers = bearer(db, cast.company, clock)
    item_id = _provide(client, headers, item_form(cast, clock)).json()["id"]
    url = f"{API}/items/{item_id}/designation"
    base = {"reason": "理由", "scope_kind": "named", "user_ids": [cast.researcher.user.id],
            "ends_at": (clock.now() + YEAR).isoformat()}
    assert client.post(url, headers=headers, json={**base, "scope_kind": "everyone"}).status_code == 422
    assert client.post(url, headers=headers, json={**base, "surprise": 1}).status_code == 422
    past = client.post(url, headers=headers, json={**base, "ends_at": (clock.now() - YEAR).isoformat()})
    assert past.status_code == 422 and past.json()["field"] == "ends_at"
    forever = client.post(url, headers=headers, json={**base, "ends_at": (clock.now() + 6 * YEAR).isoformat()})
    assert forever.status_code == 422 and "5 years" in forever.json()["message"]  # I3: no indefinite designation
    stranger = client.post(url, headers=headers, json={**base, "user_ids": [cast.outsider.user.id]})
    assert stranger.status_code == 422 and stranger.json()["field"] == "user_ids"
    missing_end = _provide(client, headers, {**item_form(cast, clock), "designate": "true", "reason": "x"})
    assert missing_end.status_code == 422 and missing_end.json()["field"] == "ends_at"
    bad_category = _provide(client, headers, item_form(cast, clock, category="gossip"))
    assert bad_category.status_code == 422
    assert client.get(f"{API}/items", headers=headers, params={"state": "nonsense"}).status_code == 422
    assert client.get(f"{API}/items/999999999", headers=headers).status_code == 404
    ok = client.post(url, headers=headers, json=base)
    assert ok.status_code == 201 and ok.json()["kind"] == "designation"
    twice = client.post(url, headers=headers, json=base)
    assert twice.status_code == 409


def test_renewal_export_publish_and_nondisclosure(client: TestClient, db: Session, factory: Factory,
                                                  clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    h_com, h_off, h_res = (bearer(db, p, clock) for p in (cast.company, cast.officer, cast.researcher))
    made = _provide(client, h_com, {**item_form(cast, clock), **designation_fields(clock, cast.researcher.user.id)})
    ballot_id = made.json()["current_designation_id"] or client.get(f"{API}/ballots", headers=h_res).json()[0]["id"]
    vote_all(client, db, clock, ballot_id, [cast.officer, cast.researcher])
    item_id = made.json()["id"]
    renewal = client.post(f"{API}/items/{item_id}/renewal", headers=h_com, json={
        "ends_at": (clock.now() + 2 * YEAR).isoformat(), "reason": "試験が続くため"})
    assert renewal.status_code == 201 and renewal.json()["kind"] == "renewal"
    exported = client.get(f"{API}/items/{item_id}/export", headers=h_com, params={"format": "stix"})
    assert exported.status_code == 200 and exported.json()["type"] == "bundle"
    assert exported.headers["content-disposition"] == f'attachment; filename="item-{item_id}-stix.json"'
    db.expire_all()
    assert audit_count(db, "information:item:export") == 1
    assert client.get(f"{API}/items/{item_id}/export", headers=h_com,
                      params={"format": "pdf"}).status_code == 422

    later = (clock.now() + timedelta(days=60)).isoformat()
    result = _provide(client, h_res, item_form(cast, clock, title="成果", provenance="researcher_generated",
                                               category="research_result", is_result="true", publish_at=later))
    assert result.json()["state"] == "scheduled"
    rid = result.json()["id"]
    not_officer = client.post(f"{API}/items/{rid}/nondisclosure", headers=h_com,
                              json={"reason_code": "wmd_diversion", "reason": "転用のおそれ"})
    assert not_officer.status_code == 403
    request = client.post(f"{API}/items/{rid}/nondisclosure", headers=h_off,
                          json={"reason_code": "wmd_diversion", "reason": "転用のおそれ"})
    assert request.status_code == 201 and request.json()["kind"] == "nondisclosure"
    waiting = client.post(f"{API}/items/{rid}/publish", headers=h_res)
    assert waiting.status_code == 409  # I6: publication waits for the decision
    objected = client.post(f"{API}/ballots/{request.json()['id']}/vote", headers=h_res,
                           json={"decision": "object", "reason": "成果は公開すべき"})
    assert objected.json()["state"] == "rejected"
    clock.advance(days=30)  # I13: not before the prior-notice window ends (the token is renewed too)
    published = client.post(f"{API}/items/{rid}/publish", headers=bearer(db, cast.researcher, clock))
    assert published.status_code == 200 and published.json()["state"] == "public"


def test_import_creates_an_item_from_misp(client: TestClient, db: Session, factory: Factory,
                                          clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    event = (b'{"Event": {"uuid": "6f0e2a4c-9b7d-4e1a-8c3f-2d5b7a9e1c05", "info": "Phishing campaign",'
             b' "date": "2026-03-30", "Tag": [{"name": "tlp:green"}],'
             b' "Attribute": [{"type": "domain", "value": "evil.example", "category": "Network activity"}]}}')
    made = client.post(f"{API}/items/import", headers=bearer(db, cast.company, clock),
                       data={"council_id": str(cast.council.id)},
                       files=[("file", ("event.json", event, "application/json"))])
    assert made.status_code == 201, made.text
    assert made.json()["source_format"] == "misp" and made.json()["state"] == "council"
    broken = client.post(f"{API}/items/import", headers=bearer(db, cast.company, clock),
                         data={"council_id": str(cast.council.id)},
                         files=[("file", ("event.json", b"{not json", "application/json"))])
    assert broken.status_code == 422


# ---------------------------------------------------------------------------------------------
# Incidents (I9), leak attribution (I8), minimality (I10)


def test_incident_is_reported_attributed_and_closed(client: TestClient, db: Session, factory: Factory,
                                                    clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    h_com, h_off, h_res, h_out = (bearer(db, p, clock) for p in
                                  (cast.company, cast.officer, cast.researcher, cast.outsider))
    made = _provide(client, h_com, item_form(cast, clock), [("files", ("r.pdf", PDF, "application/pdf"))])
    item = client.get(f"{API}/items/{made.json()['id']}", headers=h_res).json()
    leaked = client.get(f"{API}/items/{item['item']['id']}/files/{item['files'][0]['id']}", headers=h_res).content

    reported = client.post(f"{API}/incidents", headers=h_com, json={
        "title": "資料の流出疑い", "description": "外部サイトで見つかった", "council_id": cast.council.id})
    assert reported.status_code == 201, reported.text
    iid = reported.json()["id"]
    assert client.get(f"{API}/incidents/{iid}", headers=h_out).status_code == 404
    assert client.post(f"{API}/incidents/{iid}/triage", headers=h_com, json={"note": "x"}).status_code == 403
    early = client.post(f"{API}/incidents/{iid}/attribute", headers=h_off,
                        files=[("file", ("leak.pdf", leaked, "application/pdf"))])
    assert early.status_code == 409  # triage first
    assert client.post(f"{API}/incidents/{iid}/triage", headers=h_off,
                       json={"note": "真正な写しと判断"}).json()["state"] == "triaged"
    attributed = client.post(f"{API}/incidents/{iid}/attribute", headers=h_off,
                             files=[("file", ("leak.pdf", leaked, "application/pdf"))])
    assert attributed.status_code == 200, attributed.text
    assert attributed.json()["attributed_user_id"] == cast.researcher.user.id
    assert attributed.json()["confidence"] > 0.99
    closed = client.post(f"{API}/incidents/{iid}/close", headers=h_off, json={"outcome": "本人に確認し是正"})
    assert closed.json()["state"] == "closed" and "62" in closed.json()["penalty_provision"]
    steps = client.get(f"{API}/incidents/{iid}", headers=h_off).json()["steps"]
    assert [s["state"] for s in steps] == ["reported", "triaged", "attributed", "closed"]
    # the reporter sees the steps but not whom it was attributed to
    mine = client.get(f"{API}/incidents/{iid}", headers=h_com).json()
    assert mine["incident"]["attributed_user_id"] is None and mine["can_manage"] is False
    assert [i["id"] for i in client.get(f"{API}/incidents", headers=h_com).json()] == [iid]
    db.expire_all()
    for tag in ("report", "triage", "attribute", "close"):
        assert audit_count(db, f"information:incident:{tag}") == 1


def test_leak_attribution_names_the_recipient_for_auditors_only(client: TestClient, db: Session,
                                                                factory: Factory, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    auditor = factory.person(roles=("auditor",))
    db.commit()
    h_com, h_res = bearer(db, cast.company, clock), bearer(db, cast.researcher, clock)
    made = _provide(client, h_com, item_form(cast, clock))
    excerpt = client.get(f"{API}/items/{made.json()['id']}/body.txt", headers=h_res).content
    assert client.post(f"{API}/leak/attribute", headers=h_res,
                       files=[("file", ("leak.txt", excerpt, "text/plain"))]).status_code == 403
    found = client.post(f"{API}/leak/attribute", headers=bearer(db, auditor, clock),
                        files=[("file", ("leak.txt", excerpt, "text/plain"))])
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["recipient_user_id"] == cast.researcher.user.id and body["confidence"] > 0.99
    assert cast.researcher.user.email in body["recipient"] and body["evidence"]
    db.expire_all()
    assert audit_count(db, "information:leak:attribute") == 1


def test_minimality_for_members_and_404_for_outsiders(client: TestClient, db: Session, factory: Factory,
                                                      clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    h_com = bearer(db, cast.company, clock)
    _provide(client, h_com, item_form(cast, clock))
    made = _provide(client, h_com, {**item_form(cast, clock), **designation_fields(clock, cast.researcher.user.id)})
    ballot_id = client.get(f"{API}/ballots", headers=bearer(db, cast.researcher, clock)).json()[0]["id"]
    vote_all(client, db, clock, ballot_id, [cast.officer, cast.researcher])
    assert made.status_code == 201
    report = client.get(f"{API}/councils/{cast.council.id}/minimality", headers=h_com).json()
    assert report["items"] == 2 and report["designated_share"] == 0.5 and report["proposals_accepted"] == 1
    assert report["max_days"] == 365
    platform = client.get(f"{API}/minimality", headers=h_com).json()
    assert [r["council_id"] for r in platform["councils"]] == [cast.council.id]
    assert platform["totals"]["items"] == 2
    h_out = bearer(db, cast.outsider, clock)
    assert client.get(f"{API}/councils/{cast.council.id}/minimality", headers=h_out).status_code == 404
    assert client.get(f"{API}/minimality", headers=h_out).json()["councils"] == []


def test_cookie_session_upload_needs_the_csrf_token(client: TestClient, db: Session, factory: Factory,
                                                    clock: FakeClock, ctx: AppContext) -> None:
    cast = establish(factory, db, clock)
    db.commit()
    csrf = sign_in(client, db, cast.company, ctx)
    before = count_rows(db, Item)
    refused = client.post(f"{API}/items", data=item_form(cast, clock))
    assert refused.status_code == 403 and count_rows(db, Item) == before
    accepted = client.post(f"{API}/items", data={**item_form(cast, clock), "csrf_token": csrf})
    assert accepted.status_code == 201
