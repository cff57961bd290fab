"""``banso leak`` and ``banso information``: attribute a leaked copy, list items, run the lapse job."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from banso.kit.cli import err_console, unit_of_work
from banso.kit.clock import to_jst
from banso.web.context import app_context

leak_app = typer.Typer(no_args_is_help=True)
info_app = typer.Typer(no_args_is_help=True)
console = Console()


@leak_app.command("attribute")
def attribute(
    file: Path = typer.Argument(..., help="The leaked copy or excerpt (PDF, text or CSV)."),
    item_id: int | None = typer.Option(None, "--item", help="Only consider copies of this item."),
) -> None:
    """Name the most likely recipient of a leaked copy or excerpt, with a confidence figure (I8, I9)."""
    if not file.is_file():
        err_console.print(f"[red]error:[/red] {file} is not a readable file")
        raise typer.Exit(2)
    data = file.read_bytes()
    if not data:
        err_console.print(f"[red]error:[/red] {file} is empty")
        raise typer.Exit(2)
    from banso.information import distribution

    ctx = app_context()
    with unit_of_work(ctx) as db:
        finding = distribution.attribute(db, data=data, filename=file.name, item_id=item_id,
                                         actor_label="cli", now=ctx.clock.now())
        d = finding.distribution or finding.sealed
        if d is None:
            console.print("[yellow]no recipient found[/yellow]: " + finding.explanation)
        else:
            # An item copy names its item; a sealed copy its kind and row (e.g. material_file:7, I12).
            item_copy, sealed_copy = finding.distribution, finding.sealed
            what = f"item #{item_copy.item_id}" if item_copy else sealed_copy.subject if sealed_copy else ""
            console.print(f"[bold]most likely recipient:[/bold] {finding.user_label} ({finding.organization_label})")
            console.print(f"{what}, copy #{d.id} ({d.channel}), issued "
                          f"{to_jst(d.created_at).strftime('%Y-%m-%d %H:%M')} JST")
            console.print(f"[bold]confidence:[/bold] {finding.confidence:.6f}")
            console.print(finding.explanation)
        for line in finding.evidence:
            console.print(f"  evidence: {line}")
    if finding.distribution is None and finding.sealed is None:
        raise typer.Exit(1)


@info_app.command("list")
def list_items(council_id: int | None = typer.Option(None, "--council", help="Only this council.")) -> None:
    """List every item with its state (operators; shows metadata only, never content)."""
    from sqlalchemy import select

    from banso.information.models import Item

    ctx = app_context()
    with unit_of_work(ctx) as db:
        stmt = select(Item).order_by(Item.id)
        if council_id is not None:
            stmt = stmt.where(Item.council_id == council_id)
        table = Table("id", "council", "state", "category", "provenance", "title")
        for item in db.scalars(stmt):
            table.add_row(str(item.id), str(item.council_id), item.state, item.category, item.provenance, item.title)
        console.print(table)


@info_app.command("run-due")
def run_due() -> None:
    """Settle ballots at their deadline, lapse ended designations, publish due results (I4–I6)."""
    from banso.information import service
    from banso.information.deps import information_deps

    ctx = app_context()
    with unit_of_work(ctx) as db:
        report = service.run_due_information(db, now=ctx.clock.now(), deps=information_deps(ctx))
    console.print(f"settled={report.settled} lapsed={report.lapsed} published={report.published} "
                  f"reminders={report.reminders} released={report.released}")
