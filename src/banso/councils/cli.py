"""``banso councils``: operators list, inspect and evaluate councils from the server."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from banso.councils import repository as repo
from banso.councils import service
from banso.kit.cli import err_console, unit_of_work
from banso.kit.clock import to_jst
from banso.web.context import app_context

app = typer.Typer(no_args_is_help=True)
console = Console()


@app.command("list")
def list_councils(state: str | None = typer.Option(None, help="Only councils in this state.")) -> None:
    """List every council with its state and consent deadline."""
    ctx = app_context()
    with unit_of_work(ctx) as db:
        table = Table("id", "state", "title", "deadline (JST)", "bylaws", "members")
        for c in repo.all_councils(db):
            if state and c.state != state:
                continue
            table.add_row(str(c.id), c.state, c.title_ja, to_jst(c.consent_deadline).strftime("%Y-%m-%d %H:%M"),
                          f"v{c.bylaws_version} (duty v{c.duty_version})", str(len(repo.current_members(db, c.id))))
        console.print(table)


@app.command("show")
def show(council_id: int = typer.Argument(..., help="Council id.")) -> None:
    """Show a council's state, consents and members."""
    ctx = app_context()
    with unit_of_work(ctx) as db:
        c = repo.council_by_id(db, council_id)
        if c is None:
            err_console.print(f"[red]error:[/red] council {council_id} not found")
            raise typer.Exit(1)
        console.print(f"[bold]{c.title_ja}[/bold] ({c.title_en}) — {c.state}")
        console.print(f"purpose: {c.purpose}")
        console.print(f"technology: {c.technology or '-'}  project: {c.project_ref or '-'}")
        console.print(f"consent deadline: {to_jst(c.consent_deadline).isoformat(timespec='minutes')}")
        if c.end_reason:
            console.print(f"ended: {c.end_reason}")
        consents = Table("user", "kind", "role", "decision", "decided (JST)", "reason", title="consents")
        for k in repo.consents(db, c.id):
            consents.add_row(str(k.user_id), k.kind, k.role, k.decision,
                             to_jst(k.decided_at).strftime("%Y-%m-%d %H:%M") if k.decided_at else "-", k.reason or "")
        console.print(consents)
        members = Table("user", "role", "founding", "joined (JST)", "left (JST)", "pledge", title="members")
        for m in repo.memberships(db, c.id):
            pledged = repo.pledge_for_duty(db, c.id, m.user_id, c.duty_version) is not None
            members.add_row(str(m.user_id), m.role, "yes" if m.founding else "",
                            to_jst(m.joined_at).strftime("%Y-%m-%d"),
                            to_jst(m.left_at).strftime("%Y-%m-%d") if m.left_at else "", "current" if pledged else "-")
        console.print(members)


@app.command("evaluate")
def evaluate(council_id: int | None = typer.Argument(None, help="Council id; all due councils when omitted.")) -> None:
    """Establish or lapse proposed councils by their consents and list the reminders due (C1)."""
    ctx = app_context()
    now = ctx.clock.now()
    with unit_of_work(ctx) as db:
        if council_id is not None:
            c = service.evaluate(db, council_id=council_id, now=now, actor=None)
            console.print(f"council {c.id}: {c.state}")
            return
        report = service.run_due_councils(db, now=now)
    console.print(f"established: {report.established or '-'}  lapsed: {report.lapsed or '-'}  "
                  f"expired consents: {len(report.expired_invitations)}  reminders due: {len(report.reminders)}")
    for r in report.reminders:
        console.print(f"  remind user {r.user_id} about council {r.council_id} ({r.kind}) before "
                      f"{to_jst(r.deadline).isoformat(timespec='minutes')}")
