"""Reading an OpenAlex works snapshot (T1): find its partition files and turn each one into a store part.

The DuckDB reader (:class:`SnapshotReader`) runs one ``read_json`` projection per file and, for a
damaged file, a line-by-line pass that names each malformed line (file and line, counted, never
dropped). The parts it writes are in the store's format (:mod:`banso.analytics.store`); the
bookkeeping of a whole run is :mod:`banso.analytics.ingest`.
"""

from __future__ import annotations

import gzip
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Protocol, cast

import duckdb
import msgspec
from isal import igzip as _igzip
from isal import isal_zlib as _isal_zlib

from banso.analytics.errors import SnapshotError, StoreError
from banso.analytics.store import MANIFEST, copy_part_sql, sql_str
from banso.analytics.texts import INDEX_SHAPE

_GUNZIP_CHUNK = 1 << 18  # 256 KB steps keep the inflate window in cache (2x faster than whole-file)
# DuckDB's read errors and a short or damaged gzip stream (ISA-L raises its own error type).
_READ_ERRORS: tuple[type[BaseException], ...] = (
    duckdb.Error, EOFError, OSError, ValueError, cast(type[BaseException], _isal_zlib.error))
# Limits on one line (one work), the same for every decoder (docs/analytics.md "Malformed lines"): the
# largest OpenAlex record is a few MB, so a longer line is damage or an attack, and it is refused before
# it is decoded. DuckDB's own `maximum_object_size` is not enforced on newline-delimited input (1.x/2.0),
# so the length is checked by us, on the bytes, while a file is decompressed.
MAX_LINE_BYTES = 32 << 20
_DATE_RE = re.compile(r"updated_date=(\d{4}-\d{2}-\d{2})")
_ID_RE = re.compile(r"^(?:https?://openalex\.org/)?W\d+$", re.IGNORECASE)

# Only the fields the indicators need are read (explicit columns: the JSON reader skips the rest).
# The abstract's inverted index is read as JSON text, not as a MAP: building a MAP per record and
# rebuilding the abstract from it was half of the ingest's time (banso.analytics.texts).
READ_COLUMNS: dict[str, str] = {
    "id": "VARCHAR",
    # Scalars and single objects as JSON, their JSON type checked in the projection: DuckDB would cast
    # "2020" or 2020.5 to a year and read a number as a title or a string as a missing object.
    "title": "JSON",
    "publication_year": "JSON",
    "cited_by_count": "JSON",
    "updated_date": "JSON",
    "primary_topic": "JSON",
    "topics": "STRUCT(id VARCHAR)[]",
    # display_name and ror as JSON, their JSON type checked in the projection (as the scalars above).
    "authorships": "STRUCT(institutions STRUCT(id VARCHAR, display_name JSON, ror JSON, country_code VARCHAR)[])[]",
    "citation_normalized_percentile": "JSON",
    "abstract_inverted_index": "JSON",
    # Document type and flags (docs/analytics.md "Exact counting and document types"): which works count.
    "type": "JSON",
    "is_paratext": "JSON",
    "is_retracted": "JSON",
}


def _typed(expr: str, path: str, kinds: tuple[str, ...], then: str) -> str:
    """SQL: ``then`` when the JSON value ``expr[path]`` is absent, null or one of ``kinds``, else an error.

    The error stops the typed read of the file, which is then judged line by line
    (:meth:`SnapshotReader._salvage`), where the same line is counted malformed with its reason.
    """
    t = f"json_type({expr}, '{path}')"
    allowed = ", ".join(f"'{k}'" for k in (*kinds, "NULL"))
    return (f"CASE WHEN {t} IS NULL OR {t} IN ({allowed}) THEN {then} "
            f"ELSE error('a field has the wrong JSON type: {expr}{path[1:]}') END")


_INT = ("BIGINT", "UBIGINT")

# The form of a ROR id as OpenAlex writes it: the URL, a leading 0, six characters of ROR's Crockford base32
# (no i, l, o, u) and two checksum digits. The real records (../shared/data, 10,683 ids) hold this form only,
# never the bare id, so nothing else is accepted (docs/analytics.md "Institution names and ROR ids").
ROR_PATTERN = r"https://ror\.org/0[0-9a-hj-km-np-tv-z]{6}[0-9]{2}"

# The institutions' names and ROR ids (the store's institution dimension, docs/analytics.md "Institutions
# and trends"): one entry per distinct institution of the work; an empty name or ROR id is stored as null.
# A name loses its control and format characters (Unicode Cc, Cf: the bidi embeddings, overrides and isolates
# U+202A–U+202E, U+2066–U+2069, the marks U+200E/U+200F, zero-width characters): a name that reorders its
# neighbours on the page, in a CSV cell or in the workbook is stored without them (outside tester, session 11).
# A ROR id not of ROR_PATTERN (a javascript: URL, a long string) is stored as null. Every reader (DuckDB,
# msgspec, Spark) uses this one expression, so all of them store the same values.
_NAMES = r"""coalesce(list_distinct(list_filter(
      list_transform(insts,
          lambda i: {'institution_id': TRY_CAST(regexp_extract(i.id, 'I(\d+)$', 1) AS BIGINT),
                     'display_name': CASE WHEN {name} IS NOT NULL
                                     THEN nullif(regexp_replace({name}, '[\p{Cc}\p{Cf}]', '', 'g'), '') END,
                     'ror': CASE WHEN regexp_full_match({ror}, '{ror_pattern}') THEN {ror} END,
                     'country': nullif(upper(i.country_code), '')}),
      lambda x: x.institution_id IS NOT NULL)), [])"""


def names_sql(name: str = "i.display_name->>'$'", ror: str = "i.ror->>'$'") -> str:
    """SQL: the work's institutions (id, cleaned name, valid ROR id or null, country) from ``insts``, whose
    name and ROR id are the expressions ``name`` and ``ror``; shared by every reader (see ``_NAMES``)."""
    return _NAMES.replace("{name}", name).replace("{ror}", ror).replace("{ror_pattern}", ROR_PATTERN)



def _names_checked() -> str:
    """SQL: the institution names, or an error when a name or ROR id is not a JSON string (or null)."""
    wrong = ("len(list_filter(insts, "
             "lambda i: json_type(i.display_name) NOT IN ('VARCHAR', 'NULL') "
             "OR json_type(i.ror) NOT IN ('VARCHAR', 'NULL'))) > 0")
    return (f"CASE WHEN {wrong} THEN error('a field has the wrong JSON type: "
            f"authorships[].institutions[].display_name or ror') ELSE {names_sql()} END")
_STRICT = {
    "publication_year": _typed("publication_year", "$", _INT, "CAST(publication_year AS BIGINT)"),
    "cited_by_count": _typed("cited_by_count", "$", _INT, "CAST(cited_by_count AS BIGINT)"),
    "title": _typed("title", "$", ("VARCHAR",), "title->>'$'"),
    "updated_date": _typed("updated_date", "$", ("VARCHAR",), "updated_date->>'$'"),
    "primary_topic_id": _typed("primary_topic", "$", ("OBJECT",), _typed(
        "primary_topic", "$.id", ("VARCHAR",), "primary_topic->>'$.id'")),
    "subfield_id": _typed("primary_topic", "$.subfield", ("OBJECT",), _typed(
        "primary_topic", "$.subfield.id", ("VARCHAR",), "primary_topic->>'$.subfield.id'")),
    "oa_top10": _typed("citation_normalized_percentile", "$", ("OBJECT",), _typed(
        "citation_normalized_percentile", "$.is_in_top_10_percent", ("BOOLEAN",),
        "CAST(citation_normalized_percentile->>'$.is_in_top_10_percent' AS BOOLEAN)")),
    "type": _typed("type", "$", ("VARCHAR",), "type->>'$'"),
    "is_paratext": _typed("is_paratext", "$", ("BOOLEAN",), "CAST(is_paratext->>'$' AS BOOLEAN)"),
    "is_retracted": _typed("is_retracted", "$", ("BOOLEAN",), "CAST(is_retracted->>'$' AS BOOLEAN)"),
    "institution_names": _names_checked(),
    # A record without a valid W… id cannot be stored or replaced: as malformed as invalid JSON.
    "id": r"CASE WHEN regexp_full_match(id, '(?i)(?:https?://openalex\.org/)?W\d+') THEN id "
          r"ELSE error('missing or invalid work id') END",
}

_PROJECTION = r"""
SELECT
  CAST(regexp_extract({id}, 'W(\d+)$', 1) AS BIGINT) AS work_id,
  CAST($partition_date AS VARCHAR) AS partition_date,
  CAST($seq AS INTEGER) AS part_seq,
  {updated_date} AS record_updated,  -- the record's own (hive_partitioning off: not the folder's)
  CAST({publication_year} AS SMALLINT) AS publication_year,
  CAST(coalesce({cited_by_count}, 0) AS INTEGER) AS cited_by_count,
  CAST(regexp_extract({subfield_id}, '(\d+)$', 1) AS INTEGER) AS subfield_id,
  CAST(regexp_extract({primary_topic_id}, 'T(\d+)$', 1) AS INTEGER) AS primary_topic_id,
  coalesce(list_distinct(list_filter(
      list_transform(topics, lambda t: TRY_CAST(regexp_extract(t.id, 'T(\d+)$', 1) AS INTEGER)),
      lambda x: x IS NOT NULL)), []) AS topic_ids,
  coalesce(list_sort(list_distinct(list_filter(
      list_transform(insts, lambda i: upper(i.country_code)),
      lambda x: x IS NOT NULL AND x <> ''))), []) AS countries,
  coalesce(list_distinct(list_filter(
      list_transform(insts,
          lambda i: {'institution_id': TRY_CAST(regexp_extract(i.id, 'I(\d+)$', 1) AS BIGINT),
                     'country': nullif(upper(i.country_code), '')}),
      lambda x: x.institution_id IS NOT NULL)), []) AS institutions,
  {institution_names} AS institution_names,
  {oa_top10} AS oa_top10,
  {type} AS work_type,
  {is_paratext} AS is_paratext,
  {is_retracted} AS is_retracted,
  {title} AS title,
  -- Kept as DuckDB writes JSON (compact). Another shape is read as missing, like any field of the wrong
  -- type (docs/analytics.md), so every stored index decodes (texts.decode_index).
  CASE WHEN regexp_full_match(abstract_inverted_index, $index_shape)
       THEN CAST(abstract_inverted_index AS VARCHAR) END AS abstract_index
-- The authorships' institutions flattened once, for the four columns built from them (each flattening
-- them again cost ≈ 0.1 CPU-s per 20k works; benchmarks/RESULTS.md, session 11).
FROM (SELECT *, flatten(list_transform(authorships, lambda a: a.institutions)) AS insts
      FROM read_json($files, format = 'newline_delimited', columns = $columns, compression = $compression,
                     hive_partitioning = false, maximum_object_size = 67108864{ignore_errors}))
"""


def _projection(*, ignore_errors: bool) -> str:
    """The projection of one file: strict types for the first read, none for the salvaged lines.

    The salvage pass hands DuckDB only lines the strict decoder (:data:`WORK_DECODER`) accepted, so
    its read needs no checks (and an ``error()`` there would not be skipped by ``ignore_errors``).
    """
    plain = {"id": "id", "publication_year": "publication_year", "cited_by_count": "cited_by_count",
             "title": "title->>'$'", "updated_date": "updated_date->>'$'",
             "primary_topic_id": "primary_topic->>'$.id'", "subfield_id": "primary_topic->>'$.subfield.id'",
             "oa_top10": "CAST(citation_normalized_percentile->>'$.is_in_top_10_percent' AS BOOLEAN)",
             "type": "type->>'$'", "is_paratext": "CAST(is_paratext->>'$' AS BOOLEAN)",
             "is_retracted": "CAST(is_retracted->>'$' AS BOOLEAN)", "institution_names": names_sql()}
    fields = {k: f"({v})" for k, v in (plain if ignore_errors else _STRICT).items()}
    fields["ignore_errors"] = ", ignore_errors = true" if ignore_errors else ""
    sql = _PROJECTION
    for name, expr in fields.items():  # not str.format: the SQL has braces of its own
        sql = sql.replace("{" + name + "}", expr)
    return sql


class _Institution(msgspec.Struct, gc=False):
    id: str | None = None
    display_name: str | None = None
    ror: str | None = None
    country_code: str | None = None


class _Authorship(msgspec.Struct, gc=False):
    institutions: list[_Institution] | None = None


class _Ref(msgspec.Struct, gc=False):
    id: str | None = None


class _PrimaryTopic(msgspec.Struct, gc=False):
    id: str | None = None
    subfield: _Ref | None = None


class _Percentile(msgspec.Struct, gc=False):
    is_in_top_10_percent: bool | None = None


Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]
Year = Annotated[int, msgspec.Meta(ge=-(2**15), le=2**15 - 1)]  # stored as SMALLINT


class WorkFields(msgspec.Struct, gc=False):
    """The fields of ``READ_COLUMNS`` with the JSON types a work must have, nothing else.

    Every decoder holds a line to these types (the DuckDB read through its checked projection, the
    msgspec decoder and the line-by-line pass through this struct): a value of another type makes the
    line malformed, counted with its file and line.
    """

    id: str
    title: str | None = None
    publication_year: Year | None = None
    cited_by_count: Int32 | None = None
    updated_date: str | None = None
    primary_topic: _PrimaryTopic | None = None
    topics: list[_Ref] | None = None
    authorships: list[_Authorship] | None = None
    citation_normalized_percentile: _Percentile | None = None
    abstract_inverted_index: msgspec.Raw = msgspec.Raw()  # empty when absent, b"null" when null
    type: str | None = None
    is_paratext: bool | None = None
    is_retracted: bool | None = None


WORK_DECODER = msgspec.json.Decoder(WorkFields)
NESTED = "nested too deeply for the Python decoders"


def judge_line(line: bytes) -> tuple[WorkFields | None, str]:
    """Decode one line strictly: ``(work, "")``, or ``(None, reason)`` for a malformed line.

    >>> judge_line(b'{"id": "W1", "publication_year": "2020"}')[1]
    'Expected `int | null`, got `str` - at `$.publication_year`'
    >>> judge_line(b'{"id": "W1", "x": ' + b'[' * 5000 + b']' * 5000 + b'}')[1]
    'nested too deeply for the Python decoders'
    """
    if len(line) > MAX_LINE_BYTES:
        return None, f"line longer than {MAX_LINE_BYTES >> 20} MiB"
    try:
        work = WORK_DECODER.decode(line)
    except RecursionError:
        # msgspec, like the json module, nests by recursion: past about a thousand levels it gives up
        # (the line-by-line pass then asks DuckDB, whose parser does not recurse).
        return None, NESTED
    except msgspec.ValidationError as exc:
        return None, str(exc)[:200]
    except msgspec.DecodeError as exc:
        return None, f"not a JSON object: {str(exc)[:180]}"
    if not _ID_RE.match(work.id):
        return None, "missing or invalid work 'id'"
    return work, ""


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



def discover(snapshot: Path) -> list[SnapshotFile]:
    """List the snapshot's partition files (``updated_date=*/part_*.gz``, also ``*.jsonl``), oldest first."""
    if not snapshot.exists():
        raise SnapshotError(f"スナップショットのフォルダがありません: {snapshot} / snapshot folder not found: {snapshot}")
    if not snapshot.is_dir():
        raise SnapshotError(f"スナップショットのパスがフォルダではありません: {snapshot} / snapshot path is not a folder: {snapshot}")
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
            f"{snapshot} にスナップショットのファイルがありません（works/updated_date=YYYY-MM-DD/part_NNN.gz か *.jsonl） / "
            f"no snapshot files under {snapshot} (expected works/updated_date=YYYY-MM-DD/part_NNN.gz or *.jsonl)"
        )
    found.sort(key=lambda f: (f.updated_date, f.rel))
    return found



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
            f"{dst}（{src.name} を展開した一時ファイル）を書けません。同時に読むファイルごとに展開後の大きさほどの空きが必要です: {exc.strerror} / "
            f"cannot write {dst} (the decompressed copy of {src.name} that DuckDB reads; it needs free "
            f"disk of about the file's uncompressed size per file read at once): {exc.strerror}")

    out = open(dst, "wb")  # noqa: SIM115 (closed below, where a failed flush is a write error too)
    lines = _LineLengths()
    try:
        with _igzip.open(src, "rb") as fh:  # type: ignore[no-untyped-call]
            while chunk := fh.read(_GUNZIP_CHUNK):
                lines.feed(chunk)
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


class LineTooLong(ValueError):
    """A line of the file is longer than :data:`MAX_LINE_BYTES` (the file is then judged line by line)."""


class _LineLengths:
    """Raise :class:`LineTooLong` once the bytes fed in hold a line longer than :data:`MAX_LINE_BYTES`.

    Two ``find`` calls per chunk: a line inside one chunk is shorter than the chunk, so only the run
    of bytes since the last newline, carried across chunks, can pass the limit.
    """

    def __init__(self) -> None:
        self.run = 0

    def feed(self, chunk: bytes) -> None:
        """Account for the next chunk of the stream."""
        first = chunk.find(b"\n")
        if first < 0:
            self.run += len(chunk)
        else:
            if self.run + first > MAX_LINE_BYTES:
                raise LineTooLong
            self.run = len(chunk) - chunk.rfind(b"\n") - 1
        if self.run > MAX_LINE_BYTES:
            raise LineTooLong


def _check_line_lengths(path: Path) -> None:
    """Raise :class:`LineTooLong` when a line of the plain file ``path`` is over the limit."""
    lines = _LineLengths()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            lines.feed(chunk)


def is_gzip(path: Path) -> bool:
    """Return True when the file starts with the gzip magic bytes."""
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"



def _iter_lines(path: Path) -> Iterator[tuple[int, bytes | None, str]]:
    """Yield (line number, raw line, "") and finally (n, None, error) if the stream breaks off.

    A line longer than :data:`MAX_LINE_BYTES` is never held whole: it is yielded as ``b""`` with the
    reason, and the rest of it is skipped.
    """
    opener: Callable[..., Any] = gzip.open if is_gzip(path) else open
    n = 0
    try:
        with opener(path, "rb") as fh:
            while line := fh.readline(MAX_LINE_BYTES + 1):
                n += 1
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    while (rest := fh.readline(1 << 20)) and not rest.endswith(b"\n"):
                        pass
                    yield n, b"", f"line longer than {MAX_LINE_BYTES >> 20} MiB"
                    continue
                yield n, line, ""
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        yield n + 1, None, f"{type(exc).__name__}: {exc}"


class LineTally(Protocol):
    """Where a line-by-line pass records how far it got (:class:`FileResult`, the Spark task's reader)."""

    lines: int
    truncated: bool
    note: str


def judge_lines(lines: Iterator[tuple[int, bytes | None, str]], tally: LineTally,
                judge_deep: Callable[[bytes], tuple[int | None, str]]
                ) -> Iterator[tuple[int, bytes, WorkFields | None, int | None, str]]:
    """Judge each line of a damaged file's line-by-line pass, for both ingests (one definition of malformed).

    Yields (line number, line, work, work id, reason) for every line that is not blank: ``work`` is what the
    typed decoder accepted; a line nested past it is judged by ``judge_deep`` (the strict DuckDB read), which
    gives its work id (``work`` stays None) or a reason; a refused line has neither. The number of lines read
    and a stream that ends early go into ``tally``.
    """
    for n, line, err in lines:
        if line is None:
            tally.truncated = True
            tally.note = f"stream ends early after line {n - 1} ({err})"
            return  # the last line of a truncated stream may be cut: it was already judged
        tally.lines = n
        if not line.strip() and not err:
            continue
        work, reason = (None, err) if err else judge_line(line)
        wid = None if work is None else int(work.id.rsplit("W", 1)[-1])
        if reason == NESTED:
            wid, reason = judge_deep(line)
        yield n, line, work, wid, reason


class SnapshotReader:
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

    @staticmethod
    def _params(src: Path, f: SnapshotFile, seq: int) -> dict[str, Any]:
        return {
            "files": [str(src)],
            "partition_date": f.updated_date,
            "seq": seq,
            "columns": READ_COLUMNS,
            "compression": "gzip" if is_gzip(src) else "none",
            "index_shape": INDEX_SHAPE,
        }

    def _copy(self, src: Path, out: Path, f: SnapshotFile, seq: int, *, threads: int,
              ignore_errors: bool = False) -> int:
        sql = _projection(ignore_errors=ignore_errors)
        con = self._con()
        con.execute(f"SET threads = {int(threads)}")
        res = con.execute(copy_part_sql(sql, out), self._params(src, f, seq)).fetchone()
        return int(res[0]) if res else 0

    def _judge_deep(self, line: bytes, f: SnapshotFile) -> tuple[int | None, str]:
        """Judge a line nested past the Python decoders by the strict DuckDB read (which does not recurse).

        So a deeply nested line gets the verdict the first, whole-file read gives it: no decoder
        accepts what another refuses (its length is already bounded by :data:`MAX_LINE_BYTES`).
        """
        one = self.tmpdir / f"{f.key}.deep.jsonl"
        one.write_bytes(line if line.endswith(b"\n") else line + b"\n")
        try:
            # Every column (`SELECT *`): an unread column's type check would be optimised away.
            row = self._con().execute(_projection(ignore_errors=False), self._params(one, f, 0)).fetchone()
        except duckdb.Error as exc:
            return None, f"{NESTED}: {str(exc).splitlines()[0][:160]}"
        finally:
            one.unlink(missing_ok=True)
        return (int(row[0]), "") if row and row[0] is not None else (None, NESTED)

    def read(self, f: SnapshotFile, seq: int, out: Path) -> FileResult:
        """Read snapshot file ``f`` into the part ``out``; damaged files go line by line."""
        tmp = out.with_name("." + out.name + ".tmp")  # hidden: Spark and globs never read it
        threads = self._threads_for_next_file()
        plain: Path | None = None
        try:
            src = f.path
            if is_gzip(src):
                plain = self.tmpdir / f"{f.key}.jsonl"
                _gunzip(src, plain)
                src = plain
            else:
                _check_line_lengths(src)
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
            for n, line, _work, wid, reason in judge_lines(_iter_lines(f.path), result,
                                                          lambda deep: self._judge_deep(deep, f)):
                if wid is None:
                    result.malformed += 1
                    if len(result.examples) < self.max_examples:
                        result.examples.append(Malformed(f.rel, n, reason))
                    continue
                fh.write(line if line.endswith(b"\n") else line + b"\n")
                good.append((n, wid))
        rows = 0
        try:
            if good:
                rows = self._copy(clean, tmp, f, seq, threads=threads, ignore_errors=True)
                if rows < len(good):
                    # Lines the strict decoder took but DuckDB could not read after all: find them by
                    # the work ids that did not come through.
                    seen = {r[0] for r in self._con().execute(
                        f"SELECT DISTINCT work_id FROM read_parquet('{sql_str(tmp)}')").fetchall()}
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

