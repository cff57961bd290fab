"""The Parquet store's format (T1, T7): its layout, manifest, part-writing settings and compaction.

Store layout::

    STORE/manifest.json          which snapshot files were read (size, mtime, sha256, rows, malformed)
    STORE/parts/<key>.parquet    one file per snapshot file (the incremental cache), with each work's
                                 title and abstract index (JSON text) for keyword matching
    STORE/works.parquet          the compacted store: one row per work, latest updated_date wins
    STORE/institutions.parquet   the institution dimension: one row per institution id with its name,
                                 ROR id and country as the latest record naming it gives them

Each part and ``works.parquet`` is written to a temporary file and renamed; the manifest is written
last and says ``"state": "complete"`` only after a run finished (:mod:`banso.analytics.ingest`), so a
killed run never leaves a store that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from banso.analytics.errors import StoreError

MANIFEST = "manifest.json"
WORKS = "works.parquet"
# 2: parts keep title + abstract_index (JSON) instead of the rebuilt text;
# 3: parts and works.parquet keep work_type, is_paratext, is_retracted (which works count);
# 4: parts keep the institutions' names and ROR ids, compacted into institutions.parquet.
FORMAT_VERSION = 4
_FORMAT_CHANGES = {1: "format 1 kept rebuilt texts", 2: "format 2 has no document types",
                   3: "format 3 has no institution names"}
INSTITUTIONS = "institutions.parquet"
INSTITUTION_COLUMNS = ("institution_id", "display_name", "ror", "country")
PART_ROW_GROUP = 4096


def sql_str(p: Path) -> str:
    """Return ``p`` quoted for a single-quoted SQL string literal."""
    return str(p).replace("'", "''")


def copy_part_sql(select_sql: str, out: Path) -> str:
    """Return the DuckDB statement that writes ``select_sql``'s rows as a store part at ``out``.

    Every reader writes its parts with these settings, so the parts do not depend on the decoder.
    """
    # Sorted by year in small row groups: a window's reader skips the other years' texts.
    return (f"COPY ({select_sql} ORDER BY publication_year) TO '{sql_str(out)}' "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {PART_ROW_GROUP})")


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a synced temporary file and a rename."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_manifest(store: Path, manifest: dict[str, Any]) -> None:
    """Write the store's manifest atomically."""
    atomic_write_text(store / MANIFEST, json.dumps(manifest, indent=1))


def read_manifest(store: Path) -> dict[str, Any]:
    """Return the store's manifest (an empty one when the store is new)."""
    path = store / MANIFEST
    if not path.exists():
        return {"format": FORMAT_VERSION, "state": "new", "files": {}}
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(f"ストアの manifest が読めません: {path}: {exc} / "
                         f"store manifest is unreadable: {path}: {exc}") from None
    return data


def check_format(store: Path, manifest: dict[str, Any]) -> None:
    """Raise :class:`StoreError` when the store was written in another format."""
    found = manifest.get("format", FORMAT_VERSION)
    if found != FORMAT_VERSION:
        why = _FORMAT_CHANGES.get(found, "an unknown format")
        raise StoreError(
            f"ストア {store} は形式 {found} で書かれています（この banso は {FORMAT_VERSION}）。新しいストアフォルダに取り込むか、先にこのフォルダを削除してください / "
            f"store {store} was written in format {found} ({why}; this banso writes {FORMAT_VERSION}); "
            f"ingest the snapshot into a new store folder, or delete this one first"
        )



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
            sql = (f"SELECT * EXCLUDE (rn) FROM (SELECT * EXCLUDE (title, abstract_index, institution_names), "
                   f"row_number() OVER ("
                   f"PARTITION BY work_id ORDER BY coalesce(record_updated, partition_date) DESC, "
                   f"partition_date DESC, part_seq DESC) AS rn FROM {src}) WHERE rn = 1")
        else:
            sql = f"SELECT * EXCLUDE (title, abstract_index, institution_names) FROM {src}"
        res = con.execute(
            f"COPY ({sql}) TO '{sql_str(tmp)}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"
        ).fetchone()
        os.replace(tmp, out)
        _compact_institutions(con, src, store / INSTITUTIONS)
        return int(res[0]) if res else 0
    finally:
        con.close()


def _compact_institutions(con: duckdb.DuckDBPyConnection, src: str, out: Path) -> None:
    """Write the institution dimension: per institution id, the name, ROR id and country of the latest record.

    Latest as in :func:`compact` (record's updated_date, then folder, then file), then the larger work id,
    name and ROR id, so the choice never depends on the order DuckDB reads the parts in. One hash
    aggregation over the parts' institution entries (``arg_max``): linear in their number.
    """
    tmp = out.with_name("." + out.name + ".tmp")
    # A row value (struct), compared field by field with each field's own order: the same order as the
    # list of zero-padded texts it replaces, at half the cost (100k works: 0.31 -> 0.15 CPU-s).
    key = ("(coalesce(record_updated, partition_date), partition_date, part_seq, work_id, "
           "coalesce(i.display_name, ''), coalesce(i.ror, ''))")
    sql = (f"SELECT i.institution_id, arg_max(i, {key}) AS v FROM "
           f"(SELECT *, unnest(institution_names) AS i FROM {src}) GROUP BY i.institution_id")
    cols = ", ".join(f"v.{c}" if c != "institution_id" else c for c in INSTITUTION_COLUMNS)
    con.execute(f"COPY (SELECT {cols} FROM ({sql}) ORDER BY institution_id) TO '{sql_str(tmp)}' "
                f"(FORMAT parquet, COMPRESSION zstd)")
    os.replace(tmp, out)


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
        raise StoreError(f"ストアがありません: {store}（先に `banso analyze ingest SNAPSHOT --store {store}` を実行してください） / "
                         f"store not found: {store} (run `banso analyze ingest SNAPSHOT --store {store}` first)")
    manifest = read_manifest(store)
    check_format(store, manifest)
    state = manifest.get("state")
    if state != "complete" or not (store / WORKS).exists():
        raise StoreError(
            f"ストア {store} は未完成です（状態: {state}）。取り込みが中断されたか実行されていません。`banso analyze ingest` を再実行すると続きから取り込みます / "
            f"store {store} is incomplete (state: {state}); an ingest was interrupted or never ran — "
            f"re-run `banso analyze ingest` to resume"
        )
    return store / WORKS
