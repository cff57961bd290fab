"""``banso programme``: technology registry import/export and the ledger reconciliation (operator commands)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from banso.kit.cli import err_console, unit_of_work
from banso.kit.errors import BansoError
from banso.programme import registry_io, service
from banso.web.context import app_context

app = typer.Typer(no_args_is_help=True)
registry_app = typer.Typer(no_args_is_help=True)
ledger_app = typer.Typer(no_args_is_help=True)
app.add_typer(registry_app, name="registry", help="Technology registry (F1): guideline areas and vision technologies.")
app.add_typer(ledger_app, name="ledger", help="The designated fund's ledger (F3).")
console = Console()


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".csv":
        return "csv"
    err_console.print(f"[red]error:[/red] cannot tell the format of {path.name}; give --format yaml or csv")
    raise typer.Exit(2)


@registry_app.command("import")
def import_registry(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="YAML or CSV file."),  # noqa: B008
    fmt: str | None = typer.Option(None, "--format", help="yaml or csv (default: from the file name)."),
) -> None:
    """Import (upsert by code) a registry file; all or nothing, errors name the bad row."""
    fmt_v = _format_of(file, fmt)
    try:
        data = registry_io.parse(file.read_text("utf-8"), fmt=fmt_v)
    except BansoError as exc:
        err_console.print(f"[red]error:[/red] {file.name}: {exc.message}")
        raise typer.Exit(1) from None
    except UnicodeDecodeError:
        err_console.print(f"[red]error:[/red] {file.name} is not UTF-8 text")
        raise typer.Exit(1) from None
    ctx = app_context()
    with unit_of_work(ctx) as session:
        result = service.import_registry(session, data=data, now=ctx.clock.now(), actor=None)
    console.print(f"[green]imported[/green] {result.areas} areas, {result.rounds} rounds, "
                  f"{result.technologies_created} new and {result.technologies_updated} updated technologies")


@registry_app.command("export")
def export_registry(
    fmt: str = typer.Option("yaml", "--format", help="yaml or csv."),
    output: Path | None = typer.Option(None, "--output", "-o", help="File to write (default: standard output)."),  # noqa: B008
) -> None:
    """Export the registry as YAML or CSV."""
    if fmt not in ("yaml", "csv"):
        err_console.print("[red]error:[/red] --format must be yaml or csv")
        raise typer.Exit(2)
    ctx = app_context()
    with unit_of_work(ctx) as session:
        data = service.export_registry(session)
    text = registry_io.to_yaml(data) if fmt == "yaml" else registry_io.to_csv(data)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, "utf-8")
        console.print(f"wrote {len(data.technologies)} technologies to {output}")


@ledger_app.command("reconcile")
def reconcile(agency: str | None = typer.Option(None, help="Agency code (JST, NEDO); default all.")) -> None:
    """Recompute balances from postings; exit 1 when anything does not reconcile."""
    ctx = app_context()
    with unit_of_work(ctx) as session:
        report = service.reconcile(session, actor=None, agency_code=agency)
    table = Table("agency", "received", "available", "committed", "disbursed", "double entry", "identity")
    for a in report.agencies:
        table.add_row(a.agency, f"¥{a.received:,}", f"¥{a.available:,}", f"¥{a.committed:,}", f"¥{a.disbursed:,}",
                      "ok" if a.sums_to_zero else "NG", "ok" if a.identity_holds else "NG")
    console.print(table)
    if not report.ok:
        err_console.print(f"[red]ledger does not reconcile[/red]; unbalanced transactions: "
                          f"{report.unbalanced_transactions}")
        raise typer.Exit(1)
    console.print("[green]ledger reconciles[/green]")
