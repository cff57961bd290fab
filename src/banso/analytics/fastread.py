"""Alternative per-part decoder for the ingest (``--decoder msgspec``): msgspec typed decoding in worker processes.

Only the decoding of one snapshot file differs from the DuckDB ``read_json`` path of
:mod:`banso.analytics.snapshot`; the manifest, incremental/resumable bookkeeping, compaction (latest
``updated_date`` wins) and keyword matching are the same code.

How one file is read:

1. gunzip with ISA-L (``isal``) when installed, else :mod:`gzip`; split into lines;
2. decode each line with ``snapshot.WORK_DECODER`` (the struct every decoder holds lines to): only the fields the store needs are
   declared, everything else is skipped without building Python objects; types are strict (and integers
   range-checked) so anything the DuckDB reader might read differently is rejected;
3. keep ``abstract_inverted_index`` as its raw JSON bytes (``msgspec.Raw``: checked as JSON, not decoded);
4. hand DuckDB an Arrow table of the raw values and let it run the same projection expressions as the
   DuckDB path (id parsing, distinct/sorted countries, institutions, the abstract index made compact by
   ``json()`` and checked against ``texts.INDEX_SHAPE`` …) and write the part with the same Parquet
   settings — so every derived value is computed by the same SQL.

Any line the fast path cannot take exactly (invalid JSON, not an object, a field of an unexpected type,
a blank line, a truncated stream, a projection error) makes the whole file go through the DuckDB reader
instead, so malformed-line reporting (file and line,
counted, never dropped) is the DuckDB path's own.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import pyarrow as pa

from banso.analytics.snapshot import (
    MAX_LINE_BYTES,
    WORK_DECODER,
    FileResult,
    SnapshotFile,
    SnapshotReader,
    is_gzip,
    names_sql,
)
from banso.analytics.store import copy_part_sql
from banso.analytics.texts import INDEX_SHAPE

try:  # ISA-L gunzips ≈2× faster than zlib
    from isal import igzip as _gzip
except ImportError:  # pragma: no cover - isal is optional
    import gzip as _gzip  # type: ignore[no-redef]

_DECODER = WORK_DECODER

RAW_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("title", pa.string()),
    ("publication_year", pa.int32()),
    ("cited_by_count", pa.int32()),
    ("updated_date", pa.string()),
    ("primary_topic_id", pa.string()),
    ("subfield_id", pa.string()),
    ("topics", pa.list_(pa.string())),
    ("insts", pa.list_(pa.struct([("id", pa.string()), ("display_name", pa.string()), ("ror", pa.string()),
                                  ("country_code", pa.string())]))),
    ("oa_top10", pa.bool_()),
    ("raw_index", pa.string()),
    ("work_type", pa.string()),
    ("is_paratext", pa.bool_()),
    ("is_retracted", pa.bool_()),
])

# The DuckDB path's projection (the one in banso.analytics.snapshot), over the raw Arrow columns; authorships arrive
# already flattened to their institutions, in order, and the abstract index as the record's JSON text.
_PROJECTION = r"""
SELECT
  CAST(regexp_extract(id, 'W(\d+)$', 1) AS BIGINT) AS work_id,
  CAST($partition_date AS VARCHAR) AS partition_date,
  CAST($seq AS INTEGER) AS part_seq,
  updated_date AS record_updated,
  CAST(publication_year AS SMALLINT) AS publication_year,
  CAST(coalesce(cited_by_count, 0) AS INTEGER) AS cited_by_count,
  CAST(regexp_extract(subfield_id, '(\d+)$', 1) AS INTEGER) AS subfield_id,
  CAST(regexp_extract(primary_topic_id, 'T(\d+)$', 1) AS INTEGER) AS primary_topic_id,
  coalesce(list_distinct(list_filter(
      list_transform(topics, lambda t: TRY_CAST(regexp_extract(t, 'T(\d+)$', 1) AS INTEGER)),
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
  oa_top10,
  work_type,
  is_paratext,
  is_retracted,
  title,
  CASE WHEN regexp_full_match(json(raw_index), $index_shape) THEN CAST(json(raw_index) AS VARCHAR) END
    AS abstract_index
FROM raw
""".replace("{institution_names}", names_sql("i.display_name", "i.ror"))  # the DuckDB reader's (bidi, ROR rules)


class _Fallback(Exception):
    """The fast path cannot read this file exactly: use the DuckDB reader."""


def decode_file(path: Path) -> pa.Table:
    """Decode one snapshot file into the raw Arrow table, or raise :class:`_Fallback`."""
    ids: list[str] = []
    titles: list[str | None] = []
    years: list[int | None] = []
    cited: list[int | None] = []
    updated: list[str | None] = []
    pt_ids: list[str | None] = []
    sub_ids: list[str | None] = []
    topics: list[list[str | None] | None] = []
    insts: list[list[tuple[str | None, str | None, str | None, str | None]] | None] = []
    top10: list[bool | None] = []
    indexes: list[str | None] = []
    types: list[str | None] = []
    paratext: list[bool | None] = []
    retracted: list[bool | None] = []
    decode = _DECODER.decode
    opener: Any = _gzip.open if is_gzip(path) else open
    gc_was_on = gc.isenabled()
    gc.disable()  # millions of small acyclic objects: the cyclic collector only costs time here
    try:
        with opener(path, "rb") as fh:
            for line in fh:
                if not line.strip():
                    raise _Fallback("blank line")
                if len(line) > MAX_LINE_BYTES:
                    raise _Fallback("line too long")
                w = decode(line)
                ids.append(w.id)
                titles.append(w.title)
                years.append(w.publication_year)
                cited.append(w.cited_by_count)
                updated.append(w.updated_date)
                pt = w.primary_topic
                if pt is None:
                    pt_ids.append(None)
                    sub_ids.append(None)
                else:
                    pt_ids.append(pt.id)
                    sub_ids.append(pt.subfield.id if pt.subfield is not None else None)
                topics.append(None if w.topics is None else [t.id for t in w.topics])
                if w.authorships is None:
                    insts.append(None)
                else:
                    insts.append([(i.id, i.display_name, i.ror, i.country_code) for a in w.authorships if a.institutions is not None
                                  for i in a.institutions])
                cnp = w.citation_normalized_percentile
                top10.append(None if cnp is None else cnp.is_in_top_10_percent)
                ai = bytes(w.abstract_inverted_index)
                indexes.append(None if not ai or ai == b"null" else ai.decode())
                types.append(w.type)
                paratext.append(w.is_paratext)
                retracted.append(w.is_retracted)
    # RecursionError: nested past msgspec's depth (the DuckDB reader then judges the file).
    except (msgspec.DecodeError, msgspec.ValidationError, EOFError, OSError, ValueError, RecursionError) as exc:
        raise _Fallback(str(exc)) from None
    finally:
        if gc_was_on:
            gc.enable()
    if not ids:
        raise _Fallback("no rows")
    return pa.table([
        pa.array(ids, pa.string()), pa.array(titles, pa.string()), pa.array(years, pa.int32()),
        pa.array(cited, pa.int32()), pa.array(updated, pa.string()), pa.array(pt_ids, pa.string()),
        pa.array(sub_ids, pa.string()), pa.array(topics, RAW_SCHEMA.field("topics").type),
        pa.array([None if x is None else [{"id": a, "display_name": n, "ror": r, "country_code": b} for a, n, r, b in x] for x in insts],
                 RAW_SCHEMA.field("insts").type),
        pa.array(top10, pa.bool_()), pa.array(indexes, pa.string()),
        pa.array(types, pa.string()), pa.array(paratext, pa.bool_()), pa.array(retracted, pa.bool_()),
    ], schema=RAW_SCHEMA)


def read_part(f: SnapshotFile, seq: int, out: Path, tmpdir: Path, duckdb_threads: int = 1) -> FileResult:
    """Read one snapshot file into its store part (run in a worker process); DuckDB reader on any doubt."""
    tmp = out.with_name("." + out.name + ".tmp")
    try:
        raw = decode_file(f.path)
        con = duckdb.connect()
        try:
            con.execute(f"SET threads = {int(duckdb_threads)}")
            con.execute("SET preserve_insertion_order = false")
            con.execute("SET enable_progress_bar = false")
            con.register("raw", raw)
            res = con.execute(
                copy_part_sql(_PROJECTION, tmp),
                {"partition_date": f.updated_date, "seq": seq, "index_shape": INDEX_SHAPE},
            ).fetchone()
        finally:
            con.close()
        os.replace(tmp, out)
        rows = int(res[0]) if res else 0
        return FileResult(f.rel, rows, rows, 0, False)
    except (_Fallback, duckdb.Error):
        tmp.unlink(missing_ok=True)
    reader = SnapshotReader(tmpdir)
    try:
        return reader.read(f, seq, out)
    finally:
        reader.close()
