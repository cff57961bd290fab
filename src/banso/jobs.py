"""Scheduled jobs: run inside `banso serve`/`banso demo` and as `banso jobs run-due` for cron."""

from __future__ import annotations

from typing import TYPE_CHECKING

from banso.audit import checkpoints
from banso.audit import service as audit

if TYPE_CHECKING:
    from banso.web.context import AppContext


def run_due(ctx: "AppContext") -> list[str]:
    """Run every job that is due now and return what was done (each job owns its transaction)."""
    done: list[str] = []
    with ctx.sessions() as session:
        latest = audit.latest_checkpoint(session)
        size = audit.tree_size(session)
        if size > 0 and (latest is None or latest.tree_size < size):
            checkpoints.sign_checkpoint(session, key=ctx.signing_key, now=ctx.clock.now())
            session.commit()
            done.append("audit:checkpoint:sign")
    return done
