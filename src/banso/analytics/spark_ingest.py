"""Snapshot → store as Spark jobs (T1, T7; issue 16 "Spark end to end"): ``banso analyze ingest --engine spark``.

The same store as :mod:`banso.analytics.ingest` (format 4, the same part columns, manifest and replacement
rule), read and written through Hadoop paths (:mod:`banso.analytics.spark_store`), so snapshot and store
may be ``file://``, ``hdfs://`` or ``s3a://``. What runs where:

- **Driver**: lists the snapshot (Hadoop ``listFiles``), decides which files are new or changed (size
  and mtime against the manifest), writes the manifest, renames the written files into place.
- **Executors, one task per snapshot file** (Spark's ``binaryFile`` source, one file per partition):
  :func:`read_file` inflates the file (ISA-L), judges every line with :func:`banso.analytics.snapshot.judge_lines`
  — the one strict definition of a malformed line every decoder uses — and runs the msgspec decoder's
  DuckDB projection (``fastread._PROJECTION``) over the accepted works, a chunk at a time, as
  ``mapInArrow``. A damaged gzip stream is read by the DuckDB reader's own line iterator
  (``snapshot._iter_lines``), so truncated and broken files keep exactly the lines they keep there;
  a line nested too deep for msgspec is judged by DuckDB, as there.
- **One Spark write per job of files** (``files_per_job``, default four per executor core) puts each
  file's rows (sorted by year, row groups of 4,096 rows, zstd) and one statistics row per file into a
  staging folder; the driver renames each file's Parquet file to
  ``parts/<file>.parquet`` (one file: one task wrote it) and reads the statistics (rows, malformed lines
  with file and line, truncation, SHA-256) into the manifest.
- **Compaction** is a Spark job (one window over ``work_id``: the latest ``updated_date``, then folder,
  then file, as :func:`banso.analytics.store.compact`) writing ``works.parquet`` as a folder, and one
  ``max_by`` aggregation writing ``institutions.parquet`` (the latest record naming an institution).

Resumable and incremental as the DuckDB ingest: the manifest says ``in_progress`` until compaction is
done and records the files of each finished job; files already recorded are skipped. Unlike it, a touched file (new mtime, same bytes) is read again
(its hash is known only after reading it).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import unquote

import duckdb
import pyarrow as pa
from isal import isal_zlib

from banso.analytics import fastread
from banso.analytics.errors import SnapshotError, StoreError
from banso.analytics.ingest import IngestReport
from banso.analytics.snapshot import (
    MAX_LINE_BYTES,
    Malformed,
    SnapshotFile,
    SnapshotReader,
    WorkFields,
    _iter_lines,
    judge_lines,
)
from banso.analytics.spark_store import HadoopFS, as_uri, join, read_manifest, spark_table, write_manifest
from banso.analytics.store import (
    FORMAT_VERSION,
    INSTITUTION_COLUMNS,
    INSTITUTIONS,
    MANIFEST,
    PART_ROW_GROUP,
    WORKS,
)
from banso.analytics.synth import SYNTHETIC_MARKER
from banso.analytics.texts import INDEX_SHAPE

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from banso.analytics.technologies import TechnologySet

WRITER = "spark"
CHUNK_LINES = 8192  # works projected by DuckDB at once in a task: bounds a task's memory, whatever the file's size
_INSTITUTION = pa.struct([("institution_id", pa.int64()), ("country", pa.string())])
_INSTITUTION_NAME = pa.struct([("institution_id", pa.int64()), ("display_name", pa.string()),
                               ("ror", pa.string()), ("country", pa.string())])
PART_SCHEMA = pa.schema([
    ("work_id", pa.int64()), ("partition_date", pa.string()), ("part_seq", pa.int32()),
    ("record_updated", pa.string()), ("publication_year", pa.int16()), ("cited_by_count", pa.int32()),
    ("subfield_id", pa.int32()), ("primary_topic_id", pa.int32()), ("topic_ids", pa.list_(pa.int32())),
    ("countries", pa.list_(pa.string())), ("institutions", pa.list_(_INSTITUTION)),
    ("institution_names", pa.list_(_INSTITUTION_NAME)), ("oa_top10", pa.bool_()), ("work_type", pa.string()),
    ("is_paratext", pa.bool_()), ("is_retracted", pa.bool_()), ("title", pa.string()),
    ("abstract_index", pa.string()),
])
"""The columns of a store part, as both DuckDB readers write them (docs/analytics.md §2)."""
# What the read job yields: a part's rows, plus `kind` and `part` (the staging folders). A file's
# statistics ride in one row of kind "stats" with the JSON in `title`, so one write holds both and the
# parts have exactly the store's columns.
_OUT_SCHEMA = pa.schema([*PART_SCHEMA, ("kind", pa.string()), ("part", pa.string())])
_PART_COLUMNS = [f.name for f in PART_SCHEMA]
_TEXT_COLUMNS = ("title", "abstract_index", "institution_names")


@dataclass(frozen=True)
class FileTask:
    """What a task needs to know of one snapshot file (shipped to the executors)."""

    rel: str
    updated_date: str
    seq: int
    key: str


# --- on the executors -------------------------------------------------------------------------------


class _Damaged(Exception):
    """The gzip stream is truncated or broken (the file is then read as the DuckDB reader reads it)."""


_INFLATE_STEP = 1 << 18  # compressed bytes per step: bounds the output held at once
_INFLATE_ERRORS = cast(type[BaseException], isal_zlib.error)


def _inflate(content: bytes) -> Iterator[bytes]:
    """Yield the inflated bytes of a gzip stream of any number of members; raise :class:`_Damaged` when broken."""
    view = memoryview(content)
    pos, n = 0, len(content)
    while pos < n:
        if bytes(view[pos:pos + 2]) != b"\x1f\x8b":
            raise _Damaged("trailing bytes that are not a gzip member")  # gzip.open refuses them too
        d = isal_zlib.decompressobj(31)
        while not d.eof:
            if pos >= n:
                raise _Damaged("stream ends early")
            step = view[pos:pos + _INFLATE_STEP]
            pos += len(step)
            try:
                out = d.decompress(step)
            except _INFLATE_ERRORS as exc:
                raise _Damaged(str(exc)) from None
            if out:
                yield out
        pos -= len(d.unused_data)


def _inflate_ok(content: bytes) -> bool:
    """Return True when ``content`` is a sound gzip stream (inflated once, the output dropped)."""
    try:
        for _ in _inflate(content):
            pass
    except _Damaged:
        return False
    return True


def _split(chunks: Iterator[bytes]) -> Iterator[tuple[int, bytes | None, str]]:
    """Yield (line number, line, reason) as ``snapshot._iter_lines`` does on a sound stream.

    Lines end at ``\\n``; a line longer than :data:`MAX_LINE_BYTES` is yielded as ``b""`` with the
    reason and never held whole (the rest of it is skipped).
    """
    too_long = f"line longer than {MAX_LINE_BYTES >> 20} MiB"
    n = 0
    rest = b""
    skipping = False
    for chunk in chunks:
        if skipping:
            end = chunk.find(b"\n")
            if end < 0:
                continue
            chunk, skipping = chunk[end + 1:], False
        buf = rest + chunk if rest else chunk
        start = 0
        while (end := buf.find(b"\n", start)) >= 0:
            n += 1
            if end + 1 - start > MAX_LINE_BYTES:
                yield n, b"", too_long
            else:
                yield n, buf[start:end + 1], ""
            start = end + 1
        rest = buf[start:]
        if len(rest) > MAX_LINE_BYTES:
            n += 1
            yield n, b"", too_long
            rest, skipping = b"", True
    if rest:
        yield n + 1, rest, ""


def _raw_table(works: list[WorkFields]) -> pa.Table:
    """The msgspec decoder's raw Arrow table (``fastread.RAW_SCHEMA``) of decoded works."""
    cols: dict[str, list[Any]] = {f.name: [] for f in fastread.RAW_SCHEMA}
    for w in works:
        cols["id"].append(w.id)
        cols["title"].append(w.title)
        cols["publication_year"].append(w.publication_year)
        cols["cited_by_count"].append(w.cited_by_count)
        cols["updated_date"].append(w.updated_date)
        pt = w.primary_topic
        cols["primary_topic_id"].append(None if pt is None else pt.id)
        cols["subfield_id"].append(None if pt is None or pt.subfield is None else pt.subfield.id)
        cols["topics"].append(None if w.topics is None else [t.id for t in w.topics])
        cols["insts"].append(None if w.authorships is None else [
            {"id": i.id, "display_name": i.display_name, "ror": i.ror, "country_code": i.country_code}
            for a in w.authorships if a.institutions is not None for i in a.institutions])
        cnp = w.citation_normalized_percentile
        cols["oa_top10"].append(None if cnp is None else cnp.is_in_top_10_percent)
        ai = bytes(w.abstract_inverted_index)
        cols["raw_index"].append(None if not ai or ai == b"null" else ai.decode())
        cols["work_type"].append(w.type)
        cols["is_paratext"].append(w.is_paratext)
        cols["is_retracted"].append(w.is_retracted)
    return pa.table({f.name: pa.array(cols[f.name], f.type) for f in fastread.RAW_SCHEMA}, schema=fastread.RAW_SCHEMA)


class _FileReader:
    """Turn the lines of one snapshot file into part rows and a statistics row (one task's work)."""

    def __init__(self, task: FileTask, tmpdir: Path, max_examples: int) -> None:
        self.task = task
        self.tmpdir = tmpdir
        self.max_examples = max_examples
        self.file = SnapshotFile(Path(task.rel), task.rel, task.updated_date, 0, 0.0)
        self.rows = 0
        self.lines = 0
        self.malformed = 0
        self.examples: list[dict[str, Any]] = []
        self.truncated = False
        self.note = ""
        self._reader: SnapshotReader | None = None
        self._con = duckdb.connect(config={"threads": 1})
        self._con.execute("SET enable_progress_bar = false")

    def close(self) -> None:
        """Close the DuckDB connections."""
        self._con.close()
        if self._reader is not None:
            self._reader.close()

    def bad(self, n: int, reason: str) -> None:
        """Count line ``n`` as malformed."""
        self.malformed += 1
        if len(self.examples) < self.max_examples:
            self.examples.append({"file": self.task.rel, "line": n, "error": reason})

    def reader(self) -> SnapshotReader:
        """The DuckDB reader, for the lines only DuckDB can judge (nested too deep)."""
        if self._reader is None:
            self._reader = SnapshotReader(self.tmpdir)
        return self._reader

    def project(self, works: list[WorkFields], numbers: list[int]) -> pa.Table:
        """The part rows of accepted works (the msgspec decoder's projection); a row DuckDB refuses is malformed."""
        params = {"partition_date": self.task.updated_date, "seq": self.task.seq, "index_shape": INDEX_SHAPE}
        try:
            return self._project(_raw_table(works), params)
        except duckdb.Error:
            pieces = []
            for w, n in zip(works, numbers, strict=True):
                try:
                    pieces.append(self._project(_raw_table([w]), params))
                except duckdb.Error:
                    self.bad(n, "a field has the wrong type")
            return pa.concat_tables(pieces) if pieces else PART_SCHEMA.empty_table()

    def _project(self, raw: pa.Table, params: dict[str, Any]) -> pa.Table:
        self._con.register("raw", raw)
        try:
            table: pa.Table = self._con.sql(fastread._PROJECTION, params=params).to_arrow_table()
        finally:
            self._con.unregister("raw")
        return table.select(_PART_COLUMNS).cast(PART_SCHEMA)

    def project_deep(self, lines: list[bytes]) -> pa.Table:
        """The part rows of lines DuckDB accepted after msgspec could not nest that deep (its own projection)."""
        src = self.tmpdir / f"{self.task.key}.deep.jsonl"
        out = self.tmpdir / f"{self.task.key}.deep.parquet"
        src.write_bytes(b"".join(x if x.endswith(b"\n") else x + b"\n" for x in lines))
        try:
            self.reader()._copy(src, out, self.file, self.task.seq, threads=1, ignore_errors=True)
            import pyarrow.parquet as pq

            return pq.read_table(out).select(_PART_COLUMNS).cast(PART_SCHEMA)
        finally:
            src.unlink(missing_ok=True)
            out.unlink(missing_ok=True)

    def rows_of(self, lines: Iterator[tuple[int, bytes | None, str]]) -> Iterator[pa.Table]:
        """Judge every line as the DuckDB reader's line-by-line pass does; yield the part rows a chunk at a time."""
        works: list[WorkFields] = []
        numbers: list[int] = []
        deep: list[bytes] = []
        for n, line, work, wid, reason in judge_lines(lines, self,
                                                      lambda one: self.reader()._judge_deep(one, self.file)):
            if work is None and wid is not None:  # nested past the typed decoder, accepted by the strict read
                deep.append(line)
                continue
            if work is None:
                self.bad(n, reason)
                continue
            works.append(work)
            numbers.append(n)
            if len(works) >= CHUNK_LINES:
                yield self.project(works, numbers)
                works, numbers = [], []
        if works:
            yield self.project(works, numbers)
        if deep:
            yield self.project_deep(deep)

    def stats(self, sha256: str) -> dict[str, Any]:
        """The file's statistics (what the manifest records)."""
        return {"rows": self.rows, "lines": self.lines, "malformed": self.malformed, "truncated": self.truncated,
                "note": self.note, "examples": self.examples, "sha256": sha256}


def read_file(task: FileTask, content: bytes, *, max_examples: int = 20) -> Iterator[pa.RecordBatch]:
    """Yield the part rows of one snapshot file's bytes, then its statistics row (``_OUT_SCHEMA``)."""
    sha = hashlib.sha256(content).hexdigest()
    with tempfile.TemporaryDirectory(prefix="banso-spark-") as tmp:
        fr = _FileReader(task, Path(tmp), max_examples)
        try:
            if content[:2] == b"\x1f\x8b" and not _inflate_ok(content):
                # Damaged gzip: the DuckDB reader's own iterator decides which lines were read before the break.
                src = Path(tmp) / "file.gz"
                src.write_bytes(content)
                lines = _iter_lines(src)
            elif content[:2] == b"\x1f\x8b":
                lines = _split(_inflate(content))
            else:
                lines = _split(iter([content]))
            for table in fr.rows_of(lines):
                fr.rows += table.num_rows
                if table.num_rows:
                    n = table.num_rows
                    out = table.append_column("kind", pa.array(["rows"] * n, pa.string())).append_column(
                        "part", pa.array([task.key] * n, pa.string()))
                    yield from out.cast(_OUT_SCHEMA).to_batches()
            stats = fr.stats(sha)
        finally:
            fr.close()
    row: dict[str, Any] = {c: None for c in _OUT_SCHEMA.names}
    row.update(title=json.dumps(stats), kind="stats", part=task.key)
    yield pa.RecordBatch.from_pylist([row], schema=_OUT_SCHEMA)


def _read_batches(batches: Iterator[pa.RecordBatch], tasks: dict[str, FileTask]) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` body: the binaryFile rows (``path``, ``content``) of a partition → part and statistics rows."""
    for batch in batches:
        paths = batch.column("path").to_pylist()
        contents = batch.column("content")
        for i, path in enumerate(paths):
            yield from read_file(_task_for(tasks, path), contents[i].as_py())


def _task_for(tasks: dict[str, FileTask], path: str) -> FileTask:
    """Find a file's task by the path Spark reports (Hadoop may qualify or escape it differently)."""
    if path in tasks:
        return tasks[path]
    plain = unquote(path)
    for uri, task in tasks.items():
        if unquote(uri) == plain or plain.endswith("/" + task.rel):
            return task
    raise KeyError(f"no task for snapshot file {path}")


# --- on the driver ----------------------------------------------------------------------------------


def _spark_schema() -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(_OUT_SCHEMA)


def discover(fs: HadoopFS, snapshot: str) -> list[tuple[str, SnapshotFile]]:
    """List the snapshot's partition files (the rules of :func:`banso.analytics.snapshot.discover`), oldest first."""
    if not fs.exists(snapshot):
        raise SnapshotError(f"スナップショットのフォルダがありません: {snapshot} / snapshot folder not found: {snapshot}")
    if not fs.is_dir(snapshot):
        raise SnapshotError(f"スナップショットのパスがフォルダではありません: {snapshot} / snapshot path is not a folder: {snapshot}")
    from banso.analytics.snapshot import _DATE_RE

    found = []
    for e in fs.list_files(snapshot):
        name = PurePosixPath(e.rel).name
        if name.startswith("."):
            continue
        if not (name.startswith("part_") or name.endswith((".jsonl", ".jsonl.gz", ".json.gz", ".ndjson"))):
            continue
        if name.endswith(".tmp") or name == MANIFEST:
            continue
        m = _DATE_RE.search(e.rel)
        found.append((e.uri, SnapshotFile(Path(e.rel), e.rel, m.group(1) if m else "", e.size, e.mtime)))
    if not found:
        raise SnapshotError(
            f"{snapshot} にスナップショットのファイルがありません（works/updated_date=YYYY-MM-DD/part_NNN.gz か *.jsonl） / "
            f"no snapshot files under {snapshot} (expected works/updated_date=YYYY-MM-DD/part_NNN.gz or *.jsonl)")
    found.sort(key=lambda x: (x[1].updated_date, x[1].rel))
    return found


class _Conf:
    """Set Spark SQL options for one job and put the old values back."""

    def __init__(self, spark: SparkSession, **values: str) -> None:
        self.spark = spark
        self.values = values
        self.old: dict[str, str | None] = {}

    def __enter__(self) -> None:
        for k, v in self.values.items():
            key = k.replace("__", ".")
            self.old[key] = self.spark.conf.get(key, None)
            self.spark.conf.set(key, v)

    def __exit__(self, *exc: object) -> None:
        for k, v in self.old.items():
            if v is None:
                self.spark.conf.unset(k)
            else:
                self.spark.conf.set(k, v)


def read_files(spark: SparkSession, files: list[tuple[str, SnapshotFile, int]], staging: str) -> None:
    """Run the read job: every file's rows and statistics into ``staging/kind=…/part=<key>/``."""
    tasks = {uri: FileTask(f.rel, f.updated_date, seq, f.key) for uri, f, seq in files}
    biggest = max(f.size for _, f, _ in files)
    # One file per task: an "open cost" as large as a split keeps binaryFile from packing files together.
    split = str(max(biggest, 1 << 20))
    with _Conf(spark, spark__sql__files__maxPartitionBytes=split, spark__sql__files__openCostInBytes=split,
               spark__sql__execution__arrow__maxRecordsPerBatch="1"):
        raw = spark.read.format("binaryFile").load([uri for uri, _, _ in files]).select("path", "content")

        def body(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
            return _read_batches(batches, tasks)

        out: DataFrame = raw.mapInArrow(body, _spark_schema())
        (out.sortWithinPartitions("kind", "part", "publication_year")
            .write.mode("overwrite").partitionBy("kind", "part")
            .option("compression", "zstd")
            .option("parquet.block.row.count.limit", str(PART_ROW_GROUP))
            .parquet(staging))


def _partition_dirs(fs: HadoopFS, uri: str) -> dict[str, str]:
    """Return part key → folder of the ``part=<key>`` folders Spark wrote under ``uri``."""
    out = {}
    for name in fs.list_dir(uri):
        if name.startswith("part="):
            out[unquote(name[len("part="):])] = join(uri, name)
    return out


def ingest(
    spark: SparkSession,
    snapshot: str | Path,
    store: str | Path,
    *,
    technologies: TechnologySet | None = None,
    document_types: tuple[str, ...] | None = None,
    files_per_job: int | None = None,
) -> IngestReport:
    """Read new or changed snapshot files into the store with Spark jobs, compact it, match the keywords.

    ``snapshot`` and ``store`` are local paths or Hadoop URIs. ``technologies``: match their keyword
    phrases on the executors now (:mod:`banso.analytics.spark_membership`). Files are read by jobs of
    ``files_per_job`` files (default four per executor core), each recorded in the manifest when its job
    is done, so a killed run resumes from the last finished job.
    """
    t0 = time.perf_counter()
    snap, root = as_uri(snapshot), as_uri(store)
    sfs, fs = HadoopFS(spark, snap), HadoopFS(spark, root)
    files = discover(sfs, snap)
    fs.mkdirs(join(root, "parts"))
    manifest = read_manifest(fs, root)
    from banso.analytics.store import check_format

    check_format(Path(root), manifest)
    if manifest.get("files") and manifest.get("writer") != WRITER:
        raise StoreError(f"ストア {root} は DuckDB の取り込みで書かれました。--engine spark では新しいストアフォルダに取り込んでください / "
                         f"store {root} was written by the DuckDB ingest; ingest with --engine spark into a new "
                         f"store folder (or keep using the DuckDB ingest for this one)")
    recorded: dict[str, Any] = manifest.setdefault("files", {})
    report = IngestReport(files_total=len(files))
    todo = []
    for seq, (uri, f) in enumerate(files):
        rec: dict[str, Any] = recorded.get(f.rel) or {}
        if rec and rec["size"] == f.size and rec["mtime"] == f.mtime and fs.exists(join(root, rec["part"])):
            continue
        todo.append((uri, f, seq))
    report.files_skipped = len(files) - len(todo)
    if todo or manifest.get("state") != "complete":
        manifest.update(state="in_progress", writer=WRITER, format=FORMAT_VERSION, snapshot=snap)
        manifest["synthetic"] = bool(manifest.get("synthetic")) or _is_synthetic(sfs, snap)
        write_manifest(fs, root, manifest)
        for name in fs.list_dir(join(root, "tmp")):
            if name.startswith("spark-"):
                fs.delete(join(root, "tmp", name))  # the staging folder of a killed run
        # A job per batch of files, the manifest written after each: a killed ingest loses one batch.
        batch = files_per_job or max(1, 4 * spark.sparkContext.defaultParallelism)
        for i in range(0, len(todo), batch):
            _read_into_store(spark, fs, root, todo[i:i + batch], recorded, report)
            write_manifest(fs, root, manifest)
        parts = [join(root, r["part"]) for r in recorded.values() if r.get("rows")]
        keep = {PurePosixPath(p).name for p in parts}
        for name in fs.list_dir(join(root, "parts")):
            if name not in keep:
                fs.delete(join(root, "parts", name))  # a part whose snapshot file no longer yields rows
        if not parts:
            raise SnapshotError(
                f"{snap} から何も読めませんでした: 不正な行 {report.malformed} 行"
                + (f"、途中で切れたファイル: {'; '.join(report.truncated_files)}" if report.truncated_files else "")
                + " / "
                + f"nothing could be read from {snap}: {report.malformed} malformed line(s)"
                + (f", truncated: {'; '.join(report.truncated_files)}" if report.truncated_files else ""))
        manifest["works"] = compact(spark, fs, root, parts)
    report.works_in_store = int(manifest.get("works", 0))
    if technologies is not None and any(t.keywords for t in technologies.technologies):
        from banso.analytics import spark_membership

        spark_membership.match_store(spark, root, technologies)
    from banso.analytics import config
    from banso.analytics.engine import exclusion_counts

    types = document_types if document_types is not None else config.document_types()
    import ibis

    report.excluded = exclusion_counts(spark_table(ibis.pyspark.connect(spark), spark, join(root, WORKS)), types)
    if manifest.get("state") != "complete":
        manifest["state"] = "complete"
        manifest["completed_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        write_manifest(fs, root, manifest)
    report.seconds = time.perf_counter() - t0
    return report


def _is_synthetic(fs: HadoopFS, snapshot: str) -> bool:
    uri = join(snapshot, SYNTHETIC_MARKER)
    try:
        data = json.loads(fs.read_text(uri)) if fs.exists(uri) else None
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("synthetic") is True


def _read_into_store(spark: SparkSession, fs: HadoopFS, root: str, todo: list[tuple[str, SnapshotFile, int]],
                     recorded: dict[str, Any], report: IngestReport) -> None:
    """Read ``todo`` in one Spark job, move each file's part into place and record it."""
    staging = join(root, "tmp", f"spark-{uuid.uuid4().hex[:12]}")
    try:
        read_files(spark, todo, staging)
        rows = _partition_dirs(fs, join(staging, "kind=rows"))
        stats = {r["part"]: json.loads(r["title"]) for r in
                 spark.read.parquet(join(staging, "kind=stats")).select("part", "title").collect()}
        for _uri, f, seq in todo:
            st = stats.get(f.key)
            if st is None:
                raise StoreError(f"Spark の読み込みジョブが {f.rel} の統計を返しませんでした / "
                                 f"the Spark read job returned no statistics for {f.rel}")
            part_rel = f"parts/{f.key}.parquet"
            if f.key in rows:
                written = [n for n in fs.list_dir(rows[f.key]) if n.endswith(".parquet")]
                if len(written) != 1:
                    raise StoreError(f"{f.rel} の Parquet ファイルは 1 つのはずが、Spark は {len(written)} 個書きました / "
                                     f"expected one Parquet file for {f.rel}, Spark wrote {len(written)}")
                fs.rename(join(rows[f.key], written[0]), join(root, part_rel))
            report.files_read += 1
            report.rows_read += st["rows"]
            report.malformed += st["malformed"]
            report.bytes_read += f.size
            if st["truncated"]:
                report.truncated_files.append(f"{f.rel}: {st['note']}")
            report.malformed_examples.extend(
                Malformed(e["file"], e["line"], e["error"])
                for e in st["examples"][: max(0, 50 - len(report.malformed_examples))])
            if st["rows"]:
                recorded[f.rel] = {
                    "size": f.size, "mtime": f.mtime, "sha256": st["sha256"], "rows": st["rows"],
                    "malformed": st["malformed"], "truncated": st["truncated"], "note": st["note"],
                    "part": part_rel, "updated_date": f.updated_date, "seq": seq,
                    "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                }
            else:
                recorded.pop(f.rel, None)
                fs.delete(join(root, part_rel))
    finally:
        fs.delete(staging)
        if not fs.list_dir(join(root, "tmp")):
            fs.delete(join(root, "tmp"))


def compact(spark: SparkSession, fs: HadoopFS, root: str, parts: list[str]) -> int:
    """Write ``works.parquet`` and ``institutions.parquet`` (folders) from the parts; return the works kept.

    The rules of :func:`banso.analytics.store.compact` (and its institution dimension), as Spark jobs.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.window import Window

    src = spark.read.parquet(*sorted(parts))
    order = Window.partitionBy("work_id").orderBy(
        F.coalesce("record_updated", "partition_date").desc(), F.col("partition_date").desc(),
        F.col("part_seq").desc())
    cols = [c for c in _PART_COLUMNS if c not in _TEXT_COLUMNS]
    works = src.select(*cols, F.row_number().over(order).alias("_rn")).where("_rn = 1").drop("_rn")
    _write_replacing(fs, join(root, WORKS), works.write.option("compression", "zstd"))
    n = int(spark.read.parquet(join(root, WORKS)).count())
    entries = src.select("record_updated", "partition_date", "part_seq", "work_id",
                         F.explode("institution_names").alias("i"))
    key = F.struct(
        F.coalesce("record_updated", "partition_date"), F.col("partition_date"),
        F.lpad(F.col("part_seq").cast("string"), 10, "0"), F.lpad(F.col("work_id").cast("string"), 20, "0"),
        F.coalesce(F.col("i.display_name"), F.lit("")), F.coalesce(F.col("i.ror"), F.lit("")))
    inst = (entries.groupBy(F.col("i.institution_id").alias("institution_id"))
            .agg(F.max_by("i", key).alias("v"))
            .select("institution_id", *(F.col(f"v.{c}").alias(c) for c in INSTITUTION_COLUMNS[1:]))
            .orderBy("institution_id"))
    _write_replacing(fs, join(root, INSTITUTIONS), inst.write.option("compression", "zstd"))
    return n


def _write_replacing(fs: HadoopFS, uri: str, writer: Any) -> None:
    """Write a table folder beside ``uri`` and move it into place (a reader never sees it half-written)."""
    tmp = uri + f".tmp-{uuid.uuid4().hex[:8]}"
    writer.mode("overwrite").parquet(tmp)
    fs.rename(tmp, uri)
