"""``banso analyze``: thin commands over the analytics package (T1–T7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from banso.analytics.errors import AnalyticsError

app = typer.Typer(no_args_is_help=True, help="Technology-intelligence analytics (T1–T7).")
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[bold red]error:[/] {exc}")
    return typer.Exit(code=2)


@app.command()
def synth(
    works: Annotated[int, typer.Option("--works", help="Number of works to write.")] = 10_000,
    out_dir: Annotated[Path, typer.Option("--out", help="Snapshot folder to write (works/ is created in it).")] = Path(
        "synthetic-snapshot"),
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = 0,
    part_size: Annotated[int, typer.Option(help="Works per part file.")] = 10_000,
    processes: Annotated[int, typer.Option(help="Worker processes (0 = CPU count).")] = 0,
) -> None:
    """Write a deterministic synthetic OpenAlex works snapshot (gzip JSON Lines)."""
    from banso.analytics.synth import write_synthetic_snapshot

    if works < 1:
        raise _fail(ValueError("--works must be at least 1"))
    with Progress(TextColumn("synth"), BarColumn(), TextColumn("{task.completed}/{task.total} works"),
                  TimeRemainingColumn(), console=err, transient=True) as progress:
        task = progress.add_task("synth", total=works)
        r = write_synthetic_snapshot(out_dir, works=works, seed=seed, part_size=part_size,
                                     processes=processes or None,
                                     on_part=lambda n: progress.advance(task, n))
    out.print(f"wrote {r.works} works in {r.files} file(s) to {out_dir / 'works'}; "
              f"mean record {r.mean_record_bytes / 1024:.1f} KB, {r.gz_bytes / 1e6:.1f} MB compressed")


@app.command()
def ingest(
    snapshot: Annotated[Path, typer.Argument(help="Snapshot folder (works/updated_date=*/part_*.gz or *.jsonl).")],
    store: Annotated[Path, typer.Option("--store", help="Parquet store folder.")],
    threads: Annotated[int, typer.Option(help="Files read at once (0 = CPU count).")] = 0,
    technologies: Annotated[Path | None, typer.Option(
        "--technologies", help="Technology YAML whose keywords are matched now (default: shipped).")] = None,
    match_keywords: Annotated[bool, typer.Option(
        "--match-keywords/--no-match-keywords",
        help="Match the technology keywords during ingest (without: the store alone; the first "
             "indicators run matches them instead).")] = True,
    decoder: Annotated[str, typer.Option(
        help="Per-file decoder: duckdb (read_json) or msgspec (typed decoding in worker processes; "
             "--threads processes, default 2).")] = "duckdb",
) -> None:
    """Read new snapshot partitions into the Parquet store (incremental, resumable)."""
    from banso.analytics.ingest import FileResult
    from banso.analytics.ingest import ingest as run_ingest
    from banso.analytics.technologies import load_technologies

    try:
        techs = load_technologies(technologies) if match_keywords else None
    except AnalyticsError as exc:
        raise _fail(exc) from None

    with Progress(TextColumn("ingest"), BarColumn(), DownloadColumn(), TextColumn("{task.fields[files]}"),
                  TimeRemainingColumn(), console=err, transient=True) as progress:
        task = progress.add_task("ingest", total=None, files="")

        def on_start(n: int, total: int) -> None:
            progress.update(task, total=total, files=f"0/{n} files")
            progress.n_files = n  # type: ignore[attr-defined]

        def on_file(res: FileResult, size: int) -> None:
            progress.advance(task, size)
            done = progress.tasks[0].fields.get("done", 0) + 1
            progress.update(task, done=done, files=f"{done}/{getattr(progress, 'n_files', '?')} files")

        try:
            report = run_ingest(snapshot, store, threads=threads or None, on_start=on_start, on_file=on_file,
                                technologies=techs, decoder=decoder)
        except (AnalyticsError, ValueError) as exc:
            raise _fail(exc) from None
    out.print(
        f"read {report.files_read} file(s) ({report.files_skipped} unchanged, skipped): "
        f"{report.rows_read} works, {report.malformed} malformed line(s); "
        f"store has {report.works_in_store} works ({report.seconds:.1f} s)"
    )
    for m in report.malformed_examples[:20]:
        err.print(f"[yellow]malformed[/] {m.file}:{m.line}: {m.error}")
    if report.malformed > len(report.malformed_examples[:20]):
        err.print(f"[yellow]… {report.malformed} malformed line(s) in total (see {store}/manifest.json)[/]")
    for t in report.truncated_files:
        err.print(f"[yellow]truncated[/] {t} (lines before the break were kept)")


def _thresholds(spec: str | None) -> Any:
    from banso.analytics.expressions import MonopolyThresholds

    if not spec:
        return MonopolyThresholds()
    try:
        hr, hi, mr, mi = spec.split(",")
        return MonopolyThresholds(float(hr), int(hi), float(mr), int(mi))
    except ValueError:
        raise _fail(ValueError("--monopoly must be HIGH_RATIO,HIGH_INST,MEDIUM_RATIO,MEDIUM_INST e.g. 3,8,2,5")) from None


@app.command()
def indicators(
    store: Annotated[Path, typer.Option("--store", help="Parquet store folder (from `ingest`).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")],
    technologies: Annotated[Path | None, typer.Option("--technologies", help="Technology YAML (default: shipped).")] = None,
    window: Annotated[str, typer.Option(help="Publication years START:END (inclusive).")] = "2019:2023",
    top10: Annotated[str, typer.Option("--top10", help="leiden (tie-weighted) or openalex.")] = "leiden",
    engine: Annotated[str, typer.Option(help="duckdb (embedded) or spark.")] = "duckdb",
    only: Annotated[list[str] | None, typer.Option("--technology", help="Restrict to these technology ids.")] = None,
    monopoly: Annotated[str | None, typer.Option(help="Monopoly thresholds HIGH_RATIO,HIGH_INST,MED_RATIO,MED_INST.")] = None,
    focus: Annotated[str, typer.Option(help="Country reported in the japan_* columns.")] = "JP",
) -> None:
    """Compute the indicators and technologies tables (Parquet + CSV)."""
    from banso.analytics.engine import compute, write_outputs
    from banso.analytics.expressions import Window
    from banso.analytics.technologies import load_technologies

    try:
        win = Window.parse(window)
        techs = load_technologies(technologies)
        if only:
            techs = techs.select(list(only))
        run = compute(store, techs, win, engine=engine, top10=top10, thresholds=_thresholds(monopoly),
                      focus_country=focus.upper())
        write_outputs(run, out_dir)
    except (AnalyticsError, ValueError) as exc:
        raise _fail(exc) from None
    for w in run.warnings:
        err.print(f"[yellow]warning:[/] {w}")
    out.print(f"{run.indicators.num_rows} indicator rows, {run.technologies.num_rows} technologies, "
              f"{run.window_works} works in {win.start}:{win.end} ({run.seconds:.2f} s, {engine}"
              f"{', membership from cache' if run.membership_cached else ''}) → {out_dir}")


@app.command()
def prioritise(
    indicators_dir: Annotated[Path, typer.Option("--indicators", help="Folder written by `indicators`.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")],
    weights: Annotated[Path | None, typer.Option(help="Weights YAML/JSON (criterion: weight).")] = None,
    needs: Annotated[Path | None, typer.Option(help="Social-implementation needs CSV: technology,score,reason[,ministry].")] = None,
    samples: Annotated[int, typer.Option(help="Monte Carlo samples.")] = 2000,
    spread: Annotated[float, typer.Option(help="Weight perturbation (relative, uniform ±).")] = 0.3,
    band: Annotated[int, typer.Option(help="Rank band size.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    focus: Annotated[str, typer.Option(help="Country whose strength is assessed.")] = "JP",
) -> None:
    """Rank technologies by TOPSIS with a Monte Carlo sensitivity analysis (T5)."""
    from banso.analytics.prioritise import run_prioritise

    try:
        res = run_prioritise(indicators_dir, out_dir, weights_file=weights, needs_file=needs, samples=samples,
                             spread=spread, band=band, seed=seed, focus_country=focus.upper())
    except (AnalyticsError, ValueError) as exc:
        raise _fail(exc) from None
    top = res.ranking.sort_values("rank").head(5)
    for _, r in top.iterrows():
        out.print(f"{int(r['rank']):>3}  {r['technology']:<28} closeness {r['closeness']:.3f}  "
                  f"P(keeps band) {r['p_keep_band']:.2f}")
    out.print(f"ranking of {len(res.ranking)} technologies → {out_dir}")


@app.command()
def report(
    indicators_dir: Annotated[Path, typer.Option("--indicators", help="Folder written by `indicators`.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder.")],
    priorities: Annotated[Path | None, typer.Option(help="Folder written by `prioritise`.")] = None,
    lang: Annotated[str, typer.Option(help="ja or en.")] = "ja",
    technologies: Annotated[Path | None, typer.Option("--technologies", help="Technology YAML (names).")] = None,
    file_into: Annotated[int | None, typer.Option("--file-into", help="File the outputs into this council "
                                                   "as a think-tank information item (T6).")] = None,
    as_email: Annotated[str | None, typer.Option("--as", help="E-mail of the member who files it.")] = None,
) -> None:
    """Write the HTML report (ja/en) with charts and the Excel workbook (T6); optionally file it."""
    from banso.analytics.report import write_report

    if file_into is not None and not as_email:
        raise _fail(ValueError("--file-into needs --as EMAIL (the council member who files the report)"))
    try:
        paths = write_report(indicators_dir, out_dir, priorities_dir=priorities, lang=lang,
                             technology_file=technologies)
    except (AnalyticsError, ValueError) as exc:
        raise _fail(exc) from None
    result = {k: str(v) for k, v in paths.items()}
    if file_into is not None and as_email:
        result["item_id"] = str(_file_report(file_into, as_email, indicators_dir, paths))
    out.print(json.dumps(result, ensure_ascii=False))


def _file_report(council_id: int, email: str, indicators_dir: Path, paths: dict[str, Path]) -> int:
    """File the workbook and the indicator tables into a council as one item (T6)."""
    from banso.accounts import repository as accounts_repo
    from banso.accounts import service as accounts
    from banso.authz.principal import AuthMethod
    from banso.information import filing
    from banso.information.deps import information_deps
    from banso.kit.cli import unit_of_work
    from banso.web.context import app_context

    ctx = app_context()
    with unit_of_work(ctx) as db:
        user = accounts_repo.user_by_email(db, email)
        if user is None or not user.is_active:
            raise _fail(ValueError(f"no active person with e-mail {email}"))
        # The operator acts for a person who holds a second factor; the policy still checks membership,
        # pledge and council state (I7).
        actor = accounts.principal_for(user, method=AuthMethod.SESSION, mfa=user.totp_enabled)
        files = [p for p in paths.values() if p.suffix in (".xlsx", ".csv", ".pdf", ".png")]
        files += [p for p in (indicators_dir / "technologies.csv", indicators_dir / "indicators.csv") if p.is_file()]
        item = filing.file_report(db, information_deps(ctx), council_id=council_id, actor=actor,
                                  now=ctx.clock.now(), title=f"技術動向分析レポート（{indicators_dir.name}）",
                                  summary="シンクタンクの技術動向分析（国別指標・優先度）。HTML版は分析環境に保存。",
                                  paths=files)
        return item.id
