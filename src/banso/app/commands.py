"""``banso serve``, ``banso demo`` and ``banso jobs`` (composition root: they build the context and the app)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from banso.config import Mode, Settings, get_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

console = Console()
jobs_app = typer.Typer(no_args_is_help=True)


def uvicorn_options(*, proxy_headers: bool = False, forwarded_allow_ips: str = "127.0.0.1") -> dict[str, Any]:
    """Return the uvicorn settings of ``banso serve`` that do not depend on the worker count.

    Client addresses from ``X-Forwarded-For`` only when asked (``--proxy-headers``) and only from
    the proxies named: otherwise any client could choose its own address (and rate-limit bucket).
    """
    return {"log_level": "info", "proxy_headers": proxy_headers, "forwarded_allow_ips": forwarded_allow_ips}


def _run_server(settings: Settings, host: str, port: int, workers: int = 1,
                options: dict[str, Any] | None = None) -> None:
    """Serve with uvicorn: the app in this process, or ``workers`` processes under uvicorn's supervisor.

    Each worker is a fresh process (uvicorn spawns, it does not fork) that builds its own context,
    engine and pool from the environment (:func:`app_from_environment`); they share the listening
    socket. Their metrics meet in a folder made for this start (PROMETHEUS_MULTIPROC_DIR, set before
    any worker imports prometheus_client) and removed at exit. One process keeps its metrics in memory.
    """
    import uvicorn

    options = options if options is not None else uvicorn_options()
    if workers == 1:
        from banso.app.factory import create_app
        from banso.app.wiring import build_context

        app = create_app(build_context(settings.model_copy(update={"prometheus_multiproc_dir": None})))
        uvicorn.run(app, host=host, port=port, **options)
        return
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="banso-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)  # read by prometheus_client and Settings in the workers
    try:
        uvicorn.run("banso.app.commands:app_from_environment", factory=True, workers=workers, host=host,
                    port=port, **options)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def app_from_environment() -> FastAPI:
    """Build the app of one worker from BANSO_* (uvicorn calls this in each worker process)."""
    from banso.app.factory import create_app
    from banso.app.wiring import build_context

    return create_app(build_context(get_settings()))


def refuse_workers(settings: Settings, workers: int) -> str | None:
    """Return why ``workers`` processes cannot serve this database, or None when they can.

    SQLite has one writer at a time and almost every request writes (the audit append, A1), so
    more processes add no throughput, only contention. Within one process the writers queue
    in-process: the admission limit (``web.middleware.ConcurrencyLimit``) keeps them below the
    thread count so the lock holder always finishes. That limit is per process; across processes
    the waiters meet only in SQLite's busy handler, which polls with sleeps and has no order, so
    latency grows without bound under load. Several workers need PostgreSQL.
    """
    if workers < 1:
        return "--workers は1以上です / --workers must be at least 1"
    if workers > 1 and make_url(settings.sqlalchemy_url).get_backend_name() == "sqlite":
        return ("SQLite では1ワーカーのみです（複数ワーカーには PostgreSQL を BANSO_DATABASE_URL に設定） / "
                "SQLite serves with one worker only: several workers need PostgreSQL (set BANSO_DATABASE_URL)")
    return None


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes (several only on PostgreSQL)."),
    proxy_headers: bool = typer.Option(False, "--proxy-headers",
                                       help="Take client addresses from X-Forwarded-For (behind a reverse proxy)."),
    forwarded_allow_ips: str = typer.Option("127.0.0.1", help="Proxy addresses whose X-Forwarded-For is trusted "
                                            "(comma-separated; with --proxy-headers)."),
) -> None:
    """Serve the web UI and API with the configured settings (BANSO_*)."""
    from banso.db.engine import make_engine
    from banso.migrations import migrate

    settings = get_settings()
    refused = refuse_workers(settings, workers)
    if refused:
        console.print(f"[red]error:[/red] {refused}")
        raise typer.Exit(2)
    engine = make_engine(settings.sqlalchemy_url)
    try:
        current = migrate.current_revision(engine)
    except (OperationalError, OSError) as exc:  # a full disk, a down server: a message, not a traceback
        console.print(f"[red]error:[/red] データベースを開けません / cannot open the database: {exc}",
                      markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    if current != migrate.head_revision():
        console.print("[red]error:[/red] the database is not migrated; run `banso db upgrade` first")
        raise typer.Exit(1)
    _run_server(settings, host, port, workers,
                uvicorn_options(proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips))


def demo(
    port: int = typer.Option(8000, help="Port on 127.0.0.1."),
    data: Path = typer.Option(Path("banso-data"), help="Data folder (created if missing, reused if present)."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare and print the logins, then exit."),
) -> None:
    """Create (or reuse) a seeded demo on an embedded database and serve it on 127.0.0.1."""
    import pyotp

    from banso.app.wiring import build_context
    from banso.audit import checkpoints
    from banso.demo import seed
    from banso.demo.councils import seed_councils
    from banso.demo.followups import seed_followups
    from banso.demo.information import seed_exclusions, seed_information
    from banso.demo.programme import seed_programme
    from banso.demo.projects import seed_adopted_project
    from banso.information.deps import information_deps
    from banso.information.sealed_legacy import migration_attributes
    from banso.kit.unit import unit_of_work
    from banso.migrations import migrate
    from banso.sealed import store as sealed
    from banso.thinktank.demo import prepare_demo_analytics

    # Links in notices and e-mails point at the port actually served, unless the operator set the public URL.
    base_url = os.environ.get("BANSO_BASE_URL") or f"http://127.0.0.1:{port}"
    settings = Settings(mode=Mode.DEMO, data_dir=data.resolve(), database_url=None, base_url=base_url)
    ctx = build_context(settings)
    with console.status("データベースを準備しています / preparing the database…"):
        # 0011 seals a reused folder's plaintext with this folder's keys, not the environment's.
        migrate.upgrade(ctx.engine, attributes=migration_attributes(settings.data_dir, settings.secret_key))
        with unit_of_work(ctx.sessions) as db:
            created = seed.seed(db, box=ctx.box, now=ctx.clock.now())
            seed_councils(db, now=ctx.clock.now(), box=ctx.box,
                          store=sealed.sealed_deps(ctx))
            seed_programme(db, now=ctx.clock.now())
            seed_adopted_project(db, now=ctx.clock.now())  # F6: a year-old project with an overdue report
            seed_information(db, information_deps(ctx), now=ctx.clock.now())
            seed_exclusions(db, now=ctx.clock.now(), store=sealed.sealed_deps(ctx))  # issue 13
            seed_followups(db, now=ctx.clock.now(), store=sealed.sealed_deps(ctx),  # issue 15
                           deps=information_deps(ctx))
            checkpoints.sign_checkpoint(db, key=ctx.signing_key, now=ctx.clock.now())
    with console.status("技術分析のデモデータを作成しています / preparing the think-tank analysis…"):
        # Synthetic works (generated here, deterministic) so the think-tank pages have data (T6).
        prepare_demo_analytics(settings.data_dir, works=12_000)
    console.print(f"[bold]banso demo[/bold] — data: {settings.data_dir} ({'new' if created else 'reused'})")
    table = Table("氏名 / name (組織)", "役割 / roles", "e-mail", "TOTP secret", "code now")
    table.columns[2].overflow = table.columns[3].overflow = "fold"
    table.columns[2].min_width, table.columns[3].min_width = 22, 16
    org_names = {o.key: o.short_name for o in seed.ORGS}
    for persona in seed.PERSONAS:
        table.add_row(f"{persona.name_ja} ({org_names[persona.org]})", ", ".join(persona.roles), persona.email,
                      persona.totp_secret, pyotp.TOTP(persona.totp_secret).now())
    console.print(table)
    console.print(f"password for every persona: [bold]{seed.DEMO_PASSWORD}[/bold]  "
                  "(add the TOTP secret to an authenticator app, or run `python -c \"import pyotp;"
                  "print(pyotp.TOTP('SECRET').now())\"`)")
    if no_serve:
        return
    console.print(f"serving on [link]http://127.0.0.1:{port}/[/link]  (Ctrl-C to stop)")
    ctx.engine.dispose()
    _run_server(settings, "127.0.0.1", port)


@jobs_app.command("run-due")
def run_due_command() -> None:
    """Run the scheduled jobs that are due (for cron when not using `banso serve`)."""
    from banso.app.jobs import JobLease, run_due
    from banso.web.context import app_context

    ctx = app_context()
    lease = JobLease(ctx.engine)
    try:
        if not lease.hold():  # a running server (or another cron run) is doing them
            console.print("another process runs the scheduled jobs (it holds the job lock); nothing done")
            return
        done = run_due(ctx)
    finally:
        lease.close()
    console.print(f"ran: {', '.join(done) if done else 'nothing due'}")


def register(app: typer.Typer) -> None:
    """Mount serve, demo and jobs on the root command."""
    app.command("serve")(serve)
    app.command("demo")(demo)
    app.add_typer(jobs_app, name="jobs", help="Scheduled jobs.")
