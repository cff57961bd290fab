"""Thin commands over the analytics package (T1–T7): synth, ingest, indicators, prioritise, report.

Nothing here knows the rest of banso: ``banso analyze`` is assembled by :mod:`banso.thinktank.cli`,
which adds filing a report into a council (T6). The commands import their modules when run, so
``banso --help`` does not load DuckDB, Ibis or pandas.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from banso.analytics.errors import AnalyticsError, StoreError

if TYPE_CHECKING:
    from banso.analytics.expressions import MonopolyThresholds
    from banso.analytics.ingest import IngestReport
    from banso.analytics.snapshot import FileResult
    from banso.analytics.technologies import TechnologySet

HELP = "Technology-intelligence analytics (T1–T7)."
MAX_BOOTSTRAP = 100_000
# Monte Carlo samples of `prioritise`: the ranks are held as one (samples × technologies) array, so 10^11
# asked for 29 TiB and ended in a MemoryError traceback (outside tester, session 12); the bootstrap's bound.
MAX_SYNTH_WORKS = 50_000_000  # 50× the benchmarks' largest snapshot (1M)
MAX_SAMPLES = 100_000
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

# The report's options, shared with the report command that also files (banso.thinktank.cli).
IndicatorsDir = Annotated[Path, typer.Option("--indicators", help="Folder written by `indicators`.")]
OutDir = Annotated[Path, typer.Option("--out", help="Output folder.")]
PrioritiesDir = Annotated[Path | None, typer.Option(help="Folder written by `prioritise`.")]
Lang = Annotated[str, typer.Option(help="ja or en.")]
NamesFile = Annotated[Path | None, typer.Option("--technologies", help="Technology YAML (names).")]


_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def message(exc: Exception) -> str:
    """Return ``exc`` as the product words its errors: "日本語 / English".

    The package's own errors are written so; an OS error (a folder that cannot be read or written) is worded
    here from its file name and reason; anything else keeps its text behind a Japanese lead.
    """
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}" if exc.filename is not None else ""
        return (f"{where} を読み書きできません（{exc.strerror}） / cannot read or write {where}: {exc.strerror}"
                if where else f"読み書きできません（{exc.strerror}） / cannot read or write: {exc.strerror}")
    text = str(exc)
    return text if _JAPANESE.search(text) else f"処理できませんでした / {text}"


def fail(exc: Exception) -> typer.Exit:
    """Print ``exc`` as the command's error (Japanese first) and return the exit (code 2) to raise."""
    err.print(f"[bold red]error:[/] {escape(message(exc))}")  # escaped: a path or id may hold [brackets]
    return typer.Exit(code=2)


def at_least(value: int, option: str, low: int, high: int | None = None) -> None:
    """Raise the command's exit (code 2) when the integer ``option`` lies outside ``low``..``high``.

    Checked here, not by Typer's ``min``/``max``, so the refusal is worded as every other one (Japanese first).
    """
    if value < low or (high is not None and value > high):
        span_ja = f"{low} 以上" + (f" {high} 以下" if high is not None else "")
        span_en = f"at least {low}" + (f" and at most {high}" if high is not None else "")
        raise fail(ValueError(f"{option} は {span_ja} にしてください（{value}） / {option} must be {span_en} "
                              f"(got {value})"))


def synth(
    works: Annotated[int, typer.Option("--works", help="Number of works to write.")] = 10_000,
    out_dir: Annotated[Path, typer.Option("--out", help="Snapshot folder to write (works/ is created in it).")] = Path(
        "synthetic-snapshot"),
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same bytes.")] = 0,
    part_size: Annotated[int, typer.Option(help="Works per part file (at least 1).")] = 10_000,
    processes: Annotated[int, typer.Option(help="Worker processes (0 = CPU count).")] = 0,
) -> None:
    """Write a deterministic synthetic OpenAlex works snapshot (gzip JSON Lines)."""
    from banso.analytics.synth import write_synthetic_snapshot

    at_least(works, "--works", 1, MAX_SYNTH_WORKS)  # the part specs are built in memory first (outside tester)
    at_least(part_size, "--part-size", 1)
    at_least(processes, "--processes", 0)
    try:
        with Progress(TextColumn("synth"), BarColumn(), TextColumn("{task.completed}/{task.total} works"),
                      TimeRemainingColumn(), console=err, transient=True) as progress:
            task = progress.add_task("synth", total=works)
            r = write_synthetic_snapshot(out_dir, works=works, seed=seed, part_size=part_size,
                                         processes=processes or None,
                                         on_part=lambda n: progress.advance(task, n))
    except OSError as exc:  # an output folder that cannot be written: a message, not a traceback
        raise fail(exc) from None
    out.print(f"wrote {r.works} works in {r.files} file(s) to {out_dir / 'works'}; "
              f"mean record {r.mean_record_bytes / 1024:.1f} KB, {r.gz_bytes / 1e6:.1f} MB compressed")


def ingest(
    snapshot: Annotated[Path, typer.Argument(help="Snapshot folder (works/updated_date=*/part_*.gz or *.jsonl).")],
    store: Annotated[Path, typer.Option("--store", help="Parquet store folder.")],
    threads: Annotated[int, typer.Option(
        help="Files read at once (0 = CPU count). DuckDB engine only: with --engine spark the cluster's "
             "executor cores decide (BANSO_SPARK_MASTER, spark.executor.cores), so it is refused there.")] = 0,
    technologies: Annotated[Path | None, typer.Option(
        "--technologies", help="Technology YAML whose keywords are matched now (default: shipped).")] = None,
    match_keywords: Annotated[bool, typer.Option(
        "--match-keywords/--no-match-keywords",
        help="Match the technology keywords during ingest (without: the store alone; the first "
             "indicators run matches them instead).")] = True,
    decoder: Annotated[str | None, typer.Option(
        help="Per-file decoder of the DuckDB engine: duckdb (read_json, the default) or msgspec (typed decoding "
             "in worker processes; --threads processes, default 2). Refused with --engine spark, whose "
             "executors always decode with msgspec and the same projection.")] = None,
    engine: Annotated[str, typer.Option(
        help="duckdb (this machine), or spark: Spark jobs on BANSO_SPARK_MASTER; SNAPSHOT and --store may "
             "then be Hadoop URIs (file://, hdfs://, s3a://).")] = "duckdb",
    verbose: Annotated[bool, typer.Option(
        "--verbose", help="With --engine spark: show Spark's own console warnings (quiet by default).")] = False,
) -> None:
    """Read new snapshot partitions into the Parquet store (incremental, resumable)."""
    from banso.analytics.ingest import ingest as run_ingest
    from banso.analytics.technologies import load_technologies

    at_least(threads, "--threads", 0)
    try:
        if engine not in ("duckdb", "spark"):
            raise ValueError(f"--engine は duckdb か spark です（{engine!r} ではなく） / "
                             f"--engine must be duckdb or spark, not {engine!r}")
        if engine == "spark":
            # Every check that needs no JVM comes first: a typo must not cost a Spark start (outside tester).
            spark_preflight(snapshot, store, decoder=decoder, threads=threads)
        techs = load_technologies(technologies) if match_keywords else None
    except (AnalyticsError, ValueError, OSError) as exc:
        raise fail(exc) from None

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
            if engine == "spark":
                report = _spark_ingest(snapshot, store, techs, quiet=not verbose)
            else:
                report = run_ingest(snapshot, store, threads=threads or None, on_start=on_start, on_file=on_file,
                                    technologies=techs, decoder=decoder or "duckdb")
        except (AnalyticsError, ValueError, OSError) as exc:  # OSError: a store folder that cannot be written
            raise fail(exc) from None
    out.print(
        f"read {report.files_read} file(s) ({report.files_skipped} unchanged, skipped): "
        f"{report.rows_read} works, {report.malformed} malformed line(s); "
        f"store has {report.works_in_store} works ({report.seconds:.1f} s)"
    )
    out.print(_excluded_line(report.excluded))
    for m in report.malformed_examples[:20]:
        err.print(f"[yellow]malformed[/] {m.file}:{m.line}: {m.error}")
    if report.malformed > len(report.malformed_examples[:20]):
        err.print(f"[yellow]… {report.malformed} malformed line(s) in total (see {store}/manifest.json)[/]")
    for t in report.truncated_files:
        err.print(f"[yellow]truncated[/] {t} (lines before the break were kept)")


def spark_preflight(snapshot: Path, store: Path, *, decoder: str | None, threads: int) -> None:
    """Refuse ``ingest --engine spark`` before a JVM starts: options the Spark ingest does not take, and the
    snapshot and store when they are local (a ``file:`` URI or a path; an ``hdfs://`` or ``s3a://`` location
    is checked by the Spark job itself). Raises ValueError, SnapshotError or StoreError, Japanese first.

    Imports nothing of PySpark (tests/analytics/test_cli_messages.py checks it in a fresh interpreter).
    """
    from banso.analytics.snapshot import discover
    from banso.analytics.spark_ingest import WRITER
    from banso.analytics.spark_store import as_uri, local_path
    from banso.analytics.store import check_format, read_manifest

    if decoder is not None:
        raise ValueError("--decoder は DuckDB エンジンの選択です。--engine spark の実行者は常に msgspec と同じ射影で"
                         "読みます / --decoder chooses the DuckDB engine's decoder; the Spark executors always "
                         "decode with msgspec and the same projection")
    if threads:
        raise ValueError("--threads は --engine spark では使えません。並列度は Spark のクラスタ（BANSO_SPARK_MASTER、"
                         "spark.executor.cores）が決めます / --threads is not taken with --engine spark: the "
                         "cluster's executor cores decide (BANSO_SPARK_MASTER, spark.executor.cores)")
    def local(location: Path) -> Path | None:
        # a plain path as given (as_uri would quote its "=" and "%"); a URI that passed through Path: as_uri mends it
        text = str(location)
        return local_path(as_uri(text)) if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", text) else location

    snap = local(snapshot)
    if snap is not None:
        discover(snap)  # the rules the Spark discovery follows (spark_ingest.discover)
    root = local(store)
    if root is None:
        return
    if root.exists() and not root.is_dir():
        raise StoreError(f"ストアのパスがフォルダではありません: {root} / store path is not a folder: {root}")
    manifest = read_manifest(root)
    check_format(root, manifest)
    if manifest.get("files") and manifest.get("writer") != WRITER:
        raise StoreError(f"ストア {root} は DuckDB の取り込みで書かれました。--engine spark では新しいストアフォルダに"
                         f"取り込んでください / store {root} was written by the DuckDB ingest; ingest with "
                         f"--engine spark into a new store folder (or keep using the DuckDB ingest for this one)")


def _spark_ingest(snapshot: Path, store: Path, techs: TechnologySet | None, *, quiet: bool) -> IngestReport:
    """``ingest --engine spark``: the Spark jobs of :mod:`banso.analytics.spark_ingest` (issue 16)."""
    from banso.analytics.engine import spark_session
    from banso.analytics.spark_ingest import ingest as run_spark_ingest

    return run_spark_ingest(spark_session(quiet=quiet), snapshot, store, technologies=techs)


def _excluded_line(excluded: dict[str, int]) -> str:
    """One line naming the works that do not count, by reason (docs/analytics.md, document types)."""
    types = ", ".join(f"{k[5:]} {v}" for k, v in sorted(excluded.items()) if k.startswith("type:"))
    return (f"not counted: {excluded.get('retracted', 0)} retracted, {excluded.get('paratext', 0)} paratext, "
            f"{excluded.get('type', 0)} of other types" + (f" ({types})" if types else ""))


def _thresholds(spec: str | None) -> MonopolyThresholds:
    from banso.analytics.expressions import MonopolyThresholds

    if not spec:
        return MonopolyThresholds()
    try:
        hr, hi, mr, mi = spec.split(",")
        return MonopolyThresholds(float(hr), int(hi), float(mr), int(mi))
    except ValueError:
        raise fail(ValueError("--monopoly は HIGH_RATIO,HIGH_INST,MEDIUM_RATIO,MEDIUM_INST（例: 3,8,2,5）で指定してください / "
                                "--monopoly must be HIGH_RATIO,HIGH_INST,MEDIUM_RATIO,MEDIUM_INST e.g. 3,8,2,5")) from None


def focus_country(value: str) -> str:
    """Return ``--focus`` as an ISO 3166-1 alpha-2 code in upper case, or raise the command's exit (code 2).

    Why: an unknown code (``ZZ``, ``JPN``) matched no work, so every ``japan_*`` column came out empty or 0
    with exit code 0 (outside tester, session 12).
    """
    from banso.analytics.countries import is_country_code

    text = value.strip()
    if not is_country_code(text):
        raise fail(ValueError(f"--focus は JP のような ISO 3166-1 の 2 文字の国コードにしてください（{value!r}） / "
                              f"--focus must be a two-letter ISO 3166-1 country code such as JP (got {value!r})"))
    return text.upper()


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
    types: Annotated[str | None, typer.Option(
        "--types", help="OpenAlex work types that count, comma-separated (default: "
                        "BANSO_ANALYTICS_DOCUMENT_TYPES or article,review,preprint,book-chapter,book).")] = None,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap",
        help="Bootstrap resamples (0–100000) for 95% intervals on the focus country's share and rank (0: off; 200 "
             "takes about 2 s at 100k works). Writes uncertainty.parquet/.csv.")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap (0 or more); same seed, same intervals.")] = 0,
) -> None:
    """Compute the indicators and technologies tables (Parquet + CSV), a README (ja/en) and, with
    --bootstrap, the intervals; technologies under BANSO_ANALYTICS_MIN_WORKS are marked, never ranked."""
    from banso.analytics.engine import write_outputs
    from banso.analytics.expressions import Window
    from banso.analytics.run import compute
    from banso.analytics.technologies import load_technologies

    at_least(bootstrap, "--bootstrap", 0, MAX_BOOTSTRAP)
    at_least(seed, "--seed", 0)
    focus = focus_country(focus)
    try:
        win = Window.parse(window)
        techs = load_technologies(technologies)
        if only:
            techs = techs.select(list(only))
        from banso.analytics.config import parse_document_types
        doc_types = parse_document_types(types) if types is not None else None
        run = compute(store, techs, win, engine=engine, top10=top10, thresholds=_thresholds(monopoly),
                      focus_country=focus.upper(), document_types=doc_types)
        write_outputs(run, out_dir)
        boot_seconds = _bootstrap(store, techs, win, out_dir, focus=focus.upper(), samples=bootstrap, seed=seed,
                                  top10=top10, document_types=doc_types)
        from banso.analytics.report import write_readme
        write_readme(out_dir)
    except (AnalyticsError, ValueError, OSError) as exc:  # OSError: an output folder that cannot be written
        raise fail(exc) from None
    for w in run.warnings:
        err.print(f"[yellow]warning:[/] {w}")
    out.print(_excluded_line(run.excluded))
    out.print(f"{run.indicators.num_rows} indicator rows, {run.technologies.num_rows} technologies, "
              f"{run.window_works} works in {win.start}:{win.end} ({run.seconds:.2f} s, {engine}"
              f"{', membership from cache' if run.membership_cached else ''}) → {out_dir}")
    if bootstrap:
        out.print(f"bootstrap: {bootstrap} resamples, seed {seed} ({boot_seconds:.2f} s) → uncertainty.parquet")


def _bootstrap(store: Path, techs: Any, win: Any, out_dir: Path, *, focus: str, samples: int, seed: int,
               top10: str, document_types: tuple[str, ...] | None) -> float:
    """Write the bootstrap intervals when asked (``samples`` > 0) and return the seconds it took; remove a
    stale table of an earlier run otherwise, so a report never shows intervals of other indicators."""
    import time

    from banso.analytics.uncertainty import UNCERTAINTY_FILE, write_uncertainty

    if samples <= 0:
        for name in (UNCERTAINTY_FILE, "uncertainty.csv"):
            (out_dir / name).unlink(missing_ok=True)
        return 0.0
    started = time.perf_counter()
    # the works the indicators counted (--types), so the intervals lie around the indicators' own figures
    write_uncertainty(store, techs, win, out_dir, focus=focus, samples=samples, seed=seed, top10=top10,
                      document_types=document_types)
    return time.perf_counter() - started


def trends(
    store: Annotated[Path, typer.Option("--store", help="Parquet store folder (from `ingest`).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Output folder (the indicators folder, for the report).")],
    span: Annotated[str, typer.Option(help="Publication years START:END the windows lie in.")] = "2014:2023",
    size: Annotated[int, typer.Option("--window", help="Years per window (both ends included; at least 1).")] = 3,
    step: Annotated[int, typer.Option("--step", help="Years between window starts (at least 1).")] = 1,
    technologies: Annotated[Path | None, typer.Option("--technologies", help="Technology YAML (default: shipped).")] = None,
    top10: Annotated[str, typer.Option("--top10", help="leiden (tie-weighted) or openalex.")] = "leiden",
    engine: Annotated[str, typer.Option(help="duckdb (embedded) or spark.")] = "duckdb",
    only: Annotated[list[str] | None, typer.Option("--technology", help="Restrict to these technology ids.")] = None,
    types: Annotated[str | None, typer.Option("--types", help="OpenAlex work types that count (as indicators).")] = None,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap",
        help="Bootstrap resamples (0–100000) for 95% intervals of every country's share and rank in each window (0: off). "
             "Adds works, small_sample, samples, share_low/high, rank_low/high to trends.parquet/.csv.")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap (0 or more); same seed, same intervals.")] = 0,
) -> None:
    """Compute the shares per technology × country over rolling windows (trends.parquet/.csv) and, with
    --bootstrap, their 95% intervals per window."""
    import time

    from banso.analytics.config import parse_document_types
    from banso.analytics.expressions import Window
    from banso.analytics.technologies import load_technologies
    from banso.analytics.trends import compute_trends, write_trends

    at_least(size, "--window", 1)
    at_least(step, "--step", 1)
    at_least(bootstrap, "--bootstrap", 0, MAX_BOOTSTRAP)
    at_least(seed, "--seed", 0)
    try:
        techs = load_technologies(technologies)
        if only:
            techs = techs.select(list(only))
        started = time.perf_counter()
        run = compute_trends(store, techs, Window.parse(span), size, step, engine=engine, top10=top10,
                             document_types=parse_document_types(types) if types is not None else None,
                             samples=bootstrap, seed=seed)
        write_trends(run, out_dir)
    except (AnalyticsError, ValueError, OSError) as exc:  # OSError: an output folder that cannot be written
        raise fail(exc) from None
    for w in run.empty_windows:
        err.print(f"[yellow]warning:[/] no works published in the window {w}: left out")
    out.print(f"{run.table.num_rows} trend rows in {len(set(run.table['window_start'].to_pylist()))} window(s) "
              f"of {size} year(s), step {step}"
              + (f", bootstrap {bootstrap} resamples, seed {seed}" if bootstrap else "")
              + f" ({time.perf_counter() - started:.2f} s) → {out_dir / 'trends.parquet'}")


def prioritise(
    indicators_dir: IndicatorsDir,
    out_dir: OutDir,
    weights: Annotated[Path | None, typer.Option(help="Weights YAML/JSON (criterion: weight).")] = None,
    needs: Annotated[Path | None, typer.Option(help="Social-implementation needs CSV: technology,score,reason[,ministry].")] = None,
    samples: Annotated[int, typer.Option(help="Monte Carlo samples (1–100000).")] = 2000,
    spread: Annotated[float, typer.Option(help="Weight perturbation (relative, uniform ±).")] = 0.3,
    band: Annotated[int, typer.Option(help="Rank band size.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    focus: Annotated[str, typer.Option(help="Country whose strength is assessed.")] = "JP",
) -> None:
    """Rank technologies by TOPSIS with a Monte Carlo sensitivity analysis (T5)."""
    from banso.analytics.prioritise import run_prioritise

    at_least(samples, "--samples", 1, MAX_SAMPLES)
    focus = focus_country(focus)
    try:
        res = run_prioritise(indicators_dir, out_dir, weights_file=weights, needs_file=needs, samples=samples,
                             spread=spread, band=band, seed=seed, focus_country=focus.upper())
    except (AnalyticsError, ValueError, OSError) as exc:  # OSError: an output folder that cannot be written
        raise fail(exc) from None
    top = res.ranking.sort_values("rank").head(5)
    for _, r in top.iterrows():
        out.print(f"{int(r['rank']):>3}  {r['technology']:<28} closeness {r['closeness']:.3f}  "
                  f"P(keeps band) {r['p_keep_band']:.2f}")
    out.print(f"ranking of {len(res.ranking)} technologies → {out_dir}")


def report(
    indicators_dir: IndicatorsDir,
    out_dir: OutDir,
    priorities: PrioritiesDir = None,
    lang: Lang = "ja",
    technologies: NamesFile = None,
) -> None:
    """Write the HTML report (ja/en) with charts and the Excel workbook (T6)."""
    paths = write_report_files(indicators_dir, out_dir, priorities=priorities, lang=lang, technologies=technologies)
    out.print(json.dumps({k: str(v) for k, v in paths.items()}, ensure_ascii=False))


def write_report_files(indicators_dir: Path, out_dir: Path, *, priorities: Path | None, lang: str,
                       technologies: Path | None) -> dict[str, Path]:
    """Write the report (``report`` command); a user error exits with code 2."""
    from banso.analytics.report import write_report

    try:
        return write_report(indicators_dir, out_dir, priorities_dir=priorities, lang=lang,
                            technology_file=technologies)
    except (AnalyticsError, ValueError, OSError) as exc:  # OSError: an output folder that cannot be written
        raise fail(exc) from None


def add_pipeline_commands(target: typer.Typer) -> None:
    """Register the synth, ingest, indicators, trends and prioritise commands on ``target``."""
    for command in (synth, ingest, indicators, trends, prioritise):
        target.command()(command)


app = typer.Typer(no_args_is_help=True, help=HELP)
add_pipeline_commands(app)
app.command()(report)
