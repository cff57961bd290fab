"""``banso users`` and ``banso tokens``: bootstrap people and issue API tokens from the server."""

from __future__ import annotations

import getpass

import pyotp
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from banso.accounts import repository as repo
from banso.accounts import service
from banso.accounts.models import OrgKind, User
from banso.kit.cli import err_console, unit_of_work
from banso.web.context import app_context

users_app = typer.Typer(no_args_is_help=True)
tokens_app = typer.Typer(no_args_is_help=True)
console = Console()


def _user_or_exit(db: Session, email: str) -> User:
    """Return the person with this e-mail, or exit 1 with a message."""
    user = repo.user_by_email(db, email.strip().lower())
    if user is None:
        err_console.print(f"[red]error:[/red] no user {email}")
        raise typer.Exit(1)
    return user


def _ask_password() -> str:
    """Ask for a password twice on a terminal, or exit 2 with a message."""
    if not typer.get_text_stream("stdin").isatty():
        err_console.print("[red]error:[/red] give --password or run interactively")
        raise typer.Exit(2)
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat: ") != password:
        err_console.print("[red]error:[/red] passwords differ")
        raise typer.Exit(2)
    return password


@users_app.command("create")
def create_user(
    email: str = typer.Option(..., help="E-mail address (login name)."),
    name_ja: str = typer.Option(..., help="氏名 (Japanese name)."),
    name_en: str = typer.Option("", help="Name in English."),
    org: str = typer.Option(..., help="Organisation name (Japanese); created when --org-kind is given."),
    org_en: str = typer.Option("", help="Organisation name in English (for a new organisation)."),
    org_kind: str | None = typer.Option(None, help=f"Kind of a new organisation: {', '.join(k.value for k in OrgKind)}."),
    role: list[str] = typer.Option([], help="Platform role (repeatable), e.g. admin, officer, researcher."),
    password: str | None = typer.Option(None, help="Password; asked for when omitted (preferred)."),
    with_totp: bool = typer.Option(False, help="Enrol a second factor now and print its secret."),
) -> None:
    """Create a person (and their organisation) — the bootstrap for the first administrator."""
    if password is None:
        password = _ask_password()
    ctx = app_context()
    now = ctx.clock.now()
    with unit_of_work(ctx) as db:
        organisation = repo.org_by_name(db, org)
        if organisation is None:
            if org_kind is None:
                err_console.print(f"[red]error:[/red] organisation {org!r} does not exist; give --org-kind to create it")
                raise typer.Exit(1)
            organisation = service.create_organization(
                db, name_ja=org, name_en=org_en or org, kind=org_kind, now=now, actor=None
            )
        user = service.create_user(
            db, email=email, name_ja=name_ja, name_en=name_en, organization_id=organisation.id,
            roles=role, password=password, now=now, actor=None,
        )
        codes: list[str] = []
        secret = None
        if with_totp:
            secret = pyotp.random_base32()
            codes = service.enrol_with_secret(db, user=user, secret=secret, box=ctx.box, now=now)
    console.print(f"[green]created[/green] {user.email} (id {user.id}) in {organisation.name_ja}, roles: {', '.join(user.roles) or '—'}")
    if secret:
        console.print(f"TOTP secret: [bold]{secret}[/bold]")
        console.print(f"otpauth URI: {service.totp_uri(user, secret)}")
        console.print("recovery codes (keep them safe, shown once): " + " ".join(codes))


@users_app.command("list")
def list_users() -> None:
    """List people."""
    ctx = app_context()
    with unit_of_work(ctx) as db:
        table = Table("id", "email", "name", "organisation", "roles", "2FA", "active")
        for u in repo.list_users(db):
            table.add_row(str(u.id), u.email, u.name_ja, u.organization.name_ja, ", ".join(u.roles),
                          "✓" if u.totp_enabled else "—", "✓" if u.is_active else "✗")
    console.print(table)


@users_app.command("reset-2fa")
def reset_2fa(email: str = typer.Argument(..., help="The person's e-mail.")) -> None:
    """Remove a person's second factor after an identity check; they enrol again at next login."""
    ctx = app_context()
    with unit_of_work(ctx) as db:
        user = _user_or_exit(db, email)
        service.reset_second_factor(db, user_id=user.id, actor=None, now=ctx.clock.now())
    console.print(f"second factor of {email} removed; all their sessions ended and API tokens revoked")


@users_app.command("reset-password")
def reset_password(
    email: str = typer.Argument(..., help="The person's e-mail."),
    password: str | None = typer.Option(None, help="New password; asked for when omitted (preferred)."),
) -> None:
    """Set a new password after an identity check: their sessions end and all their API tokens are revoked."""
    if password is None:
        password = _ask_password()
    ctx = app_context()
    with unit_of_work(ctx) as db:
        user = _user_or_exit(db, email)
        service.reset_password(db, user_id=user.id, password=password, actor=None, now=ctx.clock.now())
    console.print(f"password of {email} reset; all their sessions ended and API tokens revoked")


@users_app.command("disable")
def disable(email: str = typer.Argument(..., help="The person's e-mail.")) -> None:
    """Disable a person: sessions end and tokens stop working."""
    ctx = app_context()
    with unit_of_work(ctx) as db:
        user = _user_or_exit(db, email)
        service.disable_user(db, user_id=user.id, actor=None, now=ctx.clock.now())
    console.print(f"{email} disabled")


@tokens_app.command("issue")
def issue(
    email: str = typer.Argument(..., help="Whose token."),
    name: str = typer.Option("cli", help="A name to recognise the token by."),
    scope: list[str] = typer.Option([], help="Permission to grant (repeatable); default: all of the user's."),
    expires_in_days: int | None = typer.Option(
        None, help="Days until it expires; default and upper bound: BANSO_TOKEN_MAX_LIFETIME_DAYS (90)."
    ),
    second_factor: bool = typer.Option(
        False, "--second-factor",
        help="Let the token count as a second factor (I7): only for a user with TOTP enrolled, and only "
             "after you checked their identity as for a second-factor login. Without it the token cannot "
             "read non-public council content.",
    ),
) -> None:
    """Issue an API token and print it (the only time it is shown)."""
    ctx = app_context()
    with unit_of_work(ctx) as db:
        user = _user_or_exit(db, email)
        issued = service.issue_token(db, user=user, name=name, scopes=scope or None,
                                     expires_in_days=expires_in_days, now=ctx.clock.now(), actor=None,
                                     max_days=ctx.settings.token_max_lifetime_days, second_factor=second_factor)
    print(issued.raw)
    kind = "counts as a second factor" if issued.record.second_factor else "does not count as a second factor"
    expires = issued.record.expires_at.isoformat() if issued.record.expires_at else "—"
    err_console.print(f"token {issued.record.prefix} (id {issued.record.id}) for {email}, expires {expires}, "
                      f"{kind}; keep it secret")


@tokens_app.command("revoke")
def revoke(token_id: int = typer.Argument(..., help="Token id.")) -> None:
    """Revoke an API token."""
    ctx = app_context()
    with unit_of_work(ctx) as db:
        token = service.revoke_token(db, token_id=token_id, actor=None, now=ctx.clock.now())
    console.print(f"token {token.prefix} revoked")


@tokens_app.command("list")
def list_tokens(email: str = typer.Argument(..., help="Whose tokens.")) -> None:
    """List a person's tokens."""
    ctx = app_context()
    with unit_of_work(ctx) as db:
        user = _user_or_exit(db, email)
        table = Table("id", "name", "prefix", "scopes", "2FA", "expires", "revoked")
        for t in repo.tokens_of(db, user.id):
            table.add_row(str(t.id), t.name, t.prefix, ", ".join(t.scopes) if t.scopes else "(all)",
                          "✓" if t.second_factor else "—",
                          t.expires_at.isoformat() if t.expires_at else "—",
                          t.revoked_at.isoformat() if t.revoked_at else "—")
    console.print(table)
