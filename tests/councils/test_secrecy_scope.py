"""What counts as secret (issue 13, 秘密の範囲): marking at provision, oral statements designated in writing within
the bylaws' period, and exclusion claims decided by the secretariat and confirmed by the chair. Over the JSON API
(the app's TestClient, the migrated database, real sealed store) and the pages; every refusal is checked."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.app.jobs import run_due
from banso.audit.models import AuditEntry
from banso.councils import articles, rules, service
from banso.councils import models as m
from banso.information import models as im
from banso.kit.clock import FakeClock
from banso.kit.errors import ValidationFailed
from banso.leak.pdf import make_sample_pdf
from banso.leak.text import find_marks, strip_invisible
from banso.notifications import service as notifications
from banso.web.context import AppContext
from tests.support.councils import Cast, active_council, amend, article_inputs, join
from tests.support.factories import Factory, audit_count, count_rows
from tests.support.http import bearer, sign_in

INFO = "/api/v1/information"
EVIDENCE_PDF = make_sample_pdf("2019年 学会発表予稿", ["水中音響測位の手法（公知）"])


@pytest.fixture
def cast(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    """An active council: officer (secretariat), researcher (chair), company and a bystander (members)."""
    return active_council(factory, db, clock, bystander=True)


def _h(db: Session, clock: FakeClock, *people: Any) -> list[dict[str, str]]:
    return [bearer(db, p, clock) for p in people]


def _last_audit(db: Session, tag: str) -> dict[str, Any]:
    db.expire_all()
    entry = db.scalars(select(AuditEntry).where(AuditEntry.tag == tag).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None, tag
    return dict(entry.data)


def _item(client: TestClient, cast: Cast, h: dict[str, str], **fields: str) -> dict[str, Any]:
    data = {"council_id": str(cast.council.id), "title": "試験海域の水深データ", "matter": "useful_information",
            "category": "sampling_data", "provenance": "participant", "body": "水深 120m 地点の計測値", **fields}
    made = client.post(f"{INFO}/items", headers=h, data=data)
    assert made.status_code == 201, made.text
    return dict(made.json())


def _meeting(client: TestClient, cast: Cast, h: dict[str, str], clock: FakeClock, *, days_ago: int = 2) -> int:
    made = client.post(f"/api/v1/councils/{cast.council.id}/meetings", headers=h, json={
        "title": "第2回会合", "held": True, "starts_at": (clock.now() - timedelta(days=days_ago)).isoformat()})
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def _statement(client: TestClient, cast: Cast, h: dict[str, str], mid: int, speaker: int, *,
               confidential: bool = True) -> dict[str, Any]:
    made = client.post(f"/api/v1/councils/{cast.council.id}/meetings/{mid}/statements", headers=h, json={
        "speaker_id": speaker, "summary": "試作機の潜航深度は 800m に達した（未発表）",
        "stated_confidential": confidential})
    assert made.status_code == 201, made.text
    return dict(made.json())


# ---------------------------------------------------------------------------------------------
# 1. Marking at provision


def test_items_record_at_provision_whether_they_are_provided_as_confidential(
        client: TestClient, db: Session, cast: Cast, clock: FakeClock, ctx: AppContext) -> None:
    h_com, h_res = _h(db, clock, cast.company, cast.researcher)
    marked = _item(client, cast, h_com, confidential="true")
    plain = _item(client, cast, h_com, title="公開予定の概要")
    assert marked["provided_confidential"] is True and plain["provided_confidential"] is False
    assert client.get(f"{INFO}/items/{marked['id']}", headers=h_res).json()["item"]["provided_confidential"] is True
    # the item's history (audit) and its exports say so too
    assert _last_audit(db, "information:item:create")["confidential"] is False
    misp = client.get(f"{INFO}/items/{marked['id']}/export?format=misp", headers=h_res).json()
    stix = client.get(f"{INFO}/items/{marked['id']}/export?format=stix", headers=h_res).json()
    assert misp["Event"]["x_banso_provided_confidential"] is True
    assert next(o for o in stix["objects"] if o["type"] == "report")["x_banso_provided_confidential"] is True
    # I1: a researcher-generated result cannot be marked (it is outside the duty)
    refused = client.post(f"{INFO}/items", headers=h_res, data={
        "council_id": str(cast.council.id), "title": "自ら生み出した成果", "matter": "rd_content_and_results",
        "category": "research_result", "provenance": "researcher_generated", "is_result": "true",
        "confidential": "true"})
    assert refused.status_code == 422 and refused.json()["field"] == "confidential"
    assert "研究者自らが生み出した成果は秘として提供できません" in refused.json()["message"]
    # Items stored before marking was recorded say "not recorded", not "no".
    db.expire_all()
    legacy = db.get(im.Item, plain["id"])
    assert legacy is not None
    legacy.provided_confidential = None
    db.commit()
    sign_in(client, db, cast.researcher, ctx)
    page = client.get(f"/information/items/{plain['id']}").text
    assert "未記録" in page
    assert "秘として提供" in client.get(f"/information/items/{marked['id']}").text


def test_the_provide_page_marks_an_item_as_confidential(client: TestClient, db: Session, cast: Cast,
                                                        clock: FakeClock, ctx: AppContext) -> None:
    from tests.support.http import csrf_of

    sign_in(client, db, cast.company, ctx)
    form = client.get(f"/councils/{cast.council.id}/information/new").text
    assert 'name="confidential"' in form
    done = client.post(f"/councils/{cast.council.id}/information", data={
        "csrf_token": csrf_of(form), "title": "秘の資料", "matter": "useful_information", "category": "other",
        "provenance": "participant", "body": "本文", "confidential": "yes"}, follow_redirects=False)
    assert done.status_code in (302, 303), done.text[:300]
    db.expire_all()
    row = db.scalars(select(im.Item).where(im.Item.title == "秘の資料")).one()
    assert row.provided_confidential is True


# ---------------------------------------------------------------------------------------------
# 2. Oral statements


def test_an_oral_statement_designated_in_writing_in_time_is_under_the_duty(
        client: TestClient, db: Session, cast: Cast, clock: FakeClock) -> None:
    h_off, h_com, h_res, h_out = _h(db, clock, cast.officer, cast.company, cast.researcher, cast.outsider)
    mid = _meeting(client, cast, h_off, clock, days_ago=2)
    url = f"/api/v1/councils/{cast.council.id}/meetings/{mid}/statements"
    # only the chair or secretariat records statements; outsiders do not learn the meeting exists
    assert client.post(url, headers=h_com, json={"speaker_id": cast.company.user.id, "summary": "x",
                                                 "stated_confidential": True}).status_code == 403
    assert client.get(url, headers=h_out).status_code == 404
    assert client.post(url, headers=h_off, json={"speaker_id": cast.outsider.user.id, "summary": "x",
                                                 "stated_confidential": True}).status_code == 422
    made = _statement(client, cast, h_off, mid, cast.company.user.id)
    assert made["state"] == "awaiting"
    meeting = db.get(m.Meeting, mid)
    assert meeting is not None
    deadline = datetime.fromisoformat(made["designation_deadline"])
    assert deadline == meeting.starts_at + timedelta(days=rules.DEFAULT_ORAL_DESIGNATION_DAYS)
    # I11: the summary is sealed; A1: the log holds its hash, not the words
    row = db.get(m.OralStatement, made["id"])
    assert row is not None and "潜航深度".encode() not in row.summary_sealed
    assert "潜航深度" not in str(_last_audit(db, "council:statement:record"))
    listed = client.get(url, headers=h_res).json()
    assert [s["summary"] for s in listed] == ["試作機の潜航深度は 800m に達した（未発表）"]
    assert listed[0]["may_designate"] is True  # the chair and secretariat may file it, as may the speaker
    # another member (not the speaker, not the secretariat) cannot designate: refused and audited
    designate = f"/api/v1/councils/{cast.council.id}/statements/{made['id']}/designation"
    bystander = cast.extra["bystander"]
    (h_by,) = _h(db, clock, bystander)
    assert client.post(designate, headers=h_by, json={"text": "指定します"}).status_code == 403
    assert _last_audit(db, "council:statement:refused")["statement_id"] == made["id"]
    done = client.post(designate, headers=h_com, json={"text": "第2回会合での潜航深度の発言を秘密として指定する"})
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "designated" and done.json()["designation"].startswith("第2回会合")
    assert client.post(designate, headers=h_off, json={"text": "再度"}).status_code == 409
    clock.advance(days=60)
    (h_res,) = _h(db, clock, cast.researcher)  # a fresh token: the first has expired
    assert client.get(url, headers=h_res).json()[0]["state"] == "designated"  # stays under the duty


def test_an_oral_statement_without_a_written_designation_falls_outside_the_duty(
        client: TestClient, db: Session, cast: Cast, clock: FakeClock) -> None:
    h_off, h_com = _h(db, clock, cast.officer, cast.company)
    # the bylaws set the period: 10 days in this council, amended by unanimous vote (it bounds the duty, so the
    # members sign again, C3)
    with pytest.raises(ValidationFailed):
        articles.parameters({"oral_designation_days": 0})
    bystander = cast.extra["bystander"]
    amend(db, clock, cast, article_inputs(db, cast), summary="口頭指定の期間を10日に",
          parameters={"oral_designation_days": 10}, voters=(cast.researcher, cast.company, bystander))
    council = db.get(m.Council, cast.council.id)
    assert council is not None and council.bylaws_version == 2
    for person in (cast.officer, cast.researcher, cast.company, bystander):
        service.sign_pledge(db, council_id=council.id, actor=person.principal(), now=clock.now(),
                            bylaws_version=council.bylaws_version)
    db.commit()
    got = client.get(f"/api/v1/councils/{cast.council.id}/bylaws", headers=h_off)
    assert got.status_code == 200 and got.json()[-1]["oral_designation_days"] == 10, got.text
    mid = _meeting(client, cast, h_off, clock, days_ago=1)
    said = _statement(client, cast, h_off, mid, cast.company.user.id)
    plain = _statement(client, cast, h_off, mid, cast.company.user.id, confidential=False)
    assert plain["state"] == "not_confidential" and plain["designation_deadline"] is None
    meeting = db.get(m.Meeting, mid)
    assert meeting is not None
    assert datetime.fromisoformat(said["designation_deadline"]) == meeting.starts_at + timedelta(days=10)
    clock.advance(days=9, hours=1)  # the meeting was 1 day ago: the 10 days are over
    url = f"/api/v1/councils/{cast.council.id}/meetings/{mid}/statements"
    assert [s["state"] for s in client.get(url, headers=h_com).json()] == ["outside", "not_confidential"]
    late = client.post(f"/api/v1/councils/{cast.council.id}/statements/{said['id']}/designation", headers=h_com,
                       json={"text": "遅れて指定"})
    assert late.status_code == 409 and "守秘義務の対象外" in late.json()["message"]
    assert _last_audit(db, "council:statement:refused")["statement_id"] == said["id"]
    not_secret = client.post(f"/api/v1/councils/{cast.council.id}/statements/{plain['id']}/designation",
                             headers=h_off, json={"text": "指定"})
    assert not_secret.status_code == 409


def test_reminder_before_the_designation_deadline_goes_once(client: TestClient, db: Session, cast: Cast,
                                                            clock: FakeClock, ctx: AppContext) -> None:
    (h_off,) = _h(db, clock, cast.officer)
    mid = _meeting(client, cast, h_off, clock, days_ago=1)
    said = _statement(client, cast, h_off, mid, cast.company.user.id)
    _statement(client, cast, h_off, mid, cast.researcher.user.id, confidential=False)

    def reminders(user_id: int) -> int:
        db.expire_all()
        return sum("口頭で秘として述べた事項" in n.title_ja for n in notifications.inbox(db, user_id=user_id))

    run_due(ctx)
    assert reminders(cast.company.user.id) == 0  # 29 days left: too early
    clock.advance(days=23)  # 6 days left
    run_due(ctx)
    run_due(ctx)
    assert reminders(cast.company.user.id) == 1 and reminders(cast.officer.user.id) == 1
    assert reminders(cast.researcher.user.id) == 1 and reminders(cast.extra["bystander"].user.id) == 0
    assert _last_audit(db, "council:statement:remind")["statement_id"] == said["id"]
    assert audit_count(db, "council:statement:remind") == 1  # the statement not made as confidential: none


def test_the_meeting_page_shows_statements_with_state_and_deadline(client: TestClient, db: Session, cast: Cast,
                                                                   clock: FakeClock, ctx: AppContext) -> None:
    (h_off,) = _h(db, clock, cast.officer)
    mid = _meeting(client, cast, h_off, clock, days_ago=1)
    _statement(client, cast, h_off, mid, cast.company.user.id)
    sign_in(client, db, cast.company, ctx)
    page = client.get(f"/councils/{cast.council.id}/meetings/{mid}").text
    assert 'id="statements"' in page and "潜航深度" in page
    section = page[page.index('id="statements"'):page.index('id="minutes"')]
    assert "書面による指定待ち" in section and f"/meetings/{mid}/statements/" in section, section


# ---------------------------------------------------------------------------------------------
# 3. Exclusion claims


def _claim(client: TestClient, h: dict[str, str], *, item_id: int, file: bool = True,
           ground: str = "public") -> Any:
    files = {"file": ("yoko.pdf", EVIDENCE_PDF, "application/pdf")} if file else None
    return client.post(f"{INFO}/exclusions", headers=h, files=files, data={
        "item_id": str(item_id), "ground": ground, "evidence": "2019年の学会予稿集で公開済み（添付）"})


def test_an_exclusion_is_decided_by_the_secretariat_confirmed_by_the_chair_and_is_personal(
        client: TestClient, db: Session, cast: Cast, clock: FakeClock, ctx: AppContext) -> None:
    bystander = cast.extra["bystander"]
    h_off, h_com, h_res, h_by, h_out = _h(db, clock, cast.officer, cast.company, cast.researcher, bystander,
                                          cast.outsider)
    item = _item(client, cast, h_com, confidential="true")
    # the provider cannot claim an exclusion from their own item; outsiders learn nothing
    assert _claim(client, h_com, item_id=item["id"]).status_code == 409
    assert _claim(client, h_out, item_id=item["id"]).status_code == 404
    assert client.post(f"{INFO}/exclusions", headers=h_by, data={
        "item_id": str(item["id"]), "ground": "rumour", "evidence": "x"}).status_code == 422
    made = _claim(client, h_by, item_id=item["id"])
    assert made.status_code == 201, made.text
    claim = made.json()
    assert claim["state"] == "filed" and claim["file_name"] == "yoko.pdf" and claim["claimant_id"] == bystander.user.id
    assert _claim(client, h_by, item_id=item["id"]).status_code == 409  # one open claim at a time
    # I11: evidence text and file sealed; A1: the log holds hashes only
    db.expire_all()
    row = db.get(im.ExclusionClaim, claim["id"])
    assert row is not None and row.file_blob and row.file_wrapped_key and "学会".encode() not in row.evidence_sealed
    assert "学会" not in str(_last_audit(db, "information:exclusion:file"))
    base = f"{INFO}/exclusions/{claim['id']}"
    # the chair cannot decide, the claimant cannot decide, the secretariat cannot confirm before a decision
    assert client.post(f"{base}/decision", headers=h_res, json={"decision": "accept", "reason": "r"}).status_code == 403
    assert client.post(f"{base}/decision", headers=h_by, json={"decision": "accept", "reason": "r"}).status_code == 403
    assert client.post(f"{base}/confirmation", headers=h_res, json={"confirm": True}).status_code == 409
    decided = client.post(f"{base}/decision", headers=h_off, json={"decision": "accept",
                                                                  "reason": "予稿集の該当頁で公知と確認"})
    assert decided.status_code == 200 and decided.json()["state"] == "proposed"
    assert client.post(f"{base}/confirmation", headers=h_off, json={"confirm": True}).status_code == 403
    confirmed = client.post(f"{base}/confirmation", headers=h_res, json={"confirm": True})
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "accepted"
    assert audit_count(db, "information:exclusion:refused") >= 3
    # shown to the claimant and the council, recorded with the item; personal: the item stays confidential
    listed = client.get(f"{INFO}/items/{item['id']}/exclusions", headers=h_com).json()
    assert [(c["id"], c["state"], c["claimant_id"]) for c in listed] == [(claim["id"], "accepted", bystander.user.id)]
    assert client.get(f"{INFO}/items/{item['id']}/exclusions", headers=h_out).status_code == 404
    again = client.get(f"{INFO}/items/{item['id']}", headers=h_com).json()["item"]
    assert again["state"] == "council" and again["provided_confidential"] is True
    sign_in(client, db, bystander, ctx)
    mine = client.get(f"/information/items/{item['id']}").text
    assert "あなたについては守秘義務の対象外" in mine
    sign_in(client, db, cast.company, ctx)
    theirs = client.get(f"/information/items/{item['id']}").text
    assert "あなたについては守秘義務の対象外" not in theirs and "公知" in theirs


def test_evidence_is_read_only_by_readers_of_the_item_stamped_and_audited(
        client: TestClient, db: Session, cast: Cast, clock: FakeClock, factory: Factory) -> None:
    unpledged = join(cast, db, clock, factory.person(), pledge=False)
    db.commit()
    bystander = cast.extra["bystander"]
    h_com, h_res, h_by, h_out, h_unp = _h(db, clock, cast.company, cast.researcher, bystander, cast.outsider,
                                          unpledged)
    item = _item(client, cast, h_com, confidential="true")
    claim = _claim(client, h_by, item_id=item["id"]).json()
    got = client.get(f"{INFO}/exclusions/{claim['id']}/file", headers=h_res)
    assert got.status_code == 200 and got.headers["cache-control"] == "no-store"
    assert find_marks(got.content.decode("latin-1")) or got.content != EVIDENCE_PDF  # stamped for the chair
    assert got.content != EVIDENCE_PDF
    data = _last_audit(db, "information:exclusion:download")
    assert data["claim_id"] == claim["id"] and data["distribution_id"]
    assert client.get(f"{INFO}/exclusions/{claim['id']}", headers=h_res).json()["evidence"].startswith("2019年")
    assert audit_count(db, "information:exclusion:read") >= 1
    for h in (h_out, h_unp):
        assert client.get(f"{INFO}/exclusions/{claim['id']}", headers=h).status_code == 404
        assert client.get(f"{INFO}/exclusions/{claim['id']}/file", headers=h).status_code == 404
    # a hostile file is refused at upload, before anything is stored
    before = count_rows(db, im.ExclusionClaim)
    bad = client.post(f"{INFO}/exclusions", headers=h_res, data={
        "item_id": str(item["id"]), "ground": "prior", "evidence": "既知"},
        files={"file": ("run.exe", b"MZ\x90\x00" * 10, "application/octet-stream")})
    assert bad.status_code == 422
    assert count_rows(db, im.ExclusionClaim) == before
    text = strip_invisible(client.get(f"{INFO}/exclusions/{claim['id']}", headers=h_com).text)
    assert "学会予稿集" in text


def test_claims_on_oral_statements_and_withdrawal(client: TestClient, db: Session, cast: Cast,
                                                  clock: FakeClock) -> None:
    bystander = cast.extra["bystander"]
    h_off, h_com, h_res, h_by = _h(db, clock, cast.officer, cast.company, cast.researcher, bystander)
    mid = _meeting(client, cast, h_off, clock, days_ago=1)
    said = _statement(client, cast, h_off, mid, cast.company.user.id)
    plain = _statement(client, cast, h_off, mid, cast.company.user.id, confidential=False)
    data = {"council_id": str(cast.council.id), "ground": "independent", "evidence": "自社で2020年に独自に開発"}
    assert client.post(f"{INFO}/exclusions", headers=h_com,
                       data={**data, "statement_id": str(said["id"])}).status_code == 409  # the speaker
    assert client.post(f"{INFO}/exclusions", headers=h_by,
                       data={**data, "statement_id": str(plain["id"])}).status_code == 409  # outside the duty
    assert client.post(f"{INFO}/exclusions", headers=h_by, data=data).status_code == 422  # no target
    made = client.post(f"{INFO}/exclusions", headers=h_by, data={**data, "statement_id": str(said["id"])})
    assert made.status_code == 201, made.text
    claim = made.json()
    listed = client.get(f"{INFO}/councils/{cast.council.id}/statements/{said['id']}/exclusions", headers=h_res)
    assert [c["ground"] for c in listed.json()] == ["independent"]
    assert client.post(f"{INFO}/exclusions/{claim['id']}/withdraw", headers=h_off).status_code == 403
    gone = client.post(f"{INFO}/exclusions/{claim['id']}/withdraw", headers=h_by)
    assert gone.status_code == 200 and gone.json()["state"] == "withdrawn"
    assert client.post(f"{INFO}/exclusions/{claim['id']}/decision", headers=h_off,
                       json={"decision": "reject", "reason": "r"}).status_code == 409


# ---------------------------------------------------------------------------------------------
# 4. A model of statements and claims (services, hypothesis): whatever the order of steps, who may designate,
#    claim, decide and confirm, and every stored state, are what the rules say


def test_statements_and_claims_follow_the_model(db: Session, factory: Factory, clock: FakeClock) -> None:
    from hypothesis import HealthCheck, settings
    from hypothesis import strategies as st
    from hypothesis.stateful import (
        RuleBasedStateMachine,
        initialize,
        invariant,
        precondition,
        rule,
        run_state_machine_as_test,
    )

    from banso.accounts import service as accounts
    from banso.authz.principal import AuthMethod, Principal
    from banso.councils import repository as council_repo
    from banso.councils import service as council_service
    from banso.councils import statements
    from banso.information import exclusions
    from banso.information import repository as info_repo
    from banso.information.deps import InformationDeps
    from banso.kit.errors import BansoError
    from banso.sealed import store as sealed
    from banso.sealed.crypto import FakeKeyStore
    from banso.sealed.files import FakeFileStore
    from tests.support.information import provide_item

    cast = active_council(factory, db, clock, bystander=True)
    people = {"officer": cast.officer, "chair": cast.researcher, "company": cast.company,
              "bystander": cast.extra["bystander"]}
    deps = InformationDeps(store=FakeFileStore(), keys=FakeKeyStore(), fingerprint_key=b"k" * 32)
    item = provide_item(db, deps, cast, clock, confidential=True)  # the company's, marked at provision
    meeting = council_service.schedule_meeting(db, council_id=cast.council.id, actor=cast.officer.principal(),
                                               now=clock.now(), title="第3回会合", held=True,
                                               starts_at=clock.now() - timedelta(days=1))
    db.flush()
    start, names = clock.now(), tuple(people)

    class Secrecy(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.savepoint = db.begin_nested()
            self.clock = FakeClock(start)
            self.store = sealed.fake_deps()
            self.mfa = dict.fromkeys(names, True)
            self.said: dict[int, list[Any]] = {}  # id -> [speaker, confidential, deadline, designated]
            self.claims: dict[int, list[Any]] = {}  # id -> [claimant, target, state, decider]

        def teardown(self) -> None:
            self.savepoint.rollback()

        def who(self, name: str) -> Principal:
            return accounts.principal_for(people[name].user, method=AuthMethod.SESSION, mfa=self.mfa[name])

        def attempt(self, fn: Any, ok: bool, **kwargs: Any) -> Any:
            try:
                with db.begin_nested():
                    got = fn(db, now=self.clock.now(), **kwargs)
            except BansoError as exc:
                assert not ok, f"{fn.__name__} refused unexpectedly: {exc.message}"
                return None
            assert ok, f"{fn.__name__} succeeded but the model expected a refusal"
            return got

        def state(self, sid: int) -> str:
            _speaker, confidential, deadline, designated = self.said[sid]
            if not confidential:
                return "not_confidential"
            if designated:
                return "designated"
            return "awaiting" if self.clock.now() < deadline else "outside"

        def live(self, name: str, target: tuple[str, int]) -> bool:
            return any(c[0] == name and c[1] == target and c[2] in ("filed", "proposed", "accepted")
                       for c in self.claims.values())

        @initialize(decided=st.booleans(), accept=st.booleans())
        def first_claim(self, decided: bool, accept: bool) -> None:
            """Every example starts with a claim on the item (in half of them already decided by the secretariat),
            so deciding and confirming are reached."""
            view = self.attempt(exclusions.file_claim, True, actor=self.who("bystander"), ground="public",
                                evidence="公知", store=self.store, item_id=item.id)
            self.claims[view.claim.id] = ["bystander", ("item", item.id), "filed", None]
            if decided:
                self.decide("officer", accept, None, claim_id=view.claim.id)

        @precondition(lambda self: len(self.said) < 3)  # a few statements; the steps go to what follows
        @rule(speaker=st.sampled_from(("company", "bystander", "chair")), confidential=st.booleans())
        def say(self, speaker: str, confidential: bool) -> None:
            row = self.attempt(statements.record_statement, self.mfa["officer"], council_id=cast.council.id,
                               meeting_id=meeting.id, actor=self.who("officer"), speaker_id=people[speaker].user.id,
                               summary="発言", stated_confidential=confidential, store=self.store)
            if row is not None:
                deadline = meeting.starts_at + timedelta(days=rules.DEFAULT_ORAL_DESIGNATION_DAYS)
                self.said[row.id] = [speaker, confidential, deadline, False]

        @precondition(lambda self: bool(self.said))
        @rule(name=st.sampled_from(names), data=st.data())
        def designate(self, name: str, data: st.DataObject) -> None:
            sid = data.draw(st.sampled_from(sorted(self.said)))
            ok = (self.mfa[name] and name in (self.said[sid][0], "officer", "chair")
                  and self.state(sid) == "awaiting")
            if self.attempt(statements.designate_statement, ok, council_id=cast.council.id, statement_id=sid,
                            actor=self.who(name), text="書面", store=self.store) is not None:
                self.said[sid][3] = True

        @rule(name=st.sampled_from(names), data=st.data())
        def claim(self, name: str, data: st.DataObject) -> None:
            targets = [("item", item.id), *(("statement", s) for s in sorted(self.said))]
            kind, tid = data.draw(st.sampled_from(targets))
            owner = "company" if kind == "item" else self.said[tid][0]
            under = kind == "item" or self.state(tid) in ("awaiting", "designated")
            ok = self.mfa[name] and name != owner and under and not self.live(name, (kind, tid))
            where = {"item_id": tid} if kind == "item" else {"council_id": cast.council.id, "statement_id": tid}
            view = self.attempt(exclusions.file_claim, ok, actor=self.who(name), ground="prior", evidence="既知",
                                store=self.store, **where)
            if view is not None:
                self.claims[view.claim.id] = [name, (kind, tid), "filed", None]

        @precondition(lambda self: bool(self.claims))
        @rule(name=st.sampled_from(("officer", "officer", *names)), accept=st.booleans(), data=st.data())
        def decide(self, name: str, accept: bool, data: st.DataObject | None, claim_id: int | None = None) -> None:
            cid = claim_id if data is None else data.draw(st.sampled_from(sorted(self.claims)))
            assert cid is not None
            claimant, _target, state, _ = self.claims[cid]
            ok = self.mfa[name] and name == "officer" and claimant != "officer" and state == "filed"
            if self.attempt(exclusions.decide_claim, ok, claim_id=cid, actor=self.who(name),
                            decision="accept" if accept else "reject", reason="理由", store=self.store):
                self.claims[cid][2:] = ["proposed", "accept" if accept else "reject"]

        @precondition(lambda self: bool(self.claims))
        @rule(name=st.sampled_from(("chair", "chair", *names)), confirm=st.booleans(), data=st.data())
        def confirm(self, name: str, confirm: bool, data: st.DataObject) -> None:
            cid = data.draw(st.sampled_from(sorted(self.claims)))
            claimant, _target, state, decision = self.claims[cid]
            ok = self.mfa[name] and name == "chair" and claimant != "chair" and state == "proposed"
            if self.attempt(exclusions.confirm_claim, ok, claim_id=cid, actor=self.who(name), confirm=confirm,
                            store=self.store):
                self.claims[cid][2:] = ([("accepted" if decision == "accept" else "rejected"), decision] if confirm
                                        else ["filed", None])

        @precondition(lambda self: bool(self.claims))
        @rule(name=st.sampled_from(names), data=st.data())
        def withdraw(self, name: str, data: st.DataObject) -> None:
            cid = data.draw(st.sampled_from(sorted(self.claims)))
            claimant, _target, state, _ = self.claims[cid]
            ok = self.mfa[name] and name == claimant and state in ("filed", "proposed")
            if self.attempt(exclusions.withdraw_claim, ok, claim_id=cid, actor=self.who(name), store=self.store):
                self.claims[cid][2] = "withdrawn"

        @rule(days=st.integers(1, 12))
        def advance(self, days: int) -> None:
            self.clock.advance(days=days)

        @rule(name=st.sampled_from(names))
        def toggle_second_factor(self, name: str) -> None:
            self.mfa[name] = not self.mfa[name]  # I7: no second factor, no content: every step refused

        @invariant()
        def stored_states_match(self) -> None:
            for sid in self.said:
                row = council_repo.statement(db, cast.council.id, sid)
                assert row is not None
                got = rules.statement_state(stated_confidential=row.stated_confidential,
                                            designated_at=row.designated_at, deadline=row.designation_deadline,
                                            now=self.clock.now()).value
                assert got == self.state(sid), (sid, self.said[sid])
            for cid, (claimant, _target, state, _) in self.claims.items():
                found = info_repo.claim_by_id(db, cid)
                assert found is not None and found.state == state and found.claimant_id == people[claimant].user.id
            # personal: the accepted exclusions on the item are exactly the model's, each for its claimant only
            for name in names:
                mine = exclusions.excluded_for(db, user_id=people[name].user.id, item_id=item.id)
                expected = [c for c, v in self.claims.items() if v[0] == name and v[1] == ("item", item.id)
                            and v[2] == "accepted"]
                assert (mine.id if mine else None) == (expected[0] if expected else None), (name, self.claims)

    run_state_machine_as_test(Secrecy, settings=settings(
        max_examples=40, stateful_step_count=20, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))


def test_statements_and_claims_through_the_page_forms(client: TestClient, db: Session, cast: Cast,
                                                      clock: FakeClock, ctx: AppContext) -> None:
    from tests.support.http import csrf_of

    h_off, h_com = _h(db, clock, cast.officer, cast.company)
    mid = _meeting(client, cast, h_off, clock, days_ago=1)
    item = _item(client, cast, h_com, confidential="true")
    page_url = f"/councils/{cast.council.id}/meetings/{mid}"
    sign_in(client, db, cast.officer, ctx)
    page = client.get(page_url).text
    assert 'id="statement-form"' in page  # the secretariat records statements
    bad = client.post(f"{page_url}/statements", data={"csrf_token": csrf_of(page), "speaker_id": "",
                                                      "summary": "x"})
    assert bad.status_code == 422 and "発言者を選んでください" in bad.text
    done = client.post(f"{page_url}/statements", data={
        "csrf_token": csrf_of(page), "speaker_id": str(cast.company.user.id), "summary": "口頭で述べた試験結果",
        "stated_confidential": "yes"}, follow_redirects=False)
    assert done.status_code in (302, 303), done.text[:300]
    db.expire_all()
    row = db.scalars(select(m.OralStatement).where(m.OralStatement.meeting_id == mid)).one()
    assert row.stated_confidential and row.designation_deadline is not None
    sign_in(client, db, cast.company, ctx)
    page = client.get(page_url).text
    assert 'id="statement-form"' not in page  # a member does not record statements
    designated = client.post(f"{page_url}/statements/{row.id}/designation", data={
        "csrf_token": csrf_of(page), "text": "書面により秘密として指定する"}, follow_redirects=False)
    assert designated.status_code in (302, 303), designated.text[:300]
    assert "書面により指定済み" in client.get(page_url).text
    # the item page: the bystander claims an exclusion with a file; the provider sees no claim form
    assert 'id="claim-form"' not in client.get(f"/information/items/{item['id']}").text
    sign_in(client, db, cast.extra["bystander"], ctx)
    item_page = client.get(f"/information/items/{item['id']}").text
    assert 'id="claim-form"' in item_page
    filed = client.post(f"/information/items/{item['id']}/exclusions", data={
        "csrf_token": csrf_of(item_page), "ground": "third_party", "evidence": "取引先から適法に受領（契約書あり）"},
        files={"file": ("contract.pdf", EVIDENCE_PDF, "application/pdf")}, follow_redirects=False)
    assert filed.status_code in (302, 303), filed.text[:300]
    shown = client.get(f"/information/items/{item['id']}").text
    assert "取引先から適法に受領" in shown and "第三者から適法に取得" in shown and 'id="claim-form"' not in shown
    claim = db.scalars(select(im.ExclusionClaim)).one()
    assert f"/information/exclusions/{claim.id}/file" in shown and "contract.pdf" in shown
    # the secretariat decides on the page, the chair confirms there
    sign_in(client, db, cast.officer, ctx)
    officer_page = client.get(f"/information/items/{item['id']}").text
    assert client.post(f"/information/exclusions/{claim.id}/decision", data={
        "csrf_token": csrf_of(officer_page), "decision": "reject", "reason": "受領時期が提供後"},
        follow_redirects=False).status_code in (302, 303)
    sign_in(client, db, cast.researcher, ctx)
    chair_page = client.get(f"/information/items/{item['id']}").text
    assert client.post(f"/information/exclusions/{claim.id}/confirmation", data={
        "csrf_token": csrf_of(chair_page), "confirm": "yes"}, follow_redirects=False).status_code in (302, 303)
    db.expire_all()
    assert db.get(im.ExclusionClaim, claim.id).state == "rejected"  # type: ignore[union-attr]
    assert "認めない" in client.get(f"/information/items/{item['id']}").text
