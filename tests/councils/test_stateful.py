"""Model-based test of membership, consent and pledge transitions (C1, C3, I7), with a meeting recorded as held
whose minutes are circulated to its attendees, confirmed and approved (C5, issue 13).

After every step the access invariant must hold for every person:

    a person reads non-public council content  ⇔  current member
        ∧ pledge for the duty version in force ∧ second factor ∧ council established or active

and the council's public page is visible exactly to current members and people with a pending
consent; the minutes are approved only after every attendee confirmed or the deadline passed; a bylaws
amendment takes effect only when every member fixed as its voter (and still a member) accepted before the
deadline, and a change to the duty article starts a new duty version (issue 13). Oral statements
made at that meeting (issue 13) are under the duty only when designated in writing (by the speaker, the chair or
the secretariat) before the bylaws' deadline; exclusion claims on them are filed by any other reader, decided by
the secretariat and confirmed by the chair, and the stored states always match the model's. Each example builds a
fresh council inside a savepoint that is rolled back afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

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
from sqlalchemy.orm import Session

from banso.accounts import service as accounts
from banso.authz.principal import AuthMethod, Principal
from banso.councils import bylaws, meetings, rules, service, statements
from banso.councils import repository as repo
from banso.councils.articles import ArticleInput
from banso.information import exclusions
from banso.information import repository as info_repo
from banso.kit.clock import FakeClock
from banso.kit.errors import BansoError, NotFound
from banso.sealed import store as sealed
from tests.support.factories import Factory, Person

OPERATING = {"established", "active"}
POOL = ("p0", "p1", "p2", "p3")  # p0 chair and p1 member found the council; p2, p3 may be invited


@dataclass
class Model:
    """What the council should look like."""

    state: str = "proposed"
    deadline: datetime | None = None
    founding: dict[str, str] = field(default_factory=dict)  # name -> pending/consented/declined/expired
    member: dict[str, bool] = field(default_factory=dict)
    invites: dict[str, datetime] = field(default_factory=dict)  # pending join consents
    pledges: dict[str, set[int]] = field(default_factory=dict)  # duty versions signed
    mfa: dict[str, bool] = field(default_factory=dict)
    bylaws_version: int = 1
    duty_version: int = 1
    meeting_id: int | None = None  # the meeting recorded as held (C5, issue 13)
    attended: set[str] = field(default_factory=set)  # recorded present
    minutes: str = "none"  # none / draft / circulated / approved
    answers: dict[str, str] = field(default_factory=dict)  # attendee asked to confirm -> pending/confirmed/commented
    minutes_deadline: datetime | None = None
    # The open bylaws amendment (issue 13): its id, voters' answers (fixed at proposal), deadline, duty change.
    proposal_id: int | None = None
    votes: dict[str, str] = field(default_factory=dict)
    vote_deadline: datetime | None = None
    proposal_duty: bool = False
    amendments: int = 0  # proposals made, to make each text distinct

    def tally(self, now: datetime) -> str:
        """I4 as the model sees it: voters who left do not count; one objection or a missing answer rejects."""
        live = [a for n, a in self.votes.items() if n == "officer" or self.member.get(n, False)]
        if "object" in live:
            return "rejected"
        if live and all(a == "accept" for a in live):
            return "accepted"
        return "rejected" if now >= self.vote_deadline else "open"  # type: ignore[operator]
    meeting_at: datetime | None = None
    chair: str | None = "p0"  # the founding chair, until they leave (a re-invited p0 is a member)
    # oral statements (issue 13): id -> [speaker, stated confidential, deadline, designated]
    said: dict[int, list[object]] = field(default_factory=dict)
    claims: dict[int, list[str]] = field(default_factory=dict)  # claim id -> [claimant, state]
    claim_on: dict[int, int] = field(default_factory=dict)  # claim id -> statement id

    def pledged(self, name: str) -> bool:
        """A current member holding the pledge in force: may attend as present and confirm minutes (F4)."""
        return self.member.get(name, False) and self.duty_version in self.pledges.get(name, set())

    def readable(self, name: str) -> bool:
        return (self.member.get(name, False) and self.duty_version in self.pledges.get(name, set())
                and self.mfa.get(name, False) and self.state in OPERATING)

    def visible(self, name: str) -> bool:
        pending_founding = self.founding.get(name) == "pending"
        return self.member.get(name, False) or name in self.invites or pending_founding


def test_access_invariant_holds_after_every_step(db: Session, factory: Factory, clock: FakeClock) -> None:
    people: dict[str, Person] = {"officer": factory.person(roles=("officer",)), "outsider": factory.person()}
    for name in POOL:
        people[name] = factory.person()
    db.flush()
    start = clock.now()

    class CouncilMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.savepoint = db.begin_nested()
            self.clock = FakeClock(start)
            self.m = Model(mfa={n: True for n in people})
            self.m.deadline = start + timedelta(days=10)
            council = service.propose(
                db, actor=self.who("officer"), now=self.clock.now(), title_ja="状態機械 協議会", title_en="SM",
                purpose="検証", technology="検証技術", consent_deadline=self.m.deadline,
                founders=[service.FounderSpec(people["p0"].user.id, "chair"),
                          service.FounderSpec(people["p1"].user.id, "member")],
                required_person_ids=[people["p0"].user.id])
            self.cid = council.id
            self.store = sealed.fake_deps()  # minutes and comments are sealed here and opened from here
            self.m.founding = {"officer": "consented", "p0": "pending", "p1": "pending"}
            self.m.member = {"officer": True, "p0": True, "p1": True}

        def teardown(self) -> None:
            self.savepoint.rollback()
            # ids are reused after a rollback: forget this example's objects so the next starts clean
            db.expunge_all()

        # -- helpers ------------------------------------------------------------------------

        def who(self, name: str) -> Principal:
            mfa = self.m.mfa[name] if hasattr(self, "m") else True
            return accounts.principal_for(people[name].user, method=AuthMethod.SESSION, mfa=mfa)

        def attempt(self, fn, expect_ok: bool, **kwargs) -> bool:  # type: ignore[no-untyped-def]
            """Run a service call in a savepoint; its success must match the model's prediction."""
            try:
                with db.begin_nested():
                    fn(db, now=self.clock.now(), **kwargs)
            except BansoError as exc:
                assert not expect_ok, f"{fn.__name__} refused unexpectedly: {exc.message}"
                return False
            assert expect_ok, f"{fn.__name__} succeeded but the model expected a refusal"
            return True

        def _establish_or_lapse(self) -> None:
            if self.m.state != "proposed":
                return
            if "declined" in self.m.founding.values():
                self._lapse()
            elif all(v == "consented" for v in self.m.founding.values()):
                self.m.state = "established"

        def _lapse(self) -> None:
            self.m.state = "lapsed"
            for k, v in self.m.founding.items():
                if v == "pending":
                    self.m.founding[k] = "expired"

        def _officer_pledged(self) -> None:
            if self.m.state in OPERATING and self.m.duty_version not in self.m.pledges.get("officer", set()):
                self.attempt(service.sign_pledge, True, council_id=self.cid, actor=self.who("officer"),
                             bylaws_version=self.m.bylaws_version)
                self.m.pledges.setdefault("officer", set()).add(self.m.duty_version)

        # -- rules --------------------------------------------------------------------------

        @initialize(founded=st.booleans(), pledged=st.booleans(), met=st.booleans())
        def start(self, founded: bool, pledged: bool, met: bool) -> None:
            """Half the examples start from an established council, so later steps reach deep states; some of
            those from a meeting already held (so oral statements and exclusion claims are reached, issue 13)."""
            if not founded:
                return
            for name in ("p0", "p1"):
                self.answer(name, True)
            if pledged:
                for name in ("officer", "p0", "p1"):
                    self.sign(name, False)
                if met:
                    self.hold_meeting()
                    self.say("p1", True)  # a statement made as confidential: designations and claims have a target

        @rule(name=st.sampled_from(POOL), agree=st.booleans())
        def answer(self, name: str, agree: bool) -> None:
            now = self.clock.now()
            founding = self.m.founding.get(name) == "pending"
            invited = name in self.m.invites
            if founding:
                ok = now < self.m.deadline and self.m.state == "proposed"  # type: ignore[operator]
            elif invited:
                ok = now < self.m.invites[name] and self.m.state in OPERATING
            else:
                ok = False
            self.attempt(service.consent, ok, council_id=self.cid, actor=self.who(name),
                         decision="consent" if agree else "decline", reason=None if agree else "都合により")
            if not ok:
                return
            if founding:
                self.m.founding[name] = "consented" if agree else "declined"
                self._establish_or_lapse()
            else:
                del self.m.invites[name]
                if agree:
                    self.m.member[name] = True

        @rule(name=st.sampled_from(POOL))
        def invite(self, name: str) -> None:
            self._officer_pledged()
            ok = self.m.state in OPERATING and not self.m.member.get(name) and name not in self.m.invites
            deadline = self.clock.now() + timedelta(days=5)
            if self.attempt(service.invite, ok, council_id=self.cid, actor=self.who("officer"),
                            user_id=people[name].user.id, role="member", deadline=deadline):
                self.m.invites[name] = deadline

        @rule(name=st.sampled_from(POOL))
        def leave(self, name: str) -> None:
            ok = self.m.member.get(name, False)
            if self.attempt(service.leave, ok, council_id=self.cid, actor=self.who(name)):
                self.m.member[name] = False
                if self.m.chair == name:
                    self.m.chair = None

        @rule(name=st.sampled_from(POOL))
        def remove(self, name: str) -> None:
            """The secretariat removes a member with a reason (issue 13): p0, the only chair, cannot be removed."""
            self._officer_pledged()
            ok = self.m.state in OPERATING and self.m.member.get(name, False) and name != "p0"
            if self.attempt(service.remove_member, ok, council_id=self.cid, actor=self.who("officer"),
                            user_id=people[name].user.id, reason="検証のため"):
                self.m.member[name] = False  # access ends at once; the pledges stay on record (C3)

        @rule(name=st.sampled_from(POOL), stale=st.booleans())
        def sign(self, name: str, stale: bool) -> None:
            offered = self.m.bylaws_version - (1 if stale else 0)
            ok = (self.m.member.get(name, False) and self.m.mfa[name]
                  and self.m.state in {"proposed", "established", "active"}
                  and not stale and self.m.duty_version not in self.m.pledges.get(name, set()))
            if self.attempt(service.sign_pledge, ok, council_id=self.cid, actor=self.who(name),
                            bylaws_version=offered):
                self.m.pledges.setdefault(name, set()).add(self.m.duty_version)

        # -- bylaws by vote (issue 13) ---------------------------------------------------------------

        def _settle_model(self) -> None:
            outcome = self.m.tally(self.clock.now())
            if outcome == "open":
                return
            if outcome == "accepted":
                self.m.bylaws_version += 1
                if self.m.proposal_duty:
                    self.m.duty_version = self.m.bylaws_version
            self.m.proposal_id = None
            self.m.votes = {}

        @precondition(lambda self: self.m.state in OPERATING)  # refusals before establishment: test_bylaws_vote
        @rule(touch_duty=st.booleans())
        def propose_amendment(self, touch_duty: bool) -> None:
            ok = self.m.state in OPERATING and self.m.proposal_id is None
            self.m.amendments += 1
            mark = f"（改正案{self.m.amendments}）"
            try:
                start = bylaws.amend_form(db, council_id=self.cid, actor=self.who("officer"))
            except BansoError:
                assert not ok
                return
            rows = [ArticleInput(a.key, a.title_ja, a.title_en,
                                 a.text + mark if a.key == ("duty" if touch_duty else "purpose") else a.text)
                    for a in start.articles]
            made: list[int] = []

            def offer(session: Session, *, now: datetime) -> None:
                made.append(bylaws.propose_amendment(session, council_id=self.cid, actor=self.who("officer"),
                                                     now=now, articles_in=rows, parameters={},
                                                     summary=f"改正{mark}").id)

            if self.attempt(offer, ok):
                self.m.proposal_id = made[0]
                self.m.proposal_duty = touch_duty
                self.m.vote_deadline = self.clock.now() + timedelta(days=bylaws.DEFAULT_VOTE_DAYS)
                self.m.votes = {n: "pending" for n in ("officer", *POOL) if n == "officer" or self.m.member.get(n)}
                self.m.votes["officer"] = "accept"
                self._settle_model()

        @precondition(lambda self: self.m.proposal_id is not None)
        @rule()
        def everyone_accepts(self) -> None:
            """Every pending voter answers yes in turn (so acceptance, and a duty change, is reached often)."""
            for name in POOL:
                if self.m.proposal_id is not None and self.m.votes.get(name) == "pending":
                    self.vote_on_amendment(name, True)

        @precondition(lambda self: self.m.proposal_id is not None)
        @rule(name=st.sampled_from(POOL), accept=st.booleans())
        def vote_on_amendment(self, name: str, accept: bool) -> None:
            ok = (self.m.votes.get(name) == "pending" and self.m.member.get(name, False) and self.m.mfa[name]
                  and self.m.state in OPERATING and self.clock.now() < self.m.vote_deadline)  # type: ignore[operator]
            if self.attempt(bylaws.vote, ok, council_id=self.cid, proposal_id=self.m.proposal_id,
                            actor=self.who(name), decision="accept" if accept else "object",
                            reason=None if accept else "反対"):
                self.m.votes[name] = "accept" if accept else "object"
                self._settle_model()

        @rule()
        def activate(self) -> None:
            if self.attempt(service.activate, self.m.state == "established", council_id=self.cid,
                            actor=self.who("officer")):
                self.m.state = "active"

        @precondition(lambda self: self.m.state in OPERATING)
        @rule(data=st.data())
        def dissolve(self, data: st.DataObject) -> None:
            if data.draw(st.integers(0, 3)) == 0:  # rarely: it ends the interesting part
                self.attempt(service.dissolve, True, council_id=self.cid, actor=self.who("officer"), reason="終了")
                self.m.state = "dissolved"

        @rule(name=st.sampled_from(POOL))
        def toggle_second_factor(self, name: str) -> None:
            self.m.mfa[name] = not self.m.mfa[name]

        @rule(days=st.integers(1, 6))
        def advance_clock_and_run_job(self, days: int) -> None:
            now = self.clock.advance(days=days)
            with db.begin_nested():
                service.run_due_councils(db, now=now)
            if self.m.state == "proposed" and now >= self.m.deadline:  # type: ignore[operator]
                self._lapse()
            for name, deadline in list(self.m.invites.items()):
                if now >= deadline:
                    del self.m.invites[name]
            with db.begin_nested():
                bylaws.run_due_bylaws(db, now=now)
            if self.m.proposal_id is not None:
                if self.m.state not in OPERATING:  # withdrawn with the council
                    self.m.proposal_id, self.m.votes = None, {}
                else:
                    self._settle_model()

        # -- meetings as held (C5, issue 13) -----------------------------------------------------

        @precondition(lambda self: self.m.meeting_id is None)
        @rule()
        def hold_meeting(self) -> None:
            """Record a meeting held yesterday, every pledged member present and the others as observers (F4), and
            draft minutes."""
            self._officer_pledged()
            present = sorted(n for n, is_member in self.m.member.items() if is_member and self.m.pledged(n))
            observers = sorted(n for n, is_member in self.m.member.items() if is_member and not self.m.pledged(n))
            found: list[int] = []

            def hold(session: Session, *, now: datetime) -> None:
                meeting = service.schedule_meeting(session, council_id=self.cid, actor=self.who("officer"), now=now,
                                                   title="第1回会合", starts_at=now - timedelta(days=1), held=True)
                meetings.record_attendance_sheet(
                    session, council_id=self.cid, meeting_id=meeting.id, actor=self.who("officer"), now=now,
                    entries=[*(meetings.AttendanceEntry(people[n].user.id, "present") for n in present),
                             *(meetings.AttendanceEntry(people[n].user.id, "observer") for n in observers)])
                service.draft_minutes(session, council_id=self.cid, meeting_id=meeting.id, actor=self.who("officer"),
                                      now=now, text="議事録案", store=self.store)
                found.append(meeting.id)

            if self.attempt(hold, self.m.readable("officer")):
                self.m.meeting_id, self.m.attended, self.m.minutes = found[0], set(present), "draft"
                self.m.meeting_at = self.clock.now() - timedelta(days=1)

        # -- oral statements and exclusion claims (issue 13) ---------------------------------------

        def _state(self, sid: int) -> str:
            _speaker, confidential, deadline, designated = self.m.said[sid]
            return rules.statement_state(stated_confidential=bool(confidential),
                                         designated_at=self.clock.now() if designated else None,
                                         deadline=deadline, now=self.clock.now()).value  # type: ignore[arg-type]

        @precondition(lambda self: self.m.meeting_id is not None)
        @rule(speaker=st.sampled_from(("officer", *POOL)), confidential=st.booleans())
        def say(self, speaker: str, confidential: bool) -> None:
            ok = self.m.readable("officer") and self.m.member.get(speaker, False)
            found: list[int] = []

            def record(session: Session, *, now: datetime) -> None:
                found.append(statements.record_statement(
                    session, council_id=self.cid, meeting_id=self.m.meeting_id, actor=self.who("officer"), now=now,
                    speaker_id=people[speaker].user.id, summary="口頭の発言", stated_confidential=confidential,
                    store=self.store).id)

            if self.attempt(record, ok):
                assert self.m.meeting_at is not None
                deadline = self.m.meeting_at + timedelta(days=30) if confidential else None  # the bylaws' default
                self.m.said[found[0]] = [speaker, confidential, deadline, False]

        @precondition(lambda self: bool(self.m.said))
        @rule(name=st.sampled_from(("officer", *POOL)), data=st.data())
        def designate(self, name: str, data: st.DataObject) -> None:
            sid = data.draw(st.sampled_from(sorted(self.m.said)))
            speaker = self.m.said[sid][0]
            ok = (self.m.readable(name) and name in {speaker, "officer", self.m.chair}
                  and self._state(sid) == "awaiting")
            if self.attempt(statements.designate_statement, ok, council_id=self.cid, statement_id=sid,
                            actor=self.who(name), text="書面で指定する", store=self.store):
                self.m.said[sid][3] = True

        def _claimable(self, name: str, sid: int) -> bool:
            live = {c for c, (who, state) in self.m.claims.items() if who == name and self.m.claim_on[c] == sid
                    and state in ("filed", "proposed", "accepted")}
            return (self.m.readable(name) and name != self.m.said[sid][0]
                    and self._state(sid) in ("awaiting", "designated") and not live)

        @precondition(lambda self: bool(self.m.said))
        @rule(name=st.sampled_from(("officer", *POOL)), data=st.data())
        def claim(self, name: str, data: st.DataObject) -> None:
            sid = data.draw(st.sampled_from(sorted(self.m.said)))
            found: list[int] = []

            def file(session: Session, *, now: datetime) -> None:
                found.append(exclusions.file_claim(session, actor=self.who(name), now=now, ground="prior",
                                                   evidence="提供前から保有", store=self.store, council_id=self.cid,
                                                   statement_id=sid).claim.id)

            if self.attempt(file, self._claimable(name, sid)):
                self.m.claims[found[0]] = [name, "filed"]
                self.m.claim_on[found[0]] = sid

        @precondition(lambda self: bool(self.m.claims))
        @rule(data=st.data(), accept=st.booleans())
        def decide_and_confirm(self, data: st.DataObject, accept: bool) -> None:
            cid = data.draw(st.sampled_from(sorted(self.m.claims)))
            claimant, state = self.m.claims[cid]
            ok = self.m.readable("officer") and state == "filed" and claimant != "officer"
            if self.attempt(exclusions.decide_claim, ok, claim_id=cid, actor=self.who("officer"),
                            decision="accept" if accept else "reject", reason="判断理由", store=self.store):
                self.m.claims[cid][1] = state = "proposed"
            chair = self.m.chair or "p0"
            ok = (self.m.chair is not None and self.m.readable(chair) and state == "proposed"
                  and chair != claimant)
            if self.attempt(exclusions.confirm_claim, ok, claim_id=cid, actor=self.who(chair), confirm=True,
                            store=self.store):
                # the secretariat's decision stands (it may be from an earlier step, before the chair could confirm)
                self.m.claims[cid][1] = "accepted" if self._decided(cid) == "accept" else "rejected"

        def _decided(self, claim_id: int) -> str | None:
            row = info_repo.claim_by_id(db, claim_id)
            return None if row is None else row.decision

        @invariant()
        def secrecy_matches_the_model(self) -> None:
            for sid in self.m.said:
                row = repo.statement(db, self.cid, sid)
                assert row is not None
                got = rules.statement_state(stated_confidential=row.stated_confidential, designated_at=row.designated_at,
                                            deadline=row.designation_deadline, now=self.clock.now()).value
                assert got == self._state(sid), (sid, self.m.said[sid])
            for claim_id, (_who, state) in self.m.claims.items():
                found = info_repo.claim_by_id(db, claim_id)
                assert found is not None and found.state == state, (claim_id, self.m.claims)

        @precondition(lambda self: self.m.meeting_id is not None)
        @rule()
        def circulate(self) -> None:
            asked = {n for n in self.m.attended if self.m.pledged(n)}
            ok = self.m.readable("officer") and self.m.minutes == "draft" and bool(asked)
            if self.attempt(meetings.circulate_minutes, ok, council_id=self.cid, meeting_id=self.m.meeting_id,
                            actor=self.who("officer")):
                self.m.minutes, self.m.answers = "circulated", dict.fromkeys(asked, "pending")
                self.m.minutes_deadline = self.clock.now() + timedelta(days=14)  # the model bylaws' default

        @precondition(lambda self: self.m.meeting_id is not None)
        @rule(name=st.sampled_from(("officer", *POOL)), comment=st.booleans())
        def confirm(self, name: str, comment: bool) -> None:
            ok = (self.m.minutes == "circulated" and name in self.m.answers and self.m.readable(name)
                  and self.clock.now() < self.m.minutes_deadline)  # type: ignore[operator]
            if self.attempt(meetings.confirm_minutes, ok, council_id=self.cid, meeting_id=self.m.meeting_id,
                            actor=self.who(name), answer="comment" if comment else "confirm",
                            comment="修正願います" if comment else None, store=self.store):
                self.m.answers[name] = "commented" if comment else "confirmed"

        @precondition(lambda self: self.m.meeting_id is not None)
        @rule()
        def approve(self) -> None:
            ok = (self.m.readable("officer") and self.m.minutes == "circulated"
                  and (all(a == "confirmed" for n, a in self.m.answers.items() if self.m.pledged(n))
                       or self.clock.now() >= self.m.minutes_deadline))  # type: ignore[operator]
            if self.attempt(service.approve_minutes, ok, council_id=self.cid, meeting_id=self.m.meeting_id,
                            actor=self.who("officer")):
                self.m.minutes = "approved"

        # -- the invariant --------------------------------------------------------------------

        @invariant()
        def bylaws_match_the_model(self) -> None:
            council = repo.council_by_id(db, self.cid)
            assert council is not None
            assert (council.bylaws_version, council.duty_version) == (self.m.bylaws_version, self.m.duty_version), \
                self.m
            found = repo.open_bylaws_proposal(db, self.cid)
            assert (found.id if found else None) == self.m.proposal_id, self.m
            if found is not None:
                votes = {v.user_id: v.decision for v in repo.bylaws_votes(db, found.id)}
                ids = {people[n].user.id: a for n, a in self.m.votes.items()}
                assert votes == ids, self.m

        @invariant()
        def minutes_match_the_model(self) -> None:
            if self.m.meeting_id is None:
                return
            meeting = repo.meeting(db, self.cid, self.m.meeting_id)
            assert meeting is not None and meeting.minutes_state == self.m.minutes, self.m
            answers = {c.user_id: c.answer for c in repo.confirmations(db, meeting.id)}
            assert answers == {people[n].user.id: a for n, a in self.m.answers.items()}, self.m

        @invariant()
        def pledges_stay_on_record(self) -> None:
            """Leaving or being removed ends access, never the pledge record (C3)."""
            signed = {(p.user_id, p.duty_version) for p in repo.pledges(db, self.cid)}
            assert signed == {(people[n].user.id, v) for n, vs in self.m.pledges.items() for v in vs}, self.m

        @invariant()
        def access_matches_the_model(self) -> None:
            for name in people:
                actor = self.who(name)
                expected = self.m.readable(name)
                assert service.can_read_content(db, council_id=self.cid, actor=actor) == expected, (name, self.m)
                try:
                    service.list_decisions(db, council_id=self.cid, actor=actor, now=clock.now(),
                                           store=sealed.fake_deps())
                    reads = True
                except NotFound:
                    reads = False
                assert reads == expected, (name, self.m)
                try:
                    service.get_council(db, council_id=self.cid, actor=actor)
                    sees = True
                except NotFound:
                    sees = False
                assert sees == self.m.visible(name), (name, "public page", self.m)
                listed = self.cid in [c.id for c in service.list_councils(db, actor=actor)]
                assert listed == sees, (name, "list", self.m)

    run_state_machine_as_test(
        CouncilMachine,
        settings=settings(max_examples=25, stateful_step_count=15, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]),
    )
