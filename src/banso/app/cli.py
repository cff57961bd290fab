"""The ``banso`` command: one Typer app that mounts each domain's thin commands (composition root)."""

from __future__ import annotations

import sys
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


def _db() -> None:
    from banso.migrations.cli import app as db_app

    app.add_typer(db_app, name="db", help="Database migrations.")


def _people() -> None:
    from banso.accounts.cli import tokens_app, users_app

    app.add_typer(users_app, name="users", help="People and organisations.")
    app.add_typer(tokens_app, name="tokens", help="API tokens for scripts.")


def _audit() -> None:
    from banso.audit.cli import app as audit_app

    app.add_typer(audit_app, name="audit", help="The tamper-evident audit log (A1–A3).")


def _analyze() -> None:
    from banso.thinktank.cli import app as analyze_app

    app.add_typer(analyze_app, name="analyze", help="Technology-intelligence analytics (T1–T7).")


def _councils() -> None:
    from banso.councils.cli import app as councils_app

    app.add_typer(councils_app, name="councils", help="Councils (協議会): list, show, evaluate (C1).")


def _programme() -> None:
    from banso.programme.cli import app as programme_app

    app.add_typer(programme_app, name="programme", help="K Program: technology registry and fund ledger (F1–F5).")


def _information() -> None:
    from banso.information.cli import info_app, leak_app

    app.add_typer(info_app, name="information", help="Controlled information (I1–I11): list, run-due.")
    app.add_typer(leak_app, name="leak", help="Leak attribution (I8, I9): attribute FILE.")


def _keys() -> None:
    from banso.app.keys_cli import app as keys_app

    app.add_typer(keys_app, name="keys", help="Council and commission keys (I11, O2): rotate, status, migrate.")


def _web() -> None:
    from banso.app.commands import register as register_web

    register_web(app)  # serve, demo, jobs


def _backup() -> None:
    from banso.backup.cli import register as register_backup

    register_backup(app)  # backup keygen|create|verify, restore


# Which mount brings which top-level command, in the order `banso --help` lists them.
_MOUNTS = ((_db, ("db",)), (_people, ("users", "tokens")), (_audit, ("audit",)), (_analyze, ("analyze",)),
           (_councils, ("councils",)), (_programme, ("programme",)), (_information, ("information", "leak")),
           (_keys, ("keys",)), (_web, ("serve", "demo", "jobs")), (_backup, ("backup", "restore")))


def _mount(command: str | None = None) -> None:
    """Mount the commands: only the one group that ``command`` names, or all of them.

    Why only one: each domain's commands import that domain (pandas and matplotlib for ``analyze``, Alembic for
    ``db``, …); mounting all of them cost every ``banso`` call about 2.5 s of imports before it did anything
    (session 11, `python -X importtime -m banso --help`). ``banso --help`` and an unknown word mount all, so the
    list and click's "No such command" stay whole.
    """
    chosen = [mount for mount, names in _MOUNTS if command in names]
    for mount in chosen or [mount for mount, _ in _MOUNTS]:
        mount()


def _first_word(args: list[str]) -> str | None:
    """Return the top-level command when it comes first; None when an option does (``banso --help db`` shows the
    root's help, which must list every group)."""
    return args[0] if args and not args[0].startswith("-") else None


def main() -> None:
    """Run the banso command line."""
    _mount(_first_word(sys.argv[1:]))
    app()
