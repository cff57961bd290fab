"""Scheduled jobs: run inside `banso serve`/`banso demo` and as `banso jobs run-due` for cron.

Order matters: domain jobs first (they append audit entries and create notifications), then a
checkpoint is signed over everything they wrote (A2), then e-mail goes out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from banso.audit import checkpoints
from banso.audit import service as audit
from banso.councils import notices
from banso.councils import service as councils
from banso.councils.models import Council
from banso.kit.unit import unit_of_work
from banso.notifications import tasks as notification_tasks

if TYPE_CHECKING:
    from banso.web.context import AppContext


def _council_job(ctx: "AppContext") -> list[str]:
    """Lapse or establish councils at their consent deadline and remind pending founders (C1)."""
    now = ctx.clock.now()
    with unit_of_work(ctx.sessions) as session:
        report = councils.run_due_councils(session, now=now)
        for reminder in report.reminders:
            council = session.get(Council, reminder.council_id)
            if council is not None:
                notices.consent_requested(session, council, [reminder.user_id], deadline=reminder.deadline,
                                          now=now, reminder=True)
        reminded = councils.remind_action_items(session, now=now)
    done = [f"councils:action:remind sent={reminded}"] if reminded else []
    if report.established or report.lapsed or report.reminders or report.expired_invitations:
        done.append(f"councils:due established={len(report.established)} lapsed={len(report.lapsed)} "
                    f"reminders={len(report.reminders)} expired={len(report.expired_invitations)}")
    return done


def _information_job(ctx: "AppContext") -> list[str]:
    """Settle ballots at their deadline, lapse ended designations, publish due results, remind (I4–I6)."""
    from banso.information import service as information
    from banso.information.deps import information_deps

    with unit_of_work(ctx.sessions) as session:
        report = information.run_due_information(session, now=ctx.clock.now(), deps=information_deps(ctx))
    if report.settled or report.lapsed or report.published or report.reminders:
        return [f"information:due settled={report.settled} lapsed={report.lapsed} "
                f"published={report.published} reminders={report.reminders}"]
    return []


def _checkpoint_job(ctx: "AppContext") -> list[str]:
    """Sign a checkpoint when the log has grown since the last one (A2)."""
    with unit_of_work(ctx.sessions) as session:
        latest = audit.latest_checkpoint(session)
        size = audit.tree_size(session)
        if size > 0 and (latest is None or latest.tree_size < size):
            checkpoints.sign_checkpoint(session, key=ctx.signing_key, now=ctx.clock.now())
            return ["audit:checkpoint:sign"]
    return []


def run_due(ctx: "AppContext") -> list[str]:
    """Run every job that is due now and return what was done (each job is its own unit of work)."""
    done = _council_job(ctx)
    done += _information_job(ctx)
    done += _checkpoint_job(ctx)
    done += notification_tasks.run_due(ctx)
    return done
