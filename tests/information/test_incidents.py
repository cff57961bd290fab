"""Incidents (I9): report → triage → attribution of a real leaked PDF → close, every step audited."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.information import distribution, incidents, service
from banso.information.deps import InformationDeps
from banso.information.models import Incident, IncidentStep, Item
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.leak.pdf import make_sample_pdf
from banso.notifications.models import Notification
from tests.support.councils import Cast, join
from tests.support.factories import Factory, audit_count
from tests.support.information import provide_item


def _leaked_pdf(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> tuple[Item, dict[int, bytes]]:
    """An item with a PDF, downloaded (stamped) by the officer and the researcher."""
    pdf = make_sample_pdf("評価報告", ["第一段落。水中航法の誤差。", "第二段落。"])
    item = provide_item(db, deps, cast, clock, files=[service.Upload("report.pdf", "application/pdf", pdf)])
    file_id = service.read_item(db, deps, item_id=item.id, actor=cast.company.principal(), now=clock.now()).files[0].id
    copies = {p.user.id: distribution.download_file(db, deps, item_id=item.id, file_id=file_id, actor=p.principal(),
                                                    now=clock.now()).data
              for p in (cast.officer, cast.researcher)}
    return item, copies


def _report(db: Session, cast: Cast, clock: FakeClock, item: Item | None = None, **kw) -> Incident:  # type: ignore[no-untyped-def]
    fields = {"title": "評価報告書がSNSに掲載された", "description": "外部の掲示板に評価報告書のPDFが掲載されている。"}
    fields.update(kw)
    return incidents.report_incident(db, actor=cast.company.principal(), now=clock.now(),
                                     item_id=item.id if item else None, **fields)


def test_whole_workflow_attributes_the_leaked_pdf(db: Session, deps: InformationDeps, cast: Cast,
                                                  clock: FakeClock) -> None:
    item, copies = _leaked_pdf(db, deps, cast, clock)
    leaked = copies[cast.researcher.user.id]
    incident = _report(db, cast, clock, item)
    assert incident.state == "reported" and incident.council_id == cast.council.id
    # the chair (researcher) and secretariat (officer) are told, naming only the incident
    sent = db.scalars(select(Notification).where(Notification.kind == "information.incident_reported")).all()
    assert {n.recipient_id for n in sent} == {cast.officer.user.id, cast.researcher.user.id}
    assert all(n.link == f"/information/incidents/{incident.id}" for n in sent)

    manager = cast.officer.principal()
    incidents.triage_incident(db, incident_id=incident.id, actor=manager, now=clock.now(), note="真正な写しの可能性が高い")
    assert incident.state == "triaged"
    incidents.attribute_incident(db, incident_id=incident.id, actor=manager, now=clock.now(), data=leaked,
                                 filename="leak.pdf")
    assert incident.state == "attributed"
    assert incident.attributed_user_id == cast.researcher.user.id
    assert incident.confidence is not None and incident.confidence > 0.99
    assert incident.evidence_sha256 == hashlib.sha256(leaked).hexdigest()
    assert incident.attributed_distribution_id is not None
    incidents.close_incident(db, incident_id=incident.id, actor=manager, now=clock.now(),
                             outcome="受領者に事情聴取し、所管省庁へ報告した。")
    assert incident.state == "closed" and incident.penalty_provision == incidents.DEFAULT_PENALTY

    view = incidents.get_incident(db, incident_id=incident.id, actor=manager)
    assert view.can_manage and [s.state for s in view.steps] == ["reported", "triaged", "attributed", "closed"]
    attributed = view.steps[2].note
    assert cast.researcher.user.email in attributed and f"confidence {incident.confidence:.6f}" in attributed
    assert "exactly" in attributed  # the explanation of the attribution
    assert "第62条第7項" in view.steps[3].note
    for tag in ("report", "triage", "attribute", "close"):
        assert audit_count(db, f"information:incident:{tag}") == 1
    assert audit_count(db, "information:leak:attribute") == 1


def test_attribution_can_be_repeated_and_evidence_bytes_are_not_stored(db: Session, deps: InformationDeps,
                                                                       cast: Cast, clock: FakeClock) -> None:
    item, copies = _leaked_pdf(db, deps, cast, clock)
    incident = _report(db, cast, clock, item)
    manager = cast.researcher.principal()  # the chair
    incidents.triage_incident(db, incident_id=incident.id, actor=manager, now=clock.now(), note="確認")
    incidents.attribute_incident(db, incident_id=incident.id, actor=manager, now=clock.now(), data=b"plain text",
                                 filename="note.txt")
    assert incident.state == "attributed" and incident.attributed_user_id is None and incident.confidence == 0.0
    incidents.attribute_incident(db, incident_id=incident.id, actor=manager, now=clock.now(),
                                 data=copies[cast.officer.user.id], filename=None)
    assert incident.attributed_user_id == cast.officer.user.id
    assert audit_count(db, "information:incident:attribute") == 2
    notes = " ".join(s.note for s in db.scalars(select(IncidentStep).where(IncidentStep.incident_id == incident.id)))
    assert "%PDF" not in notes


def test_council_incident_counts_only_copies_of_that_council(db: Session, deps: InformationDeps, cast: Cast,
                                                             clock: FakeClock, factory: Factory) -> None:
    from tests.support.councils import establish

    _, copies = _leaked_pdf(db, deps, cast, clock)
    other = establish(factory, db, clock)
    incident = incidents.report_incident(db, actor=other.company.principal(), now=clock.now(), title="漏えいの疑い",
                                         description="協議会の資料らしきPDF", council_id=other.council.id)
    manager = other.officer.principal()
    incidents.triage_incident(db, incident_id=incident.id, actor=manager, now=clock.now(), note="確認")
    incidents.attribute_incident(db, incident_id=incident.id, actor=manager, now=clock.now(),
                                 data=copies[cast.researcher.user.id], filename="x.pdf")
    assert incident.attributed_user_id is None and incident.attributed_distribution_id is None
    view = incidents.get_incident(db, incident_id=incident.id, actor=manager)
    assert cast.researcher.user.email not in view.steps[-1].note  # the other council's recipient is not named
    # the same copy, reported against the right council, is attributed
    mine = incidents.report_incident(db, actor=cast.company.principal(), now=clock.now(), title="漏えい",
                                     description="同じPDF", council_id=cast.council.id)
    incidents.triage_incident(db, incident_id=mine.id, actor=cast.officer.principal(), now=clock.now(), note="確認")
    incidents.attribute_incident(db, incident_id=mine.id, actor=cast.officer.principal(), now=clock.now(),
                                 data=copies[cast.researcher.user.id], filename="x.pdf")
    assert mine.attributed_user_id == cast.researcher.user.id


def test_wrong_state_transitions_are_409(db: Session, deps: InformationDeps, cast: Cast, clock: FakeClock) -> None:
    incident = _report(db, cast, clock, council_id=cast.council.id)
    manager = cast.officer.principal()
    with pytest.raises(Conflict, match="reported"):
        incidents.attribute_incident(db, incident_id=incident.id, actor=manager, now=clock.now(), data=b"x",
                                     filename=None)
    incidents.triage_incident(db, incident_id=incident.id, actor=manager, now=clock.now(), note="確認")
    with pytest.raises(Conflict):
        incidents.triage_incident(db, incident_id=incident.id, actor=manager, now=clock.now(), note="again")
    incidents.close_incident(db, incident_id=incident.id, actor=manager, now=clock.now(), outcome="誤報",
                             penalty_provision="該当なし / not applicable")
    assert incident.penalty_provision == "該当なし / not applicable"
    steps: list[Callable[[], Incident]] = [
        lambda: incidents.triage_incident(db, incident_id=incident.id, actor=manager, now=clock.now(), note="n"),
        lambda: incidents.attribute_incident(db, incident_id=incident.id, actor=manager, now=clock.now(),
                                             data=b"x", filename=None),
        lambda: incidents.close_incident(db, incident_id=incident.id, actor=manager, now=clock.now(), outcome="o"),
    ]
    for step in steps:
        with pytest.raises(Conflict, match="closed"):
            step()
    assert audit_count(db, "information:incident:close") == 1


def test_visibility_reporter_manager_outsider_auditor(db: Session, deps: InformationDeps, cast: Cast,
                                                      clock: FakeClock, factory: Factory) -> None:
    item, copies = _leaked_pdf(db, deps, cast, clock)
    reported = _report(db, cast, clock, item)  # by the company (a plain member)
    with pytest.raises(NotFound):  # I7: naming a council one is not in answers like a missing council
        incidents.report_incident(db, actor=cast.outsider.principal(), now=clock.now(), title="掲示板で見つけた",
                                  description="協議会名入りの資料", council_id=cast.council.id)
    # the outsider's council-named report, made once they joined (a plain member who is not the company)
    join(cast, db, clock, cast.outsider, pledge=False)
    by_outsider = incidents.report_incident(db, actor=cast.outsider.principal(), now=clock.now(),
                                            title="掲示板で見つけた", description="協議会名入りの資料",
                                            council_id=cast.council.id)
    loose = incidents.report_incident(db, actor=cast.outsider.principal(), now=clock.now(), title="出所不明",
                                      description="どの協議会か不明")
    auditor = factory.person(roles=("auditor",)).principal()
    stranger = factory.person(roles=("researcher",)).principal()

    def ids(who) -> list[int]:  # type: ignore[no-untyped-def]
        return [i.id for i in incidents.list_incidents(db, actor=who)]

    assert ids(cast.company.principal()) == [reported.id]
    assert ids(cast.outsider.principal()) == [loose.id, by_outsider.id]  # newest first
    assert ids(cast.officer.principal()) == [by_outsider.id, reported.id]
    assert ids(cast.officer.principal(mfa=False)) == []  # managing needs content access (I7)
    assert ids(auditor) == [loose.id, by_outsider.id, reported.id]
    assert ids(stranger) == []
    for who in (stranger, cast.company.principal()):
        with pytest.raises(NotFound):
            incidents.get_incident(db, incident_id=by_outsider.id, actor=who)
    with pytest.raises(NotFound):
        incidents.get_incident(db, incident_id=10**9, actor=auditor)
    # the reporter sees the incident but may not work it
    assert not incidents.get_incident(db, incident_id=reported.id, actor=cast.company.principal()).can_manage
    with pytest.raises(Forbidden):
        incidents.triage_incident(db, incident_id=reported.id, actor=cast.company.principal(), now=clock.now(),
                                  note="n")
    with pytest.raises(NotFound):
        incidents.triage_incident(db, incident_id=reported.id, actor=stranger, now=clock.now(), note="n")
    # the auditor reads everything but works only incidents that name no council
    view = incidents.get_incident(db, incident_id=reported.id, actor=auditor)
    assert not view.can_manage
    with pytest.raises(Forbidden):
        incidents.triage_incident(db, incident_id=reported.id, actor=auditor, now=clock.now(), note="n")
    assert incidents.get_incident(db, incident_id=loose.id, actor=auditor).can_manage
    # the reporter does not learn whom it was attributed to
    manager = cast.officer.principal()
    incidents.triage_incident(db, incident_id=reported.id, actor=manager, now=clock.now(), note="確認")
    incidents.attribute_incident(db, incident_id=reported.id, actor=manager, now=clock.now(),
                                 data=copies[cast.researcher.user.id], filename="leak.pdf")
    seen = incidents.get_incident(db, incident_id=reported.id, actor=cast.company.principal())
    assert seen.incident.attributed_user_id is None and seen.incident.confidence is None
    assert all(cast.researcher.user.email not in s.note for s in seen.steps)
    assert reported.attributed_user_id == cast.researcher.user.id  # the stored row is untouched
    full = incidents.get_incident(db, incident_id=reported.id, actor=auditor)
    assert full.incident.attributed_user_id == cast.researcher.user.id


def test_report_needs_a_readable_item_and_an_existing_council(db: Session, deps: InformationDeps, cast: Cast,
                                                              clock: FakeClock) -> None:
    item = provide_item(db, deps, cast, clock)
    with pytest.raises(NotFound):  # an outsider cannot report against (and so probe) a council item
        incidents.report_incident(db, actor=cast.outsider.principal(), now=clock.now(), title="t", description="d",
                                  item_id=item.id)
    with pytest.raises(NotFound):
        incidents.report_incident(db, actor=cast.company.principal(), now=clock.now(), title="t", description="d",
                                  council_id=10**9)
    with pytest.raises(ValidationFailed):
        incidents.report_incident(db, actor=cast.company.principal(), now=clock.now(), title="t", description="d",
                                  item_id=item.id, council_id=cast.council.id + 1)
    for title, description in (("", "d"), ("  ", "d"), ("x" * 301, "d"), ("t", ""), ("t", " \n ")):
        with pytest.raises(ValidationFailed):
            incidents.report_incident(db, actor=cast.company.principal(), now=clock.now(), title=title,
                                      description=description)
    assert audit_count(db, "information:incident:report") == 0
