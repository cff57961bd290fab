"""Snapshot → Parquet store (T1, T7): incremental, resumable, malformed lines counted with file and line.

Store layout::

    STORE/manifest.json          which snapshot files were read (size, mtime, sha256, rows, malformed)
    STORE/parts/<key>.parquet    one file per snapshot file (the incremental cache), with each work's
                                 title and abstract index (JSON text) for keyword matching
    STORE/works.parquet          the compacted store: one row per work, latest updated_date wins

Each part and ``works.parquet`` is written to a temporary file and renamed; the manifest is written
last and says ``"state": "complete"`` only after a run finished, so a killed run never leaves a store
that looks complete, and the next run resumes from the parts already recorded.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import multiprocessing
import os
import re
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import duckdb
from isal import igzip as _igzip
from isal import isal_zlib as _isal_zlib

from banso.analytics.errors import SnapshotError, StoreError
from banso.analytics.technologies import TechnologySet
from banso.analytics.texts import INDEX_SHAPE

MANIFEST = "manifest.json"
WORKS = "works.parquet"
FORMAT_VERSION = 2  # 2: parts keep title + abstract_index (JSON) instead of the rebuilt text
PART_ROW_GROUP = 4096
_GUNZIP_CHUNK = 1 << 18  # 256 KB steps keep the inflate window in cache (2x faster than whole-file)
# DuckDB's read errors and a short or damaged gzip stream (ISA-L raises its own error type).
_READ_ERRORS: tuple[type[BaseException], ...] = (
    duckdb.Error, EOFError, OSError, ValueError, cast(type[BaseException], _isal_zlib.error))
DECODERS = ("duckdb", "msgspec")
_DATE_RE = re.compile(r"updated_date=(\d{4}-\d{2}-\d{2})")
_ID_RE = re.compile(r"^(?:https?://openalex\.org/)?W\d+$", re.IGNORECASE)

# Only the fields the indicators need are read (explicit columns: the JSON reader skips the rest).
# The abstract's inverted index is read as JSON text, not as a MAP: building a MAP per record and
# rebuilding the abstract from it was half of the ingest's time (banso.analytics.texts).
READ_COLUMNS: dict[str, str] = {
    "id": "VARCHAR",
    "title": "VARCHAR",
    "publication_year": "INTEGER",
    "cited_by_count": "INTEGER",
    "updated_date": "VARCHAR",
    "primary_topic": "STRUCT(id VARCHAR, subfield STRUCT(id VARCHAR))",
    "topics": "STRUCT(id VARCHAR)[]",
    "authorships": "STRUCT(institutions STRUCT(id VARCHAR, country_code VARCHAR)[])[]",
    "citation_normalized_percentile": "STRUCT(is_in_top_10_percent BOOLEAN)",
    "abstract_inverted_index": "JSON",
}

_PROJECTION = r"""
SELECT
  CAST(regexp_extract(id, 'W(\d+)$', 1) AS BIGINT) AS work_id,
  CAST($partition_date AS VARCHAR) AS partition_date,
  CAST($seq AS INTEGER) AS part_seq,
  updated_date AS record_updated,  -- the record's own (hive_partitioning off: not the folder's)
  CAST(publication_year AS SMALLINT) AS publication_year,
  CAST(coalesce(cited_by_count, 0) AS INTEGER) AS cited_by_count,
  CAST(regexp_extract(primary_topic.subfield.id, '(\d+)$', 1) AS INTEGER) AS subfield_id,
  CAST(regexp_extract(primary_topic.id, 'T(\d+)$', 1) AS INTEGER) AS primary_topic_id,
  coalesce(list_distinct(list_filter(
      list_transform(topics, lambda t: TRY_CAST(regexp_extract(t.id, 'T(\d+)$', 1) AS INTEGER)),
      lambda x: x IS NOT NULL)), []) AS topic_ids,
  coalesce(list_sort(list_distinct(list_filter(
      flatten(list_transform(authorships, lambda a: list_transform(a.institutions, lambda i: upper(i.country_code)))),
      lambda x: x IS NOT NULL AND x <> ''))), []) AS countries,
  coalesce(list_distinct(list_filter(
      flatten(list_transform(authorships, lambda a: list_transform(a.institutions,
          lambda i: {'institution_id': TRY_CAST(regexp_extract(i.id, 'I(\d+)$', 1) AS BIGINT),
                     'country': nullif(upper(i.country_code), '')}))),
      lambda x: x.institution_id IS NOT NULL)), []) AS institutions,
  citation_normalized_percentile.is_in_top_10_percent AS oa_top10,
  title,
  -- Kept as DuckDB writes JSON (compact). Another shape is read as missing, like any field of the wrong
  -- type (docs/analytics.md), so every stored index decodes (texts.decode_index).
  CASE WHEN regexp_full_match(abstract_inverted_index, $index_shape)
       THEN CAST(abstract_inverted_index AS VARCHAR) END AS abstract_index
FROM read_json($files, format = 'newline_delimited', columns = $columns, compression = $compression,
               hive_partitioning = false, maximum_object_size = 67108864)
"""


@dataclass(frozen=True)
class SnapshotFile:
    """One snapshot partition file."""

    path: Path
    rel: str
    updated_date: str
    size: int
    mtime: float

    @property
    def key(self) -> str:
        """Return a file-system-safe name for this file's part in the store."""
        return re.sub(r"[^A-Za-z0-9_.=-]", "_", self.rel.replace("/", "__"))


@dataclass
class Malformed:
    """A line that could not be read."""

    file: str
    line: int
    error: str


@dataclass
class FileResult:
    """What reading one snapshot file gave."""

    rel: str
    rows: int
    lines: int
    malformed: int
    truncated: bool
    examples: list[Malformed] = field(default_factory=list)
    note: str = ""


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

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict."""
        d = asdict(self)
        return d


def discover(snapshot: Path) -> list[SnapshotFile]:
    """List the snapshot's partition files (``updated_date=*/part_*.gz``, also ``*.jsonl``), oldest first."""
    if not snapshot.exists():
        raise SnapshotError(f"snapshot folder not found: {snapshot}")
    if not snapshot.is_dir():
        raise SnapshotError(f"snapshot path is not a folder: {snapshot}")
    found: list[SnapshotFile] = []
    for p in sorted(snapshot.rglob("*")):
        if not p.is_file() or p.name.startswith("."):
            continue
        name = p.name
        if not (name.startswith("part_") or name.endswith((".jsonl", ".jsonl.gz", ".json.gz", ".ndjson"))):
            continue
        if name.endswith(".tmp") or name == MANIFEST:
            continue
        rel = p.relative_to(snapshot).as_posix()
        m = _DATE_RE.search(rel)
        st = p.stat()
        found.append(SnapshotFile(p, rel, m.group(1) if m else "", st.st_size, st.st_mtime))
    if not found:
        raise SnapshotError(
            f"no snapshot files under {snapshot} (expected works/updated_date=YYYY-MM-DD/part_NNN.gz or *.jsonl)"
        )
    found.sort(key=lambda f: (f.updated_date, f.rel))
    return found


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _gunzip(src: Path, dst: Path) -> None:
    """Decompress ``src`` (gzip, any number of members) into ``dst`` with ISA-L.

    Why not DuckDB's own ``compression = 'gzip'``: its inflate is the ingest's largest single cost
    (≈ 0.8 of 1.3 CPU-s for a 300 MB file); ISA-L in 256 KB steps takes ≈ 0.3 s, and writing the
    plain file for DuckDB to parse costs less than the difference (benchmarks/RESULTS.md, session 4).
    The decompressor releases the GIL, so two files decompress in parallel threads.

    A damaged stream raises one of ``_READ_ERRORS`` (the caller then reads the file line by line);
    failing to write the copy (a full disk) raises :class:`StoreError`, which stops the ingest.
    """
    def cannot_write(exc: OSError) -> StoreError:
        return StoreError(
            f"cannot write {dst} (the decompressed copy of {src.name} that DuckDB reads; it needs free "
            f"disk of about the file's uncompressed size per file read at once): {exc.strerror}")

    out = open(dst, "wb")  # noqa: SIM115 (closed below, where a failed flush is a write error too)
    try:
        with _igzip.open(src, "rb") as fh:  # type: ignore[no-untyped-call]
            while chunk := fh.read(_GUNZIP_CHUNK):
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise cannot_write(exc) from None
        try:
            out.close()
        except OSError as exc:
            raise cannot_write(exc) from None
    finally:
        out.close()


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_manifest(store: Path) -> dict[str, Any]:
    """Return the store's manifest (an empty one when the store is new)."""
    path = store / MANIFEST
    if not path.exists():
        return {"format": FORMAT_VERSION, "state": "new", "files": {}}
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(f"store manifest is unreadable: {path}: {exc}") from None
    return data


def _check_format(store: Path, manifest: dict[str, Any]) -> None:
    if manifest.get("format", FORMAT_VERSION) != FORMAT_VERSION:
        raise StoreError(
            f"store {store} was written in format {manifest.get('format')} (this banso writes {FORMAT_VERSION}); "
            f"ingest the snapshot into a new store folder, or delete this one first"
        )


def _iter_lines(path: Path) -> Iterator[tuple[int, bytes | None, str]]:
    """Yield (line number, raw line, "") and finally (n, None, error) if the stream breaks off."""
    opener: Callable[..., Any] = gzip.open if _is_gzip(path) else open
    n = 0
    try:
        with opener(path, "rb") as fh:
            for n, line in enumerate(fh, start=1):
                yield n, line, ""
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        yield n + 1, None, f"{type(exc).__name__}: {exc}"


class _Reader:
    """Run the DuckDB projection for one file, with a line-by-line fallback for damaged files."""

    def __init__(self, tmpdir: Path, max_examples: int = 20, *, files: int = 1, parallel: int = 1) -> None:
        self.tmpdir = tmpdir
        self.max_examples = max_examples
        self._unstarted = files
        self._parallel = max(1, parallel)
        self._count_lock = threading.Lock()
        self._local = threading.local()
        self._all: list[duckdb.DuckDBPyConnection] = []

    def _con(self) -> duckdb.DuckDBPyConnection:
        con: duckdb.DuckDBPyConnection | None = getattr(self._local, "con", None)
        if con is None:
            con = duckdb.connect()
            con.execute("SET preserve_insertion_order = false")
            con.execute("SET enable_progress_bar = false")
            self._local.con = con
            self._all.append(con)
        return con

    def close(self) -> None:
        """Close the per-thread connections."""
        for con in self._all:
            con.close()
        self._all.clear()

    def _threads_for_next_file(self) -> int:
        """DuckDB threads for the file about to be read.

        Files read in parallel share the CPUs: more DuckDB threads than one core's share per file only
        contend (1M works on 2 cores: 44.9 s instead of 49.8 s with DuckDB's default, one per core).
        The last file to start gets every core, so the run does not end on one thread.
        """
        cpus = os.cpu_count() or 1
        with self._count_lock:
            self._unstarted = max(0, self._unstarted - 1)
            last = self._unstarted == 0
        return cpus if last else max(1, cpus // self._parallel)

    def _copy(self, src: Path, out: Path, f: SnapshotFile, seq: int, *, threads: int,
              ignore_errors: bool = False) -> int:
        sql = _PROJECTION
        if ignore_errors:
            sql = sql.replace("maximum_object_size = 67108864", "maximum_object_size = 67108864, ignore_errors = true")
        params = {
            "files": [str(src)],
            "partition_date": f.updated_date,
            "seq": seq,
            "columns": READ_COLUMNS,
            "compression": "gzip" if _is_gzip(src) else "none",
            "index_shape": INDEX_SHAPE,
        }
        con = self._con()
        con.execute(f"SET threads = {int(threads)}")
        # Sorted by year in small row groups: a window's reader skips the other years' texts.
        rel_sql = (f"COPY ({sql} ORDER BY publication_year) TO '{_sql_str(out)}' "
                   f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {PART_ROW_GROUP})")
        res = con.execute(rel_sql, params).fetchone()
        return int(res[0]) if res else 0

    def read(self, f: SnapshotFile, seq: int, out: Path) -> FileResult:
        tmp = out.with_name("." + out.name + ".tmp")  # hidden: Spark and globs never read it
        threads = self._threads_for_next_file()
        plain: Path | None = None
        try:
            src = f.path
            if _is_gzip(src):
                plain = self.tmpdir / f"{f.key}.jsonl"
                _gunzip(src, plain)
                src = plain
            rows = self._copy(src, tmp, f, seq, threads=threads)
            os.replace(tmp, out)
            return FileResult(f.rel, rows, rows, 0, False)
        except _READ_ERRORS:
            pass  # damaged file: fall back to a line-by-line pass that names each bad line
        finally:
            if plain is not None:
                plain.unlink(missing_ok=True)
        return self._salvage(f, seq, out, tmp, threads)

    def _salvage(self, f: SnapshotFile, seq: int, out: Path, tmp: Path, threads: int) -> FileResult:
        clean = self.tmpdir / f"{f.key}.clean.jsonl"
        result = FileResult(f.rel, 0, 0, 0, False)
        good: list[tuple[int, int]] = []  # (line, work number) of each line passed to the typed reader
        with open(clean, "wb") as fh:
            for n, line, err in _iter_lines(f.path):
                if line is None:
                    result.truncated = True
                    result.note = f"stream ends early after line {n - 1} ({err})"
                    # The last line of a truncated stream may be cut: it was already judged below.
                    break
                result.lines = n
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                    if not isinstance(obj, dict):
                        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")  # noqa: TRY004 (caught below)
                    if not isinstance(obj.get("id"), str) or not _ID_RE.match(obj["id"]):
                        raise ValueError("missing or invalid work 'id'")
                except ValueError as exc:
                    result.malformed += 1
                    if len(result.examples) < self.max_examples:
                        result.examples.append(Malformed(f.rel, n, str(exc)[:200]))
                    continue
                fh.write(line if line.endswith(b"\n") else line + b"\n")
                good.append((n, int(obj["id"].rsplit("W", 1)[-1])))
        rows = 0
        try:
            if good:
                rows = self._copy(clean, tmp, f, seq, threads=threads, ignore_errors=True)
                if rows < len(good):
                    # Valid JSON whose field types the typed reader rejected (e.g. a string year):
                    # find their lines by the work ids that did not come through.
                    seen = {r[0] for r in self._con().execute(
                        f"SELECT DISTINCT work_id FROM read_parquet('{_sql_str(tmp)}')").fetchall()}
                    for n, wid in good:
                        if wid not in seen:
                            result.malformed += 1
                            if len(result.examples) < self.max_examples:
                                result.examples.append(Malformed(f.rel, n, "a field has the wrong type"))
                os.replace(tmp, out)
        finally:
            clean.unlink(missing_ok=True)
        result.rows = rows
        return result


def _sql_str(p: Path) -> str:
    return str(p).replace("'", "''")


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
        raise ValueError(f"decoder must be one of {', '.join(DECODERS)}, not {decoder!r}")
    t0 = time.perf_counter()
    files = discover(snapshot)
    store.mkdir(parents=True, exist_ok=True)
    (store / "parts").mkdir(exist_ok=True)
    manifest = read_manifest(store)
    _check_format(store, manifest)
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
        report.seconds = time.perf_counter() - t0
        return report
    # From here on the store is in flux: say so first, so an interrupted run never looks complete.
    manifest["state"] = "in_progress"
    manifest["snapshot"] = str(snapshot.resolve())
    _atomic_write_text(store / MANIFEST, json.dumps(manifest, indent=1))
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
        n_threads = max(1, min(threads or 2, len(todo)))
        pool = ProcessPoolExecutor(n_threads, mp_context=multiprocessing.get_context("spawn"))
    else:
        n_threads = max(1, min(threads or os.cpu_count() or 1, len(todo)))
    reader = _Reader(tmpdir, files=len(todo), parallel=n_threads)

    def work(item: tuple[int, SnapshotFile]) -> None:
        seq, f = item
        part_rel = f"parts/{f.key}.parquet"
        if pool is not None:
            from banso.analytics import fastread

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
            _atomic_write_text(store / MANIFEST, json.dumps(manifest, indent=1))
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
                f"nothing could be read from {snapshot}: {report.malformed} malformed line(s)"
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
    manifest["state"] = "complete"
    manifest["works"] = report.works_in_store
    manifest["completed_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    _atomic_write_text(store / MANIFEST, json.dumps(manifest, indent=1))
    try:
        tmpdir.rmdir()
    except OSError:
        pass
    report.seconds = time.perf_counter() - t0
    return report


def _part_matcher(store: Path, technologies: TechnologySet | None, todo_bytes: int) -> Any:
    """Return a ``keywords.PartMatcher`` for this ingest, or None when there is nothing to match."""
    if technologies is None or not any(t.keywords for t in technologies.technologies):
        return None
    from banso.analytics import keywords

    return keywords.PartMatcher(store, technologies, background=todo_bytes >= keywords.PROCESS_MIN_BYTES)


def _match_keywords(store: Path, parts: list[Path], technologies: TechnologySet, threads: int | None) -> None:
    from banso.analytics import keywords

    if any(t.keywords for t in technologies.technologies):
        keywords.match_missing(store, parts, technologies, threads=threads)  # e.g. parts kept from earlier runs
        keywords.prune(store, technologies, parts)


def compact(store: Path, parts: list[Path]) -> int:
    """Write ``works.parquet``: one row per work, the version with the latest updated_date.

    Titles and abstract indexes stay in the parts (read only for keyword matching); ``works.parquet`` keeps every other
    column plus ``partition_date``/``part_seq``, which identify the kept version's text.
    """
    out = store / WORKS
    tmp = out.with_name("." + out.name + ".tmp")
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET enable_progress_bar = false")
        # In a fixed order (parts finish in any order): the first part's schema decides the column types.
        src = f"read_parquet({sorted(str(p) for p in parts)!r})"
        dupes = con.execute(f"SELECT count(*) - count(DISTINCT work_id) FROM {src}").fetchone()
        if dupes and dupes[0]:
            # The later updated_date wins: the record's own (the folder's when the record has none),
            # then the later folder, then the later file.
            sql = (f"SELECT * EXCLUDE (rn) FROM (SELECT * EXCLUDE (title, abstract_index), row_number() OVER ("
                   f"PARTITION BY work_id ORDER BY coalesce(record_updated, partition_date) DESC, "
                   f"partition_date DESC, part_seq DESC) AS rn FROM {src}) WHERE rn = 1")
        else:
            sql = f"SELECT * EXCLUDE (title, abstract_index) FROM {src}"
        res = con.execute(
            f"COPY ({sql}) TO '{_sql_str(tmp)}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"
        ).fetchone()
        os.replace(tmp, out)
        return int(res[0]) if res else 0
    finally:
        con.close()


@dataclass(frozen=True)
class StorePaths:
    """Where a complete store's tables are."""

    works: Path
    parts_dir: Path
    parts: tuple[Path, ...]
    stamp: str

    @property
    def parts_glob(self) -> str:
        """Return the glob of the part files (they hold the texts)."""
        return str(self.parts_dir / "*.parquet")


def store_paths(store: Path) -> StorePaths:
    """Return the tables of a complete store, or raise a clear error."""
    works = store_works_path(store)
    manifest = read_manifest(store)
    parts = tuple(store / r["part"] for r in manifest["files"].values() if r.get("rows"))
    files = {k: [v.get("sha256"), v.get("size"), v.get("rows")] for k, v in manifest["files"].items()}
    stamp = hashlib.sha256(json.dumps([files, manifest.get("works")], sort_keys=True).encode()).hexdigest()
    return StorePaths(works, store / "parts", parts, stamp)


def store_works_path(store: Path) -> Path:
    """Return the compacted works file of a complete store, or raise a clear error."""
    if not store.exists():
        raise StoreError(f"store not found: {store} (run `banso analyze ingest SNAPSHOT --store {store}` first)")
    manifest = read_manifest(store)
    _check_format(store, manifest)
    state = manifest.get("state")
    if state != "complete" or not (store / WORKS).exists():
        raise StoreError(
            f"store {store} is incomplete (state: {state}); an ingest was interrupted or never ran — "
            f"re-run `banso analyze ingest` to resume"
        )
    return store / WORKS
