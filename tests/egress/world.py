"""The fixture world of the egress matrix: every content kind, every principal, built once per module.

Built through the real services and the real HTTP API (the factories of ``tests/support/``), on the
migrated test database, inside one outer transaction that is rolled back when the module ends.

Each information kind lives in a council of its own (so a list or a count filtered by council tells
exactly whether that one item leaks). The member principals — in scope, pledged, out of scope, unpledged,
without a second factor, with a reset second factor, with a narrowed token, ex-member, observer — are the
same people in every council; provider and secretariat are the founders of each kind's council. "removed"
was removed by the secretariat (issue 13) where "ex_member" left by themselves.
Whoever is refused for a reason of their own standing (no pledge, no second factor, narrowed token, left)
is nonetheless named in every designation scope, so that the only reason to refuse them is the one tested.
"""

from __future__ import annotations

import email
import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.policy import default as default_policy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from banso.accounts import service as accounts
from banso.analytics.prioritise import CRITERIA
from banso.audit.models import AuditEntry
from banso.councils import export_control as clearances
from banso.councils import meetings
from banso.councils import service as councils
from banso.councils.endpoints import file_store
from banso.councils.models import BylawsVersion, ExportClearance
from banso.information import export_control
from banso.information import service as information
from banso.information.deps import information_deps
from banso.information.models import Ballot, Item, ItemFile, Vote
from banso.kit.clock import FakeClock
from banso.leak.text import strip_invisible
from banso.notifications import tasks as notification_tasks
from banso.programme import commissions
from banso.programme import service as programme
from banso.thinktank import service as thinktank
from banso.thinktank.demo import prepare_demo_analytics
from banso.web.context import AppContext
from banso.web.deps import SESSION_COOKIE
from tests.support.app import START, make_context, make_settings
from tests.support.councils import Cast, establish, join
from tests.support.factories import Factory, Person, hash_once, verify_once
from tests.support.http import bearer, sign_in
from tests.support.programme import load_registry

# Content kinds held in a council of their own (the item kinds), and the others.
ITEM_KINDS = ("council", "held", "designated", "view_only", "partial", "scheduled", "withheld", "public", "controlled")
OTHER_KINDS = ("ballot", "answer", "deliverable", "minutes", "decision", "material", "material_secret", "comment",
               "needs", "audit_own", "statement", "evidence", "evidence_designated", "tank_request",
               # session 12: a proposal's research-plan document, and the funding agency's workbooks of a proposal
               "plan_document", "agency_export")
# Programme kinds: their provider is the proposer and their secretariat the call's agency staff (no council).
PROGRAMME_KINDS = ("plan_document", "agency_export")
KINDS = ITEM_KINDS + OTHER_KINDS
# Whose council each kind lives in.
HOME = {**{k: k for k in ITEM_KINDS}, "ballot": "held", "answer": "council", "minutes": "council",
        "decision": "council", "deliverable": "council", "material": "council", "material_secret": "council",
        "comment": "council", "needs": "council", "audit_own": "council",
        # issue 13: an oral statement at the council's meeting; exclusion evidence on the council-shared item and
        # on the designated item (the evidence follows the item's scope, I7)
        "statement": "council", "evidence": "council", "evidence_designated": "designated",
        # issue 13 (Art. 64): a material request of the council to the deliverable's commission, outside the council
        "tank_request": "council", "plan_document": "council", "agency_export": "council"}
# People who are members of every council (observer joins as an observer).
MEMBERS = ("in_scope", "pledged", "out_of_scope", "unpledged", "no2fa_session", "reset_token", "narrowed_token",
           "ex_member", "removed", "observer")
# Named in every designation scope: all but the out-of-scope ones (pledged, out_of_scope, observer).
NAMED = ("in_scope", "unpledged", "no2fa_session", "reset_token", "narrowed_token", "ex_member", "removed")
NARROW_SCOPES = ["platform:dashboard:view", "accounts:profile:manage"]  # covers no council content
# F7 (issue 15): pledged members of the "controlled" council only, of another nationality: one not cleared by the
# export-control officer (held from the item classified 該当), one cleared.
FOREIGN = ("foreign", "foreign_cleared")


def marker(kind: str, part: str) -> str:
    """Return the unique ASCII marker of one part of a kind: TTL title, SUM summary, RSN designation reason,
    BDY body, OLD earlier body, FIL file text, FNM file name."""
    return f"QX{kind.replace('_', '')}{part}"


@dataclass
class Creds:
    """How one principal calls: a session cookie, a bearer header, or nothing (anonymous)."""

    label: str
    cookie: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    csrf: str | None = None
    email: str | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class Seen:
    """What one request showed: status, the visible text, and whether the raw text carried invisible marks."""

    status: int
    text: str
    marked: bool = False
    audited: bool = False  # the request appended an audit entry naming the caller (I8, A1)


@dataclass
class World:
    """Everything the matrix reads: ids per kind, credentials per (kind, principal), mail and audit."""

    ctx: AppContext
    client: TestClient
    ids: dict[str, dict[str, int]] = field(default_factory=dict)  # kind -> {council, item, file, ballot, ...}
    shared: dict[str, Creds] = field(default_factory=dict)  # principal -> creds (same in every kind)
    own: dict[tuple[str, str], Creds] = field(default_factory=dict)  # (kind, provider|secretariat) -> creds
    mail: dict[str, str] = field(default_factory=dict)  # e-mail address -> all text sent to it
    cache: dict[tuple[str, str, str], Seen] = field(default_factory=dict)
    technology: str = ""  # the technology whose need carries the marked reason (think tank)

    def creds(self, kind: str, principal: str) -> Creds:
        """Return the credentials ``principal`` uses for content of ``kind``."""
        if principal in ("provider", "secretariat") or (kind, principal) in self.own:
            return self.own[(kind, principal)]
        return self.shared[principal]

    def fetch(self, url: str, creds: Creds, *, page: bool) -> Seen:
        """GET ``url`` as ``creds`` (a page prefers the cookie, the API the token); return what it showed."""
        key = (url, creds.label, "page" if page else "api")
        if key not in self.cache:
            headers: dict[str, str] = {}
            self.client.cookies.clear()
            if creds.cookie is not None and (page or not creds.headers):
                self.client.cookies.set(SESSION_COOKIE, creds.cookie)
            else:
                headers = dict(creds.headers)
            before = self.audit_entries_of(creds)
            response = self.client.get(url, headers=headers, follow_redirects=False)
            self.client.cookies.clear()
            visible = strip_invisible(_text_of(response.headers.get("content-type", ""), response.content,
                                               response.text))  # the per-recipient zero-width marks out (I8)
            self.cache[key] = Seen(response.status_code, visible, marked=visible != response.text,
                                   audited=self.audit_entries_of(creds) > before)
        return self.cache[key]

    def audit_entries_of(self, creds: Creds) -> int:
        """Count the audit entries whose actor is the caller."""
        if creds.user_id is None:
            return 0
        with self.ctx.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(AuditEntry)
                                      .where(AuditEntry.actor_id == creds.user_id)) or 0)

    def report_incident(self, creds: Creds, *, item_id: int | None = None, council_id: int | None = None) -> int:
        """Report a suspected leak (of an item, or to a council) as ``creds`` (I9); return the status."""
        headers = dict(creds.headers)
        self.client.cookies.clear()
        if not headers and creds.cookie is not None:
            self.client.cookies.set(SESSION_COOKIE, creds.cookie)
            headers["x-csrf-token"] = creds.csrf or ""
        response = self.client.post("/api/v1/information/incidents", headers=headers, json={
            "title": "漏えいの疑い", "description": "外部で同じ文書を見た", "item_id": item_id,
            "council_id": council_id})
        self.client.cookies.clear()
        return int(response.status_code)


def _text_of(content_type: str, data: bytes, text: str) -> str:
    """Return the text a reader sees in a response: a PDF's or a workbook's text, else the body as text."""
    if content_type.startswith("application/pdf"):
        from pypdf import PdfReader

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    if content_type.startswith("application/vnd.openxmlformats"):
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True)
                         for v in row if v is not None)
    return text


# ---------------------------------------------------------------------------------------------
# Module-scoped plumbing: what the per-test fixtures of tests/conftest.py build, once for the whole matrix


@contextmanager
def _quick_hashes() -> Iterator[None]:
    """Hash and check each test password once (tests/support/factories.py): argon2 is slow on purpose,
    and the world signs in some twenty people."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "hash_password", hash_once)
        patch.setattr(accounts, "verify_password", verify_once)
        yield


def open_world(engine: Engine, folder: Path) -> Iterator[World]:
    """Build the world in one outer transaction on ``engine``; yield it; roll everything back."""
    from banso.app.factory import create_app

    connection = engine.connect()
    outer = connection.begin()
    try:
        sessions = sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                                expire_on_commit=False)
        ctx = make_context(make_settings(folder), engine, sessions, FakeClock(START))
        db: Session = sessions()
        with _quick_hashes(), TestClient(create_app(ctx, background_jobs=False),
                                         base_url="http://testserver") as client:
            world = World(ctx=ctx, client=client)
            _Builder(world, db).build()
            yield world
        db.close()
    finally:
        outer.rollback()
        connection.close()


# ---------------------------------------------------------------------------------------------
# Building the content


class _Builder:
    """Creates the people, the councils, every kind of content and the credentials."""

    def __init__(self, world: World, db: Session) -> None:
        self.w, self.db, self.ctx = world, db, world.ctx
        assert isinstance(world.ctx.clock, FakeClock)
        self.clock = world.ctx.clock
        self.factory = Factory(db, self.clock, world.ctx.box)
        self.deps = information_deps(world.ctx)
        self.people: dict[str, Person] = {}
        self.by_id: dict[int, Person] = {}
        self.casts: dict[str, Cast] = {}

    def build(self) -> None:
        """Build everything, in the order the clock needs (public result first, held ballot last)."""
        self._people()
        for kind in ITEM_KINDS:
            self._council(kind)
        self._public_result()  # published by the job after its notice window (I6, I13)
        self._withheld_result()  # its review date 2 months on: the job below sends the 30-day reminder (I13)
        self.clock.advance(days=31)
        information.run_due_information(self.db, now=self.clock.now(), deps=self.deps)
        assert self._item_row("public").state == "public"
        assert self._item_row("withheld").state == "withheld"
        self._council_item()
        self._controlled()
        self._scheduled_result()
        self._designated("designated", handling=("watermark",))
        self._designated("view_only", handling=("view_only",))
        self._partial()
        self._held()
        self._meeting()
        self._materials()
        self._comment()
        self._secrecy()
        request_id = self._material_request()
        self.db.commit()
        self._credentials()
        self._answer(request_id)
        self._deliverable()
        self._proposal()
        self._needs()
        self._own_audit_entry()
        self._leave_and_reset()
        self.db.commit()
        self._mail()
        self._check_credentials()

    # --- people and councils ---

    def _person(self, name: str, person: Person) -> Person:
        self.people[name] = person
        self.by_id[person.user.id] = person
        return person

    def _people(self) -> None:
        shared_org = self.factory.org()  # out_of_scope works beside in_scope: named scope is people, not orgs
        for name in MEMBERS:
            org = shared_org if name in ("in_scope", "out_of_scope") else None
            self._person(name, self.factory.person(roles=("industry",), org=org))
        self._person("outsider", self.factory.person())
        self._person("auditor", self.factory.person(roles=("auditor",)))
        for name in FOREIGN:
            self._person(name, self.factory.person(roles=("researcher",))).user.nationality = "US"
        self._person("export_officer", self.factory.person(roles=("export_officer",)))

    def _council(self, kind: str) -> None:
        cast = establish(self.factory, self.db, self.clock)
        for person in (cast.officer, cast.researcher, cast.company, cast.outsider):
            self.by_id[person.user.id] = person
        for name in MEMBERS:
            join(cast, self.db, self.clock, self.people[name], pledge=name != "unpledged")
        councils.set_role(self.db, council_id=cast.council.id, actor=cast.officer.principal(), now=self.clock.now(),
                          user_id=self.people["observer"].user.id, role="observer")
        if kind == "controlled":
            for name in (*FOREIGN, "export_officer"):
                join(cast, self.db, self.clock, self.people[name])
        self.casts[kind] = cast
        self.w.ids[kind] = {"council": cast.council.id}

    # --- information items ---

    def _item_row(self, kind: str) -> Item:
        row = self.db.get(Item, self.w.ids[kind]["item"])
        assert row is not None
        return row

    def _file(self, kind: str) -> information.Upload:
        return information.Upload(f"{marker(kind, 'FNM')}.txt", "text/plain", f"{marker(kind, 'FIL')}\n".encode())

    def _create(self, kind: str, *, body: str | None = None, files: list[information.Upload] | None = None,
                designation: information.DesignationInput | None = None, is_result: bool = False,
                publish_at: datetime | None = None) -> Item:
        cast = self.casts[kind]
        item = information.create_item(
            self.db, self.deps, council_id=cast.council.id, actor=cast.company.principal(), now=self.clock.now(),
            title=f"評価資料 {marker(kind, 'TTL')}", summary=f"概要 {marker(kind, 'SUM')}",
            body=body or f"本文 {marker(kind, 'BDY')}",
            matter="useful_information", category="research_result" if is_result else "sampling_data",
            provenance="participant", is_result=is_result, publish_at=publish_at,
            files=[self._file(kind)] if files is None else files, designation=designation)
        self.w.ids[kind].update(item=item.id, provider=cast.company.user.id)
        self._note_files(kind)
        return item

    def _note_files(self, kind: str) -> None:
        rows = self.db.scalars(select(ItemFile).where(ItemFile.item_id == self.w.ids[kind]["item"])
                               .order_by(ItemFile.id)).all()
        if rows:
            self.w.ids[kind]["file"] = rows[-1].id  # the marked file (for partial: the one in range)

    def _new_version(self, kind: str) -> None:
        cast = self.casts[kind]
        information.add_version(self.db, self.deps, item_id=self.w.ids[kind]["item"], actor=cast.company.principal(),
                                now=self.clock.now(), body=f"本文 {marker(kind, 'BDY')}", note="改訂",
                                files=[self._file(kind)])
        self._note_files(kind)

    def _spec(self, kind: str, *, handling: tuple[str, ...] = ("watermark",),
              file_ids: tuple[int, ...] = ()) -> information.DesignationInput:
        return information.DesignationInput(
            reason=f"輸出管理上の懸念 {marker(kind, 'RSN')}", scope_kind="named", user_ids=[self.people[n].user.id for n in NAMED],
            ends_at=self.clock.now() + timedelta(days=365), handling=handling, file_ids=file_ids)

    def _open_ballot(self, kind: str) -> int:
        ballot = self.db.scalar(select(Ballot).where(Ballot.item_id == self.w.ids[kind]["item"],
                                                     Ballot.state == "open"))
        assert ballot is not None
        self.w.ids[kind]["ballot"] = ballot.id
        return int(ballot.id)

    def _everyone_accepts(self, kind: str) -> None:
        ballot_id = self._open_ballot(kind)
        pending = self.db.scalars(select(Vote.user_id).where(Vote.ballot_id == ballot_id,
                                                             Vote.decision == "pending")).all()
        for user_id in pending:
            information.vote(self.db, ballot_id=ballot_id, actor=self.by_id[user_id].principal(),
                             now=self.clock.now(), decision="accept", deps=self.deps)

    def _public_result(self) -> None:
        # v1 stays council-only once v2 is published (I13: only the current version of a result is public)
        self._create("public", body=f"本文 {marker('public', 'OLD')}", files=[], is_result=True,
                     publish_at=self.clock.now() + timedelta(days=1))
        self._new_version("public")

    def _council_item(self) -> None:
        self._create("council", body=f"本文 {marker('council', 'OLD')}", files=[])
        self._new_version("council")

    def _controlled(self) -> None:
        """A council-shared item classified 該当 by the export-control officer (F7); one foreign member cleared."""
        self._create("controlled")
        officer = self.people["export_officer"].principal()
        export_control.classify(self.db, item_id=self.w.ids["controlled"]["item"], actor=officer,
                                now=self.clock.now(), verdict="applicable", list_item="輸出貿易管理令別表第1 16項",
                                reason="照合済み")
        cleared = self.db.scalar(select(ExportClearance).where(
            ExportClearance.user_id == self.people["foreign_cleared"].user.id))
        assert cleared is not None
        clearances.decide(self.db, clearance_id=cleared.id, actor=officer, now=self.clock.now(), decision="clear",
                          reason="確認済み")
        # "foreign" stays held: two weeks on, the officers and the secretariat are reminded of the pending check
        # (session 11) — notices, e-mail and inbox pages go through the matrix like every other notice.
        assert clearances.remind_pending(self.db, now=self.clock.now() + timedelta(days=14)) > 0

    def _scheduled_result(self) -> None:
        self._create("scheduled", is_result=True, publish_at=self.clock.now() + timedelta(days=200))
        assert self._item_row("scheduled").state == "scheduled"

    def _withheld_result(self) -> None:
        """A result withheld by a unanimous non-disclosure request (I6), its review date close enough for the
        first reminder (issue 13: prior notice, decision and review notices all go through the gate)."""
        cast = self.casts["withheld"]
        bylaws = self.db.scalar(select(BylawsVersion).where(BylawsVersion.council_id == cast.council.id,
                                                            BylawsVersion.version == cast.council.bylaws_version))
        assert bylaws is not None
        bylaws.withheld_review_months = 2
        item = self._create("withheld", is_result=True)
        information.request_nondisclosure(self.db, item_id=item.id, actor=cast.officer.principal(),
                                          now=self.clock.now(), reason_code="wmd_diversion",
                                          reason=f"転用のおそれ {marker('withheld', 'RSN')}")
        self._everyone_accepts("withheld")
        assert self._item_row("withheld").state == "withheld"

    def _designated(self, kind: str, *, handling: tuple[str, ...]) -> None:
        self._create(kind, designation=self._spec(kind, handling=handling))
        self._everyone_accepts(kind)
        assert self._item_row(kind).state == "designated"

    def _partial(self) -> None:
        plain = information.Upload("plain.txt", "text/plain", "共有部分\n".encode())
        self._create("partial", files=[plain, self._file("partial")])
        information.propose_designation(self.db, item_id=self.w.ids["partial"]["item"],
                                        actor=self.casts["partial"].company.principal(), now=self.clock.now(),
                                        designation=self._spec("partial", file_ids=(self.w.ids["partial"]["file"],)),
                                        deps=self.deps)
        self._everyone_accepts("partial")
        assert self._item_row("partial").state == "council"

    def _held(self) -> None:
        self._create("held", designation=self._spec("held"))
        assert self._item_row("held").state == "held"
        self.w.ids["ballot"] = {"council": self.w.ids["held"]["council"], "ballot": self._open_ballot("held"),
                                "item": self.w.ids["held"]["item"]}

    # --- council records: minutes, decisions, a material request ---

    def _meeting(self) -> None:
        cast = self.casts["council"]
        cid, officer = cast.council.id, cast.officer.principal()
        meeting = councils.schedule_meeting(self.db, council_id=cid, actor=officer, now=self.clock.now(),
                                            title="第1回会合", starts_at=self.clock.now() + timedelta(hours=1))
        councils.draft_minutes(self.db, council_id=cid, meeting_id=meeting.id, actor=officer, now=self.clock.now(),
                               text=f"議事録 {marker('minutes', 'BDY')}", store=file_store(self.ctx))
        self.clock.advance(hours=2)
        # C5 (issue 13): the attendees confirm the minutes before they are approved
        councils.record_attendance(self.db, council_id=cid, meeting_id=meeting.id, actor=officer,
                                   now=self.clock.now(), user_id=officer.user_id, status="present")
        meetings.circulate_minutes(self.db, council_id=cid, meeting_id=meeting.id, actor=officer, now=self.clock.now())
        meetings.confirm_minutes(self.db, council_id=cid, meeting_id=meeting.id, actor=officer, now=self.clock.now(),
                                 answer="confirm", store=file_store(self.ctx))
        councils.approve_minutes(self.db, council_id=cid, meeting_id=meeting.id, actor=officer, now=self.clock.now())
        decision = councils.record_decision(self.db, council_id=cid, actor=officer, now=self.clock.now(),
                                            text=f"決定 {marker('decision', 'BDY')}", matter="useful_information",
                                            adoption="consensus", meeting_id=meeting.id, store=file_store(self.ctx))
        self.w.ids["minutes"] = {"council": cid, "meeting": meeting.id}
        self.w.ids["decision"] = {"council": cid, "meeting": meeting.id, "decision": decision.id}

    def _materials(self) -> None:
        """Two materials (配布資料) of the council's meeting, one marked confidential at provision (I11, I12)."""
        cast = self.casts["council"]
        meeting_id = self.w.ids["minutes"]["meeting"]
        for kind, confidential in (("material", False), ("material_secret", True)):
            upload = councils.UploadedFile(f"{marker(kind, 'FNM')}.txt", "text/plain",
                                           f"{marker(kind, 'FIL')}\n".encode())
            row = meetings.add_material(self.db, council_id=cast.council.id, meeting_id=meeting_id,
                                        actor=cast.company.principal(), now=self.clock.now(),
                                        title=f"配布資料 {marker(kind, 'TTL')}", confidential=confidential,
                                        file=upload, store=file_store(self.ctx))
            self.w.ids[kind] = {"council": cast.council.id, "meeting": meeting_id, "material": row.id}

    def _comment(self) -> None:
        """A second meeting whose minutes are circulated; the pledged member attended and comments (C5)."""
        cast = self.casts["council"]
        cid, officer = cast.council.id, cast.officer.principal()
        author = self.people["pledged"]
        meeting = councils.schedule_meeting(self.db, council_id=cid, actor=officer, now=self.clock.now(),
                                            title="第2回会合", starts_at=self.clock.now() + timedelta(hours=1))
        councils.draft_minutes(self.db, council_id=cid, meeting_id=meeting.id, actor=officer, now=self.clock.now(),
                               text="議事録（第2回）", store=file_store(self.ctx))
        self.clock.advance(hours=2)
        for user_id in (officer.user_id, author.user.id):
            councils.record_attendance(self.db, council_id=cid, meeting_id=meeting.id, actor=officer,
                                       now=self.clock.now(), user_id=user_id, status="present")
        meetings.circulate_minutes(self.db, council_id=cid, meeting_id=meeting.id, actor=officer, now=self.clock.now())
        meetings.confirm_minutes(self.db, council_id=cid, meeting_id=meeting.id, actor=author.principal(),
                                 now=self.clock.now(), answer="comment", comment=f"修正意見 {marker('comment', 'BDY')}",
                                 store=file_store(self.ctx))
        self.w.ids["comment"] = {"council": cid, "meeting": meeting.id}

    def _secrecy(self) -> None:
        """Issue 13: an oral statement made as confidential at the council's meeting (summary sealed), and two
        exclusion claims with evidence text and file: the pledged member's on the council-shared item, the
        in-scope member's on the designated item."""
        from banso.councils import statements
        from banso.information import exclusions

        cast = self.casts["council"]
        meeting_id = self.w.ids["minutes"]["meeting"]
        said = statements.record_statement(
            self.db, council_id=cast.council.id, meeting_id=meeting_id, actor=cast.officer.principal(),
            now=self.clock.now(), speaker_id=cast.company.user.id, summary=f"発言 {marker('statement', 'BDY')}",
            stated_confidential=True, store=file_store(self.ctx))
        self.w.ids["statement"] = {"council": cast.council.id, "meeting": meeting_id, "statement": said.id}
        for kind, home, claimant in (("evidence", "council", "pledged"), ("evidence_designated", "designated",
                                                                           "in_scope")):
            upload = councils.UploadedFile(f"{marker(kind, 'FNM')}.txt", "text/plain",
                                           f"{marker(kind, 'FIL')}\n".encode())
            view = exclusions.file_claim(self.db, actor=self.people[claimant].principal(), now=self.clock.now(),
                                         ground="public", evidence=f"根拠 {marker(kind, 'BDY')}",
                                         store=file_store(self.ctx), item_id=self.w.ids[home]["item"], file=upload)
            self.w.ids[kind] = {"council": self.w.ids[home]["council"], "item": self.w.ids[home]["item"],
                                "claim": view.claim.id}

    def _material_request(self) -> int:
        cast = self.casts["council"]
        row = councils.create_request(self.db, council_id=cast.council.id, actor=cast.officer.principal(),
                                      now=self.clock.now(), title="諸外国の研究開発動向", body="論文動向をまとめてください",
                                      matter="useful_information", addressee_kind="participant",
                                      addressee_id=cast.company.user.id, due_at=self.clock.now() + timedelta(days=14))
        return int(row.id)

    # --- credentials ---

    def _full(self, person: Person, label: str) -> Creds:
        csrf = sign_in(self.w.client, self.db, person, self.ctx)
        cookie = self.w.client.cookies.get(SESSION_COOKIE)
        self.w.client.cookies.clear()
        return Creds(label=label, cookie=cookie, csrf=csrf, headers=bearer(self.db, person, self.clock),
                     email=person.email, user_id=person.user.id)

    def _credentials(self) -> None:
        for name in ("in_scope", "pledged", "out_of_scope", "unpledged", "ex_member", "removed", "observer",
                     "outsider", "auditor", *FOREIGN):
            self.w.shared[name] = self._full(self.people[name], name)
        half = accounts.login_with_password(self.db, email=self.people["no2fa_session"].email,
                                            password=self.people["no2fa_session"].password, ip="testclient",
                                            user_agent="pytest", now=self.clock.now(), settings=self.ctx.settings)
        self.db.commit()
        self.w.shared["no2fa_session"] = Creds(label="no2fa_session", cookie=half.cookie,
                                               csrf=half.record.csrf_token,
                                               email=self.people["no2fa_session"].email,
                                               user_id=self.people["no2fa_session"].user.id)
        for name, scopes in (("reset_token", None), ("narrowed_token", NARROW_SCOPES)):
            self.w.shared[name] = Creds(label=name, headers=bearer(self.db, self.people[name], self.clock, scopes),
                                        email=self.people[name].email, user_id=self.people[name].user.id)
        self.w.shared["anonymous"] = Creds(label="anonymous")
        made: dict[int, Creds] = {}
        for kind in KINDS:
            if kind in ("deliverable", "needs", "audit_own", *PROGRAMME_KINDS):
                continue
            cast = self.casts[HOME[kind]]
            for role, person in (("provider", cast.company), ("secretariat", cast.officer)):
                if person.user.id not in made:
                    made[person.user.id] = self._full(person, f"{HOME[kind]}-{role}")
                self.w.own[(kind, role)] = made[person.user.id]

    # --- content that arrives over HTTP: an answer (C6) and a commission deliverable (F5) ---

    def _answer(self, request_id: int) -> None:
        ids = self.w.ids["council"]
        answered = self.w.client.post(
            f"/api/v1/councils/{ids['council']}/requests/{request_id}/answer",
            headers=self.w.own[("answer", "provider")].headers, data={"text": f"回答 {marker('answer', 'BDY')}"},
            files=[("files", (f"{marker('answer', 'FNM')}.txt", f"{marker('answer', 'FIL')}\n".encode(),
                              "text/plain"))])
        assert answered.status_code == 200, answered.text
        self.w.ids["answer"] = {"council": ids["council"], "request": request_id,
                                "file": answered.json()["files"][0]["id"]}

    def _deliverable(self) -> None:
        tank = self.factory.org(kind="think_tank")
        analyst = self.factory.person(roles=("analyst",), org=tank)
        officer = self.casts["council"].officer.principal()
        today = self.clock.now().date()
        commissions.assess_institution(self.db, organization_id=tank.id, assessed_on=today, analysis_score=4,
                                       hub_score=4, talent_score=4, analysis_note="実績", hub_note="網",
                                       talent_note="人材", now=self.clock.now(), actor=officer)
        commission = commissions.create_commission(
            self.db, code="MX-1", title=f"委託調査 {marker('deliverable', 'TTL')}", organization_id=tank.id,
            starts_on=today, due_on=today + timedelta(days=200),
            tasks=[commissions.TaskInput("報告書", today + timedelta(days=100))], now=self.clock.now(), actor=officer)
        self.db.commit()
        creds = self._full(analyst, "deliverable-provider")
        self.w.own[("deliverable", "provider")] = creds
        self.w.own[("deliverable", "secretariat")] = self.w.own[("council", "secretariat")]
        base = f"/api/v1/programme/commissions/{commission.id}"
        # Art. 64 (issue 13): the officer names the analyst the institution's contact; she acknowledges personally
        named = self.w.client.post(f"{base}/contact", headers=self.w.own[("council", "secretariat")].headers,
                                   json={"user_id": analyst.user.id})
        assert named.status_code == 200, named.text
        assert self.w.client.post(f"{base}/acknowledge", headers=creds.headers).status_code == 200
        self._tank_colleagues(tank, base, creds)
        uploaded = self.w.client.post(
            f"{base}/deliverables", headers=creds.headers, data={"title": f"成果物 {marker('deliverable', 'TTL')}"},
            files=[("file", (f"{marker('deliverable', 'FNM')}.txt", f"{marker('deliverable', 'FIL')}\n".encode(),
                             "text/plain"))])
        assert uploaded.status_code == 201, uploaded.text
        self.w.ids["deliverable"].update({"commission": commission.id, "file": uploaded.json()["id"]})
        self._tank_request(commission.id)
        self._remove_from_roster()

    def _tank_request(self, commission_id: int) -> None:
        """C6 under Art. 64 (issue 13): the council's secretariat asks the commission (outside the council) for
        materials while tank_removed is still engaged; the engaged contact answers with a file."""
        council = self.w.ids["council"]["council"]
        officer = self.w.own[("council", "secretariat")]
        base = f"/api/v1/programme/commissions/{commission_id}/requests"
        made = self.w.client.post(base, headers=officer.headers, json={
            "council_id": council, "title": f"資料 {marker('tank_request', 'TTL')}", "body": "一覧",
            "matter": "useful_information", "due_at": (self.clock.now() + timedelta(days=20)).isoformat()})
        assert made.status_code == 201, made.text
        rid = made.json()["id"]
        provider = self.w.own[("deliverable", "provider")]
        answered = self.w.client.post(
            f"{base}/{rid}/answer", headers=provider.headers, data={"text": f"回答 {marker('tank_request', 'BDY')}"},
            files=[("files", (f"{marker('tank_request', 'FNM')}.txt", f"{marker('tank_request', 'FIL')}\n".encode(),
                              "text/plain"))])
        assert answered.status_code == 200, answered.text
        self.w.ids["tank_request"] = {"council": council, "commission": commission_id, "request": rid,
                                      "file": answered.json()["files"][0]["id"]}
        for who in ("provider", "tank_colleague", "tank_removed"):
            self.w.own[("tank_request", who)] = self.w.own[("deliverable", who)]
        self.w.own[("tank_request", "secretariat")] = officer

    def _tank_colleagues(self, tank: object, base: str, contact: Creds) -> None:
        """Art. 64: a colleague at the institution never named (tank_colleague), and one named, acknowledged and
        then removed by the contact (tank_removed); both must know nothing of the commission afterwards."""
        colleague = self.factory.person(roles=("analyst",), org=tank)  # type: ignore[arg-type]
        removed = self.factory.person(roles=("analyst",), org=tank)  # type: ignore[arg-type]
        self.db.commit()
        self.w.own[("deliverable", "tank_colleague")] = self._full(colleague, "tank_colleague")
        gone = self.w.own[("deliverable", "tank_removed")] = self._full(removed, "tank_removed")
        added = self.w.client.post(f"{base}/roster", headers=contact.headers, json={"user_id": removed.user.id})
        assert added.status_code == 201, added.text
        assert self.w.client.post(f"{base}/acknowledge", headers=gone.headers).status_code == 200
        assert self.w.client.get(base, headers=gone.headers).status_code == 200  # engaged: sees it, until removed
        self.w.ids.setdefault("deliverable", {})["removed_roster"] = added.json()["id"]

    def _remove_from_roster(self) -> None:
        """The contact takes tank_removed off the roster after the deliverable was filed (access ends at once)."""
        ids = self.w.ids["deliverable"]
        base = f"/api/v1/programme/commissions/{ids['commission']}"
        done = self.w.client.post(f"{base}/roster/{ids['removed_roster']}/remove",
                                  headers=self.w.own[("deliverable", "provider")].headers,
                                  json={"reason": "担当替え"})
        assert done.status_code == 200, done.text

    def _proposal(self) -> None:
        """A proposal to a published call of a funding agency, with a research-plan document (session 12).

        The proposer (provider) uploads the document over HTTP; the agency's staff (secretariat) read the
        proposal, its budget sheet, the call's review panel and the duplication flags (a second proposal of the
        same researcher makes an effort-concentration flag). Its title carries the agency workbooks' marker,
        the document its own title, file name and text markers.
        """
        load_registry(self.db, self.clock)
        agency_org, ministry = self.factory.org(kind="funding_agency"), self.factory.org(kind="ministry")
        staff = self.factory.person(roles=("agency_staff",), org=agency_org)
        proposer = self.factory.person(roles=("researcher",), org=self.factory.org())
        officer = self.factory.person(roles=("officer",), org=ministry)
        now = self.clock.now()
        programme.create_agency(self.db, code="MXA", name_ja="試験機構", name_en="MXA", organization_id=agency_org.id,
                                now=now, actor=None)
        proposer.user.researcher_number = "11110099"
        made = []
        for number, title in enumerate(("海中測位の提案", "宇宙通信の提案"), start=1):  # one proposal per call
            call = programme.create_call(
                self.db, agency_code="MXA", code=f"MX-2026-0{number}", title_ja="公開の公募",
                title_en="A published call", project_type="project", technology_codes=["V1-OC-02"],
                cap_yen=3_000_000_000, first_fiscal_year=2026, period_years=3, opens_at=now - timedelta(days=1),
                closes_at=now + timedelta(days=30), officer_id=officer.user.id, now=now, actor=staff.principal(),
                documents=[])
            programme.publish_call(self.db, call_id=call.id, now=now, actor=staff.principal())
            made.append((call, programme.submit_proposal(  # 70 % + 70 % effort: a concentration flag (F6)
                self.db, call_id=call.id, title=f"{title} {marker('agency_export', 'TTL')}", summary="概要",
                budget={2026: 100_000_000}, team=[], lead_effort=70, now=now, actor=proposer.principal())))
        call, proposal = made[0]
        self.db.commit()
        for kind in PROGRAMME_KINDS:
            self.w.own[(kind, "provider")] = self.w.own.get(("plan_document", "provider")) or self._full(
                proposer, "programme-provider")
            self.w.own[(kind, "secretariat")] = self.w.own.get(("plan_document", "secretariat")) or self._full(
                staff, "programme-secretariat")
        uploaded = self.w.client.post(
            f"/api/v1/programme/proposals/{proposal.id}/documents", headers=self.w.own[("plan_document", "provider")].headers,
            data={"kind": "research_plan", "title": f"研究計画 {marker('plan_document', 'TTL')}"},
            files=[("file", (f"{marker('plan_document', 'FNM')}.txt", f"{marker('plan_document', 'FIL')}\n".encode(),
                             "text/plain"))])
        assert uploaded.status_code == 201, uploaded.text
        self.w.ids["plan_document"] = {"proposal": proposal.id, "document": uploaded.json()["id"]}
        self.w.ids["agency_export"] = {"proposal": proposal.id, "call": call.id}

    def _needs(self) -> None:
        """A small synthetic analysis on disk and one need entered with a marked reason (T5, T8)."""
        built = prepare_demo_analytics(self.ctx.settings.data_dir.parent / "tt-build", works=300, seed=7)
        target = thinktank.analytics_dir(self.ctx.settings.data_dir)
        for sub in (thinktank.INDICATORS, thinktank.PRIORITIES):
            shutil.copytree(built / sub, target / sub)
        analysis = thinktank.load_analysis(self.ctx.settings.data_dir)
        assert analysis is not None
        technology = self.w.technology = str(analysis.japan_rows()[0]["technology"])
        officer = self.factory.person(roles=("needs_officer",))
        thinktank.enter_need(self.db, actor=officer.principal(), now=self.clock.now(), technology=technology,
                             level=4, reason=f"需要 {marker('needs', 'RSN')}")
        self.db.commit()
        # T8: the needs officer who wrote it, and an organising-ministry officer (the council's secretariat)
        self.w.own[("needs", "provider")] = self._full(officer, "needs-provider")
        self.w.own[("needs", "secretariat")] = self.w.own[("council", "secretariat")]
        # T8: a saved analysis keeps the needs it used (reasons included); an analyst saves one
        analyst = self._full(self._person("analyst", self.factory.person(roles=("analyst",))), "needs-analyst")
        saved = self.w.client.post("/api/v1/thinktank/analyses", headers=analyst.headers, json={
            "name": "保存した分析", "weights": {k: v[0] for k, v in CRITERIA.items()}})
        assert saved.status_code == 201, saved.text
        self.w.ids["needs"] = {"analysis": saved.json()["id"], **self._filed_report(analyst),
                               **self._filed_into_commission()}

    def _filed_report(self, analyst: Creds) -> dict[str, int]:
        """T6: the analyst files the report into a council of its own (every member principal joins it, the
        analyst too); return the filed item and its CSV and workbook files."""
        self._council("tt_filed")
        cast = self.casts["tt_filed"]
        join(cast, self.db, self.clock, self.by_id[analyst.user_id or 0], pledge=True)
        self.db.commit()
        filed = self.w.client.post("/api/v1/thinktank/reports/file", headers=analyst.headers,
                                   json={"council_id": cast.council.id})
        assert filed.status_code == 201, filed.text
        item_id = int(filed.json()["item_id"])
        files = {f.filename: f.id for f in self.db.scalars(select(ItemFile).where(ItemFile.item_id == item_id))}
        return {"filed": item_id, "filed_csv": files["priorities.csv"], "filed_xlsx": files["report.xlsx"]}

    def _filed_into_commission(self) -> dict[str, int]:
        """T6 + F5 (issue 16): the analyst engaged in the commission files the priorities CSV as a deliverable;
        return the commission and the deliverable (its owner side and the engaged read it: never a reason)."""
        ids = self.w.ids["deliverable"]
        filed = self.w.client.post("/api/v1/thinktank/reports/file-commission",
                                   headers=self.w.own[("deliverable", "provider")].headers,
                                   json={"commission_id": ids["commission"], "kind": "priorities.csv"})
        assert filed.status_code == 201, filed.text
        return {"commission": ids["commission"], "filed_commission": int(filed.json()["deliverable_id"])}

    def _own_audit_entry(self) -> None:
        """An audit entry whose data carries a person's own words: the pledged member exports their log
        filtered by a marked text, and the export's entry records the filter (A1, issue 14)."""
        creds = self.w.shared["pledged"]
        self.w.client.cookies.clear()
        done = self.w.client.get(f"/api/v1/audit/export.csv?q={marker('audit_own', 'BDY')}", headers=creds.headers)
        assert done.status_code == 200, done.text
        self.w.ids["audit_own"] = {"author": creds.user_id or 0}
        for role in ("provider", "secretariat"):  # the council's: the founders read their own entries only
            self.w.own[("audit_own", role)] = self.w.own[("council", role)]

    # --- after everything was shared: one person leaves, one loses the second factor ---

    def _leave_and_reset(self) -> None:
        ex, removed = self.people["ex_member"], self.people["removed"]
        for cast in self.casts.values():
            councils.leave(self.db, council_id=cast.council.id, actor=ex.principal(), now=self.clock.now())
            # issue 13: removed by the secretariat, with a reason: access ends as for one who left (C3)
            councils.remove_member(self.db, council_id=cast.council.id, actor=cast.officer.principal(),
                                   now=self.clock.now(), user_id=removed.user.id, reason="検証のため")
        accounts.reset_second_factor(self.db, user_id=self.people["reset_token"].user.id, actor=None,
                                     now=self.clock.now())

    def _check_credentials(self) -> None:
        """Make sure each half credential is what it claims (else its cells would pass as anonymous)."""
        me = "/api/v1/me"
        for name in ("narrowed_token", "pledged"):
            seen = self.w.fetch(me, self.w.shared[name], page=False)
            assert seen.status == 200, (name, seen)  # a live token
        # A second-factor reset revokes the person's tokens (issue 11): the token is refused outright, so its
        # cells see 401 — the strongest "must not know".
        reset = self.w.fetch(me, self.w.shared["reset_token"], page=False)
        assert reset.status == 401 and "revoked" in reset.text, reset
        half = self.w.fetch(me, self.w.shared["no2fa_session"], page=False)
        assert half.status == 401 and "二段階認証" in half.text, half.text  # signed in, second factor due
        assert self.w.fetch("/information", self.w.shared["pledged"], page=True).status == 200  # a live cookie
        self.w.cache.clear()

    def _mail(self) -> None:
        """Send the pending e-mail through the real job into the outbox folder and read it back."""
        notification_tasks.run_due(self.ctx)
        for path in sorted((self.ctx.data_dir / "outbox").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
            text = str(message["Subject"]) + "\n" + "\n".join(
                part.get_content() for part in message.walk() if part.get_content_maintype() == "text")
            for address in message["To"].addresses:
                self.w.mail[address.addr_spec] = self.w.mail.get(address.addr_spec, "") + text
