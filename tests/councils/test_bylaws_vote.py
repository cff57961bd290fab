"""Bylaws by agreement (issue 13; DESIGN C3, I4): structured articles, amendment by unanimous vote with a
deadline and reminders, the duty change detected from the diff, the pledge citing the duty's article."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.councils import articles, bylaws, rules, service
from banso.councils.articles import ArticleInput
from banso.councils.models import BylawsProposal
from banso.kit.clock import FakeClock
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.notifications.models import Notification
from banso.web.context import AppContext
from tests.support.councils import Cast, active_council, amend, article_inputs, establish, join, propose
from tests.support.factories import Factory, audit_count
from tests.support.http import alert_text, bearer, sign_in

STRICTER = ("盗用してはならない", "盗用し、又は目的外に利用してはならない")


def _duty_edit(key: str, text: str) -> str:
    return text.replace(*STRICTER) if key == "duty" else text


def _offer(db: Session, clock: FakeClock, cast: Cast, rows: list[ArticleInput], *,
           deadline: datetime | None = None) -> BylawsProposal:
    return bylaws.propose_amendment(db, council_id=cast.council.id, actor=cast.officer.principal(),
                                    now=clock.now(), articles_in=rows, parameters={}, summary="改正",
                                    deadline=deadline)


def _notes(db: Session, kind: str) -> list[Notification]:
    return list(db.scalars(select(Notification).where(Notification.kind == kind)))


# --- the model structure and existing texts ----------------------------------------------------


def test_model_bylaws_are_articles_with_the_duty_and_parameters_as_fields() -> None:
    model = articles.model_articles(council_title="X 協議会")
    assert [a.key for a in model] == ["purpose", "members", "matters", "duty", "designation", "publication",
                                      "meetings", "secretariat", "amendment"]
    assert [a.number for a in model] == list(range(1, 10)) and articles.duty_number(model) == 4
    text = articles.render(council_title="X 協議会", articles=model,
                           params=articles.parameters({"designation_max_years": 3}))
    assert "## 第4条（守秘義務）" in text and "3年を超えることができない" in text and "$" not in text
    assert "脱退した後も第4条の義務は存続する" in text  # ${art_duty}: the cross-reference follows the number


def test_an_old_text_is_split_at_its_headings_and_one_without_gets_the_model_duty_article() -> None:
    old = ("# X 規約\n\n## 第1条（目的）\n目的の本文\n\n## 第2条（協議事項）\n四つの事項\n\n"
           "## 第3条（守秘義務）\n秘密を漏らしてはならない。\n\n## 第4条（附則）\n施行日")
    parts = articles.parse(old)
    assert [(a.number, a.key, a.text) for a in parts] == [
        (1, "purpose", "目的の本文"), (2, "matters", "四つの事項"), (3, "duty", "秘密を漏らしてはならない。"),
        (4, "article_4", "施行日")]
    plain = articles.parse("協議会の規約。\n二行目。")
    assert [(a.number, a.key) for a in plain] == [(1, "text"), (2, "duty")] and plain[0].text == "協議会の規約。\n二行目。"
    assert "国家公務員" in plain[1].text


def test_parameters_live_in_one_table_and_refuse_what_is_out_of_bounds() -> None:
    assert articles.parameters({}) == {"designation_max_years": 5, "nondisclosure_decision_days": 30,
                                       "publication_notice_days": 30, "minutes_confirmation_days": 14,
                                       "oral_designation_days": 30, "withheld_review_months": 12}
    with pytest.raises(ValidationFailed, match="指定期間の上限"):
        articles.parameters({"designation_max_years": 6})
    with pytest.raises(ValidationFailed, match="unknown bylaws parameter"):
        articles.parameters({"indefinite": 1})


# --- amendment by unanimous vote (I4) ---------------------------------------------------------


def test_an_amendment_takes_effect_only_when_every_member_accepts(factory: Factory, db: Session,
                                                                 clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    proposal = _offer(db, clock, cast, article_inputs(db, cast, add=[ArticleInput("supplementary", "附則", "",
                                                                                   "施行日は別に定める。")]))
    assert proposal.state == "open" and not proposal.changes_duty
    assert cast.council.bylaws_version == 1  # nothing changes while the vote runs
    notes = _notes(db, "council.bylaws_vote")
    assert sorted(n.recipient_id for n in notes) == sorted([cast.researcher.user.id, cast.company.user.id])
    assert "投票のお願い" in notes[0].title_ja
    bylaws.vote(db, council_id=cid, proposal_id=proposal.id, actor=cast.researcher.principal(), now=clock.now(),
                decision="accept")
    assert proposal.state == "open" and cast.council.bylaws_version == 1
    bylaws.vote(db, council_id=cid, proposal_id=proposal.id, actor=cast.company.principal(), now=clock.now(),
                decision="accept")
    assert proposal.state == "accepted" and proposal.result_version == 2
    assert cast.council.bylaws_version == 2 and cast.council.duty_version == 1  # the duty is untouched
    enacted = service.get_bylaws(db, council_id=cid, version=2, actor=cast.company.principal())
    assert enacted.proposal_id == proposal.id and "## 第10条（附則）" in enacted.text
    assert service.can_read_content(db, council_id=cid, actor=cast.company.principal())  # pledges stay current
    assert [audit_count(db, t) for t in ("council:bylaws:propose", "council:bylaws:vote", "council:bylaws:amend")] \
        == [1, 2, 1]
    assert len(_notes(db, "council.bylaws_decided")) == 3


def test_one_objection_rejects_and_an_objection_needs_a_reason(factory: Factory, db: Session,
                                                               clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    proposal = _offer(db, clock, cast, article_inputs(db, cast, edit=_duty_edit))
    with pytest.raises(ValidationFailed, match="理由"):
        bylaws.vote(db, council_id=cid, proposal_id=proposal.id, actor=cast.company.principal(), now=clock.now(),
                    decision="object")
    bylaws.vote(db, council_id=cid, proposal_id=proposal.id, actor=cast.company.principal(), now=clock.now(),
                decision="object", reason="罰則の範囲が広すぎる")
    assert proposal.state == "rejected" and cast.council.bylaws_version == 1 and cast.council.duty_version == 1
    assert audit_count(db, "council:bylaws:reject") == 1 and audit_count(db, "council:bylaws:amend") == 0
    with pytest.raises(Conflict, match="closed"):
        bylaws.vote(db, council_id=cid, proposal_id=proposal.id, actor=cast.researcher.principal(), now=clock.now(),
                    decision="accept")
    assert audit_count(db, "council:bylaws:vote_refused") == 1


def test_a_missing_answer_at_the_deadline_rejects_after_reminders(factory: Factory, db: Session,
                                                                  clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    proposal = _offer(db, clock, cast, article_inputs(db, cast, edit=_duty_edit),
                      deadline=clock.now() + timedelta(days=10))
    bylaws.vote(db, council_id=cid, proposal_id=proposal.id, actor=cast.researcher.principal(), now=clock.now(),
                decision="accept")
    assert bylaws.run_due_bylaws(db, now=clock.advance(days=2)).reminded == 0  # not yet in a reminder window
    assert bylaws.run_due_bylaws(db, now=clock.advance(days=1, hours=1)).reminded == 1  # 7 days before
    assert bylaws.run_due_bylaws(db, now=clock.advance(hours=1)).reminded == 0  # once per window
    assert bylaws.run_due_bylaws(db, now=clock.advance(days=6)).reminded == 1  # 1 day before
    reminders = [n for n in _notes(db, "council.bylaws_vote") if n.title_ja.startswith("【再送】")]
    assert {n.recipient_id for n in reminders} == {cast.company.user.id}  # only who has not answered
    assert proposal.state == "open"
    report = bylaws.run_due_bylaws(db, now=clock.advance(days=1))
    assert report.settled == 1 and proposal.state == "rejected" and cast.council.bylaws_version == 1
    assert audit_count(db, "council:bylaws:remind") == 2


def test_voters_are_fixed_at_opening_and_refusals_are_audited(factory: Factory, db: Session,
                                                              clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    proposal = _offer(db, clock, cast, article_inputs(db, cast, edit=_duty_edit))
    newcomer = join(cast, db, clock, factory.person())

    def cast_vote(actor: Principal) -> None:
        bylaws.vote(db, council_id=cid, proposal_id=proposal.id, now=clock.now(), decision="accept", actor=actor)

    with pytest.raises(Forbidden, match="投票者ではありません"):
        cast_vote(newcomer.principal())
    with pytest.raises(Forbidden, match="二段階認証"):
        cast_vote(cast.company.principal(mfa=False))
    with pytest.raises(NotFound):
        cast_vote(cast.outsider.principal())
    with pytest.raises(ValidationFailed):
        bylaws.vote(db, council_id=cid, proposal_id=proposal.id, now=clock.now(), decision="maybe",
                    actor=cast.company.principal())
    assert audit_count(db, "council:bylaws:vote_refused") == 2
    with pytest.raises(Conflict, match="already"):
        cast_vote(cast.officer.principal())  # proposing counted as accepting
    # a voter who leaves no longer counts: the remaining acceptances carry it
    service.leave(db, council_id=cid, actor=cast.company.principal(), now=clock.now())
    cast_vote(cast.researcher.principal())
    assert proposal.state == "accepted" and cast.council.bylaws_version == 2


def test_one_open_proposal_at_a_time_withdraw_and_no_amendment_before_establishment(
        factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    first = _offer(db, clock, cast, article_inputs(db, cast, edit=_duty_edit))
    with pytest.raises(Conflict, match="投票中"):
        _offer(db, clock, cast, article_inputs(db, cast, edit=lambda k, t: t + "。" if k == "purpose" else t))
    with pytest.raises(Forbidden):
        bylaws.withdraw(db, council_id=cast.council.id, proposal_id=first.id, actor=cast.company.principal(),
                        now=clock.now())
    bylaws.withdraw(db, council_id=cast.council.id, proposal_id=first.id, actor=cast.officer.principal(),
                    now=clock.now())
    assert first.state == "withdrawn" and audit_count(db, "council:bylaws:withdraw") == 1
    assert _offer(db, clock, cast, article_inputs(db, cast, edit=_duty_edit)).state == "open"

    proposed = propose(factory, db, clock)  # C1: the founders consent to the text they were shown
    with pytest.raises(Conflict, match="設立前"):
        _offer(db, clock, proposed, article_inputs(db, proposed, edit=_duty_edit))


# --- the duty change, detected from the diff (C3) ---------------------------------------------


def test_editing_the_duty_article_forces_re_signing_with_nothing_declared(factory: Factory, db: Session,
                                                                          clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    proposal = amend(db, clock, cast, article_inputs(db, cast, edit=_duty_edit), summary="表現の整理")
    assert proposal.changes_duty and cast.council.bylaws_version == 2 and cast.council.duty_version == 2
    assert not service.can_read_content(db, council_id=cid, actor=cast.company.principal())
    assert {n.recipient_id for n in _notes(db, "council.pledge_required")} >= {cast.company.user.id}
    pledge = service.sign_pledge(db, council_id=cid, actor=cast.company.principal(), now=clock.now(),
                                 bylaws_version=2)
    assert "第4条（守秘義務）" in pledge.text and service.can_read_content(db, council_id=cid,
                                                                       actor=cast.company.principal())


@pytest.mark.parametrize("parameters, duty", [({"designation_max_years": 3}, True),
                                              ({"nondisclosure_days": 20}, False),
                                              ({"minutes_confirmation_days": 7}, False)])
def test_a_parameter_that_bounds_the_duty_forces_re_signing(parameters: dict[str, int], duty: bool,
                                                            factory: Factory, db: Session, clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    proposal = amend(db, clock, cast, article_inputs(db, cast), parameters=parameters)
    assert proposal.changes_duty is duty and cast.council.duty_version == (2 if duty else 1)
    enacted = service.get_bylaws(db, council_id=cast.council.id, version=2, actor=cast.officer.principal())
    column = next(p.column for p in articles.PARAMETERS if p.field in parameters)
    assert getattr(enacted, column) == next(iter(parameters.values()))
    if "designation_max_years" in parameters:
        assert "3年を超えることができない" in enacted.text  # the text follows the structured field


def test_moving_the_duty_article_changes_the_citation_in_the_pledge_and_its_pdf(factory: Factory, db: Session,
                                                                               clock: FakeClock) -> None:
    cast = establish(factory, db, clock)
    cid = cast.council.id
    rows = article_inputs(db, cast)
    rows.insert(1, ArticleInput("definitions", "定義", "Definitions", "この規約において「秘密」とは、…をいう。"))
    proposal = amend(db, clock, cast, rows, summary="定義規定の追加")
    assert proposal.changes_duty  # the duty now sits in another article: everyone signs what they are bound by
    assert service.duty_article_number(db, cast.council) == 5
    pledge = service.sign_pledge(db, council_id=cid, actor=cast.company.principal(), now=clock.now(),
                                 bylaws_version=2)
    assert "第5条（守秘義務）" in pledge.text and "第4条" not in pledge.text
    _, pdf = service.pledge_pdf(db, council_id=cid, pledge_id=pledge.id, actor=cast.company.principal(),
                                now=clock.now())
    text = "".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert text.count("第5条（守秘義務）") == 2 and "article5" in text  # the text and the record line


def test_the_pledge_of_a_migrated_council_keeps_citing_article_6() -> None:
    old_model = rules.render_model_bylaws(council_title="X")  # today's model: duty in article 4
    assert articles.duty_number(articles.parse(old_model)) == 4
    before_13 = "\n".join(f"## 第{n}条（{t}）\n本文" for n, t in enumerate(
        ["目的", "協議事項", "参加者", "会長及び事務局", "会合", "守秘義務", "情報の指定"], start=1))
    assert articles.duty_number(articles.parse(before_13)) == 6  # the shape every council had before issue 13


# --- API and pages ----------------------------------------------------------------------------


def test_api_proposes_votes_and_no_longer_takes_a_changes_duty_flag(client: TestClient, db: Session,
                                                                    factory: Factory, clock: FakeClock) -> None:
    cast = active_council(factory, db, clock)
    cid = cast.council.id
    h_off, h_res, h_com, h_out = (bearer(db, p, clock) for p in (cast.officer, cast.researcher, cast.company,
                                                                 cast.outsider))
    rows = client.get(f"/api/v1/councils/{cid}/bylaws/1", headers=h_off).json()["articles"]
    for row in rows:
        del row["number"]
    untouched = client.post(f"/api/v1/councils/{cid}/bylaws/proposals", headers=h_off,
                            json={"articles": rows, "summary": "x", "changes_duty": False})
    assert untouched.status_code == 422  # the self-declared flag is gone
    rows[3]["text"] = rows[3]["text"].replace(*STRICTER)
    made = client.post(f"/api/v1/councils/{cid}/bylaws/proposals", headers=h_off,
                       json={"articles": rows, "summary": "守秘義務の条", "parameters": {"nondisclosure_days": 20}})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["changes_duty"] is True and body["may_vote"] is False and body["may_withdraw"] is True
    duty = next(c for c in body["changes"] if c["key"] == "duty")
    assert duty["change"] == "changed" and ["add", next(x for k, x in duty["lines"] if k == "add")] in duty["lines"]
    assert any("目的外に利用" in line for kind, line in duty["lines"] if kind == "add")
    pid = body["id"]
    assert client.get(f"/api/v1/councils/{cid}/bylaws/proposals/{pid}", headers=h_out).status_code == 404
    assert client.get(f"/api/v1/councils/{cid}/bylaws/proposals", headers=h_com).json()[0]["may_vote"] is True
    objected = client.post(f"/api/v1/councils/{cid}/bylaws/proposals/{pid}/votes", headers=h_com,
                           json={"decision": "object"})
    assert objected.status_code == 422 and "理由" in objected.text
    for h in (h_res, h_com):
        assert client.post(f"/api/v1/councils/{cid}/bylaws/proposals/{pid}/votes", headers=h,
                           json={"decision": "accept"}).status_code == 200
    enacted = client.get(f"/api/v1/councils/{cid}/bylaws/2", headers=h_com).json()
    assert enacted["changes_duty"] is True and enacted["nondisclosure_decision_days"] == 20
    assert client.get(f"/api/v1/councils/{cid}/meetings", headers=h_com).status_code == 404  # sign again (C3)
    assert client.post(f"/api/v1/councils/{cid}/bylaws", headers=h_off, json={}).status_code == 405  # old door gone


def test_pages_propose_article_by_article_show_the_diff_and_take_the_vote(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    cast = active_council(factory, db, clock)
    cid = cast.council.id
    token = sign_in(client, db, cast.officer, ctx)
    page = client.get(f"/councils/{cid}/bylaws/1")
    assert 'id="amend-link"' in page.text and "第4条（守秘義務）" in page.text
    form = client.get(f"/councils/{cid}/bylaws/amend")
    assert form.status_code == 200 and 'name="text_3"' in form.text and "changes_duty" not in form.text
    current = bylaws.amend_form(db, council_id=cid, actor=cast.officer.principal()).articles
    data: dict[str, str] = {"csrf_token": token, "summary": "守秘義務の条の表現", "param_designation_max_years": "5"}
    for n, a in enumerate(current):
        data |= {f"key_{n}": a.key, f"title_ja_{n}": a.title_ja, f"title_en_{n}": a.title_en,
                 f"text_{n}": _duty_edit(a.key, a.text), f"order_{n}": str(n + 1)}
    n = len(current)
    data |= {f"key_{n}": "supplementary", f"title_ja_{n}": "附則", f"title_en_{n}": "", f"text_{n}": "施行日",
             f"order_{n}": str(n + 1), "remove_7": "yes"}  # add an article, remove 第8条（事務局）
    sent = client.post(f"/councils/{cid}/bylaws", data=data, follow_redirects=False)
    assert sent.status_code == 303, alert_text(sent.text)
    shown = client.get(sent.headers["location"])
    assert shown.status_code == 200 and "全ての参加者に投票を依頼しました" in shown.text
    assert 'data-key="duty" data-change="changed"' in shown.text
    assert 'data-key="supplementary" data-change="added"' in shown.text
    assert 'data-key="secretariat" data-change="removed"' in shown.text
    assert 'class="diff-line diff-add">第4条（守秘義務）' not in shown.text  # unchanged lines are not "added"
    assert "目的外に利用" in shown.text and 'id="withdraw-button"' in shown.text and 'id="accept-button"' not in shown.text
    pid = int(sent.headers["location"].split("/")[-1].split("?")[0])

    token = sign_in(client, db, cast.researcher, ctx)
    assert 'id="accept-button"' in client.get(f"/councils/{cid}/bylaws/proposals/{pid}").text
    refused = client.post(f"/councils/{cid}/bylaws/proposals/{pid}/vote",
                          data={"csrf_token": token, "decision": "object"})
    assert refused.status_code == 422 and 'id="form-error"' in refused.text
    voted = client.post(f"/councils/{cid}/bylaws/proposals/{pid}/vote",
                        data={"csrf_token": token, "decision": "accept"}, follow_redirects=False)
    assert voted.status_code == 303
    bylaws.vote(db, council_id=cid, proposal_id=pid, actor=cast.company.principal(), now=clock.now(),
                decision="accept")
    db.commit()
    council_page = client.get(f"/councils/{cid}")
    assert 'id="pledge-text"' in council_page.text and "第4条（守秘義務）" in council_page.text  # C3: sign again
    inbox = client.get("/inbox")
    assert "規約改正の投票" in inbox.text  # typed as a vote request, not a general notice


def test_proposal_pages_are_for_members_only(client: TestClient, db: Session, factory: Factory, clock: FakeClock,
                                            ctx: AppContext) -> None:
    cast = active_council(factory, db, clock)
    cid = cast.council.id
    proposal = _offer(db, clock, cast, article_inputs(db, cast, edit=_duty_edit))
    invitee = factory.person()
    service.invite(db, council_id=cid, actor=cast.officer.principal(), now=clock.now(), user_id=invitee.user.id,
                   role="member", deadline=clock.now() + timedelta(days=7))
    db.commit()
    url = f"/councils/{cid}/bylaws/proposals/{proposal.id}"
    assert client.get(url, follow_redirects=False).status_code in (302, 303, 401)
    for person in (cast.outsider, invitee):
        sign_in(client, db, person, ctx)
        assert client.get(url).status_code == 404
    token = sign_in(client, db, cast.company, ctx)
    assert client.get(url).status_code == 200
    assert client.post(f"/councils/{cid}/bylaws", data={"csrf_token": token, "summary": "x"}).status_code == 403
    assert client.get(f"/councils/{cid}/bylaws/amend").status_code == 403


def test_a_change_to_the_scope_of_secrets_is_a_duty_change(factory: Factory, db: Session, clock: FakeClock) -> None:
    """Outside finding (session 9): rewriting the designation article (what counts as secret) was not detected,
    though the duty article itself says a change to the provisions setting the scope requires signing again."""
    cast = establish(factory, db, clock)
    wider = article_inputs(db, cast, lambda key, text: text + "\n協議会で共有される全ての情報を秘密とする。"
                           if key == "designation" else text)
    assert _offer(db, clock, cast, wider).changes_duty
