"""``banso backup keygen|create|verify`` and ``banso restore`` (O2): thin commands over the backup package."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from rich.console import Console
from rich.progress import (
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from banso.backup import archive, crypto, database, restore
from banso.backup.archive import BackupError
from banso.config import get_settings

app = typer.Typer(no_args_is_help=True, help="Encrypted online backups of database, sealed files and keys (O2).")
console = Console()
err_console = Console(stderr=True)


def register(root: typer.Typer) -> None:
    """Mount ``backup`` and ``restore`` on the ``banso`` command."""
    root.add_typer(app, name="backup", help="Encrypted online backups: keygen, create, verify (O2).")
    root.command("restore")(restore_cmd)


def _fail(message: str) -> typer.Exit:
    err_console.print(message, style="red", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(1)


@contextmanager
def _progress(verb: str, total: int | None = None) -> Iterator[Callable[[str, int], None]]:
    columns = (SpinnerColumn(), TextColumn(f"[bold]{verb}[/bold]"), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    with Progress(*columns, console=err_console, transient=True) as progress:
        files = progress.add_task("", total=total)
        done = [0]

        def advance(path: str, size: int) -> None:
            done[0] += size
            progress.update(files, advance=1, description=f"{done[0] / 1e6:,.1f} MB  {path[-50:]}")

        yield advance


def _private(path: Path) -> X25519PrivateKey:
    try:
        return crypto.load_private(path)
    except (OSError, ValueError, TypeError) as exc:
        raise _fail(f"秘密鍵を読めません / cannot read private key {path}: {exc}") from None


@app.command("keygen")
def keygen_cmd(
    private: Path = typer.Argument(..., help="Where to write the operator's private key (keep it offline)."),
    public: Path | None = typer.Option(None, "--public", help="Public key file (default: PRIVATE with .pub)."),
) -> None:
    """Make the operator key pair: backups are encrypted to the public key, restored with the private one."""
    public = public or private.with_suffix(".pub")
    try:
        fp = crypto.generate_keypair(private, public)
    except OSError as exc:
        raise _fail(f"鍵を書けません / cannot write the key pair: {exc}") from None
    console.print(f"operator key {fp}: private {private} (keep offline), public {public} "
                  "(for `banso backup create --to`)", markup=False, soft_wrap=True)


@app.command("create")
def create_cmd(
    folder: Path = typer.Argument(..., help="New (or empty) folder to hold the backup."),
    to: Path = typer.Option(..., "--to", help="Operator public key (from `banso backup keygen`)."),
) -> None:
    """Back up the running system: database snapshot first, then sealed files and keys; encrypted to --to."""
    try:
        public = crypto.load_public(to)
    except (OSError, ValueError, TypeError) as exc:
        raise _fail(f"公開鍵を読めません / cannot read public key {to}: {exc}") from None
    settings = get_settings()
    try:
        with _progress("backing up") as advance:
            manifest = archive.create(settings, folder, public, now=datetime.now(UTC), progress=advance)
    except (BackupError, database.DatabaseToolError, ValueError, OSError) as exc:
        raise _fail(f"バックアップ失敗、何も残していません / backup failed, nothing kept: {exc}") from None
    size = sum(int(e["size"]) for e in manifest.files)
    console.print(f"backup {folder}: {len(manifest.files)} files, {size} bytes, {manifest.database} at revision "
                  f"{manifest.schema_revision}, {len(manifest.referenced_blobs)} referenced sealed files",
                  markup=False, soft_wrap=True)


@app.command("verify")
def verify_cmd(
    folder: Path = typer.Argument(..., help="Backup folder."),
    key: Path = typer.Option(..., "--key", help="Operator private key."),
) -> None:
    """Decrypt everything, check every hash, open the database dump, find every referenced file; exit 1 on any problem."""
    private = _private(key)
    try:
        with _progress("verifying") as advance:
            report = restore.verify(folder, private, progress=advance)
    except BackupError as exc:
        raise _fail(f"FAILED: {exc}") from None
    _finish(report, f"OK: {report.files} files, {report.bytes} bytes verified")


def _finish(report: restore.Report, success: str) -> None:
    for note in report.notes:
        console.print(note, markup=False, highlight=False, soft_wrap=True)
    if not report.ok:
        raise _fail("FAILED:\n" + "\n".join(f"- {p}" for p in report.problems))
    console.print(success, style="green", markup=False, highlight=False, soft_wrap=True)


NO_NEWER_LOG = ("警告: --newer-log の指定がありません。このバックアップの後に破棄された鍵は、新しい監査ログ"
                "（稼働中のデータベース URL または `banso audit export` のファイル）を --newer-log で渡さない限り"
                "復元されます / warning: no --newer-log: keys destroyed after this backup will come back unless "
                "the newer audit log (the running system's database URL or a `banso audit export` file) is passed "
                "with --newer-log")


def restore_cmd(
    folder: Path = typer.Argument(..., help="Backup folder."),
    key: Path = typer.Option(..., "--key", help="Operator private key."),
    into: Path = typer.Option(..., "--into", help="New, empty data folder (BANSO_DATA_DIR of the restored system)."),
    database_url: str | None = typer.Option(None, "--database-url",
                                            help="New, empty PostgreSQL database (PostgreSQL backups only)."),
    newer_log: str | None = typer.Option(None, "--newer-log", help="The newer audit log: database URL of the running "
                                         "system, or a `banso audit export` file; keys destroyed there since the "
                                         "backup stay destroyed."),
) -> None:
    """Restore a backup into an empty folder (and database); destroyed keys stay destroyed; all is checked."""
    private = _private(key)
    if newer_log is None:  # the backup alone cannot know of destructions after it (I11 crypto-shredding)
        err_console.print(NO_NEWER_LOG, style="yellow", markup=False, highlight=False, soft_wrap=True)
    try:
        with _progress("restoring") as advance:
            report = restore.restore(folder, private, into, database_url=database_url, newer_log=newer_log,
                                     secret_key=get_settings().secret_key, progress=advance)
    except BackupError as exc:
        raise _fail(f"復元しませんでした / nothing restored: {exc}") from None
    _finish(report, f"restored {report.files} files, {report.bytes} bytes into {into}; set BANSO_DATA_DIR={into} "
                    "and the same BANSO_SECRET_KEY as the backed-up system")
