"""What waits for one person (issue 14): the task list behind the home page, the menu count and ``/api/v1/me/tasks``.

One function, :func:`open_tasks`, gathers every kind of task across the domains — consents to give (C1),
pledges to sign or re-sign (C3), ballots to answer (I4, I5, I6, I13), reviews (F3, F6), minutes to confirm and
action items (C5), material requests (C6) — each decided by the owning domain's service or policy, so a task
names only what its person may know and links only where they may follow (I7, I12: no link that answers 404).

The inbox completes itself from the same list: a task notice (a consent request, a ballot, …) whose task is no
longer open is done (:func:`done_notices`), shown as read and marked read when the inbox or home is opened.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.authz.permissions import Permission
from banso.authz.policies import councils as council_policy
from banso.authz.policies.councils import Standing
from banso.authz.principal import Principal
from banso.councils import repository as council_repo
from banso.councils import service as councils
from banso.councils.models import ActionStatus, BylawsProposal, BylawsVote, Council, CouncilState
from banso.information import exclusions
from banso.information import repository as info_repo
from banso.information import service as information
from banso.kit import unanimity
from banso.kit.clock import JST, as_utc
from banso.notifications import service as notifications
from banso.notifications.models import Notification
from banso.programme import evaluations, tank_requests
from banso.programme import pages as programme_pages
from banso.programme.models import Project, ReportState, ResultsReport

DUE_SOON = timedelta(days=14)
# The order of the home page's sections (and of the API's ``kind``).
KINDS = ("consent", "pledge", "vote", "review", "evaluation", "report", "minutes", "action", "request", "exclusion")
# Which notices ask for which kind of task: once the task is done the notice is done too.
NOTICE_KINDS: Mapping[str, str] = {
    "council.consent_requested": "consent",
    "council.pledge_required": "pledge",
    "information.designation_opened": "vote",
    "information.renewal_opened": "vote",
    "information.nondisclosure_opened": "vote",
    "information.publication_opened": "vote",
    "council.minutes_circulated": "minutes",
    "council.action_item_assigned": "action",
    "council.action_item_due": "action",
    "council.action_item_overdue": "action",
    "council.material_requested": "request",
    "programme.commission_request": "request",
    "information.exclusion_filed": "exclusion",  # issue 13: a claim for the secretariat to decide
    "information.exclusion_decided": "exclusion",  # … and for the chair to confirm  # Art. 64 (issue 13): to a think-tank commission's roster
    "council.bylaws_vote": "vote",
    "programme.evaluation_assigned": "evaluation",
    "programme.evaluation_due": "evaluation",
    "programme.report_due": "report",
}
# Pledges are asked of members of a council that is not over yet (C3).
_PLEDGE_STATES = (CouncilState.PROPOSED, CouncilState.ESTABLISHED, CouncilState.ACTIVE)
_UNDATED = datetime.max.replace(tzinfo=UTC)  # tasks without a due date sort last


@dataclass(frozen=True)
class Task:
    """One thing a person has to do.

    ``name`` is what it is about (a council, item, meeting or proposal title) when the person may know it, else
    None; ``link`` only where the person may follow; ``variant`` narrows the kind (``resign`` for a pledge to sign
    again, the ballot kind for a vote); ``subjects`` are the notice subjects this task keeps open.
    """

    kind: str
    key: str
    name: str | None
    council_id: int | None
    council_ja: str | None
    council_en: str | None
    due_at: datetime | None
    link: str | None
    variant: str | None = None
    subjects: tuple[str, ...] = ()

    def overdue(self, now: datetime) -> bool:
        """Return True when the due date has passed."""
        return self.due_at is not None and as_utc(self.due_at) < now

    def due_soon(self, now: datetime) -> bool:
        """Return True when it is due within the next 14 days (and not yet overdue)."""
        return self.due_at is not None and now <= as_utc(self.due_at) < now + DUE_SOON


@dataclass
class TaskList:
    """A person's open tasks, in :data:`KINDS` order, each kind by due date (overdue first)."""

    tasks: list[Task] = field(default_factory=list)

    def of(self, kind: str) -> list[Task]:
        """Return the tasks of one kind."""
        return [t for t in self.tasks if t.kind == kind]

    def due_soon(self, now: datetime) -> list[Task]:
        """Return the tasks due in the next 14 days, soonest first."""
        return sorted((t for t in self.tasks if t.due_soon(now)), key=_due)

    def open_subjects(self) -> set[tuple[str, str]]:
        """Return the (kind, notice subject) pairs still open."""
        return {(t.kind, s) for t in self.tasks for s in t.subjects}

    def __len__(self) -> int:
        return len(self.tasks)


def _due(task: Task) -> datetime:
    return as_utc(task.due_at) if task.due_at is not None else _UNDATED


def _council_task(kind: str, council: Council, *, key: str, name: str | None, due_at: datetime | None,
                  link: str | None, variant: str | None = None, subjects: Sequence[str] = ()) -> Task:
    return Task(kind=kind, key=key, name=name, council_id=council.id, council_ja=council.title_ja,
                council_en=council.title_en, due_at=due_at, link=link, variant=variant,
                subjects=(f"council:{council.id}", *subjects))


def _consents_and_pledges(session: Session, actor: Principal, rows: list[tuple[Council, Standing]],
                          withheld: Mapping[int, Sequence[str]]) -> list[Task]:
    """Consents to give and pledges to sign; a pledge task also keeps open the notices of the ballots it withholds."""
    tasks: list[Task] = []
    for council, standing in rows:
        link = f"/councils/{council.id}" if council_policy.can_see_council(actor, standing) else None
        if standing.pending_consent:
            row = council_repo.pending_consent(session, council.id, actor.user_id)
            tasks.append(_council_task("consent", council, key=f"consent:{council.id}", name=council.title_ja,
                                       due_at=row.deadline if row is not None else council.consent_deadline,
                                       link=link))
        elif _pledge_due(standing):
            # C3: a bylaws change to the duty asks those who signed before to sign again.
            signed_before = bool(council_repo.pledges_of(session, council.id, actor.user_id))
            tasks.append(_council_task("pledge", council, key=f"pledge:{council.id}", name=council.title_ja,
                                       due_at=None, link=link, variant="resign" if signed_before else "sign",
                                       subjects=withheld.get(council.id, ())))
    return tasks


def _pledge_due(standing: Standing) -> bool:
    return standing.is_member and not standing.pledge_current and standing.council_state in _PLEDGE_STATES


def _votes(session: Session, actor: Principal, councils_by_id: Mapping[int, Council],
           pledge_due: set[int]) -> tuple[list[Task], dict[int, list[str]]]:
    """Ballots awaiting an answer, by title where the gate shows them; and the notice subjects of the others.

    A ballot the person may not see yet (C3, I4: no pledge for the duty in force, or no second factor) shows
    nothing of itself — no id, kind or deadline: where a pledge is due it is folded into the pledge task
    ("re-sign the pledge"), else into one "answer a proposal" task per council, linked to the council page.
    """
    pending = info_repo.pending_ballots_of(session, actor.user_id)
    seen = {b.id for b in information.my_open_ballots(session, actor=actor)}
    items = info_repo.items_by_ids(session, {b.item_id for b in pending if b.id in seen})
    tasks: list[Task] = []
    withheld: dict[int, list[str]] = {}
    for ballot in pending:
        council = councils_by_id.get(ballot.council_id)
        if council is None:
            continue  # not a council the person may see at all (I7)
        if ballot.id in seen:
            tasks.append(_council_task("vote", council, key=f"vote:{ballot.id}", name=items[ballot.item_id].title,
                                       due_at=ballot.deadline, link=f"/information/ballots/{ballot.id}",
                                       variant=ballot.kind, subjects=(f"ballot:{ballot.id}",)))
        else:
            withheld.setdefault(council.id, []).append(f"ballot:{ballot.id}")
    for council_id, subjects in withheld.items():
        if council_id not in pledge_due:
            council = councils_by_id[council_id]
            tasks.append(_council_task("vote", council, key=f"vote:council:{council_id}", name=None, due_at=None,
                                       link=f"/councils/{council_id}", variant="withheld", subjects=subjects))
    return tasks, withheld


def _reviews(session: Session, actor: Principal, now: datetime) -> list[Task]:
    if not actor.has(Permission.PROGRAMME_REVIEW):
        return []
    queue = programme_pages.review_queue(session, actor=actor, now=now)
    tasks: list[Task] = []
    for proposal in queue.items:
        if proposal.id in queue.may_declare:
            variant, link = "declare", "/programme/review"
        elif proposal.id in queue.may_open and proposal.id not in queue.scored:
            variant, link = "score", f"/programme/proposals/{proposal.id}"
        else:
            continue
        call = queue.calls.get(proposal.call_id)
        tasks.append(Task(kind="review", key=f"review:{proposal.id}", name=proposal.title, council_id=None,
                          council_ja=call.title_ja if call else None, council_en=call.title_en if call else None,
                          due_at=None, link=link, variant=variant, subjects=(f"proposal:{proposal.id}",)))
    return tasks


def _bylaws_votes(session: Session, actor: Principal, visible: Mapping[int, Council]) -> list[Task]:
    """Bylaws amendments awaiting the person's answer (issue 13): members see the proposal and its diff."""
    rows = session.execute(select(BylawsProposal, BylawsVote)
                           .join(BylawsVote, BylawsVote.proposal_id == BylawsProposal.id)
                           .where(BylawsVote.user_id == actor.user_id, BylawsVote.decision == unanimity.PENDING,
                                  BylawsProposal.state == unanimity.OPEN)).all()
    tasks: list[Task] = []
    for proposal, _ in rows:
        council = visible.get(proposal.council_id)
        if council is None:
            continue
        tasks.append(_council_task("vote", council, key=f"bylaws:{proposal.id}", name=proposal.summary,
                                   due_at=proposal.deadline,
                                   link=f"/councils/{council.id}/bylaws/proposals/{proposal.id}", variant="bylaws",
                                   subjects=(f"council:{council.id}",)))
    return tasks


def _after_adoption(session: Session, actor: Principal) -> list[Task]:
    """Results reports the person owes as research representative, and evaluations assigned to them (F6)."""
    tasks: list[Task] = []
    for report, project in session.execute(
            select(ResultsReport, Project).join(Project, Project.id == ResultsReport.project_id)
            .where(Project.lead_id == actor.user_id,
                   ResultsReport.state.in_((ReportState.DUE.value, ReportState.RETURNED.value)))).all():
        tasks.append(Task(kind="report", key=f"report:{report.id}", name=project.title, council_id=None,
                          council_ja=None, council_en=None, due_at=_end_of_day(report.due_on),
                          link=f"/programme/projects/{project.id}#report-{report.id}", variant=report.kind,
                          subjects=(f"project:{project.id}:report:{report.id}",)))
    for evaluation, project, assignment in evaluations.evaluations_for(session, actor=actor):
        if evaluation.completed_at is not None or assignment.has_conflict or assignment.grade:
            continue
        tasks.append(Task(kind="evaluation", key=f"evaluation:{evaluation.id}", name=project.title, council_id=None,
                          council_ja=None, council_en=None, due_at=_end_of_day(evaluation.due_on),
                          link=f"/programme/evaluations/{evaluation.id}",
                          variant="declare" if assignment.has_conflict is None else "grade",
                          subjects=(f"evaluation:{evaluation.id}",)))
    return tasks


def _end_of_day(day: date) -> datetime:
    """A due date as the end of that day in JST (a report due on 31 May may still be filed that evening)."""
    return datetime.combine(day, time(23, 59), tzinfo=JST)


def _council_work(session: Session, actor: Principal, readable: Mapping[int, Council], now: datetime,
                  standings: dict[int, Standing]) -> list[Task]:
    """Minutes to confirm, action items and material requests: council content, listed only where readable."""
    tasks: list[Task] = []
    for meeting, _ in council_repo.minutes_to_confirm_of(session, actor.user_id):
        council = readable.get(meeting.council_id)
        if council is None or meeting.minutes_deadline is None or as_utc(meeting.minutes_deadline) <= now:
            continue  # C5: past the deadline the minutes can no longer be answered
        tasks.append(_council_task("minutes", council, key=f"minutes:{meeting.id}", name=meeting.title,
                                   due_at=meeting.minutes_deadline,
                                   link=f"/councils/{council.id}/meetings/{meeting.id}",
                                   subjects=(f"council:{council.id}:meeting:{meeting.id}",)))
    for item in council_repo.action_items_of(session, actor.user_id, sorted(readable)):
        if item.status != ActionStatus.OPEN:
            continue
        council = readable[item.council_id]
        tasks.append(_council_task("action", council, key=f"action:{item.id}", name=item.title, due_at=item.due_at,
                                   link="/councils/actions", subjects=(f"council:{council.id}:action:{item.id}",)))
    for req in council_repo.open_requests_to(session, actor.user_id):
        council = readable.get(req.council_id)
        if council is None:
            continue
        tasks.append(_council_task("request", council, key=f"request:{req.id}", name=req.title, due_at=req.due_at,
                                   link=f"/councils/{council.id}/requests/{req.id}",
                                   subjects=(f"council:{council.id}:request:{req.id}",)))
    # Issue 13: exclusion claims to decide (secretariat) or confirm (chair), named only where the item is readable
    for found in exclusions.awaiting(session, actor=actor, standings=standings):
        claim, council = found.claim, readable[found.claim.council_id]
        subject = (f"item:{found.item.id}" if found.item is not None
                   else f"council:{council.id}:statement:{claim.statement_id}")
        link = (f"/information/items/{found.item.id}" if found.item is not None else f"/councils/{council.id}")
        tasks.append(_council_task("exclusion", council, key=f"exclusion:{claim.id}",
                                   name=found.item.title if found.item is not None else None, due_at=None,
                                   link=link, variant=found.step, subjects=(subject,)))
    # Art. 64 (issue 13): requests to a commission the person is engaged in; never the council's name or content
    for req in tank_requests.open_for(session, actor=actor):
        tasks.append(Task(kind="request", key=f"commission-request:{req.id}", name=req.title, council_id=None,
                          council_ja=None, council_en=None, due_at=req.due_at, link=tank_requests.link_of(req),
                          variant="commission", subjects=(tank_requests.subject_of(req),)))
    return tasks


def _ordered(tasks: Iterable[Task], now: datetime) -> list[Task]:
    """Kinds in :data:`KINDS` order; within a kind overdue first, then by due date, undated last."""
    def rank(task: Task) -> tuple[int, int, datetime, str]:
        return (KINDS.index(task.kind), 0 if task.overdue(now) else 1, _due(task), task.key)
    return sorted(tasks, key=rank)


def council_rows(session: Session, actor: Principal) -> list[tuple[Council, Standing]]:
    """Return the councils the person may see, with their standing in each (loaded once per request)."""
    if not actor.has(Permission.COUNCIL_PARTICIPATE):
        return []
    return councils.councils_with_standing(session, actor=actor)


def open_tasks(session: Session, *, actor: Principal, now: datetime,
               rows: list[tuple[Council, Standing]] | None = None) -> TaskList:
    """Return everything waiting for ``actor`` now, each decided by its domain's policy (issue 14)."""
    rows = council_rows(session, actor) if rows is None else rows
    visible = {c.id: c for c, _ in rows}
    readable = {c.id: c for c, s in rows if council_policy.can_read_content(actor, s)}
    votes, withheld = _votes(session, actor, visible, {c.id for c, s in rows if _pledge_due(s)})
    tasks = [*_consents_and_pledges(session, actor, rows, withheld), *votes,
             *_bylaws_votes(session, actor, visible), *_reviews(session, actor, now), *_after_adoption(session, actor),
             *_council_work(session, actor, readable, now,
                            {c.id: s for c, s in rows if c.id in readable})]
    return TaskList(_ordered(tasks, now))


# ---------------------------------------------------------------------------------------------
# The inbox completes itself


def done_notices(notes: Iterable[Notification], tasks: TaskList) -> list[Notification]:
    """Return the unread task notices whose task is no longer open (the vote was cast, the pledge signed …)."""
    still = tasks.open_subjects()
    return [n for n in notes if n.read_at is None and n.kind in NOTICE_KINDS
            and (NOTICE_KINDS[n.kind], n.subject or "") not in still]


def settle_inbox(session: Session, *, actor: Principal, now: datetime, tasks: TaskList | None = None) -> int:
    """Mark read the person's task notices whose task is done; return how many (issue 14)."""
    tasks = open_tasks(session, actor=actor, now=now) if tasks is None else tasks
    done = done_notices(notifications.unread_notes(session, user_id=actor.user_id, actor=actor), tasks)
    return notifications.mark_done(session, done, now=now)


@dataclass(frozen=True)
class MenuCounts:
    """The numbers in the main menu: open tasks and unread notices (done task notices not counted)."""

    tasks: int
    unread: int


def menu_counts(session: Session, *, actor: Principal, now: datetime,
                known: Mapping[int, Standing | None] | None = None) -> MenuCounts:
    """Return the menu's counts without writing (a page may render inside a read step)."""
    tasks = open_tasks(session, actor=actor, now=now)
    unread = notifications.unread_notes(session, user_id=actor.user_id, actor=actor, known=known)
    return MenuCounts(tasks=len(tasks), unread=len(unread) - len(done_notices(unread, tasks)))



def unread_count(session: Session, *, actor: Principal, known: Mapping[int, Standing | None] | None = None) -> int:
    """Return the unread notices the person may still be told about, without the task list (menus of pages
    other than the home and the inbox: done task notices are settled when those are opened)."""
    return len(notifications.unread_notes(session, user_id=actor.user_id, actor=actor, known=known))


def settle_notices(session: Session, reader: Principal, now: datetime) -> int:
    """Mark read the reader's notices whose task is done (the inbox's :class:`TaskNotices`)."""
    return settle_inbox(session, actor=reader, now=now)
