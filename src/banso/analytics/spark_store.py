"""The store on any Hadoop-compatible path (``file://``, ``hdfs://``, ``s3a://``), for the Spark engine (T7, issue 16).

The Spark ingest (:mod:`banso.analytics.spark_ingest`) and membership (:mod:`banso.analytics.spark_membership`)
read and write the store through the Hadoop ``FileSystem`` of the driver's JVM (reached through the Spark
session's py4j gateway), so a store or snapshot URI means what it means to Spark: the same credentials,
the same connectors (``hadoop-aws`` for ``s3a://``). Data files are written by Spark jobs on the executors;
the driver writes only the manifest and renames files.

A Spark-written store has the DuckDB store's layout (:mod:`banso.analytics.store`) with one difference:
``works.parquet`` and ``institutions.parquet`` are folders of Parquet files (one per Spark task, written
in parallel), not single files. Both engines read either form (:func:`parquet_source`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from banso.analytics.store import FORMAT_VERSION, MANIFEST

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_COLLAPSED = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/(?!/)")


def as_uri(location: str | Path) -> str:
    """Return a Hadoop URI for a store or snapshot location: a local path becomes ``file:///…``.

    A URI that passed through :class:`pathlib.Path` (``s3a:/bucket/key``, ``file:/x``: the path
    collapsed the ``//``) gets it back.

    >>> as_uri("s3a://bucket/store"), as_uri(Path("s3a://bucket/store")), as_uri(Path("file:///tmp/x"))
    ('s3a://bucket/store', 's3a://bucket/store', 'file:///tmp/x')
    >>> as_uri("/tmp/store")
    'file:///tmp/store'
    """
    text = str(location)
    if _SCHEME.match(text) and not re.match(r"^[A-Za-z]:[\\/]", text):  # not a Windows drive
        m = _COLLAPSED.match(text)
        if m:
            return f"{m.group(1)}://{'/' if m.group(1) == 'file' else ''}{text[m.end():]}".rstrip("/")
        return text.rstrip("/")
    return Path(text).resolve().as_uri()


def local_path(uri: str) -> Path | None:
    """Return the local path of a ``file:`` URI (or a plain path), else None.

    >>> local_path("file:///tmp/x"), local_path("file:/tmp/x"), local_path("s3a://b/x")
    (PosixPath('/tmp/x'), PosixPath('/tmp/x'), None)
    """
    if uri.startswith("file:"):
        return Path("/" + uri[len("file:"):].lstrip("/"))
    return None if _SCHEME.match(uri) else Path(uri)


def join(uri: str, *parts: str) -> str:
    """Join URI path segments with ``/``."""
    return "/".join([uri.rstrip("/"), *(p.strip("/") for p in parts)])


def parquet_source(path: Path) -> str:
    """Return what DuckDB reads for a store table: the file, or every Parquet file of a Spark-written folder."""
    return str(path / "*.parquet") if path.is_dir() else str(path)


@dataclass(frozen=True)
class FileEntry:
    """A file found under a Hadoop path: its URI (as Hadoop qualifies it), path below the root, size, mtime."""

    uri: str
    rel: str
    size: int
    mtime: float


class HadoopFS:
    """The driver's Hadoop ``FileSystem`` for one location (list, read, write atomically, rename, delete)."""

    def __init__(self, spark: SparkSession, uri: str) -> None:
        jvm: Any = spark.sparkContext._jvm
        self._jvm = jvm
        self._conf = spark.sparkContext._jsc.hadoopConfiguration()
        self._fs = jvm.org.apache.hadoop.fs.Path(uri).getFileSystem(self._conf)
        self.root = str(self._fs.makeQualified(jvm.org.apache.hadoop.fs.Path(uri)).toString())

    def _p(self, uri: str) -> Any:
        return self._jvm.org.apache.hadoop.fs.Path(uri)

    def exists(self, uri: str) -> bool:
        """Return True when ``uri`` exists (file or folder)."""
        return bool(self._fs.exists(self._p(uri)))

    def is_dir(self, uri: str) -> bool:
        """Return True when ``uri`` is a folder."""
        return self.exists(uri) and bool(self._fs.getFileStatus(self._p(uri)).isDirectory())

    def list_files(self, uri: str) -> list[FileEntry]:
        """Return every file below ``uri`` (recursive), with its path relative to ``uri``."""
        base = str(self._fs.makeQualified(self._p(uri)).toString()).rstrip("/")
        out = []
        it = self._fs.listFiles(self._p(uri), True)
        while it.hasNext():
            st = it.next()
            full = str(st.getPath().toString())
            rel = full[len(base):].lstrip("/") if full.startswith(base) else st.getPath().getName()
            out.append(FileEntry(full, rel, int(st.getLen()), int(st.getModificationTime()) / 1000.0))
        return out

    def list_dir(self, uri: str) -> list[str]:
        """Return the names directly inside folder ``uri`` (empty when it does not exist)."""
        if not self.exists(uri):
            return []
        return [str(st.getPath().getName()) for st in self._fs.listStatus(self._p(uri))]

    def read_text(self, uri: str) -> str:
        """Return the text of file ``uri`` (UTF-8)."""
        stream = self._fs.open(self._p(uri))
        try:
            reader = self._jvm.java.io.BufferedReader(self._jvm.java.io.InputStreamReader(stream, "UTF-8"))
            return str(self._jvm.org.apache.commons.io.IOUtils.toString(reader))
        finally:
            stream.close()

    def write_text(self, uri: str, text: str) -> None:
        """Write ``text`` to ``uri`` through a temporary file and a rename (atomic where the store renames atomically)."""
        tmp = uri + ".tmp"
        out = self._fs.create(self._p(tmp), True)
        try:
            out.write(bytearray(text.encode("utf-8")))
            if out.hasCapability("hsync"):  # S3A streams refuse hsync; their close() is the commit
                out.hsync()
        finally:
            out.close()
        # Hadoop's public rename does not replace: delete first. A crash in between leaves the complete
        # temporary file, which read_manifest then takes.
        self.delete(uri)
        if not self._fs.rename(self._p(tmp), self._p(uri)):
            raise OSError(f"cannot rename {tmp} to {uri}")

    def mkdirs(self, uri: str) -> None:
        """Create folder ``uri`` and its parents."""
        self._fs.mkdirs(self._p(uri))

    def delete(self, uri: str) -> None:
        """Delete ``uri`` (recursively; nothing when absent)."""
        if self.exists(uri):
            self._fs.delete(self._p(uri), True)

    def rename(self, src: str, dst: str) -> None:
        """Move ``src`` to ``dst`` (replacing ``dst``); the parent of ``dst`` is created."""
        self.delete(dst)
        self._fs.mkdirs(self._p(dst).getParent())
        if not self._fs.rename(self._p(src), self._p(dst)):
            raise OSError(f"cannot rename {src} to {dst}")


def read_manifest(fs: HadoopFS, store: str) -> dict[str, Any]:
    """Return the store's manifest (an empty one when the store is new), read through Hadoop."""
    uri = join(store, MANIFEST)
    if not fs.exists(uri) and fs.exists(uri + ".tmp"):
        uri += ".tmp"  # written whole, then the old manifest deleted; the rename did not happen
    if not fs.exists(uri):
        return {"format": FORMAT_VERSION, "state": "new", "files": {}}
    data: dict[str, Any] = json.loads(fs.read_text(uri))
    return data


def write_manifest(fs: HadoopFS, store: str, manifest: dict[str, Any]) -> None:
    """Write the store's manifest through a temporary file and a rename."""
    fs.write_text(join(store, MANIFEST), json.dumps(manifest, indent=1))


def spark_table(con: Any, spark: SparkSession, uri: str) -> Any:
    """Return the Parquet table (file or folder) at ``uri`` as an Ibis table of the PySpark backend ``con``.

    Not ``con.read_parquet``: Ibis rewrites a ``file:/x`` URI into a path relative to the working folder.
    """
    import uuid

    view = f"banso_{uuid.uuid4().hex[:12]}"
    spark.read.parquet(uri).createOrReplaceTempView(view)
    return con.table(view)
