"""``banso keys``: rotate council, commission and proposal keys, show their status, move key files into an HSM (I11, O2)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from banso.app import keys
from banso.kit.cli import err_console
from banso.kit.errors import BansoError
from banso.web.context import AppContext, app_context

app = typer.Typer(no_args_is_help=True, help="Council, commission and proposal keys (I11): rotate, status, destroy, migrate.")
console = Console()

CouncilOption = typer.Option(None, "--council", help="Council id.")
CommissionOption = typer.Option(None, "--commission", help="Commission id.")
ProposalOption = typer.Option(None, "--proposal", help="Proposal id (its research-plan documents).")
AllOption = typer.Option(False, "--all", help="Every council, commission and proposal with documents.")


def _fail(message: str) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _scopes(ctx: AppContext, council: int | None, commission: int | None, every: bool,
            proposal: int | None = None) -> list[keys.Scope]:
    chosen = [keys.Scope("council", council)] if council is not None else []
    chosen += [keys.Scope("commission", commission)] if commission is not None else []
    chosen += [keys.Scope("proposal", proposal)] if proposal is not None else []
    if every == bool(chosen):
        raise _fail("--council N, --commission N, --proposal N または --all を一つ指定してください / "
                    "give one of --council N, --commission N, --proposal N or --all")
    if every:
        return keys.all_scopes(ctx)
    try:
        for scope in chosen:
            keys.check_scope(ctx, scope)
    except BansoError as exc:
        raise _fail(exc.message) from None
    return chosen


def _versions(versions: list[int]) -> str:
    return ", ".join(f"v{v}" for v in versions) or "-"


@app.command("rotate")
def rotate(council: int | None = CouncilOption, commission: int | None = CommissionOption,
           every: bool = AllOption, proposal: int | None = ProposalOption,
           grace_seconds: float = typer.Option(5.0, min=0, help="Wait for requests that wrapped with the old key (more than 1 s while servers run).")
           ) -> None:
    """Rotate keys: a new version, every wrapped data key re-wrapped, old versions destroyed (audited)."""
    ctx = app_context()
    failed = False
    for scope in _scopes(ctx, council, commission, every, proposal):
        try:
            done = keys.rotate(ctx, scope, grace_seconds=grace_seconds)
        except BansoError as exc:
            err_console.print(f"[red]error:[/red] {exc.message}", highlight=False, soft_wrap=True)
            failed = True
            continue
        if done.version is None:
            console.print(f"{scope.subject}: no key to rotate (nothing sealed yet, or destroyed)", highlight=False)
            continue
        console.print(f"{scope.subject}: {_versions(done.before)} → v{done.version}; re-wrapped "
                      f"{sum(done.rewrapped.values())} data keys; destroyed {_versions(done.retired)}",
                      highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command("status")
def status(council: int | None = CouncilOption, commission: int | None = CommissionOption,
           every: bool = AllOption, proposal: int | None = ProposalOption) -> None:
    """Show each scope's key versions and its wrapped data keys by version."""
    ctx = app_context()
    scopes = keys.all_scopes(ctx) if council is None and commission is None and proposal is None else \
        _scopes(ctx, council, commission, every, proposal)
    table = Table("scope", "key versions", "wrapped data keys by version", title=f"key store: {ctx.settings.key_store}")
    try:
        for scope in scopes:
            found = keys.status(ctx, scope)
            in_use = ", ".join(f"{'damaged' if v == 0 else f'v{v}'}: {n}" for v, n in found.in_use.items()) or "-"
            table.add_row(scope.subject, _versions(found.held), in_use)
    except BansoError as exc:
        raise _fail(exc.message) from None
    console.print(table)


@app.command("destroy")
def destroy(council: int | None = CouncilOption, commission: int | None = CommissionOption,
            confirm: str = typer.Option(..., "--confirm", help="Type the scope again, e.g. council:3, to confirm."),
            proposal: int | None = ProposalOption) -> None:
    """Destroy a council's, commission's or proposal's key for good: everything it sealed becomes unreadable."""
    ctx = app_context()
    given = sum(x is not None for x in (council, commission, proposal))
    [scope] = _scopes(ctx, council, commission, False, proposal) if given == 1 else [_bad_choice()]
    if confirm != scope.subject:
        raise _fail(f"確認のため --confirm {scope.subject} と指定してください / "
                    f"to confirm, pass --confirm {scope.subject}")
    try:
        keys.destroy(ctx, scope)
    except BansoError as exc:
        raise _fail(exc.message) from None
    console.print(f"{scope.subject}: key destroyed; its sealed content can no longer be decrypted (recorded in the "
                  "audit log, honoured by `banso restore`)", highlight=False)


def _bad_choice() -> keys.Scope:
    raise _fail("--council N, --commission N, --proposal N のどれか一つを指定してください / "
                "give one of --council N, --commission N or --proposal N")


@app.command("migrate")
def migrate(to: str = typer.Option(..., "--to", help="Where the keys go: pkcs11."),
            remove_files: bool = typer.Option(False, "--remove-files",
                                              help="Shred each key file once its key is in the HSM.")) -> None:
    """Move the key files under data_dir/keys into the HSM (imported as non-extractable keys)."""
    if to != "pkcs11":
        raise _fail("--to は pkcs11 のみです / --to takes pkcs11 only")
    ctx = app_context()
    try:
        done = keys.migrate_to_pkcs11(ctx, remove_files=remove_files)
    except BansoError as exc:
        raise _fail(exc.message) from None
    for folder in done:
        console.print(f"{folder.kind}: imported {len(folder.imported)} keys, {len(folder.revoked)} tombstones; "
                      f"removed {folder.removed} key files", highlight=False)
