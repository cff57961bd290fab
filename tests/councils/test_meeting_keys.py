"""Key rotation covers meeting materials and comments on circulated minutes (I11, issue 13): after the council key
is rotated and the old version destroyed, both still open, and the rotation re-wrapped them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from banso.app import keys
from banso.backup.references import referenced_files
from banso.councils import meetings, service
from banso.kit.clock import FakeClock
from banso.leak.text import strip_invisible
from banso.sealed.store import sealed_deps
from banso.web.context import AppContext
from tests.support.councils import active_council
from tests.support.factories import Factory


def test_rotation_rewraps_materials_and_comments(db: Session, factory: Factory, clock: FakeClock,
                                                 ctx: AppContext) -> None:
    cast = active_council(factory, db, clock)
    cid, officer, store = cast.council.id, cast.officer.principal(), sealed_deps(ctx)
    meeting = service.schedule_meeting(db, council_id=cid, actor=officer, now=clock.now(), title="第1回会合",
                                       starts_at=clock.now() - timedelta(days=1), held=True)
    material = meetings.add_material(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(),
                                     title="資料1", confidential=True, store=store,
                                     file=service.UploadedFile("a.csv", "text/csv", "項目,値\n海域,相模湾\n".encode()))
    meetings.record_attendance_sheet(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(),
                                     entries=[meetings.AttendanceEntry(cast.company.user.id, "present")])
    service.draft_minutes(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(), text="議事録案",
                          store=store)
    meetings.circulate_minutes(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now())
    meetings.confirm_minutes(db, council_id=cid, meeting_id=meeting.id, actor=cast.company.principal(),
                             now=clock.now(), answer="comment", comment="追記願います", store=store)
    db.commit()

    done = keys.rotate(ctx, keys.Scope("council", cid), grace_seconds=0)

    assert done.retired == [1] and done.unreadable == []
    assert done.rewrapped["council_meeting_materials.wrapped_key"] == 1
    assert done.rewrapped["council_minutes_confirmations.comment_sealed"] == 1
    db.expire_all()
    view = service.get_meeting(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(), store=store)
    assert [c.comment for c in view.confirmations] == ["追記願います"]
    copy = meetings.read_material(db, council_id=cid, meeting_id=meeting.id, material_id=material.id, actor=officer,
                                  now=clock.now(), store=store)
    assert "相模湾" in strip_invisible(copy.data.decode())


def test_backups_refer_to_meeting_materials(db: Session, factory: Factory, clock: FakeClock,
                                            ctx: AppContext) -> None:
    # O2: a backup copies the blobs its database rows refer to; a material left out would be lost on restore.
    cast = active_council(factory, db, clock)
    cid, officer, store = cast.council.id, cast.officer.principal(), sealed_deps(ctx)
    meeting = service.schedule_meeting(db, council_id=cid, actor=officer, now=clock.now(), title="第1回会合",
                                       starts_at=clock.now() - timedelta(days=1), held=True)
    material = meetings.add_material(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(),
                                     title="資料1", confidential=False, store=store,
                                     file=service.UploadedFile("a.csv", "text/csv", b"a,b\n1,2\n"))
    refs = {r.what: r for r in referenced_files(db)}
    assert refs[f"meeting_material:{material.id}"].blob == material.blob
