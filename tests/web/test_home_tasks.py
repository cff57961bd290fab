"""The task-centred home (issue 14): one test per task kind, the inbox completing itself, the menu count, the API
and "a link only where its reader may follow" (I7, I12: no link that answers 404)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import service as accounts
from banso.councils import meetings
from banso.councils import service as councils
from banso.information import service as information
from banso.information.deps import information_deps
from banso.kit.clock import FakeClock
from banso.notifications.models import Notification
from banso.programme import service as programme
from banso.sealed.store import sealed_deps
from banso.web.context import AppContext
from tests.support.councils import Cast, active_council, amend, article_inputs, establish, propose
from tests.support.factories import Factory, Person
from tests.support.http import bearer, sign_in
from tests.support.information import provide_item
from tests.support.programme import build_world, submit

TASKS = "/api/v1/me/tasks"


def tasks_of(client: TestClient, db: Session, person: Person, clock: FakeClock) -> list[dict[str, Any]]:
    """Return the person's open tasks from the API (a token with a second factor)."""
    response = client.get(TASKS, headers=bearer(db, person, clock))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == len(body["items"])
    return list(body["items"])


def keys(items: list[dict[str, Any]], kind: str | None = None) -> list[str]:
    """Return the task keys, of one kind when given."""
    return [t["key"] for t in items if kind is None or t["kind"] == kind]


def notices(db: Session, person: Person, kind: str) -> list[Notification]:
    """Return the person's notifications of one kind (fresh from the database)."""
    db.expire_all()
    return list(db.scalars(select(Notification).where(Notification.recipient_id == person.user.id,
                                                      Notification.kind == kind)))


def home(client: TestClient, db: Session, person: Person, ctx: AppContext) -> str:
    """Sign in as ``person`` and return their home page."""
    client.cookies.clear()
    sign_in(client, db, person, ctx)
    page = client.get("/dashboard")
    assert page.status_code == 200
    return page.text


def links_answer(client: TestClient, db: Session, person: Person, ctx: AppContext, clock: FakeClock) -> None:
    """Every task link the person's home and API give them opens (no 403/404)."""
    items = tasks_of(client, db, person, clock)
    page = home(client, db, person, ctx)
    hrefs = set(re.findall(r'<li class="task[^"]*"[^>]*>.*?</li>', page, re.DOTALL))
    linked = {h for block in hrefs for h in re.findall(r'href="([^"]+)"', block)}
    linked |= {t["link"] for t in items if t["link"]}
    for href in sorted(linked):
        assert client.get(href).status_code == 200, href


# ---------------------------------------------------------------------------------------------
# Consent (C1)


def test_consent_task_links_the_council_and_its_notice_completes_when_consent_is_given(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = propose(factory, db, clock)
    db.commit()
    cid = cast.council.id
    items = tasks_of(client, db, cast.company, clock)
    assert keys(items) == [f"consent:{cid}"]
    assert items[0]["link"] == f"/councils/{cid}" and items[0]["council_title_ja"] == cast.council.title_ja
    page = home(client, db, cast.company, ctx)
    assert f'data-task="consent:{cid}"' in page and "協議会の設立・参加に同意する" in page
    assert re.search(r'id="nav-tasks">1<span class="visually-hidden"> 件の対応が必要なこと', page)
    [note] = notices(db, cast.company, "council.consent_requested")
    assert note.read_at is None
    links_answer(client, db, cast.company, ctx, clock)

    councils.consent(db, council_id=cid, actor=cast.company.principal(), now=clock.now(), decision="consent")
    db.commit()
    assert keys(tasks_of(client, db, cast.company, clock), "consent") == []
    [note] = notices(db, cast.company, "council.consent_requested")
    assert note.read_at is not None  # the inbox completed itself
    assert cast.outsider.user.id not in {n.recipient_id for n in notices(db, cast.outsider, "council.consent_requested")}
    assert tasks_of(client, db, cast.outsider, clock) == []


# ---------------------------------------------------------------------------------------------
# Pledges (C3), including signing again after a duty change


def test_pledge_task_asks_to_sign_then_to_sign_again_after_a_duty_change(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = establish(factory, db, clock, pledge=False, activate=False)
    db.commit()
    cid = cast.council.id
    [task] = [t for t in tasks_of(client, db, cast.company, clock) if t["kind"] == "pledge"]
    assert task["variant"] == "sign" and task["link"] == f"/councils/{cid}"
    links_answer(client, db, cast.company, ctx, clock)
    councils.sign_pledge(db, council_id=cid, actor=cast.company.principal(), now=clock.now(), bylaws_version=1)
    db.commit()
    assert keys(tasks_of(client, db, cast.company, clock), "pledge") == []

    # Issue 13: the duty article changes by unanimous vote (the researcher and the company accept).
    amend(db, clock, cast, article_inputs(db, cast, lambda key, text: text.replace(
        "盗用してはならない", "盗用し、又は目的外に利用してはならない") if key == "duty" else text), summary="守秘義務の条の改正")
    db.commit()
    [task] = [t for t in tasks_of(client, db, cast.company, clock) if t["kind"] == "pledge"]
    assert task["variant"] == "resign"
    assert "規約の改正により、守秘義務の誓約に改めて署名する" in home(client, db, cast.company, ctx)


# ---------------------------------------------------------------------------------------------
# Votes (I4): the proposal by title where the voter may see it; otherwise only the council, linked there


def _designation(db: Session, ctx: AppContext, cast: Cast, clock: FakeClock) -> int:
    item = provide_item(db, information_deps(ctx), cast, clock)
    ballot = information.propose_designation(
        db, item_id=item.id, actor=cast.company.principal(), now=clock.now(), deps=information_deps(ctx),
        designation=information.DesignationInput(reason="輸出管理上の懸念", scope_kind="named",
                                                 user_ids=[cast.researcher.user.id],
                                                 ends_at=clock.now() + timedelta(days=365),
                                                 deadline=clock.now() + timedelta(days=7)))
    db.commit()
    return ballot.id


def test_vote_task_names_the_proposal_and_its_notice_completes_when_the_vote_is_cast(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = active_council(factory, db, clock)
    ballot_id = _designation(db, ctx, cast, clock)
    [task] = [t for t in tasks_of(client, db, cast.researcher, clock) if t["kind"] == "vote"]
    assert task["key"] == f"vote:{ballot_id}" and task["variant"] == "designation"
    assert task["name"] == "AUV 航法アルゴリズム評価" and task["link"] == f"/information/ballots/{ballot_id}"
    assert "指定の提案に回答する" in home(client, db, cast.researcher, ctx)
    links_answer(client, db, cast.researcher, ctx, clock)
    [note] = notices(db, cast.researcher, "information.designation_opened")
    assert note.read_at is None

    information.vote(db, ballot_id=ballot_id, actor=cast.researcher.principal(), now=clock.now(), decision="accept")
    db.commit()
    assert keys(tasks_of(client, db, cast.researcher, clock), "vote") == []
    [note] = notices(db, cast.researcher, "information.designation_opened")
    assert note.read_at is not None


def test_a_voter_who_may_not_see_the_proposal_gets_no_title_and_a_link_to_the_council_only(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = active_council(factory, db, clock)
    ballot_id = _designation(db, ctx, cast, clock)
    cid = cast.council.id
    # Issue 13: the duty article changes by unanimous vote (the researcher and the company accept).
    amend(db, clock, cast, article_inputs(db, cast, lambda key, text: text.replace(
        "盗用してはならない", "盗用し、又は目的外に利用してはならない") if key == "duty" else text), summary="守秘義務の条の改正")
    db.commit()
    # C3: without the pledge for the duty in force the proposal page is closed (404) — so is its link; and the
    # task list shows nothing of the ballot (no id, kind or deadline: outside finding), only "re-sign the pledge".
    response = client.get(TASKS, headers=bearer(db, cast.researcher, clock))
    items = response.json()["items"]
    assert keys(items, "vote") == []
    [pledge] = [t for t in items if t["kind"] == "pledge"]
    assert (pledge["key"], pledge["variant"], pledge["due_at"], pledge["link"]) == (
        f"pledge:{cid}", "resign", None, f"/councils/{cid}")
    assert "designation" not in response.text and "ballot" not in response.text
    assert (clock.now() + timedelta(days=7)).date().isoformat() not in response.text  # the vote deadline
    [note] = notices(db, cast.researcher, "information.designation_opened")
    assert note.read_at is None  # the withheld ballot's notice stays open until it is answered
    page = home(client, db, cast.researcher, ctx)
    assert f'href="/information/ballots/{ballot_id}"' not in page and "AUV 航法アルゴリズム評価" not in page
    assert client.get(f"/information/ballots/{ballot_id}").status_code == 404
    links_answer(client, db, cast.researcher, ctx, clock)


# ---------------------------------------------------------------------------------------------
# Reviews (F3, F6)


def test_review_tasks_declare_then_score_after_the_close(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    w = build_world(db, factory, clock)
    proposal = submit(db, w, clock)
    db.commit()
    [task] = tasks_of(client, db, w.reviewer, clock)
    assert (task["key"], task["variant"], task["link"]) == (f"review:{proposal.id}", "declare", "/programme/review")
    assert tasks_of(client, db, w.reviewer_off_panel, clock) == []  # not on the panel: nothing to review
    assert tasks_of(client, db, w.lead, clock) == []
    links_answer(client, db, w.reviewer, ctx, clock)

    programme.declare_conflict(db, proposal_id=proposal.id, has_conflict=False, now=clock.now(),
                               actor=w.reviewer.principal())
    db.commit()
    assert tasks_of(client, db, w.reviewer, clock) == []  # F6: reading and scoring start at the close
    clock.set(w.call.closes_at + timedelta(days=1))
    [task] = tasks_of(client, db, w.reviewer, clock)
    assert (task["variant"], task["link"]) == ("score", f"/programme/proposals/{proposal.id}")
    assert "提案に評点を付ける" in home(client, db, w.reviewer, ctx)
    links_answer(client, db, w.reviewer, ctx, clock)
    programme.score_proposal(db, proposal_id=proposal.id, now=clock.now(), actor=w.reviewer.principal(),
                             scores={"significance": 5, "innovation": 4, "feasibility": 4, "implementation": 3})
    db.commit()
    assert tasks_of(client, db, w.reviewer, clock) == []


# ---------------------------------------------------------------------------------------------
# Minutes to confirm (C5)


def test_minutes_task_for_attendees_completes_when_confirmed(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = active_council(factory, db, clock, bystander=True)
    cid, officer = cast.council.id, cast.officer.principal()
    meeting = councils.schedule_meeting(db, council_id=cid, actor=officer, now=clock.now(), title="第1回会合",
                                        starts_at=clock.now() + timedelta(hours=1))
    councils.record_attendance(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(),
                               user_id=cast.company.user.id, status="present")
    councils.draft_minutes(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(),
                           text="議事録案", store=sealed_deps(ctx))
    clock.advance(hours=2)
    meetings.circulate_minutes(db, council_id=cid, meeting_id=meeting.id, actor=officer, now=clock.now(),
                               deadline=clock.now() + timedelta(days=5))
    db.commit()
    [task] = [t for t in tasks_of(client, db, cast.company, clock) if t["kind"] == "minutes"]
    assert (task["name"], task["link"]) == ("第1回会合", f"/councils/{cid}/meetings/{meeting.id}")
    assert keys(tasks_of(client, db, cast.extra["bystander"], clock), "minutes") == []  # did not attend
    page = home(client, db, cast.company, ctx)
    assert "議事録案を確認する" in page and 'id="due-soon"' in page
    links_answer(client, db, cast.company, ctx, clock)

    meetings.confirm_minutes(db, council_id=cid, meeting_id=meeting.id, actor=cast.company.principal(),
                             now=clock.now(), answer="confirm", store=sealed_deps(ctx))
    db.commit()
    assert keys(tasks_of(client, db, cast.company, clock), "minutes") == []
    assert all(n.read_at is not None for n in notices(db, cast.company, "council.minutes_circulated"))


# ---------------------------------------------------------------------------------------------
# Action items (C5): by due date, overdue first


def test_action_items_overdue_first_and_their_notice_completes_when_done(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = active_council(factory, db, clock)
    cid, officer = cast.council.id, cast.officer.principal()
    later = councils.create_action_item(db, council_id=cid, actor=officer, now=clock.now(), title="報告書の作成",
                                        assignee_id=cast.company.user.id, due_at=clock.now() + timedelta(days=20))
    soon = councils.create_action_item(db, council_id=cid, actor=officer, now=clock.now(), title="資料の準備",
                                       assignee_id=cast.company.user.id, due_at=clock.now() + timedelta(days=1))
    db.commit()
    clock.advance(days=2)
    items = [t for t in tasks_of(client, db, cast.company, clock) if t["kind"] == "action"]
    assert [(t["key"], t["overdue"]) for t in items] == [(f"action:{soon.id}", True), (f"action:{later.id}", False)]
    page = home(client, db, cast.company, ctx)
    assert "期限超過" in page and page.index("資料の準備") < page.index("報告書の作成")
    links_answer(client, db, cast.company, ctx, clock)

    councils.complete_action_item(db, council_id=cid, item_id=soon.id, actor=cast.company.principal(),
                                  now=clock.now())
    db.commit()
    assert keys(tasks_of(client, db, cast.company, clock), "action") == [f"action:{later.id}"]
    by_subject = {n.subject: n.read_at for n in notices(db, cast.company, "council.action_item_assigned")}
    assert by_subject[f"council:{cid}:action:{soon.id}"] is not None
    assert by_subject[f"council:{cid}:action:{later.id}"] is None  # still open: still unread


# ---------------------------------------------------------------------------------------------
# Material requests (C6)


def test_material_request_task_for_the_addressee_completes_when_answered(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = establish(factory, db, clock)
    cid, officer = cast.council.id, cast.officer.principal()
    analyst = factory.person(roles=("analyst",), org=factory.org(kind="think_tank"))
    councils.invite(db, council_id=cid, actor=officer, now=clock.now(), user_id=analyst.user.id, role="observer",
                    deadline=clock.now() + timedelta(days=7))
    councils.consent(db, council_id=cid, actor=analyst.principal(), now=clock.now(), decision="consent")
    councils.sign_pledge(db, council_id=cid, actor=analyst.principal(), now=clock.now(), bylaws_version=1)
    req = councils.create_request(db, council_id=cid, actor=officer, now=clock.now(), title="諸外国の研究開発動向",
                                  body="主要国の論文動向", matter="useful_information", addressee_kind="think_tank",
                                  addressee_id=analyst.user.id, due_at=clock.now() + timedelta(days=10))
    db.commit()
    [task] = tasks_of(client, db, analyst, clock)
    assert (task["key"], task["link"]) == (f"request:{req.id}", f"/councils/{cid}/requests/{req.id}")
    assert "資料提供の求めに回答する" in home(client, db, analyst, ctx)
    links_answer(client, db, analyst, ctx, clock)

    councils.answer_request(db, council_id=cid, request_id=req.id, actor=analyst.principal(), now=clock.now(),
                            text="別添のとおり", store=sealed_deps(ctx))
    db.commit()
    assert tasks_of(client, db, analyst, clock) == []
    assert all(n.read_at is not None for n in notices(db, analyst, "council.material_requested"))


# ---------------------------------------------------------------------------------------------
# The inbox page completes notices too; the API needs the dashboard scope; the home shows no account details


def test_opening_the_inbox_marks_done_task_notices_read(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = propose(factory, db, clock)
    db.commit()
    sign_in(client, db, cast.company, ctx)
    assert re.search(r'id="nav-unread">1<', client.get("/inbox").text)
    councils.consent(db, council_id=cast.council.id, actor=cast.company.principal(), now=clock.now(),
                     decision="consent")
    db.commit()
    page = client.get("/inbox").text
    assert 'id="nav-unread"' not in page
    [note] = notices(db, cast.company, "council.consent_requested")
    assert note.read_at is not None


def test_tasks_api_needs_the_dashboard_scope(client: TestClient, db: Session, factory: Factory,
                                             clock: FakeClock) -> None:
    person = factory.person()
    db.commit()
    narrow = bearer(db, person, clock, scopes=["councils:council:participate"])
    assert client.get(TASKS, headers=narrow).status_code == 403
    assert client.get(TASKS).status_code == 401


def test_home_moves_account_details_and_tokens_to_the_account_page(
        client: TestClient, db: Session, factory: Factory, ctx: AppContext) -> None:
    person = factory.person()
    db.commit()
    page = home(client, db, person, ctx)
    assert person.email not in page and "/account/tokens" not in page and "Root hash" not in page
    assert 'href="/account"' in page
    account = client.get("/account")
    assert account.status_code == 200
    assert person.email in account.text and 'href="/account/tokens"' in account.text
    assert client.get("/account/tokens").status_code == 200  # the old address keeps working


# ---------------------------------------------------------------------------------------------
# Consent shows the bylaws and asks "I have read the bylaws and I agree" (issue 14, C1)


def test_consent_page_shows_the_bylaws_and_needs_the_read_and_agree_box(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = propose(factory, db, clock)
    db.commit()
    cid = cast.council.id
    bylaws = councils.get_bylaws(db, council_id=cid, version=1, actor=cast.company.principal()).text
    csrf = sign_in(client, db, cast.company, ctx)
    page = client.get(f"/councils/{cid}").text
    assert '<details class="disclosure consent-bylaws" open>' in page and "第62条第7項" in page
    assert 'id="consent-read-bylaws" required' in page and "規約を読み、同意します" in page
    assert bylaws.splitlines()[0].lstrip("# ") in page  # the current text, its title first
    refused = client.post(f"/councils/{cid}/consent", data={"csrf_token": csrf, "decision": "consent"})
    assert refused.status_code == 422 and "規約を読み、同意する旨のチェックを入れてください" in refused.text
    assert keys(tasks_of(client, db, cast.company, clock), "consent") == [f"consent:{cid}"]  # nothing changed
    done = client.post(f"/councils/{cid}/consent", data={"csrf_token": csrf, "decision": "consent",
                                                          "read_bylaws": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    # A decline needs no box (it needs a reason).
    csrf = sign_in(client, db, cast.researcher, ctx)
    assert client.post(f"/councils/{cid}/consent", data={"csrf_token": csrf, "decision": "decline",
                                                         "reason": "社内承認が得られない"},
                       follow_redirects=False).status_code == 303


def test_consent_api_needs_read_bylaws_true(client: TestClient, db: Session, factory: Factory,
                                            clock: FakeClock) -> None:
    cast = propose(factory, db, clock)
    db.commit()
    url = f"/api/v1/councils/{cast.council.id}/consent"
    headers = bearer(db, cast.company, clock)
    for body in ({"decision": "consent"}, {"decision": "consent", "read_bylaws": False}):
        refused = client.post(url, json=body, headers=headers)
        assert refused.status_code == 422 and "read_bylaws" in refused.text, refused.text
    assert keys(tasks_of(client, db, cast.company, clock), "consent") == [f"consent:{cast.council.id}"]
    ok = client.post(url, json={"decision": "consent", "read_bylaws": True}, headers=headers)
    assert ok.status_code == 200 and ok.json()["decision"] == "consented"


# ---------------------------------------------------------------------------------------------
# Bylaws votes (issue 13), results reports and evaluations after adoption (F6)


def test_bylaws_vote_task_for_each_member_until_they_answer(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    from banso.councils import bylaws
    from tests.support.councils import article_inputs

    cast = active_council(factory, db, clock)
    proposal = bylaws.propose_amendment(db, council_id=cast.council.id, actor=cast.officer.principal(),
                                        now=clock.now(), articles_in=article_inputs(db, cast), summary="会合の定足数",
                                        parameters={"minutes_confirmation_days": 10})
    db.commit()
    [task] = [t for t in tasks_of(client, db, cast.company, clock) if t["kind"] == "vote"]
    assert (task["key"], task["variant"]) == (f"bylaws:{proposal.id}", "bylaws")
    assert task["link"] == f"/councils/{cast.council.id}/bylaws/proposals/{proposal.id}"
    assert [t for t in tasks_of(client, db, cast.officer, clock) if t["kind"] == "vote"] == []  # proposing = yes
    assert "規約改正案に投票する" in home(client, db, cast.company, ctx)
    links_answer(client, db, cast.company, ctx, clock)
    bylaws.vote(db, council_id=cast.council.id, proposal_id=proposal.id, actor=cast.company.principal(),
                now=clock.now(), decision="accept")
    db.commit()
    assert [t for t in tasks_of(client, db, cast.company, clock) if t["kind"] == "vote"] == []


def test_report_and_evaluation_tasks_after_adoption(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    from banso.programme import evaluations, reporting
    from tests.support.programme import adopt, fund

    w = build_world(db, factory, clock)
    fund(db, w, clock)
    project = adopt(db, w, clock, submit(db, w, clock))
    db.commit()
    reports = keys(tasks_of(client, db, w.lead, clock), "report")
    assert len(reports) == 2  # the FY annual report and the final one
    assert keys(tasks_of(client, db, w.colleague, clock), "report") == []  # the research representative submits
    assert "年次報告を提出する" in home(client, db, w.lead, ctx)
    links_answer(client, db, w.lead, ctx, clock)
    first = int(reports[0].split(":")[1])
    reporting.submit_report(db, project_id=project.id, report_id=first, summary="実証", outputs="",
                            now=clock.now(), actor=w.lead.principal())
    evaluation = evaluations.open_evaluation(db, project_id=project.id, kind="interim",
                                             due_on=(clock.now() + timedelta(days=40)).date(),
                                             evaluator_ids=[w.reviewer.user.id], now=clock.now(),
                                             actor=w.staff.principal())
    db.commit()
    assert len(keys(tasks_of(client, db, w.lead, clock), "report")) == 1
    [task] = [t for t in tasks_of(client, db, w.reviewer, clock) if t["kind"] == "evaluation"]
    assert (task["key"], task["variant"]) == (f"evaluation:{evaluation.id}", "declare")
    links_answer(client, db, w.reviewer, ctx, clock)
    evaluations.declare_conflict(db, evaluation_id=evaluation.id, has_conflict=False, reason="", now=clock.now(),
                                 actor=w.reviewer.principal())
    db.commit()
    [task] = [t for t in tasks_of(client, db, w.reviewer, clock) if t["kind"] == "evaluation"]
    assert task["variant"] == "grade"
    evaluations.grade(db, evaluation_id=evaluation.id, grade_value="A", comment="良好", now=clock.now(),
                      actor=w.reviewer.principal())
    db.commit()
    assert keys(tasks_of(client, db, w.reviewer, clock), "evaluation") == []
    assert notices(db, w.reviewer, "programme.evaluation_assigned")  # the notice that asked for it


def test_a_ballot_withheld_for_want_of_a_second_factor_shows_no_id_or_deadline(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = active_council(factory, db, clock)
    ballot_id = _designation(db, ctx, cast, clock)
    issued = accounts.issue_token(db, user=cast.researcher.user, name="no-2fa", scopes=None, expires_in_days=30,
                                  now=clock.now(), actor=None, second_factor=False)
    db.commit()
    response = client.get(TASKS, headers={"Authorization": f"Bearer {issued.raw}"})
    assert response.status_code == 200
    votes = [t for t in response.json()["items"] if t["kind"] == "vote"]
    cid = cast.council.id
    assert [(t["key"], t["variant"], t["name"], t["due_at"], t["link"]) for t in votes] == [
        (f"vote:council:{cid}", "withheld", None, None, f"/councils/{cid}")]
    assert f"vote:{ballot_id}" not in response.text and "designation" not in response.text
