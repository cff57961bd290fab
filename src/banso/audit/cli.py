"""``banso audit``: export the log, verify it offline or live (A3), sign a checkpoint now (A2)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy.orm import Session

from banso.audit import checkpoints, nodes, service
from banso.audit.export import (
    ExportFormatError,
    ExportReader,
    UnreadableEntry,
    checkpoint_records,
    export_log,
    iter_entry_records,
    stored_upper_bound,
)
from banso.audit.tags import AuditTag
from banso.audit.verify import Problem, VerifyReport, verify_log
from banso.config import get_settings
from banso.db.engine import make_engine, make_session_factory
from banso.kit.clock import SystemClock
from banso.kit.unit import unit_of_work

app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit log (A1–A3).")
console = Console()
err_console = Console(stderr=True)

DatabaseUrl = typer.Option(None, "--database-url", help="SQLAlchemy URL (default: from BANSO_* settings).")


@contextmanager
def _session(database_url: str | None) -> Iterator[Session]:
    """Yield a session on the configured database, as one unit of work (``banso.kit.unit``)."""
    engine = make_engine(database_url or get_settings().sqlalchemy_url)
    try:
        with unit_of_work(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]{message}[/red]", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _pinned_key(public_key: Path | None) -> Ed25519PublicKey | None:
    if public_key is None:
        return None
    try:
        return checkpoints.load_public_key(public_key)
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read public key {public_key}: {exc}") from None


def _progress() -> Progress:
    return Progress(TextColumn("[bold]verifying[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err_console, transient=True)


def _report(report: VerifyReport) -> None:
    if not report.ok:
        raise _fail(report.summary())
    console.print(f"[green]{report.summary()}[/green]", highlight=False, soft_wrap=True)


@app.command("export")
def export_cmd(
    out: Path = typer.Argument(..., help="JSON Lines file to write."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Export the whole log with its checkpoints and public key, for offline verification."""
    settings = get_settings()
    key_path = settings.signing_key_path
    public = checkpoints.load_public_key(key_path) if key_path.exists() else None
    with _session(database_url) as session:
        now = SystemClock().now()
        # A1: an export is itself a security-relevant event; it commits only if the file was written
        # (a failed export leaves the unit with an error: its entry is rolled back).
        service.record(session, tag=AuditTag.LOG_EXPORT, now=now, actor_label="cli", data={"file": out.name})
        try:
            summary = export_log(session, out, public_key=public, now=now)
        except (UnreadableEntry, OSError) as exc:
            raise _fail(f"export failed, nothing written: {exc}") from None
    if public is None:
        err_console.print(f"[yellow]warning: no signing key at {key_path}; the export carries no public key[/yellow]")
    console.print(f"exported {summary.tree_size} entries and {summary.checkpoints} checkpoint(s) to {summary.path}")


@app.command("verify")
def verify_cmd(
    from_export: Path | None = typer.Option(None, "--from-export", help="Verify this export file offline."),
    database_url: str | None = DatabaseUrl,
    public_key: Path | None = typer.Option(
        None, "--public-key", help="PEM of the log's public key you trust (default: the key in the export, "
        "or the configured signing key for the live database)."),
) -> None:
    """Recompute every entry, leaf hash and root and check the signed checkpoints (A3); exit 1 on the first mismatch."""
    pinned = _pinned_key(public_key)
    if from_export is not None:
        _verify_export(from_export, pinned)
    else:
        _verify_database(database_url, pinned)


def _verify_export(path: Path, pinned: Ed25519PublicKey | None) -> None:
    try:
        with path.open(encoding="utf-8") as fh:
            reader = ExportReader(fh)
            key = pinned
            if key is None:
                pem = reader.header.get("public_key_pem")
                if pem:
                    key = checkpoints.parse_public_key_pem(str(pem))
                    err_console.print("note: trusting the public key inside the export; pass --public-key to pin "
                                      "the key you hold as a witness")
            with _progress() as progress:
                task = progress.add_task("verify", total=reader.tree_size)
                report = verify_log(reader.entries(), reader.checkpoints, key, expected_size=reader.tree_size,
                                    progress=_advance(progress, task))
    except OSError as exc:
        raise _fail(f"cannot read {path}: {exc}") from None
    except (ExportFormatError, ValueError) as exc:
        raise _fail(f"{path} is not a valid export: {exc}") from None
    _report(report)


def _advance(progress: Progress, task: TaskID) -> Callable[[int], None]:
    def update(done: int) -> None:
        progress.update(task, completed=done)

    return update


def _verify_database(database_url: str | None, pinned: Ed25519PublicKey | None) -> None:
    key = pinned
    if key is None:
        key_path = get_settings().signing_key_path
        if key_path.exists():
            key = checkpoints.load_public_key(key_path)
    with _session(database_url) as session:
        size = service.tree_size(session)
        cps = checkpoint_records(session)
        try:
            with _progress() as progress:
                task = progress.add_task("verify", total=size)
                report = verify_log(iter_entry_records(session, upto=max(size, stored_upper_bound(session))), cps, key,
                                    expected_size=size, progress=_advance(progress, task))
            if report.ok:
                # The proofs are served from stored subtree nodes: they must match the verified leaves.
                problem = nodes.check_nodes(session, report.entries)
                if problem is not None:
                    report.problem = Problem(kind="node", message=problem)
        except UnreadableEntry as exc:
            raise _fail(f"FAILED: {exc}") from None
        finally:
            session.rollback()
    _report(report)


@app.command("checkpoint")
def checkpoint_cmd(database_url: str | None = DatabaseUrl) -> None:
    """Sign a checkpoint of the log now (A2)."""
    key = checkpoints.load_or_create_signing_key(get_settings().signing_key_path)
    with _session(database_url) as session:
        cp = checkpoints.sign_checkpoint(session, key=key, now=SystemClock().now(), actor_label="cli")
    console.print(f"signed checkpoint: tree size {cp.tree_size}, root {cp.root.hex()}, key id {cp.key_id}")
