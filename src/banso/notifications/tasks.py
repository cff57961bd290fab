"""The notification e-mail jobs as ``banso.app.jobs`` runs them: each job in its own unit of work (banso.kit.unit)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from banso.kit.unit import unit_of_work
from banso.notifications import service

if TYPE_CHECKING:
    from banso.web.context import AppContext

log = logging.getLogger("banso.notifications")


def run_due(ctx: AppContext) -> list[str]:
    """Send pending immediate e-mails, then the daily digest when due; return what was done."""
    done: list[str] = []
    settings = ctx.settings
    with unit_of_work(ctx.sessions) as session:
        run = service.send_pending_email(session, mailer=ctx.mailer, now=ctx.clock.now(),
                                         sender=settings.mail_from, base_url=settings.base_url)
        if run.sent or run.failed:
            done.append(f"notifications:email:send sent={run.sent} failed={run.failed}")
    with unit_of_work(ctx.sessions) as session:
        run = service.send_daily_digest(session, mailer=ctx.mailer, now=ctx.clock.now(),
                                        sender=settings.mail_from, base_url=settings.base_url)
        if run.sent or run.failed:
            done.append(f"notifications:digest:send sent={run.sent} failed={run.failed}")
    return done
