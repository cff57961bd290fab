"""Snapshot → Parquet store (T1, T7): incremental, resumable, malformed lines counted with file and line.

One run lists the snapshot's files (:mod:`banso.analytics.snapshot`), reads the new or changed ones
into store parts (the DuckDB reader, or :mod:`banso.analytics.fastread`), records each in the manifest
after its part is renamed into place, compacts ``works.parquet`` and matches the technology keywords
(:mod:`banso.analytics.keywords`). The store's layout and format are :mod:`banso.analytics.store`.

The manifest says ``"state": "complete"`` only after a run finished, so a killed run never leaves a
store that looks complete, and the next run resumes from the parts already recorded.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from banso.analytics import config
from banso.analytics.errors import SnapshotError, StoreError
from banso.analytics.snapshot import FileResult, Malformed, SnapshotFile, SnapshotReader, discover
from banso.analytics.store import WORKS, check_format, compact, read_manifest, sql_str, write_manifest
from banso.analytics.synth import is_synthetic_snapshot

if TYPE_CHECKING:  # imported when used: a store-only ingest needs neither (pyarrow, numpy; ≈ 0.3 s)
    from banso.analytics import keywords
    from banso.analytics.technologies import TechnologySet

DECODERS = ("duckdb", "msgspec")


@dataclass
class IngestReport:
    """Summary of one ingest run."""

    files_total: int = 0
    files_read: int = 0
    files_skipped: int = 0
    rows_read: int = 0
    malformed: int = 0
    truncated_files: list[str] = field(default_factory=list)
    malformed_examples: list[Malformed] = field(default_factory=list)
    works_in_store: int = 0
    seconds: float = 0.0
    bytes_read: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    """Works in the store that do not count, by reason (``retracted``, ``paratext``, ``type``, ``type:<t>``)."""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        d = asdict(self)
        return d



def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def ingest(
    snapshot: Path,
    store: Path,
    *,
    threads: int | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_file: Callable[[FileResult, int], None] | None = None,
    verify_hash: bool = True,
    technologies: TechnologySet | None = None,
    decoder: str = "duckdb",
    document_types: tuple[str, ...] | None = None,
) -> IngestReport:
    """Read new or changed snapshot files into the store, then compact it; resumable and incremental.

    Parameters
    ----------
    snapshot : Path
        Folder with ``works/updated_date=*/part_*.gz`` (or plain ``*.jsonl``) files.
    store : Path
        Store folder; created when absent.
    threads : int, optional
        Files read at the same time (default: CPU count).
    on_start, on_file : callable, optional
        Progress hooks: ``on_start(n_files, total_bytes)`` and ``on_file(result, bytes)``.
    verify_hash : bool
        Record a SHA-256 of each file read (used to spot files whose mtime changed but not content).
    technologies : TechnologySet, optional
        Match this technology file's keyword phrases against every stored work now and keep the hits
        in the store (:mod:`banso.analytics.keywords`), so ``indicators`` with the same keywords
        need not read the texts. Parts already matched for these keywords are not matched again.
    decoder : {"duckdb", "msgspec"}
        How each snapshot file is decoded: DuckDB's ``read_json`` (default) or msgspec typed decoding
        in ``threads`` worker processes (default 2; :mod:`banso.analytics.fastread`), which falls
        back to the DuckDB reader for any file it cannot read exactly. Both write the same parts.
    document_types : tuple of str, optional
        The work types that count (default :func:`banso.analytics.config.document_types`); every work
        is stored, and those that will not count are reported in ``excluded``.

    Examples
    --------
    >>> import tempfile
    >>> from banso.analytics.synth import write_synthetic_snapshot
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = write_synthetic_snapshot(d / "snap", works=30, seed=1, processes=1)
    >>> r = ingest(d / "snap", d / "store")
    >>> (r.rows_read, r.malformed, r.works_in_store)
    (30, 0, 30)
    """
    if decoder not in DECODERS:
        raise ValueError(f"--decoder は {', '.join(DECODERS)} のいずれかです（{decoder!r} ではなく） / "
                         f"decoder must be one of {', '.join(DECODERS)}, not {decoder!r}")
    t0 = time.perf_counter()
    files = discover(snapshot)
    store.mkdir(parents=True, exist_ok=True)
    (store / "parts").mkdir(exist_ok=True)
    manifest = read_manifest(store)
    check_format(store, manifest)
    if manifest.get("writer") == "spark":
        # A Spark store keeps works.parquet as a folder of files; compacting it here failed half-way and left the
        # store "in_progress" (session 11). Refuse before anything is written, as the Spark ingest does the reverse.
        raise StoreError(f"ストア {store} は Spark の取り込みで書かれました。--engine spark で取り込むか、DuckDB の取り込みには新しいストアフォルダを使ってください / "
                         f"store {store} was written by the Spark ingest; ingest with --engine spark into it, or "
                         "use a new store folder for the DuckDB ingest")
    recorded: dict[str, Any] = manifest.setdefault("files", {})
    todo: list[tuple[int, SnapshotFile]] = []
    report = IngestReport(files_total=len(files))
    for seq, f in enumerate(files):
        rec: dict[str, Any] = recorded.get(f.rel) or {}
        part_ok = bool(rec) and (store / rec["part"]).exists()
        if part_ok and rec["size"] == f.size and rec["mtime"] == f.mtime:
            continue
        if part_ok and rec["size"] == f.size and verify_hash and rec.get("sha256") == _sha256(f.path):
            rec["mtime"] = f.mtime  # touched, same content
            continue
        todo.append((seq, f))
    report.files_skipped = len(files) - len(todo)
    if not todo and manifest.get("state") == "complete":
        if technologies is not None:
            _match_keywords(store, [store / r["part"] for r in recorded.values() if r.get("rows")],
                            technologies, threads)
        report.works_in_store = int(manifest.get("works", 0))
        report.excluded = excluded_works(store, document_types)
        report.seconds = time.perf_counter() - t0
        return report
    # From here on the store is in flux: say so first, so an interrupted run never looks complete.
    manifest["state"] = "in_progress"
    manifest["snapshot"] = str(snapshot.resolve())
    # Once fed a synthetic snapshot, a store stays marked: its indicators and reports say so (issue 16).
    manifest["synthetic"] = bool(manifest.get("synthetic")) or is_synthetic_snapshot(snapshot)
    write_manifest(store, manifest)
    if on_start:
        on_start(len(todo), sum(f.size for _, f in todo))
    tmpdir = store / "tmp"
    tmpdir.mkdir(exist_ok=True)
    lock = threading.Lock()
    # Keyword matching runs per part as soon as it is written, in a worker process for a large job,
    # so that it overlaps the next files' reads instead of following them (keywords.PartMatcher).
    matcher = _part_matcher(store, technologies, sum(f.size for _, f in todo))
    pool: ProcessPoolExecutor | None = None
    if decoder == "msgspec":
        from banso.analytics import fastread
        n_threads = max(1, min(threads or 2, len(todo)))
        pool = ProcessPoolExecutor(n_threads, mp_context=multiprocessing.get_context("spawn"))
    else:
        n_threads = max(1, min(threads or os.cpu_count() or 1, len(todo)))
    reader = SnapshotReader(tmpdir, files=len(todo), parallel=n_threads)

    def work(item: tuple[int, SnapshotFile]) -> None:
        seq, f = item
        part_rel = f"parts/{f.key}.parquet"
        if pool is not None:
            res = pool.submit(fastread.read_part, f, seq, store / part_rel, tmpdir).result()
        else:
            res = reader.read(f, seq, store / part_rel)
        if matcher is not None and res.rows:
            matcher.submit(store / part_rel)
        digest = _sha256(f.path) if verify_hash else ""
        with lock:
            report.files_read += 1
            report.rows_read += res.rows
            report.malformed += res.malformed
            report.bytes_read += f.size
            if res.truncated:
                report.truncated_files.append(f"{f.rel}: {res.note}")
            report.malformed_examples.extend(res.examples[: max(0, 50 - len(report.malformed_examples))])
            if res.rows or (store / part_rel).exists():
                recorded[f.rel] = {
                    "size": f.size, "mtime": f.mtime, "sha256": digest, "rows": res.rows,
                    "malformed": res.malformed, "truncated": res.truncated, "note": res.note,
                    "part": part_rel, "updated_date": f.updated_date, "seq": seq,
                    "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
            else:
                recorded.pop(f.rel, None)
            # Manifest after the part's rename: a recorded file always has its part on disk.
            write_manifest(store, manifest)
        if on_file:
            on_file(res, f.size)

    try:
        try:
            if n_threads == 1:
                for item in todo:
                    work(item)
            else:
                with ThreadPoolExecutor(n_threads) as ex:
                    list(ex.map(work, todo))
        finally:
            reader.close()
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        parts = [store / rec["part"] for rec in recorded.values() if rec.get("rows")]
        keep = {p.name for p in parts}
        for stale in (store / "parts").glob("*.parquet"):
            if stale.name not in keep:
                stale.unlink()  # a part whose snapshot file no longer yields rows
        if not parts:
            raise SnapshotError(
                f"{snapshot} から何も読めませんでした: 不正な行 {report.malformed} 行"
                + (f"、途中で切れたファイル: {'; '.join(report.truncated_files)}" if report.truncated_files else "")
                + " / "
                + f"nothing could be read from {snapshot}: {report.malformed} malformed line(s)"
                + (f", truncated: {'; '.join(report.truncated_files)}" if report.truncated_files else "")
            )
        report.works_in_store = compact(store, parts)
        if matcher is not None:
            matcher.finish()  # matched while reading and compacting
    finally:
        if matcher is not None:
            matcher.close()
    if technologies is not None:
        _match_keywords(store, parts, technologies, threads)
    report.excluded = excluded_works(store, document_types)
    manifest["state"] = "complete"
    manifest["works"] = report.works_in_store
    manifest["completed_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    write_manifest(store, manifest)
    try:
        tmpdir.rmdir()
    except OSError:
        pass
    report.seconds = time.perf_counter() - t0
    return report


def excluded_works(store: Path, document_types: tuple[str, ...] | None = None) -> dict[str, int]:
    """Return the stored works that do not count, by reason (docs/analytics.md "Exact counting and document types").

    The reasons of ``expressions.exclusions`` (the rule's one definition, which ``indicators`` runs), as
    DuckDB SQL: the ingest then needs no Ibis, whose import and first query cost ≈ 1 s of an ingest of
    100k works (benchmarks/RESULTS.md, session 11). ``tests/analytics/test_exact.py`` checks both agree.
    """
    types = list(document_types if document_types is not None else config.document_types())
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        rows = con.execute(
            "SELECT reason, work_type, count(*) FROM (SELECT work_type, CASE "
            "WHEN coalesce(is_retracted, false) THEN 'retracted' "
            "WHEN coalesce(is_paratext, false) OR work_type = 'paratext' THEN 'paratext' "
            "WHEN work_type IS NOT NULL AND NOT list_contains($types, work_type) THEN 'type' END AS reason "
            f"FROM read_parquet('{sql_str(store / WORKS)}')) WHERE reason IS NOT NULL "
            "GROUP BY ALL ORDER BY reason, work_type", {"types": types}).fetchall()
    finally:
        con.close()
    out = {"retracted": 0, "paratext": 0, "type": 0}
    for reason, work_type, n in rows:
        out[reason] += int(n)
        if reason == "type":
            out[f"type:{work_type}"] = int(n)
    return out


def _part_matcher(store: Path, technologies: TechnologySet | None,
                  todo_bytes: int) -> keywords.PartMatcher | None:
    """Return a ``keywords.PartMatcher`` for this ingest, or None when there is nothing to match."""
    if technologies is None or not any(t.keywords for t in technologies.technologies):
        return None
    from banso.analytics import keywords

    return keywords.PartMatcher(store, technologies, background=todo_bytes >= keywords.PROCESS_MIN_BYTES)


def _match_keywords(store: Path, parts: list[Path], technologies: TechnologySet, threads: int | None) -> None:
    if any(t.keywords for t in technologies.technologies):
        from banso.analytics import keywords

        keywords.match_missing(store, parts, technologies, threads=threads)  # e.g. parts kept from earlier runs
        keywords.prune(store, technologies, parts)

