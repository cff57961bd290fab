"""Research-plan documents of a proposal (研究提案書・様式, F6, issue 15), over HTTP.

Uploaded by the proposer until the call closes, validated completely at upload (O1), sealed under the
proposal's own key (I11), read by the team, the call's staff and — after the close only — an assigned
reviewer who declared no conflict (F6, I7); every copy stamped for its reader, recorded and audited (I8).
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.information import distribution
from banso.kit.clock import FakeClock
from banso.leak.text import strip_marks
from banso.programme import review, service
from banso.programme.models import PlanDocument, Proposal
from banso.sealed.models import SealedDistribution
from banso.web.context import AppContext
from tests.support.factories import Person
from tests.support.http import bearer, sign_in
from tests.support.programme import World, submit

BASE = "/api/v1/programme"
MARK = "QXPLANDOC海中測位の新原理"
PLAN = (f"研究提案書\n\n{MARK}：量子慣性航法の原理と実証計画。\n\n"
        "第一に、原子干渉計の小型化を行う。\n\n第二に、海域で実証する。\n")


def _pdf(title: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=A4, pageCompression=0)
    page.setTitle(title)
    page.drawString(72, 760, title)
    page.showPage()
    page.save()
    return buf.getvalue()


def _url(proposal: Proposal, doc_id: int | None = None) -> str:
    return f"{BASE}/proposals/{proposal.id}/documents" + (f"/{doc_id}" if doc_id else "")


def _upload(client: TestClient, db: Session, person: Person, clock: FakeClock, proposal: Proposal, *,
            data: bytes = PLAN.encode(), name: str = "研究提案書.txt", ctype: str = "text/plain",
            kind: str = "research_plan", title: str = "") -> tuple[int, dict[str, object]]:
    r = client.post(_url(proposal), headers=bearer(db, person, clock), files={"file": (name, data, ctype)},
                    data={"kind": kind, "title": title})
    return r.status_code, r.json()


def _seated(db: Session, w: World, clock: FakeClock) -> Proposal:
    """A submitted proposal with two assigned reviewers: one clear, one conflicted."""
    proposal = submit(db, w, clock)
    for reviewer, conflicted in ((w.reviewer, False), (w.reviewer_conflicted, True)):
        review.assign_reviewer(db, proposal_id=proposal.id, reviewer_id=reviewer.user.id, now=clock.now(),
                               actor=w.staff.principal())
        service.declare_conflict(db, proposal_id=proposal.id, has_conflict=None,
                                 grounds=["competitor"] if conflicted else [],
                                 reason="競合する提案を出している" if conflicted else None,
                                 now=clock.now(), actor=reviewer.principal())
    db.commit()
    return proposal


def _with_document(client: TestClient, db: Session, w: World, clock: FakeClock) -> tuple[Proposal, int]:
    proposal = _seated(db, w, clock)
    code, body = _upload(client, db, w.lead, clock, proposal)
    assert code == 201, body
    return proposal, int(body["id"])  # type: ignore[call-overload]


def _close(w: World, clock: FakeClock) -> None:
    clock.set(w.call.closes_at + timedelta(days=1))


def test_the_team_reads_a_stamped_copy_recorded_and_audited(client: TestClient, db: Session, w: World,
                                                            clock: FakeClock) -> None:
    """F6, I8: the proposer's colleague lists and downloads; the copy is marked, recorded, audited, attributable."""
    proposal, doc_id = _with_document(client, db, w, clock)
    listed = client.get(_url(proposal), headers=bearer(db, w.colleague, clock))
    assert listed.status_code == 200 and listed.json()["documents"][0]["id"] == doc_id
    assert listed.json()["may_upload"] is False  # only the proposer uploads
    got = client.get(_url(proposal, doc_id), headers=bearer(db, w.colleague, clock))
    assert got.status_code == 200 and got.content != PLAN.encode() and strip_marks(got.content.decode()) == PLAN
    row = db.scalars(select(SealedDistribution)).one()
    assert (row.kind, row.object_id, row.user_id) == ("plan_document", doc_id, w.colleague.user.id)
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == "programme:plan_document:download")).one()
    assert entry.actor_id == w.colleague.user.id and entry.data["distribution_id"] == row.id
    finding = distribution.attribute(db, data=got.content.decode().split("\n\n")[1].encode(), now=clock.now())
    assert finding.user_id == w.colleague.user.id


def test_bytes_at_rest_are_not_the_plaintext(client: TestClient, db: Session, w: World, clock: FakeClock,
                                             ctx: AppContext) -> None:
    """I11: no file under the data folder holds the plan, the row holds no bytes, the proposal has its own key."""
    proposal, doc_id = _with_document(client, db, w, clock)
    stored = db.execute(text("SELECT blob, wrapped_key FROM programme_plan_documents WHERE id = :i"),
                        {"i": doc_id}).one()
    assert stored[1] and MARK.encode() not in bytes(stored[1])
    blob = next(p for p in Path(ctx.data_dir).rglob(stored[0]))
    assert MARK.encode() not in blob.read_bytes() and b"\xe7\xa0\x94\xe7\xa9\xb6" not in blob.read_bytes()
    assert [p for p in Path(ctx.data_dir).rglob("*") if p.is_file() and MARK.encode() in p.read_bytes()] == []
    assert (ctx.data_dir / "keys" / "proposals" / f"proposal-{proposal.id}.key").is_file()


def test_a_reviewer_reads_nothing_before_the_close(client: TestClient, db: Session, w: World,
                                                   clock: FakeClock) -> None:
    """F6: the assigned reviewer who declared no conflict gets 404 on list and file until the call closes."""
    proposal, doc_id = _with_document(client, db, w, clock)
    headers = bearer(db, w.reviewer, clock)
    for url in (_url(proposal), _url(proposal, doc_id)):
        r = client.get(url, headers=headers)
        assert r.status_code == 404 and MARK not in r.text, url
    assert db.scalar(select(SealedDistribution.id)) is None


def test_after_the_close_the_clear_reviewer_reads_and_the_conflicted_one_does_not(
        client: TestClient, db: Session, w: World, clock: FakeClock) -> None:
    """F6, I7: after the close the non-conflicted assigned reviewer reads; the conflicted one gets 404."""
    proposal, doc_id = _with_document(client, db, w, clock)
    _close(w, clock)
    got = client.get(_url(proposal, doc_id), headers=bearer(db, w.reviewer, clock))
    assert got.status_code == 200 and strip_marks(got.content.decode()) == PLAN
    for url in (_url(proposal), _url(proposal, doc_id)):
        r = client.get(url, headers=bearer(db, w.reviewer_conflicted, clock))
        assert r.status_code == 404 and MARK not in r.text


def test_outsiders_get_404_and_cannot_upload(client: TestClient, db: Session, w: World, clock: FakeClock) -> None:
    """I7: another applicant, another agency's staff and an unassigned panel reviewer: 404, never 403."""
    proposal, doc_id = _with_document(client, db, w, clock)
    for person in (w.other_researcher, w.nedo_staff, w.reviewer_same_org):
        for url in (_url(proposal), _url(proposal, doc_id)):
            assert client.get(url, headers=bearer(db, person, clock)).status_code == 404
        code, _ = _upload(client, db, person, clock, proposal)
        assert code == 404
    # The call's staff read (a submitted proposal is theirs to run).
    assert client.get(_url(proposal, doc_id), headers=bearer(db, w.staff, clock)).status_code == 200


def test_uploads_are_validated_as_hostile_input(client: TestClient, db: Session, w: World, clock: FakeClock) -> None:
    """O1: type by content not name, damaged PDFs, size; a valid PDF passes; the team member may not upload."""
    proposal = _seated(db, w, clock)
    code, body = _upload(client, db, w.lead, clock, proposal, data=b"MZ\x90\x00" + b"\x00" * 200, name="plan.pdf",
                         ctype="application/pdf")
    assert code == 422 and "ファイル" in str(body)
    code, body = _upload(client, db, w.lead, clock, proposal, data=b"%PDF-1.7\n1 0 obj <<>> garbage", name="plan.pdf",
                         ctype="application/pdf")
    assert code == 422
    code, body = _upload(client, db, w.lead, clock, proposal, data=b"a" * (20 * 1024 * 1024 + 1), name="big.txt")
    assert code in (413, 422)
    code, body = _upload(client, db, w.lead, clock, proposal, kind="secret")
    assert code == 422 and "research_plan" in str(body)
    code, body = _upload(client, db, w.lead, clock, proposal, data=_pdf("Research plan"), name="plan.pdf",
                         ctype="application/pdf", kind="form", title="様式1")
    assert code == 201 and body["content_type"] == "application/pdf"
    code, _ = _upload(client, db, w.colleague, clock, proposal)
    assert code == 403
    assert db.scalars(select(AuditEntry).where(AuditEntry.tag == "programme:plan_document:upload")).first() is not None


def test_replacing_keeps_the_earlier_version_and_uploads_end_at_the_close(
        client: TestClient, db: Session, w: World, clock: FakeClock) -> None:
    """F6: same kind and title replaces (the old version kept and readable); after the close: 403."""
    proposal, first = _with_document(client, db, w, clock)
    code, body = _upload(client, db, w.lead, clock, proposal, data=(PLAN + "改訂版\n").encode())
    assert code == 201 and body["replaces_id"] == first
    rows = db.scalars(select(PlanDocument).where(PlanDocument.proposal_id == proposal.id)
                      .order_by(PlanDocument.id)).all()
    assert [r.superseded_at is not None for r in rows] == [True, False]
    assert client.get(_url(proposal, first), headers=bearer(db, w.lead, clock)).status_code == 200
    _close(w, clock)
    code, _ = _upload(client, db, w.lead, clock, proposal)
    assert code == 403


def test_egress_matrix_rows_for_plan_documents(client: TestClient, db: Session, w: World, ctx: AppContext,
                                               clock: FakeClock) -> None:
    """I12 matrix: principal × path (list, file, page) × moment (before/after the close); written from F6/I7."""
    proposal, doc_id = _with_document(client, db, w, clock)
    principals = {"proposer": w.lead, "team_member": w.colleague, "staff": w.staff,
                  "other_agency_staff": w.nedo_staff, "other_applicant": w.other_researcher,
                  "clear_reviewer": w.reviewer, "conflicted_reviewer": w.reviewer_conflicted,
                  "unassigned_panel_reviewer": w.reviewer_same_org}
    readers = {"before_close": {"proposer", "team_member", "staff"},
               "after_close": {"proposer", "team_member", "staff", "clear_reviewer"}}
    for moment, may_know in readers.items():
        if moment == "after_close":
            _close(w, clock)
        headers = {who: bearer(db, person, clock) for who, person in principals.items()}  # fresh tokens: the close is weeks on
        for who in principals:
            listed = client.get(_url(proposal), headers=headers[who])
            got = client.get(_url(proposal, doc_id), headers=headers[who])
            cell = f"{moment}:{who}"
            if who in may_know:
                assert listed.status_code == 200 and got.status_code == 200, cell
                assert MARK in strip_marks(got.content.decode()), cell
            else:
                assert listed.status_code == 404 and got.status_code == 404, cell
                assert MARK not in got.text and "研究提案書.txt" not in listed.text, cell
    # The page path: the reviewer after the close reads through the page too; an outsider gets the 404 page.
    sign_in(client, db, w.reviewer, ctx)
    page = client.get(f"/programme/proposals/{proposal.id}/documents")
    assert page.status_code == 200 and "研究提案書.txt" in page.text and 'name="file"' not in page.text
    assert client.get(f"/programme/proposals/{proposal.id}/documents/{doc_id}").status_code == 200


def test_the_page_uploads_lists_and_links_from_the_proposal(client: TestClient, db: Session, w: World,
                                                            ctx: AppContext, clock: FakeClock) -> None:
    """The proposer's page (Japanese first): the proposal links to its documents, the form uploads, a bad file is 422."""
    proposal = _seated(db, w, clock)
    token = sign_in(client, db, w.lead, ctx)
    assert f"/programme/proposals/{proposal.id}/documents" in client.get(f"/programme/proposals/{proposal.id}").text
    page = client.get(f"/programme/proposals/{proposal.id}/documents")
    assert page.status_code == 200 and "提案書類" in page.text and 'name="file"' in page.text
    r = client.post(f"/programme/proposals/{proposal.id}/documents", data={"csrf_token": token, "kind": "form",
                                                                          "title": "様式2"},
                    files={"file": ("様式2.txt", PLAN.encode(), "text/plain")}, follow_redirects=False)
    assert r.status_code == 303, r.text
    listed = client.get(r.headers["location"])
    assert "書類を暗号化して保存しました" in listed.text and "様式2.txt" in listed.text
    bad = client.post(f"/programme/proposals/{proposal.id}/documents", data={"csrf_token": token, "kind": "form"},
                      files={"file": ("x.pdf", b"MZ\x90\x00" + b"\x00" * 100, "application/pdf")})
    assert bad.status_code == 422 and "ファイル" in bad.text
    outsider_doc = db.scalars(select(PlanDocument.id)).first()
    sign_in(client, db, w.other_researcher, ctx)
    assert client.get(f"/programme/proposals/{proposal.id}/documents").status_code == 404
    assert client.get(f"/programme/proposals/{proposal.id}/documents/{outsider_doc}").status_code == 404


def test_the_backup_check_opens_plan_documents_under_the_proposal_key(client: TestClient, db: Session, w: World,
                                                                      clock: FakeClock, ctx: AppContext) -> None:
    """O2: the backup's file check finds each plan document and opens it with the proposal's key (third store)."""
    from banso.backup import references
    from banso.sealed import store as sealed_store

    proposal, doc_id = _with_document(client, db, w, clock)
    refs = [r for r in references.referenced_files(db) if r.what == f"plan_document:{doc_id}"]
    assert [r.scope for r in refs] == [sealed_store.proposal_scope(proposal.id)]
    check = references.check_files(db, sealed_store.sealed_deps(ctx), destroyed=set())
    assert check.problems == [] and check.opened >= 1
    shredded = references.check_files(db, sealed_store.sealed_deps(ctx), destroyed={refs[0].scope})
    assert shredded.shredded >= 1


def test_rotating_the_proposal_key_rewraps_its_documents_which_stay_readable(
        client: TestClient, db: Session, w: World, clock: FakeClock, ctx: AppContext) -> None:
    """I11, O2: `banso keys` covers the third key store — the proposal's key is rotated like a council's (new
    version, every document's data key re-wrapped, old version destroyed, audited) and the team still reads."""
    from banso.app import keys
    from banso.sealed import store as sealed_store

    proposal, doc_id = _with_document(client, db, w, clock)
    scope = sealed_store.proposal_scope(proposal.id)
    assert scope in keys.all_scopes(ctx)
    assert keys.status(ctx, scope).in_use == {1: 1}
    done = keys.rotate(ctx, scope, grace_seconds=0)
    assert (done.before, done.version, done.retired) == ([1], 2, [1])
    assert sum(done.rewrapped.values()) == 1 and done.unreadable == []
    after = keys.status(ctx, scope)
    assert (after.held, after.in_use) == ([2], {2: 1})
    db.expire_all()
    got = client.get(_url(proposal, doc_id), headers=bearer(db, w.colleague, clock))
    assert got.status_code == 200 and strip_marks(got.content.decode()) == PLAN
    tags = db.scalars(select(AuditEntry.tag).where(AuditEntry.subject == scope.subject)).all()
    assert {"sealed:key:rotate", "sealed:key:retire"} <= set(tags)
