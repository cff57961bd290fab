"""The ``banso`` command: one Typer app that mounts each domain's thin commands (composition root)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from banso.kit.root import provide_root_object

if TYPE_CHECKING:
    from banso.web.context import AppContext

app = typer.Typer(
    name="banso",
    help="banso (伴走) — public–private critical-technology cooperation platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root() -> None:
    # Every command reads the same context, built from BANSO_* on first use (web.context.app_context);
    # `banso --help` and commands that need no context build nothing.
    provide_root_object(_context_from_environment)


def _context_from_environment() -> AppContext:
    from banso.app.wiring import build_context
    from banso.config import get_settings

    return build_context(get_settings())


def _mount() -> None:
    # Imported here so `banso --help` stays quick and each domain owns its commands.
    from banso.accounts.cli import tokens_app, users_app
    from banso.app.commands import register as register_web
    from banso.app.keys_cli import app as keys_app
    from banso.audit.cli import app as audit_app
    from banso.backup.cli import register as register_backup
    from banso.councils.cli import app as councils_app
    from banso.information.cli import info_app, leak_app
    from banso.migrations.cli import app as db_app
    from banso.programme.cli import app as programme_app
    from banso.thinktank.cli import app as analyze_app

    app.add_typer(db_app, name="db", help="Database migrations.")
    app.add_typer(users_app, name="users", help="People and organisations.")
    app.add_typer(tokens_app, name="tokens", help="API tokens for scripts.")
    app.add_typer(audit_app, name="audit", help="The tamper-evident audit log (A1–A3).")
    app.add_typer(analyze_app, name="analyze", help="Technology-intelligence analytics (T1–T7).")
    app.add_typer(councils_app, name="councils", help="Councils (協議会): list, show, evaluate (C1).")
    app.add_typer(programme_app, name="programme", help="K Program: technology registry and fund ledger (F1–F5).")
    app.add_typer(info_app, name="information", help="Controlled information (I1–I11): list, run-due.")
    app.add_typer(leak_app, name="leak", help="Leak attribution (I8, I9): attribute FILE.")
    app.add_typer(keys_app, name="keys", help="Council and commission keys (I11, O2): rotate, status, migrate.")
    register_web(app)  # serve, demo
    register_backup(app)  # backup keygen|create|verify, restore


def main() -> None:
    """Run the banso command line."""
    _mount()
    app()
