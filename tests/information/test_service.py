"""Controlled information through the real services on a migrated database (I1–I8, I11)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.councils import service as councils
from banso.information import distribution, service
from banso.information.deps import InformationDeps
from banso.information.models import Ballot, ItemVersion
from banso.kit.clock import FakeClock
from banso.kit.errors import BansoError, Conflict, Forbidden, NotFound, ValidationFailed
from banso.leak.pdf import make_sample_pdf
from banso.sealed.crypto import TamperedCiphertext
from tests.support.councils import Cast
from tests.support.factories import audit_count
from tests.support.information import answer_ballot, provide_item

YEAR = timedelta(days=365)


def _designate(cast: Cast, clock: FakeClock, **kw) -> service.DesignationInput:  # type: ignore[no-untyped-def]
    fields = dict(reason="輸出管理上の懸念", scope_kind="named", user_ids=[cast.researcher.user.id],
                  ends_at=clock.now() + YEAR)
    fields.update(kw)
    return service.DesignationInput(**fields)  # type: ignore[arg-type]


def _vote_all(db: Session, ballot: Ballot, cast: Cast, clock: FakeClock, decision: str = "accept") -> None:
    answer_ballot(db, ballot, [cast.officer, cast.researcher, cast.company], clock, decision)


def test_council_item_is_read_by_pledged_members_only(db: Session, deps: InformationDeps, cast: Cast,
                                                      clock: FakeClock) -> None:
    item = provide_item(db, deps, cast, clock)
    assert item.state == "council"
    view = service.read_item(db, deps, item_id=item.id, actor=cast.researcher.principal(), now=clock.now())
    assert view.body.startswith("本文")
    for who in (cast.outsider.principal(), cast.researcher.principal(mfa=False), None):
        with pytest.raises(NotFound):
            service.read_item(db, deps, item_id=item.id, actor=who, now=clock.now())
        assert item.id not in [i.id for i in service.list_items(db, actor=who)]
    assert service.count_items(db, actor=cast.outsider.principal()) == 0
    assert audit_count(db, "information:item:read") == 1


def test_body_is_encrypted_at_rest(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    item = provide_item(db, deps, cast, clock, body="秘密の数値 4242")
    sealed = db.scalar(select(ItemVersion.body_sealed).where(ItemVersion.item_id == item.id))
    assert sealed is not None and b"4242" not in sealed and "秘密".encode() not in sealed


def test_unanimous_designation_restricts_to_scope(db: Session, deps: InformationDeps, cast: Cast,
                                                  clock: FakeClock) -> None:
    item = provide_item(db, deps, cast, clock, designation=_designate(cast, clock))
    assert item.state == "held"
    ballot = db.scalar(select(Ballot).where(Ballot.item_id == item.id))
    assert ballot is not None
    # I4: voters see the proposal, never the content, until the decision
    view = service.get_ballot(db, ballot_id=ballot.id, actor=cast.researcher.principal())
    assert view.item_title == item.title and not view.can_read_item
    with pytest.raises(NotFound):
        service.read_item(db, deps, item_id=item.id, actor=cast.researcher.principal(), now=clock.now())
    # the secretariat holds it
    service.read_item(db, deps, item_id=item.id, actor=cast.officer.principal(), now=clock.now())
    _vote_all(db, ballot, cast, clock)
    assert item.state == "designated" and ballot.state == "accepted"
    service.read_item(db, deps, item_id=item.id, actor=cast.researcher.principal(), now=clock.now())
    service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(), now=clock.now())  # provider
    with pytest.raises(NotFound):  # out of scope: 404, not 403 (I7)
        service.read_item(db, deps, item_id=item.id, actor=cast.officer.principal(), now=clock.now())
    assert item.id not in [i.id for i in service.list_items(db, actor=cast.officer.principal())]


def test_one_objection_rejects_and_the_item_is_council_shared(db: Session, deps: InformationDeps, cast: Cast,
                                                              clock: FakeClock) -> None:
    item = provide_item(db, deps, cast, clock, designation=_designate(cast, clock))
    ballot = db.scalar(select(Ballot).where(Ballot.item_id == item.id))
    assert ballot is not None
    service.vote(db, ballot_id=ballot.id, actor=cast.researcher.principal(), now=clock.now(), decision="object",
                 reason="範囲が広すぎる")
    assert ballot.state == "rejected" and item.state == "council"
    service.read_item(db, deps, item_id=item.id, actor=cast.officer.principal(), now=clock.now())


def test_missing_answer_at_deadline_rejects(db: Session, deps: InformationDeps, cast: Cast,
                                            clock: FakeClock) -> None:
    item = provide_item(db, deps, cast, clock, designation=_designate(cast, clock, deadline=clock.now() + timedelta(days=3)))
    ballot = db.scalar(select(Ballot).where(Ballot.item_id == item.id))
    assert ballot is not None
    service.vote(db, ballot_id=ballot.id, actor=cast.researcher.principal(), now=clock.now(), decision="accept")
    clock.advance(seconds=(timedelta(days=3)).total_seconds())
    with pytest.raises(Conflict) as late:
        service.vote(db, ballot_id=ballot.id, actor=cast.officer.principal(), now=clock.now(), decision="accept")
    assert councils.was_audited(late.value)
    report = service.run_due_information(db, now=clock.now())
    assert report.settled == 1 and ballot.state == "rejected" and item.state == "council"
    assert audit_count(db, "information:vote:refused") == 1


def test_non_voter_gets_404_and_is_audited(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    item = provide_item(db, deps, cast, clock, designation=_designate(cast, clock))
    ballot = db.scalar(select(Ballot).where(Ballot.item_id == item.id))
    assert ballot is not None
    with pytest.raises(NotFound):
        service.vote(db, ballot_id=ballot.id, actor=cast.outsider.principal(), now=clock.now(), decision="accept")
    with pytest.raises(NotFound):
        service.get_ballot(db, ballot_id=ballot.id, actor=cast.outsider.principal())
    assert audit_count(db, "information:vote:refused") == 1


def test_lapse_makes_council_shared_and_results_public(db: Session, deps: InformationDeps, cast: Cast,
                                                       clock: FakeClock) -> None:
    plain = provide_item(db, deps, cast, clock, designation=_designate(cast, clock))
    result = provide_item(db, deps, cast, clock, title="成果報告", category="research_result", is_result=True,
                   designation=_designate(cast, clock))
    for item in (plain, result):
        ballot = db.scalar(select(Ballot).where(Ballot.item_id == item.id))
        assert ballot is not None
        _vote_all(db, ballot, cast, clock)
        assert item.state == "designated"
    clock.advance(seconds=(YEAR - timedelta(days=29)).total_seconds())
    assert service.run_due_information(db, now=clock.now()).reminders == 2  # 30-day reminder
    assert service.run_due_information(db, now=clock.now()).reminders == 0  # not twice
    clock.advance(seconds=(timedelta(days=23)).total_seconds())
    assert service.run_due_information(db, now=clock.now()).reminders == 2  # 7-day reminder
    clock.advance(seconds=(timedelta(days=7)).total_seconds())
    report = service.run_due_information(db, now=clock.now())
    assert report.lapsed == 2
    assert plain.state == "council" and result.state == "public"
    service.read_item(db, deps, item_id=plain.id, actor=cast.officer.principal(), now=clock.now())
    assert result.id in [i.id for i in service.public_items(db)]
    service.read_item(db, deps, item_id=result.id, actor=None, now=clock.now())  # the public portal


def test_renewal_extends_the_period(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    item = provide_item(db, deps, cast, clock, designation=_designate(cast, clock))
    ballot = db.scalar(select(Ballot).where(Ballot.item_id == item.id))
    assert ballot is not None
    _vote_all(db, ballot, cast, clock)
    clock.advance(seconds=(YEAR - timedelta(days=20)).total_seconds())
    renewal = service.propose_renewal(db, item_id=item.id, actor=cast.company.principal(), now=clock.now(),
                                      ends_at=clock.now() + YEAR, reason="継続評価",
                                      deadline=clock.now() + timedelta(days=10))
    _vote_all(db, renewal, cast, clock)
    assert renewal.state == "accepted" and item.current_designation_id == renewal.id
    clock.advance(seconds=(timedelta(days=30)).total_seconds())
    assert service.run_due_information(db, now=clock.now()).lapsed == 0
    assert item.state == "designated"


def test_period_past_the_maximum_is_refused(db: Session, deps: InformationDeps, cast: Cast,
                                           clock: FakeClock) -> None:
    with pytest.raises(ValidationFailed, match="5 years") as caught:
        provide_item(db, deps, cast, clock, designation=_designate(cast, clock, ends_at=clock.now() + 6 * YEAR))
    assert councils.was_audited(caught.value) and audit_count(db, "information:designation:refused") == 1
    assert service.count_items(db, actor=cast.company.principal()) == 0  # nothing half-written


def test_nondisclosure_request_withholds_only_if_unanimous(db: Session, deps: InformationDeps, cast: Cast,
                                                           clock: FakeClock) -> None:
    kept = provide_item(db, deps, cast, clock, provider=cast.researcher, provenance="researcher_generated",
                 category="research_result", publish_at=clock.now() + timedelta(days=10))
    freed = provide_item(db, deps, cast, clock, provider=cast.researcher, provenance="researcher_generated",
                  category="research_result", publish_at=clock.now() + timedelta(days=10))
    assert kept.state == freed.state == "scheduled"
    with pytest.raises(Forbidden):
        service.request_nondisclosure(db, item_id=kept.id, actor=cast.company.principal(), now=clock.now(),
                                      reason_code="wmd_diversion", reason="転用のおそれ")
    one = service.request_nondisclosure(db, item_id=kept.id, actor=cast.officer.principal(), now=clock.now(),
                                        reason_code="wmd_diversion", reason="大量破壊兵器への転用のおそれ")
    two = service.request_nondisclosure(db, item_id=freed.id, actor=cast.officer.principal(), now=clock.now(),
                                        reason_code="national_security", reason="要検討")
    _vote_all(db, one, cast, clock)
    service.vote(db, ballot_id=two.id, actor=cast.researcher.principal(), now=clock.now(), decision="object",
                 reason="学術公開が必要")
    assert kept.state == "withheld" and two.state == "rejected"
    clock.advance(seconds=(timedelta(days=31)).total_seconds())  # I13: the 30-day notice, not the 10 days asked
    service.run_due_information(db, now=clock.now())
    assert freed.state == "public" and kept.state == "withheld"


def test_tampered_ciphertext_is_refused_and_audited(db: Session, deps: InformationDeps, cast: Cast,
                                                    clock: FakeClock) -> None:
    item = provide_item(db, deps, cast, clock)
    version = db.scalar(select(ItemVersion).where(ItemVersion.item_id == item.id))
    assert version is not None
    blob = bytearray(version.body_sealed)
    blob[-1] ^= 1
    version.body_sealed = bytes(blob)
    db.flush()
    with pytest.raises(TamperedCiphertext) as caught:
        service.read_item(db, deps, item_id=item.id, actor=cast.researcher.principal(), now=clock.now())
    assert councils.was_audited(caught.value)
    assert audit_count(db, "information:integrity:failed") == 1


def test_pdf_download_is_stamped_and_attributed(db: Session, deps: InformationDeps, cast: Cast,
                                                clock: FakeClock) -> None:
    pdf = make_sample_pdf("評価報告", ["第一段落。", "第二段落。"])
    item = provide_item(db, deps, cast, clock, files=[service.Upload("report.pdf", "application/pdf", pdf)])
    file_id = service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(), now=clock.now()).files[0].id
    copies = {p.user.id: distribution.download_file(db, deps, item_id=item.id, file_id=file_id,
                                                    actor=p.principal(), now=clock.now())
              for p in (cast.officer, cast.researcher)}
    assert all(c.data != pdf and c.distribution_id for c in copies.values())
    finding = distribution.attribute(db, data=copies[cast.researcher.user.id].data, now=clock.now())
    assert finding.user_id == cast.researcher.user.id and finding.confidence > 0.99
    with pytest.raises(NotFound):
        distribution.download_file(db, deps, item_id=item.id, file_id=file_id, actor=cast.outsider.principal(),
                                   now=clock.now())
    assert audit_count(db, "information:file:download") == 2


def test_view_only_designation_refuses_downloads(db: Session, deps: InformationDeps, cast: Cast,
                                                clock: FakeClock) -> None:
    pdf = make_sample_pdf("評価報告", ["本文"])
    item = provide_item(db, deps, cast, clock, files=[service.Upload("r.pdf", "application/pdf", pdf)],
                 designation=_designate(cast, clock, handling=["view_only"]))
    ballot = db.scalar(select(Ballot).where(Ballot.item_id == item.id))
    assert ballot is not None
    _vote_all(db, ballot, cast, clock)
    view = service.read_item(db, deps, item_id=item.id, actor=cast.researcher.principal(), now=clock.now())
    with pytest.raises(Forbidden):
        distribution.download_file(db, deps, item_id=item.id, file_id=view.files[0].id,
                                   actor=cast.researcher.principal(), now=clock.now())
    assert audit_count(db, "information:file:refused") == 1


def test_leaving_ends_access_at_once(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    item = provide_item(db, deps, cast, clock)
    councils.leave(db, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now())
    with pytest.raises(NotFound):  # even the provider, once they left (C3, I11: no further key release)
        service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(), now=clock.now())


def test_lying_upload_is_rejected_and_nothing_is_written(db: Session, deps: InformationDeps, cast: Cast,
                                                        clock: FakeClock) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    before = service.count_items(db, actor=cast.company.principal())
    with pytest.raises(BansoError) as caught:
        provide_item(db, deps, cast, clock, files=[service.Upload("report.pdf", "application/pdf", png)])
    assert caught.value.status_code == 422 and "PNG" in caught.value.message
    assert service.count_items(db, actor=cast.company.principal()) == before
    assert audit_count(db, "information:upload:rejected") == 1


def test_office_and_image_downloads_are_stamped_and_attributed(db: Session, deps: InformationDeps, cast: Cast,
                                                               clock: FakeClock) -> None:
    from io import BytesIO

    from openpyxl import Workbook, load_workbook
    from PIL import Image

    book = Workbook()
    book.active.append(["試験番号", "推力_kN"])  # type: ignore[union-attr]
    book.active.append(["T-001", 98])  # type: ignore[union-attr]
    xlsx = BytesIO()
    book.save(xlsx)
    png = BytesIO()
    Image.new("RGB", (320, 200), "white").save(png, format="PNG")
    item = provide_item(db, deps, cast, clock, files=[
        service.Upload("data.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       xlsx.getvalue()),
        service.Upload("figure.png", "image/png", png.getvalue())])
    files = {f.kind: f.id for f in service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(),
                                                       now=clock.now()).files}
    for kind in ("xlsx", "png"):
        copy = distribution.download_file(db, deps, item_id=item.id, file_id=files[kind],
                                          actor=cast.researcher.principal(), now=clock.now())
        finding = distribution.attribute(db, data=copy.data, filename=copy.filename, now=clock.now())
        assert finding.user_id == cast.researcher.user.id and finding.confidence > 0.99, kind
    sheet = load_workbook(BytesIO(distribution.download_file(
        db, deps, item_id=item.id, file_id=files["xlsx"], actor=cast.officer.principal(), now=clock.now()).data)).active
    assert sheet is not None and "BNS" in (sheet.oddFooter.left.text or "")  # the visible footer


def test_a_designation_may_cover_only_some_files(db: Session, deps: InformationDeps, cast: Cast,
                                                 clock: FakeClock) -> None:
    """I3 range / I2 minimal: only the sensitive attachment is designated; the rest stays shared."""
    pdf = make_sample_pdf("概要", ["共有してよい概要"])
    item = provide_item(db, deps, cast, clock, files=[service.Upload("overview.pdf", "application/pdf", pdf),
                                              service.Upload("秘密データ.csv", "text/csv", b"a,b\n1,2\n")])
    ids = {f.filename: f.id for f in service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(),
                                                       now=clock.now()).files}
    secret = ids["秘密データ.csv"]
    with pytest.raises(ValidationFailed):  # a file of another item
        service.propose_designation(db, item_id=item.id, actor=cast.company.principal(), now=clock.now(),
                                    designation=_designate(cast, clock, file_ids=[secret + 999]))
    ballot = service.propose_designation(db, item_id=item.id, actor=cast.company.principal(), now=clock.now(),
                                         designation=_designate(cast, clock, file_ids=[secret]))
    assert item.state == "council"  # the item itself stays shared

    def names(who):  # type: ignore[no-untyped-def]
        return {f.filename for f in service.read_item(db, deps, item_id=item.id, actor=who, now=clock.now()).files}

    # While the vote is open only the provider and the secretariat hold the designated file (I4).
    assert names(cast.researcher.principal()) == {"overview.pdf"}
    assert names(cast.officer.principal()) == names(cast.company.principal()) == {"overview.pdf", "秘密データ.csv"}
    with pytest.raises(NotFound):
        distribution.download_file(db, deps, item_id=item.id, file_id=secret, actor=cast.researcher.principal(),
                                   now=clock.now())
    _vote_all(db, ballot, cast, clock)
    assert ballot.state == "accepted" and item.state == "council" and item.current_designation_id == ballot.id
    assert names(cast.researcher.principal()) == {"overview.pdf", "秘密データ.csv"}  # named in the scope
    assert names(cast.officer.principal()) == {"overview.pdf"}  # out of scope: the file looks missing
    with pytest.raises(NotFound):
        distribution.download_file(db, deps, item_id=item.id, file_id=secret, actor=cast.officer.principal(),
                                   now=clock.now())
    copy = distribution.download_file(db, deps, item_id=item.id, file_id=secret, actor=cast.researcher.principal(),
                                      now=clock.now())
    assert copy.distribution_id is not None
    clock.advance(seconds=(YEAR + timedelta(days=1)).total_seconds())
    assert service.run_due_information(db, now=clock.now(), deps=deps).lapsed == 1
    assert item.current_designation_id is None and item.state == "council"
    assert names(cast.officer.principal()) == {"overview.pdf", "秘密データ.csv"}
