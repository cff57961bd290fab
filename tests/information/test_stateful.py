"""Model-based test of the designation lifecycle with a controllable clock (I2–I7).

A small independent model tracks what every item *should* be (council-shared, held, designated,
public) and who should read it. After every step, for every item and every person (the four
voters, an outsider, a member without a second factor, a member who never pledged, a member who
left, and an anonymous visitor), every read path — item page service, body download, file download,
list, count, search, MISP/STIX export, the in-browser viewer — must give exactly the model's answer
(under view-only handling, readers view but only the provider copies); every open proposal is seen
(page, list, "my open ballots") by exactly the voters; every material-request answer file reaches exactly
its parties; and every inbox names only what its reader may know now (I12). So no out-of-scope person reaches content or its metadata through any path, and
designations lapse by themselves when the clock passes their end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.authz.principal import Principal
from banso.councils import service as councils
from banso.information import distribution, interchange, search, service
from banso.information import viewer as screen
from banso.information.deps import InformationDeps
from banso.information.models import Ballot, Item, ItemFile
from banso.kit.clock import FakeClock
from banso.kit.errors import BansoError, Conflict, Forbidden, NotFound
from banso.leak.pdf import make_sample_pdf
from banso.notifications import service as notifications
from banso.sealed import store as sealed
from tests.support.factories import Factory, Person

VOTERS = ("officer", "p0", "p1", "p2")  # officer = secretariat, p0 = chair, p1/p2 members
VIEWERS = (*VOTERS, "outsider", "p1-no-2fa", "unpledged", "ex-member", "anonymous")
PDF = make_sample_pdf("検証資料", ["第一段落", "第二段落"])


@dataclass
class Open:
    """An open ballot in the model."""

    ballot_id: int
    kind: str  # designation / renewal
    deadline: datetime
    votes: dict[str, str]  # voter -> pending/accept/object
    scope: tuple[str, frozenset[str]]  # (kind, names or org keys)
    ends_at: datetime
    partial: bool = False  # covers only the item's file (I3 range)
    view_only: bool = False  # handling: viewable, never copied (I3, I12) — binds from the proposal on


@dataclass
class ModelItem:
    """What one item should be."""

    item_id: int
    provider: str
    is_result: bool
    state: str
    scope: tuple[str, frozenset[str]] | None = None  # in force
    ends_at: datetime | None = None
    ballot: Open | None = None
    readers_seen: set[str] = field(default_factory=set)
    file_held: bool = False  # a partial designation of the file is being voted on
    file_scope: tuple[str, frozenset[str]] | None = None  # partial designation in force
    file_ends: datetime | None = None
    view_only: bool = False  # the whole-item designation in force is view-only
    file_view_only: bool = False  # the partial designation in force is view-only
    publish_at: datetime | None = None  # results: the end of the prior-notice window (I13)

    def rest_state(self, now: datetime) -> str:
        if not self.is_result:
            return "council"
        assert self.publish_at is not None
        return "public" if self.publish_at <= now else "scheduled"


def test_no_out_of_scope_read_path_after_any_step(db: Session, factory: Factory, clock: FakeClock,
                                                  deps: InformationDeps) -> None:
    from tests.support.councils import establish

    cast = establish(factory, db, clock)
    extra = factory.person(roles=("industry",))
    councils.invite(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                    user_id=extra.user.id, role="member", deadline=clock.now() + timedelta(days=7))
    councils.consent(db, council_id=cast.council.id, actor=extra.principal(), now=clock.now(), decision="consent")
    councils.sign_pledge(db, council_id=cast.council.id, actor=extra.principal(), now=clock.now(),
                         bylaws_version=cast.council.bylaws_version)
    unpledged, leaver = factory.person(), factory.person()
    for person in (unpledged, leaver):
        councils.invite(db, council_id=cast.council.id, actor=cast.officer.principal(), now=clock.now(),
                        user_id=person.user.id, role="member", deadline=clock.now() + timedelta(days=7))
        councils.consent(db, council_id=cast.council.id, actor=person.principal(), now=clock.now(), decision="consent")
    councils.sign_pledge(db, council_id=cast.council.id, actor=leaver.principal(), now=clock.now(),
                         bylaws_version=cast.council.bylaws_version)
    councils.leave(db, council_id=cast.council.id, actor=leaver.principal(), now=clock.now())
    people: dict[str, Person] = {"officer": cast.officer, "p0": cast.researcher, "p1": cast.company, "p2": extra,
                                 "outsider": cast.outsider, "unpledged": unpledged, "ex-member": leaver}
    orgs = {name: people[name].user.organization_id for name in VOTERS}
    db.flush()
    start = clock.now()
    answers_store = sealed.fake_deps()

    def principal(name: str) -> Principal | None:
        if name == "anonymous":
            return None
        if name == "p1-no-2fa":
            return people["p1"].principal(mfa=False)
        return people[name].principal()

    class DesignationMachine(RuleBasedStateMachine):
        items = Bundle("items")

        def __init__(self) -> None:
            super().__init__()
            self.savepoint = db.begin_nested()
            self.clock = FakeClock(start)
            self.model: dict[int, ModelItem] = {}
            self.first_id = 0
            self.answers: list[tuple[int, int, str]] = []  # (request id, answer file id, addressee)

        def teardown(self) -> None:
            self.savepoint.rollback()

        # --- the model's access rule, written from DESIGN I2–I7, not from the policy module ---
        def expected_readers(self, m: ModelItem) -> set[str]:
            if m.state == "public":
                return set(VIEWERS)
            members = set(VOTERS)  # all pledged, with 2FA
            if m.state in ("council", "scheduled", "withheld"):
                return members
            if m.state == "held":
                return {m.provider, "officer"}
            assert m.state == "designated" and m.scope is not None
            kind, names = m.scope
            if kind == "all":
                return members
            if kind == "named":
                return names | {m.provider}
            return {n for n in VOTERS if orgs[n] in {orgs[o] for o in names}} | {m.provider}

        def expected_file_readers(self, m: ModelItem) -> set[str]:
            readers = self.expected_readers(m)
            if m.file_held:
                return readers & set(VOTERS) & {m.provider, "officer"}
            if m.file_scope is not None:
                kind, names = m.file_scope
                if kind == "all":
                    scoped = set(VOTERS)
                elif kind == "named":
                    scoped = set(names)
                else:
                    scoped = {n for n in VOTERS if orgs[n] in {orgs[o] for o in names}}
                return readers & set(VOTERS) & (scoped | {m.provider})
            return readers

        # --- rules ---
        @initialize()
        def nothing(self) -> None:
            pass

        @rule(target=items, provider=st.sampled_from(VOTERS), is_result=st.booleans(),
              designate=st.sampled_from(["no", "item", "file"]),
              scope=st.sampled_from(["all", "named", "organisations"]),
              names=st.sets(st.sampled_from(VOTERS), min_size=1, max_size=2), days=st.integers(3, 400),
              accept_now=st.booleans(), view_only=st.booleans())
        def create(self, provider: str, is_result: bool, designate: str, scope: str, names: set[str],
                   days: int, accept_now: bool, view_only: bool) -> int:
            now = self.clock.now()
            if designate == "file":
                is_result = False  # a partial designation is proposed on a council-shared item
            spec = (self._spec(scope, names, now + timedelta(days=days), now + timedelta(days=2),
                               view_only=view_only) if designate == "item" else None)
            item = service.create_item(
                db, deps, council_id=cast.council.id, actor=people[provider].principal(), now=now,
                title=f"検証項目{len(self.model):03d}", summary="概要", body=f"本文 {len(self.model)}",
                matter="useful_information", category="research_result" if is_result else "other",
                provenance="participant", is_result=is_result, designation=spec,
                files=[service.Upload("a.pdf", "application/pdf", PDF)])
            if not self.model:
                self.first_id = item.id
            m = ModelItem(item_id=item.id, provider=provider, is_result=is_result, state="held" if spec
                          else ("scheduled" if is_result else "council"),
                          publish_at=now + timedelta(days=30) if is_result else None)  # I13: 30 days' notice
            self.model[item.id] = m
            if spec is not None:
                self._open(m, "designation", scope, names, spec)
            if designate == "file":
                self.propose_file(item.id, scope, names, days, view_only)
            if accept_now:
                self.everyone_accepts(item.id)  # the common path: everyone agrees at once
            return item.id

        def _spec(self, scope: str, names: set[str], ends_at: datetime, deadline: datetime,
                  file_ids: tuple[int, ...] = (), view_only: bool = False) -> service.DesignationInput:
            return service.DesignationInput(
                reason="理由", scope_kind=scope, ends_at=ends_at, deadline=deadline, file_ids=file_ids,
                handling=["view_only"] if view_only else ["watermark"],
                user_ids=[people[n].user.id for n in sorted(names)] if scope == "named" else [],
                organization_ids=sorted({orgs[n] for n in names}) if scope == "organisations" else [])

        def _open(self, m: ModelItem, kind: str, scope: str, names: set[str],
                  spec: service.DesignationInput, partial: bool = False) -> None:
            ballot = db.scalar(select(Ballot).where(Ballot.item_id == m.item_id, Ballot.state == "open"))
            assert ballot is not None
            votes = {v: "pending" for v in VOTERS}
            votes[m.provider] = "accept"
            assert spec.deadline is not None
            m.ballot = Open(ballot.id, kind, spec.deadline, votes, (scope, frozenset(names) if scope != "all"
                                                                     else frozenset()), spec.ends_at, partial,
                            view_only="view_only" in spec.handling)

        @rule(item_id=items, voter=st.sampled_from(VOTERS), accept=st.booleans())
        def vote(self, item_id: int, voter: str, accept: bool) -> None:
            m = self.model[item_id]
            if m.ballot is None:
                return
            b = m.ballot
            now = self.clock.now()
            try:
                service.vote(db, ballot_id=b.ballot_id, actor=people[voter].principal(), now=now,
                             decision="accept" if accept else "object", reason=None if accept else "反対")
            except Conflict:
                assert now >= b.deadline or b.votes[voter] != "pending"
                return
            assert now < b.deadline and b.votes[voter] == "pending"
            b.votes[voter] = "accept" if accept else "object"
            if not accept:
                self._reject(m)
            elif all(v == "accept" for v in b.votes.values()):
                self._accept(m)

        @rule(item_id=items)
        def everyone_accepts(self, item_id: int) -> None:
            m = self.model[item_id]
            if m.ballot is None:
                return
            for voter, decision in list(m.ballot.votes.items()):
                if decision == "pending" and m.ballot is not None:
                    self.vote(item_id, voter, True)

        def _accept(self, m: ModelItem) -> None:
            assert m.ballot is not None
            if m.ballot.partial:
                m.file_held, m.file_scope, m.file_ends = False, m.ballot.scope, m.ballot.ends_at
                m.file_view_only = m.ballot.view_only
            else:
                m.state, m.scope, m.ends_at = "designated", m.ballot.scope, m.ballot.ends_at
                m.view_only = m.ballot.view_only
            m.ballot = None

        def _reject(self, m: ModelItem) -> None:
            assert m.ballot is not None
            if m.ballot.partial:
                m.file_held = False
            elif m.ballot.kind == "designation":
                now = self.clock.now()
                if m.is_result and m.publish_at is not None:
                    # I13 (issue 13): held, the council could not read it: its prior notice starts now
                    m.publish_at = max(m.publish_at, now + timedelta(days=30))
                m.state = m.rest_state(now)
            m.ballot = None

        @rule(days=st.integers(1, 200), hours=st.integers(0, 23))
        def advance(self, days: int, hours: int) -> None:
            self.clock.advance(days=days, hours=hours)

        @rule()
        def run_job(self) -> None:
            now = self.clock.now()
            service.run_due_information(db, now=now)
            for m in self.model.values():
                if m.ballot is not None and now >= m.ballot.deadline:
                    self._reject(m)  # a missing answer at the deadline rejects (I4)
                if m.state == "designated" and m.ends_at is not None and m.ends_at <= now:
                    m.state, m.scope, m.ends_at = m.rest_state(now), None, None  # lapse (I5)
                    m.ballot, m.view_only = None, False
                if m.state == "scheduled" and m.ballot is None and m.rest_state(now) == "public":
                    m.state = "public"  # the notice ended with no request open (I6, I13)
                if m.file_scope is not None and m.file_ends is not None and m.file_ends <= now:
                    m.file_scope, m.file_ends = None, None  # the file follows the item again
                    m.ballot, m.file_view_only = None, False

        @rule(item_id=items, scope=st.sampled_from(["all", "named", "organisations"]),
              names=st.sets(st.sampled_from(VOTERS), min_size=1, max_size=2), days=st.integers(3, 400),
              view_only=st.booleans())
        def propose(self, item_id: int, scope: str, names: set[str], days: int, view_only: bool) -> None:
            m = self.model[item_id]
            if m.state != "council" or m.ballot is not None or m.file_scope is not None:
                return
            now = self.clock.now()
            spec = self._spec(scope, names, now + timedelta(days=days), now + timedelta(days=2), view_only=view_only)
            service.propose_designation(db, item_id=item_id, actor=people[m.provider].principal(), now=now,
                                        designation=spec)
            m.state = "held"
            self._open(m, "designation", scope, names, spec)

        @rule(item_id=items, scope=st.sampled_from(["all", "named", "organisations"]),
              names=st.sets(st.sampled_from(VOTERS), min_size=1, max_size=2), days=st.integers(3, 400),
              view_only=st.booleans())
        def propose_file(self, item_id: int, scope: str, names: set[str], days: int, view_only: bool = False) -> None:
            """Designate only the item's file (I3 range); the item keeps its openness."""
            m = self.model[item_id]
            if m.state != "council" or m.ballot is not None or m.file_scope is not None:
                return
            now = self.clock.now()
            file_id = db.scalar(select(ItemFile.id).where(ItemFile.item_id == item_id))
            assert file_id is not None
            spec = self._spec(scope, names, now + timedelta(days=days), now + timedelta(days=2), (file_id,),
                              view_only=view_only)
            service.propose_designation(db, item_id=item_id, actor=people[m.provider].principal(), now=now,
                                        designation=spec)
            m.file_held = True
            self._open(m, "designation", scope, names, spec, partial=True)

        @rule(item_id=items, days=st.integers(1, 300))
        def renew(self, item_id: int, days: int) -> None:
            m = self.model[item_id]
            now = self.clock.now()
            partial = m.file_scope is not None
            current_end = m.file_ends if partial else m.ends_at
            if not (m.state == "designated" or partial) or m.ballot is not None or current_end is None:
                return
            if current_end - now < timedelta(hours=3):
                return
            deadline = now + min(timedelta(days=2), (current_end - now) / 2)
            if deadline < now + timedelta(hours=1):
                return
            ends_at = current_end + timedelta(days=days)
            service.propose_renewal(db, item_id=item_id, actor=people[m.provider].principal(), now=now,
                                    ends_at=ends_at, reason="延長", deadline=deadline)
            ballot = db.scalar(select(Ballot).where(Ballot.item_id == item_id, Ballot.state == "open"))
            scope = m.file_scope if partial else m.scope
            assert ballot is not None and scope is not None
            votes = {v: "pending" for v in VOTERS}
            votes[m.provider] = "accept"
            m.ballot = Open(ballot.id, "renewal", deadline, votes, scope, ends_at, partial,
                            view_only=m.file_view_only if partial else m.view_only)

        @rule(addressee=st.sampled_from(VOTERS[1:]))
        def request_and_answer(self, addressee: str) -> None:
            """The secretariat asks a participant for materials; the answer's text and file are sealed (C6, I12)."""
            if len(self.answers) >= 3:
                return
            now = self.clock.now()
            request = councils.create_request(
                db, council_id=cast.council.id, actor=people["officer"].principal(), now=now, title="資料の求め",
                body="動向をまとめてください", matter="useful_information", addressee_kind="participant",
                addressee_id=people[addressee].user.id, due_at=now + timedelta(days=14))
            view = councils.answer_request(
                db, council_id=cast.council.id, request_id=request.id, actor=people[addressee].principal(), now=now,
                text="回答本文", store=answers_store,
                files=[councils.UploadedFile("回答.csv", "text/csv", "項目,説明\n試験,航法の誤差\n".encode())])
            self.answers.append((request.id, view.files[0].id, addressee))

        # --- the invariant: every path agrees with the model for every person ---
        @invariant()
        def every_path_agrees(self) -> None:
            now = self.clock.now()
            for viewer in VIEWERS:
                who = principal(viewer)
                listed = {i.id for i in service.list_items(db, actor=who, council_id=cast.council.id, limit=10_000)}
                count = service.count_items(db, actor=who, council_id=cast.council.id)
                expected_ids = {i for i, m in self.model.items() if viewer in self.expected_readers(m)}
                assert listed == expected_ids, (viewer, listed, expected_ids)
                assert count == len(expected_ids)
                for item_id, m in self.model.items():
                    assert db.get(Item, item_id).state == m.state, (item_id, m)  # type: ignore[union-attr]
                    allowed = viewer in self.expected_readers(m)
                    for path in (self._page, self._search):
                        assert path(item_id, who, now) == allowed, (path.__name__, viewer, m)
                    # I3, I12: under view-only handling a reader views but never copies (the provider may)
                    copy = "refused" if self._no_copy(m, viewer, file=False) else "ok"
                    for way in (self._body, self._export):
                        assert way(item_id, who, now) == (copy if allowed else "missing"), (way.__name__, viewer, m)
                    file_reader = viewer in self.expected_file_readers(m)
                    file_copy = "refused" if self._no_copy(m, viewer, file=True) else "ok"
                    assert self._file(item_id, who, now) == (file_copy if file_reader else "missing"), (viewer, m)
                    assert self._view(item_id, who, now) == ("ok" if file_reader else "missing"), (viewer, m)
                if who is not None:
                    self._answers_agree(viewer, who)
                    self._ballots_agree(viewer, who)
                    self._inbox_agrees(viewer, who)

        def _answers_agree(self, viewer: str, who: Principal) -> None:
            """An answer reaches its parties only — requester (the secretariat), addressee, chair — with content
            access; every other member, however pledged, gets 404 (C6, I7, I12)."""
            for request_id, file_id, addressee in self.answers:
                parties = {"officer", "p0", addressee}
                seen = _outcome(lambda r=request_id, f=file_id: councils.read_file(  # type: ignore[misc]
                    db, council_id=cast.council.id, request_id=r, file_id=f, actor=who, now=self.clock.now(),
                    store=answers_store))
                assert seen == ("ok" if viewer in parties else "missing"), (viewer, request_id, addressee)

        def _ballots_agree(self, viewer: str, who: Principal) -> None:
            """Every open proposal is seen by exactly its voters: pledged members with a second factor (C3, I4)."""
            open_ids = {m.ballot.ballot_id for m in self.model.values() if m.ballot is not None}
            mine = {b.id for b in service.my_open_ballots(db, actor=who)}
            listed = {b.id for b in service.list_ballots(db, council_id=cast.council.id, actor=who)} & open_ids
            pending = {m.ballot.ballot_id for m in self.model.values()
                       if m.ballot is not None and m.ballot.votes.get(viewer) == "pending"}
            assert mine == (pending if viewer in VOTERS else set()), (viewer, mine, pending)
            assert listed == (open_ids if viewer in VOTERS else set()), (viewer, listed, open_ids)
            for ballot_id in open_ids:
                seen = _outcome(lambda b=ballot_id: service.get_ballot(db, ballot_id=b, actor=who))  # type: ignore[misc]
                assert seen == ("ok" if viewer in VOTERS else "missing"), (viewer, ballot_id)

        def _inbox_agrees(self, viewer: str, who: Principal) -> None:
            """An inbox names an item only to its current readers, a proposal only to its voters (I7, I12)."""
            for note in notifications.inbox(db, user_id=who.user_id, actor=who, limit=500):
                kind, _, number = note.subject.partition(":")
                if kind == "item":
                    assert viewer in self.expected_readers(self.model[int(number)]), (viewer, note.title_ja)
                elif kind == "ballot":
                    assert viewer in VOTERS, (viewer, note.title_ja)
                for item_id, m in self.model.items():
                    if viewer not in VOTERS and m.state != "public":
                        assert f"検証項目{item_id - self.first_id:03d}" not in note.title_ja, (viewer, note.title_ja)

        def _no_copy(self, m: ModelItem, viewer: str, *, file: bool) -> bool:
            """View-only handling binds everyone but the provider, from the proposal on (I3, I12)."""
            if viewer == m.provider:
                return False
            if file and (m.file_held or m.file_scope is not None):  # the file is in a partial designation's range
                return (m.file_held and m.ballot is not None and m.ballot.view_only) or (
                    m.file_scope is not None and m.file_view_only)
            if m.state == "designated":
                return m.view_only
            return m.state == "held" and m.ballot is not None and not m.ballot.partial and m.ballot.view_only

        def _view(self, item_id: int, who: Principal | None, now: datetime) -> str:
            file_id = db.scalar(select(ItemFile.id).where(ItemFile.item_id == item_id))
            assert file_id is not None
            return _outcome(lambda: screen.decide(db, item_id=item_id, file_id=file_id, actor=who))

        def _page(self, item_id: int, who: Principal | None, now: datetime) -> bool:
            return _reaches(lambda: service.read_item(db, deps, item_id=item_id, actor=who, now=now))

        def _body(self, item_id: int, who: Principal | None, now: datetime) -> str:
            return _outcome(lambda: distribution.download_body(db, deps, item_id=item_id, actor=who, now=now))

        def _file(self, item_id: int, who: Principal | None, now: datetime) -> str:
            file_id = db.scalar(select(ItemFile.id).where(ItemFile.item_id == item_id))
            assert file_id is not None
            return _outcome(lambda: distribution.download_file(db, deps, item_id=item_id, file_id=file_id,
                                                               actor=who, now=now))

        def _search(self, item_id: int, who: Principal | None, now: datetime) -> bool:
            hits = search.search_items(db, actor=who, query=f"検証項目{item_id - self.first_id:03d}", now=now)
            return item_id in {h.item.id for h in hits}

        def _export(self, item_id: int, who: Principal | None, now: datetime) -> str:
            return _outcome(lambda: interchange.export_interchange(db, deps, item_id=item_id, actor=who, now=now,
                                                                   fmt="stix"))

    run_state_machine_as_test(
        DesignationMachine,
        settings=settings(max_examples=30, stateful_step_count=16, deadline=None,
                          suppress_health_check=list(HealthCheck)),
    )


def _reaches(read: object) -> bool:
    try:
        read()  # type: ignore[operator]
    except NotFound:
        return False
    except BansoError as exc:  # pragma: no cover - any other refusal is a test failure with its reason
        raise AssertionError(f"unexpected refusal: {exc.message}") from exc
    return True


def _outcome(read: object) -> str:
    """Return "ok", "missing" (404: may not know of it, I7) or "refused" (403: known, but no copy, I12)."""
    try:
        read()  # type: ignore[operator]
    except NotFound:
        return "missing"
    except Forbidden:
        return "refused"
    except BansoError as exc:  # pragma: no cover - any other refusal is a test failure with its reason
        raise AssertionError(f"unexpected refusal: {exc.message}") from exc
    return "ok"
